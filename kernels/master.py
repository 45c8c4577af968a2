"""The restricted master LP of column generation: a dense primal simplex over a few rows.

The Lagrangian dual of a capped shortest path is the LP over convex combinations of paths
(Dantzig-Wolfe): minimize sum_p score_p mu_p subject to sum_p (usage_pj / cap_j) mu_p <= 1
for each capped dimension j and sum_p mu_p = 1. ``bounds.lagrangian_prices`` generates the
paths (columns) one at a time; this module keeps the master over the columns met so far,
as a tableau of M = (capped dimensions) + 1 rows.

Columns 0 .. M - 2 are the rows' slacks and column M - 1 an artificial path with no usage
and cost ``big`` (it keeps the master feasible before any combination fits: the big-M
method; while the master still uses it, its cost is raised, ``master_reprice``). Those M
columns start as the basis, the identity, so the tableau's first M columns are always the
basis inverse.

Nothing here needs to be exact: the duals read off the tableau are only *candidate*
multipliers, clipped to >= 0, and every bound the solver uses is recomputed from them by an
exact shortest-path pass.
"""

import numpy as np
from numba import njit

# a reduced cost below -REDUCED_COST_TOL enters the basis; a pivot element must exceed PIVOT_TOL
REDUCED_COST_TOL = 1e-12
PIVOT_TOL = 1e-11
# pivots per solve: a cycling (degenerate) master stops there and keeps its current duals
PIVOTS_PER_ROW = 50


@njit(cache=True)
def master_lp(n_rows, n_columns, big):
    """An empty master of ``n_rows`` rows with room for ``n_columns`` path columns.

    Returns ``(tab (M, M + C), rhs (M,), reduced (M + C,), cost (M + C,), basis (M,))``:
    the tableau, the basic values, the reduced costs, the columns' costs and the basic
    column of each row; the artificial column's cost is ``big``.
    """
    m = n_rows
    tab = np.zeros((m, m + n_columns))
    for i in range(m):
        tab[i, i] = 1.0
    cost = np.zeros(m + n_columns)
    cost[m - 1] = big
    return tab, np.ones(m), np.zeros(m + n_columns), cost, np.arange(m)


@njit(cache=True)
def master_duals(reduced, cost, m, y):
    """Fill ``y`` (M,) with the basis's dual values (cost_B B^-1): for the first M columns
    (identity in the original rows) reduced = cost - y."""
    for i in range(m):
        y[i] = cost[i] - reduced[i]


@njit(cache=True)
def master_add(tab, reduced, cost, n_cols, column, column_cost, y):
    """Append a path column (``column`` (M,): its normalised usages, then 1) of cost
    ``column_cost`` at index ``n_cols``, priced with the duals ``y`` (M,); returns its
    reduced cost."""
    m = tab.shape[0]
    red = column_cost
    for i in range(m):
        red -= y[i] * column[i]
    for i in range(m):
        s = 0.0
        for l in range(m):
            s += tab[i, l] * column[l]
        tab[i, n_cols] = s
    cost[n_cols] = column_cost
    reduced[n_cols] = red
    return red


@njit(cache=True)
def _pivot(tab, rhs, reduced, basis, r, c, n_cols):
    """Bring column c into the basis at row r."""
    m = tab.shape[0]
    p = tab[r, c]
    for j in range(n_cols):
        tab[r, j] /= p
    rhs[r] /= p
    for i in range(m):
        f = tab[i, c]
        if i != r and f != 0.0:
            for j in range(n_cols):
                tab[i, j] -= f * tab[r, j]
            rhs[i] = max(0.0, rhs[i] - f * rhs[r])  # (only rounding takes it below 0)
    f = reduced[c]
    for j in range(n_cols):
        reduced[j] -= f * tab[r, j]
    basis[r] = c


@njit(cache=True)
def master_solve(tab, rhs, reduced, basis, n_cols):
    """Primal simplex over the first ``n_cols`` columns (most negative reduced cost in,
    least ratio out, ties to the lowest basic column), from the current basis; returns
    False when it stopped at its pivot limit."""
    m = tab.shape[0]
    for _ in range(PIVOTS_PER_ROW * m):
        c = -1
        most = -REDUCED_COST_TOL
        for j in range(n_cols):
            if reduced[j] < most:
                most = reduced[j]
                c = j
        if c < 0:
            return True
        r = -1
        ratio = np.inf
        for i in range(m):
            if tab[i, c] > PIVOT_TOL:
                t = rhs[i] / tab[i, c]
                if t < ratio or (t == ratio and basis[i] < basis[r]):
                    ratio = t
                    r = i
        if r < 0:
            return True  # unbounded: not possible, the convexity row bounds every path and each cap row its slack
        _pivot(tab, rhs, reduced, basis, r, c, n_cols)
    return False


@njit(cache=True)
def master_reprice(tab, reduced, cost, basis, n_cols):
    """Recompute the reduced costs of the first ``n_cols`` columns after a change of
    ``cost``: cost_j - cost_B . (B^-1 A_j), the tableau holding B^-1 A_j."""
    for j in range(n_cols):
        r = cost[j]
        for i in range(basis.shape[0]):
            r -= cost[basis[i]] * tab[i, j]
        reduced[j] = r


@njit(cache=True)
def artificial_used(rhs, basis):
    """Whether the basis gives the artificial column (the last row's) a positive value: no
    combination of the columns so far fits at the artificial's price."""
    m = basis.shape[0]
    for i in range(m):
        if basis[i] == m - 1 and rhs[i] > 0.0:
            return True
    return False


@njit(cache=True)
def master_value(rhs, cost, basis):
    """The master's objective: cost_B . x_B."""
    z = 0.0
    for i in range(basis.shape[0]):
        z += cost[basis[i]] * rhs[i]
    return z
