"""The tables every report shows, built once as rows of strings."""

from __future__ import annotations

from ..explain import Explanation, amount
from ..result import Plan, PlanResult

PLACEMENT_HEADER = ["stage", "device", "exec ms", "xfer ms", "total ms", "exec mJ", "xfer mJ", "memory MB"]
#: a graph's placement table also names each stage's inputs
GRAPH_PLACEMENT_HEADER = PLACEMENT_HEADER[:1] + ["inputs"] + PLACEMENT_HEADER[1:]
ALTERNATIVES_HEADER = ["rank", "score", "latency ms", "energy mJ", "switches", "device path"]
SENSITIVITY_HEADER = ["budget", "limit", "change", "status", "score change", "latency ms change", "energy mJ change"]


def placement_table(plan: Plan, graph: bool) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the placement table; a ``graph`` (not a chain) adds the inputs."""
    rows = [[s.stage, s.device, f"{s.exec_ms:.2f}", f"{s.xfer_ms:.2f}", f"{s.total_ms:.2f}",
             f"{s.exec_mj:.2f}", f"{s.xfer_mj:.2f}", amount(s.memory_mb)] for s in plan.stages]
    if not graph:
        return PLACEMENT_HEADER, rows
    return GRAPH_PLACEMENT_HEADER, [r[:1] + [", ".join(s.inputs) or "-"] + r[1:] for r, s in zip(rows, plan.stages)]


def alternative_rows(result: PlanResult) -> list[list[str]]:
    return [[str(rank), f"{p.score:.4f}", f"{p.latency_ms:.2f}", f"{p.energy_mj:.2f}", str(p.switches),
             " -> ".join(p.placement)] for rank, p in enumerate(result.plans, 1)]


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
    ]


def rationale_lines(explanation: Explanation) -> list[str]:
    return list(explanation.summary[:1]) + [r.sentence for r in explanation.stages]


def solve_line(result: PlanResult) -> str:
    st = result.stats
    return (f"Solved in {st['solve_seconds'] * 1e3:.2f} ms ({st['labels_kept']:,} labels kept, "
            f"{st['labels_created']:,} created)")
