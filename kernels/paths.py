"""Small helpers over paths of a layered graph (one option per step) shared by the kernels."""

import time

import numpy as np
from numba import njit, objmode

from .contract import KEY_DIMS, Row

#: how often (in labels created or buckets built) a search looks at the clock (~0.6 us a look)
CLOCK_EVERY = 4096

# Helpers called per label or per Lagrangian pass are inlined into their callers
# (inline="always"): a call that passes arrays (the graph is a tuple of them) pays two
# atomic reference counts per array, which costs more than a small helper's work.


@njit(cache=True)
def clock():
    """``time.perf_counter()`` from inside a kernel."""
    with objmode(now="float64"):
        now = time.perf_counter()
    return now


@njit(cache=True, inline="always")
def arc_between(g, tail, head):
    """Index of the arc from option ``tail`` into option ``head``, or -1 if there is none."""
    lo, hi = g.arc_start[head], g.arc_start[head + 1]
    while lo < hi:  # arcs into a head are sorted by tail
        mid = (lo + hi) // 2
        if g.arc_tail[mid] < tail:
            lo = mid + 1
        else:
            hi = mid
    if lo < g.arc_start[head + 1] and g.arc_tail[lo] == tail:
        return lo
    return -1


# a score within this share (relative, at least 1 absolute) of a limit counts as at most it:
# totals summed in another order differ in the last bits
LIMIT_SLACK = 1e-9


@njit(cache=True)
def score_limit(limit):
    """The largest score that counts as at most ``limit`` (inf for inf)."""
    if limit == np.inf:
        return limit
    return limit + LIMIT_SLACK * max(1.0, abs(limit))


@njit(cache=True)
def count_within(rows, found, limit):
    """How many of the ``found`` plans ``rows`` (k, 1 + Q), ranked, score at most ``limit``
    (``score_limit``)."""
    return np.searchsorted(rows[:found, Row.SCORE], score_limit(limit), side="right")


@njit(cache=True, inline="always")
def row_score(coef, row):
    """Fill ``row[Row.SCORE]`` from the usage slots: the score rule, in one order everywhere."""
    s = 0.0
    for j in range(coef.shape[0]):
        s += coef[j] * row[Row.USE + j]
    row[Row.SCORE] = s


@njit(cache=True)
def path_row(g, coef, path, row):
    """Fill ``row`` (1 + Q,) with the plan row of ``path`` (N,) option indices.

    Returns False if the path is not a path of ``g``.
    """
    arcs = np.full(path.shape[0], -1, dtype=np.int64)
    for s in range(path.shape[0]):
        if path[s] < g.step_start[s] or path[s] >= g.step_start[s + 1]:
            return False
        if s > 0:
            arcs[s] = arc_between(g, path[s - 1], path[s])
            if arcs[s] < 0:
                return False
    arcs_row(g, coef, path, arcs, row)
    return True


@njit(cache=True)
def arcs_row(g, coef, path, arcs, row):
    """Fill ``row`` (1 + Q,) with the plan row of ``path`` (N,) whose arcs are ``arcs``
    (N,; ``arcs[s]`` enters ``path[s]``, ``arcs[0]`` unused).

    Totals accumulate step by step (arc in, then option), the order every kernel uses, so
    equal paths get bit-equal totals.
    """
    q = g.opt_use.shape[1]
    row[:] = 0.0
    for s in range(path.shape[0]):
        if s > 0:
            for j in range(g.arc_use.shape[1]):
                row[Row.USE + j] += g.arc_use[arcs[s], j]
        for j in range(q):
            row[Row.USE + j] += g.opt_use[path[s], j]
    row_score(coef, row)


@njit(cache=True, inline="always")
def capped(cap):
    """Whether a dimension with this cap binds at all: a cap in (0, inf) (a cap of 0 is met
    only by zero usage, which the least-usage tests enforce; inf is no cap)."""
    return 0.0 < cap < np.inf


@njit(cache=True, inline="always")
def within_caps(row, caps):
    """True when every usage of a plan row (1 + Q,) is within ``caps`` (Q,)."""
    for j in range(caps.shape[0]):
        if row[Row.USE + j] > caps[j]:
            return False
    return True


@njit(cache=True)
def placement_less(parent, option, x, y):
    """Is the placement ending at label ``x`` lexicographically before the one ending at ``y``?

    ``parent`` (L,) and ``option`` (L,) are label back-pointers; ``x`` and ``y`` sit at the
    same step. Walks both chains back until they merge; the earliest differing step decides.
    """
    less = False
    while x != y and x >= 0:
        if option[x] != option[y]:
            less = option[x] < option[y]
        x = parent[x]
        y = parent[y]
    return less


@njit(cache=True, inline="always")
def row_less(fa, fb):
    """Ranking key order on plan rows: score, then the key usage dimensions (no placement)."""
    if fa[Row.SCORE] != fb[Row.SCORE]:
        return fa[Row.SCORE] < fb[Row.SCORE]
    for j in range(Row.USE, Row.USE + KEY_DIMS):
        if fa[j] != fb[j]:
            return fa[j] < fb[j]
    return False


@njit(cache=True)
def plan_less(row_a, path_a, row_b, path_b):
    """The whole ranking rule on two plans, rows (1 + Q,) and paths (N,) of option indices
    of one graph: ``row_less``, then the placement in lexicographic option order."""
    if row_less(row_a, row_b):
        return True
    if row_less(row_b, row_a):
        return False
    for s in range(path_a.shape[0]):
        if path_a[s] != path_b[s]:
            return path_a[s] < path_b[s]
    return False


@njit(cache=True)
def kept_ranked(row, path, rows, paths, found):
    """Insert the plan (``row`` (1 + Q,), ``path`` (N,)) into the ranked k best ``rows``
    (k, 1 + Q) / ``paths`` (k, N), of which ``found`` are filled (``plan_less``), unless k
    that rank before it are there. Returns how many are filled."""
    k = rows.shape[0]
    if found == k and not plan_less(row, path, rows[k - 1], paths[k - 1]):
        return found
    p = min(found, k - 1)
    while p > 0 and plan_less(row, path, rows[p - 1], paths[p - 1]):
        rows[p] = rows[p - 1]
        paths[p] = paths[p - 1]
        p -= 1
    rows[p] = row
    paths[p] = path
    return min(found + 1, k)


@njit(cache=True, inline="always")
def rows_equal_key(fa, fb):
    """Equal ranking keys (score and key usage dimensions)."""
    for j in range(Row.USE + KEY_DIMS):
        if fa[j] != fb[j]:
            return False
    return True
