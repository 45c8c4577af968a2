"""The boundary between eip's compiler and its kernels: one module owns it.

The compiler lowers every planning problem to a **layered graph**: one step per stage (in a
topological order), a few *options* per step (a device, later a device x precision x power
mode, or for DAGs a frontier state), each with a usage vector over Q dimensions, and
*arcs* joining options of consecutive steps, with usage of their own (transfers). A
placement is one path from step 0 to step N - 1: one option per step, each joined to the
previous one by an arc. The kernels never learn what a dimension or an option means.

Rules written here once:

* usage of a path = sum of its options' and arcs' usage, accumulated step by step (arc
  into step s, then the option of step s), so equal paths get bit-equal totals;
* score = ``coef . usage`` (``score``; the kernels compute it from the totals the same way);
* a path fits when every usage total is within ``caps`` (tolerance already applied);
* paths rank by (score, usage[0], ..., usage[KEY_DIMS - 1], placement), placement
  compared lexicographically by option index (options of a step are listed in the
  caller's preferred order).

A plan *row* is ``[score, usage_0 .. usage_{Q-1}]`` (``Row`` names the slots).
"""

from __future__ import annotations

import os
import time
from enum import IntEnum
from typing import NamedTuple

import numba
import numpy as np

#: usage dimensions 0 .. KEY_DIMS - 1 break score ties, in order, before the placement
KEY_DIMS = 3


class Status(IntEnum):
    """What is proven about a solve's answer."""

    OPTIMAL = 0      # the plans are the proven best
    FEASIBLE = 1     # plans that fit, within a proven bound of the optimum
    INFEASIBLE = 2   # proven: no path fits the caps (and scores at most the cutoff)
    UNKNOWN = 3      # the search stopped before it found a plan


class Strategy(IntEnum):
    """What produced a solve's answer."""

    VITERBI = 0      # the unconstrained k best, proven to fit the caps
    LABELS = 1       # an exact search: labels, or depth first on a short graph (``pulse``)
    BEAM = 2         # a beam of labels (a heuristic)
    RELAXED = 3      # a relaxed graph's best plans, evaluated exactly (``eip.solve``; not a kernel)
    REPAIRED = 4     # local search that met no search's plan made one fit (``eip.solve``; not a kernel)


class Mode(IntEnum):
    """What the caller asks a solve for."""

    AUTO = 0         # exact when proven within the budgets, else the best beam
    EXACT = 1        # never a heuristic's answer without its proven gap
    BEAM = 2         # the beam only


class Stop(IntEnum):
    """Why a search ended."""

    COMPLETE = 0
    LABEL_BUDGET = 1
    TIME_LIMIT = 2


class Row(IntEnum):
    """Slots of a plan row."""

    SCORE = 0
    USE = 1          # usage dimension j sits at USE + j


class Stat(IntEnum):
    """Slots of a solve's statistics vector."""

    CREATED = 0      # labels created
    KEPT = 1         # labels kept
    BOUND = 2        # proven lower bound on the best feasible score (inf: none exists)
    STOP = 3         # the most severe Stop of the searches that ran
    FLOOR_LABELS = 4  # labels kept by the last exact search that ran to completion (0: none yet)
    GUESS_SPAN = 5    # the score step the guesses' labels last grew GUESS_GROWTH-fold over (0: not yet)
    TREE_PROVEN = 6   # 1 once the LP tree proved an answer (a round of constraint generation's), else 0


#: length of a solve's statistics vector
STAT_SLOTS = len(Stat)


class LayeredGraph(NamedTuple):
    """A planning problem as the kernels see it (T options, A arcs, Q usage dimensions).

    Attributes:
        step_start: (N + 1,) int64; the options of step s are ``step_start[s]`` ..
            ``step_start[s + 1] - 1``, in the caller's preferred (tie-break) order.
        opt_use: (T, Q) float64, finite; usage of choosing each option.
        opt_key: (T,) int64; the caller's name for each option (decoded paths carry it).
        arc_start: (T + 1,) int64; arcs into option t are ``arc_start[t]`` ..
            ``arc_start[t + 1] - 1`` (none for options of step 0), by increasing tail.
        arc_tail: (A,) int64; the option of the previous step each arc leaves.
        arc_head: (A,) int64; the option each arc enters (``arc_start`` expanded).
        arc_use: (A, R) float64, finite, R <= Q; usage of taking each arc in the first R
            dimensions (arcs add nothing to the others: the compiler puts the dimensions
            transfers touch first).
    """

    step_start: np.ndarray
    opt_use: np.ndarray
    opt_key: np.ndarray
    arc_start: np.ndarray
    arc_tail: np.ndarray
    arc_head: np.ndarray
    arc_use: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.step_start.shape[0] - 1

    @property
    def n_dims(self) -> int:
        return self.opt_use.shape[1]


class Solution(NamedTuple):
    """A solve's answer, decoded to the caller's option keys.

    Attributes:
        status, strategy: what is proven, what produced it.
        options: (found, N) int64 option key per step of each plan, best first.
        rows: (found, 1 + Q) plan rows (``Row`` slots).
        bound: proven lower bound on the best feasible score (inf if none can exist).
        stop: why the last search ended (``Stop.COMPLETE`` unless a budget stopped it).
        labels_created, labels_kept: work done.
        seconds: time in the kernel call.
    """

    status: Status
    strategy: Strategy
    options: np.ndarray
    rows: np.ndarray
    bound: float
    stop: Stop
    labels_created: int
    labels_kept: int
    seconds: float


def score(coef: np.ndarray, usage: np.ndarray) -> np.ndarray:
    """The score of usage vectors (..., Q) under weights ``coef`` (Q,)."""
    return usage @ coef


def scored_rows(coef: np.ndarray, usage: np.ndarray) -> np.ndarray:
    """Plan rows (M, 1 + Q) of usage vectors (M, Q)."""
    rows = np.empty((usage.shape[0], Row.USE + usage.shape[1]))
    rows[:, Row.USE:] = usage
    rows[:, Row.SCORE] = score(coef, usage)
    return rows


def rank_order(rows: np.ndarray, placement_rank: np.ndarray) -> np.ndarray:
    """Indices that sort plan rows (M, 1 + Q) best first by the ranking rule: score, the key
    usage dimensions, then ``placement_rank`` (M,), the rank of each path's placement in
    lexicographic option order (the kernels' ``row_less`` and ``placement_less``, vectorized)."""
    keys = [placement_rank, *(rows[:, Row.USE + j] for j in reversed(range(KEY_DIMS))), rows[:, Row.SCORE]]
    return np.lexsort(keys)


def placement_rank(options: np.ndarray) -> np.ndarray:
    """(M,) rank of each placement (M, N) (option per step, in each step's option order) in
    lexicographic order: the placement part of the ranking rule."""
    return np.lexsort(options.T[::-1]).argsort()


def kernels_cached() -> bool:
    """False when the first solve of this process will compile the kernels (tens of
    seconds, once per install) rather than load them from Numba's on-disk cache."""
    from .solve import solve_topk

    if solve_topk.signatures:
        return True
    try:
        return os.path.exists(solve_topk._cache._cache_file._index_path)
    except AttributeError:  # another Numba's cache layout: assume the common case
        return True


#: the kernels' scratch memory for bound tables (``solve.scratch_cells``), kept from one solve
#: to the next: a block this large is mapped afresh when allocated, so a new one every solve
#: pays its page faults every time. Solves hold the GIL, so they never share it.
_scratch = np.empty(0)

#: the solve kernels' module once ``solve`` has loaded them (None before; asking the
#: dispatcher for its signatures instead costs ~5 us a call, 5% of a small solve)
_kernels = None


class RootLp(NamedTuple):
    """Column generation's answer on one graph within given caps by given weights
    (``bounds.lagrangian_prices``): a solve of that graph within those caps by those
    weights may start from it (``solve``'s ``root``) rather than compute it again."""

    prices: np.ndarray         # (2, Q) multipliers per unit of each dimension: the first pass's, and the best set
    values: np.ndarray         # (2, T) each option's completion bound under each set
    lam_sums: np.ndarray       # (2,) each set's multipliers summed over the normalised caps
    bound: float               # the dual bound (inf: no path fits)
    row: np.ndarray            # (1 + Q,) the best plan that fits met on the way (score inf: none)
    path: np.ndarray           # (N,) its options


#: no root LP: the solve computes its own
_NO_ROOT = RootLp(np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0), np.inf, np.zeros(0), np.zeros(0, dtype=np.int64))


class LpBound(NamedTuple):
    """``lp_bound``'s answer."""

    bound: float               # a proven lower bound on the best score within the caps (inf: no path fits)
    priced_path: np.ndarray    # (N,) the graph's options on the path its multipliers price cheapest (empty: none)
    root: RootLp               # column generation's answer, where a solve of the same graph may start
    uses: tuple                # the graph's usages as its passes read them (``bounds.by_dimension``): a
    #                            fixing on the same graph reads them too (``within_score``)


#: graphs with fewer arcs are not fitted (``fitted``): their solves take microseconds, the
#: fitting as long (a 7-stage pipeline's plan 22 us, 37 us with its graph fitted)
FIT_MIN_ARCS = 4096
#: rounds of cap fixing (``fitted``), each on the sub-graph the last one kept (generated
#: ways DAG 60x4 seed 0: its first round keeps 7,589 of 130,692 options in 0.082 s, and the
#: 4,504 kept in the end take 0.093 s so, 0.105 s with every round on the whole graph), up
#: to FIT_ROUNDS, and no more once a round drops less than FIT_SETTLED of the arcs it met:
#: each round costs about three LP pricing passes over them, and what such a round drops
#: saves less (ways DAG 100x4 seed 2: rounds 3-6 of its first GPU mode graph dropped 0.9%,
#: 0.02%, 2 and none of 1.05M arcs, 0.07 s each; its cold plan 4.8 -> 4.2 s, and every
#: generated and real benchmark instance keeps its labels)
FIT_ROUNDS = 16
FIT_SETTLED = 0.02


def fitted(graph: LayeredGraph, caps: np.ndarray) -> LayeredGraph:
    """``graph`` without the options and arcs through which every path breaks ``caps`` (Q,)
    (cap fixing, ``fixing.fitting_parts``), in the same order with the same keys: the same
    paths within the caps, so ``lp_bound`` and ``solve`` within those caps (or tighter ones)
    may run on it instead, with tighter bounds. ``graph`` itself when nothing drops, and
    below FIT_MIN_ARCS arcs; when no path is left, its options without any arc (the
    kernels take a graph whose steps have options, and find no path)."""
    from .fixing import fitting_parts, subgraph

    if graph.arc_tail.shape[0] < FIT_MIN_ARCS:
        return graph
    fit = graph
    for _ in range(FIT_ROUNDS):
        keep_opt, keep_arc, settled = fitting_parts(*fit, caps, 1)
        if settled:
            break
        arcs = fit.arc_tail.shape[0]
        fit, _, has_path = subgraph(fit, keep_opt, keep_arc)
        if not has_path:
            return _without_arcs(graph)
        if arcs - fit.arc_tail.shape[0] < FIT_SETTLED * arcs:
            break
    return fit


def within_score(graph: LayeredGraph, coef: np.ndarray, lp: LpBound, limit: float) -> LayeredGraph:
    """``graph`` without the options and arcs through which no path within the caps of
    ``lp`` (``lp_bound(graph, coef, caps)``) scores at most ``limit``, by reduced-cost
    fixing with its multipliers (``fixing.fixed_by_bounds``, on the usages its passes read:
    making them again took 60 of the 83 ms of a fixing on generated ways DAG 100x4 seed
    2's mode graphs, 1.04M arcs): a solve that wants only such plans (a ``cutoff``) may
    run on it, with bounds recomputed over far fewer paths. Same order and keys; options
    without any arc when no path is left."""
    from .fixing import fixed_by_bounds, subgraph

    root = lp.root
    keep_opt, keep_arc = fixed_by_bounds(graph, lp.uses, coef, root.prices, root.values, root.lam_sums, limit)
    sub, _, has_path = subgraph(graph, keep_opt, keep_arc)
    return sub if has_path else _without_arcs(graph)


def _without_arcs(graph: LayeredGraph) -> LayeredGraph:
    """``graph``'s options with no arc: a graph without any path of more than one step."""
    no_arc = np.zeros(0, dtype=np.int64)
    return graph._replace(arc_start=np.zeros_like(graph.arc_start), arc_tail=no_arc, arc_head=no_arc,
                          arc_use=np.zeros((0, graph.arc_use.shape[1])))


def lp_bound(graph: LayeredGraph, coef: np.ndarray, caps: np.ndarray, time_limit_s: float = np.inf,
             uses: tuple | None = None, start: RootLp | None = None) -> LpBound:
    """A proven lower bound on the best score of a path of ``graph`` within ``caps`` (Q,) by
    ``coef`` (Q,): the LP relaxation's, by column generation (``bounds.lagrangian_prices``,
    the bound every solve starts from), or the best bound it reached within
    ``time_limit_s``; inf when no path fits. A few ms on the generated ways chains of
    60-200 stages, 0.9-1.7 s on a ways DAG's frontier-state graph (60-100 stages x 4
    devices, 113,000-164,000 options, on this 2-core machine).

    Also the path that the bound's multipliers price cheapest (score plus priced usage):
    a Lagrangian plan, which may break the caps by a little, where local search starts a
    repair (``eip.localsearch.repaired``). ``uses``: ``bounds.by_dimension(graph)`` where the
    caller keeps it (``CostModel.graph_uses``), made here otherwise. ``start``: the LP
    (``LpBound.root``) of another graph over the same dimensions within the same caps by
    the same weights, whose best multipliers the column generation starts from (a
    model's mode graphs: ``bounds.lagrangian_prices``)."""
    from .bounds import by_dimension, dual_pass, lagrangian_prices
    from .solve import DUAL_ITERATIONS

    # (the kernels' clock is time.perf_counter)
    deadline = time.perf_counter() + time_limit_s if time_limit_s < np.inf else np.inf
    if uses is None:  # (35-47 ms on a ways DAG 100x4 mode graph: made once, kept for its fixing)
        uses = by_dimension(graph)
    first = np.zeros_like(caps) if start is None else _multipliers(start.prices[1], caps)
    root = RootLp(*lagrangian_prices(graph, uses, coef, caps, DUAL_ITERATIONS, deadline, first))
    lam = _multipliers(root.prices[1], caps)  # the best multipliers' pass once more, for its path
    t_count, n = graph.opt_use.shape[0], graph.n_steps
    path = np.zeros(n, dtype=np.int64)
    cheapest = dual_pass(graph, uses, coef, caps, lam, np.ones(t_count, dtype=np.bool_),
                         np.zeros_like(lam), np.empty(t_count), np.empty(graph.arc_tail.shape[0]), np.empty(t_count),
                         np.empty(t_count, dtype=np.int64), path, np.zeros(n, dtype=np.int64),
                         np.empty(Row.USE + len(caps)))
    return LpBound(float(root.bound), path if cheapest < np.inf else path[:0], root, uses)


def _multipliers(prices: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(Q,) the multipliers on the normalised usages of ``prices`` (Q,) per unit of each of
    ``caps`` (Q,): only capped dimensions carry a price."""
    lam = np.zeros_like(caps)
    priced = prices > 0.0
    lam[priced] = prices[priced] * caps[priced]
    return lam


def solve(graph: LayeredGraph, coef: np.ndarray, caps: np.ndarray, k: int, mode: Mode, beam_width: int,
          label_budget: int, time_limit_s: float = np.inf, lp_dives: bool = True, cutoff: float = np.inf,
          root: RootLp | None = None) -> Solution:
    """The k best paths of ``graph`` within ``caps`` (Q,) by ``coef`` (Q,): the one call
    every planning question (plan, frontier, sweep, sensitivity, diagnosis) goes through.

    ``time_limit_s`` bounds the solve's wall time (the kernels check the clock as they go):
    past it the best plans found come back with their proven bound, or none with
    ``Status.UNKNOWN``. ``lp_dives`` lets a poor top plan get an LP dive
    (``solve.DIVE_INCUMBENT_GAP``) and a plan where no beam meets one; without them
    neither runs (``solve.NO_PLAN_DIVES``).
    ``cutoff``: only plans scoring at most this are wanted (the caller holds k plans that
    good, e.g. from another graph): the answer is the k best of those, ``Status.INFEASIBLE``
    (or ``UNKNOWN``, unproven) when there are none.
    ``root``: ``lp_bound(graph, coef, caps).root``, computed already (a DAG's frontier-state
    graph takes about a second), where the solve starts instead of its own column generation.
    ``Solution.seconds`` times the solve alone: the first call of a
    process loads (or compiles) the kernels before its clock starts.
    """
    # the kernel takes the graph's arrays and plain codes: a NamedTuple or IntEnum argument
    # costs 20-25 us to dispatch
    args = (*graph, coef, caps, int(k), int(mode), int(beam_width), int(label_budget),
            *(_NO_ROOT if root is None else root))
    global _kernels, _scratch
    kernel = _kernels
    if kernel is None:  # the first solve of a process: load the kernels first
        from . import solve as kernel  # the jitted kernels import this module's vocabulary

        kernel.solve_topk.compile(tuple(numba.typeof(a) for a in (*args, 0.0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, True,
                                                                  _scratch)))
        kernel.clock()  # the first read of the kernels' clock sets up its callback into Python (~50 ms)
        _kernels = kernel
    started = time.perf_counter()
    deadline = started + time_limit_s if time_limit_s < np.inf else np.inf
    dive_gap = kernel.DIVE_INCUMBENT_GAP if lp_dives else np.inf
    cells = kernel.scratch_cells(*graph.opt_use.shape)
    if _scratch.shape[0] < cells:
        _scratch = np.empty(cells)
    status, strategy, paths, rows, found, stats = kernel.solve_topk(*args, deadline, kernel.PULSE_STEPS,
                                                                    kernel.PULSE_ARCS, kernel.PULSE_FREE_NODES,
                                                                    kernel.PULSE_NODES, kernel.QUICK_LABELS,
                                                                    kernel.TREE_WORK, dive_gap, float(cutoff),
                                                                    bool(kernel.LAZY_CAPS), _scratch)
    seconds = time.perf_counter() - started
    if cutoff < np.inf:  # the fast paths may also meet plans above it: drop them
        within = int(kernel.count_within(rows, found, cutoff))
        if within == 0 and found > 0:
            status = Status.INFEASIBLE if status == Status.OPTIMAL else Status.UNKNOWN
        found = within
    return Solution(Status(status), Strategy(strategy), graph.opt_key[paths[:found]], rows[:found],
                    float(stats[Stat.BOUND]), Stop(int(stats[Stat.STOP])), int(stats[Stat.CREATED]),
                    int(stats[Stat.KEPT]), seconds)
