"""Goals: how latency, energy, device switches and accuracy loss weigh in a plan's score.

score = w_lat * L / L_base + w_en * E / E_base + w_sw * switches + w_acc * accuracy loss,
with L_base (E_base) the sum over stages of the cheapest execution latency (energy) of any
way to run it. Plans rank by (score, latency, energy, switches, placement in the
scenario's option order). The ``throughput`` goal ranks by the period (the busiest
device's busy time per frame) first, then as ``balanced``.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple, Union

import numpy as np

from .errors import VALUE_RANGE, out_of_range


class Weights(NamedTuple):
    """A goal's score weights: per L / L_base, per E / E_base, per switch, per point of
    accuracy loss."""

    latency: float
    energy: float
    switch: float
    accuracy: float = 0.0


#: the weights of the named goals, as in the seed tool (``throughput`` breaks its period
#: ties as ``balanced``)
GOAL_WEIGHTS: dict[str, Weights] = {
    "latency": Weights(1.0, 0.20, 0.08),
    "efficiency": Weights(0.35, 1.0, 0.08),
    "balanced": Weights(0.75, 0.75, 0.08),
    "throughput": Weights(0.75, 0.75, 0.08),
}

#: the goal that ranks by period first
THROUGHPUT = "throughput"

Goal = Union[str, Mapping[str, float]]


def resolve_goal(goal: Goal) -> tuple[str, Weights]:
    """Name and weights of a goal name or a ``{"latency", "energy", "switch", "accuracy"}`` dict."""
    if isinstance(goal, str):
        if goal not in GOAL_WEIGHTS:
            raise ValueError(f"unknown goal {goal!r}; choose {', '.join(GOAL_WEIGHTS)}")
        return goal, GOAL_WEIGHTS[goal]
    if not isinstance(goal, Mapping):
        raise ValueError(f"goal must be a name or a dict of weights, got {type(goal).__name__}")
    unknown = [k for k in goal if k not in Weights._fields]
    if unknown:
        raise ValueError(f"unknown goal weight {unknown[0]!r}; use {', '.join(Weights._fields)}")
    weights = []
    for key in Weights._fields:
        value = goal.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 \
                or out_of_range(value):
            raise ValueError(f"goal weight {key!r} must be a number >= 0 ({VALUE_RANGE}), got {value!r}")
        weights.append(float(value))
    if not any(weights):
        raise ValueError("goal weights are all zero; give latency, energy, switch or accuracy a positive weight")
    return "custom", Weights(*weights)


def weights_goal(weights: Weights) -> dict[str, float]:
    """The custom goal with these weights: re-solves rank exactly as the original."""
    return weights._asdict()


def score_coefficients(weights: Weights, baselines: tuple[float, float]) -> np.ndarray:
    """(3,) multipliers of (latency ms, energy mJ, switches) whose dot product is the score."""
    return np.array([weights[0] / baselines[0], weights[1] / baselines[1], weights[2]])


def switch_worth(weights: Weights, baselines: tuple[float, float]) -> tuple[float, float]:
    """The latency (ms) and the energy (mJ) that score as much as one switch (inf where that
    term has no weight): what the switch penalty trades against."""
    latency, energy, switch = score_coefficients(weights, baselines)
    return (switch / latency if latency else math.inf, switch / energy if energy else math.inf)
