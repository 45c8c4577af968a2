"""The solve pipeline in one jitted call: fast path, bounds, beam incumbent, exact search.

One dispatch from Python per ``eip.plan`` keeps the per-call overhead in microseconds.
"""

import numpy as np
from numba import njit

from .bounds import cap_tests, completion_usage, lagrangian_prices, resource_tables
from .labels import COMPLETE, label_search
from .paths import within_caps
from .viterbi import kbest_paths

# modes (what the caller asked for)
AUTO = 0
EXACT = 1
BEAM = 2

# strategies (what produced the answer)
VITERBI = 0
LABELS = 1
BEAM_SEARCH = 2

# statuses
OPTIMAL = 0
FEASIBLE = 1
INFEASIBLE = 2
UNKNOWN = 3

LAGRANGE_ITERATIONS = 60
# Grid of the per-dimension exact bound tables: rounding loses at most one grid step per
# stage, so the grid grows with the stage count, within a budget of cells
# (grid points x stages x options x capped dimensions).
# Short pipelines solve fast on the Lagrangian bounds alone: no tables below TABLE_MIN_STAGES.
TABLE_MIN_STAGES = 16
TABLE_GRID_PER_STAGE = 16
TABLE_GRID_MIN = 32
TABLE_GRID_MAX = 1024
TABLE_CELLS = 4_000_000
AUTO_BEAM_WIDENING = 8


@njit(cache=True)
def solve_topk(step_use, trans_use, switch, coef, caps, k, mode, beam_width, label_budget):
    """The k best feasible placements, with a proof of optimality or a proven bound.

    Returns ``(status, strategy, paths (k, N), rows (k, 2+Q), found, stats (3,))`` where
    ``stats`` = [labels created, labels kept, proven lower bound on the best score].
    Status and strategy codes are the module constants.
    """
    n, o, q = step_use.shape
    stats = np.zeros(3)
    paths, rows, found = kbest_paths(step_use, trans_use, switch, coef, k)
    if found == 0:
        stats[2] = np.inf
        return INFEASIBLE, VITERBI, paths, rows, 0, stats
    fast = True
    for r in range(found):
        if not within_caps(rows[r], caps):
            fast = False
            break
    if fast:
        stats[2] = rows[0, 0]
        return OPTIMAL, VITERBI, paths, rows, found, stats

    least, thr = cap_tests(caps, *completion_usage(step_use, trans_use))
    prices, values, lam_sums, dual, relaxed_incumbent = lagrangian_prices(
        step_use, trans_use, switch, coef, caps, LAGRANGE_ITERATIONS)
    if dual == np.inf:
        stats[2] = np.inf
        return INFEASIBLE, VITERBI, paths, rows, 0, stats
    grid = 0
    if n >= TABLE_MIN_STAGES:
        n_capped = 0
        for j in range(q):
            if 0.0 < caps[j] < np.inf:
                n_capped += 1
        grid = min(TABLE_GRID_PER_STAGE * n, TABLE_GRID_MAX, TABLE_CELLS // max(1, n * o * n_capped))
        grid = max(grid, TABLE_GRID_MIN)
    table, dims, units = resource_tables(step_use, trans_use, switch, coef, caps, prices[1], grid)

    _, b_paths, b_rows, b_found, created, kept, _ = label_search(
        step_use, trans_use, switch, coef, caps, least, thr, prices, values, lam_sums, table, dims, units,
        k, beam_width, np.inf, label_budget)
    stats[0] += created
    stats[1] += kept
    stats[2] = dual
    if mode == BEAM:
        return _heuristic(b_paths, b_rows, b_found, k, dual, stats, BEAM_SEARCH)

    incumbent = b_rows[k - 1, 0] if b_found == k else np.inf
    if k == 1:
        incumbent = min(incumbent, relaxed_incumbent)
    status, e_paths, e_rows, e_found, created, kept, bound = label_search(
        step_use, trans_use, switch, coef, caps, least, thr, prices, values, lam_sums, table, dims, units,
        k, 0, incumbent, label_budget)
    stats[0] += created
    stats[1] += kept
    if status == COMPLETE:
        stats[2] = e_rows[0, 0] if e_found > 0 else np.inf
        return (OPTIMAL if e_found > 0 else INFEASIBLE), LABELS, e_paths, e_rows, e_found, stats
    stats[2] = max(dual, min(bound, b_rows[0, 0] if b_found > 0 else np.inf))
    if mode == EXACT:
        return _heuristic(b_paths, b_rows, b_found, k, stats[2], stats, LABELS)

    _, w_paths, w_rows, w_found, created, kept, _ = label_search(
        step_use, trans_use, switch, coef, caps, least, thr, prices, values, lam_sums, table, dims, units,
        k, beam_width * AUTO_BEAM_WIDENING, np.inf, label_budget)
    stats[0] += created
    stats[1] += kept
    if w_found > 0 and (b_found == 0 or w_rows[0, 0] < b_rows[0, 0]):
        return _heuristic(w_paths, w_rows, w_found, k, stats[2], stats, BEAM_SEARCH)
    return _heuristic(b_paths, b_rows, b_found, k, stats[2], stats, BEAM_SEARCH)


@njit(cache=True)
def _heuristic(paths, rows, found, k, bound, stats, strategy):
    """Package plans that no exact search certified: feasible, or optimal if the bound meets them."""
    stats[2] = bound
    if found == 0:
        return UNKNOWN, strategy, paths, rows, 0, stats
    best = rows[0, 0]
    if k == 1 and best - bound <= 1e-9 * max(1.0, abs(best)):
        return OPTIMAL, strategy, paths, rows, found, stats
    return FEASIBLE, strategy, paths, rows, found, stats
