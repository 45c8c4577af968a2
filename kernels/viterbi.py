"""k-best Viterbi: the k best placements when no cap or memory budget is imposed.

When the unconstrained k best all fit the caps, they are the constrained k best too, so
this O(N * O^2 * k) pass answers most scenarios without any label search.
"""

import numpy as np
from numba import njit

from .paths import path_row


@njit(cache=True)
def _before(key, origin, s, x, rx, y, ry):
    """Does prefix (s, x, rx) rank before (s, y, ry)? Keys first, then placement order.

    ``key`` (N, O, k, 4) holds [score, switches, latency, energy] per kept prefix and
    ``origin`` (N, O, k, 2) its back-pointer (option, rank) at stage s - 1.
    """
    for c in (0, 2, 3, 1):
        if key[s, x, rx, c] != key[s, y, ry, c]:
            return key[s, x, rx, c] < key[s, y, ry, c]
    less = False
    while s >= 0 and (x != y or rx != ry):
        if x != y:
            less = x < y
        x, rx, y, ry = origin[s, x, rx, 0], origin[s, x, rx, 1], origin[s, y, ry, 0], origin[s, y, ry, 1]
        s -= 1
    return less


@njit(cache=True)
def kbest_paths(step_use, trans_use, switch, coef, k):
    """The k best placements by (score, latency, energy, switches, placement), caps ignored.

    Returns ``(paths (k, N) int64, rows (k, 2 + Q), found)``: option per stage of each plan,
    its plan row, and how many plans exist (< k when the pipeline has fewer placements).
    """
    n, o, q = step_use.shape
    key = np.full((n, o, k + 1, 4), np.inf)
    origin = np.full((n, o, k + 1, 2), -1, dtype=np.int64)
    count = np.zeros((n, o), dtype=np.int64)
    for b in range(o):
        if step_use[0, b, 0] < np.inf:
            ms, mj = step_use[0, b, 0], step_use[0, b, 1]
            key[0, b, 0, 0] = coef[0] * ms + coef[1] * mj
            key[0, b, 0, 1] = 0.0
            key[0, b, 0, 2] = ms
            key[0, b, 0, 3] = mj
            count[0, b] = 1
    for s in range(1, n):
        for b in range(o):
            if step_use[s, b, 0] == np.inf:
                continue
            for a in range(o):
                t_ms = trans_use[s, a, b, 0]
                if t_ms == np.inf:
                    continue
                for r in range(count[s - 1, a]):
                    # slot k is scratch: build the candidate there, then bubble it into place
                    ms = key[s - 1, a, r, 2] + t_ms + step_use[s, b, 0]
                    mj = key[s - 1, a, r, 3] + trans_use[s, a, b, 1] + step_use[s, b, 1]
                    sw = key[s - 1, a, r, 1] + switch[a, b]
                    key[s, b, k, 0] = coef[0] * ms + coef[1] * mj + coef[2] * sw
                    key[s, b, k, 1] = sw
                    key[s, b, k, 2] = ms
                    key[s, b, k, 3] = mj
                    origin[s, b, k, 0] = a
                    origin[s, b, k, 1] = r
                    pos = count[s, b]
                    if pos == k and not _before(key, origin, s, b, k, b, k - 1):
                        continue
                    if pos == k:
                        pos = k - 1
                    key[s, b, pos] = key[s, b, k]
                    origin[s, b, pos] = origin[s, b, k]
                    while pos > 0 and _before(key, origin, s, b, pos, b, pos - 1):
                        for c in range(4):
                            key[s, b, pos, c], key[s, b, pos - 1, c] = key[s, b, pos - 1, c], key[s, b, pos, c]
                        for c in range(2):
                            origin[s, b, pos, c], origin[s, b, pos - 1, c] = origin[s, b, pos - 1, c], origin[s, b, pos, c]
                        pos -= 1
                    if count[s, b] < k:
                        count[s, b] += 1
    # merge the per-option lists of the last stage
    last = n - 1
    heads = np.zeros(o, dtype=np.int64)
    paths = np.zeros((k, n), dtype=np.int64)
    rows = np.zeros((k, 2 + q))
    found = 0
    while found < k:
        pick = -1
        for b in range(o):
            if heads[b] < count[last, b] and (pick < 0 or _before(key, origin, last, b, heads[b], pick, heads[pick])):
                pick = b
        if pick < 0:
            break
        x, r = pick, heads[pick]
        heads[pick] += 1
        for s in range(last, -1, -1):
            paths[found, s] = x
            x, r = origin[s, x, r, 0], origin[s, x, r, 1]
        path_row(step_use, trans_use, switch, coef, paths[found], rows[found])
        found += 1
    return paths, rows, found
