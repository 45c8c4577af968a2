"""Goals: how latency, energy and device switches weigh in a plan's score.

score = w_lat * L / L_base + w_en * E / E_base + w_sw * switches, with L_base (E_base) the
sum over stages of the cheapest execution latency (energy). Plans rank by
(score, latency, energy, switches, placement in the scenario's device order).
"""

from __future__ import annotations

import math
from typing import Mapping, Union

import numpy as np

#: (w_lat, w_en, w_sw) of the named goals, as in the seed tool.
GOAL_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "latency": (1.0, 0.20, 0.08),
    "efficiency": (0.35, 1.0, 0.08),
    "balanced": (0.75, 0.75, 0.08),
}

Goal = Union[str, Mapping[str, float]]

_CUSTOM_KEYS = ("latency", "energy", "switch")


def resolve_goal(goal: Goal) -> tuple[str, tuple[float, float, float]]:
    """Name and (w_lat, w_en, w_sw) of a goal name or a ``{"latency", "energy", "switch"}`` dict."""
    if isinstance(goal, str):
        if goal not in GOAL_WEIGHTS:
            raise ValueError(f"unknown goal {goal!r}; choose latency, efficiency or balanced")
        return goal, GOAL_WEIGHTS[goal]
    if not isinstance(goal, Mapping):
        raise ValueError(f"goal must be a name or a dict of weights, got {type(goal).__name__}")
    unknown = [k for k in goal if k not in _CUSTOM_KEYS]
    if unknown:
        raise ValueError(f"unknown goal weight {unknown[0]!r}; use latency, energy and switch")
    weights = []
    for key in _CUSTOM_KEYS:
        value = goal.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"goal weight {key!r} must be a finite number >= 0, got {value!r}")
        weights.append(float(value))
    if not any(weights):
        raise ValueError("goal weights are all zero; give latency, energy or switch a positive weight")
    return "custom", (weights[0], weights[1], weights[2])


def weights_goal(weights: tuple[float, float, float]) -> dict[str, float]:
    """The custom goal with these (w_lat, w_en, w_sw): re-solves rank exactly as the original."""
    return dict(zip(_CUSTOM_KEYS, weights))


def score_coefficients(weights: tuple[float, float, float], baselines: tuple[float, float]) -> np.ndarray:
    """(3,) multipliers of (latency ms, energy mJ, switches) whose dot product is the score."""
    return np.array([weights[0] / baselines[0], weights[1] / baselines[1], weights[2]])
