"""Forward label DP over stages: exact top-k (k-skyband) search, or a beam.

A label is a placement prefix ending at (stage s, option o), stored as a row
``[score, switches, usage_0..usage_{Q-1}]`` with a back-pointer. Labels at stage s are
built from stage s - 1 only (a chain is its own topological order), one bucket per option.

Exactness: a label b is dropped only when k other labels of its bucket *dominate* it: they
rank before it on (score, latency, energy, switches, placement) and use no more of any
capped dimension. Capped dimensions with enough slack for any completion are "free" and
mapped to 0 first (free-dimension relaxation), so labels that differ only there collapse.
Labels are also dropped when a completion bound proves they cannot fit a cap, or cannot
beat the incumbent k-th best score.
"""

import numpy as np
from numba import njit

from .paths import placement_less, row_less, rows_equal_key

COMPLETE = 0
BUDGET_EXHAUSTED = 1
# the label budget also caps dominance comparisons, so a search stops in bounded time
COMPARISONS_PER_LABEL = 256


@njit(cache=True)
def _grow_rows(a, rows):
    out = np.empty((rows,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _order(cand, parent, lab_parent, lab_option, nc):
    """Candidate indices sorted by the ranking key; exact key ties by parent placement."""
    order = np.argsort(cand[:nc, 0], kind="mergesort")
    i = 0
    while i < nc:
        j = i + 1
        while j < nc and cand[order[j], 0] == cand[order[i], 0]:
            j += 1
        # insertion sort of the (rare, short) run of equal scores by the rest of the key
        for u in range(i + 1, j):
            x = order[u]
            v = u
            while v > i:
                y = order[v - 1]
                if row_less(cand[x], cand[y]) or (
                    rows_equal_key(cand[x], cand[y]) and placement_less(lab_parent, lab_option, parent[x], parent[y])
                ):
                    order[v] = y
                    v -= 1
                else:
                    break
            order[v] = x
        i = j
    return order


@njit(cache=True)
def _skyband(order, free, nc, k, kept, work, work_limit):
    """Keep the candidates that fewer than k earlier candidates dominate.

    ``order`` ranks candidates by key, so only earlier ones can dominate; ``free`` (C, Q)
    holds their capped usages with free dimensions mapped to 0. Writes kept indices into
    ``kept``, adds the dominance comparisons made to ``work[0]`` and returns how many, or
    -1 as soon as ``work[0]`` exceeds ``work_limit``. Counting only kept dominators is enough: a dropped
    dominator has k kept dominators of its own, and they dominate the candidate too.
    """
    q = free.shape[1]
    live = np.zeros(q, dtype=np.bool_)
    n_live = 0
    for j in range(q):
        for t in range(nc):
            if free[t, j] > 0.0:
                live[j] = True
                n_live += 1
                break
    # kth[j, :] = the k smallest values of dimension j among kept labels (sorted)
    kth = np.full((q, k), np.inf)
    nk = 0
    for u in range(nc):
        c = order[u]
        accept = False
        if n_live == 0:
            accept = nk < k
        else:
            for j in range(q):
                if live[j] and free[c, j] < kth[j, k - 1]:
                    accept = True  # fewer than k kept labels are this small here
                    break
            if not accept:
                dominators = 0
                work[0] += nk
                if work[0] > work_limit:
                    return -1
                for t in range(nk):
                    d = kept[t]
                    dominated = True
                    for j in range(q):
                        if live[j] and free[d, j] > free[c, j]:
                            dominated = False
                            break
                    if dominated:
                        dominators += 1
                        if dominators >= k:
                            break
                accept = dominators < k
        if accept:
            kept[nk] = c
            nk += 1
            for j in range(q):
                if live[j]:
                    v = free[c, j]
                    p = k - 1
                    if v < kth[j, p]:
                        while p > 0 and kth[j, p - 1] > v:
                            kth[j, p] = kth[j, p - 1]
                            p -= 1
                        kth[j, p] = v
    return nk


@njit(cache=True)
def label_search(step_use, trans_use, switch, coef, caps, least, thr, prices, values, lam_sums,
                 table, table_dims, table_units, k, beam_width, incumbent, label_budget):
    """Forward label DP returning the k best feasible placements it can prove or find.

    Inputs beyond the shared vocabulary: ``least`` (N, O, Q) least completion usage,
    ``thr`` (N, O, Q) free-dimension thresholds (both from ``bounds.cap_tests``), ``prices`` (M, Q), ``values`` (M, N, O), ``lam_sums`` (M,) Lagrangian bounds
    whose row 1 also prices ``table`` (A, N, O, G + 1), the per-dimension exact bounds of
    ``bounds.resource_tables`` for dimensions ``table_dims`` in units ``table_units``;
    ``incumbent`` a score the k-th best plan is known not to exceed (inf if unknown).
    ``beam_width`` 0 runs the exact k-skyband search; W > 0 keeps at most W labels per
    bucket, ranked by completion bound (a heuristic). The exact search stops as soon as it
    would keep more than ``label_budget`` labels (or make more than COMPARISONS_PER_LABEL
    times as many dominance comparisons).

    Returns ``(status, paths (k, N), rows (k, 2+Q), found, created, kept, bound)`` with
    ``bound`` the least completion bound over the last complete stage (a proven lower bound
    on the best score when the budget ran out; the best score itself when complete).
    """
    n, o, q = step_use.shape
    width = 2 + q
    m = prices.shape[0]
    grid = table.shape[3] - 1
    slack = 1e-9 * max(1.0, abs(incumbent)) if incumbent < np.inf else 0.0
    limit = incumbent + slack

    size = 1024
    lab = np.empty((size, width))
    lab_lb = np.empty(size)
    lab_parent = np.empty(size, dtype=np.int64)
    lab_option = np.empty(size, dtype=np.int64)
    lo = np.zeros((n, o), dtype=np.int64)
    hi = np.zeros((n, o), dtype=np.int64)
    n_lab = 0
    created = 0
    work = np.zeros(1, dtype=np.int64)
    # a beam keeps few labels per bucket: only the exact search needs the comparison cap
    work_limit = COMPARISONS_PER_LABEL * label_budget if beam_width == 0 else np.iinfo(np.int64).max

    csize = 256
    cand = np.empty((csize, width))
    free = np.empty((csize, q))
    cand_parent = np.empty(csize, dtype=np.int64)
    cand_lb = np.empty(csize)
    kept = np.empty(csize, dtype=np.int64)
    stage_lo = 0

    for s in range(n):
        incoming = max(1, n_lab - stage_lo) if s > 0 else 1
        if incoming > csize:
            csize = max(2 * csize, incoming)
            cand = _grow_rows(cand, csize)
            free = _grow_rows(free, csize)
            cand_parent = _grow_rows(cand_parent, csize)
            cand_lb = _grow_rows(cand_lb, csize)
            kept = _grow_rows(kept, csize)
        stage_start = n_lab
        for b in range(o):
            lo[s, b] = n_lab
            hi[s, b] = n_lab
            if step_use[s, b, 0] == np.inf or least[s, b, 0] == np.inf:
                continue
            nc = 0
            for a in range(o if s > 0 else 1):
                if s > 0:
                    if trans_use[s, a, b, 0] == np.inf:
                        continue
                    p_lo, p_hi = lo[s - 1, a], hi[s - 1, a]
                else:
                    p_lo, p_hi = -1, 0
                for p in range(p_lo, p_hi):
                    row = cand[nc]
                    if p < 0:
                        row[:] = 0.0
                        row[2:] = step_use[s, b]
                    else:
                        row[1] = lab[p, 1] + switch[a, b]
                        row[2] = lab[p, 2] + trans_use[s, a, b, 0] + step_use[s, b, 0]
                        row[3] = lab[p, 3] + trans_use[s, a, b, 1] + step_use[s, b, 1]
                        for j in range(2, q):
                            row[2 + j] = lab[p, 2 + j] + step_use[s, b, j]
                    row[0] = coef[0] * row[2] + coef[1] * row[3] + coef[2] * row[1]
                    created += 1
                    fits = True
                    for j in range(q):
                        if row[2 + j] + least[s, b, j] > caps[j]:
                            fits = False
                            break
                    if not fits:
                        continue
                    lb = -np.inf
                    for r in range(m):
                        bound = row[0] + values[r, s, b] - lam_sums[r]
                        for j in range(q):
                            bound += prices[r, j] * row[2 + j]
                        if bound > lb:
                            lb = bound
                    for i in range(table_dims.shape[0]):
                        if lb > limit:
                            break
                        dim = table_dims[i]
                        room = min((caps[dim] - row[2 + dim]) / table_units[i], grid)
                        bound = table[i, s, b, int(room)]
                        if bound < np.inf:
                            bound += row[0] - lam_sums[1] + prices[1, dim] * caps[dim]
                            for j in range(q):
                                if j != dim:
                                    bound += prices[1, j] * row[2 + j]
                        if bound > lb:
                            lb = bound
                    if lb > limit:
                        continue
                    for j in range(q):
                        free[nc, j] = 0.0 if row[2 + j] <= thr[s, b, j] else row[2 + j]
                    cand_parent[nc] = p
                    cand_lb[nc] = lb
                    nc += 1
            if nc == 0:
                continue
            order = _order(cand, cand_parent, lab_parent, lab_option, nc)
            nk = _skyband(order, free, nc, k, kept, work, work_limit)
            if nk < 0 or (beam_width == 0 and n_lab + nk > label_budget):
                # stage s - 1 is the last complete frontier: every optimal prefix passed it
                bound = np.inf if s > 0 else -np.inf  # no complete stage yet: nothing proven
                for t in range(stage_lo, stage_start):
                    bound = min(bound, lab_lb[t])
                return BUDGET_EXHAUSTED, np.zeros((k, n), dtype=np.int64), np.zeros((k, width)), 0, created, n_lab, bound
            if beam_width > 0 and nk > beam_width:
                by_bound = np.argsort(cand_lb[kept[:nk]], kind="mergesort")
                chosen = kept[:nk][by_bound[:beam_width]].copy()
                nk = beam_width
                kept[:nk] = chosen
            if n_lab + nk > size:
                size = max(2 * size, n_lab + nk)
                lab = _grow_rows(lab, size)
                lab_lb = _grow_rows(lab_lb, size)
                lab_parent = _grow_rows(lab_parent, size)
                lab_option = _grow_rows(lab_option, size)
            for t in range(nk):
                c = kept[t]
                lab[n_lab] = cand[c]
                lab_lb[n_lab] = cand_lb[c]
                lab_parent[n_lab] = cand_parent[c]
                lab_option[n_lab] = b
                n_lab += 1
            hi[s, b] = n_lab
        stage_lo = stage_start

    # the last stage's labels are complete, feasible plans: rank them all
    last = n_lab - stage_lo
    # final labels sit in different buckets: compare their own placements, not their parents'
    final_order = _order(lab[stage_lo:n_lab], np.arange(stage_lo, n_lab), lab_parent, lab_option, last)
    found = min(k, last)
    paths = np.zeros((k, n), dtype=np.int64)
    rows = np.zeros((k, width))
    for r in range(found):
        x = stage_lo + final_order[r]
        rows[r] = lab[x]
        for s in range(n - 1, -1, -1):
            paths[r, s] = lab_option[x]
            x = lab_parent[x]
    bound = rows[0, 0] if found > 0 else np.inf
    return COMPLETE, paths, rows, found, created, n_lab, bound
