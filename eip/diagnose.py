"""Why a scenario has no plan: the constraint (or pair of constraints) that rules it out.

Runs only on the infeasible path, so it may re-solve relaxed problems: each sentence names
a number a person can check ("the fastest possible plan takes 24.6 ms > cap 20 ms").
"""

from __future__ import annotations

import numpy as np

from .costmodel import CostModel, cap_with_tolerance
from .kernels.bounds import completion_usage
from .kernels.solve import EXACT, OPTIMAL, solve_topk

# relaxed sub-problems are small and must be answered exactly: no beam, a generous budget
_BEAM_WIDTH = 1
_LABEL_BUDGET = 10**7

_LATENCY, _ENERGY = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])


def infeasibility_reason(model: CostModel) -> str:
    """One sentence saying which constraint makes ``model`` infeasible."""
    step_use, trans_use, switch, _ = model.kernel_tensors
    caps = model.caps
    least, _ = completion_usage(step_use, trans_use)
    start = step_use[0] + least[0]  # (O, Q): least usage of any plan starting on option o
    if not np.isfinite(start[:, 0]).any():
        return _broken_chain(model)
    for j, device in enumerate(model.device_names):
        need = start[:, 2 + j].min()
        if need > cap_with_tolerance(caps[2 + j]):
            only = [model.stage_names[s] for s in range(model.n_stages)
                    if np.isfinite(model.exec_ms[s]).sum() == 1 and np.isfinite(model.exec_ms[s, j])]
            why = f" (only {device} can run {', '.join(only)})" if only else ""
            return f"{device} memory: every plan needs at least {need:g} MB on {device} > budget {caps[2 + j]:g} MB{why}"
    for j, (what, unit, cap) in enumerate((("fastest", "ms", model.max_latency_ms), ("most frugal", "mJ", model.max_energy_mj))):
        need = start[:, j].min()
        if need > cap_with_tolerance(cap):
            kind = "latency" if j == 0 else "energy"
            return f"the {what} possible plan {'takes' if j == 0 else 'uses'} {need:.4g} {unit} > {kind} cap {cap:g} {unit}"
    memory_only = caps.copy()
    memory_only[:2] = np.inf
    if _best(model, _LATENCY, memory_only) is None:
        return "no plan fits every device's memory budget at once (each budget alone can be met)"
    for j, (unit, cap) in enumerate((("ms", model.max_latency_ms), ("mJ", model.max_energy_mj))):
        best = _best(model, _LATENCY if j == 0 else _ENERGY, memory_only)
        if best is not None and best > cap_with_tolerance(cap):
            kind = "latency" if j == 0 else "energy"
            what = "fastest plan" if j == 0 else "most frugal plan"
            return f"the {what} within the memory budgets {'takes' if j == 0 else 'uses'} {best:.4g} {unit} > {kind} cap {cap:g} {unit}"
    with_latency = memory_only.copy()
    with_latency[0] = caps[0]
    best = _best(model, _ENERGY, with_latency)
    if best is None:
        return "no plan meets the latency cap, the energy cap and the memory budgets together"
    return (f"the latency cap {model.max_latency_ms:g} ms and energy cap {model.max_energy_mj:g} mJ cannot both be met: "
            f"the most frugal plan within {model.max_latency_ms:g} ms uses {best:.4g} mJ")


def _best(model: CostModel, coef: np.ndarray, caps: np.ndarray) -> float | None:
    """Least value of ``coef`` . (latency, energy, switches) under ``caps``; None if none fits."""
    step_use, trans_use, switch, _ = model.kernel_tensors
    status, _, _, rows, found, _ = solve_topk(step_use, trans_use, switch, coef, cap_with_tolerance(caps), 1, EXACT,
                                       _BEAM_WIDTH, _LABEL_BUDGET)
    if status != OPTIMAL or found == 0:
        return None
    return float(rows[0, 0])


def _broken_chain(model: CostModel) -> str:
    """Name the first stage boundary no placement can cross."""
    step_use, trans_use, _, _ = model.kernel_tensors
    reach = np.isfinite(step_use[0, :, 0])
    for s in range(1, model.n_stages):
        runnable = np.isfinite(step_use[s, :, 0])
        nxt = runnable & (np.isfinite(trans_use[s, reach][:, :, 0]).any(axis=0) if reach.any() else False)
        if not nxt.any():
            src = ", ".join(n for n, r in zip(model.option_names, reach) if r)
            dst = ", ".join(n for n, r in zip(model.option_names, runnable) if r)
            return (f"no link carries the {model.output_mb[s - 1]:g} MB output of stage '{model.stage_names[s - 1]}' "
                    f"(on {src}) to stage '{model.stage_names[s]}' (on {dst})")
        reach = nxt
    return "no placement exists"
