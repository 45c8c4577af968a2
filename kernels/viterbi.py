"""k-best Viterbi: the k best paths of a layered graph when no cap is imposed.

When the unconstrained k best all fit the caps, they are the constrained k best too, so
this O(A * k) pass answers most scenarios without any label search.
"""

import numpy as np
from numba import njit

from .bounds import rounding_slack
from .contract import KEY_DIMS, Row
from .paths import path_row, row_score


@njit(cache=True)
def _before(key, origin, lex, x, rx, y, ry):
    """Does prefix (x, rx) rank before (y, ry) (options of one step)? Keys, then placement.

    ``key`` (T, k + 1, 1 + Q) holds the row of each kept prefix ending at option t,
    ``origin`` (T, k + 1, 2) its back-pointer (option, rank) at the previous step, and
    ``lex`` (T, k + 1) the placement order of the previous step's prefixes: a placement
    ranks by its prefix first, then by its last option, so ties cost O(1), not a walk back
    (which made identical costs quadratic in the stages).
    """
    for c in range(Row.USE + KEY_DIMS):
        if key[x, rx, c] != key[y, ry, c]:
            return key[x, rx, c] < key[y, ry, c]
    px, py = origin[x, rx, 0], origin[y, ry, 0]
    if px >= 0:
        lx, ly = lex[px, origin[x, rx, 1]], lex[py, origin[y, ry, 1]]
        if lx != ly:
            return lx < ly
    return x < y


@njit(cache=True)
def _insert(key, origin, lex, count, b, k, slack):
    """Bubble the candidate built in scratch slot k of option b into its ranked place.
    Returns whether a prefix it leaves out (the candidate, or the k-th it pushes out) might
    rank before the new k-th once a suffix is added (``_near_tie``, ``slack`` (1 + KEY_DIMS,))."""
    pos = count[b]
    if pos == k and not _before(key, origin, lex, b, k, b, k - 1):
        return _near_tie(key, b, k, k - 1, slack)
    lost = False
    if pos == k:
        # the k-th is pushed out: the new k-th is the candidate or the (k-1)-th, whichever ranks after
        newest = k - 2 if k >= 2 and _before(key, origin, lex, b, k, b, k - 2) else k
        lost = _near_tie(key, b, k - 1, newest, slack)
        pos = k - 1
    key[b, pos] = key[b, k]
    origin[b, pos] = origin[b, k]
    while pos > 0 and _before(key, origin, lex, b, pos, b, pos - 1):
        for c in range(key.shape[2]):
            key[b, pos, c], key[b, pos - 1, c] = key[b, pos - 1, c], key[b, pos, c]
        for c in range(2):
            origin[b, pos, c], origin[b, pos - 1, c] = origin[b, pos - 1, c], origin[b, pos, c]
        pos -= 1
    if count[b] < k:
        count[b] += 1
    return lost


@njit(cache=True)
def _near_tie(key, b, lost, kept, slack):
    """Whether the prefix in slot ``lost`` of option b, ranked after the one in slot ``kept``,
    might rank before it once the same suffix is added to both: sums that differ by at most
    their rounding ``slack`` (1 + KEY_DIMS,) (the score's, then each key dimension's) may
    round equal, and then a later key (or the placement) decides. Rounding is monotone, so
    a level the kept prefix wins by more than its slack decides for good."""
    uncertain = False
    for i in range(1 + KEY_DIMS):
        c = Row.SCORE if i == 0 else Row.USE + i - 1
        gap = key[b, lost, c] - key[b, kept, c]
        if gap > slack[i]:
            return False
        if gap > 0.0:
            uncertain = True
        elif gap < 0.0:
            return uncertain
    return uncertain


@njit(cache=True)
def _rank_step(origin, lex, count, first, stop):
    """``lex`` of the prefixes kept at the options ``first .. stop - 1`` of one step: their
    placement order, by their parent's order, then their own option."""
    m = 0
    for b in range(first, stop):
        m += count[b]
    order_key = np.empty(m, dtype=np.int64)
    where = np.empty((m, 2), dtype=np.int64)
    i = 0
    width = stop - first
    for b in range(first, stop):
        for r in range(count[b]):
            parent = origin[b, r, 0]
            before = lex[parent, origin[b, r, 1]] if parent >= 0 else 0
            order_key[i] = before * width + (b - first)
            where[i, 0], where[i, 1] = b, r
            i += 1
    order = np.argsort(order_key, kind="mergesort")
    for rank in range(m):
        lex[where[order[rank], 0], where[order[rank], 1]] = rank


@njit(cache=True)
def kbest_paths(g, coef, k):
    """The k best paths of ``g`` by (score, key usage, placement), caps ignored.

    Returns ``(paths (k, N) int64, rows (k, 1 + Q), found, exact)``: option index per step
    of each plan, its plan row, how many plans exist (< k when the graph has fewer paths),
    and whether they are proven the k best: False where a prefix left out at an option lay
    within rounding of a kept one and ahead of it on a later key (``_near_tie``), so that
    once a suffix rounds their sums equal it might rank first (a score of 0.625 and one of
    0.6249999999999999 both become 1.625 plus 1.0).
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    key = np.full((t_count, k + 1, Row.USE + q), np.inf)
    origin = np.full((t_count, k + 1, 2), -1, dtype=np.int64)
    lex = np.zeros((t_count, k + 1), dtype=np.int64)
    count = np.zeros(t_count, dtype=np.int64)
    slack = _rounding_slacks(g, coef)
    exact = True
    for b in range(g.step_start[0], g.step_start[1]):
        key[b, 0, Row.USE:] = g.opt_use[b]
        row_score(coef, key[b, 0])
        count[b] = 1
    _rank_step(origin, lex, count, g.step_start[0], g.step_start[1])
    for s in range(1, n):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                a = g.arc_tail[e]
                for r in range(count[a]):
                    # slot k is scratch: build the candidate there, then bubble it into place
                    for j in range(g.arc_use.shape[1]):
                        key[b, k, Row.USE + j] = key[a, r, Row.USE + j] + g.arc_use[e, j] + g.opt_use[b, j]
                    for j in range(g.arc_use.shape[1], q):
                        key[b, k, Row.USE + j] = key[a, r, Row.USE + j] + g.opt_use[b, j]
                    row_score(coef, key[b, k])
                    origin[b, k, 0] = a
                    origin[b, k, 1] = r
                    if _insert(key, origin, lex, count, b, k, slack):
                        exact = False
        _rank_step(origin, lex, count, g.step_start[s], g.step_start[s + 1])
    # merge the per-option lists of the last step
    first, stop = g.step_start[n - 1], g.step_start[n]
    heads = np.zeros(t_count, dtype=np.int64)
    paths = np.zeros((k, n), dtype=np.int64)
    rows = np.zeros((k, Row.USE + q))
    found = 0
    while found < k:
        pick = np.int64(-1)  # typed: a literal -1 reaching _before would compile it again
        for b in range(first, stop):
            if heads[b] < count[b] and (pick < 0 or _before(key, origin, lex, b, heads[b], pick, heads[pick])):
                pick = b
        if pick < 0:
            break
        x, r = pick, heads[pick]
        heads[pick] += 1
        for s in range(n - 1, -1, -1):
            paths[found, s] = x
            x, r = origin[x, r, 0], origin[x, r, 1]
        path_row(g, coef, paths[found], rows[found])
        found += 1
    return paths, rows, found, exact


@njit(cache=True)
def _rounding_slacks(g, coef):
    """(1 + KEY_DIMS,) how far the score and each key usage of two prefixes of ``g`` may lie
    apart and still round equal once a suffix is added (``bounds.rounding_slack`` of the
    most any path can sum, each step's largest option and arc usage)."""
    n = g.step_start.shape[0] - 1
    q, qa = g.opt_use.shape[1], g.arc_use.shape[1]
    dims = np.array([j for j in range(q) if j < KEY_DIMS or coef[j] != 0.0])  # (those the slacks read)
    most, step = np.zeros(q), np.zeros(q)
    for s in range(n):
        step[:] = 0.0
        for b in range(g.step_start[s], g.step_start[s + 1]):
            for j in dims:
                step[j] = max(step[j], abs(g.opt_use[b, j]))
                if j < qa:
                    for e in range(g.arc_start[b], g.arc_start[b + 1]):
                        step[j] = max(step[j], abs(g.opt_use[b, j]) + abs(g.arc_use[e, j]))
        most += step
    slack = np.empty(1 + KEY_DIMS)
    slack[0] = rounding_slack(np.sum(np.abs(coef) * most), n)
    for i in range(KEY_DIMS):
        slack[1 + i] = rounding_slack(most[i], n)
    return slack
