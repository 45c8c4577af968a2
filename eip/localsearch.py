"""Local search over placements: polish a plan that fits, repair one that does not.

It works on the model's exact usage (``CostModel.usage``), never on a graph, so it sees
every stage's real costs whatever the lowering: a relaxed graph's plans, a mode graph's,
or a placement that breaks the caps. Its moves change one stage (``CostModel.single_moves``)
or, where no single move helps, two. It proves nothing: the searches' bounds
say how far its plans may be from the optimum.
"""

from __future__ import annotations

import time

import numpy as np

from .costmodel import CostModel
from .kernels.contract import Row, placement_rank, rank_order, scored_rows

#: A repair stalled at a local minimum of the overuse tries pair moves: each of this many
#: single moves of least overuse, followed by its own best single move. Generated ways DAG
#: 100x4 seed 1 (caps on latency, energy, accuracy, four busy times and the GPU's power,
#: all binding): from the path the LP's multipliers price cheapest, single moves stall
#: 0.1% over the caps on both GPU modes; one pair step over the 64 best first moves makes
#: it fit, within 0.004% of HiGHS's optimum, and 16 did not (a scratch repair, 1.6 s).
PAIR_FIRST_MOVES = 64


def distinct(options: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plans of ``options`` (M, N) with ``rows`` (M, 1 + Q), each placement once."""
    _, first = np.unique(options, axis=0, return_index=True)
    return options[first], rows[first]


def merged(options: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best distinct plans of ``options`` (M, N) with ``rows`` (M, 1 + Q)."""
    options, rows = distinct(options, rows)
    best = rank_order(rows, placement_rank(options))[:k]
    return options[best], rows[best]


def overuse(rows: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(M,) how far plan rows (M, 1 + Q) exceed ``caps`` (Q,) in all, each finite cap's
    excess relative to the cap (to 1 for a cap of 0); inf for an impossible placement. A
    plan fits the caps where it is 0."""
    finite = np.isfinite(caps)
    scale = np.where(finite & (caps > 0), caps, 1.0)
    with np.errstate(invalid="ignore"):  # an impossible placement's inf usage minus an inf cap
        excess = np.where(finite, np.maximum(rows[:, Row.USE:] - np.where(finite, caps, 0.0), 0.0) / scale, 0.0)
    over = excess.sum(axis=1)
    over[~np.isfinite(rows).all(axis=1)] = np.inf
    return over


def evaluated(model: CostModel, coef: np.ndarray, caps: np.ndarray,
              options: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plan rows (M, 1 + Q) of the placements ``options`` (M, N) by the model's exact
    usage, and their ``overuse`` (M,) of ``caps``: 0 where a plan fits (an impossible
    placement has inf usage and fits nothing)."""
    with np.errstate(invalid="ignore"):  # an impossible placement's inf usage times a 0 weight
        rows = scored_rows(coef, model.usage(options)) if len(options) else np.zeros((0, Row.USE + len(caps)))
    return rows, overuse(rows, caps)


def polished(model: CostModel, coef: np.ndarray, caps: np.ndarray, options: np.ndarray, rows: np.ndarray, k: int,
             until: float) -> tuple[np.ndarray, np.ndarray]:
    """The k best distinct plans among ``options`` (M, N) (rows (M, 1 + Q), each fitting
    ``caps``) and what steepest descent reaches from each, until ``time.perf_counter()``
    passes ``until``: each step takes the best-scoring neighbour that fits the caps while it
    scores lower, among the single moves, or where none does, among the pair moves
    (``_better_pair``)."""
    found_options, found_rows = [options], [rows]
    for current, score_now in zip(options, rows[:, Row.SCORE].tolist()):
        while time.perf_counter() < until:
            placements, moved, after = _neighbours(model, coef, caps, current)
            fits = np.flatnonzero(after == 0.0)
            best = fits[np.argmin(moved[fits, Row.SCORE])] if len(fits) else None
            if best is not None and moved[best, Row.SCORE] < score_now:
                current, row = placements[best], moved[best][None, :]
            else:
                step = _better_pair(model, coef, caps, placements, moved, after, score_now, until)
                if step is None:
                    break
                current, row = step
            score_now = float(row[0, Row.SCORE])
            found_options.append(current[None, :])
            found_rows.append(row)
    return merged(np.vstack(found_options), np.vstack(found_rows), k)


def _better_pair(model: CostModel, coef: np.ndarray, caps: np.ndarray, placements: np.ndarray, moved: np.ndarray,
                 after: np.ndarray, score_now: float, until: float) -> tuple[np.ndarray, np.ndarray] | None:
    """A pair move that fits the caps and scores below ``score_now``: the best of the
    PAIR_FIRST_MOVES single moves (``placements``, rows ``moved``, overuse ``after``) that
    score lower, least overuse first, each followed by its best single move; None when
    none does. Ways DAG 100x4 seed 2's plan under a 10 s limit: two pair steps from the
    repair's 5.193 to 5.106 (3.58% -> 1.93% from proven), where single moves stall."""
    lower = np.flatnonzero(moved[:, Row.SCORE] < score_now)
    firsts = lower[np.lexsort((moved[lower, Row.SCORE], after[lower]))][:PAIR_FIRST_MOVES]
    pick = _best_pair(model, coef, caps, placements, firsts, until)
    if pick is None or pick[2] > 0.0 or not pick[1][0, Row.SCORE] < score_now:
        return None
    return pick[0], pick[1]


def _best_pair(model: CostModel, coef: np.ndarray, caps: np.ndarray, placements: np.ndarray, firsts: np.ndarray,
               until: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Of the pair moves that start with each of ``firsts`` (indices into ``placements``
    (M, N)) and take its single move of least (overuse, score), the one of least (overuse,
    score), as (placement (N,), row (1, 1 + Q), overuse); None when there is none (or the
    time passes ``until`` first)."""
    pick = None
    for first in firsts:
        if time.perf_counter() >= until:
            break
        second, second_rows, second_after = _neighbours(model, coef, caps, placements[first])
        if not len(second_after):
            continue
        best = np.lexsort((second_rows[:, Row.SCORE], second_after))[0]
        key = (second_after[best], second_rows[best, Row.SCORE])
        if pick is None or key < pick[0]:
            pick = key, second[best], second_rows[best][None, :]
    return None if pick is None else (pick[1], pick[2], float(pick[0][0]))


def repaired(model: CostModel, coef: np.ndarray, caps: np.ndarray, starts: np.ndarray,
             until: float) -> tuple[np.ndarray, np.ndarray] | None:
    """A plan that fits ``caps`` (options (1, N), rows (1, 1 + Q)) met by steepest descent
    on the caps' total overuse (``overuse``), ties broken by score, from each placement of
    ``starts`` (S, N) in turn, until ``time.perf_counter()`` passes ``until``; None when it
    meets none. Each step takes the best single move; where none lowers the overuse, the
    best pair move (PAIR_FIRST_MOVES); the descent from a start ends where neither does."""
    for current in starts:
        rows, over = evaluated(model, coef, caps, current[None, :])
        over = over[0]
        while over > 0.0 and time.perf_counter() < until:
            step = _best_move(model, coef, caps, current, over, until)
            if step is None:
                break  # a local minimum of the overuse, for pair moves too
            current, rows, over = step
        if over == 0.0:
            return current[None, :], rows
    return None


def _best_move(model: CostModel, coef: np.ndarray, caps: np.ndarray, current: np.ndarray, over: float,
               until: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The neighbour of ``current`` (N,) of least (overuse, score) among its single moves,
    or when none has less overuse than ``over``, among the pair moves (``repaired``):
    (placement (N,), row (1, 1 + Q), overuse); None when no move lowers the overuse."""
    placements, moved, after = _neighbours(model, coef, caps, current)
    order = np.lexsort((moved[:, Row.SCORE], after))
    if len(order) and after[order[0]] < over:
        best = order[0]
        return placements[best], moved[best][None, :], float(after[best])
    pick = _best_pair(model, coef, caps, placements, order[:PAIR_FIRST_MOVES], until)
    return pick if pick is not None and pick[2] < over else None


def _neighbours(model: CostModel, coef: np.ndarray, caps: np.ndarray,
                current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The single moves of ``current`` (N,): placements (M, N), their rows (M, 1 + Q) and overuse (M,)."""
    _, _, placements = model.single_moves(current)
    return (placements, *evaluated(model, coef, caps, placements))
