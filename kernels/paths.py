"""Small helpers over placements (option index per stage) shared by the kernels."""

import numpy as np
from numba import njit


@njit(cache=True)
def path_row(step_use, trans_use, switch, coef, path, row):
    """Fill ``row`` (2 + Q,) with [score, switches, usage...] of placement ``path`` (N,).

    Totals accumulate stage by stage (transfer in, then execution), the order every kernel
    uses, so equal plans get bit-equal totals. Returns False if the path is impossible.
    """
    n, _, q = step_use.shape
    row[:] = 0.0
    for s in range(n):
        b = path[s]
        if step_use[s, b, 0] == np.inf:
            return False
        if s > 0:
            a = path[s - 1]
            if trans_use[s, a, b, 0] == np.inf:
                return False
            row[2] += trans_use[s, a, b, 0]
            row[3] += trans_use[s, a, b, 1]
            row[1] += switch[a, b]
        row[2] += step_use[s, b, 0]
        row[3] += step_use[s, b, 1]
        for j in range(2, q):
            row[2 + j] += step_use[s, b, j]
    row[0] = coef[0] * row[2] + coef[1] * row[3] + coef[2] * row[1]
    return True


@njit(cache=True)
def within_caps(row, caps):
    """True when every usage of a plan row (2 + Q,) is within ``caps`` (Q,)."""
    for j in range(caps.shape[0]):
        if row[2 + j] > caps[j]:
            return False
    return True


@njit(cache=True)
def placement_less(parent, option, x, y):
    """Is the placement ending at label ``x`` lexicographically before the one ending at ``y``?

    ``parent`` (L,) and ``option`` (L,) are label back-pointers; ``x`` and ``y`` sit at the
    same stage. Walks both chains back until they merge; the earliest differing stage decides.
    """
    less = False
    while x != y and x >= 0:
        if option[x] != option[y]:
            less = option[x] < option[y]
        x = parent[x]
        y = parent[y]
    return less


@njit(cache=True)
def row_less(fa, fb):
    """Ranking key order on plan rows: score, then latency, energy, switches (no placement)."""
    if fa[0] != fb[0]:
        return fa[0] < fb[0]
    if fa[2] != fb[2]:
        return fa[2] < fb[2]
    if fa[3] != fb[3]:
        return fa[3] < fb[3]
    return fa[1] < fb[1]


@njit(cache=True)
def rows_equal_key(fa, fb):
    return fa[0] == fb[0] and fa[2] == fb[2] and fa[3] == fb[3] and fa[1] == fb[1]
