"""``eip.plan``: the friendly front of the solve kernels."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from typing import Callable, Union

import numpy as np

from .costmodel import CostModel
from .goals import THROUGHPUT, Goal, resolve_goal
from .kernels.contract import (LayeredGraph, LpBound, Mode, RootLp, Row, Solution, Status, Stop, Strategy, fitted,
                               lp_bound, placement_rank, rank_order, solve, within_score)
from .kernels.paths import score_limit
from .localsearch import distinct, evaluated, merged, polished, repaired
from .lowering import LoweringStopped
from .result import Plan, PlanResult
from .scenario import Scenario, load

ScenarioLike = Union[Scenario, CostModel, str, "os.PathLike[str]"]

STRATEGIES = {"auto": Mode.AUTO, "exact": Mode.EXACT, "beam": Mode.BEAM}
_STRATEGY_NAMES = {Strategy.VITERBI: "viterbi", Strategy.LABELS: "exact", Strategy.BEAM: "beam",
                   Strategy.RELAXED: "relaxed", Strategy.REPAIRED: "repaired"}

DEFAULT_BEAM_WIDTH = 32
# Labels the exact search may keep: a frontier-state DAG has many options per step and
# needs more labels than a chain (GNMT's layer graph stops at 1 million labels 3.6% from
# proven and proves optimal within 4 million in 6 s; InceptionV3's search peaked at 620 MB
# with 4 million, 595 MB with 1 million).
DEFAULT_LABEL_BUDGET = 4_000_000
#: the largest value each count of ``plan`` may take: past them a solve only runs out of memory
COUNT_LIMITS = {"top_k": 100_000, "beam_width": 1_000_000, "label_budget": 10**12}
#: the narrowest beam per frontier state (``state_beam_width``)
MIN_STATE_BEAM = 4
#: A too-wide DAG's relaxed graph is asked for its k best plans first, then for at least
#: this many and four times as many each round, until its best true plans are proven or it
#: has been asked for the most. (Asked for 16 at once, generated ways DAG 100x4 seed 1's
#: guesses met the optimum among 3 relaxed plans with 0.3M labels, then searched on for 13
#: more until the label budget stopped them: a scratch copy of the kernels printing each
#: search.)
RELAXED_FIRST_PLANS = 16
RELAXED_MOST_PLANS = 1024


def cost_model_of(scenario: ScenarioLike) -> CostModel:
    """The cost model of a scenario, a scenario file, or a cost model itself."""
    if isinstance(scenario, CostModel):
        return scenario
    if isinstance(scenario, Scenario):
        return scenario.cost_model
    if isinstance(scenario, (str, os.PathLike)):
        return load(scenario).cost_model
    raise TypeError(f"expected a Scenario, CostModel or path, got {type(scenario).__name__}")


def check_count(name: str, value) -> int:
    """``value`` of the count ``name`` (a key of ``COUNT_LIMITS``) as an int; ValueError
    unless an integer from 1 to its limit."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= COUNT_LIMITS[name]:
        raise ValueError(f"{name} must be an integer from 1 to {COUNT_LIMITS[name]:,}, got {value!r}")
    return int(value)


def check_time_limit(time_limit_s) -> float:
    """``time_limit_s`` as a float, inf for None; ValueError unless a number > 0."""
    if time_limit_s is None:
        return math.inf
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float, np.integer, np.floating)) \
            or not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be a number > 0 or None, got {time_limit_s!r}")
    return float(time_limit_s)


def plan(
    scenario: ScenarioLike,
    goal: Goal = "balanced",
    top_k: int = 3,
    strategy: str = "auto",
    beam_width: int = DEFAULT_BEAM_WIDTH,
    label_budget: int = DEFAULT_LABEL_BUDGET,
    time_limit_s: float | None = None,
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
        time_limit_s: wall-clock seconds the solve may take, the model's first lowering to
            the kernels' graph included (None: no limit; a lowering it stops answers
            "unknown" and keeps nothing). The searches take up to 90% of
            it and local search the rest (it improves an unproven plan, or makes one from
            the unconstrained optimum when the searches met none). When it runs out the
            answer is the best plan found with its proven gap ("feasible"), or no plan
            ("unknown"). An infeasible answer's reason searches for the limits that rule
            out every plan within the time left (``diagnose.infeasibility_reason``).

    Returns:
        A ``PlanResult``; an infeasible scenario gives no plans and a ``reason``.
    """
    model = cost_model_of(scenario)
    goal_name, weights = resolve_goal(goal)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose auto, exact or beam")
    for name, value in (("top_k", top_k), ("beam_width", beam_width), ("label_budget", label_budget)):
        check_count(name, value)
    limit_s = check_time_limit(time_limit_s)
    if goal_name == THROUGHPUT and model.dims.busy < 0:
        model = dataclasses.replace(model, track_busy=True)
    started = time.perf_counter()
    sol = _solve_for_goal(model, goal_name, model.coefficients(weights), int(top_k), STRATEGIES[strategy],
                          int(beam_width), int(label_budget), limit_s)
    plans = tuple(Plan(model, sol.options[r], sol.rows[r]) for r in range(len(sol.rows)))
    status_name = sol.status.name.lower()
    reason = ""
    if sol.status == Status.INFEASIBLE:
        from .diagnose import infeasibility_reason

        reason = infeasibility_reason(model, _left(limit_s, started))
    elif sol.status == Status.UNKNOWN:
        reason = _unknown_reason(model, sol, limit_s, label_budget, beam_width)
    gap = 0.0 if sol.status == Status.OPTIMAL or not plans else relative_gap(plans[0].score, sol.bound)
    return PlanResult(
        scenario=model.name,
        goal=goal_name,
        weights=weights,
        top_k=int(top_k),
        plans=plans,
        status=status_name,
        gap=gap,
        bound=sol.bound,
        strategy=_STRATEGY_NAMES[sol.strategy],
        reason=reason,
        stats={"labels_created": sol.labels_created, "labels_kept": sol.labels_kept, "solve_seconds": sol.seconds,
               "stopped_by": sol.stop.name.lower()},
        model=model,
    )


def _solve_for_goal(model: CostModel, goal_name: str, coef: np.ndarray, k: int, mode: Mode, beam_width: int,
                    label_budget: int, limit_s: float) -> Solution:
    """``plan``'s solve: the throughput walk for that goal; otherwise one solve whose
    unproven plans local search then improves (or, when it met none, tries to make one),
    for about as long again, and within a time limit in the part the solve leaves
    (SEARCH_SHARE)."""
    if goal_name == THROUGHPUT:
        return solve_throughput(model, coef, k, mode, beam_width, label_budget, limit_s)
    started = time.perf_counter()
    sol = solve_model(model, coef, k, mode, beam_width, label_budget, SEARCH_SHARE * limit_s)
    if sol.status not in (Status.FEASIBLE, Status.UNKNOWN):
        return sol
    elapsed = time.perf_counter() - started
    until = started + min(limit_s, 2.0 * elapsed + POLISH_MIN_S)
    if sol.status == Status.UNKNOWN:
        if not model.is_lowered:  # (a repair needs the graphs: lowering them now would break the time limit)
            return sol
        repair_until = started + min(limit_s, 2.0 * elapsed + REPAIR_MIN_S)
        start = repaired(model, coef, model.caps_tol, _repair_starts(model, coef, repair_until), repair_until)
        if start is None:
            return sol
        sol = sol._replace(status=Status.FEASIBLE, strategy=Strategy.REPAIRED, options=start[0], rows=start[1])
    options, rows = polished(model, coef, model.caps_tol, sol.options, sol.rows, k, until)
    return sol._replace(options=options, rows=rows)


def _repair_starts(model: CostModel, coef: np.ndarray, until: float) -> np.ndarray:
    """(S, N) placements a repair starts from, best first: for a model of one graph, the
    path its LP multipliers price cheapest (``contract.lp_bound``: it weighs the caps, and
    often breaks them by little; with several mode graphs ``solve_model`` has repaired
    theirs already, ``_Found.repair``), then of each graph the unconstrained best plan;
    all computed until ``time.perf_counter()`` passes ``until``."""
    free = np.full(len(model.caps), np.inf)
    some_path = np.isfinite(model.mode_least_usage).all(axis=1)  # (a graph with a step left without options has none)
    graphs = [graph for graph, ok in zip(model.mode_graphs, some_path) if ok]
    priced = []
    if len(model.mode_graphs) == 1 and graphs and time.perf_counter() < until:
        # (the LP takes half the time left: the repair needs some)
        graph = model.fitted_graph(0, model.caps_tol)
        lp = lp_bound(graph, coef, model.caps_tol, (until - time.perf_counter()) / 2)
        priced = [graph.opt_key[lp.priced_path]]
    free_best = [solve_mode_graph(model, graph, coef, free, 1, Mode.EXACT, DEFAULT_BEAM_WIDTH, DEFAULT_LABEL_BUDGET,
                                  until - time.perf_counter()) for graph in graphs if time.perf_counter() < until]
    free_best.sort(key=lambda sol: sol.rows[0, Row.SCORE] if len(sol.rows) else np.inf)
    starts = [path for path in priced if len(path)] + [sol.options[0] for sol in free_best if len(sol.rows)]
    return np.array(starts, dtype=np.int64).reshape(-1, model.n_stages)


def _unknown_reason(model: CostModel, sol: Solution, limit_s: float, label_budget: int, beam_width: int) -> str:
    """Why a solve ended with no plan and no proof that none exists."""
    if sol.stop == Stop.TIME_LIMIT and not model.is_lowered:
        return (f"the time limit ({limit_s:g} s) stopped the model's lowering to the kernels' graph before any "
                f"search (a DAG's frontier states: eip validate counts them)")
    if sol.stop == Stop.TIME_LIMIT:
        return f"the search stopped at its time limit ({limit_s:g} s) before it found a plan"
    if sol.stop == Stop.LABEL_BUDGET:
        return f"the search stopped at its label budget ({label_budget:,} labels) before it found a plan"
    if sol.strategy == Strategy.RELAXED:
        return ("the graph is too wide to plan exactly in its listed order, and every plan of its relaxation "
                "that was tried breaks a budget or a link once evaluated exactly")
    return f"the beam ({beam_width} labels per option) found no plan, and no proof that none exists"


def state_beam_width(model: CostModel, beam_width: int) -> int:
    """The beam's width per option of the layered graph for ``beam_width`` labels per (stage,
    stage option): the same for a chain; for a DAG, whose frontier states split each stage
    option into many graph options, as many labels per stage in all (at least
    ``MIN_STATE_BEAM``; measured on the ResNet50 layer graph: 32 labels per state take
    1.4 s to prove the optimum, 4 take 0.5 s; while no beam has met a plan, the exact
    search's second beam is ``kernels.solve.NO_INCUMBENT_BEAM`` wide)."""
    return max(min(beam_width, MIN_STATE_BEAM), round(beam_width / model.states_per_option))


def solve_model(model: CostModel, coef: np.ndarray, k: int, mode: Mode, beam_width: int, label_budget: int,
                limit_s: float, caps: np.ndarray | None = None) -> Solution:
    """The k best plans of a model within ``caps`` (Q,) (tolerance applied; default the
    model's): the one call every planning question goes through.

    One solve of the model's graph, or for a model with fixed-mode devices one per mode
    assignment (``CostModel.mode_graphs``), each first fitted to the caps (``contract.fitted``:
    a DAG's frontier states mostly lead to placements that break them; ``CostModel.fitted_graph``
    keeps the fitted graphs for the next solves), best LP bound first (``contract.lp_bound``),
    each skipped once its bound cannot beat the k-th best plan found, merged by the ranking
    rule. Once k plans are found, each next graph is searched only for plans as good as
    the k-th (the kernels' ``cutoff``, on the part of the graph reduced-cost fixing at it
    leaves: ``contract.within_score``; on a relaxed graph too, whose scores never exceed
    the plans'). A placement whose fixed-mode devices run no stage belongs to several
    assignments: each graph is searched without the plans of the graphs before it
    (``CostModel.mode_graph_after``; searched or skipped, their plans are accounted for;
    once a cutoff is known, fixed at it by its LP before it is split:
    ``CostModel.split_after``).
    Under a time limit each graph gets first its share of the time left, and the graphs
    that share stopped get the time left at the end; graphs left when the time limit has
    passed are not searched (nor split) once one has been: the answer is then unproven,
    and their LP bounds bound it. A repair from the paths the graphs' LP multipliers price
    cheapest (``_Found.repair``; on a DAG before the searches, on a chain once one stops
    unproven: PRICED_REPAIR_S) adds a plan that answers when the searches meet none as
    good (strategy ``repaired``). A first lowering of the model that the time limit stops
    answers unknown at once, with no plan and no bound (``CostModel.lower``).
    """
    caps = model.caps_tol if caps is None else caps
    started = time.perf_counter()
    try:
        model.lower(started + limit_s)  # the first solve of a model lowers it: within the time limit too
    except LoweringStopped:
        nothing = np.zeros((0, model.n_stages), dtype=np.int64)
        return Solution(Status.UNKNOWN, Strategy.LABELS, nothing, np.zeros((0, Row.USE + len(caps))), -np.inf,
                        Stop.TIME_LIMIT, 0, 0, 0.0)
    graphs = model.mode_graphs
    if len(graphs) == 1:
        return solve_mode_graph(model, model.fitted_graph(0, caps), coef, caps, k, mode, beam_width, label_budget,
                                _left(limit_s, started))
    fit = functools.cache(lambda m: model.fitted_graph(m, caps))  # (each graph fitted once, when first needed)
    bound, priced, lps = _mode_bounds(model, fit, coef, caps, _left(limit_s, started))
    order = np.argsort(bound, kind="stable").tolist()
    found = _Found(model.n_stages, len(caps), k)
    repair_s = lambda: min(PRICED_REPAIR_S, PRICED_REPAIR_SHARE * _left(limit_s, started))
    if not model.is_chain:  # (a chain's repair waits for a search that stops unproven)
        found.repair(model, coef, caps, priced, repair_s())
    sols: dict[int, Solution] = {}
    retry: list[tuple[int, LayeredGraph]] = []

    def search(g: int, graph: LayeredGraph, seconds: float) -> Solution:
        # (an unsplit graph starts from the LP its bound came from: on a DAG's graph it takes a second)
        lp = lps[g] if graph is fit(g) else None
        root = None if lp is None else lp.root
        if lp is not None and found.cutoff < np.inf:
            # only plans within the cutoff are wanted: the search runs on the part of the graph
            # reduced-cost fixing at it leaves, and computes its own LP there (ways DAG 100x4
            # seed 0: 3,850 of 95,701 options; its search 0.87 s, was 2.0 s)
            graph, root = within_score(graph, coef, lp, found.cutoff), None
        sol = solve_mode_graph(model, graph, coef, caps, k, mode, beam_width, label_budget, seconds, found.cutoff,
                               root)
        found.add(sol.options, sol.rows)
        if sol.status in (Status.OPTIMAL, Status.INFEASIBLE):
            return sol
        # its LP bound still holds where the search proved less: a split graph's, or one whose
        # LP the time limit stopped, starts from a column generation of its own, which the
        # time limit may stop short (ways DAG 100x4 seed 2 under 10 s reported 4.568 against 5.187)
        return sol._replace(bound=max(sol.bound, float(bound[g])))

    for position, g in enumerate(order):
        if found.beats(bound[g]):  # (before splitting its graph)
            continue
        if sols and time.perf_counter() - started >= limit_s:  # no time to search it: only its bound is known
            sols[g] = Solution(Status.UNKNOWN, Strategy.LABELS, found.options[:0], found.rows[:0], float(bound[g]),
                               Stop.TIME_LIMIT, 0, 0, 0.0)
            continue
        searched = frozenset(order[:position])
        if lps[g] is not None and found.cutoff < np.inf and model.splits(g, searched):
            # fixed at the cutoff by its LP first, then split: the split graph's own fitting
            # and LP took 1.8 s of ways DAG 100x4 seed 2's second GPU mode (123,336 options),
            # whose part fixing leaves (188 options) its search proves empty in 0.1 ms
            graph, graph_least = model.split_after(within_score(fit(g), coef, lps[g], found.cutoff), g, searched)
        else:
            graph, graph_least = model.mode_graph_after(g, searched)
        if found.beats(_least_scores(graph_least[None, :], coef, caps)[0]):
            continue
        graph = fit(g) if graph is graphs[g] else fitted(graph, caps)
        # under a time limit each graph first gets its share of the time left: one that
        # meets no plan must not take the time of those after it (those with no plan at
        # all, bound inf, take none: ways DAG 100x4 seed 0's second GPU mode)
        share = _left(limit_s, started) / np.isfinite(bound[order[position:]]).sum()
        sols[g] = search(g, graph, share)
        if sols[g].stop != Stop.COMPLETE:
            found.repair(model, coef, caps, priced, repair_s())
        if sols[g].stop == Stop.TIME_LIMIT and position < len(order) - 1:
            retry.append((g, graph))
    for g, graph in retry:  # the time left, to the graphs their share stopped, limited by the plans found since
        if found.beats(sols[g].bound):
            sols[g] = sols[g]._replace(status=Status.OPTIMAL if len(sols[g].rows) else Status.INFEASIBLE)
        elif time.perf_counter() - started < limit_s:
            sols[g] = _again(sols[g], search(g, graph, _left(limit_s, started)))
    sol = _combined(list(sols.values()), found.options, found.rows)
    if found.repaired is not None and len(sol.options) and np.array_equal(sol.options[0], found.repaired):
        return sol._replace(strategy=Strategy.REPAIRED)  # no search met a plan as good (they may prove it)
    return sol


class _Found:
    """The k best plans found so far (``solve_model``), by the mode graphs' searches and by a
    repair from the graphs' priced paths: their k-th is the next search's cutoff."""

    def __init__(self, n_stages: int, q: int, k: int):
        self.options = np.zeros((0, n_stages), dtype=np.int64)  # (found, N) option per stage, best first
        self.rows = np.zeros((0, Row.USE + q))  # (found, 1 + Q) their plan rows
        self.k = k
        self.repaired: np.ndarray | None = None  # (N,) the repair's plan (None: none made)
        self._repair_tried = False

    def repair(self, model: CostModel, coef: np.ndarray, caps: np.ndarray, starts: np.ndarray, seconds: float) -> None:
        """Once, a plan from ``repaired`` (from ``starts`` (S, N), within ``seconds``): it
        answers when the searches meet none as good, spares the graphs whose bound it
        beats, and limits the others' searches as their cutoff (generated ways DAG 100x4
        seed 1 under a 30 s limit: 8.95% from proven with it, 11.94% without)."""
        if self._repair_tried:
            return
        self._repair_tried = True
        plan = repaired(model, coef, caps, starts, time.perf_counter() + seconds)
        if plan is not None:
            self.repaired = plan[0][0]
            self.add(*plan)

    @property
    def cutoff(self) -> float:
        """The score a next plan must not exceed to rank among the k best found (inf:
        fewer found)."""
        rows = self.rows
        return rows[-1, Row.SCORE] if len(rows) == self.k else np.inf

    def beats(self, bound: float) -> bool:
        """Whether no plan scoring at least ``bound`` can rank among the k best (or none fits)."""
        return bound == np.inf or (len(self.rows) == self.k and bound > score_limit(self.rows[-1, Row.SCORE]))

    def add(self, options: np.ndarray, rows: np.ndarray) -> None:
        """Merge plans ``options`` (M, N) with ``rows`` (M, 1 + Q) in."""
        self.options, self.rows = merged(np.vstack([self.options, options]), np.vstack([self.rows, rows]), self.k)


def _again(first: Solution, second: Solution) -> Solution:
    """One graph's answer from its two solves (``solve_model``): the second's, with the
    better of their proven bounds and the work of both."""
    bound = second.bound if second.status in (Status.OPTIMAL, Status.INFEASIBLE) else max(first.bound, second.bound)
    return second._replace(bound=float(bound), labels_created=first.labels_created + second.labels_created,
                           labels_kept=first.labels_kept + second.labels_kept, seconds=first.seconds + second.seconds)


def _mode_bounds(model: CostModel, fit: Callable[[int], LayeredGraph], coef: np.ndarray, caps: np.ndarray,
                 limit_s: float) -> tuple[np.ndarray, np.ndarray, list[LpBound | None]]:
    """(M,) a lower bound on the best score of each of ``model.mode_graphs``: its LP bound
    (on the graph fitted to ``caps``, ``fit(m)``: ``contract.fitted``)
    (never below its least usage's score), each column generation starting from the
    multipliers of the one before (``contract.lp_bound``'s ``start``), inf without a column
    generation where its least usage already breaks a cap. The least usage alone ordered
    the graphs before: on ways 200x4 seed 1 it put first the GPU mode whose LP bound
    (5.555) lies above the other mode's optimum (5.525), and the solve spent its time limit
    there. Within ``limit_s`` seconds: the graphs' LP bounds in the order of
    their least usage's scores, each within the time left; graphs left when it has run out
    keep their least usage's score (ways DAG 100x4 seed 2: 3.5 s for its two graphs' LP
    bounds, which a 5 s limit did not stop).

    Also (P, N), in the same order: the placement of the path that each graph's LP
    multipliers price cheapest (``contract.lp_bound``), where a repair may start; and (M,)
    each graph's LP (``LpBound``) where it ran within its time, for its search to start
    from (None: not computed, or stopped by the time limit)."""
    started = time.perf_counter()
    bound = _least_scores(model.mode_least_usage, coef, caps)
    priced, lps = [], [None] * len(bound)
    start = None  # the last LP, where the next starts (ways DAG 100x4 seed 2's second: 37 -> 32 passes)
    for m in np.argsort(bound, kind="stable").tolist():
        if bound[m] < np.inf and time.perf_counter() - started < limit_s:
            graph = fit(m)
            lp = lp_bound(graph, coef, caps, _left(limit_s, started), model.graph_uses(graph), start)
            if lp.bound < np.inf:
                start = lp.root
            bound[m] = max(bound[m], lp.bound)
            if time.perf_counter() - started < limit_s:  # (else perhaps short of the LP's optimum)
                lps[m] = lp
            if len(lp.priced_path) and lp.bound < np.inf:
                priced.append((lp.bound, graph.opt_key[lp.priced_path]))
    priced.sort(key=lambda start: start[0])
    return bound, np.array([path for _, path in priced], dtype=np.int64).reshape(-1, model.n_stages), lps


def _left(limit_s: float, started: float) -> float:
    """Seconds left of ``limit_s`` since ``time.perf_counter()`` read ``started`` (at least 1 us)."""
    return limit_s if limit_s == np.inf else max(limit_s - (time.perf_counter() - started), 1e-6)


def _least_scores(least: np.ndarray, coef: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(M,) a lower bound on the best score of each graph whose least usage per dimension
    is ``least`` (M, Q) (``CostModel.least_usage``); inf where a dimension alone breaks its cap."""
    fits = np.isfinite(least).all(axis=1) & np.all(least <= caps, axis=1)
    return np.where(fits, np.where(fits[:, None], least, 0.0) @ coef, np.inf)


def solve_mode_graph(model: CostModel, graph: LayeredGraph, coef: np.ndarray, caps: np.ndarray, k: int, mode: Mode,
                     beam_width: int, label_budget: int, limit_s: float, cutoff: float = np.inf,
                     root: RootLp | None = None) -> Solution:
    """The k best plans of one graph of ``model`` (one of ``CostModel.mode_graphs``, or a
    part of one): wanted only when scoring at most ``cutoff`` on an exact graph
    (``solve_graph``); all of them, evaluated exactly, on a relaxed one (``solve_relaxed``).
    ``root``: the graph's LP within ``caps`` by ``coef`` (``contract.lp_bound``), computed already."""
    if model.relaxed:
        return solve_relaxed(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff, root)
    return solve_graph(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff, root)


#: share of a time limit the searches may take: the rest is the local search's, which a
#: search that runs to the limit would leave no time to polish or repair its answer (ways
#: 200x4 seed 1 under a 5 s limit: 5.67237 without it, 5.66674 with it, in 4.8 s; seed 0
#: 5.48282 either way)
SEARCH_SHARE = 0.9
#: seconds local search may always take to improve an unproven answer (besides twice the solve's time)
POLISH_MIN_S = 0.05
#: seconds the repair from the mode graphs' priced paths may take (``solve_model``: on a
#: DAG before their searches, on a chain once a search stops unproven: a chain's searches
#: dive through the LP where the beams meet no plan, cheap on a chain's graph, not on a
#: DAG's frontier states), and its share of the time a limit leaves then. On generated ways DAG 100x4 seed 1, whose searches meet
#: no plan, it makes one 0.004% above HiGHS's optimum in 2.0 s (a pair step: 64
#: neighbourhoods of 1,560 placements, 29 ms each); 0.02-0.09 s on the other seeds of 60x4
#: and 100x4, whose priced paths single moves repair. A slow repair is one that needed pair
#: moves: the searches after it seldom meet a plan. Under a 10 s limit seed 1's lowering
#: and LP bounds leave about 7 s: a share of 0.25 stopped its pair step short (``unknown``),
#: 0.4 makes the plan (1.7 s of the repair; ways DAG 100x4 seeds 0 and 2 and ways 200x4
#: seeds 0 and 1 under 10 s end as with 0.25).
PRICED_REPAIR_S = 5.0
PRICED_REPAIR_SHARE = 0.4
#: seconds the repair may always take (besides twice the solve's time): a process's first
#: repair loads the unconstrained search (0.3 s on mobile_vision_ways, then 0.5 ms)
REPAIR_MIN_S = 1.0


def _proven(sols: list[Solution], found: int) -> tuple[bool, Status]:
    """Whether several solves together prove their merged answer of ``found`` plans, and
    its status: optimal or infeasible when every solve is proven, else feasible or unknown."""
    proven = all(sol.status in (Status.OPTIMAL, Status.INFEASIBLE) for sol in sols)
    if proven:
        return True, Status.OPTIMAL if found else Status.INFEASIBLE
    return False, Status.FEASIBLE if found else Status.UNKNOWN


def _combined(sols: list[Solution], options: np.ndarray, rows: np.ndarray) -> Solution:
    """One answer from the solves of several mode assignments: proven when every solve is."""
    proven, status = _proven(sols, len(rows))
    if proven:
        bound = rows[0, Row.SCORE] if len(rows) else np.inf
    else:
        bound = min((sol.bound for sol in sols), default=np.inf)
    strategy = max((sol.strategy for sol in sols), default=Strategy.LABELS)
    stop = max((sol.stop for sol in sols), default=Stop.COMPLETE)
    return Solution(status, Strategy(strategy), options, rows, float(bound), Stop(stop),
                    sum(sol.labels_created for sol in sols), sum(sol.labels_kept for sol in sols),
                    sum(sol.seconds for sol in sols))


def solve_graph(model: CostModel, graph: LayeredGraph, coef: np.ndarray, caps: np.ndarray, k: int, mode: Mode,
                beam_width: int, label_budget: int, limit_s: float, cutoff: float = np.inf,
                root: RootLp | None = None) -> Solution:
    """The k best paths of one exact graph of ``model`` (LP dives for poor plans on chains
    only: ``kernels.solve.DIVE_INCUMBENT_GAP``), of those scoring at most ``cutoff``
    (``contract.solve``; ``root``: its LP, computed already)."""
    return solve(graph, coef, caps, k, mode, state_beam_width(model, beam_width), label_budget, limit_s,
                 lp_dives=model.is_chain, cutoff=cutoff, root=root)


def solve_relaxed(model: CostModel, graph: LayeredGraph, coef: np.ndarray, caps: np.ndarray, k: int, mode: Mode,
                  beam_width: int, label_budget: int, limit_s: float, cutoff: float = np.inf,
                  root: RootLp | None = None) -> Solution:
    """The k best plans of a model whose ``graph`` is a relaxation (``model.relaxed``) of
    those scoring at most ``cutoff``: the relaxed graph's best plans, re-evaluated exactly
    and ranked again.

    A placement's relaxed score never exceeds its true one, so once the k best true plans
    among the m asked for score below the m-th relaxed score, no other placement can beat
    them (proven optimal); likewise when the relaxed graph has fewer than m plans scoring
    at most the cutoff. Otherwise m grows (k, then ``RELAXED_FIRST_PLANS``, then fourfold
    up to ``RELAXED_MOST_PLANS``), each round asking only for relaxed plans that score at
    most the k-th best true plan found so far (no other can beat it), and keeping the
    plans found: the answer is then "feasible", with the best bound a round proved.
    """
    started = time.perf_counter()
    m, created, kept = k, 0, 0
    options, rows = np.zeros((0, model.n_stages), dtype=np.int64), np.zeros((0, Row.USE + len(caps)))
    bound = -np.inf  # a proven lower bound on the best true score of a plan within the cutoff
    while True:
        limit = min(cutoff, rows[-1, Row.SCORE]) if len(rows) == k else cutoff
        sol = solve(graph, coef, caps, m, mode, state_beam_width(model, beam_width), label_budget,
                    _left(limit_s, started), lp_dives=model.is_chain, cutoff=limit, root=root)
        created, kept = created + sol.labels_created, kept + sol.labels_kept
        true_rows, over = evaluated(model, coef, caps, sol.options)
        fits = over == 0.0
        options, rows = merged(np.vstack([options, sol.options[fits]]), np.vstack([rows, true_rows[fits]]), k)
        enumerated = sol.status in (Status.OPTIMAL, Status.INFEASIBLE)
        # every relaxed plan within the limit was found, or none unfound scores below the m-th
        complete = enumerated and len(sol.rows) < m
        # unfound relaxed plans (so every unfound placement) score at least min(threshold, limit)
        threshold = np.inf if complete else sol.rows[-1, Row.SCORE] if enumerated else sol.bound
        bound = max(bound, min(threshold, limit))
        proven = enumerated and (complete and (limit == cutoff or len(rows) == k)
                                 or len(rows) == k and rows[-1, Row.SCORE] < threshold)
        if proven or not enumerated or m >= RELAXED_MOST_PLANS or time.perf_counter() - started >= limit_s:
            break
        m = max(4 * m, RELAXED_FIRST_PLANS)
    if proven:
        status = Status.OPTIMAL if len(rows) else Status.INFEASIBLE
        bound = rows[0, Row.SCORE] if len(rows) else np.inf
    else:
        status = Status.FEASIBLE if len(rows) else Status.UNKNOWN
        bound = min(bound, rows[0, Row.SCORE]) if len(rows) else bound
    return Solution(status, Strategy.RELAXED, options, rows, float(bound), sol.stop, created, kept,
                    time.perf_counter() - started)


def solve_throughput(model: CostModel, coef: np.ndarray, k: int, mode: Mode, beam_width: int, label_budget: int,
                     limit_s: float) -> Solution:
    """The k best plans by period (the busiest device's busy time; the model tracks busy
    time), ties ranked by ``coef``'s score: exact solves under busy-time caps walked down.

    Each solve asks for the k best plans by score with every device's busy time below the
    largest period among the previous solve's k plans. When a solve finds fewer than k,
    they are every plan below that level, and the previous solve's plans at the level are
    the best there: together, the k best by (period, score). Proven when every solve is.
    """
    started = time.perf_counter()
    busy = slice(model.dims.busy, model.dims.busy + model.n_devices)  # usage dimensions
    period = lambda rows: rows[:, Row.USE:][:, busy].max(axis=1)
    caps = model.caps_tol.copy()
    sols: list[Solution] = []
    while True:
        sols.append(solve_model(model, coef, k, mode, beam_width, label_budget, _left(limit_s, started), caps))
        sol = sols[-1]
        if len(sol.rows) < k or sol.status != Status.OPTIMAL:
            break
        lowered = np.minimum(caps[busy], np.nextafter(period(sol.rows).max(), -np.inf))
        if not (lowered < caps[busy]).any():  # only a plan above its busy cap leaves them: never walk in place
            raise RuntimeError(f"a solve returned a plan whose period {period(sol.rows).max()!r} exceeds its busy cap")
        caps[busy] = lowered
    options, rows = distinct(np.vstack([s.options for s in sols[-2:]]), np.vstack([s.rows for s in sols[-2:]]))
    order = np.lexsort((rank_order(rows, placement_rank(options)).argsort(), period(rows)))[:k]
    last = sols[-1]
    proven, status = _proven(sols, len(order))
    bound = rows[order[0], Row.SCORE] if proven and len(order) else (np.inf if proven else -np.inf)
    return Solution(status, last.strategy, options[order], rows[order], float(bound), last.stop,
                    sum(s.labels_created for s in sols), sum(s.labels_kept for s in sols),
                    time.perf_counter() - started)


def relative_gap(score: float, bound: float) -> float:
    """(score - bound) / |score|, the proven relative gap of a plan (inf without a bound)."""
    if not np.isfinite(bound):
        return float("inf")
    return max(0.0, score - bound) / max(abs(score), 1e-12)
