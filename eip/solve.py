"""``eip.plan``: the friendly front of the solve kernels."""

from __future__ import annotations

import os
import time
from typing import Union

import numpy as np

from .costmodel import CostModel
from .goals import Goal, resolve_goal, score_coefficients
from .kernels import solve as _k
from .result import Plan, PlanResult
from .scenario import Scenario, load

ScenarioLike = Union[Scenario, CostModel, str, "os.PathLike[str]"]

STRATEGIES = {"auto": _k.AUTO, "exact": _k.EXACT, "beam": _k.BEAM}
_STRATEGY_NAMES = {_k.VITERBI: "viterbi", _k.LABELS: "exact", _k.BEAM_SEARCH: "beam"}
_STATUS_NAMES = {_k.OPTIMAL: "optimal", _k.FEASIBLE: "feasible", _k.INFEASIBLE: "infeasible", _k.UNKNOWN: "unknown"}

DEFAULT_BEAM_WIDTH = 32
DEFAULT_LABEL_BUDGET = 1_000_000


def cost_model_of(scenario: ScenarioLike) -> CostModel:
    """The cost model of a scenario, a scenario file, or a cost model itself."""
    if isinstance(scenario, CostModel):
        return scenario
    if isinstance(scenario, Scenario):
        return scenario.cost_model
    if isinstance(scenario, (str, os.PathLike)):
        return load(scenario).cost_model
    raise TypeError(f"expected a Scenario, CostModel or path, got {type(scenario).__name__}")


def plan(
    scenario: ScenarioLike,
    goal: Goal = "balanced",
    top_k: int = 3,
    strategy: str = "auto",
    beam_width: int = DEFAULT_BEAM_WIDTH,
    label_budget: int = DEFAULT_LABEL_BUDGET,
) -> PlanResult:
    """Rank the best placements of a pipeline's stages on its devices.

    Args:
        scenario: a ``Scenario``, a ``CostModel`` or the path of a scenario JSON file.
        goal: "latency", "efficiency", "balanced" or ``{"latency": a, "energy": b,
            "switch": c}`` weights.
        top_k: how many plans to rank (the best and the next best alternatives).
        strategy: "exact" (never a heuristic; stops at ``label_budget`` with status
            "feasible" and a proven gap), "beam" (fast, feasible, gap from a Lagrangian
            bound) or "auto" (exact when it proves optimality within the budget, else beam).
        beam_width: labels kept per (stage, device) by the beam.
        label_budget: labels the exact search may keep before it stops.

    Returns:
        A ``PlanResult``; an infeasible scenario gives no plans and a ``reason``.
    """
    model = cost_model_of(scenario)
    goal_name, weights = resolve_goal(goal)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose auto, exact or beam")
    for name, value, low in (("top_k", top_k, 1), ("beam_width", beam_width, 1), ("label_budget", label_budget, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    coef = score_coefficients(weights, model.baselines)
    step_use, trans_use, switch, caps = model.kernel_tensors
    started = time.perf_counter()
    status, used, paths, rows, found, stats = _k.solve_topk(
        step_use, trans_use, switch, coef, caps, int(top_k), STRATEGIES[strategy], int(beam_width), int(label_budget)
    )
    seconds = time.perf_counter() - started
    plans = tuple(Plan(model, paths[r], rows[r]) for r in range(found))
    bound = float(stats[2])
    status_name = _STATUS_NAMES[status]
    reason = ""
    if status_name == "infeasible":
        from .diagnose import infeasibility_reason

        reason = infeasibility_reason(model)
    elif status_name == "unknown":
        reason = f"the search stopped at its label budget ({label_budget:,} labels) before it found a plan"
    gap = 0.0 if status_name == "optimal" or not plans else _relative_gap(plans[0].score, bound)
    return PlanResult(
        scenario=model.name,
        goal=goal_name,
        weights=weights,
        top_k=int(top_k),
        plans=plans,
        status=status_name,
        gap=gap,
        bound=bound,
        strategy=_STRATEGY_NAMES[used],
        reason=reason,
        stats={"labels_created": int(stats[0]), "labels_kept": int(stats[1]), "solve_seconds": seconds},
        model=model,
    )


def _relative_gap(score: float, bound: float) -> float:
    if not np.isfinite(bound):
        return float("inf")
    return max(0.0, score - bound) / max(abs(score), 1e-12)
