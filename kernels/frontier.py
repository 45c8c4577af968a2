"""Exact trade-off sets: every placement no other beats on latency, energy and switches.

One forward DP over stages keeps, per (stage, option), the labels that no other label of
the bucket dominates on (latency, energy, switches, capped memory). Memory that can never
meet its cap again is free (set to a constant) before the comparison, as in the top-k
search. The labels left at the last stage, filtered by the caps and by dominance on
(latency, energy, switches), are the set every weighted score's optimum comes from: a
budget sweep answers each (latency, energy) cap pair from it without another solve.
"""

import numpy as np
from numba import njit

from .bounds import cap_tests, completion_usage
from .labels import _grow_rows
from .paths import placement_less

COMPLETE = 0
BUDGET_EXHAUSTED = 1


@njit(cache=True)
def _dominates(key, x, y, parent, option):
    """Does label ``x`` dominate label ``y``: no worse anywhere, and better somewhere or
    equal everywhere with an earlier placement. ``key`` (L, K) holds comparison vectors."""
    equal = True
    for j in range(key.shape[1]):
        if key[x, j] > key[y, j]:
            return False
        if key[x, j] < key[y, j]:
            equal = False
    return not equal or placement_less(parent, option, x, y)


@njit(cache=True)
def _undominated(key, first, stop, parent, option, work):
    """Indices in ``first..stop-1`` (labels, rows of ``key``) that no other one there
    dominates, ascending; adds the dominance comparisons made to ``work[0]``.

    Labels are visited by latency (column 0 of ``key``); one can only be dominated by a
    label met before it or by one with the same latency, so the scan stays in that range.
    """
    count = stop - first
    order = np.argsort(key[first:stop, 0], kind="mergesort") + first
    kept = np.empty(count, dtype=np.int64)
    n_kept = 0
    for i in range(count):
        c = order[i]
        dominated = False
        work[0] += n_kept
        for t in range(n_kept):
            if _dominates(key, kept[t], c, parent, option):
                dominated = True
                break
        if dominated:
            continue
        # c may dominate labels kept before it that have the same latency
        t = n_kept - 1
        while t >= 0 and key[kept[t], 0] == key[c, 0]:
            if _dominates(key, c, kept[t], parent, option):
                for u in range(t, n_kept - 1):
                    kept[u] = kept[u + 1]
                n_kept -= 1
            t -= 1
        kept[n_kept] = c
        n_kept += 1
    return np.sort(kept[:n_kept])


@njit(cache=True)
def pareto_set(step_use, trans_use, switch, caps, least, most, label_budget, comparison_budget):
    """Every feasible placement not dominated on (latency, energy, switches).

    Args:
        step_use (N, O, Q), trans_use (N, O, O, 2), switch (O, O): the cost tensors
            (``CostModel.kernel_tensors``); usage dims are latency ms, energy mJ, then
            memory MB per device.
        caps (Q,): caps with tolerance (inf = none).
        least, most (N, O, Q): least / greatest usage any completion adds
            (``completion_usage``).
        label_budget, comparison_budget: labels the DP may create and dominance
            comparisons it may make (big buckets make them quadratic) before it stops.

    Returns ``(status, paths (M, N) int64, rows (M, 2 + Q))`` with rows
    ``[0, switches, usage...]`` (the score slot is the caller's), sorted by latency; on
    ``BUDGET_EXHAUSTED`` the set is empty.
    """
    n, o, q = step_use.shape
    least, thr = cap_tests(caps, least, most)
    cap_labels = 1024
    use = np.empty((cap_labels, q))
    key = np.empty((cap_labels, q + 1))  # latency, energy, switches, memory (or -1 if free)
    parent = np.empty(cap_labels, dtype=np.int64)
    option = np.empty(cap_labels, dtype=np.int64)
    start = np.zeros((n, o), dtype=np.int64)
    stop = np.zeros((n, o), dtype=np.int64)
    size = 0
    created = 0
    work = np.zeros(1, dtype=np.int64)
    for s in range(n):
        for b in range(o):
            start[s, b] = size
            stop[s, b] = size
            if step_use[s, b, 0] == np.inf:
                continue
            for a in range(o if s > 0 else 1):
                lo, hi = (start[s - 1, a], stop[s - 1, a]) if s > 0 else (-1, 0)
                if s > 0 and trans_use[s, a, b, 0] == np.inf:
                    continue
                for x in range(lo, hi):
                    if size == use.shape[0]:
                        cap_labels *= 2
                        use = _grow_rows(use, cap_labels)
                        key = _grow_rows(key, cap_labels)
                        parent = _grow_rows(parent, cap_labels)
                        option = _grow_rows(option, cap_labels)
                    fits = True
                    for j in range(q):
                        u = step_use[s, b, j]
                        if x >= 0:
                            u += use[x, j]
                            if j < 2:
                                u += trans_use[s, a, b, j]
                        use[size, j] = u
                        if u + least[s, b, j] > caps[j]:
                            fits = False
                    if not fits:
                        continue
                    key[size, 0] = use[size, 0]
                    key[size, 1] = use[size, 1]
                    key[size, 2] = key[x, 2] + switch[a, b] if x >= 0 else 0.0
                    for j in range(2, q):
                        key[size, 1 + j] = -1.0 if use[size, j] <= thr[s, b, j] else use[size, j]
                    parent[size] = x
                    option[size] = b
                    size += 1
                    created += 1
                    if created > label_budget:
                        return BUDGET_EXHAUSTED, np.zeros((0, n), dtype=np.int64), np.zeros((0, 2 + q))
            kept = _undominated(key, start[s, b], size, parent, option, work)
            if work[0] > comparison_budget:
                return BUDGET_EXHAUSTED, np.zeros((0, n), dtype=np.int64), np.zeros((0, 2 + q))
            w = start[s, b]
            for x in kept:
                use[w] = use[x]
                key[w] = key[x]
                parent[w] = parent[x]
                option[w] = option[x]
                w += 1
            size = w
            stop[s, b] = size
    # at the last stage latency, energy and switches decide: memory has done its job
    final_key = np.ascontiguousarray(key[:size, :3])
    chosen = _undominated(final_key, start[n - 1, 0], size, parent, option, work)
    chosen = chosen[np.argsort(use[chosen, 0], kind="mergesort")]
    m = chosen.shape[0]
    paths = np.empty((m, n), dtype=np.int64)
    rows = np.zeros((m, 2 + q))
    for i in range(m):
        x = chosen[i]
        rows[i, 1] = key[x, 2]
        rows[i, 2:] = use[x]
        for s in range(n - 1, -1, -1):
            paths[i, s] = option[x]
            x = parent[x]
    return COMPLETE, paths, rows


@njit(cache=True)
def pareto_sets(step_use, trans_use, switch, caps_grid, label_budget, comparison_budget):
    """``pareto_set`` for each row of ``caps_grid`` (G, Q), sharing the cost tensors.

    Returns ``(statuses (G,), paths (M, N), rows (M, 2 + Q), offsets (G + 1,))``: the set
    of grid row g is ``paths[offsets[g]:offsets[g + 1]]``.
    """
    n, o, q = step_use.shape
    g_count = caps_grid.shape[0]
    least, most = completion_usage(step_use, trans_use)
    statuses = np.zeros(g_count, dtype=np.int64)
    offsets = np.zeros(g_count + 1, dtype=np.int64)
    all_paths = np.empty((0, n), dtype=np.int64)
    all_rows = np.empty((0, 2 + q))
    for g in range(g_count):
        status, paths, rows = pareto_set(step_use, trans_use, switch, caps_grid[g], least, most, label_budget,
                                         comparison_budget)
        statuses[g] = status
        m = paths.shape[0]
        total = offsets[g] + m
        if total > all_paths.shape[0]:
            all_paths = _grow_rows(all_paths, max(total, 2 * all_paths.shape[0]))
            all_rows = _grow_rows(all_rows, max(total, 2 * all_rows.shape[0]))
        all_paths[offsets[g]:total] = paths
        all_rows[offsets[g]:total] = rows
        offsets[g + 1] = total
    return statuses, all_paths[:offsets[g_count]].copy(), all_rows[:offsets[g_count]].copy(), offsets
