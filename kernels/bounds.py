"""Completion bounds: backward DPs that bound what the rest of a path can cost.

Everything here is a relaxation, so every value is a valid bound for the exact search:
per-dimension min/max completion usage, and Lagrangian bounds that price the caps. Arrays
are indexed by option t (T,) or arc e (A,) of the layered graph ``g`` (``contract``).
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .contract import Row
from .master import (artificial_used, master_add, master_duals, master_lp, master_reprice, master_solve,
                     master_value)
from .paths import arcs_row, capped, clock, within_caps


@njit(cache=True)
def by_dimension(g):
    """The usages of graph ``g`` as ``relaxed_costs`` reads them: ``(opt_class (T,) int32,
    opt_class_use (Q, Ko), arc_class (A,) int32, arc_class_use (R, Ka))``, the options'
    and the arcs' usages as their distinct rows (by dimension) and the row of each
    (``usage_classes``).

    A DAG's frontier-state graph has far fewer distinct usages than options and arcs (ways
    DAG 100x4 seed 0's first GPU mode graph: 1,243 for 95,701 options, 25,385 for 1.13M
    arcs), so a pass weighs each row once and gathers the costs from them, reading 4
    bytes per arc rather than 8 per weighed dimension (each cost is the same sum)."""
    opt_class, opt_class_use = usage_classes(g.opt_use, CLASSED_ROWS)
    arc_class, arc_class_use = usage_classes(g.arc_use, CLASSED_ROWS)
    return opt_class, opt_class_use, arc_class, arc_class_use


# Usages of fewer rows than this are not classed (``usage_classes``): their passes read
# little memory, and hashing them cost 4-8x copying them (generated 60-300-stage chains'
# and DAGs' graphs of 2,000-13,000 options and arcs: 24-152 us against 7-27 us)
CLASSED_ROWS = 1 << 16


@njit(cache=True)
def _transposed(use):
    """``use`` (X, D) copied as (D, X), reading it row by row (a contiguous copy of its
    transposed view took 66-70 ms on a ways DAG 100x4 mode graph's 1.04M arcs, this
    35-38 ms: a scratch script)."""
    out = np.empty((use.shape[1], use.shape[0]))
    for x in range(use.shape[0]):
        for j in range(use.shape[1]):
            out[j, x] = use[x, j]
    return out


@njit(cache=True)
def usage_classes(use, min_rows):
    """The distinct rows of ``use`` (X, D), bit for bit: ``(row_class (X,) int32, class_use
    (D, K))``, each row's class (numbered in order of first appearance) and the classes'
    rows by dimension, from an open-addressing hash table of the rows' bits that doubles
    as it fills (``_classify``): 37-40 ms on a ways DAG 100x4 mode graph's 1.13M arcs.
    Under ``min_rows`` rows each row is a class of its own."""
    x_count, d = use.shape
    if x_count < min_rows:
        return np.arange(x_count, dtype=np.int32), _transposed(use)
    bits = np.ascontiguousarray(use).reshape(-1).view(np.uint64)
    row_class = np.empty(x_count, dtype=np.int32)
    class_bits = np.empty(256 * d, dtype=np.uint64)
    class_hash = np.empty(256, dtype=np.int64)
    table = np.full(4 * class_hash.shape[0], -1, dtype=np.int64)
    done, n_classes = 0, 0
    while True:
        done, n_classes = _classify(bits, d, done, n_classes, row_class, class_bits, class_hash, table)
        if done == x_count:
            break
        class_bits, class_hash = _doubled(class_bits), _doubled(class_hash)
        table = _rehashed(class_hash[:n_classes], 4 * class_hash.shape[0])
    values = class_bits.view(np.float64)  # (the classes' rows, bit for bit)
    class_use = np.empty((d, n_classes))
    for k in range(n_classes):
        for j in range(d):
            class_use[j, k] = values[k * d + j]
    return row_class, class_use


@njit(cache=True)
def _classify(bits, d, done, n_classes, row_class, class_bits, class_hash, table):
    """Classify rows ``done`` ... of the (X, D) rows whose bits are ``bits`` (X * D,) uint64
    into ``row_class`` (X,), given the ``n_classes`` classes met so far: each class's row's
    bits ``class_bits`` (K * D,) and hash ``class_hash`` (K,), kept apart so that
    comparisons stay in cache, and ``table`` (S,), a power of 2 of slots
    holding a class (-1: empty; a quarter full at most). Returns the rows classified and
    the classes: it stops at the first row of a new class once K are held (the caller
    grows the arrays and goes on)."""
    mask = table.shape[0] - 1
    for x in range(done, row_class.shape[0]):
        key = _row_hash(bits, x * d, d)
        slot = key & mask
        k = table[slot]
        while k >= 0 and not (class_hash[k] == key and _same_words(class_bits, k * d, bits, x * d, d)):
            slot = (slot + 1) & mask
            k = table[slot]
        if k < 0:
            if n_classes == class_hash.shape[0]:
                return x, n_classes
            k = n_classes
            for j in range(d):
                class_bits[k * d + j] = bits[x * d + j]
            class_hash[k] = key
            table[slot] = k
            n_classes += 1
        row_class[x] = k
    return row_class.shape[0], n_classes


@njit(cache=True, inline="always")
def _row_hash(words, start, d):
    """A non-negative hash of ``words[start:start + d]`` (uint64; FNV-1a by word, mixed)."""
    h = np.uint64(1469598103934665603)
    for j in range(start, start + d):
        h = (h ^ words[j]) * np.uint64(1099511628211)
        h ^= h >> np.uint64(29)
    return np.int64(h >> np.uint64(1))


@njit(cache=True, inline="always")
def _same_words(a, a_start, b, b_start, d):
    """Whether ``a[a_start:a_start + d]`` equals ``b[b_start:b_start + d]``."""
    for j in range(d):
        if a[a_start + j] != b[b_start + j]:
            return False
    return True


@njit(cache=True)
def _doubled(a):
    """``a`` (X,) copied into an array of 2X (the rest unset)."""
    out = np.empty(2 * a.shape[0], dtype=a.dtype)
    out[:a.shape[0]] = a
    return out


@njit(cache=True)
def _rehashed(hashes, size):
    """A table of ``size`` slots (a power of 2) holding the classes whose hashes are
    ``hashes`` (K,) (``_classify``)."""
    table = np.full(size, -1, dtype=np.int64)
    for k in range(hashes.shape[0]):
        slot = hashes[k] & (size - 1)
        while table[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        table[slot] = k
    return table


@njit(cache=True)
def relaxed_costs(uses, coef, price, opt_cost, arc_cost):
    """Fill ``opt_cost`` (T,) and ``arc_cost`` (A,) with score + ``price`` . usage, from the
    graph's usages ``uses`` (``by_dimension``).

    ``price`` (Q,) is score units per unit of usage (0 for a free dimension). Each cost
    sums the dimensions in order, leaving out those of weight 0 (they add nothing: the
    same sums as by option and by arc), a dimension at a time: a pass reads only the
    dimensions the score and the prices weigh, and its loops vectorize. Column generation
    is mostly such passes (1.13M arcs by 7 dimensions, 4 of them weighed, random usages:
    3 ms against 9 ms by arc, a scratch script; ways DAG 100x4 seed 0's root LP, 44
    passes: 0.35-0.45 s against 0.69 s, the same bound). On a large graph each distinct
    usage row is weighed once and the options and arcs gather their costs from their
    rows (``by_dimension``: ways DAG 100x4 seed 0's first GPU mode graph, 1.13M arcs,
    2.4 -> 0.6 ms a pass).
    """
    opt_class, opt_class_use, arc_class, arc_class_use = uses
    _gathered(opt_class, opt_class_use, coef, price, opt_cost)
    _gathered(arc_class, arc_class_use, coef, price, arc_cost)


@njit(cache=True, inline="always")
def _gathered(row_class, class_use, coef, price, cost):
    """Fill ``cost`` (X,) with the weighted usage (``_weighted``) of each row's class
    ``row_class`` (X,) among the classes' usages ``class_use`` (D, K)."""
    if class_use.shape[1] == row_class.shape[0]:  # (each row its own class: numbered in order)
        _weighted(class_use, coef, price, cost)
        return
    class_cost = np.empty(class_use.shape[1])
    _weighted(class_use, coef, price, class_cost)
    for x in range(row_class.shape[0]):
        cost[x] = class_cost[row_class[x]]


@njit(cache=True)
def _weighted(use, coef, price, cost):
    """Fill ``cost`` (X,) with (``coef`` + ``price``) . ``use`` (D, X), dimension by dimension."""
    cost[:] = 0.0
    for j in range(use.shape[0]):
        weight = coef[j] + price[j]
        if weight != 0.0:
            for x in range(use.shape[1]):
                cost[x] += weight * use[j, x]


@njit(cache=True)
def backward_values(g, opt_cost, arc_cost, value, next_arc):
    """Fill V (T,): least cost of the steps after option t's, given t (inf: dead end), and
    ``next_arc`` (T,): the arc out of t that achieves it (the lowest head among ties; -1
    at the last step or a dead end)."""
    n = g.step_start.shape[0] - 1
    value[:] = np.inf
    next_arc[:] = -1
    value[g.step_start[n - 1]:g.step_start[n]] = 0.0
    for s in range(n - 1, 0, -1):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if value[b] == np.inf:
                continue
            via = opt_cost[b] + value[b]
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                a = g.arc_tail[e]
                c = arc_cost[e] + via
                if c < value[a]:
                    value[a] = c
                    next_arc[a] = e


@njit(cache=True)
def best_path(g, opt_cost, value, next_arc, path, arcs):
    """Write the cheapest path under ``opt_cost`` and the arcs ``next_arc`` chose (both from
    ``backward_values``) into ``path`` (N,) and its arcs into ``arcs`` (N,); returns its cost."""
    n = g.step_start.shape[0] - 1
    best = np.inf
    for b in range(g.step_start[0], g.step_start[1]):
        c = opt_cost[b] + value[b]
        if c < best:
            best = c
            path[0] = b
    if best == np.inf:
        return best
    for s in range(1, n):
        arcs[s] = next_arc[path[s - 1]]
        path[s] = g.arc_head[arcs[s]]
    return best


#: relative rounding error per term of a sum of step usages (a few units in the last place)
SUM_ROUNDING = 4.0 * 2.220446049250313e-16


@njit(cache=True, inline="always")
def rounding_slack(cap, n_steps):
    """How far sums of ``n_steps`` step usages near ``cap`` may disagree in the order they
    are summed: a bound compared with a cap must exceed it by more to prune anything."""
    return SUM_ROUNDING * (n_steps + 1) * max(1.0, abs(cap))


@njit(cache=True)
def cap_tests(caps, least, most, n_steps):
    """The completion bounds the pruning tests compare with the caps (Q,), made safe
    against rounding: a label's total is summed step by step while ``least`` and ``most``
    are summed backwards, so near a cap the two orders can disagree in the last bits.

    Returns ``(prune_least, thr)``, both (T, Q): a label at option t whose usage u has
    ``u + prune_least > cap`` cannot fit (``least`` lowered by the rounding slack, never
    below 0, so the last step's test stays exact); at or below ``thr`` it can never meet
    the cap again, so that dimension is free (``caps - most`` lowered by the slack; inf for
    uncapped dimensions).
    """
    t_count, q = most.shape
    prune_least = least.copy()
    thr = np.full((t_count, q), np.inf)
    for j in range(q):
        if caps[j] < np.inf:
            slack = rounding_slack(caps[j], n_steps)
            thr[:, j] = caps[j] - most[:, j] - slack
            prune_least[:, j] = np.maximum(least[:, j] - slack, 0.0)
    return prune_least, thr


@njit(cache=True)
def completion_usage(g):
    """Least and greatest usage the steps after option t's can add, given t.

    Returns ``(least, most)``, both (T, Q); ``least`` is inf and ``most`` is -inf where
    no completion exists. ``least`` prunes labels that cannot fit; ``caps - most`` is the
    free-dimension threshold below which a label can never meet that cap again (both
    through ``cap_tests``).
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    least = np.full((t_count, q), np.inf)
    most = np.full((t_count, q), -np.inf)
    least[g.step_start[n - 1]:g.step_start[n]] = 0.0
    most[g.step_start[n - 1]:g.step_start[n]] = 0.0
    for s in range(n - 1, 0, -1):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if least[b, 0] == np.inf:
                continue
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                a = g.arc_tail[e]
                for j in range(q):
                    add = g.arc_use[e, j] + g.opt_use[b, j] if j < g.arc_use.shape[1] else g.opt_use[b, j]
                    lo = add + least[b, j]
                    hi = add + most[b, j]
                    if lo < least[a, j]:
                        least[a, j] = lo
                    if hi > most[a, j]:
                        most[a, j] = hi
    return least, most


# Column generation ends when its bound meets the master's value within this relative gap
# (the bound is then the LP optimum) or a plan met on the way (then it is proven optimal)
DUAL_GAP = 1e-9
# the artificial column's cost grows by this factor whenever the master still uses it at
# its optimum (its first cost, twice the costliest path, may be cheaper than mixing it in)
ARTIFICIAL_GROWTH = 100.0
# Wentges smoothing of a whole graph's LP (``lagrangian_prices``): each pricing pass after
# the first prices multipliers this share of the way from the master's duals to the best
# bound's multipliers so far (0: Kelley's plain column generation). Passes to the LP
# optimum, a Python copy of ``column_generation`` over these kernels: generated ways DAG
# 100x4 seed 2's GPU mode graphs 52 -> 40 and 47 -> 37 (-> 32 started from the other
# mode's multipliers), seed 0's 44 -> 34, ways 200x4 seed 2 34 -> 28, ways DAG 60x4 seed 0
# 30 -> 33. The tree's node LPs (``tree.node_lp``) and the dive's price at the duals:
# smoothed, 286 strong-branching children of ways DAG 100x4 seed 2's tree took 13.2 passes
# each rather than 15.3, but 11 of 13 benchmark instances' warm top-1 plans took 2-68%
# longer (ways DAG 100x4 seed 2 0.92 -> 1.17 s, ways 200x4 seed 2 1.22 -> 2.04 s; a build
# of each, a script timing the best of three calls): their trees' columns and bases moved.
SMOOTHING = 0.6


@njit(cache=True)
def dual_pass(g, uses, coef, caps, lam, allowed, price, opt_cost, arc_cost, value, next_arc, path, arcs, row):
    """The Lagrangian dual at multipliers ``lam`` (Q,) on the normalised usages (0 on uncapped
    dimensions) over the paths of ``g`` (``uses``: ``by_dimension(g)``) whose every option is
    ``allowed`` (T,) bool: fills ``price`` (Q,), the graph's relaxed costs (inf on options not
    allowed), ``value`` (T,) and ``next_arc`` (``backward_values``), the cheapest relaxed path
    ``path`` / ``arcs`` (N,) and its plan ``row``; returns the bound (inf: no path at all)."""
    total = 0.0
    for j in range(caps.shape[0]):
        price[j] = lam[j] / caps[j] if lam[j] > 0.0 else 0.0
        total += lam[j]
    relaxed_costs(uses, coef, price, opt_cost, arc_cost)
    for t in range(opt_cost.shape[0]):
        if not allowed[t]:
            opt_cost[t] = np.inf
    backward_values(g, opt_cost, arc_cost, value, next_arc)
    relaxed = best_path(g, opt_cost, value, next_arc, path, arcs)
    if relaxed == np.inf:
        return np.inf
    arcs_row(g, coef, path, arcs, row)
    return relaxed - total


@njit(cache=True)
def costliest_path(g, opt_cost, arc_cost, value):
    """The greatest cost of any path under ``opt_cost`` (T,) and ``arc_cost`` (A,) through
    options of finite cost (those ``dual_pass`` allows), using ``value`` (T,) as scratch
    (-inf: no path): no plan through them scores more."""
    n = g.step_start.shape[0] - 1
    value[:] = -np.inf
    value[g.step_start[n - 1]:g.step_start[n]] = 0.0
    for s in range(n - 1, 0, -1):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if value[b] == -np.inf or opt_cost[b] == np.inf:
                continue
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                value[g.arc_tail[e]] = max(value[g.arc_tail[e]], arc_cost[e] + opt_cost[b] + value[b])
    most = -np.inf
    for b in range(g.step_start[0], g.step_start[1]):
        if opt_cost[b] < np.inf:
            most = max(most, opt_cost[b] + value[b])
    return most


@njit(cache=True)
def lagrangian_prices(g, uses, coef, caps, n_iter, deadline, start=None):
    """Multipliers on the caps that maximise the Lagrangian dual over the paths of ``g``
    (``uses``: ``by_dimension(g)``), by column generation.

    For multipliers lam (Q,) >= 0 on the normalised usages u_q / cap_q, any feasible
    completion of a label costs at least
        V_lam(t) - sum_q lam_q + sum_q price_q * used_q,   price_q = lam_q / cap_q.
    The best lam is the dual of the LP over convex combinations of paths (``master``):
    each iteration prices the master's duals with one shortest-path pass, whose value is a
    bound and whose path is the master's next column. It ends when the bound meets the
    master's value (the LP optimum: 0.3-6 ms on YOLOv3 and the 100-500-stage families,
    ``python -m benchmarks.bounds``), when a plan met on the way meets it (optimal), after
    ``n_iter`` passes, or past the ``clock`` time ``deadline`` (inf: none; the bound is then
    the best pass's, still a bound: a ways DAG's frontier-state graph of 164,000 options
    takes 1.7 s to its LP optimum). ``start`` (Q,): the multipliers of the first pass
    (None: zero), e.g. the best of an LP over another graph with the same dimensions and
    caps (a model's other mode graph: generated ways DAG 100x4 seed 2's second GPU mode
    graph, 105,177 options, priced at the first's is 0.015% below its LP optimum, which it
    then reaches in 32 passes rather than 47).

    Returns ``(prices (2, Q), values (2, T), lam_sums (2,), dual_bound, incumbent,
    incumbent_path (N,))``: the multiplier sets of the first pass and the best (a label's
    bound is the best over the sets); ``dual_bound`` a lower bound on the best feasible
    score (inf when no plan exists: no path at all, or a bound above the costliest path),
    ``incumbent`` the plan row of the best feasible plan met on the way (score inf if
    none) and ``incumbent_path`` its options: ``column_generation`` over every option.
    """
    t_count = g.opt_use.shape[0]
    nothing = column_pool(0, g.step_start.shape[0] - 1, g.opt_use.shape[1])
    first = np.zeros(caps.shape[0]) if start is None else start
    return column_generation(g, uses, coef, caps, n_iter, np.ones(t_count, dtype=np.bool_), np.empty(t_count),
                             deadline, nothing, np.inf, nothing, first, SMOOTHING)


class ColumnPool(NamedTuple):
    """Paths that earlier LPs over one graph generated, kept to seed the masters of later
    LPs over parts of it (a tree's nodes; the dive keeps none, ``dive.lp_dive``): a column
    whose every option the later LP allows is one of its paths, and a master that starts
    from them needs far fewer pricing passes (generated ways 200x4 seed 0, the children of
    its root LP: 12-25 passes each against 40-48 from an empty master, a scratch
    prototype)."""

    paths: np.ndarray  # (C, N) int64: each column's options
    rows: np.ndarray  # (C, 1 + Q): each column's plan row
    held: np.ndarray  # (2,) int64: the columns held, the slot the next one takes (the oldest once full)
    costliest: np.ndarray  # (1,) the greatest score of any path of the graph (nan: not computed yet)


@njit(cache=True)
def column_pool(capacity, n, q):
    """An empty ``ColumnPool`` for ``capacity`` paths of ``n`` steps over ``q`` dimensions
    (0: one that keeps nothing)."""
    return ColumnPool(np.zeros((capacity, n), dtype=np.int64), np.zeros((capacity, Row.USE + q)),
                      np.zeros(2, dtype=np.int64), np.full(1, np.nan))


@njit(cache=True)
def keep_column(columns, path, row):
    """Keep ``path`` (N,) with its plan ``row`` in ``columns``, unless it holds it already."""
    capacity = columns.paths.shape[0]
    if capacity == 0:
        return
    for c in range(columns.held[0]):
        if columns.rows[c, Row.SCORE] == row[Row.SCORE] and np.array_equal(columns.paths[c], path):
            return
    slot = columns.held[1]
    columns.paths[slot] = path
    columns.rows[slot] = row
    columns.held[0] = min(capacity, columns.held[0] + 1)
    columns.held[1] = (slot + 1) % capacity


@njit(cache=True)
def _allowed_columns(columns, allowed):
    """The indices (S,) of the ``columns`` whose every option is ``allowed`` (T,)."""
    chosen = np.empty(columns.held[0], dtype=np.int64)
    count = 0
    for c in range(columns.held[0]):
        ok = True
        for t in columns.paths[c]:
            if not allowed[t]:
                ok = False
                break
        if ok:
            chosen[count] = c
            count += 1
    return chosen[:count]


@njit(cache=True)
def column_generation(g, uses, coef, caps, n_iter, allowed, share, deadline, columns, cutoff, basis_columns, start,
                      smoothing):
    """``lagrangian_prices`` over the paths of ``g`` (``uses``: ``by_dimension(g)``) whose
    every option is ``allowed`` (T,) bool, its master seeded with the ``columns`` (a
    ``ColumnPool``) that are such paths, and every column it generates kept there; also
    fills ``share`` (T,) with the weight the master's last solution puts on each option
    (the LP's fractional placement: each step's shares sum to 1 once the master needs no
    artificial column, less while it does), and ``basis_columns`` (a ``ColumnPool`` of at
    least Q + 1 columns, emptied first; of none: nothing kept) with the path columns of the
    master's last basis, from which a later LP over the same paths starts at its optimum.
    Seeded, its first pass prices the seeded master's duals where it fits without the
    artificial column (the first multiplier set returned, ``start`` (Q,) otherwise), and the
    artificial's cost comes from the costliest path of all of ``g`` (``_pool_costliest``)
    rather than from a first pass at zero. It stops once
    its bound passes ``cutoff`` (inf: none): no path through the allowed options scores at
    most that, which is all a caller pruning by it needs (strong branching: 1,205 of ways
    DAG 100x4 seed 2's 4,960 children's LPs, 0.20 of their 0.59 s, ended past the tree's
    best plan, in a copy of the kernels printing each). Each later pass prices the master's
    duals ``smoothing`` of the way towards the best bound's multipliers (``_smoothed_pass``;
    0: at the duals)."""
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    dims = capped_dimensions(caps)
    n_capped = dims.shape[0]
    prices = np.zeros((2, q))
    values = np.empty((2, t_count))
    lam_sums = np.zeros(2)
    lam = np.zeros(q)  # (a multiplier on a capped dimension only)
    for i in range(n_capped):
        lam[dims[i]] = max(0.0, start[dims[i]])
    priced = np.empty(q)  # the multipliers of the last pass
    price = np.zeros(q)
    opt_cost = np.empty(t_count)
    arc_cost = np.empty(g.arc_tail.shape[0])
    value = np.empty(t_count)
    next_arc = np.empty(t_count, dtype=np.int64)
    path = np.zeros(n, dtype=np.int64)
    arcs = np.zeros(n, dtype=np.int64)
    row = np.empty(Row.USE + q)
    incumbent = np.full(Row.USE + q, np.inf)
    incumbent_path = np.zeros(n, dtype=np.int64)
    share[:] = 0.0
    basis_columns.held[:] = 0
    seeds = _allowed_columns(columns, allowed)
    warm = seeds.shape[0] > 0
    master = np.inf
    if warm:
        # the first pass prices the duals of the master of the columns it starts from, where
        # they fit without the artificial, not zero multipliers (generated ways DAG 100x4 seed
        # 2: the tree's LPs 49.6k -> 41.1k passes, its warm eip.plan -13%; a copy printing
        # each LP's passes, and alternating processes)
        costliest = _pool_costliest(g, uses, coef, columns, opt_cost, arc_cost)
        master_parts = _seeded_master(columns, seeds, dims, caps, n_iter, costliest, incumbent, incumbent_path)
        tab, rhs, reduced, cost, basis, column_paths, column_rows, n_cols = master_parts
        master_solve(tab, rhs, reduced, basis, n_cols)
        if not artificial_used(rhs, basis):
            master = master_value(rhs, cost, basis)
            for i in range(n_capped):
                lam[dims[i]] = max(0.0, reduced[i])
    priced[:] = lam
    bound = dual_pass(g, uses, coef, caps, lam, allowed, price, opt_cost, arc_cost, value, next_arc, path, arcs, row)
    values[0] = value
    values[1] = value
    if bound == np.inf:
        return prices, values, lam_sums, np.inf, incumbent, incumbent_path
    if not warm:
        # (a first pass at zero costs the scores, inf on the options not allowed; priced at
        # ``start`` it does not, and the costliest path of all of ``g`` bounds those too)
        costliest = costliest_path(g, opt_cost, arc_cost, np.empty(t_count)) if not np.any(lam > 0.0) \
            else _pool_costliest(g, uses, coef, columns, opt_cost, arc_cost)
        master_parts = _seeded_master(columns, seeds, dims, caps, n_iter, costliest, incumbent, incumbent_path)
        tab, rhs, reduced, cost, basis, column_paths, column_rows, n_cols = master_parts
    m = n_capped + 1
    duals = np.empty(m)
    column = np.ones(m)
    dual = -np.inf
    prices[0] = price
    for i in range(n_capped):
        lam_sums[0] += lam[dims[i]]
    center = lam.copy()  # the multipliers of the best bound so far
    for it in range(n_iter):
        if it > 0:
            if deadline < np.inf and clock() > deadline:
                break  # (the shares then describe the master so far)
            settled = master if not artificial_used(rhs, basis) else np.inf
            bound = _smoothed_pass(g, uses, coef, caps, lam, center, settled, smoothing, allowed, priced, price,
                                   opt_cost, arc_cost, value, next_arc, path, arcs, row)
        if within_caps(row, caps) and row[Row.SCORE] < incumbent[Row.SCORE]:
            incumbent[:] = row
            incumbent_path[:] = path
        if bound > dual:
            dual = bound
            values[1] = value
            prices[1] = price
            center[:] = priced
            lam_sums[1] = 0.0
            for i in range(n_capped):
                lam_sums[1] += priced[dims[i]]
        if dual > costliest + DUAL_GAP * max(1.0, abs(costliest)):
            return prices, values, lam_sums, np.inf, incumbent, incumbent_path
        if dual > cutoff:
            break  # (the shares then describe the master so far)
        best = incumbent[Row.SCORE]
        if best < np.inf and best - dual <= DUAL_GAP * max(1.0, abs(best)):
            break  # the plan met is optimal
        if master - dual <= DUAL_GAP * max(1.0, abs(master)):
            if not artificial_used(rhs, basis):
                break  # the LP optimum
            # the artificial column is still cheaper than fitting: raise its cost
            cost[m - 1] *= ARTIFICIAL_GROWTH
            master_reprice(tab, reduced, cost, basis, n_cols)
        else:
            _master_column(tab, reduced, cost, n_cols, column, duals, dims, caps, row)
            column_paths[n_cols - m] = path
            column_rows[n_cols - m] = row
            n_cols += 1
            keep_column(columns, path, row)
        master_solve(tab, rhs, reduced, basis, n_cols)
        master = master_value(rhs, cost, basis)
        for i in range(n_capped):
            lam[dims[i]] = max(0.0, reduced[i])
    for i in range(m):
        if basis[i] >= m:  # a path column (the first m are the slacks and the artificial)
            for s in range(n):
                share[column_paths[basis[i] - m, s]] += rhs[i]
            keep_column(basis_columns, column_paths[basis[i] - m], column_rows[basis[i] - m])
    return prices, values, lam_sums, dual, incumbent, incumbent_path


@njit(cache=True)
def _smoothed_pass(g, uses, coef, caps, lam, center, master, smoothing, allowed, priced, price, opt_cost, arc_cost,
                   value, next_arc, path, arcs, row):
    """A pricing pass of ``column_generation`` (``dual_pass``, its arrays) at multipliers
    (Q,) ``smoothing`` of the way from the master's duals ``lam`` to ``center``, the best
    bound's, which it writes into ``priced``; once more at ``lam`` when that pass's path
    would not improve the master of value ``master`` (a mispricing), and at once where the
    master has no value without the artificial column (``master`` inf). Smoothing damps
    the duals' swings from pass to pass; a pass at ``lam`` itself always adds a column
    that improves the master, so column generation still ends at the LP optimum."""
    if master < np.inf and smoothing > 0.0:
        for j in range(lam.shape[0]):
            priced[j] = smoothing * center[j] + (1.0 - smoothing) * lam[j]
        bound = dual_pass(g, uses, coef, caps, priced, allowed, price, opt_cost, arc_cost, value, next_arc, path,
                          arcs, row)
        if bound == np.inf or _priced_value(row, lam, caps) < master - DUAL_GAP * max(1.0, abs(master)):
            return bound
    priced[:] = lam
    return dual_pass(g, uses, coef, caps, lam, allowed, price, opt_cost, arc_cost, value, next_arc, path, arcs, row)


@njit(cache=True, inline="always")
def _priced_value(row, lam, caps):
    """The Lagrangian value of the plan ``row`` (1 + Q,) at multipliers ``lam`` (Q,) on the
    normalised usages: below the master's value where its path improves the master."""
    value = row[Row.SCORE]
    for j in range(lam.shape[0]):
        if lam[j] > 0.0:
            value += lam[j] * (row[Row.USE + j] / caps[j] - 1.0)
    return value


@njit(cache=True)
def _seeded_master(columns, seeds, dims, caps, n_iter, costliest, incumbent, incumbent_path):
    """The master of ``column_generation`` with room for ``n_iter`` generated columns, holding
    the ``columns`` of the pool indexed by ``seeds`` (S,), over the capped dimensions ``dims``
    (C,): ``(tab, rhs, reduced, cost, basis, column_paths, column_rows, n_cols)``
    (``master.master_lp``, each column's path and plan row, the columns so far). No plan
    scores above ``costliest``: the artificial column costs more than any combination of
    paths, and a bound above it proves that no plan fits. A seed within ``caps`` that scores
    below ``incumbent`` (1 + Q,) replaces it and ``incumbent_path`` (N,)."""
    m = dims.shape[0] + 1
    tab, rhs, reduced, cost, basis = master_lp(m, n_iter + seeds.shape[0], 2.0 * abs(costliest) + 1.0)
    column_paths = np.empty((n_iter + seeds.shape[0], columns.paths.shape[1]), dtype=np.int64)
    column_rows = np.empty((n_iter + seeds.shape[0], columns.rows.shape[1]))
    duals = np.empty(m)
    column = np.ones(m)
    n_cols = m
    for c in seeds:
        seed = columns.rows[c]
        if within_caps(seed, caps) and seed[Row.SCORE] < incumbent[Row.SCORE]:
            incumbent[:] = seed
            incumbent_path[:] = columns.paths[c]
        _master_column(tab, reduced, cost, n_cols, column, duals, dims, caps, seed)
        column_paths[n_cols - m] = columns.paths[c]
        column_rows[n_cols - m] = seed
        n_cols += 1
    return tab, rhs, reduced, cost, basis, column_paths, column_rows, n_cols


@njit(cache=True)
def _pool_costliest(g, uses, coef, columns, opt_cost, arc_cost):
    """The greatest score of any path of ``g`` (``uses``: ``by_dimension(g)``), kept in the
    ``columns`` pool of its LPs once computed: a bound on every LP over a part of ``g``
    (``opt_cost`` (T,) and ``arc_cost`` (A,) are scratch)."""
    if np.isnan(columns.costliest[0]):
        relaxed_costs(uses, coef, np.zeros(coef.shape[0]), opt_cost, arc_cost)
        columns.costliest[0] = costliest_path(g, opt_cost, arc_cost, np.empty(opt_cost.shape[0]))
    return columns.costliest[0]


@njit(cache=True)
def _master_column(tab, reduced, cost, n_cols, column, duals, dims, caps, row):
    """Append the path of plan ``row`` (1 + Q,) to the master as its column ``n_cols``:
    its usages of the capped dimensions ``dims`` (C,) over their ``caps``, then 1 (the
    convexity row), written into ``column`` (C + 1,); ``duals`` (C + 1,) is scratch."""
    for i in range(dims.shape[0]):
        column[i] = row[Row.USE + dims[i]] / caps[dims[i]]
    master_duals(reduced, cost, tab.shape[0], duals)
    master_add(tab, reduced, cost, n_cols, column, row[Row.SCORE], duals)


@njit(cache=True)
def capped_dimensions(caps):
    """(C,) the dimensions whose cap binds at all (``paths.capped``)."""
    chosen = np.zeros(caps.shape[0], dtype=np.bool_)
    for j in range(caps.shape[0]):
        chosen[j] = capped(caps[j])
    return np.flatnonzero(chosen)


@njit(cache=True)
def binding_caps(g, caps):
    """``caps`` (Q,) with inf on each dimension that no path of ``g`` can break (every first
    option's usage lies within its free-dimension threshold, ``cap_tests``): an LP over
    paths of ``g`` (or any part of it) within them has the same optimum and multipliers,
    and a plan it meets fits them exactly when it fits ``caps``, but its master has a row
    less for each (a tree's graphs: ``_tree``)."""
    least, most = completion_usage(g)
    _, thr = cap_tests(caps, least, most, g.step_start.shape[0] - 1)
    out = caps.copy()
    for j in range(caps.shape[0]):
        free = capped(caps[j])  # (at or below ``thr`` no completion meets the cap: from the first step, none does)
        for t in range(g.step_start[0], g.step_start[1]):
            free = free and g.opt_use[t, j] <= thr[t, j]
        if free:
            out[j] = np.inf
    return out


@njit(cache=True)
def table_dimensions(caps, price):
    """(A,) the dimensions that get a bound table (``resource_tables``): capped and priced
    by the multipliers ``price`` (Q,)."""
    dims = capped_dimensions(caps)
    return dims[price[dims] > 0.0]


@njit(cache=True)
def resource_tables(g, coef, caps, price, grid, scratch):
    """Completion bounds exact in one capped dimension, Lagrangian in the others.

    For each capped dimension q (cap in (0, inf)) that ``price`` prices (> 0: the LP binds
    it; tables of every capped dimension keep the same labels at 2-4x the cost on YOLOv3
    and the 100-200-stage families, ``python -m benchmarks.bounds``), ``table[i, t, c]`` is
    the least cost of
    the steps after option t's, given t, over completions whose usage of q, in units of
    ``cap_q / grid`` rounded down per step, totals at most c; the cost is score +
    ``price`` . usage with dimension q itself unpriced. Rounding down per step never
    excludes a completion that truly fits, so a label with remaining room r on q completes
    for at least ``table[i, t, floor(r / unit)] - sum_{j != q} lam_j + sum_{j != q}
    price_j * used_j``. Returns ``(table (A, T, grid + 1), dims (A,), units (A,))``;
    ``grid`` 0 builds no table (A = 0). The tables are written into ``scratch`` (1-D) when
    it holds them, else into a new array: a solve that rebuilds tables for every search
    (500x8 seed 0: a dozen) reuses one block of memory instead of paying page faults on a
    fresh one each time (README.md, "Completion bounds").
    """
    n = g.step_start.shape[0] - 1
    t_count = g.opt_use.shape[0]
    dims = table_dimensions(caps, price) if grid > 0 else np.zeros(0, dtype=np.int64)
    n_dims = dims.shape[0]
    units = np.empty(n_dims)
    for i in range(n_dims):
        units[i] = caps[dims[i]] / grid
    cells = n_dims * t_count * (grid + 1)
    if scratch.shape[0] >= cells:
        table = scratch[:cells].reshape((n_dims, t_count, grid + 1))
        table[:] = np.inf
    else:
        table = np.full((n_dims, t_count, grid + 1), np.inf)
    opt_cost = np.empty(t_count)
    arc_cost = np.empty(g.arc_tail.shape[0])
    uses = by_dimension(g)
    for i in range(n_dims):
        j = dims[i]
        unit = units[i]
        own = price.copy()
        own[j] = 0.0
        relaxed_costs(uses, coef, own, opt_cost, arc_cost)
        tab = table[i]
        tab[g.step_start[n - 1]:g.step_start[n], :] = 0.0
        for s in range(n - 1, 0, -1):
            for b in range(g.step_start[s], g.step_start[s + 1]):
                if tab[b, grid] == np.inf:
                    continue
                for e in range(g.arc_start[b], g.arc_start[b + 1]):
                    a = g.arc_tail[e]
                    cost = arc_cost[e] + opt_cost[b]
                    use = g.arc_use[e, j] + g.opt_use[b, j] if j < g.arc_use.shape[1] else g.opt_use[b, j]
                    w = int(np.floor(use / unit))
                    if w > grid:
                        continue
                    # row slices and a select, not a branch: the loop vectorizes (same
                    # tables; the at-scale command: 500x8 seeds 0 / 1 in 184 / 1138 ms at
                    # 3d94ab8, 235 / 1247 ms at e2ad6dd)
                    src, dst = tab[b, :grid + 1 - w], tab[a, w:]
                    for c in range(src.shape[0]):
                        v = cost + src[c]
                        dst[c] = v if v < dst[c] else dst[c]
    return table, dims, units


#: margin by which a relaxation must exceed the caps to prove infeasibility: far above the
#: rounding of any sum of step usages, far below any real excess
CERTIFICATE_MARGIN = 1e-9
# shortest-path passes of a certificate between two looks at the clock (a pass over a ways
# DAG's 100k-option frontier-state graph takes about 14 ms; the root's 200 took 2.7 s)
CERTIFICATE_CLOCK_EVERY = 8


@njit(cache=True)
def infeasibility_certificate(g, caps, n_iter):
    """Search weights w >= 0, sum 1, on the capped dimensions such that every path has
    ``sum_q w_q * usage_q / cap_q > 1``: then no path fits every cap (a Farkas-style proof,
    what an LP solver finds when the relaxation is infeasible).

    Returns the largest ``min_path sum_q w_q usage_q / cap_q`` found within ``n_iter``
    Viterbi passes (> 1 + CERTIFICATE_MARGIN is a proof; inf when no path exists at all):
    ``restricted_certificate`` over every option.
    """
    t_count = g.opt_use.shape[0]
    fitting = np.empty(g.step_start.shape[0] - 1, dtype=np.int64)
    ratio, _ = restricted_certificate(g, caps, n_iter, np.ones(t_count, dtype=np.bool_), uniform_weights(caps), 0,
                                      fitting, np.inf)
    return ratio


@njit(cache=True)
def uniform_weights(caps):
    """(Q,) the certificate's first weights: equal on the capped dimensions, 0 elsewhere."""
    weight = np.zeros(caps.shape[0])
    for j in range(caps.shape[0]):
        if capped(caps[j]):
            weight[j] = 1.0
    total = weight.sum()
    return weight / total if total > 0 else weight


@njit(cache=True)
def restricted_certificate(g, caps, n_iter, allowed, weight, first_iteration, fitting, deadline):
    """``infeasibility_certificate`` over the paths whose every option is ``allowed`` (T,)
    bool, from the weights ``weight`` (Q,; updated in place) as if ``first_iteration``
    iterations had been made, until the ``clock`` time ``deadline`` (read every
    CERTIFICATE_CLOCK_EVERY passes). Returns ``(ratio, fits)``: the largest ratio found, and
    whether a path met on the way fits every cap (then there is no proof to find, and
    ``fitting`` (N,) holds its options).

    The weights follow multiplicative updates towards the dimensions the cheapest path
    under the current weights overuses, each dimension's overuse relative to the largest
    one (so that an overuse of 1% moves the weights as fast as one of 100%; clipped to
    [-1, 1] for slack), with steps shrinking as 1 / sqrt(iteration).
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    active = np.zeros(q, dtype=np.bool_)
    for j in range(q):
        active[j] = capped(caps[j])
    best = -np.inf  # with no capped dimension the weights are 0 and a path is still met and checked
    zero = np.zeros(q)
    price = np.zeros(q)
    opt_cost = np.empty(t_count)
    arc_cost = np.empty(g.arc_tail.shape[0])
    value = np.empty(t_count)
    next_arc = np.empty(t_count, dtype=np.int64)
    path = np.zeros(n, dtype=np.int64)
    arcs = np.zeros(n, dtype=np.int64)
    row = np.empty(Row.USE + q)
    uses = by_dimension(g)
    for it in range(n_iter):
        if deadline < np.inf and it % CERTIFICATE_CLOCK_EVERY == CERTIFICATE_CLOCK_EVERY - 1 and clock() > deadline:
            break
        for j in range(q):
            price[j] = weight[j] / caps[j] if active[j] else 0.0
        relaxed_costs(uses, zero, price, opt_cost, arc_cost)
        for t in range(t_count):
            if not allowed[t]:
                opt_cost[t] = np.inf
        backward_values(g, opt_cost, arc_cost, value, next_arc)
        least = best_path(g, opt_cost, value, next_arc, path, arcs)
        if least > best:
            best = least
        if best > 1.0 + CERTIFICATE_MARGIN:
            break
        arcs_row(g, zero, path, arcs, row)
        if within_caps(row, caps):
            fitting[:] = path
            return best, True
        overuse = 0.0
        for j in range(q):
            if active[j]:
                overuse = max(overuse, row[Row.USE + j] / caps[j] - 1.0)
        if overuse <= 0.0:  # it breaks only a cap of 0, which no weight can price
            break
        step = 1.0 / np.sqrt(first_iteration + it + 1.0)
        total = 0.0
        for j in range(q):
            if active[j]:
                gain = min(1.0, max(-1.0, (row[Row.USE + j] / caps[j] - 1.0) / overuse))
                weight[j] *= np.exp(step * gain)
                total += weight[j]
        for j in range(q):
            weight[j] /= total
    return best, False


#: the branching proof's outcomes (``branched_certificate``)
BRANCH_PROVEN, BRANCH_FITS, BRANCH_STOPPED = 1, 0, -1


@njit(cache=True)
def branched_certificate(g, caps, root_iter, n_iter, node_limit, deadline, fitting):
    """Prove that no path fits ``caps`` by branching where the certificate alone cannot
    (the relaxation fits, the integer problem does not).

    Depth first, each node fixes one more step to one of its options (``_branching_order``)
    and is closed when ``restricted_certificate`` proves that no path through it fits
    (``root_iter`` passes at the root; ``n_iter`` at a node, from its parent's weights), or
    when it has fixed every step with a choice and its one path breaks a cap. Returns
    ``(outcome, nodes)``: BRANCH_PROVEN when every node closed; BRANCH_FITS when a path met
    on the way fits (its options in ``fitting`` (N,)); BRANCH_STOPPED after ``node_limit``
    nodes or past the ``clock`` time ``deadline``.
    """
    n = g.step_start.shape[0] - 1
    order, branching, children = _branching_order(g, caps)
    allowed = np.ones(g.opt_use.shape[0], dtype=np.bool_)
    position = np.zeros(n, dtype=np.int64)  # per depth, the child taken (index into its step's children)
    weights = np.empty((n + 1, caps.shape[0]))  # per depth, the weights its node's certificate ended with
    depth = 0
    for nodes in range(1, node_limit + 1):
        if deadline < np.inf and clock() > deadline:  # (a node takes n_iter shortest-path passes at least)
            return BRANCH_STOPPED, nodes
        if depth == 0:
            weights[0] = uniform_weights(caps)
            ratio, fits = restricted_certificate(g, caps, root_iter, allowed, weights[0], 0, fitting, deadline)
        else:
            weights[depth] = weights[depth - 1]
            ratio, fits = restricted_certificate(g, caps, n_iter, allowed, weights[depth], root_iter // 2, fitting,
                                                 deadline)
        if fits:
            return BRANCH_FITS, nodes
        if not ratio > 1.0 + CERTIFICATE_MARGIN and depth < branching:
            lo, hi = g.step_start[order[depth]], g.step_start[order[depth] + 1]  # open: fix the next step
            allowed[lo:hi] = False
            allowed[children[lo]] = True
            position[depth] = 0
            depth += 1
            continue
        while depth > 0:  # closed: the next child at the deepest level that has one
            lo, hi = g.step_start[order[depth - 1]], g.step_start[order[depth - 1] + 1]
            p = position[depth - 1]
            allowed[children[lo + p]] = False
            if lo + p + 1 < hi:
                allowed[children[lo + p + 1]] = True
                position[depth - 1] = p + 1
                break
            allowed[lo:hi] = True
            depth -= 1
        if depth == 0:
            return BRANCH_PROVEN, nodes
    return BRANCH_STOPPED, node_limit


@njit(cache=True)
def _branching_order(g, caps):
    """(steps in branching order (N,), how many of them have a choice, children (T,)):
    steps by the spread of their options' usage relative to the caps, summed over the
    capped dimensions, widest first, steps with one option last; each step's options in
    ``children[step_start[s]:step_start[s + 1]]``, lightest first (relative usage summed
    over the capped dimensions: a fitting path is met sooner)."""
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    weight = np.zeros(t_count)
    for t in range(t_count):
        for j in range(q):
            if capped(caps[j]):
                weight[t] += g.opt_use[t, j] / caps[j]
    spread = np.full(n, -1.0)
    children = np.empty(t_count, dtype=np.int64)
    branching = 0
    for s in range(n):
        lo, hi = g.step_start[s], g.step_start[s + 1]
        children[lo:hi] = lo + np.argsort(weight[lo:hi], kind="mergesort")
        if hi - lo < 2:
            continue
        branching += 1
        spread[s] = 0.0
        for j in range(q):
            if capped(caps[j]):
                spread[s] += (g.opt_use[lo:hi, j].max() - g.opt_use[lo:hi, j].min()) / caps[j]
    return np.argsort(-spread, kind="mergesort"), branching, children
