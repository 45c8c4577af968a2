"""Exact trade-off sets: every path no other beats on the key usage dimensions.

One forward DP over the steps of a layered graph keeps, per option, the labels that no
other label of the bucket dominates on (key dimensions, capped others). A capped dimension
that can never meet its cap again is free (set to a constant) before the comparison, as in
the top-k search. The labels left at the last step, filtered by the caps and by dominance
on the key dimensions (for a chain: latency, energy, switches), are the set every weighted
score's optimum comes from when the score weighs only those: a budget sweep answers each
(latency, energy) cap pair from it without another solve.
"""

import numpy as np
from numba import njit

from .bounds import cap_tests, completion_usage
from .contract import KEY_DIMS, Row, Stop
from .labels import _grow_rows
from .paths import placement_less


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
def pareto_set(g, caps, least, most, label_budget, comparison_budget):
    """Every feasible path of ``g`` not dominated on the key usage dimensions.

    Args:
        g: the layered graph (``contract.LayeredGraph``).
        caps (Q,): caps with tolerance (inf = none).
        least, most (T, Q): least / greatest usage any completion adds
            (``completion_usage``).
        label_budget, comparison_budget: labels the DP may create and dominance
            comparisons it may make (big buckets make them quadratic) before it stops.

    Returns ``(stop, paths (M, N) int64, rows (M, 1 + Q))`` with rows ``[0, usage...]``
    (the score slot is the caller's), sorted by usage 0; on ``Stop.LABEL_BUDGET`` the
    set is empty.
    """
    n = g.step_start.shape[0] - 1
    q = caps.shape[0]
    least, thr = cap_tests(caps, least, most, n)
    cap_labels = 1024
    use = np.empty((cap_labels, q))
    key = np.empty((cap_labels, q))  # usage, capped non-key dimensions -1 where free
    parent = np.empty(cap_labels, dtype=np.int64)
    option = np.empty(cap_labels, dtype=np.int64)
    start = np.zeros(g.opt_use.shape[0], dtype=np.int64)
    stop = np.zeros(g.opt_use.shape[0], dtype=np.int64)
    size = 0
    created = 0
    work = np.zeros(1, dtype=np.int64)
    empty = (Stop.LABEL_BUDGET, np.zeros((0, n), dtype=np.int64), np.zeros((0, Row.USE + q)))
    for s in range(n):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            start[b] = size
            n_arcs = 1 if s == 0 else g.arc_start[b + 1] - g.arc_start[b]
            for i in range(n_arcs):
                e = g.arc_start[b] + i
                lo, hi = (-1, 0) if s == 0 else (start[g.arc_tail[e]], stop[g.arc_tail[e]])
                for x in range(lo, hi):
                    if size == use.shape[0]:
                        cap_labels *= 2
                        use, key = _grow_rows(use, cap_labels), _grow_rows(key, cap_labels)
                        parent, option = _grow_rows(parent, cap_labels), _grow_rows(option, cap_labels)
                    fits = True
                    for j in range(q):
                        if x < 0:
                            u = g.opt_use[b, j]
                        elif j < g.arc_use.shape[1]:
                            u = use[x, j] + g.arc_use[e, j] + g.opt_use[b, j]
                        else:
                            u = use[x, j] + g.opt_use[b, j]
                        use[size, j] = u
                        key[size, j] = -1.0 if j >= KEY_DIMS and u <= thr[b, j] else u
                        if u + least[b, j] > caps[j]:
                            fits = False
                    if not fits:
                        continue
                    parent[size] = x
                    option[size] = b
                    size += 1
                    created += 1
                    if created > label_budget:
                        return empty
            kept = _undominated(key, start[b], size, parent, option, work)
            if work[0] > comparison_budget:
                return empty
            w = start[b]
            for x in kept:
                use[w], key[w] = use[x], key[x]
                parent[w], option[w] = parent[x], option[x]
                w += 1
            size = w
            stop[b] = size
    # at the last step the key dimensions decide: the others have done their job
    first = start[g.step_start[n - 1]]
    final_key = np.ascontiguousarray(key[:size, :KEY_DIMS])
    chosen = _undominated(final_key, first, size, parent, option, work)
    chosen = chosen[np.argsort(use[chosen, 0], kind="mergesort")]
    m = chosen.shape[0]
    paths = np.empty((m, n), dtype=np.int64)
    rows = np.zeros((m, Row.USE + q))
    for i in range(m):
        x = chosen[i]
        rows[i, Row.USE:] = use[x]
        for s in range(n - 1, -1, -1):
            paths[i, s] = option[x]
            x = parent[x]
    return Stop.COMPLETE, paths, rows


@njit(cache=True)
def pareto_sets(g, caps_grid, label_budget, comparison_budget):
    """``pareto_set`` for each row of ``caps_grid`` (G, Q), sharing the graph.

    Returns ``(stops (G,), paths (M, N), rows (M, 1 + Q), offsets (G + 1,))``: the set
    of grid row g is ``paths[offsets[g]:offsets[g + 1]]``.
    """
    n = g.step_start.shape[0] - 1
    q = caps_grid.shape[1]
    g_count = caps_grid.shape[0]
    least, most = completion_usage(g)
    stops = np.zeros(g_count, dtype=np.int64)
    offsets = np.zeros(g_count + 1, dtype=np.int64)
    all_paths = np.empty((0, n), dtype=np.int64)
    all_rows = np.empty((0, Row.USE + q))
    for i in range(g_count):
        stop, paths, rows = pareto_set(g, caps_grid[i], least, most, label_budget, comparison_budget)
        stops[i] = stop
        m = paths.shape[0]
        total = offsets[i] + m
        if total > all_paths.shape[0]:
            all_paths = _grow_rows(all_paths, max(total, 2 * all_paths.shape[0]))
            all_rows = _grow_rows(all_rows, max(total, 2 * all_rows.shape[0]))
        all_paths[offsets[i]:total] = paths
        all_rows[offsets[i]:total] = rows
        offsets[i + 1] = total
    return stops, all_paths[:offsets[g_count]].copy(), all_rows[:offsets[g_count]].copy(), offsets
