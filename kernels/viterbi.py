"""k-best Viterbi: the k best paths of a layered graph when no cap is imposed.

When the unconstrained k best all fit the caps, they are the constrained k best too, so
this O(A * k) pass answers most scenarios without any label search.
"""

import numpy as np
from numba import njit

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
def _insert(key, origin, lex, count, b, k):
    """Bubble the candidate built in scratch slot k of option b into its ranked place."""
    pos = count[b]
    if pos == k and not _before(key, origin, lex, b, k, b, k - 1):
        return
    if pos == k:
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

    Returns ``(paths (k, N) int64, rows (k, 1 + Q), found)``: option index per step of each
    plan, its plan row, and how many plans exist (< k when the graph has fewer paths).
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    key = np.full((t_count, k + 1, Row.USE + q), np.inf)
    origin = np.full((t_count, k + 1, 2), -1, dtype=np.int64)
    lex = np.zeros((t_count, k + 1), dtype=np.int64)
    count = np.zeros(t_count, dtype=np.int64)
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
                    _insert(key, origin, lex, count, b, k)
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
    return paths, rows, found
