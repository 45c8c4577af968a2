"""Explanations of a ``PlanResult``: why each stage sits where it does, what binds, how the
alternatives differ. Every figure is computed exactly from the cost model; sentences are
short enough to read in a design review.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .costmodel import CostModel, Dim, Limit, LimitKind, cap_with_tolerance
from .goals import GOAL_WEIGHTS, Goal, weights_goal
from .kernels.contract import score
from .result import EdgeCost, Plan, PlanResult
from .solve import plan
from .tradeoff import Frontier, frontier as frontier_of

#: labels each exact solve behind an explanation (a sensitivity re-solve, a step of the
#: frontier walk) may keep: a report should not wait long for a what-if (a stopped re-solve
#: says it is not proven; a stopped frontier keeps its proven points and says where it stopped)
REPORT_LABELS = 200_000

#: ``Shift.status`` of a re-solve the explanation's time limit left no time for
SKIPPED = "skipped"


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
class Shift:
    """The best plan once one budget moves by ``change`` (in the budget's unit), all else equal.

    ``status`` is that plan's proof ("optimal", "feasible", "infeasible" or "unknown"), or
    "skipped" when the explanation's time limit was spent before this re-solve; the deltas
    are against the current best plan and NaN when there is no plan.
    """

    change: float
    status: str
    plan: Plan | None
    delta_score: float
    delta_ms: float
    delta_mj: float


@dataclass(frozen=True)
class Budget:
    """One cap or memory budget, its use by the best plan, who uses it most, and what one
    step more (``relaxed``) or less (``tightened``) of it is worth; both are None for a
    budget without a limit, ``tightened`` also when the limit is below one step.
    """

    name: str
    of: Limit  # the model's limit this budget is
    used: float
    limit: float
    unit: str
    pressed_by: tuple[str, ...]
    sentence: str
    step: float = math.nan
    relaxed: Shift | None = None
    tightened: Shift | None = None
    sensitivity: str = ""

    @property
    def dim(self) -> int:
        """The (first) usage dimension it caps (``costmodel.Dims``)."""
        return self.of.dims[0]

    @property
    def shifts(self) -> tuple[Shift, ...]:
        return tuple(s for s in (self.relaxed, self.tightened) if s is not None)

    @property
    def slack(self) -> float:
        return self.limit - self.used


@dataclass(frozen=True)
class AlternativeDiff:
    rank: int
    moved: tuple[tuple[str, str, str], ...]  # (stage, its option in the best plan, its option here)
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
    frontier: Frontier | None = None  # the latency/energy trade-off under the same budgets


def explain(result: PlanResult, sensitivity: bool = True, time_limit_s: float | None = None,
            progress: Callable[[int, int], None] | None = None) -> Explanation:
    """Explain the best plan of ``result`` (an empty explanation when there is none).

    With ``sensitivity`` (what-if analysis by re-solving), every finite budget is moved one
    step up and one step down and the best plan re-solved there (``eip.plan`` within
    ``REPORT_LABELS`` labels: exact, else the beam), which costs up to two ``eip.plan`` calls per budget (steps that
    provably change nothing are not solved); and the latency/energy frontier under the same
    budgets is walked (``eip.frontier``, one exact solve per point). ``time_limit_s``
    (None: no limit; 0: nothing is re-solved) bounds all of it together: the re-solves
    share about half of it, each taking its share of what is left, and the frontier walk
    the rest; what the walk leaves goes to the re-solves that stopped unproven or were
    skipped, each solved once more in its share of it. A re-solve or walk its share stops
    says so, and so do those the time left no room for (``Shift.status`` "skipped").
    ``progress(done, total)`` is called after each budget's re-solves and after the
    frontier walk and second re-solves (two steps per finite budget, one for the rest), for
    a progress bar.
    """
    if not isinstance(result, PlanResult):
        raise TypeError(f"explain expects eip.plan's answer (a PlanResult), got {type(result).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function of (done, total) or None, got {type(progress).__name__}")
    allowance = _Allowance.of(time_limit_s)
    best = result.best
    if best is None:
        return Explanation((), (), (), (f"No plan: {result.reason}",) if result.reason else ())
    model = result.model
    budgets = _budgets(model, best)
    summary = [_proof_sentence(result)]
    front, front_notes = None, []
    if sensitivity:
        budgets, front, front_notes = _what_ifs(result, budgets, allowance, progress or (lambda done, total: None))
    binding = [b for b in budgets if math.isfinite(b.limit)]
    if binding:
        summary.append(binding[0].sentence)
    gains = [(b.relaxed.delta_score, b) for b in budgets if b.relaxed is not None and b.relaxed.delta_score < 0]
    if gains:
        gain, b = min(gains, key=lambda g: g[0])
        summary.append(f"Most valuable step: {_signed(b.step, b.unit, '+g')} on the {b.name} "
                       f"(score {gain:+.4f}).")
    summary.extend(front_notes)
    alternatives = tuple(_alternative(best, plan, rank) for rank, plan in enumerate(result.plans[1:], 2))
    return Explanation(_stage_reasons(result, best), budgets, alternatives, tuple(summary), front)


def _what_ifs(result: PlanResult, budgets: tuple[Budget, ...], allowance: "_Allowance",
              report: Callable[[int, int], None]) -> tuple[tuple[Budget, ...], Frontier | None, list[str]]:
    """The sensitivity re-solves of ``budgets``, the frontier walk and the second re-solves
    within ``allowance`` (``explain``): the budgets with their shifts, the frontier (None:
    not walked) and what the summary says of it."""
    steps = 2 * sum(math.isfinite(b.limit) for b in budgets)
    allowance.expect(steps)
    done, shifted = 0, []
    for b in budgets:
        shifted.append(_with_sensitivity(result, b, allowance))
        done += 2 * math.isfinite(b.limit)
        report(done, steps + 1)
    notes: list[str] = []
    front = _frontier(result, allowance, notes)
    again = _solved_again(result, tuple(shifted), allowance)
    report(steps + 1, steps + 1)
    return again, front, notes


def _stage_reasons(result: PlanResult, best: Plan) -> tuple[StageReason, ...]:
    """Why each stage of ``best`` sits where it does, the inputs it pays for and the consumers
    it serves."""
    model = result.model
    moves = _single_moves(model, result, best)
    into: dict[str, list[EdgeCost]] = {}
    out_of: dict[str, list[EdgeCost]] = {}
    for edge in best.edges:
        into.setdefault(edge.reader, []).append(edge)
        out_of.setdefault(edge.producer, []).append(edge)
    return tuple(_stage_reason(model, best, s, moves[s], into.get(name, []), out_of.get(name, []))
                 for s, name in enumerate(model.stage_names))


def _frontier(result: PlanResult, allowance: "_Allowance", summary: list[str]) -> Frontier | None:
    """The latency/energy frontier under ``result``'s budgets within the rest of the
    allowance (None when the graph is relaxed); says in ``summary`` when it is incomplete."""
    model = result.model
    if model.relaxed:
        summary.append("No latency/energy frontier: the graph is too wide to walk exactly in its listed order.")
        return None
    limit_s = allowance.rest()
    if limit_s is None:
        summary.append("No latency/energy frontier: the time limit was spent before its walk began.")
        return None
    front = frontier_of(model, goal=_goal_of(result), label_budget=REPORT_LABELS, time_limit_s=limit_s)
    if not front.complete:
        summary.append(f"Latency/energy frontier incomplete: {front.reason}; plans faster than "
                       f"{front.unexplored_ms[1]:.2f} ms were not walked.")
    return front


@dataclass
class _Allowance:
    """The time an explanation's re-solves share, as a ``time.perf_counter()`` deadline:
    each sensitivity re-solve takes its share of what is left over the re-solves still
    expected (so what a quick one leaves goes to the next), the frontier walk takes the
    rest, at least half of what there was, and what it leaves is shared by the re-solves
    solved a second time (``_solved_again``)."""

    deadline: float
    expected: int = 0  # sensitivity re-solves yet to come, the frontier walk counting as many

    @classmethod
    def of(cls, time_limit_s) -> "_Allowance":
        if time_limit_s is None:
            return cls(math.inf)
        if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float, np.integer, np.floating)) \
                or not time_limit_s >= 0:
            raise ValueError(f"time_limit_s must be a number >= 0 or None, got {time_limit_s!r}")
        return cls(time.perf_counter() + float(time_limit_s))

    def expect(self, resolves: int) -> None:
        """``resolves`` sensitivity re-solves are to come (the frontier walk counts as as many)."""
        self.expected = 2 * resolves

    def take(self) -> float | None:
        """Seconds for the next sensitivity re-solve; None when the time is spent."""
        share = (self.deadline - time.perf_counter()) / max(self.expected, 1)
        self.expected = max(self.expected - 1, 0)
        return share if share > 0 else None

    def share_among(self, resolves: int) -> None:
        """``resolves`` re-solves share all that is left (the second pass, after the walk)."""
        self.expected = resolves

    def rest(self) -> float | None:
        """Seconds for the frontier walk, all that is left; None when the time is spent."""
        left = self.deadline - time.perf_counter()
        return left if left > 0 else None


def _proof_sentence(result: PlanResult) -> str:
    how = {"viterbi": "the unconstrained optimum already fits every budget",
           "exact": "the exact label search" + (" finished" if result.status == "optimal" else ""),
           "beam": "the beam search",
           "relaxed": "the best plans of a relaxed graph (the graph is too wide to plan exactly in its listed "
                      "order), re-evaluated exactly",
           "repaired": "no search met a plan as good; local search moved a plan the LP prices cheapest, or "
                       "the unconstrained optimum, one or two stages at a time, until it fit every budget"}[
        result.strategy]
    if result.status == "optimal":
        return f"Proven optimal: {how}."
    # what would let the search go further: the user's knob for each stop
    further = {"label_budget": " The search stopped at its label budget: a larger one (--label-budget) may prove it.",
               "time_limit": " The search stopped at its time limit: more time (--time-limit) may prove it."}
    stopped = further.get(result.stats.get("stopped_by"), "")
    if result.best_proven:
        return (f"The best plan is proven optimal ({how}); the others are the next best found, not proven the "
                f"next best.{stopped}")
    return f"Not proven optimal ({how}): the best score is within {result.gap:.2%} of the optimum.{stopped}"


def _single_moves(model: CostModel, result: PlanResult, best: Plan) -> list[list[MoveOption]]:
    """Per stage, what moving that stage alone to each other option would change (one
    vectorized evaluation of every such placement; impossible moves left out)."""
    stage_of, alt, placements = model.single_moves(best._options)
    usage = model.usage(placements)
    coef = model.coefficients(result.weights)
    out: list[list[MoveOption]] = [[] for _ in range(model.n_stages)]
    for s, o, use in zip(stage_of.tolist(), alt.tolist(), usage):
        if np.all(np.isfinite(use)):
            delta = use - best.usage
            out[s].append(MoveOption(model.option_names[o], float(delta[Dim.LATENCY]), float(delta[Dim.ENERGY]),
                                     float(score(coef, delta)), _breaks(model, use)))
    return out


def _stage_reason(model: CostModel, best: Plan, s: int, moves: list[MoveOption], inputs: list[EdgeCost],
                  outputs: list[EdgeCost]) -> StageReason:
    """Why stage s sits where it does; ``inputs``/``outputs`` are its edges in ``best``."""
    stage = model.stage_names[s]
    device = best.placement[s]
    parts = []
    cost = best.stages[s]
    paid = [e for e in inputs if e.xfer_ms > 0 or e.xfer_mj > 0]
    if paid:
        sources = " and ".join(f"{e.size_mb:g} MB from {e.source}" + ("" if model.is_chain else f" ({e.producer})")
                               for e in paid)
        parts.append(f"it pays {cost.xfer_ms:.2f} ms and {cost.xfer_mj:.2f} mJ to receive {sources}")
    served = [e for e in outputs if e.crosses]
    if served and not model.is_chain:
        parts.append("its output goes to " + ", ".join(f"{e.reader} on {e.target}" for e in served))
    for m in sorted(moves, key=lambda m: m.delta_score)[:2]:
        change = f"{_signed(m.delta_ms, 'ms')}, {_signed(m.delta_mj, 'mJ')}"
        if m.breaks:
            parts.append(f"on {m.device} it would be {change} but break {m.breaks}")
        else:
            parts.append(f"on {m.device} it would be {change} (score {m.delta_score:+.4f})")
    if not moves:
        runnable = int(np.isfinite(model.exec_ms[s]).sum())
        parts.append("no other device can run it" if runnable == 1 else
                     "no other device that can run it can receive its inputs from where they are")
    sentence = f"{stage} runs on {device}: " + "; ".join(parts) + "."
    return StageReason(stage, device, tuple(moves), sentence)


def _breaks(model: CostModel, usage: np.ndarray) -> str:
    """The limit a plan with this usage (Q,) breaks first ("" when it fits them all), by
    that limit's own cap: limits share dimensions (the energy cap and the average power
    both cap the energy per frame), and the model's caps hold the tightest of them."""
    for limit in model.limits:
        used = limit.used(usage)
        if limit.breaks(used):
            return f"the {limit.name} ({used:{'g' if limit.unit == 'MB' else '.2f'}} > {limit.value:g} {limit.unit})"
    return ""


def _budgets(model: CostModel, best: Plan) -> tuple[Budget, ...]:
    """Every limit's budget (latency, energy and memory always; the others when set),
    tightest first."""
    out = []
    for limit in model.limits:
        top, value = _users(model, limit, best)
        used = limit.used(best.usage)
        out.append(Budget(limit.name, limit, used, limit.value, limit.unit, tuple(c.stage for c in top[:2]),
                          _budget_sentence(limit.name, used, limit.value, limit.unit, top[:2], value)))
    return tuple(sorted(out, key=lambda b: (b.slack / b.limit if b.limit > 0 and math.isfinite(b.limit) else math.inf)))


def _users(model: CostModel, limit: Limit, best: Plan):
    """The stages of ``best`` that use most of ``limit``, most first, and what each uses
    (in the limit's unit)."""
    stages = best.stages
    if limit.kind in (LimitKind.MEMORY, LimitKind.SUSTAINED_POWER):
        stages = [c for c in stages if c.device == model.device_names[limit.device]]
    elif limit.kind == LimitKind.PERIOD:
        busiest = max(best.busy_ms, key=best.busy_ms.get)
        stages = [c for c in stages if c.device == busiest]
    value = {
        LimitKind.LATENCY: lambda c: c.total_ms,
        LimitKind.PERIOD: lambda c: c.total_ms,
        LimitKind.ENERGY: lambda c: c.total_mj,
        LimitKind.AVERAGE_POWER: lambda c: c.total_mj / limit.per_unit,
        LimitKind.SUSTAINED_POWER: lambda c: c.exec_mj / limit.per_unit,
        LimitKind.MEMORY: lambda c: c.memory_mb,
        LimitKind.ACCURACY: lambda c: c.accuracy_loss,
    }[limit.kind]
    return sorted((c for c in stages if value(c) > 0), key=lambda c: -value(c)), value


def _with_sensitivity(result: PlanResult, budget: Budget, allowance: _Allowance) -> Budget:
    """``budget`` with its relaxed and tightened shifts and their sentence (unchanged when unbounded)."""
    if not math.isfinite(budget.limit):
        return budget
    step = budget_step(budget.limit, budget.unit)
    relaxed = _shift(result, budget, step, allowance)
    tightened = _shift(result, budget, -step, allowance) if budget.limit >= step else None
    return _with_shifts(result, dataclasses.replace(budget, step=step), relaxed, tightened)


def _with_shifts(result: PlanResult, budget: Budget, relaxed: Shift, tightened: Shift | None) -> Budget:
    """``budget`` with these shifts and their sentence."""
    parts = [f"{_signed(s.change, budget.unit, '+g')} {_shift_phrase(s)}" for s in (relaxed, tightened) if s is not None]
    sentence = f"{budget.name}: " + "; ".join(parts) + "."
    if not result.best_proven:
        sentence += f" The changes are against a plan within {result.gap:.2%} of the optimum, not a proven one."
    return dataclasses.replace(budget, relaxed=relaxed, tightened=tightened, sensitivity=sentence)


#: what a re-solve proved: the others may be solved again with the time the walk leaves
_PROVEN = ("optimal", "infeasible")


def _solved_again(result: PlanResult, budgets: tuple[Budget, ...], allowance: _Allowance) -> tuple[Budget, ...]:
    """``budgets`` with each shift whose re-solve stopped unproven, or was skipped, solved
    once more in its share of the time the frontier walk left; a second answer replaces
    the first when it is proven or has a better plan."""
    pending = [s for b in budgets for s in (b.relaxed, b.tightened) if s is not None and s.status not in _PROVEN]
    if not pending or allowance.rest() is None:
        return budgets
    allowance.share_among(len(pending))

    def again(budget: Budget, shift: Shift | None) -> Shift | None:
        if shift is None or shift.status in _PROVEN:
            return shift
        return _better(shift, _shift(result, budget, shift.change, allowance))

    return tuple(_with_shifts(result, b, again(b, b.relaxed), again(b, b.tightened)) if math.isfinite(b.limit) else b
                 for b in budgets)


def _better(first: Shift, second: Shift) -> Shift:
    """The second answer of a re-solve when it is proven or its plan scores lower, else the first."""
    if second.status in _PROVEN or (second.plan is not None and (first.plan is None or second.delta_score < first.delta_score)):
        return second
    return first


def budget_step(limit: float, unit: str) -> float:
    """The step a budget's sensitivity is quoted for: a round 1/30 of a latency or energy cap
    (1, 2 or 5 times a power of ten), a power-of-two 1/12 of a memory budget (memory comes
    in such granules); 1 for a zero limit.
    """
    if limit <= 0:
        return 1.0
    if unit == "MB":
        return 2.0 ** math.floor(math.log2(limit / 12))
    raw = limit / 30
    mag = 10.0 ** math.floor(math.log10(raw))
    return max(m * mag for m in (1, 2, 5) if m * mag <= raw * (1 + 1e-12))


def _shift(result: PlanResult, budget: Budget, change: float, allowance: _Allowance) -> Shift:
    """The best plan with ``budget`` moved by ``change``; solved only when it can differ and
    the allowance has time left."""
    best = result.best
    model = result.model
    limit = budget.limit + change
    unchanged = (change < 0 and budget.used <= cap_with_tolerance(np.float64(limit))) or (
        change > 0 and result.strategy == "viterbi" and result.status == "optimal")
    if unchanged:
        # tightening keeps an optimum that still fits; nothing binds an unconstrained optimum
        return Shift(change, result.status, best, 0.0, 0.0, 0.0)
    limit_s = allowance.take()
    if limit_s is None:
        return Shift(change, SKIPPED, None, math.nan, math.nan, math.nan)
    moved = plan(model.with_limit(budget.of, limit), goal=_goal_of(result), top_k=1,
                 label_budget=REPORT_LABELS, time_limit_s=limit_s)
    new = moved.best
    if change > 0 and moved.status != "optimal" and (new is None or new.score > best.score):
        # the best plan fits a relaxed budget too: a stopped re-solve only failed to better it
        return Shift(change, "feasible", best, 0.0, 0.0, 0.0)
    if new is None:
        return Shift(change, moved.status, None, math.nan, math.nan, math.nan)
    return Shift(change, moved.status, new, new.score - best.score, new.latency_ms - best.latency_ms,
                 new.energy_mj - best.energy_mj)


def _shift_phrase(shift: Shift) -> str:
    if shift.plan is None:
        return {"infeasible": "would leave no plan", SKIPPED: "was not solved (the time limit was spent)"}.get(
            shift.status, "stopped the search with no plan (a label budget or the time limit)")
    proof = "" if shift.status == "optimal" else " (not proven optimal)"
    if shift.delta_score == 0 and shift.delta_ms == 0 and shift.delta_mj == 0:
        return "would not change the plan" + proof
    verb = "cut" if shift.delta_score < 0 else "raise"
    return (f"would {verb} the score by {abs(shift.delta_score):.4f}: latency {_signed(shift.delta_ms, 'ms')}, "
            f"energy {_signed(shift.delta_mj, 'mJ')}{proof}")


def _budget_sentence(name, used, limit, unit, top, value) -> str:
    if not math.isfinite(limit):
        return f"no {name}; the plan uses {amount(used)} {unit}."
    users = " and ".join(f"{c.stage} ({amount(value(c))} {unit})" for c in top)
    share = used / limit if limit > 0 else 0.0
    tail = f"; {users} use most of it" if users else ""
    return f"{name}: {amount(used)} of {limit:g} {unit} ({share:.0%}, {amount(limit - used)} {unit} slack){tail}."


def _alternative(best: Plan, plan: Plan, rank: int) -> AlternativeDiff:
    moved = tuple((s.stage, b, c) for s, b, c in zip(plan.stages, best.option_names, plan.option_names) if b != c)
    d_ms, d_mj, d_score = plan.latency_ms - best.latency_ms, plan.energy_mj - best.energy_mj, plan.score - best.score
    what = ", ".join(f"{stage} {old} -> {new}" for stage, old, new in moved)
    sentence = f"Alternative {rank} moves {what}: {_signed(d_ms, 'ms')}, {_signed(d_mj, 'mJ')}, score {d_score:+.4f}."
    return AlternativeDiff(rank, moved, d_ms, d_mj, d_score, sentence)


def _goal_of(result: PlanResult) -> Goal:
    """The goal to re-solve with so that plans rank exactly as in ``result``."""
    return result.goal if result.goal in GOAL_WEIGHTS else weights_goal(result.weights)


def amount(x: float) -> str:
    """A quantity without noise: whole numbers bare, others to two decimals."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _signed(x: float, unit: str, spec: str = "+.2f") -> str:
    return f"{x:{spec}} {unit}"
