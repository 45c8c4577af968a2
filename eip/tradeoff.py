"""``eip.frontier`` and ``eip.sweep``: the latency/energy trade-off and budget sweeps.

Both are built from exact solves of the engine, each answering many points:

* The frontier is walked from its least-energy end: the least-energy plan strictly faster
  than the last point found is the next point (the epsilon-constraint method), so it
  costs one solve per point.
* A sweep of one cap (latency or energy) walks its breakpoints: the exact optimum at the
  loosest value stays optimal at every tighter value it still fits (the feasible set only
  shrinks), so one solve answers the whole run of values down to the plan's own usage
  and the next solve starts just below it: one solve per distinct answer, plus one first
  for the least usage any plan has in that dimension, below which every value is
  infeasible.
* A 2-D (latency x energy) sweep uses one kernel (``kernels/frontier.py``) instead: the set
  of feasible placements that no other beats on latency, energy and switches. Every
  weighted score's optimum under any latency and energy caps lies in that set, so the
  whole grid is a vectorized look-up (prefix minima over the set sorted by latency). Memory
  budgets change which placements are feasible: each memory grid point gets its own set,
  all computed in one kernel call on the same compiled tensors. The set grows fast when
  memory binds on long pipelines; past its label (or comparison) budget the sweep walks
  the longer axis once per value of the other instead.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Mapping, Sequence, Union

import numpy as np

from .costmodel import CostModel, Dim, Limit, LimitKind, cap_with_tolerance
from .errors import VALUE_RANGE, ScenarioError, out_of_range, printable
from .goals import THROUGHPUT, Goal, Weights, resolve_goal
from .kernels.contract import KEY_DIMS, Mode, Row, Solution, Status, Stop, placement_rank, rank_order, scored_rows
from .kernels.frontier import pareto_sets
from .lowering import LoweringStopped
from .result import Plan
from .solve import (DEFAULT_BEAM_WIDTH, DEFAULT_LABEL_BUDGET, ScenarioLike, check_count, check_time_limit, cost_model_of,
                    solve_model)

Budget = Union[None, float, Sequence[float], np.ndarray]


#: dominance comparisons the trade-off set may make per walk it replaces: a walk is about
#: ten exact solves of ~1.5 ms on 30x4, the DP about 10 ns per comparison (measured)
SET_COMPARISONS_PER_WALK = 1_500_000


#: ``Sweep.plan_index`` of a grid point no walk answered (a budget stopped it first)
UNANSWERED = -2


@dataclass
class _Limits:
    """What each exact solve of a walk may spend, and why the first one that stopped did."""

    label_budget: int
    deadline: float
    reason: str = ""


class FrontierTooLarge(RuntimeError):
    """The exact trade-off set of a 2-D sweep needs more labels than the budget allows (the
    sweep then walks instead)."""


@dataclass(frozen=True)
class Frontier:
    """Every Pareto-optimal plan over two axes (latency and energy unless ``axes`` says
    otherwise) that fits memory and the caps, or the part of it proven before a budget
    stopped the walk.

    Attributes:
        plans: the plans, by increasing latency (and so decreasing energy); among plans
            with the same latency and energy, the one with fewest switches. Each is a
            proven frontier point, complete or not.
        latency_ms, energy_mj: (P,) arrays of their totals, for plotting.
        model: the cost model they were computed on.
        complete: True when the walk proved there is no other point.
        unexplored_ms: (low, high) range of the x axis (latency ms unless ``axes`` says
            otherwise) not yet walked when incomplete: plans below ``high`` (and no lower
            than ``low``, the least any plan could have) may hold more points; None when
            complete.
        reason: why the walk stopped early ("" when complete).
        axes: (x, y): the axis walked and the axis minimized (``FRONTIER_AXES``).
    """

    plans: tuple[Plan, ...]
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    model: CostModel
    complete: bool = True
    unexplored_ms: tuple[float, float] | None = None
    reason: str = ""
    axes: tuple[str, str] = ("latency", "energy")

    def __len__(self) -> int:
        return len(self.plans)


@dataclass(frozen=True)
class Sweep:
    """The best plan at every point of a grid of budgets.

    Attributes:
        axes: (name, values) per swept budget, in array-axis order: memory budgets (in the
            order given), then "max_latency_ms", then "max_energy_mj". Budgets given as
            scalars are fixed and have no axis.
        score, latency_ms, energy_mj: arrays of the grid's shape; NaN where infeasible
            or not answered.
        feasible: bool array, True where some plan fits.
        answered: bool array, True where the point's answer is proven (a plan, or none
            fits); False where a solve's label budget or the time limit stopped the walk
            that would have answered it.
        plan_index: int array, index into ``plans`` of the chosen plan (-1 if none fits,
            ``UNANSWERED`` if not answered).
        plans: the distinct plans chosen somewhere in the grid.
        goal, weights: the goal the plans were ranked by.
        reason: why some points were not answered ("" when all were).
    """

    axes: tuple[tuple[str, np.ndarray], ...]
    score: np.ndarray
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    feasible: np.ndarray
    plan_index: np.ndarray
    plans: tuple[Plan, ...]
    goal: str
    weights: Weights
    model: CostModel
    reason: str = ""

    @property
    def answered(self) -> np.ndarray:
        return self.plan_index != UNANSWERED


def exact_model(scenario: ScenarioLike, what: str, deadline: float) -> CostModel:
    """The cost model of ``scenario``, lowered unless ``time.perf_counter()`` passes
    ``deadline`` first (then the walk's solves stop at once); ``ScenarioError`` when its
    graph is a relaxation (a DAG too wide for its listed order): a ``what`` walks exact
    solves only."""
    model = cost_model_of(scenario)
    try:
        model.lower(deadline)
    except LoweringStopped:
        return model
    if model.relaxed:
        raise ScenarioError(model.name, "stages", f"the graph is too wide to plan exactly in its listed order "
                            f"({len(model.relaxed)} outputs relaxed); a {what} needs an exact graph: list the "
                            f"stages so that fewer outputs wait for their readers at once")
    return model


def frontier(scenario: ScenarioLike, max_plans: int | None = None, goal: Goal = "balanced",
             label_budget: int = DEFAULT_LABEL_BUDGET, time_limit_s: float | None = None,
             axes: tuple[str, str] = ("latency", "energy")) -> Frontier:
    """The exact Pareto frontier of a scenario under its budgets, over two of latency,
    energy and accuracy loss (``axes``: (x, y), one of ``FRONTIER_AXES``).

    Found from the least-y end (the epsilon-constraint method): each exact solve finds the
    least y among plans with x strictly below the last point found, and the least x at
    that y (one solve when x is latency, which the engine's ranking breaks ties by; two
    otherwise), so each gives the next point. The walk ends at the least-x plan that
    fits, found first by one more exact solve (proving that nothing is faster than it is
    often the hardest solve of all; without that proof the walk asks below the last point
    until a solve proves nothing fits).

    Args:
        scenario: a ``Scenario``, a ``CostModel`` or a scenario file path.
        goal: the goal whose score each plan carries (the frontier itself does not
            depend on it).
        max_plans: return at most this many plans, evenly spread along the frontier (both
            ends always kept); None for all.
        label_budget: labels each exact solve may keep.
        time_limit_s: seconds the whole walk may take (None: no limit).
        axes: ("latency", "energy") (default), ("latency", "accuracy") or ("energy",
            "accuracy"): the accuracy trade-off of a scenario with lossy ways.

    When a solve stops at its label budget or the time limit, the points proven so far
    come back with ``complete`` False and the x range not yet walked.
    """
    deadline = time.perf_counter() + check_time_limit(time_limit_s)
    model = exact_model(scenario, "frontier", deadline)
    x, y = _frontier_dims(model, axes)
    _, weights = resolve_goal(goal)
    coef = model.coefficients(weights)
    if max_plans is not None and (isinstance(max_plans, bool) or not isinstance(max_plans, int) or max_plans < 1):
        raise ValueError(f"max_plans must be an integer >= 1 or None, got {max_plans!r}")
    check_count("label_budget", label_budget)
    solve1 = lambda dim, caps: _least(model, dim, caps, label_budget, deadline)
    caps = model.caps_tol.copy()
    fastest = solve1(x, caps)
    least_x = fastest.rows[0, Row.USE + x] if fastest.status == Status.OPTIMAL else -np.inf
    points: list[tuple[np.ndarray, np.ndarray]] = []
    reason = ""
    while fastest.status != Status.INFEASIBLE:
        sol = solve1(y, caps)
        if sol.status == Status.OPTIMAL and x != Dim.LATENCY:
            at_least_y = caps.copy()
            at_least_y[y] = sol.rows[0, Row.USE + y]
            sol = solve1(x, at_least_y)
        if sol.status == Status.INFEASIBLE:
            break
        if sol.status != Status.OPTIMAL:
            found = f"{len(points)} frontier point" + ("" if len(points) == 1 else "s")
            reason = f"after {found}, the exact solve below {caps[x]:g} {axes[0]} {_stopped(sol, label_budget)}"
            break
        points.append((sol.options[0], sol.rows[0]))
        if sol.rows[0, Row.USE + x] <= least_x:
            break  # the least-x plan that fits: nothing is below it
        caps[x] = np.nextafter(sol.rows[0, Row.USE + x], -np.inf)  # strictly below this point
    points.reverse()
    chosen = np.arange(len(points))
    if max_plans is not None and len(points) > max_plans:
        chosen = np.unique(np.linspace(0, len(points) - 1, max_plans).round().astype(int))
    plans = tuple(Plan(model, path, _scored(row, coef)) for path, row in (points[i] for i in chosen))
    # (usage is never negative: the bound where the time limit stopped the lowering of the graph)
    floor_x = float(model.least_usage[x]) if model.is_lowered else 0.0
    unexplored = (floor_x, float(caps[x])) if reason else None
    return Frontier(plans, np.array([p.latency_ms for p in plans]), np.array([p.energy_mj for p in plans]), model,
                    complete=not reason, unexplored_ms=unexplored, reason=reason, axes=tuple(axes))


#: the (x, y) pairs a frontier walks
FRONTIER_AXES = (("latency", "energy"), ("latency", "accuracy"), ("energy", "accuracy"))


def _frontier_dims(model: CostModel, axes) -> tuple[int, int]:
    """The usage dimensions of a frontier's axes; ValueError for other axes, or accuracy in
    a scenario where no way loses any."""
    axes = tuple(axes)
    if axes not in FRONTIER_AXES:
        choices = ", ".join(",".join(a) for a in FRONTIER_AXES)
        raise ValueError(f"axes must be one of {choices}; got {printable(','.join(map(str, axes)))}")
    dims = {"latency": Dim.LATENCY, "energy": Dim.ENERGY, "accuracy": model.dims.accuracy}
    if dims[axes[1]] < 0:
        raise ValueError("no way to run a stage loses accuracy in this scenario: an accuracy frontier is one point")
    return int(dims[axes[0]]), int(dims[axes[1]])


def _stopped(sol: Solution, label_budget: int) -> str:
    """How a solve that proved nothing stopped, as the end of a sentence."""
    if sol.stop == Stop.TIME_LIMIT:
        return "reached the time limit"
    return f"needs more than {label_budget:,} labels; raise the label budget"


def sweep(
    scenario: ScenarioLike,
    goal: Goal = "balanced",
    max_latency_ms: Budget = None,
    max_energy_mj: Budget = None,
    memory_mb: Mapping[str, Budget] | None = None,
    label_budget: int = DEFAULT_LABEL_BUDGET,
    time_limit_s: float | None = None,
    max_accuracy_loss: Budget = None,
    frame_rate_hz: Budget = None,
) -> Sweep:
    """The best plan for every combination of budget values.

    Each budget is None (the scenario's own), a scalar, or a 1-D array of values to sweep;
    ``memory_mb`` maps device names to budgets; ``max_accuracy_loss`` and ``frame_rate_hz``
    (which also moves the power limits' energy per frame) sweep the ways issue's limits.
    The grid is the product of the swept values. Sweeping one of the latency and energy
    caps, it is answered by one exact solve per distinct answer; sweeping both, from one
    trade-off set per point of the other budgets, all in one kernel call, unless that set
    needs more work than walking one axis per value of the other (see the module
    docstring). Every grid point's plan is the one ``eip.plan`` gives with the same budgets
    (``top_k=1``). A walk whose solve stops at ``label_budget`` labels, or at
    ``time_limit_s`` for the whole sweep, leaves the points it had not reached unanswered
    (``Sweep.answered``, ``Sweep.reason``): never an inexact one.
    """
    limits = _Limits(label_budget, time.perf_counter() + check_time_limit(time_limit_s))
    model = exact_model(scenario, "sweep", limits.deadline)
    goal_name, weights = resolve_goal(goal)
    if goal_name == THROUGHPUT:  # its plans rank by the period, which no trade-off set or cap walk follows
        raise ValueError("a sweep ranks plans by a score; the throughput goal ranks them by the frame period: "
                         "plan each budget with eip plan or eip explore")
    check_count("label_budget", label_budget)
    outer = _outer_budgets(model, dict(memory_mb or {}), max_accuracy_loss, frame_rate_hz)
    model = _loosest(model, outer)
    coef = model.coefficients(weights)
    axes = [(name, values) for name, _, values, swept in outer if swept]
    lat = _budget_values("max_latency_ms", max_latency_ms, model.max_latency_ms)
    en = _budget_values("max_energy_mj", max_energy_mj, model.max_energy_mj)

    # one cap row per point of the other budgets; latency and energy at their loosest (an
    # average power limit caps energy too: walks and sets keep the lower of the two)
    loosest = dataclasses.replace(model, max_latency_ms=lat.max(), max_energy_mj=en.max())
    caps = np.array([_point(loosest, outer, point).caps_tol for point in np.ndindex(*(len(v) for _, _, v, _ in outer))])

    distinct = _DistinctPlans(model)
    # (the trade-off sets need the graph: a lowering the time limit stopped leaves the walks to stop at once)
    index = _from_tradeoff_sets(model, coef, caps, lat, en, label_budget, distinct) if model.is_lowered else None
    if index is None:
        index = _from_walks(model, coef, caps, lat, en, limits, distinct)
    plans = distinct.plans
    if _is_axis(max_latency_ms):
        axes.append(("max_latency_ms", lat))
    if _is_axis(max_energy_mj):
        axes.append(("max_energy_mj", en))
    shape = tuple(len(values) for _, values in axes)
    plan_index = index.reshape(shape)
    feasible = plan_index >= 0
    lookup = np.maximum(plan_index, -1)  # -1 (and UNANSWERED) pick the NaN after the plans
    pick = lambda attr: np.where(feasible, np.array([getattr(p, attr) for p in plans] + [np.nan])[lookup], np.nan)
    return Sweep(tuple(axes), pick("score"), pick("latency_ms"), pick("energy_mj"), feasible, plan_index, tuple(plans),
                 goal_name, weights, model, limits.reason)


def _outer_budgets(model: CostModel, memory_mb: dict, max_accuracy_loss: Budget,
                   frame_rate_hz: Budget) -> list[tuple[str, Limit, np.ndarray, bool]]:
    """(axis name, limit, values, swept) of every budget a sweep sets besides the latency
    and energy caps: memory per device (in the order given), accuracy, frame rate (as
    frame periods, ms)."""
    unknown = [d for d in memory_mb if d not in model.device_names]
    if unknown:
        raise ValueError(f"memory_mb: unknown device {unknown[0]!r}; devices are {', '.join(model.device_names)}")
    by_device = {limit.device: limit for limit in model.limits if limit.kind == LimitKind.MEMORY}
    out = []
    for device, budget in memory_mb.items():
        j = model.device_names.index(device)
        out.append((f"memory_mb[{device}]", by_device[j], _budget_values(f"memory_mb[{device!r}]", budget,
                                                                         model.mem_cap_mb[j]), _is_axis(budget)))
    if max_accuracy_loss is not None:
        limit = Limit(LimitKind.ACCURACY, -1, "accuracy budget", "points", model.max_accuracy_loss, ())
        out.append(("max_accuracy_loss", limit, _budget_values("max_accuracy_loss", max_accuracy_loss, np.inf),
                    _is_axis(max_accuracy_loss)))
    if frame_rate_hz is not None:
        hz = _budget_values("frame_rate_hz", frame_rate_hz, np.inf)
        if np.any((hz == 0) | np.isinf(hz)):  # a rate is a number: no frame rate is not an infinite one
            raise ValueError(f"frame_rate_hz: expected finite values > 0, got {hz[(hz == 0) | np.isinf(hz)][0]!r}")
        out.append(("frame_rate_hz", Limit(LimitKind.PERIOD, -1, "frame period", "ms", model.period_ms, ()), hz,
                    _is_axis(frame_rate_hz)))
    return out


def _as_limit(limit: Limit, value: float) -> float:
    """A budget's value as its limit's value (a frame rate as its period)."""
    return 1000.0 / value if limit.kind == LimitKind.PERIOD else float(value)


def _loosest(model: CostModel, outer: list) -> CostModel:
    """``model`` with every swept budget at its loosest value: the usage dimensions every
    grid point shares."""
    for _, limit, values, _ in outer:
        model = model.with_limit(limit, max(_as_limit(limit, v) for v in values))
    return model


def _point(model: CostModel, outer: list, point: tuple[int, ...]) -> CostModel:
    """``model`` at one grid point of the budgets in ``outer``."""
    for (_, limit, values, _), i in zip(outer, point):
        model = model.with_limit(limit, _as_limit(limit, values[i]))
    return model


# --------------------------------------------------------------------------- internals

class _DistinctPlans:
    """The distinct plans a sweep chooses, each once, in first-seen order."""

    def __init__(self, model: CostModel) -> None:
        self.model = model
        self.plans: list[Plan] = []
        self._index: dict[tuple[int, ...], int] = {}

    def add(self, path: np.ndarray, scored_row: np.ndarray) -> int:
        key = tuple(path.tolist())
        if key not in self._index:
            self._index[key] = len(self.plans)
            self.plans.append(Plan(self.model, path, scored_row))
        return self._index[key]


def _walk_axes(lat: np.ndarray, en: np.ndarray) -> tuple[Dim, np.ndarray, np.ndarray]:
    """(cap dimension walked, its values, the other cap's values): the longer axis is walked."""
    return (Dim.LATENCY, lat, en) if len(lat) >= len(en) else (Dim.ENERGY, en, lat)


def _from_tradeoff_sets(model, coef, caps_tol, lat, en, label_budget, distinct) -> np.ndarray | None:
    """(G, n_lat, n_en) plan indices from the trade-off set of each memory point (G rows of
    ``caps_tol``); None for a one-cap sweep or when the sets need more work than the walks
    they replace."""
    _, _, other = _walk_axes(lat, en)
    if len(other) == 1 or len(model.mode_graphs) > 1 or np.any(coef[KEY_DIMS:]):
        return None  # the set answers scores over its key dimensions, on one graph
    try:
        sets = _pareto(model, caps_tol, label_budget, SET_COMPARISONS_PER_WALK * len(other))
    except FrontierTooLarge:
        return None
    index = np.full((len(caps_tol), len(lat), len(en)), -1, dtype=np.int64)
    lat_tol, en_tol = cap_with_tolerance(lat), cap_with_tolerance(en)
    for g, (paths, rows) in enumerate(sets):
        if len(rows):
            best = _best_under_caps(rows, paths, coef, lat_tol, en_tol)  # (n_lat, n_en)
            for p in np.unique(best[best >= 0]):
                index[g][best == p] = distinct.add(paths[p], _scored(rows[p], coef))
    return index


#: seconds past a sweep's time limit its walks may still start: a solve given no time
#: answers what its first shortcuts prove and stops (0.1 ms on YOLOv3), but its setup takes
#: 0.1-0.3 s on a wide DAG's graph (ways DAG 60x4: 2.0 s for nothing under 0.5 s when every
#: walk started)
LATE_WALKS_S = 0.05


def _from_walks(model, coef, caps_tol, lat, en, limits: _Limits, distinct) -> np.ndarray:
    """(G, n_lat, n_en) plan indices: the longer cap axis walked once per value of the other,
    for each memory point (row of ``caps_tol``)."""
    dim, walked, other = _walk_axes(lat, en)
    other_dim = Dim.ENERGY if dim == Dim.LATENCY else Dim.LATENCY
    index = np.full((len(caps_tol), len(lat), len(en)), UNANSWERED, dtype=np.int64)
    for g in range(len(caps_tol)):
        for v, value in enumerate(other):
            if time.perf_counter() >= limits.deadline + LATE_WALKS_S:
                name = "max_latency_ms" if other_dim == Dim.LATENCY else "max_energy_mj"
                limits.reason = limits.reason or f"the time limit was reached before the walk at {name}={value:g}"
                continue
            row = caps_tol[g].copy()
            row[other_dim] = min(row[other_dim], cap_with_tolerance(value))
            answers = _walk(model, coef, row, dim, walked, limits, distinct)
            if dim == Dim.LATENCY:
                index[g, :, v] = answers
            else:
                index[g, v, :] = answers
    return index


def _walk(model: CostModel, coef: np.ndarray, caps_tol: np.ndarray, dim: Dim, values: np.ndarray, limits: _Limits,
          distinct: _DistinctPlans) -> np.ndarray:
    """Plan index (into ``distinct``) per value of cap ``dim`` (latency or energy), -1 where
    nothing fits, other caps at ``caps_tol``: one exact solve per distinct answer;
    ``UNANSWERED`` from the value whose solve ``limits`` stopped down.

    The optimum at the largest value not yet answered is also the optimum (same ranking
    key, same tie-break) at every smaller value whose cap it still fits, since tightening
    only removes plans; the first value it does not fit is solved next. An infeasible value
    makes every smaller one infeasible, and so does a value below the least ``dim`` of any
    plan, which one solve on ``dim`` alone finds first: proving that nothing fits below it
    under the goal's score is the costliest solve of a walk (YOLOv3: 20-30 ms for the least
    latency, 440 ms for that proof). (Ranking several plans per solve to answer more
    values at once was measured slower: exact top-k costs more than the solves it saves.)
    """
    loosest = caps_tol[dim]
    caps_tol = caps_tol.copy()
    order = np.argsort(values, kind="stable")
    sorted_tol = np.minimum(cap_with_tolerance(values[order]), loosest)
    out = np.full(len(values), UNANSWERED, dtype=np.int64)
    least_plan = _least(model, dim, caps_tol, limits.label_budget, limits.deadline)
    if least_plan.status == Status.INFEASIBLE:
        out[:] = -1
        return out
    least = least_plan.rows[0, Row.USE + dim] if least_plan.status == Status.OPTIMAL else -np.inf
    i = len(order) - 1
    while i >= 0:
        if sorted_tol[i] < least:
            out[order[:i + 1]] = -1  # below the least any plan uses
            break
        caps_tol[dim] = sorted_tol[i]
        sol = solve_model(model, coef, 1, Mode.EXACT, DEFAULT_BEAM_WIDTH, limits.label_budget,
                          max(limits.deadline - time.perf_counter(), 1e-9), caps_tol)
        if sol.status == Status.INFEASIBLE:
            out[order[:i + 1]] = -1  # tighter values are infeasible too
            break
        if sol.status != Status.OPTIMAL:
            name = "max_latency_ms" if dim == Dim.LATENCY else "max_energy_mj"
            limits.reason = limits.reason or f"the exact solve at {name}={values[order[i]]:g} {_stopped(sol, limits.label_budget)}"
            break
        path, row = sol.options[0], sol.rows[0]
        first = int(np.searchsorted(sorted_tol, row[Row.USE + dim], side="left"))
        out[order[first:i + 1]] = distinct.add(path, row)
        i = first - 1
    return out


def _least(model: CostModel, dim: int, caps_tol: np.ndarray, label_budget: int, deadline: float) -> Solution:
    """The exact solve for the plan with the least total of usage dimension ``dim`` within
    ``caps_tol`` (the least-x end of a frontier or a cap walk), by the ``time.perf_counter``
    time ``deadline``."""
    return solve_model(model, model.dimension_coefficients(dim), 1, Mode.EXACT, DEFAULT_BEAM_WIDTH, label_budget,
                       max(deadline - time.perf_counter(), 1e-9), caps_tol)


def _pareto(model: CostModel, caps_grid: np.ndarray, label_budget: int,
            comparison_budget: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(paths, rows) of the (latency, energy, switches) set for each row of ``caps_grid``."""
    check_count("label_budget", label_budget)
    graph = model.graph
    stops, paths, rows, offsets = pareto_sets(graph, np.ascontiguousarray(caps_grid, dtype=np.float64),
                                              int(label_budget), int(comparison_budget))
    if np.any(stops != Stop.COMPLETE):
        raise FrontierTooLarge(f"the exact trade-off set needs more than {label_budget:,} labels; raise the label budget")
    options = graph.opt_key[paths]
    return [(options[offsets[g]:offsets[g + 1]], rows[offsets[g]:offsets[g + 1]]) for g in range(len(stops))]


def _scored(row: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """A kernel row with the goal's score filled in."""
    return scored_rows(coef, row[None, Row.USE:])[0]


def _best_under_caps(rows, paths, coef, lat_caps, en_caps) -> np.ndarray:
    """(n_lat, n_en) index of the best row within each pair of caps (-1 if none).

    Rows are ranked once by the engine's ranking rule (``rank_order``); for each energy
    cap, a prefix minimum of that rank over the rows sorted by latency answers every
    latency cap by binary search.
    """
    use = rows[:, Row.USE:]
    rank = np.empty(len(rows), dtype=np.int64)
    rank[rank_order(scored_rows(coef, use), placement_rank(paths))] = np.arange(len(rows))
    by_lat = np.argsort(use[:, Dim.LATENCY], kind="stable")
    lat_sorted = use[by_lat, Dim.LATENCY]
    fits = use[by_lat, Dim.ENERGY][:, None] <= en_caps[None, :]              # (P, n_en)
    ranks = np.where(fits, rank[by_lat][:, None], len(rows))
    prefix = np.minimum.accumulate(ranks, axis=0)                             # (P, n_en)
    upto = np.searchsorted(lat_sorted, lat_caps, side="right") - 1            # (n_lat,)
    best_rank = np.where(upto[:, None] >= 0, prefix[np.maximum(upto, 0)], len(rows))
    by_rank = np.empty(len(rows) + 1, dtype=np.int64)
    by_rank[rank] = np.arange(len(rows))
    by_rank[len(rows)] = -1
    return by_rank[best_rank]


def _is_axis(budget: Budget) -> bool:
    return budget is not None and np.ndim(budget) == 1


def _budget_values(name: str, budget: Budget, default: float) -> np.ndarray:
    """A budget as a 1-D float array (one value for a scalar or None)."""
    if budget is None:
        return np.array([default], dtype=np.float64)
    try:
        values = np.asarray(budget, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number or a 1-D array of numbers, got {budget!r}") from None
    if values.ndim > 1 or values.size == 0:
        raise ValueError(f"{name}: expected a number or a non-empty 1-D array, got shape {values.shape}")
    bad = np.isnan(values) | (values < 0) | out_of_range(values)
    if np.any(bad):
        raise ValueError(f"{name}: expected values >= 0 ({VALUE_RANGE}), got {values[bad][0]!r}")
    return values.reshape(-1)
