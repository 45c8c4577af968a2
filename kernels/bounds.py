"""Completion bounds: backward DPs that bound what the rest of a pipeline can cost.

Everything here is a relaxation, so every value is a valid bound for the exact search:
per-dimension min/max completion usage, and Lagrangian bounds that price the caps.
"""

import numpy as np
from numba import njit

from .paths import path_row, within_caps


@njit(cache=True)
def relaxed_costs(step_use, trans_use, switch, coef, price, step, trans):
    """Fill per-step and per-transfer costs of score + ``price`` . usage.

    ``price`` (Q,) is score units per unit of usage (0 for a free dimension). Writes
    ``step`` (N, O) and ``trans`` (N, O, O), inf where impossible (row 0 of trans unused).
    """
    n, o, q = step_use.shape
    c_ms = coef[0] + price[0]
    c_mj = coef[1] + price[1]
    for s in range(n):
        for b in range(o):
            if step_use[s, b, 0] == np.inf:
                step[s, b] = np.inf
                continue
            c = c_ms * step_use[s, b, 0] + c_mj * step_use[s, b, 1]
            for j in range(2, q):
                c += price[j] * step_use[s, b, j]
            step[s, b] = c
        if s > 0:
            for a in range(o):
                for b in range(o):
                    t = trans_use[s, a, b, 0]
                    if t == np.inf:
                        trans[s, a, b] = np.inf
                    else:
                        trans[s, a, b] = c_ms * t + c_mj * trans_use[s, a, b, 1] + coef[2] * switch[a, b]


@njit(cache=True)
def backward_values(step, trans, value):
    """Fill V (N, O): least cost of stages s+1..N-1 given stage s on option o (inf: dead end)."""
    n, o = step.shape
    value[:] = np.inf
    for b in range(o):
        if step[n - 1, b] < np.inf:
            value[n - 1, b] = 0.0
    for s in range(n - 2, -1, -1):
        for a in range(o):
            if step[s, a] == np.inf:
                continue
            best = np.inf
            for b in range(o):
                c = trans[s + 1, a, b] + step[s + 1, b] + value[s + 1, b]
                if c < best:
                    best = c
            value[s, a] = best


@njit(cache=True)
def best_path(step, trans, value, path):
    """Write the cheapest placement under (step, trans) into ``path`` (N,); returns its cost."""
    n, o = step.shape
    best = np.inf
    for b in range(o):
        c = step[0, b] + value[0, b]
        if c < best:
            best = c
            path[0] = b
    if best == np.inf:
        return best
    for s in range(1, n):
        a = path[s - 1]
        here = np.inf
        for b in range(o):
            c = trans[s, a, b] + step[s, b] + value[s, b]
            if c < here:
                here = c
                path[s] = b
    return best


#: relative rounding error per term of a sum of stage usages (a few units in the last place)
SUM_ROUNDING = 4.0 * 2.220446049250313e-16


@njit(cache=True)
def cap_tests(caps, least, most):
    """The completion bounds the pruning tests compare with the caps (Q,), made safe
    against rounding: a label's total is summed stage by stage while ``least`` and ``most``
    are summed backwards, so near a cap the two orders can disagree in the last bits.

    Returns ``(prune_least, thr)``, both (N, O, Q): a label at (s, o) whose usage u has
    ``u + prune_least > cap`` cannot fit (``least`` lowered by the rounding slack, never
    below 0, so the last stage's test stays exact); at or below ``thr`` it can never meet
    the cap again, so that dimension is free (``caps - most`` lowered by the slack; inf for
    uncapped dimensions).
    """
    n, o, q = most.shape
    prune_least = least.copy()
    thr = np.full((n, o, q), np.inf)
    for j in range(q):
        if caps[j] < np.inf:
            slack = SUM_ROUNDING * (n + 1) * max(1.0, abs(caps[j]))
            thr[:, :, j] = caps[j] - most[:, :, j] - slack
            prune_least[:, :, j] = np.maximum(least[:, :, j] - slack, 0.0)
    return prune_least, thr


@njit(cache=True)
def completion_usage(step_use, trans_use):
    """Least and greatest usage the stages after s can add, given stage s on option o.

    Returns ``(least, most)``, both (N, O, Q); ``least`` is inf and ``most`` is -inf where
    no completion exists. ``least`` prunes labels that cannot fit; ``caps - most`` is the
    free-dimension threshold below which a label can never meet that cap again (both
    through ``cap_tests``).
    """
    n, o, q = step_use.shape
    least = np.full((n, o, q), np.inf)
    most = np.full((n, o, q), -np.inf)
    for b in range(o):
        if step_use[n - 1, b, 0] < np.inf:
            least[n - 1, b, :] = 0.0
            most[n - 1, b, :] = 0.0
    for s in range(n - 2, -1, -1):
        for a in range(o):
            if step_use[s, a, 0] == np.inf:
                continue
            for b in range(o):
                if step_use[s + 1, b, 0] == np.inf or trans_use[s + 1, a, b, 0] == np.inf:
                    continue
                if least[s + 1, b, 0] == np.inf:
                    continue
                for j in range(q):
                    add = step_use[s + 1, b, j]
                    if j < 2:
                        add += trans_use[s + 1, a, b, j]
                    lo = add + least[s + 1, b, j]
                    hi = add + most[s + 1, b, j]
                    if lo < least[s, a, j]:
                        least[s, a, j] = lo
                    if hi > most[s, a, j]:
                        most[s, a, j] = hi
    return least, most


@njit(cache=True)
def lagrangian_prices(step_use, trans_use, switch, coef, caps, n_iter):
    """Search multipliers on the caps (subgradient ascent on the Lagrangian dual).

    For multipliers lam (Q,) >= 0 on the normalised usages u_q / cap_q, any feasible
    completion of a label costs at least
        V_lam(s, o) - sum_q lam_q + sum_q price_q * used_q,   price_q = lam_q / cap_q.
    Returns ``(prices (M, Q), values (M, N, O), lam_sums (M,), dual_bound, incumbent)``
    with M = 3 multiplier sets (zero, best dual, last iterate); ``dual_bound`` is a lower
    bound on the best feasible score (inf if no plan exists even relaxed) and
    ``incumbent`` the best score of a feasible plan met on the way (inf if none).
    """
    n, o, q = step_use.shape
    active = np.zeros(q, dtype=np.bool_)
    for j in range(q):
        active[j] = caps[j] > 0.0 and caps[j] < np.inf
    prices = np.zeros((3, q))
    values = np.empty((3, n, o))
    lam_sums = np.zeros(3)
    lam = np.zeros(q)
    best_lam = np.zeros(q)
    last_lam = np.zeros(q)
    path = np.zeros(n, dtype=np.int64)
    row = np.empty(2 + q)
    price = np.zeros(q)
    sub = np.zeros(q)
    step = np.empty((n, o))
    trans = np.zeros((n, o, o))
    value = np.empty((n, o))
    dual = -np.inf
    incumbent = np.inf
    theta = 1.0
    stall = 0
    for it in range(n_iter):
        total = 0.0
        for j in range(q):
            if active[j]:
                price[j] = lam[j] / caps[j]
                total += lam[j]
        relaxed_costs(step_use, trans_use, switch, coef, price, step, trans)
        backward_values(step, trans, value)
        last_lam[:] = lam
        relaxed = best_path(step, trans, value, path)
        if it == 0:
            values[0] = value
            values[1] = value
            values[2] = value
        if relaxed == np.inf:
            return prices, values, lam_sums, np.inf, incumbent
        g = relaxed - total
        path_row(step_use, trans_use, switch, coef, path, row)
        if within_caps(row, caps) and row[0] < incumbent:
            incumbent = row[0]
        if g > dual:
            dual = g
            best_lam[:] = lam
            values[1] = value
            stall = 0
        else:
            stall += 1
            if stall >= 4:
                theta *= 0.5
                stall = 0
        norm = 0.0
        for j in range(q):
            if active[j]:
                sub[j] = row[2 + j] / caps[j] - 1.0
                if lam[j] > 0.0 or sub[j] > 0.0:
                    norm += sub[j] * sub[j]
        proven = incumbent < np.inf and incumbent - dual <= 1e-9 * max(1.0, abs(incumbent))
        if norm == 0.0 or theta < 1e-3 or proven:
            break
        target = incumbent if incumbent < np.inf else dual + max(0.1 * abs(dual), 1e-3)
        length = theta * max(target - g, 1e-9 * max(1.0, abs(g))) / norm
        for j in range(q):
            if active[j]:
                lam[j] = max(0.0, lam[j] + length * sub[j])
    values[2] = value
    for j in range(q):
        if active[j]:
            prices[1, j] = best_lam[j] / caps[j]
            prices[2, j] = last_lam[j] / caps[j]
            lam_sums[1] += best_lam[j]
            lam_sums[2] += last_lam[j]
    return prices, values, lam_sums, dual, incumbent


@njit(cache=True)
def resource_tables(step_use, trans_use, switch, coef, caps, price, grid):
    """Completion bounds exact in one capped dimension, Lagrangian in the others.

    For each capped dimension q (cap in (0, inf)), ``table[i, s, o, c]`` is the least cost
    of the stages after s, given stage s on option o, over completions whose usage of q,
    in units of ``cap_q / grid`` rounded down per step, totals at most c; the cost is
    score + ``price`` . usage with dimension q itself unpriced. Rounding down per step
    never excludes a completion that truly fits, so a label with remaining room r on q
    completes for at least ``table[i, s, o, floor(r / unit)] - sum_{j != q} lam_j +
    sum_{j != q} price_j * used_j``. Returns ``(table (A, N, O, grid + 1), dims (A,),
    units (A,))``; ``grid`` 0 builds no table (A = 0).
    """
    n, o, q = step_use.shape
    n_dims = 0
    for j in range(q):
        if grid > 0 and caps[j] > 0.0 and caps[j] < np.inf:
            n_dims += 1
    dims = np.empty(n_dims, dtype=np.int64)
    units = np.empty(n_dims)
    table = np.full((n_dims, n, o, grid + 1), np.inf)
    step = np.empty((n, o))
    trans = np.zeros((n, o, o))
    i = 0
    for j in range(q):
        if i < n_dims and caps[j] > 0.0 and caps[j] < np.inf:
            dims[i] = j
            units[i] = caps[j] / grid
            i += 1
    for i in range(n_dims):
        j = dims[i]
        unit = units[i]
        own = price.copy()
        own[j] = 0.0
        relaxed_costs(step_use, trans_use, switch, coef, own, step, trans)
        tab = table[i]
        for b in range(o):
            if step[n - 1, b] < np.inf:
                tab[n - 1, b, :] = 0.0
        for s in range(n - 2, -1, -1):
            for a in range(o):
                if step[s, a] == np.inf:
                    continue
                for b in range(o):
                    cost = trans[s + 1, a, b] + step[s + 1, b]
                    if cost == np.inf or tab[s + 1, b, grid] == np.inf:
                        continue
                    use = step_use[s + 1, b, j]
                    if j < 2:
                        use += trans_use[s + 1, a, b, j]
                    w = int(np.floor(use / unit))
                    if w > grid:
                        continue
                    for c in range(w, grid + 1):
                        v = cost + tab[s + 1, b, c - w]
                        if v < tab[s, a, c]:
                            tab[s, a, c] = v
    return table, dims, units
