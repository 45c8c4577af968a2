"""Machine formats: CSV (one row per rank x stage) and JSON (the whole result)."""

from __future__ import annotations

import csv
import io
import math

import orjson

from ..explain import Explanation
from ..result import PlanResult

JSON_SCHEMA = "eip.plan/1"
CSV_HEADER = ["rank", "status", "score", "latency_ms", "energy_mj", "switches", "stage_index", "stage", "device",
              "exec_ms", "xfer_ms", "exec_mj", "xfer_mj", "memory_mb"]


def render_csv(result: PlanResult, explanation: Explanation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for rank, p in enumerate(result.plans, 1):
        for i, s in enumerate(p.stages):
            writer.writerow([rank, result.status, repr(p.score), repr(p.latency_ms), repr(p.energy_mj), p.switches, i,
                             csv_cell(s.stage), csv_cell(s.device), repr(s.exec_ms), repr(s.xfer_ms), repr(s.exec_mj),
                             repr(s.xfer_mj), repr(s.memory_mb)])
    return out.getvalue()


def render_json(result: PlanResult, explanation: Explanation) -> bytes:
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
        "explanation": {
            "summary": list(explanation.summary),
            "stages": [{"stage": r.stage, "device": r.device, "sentence": r.sentence,
                        "moves": [{"device": m.device, "delta_ms": m.delta_ms, "delta_mj": m.delta_mj,
                                   "delta_score": m.delta_score, "breaks": m.breaks} for m in r.moves]}
                       for r in explanation.stages],
            "budgets": [{"name": b.name, "used": b.used, "limit": _finite(b.limit), "unit": b.unit,
                         "pressed_by": list(b.pressed_by), "sentence": b.sentence} for b in explanation.budgets],
            "alternatives": [{"rank": a.rank, "moved": [list(m) for m in a.moved], "delta_ms": a.delta_ms,
                              "delta_mj": a.delta_mj, "delta_score": a.delta_score, "sentence": a.sentence}
                             for a in explanation.alternatives],
        },
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def csv_cell(text: str) -> str:
    """Names that start like a formula are neutralised for spreadsheets (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _finite(x: float) -> float | None:
    """JSON has no inf: an unbounded value is null."""
    return x if math.isfinite(x) else None
