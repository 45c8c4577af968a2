"""LP branch and bound: the pieces of a best-first tree over (step, key) choices.

A node of the tree is the set of options ``allowed`` (T,) bool of a layered graph: the
paths through allowed options only. Its bound is the LP relaxation of the capped path
problem over those paths (``bounds.column_generation``: the Lagrangian dual, a proven
lower bound even before the master converges). A node branches on one (step, key) pair,
the way a stage runs (a DAG's frontier-state options share their stage's key): one child
keeps only the step's options of that key, the other drops them, so the children split
the node's paths in two.

The Lagrangian label search prunes every label by one set of multipliers, so its work
grows about exponentially with the gap between the LP bound and the optimum (generated
ways 200x4 seed 0: 1.76%, unproven at 4M labels). Branching lets every node price its
own paths: its bound rises by what the choices fixed so far cost, and the tree closes
that gap in a few hundred nodes (the same instance, on what reduced-cost fixing at its
optimum leaves: 730 options, 0.006% from proven after 400 nodes in 2.2 s, a scratch
prototype; HiGHS's own branch and bound takes 85 nodes and 35 s). The branching pair is
chosen by strong branching: of the pairs whose LP share is most fractional, the one
whose children's bounds rise most (the product of the two rises; most-fractional
branching alone left 0.52% after 2,000 nodes). Strong branching also tightens the node: where
one child of a pair closes (its LP bound lies past the best plan met), every plan worth
finding lies in the other, so the node keeps only that child's paths before it branches, and
a pair both of whose children close closes the node (``reduced_node``; generated ways DAG
100x4 seed 2 2.54 -> 1.87 s, ways 200x4 seeds 0-2 2.44, 2.23 and 2.48 s -> 2.04, 1.64 and
1.92 s, 300x6 seed 1 1.78M -> 1.57M labels; eip-only benchmark runs). And before it
branches, a node drops the options its own LP prices out of every plan within the best
plan met (``fixing.node_fixed``).
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .bounds import column_generation, column_pool, keep_column
from .contract import Row

# Column generation passes per node LP: a node starts from its own first pass, and its
# master converges within far fewer on the graphs the tree runs on (a few hundred options)
NODE_LP_ITERATIONS = 400
# Columns the tree's LPs share (``bounds.ColumnPool``), the most recent: its children's
# LPs start from a node's own and its strong branching's (not tuned; ways 200x4 seed 0's root
# LP generated 39, each of its children's 12-48)
TREE_COLUMNS = 256
# A share this close to 0 or 1 counts as integral
SHARE_TOLERANCE = 1e-6
# The least rise of a child's bound in the strong-branching product (a child whose
# bound does not rise still ranks its pair by the other child's rise)
LEAST_RISE = 1e-9


@njit(cache=True)
def node_lp(g, uses, coef, caps, allowed, share, deadline, columns, cut, basis):
    """The LP relaxation of the paths through ``allowed`` (T,) options of ``g`` (``uses``:
    ``bounds.by_dimension(g)``):
    ``column_generation``'s ``(prices (2, Q), values (2, T), lam_sums (2,), bound, row
    (1 + Q,), path (N,))``, ``row`` the best plan within ``caps`` it met (score inf: none),
    and ``share`` (T,) filled with the LP's weight on each option; its master starts from
    the tree's columns in ``columns`` (``bounds.ColumnPool``) and leaves its own there, and
    its last basis's columns in ``basis`` (a pool of Q + 1). It stops once its bound passes
    ``cut``: the tree closes such a node."""
    return column_generation(g, uses, coef, caps, NODE_LP_ITERATIONS, allowed, share, deadline, columns, cut, basis,
                             np.zeros(caps.shape[0]), 0.0)


@njit(cache=True)
def branch_candidates(g, allowed, share, count):
    """Up to ``count`` (step, key) pairs to branch on, most fractional first: per step where
    the node allows options of two keys or more, the LP ``share`` (T,) summed over the
    ``allowed`` (T,) options of each key, and pairs whose sum lies strictly between 0 and 1
    (within SHARE_TOLERANCE); at a step that allows exactly two keys, only the first such
    key's pair (the other's children are the same two, swapped: strong branching would
    solve their LPs twice). Returns ``(steps (C,), keys (C,))``,
    C <= count; none when every such step's share sits on one key. (At a step left with one
    key a pair would not split the node: one child is the node itself, and a tree that picks
    it branches on it again and again; an LP stopped at a bound that meets its limit leaves
    such shares.)"""
    n = g.step_start.shape[0] - 1
    t_count = g.opt_use.shape[0]  # (at most one pair per option)
    steps = np.empty(t_count, dtype=np.int64)
    keys = np.empty(t_count, dtype=np.int64)
    fraction = np.empty(t_count)
    found = 0
    for s in range(n):
        lo, hi = g.step_start[s], g.step_start[s + 1]
        step_keys = np.unique(g.opt_key[lo:hi])
        sums = np.zeros(step_keys.shape[0])
        present = np.zeros(step_keys.shape[0], dtype=np.bool_)
        for t in range(lo, hi):
            if allowed[t]:
                i = np.searchsorted(step_keys, g.opt_key[t])
                sums[i] += share[t]
                present[i] = True
        kinds = present.sum()
        if kinds < 2:
            continue
        for i in range(step_keys.shape[0]):
            distance = min(sums[i], 1.0 - sums[i])
            if distance > SHARE_TOLERANCE:
                steps[found], keys[found], fraction[found] = s, step_keys[i], distance
                found += 1
                if kinds == 2:
                    break
    order = np.argsort(-fraction[:found], kind="mergesort")[:count]
    return steps[order], keys[order]


@njit(cache=True)
def child_masks(g, allowed, step, key):
    """The two children of the node ``allowed`` (T,) branching on (``step``, ``key``):
    ``(with_key, without_key)``, both (T,) bool; the first keeps only the step's options
    of that key, the second drops them."""
    with_key = allowed.copy()
    without_key = allowed.copy()
    for t in range(g.step_start[step], g.step_start[step + 1]):
        if g.opt_key[t] == key:
            without_key[t] = False
        else:
            with_key[t] = False
    return with_key, without_key


@njit(cache=True)
def strong_branch(g, uses, coef, caps, allowed, bound, steps, keys, deadline, columns, cut):
    """Strong branching at the node ``allowed`` (T,) of ``g`` (``uses``:
    ``bounds.by_dimension(g)``) whose LP bound is ``bound``: of the candidate pairs ``steps`` /
    ``keys`` (C,), the index of the one whose children's LP bounds rise most above it (the
    product of the rises, each at least LEAST_RISE), and every pair's children's bounds
    ``(index, child (C, 2))``, with the key and without it (inf: a child without a path within
    the relaxation; a child's LP stops once its bound passes ``cut``, where the tree closes
    it). Also returns the best plan the children's LPs met within ``caps``: ``(row
    (1 + Q,), path (N,))``, score inf for none, and the last bases of the chosen pair's
    children's LPs (``bounds.ColumnPool``, with the key and without it), where their nodes'
    LPs start. The LPs share the tree's ``columns``."""
    n, q = g.step_start.shape[0] - 1, g.opt_use.shape[1]
    share = np.empty(g.opt_use.shape[0])
    best_row = np.full(1 + q, np.inf)
    best_path = np.zeros(n, dtype=np.int64)
    child = np.empty((steps.shape[0], 2))
    pick, pick_score = 0, -1.0
    bases = (column_pool(q + 1, n, q), column_pool(q + 1, n, q))  # (this pair's children's)
    picked = (column_pool(q + 1, n, q), column_pool(q + 1, n, q))  # (the chosen pair's)
    for c in range(steps.shape[0]):
        with_key, without_key = child_masks(g, allowed, steps[c], keys[c])
        for side in range(2):
            _, _, _, child[c, side], row, path = node_lp(g, uses, coef, caps, with_key if side == 0 else without_key,
                                                         share, deadline, columns, cut, bases[side])
            if row[Row.SCORE] < best_row[Row.SCORE]:
                best_row[:], best_path[:] = row, path
        score = max(child[c, 0] - bound, LEAST_RISE) * max(child[c, 1] - bound, LEAST_RISE)
        if score > pick_score:
            pick, pick_score = c, score
            picked, bases = bases, picked  # (the next pair's LPs write over the pair no longer chosen)
    return pick, child, best_row, best_path, picked


@njit(cache=True)
def reduced_node(g, allowed, steps, keys, child, cut):
    """The node ``allowed`` (T,) of ``g`` without the children that strong branching closed:
    for each pair ``steps`` / ``keys`` (C,) one of whose children's LP bounds ``child`` (C, 2)
    (with the key, without it) exceeds ``cut``, only the other child's paths (every plan
    scoring at most ``cut`` lies there). Returns ``(node (T,), closed)``: ``closed`` when both
    children of some pair exceed it (no such plan in the node)."""
    node = allowed.copy()
    for c in range(steps.shape[0]):
        keep_with, keep_without = child[c, 0] <= cut, child[c, 1] <= cut
        if not keep_with and not keep_without:
            return node, True
        if keep_with != keep_without:
            with_key, without_key = child_masks(g, node, steps[c], keys[c])
            node = with_key if keep_with else without_key
    return node, False


class OpenNodes(NamedTuple):
    """The tree's open nodes, the first ``size`` of each array (the tree keeps the count):
    each node's options and the bound its parent's strong branching gave it, and the columns
    its LP starts from (``bounds.ColumnPool``'s: the basis of the child LP strong branching
    solved for it, which a node with the same options meets at once: generated ways DAG 100x4
    seed 2's node LPs took 18.8 passes each from the tree's columns alone, in a copy of the
    kernels printing each)."""

    masks: np.ndarray  # (P, T) bool: the options each node allows
    bounds: np.ndarray  # (P,): each node's bound
    seed_paths: np.ndarray  # (P, M, N) int64: each node's seed columns' options
    seed_rows: np.ndarray  # (P, M, 1 + Q): their plan rows
    seed_held: np.ndarray  # (P,) int64: how many seed columns each node has


@njit(cache=True)
def open_nodes(capacity, t_count, n, q):
    """Room for ``capacity`` open nodes over ``t_count`` options, each with up to ``q + 1``
    seed columns (a master's rows at most) of ``n`` steps over ``q`` dimensions."""
    return OpenNodes(np.empty((capacity, t_count), dtype=np.bool_), np.full(capacity, -np.inf),
                     np.zeros((capacity, q + 1, n), dtype=np.int64), np.zeros((capacity, q + 1, Row.USE + q)),
                     np.zeros(capacity, dtype=np.int64))


@njit(cache=True)
def pool_add(nodes, size, allowed, bound, seeds):
    """Add the node ``allowed`` (T,) with bound ``bound`` and the columns of ``seeds`` (a
    ``bounds.ColumnPool`` holding at most Q + 1) to the first ``size`` open ``nodes``. Returns
    the nodes (grown twice as large when full) and their new count."""
    if size == nodes.bounds.shape[0]:
        grown = open_nodes(2 * size, nodes.masks.shape[1], nodes.seed_paths.shape[2], nodes.seed_rows.shape[2] - 1)
        grown.masks[:size] = nodes.masks
        grown.bounds[:size] = nodes.bounds
        grown.seed_paths[:size] = nodes.seed_paths
        grown.seed_rows[:size] = nodes.seed_rows
        grown.seed_held[:size] = nodes.seed_held
        nodes = grown
    held = seeds.held[0]
    nodes.masks[size] = allowed
    nodes.bounds[size] = bound
    nodes.seed_paths[size, :held] = seeds.paths[:held]
    nodes.seed_rows[size, :held] = seeds.rows[:held]
    nodes.seed_held[size] = held
    return nodes, size + 1


@njit(cache=True)
def pool_take(nodes, size, columns):
    """Remove the open node of least bound from the first ``size`` open ``nodes`` (ties: the
    first, whose place the last node takes) and keep its seed columns in the tree's
    ``columns`` (``bounds.ColumnPool``), where its LP finds them. Returns ``(allowed (T,),
    bound, size - 1)``."""
    best = 0
    for i in range(1, size):
        if nodes.bounds[i] < nodes.bounds[best]:
            best = i
    allowed = nodes.masks[best].copy()
    bound = nodes.bounds[best]
    for c in range(nodes.seed_held[best]):
        keep_column(columns, nodes.seed_paths[best, c], nodes.seed_rows[best, c])
    last = size - 1
    nodes.masks[best] = nodes.masks[last]
    nodes.bounds[best] = nodes.bounds[last]
    nodes.seed_paths[best] = nodes.seed_paths[last]
    nodes.seed_rows[best] = nodes.seed_rows[last]
    nodes.seed_held[best] = nodes.seed_held[last]
    return allowed, bound, last
