"""Local search over placements: polish a plan that fits, repair one that does not.

It works on the model's exact usage (``CostModel.usage``), never on a graph, so it sees
every stage's real costs whatever the lowering: a relaxed graph's plans, a mode graph's,
or a placement that breaks the caps. Its moves change one stage (``CostModel.move_choices``)
or, where no single move helps, two. It ranks a placement's moves by what each changes
(``CostModel.moved_usage``, equal to the exact usage within rounding) and evaluates the
one it takes exactly. It proves nothing: the searches' bounds say how far its plans may
be from the optimum.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .costmodel import CostModel, moved_placements
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


class _Step(NamedTuple):
    """A placement local search reached, evaluated exactly (``evaluated``)."""

    placement: np.ndarray  # (N,) option per stage
    row: np.ndarray  # (1 + Q,) its plan row
    over: float  # its overuse of the caps (0: it fits them)


class _Neighbours(NamedTuple):
    """The single moves of a placement (``CostModel.move_choices``) and what they reach."""

    current: np.ndarray  # (N,) the placement they move from
    stage: np.ndarray  # (M,) the stage each moves
    option: np.ndarray  # (M,) the option it moves it to
    rows: np.ndarray  # (M, 1 + Q) the plan rows they reach (within rounding: CostModel.moved_usage)
    over: np.ndarray  # (M,) their overuse of the caps

    def placement(self, i: int) -> np.ndarray:
        """(N,) the placement move i reaches."""
        return moved_placements(self.current, self.stage[i:i + 1], self.option[i:i + 1])[0]


def polished(model: CostModel, coef: np.ndarray, caps: np.ndarray, options: np.ndarray, rows: np.ndarray, k: int,
             until: float) -> tuple[np.ndarray, np.ndarray]:
    """The k best distinct plans among ``options`` (M, N) (rows (M, 1 + Q), each fitting
    ``caps``) and what steepest descent reaches from each, until ``time.perf_counter()``
    passes ``until``: each step takes the best-scoring neighbour that fits the caps while it
    scores lower, among the single moves, or where none does, among the pair moves
    (``_better_pair``)."""
    found_options, found_rows = [options], [rows]
    for current, row in zip(options, rows):
        step = _Step(current, row, 0.0)
        while time.perf_counter() < until:
            step = _lower_neighbour(model, coef, caps, step, until)
            if step is None:
                break
            found_options.append(step.placement[None, :])
            found_rows.append(step.row[None, :])
    return merged(np.vstack(found_options), np.vstack(found_rows), k)


def _lower_neighbour(model: CostModel, coef: np.ndarray, caps: np.ndarray, step: _Step, until: float) -> _Step | None:
    """A neighbour of ``step`` that fits the caps and scores lower: the best-scoring single
    move that does, or where none does, the best pair move (``_better_pair``); None when
    neither does."""
    moves = _neighbours(model, coef, caps, step)
    score_now = step.row[Row.SCORE]
    fits = np.flatnonzero(moves.over == 0.0)
    if len(fits):
        best = fits[np.argmin(moves.rows[fits, Row.SCORE])]
        if moves.rows[best, Row.SCORE] < score_now:
            single = _exactly(model, coef, caps, moves.placement(best))
            if single.over == 0.0 and single.row[Row.SCORE] < score_now:
                return single
    return _better_pair(model, coef, caps, moves, score_now, until)


def _better_pair(model: CostModel, coef: np.ndarray, caps: np.ndarray, moves: _Neighbours, score_now: float,
                 until: float) -> _Step | None:
    """A pair move that fits the caps and scores below ``score_now``: the best of the
    PAIR_FIRST_MOVES single ``moves`` that score lower, least overuse first, each followed
    by its best single move; None when none does. Ways DAG 100x4 seed 2's plan under a 10 s
    limit: two pair steps from the repair's 5.193 to 5.106 (3.58% -> 1.93% from proven),
    where single moves stall."""
    lower = np.flatnonzero(moves.rows[:, Row.SCORE] < score_now)
    firsts = lower[np.lexsort((moves.rows[lower, Row.SCORE], moves.over[lower]))][:PAIR_FIRST_MOVES]
    pick = _best_pair(model, coef, caps, moves, firsts, until)
    if pick is None or pick.over > 0.0 or not pick.row[Row.SCORE] < score_now:
        return None
    return pick


def _best_pair(model: CostModel, coef: np.ndarray, caps: np.ndarray, moves: _Neighbours, firsts: np.ndarray,
               until: float) -> _Step | None:
    """Of the pair moves that start with each of ``firsts`` (indices into ``moves``) and
    take its single move of least (overuse, score), the one of least (overuse, score); None
    when there is none (or the time passes ``until`` first)."""
    pick = None
    for first in firsts:
        if time.perf_counter() >= until:
            break
        second = _neighbours(model, coef, caps, _exactly(model, coef, caps, moves.placement(first)))
        if not len(second.over):
            continue
        best = np.lexsort((second.rows[:, Row.SCORE], second.over))[0]
        key = (second.over[best], second.rows[best, Row.SCORE])
        if pick is None or key < pick[0]:
            pick = key, second.placement(best)
    return None if pick is None else _exactly(model, coef, caps, pick[1])


def repaired(model: CostModel, coef: np.ndarray, caps: np.ndarray, starts: np.ndarray,
             until: float) -> tuple[np.ndarray, np.ndarray] | None:
    """A plan that fits ``caps`` (options (1, N), rows (1, 1 + Q)) met by steepest descent
    on the caps' total overuse (``overuse``), ties broken by score, from each placement of
    ``starts`` (S, N) in turn, until ``time.perf_counter()`` passes ``until``; None when it
    meets none. Each step takes the best single move; where none lowers the overuse, the
    best pair move (PAIR_FIRST_MOVES); the descent from a start ends where neither does."""
    for current in starts:
        step = _exactly(model, coef, caps, current)
        while step.over > 0.0 and time.perf_counter() < until:
            better = _best_move(model, coef, caps, step, until)
            if better is None:
                break  # a local minimum of the overuse, for pair moves too
            step = better
        if step.over == 0.0:
            return step.placement[None, :], step.row[None, :]
    return None


def _best_move(model: CostModel, coef: np.ndarray, caps: np.ndarray, step: _Step, until: float) -> _Step | None:
    """The neighbour of ``step`` of least (overuse, score) among its single moves, or when
    none has less overuse, among the pair moves (``repaired``); None when no move lowers
    the overuse."""
    moves = _neighbours(model, coef, caps, step)
    order = np.lexsort((moves.rows[:, Row.SCORE], moves.over))
    if len(order) and moves.over[order[0]] < step.over:
        single = _exactly(model, coef, caps, moves.placement(order[0]))
        if single.over < step.over:
            return single
    pick = _best_pair(model, coef, caps, moves, order[:PAIR_FIRST_MOVES], until)
    return pick if pick is not None and pick.over < step.over else None


def _exactly(model: CostModel, coef: np.ndarray, caps: np.ndarray, placement: np.ndarray) -> _Step:
    """``placement`` (N,) evaluated exactly (``evaluated``)."""
    rows, over = evaluated(model, coef, caps, placement[None, :])
    return _Step(placement, rows[0], float(over[0]))


def _neighbours(model: CostModel, coef: np.ndarray, caps: np.ndarray, step: _Step) -> _Neighbours:
    """The single moves of ``step``'s placement, ranked by what each changes."""
    stage, option = model.move_choices(step.placement)
    with np.errstate(invalid="ignore"):  # an impossible move's inf usage times a 0 weight
        rows = scored_rows(coef, model.moved_usage(step.placement, step.row[Row.USE:], stage, option))
    return _Neighbours(step.placement, stage, option, rows, overuse(rows, caps))
