"""Depth-first exact search for short graphs: the pulse algorithm without its dominance.

A short graph's label search pays a fixed cost per bucket (sorting, dominance, the
bucket's arrays) that its few candidates do not repay: 12x3 keeps about 300 labels in
20-40 us. Walking the paths depth first instead, each step's children tried in order of
their completion bound and every prefix pruned by its bound against the k-th best plan
met so far (Lozano and Medaglia 2013, "On an exact method for the constrained shortest
path problem", without the dominance they add), visits a few hundred prefixes at
30-45 ns each. With no dominance the prefixes it visits grow exponentially with the gap
between the bound and the optimum, so the search stops at a node budget and the caller
goes on to the label search (``solve.PULSE_STEPS``).

Arrays: the graph's (``contract.LayeredGraph``); ``least`` (T, Q) least completion usage
(``bounds.cap_tests``); ``prices`` (M, Q), ``values`` (M, T), ``lam_sums`` (M,) the
Lagrangian bounds of ``labels.label_search`` (M = 1 with zero prices and the
unconstrained completion scores as values: the plain completion bound).
"""

import numpy as np
from numba import njit

from .bounds import by_dimension, relaxed_costs
from .contract import Row, Stop
from .paths import clock, kept_ranked, row_score, score_limit

# a search with a deadline looks at the clock on its first prefix and then every this many
# (a look costs ~0.6 us, 1,024 prefixes some 40 us)
CLOCK_PREFIXES = 1024


@njit(cache=True)
def _out_arcs(g):
    """``(out_start (T + 1,), out_arc (E,))``: the arcs leaving each option, by tail (the
    graph stores them by head)."""
    t_count = g.opt_use.shape[0]
    n_arcs = g.arc_tail.shape[0]
    out_start = np.zeros(t_count + 1, dtype=np.int64)
    for e in range(n_arcs):
        out_start[g.arc_tail[e] + 1] += 1
    for t in range(t_count):
        out_start[t + 1] += out_start[t]
    out_arc = np.empty(n_arcs, dtype=np.int64)
    fill = out_start[:-1].copy()
    for e in range(n_arcs):
        out_arc[fill[g.arc_tail[e]]] = e
        fill[g.arc_tail[e]] += 1
    return out_start, out_arc


@njit(cache=True)
def pulse_search(g, coef, caps, least, prices, values, lam_sums, k, incumbent, node_budget, deadline):
    """The k best paths of ``g`` within ``caps`` scoring at most ``incumbent`` (inf: any),
    depth first (see the module's docstring for the arrays).

    Each step's children (options reachable from the prefix that can still fit the caps
    and whose bound does not exceed the limit) are tried in order of their bound; the
    limit drops to the k-th best plan's score as plans are met, so a prefix is pruned only
    when no plan through it can rank among the k best. Stops after ``node_budget``
    prefixes or at ``deadline`` (``clock`` seconds, looked at on the first prefix and every
    CLOCK_PREFIXES after it).
    Returns ``(stop, paths (k, N), rows (k, 1 + Q), found, created, visited)``: ``found``
    plans in ranking order, proven the k best when ``stop`` is ``Stop.COMPLETE``; the
    children scored and the prefixes visited.

    One loop, written out: an inlined helper that takes arrays pays a pair of atomic
    reference counts per array and call, and helpers per child made 12x3's prefixes 0.24
    us each (perf: 70% in the counts), against about 30 ns written out.
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    r = g.arc_use.shape[1]
    opt_use, arc_use, arc_head = g.opt_use, g.arc_use, g.arc_head
    out_start, out_arc = _out_arcs(g)
    degree = g.step_start[1] - g.step_start[0]
    for t in range(t_count):
        degree = max(degree, out_start[t + 1] - out_start[t])
    # a child's bound is linear in its usage: its prefix's priced score (score + price .
    # usage, per multiplier set) plus its arc's and option's, plus the option's value
    n_sets = prices.shape[0]
    opt_cost, arc_cost = np.empty((n_sets, t_count)), np.empty((n_sets, g.arc_tail.shape[0]))
    uses = by_dimension(g)
    for x in range(n_sets):
        relaxed_costs(uses, coef, prices[x], opt_cost[x], arc_cost[x])
    capped = np.flatnonzero(caps < np.inf)  # every finite cap (one of 0 admits only zero usage)
    prefix = np.zeros((n + 1, Row.USE + q))  # prefix[s]: the plan row of the first s steps
    prefix_cost = np.zeros((n + 1, n_sets))
    path = np.zeros(n, dtype=np.int64)
    child = np.empty((n, degree), dtype=np.int64)  # ways on from each prefix, best bound first
    child_lb = np.empty((n, degree))
    n_child = np.zeros(n, dtype=np.int64)
    tried = np.zeros(n, dtype=np.int64)
    rows = np.zeros((k, Row.USE + q))
    paths = np.zeros((k, n), dtype=np.int64)
    limit = score_limit(incumbent)
    found, created, visited = 0, 0, 0
    depth = 0
    expand = True
    while True:
        if expand:  # rank the ways to extend prefix[depth] (arcs out of its last option, or step 0's options)
            expand = False
            tail = path[depth - 1] if depth > 0 else -1
            lo, hi = (g.step_start[0], g.step_start[1]) if depth == 0 else (out_start[tail], out_start[tail + 1])
            m = 0
            for i in range(lo, hi):
                e = -1 if depth == 0 else out_arc[i]
                b = i if depth == 0 else arc_head[e]
                created += 1
                if least[b, 0] == np.inf:
                    continue  # no completion from b
                fits = True
                for j in capped:
                    # summed as the totals are below (arc in, then option): at the last step the
                    # test is the plan's own, to the last bit (a throughput walk caps the busy
                    # time 1 ulp below a plan's period)
                    u = prefix[depth, Row.USE + j]
                    if e >= 0 and j < r:
                        u += arc_use[e, j]
                    u += opt_use[b, j]
                    if u + least[b, j] > caps[j]:
                        fits = False
                        break
                if not fits:
                    continue
                lb = -np.inf
                for x in range(n_sets):
                    bound = prefix_cost[depth, x] + opt_cost[x, b] + values[x, b] - lam_sums[x]
                    if e >= 0:
                        bound += arc_cost[x, e]
                    lb = max(lb, bound)
                if lb == np.inf or lb > limit:
                    continue
                v = m
                while v > 0 and child_lb[depth, v - 1] > lb:
                    child_lb[depth, v] = child_lb[depth, v - 1]
                    child[depth, v] = child[depth, v - 1]
                    v -= 1
                child_lb[depth, v] = lb
                child[depth, v] = i
                m += 1
            n_child[depth] = m
            tried[depth] = 0
        if tried[depth] == n_child[depth]:
            if depth == 0:
                break
            depth -= 1
            continue
        i = tried[depth]
        tried[depth] += 1
        if child_lb[depth, i] > limit:  # the limit dropped since the children were ranked
            continue
        visited += 1
        if visited > node_budget or (deadline < np.inf and visited % CLOCK_PREFIXES == 1 and clock() > deadline):
            stop = Stop.LABEL_BUDGET if visited > node_budget else Stop.TIME_LIMIT
            return stop, paths, rows, found, created, visited
        e = -1 if depth == 0 else out_arc[child[depth, i]]
        b = child[depth, i] if depth == 0 else arc_head[e]
        path[depth] = b
        # the totals in the order of ``paths.arcs_row`` (arc in, then option): equal paths, bit-equal totals
        for j in range(q):
            u = prefix[depth, Row.USE + j]
            if e >= 0 and j < r:
                u += arc_use[e, j]
            prefix[depth + 1, Row.USE + j] = u + opt_use[b, j]
        for x in range(n_sets):
            prefix_cost[depth + 1, x] = prefix_cost[depth, x] + opt_cost[x, b] + (arc_cost[x, e] if e >= 0 else 0.0)
        if depth == n - 1:
            leaf = prefix[n]
            row_score(coef, leaf)
            found = kept_ranked(leaf, path, rows, paths, found)
            if found == k:
                limit = min(limit, score_limit(rows[k - 1, Row.SCORE]))
            continue
        depth += 1
        expand = True
    return Stop.COMPLETE, paths, rows, found, created, visited
