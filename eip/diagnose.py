"""Why a scenario has no plan: the constraint (or pair of constraints) that rules it out.

Runs only on the infeasible path, so it may re-solve relaxed problems: each sentence names
a number a person can check ("the fastest possible plan takes 24.6 ms > cap 20 ms").
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from .costmodel import CostModel, Dim, Limit, LimitKind, cap_with_tolerance
from .kernels.contract import Mode, Row, Status, Stop

# relaxed sub-problems are small and must be answered exactly: no beam, a generous budget
_BEAM_WIDTH = 1
_LABEL_BUDGET = 10**7


class _Stopped(Exception):
    """A re-solve of the diagnosis stopped unproven (``stop``: at the time limit or its
    label budget): it says nothing about the limits it relaxed."""

    def __init__(self, stop: Stop):
        super().__init__(stop)
        self.stop = stop


def infeasibility_reason(model: CostModel, time_limit_s: float = math.inf) -> str:
    """One sentence saying which limit (or set of limits) makes ``model`` infeasible, from
    re-solves of relaxed problems within ``time_limit_s`` seconds in all; when they stop
    short, the sentence says that no plan meets the limits together and what stopped the
    search for the ones that rule it out."""
    quick = quick_reason(model)
    if quick is not None:
        return quick
    try:
        return _searched_reason(model, time.perf_counter() + time_limit_s)
    except _Stopped as stopped:
        what = "the time limit" if stopped.stop == Stop.TIME_LIMIT else "the label budget"
        return f"no plan meets every limit at once; {what} stopped the search for the limits that rule it out"


def _searched_reason(model: CostModel, deadline: float) -> str:
    """``infeasibility_reason`` past ``quick_reason``: relaxed re-solves until the
    ``time.perf_counter()`` time ``deadline`` (``_Stopped`` past it)."""
    finite = [limit for limit in model.limits if limit.value < np.inf]
    memory = [limit for limit in finite if limit.kind == LimitKind.MEMORY]
    memory_only = _caps(model, memory)
    if _least(model, Dim.LATENCY, memory_only, deadline) is None:
        return "no plan fits every device's memory budget at once (each budget alone can be met)"
    others = [limit for limit in finite if limit.kind != LimitKind.MEMORY]
    for limit in others:
        for j in limit.dims:
            best = _least(model, j, memory_only, deadline)
            if best is not None and limit.breaks(best / limit.per_unit):
                return (f"the plan with the least {_what(limit)} within the memory budgets needs "
                        f"{best / limit.per_unit:.4g} {limit.unit} > {limit.name} {limit.value:g} {limit.unit}")
    kinds = {limit.kind for limit in others}
    if kinds == {LimitKind.LATENCY, LimitKind.ENERGY}:
        with_latency = _caps(model, memory + [others[0]])
        best = _least(model, Dim.ENERGY, with_latency, deadline)
        if best is not None:
            return (f"the latency cap {model.max_latency_ms:g} ms and energy cap {model.max_energy_mj:g} mJ cannot "
                    f"both be met: the most frugal plan within {model.max_latency_ms:g} ms uses {best:.4g} mJ")
    names = ", ".join(limit.name for limit in others)
    return f"no plan meets the {names} and the memory budgets together (each alone can be met)"


def quick_reason(model: CostModel) -> str | None:
    """A reason no plan exists that needs no search (None when there is none): a stage no
    placement can reach, a stage that fits no device's memory, a limit that every plan
    breaks on its own."""
    least = model.least_usage
    if not np.isfinite(least[Dim.LATENCY]):
        return _broken_chain(model)
    homeless = _homeless_stage(model)
    if homeless is not None:
        return homeless
    for limit in model.limits:
        need = limit.used(least)
        if limit.breaks(need):
            return _alone(model, limit, need)
    return None


def _homeless_stage(model: CostModel) -> str | None:
    """The first stage whose every way needs more memory than its device's budget."""
    budget = cap_with_tolerance(model.mem_cap_mb)[model.option_device]
    for s in range(model.n_stages):
        runs = np.isfinite(model.exec_ms[s])
        if runs.any() and not (model.mem_mb[s][runs] <= budget[runs]).any():
            needs = ", ".join(f"{model.option_names[o]} {model.mem_mb[s, o]:g} MB > {model.mem_cap_mb[model.option_device[o]]:g}"
                              for o in np.flatnonzero(runs)[:4])
            return f"stage '{model.stage_names[s]}' fits no device's memory budget ({needs})"
    return None


def _alone(model: CostModel, limit: Limit, need: float) -> str:
    """Why no plan meets ``limit`` even with every other limit lifted (``need`` > its value)."""
    if limit.kind == LimitKind.MEMORY:
        j, device = limit.device, model.device_names[limit.device]
        runs = np.isfinite(model.exec_ms)
        only = [model.stage_names[s] for s in range(model.n_stages)
                if set(model.option_device[runs[s]].tolist()) == {j}]
        why = f" (only {device} can run {', '.join(only)})" if only else ""
        return f"{device} memory: every plan needs at least {need:g} MB on {device} > budget {limit.value:g} MB{why}"
    if limit.kind == LimitKind.LATENCY:
        sentence = f"the fastest possible plan takes {need:.4g} ms > latency cap {limit.value:g} ms"
    elif limit.kind == LimitKind.ENERGY:
        sentence = f"the most frugal possible plan uses {need:.4g} mJ > energy cap {limit.value:g} mJ"
    else:
        sentence = f"every plan needs at least {need:.4g} {limit.unit} of {_what(limit)} > {limit.name} {limit.value:g} {limit.unit}"
    return sentence + _links_blame(model, limit)


def _links_blame(model: CostModel, limit: Limit) -> str:
    """What the links add to a limit no plan meets: when free links everywhere would let
    some plan meet it, the missing links (or the links' costs) are why."""
    d = model.n_devices
    free = dataclasses.replace(model, xfer_ms_per_mb=np.zeros((d, d)), xfer_mj_per_mb=np.zeros((d, d)),
                               link_mask=np.ones((d, d), dtype=bool), _derived={})
    need = limit.used(free.least_usage)
    if limit.breaks(need):
        return ""
    missing = [f"{model.device_names[a]}->{model.device_names[b]}" for a in range(d) for b in range(d)
               if a != b and not model.link_mask[a, b]]
    what = f"the missing links ({', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}) keep" if missing \
        else "the links' costs keep"
    return f"; with free links between every pair of devices {need:.4g} {limit.unit} would do: {what} stages from moving"


def _what(limit: Limit) -> str:
    return {LimitKind.LATENCY: "latency", LimitKind.ENERGY: "energy", LimitKind.ACCURACY: "accuracy loss",
            LimitKind.PERIOD: "busy time on one device", LimitKind.AVERAGE_POWER: "average power",
            LimitKind.SUSTAINED_POWER: "power", LimitKind.MEMORY: "memory"}[limit.kind]


def _caps(model: CostModel, limits: list[Limit]) -> np.ndarray:
    """(Q,) caps (tolerance applied) of ``limits`` alone."""
    caps = np.full(model.dims.size, np.inf)
    for limit in limits:
        caps[list(limit.dims)] = model.caps_tol[list(limit.dims)]
    return caps


def _least(model: CostModel, dim: int, caps: np.ndarray, deadline: float) -> float | None:
    """Least total of usage dimension ``dim`` under ``caps`` (tolerance applied); None if no
    plan fits; ``_Stopped`` when the re-solve, within the ``time.perf_counter()`` time
    ``deadline``, proves neither (nothing is kept then). Kept for the model's budget-moved
    copies: the diagnoses of points that differ only in budgets ask the same relaxed
    questions (the memory budgets alone)."""
    from .solve import solve_model

    def least() -> float | None:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise _Stopped(Stop.TIME_LIMIT)
        sol = solve_model(model, model.dimension_coefficients(dim), 1, Mode.EXACT, _BEAM_WIDTH, _LABEL_BUDGET,
                          left, caps)
        if sol.status == Status.OPTIMAL:
            return float(sol.rows[0, Row.SCORE])
        if sol.status == Status.INFEASIBLE:
            return None
        raise _Stopped(sol.stop)

    return model.shared(f"least {dim} {caps.tobytes().hex()}", least)


def _broken_chain(model: CostModel) -> str:
    """Name the first stage no placement can reach, and the input that cannot get there."""
    graph = model.graph
    reach = np.zeros(len(graph.opt_key), dtype=bool)
    reach[graph.step_start[0]:graph.step_start[1]] = True
    for s in range(1, model.n_stages):
        here = range(graph.step_start[s], graph.step_start[s + 1])
        for b in here:
            reach[b] = reach[graph.arc_tail[graph.arc_start[b]:graph.arc_start[b + 1]]].any()
        if not reach[graph.step_start[s]:graph.step_start[s + 1]].any():
            return _unreached(model, reach, s)
    return "no placement exists"


def _unreached(model: CostModel, reach: np.ndarray, s: int) -> str:
    graph = model.graph
    dst = sorted({int(model.option_device[o]) for o in np.flatnonzero(np.isfinite(model.exec_ms[s]))})
    names = lambda ds: ", ".join(model.device_names[d] for d in ds)
    stage = model.stage_names[s]
    for p in model.inputs[s]:
        src = {int(graph.opt_key[o]) for o in range(graph.step_start[p], graph.step_start[p + 1]) if reach[o]}
        if not any(np.isfinite(model.moves[p, a, b, 0]) for a in src for b in dst):
            src_devices = sorted({int(model.option_device[a]) for a in src})
            size_mb = min(model.output_mb[p, a] for a in src)
            return (f"no link carries the {size_mb:g} MB output of stage '{model.stage_names[p]}' "
                    f"(on {names(src_devices)}) to stage '{stage}' (on {names(dst)})")
    inputs = ", ".join(f"'{model.stage_names[p]}'" for p in model.inputs[s])
    return f"stage '{stage}' (on {names(dst)}) cannot receive its inputs {inputs} together: no placement of them reaches one of its devices"
