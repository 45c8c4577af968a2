"""Why a scenario has no plan: the constraint (or pair of constraints) that rules it out.

Runs only on the infeasible path, so it may re-solve relaxed problems: each sentence names
a number a person can check ("the fastest possible plan takes 24.6 ms > cap 20 ms").
"""

from __future__ import annotations

import numpy as np

from .costmodel import CostModel, Dim, cap_with_tolerance
from .kernels.contract import Mode, Row, Status, solve

# relaxed sub-problems are small and must be answered exactly: no beam, a generous budget
_BEAM_WIDTH = 1
_LABEL_BUDGET = 10**7


def infeasibility_reason(model: CostModel) -> str:
    """One sentence saying which constraint makes ``model`` infeasible."""
    caps = model.caps
    least = model.least_usage
    if not np.isfinite(least[Dim.LATENCY]):
        return _broken_chain(model)
    for j, device in enumerate(model.device_names):
        need = least[Dim.MEMORY + j]
        if need > cap_with_tolerance(caps[Dim.MEMORY + j]):
            only = [model.stage_names[s] for s in range(model.n_stages)
                    if np.isfinite(model.exec_ms[s]).sum() == 1 and np.isfinite(model.exec_ms[s, j])]
            why = f" (only {device} can run {', '.join(only)})" if only else ""
            return f"{device} memory: every plan needs at least {need:g} MB on {device} > budget {caps[Dim.MEMORY + j]:g} MB{why}"
    for dim, what, unit, cap in ((Dim.LATENCY, "fastest", "ms", model.max_latency_ms),
                                 (Dim.ENERGY, "most frugal", "mJ", model.max_energy_mj)):
        need = least[dim]
        if need > cap_with_tolerance(cap):
            kind = "latency" if dim == Dim.LATENCY else "energy"
            return f"the {what} possible plan {'takes' if dim == Dim.LATENCY else 'uses'} {need:.4g} {unit} > {kind} cap {cap:g} {unit}"
    memory_only = caps.copy()
    memory_only[[Dim.LATENCY, Dim.ENERGY]] = np.inf
    if _least(model, Dim.LATENCY, memory_only) is None:
        return "no plan fits every device's memory budget at once (each budget alone can be met)"
    for dim, unit, cap in ((Dim.LATENCY, "ms", model.max_latency_ms), (Dim.ENERGY, "mJ", model.max_energy_mj)):
        best = _least(model, dim, memory_only)
        if best is not None and best > cap_with_tolerance(cap):
            kind = "latency" if dim == Dim.LATENCY else "energy"
            what = "fastest plan" if dim == Dim.LATENCY else "most frugal plan"
            return f"the {what} within the memory budgets {'takes' if dim == Dim.LATENCY else 'uses'} {best:.4g} {unit} > {kind} cap {cap:g} {unit}"
    with_latency = memory_only.copy()
    with_latency[Dim.LATENCY] = caps[Dim.LATENCY]
    best = _least(model, Dim.ENERGY, with_latency)
    if best is None:
        return "no plan meets the latency cap, the energy cap and the memory budgets together"
    return (f"the latency cap {model.max_latency_ms:g} ms and energy cap {model.max_energy_mj:g} mJ cannot both be met: "
            f"the most frugal plan within {model.max_latency_ms:g} ms uses {best:.4g} mJ")


def _least(model: CostModel, dim: Dim, caps: np.ndarray) -> float | None:
    """Least total of usage dimension ``dim`` under ``caps``; None if no plan fits."""
    coef = np.zeros(len(caps))
    coef[dim] = 1.0
    sol = solve(model.graph, coef, cap_with_tolerance(caps), 1, Mode.EXACT, _BEAM_WIDTH, _LABEL_BUDGET)
    if sol.status != Status.OPTIMAL:
        return None
    return float(sol.rows[0, Row.SCORE])


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
            return (f"no link carries the {model.output_mb[p]:g} MB output of stage '{model.stage_names[p]}' "
                    f"(on {names(src_devices)}) to stage '{stage}' (on {names(dst)})")
    inputs = ", ".join(f"'{model.stage_names[p]}'" for p in model.inputs[s])
    return f"stage '{stage}' (on {names(dst)}) cannot receive its inputs {inputs} together: no placement of them reaches one of its devices"
