"""A fractional dive: a plan that fits, read off the LP relaxation, where beams meet none.

Each round solves the LP over convex combinations of the paths still allowed (column
generation, ``bounds.column_generation``) and fixes the step whose option the LP weights
most without placing it whole; depth first, a round whose fixings leave no fitting
combination, or none whose LP bound is below the best score known (the caller's
incumbent, or a plan the dive met), returns to the last fixing and forbids its option
instead. The dive ends at a plan that column generation meets at its own LP bound (the
best plan through the fixings), when every fixing has been forbidden, at its round budget
or at the deadline. MILP solvers run such primal heuristics; it is never a proof.

``python -m benchmarks.bounds`` measures it: on the generated ways 60x4 and 100x4 (seed 0),
where a beam of 32 labels per option meets no plan, it meets plans 4.85% and 1.99% above
the LP bound in 28-65 and 83-87 ms (0.08% and 0.25% above HiGHS's optima, ``python -m
benchmarks --families ways60x4,ways100x4 --seeds 1 --peers highs --top-k 1``). On ways
200x4 seed 1 (the same command) it meets its plans on the two GPU modes' graphs in 1.4 and
0.9 s, ending 100 rounds past the last plan met (DIVE_STALL_PER_STEP); without that, the
same call timed by a scratch script at 3b8fc1c ran out its 400 rounds, 3.9 and 3.0 s, and a
scratch copy printing its rounds met the plans in rounds 37 and 1.
"""

import numpy as np
from numba import njit

from .bounds import DUAL_GAP, by_dimension, column_generation, column_pool
from .contract import Row
from .paths import clock

# column generation passes per round (it meets the LP optimum within them on the families)
DIVE_ITERATIONS = 100
# rounds per step of the graph: a bound on a dive's time where no time limit is set (each
# round solves an LP by column generation)
DIVE_ROUNDS_PER_STEP = 2
# rounds per step of the graph that a dive which has met a plan may go on without a better
# one (a scratch copy of the dive printing its rounds, on the first mode graph of the
# generated ways chains of 60-200 stages, seeds 0-2: every dive that ran out its rounds had
# met its last plan by round 37 of 120-400, and the others met each better plan at most 41
# rounds after the one before, on 100 steps)
DIVE_STALL_PER_STEP = 0.5
# an option the LP weights at least this much is placed whole
WHOLE = 1.0 - 1e-9


@njit(cache=True)
def _most_weighted_fraction(g, share):
    """The option the LP weights most (``share`` (T,)) among the steps it does not place
    whole, and its step; (-1, -1) when it places every step whole."""
    pick_step, pick = -1, -1
    for s in range(g.step_start.shape[0] - 1):
        top = g.step_start[s] + np.argmax(share[g.step_start[s]:g.step_start[s + 1]])
        if share[top] < WHOLE and (pick < 0 or share[top] > share[pick]):
            pick_step, pick = s, top
    return pick_step, pick


@njit(cache=True)
def lp_dive(g, coef, caps, incumbent, deadline, stall_per_step, path):
    """The best plan that fits ``caps`` (Q,) and scores below ``incumbent`` (inf: any) met
    while diving through the LP relaxation of the graph ``g`` scored by ``coef`` (Q,),
    within DIVE_ROUNDS_PER_STEP rounds per step (``stall_per_step`` past the last plan it
    met: DIVE_STALL_PER_STEP to improve on it, 0 to stop at the first) and until the
    ``clock`` time ``deadline``.

    Depth first: each round fixes the step of the option the LP weights most but not
    whole; a round whose LP finds no fitting combination, or bounds every one at or above
    the best score known, returns to the last fixing and forbids its option instead.
    Returns the plan's row (score inf: none met) and writes its options into ``path`` (N,).
    """
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    allowed = np.ones(t_count, dtype=np.bool_)
    share = np.empty(t_count)
    best = np.full(Row.USE + q, np.inf)
    # (each round's LP starts from an empty master: seeded with the earlier rounds' columns,
    # its LPs took fewer passes but their shares led ways 200x4 seed 0's dive to a plan 25%
    # above the LP bound, against 5% from empty masters; a scratch copy printing its searches)
    columns = column_pool(0, n, q)  # (nor their bases)
    uses = by_dimension(g)
    saved = np.empty((n, t_count), dtype=np.bool_)  # per depth, the options allowed before its fixing
    fixed = np.empty(n, dtype=np.int64)  # per depth, the option it fixed
    depth = 0
    stall = int(stall_per_step * n)
    last_met = -1  # the round that met the best plan (-1: none yet)
    for r in range(DIVE_ROUNDS_PER_STEP * n):
        if (deadline < np.inf and clock() > deadline) or (last_met >= 0 and r - last_met > stall):
            break
        _, _, _, dual, row, met = column_generation(g, uses, coef, caps, DIVE_ITERATIONS, allowed, share, deadline,
                                                    columns, np.inf, columns, np.zeros(caps.shape[0]), 0.0)
        if row[Row.SCORE] < min(incumbent, best[Row.SCORE]):
            best[:] = row
            path[:] = met
            last_met = r
        if row[Row.SCORE] < np.inf and row[Row.SCORE] - dual <= DUAL_GAP * max(1.0, abs(row[Row.SCORE])):
            break  # the best plan through the fixings
        hopeless = dual >= min(incumbent, best[Row.SCORE])  # nothing better through the fixings
        if hopeless or share[g.step_start[0]:g.step_start[1]].sum() < WHOLE:
            # no fitting combination through the fixings, or none better: forbid the last one instead
            if depth == 0:
                break
            depth -= 1
            allowed[:] = saved[depth]
            allowed[fixed[depth]] = False
            continue
        step, option = _most_weighted_fraction(g, share)
        if option < 0:
            break  # placed whole everywhere: the LP's one path fits, and column generation met it
        saved[depth] = allowed
        fixed[depth] = option
        depth += 1
        allowed[g.step_start[step]:g.step_start[step + 1]] = False
        allowed[option] = True
    return best
