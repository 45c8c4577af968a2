"""The solve pipeline in one jitted call: fast path, bounds, beam incumbent, exact search.

One dispatch from Python per solve keeps the per-call overhead in microseconds. Call it
through ``contract.solve``, which decodes the answer.
"""

import numpy as np
from numba import njit

from .bounds import CERTIFICATE_MARGIN, cap_tests, completion_usage, infeasibility_certificate, lagrangian_prices, resource_tables
from .contract import STAT_SLOTS, Mode, Row, Stat, Status, Stop, Strategy
from .labels import label_search
from .paths import within_caps
from .viterbi import kbest_paths

LAGRANGE_ITERATIONS = 60
CERTIFICATE_ITERATIONS = 200
# Grid of the per-dimension exact bound tables: rounding loses at most one grid step per
# step of the graph, so the grid grows with the step count, within a budget of cells
# (grid points x options x capped dimensions).
# Short pipelines solve fast on the Lagrangian bounds alone: no tables below TABLE_MIN_STEPS.
TABLE_MIN_STEPS = 16
TABLE_GRID_PER_STEP = 16
TABLE_GRID_MIN = 32
TABLE_GRID_MAX = 1024
TABLE_CELLS = 4_000_000
AUTO_BEAM_WIDENING = 8


@njit(cache=True)
def _table_grid(n, t_count, caps):
    """Grid size of the per-dimension bound tables (0: none)."""
    if n < TABLE_MIN_STEPS:
        return 0
    n_capped = 0
    for j in range(caps.shape[0]):
        if 0.0 < caps[j] < np.inf:
            n_capped += 1
    grid = min(TABLE_GRID_PER_STEP * n, TABLE_GRID_MAX, TABLE_CELLS // max(1, t_count * n_capped))
    return max(grid, TABLE_GRID_MIN)


@njit(cache=True)
def solve_topk(g, coef, caps, k, mode, beam_width, label_budget, deadline):
    """The k best paths of ``g`` within ``caps``, with a proof of optimality or a proven bound.

    ``mode`` is a ``Mode``; ``deadline`` a ``clock`` time (inf: none). Returns ``(status,
    strategy, paths (k, N), rows (k, 1 + Q), found, stats (STAT_SLOTS,))`` (``Stat`` slots).
    """
    n = g.step_start.shape[0] - 1
    stats = np.zeros(STAT_SLOTS)
    paths, rows, found = kbest_paths(g, coef, k)
    if found == 0:
        stats[Stat.BOUND] = np.inf
        return Status.INFEASIBLE, Strategy.VITERBI, paths, rows, 0, stats
    fast = True
    for r in range(found):
        if not within_caps(rows[r], caps):
            fast = False
            break
    if fast:
        stats[Stat.BOUND] = rows[0, Row.SCORE]
        return Status.OPTIMAL, Strategy.VITERBI, paths, rows, found, stats

    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, n)
    prices, values, lam_sums, dual, relaxed_incumbent = lagrangian_prices(g, coef, caps, LAGRANGE_ITERATIONS)
    if dual == np.inf:
        stats[Stat.BOUND] = np.inf
        return Status.INFEASIBLE, Strategy.VITERBI, paths, rows, 0, stats
    table, dims, units = resource_tables(g, coef, caps, prices[1], _table_grid(n, g.opt_use.shape[0], caps))

    def search(width, incumbent):
        stop, s_paths, s_rows, s_found, created, kept, bound = label_search(
            g, coef, caps, least, thr, prices, values, lam_sums, table, dims, units,
            k, width, incumbent, label_budget, deadline)
        stats[Stat.CREATED] += created
        stats[Stat.KEPT] += kept
        if stop.value > stats[Stat.STOP]:  # any search a budget stopped says so
            stats[Stat.STOP] = stop.value
        return stop, s_paths, s_rows, s_found, bound

    _, b_paths, b_rows, b_found, _ = search(beam_width, np.inf)
    if b_found == 0 and relaxed_incumbent == np.inf:
        # no plan met yet: try to prove there is none before any long search
        if infeasibility_certificate(g, caps, CERTIFICATE_ITERATIONS) > 1.0 + CERTIFICATE_MARGIN:
            stats[Stat.BOUND] = np.inf
            return Status.INFEASIBLE, Strategy.LABELS, paths, rows, 0, stats
    if mode == Mode.BEAM:
        return _heuristic(b_paths, b_rows, b_found, k, dual, stats, Strategy.BEAM)

    incumbent = b_rows[k - 1, Row.SCORE] if b_found == k else np.inf
    if k == 1:
        incumbent = min(incumbent, relaxed_incumbent)
    stop, e_paths, e_rows, e_found, bound = search(0, incumbent)
    if stop == Stop.COMPLETE:
        stats[Stat.BOUND] = e_rows[0, Row.SCORE] if e_found > 0 else np.inf
        return (Status.OPTIMAL if e_found > 0 else Status.INFEASIBLE), Strategy.LABELS, e_paths, e_rows, e_found, stats
    proven = max(dual, min(bound, b_rows[0, Row.SCORE] if b_found > 0 else np.inf))
    if mode == Mode.EXACT or stop == Stop.TIME_LIMIT:
        return _heuristic(b_paths, b_rows, b_found, k, proven, stats, Strategy.LABELS)

    stop, w_paths, w_rows, w_found, _ = search(beam_width * AUTO_BEAM_WIDENING, np.inf)
    if w_found > 0 and (b_found == 0 or w_rows[0, Row.SCORE] < b_rows[0, Row.SCORE]):
        return _heuristic(w_paths, w_rows, w_found, k, proven, stats, Strategy.BEAM)
    return _heuristic(b_paths, b_rows, b_found, k, proven, stats, Strategy.BEAM)


@njit(cache=True)
def _heuristic(paths, rows, found, k, bound, stats, strategy):
    """Package plans that no exact search certified: feasible, or optimal if the bound meets them."""
    stats[Stat.BOUND] = bound
    if found == 0:
        return Status.UNKNOWN, strategy, paths, rows, 0, stats
    best = rows[0, Row.SCORE]
    if k == 1 and best - bound <= 1e-9 * max(1.0, abs(best)):
        return Status.OPTIMAL, strategy, paths, rows, found, stats
    return Status.FEASIBLE, strategy, paths, rows, found, stats
