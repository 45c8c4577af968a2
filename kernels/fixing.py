"""Reduced-cost fixing: the part of a layered graph where a plan within a score limit can lie.

For Lagrangian multipliers with relaxed costs c (score + price . usage) and completion
values V (``bounds.backward_values``), every path through option t scores at least
F(t) + V(t) - sum(lam), F(t) the least relaxed cost of a prefix ending at t; through arc e
from a to b, at least F(a) + c(e) + c(b) + V(b) - sum(lam). An option or arc whose bound
exceeds a limit carries no plan scoring at most that limit, so a search limited by it may
run on the graph without them. The search itself prunes the same labels; the gain is the
bounds recomputed on the smaller graph: least and greatest completion usage (more
dimensions become free), Lagrangian values and per-dimension tables over fewer paths.
"""

import numpy as np
from numba import njit

from .bounds import relaxed_costs
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
def fixed_by_bounds(g, coef, prices, values, lam_sums, limit):
    """Reduced-cost fixing at ``limit``: ``(keep_opt (T,), keep_arc (A,))`` bool, False for
    the options and arcs no path scoring at most ``limit`` goes through, by the bound of
    any multiplier set m (``prices`` (M, Q), ``values`` (M, T) and ``lam_sums`` (M,), as
    ``bounds.lagrangian_prices`` returns them)."""
    t_count = g.opt_use.shape[0]
    n_arcs = g.arc_tail.shape[0]
    keep_opt = np.ones(t_count, dtype=np.bool_)
    keep_arc = np.ones(n_arcs, dtype=np.bool_)
    opt_cost = np.empty(t_count)
    arc_cost = np.empty(n_arcs)
    fwd = np.empty(t_count)
    for m in range(prices.shape[0]):
        relaxed_costs(g, coef, prices[m], opt_cost, arc_cost)
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
