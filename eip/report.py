"""Reports of a ``PlanResult``: text (the seed tool's layout, plus proofs and slack) and JSON."""

from __future__ import annotations

import math

import orjson

from .result import Plan, PlanResult

JSON_SCHEMA = "eip.plan/1"


def render_text(result: PlanResult) -> str:
    """The human report: summary, placement table, budgets' slack, alternatives."""
    lines = [f"Pipeline: {result.scenario}"]
    best = result.best
    proof = {"optimal": "proven optimal", "feasible": f"feasible, gap <= {result.gap:.2%}"}.get(result.status, result.status)
    if best is None:
        lines.append(f"Goal: {result.goal} | Strategy: {result.strategy} | Status: {proof}")
        lines.append(f"No plan: {result.reason}")
        return "\n".join(lines) + "\n"
    lines.append(f"Goal: {result.goal} | Strategy: {result.strategy} | Score: {best.score:.2f} ({proof})")
    lines.append(f"Latency: {best.latency_ms:.2f} ms | Energy: {best.energy_mj:.2f} mJ | Switches: {best.switches}")
    lines.append("Memory: " + ", ".join(f"{d} {_num(u.used_mb)}/{_num(u.budget_mb)} MB" for d, u in best.memory_mb.items()))
    lines.append("Placement")
    rows = [["stage", "device", "exec ms", "xfer ms", "total ms", "exec mJ", "xfer mJ", "memory MB"]]
    for s in best.stages:
        rows.append([s.stage, s.device, f"{s.exec_ms:.2f}", f"{s.xfer_ms:.2f}", f"{s.total_ms:.2f}",
                     f"{s.exec_mj:.2f}", f"{s.xfer_mj:.2f}", _num(s.memory_mb)])
    lines.extend(_table(rows))
    lines.append("Budgets")
    lines.extend(_slack_lines(result, best))
    if len(result.plans) > 1:
        lines.append("Alternatives")
        rows = [["rank", "score", "latency ms", "energy mJ", "switches", "device path"]]
        for rank, p in enumerate(result.plans, 1):
            rows.append([str(rank), f"{p.score:.4f}", f"{p.latency_ms:.2f}", f"{p.energy_mj:.2f}", str(p.switches),
                         " -> ".join(p.placement)])
        lines.extend(_table(rows))
    stats = result.stats
    lines.append(f"Solved in {stats['solve_seconds'] * 1e3:.2f} ms ({stats['labels_kept']:,} labels kept, "
                 f"{stats['labels_created']:,} created)")
    return "\n".join(lines) + "\n"


def _slack_lines(result: PlanResult, best: Plan) -> list[str]:
    model = result.model
    out = []
    for what, used, cap, unit in (("latency cap", best.latency_ms, model.max_latency_ms, "ms"),
                                  ("energy cap", best.energy_mj, model.max_energy_mj, "mJ")):
        if math.isfinite(cap):
            out.append(f"  {what}: {used:.2f} of {_num(cap)} {unit} ({cap - used:.2f} {unit} slack)")
        else:
            out.append(f"  {what}: none")
    for device, use in best.memory_mb.items():
        share = use.used_mb / use.budget_mb if use.budget_mb > 0 else (0.0 if use.used_mb == 0 else math.inf)
        out.append(f"  {device} memory: {_num(use.used_mb)} of {_num(use.budget_mb)} MB ({share:.0%} used, "
                   f"{_num(use.budget_mb - use.used_mb)} MB slack)")
    return out


def render_json(result: PlanResult) -> bytes:
    """The whole result as JSON (schema ``eip.plan/1``, documented in README.md)."""
    doc = {
        "schema": JSON_SCHEMA,
        "scenario": result.scenario,
        "goal": result.goal,
        "weights": {"latency": result.weights[0], "energy": result.weights[1], "switch": result.weights[2]},
        "top_k": result.top_k,
        "status": result.status,
        "strategy": result.strategy,
        "gap": _finite(result.gap),
        "bound": _finite(result.bound),
        "reason": result.reason,
        "stats": result.stats,
        "plans": [
            {
                "rank": rank,
                "placement": list(p.placement),
                "score": p.score,
                "latency_ms": p.latency_ms,
                "energy_mj": p.energy_mj,
                "switches": p.switches,
                "memory_mb": {d: {"used": u.used_mb, "budget": _finite(u.budget_mb)} for d, u in p.memory_mb.items()},
                "stages": [s._asdict() for s in p.stages],
            }
            for rank, p in enumerate(result.plans, 1)
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _finite(x: float) -> float | None:
    """JSON has no inf: an unbounded value is null."""
    return x if math.isfinite(x) else None


def _num(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" | ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
