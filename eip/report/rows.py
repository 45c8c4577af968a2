"""The tables every report shows, built once as rows of strings."""

from __future__ import annotations

import itertools
from typing import Sequence

from ..costmodel import CostModel
from ..explain import Explanation, amount
from ..goals import switch_worth
from ..result import Plan, PlanResult

PLACEMENT_HEADER = ["stage", "device", "exec ms", "xfer ms", "total ms", "exec mJ", "xfer mJ", "memory MB"]
ALTERNATIVES_HEADER = ["rank", "score", "latency ms", "energy mJ", "switches", "device path"]
SENSITIVITY_HEADER = ["budget", "limit", "change", "status", "score change", "latency ms change", "energy mJ change"]


def placement_table(plan: Plan, model: CostModel) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the placement table: a graph (not a chain) adds each stage's
    inputs, a model with several ways per device the way (variant, power mode), a model
    with accuracy losses each stage's loss, a model with estimated costs whether each
    stage's are measured or estimated."""
    header = list(PLACEMENT_HEADER)
    rows = [[s.stage, s.device, f"{s.exec_ms:.2f}", f"{s.xfer_ms:.2f}", f"{s.total_ms:.2f}",
             f"{s.exec_mj:.2f}", f"{s.xfer_mj:.2f}", amount(s.memory_mb)] for s in plan.stages]
    if model.dims.accuracy >= 0:
        header.append("accuracy loss")
        for r, s in zip(rows, plan.stages):
            r.append(f"{s.accuracy_loss:g}")
    if model.estimated.any():
        header.append("costs")
        for r, s in zip(rows, plan.stages):
            r.append("estimated" if s.estimated else "measured")
    if model.has_ways:
        header.insert(2, "way")
        for r, s in zip(rows, plan.stages):
            r.insert(2, way_name(s.variant, s.mode))
    if not model.is_chain:
        header.insert(1, "inputs")
        for r, s in zip(rows, plan.stages):
            r.insert(1, ", ".join(s.inputs) or "-")
    return header, rows


def estimated_devices(model: CostModel) -> list[str]:
    """The devices some of whose ways are estimates (a roofline), not measurements."""
    return [model.device_names[d] for d in sorted(set(model.option_device[model.estimated.any(axis=0)].tolist()))]


def estimated_note(model: CostModel) -> str:
    """A warning for trade-off reports over estimated costs ("" when all are measured)."""
    devices = estimated_devices(model)
    return f"Estimated: the costs on {', '.join(devices)} are roofline estimates, not measurements" if devices else ""


def way_name(variant: str, mode: str | None) -> str:
    """A way as one cell: ``variant`` and ``@mode``."""
    return variant if mode is None else f"{variant}@{mode}"


def alternative_rows(result: PlanResult, explanation: Explanation) -> list[list[str]]:
    """One row per plan; the device path of each after the first as ``change_text`` gives it."""
    moved = {a.rank: a.moved for a in explanation.alternatives}
    return [[str(rank), f"{p.score:.4f}", f"{p.latency_ms:.2f}", f"{p.energy_mj:.2f}", str(p.switches),
             path_text(p.option_names) if rank == 1 else change_text(p.option_names, moved.get(rank, ()))]
            for rank, p in enumerate(result.plans, 1)]


def change_text(options: Sequence[str], moved: Sequence[tuple[str, str, str]], width: int = 80,
                shown: int = 4) -> str:
    """A plan's ``options`` in stage order when they fit in ``width`` characters; past it,
    only the stages ``moved`` from where the best plan runs them (``AlternativeDiff.moved``;
    ``shown`` of them, then how many more): ``as 1, but conv44 -> little_cpu, conv60 -> npu``."""
    full = " -> ".join(options)
    if len(full) <= width:
        return full
    more = f" and {len(moved) - shown} more" if len(moved) > shown else ""
    return f"as 1, but {', '.join(f'{stage} -> {option}' for stage, _, option in moved[:shown])}{more}"


def path_text(options: Sequence[str], width: int = 80) -> str:
    """A plan's options in stage order, ``gpu -> npu``; past ``width`` characters each run
    on one option is written once with its length: ``big_cpu x8 -> npu x3 -> gpu``."""
    full = " -> ".join(options)
    if len(full) <= width:
        return full
    runs = [(name, sum(1 for _ in group)) for name, group in itertools.groupby(options)]
    return " -> ".join(name if n == 1 else f"{name} x{n}" for name, n in runs)


def budget_lines(explanation: Explanation) -> list[str]:
    """Each budget's sentence, followed by what one step more or less of it is worth."""
    return [line for b in explanation.budgets for line in (b.sentence, b.sensitivity) if line]


def sensitivity_rows(explanation: Explanation) -> list[list[str]]:
    delta = lambda x, spec: "-" if x != x else f"{x:{spec}}"  # NaN: no plan there
    return [[b.name, f"{amount(b.limit)} {b.unit}", f"{s.change:+g} {b.unit}", s.status, delta(s.delta_score, "+.4f"),
             delta(s.delta_ms, "+.2f"), delta(s.delta_mj, "+.2f")]
            for b in explanation.budgets for s in b.shifts]


def proof(result: PlanResult) -> str:
    if result.status == "optimal":
        return "proven optimal"
    if result.best_proven:  # (feasible: a top-k answer that proved only its best plan)
        return "best plan proven optimal, the next best not proven"
    if result.status == "feasible":
        return f"feasible, gap <= {result.gap:.2%}"
    return result.status


def summary_lines(result: PlanResult) -> list[str]:
    """The seed tool's header lines, plus the proof."""
    best = result.best
    lines = [f"Pipeline: {result.scenario}"]
    if best is None:
        return lines + [f"Goal: {result.goal} | Strategy: {result.strategy} | Status: {proof(result)}",
                        f"No plan: {result.reason}"]
    return lines + [
        f"Goal: {result.goal} | Strategy: {result.strategy} | Score: {best.score:.2f} ({proof(result)})",
        f"Latency: {best.latency_ms:.2f} ms | Energy: {best.energy_mj:.2f} mJ | Switches: {best.switches}",
        "Memory: " + ", ".join(f"{d} {amount(u.used_mb)}/{amount(u.budget_mb)} MB" for d, u in best.memory_mb.items()),
    ] + _ways_lines(result.model, best, result.goal == "throughput") + [_weights_line(result)] + _estimated_lines(best)


def _weights_line(result: PlanResult) -> str:
    """The goal's weights and what one switch is worth in its terms."""
    w = result.weights
    ms, mj = switch_worth(w, result.model.baselines)
    worth = " or ".join(f"{v:.3g} {unit}" for v, unit in ((ms, "ms"), (mj, "mJ")) if v < float("inf"))
    accuracy = f", accuracy {w.accuracy:g} per point" if w.accuracy else ""
    return (f"Weights: latency {w.latency:g}, energy {w.energy:g}, switch {w.switch:g}{accuracy}"
            + (f" (one switch scores as much as {worth})" if w.switch and worth else ""))


def _estimated_lines(best: Plan) -> list[str]:
    """A warning when the plan rests on estimated (not measured) costs."""
    estimated = [s for s in best.stages if s.estimated]
    if not estimated:
        return []
    devices = ", ".join(dict.fromkeys(s.device for s in estimated))
    return [f"Estimated: {len(estimated)} of {len(best.stages)} stages run on costs a roofline estimated "
            f"({devices}), not measured"]


def _ways_lines(model: CostModel, best: Plan, throughput: bool) -> list[str]:
    """Accuracy, frame rate, busy time, power and fixed modes, where the model has them."""
    lines = []
    if model.dims.accuracy >= 0:
        cap = "" if model.max_accuracy_loss == float("inf") else f" of {model.max_accuracy_loss:g}"
        lines.append(f"Accuracy loss: {best.accuracy_loss:g}{cap} points")
    if model.period_ms < float("inf") or throughput:
        frame = "" if model.period_ms == float("inf") else f" (frame period {model.period_ms:.2f} ms)"
        busiest = max(best.busy_ms, key=best.busy_ms.get)
        lines.append(f"Period: {best.period_ms:.2f} ms ({busiest}'s busy time), {best.fps:.1f} fps{frame} | Busy: "
                     + ", ".join(f"{d} {ms:.2f} ms" for d, ms in best.busy_ms.items()))
    if best.power_w:
        per_limit = lambda w, cap: f"{w:.2f}" + ("" if cap == float("inf") else f"/{cap:g}") + " W"
        lines.append("Power: " + ", ".join(f"{d} {per_limit(w, cap)}" for (d, w), cap in
                                          zip(best.power_w.items(), model.sustained_power_w.tolist()))
                     + f" | average {per_limit(best.energy_mj / model.period_ms, model.max_power_w)}")
    if best.fixed_modes:
        lines.append("Fixed modes: " + ", ".join(f"{d} {m}" for d, m in best.fixed_modes.items()))
    return lines


def rationale_lines(explanation: Explanation) -> list[str]:
    return list(explanation.summary[:1]) + [r.sentence for r in explanation.stages]


def solve_line(result: PlanResult) -> str:
    st = result.stats
    return (f"Solved in {st['solve_seconds'] * 1e3:.2f} ms ({st['labels_kept']:,} labels kept, "
            f"{st['labels_created']:,} created)")
