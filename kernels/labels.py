"""Forward label DP over the steps of a layered graph: exact top-k (k-skyband) search, or a beam.

A label is a path prefix ending at option t (of step s), stored as a plan row (``Row``
slots) with a back-pointer. Labels at step s are built from step s - 1 only (the steps
are a topological order), one bucket per option.

Exactness: a label b is dropped only when k other labels of its bucket *dominate* it: they
rank before it (``contract``: score, key usage, placement) and use no more of any
capped dimension. Capped dimensions with enough slack for any completion are "free" and
mapped to 0 first (free-dimension relaxation), so labels that differ only there collapse.
Labels are also dropped when a completion bound proves they cannot fit a cap, or cannot
beat the incumbent k-th best score.
"""

import numpy as np
from numba import njit

from .contract import Row, Stop
from .paths import CLOCK_EVERY, capped, clock, placement_less, row_less, row_score, rows_equal_key, score_limit
from .skyband import index_buffers, skyband

# the label budget also caps dominance comparisons, so a search stops in bounded time
COMPARISONS_PER_LABEL = 256
# a search with the growth check stops once the labels it has kept, and as many again per
# step left as each of its last GROWTH_WINDOW steps kept on average, exceed its budget
# (``outgrows``): where the tree is the other way to a proof, a search that will not end
# within its budget hands over early. Ways 200x4 seed 2, after the tree's stall check: its
# search within 4M labels stopped at step 95 of 200 after 5.6 s, keeping 145k labels a step
# and more each step; with the check it hands over after 0.4M, and its eip.plan takes 2.7 s,
# not 8.8 s (eip-only benchmark runs); the 300x6 chains' searches after their stall checks,
# which end within 1.0-1.7M labels, and every other benchmark instance keep their labels
GROWTH_WINDOW = 8


@njit(cache=True)
def _grow_rows(a, rows):
    out = np.empty((rows,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def label_memory(labels, q):
    """Memory for ``labels`` labels of Q dimensions that the label searches of one solve
    reuse one after another, reserved and not yet touched: ``(values (labels * (Row.USE +
    Q + 1),), ids (2 * labels,))``. A search that needs more grows its own arrays. Page
    faults on fresh label arrays took about 10% of a 300x6 solve (its searches keep 5.5M
    labels in all: perf stat counts 208k faults)."""
    return np.empty(labels * (Row.USE + q + 1)), np.empty(2 * labels, dtype=np.int64)


@njit(cache=True)
def _label_arrays(memory, width):
    """``(lab (L, width), lab_lb (L,), lab_parent (L,), lab_option (L,))`` for a search's
    labels: views of ``memory`` (``label_memory``) when it holds at least 1,024 labels,
    else new arrays of 1,024."""
    values, ids = memory
    size = min(values.shape[0] // (width + 1), ids.shape[0] // 2)
    if size < 1024:
        size = 1024
        return (np.empty((size, width)), np.empty(size), np.empty(size, dtype=np.int64),
                np.empty(size, dtype=np.int64))
    return (values[:size * width].reshape((size, width)), values[size * width:size * (width + 1)], ids[:size],
            ids[size:2 * size])


@njit(cache=True)
def _order(cand, parent, lab_parent, lab_option, nc):
    """Candidate indices sorted by the ranking key; exact key ties by parent placement."""
    order = np.argsort(cand[:nc, Row.SCORE], kind="mergesort")
    i = 0
    while i < nc:
        j = i + 1
        while j < nc and cand[order[j], Row.SCORE] == cand[order[i], Row.SCORE]:
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


# inlined, like the two helpers it calls: a call per bucket with some 20 arrays paid their
# reference counts each time (with mode_graphs cached, ``python -m benchmarks --families
# seed --peers seed --top-k 1``: eip.plan 56 us at e2ad6dd, 67 us before)
@njit(cache=True, inline="always")
def _candidates(g, b, first, coef, caps, least, thr, prices, values, lam_sums, table, table_dims, table_units,
                limit, lab, lo, hi, cand, free, cand_parent, cand_lb):
    """Extend every label of the buckets feeding option b (or the empty prefix when b is
    in the ``first`` step) by b; keep those that can still fit the caps and beat ``limit``.

    Fills ``cand`` rows, ``free`` (capped usage, free dimensions mapped to 0),
    ``cand_parent`` and ``cand_lb`` (completion bound); returns (candidates kept, created).
    """
    nc, created = _extensions(g, b, first, coef, caps, least, lab, lo, hi, cand, cand_parent)
    kept = _within_limit(nc, b, caps, thr, prices, values, lam_sums, table, table_dims, table_units, limit, cand,
                         free, cand_parent, cand_lb)
    return kept, created


@njit(cache=True, inline="always")
def _extensions(g, b, first, coef, caps, least, lab, lo, hi, cand, cand_parent):
    """Write the extensions by option b of every label of the buckets feeding it (or of the
    empty prefix when b is in the ``first`` step) into ``cand`` rows and ``cand_parent``,
    keeping those whose least completion (``least`` (T, Q)) can still fit the caps.
    Returns (kept, created)."""
    q = caps.shape[0]
    r = g.arc_use.shape[1]
    nc = 0
    created = 0
    n_arcs = 1 if first else g.arc_start[b + 1] - g.arc_start[b]
    for i in range(n_arcs):
        e = g.arc_start[b] + i
        p_lo, p_hi = (-1, 0) if first else (lo[g.arc_tail[e]], hi[g.arc_tail[e]])
        for p in range(p_lo, p_hi):
            row = cand[nc]
            if p < 0:
                for j in range(q):
                    row[Row.USE + j] = g.opt_use[b, j]
            else:
                for j in range(r):
                    row[Row.USE + j] = lab[p, Row.USE + j] + g.arc_use[e, j] + g.opt_use[b, j]
                for j in range(r, q):
                    row[Row.USE + j] = lab[p, Row.USE + j] + g.opt_use[b, j]
            row_score(coef, row)
            created += 1
            fits = True
            for j in range(q):
                if row[Row.USE + j] + least[b, j] > caps[j]:
                    fits = False
                    break
            if fits:
                cand_parent[nc] = p
                nc += 1
    return nc, created


@njit(cache=True, inline="always")
def _within_limit(nc, t, caps, thr, prices, values, lam_sums, table, table_dims, table_units, limit, cand, free,
                  cand_parent, cand_lb):
    """Of the ``nc`` candidates at option t (``cand`` rows, ``cand_parent``), keep in place
    those whose completion bound does not exceed ``limit``, with the bound in ``cand_lb``
    and their capped usage in ``free`` (free dimensions, at or below ``thr`` (T, Q), mapped
    to 0); returns how many.

    The bound on the score of any feasible path that extends a candidate is the best of
    the Lagrangian bounds (``prices`` (M, Q), ``values`` (M, T), ``lam_sums`` (M,)) and the
    per-dimension tables (``bounds.resource_tables``), which it stops reading once above
    ``limit``. It is written out in this loop: a helper called per candidate with these
    arrays pays reference counts on each (``python -m benchmarks --families 150x4 --peers
    highs --top-k 1``: seed 0 in 757 ms with the helper, 519 ms without).
    """
    q = caps.shape[0]
    grid = table.shape[2] - 1
    kept = 0
    for c in range(nc):
        lb = -np.inf
        for r in range(prices.shape[0]):
            bound = cand[c, Row.SCORE] + values[r, t] - lam_sums[r]
            for j in range(q):
                bound += prices[r, j] * cand[c, Row.USE + j]
            lb = max(lb, bound)
        if table_dims.shape[0] > 0 and lb <= limit:
            # the candidate's priced usage under the tables' multipliers, once: each table
            # takes out its own dimension, which it bounds exactly instead
            priced = cand[c, Row.SCORE] - lam_sums[1]
            for j in range(q):
                priced += prices[1, j] * cand[c, Row.USE + j]
            for i in range(table_dims.shape[0]):
                if lb > limit:
                    break
                dim = table_dims[i]
                room = caps[dim] - cand[c, Row.USE + dim]
                bound = table[i, t, int(min(room / table_units[i], grid))]
                if bound < np.inf:
                    bound += priced + prices[1, dim] * room
                lb = max(lb, bound)
        if lb > limit:
            continue
        for j in range(cand.shape[1]):
            cand[kept, j] = cand[c, j]
        for j in range(q):
            free[kept, j] = 0.0 if cand[c, Row.USE + j] <= thr[t, j] else cand[c, Row.USE + j]
        cand_parent[kept] = cand_parent[c]
        cand_lb[kept] = lb
        kept += 1
    return kept


@njit(cache=True)
def _beam_choice(kept, cand, cand_lb, least, caps, width, by_slack):
    """The ``width`` labels a beam keeps of the candidates ``kept``: the best by completion
    bound (``cand_lb``); with ``by_slack``, only the better half so, the rest by slack, the
    least relative room any capped dimension leaves once the least completion (``least``
    (Q,)) is added, most room first. Ranking by bound alone can fill a beam with labels that
    save score by spending the budgets and cannot complete; the slack half keeps labels
    that can."""
    by_bound = np.argsort(cand_lb[kept], kind="mergesort")
    first = (width + 1) // 2 if by_slack else width
    rest = by_bound[first:]
    slack = np.empty(rest.shape[0])
    for i in range(rest.shape[0]):
        c = kept[rest[i]]
        room = np.inf
        for j in range(caps.shape[0]):
            if capped(caps[j]):
                room = min(room, (caps[j] - cand[c, Row.USE + j] - least[j]) / caps[j])
        slack[i] = -room
    roomiest = np.argsort(slack, kind="mergesort")
    chosen = np.empty(width, dtype=np.int64)
    for i in range(first):
        chosen[i] = kept[by_bound[i]]
    for i in range(width - first):
        chosen[first + i] = kept[rest[roomiest[i]]]
    return chosen


@njit(cache=True)
def _trace(lab, lab_parent, lab_option, first, stop, k, n):
    """The k best complete labels (indices ``first`` .. ``stop`` - 1) as paths (k, N) and
    rows (k, 1 + Q); returns (paths, rows, found)."""
    # final labels sit in different buckets: compare their own placements, not their parents'
    final_order = _order(lab[first:stop], np.arange(first, stop), lab_parent, lab_option, stop - first)
    found = min(k, stop - first)
    paths = np.zeros((k, n), dtype=np.int64)
    rows = np.zeros((k, lab.shape[1]))
    for r in range(found):
        x = first + final_order[r]
        rows[r] = lab[x]
        for s in range(n - 1, -1, -1):
            paths[r, s] = lab_option[x]
            x = lab_parent[x]
    return paths, rows, found


@njit(cache=True)
def _least_bound(lab_lb, first, stop, s):
    """Proven lower bound on the best score when a search stops during step s: the least
    completion bound of the labels of step s - 1 (``first`` .. ``stop`` - 1), the last
    complete step, which every optimal prefix passed; -inf before any step is complete."""
    if s == 0:
        return -np.inf
    bound = np.inf
    for t in range(first, stop):
        bound = min(bound, lab_lb[t])
    return bound


@njit(cache=True)
def outgrows(step_kept, s, kept, budget):
    """Whether a search that has kept ``kept`` labels over steps 0 .. s of its graph
    (``step_kept`` (N,), the labels it kept at each step) would keep more than ``budget``,
    were each step left to keep as many as its last GROWTH_WINDOW steps did on average."""
    n = step_kept.shape[0]
    first = max(0, s + 1 - GROWTH_WINDOW)
    steps = s + 1 - first
    # (in integers, times the window's steps: a projection equal to the budget fits it)
    return kept * steps + step_kept[first:s + 1].sum() * (n - 1 - s) > budget * steps


@njit(cache=True)
def label_search(g, coef, caps, least, thr, prices, values, lam_sums, table, table_dims, table_units,
                 k, beam_width, incumbent, label_budget, deadline, by_slack, memory, growth_check):
    """Forward label DP returning the k best feasible paths it can prove or find.

    Inputs beyond the graph and the rules of ``contract``: ``least`` (T, Q) least
    completion usage, ``thr`` (T, Q) free-dimension thresholds (both from
    ``bounds.cap_tests``), ``prices`` (M, Q), ``values`` (M, T), ``lam_sums`` (M,)
    Lagrangian bounds whose row 1 also prices ``table`` (A, T, G + 1), the per-dimension
    exact bounds of ``bounds.resource_tables`` for dimensions ``table_dims`` in units
    ``table_units``; ``incumbent`` a score the k-th best plan is known not to exceed (inf
    if unknown). ``beam_width`` 0 runs the exact k-skyband search; W > 0 keeps at most W
    labels per bucket, ranked by completion bound (a heuristic; with ``by_slack``, half of
    them by the room they leave in the caps instead: ``_beam_choice``). The search stops as soon
    as it would keep more than ``label_budget`` labels (or make more than
    COMPARISONS_PER_LABEL times as many dominance comparisons; with ``growth_check``, as
    soon as a step ends where ``outgrows`` says it would), or at ``deadline`` (``clock``
    seconds). The labels live in ``memory`` (``label_memory``) while it holds them.

    Returns ``(stop, paths (k, N), rows (k, 1 + Q), found, created, kept, bound)`` with
    ``bound`` the least completion bound over the last complete step (a proven lower bound
    on the best score when a budget stopped the search; the best score itself when
    complete); ``stop`` is a ``Stop``.
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    width = Row.USE + q
    limit = score_limit(incumbent)
    lab, lab_lb, lab_parent, lab_option = _label_arrays(memory, width)
    size = lab.shape[0]
    lo = np.zeros(t_count, dtype=np.int64)
    hi = np.zeros(t_count, dtype=np.int64)
    # counters start as typed int64: a literal 0 reaching a call compiles the callee again for it
    n_lab = np.int64(0)
    created = 0
    checked = 0
    work = np.zeros(1, dtype=np.int64)
    # a beam keeps few labels per bucket: only the exact search needs the comparison cap
    work_limit = COMPARISONS_PER_LABEL * label_budget if beam_width == 0 else np.iinfo(np.int64).max
    csize = 256
    cand = np.empty((csize, width))
    free = np.empty((csize, q))
    cand_parent = np.empty(csize, dtype=np.int64)
    cand_lb = np.empty(csize)
    kept = np.empty(csize, dtype=np.int64)
    index = index_buffers(csize, q)
    stage_lo = np.int64(0)
    step_kept = np.zeros(n if growth_check else 0, dtype=np.int64)  # (only the growth check reads it)
    for s in range(n):
        # with a time limit, every step starts with a look at the clock (and every
        # CLOCK_EVERY labels within a step): a stopped search keeps the last complete step
        if deadline < np.inf and clock() > deadline:
            bound = _least_bound(lab_lb, stage_lo, n_lab, s)
            return Stop.TIME_LIMIT, np.zeros((k, n), dtype=np.int64), np.zeros((k, width)), 0, created, n_lab, bound
        incoming = max(1, n_lab - stage_lo)
        if incoming > csize:
            csize = max(2 * csize, incoming)
            cand, free = _grow_rows(cand, csize), _grow_rows(free, csize)
            cand_parent, cand_lb, kept = _grow_rows(cand_parent, csize), _grow_rows(cand_lb, csize), _grow_rows(kept, csize)
            index = index_buffers(csize, q)
        stage_start = n_lab
        for b in range(g.step_start[s], g.step_start[s + 1]):
            lo[b] = n_lab
            hi[b] = n_lab
            if least[b, 0] == np.inf:
                continue  # no completion from here
            nc, made = _candidates(g, b, s == 0, coef, caps, least, thr, prices, values, lam_sums, table, table_dims,
                                   table_units, limit, lab, lo, hi, cand, free, cand_parent, cand_lb)
            created += made
            if nc == 0:
                continue
            order = _order(cand, cand_parent, lab_parent, lab_option, nc)
            nk = skyband(order, free, nc, k, kept, index, work, work_limit, deadline)
            stop = Stop.COMPLETE
            if nk < 0 and deadline < np.inf and clock() > deadline:
                stop = Stop.TIME_LIMIT
            elif nk < 0 or (beam_width == 0 and n_lab + nk > label_budget):
                stop = Stop.LABEL_BUDGET
            elif deadline < np.inf and created - checked >= CLOCK_EVERY:
                checked = created
                if clock() > deadline:
                    stop = Stop.TIME_LIMIT
            if stop != Stop.COMPLETE:
                bound = _least_bound(lab_lb, stage_lo, stage_start, s)
                return stop, np.zeros((k, n), dtype=np.int64), np.zeros((k, width)), 0, created, n_lab, bound
            if beam_width > 0 and nk > beam_width:
                kept[:beam_width] = _beam_choice(kept[:nk], cand, cand_lb, least[b], caps, beam_width, by_slack)
                nk = beam_width
            if n_lab + nk > size:
                size = max(2 * size, n_lab + nk)
                lab, lab_lb = _grow_rows(lab, size), _grow_rows(lab_lb, size)
                lab_parent, lab_option = _grow_rows(lab_parent, size), _grow_rows(lab_option, size)
            for i in range(nk):
                c = kept[i]
                lab[n_lab] = cand[c]
                lab_lb[n_lab] = cand_lb[c]
                lab_parent[n_lab] = cand_parent[c]
                lab_option[n_lab] = b
                n_lab += 1
            hi[b] = n_lab
        stage_lo = stage_start
        if growth_check:
            step_kept[s] = n_lab - stage_start
            if s < n - 1 and step_kept[s] > 0 and outgrows(step_kept, s, n_lab, label_budget):
                bound = _least_bound(lab_lb, stage_start, n_lab, s + 1)
                return (Stop.LABEL_BUDGET, np.zeros((k, n), dtype=np.int64), np.zeros((k, width)), 0, created, n_lab,
                        bound)
    paths, rows, found = _trace(lab, lab_parent, lab_option, stage_lo, n_lab, k, n)
    bound = rows[0, Row.SCORE] if found > 0 else np.inf
    return Stop.COMPLETE, paths, rows, found, created, n_lab, bound
