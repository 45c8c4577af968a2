"""Machine formats: CSV (one row per rank x stage, then one per budget step) and JSON (the whole result)."""

from __future__ import annotations

import csv
import io
import math

import orjson

from ..explain import Budget, Explanation, Shift
from ..result import PlanResult

JSON_SCHEMA = "eip.plan/1"
#: ``record`` is "stage" (one row per rank x stage; ``inputs`` is the JSON list of the
#: stages it reads) or "sensitivity" (one row per budget step: the best plan's status,
#: score, latency, energy and switches once ``budget`` moves by ``change``; its stage
#: columns are empty). ``variant``, ``mode`` and ``accuracy_loss`` say how a stage runs
#: (``mode`` empty for a device without power modes); ``plan_accuracy_loss`` and
#: ``period_ms`` (the busiest device's busy time per frame) are the plan's; ``estimated``
#: is true where the stage's costs there are a roofline estimate, not a measurement.
CSV_HEADER = ["record", "rank", "status", "score", "latency_ms", "energy_mj", "switches", "stage_index", "stage",
              "device", "exec_ms", "xfer_ms", "exec_mj", "xfer_mj", "memory_mb", "budget", "unit", "used", "limit",
              "change", "inputs", "variant", "mode", "accuracy_loss", "plan_accuracy_loss", "period_ms", "estimated"]


def render_csv(result: PlanResult, explanation: Explanation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for rank, p in enumerate(result.plans, 1):
        for i, s in enumerate(p.stages):
            writer.writerow(["stage", rank, result.status, repr(p.score), repr(p.latency_ms), repr(p.energy_mj),
                             p.switches, i, csv_cell(s.stage), csv_cell(s.device), repr(s.exec_ms), repr(s.xfer_ms),
                             repr(s.exec_mj), repr(s.xfer_mj), repr(s.memory_mb), "", "", "", "", "",
                             csv_cell(orjson.dumps(s.inputs).decode()), csv_cell(s.variant), csv_cell(s.mode or ""),
                             repr(s.accuracy_loss), repr(p.accuracy_loss), repr(p.period_ms),
                             "true" if s.estimated else "false"])
    for b in explanation.budgets:
        for shift in b.shifts:
            p = shift.plan
            totals = [repr(p.score), repr(p.latency_ms), repr(p.energy_mj), p.switches] if p else ["", "", "", ""]
            writer.writerow(["sensitivity", "", shift.status, *totals, "", "", "", "", "", "", "", "",
                             csv_cell(b.name), b.unit, repr(b.used), repr(b.limit), repr(shift.change), "", "", "", "",
                             "", "", ""])
    return out.getvalue()


def render_json(result: PlanResult, explanation: Explanation) -> bytes:
    doc = {
        "schema": JSON_SCHEMA,
        "scenario": result.scenario,
        "goal": result.goal,
        "weights": result.weights._asdict(),
        "top_k": result.top_k,
        "status": result.status,
        "strategy": result.strategy,
        "gap": _finite(result.gap),
        "bound": _finite(result.bound),
        "best_proven": result.best_proven,
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
                "options": list(p.option_names),
                "accuracy_loss": p.accuracy_loss,
                "busy_ms": p.busy_ms,
                "period_ms": p.period_ms,
                "fps": _finite(p.fps),
                "power_w": p.power_w or None,
                "fixed_modes": p.fixed_modes,
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
            "budgets": [_budget(b) for b in explanation.budgets],
            "frontier": None if explanation.frontier is None else [
                {"latency_ms": p.latency_ms, "energy_mj": p.energy_mj, "switches": p.switches, "score": p.score,
                 "placement": list(p.placement)} for p in explanation.frontier.plans],
            "alternatives": [{"rank": a.rank, "moved": [list(m) for m in a.moved], "delta_ms": a.delta_ms,
                              "delta_mj": a.delta_mj, "delta_score": a.delta_score, "sentence": a.sentence}
                             for a in explanation.alternatives],
        },
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _budget(b: Budget) -> dict:
    return {"name": b.name, "used": b.used, "limit": _finite(b.limit), "unit": b.unit, "pressed_by": list(b.pressed_by),
            "sentence": b.sentence, "step": _finite(b.step), "relaxed": _shift(b.relaxed),
            "tightened": _shift(b.tightened), "sensitivity": b.sensitivity}


def _shift(s: Shift | None) -> dict | None:
    if s is None:
        return None
    p = s.plan
    return {"change": s.change, "status": s.status, "placement": list(p.placement) if p else None,
            "score": p.score if p else None, "latency_ms": p.latency_ms if p else None,
            "energy_mj": p.energy_mj if p else None, "delta_score": _finite(s.delta_score),
            "delta_ms": _finite(s.delta_ms), "delta_mj": _finite(s.delta_mj)}


def csv_cell(text: str) -> str:
    """Names that start like a formula are neutralised for spreadsheets (CSV injection) by a
    leading ``'``; so is a leading ``'`` itself, which makes ``csv_text`` an exact inverse."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "'") else text


def csv_text(cell: str) -> str:
    """The text ``csv_cell`` was given."""
    return cell[1:] if cell[:1] == "'" else cell


def _finite(x: float) -> float | None:
    """JSON has no inf or NaN: an unbounded or missing value is null."""
    return x if math.isfinite(x) else None
