"""Report of an exploration's ``Summary``: text for people, JSON for scripts.

Per parameter, what its values gave (points, how many have a plan, the best plan's
figures); per numeric parameter, the least value at which each scenario has a plan and the
Pareto set of the parameter (a cost: less is better) against latency and energy.
"""

from __future__ import annotations

import orjson

from ..errors import printable
from ..explore import METRICS, Summary

FORMATS = ("text", "json")
SCHEMA = "eip.explore/1"


def render_summary(summary: Summary, format: str) -> bytes:
    """The summary as ``format`` ("text" or "json")."""
    if format == "json":
        return orjson.dumps(_document(summary), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n"
    return ("\n".join(_text(summary)) + "\n").encode()


def _document(summary: Summary) -> dict:
    return {
        "schema": SCHEMA,
        "points": len(summary.rows),
        "planned": sum(r.get("status") in ("optimal", "feasible") for r in summary.rows),
        "parameters": {
            path: [{"value": e.value, "points": e.points, "planned": e.planned,
                    "best": _figures(e.best)} for e in entries]
            for path, entries in summary.by_value.items()},
        "least_with_a_plan": summary.least,
        "pareto": {path: {metric: [{"value": r[path], metric: r[metric], "index": r["index"], "path": r["path"]}
                                   for r in front] for metric, front in fronts.items()}
                   for path, fronts in summary.pareto.items()},
    }


def _figures(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"index": row["index"], "path": row["path"], "status": row["status"],
            **{key: row[key] for key, _ in METRICS}, "placement": row.get("placement")}


def _text(summary: Summary) -> list[str]:
    planned = sum(r.get("status") in ("optimal", "feasible") for r in summary.rows)
    lines = [f"Explored {len(summary.rows)} points: {planned} with a plan"]
    for path, entries in summary.by_value.items():
        lines += ["", f"{printable(path)}:",
                  f"  {'value':>14} {'points':>7} {'planned':>8} " + " ".join(f"{h:>12}" for _, h in METRICS)]
        for e in entries:
            figures = [f"{e.best[key]:12.4f}" if e.best else f"{'-':>12}" for key, _ in METRICS]
            lines.append(f"  {_value(e.value):>14} {e.points:>7} {e.planned:>8} " + " ".join(figures))
    for path, least in summary.least.items():
        lines += ["", f"Least {printable(path)} with a plan:"]
        lines += [f"  {printable(f)}: {_value(v) if v is not None else 'none of the values'}" for f, v in least.items()]
    for path, fronts in summary.pareto.items():
        for metric, front in fronts.items():
            steps = ", ".join(f"{_value(r[path])} -> {r[metric]:.2f}" for r in front) or "no plan"
            lines.append(f"Pareto {printable(path)} vs {metric}: {steps}")
    return lines


def _value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else printable(str(value))
