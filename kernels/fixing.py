"""Fixing: the part of a layered graph where a plan within the caps, or a score limit, can lie.

Cap fixing (``fitting_parts``): every path through option t uses at least P_q(t) + S_q(t)
of dimension q, P_q(t) the least usage of a prefix ending with t and S_q(t) the least the
steps after t add (each dimension minimised on its own: a relaxation); through arc e from
a to b, at least P_q(a) + e_q + b_q + S_q(b). An option or arc for which that exceeds a cap
carries no plan within the caps, and dropping it may leave others that no kept path
reaches or that the least paths through them now break, so the test repeats on what is
kept. The gain is in everything a solve computes over the graph: on a DAG's frontier-state
graph most states lead only to placements that break a cap (generated ways DAG 60x4 seed
0: 4,647 of 130,692 options kept), and the LP relaxation no longer mixes in options no plan
can take (ways DAG 100x4 seed 1: one stage's GPU option alone breaks the GPU's power
limit, and its LP bound rises from 4.68 to 5.12 against an optimum of 5.48).

Reduced-cost fixing (``fixed_by_bounds``):

For Lagrangian multipliers with relaxed costs c (score + price . usage) and completion
values V (``bounds.backward_values``), every path through option t scores at least
F(t) + V(t) - sum(lam), F(t) the least relaxed cost of a prefix ending at t; through arc e
from a to b, at least F(a) + c(e) + c(b) + V(b) - sum(lam). An option or arc whose bound
exceeds a limit carries no plan scoring at most that limit, so a search limited by it may
run on the graph without them. The search itself prunes the same labels; the gain is the
bounds recomputed on the smaller graph: least and greatest completion usage (more
dimensions become free), Lagrangian values and per-dimension tables over fewer paths.

Node fixing (``node_fixed``): the same at a node of the LP tree, by the multipliers of its
own LP over its own paths, at the best plan the tree has met: what is left is the node for
its branching, its children's LPs and its search. Deep in a tree a node's bound lies near
that plan, so its LP prices most of its options out, and its children's LPs can no longer
mix in the paths through them: generated ways DAG 100x4 seed 2, on what fixing at its
repair's plan leaves (913 options), 442 -> 122 nodes and 0.50 -> 0.11 s of tree (a copy of
the kernels printing each tree, whose node fixing dropped options only, not arcs too).
"""

import numpy as np
from numba import njit

from .bounds import relaxed_costs, rounding_slack
from .contract import LayeredGraph

# Options and arcs are fixed only when their bound exceeds the limit by this much relative
# to the magnitudes summed (the limit and the multipliers' sum): far above the rounding of
# the sums, so no option a plan within the limit uses is ever dropped.
FIX_TOLERANCE = 1e-7


@njit(cache=True)
def forward_values(g, opt_cost, arc_cost, value):
    """Fill F (T,): the least cost under ``opt_cost`` (T,) and ``arc_cost`` (A,) of a path
    prefix from step 0 ending with option t, t's cost included (inf: none reaches t)."""
    n = g.step_start.shape[0] - 1
    value[:] = np.inf
    for b in range(g.step_start[0], g.step_start[1]):
        value[b] = opt_cost[b]
    for s in range(1, n):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            best = np.inf
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                best = min(best, value[g.arc_tail[e]] + arc_cost[e])
            value[b] = best + opt_cost[b]


@njit(cache=True)
def fixed_by_bounds(g, uses, coef, prices, values, lam_sums, limit):
    """Reduced-cost fixing at ``limit``: ``(keep_opt (T,), keep_arc (A,))`` bool, False for
    the options and arcs no path scoring at most ``limit`` goes through, by the bound of
    any multiplier set m (``prices`` (M, Q), ``values`` (M, T) and ``lam_sums`` (M,), as
    ``bounds.lagrangian_prices`` returns them); ``uses``: ``bounds.by_dimension(g)``."""
    return _fixed_within(g, uses, coef, prices, values, lam_sums, np.ones(g.opt_use.shape[0], dtype=np.bool_), limit)


@njit(cache=True)
def node_fixed(g, uses, coef, prices, values, lam_sums, allowed, limit):
    """Reduced-cost fixing of a node of the LP tree, the paths of ``g`` through the
    ``allowed`` (T,) options, at ``limit`` by its LP's multiplier sets (``prices`` (M, Q),
    ``values`` (M, T) of the node's paths and ``lam_sums`` (M,), as ``tree.node_lp``
    returns them; ``uses``: ``bounds.by_dimension(g)``): (T,) bool, the allowed options on
    some path of the node whose every option and arc may lie on a plan scoring at most
    ``limit``."""
    keep_opt, keep_arc = _fixed_within(g, uses, coef, prices, values, lam_sums, allowed, limit)
    return _on_paths(g, keep_opt, keep_arc)


@njit(cache=True)
def _fixed_within(g, uses, coef, prices, values, lam_sums, allowed, limit):
    """``fixed_by_bounds`` over the paths through the ``allowed`` (T,) options (``values``
    (M, T): the completion values of those paths), which alone it keeps."""
    t_count = g.opt_use.shape[0]
    n_arcs = g.arc_tail.shape[0]
    keep_opt = allowed.copy()
    keep_arc = np.ones(n_arcs, dtype=np.bool_)
    opt_cost = np.empty(t_count)
    arc_cost = np.empty(n_arcs)
    fwd = np.empty(t_count)
    for m in range(prices.shape[0]):
        relaxed_costs(uses, coef, prices[m], opt_cost, arc_cost)
        for t in range(t_count):
            if not allowed[t]:
                opt_cost[t] = np.inf
        forward_values(g, opt_cost, arc_cost, fwd)
        above = limit + lam_sums[m] + FIX_TOLERANCE * (abs(limit) + lam_sums[m] + 1.0)
        for t in range(t_count):
            if fwd[t] + values[m, t] > above:
                keep_opt[t] = False
        for e in range(n_arcs):
            b = g.arc_head[e]
            if fwd[g.arc_tail[e]] + arc_cost[e] + opt_cost[b] + values[m, b] > above:
                keep_arc[e] = False
    return keep_opt, keep_arc


@njit(cache=True)
def _on_paths(g, keep_opt, keep_arc):
    """(T,) bool: the kept options on some path from step 0 to the last step through kept
    options and arcs."""
    n = g.step_start.shape[0] - 1
    t_count = g.opt_use.shape[0]
    reached = np.zeros(t_count, dtype=np.bool_)
    for b in range(g.step_start[0], g.step_start[1]):
        reached[b] = keep_opt[b]
    for s in range(1, n):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if keep_opt[b]:
                for e in range(g.arc_start[b], g.arc_start[b + 1]):
                    if keep_arc[e] and reached[g.arc_tail[e]]:
                        reached[b] = True
                        break
    alive = np.zeros(t_count, dtype=np.bool_)
    for b in range(g.step_start[n - 1], g.step_start[n]):
        alive[b] = reached[b]
    for s in range(n - 1, 0, -1):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if alive[b]:
                for e in range(g.arc_start[b], g.arc_start[b + 1]):
                    if keep_arc[e] and reached[g.arc_tail[e]]:
                        alive[g.arc_tail[e]] = True
    return alive


@njit(cache=True)
def subgraph(g, keep_opt, keep_arc):
    """The layered graph of the options ``keep_opt`` (T,) and arcs ``keep_arc`` (A,) keep
    that lie on a path from the first step to the last, in the same order (so the ranking
    rule's placement order is unchanged), with the same option keys.

    Returns ``(sub, origin, has_path)``: ``origin`` (T',) the option of ``g`` each option of
    ``sub`` is; without any path (``has_path`` False) ``sub`` is empty.
    """
    n = g.step_start.shape[0] - 1
    q = g.opt_use.shape[1]
    alive = _on_paths(g, keep_opt, keep_arc)
    origin = np.flatnonzero(alive)
    t_sub = origin.shape[0]
    new_id = np.full(g.opt_use.shape[0], -1, dtype=np.int64)
    step_start = np.zeros(n + 1, dtype=np.int64)
    for i in range(t_sub):
        new_id[origin[i]] = i
    for s in range(n):
        step_start[s + 1] = step_start[s]
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if alive[b]:
                step_start[s + 1] += 1
    has_path = t_sub > 0
    n_arcs = 0
    for e in range(g.arc_tail.shape[0]):
        if keep_arc[e] and alive[g.arc_tail[e]] and alive[g.arc_head[e]]:
            n_arcs += 1
    opt_use = np.empty((t_sub, q))
    opt_key = np.empty(t_sub, dtype=np.int64)
    arc_start = np.zeros(t_sub + 1, dtype=np.int64)
    arc_tail = np.empty(n_arcs, dtype=np.int64)
    arc_head = np.empty(n_arcs, dtype=np.int64)
    arc_use = np.empty((n_arcs, g.arc_use.shape[1]))
    a = 0
    for i in range(t_sub):
        b = origin[i]
        opt_use[i] = g.opt_use[b]
        opt_key[i] = g.opt_key[b]
        for e in range(g.arc_start[b], g.arc_start[b + 1]):
            if keep_arc[e] and alive[g.arc_tail[e]]:
                arc_tail[a] = new_id[g.arc_tail[e]]
                arc_head[a] = i
                arc_use[a] = g.arc_use[e]
                a += 1
        arc_start[i + 1] = a
    sub = LayeredGraph(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use)
    return sub, origin, has_path


@njit(cache=True)
def fitting_parts(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use, caps, rounds):
    """Cap fixing (module docstring): ``(keep_opt (T,), keep_arc (A,), settled)``, the
    first two bool, False for the options and arcs of the graph (its ``LayeredGraph``
    fields, in order: a NamedTuple argument costs ~25 us to dispatch) through which every
    path breaks a cap of ``caps`` (Q,), or that no kept path reaches, after at most
    ``rounds`` rounds; ``settled`` when the last round dropped nothing."""
    g = LayeredGraph(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use)
    n = step_start.shape[0] - 1
    t_count = opt_use.shape[0]
    keep_opt = np.ones(t_count, dtype=np.bool_)
    keep_arc = np.ones(arc_tail.shape[0], dtype=np.bool_)
    n_capped = 0
    for j in range(caps.shape[0]):
        n_capped += caps[j] < np.inf
    if n_capped == 0 or n == 0:
        return keep_opt, keep_arc, True
    dims = np.empty(n_capped, dtype=np.int64)  # the capped dimensions
    limit = np.empty(n_capped)  # their caps, made safe against rounding
    i = 0
    for j in range(caps.shape[0]):
        if caps[j] < np.inf:
            dims[i] = j
            limit[i] = caps[j] + rounding_slack(caps[j], n)
            i += 1
    prefix = np.empty((t_count, n_capped))
    suffix = np.empty((t_count, n_capped))
    for _ in range(rounds):
        _least_prefixes(g, dims, keep_opt, keep_arc, prefix)
        _least_suffixes(g, dims, keep_opt, keep_arc, suffix)
        if not _drop_unfitting(g, dims, limit, prefix, suffix, keep_opt, keep_arc):
            return keep_opt, keep_arc, True
    return keep_opt, keep_arc, False


@njit(cache=True, inline="always")
def _arc_usage(g, e, j):
    """Usage of arc e in dimension j (arcs carry only the first R dimensions)."""
    return g.arc_use[e, j] if j < g.arc_use.shape[1] else 0.0


@njit(cache=True)
def _least_prefixes(g, dims, keep_opt, keep_arc, prefix):
    """Fill ``prefix`` (T, C): per dimension ``dims`` (C,), the least usage of a prefix of
    kept options and arcs ending with option t, t's usage included (inf: none reaches t)."""
    n = g.step_start.shape[0] - 1
    prefix[:] = np.inf
    for b in range(g.step_start[0], g.step_start[1]):
        if keep_opt[b]:
            for i in range(dims.shape[0]):
                prefix[b, i] = g.opt_use[b, dims[i]]
    for s in range(1, n):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if not keep_opt[b]:
                continue
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                a = g.arc_tail[e]
                if keep_arc[e] and prefix[a, 0] < np.inf:
                    for i in range(dims.shape[0]):
                        prefix[b, i] = min(prefix[b, i], prefix[a, i] + _arc_usage(g, e, dims[i]))
            if prefix[b, 0] < np.inf:
                for i in range(dims.shape[0]):
                    prefix[b, i] += g.opt_use[b, dims[i]]


@njit(cache=True)
def _least_suffixes(g, dims, keep_opt, keep_arc, suffix):
    """Fill ``suffix`` (T, C): per dimension ``dims`` (C,), the least usage the kept arcs and
    options of the steps after option t's add to a path (inf: no kept path goes on)."""
    n = g.step_start.shape[0] - 1
    suffix[:] = np.inf
    for b in range(g.step_start[n - 1], g.step_start[n]):
        if keep_opt[b]:
            suffix[b] = 0.0
    for s in range(n - 1, 0, -1):
        for b in range(g.step_start[s], g.step_start[s + 1]):
            if not keep_opt[b] or suffix[b, 0] == np.inf:
                continue
            for e in range(g.arc_start[b], g.arc_start[b + 1]):
                a = g.arc_tail[e]
                if keep_arc[e] and keep_opt[a]:
                    for i in range(dims.shape[0]):
                        through = _arc_usage(g, e, dims[i]) + g.opt_use[b, dims[i]] + suffix[b, i]
                        suffix[a, i] = min(suffix[a, i], through)


@njit(cache=True)
def _drop_unfitting(g, dims, limit, prefix, suffix, keep_opt, keep_arc):
    """Drop the kept options and arcs whose least paths break a cap (``limit`` (C,) per
    dimension ``dims``), or that no kept path goes through; whether any was dropped."""
    dropped = False
    for t in range(keep_opt.shape[0]):
        if keep_opt[t]:
            for i in range(dims.shape[0]):
                if not prefix[t, i] + suffix[t, i] <= limit[i]:  # (inf: no kept path through t)
                    keep_opt[t] = False
                    dropped = True
                    break
    for e in range(keep_arc.shape[0]):
        if keep_arc[e]:
            a, b = g.arc_tail[e], g.arc_head[e]
            if not (keep_opt[a] and keep_opt[b]):
                keep_arc[e] = False
                continue
            for i in range(dims.shape[0]):
                j = dims[i]
                if not prefix[a, i] + _arc_usage(g, e, j) + g.opt_use[b, j] + suffix[b, i] <= limit[i]:
                    keep_arc[e] = False
                    dropped = True
                    break
    return dropped
