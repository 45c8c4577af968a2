"""Explanations of a ``PlanResult``: why each stage sits where it does, what binds, how the
alternatives differ. Every figure is computed exactly from the cost model; sentences are
short enough to read in a design review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .costmodel import CostModel, cap_with_tolerance
from .goals import score_coefficients
from .result import Plan, PlanResult


@dataclass(frozen=True)
class MoveOption:
    """What moving one stage alone to another device would change in the best plan."""

    device: str
    delta_ms: float
    delta_mj: float
    delta_score: float
    breaks: str  # the constraint the move would violate ("" when it stays feasible)


@dataclass(frozen=True)
class StageReason:
    stage: str
    device: str
    moves: tuple[MoveOption, ...]
    sentence: str


@dataclass(frozen=True)
class Budget:
    """One cap or memory budget, its use by the best plan and who uses it most."""

    name: str
    used: float
    limit: float
    unit: str
    pressed_by: tuple[str, ...]
    sentence: str

    @property
    def slack(self) -> float:
        return self.limit - self.used


@dataclass(frozen=True)
class AlternativeDiff:
    rank: int
    moved: tuple[tuple[str, str, str], ...]  # (stage, device in the best plan, device here)
    delta_ms: float
    delta_mj: float
    delta_score: float
    sentence: str


@dataclass(frozen=True)
class Explanation:
    stages: tuple[StageReason, ...]
    budgets: tuple[Budget, ...]  # tightest first
    alternatives: tuple[AlternativeDiff, ...]
    summary: tuple[str, ...]


def explain(result: PlanResult) -> Explanation:
    """Explain the best plan of ``result`` (an empty explanation when there is none)."""
    best = result.best
    if best is None:
        return Explanation((), (), (), (f"No plan: {result.reason}",) if result.reason else ())
    model = result.model
    budgets = _budgets(model, best)
    stages = tuple(_stage_reason(model, result, best, s) for s in range(model.n_stages))
    alternatives = tuple(_alternative(best, plan, rank) for rank, plan in enumerate(result.plans[1:], 2))
    summary = [_proof_sentence(result)]
    binding = [b for b in budgets if math.isfinite(b.limit)]
    if binding:
        summary.append(binding[0].sentence)
    return Explanation(stages, budgets, alternatives, tuple(summary))


def _proof_sentence(result: PlanResult) -> str:
    how = {"viterbi": "the unconstrained optimum already fits every budget",
           "exact": "the exact label search finished", "beam": "the beam search"}[result.strategy]
    if result.status == "optimal":
        return f"Proven optimal: {how}."
    return f"Not proven optimal ({how}): the best score is within {result.gap:.2%} of the optimum."


def _stage_reason(model: CostModel, result: PlanResult, best: Plan, s: int) -> StageReason:
    options = best._options
    here = int(options[s])
    coef = score_coefficients(result.weights, model.baselines)
    moves = []
    for o in range(model.n_options):
        if o == here or not np.isfinite(model.exec_ms[s, o]):
            continue
        delta = _move_delta(model, options, s, o)
        if delta is None:
            continue
        d_ms, d_mj, d_sw = delta
        d_score = float(coef[0] * d_ms + coef[1] * d_mj + coef[2] * d_sw)
        moves.append(MoveOption(model.option_names[o], d_ms, d_mj, d_score, _breaks(model, best, s, here, o, d_ms, d_mj)))
    stage = model.stage_names[s]
    device = model.option_names[here]
    parts = []
    cost = best.stages[s]
    if cost.xfer_ms > 0 or cost.xfer_mj > 0:
        parts.append(f"it pays {cost.xfer_ms:.2f} ms and {cost.xfer_mj:.2f} mJ to receive "
                     f"{model.output_mb[s - 1]:g} MB from {best.placement[s - 1]}")
    for m in sorted(moves, key=lambda m: m.delta_score)[:2]:
        change = f"{_signed(m.delta_ms, 'ms')}, {_signed(m.delta_mj, 'mJ')}"
        if m.breaks:
            parts.append(f"on {m.device} it would be {change} but break {m.breaks}")
        else:
            parts.append(f"on {m.device} it would be {change} (score {m.delta_score:+.4f})")
    if not moves:
        parts.append("no other device can run it here")
    sentence = f"{stage} runs on {device}: " + "; ".join(parts) + "."
    return StageReason(stage, device, tuple(moves), sentence)


def _move_delta(model: CostModel, options: np.ndarray, s: int, o: int):
    """(delta ms, delta mJ, delta switches) of moving stage s alone to option o; None if impossible."""
    step_use, trans_use, switch, _ = model.kernel_tensors
    here = int(options[s])
    delta = step_use[s, o, :2] - step_use[s, here, :2]
    d_sw = 0.0
    # the transfers into stage s and out of it change: (stage, old from, old to, new from, new to)
    edges = []
    if s > 0:
        prev = int(options[s - 1])
        edges.append((s, prev, here, prev, o))
    if s + 1 < model.n_stages:
        nxt = int(options[s + 1])
        edges.append((s + 1, here, nxt, o, nxt))
    for t, old_a, old_b, new_a, new_b in edges:
        new = trans_use[t, new_a, new_b]
        if not np.isfinite(new[0]):
            return None
        delta = delta + new - trans_use[t, old_a, old_b]
        d_sw += switch[new_a, new_b] - switch[old_a, old_b]
    return float(delta[0]), float(delta[1]), d_sw


def _breaks(model: CostModel, best: Plan, s: int, here: int, o: int, d_ms: float, d_mj: float) -> str:
    if best.latency_ms + d_ms > cap_with_tolerance(np.float64(model.max_latency_ms)):
        return f"the latency cap ({best.latency_ms + d_ms:.2f} > {model.max_latency_ms:g} ms)"
    if best.energy_mj + d_mj > cap_with_tolerance(np.float64(model.max_energy_mj)):
        return f"the energy cap ({best.energy_mj + d_mj:.2f} > {model.max_energy_mj:g} mJ)"
    dev = int(model.option_device[o])
    if dev != int(model.option_device[here]):
        name = model.device_names[dev]
        use = best.memory_mb[name]
        need = use.used_mb + float(model.mem_mb[s, o])
        if need > cap_with_tolerance(np.float64(use.budget_mb)):
            return f"{name} memory ({need:g} > {use.budget_mb:g} MB)"
    return ""


def _budgets(model: CostModel, best: Plan) -> tuple[Budget, ...]:
    out = []
    by_ms = sorted(best.stages, key=lambda c: -c.total_ms)
    by_mj = sorted(best.stages, key=lambda c: -c.total_mj)
    for name, used, limit, unit, top, value in (
        ("latency cap", best.latency_ms, model.max_latency_ms, "ms", by_ms, lambda c: c.total_ms),
        ("energy cap", best.energy_mj, model.max_energy_mj, "mJ", by_mj, lambda c: c.total_mj),
    ):
        pressed = tuple(c.stage for c in top[:2])
        out.append(Budget(name, used, limit, unit, pressed, _budget_sentence(name, used, limit, unit, top[:2], value)))
    for device, use in best.memory_mb.items():
        on_it = sorted((c for c in best.stages if c.device == device), key=lambda c: -c.memory_mb)
        pressed = tuple(c.stage for c in on_it[:2])
        out.append(Budget(f"{device} memory", use.used_mb, use.budget_mb, "MB", pressed,
                          _budget_sentence(f"{device} memory", use.used_mb, use.budget_mb, "MB", on_it[:2],
                                           lambda c: c.memory_mb)))
    return tuple(sorted(out, key=lambda b: (b.slack / b.limit if b.limit > 0 and math.isfinite(b.limit) else math.inf)))


def _budget_sentence(name, used, limit, unit, top, value) -> str:
    if not math.isfinite(limit):
        return f"no {name}; the plan uses {amount(used)} {unit}."
    users = " and ".join(f"{c.stage} ({amount(value(c))} {unit})" for c in top)
    share = used / limit if limit > 0 else 0.0
    tail = f"; {users} use most of it" if users else ""
    return f"{name}: {amount(used)} of {limit:g} {unit} ({share:.0%}, {amount(limit - used)} {unit} slack){tail}."


def _alternative(best: Plan, plan: Plan, rank: int) -> AlternativeDiff:
    moved = tuple((c.stage, b.device, c.device) for b, c in zip(best.stages, plan.stages) if b.device != c.device)
    d_ms, d_mj, d_score = plan.latency_ms - best.latency_ms, plan.energy_mj - best.energy_mj, plan.score - best.score
    what = ", ".join(f"{stage} {old} -> {new}" for stage, old, new in moved)
    sentence = f"Alternative {rank} moves {what}: {_signed(d_ms, 'ms')}, {_signed(d_mj, 'mJ')}, score {d_score:+.4f}."
    return AlternativeDiff(rank, moved, d_ms, d_mj, d_score, sentence)


def amount(x: float) -> str:
    """A quantity without noise: whole numbers bare, others to two decimals."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _signed(x: float, unit: str) -> str:
    return f"{x:+.2f} {unit}"
