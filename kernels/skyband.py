"""The k-skyband of a bucket's candidates, with a dominance index for large buckets.

A candidate is dropped when k earlier candidates (in ranking order) that were kept use no
more of any live capped dimension. At scale a bucket holds tens of thousands of
candidates that are mostly trade-offs, so counting dominators by scanning the kept labels
is quadratic: 80% of an exact search on 300x6 seed 0 (perf, JIT addresses mapped through
the compiled library). There the index answers instead: a k-d tree built over the
bucket's candidates before any is kept, each node holding the least usage per dimension
of the kept labels below it, so that a dominance query skips every subtree none of whose
kept labels is small enough in some dimension.

Arrays: ``free`` (C, Q) the candidates' capped usage with free dimensions mapped to 0;
``order`` (C,) candidate indices by rank; the index's own arrays are allocated once per
search by ``index_buffers`` and grown with the candidates.
"""

import numpy as np
from numba import njit

from .paths import clock

# a leaf holds at most this many candidates: below it, a scan costs less than a split
INDEX_LEAF = 8
# a node's widest dimension is judged on about this many of its candidates, evenly spaced:
# the spreads over all of them took as long as the medians' selection (perf, generated ways
# 60x4 seed 0), and a sample's choose as well (its first mode graph 0.25 -> 0.235 s, 100x4
# seed 1's 2.32 -> 2.15 s, alternating runs of copies of both kernels, the same labels)
INDEX_SPREAD_SAMPLE = 64
# the tree's depth is at most log2(C / INDEX_LEAF) + 1; this bounds its traversal stack
INDEX_MAX_DEPTH = 64
# Dominance checks pay only where they drop candidates. At scale the labels of a bucket are
# mostly trade-offs none dominates: measured on 150x4 seed 0 searched at its optimum,
# comparing each candidate with every kept label by a scan keeps 440k labels in 8.3 s;
# with only the 16 ranked just before it (the nearest in score, the likeliest to dominate
# it) 739k in 0.66 s. Yet where scores tie (a goal that prices one dimension most plans
# leave at 0) most candidates are dominated, and only full checks keep the search small.
# So a bucket checks fully for its first DOMINANCE_TRIAL candidates and then while at
# least 1 in DOMINANCE_PAYS checks drops one; past that, only the last DOMINANCE_WINDOW
# kept labels. Skipping a check only keeps a label.
DOMINANCE_WINDOW = 16
DOMINANCE_TRIAL = 64
DOMINANCE_PAYS = 8
# Buckets of at least this many candidates check each one fully through the index instead:
# there the scans' quadratic cost dominates a search, and full checks keep far fewer labels
# (300x6 seed 0 searched at 3/4 of its gap, ``python -m benchmarks.bounds``: 3.2M labels
# in 4.4-5.4 s through the index, 3.0M in 6.1 s from 2,048 candidates on at 4dce71b; at
# 0b5ca7a, by scans, 7.9M in 17.5 s). Below it the
# index's build costs more than it saves (``python -m benchmarks --families 150x4 --peers
# highs --top-k 1``: seed 0 in 520 ms by scans, 749 ms with every bucket indexed). On the
# graphs reduced-cost fixing leaves, buckets of a few thousand candidates are common, and
# their scans took 69% of 300x6 seed 0's search at its optimum (perf); from 2,048 on
# (16,384 before), the at-scale command in README.md proves 300x6 in 4.7 / 4.5 / 4.4 s
# (7.9 / 5.1 / 5.3 s at 07179e9), 150x4 and 200x4 as before. It costs some mid-sized
# searches a little: the generated DAGs' command proves dag 100x4 seed 1 in 229 ms (206 ms
# at 07179e9).
INDEX_MIN_CANDIDATES = 2048
# A bucket's dominance queries are bounded in time: a search with a deadline looks at the
# clock every CLOCK_COMPARISONS comparisons (nodes visited and labels compared), a few ms
CLOCK_COMPARISONS = 1 << 20
# A scan compares a candidate with this many kept labels at a time, one dimension after
# the other over rows of their usages (``lanes``), so that the comparisons vectorize; a
# dominated candidate is then compared with up to a block past its dominator. Measured on
# generated ways 60x4 seed 0's first mode graph, whose buckets mostly scan (alternating
# runs of copies of both kernels): 0.33 s -> 0.27 s, the same labels; one comparison per
# label and dimension through ``free``'s rows before
SCAN_BLOCK = 32


@njit(cache=True)
def index_buffers(candidates, q):
    """Buffers for the dominance checks of up to ``candidates`` candidates of Q dimensions:
    the index's ``(perm (C,), leaf_of (C,), is_kept (C,), node_lo, node_hi, node_left,
    node_parent (nodes,), stack (INDEX_MAX_DEPTH * 2,))``, then ``lanes (Q, C + nodes)``,
    the live dimensions one row each, so that checks read them in sequence: in columns
    0 .. C - 1 the index's candidates in ``perm`` order (the scans' kept labels in the
    order kept), in column C + v the least usage of the kept labels below node v; and the
    scans' ``block (SCAN_BLOCK,)``."""
    nodes = 4 * (candidates // INDEX_LEAF + 1)
    return (np.empty(candidates, dtype=np.int64), np.empty(candidates, dtype=np.int64),
            np.zeros(candidates, dtype=np.bool_), np.empty(nodes, dtype=np.int64), np.empty(nodes, dtype=np.int64),
            np.empty(nodes, dtype=np.int64), np.empty(nodes, dtype=np.int64),
            np.empty(2 * INDEX_MAX_DEPTH, dtype=np.int64), np.empty((q, candidates + nodes)),
            np.empty(SCAN_BLOCK, dtype=np.bool_))


@njit(cache=True)
def _live_dimensions(free, nc):
    """Indices of the dimensions some of the ``nc`` candidates use (the others never tell
    labels apart)."""
    q = free.shape[1]
    live = np.empty(q, dtype=np.int64)
    n_live = 0
    for j in range(q):
        for c in range(nc):
            if free[c, j] > 0.0:
                live[n_live] = j
                n_live += 1
                break
    return live[:n_live]


@njit(cache=True)
def _build(free, nc, live, buffers):
    """Build the k-d tree over candidates 0 .. ``nc`` - 1 into ``buffers``: halve each
    node's range of ``perm`` (and of ``lanes``, which follow it) at the median of the live
    dimension it spreads widest (relative to the whole bucket's spread, so units do not
    matter) until a range holds at most INDEX_LEAF candidates. Every node starts with no
    kept label (min inf)."""
    perm, leaf_of, _, node_lo, node_hi, node_left, node_parent, _, lanes, _ = buffers
    base = perm.shape[0]  # node v's least usage is column base + v of ``lanes``
    n_live = live.shape[0]
    for c in range(nc):
        perm[c] = c
        for x in range(n_live):
            lanes[x, c] = free[c, live[x]]
    low, high = _ranges(lanes, n_live, 0, nc, 1)
    whole = np.maximum(high - low, 1e-300)
    node_lo[0], node_hi[0], node_parent[0] = 0, nc, -1
    n_nodes = 1
    node = 0
    while node < n_nodes:  # breadth first: children are appended behind their parent
        lo, hi = node_lo[node], node_hi[node]
        lanes[:n_live, base + node] = np.inf
        node_left[node] = -1
        if hi - lo > INDEX_LEAF:
            # the spreads of a sample choose the split as well as every candidate's
            low, high = _ranges(lanes, n_live, lo, hi, max(1, (hi - lo) // INDEX_SPREAD_SAMPLE))
            mid = (lo + hi) // 2
            _select(lanes, n_live, np.argmax((high - low) / whole), perm, lo, hi, mid)
            node_left[node] = n_nodes
            for child_lo, child_hi in ((lo, mid), (mid, hi)):
                node_lo[n_nodes], node_hi[n_nodes], node_parent[n_nodes] = child_lo, child_hi, node
                n_nodes += 1
        else:
            for i in range(lo, hi):
                leaf_of[perm[i]] = node
        node += 1


@njit(cache=True)
def _ranges(lanes, n_live, lo, hi, stride):
    """(low, high), each (n_live,): the least and greatest value of each of the first
    ``n_live`` rows of ``lanes`` over columns ``lo:hi``, every ``stride``-th."""
    low, high = np.empty(n_live), np.empty(n_live)
    for x in range(n_live):
        low[x], high[x] = np.inf, -np.inf
        for i in range(lo, hi, stride):
            low[x] = min(low[x], lanes[x, i])
            high[x] = max(high[x], lanes[x, i])
    return low, high


@njit(cache=True)
def _select(lanes, n_live, split, perm, lo, hi, mid):
    """Reorder columns ``lo:hi`` of ``perm`` and of the first ``n_live`` rows of ``lanes``
    alike so that ``lanes[split, mid]`` is the median of row ``split`` there: no larger
    value before ``mid``, no smaller after (Hoare's selection, middle pivot)."""
    key = lanes[split]
    while hi - lo > 1:
        pivot = key[(lo + hi) // 2]
        i, j = lo, hi - 1
        while i <= j:
            while key[i] < pivot:
                i += 1
            while key[j] > pivot:
                j -= 1
            if i <= j:
                perm[i], perm[j] = perm[j], perm[i]
                for x in range(n_live):
                    lanes[x, i], lanes[x, j] = lanes[x, j], lanes[x, i]
                i += 1
                j -= 1
        # now columns lo..j are <= pivot <= columns i..hi-1, and anything between equals it
        if mid <= j:
            hi = j + 1
        elif mid >= i:
            lo = i
        else:
            return


@njit(cache=True)
def skyband(order, free, nc, k, kept, buffers, work, work_limit, deadline):
    """Keep the candidates that fewer than k earlier candidates dominate, as far as the
    checks show (a dominated candidate kept is only extra work; counting only kept
    dominators is enough, as a dropped dominator has k kept dominators of its own, and
    they dominate the candidate too).

    ``order`` ranks the ``nc`` candidates by key, so only earlier ones can dominate;
    ``free`` (C, Q) holds their capped usages with free dimensions mapped to 0; ``buffers``
    come from ``index_buffers``. A bucket of at least INDEX_MIN_CANDIDATES candidates
    checks each one fully through the index; a smaller one scans its kept labels, fully
    while that pays (``DOMINANCE_TRIAL``), else the last DOMINANCE_WINDOW. Writes kept
    indices into ``kept``, adds the comparisons made to ``work[0]`` and returns how many,
    or -1 as soon as ``work[0]`` exceeds ``work_limit`` or the clock passes ``deadline``
    (looked at every CLOCK_COMPARISONS).
    """
    live = _live_dimensions(free, nc)
    if live.shape[0] == 0:
        nk = min(k, nc)
        kept[:nk] = order[:nk]
        return nk
    indexed = nc >= INDEX_MIN_CANDIDATES
    if indexed:
        _build(free, nc, live, buffers)
    return _kept_candidates(order, free, nc, k, kept, live, indexed, buffers, work, work_limit, deadline)


@njit(cache=True)
def _kept_candidates(order, free, nc, k, kept, live, indexed, buffers, work, work_limit, deadline):
    """``skyband``'s loop over the candidates, on the dimensions ``live``: through the index
    (built by ``_build``) when ``indexed``, else by scans.

    Each candidate's check is written out in this loop: a helper called per candidate
    paid an atomic reference count on every array it took, inlined or not (15% of the
    searches of generated ways 100x4 seed 1, perf; its first mode graph's solve took
    3.2 s, 2.8 s with the checks written out, 2.5 s as one loop over labels and nodes).
    """
    perm, leaf_of, is_kept, node_lo, node_hi, node_left, node_parent, stack, lanes, block = buffers
    base = perm.shape[0]  # node v's least usage is column base + v of ``lanes``
    is_kept[:nc] = False
    n_live = live.shape[0]
    # kth[x, :] = the k smallest values of live dimension x among kept labels (sorted): a
    # candidate below the k-th in some dimension has fewer than k dominators, unchecked
    kth = np.full((n_live, k), np.inf)
    here = np.empty(n_live)  # the candidate's live usages
    nk, checked, dropped, looked = 0, 0, 0, work[0]
    for u in range(nc):
        c = order[u]
        accept = False
        for x in range(n_live):
            here[x] = free[c, live[x]]
            accept = accept or here[x] < kth[x, k - 1]
        if not accept:
            # No array is passed or assigned in this loop: that costs reference counts too.
            dominators, comparisons = 0, 0
            if indexed:
                # each node whose kept labels may hold a dominator (a subtree none of whose
                # kept labels is small enough in some dimension is skipped; the lower child
                # along the split first, where dominators are likelier), and the kept ones
                # of each such leaf's candidates perm[lo:hi]: one column of ``lanes`` each
                top, lo, hi = 1, 0, 0
                stack[0] = 0
                while dominators < k:
                    node, column = -1, lo
                    if lo < hi:
                        lo += 1
                        if not is_kept[perm[column]]:
                            continue
                    elif top > 0:
                        top -= 1
                        node = stack[top]
                        column = base + node
                    else:
                        break
                    comparisons += 1
                    at_most = True
                    for x in range(n_live):
                        if lanes[x, column] > here[x]:
                            at_most = False
                            break
                    if node < 0:
                        dominators += at_most
                    elif at_most and node_left[node] >= 0:
                        stack[top], stack[top + 1] = node_left[node] + 1, node_left[node]
                        top += 2
                    elif at_most:
                        lo, hi = node_lo[node], node_hi[node]
            else:
                # the kept labels kept[lo:nk], all while checks pay (``DOMINANCE_TRIAL``),
                # else the last DOMINANCE_WINDOW, a block at a time
                full = checked < DOMINANCE_TRIAL or dropped * DOMINANCE_PAYS >= checked
                checked += 1
                lo = 0 if full else max(0, nk - DOMINANCE_WINDOW)
                while lo < nk and dominators < k:
                    size = min(SCAN_BLOCK, nk - lo)
                    block[:size] = True
                    for x in range(n_live):
                        for i in range(size):
                            block[i] &= lanes[x, lo + i] <= here[x]
                    for i in range(size):
                        dominators += block[i]
                    comparisons += size
                    lo += size
            work[0] += comparisons
            if work[0] > work_limit:
                return -1
            if deadline < np.inf and work[0] - looked >= CLOCK_COMPARISONS:
                looked = work[0]
                if clock() > deadline:
                    return -1
            accept = dominators < k
            dropped += not accept
        if not accept:
            continue
        kept[nk] = c
        is_kept[c] = True
        if not indexed:
            for x in range(n_live):
                lanes[x, nk] = here[x]
        nk += 1
        # lower the least usage of its leaf and of each ancestor, up to the first one it
        # does not lower (the ancestors above are no larger)
        node = leaf_of[c] if indexed else -1
        while node >= 0:
            lowered = False
            for x in range(n_live):
                if here[x] < lanes[x, base + node]:
                    lanes[x, base + node] = here[x]
                    lowered = True
            node = node_parent[node] if lowered else -1
        for x in range(n_live):
            p = k - 1
            if here[x] < kth[x, p]:
                while p > 0 and kth[x, p - 1] > here[x]:
                    kth[x, p] = kth[x, p - 1]
                    p -= 1
                kth[x, p] = here[x]
    return nk
