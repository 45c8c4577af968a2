"""Report of an exploration's ``Summary``: text for people, JSON for scripts, a
self-contained HTML page with charts.

Per parameter, what its values gave (points, how many have a plan, the best plan's
figures); per numeric parameter, the least value at which each scenario has a plan and the
Pareto set of the parameter (a cost: less is better) against latency and energy. The page
draws the best score against each numeric parameter, a heatmap of the best score over the
first two, and each Pareto set as a step curve.
"""

from __future__ import annotations

from html import escape

import numpy as np
import orjson

from ..errors import printable
from ..explore import METRICS, Summary, has_plan
from . import html as H
from .tradeoff import heatmap

FORMATS = ("text", "json", "html")
SCHEMA = "eip.explore/1"


def render_summary(summary: Summary, format: str) -> bytes:
    """The summary as ``format`` (one of ``FORMATS``)."""
    if format == "json":
        return orjson.dumps(_document(summary), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n"
    if format == "html":
        return _html(summary)
    return ("\n".join(_text(summary)) + "\n").encode()


def _document(summary: Summary) -> dict:
    return {
        "schema": SCHEMA,
        "points": len(summary.rows),
        "planned": summary.planned,
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
    lines = [f"Explored {len(summary.rows)} points: {summary.planned} with a plan"]
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


def _html(summary: Summary) -> bytes:
    body = [f"<h1>Exploration: {len(summary.rows)} points, {summary.planned} with a plan</h1>"]
    numeric = [path for path in summary.by_value if path in summary.least]
    if len(numeric) >= 2:
        body += [f"<h2>Best score over {escape(numeric[0])} and {escape(numeric[1])}</h2>", _heatmap(summary, *numeric[:2])]
    for path, entries in summary.by_value.items():
        body.append(f"<h2>{escape(path)}</h2>")
        if path in summary.least:
            body.append(_best_chart(path, entries))
            body += [_pareto_chart(path, metric, front) for metric, front in summary.pareto[path].items() if front]
            body.append("<p>Least value with a plan: " + escape("; ".join(
                f"{f}: {_value(v) if v is not None else 'none of the values'}" for f, v in summary.least[path].items()))
                + "</p>")
        rows = [[_value(e.value), str(e.points), str(e.planned),
                 *(f"{e.best[key]:.4f}" if e.best else "-" for key, _ in METRICS)] for e in entries]
        body.append(H.table(f"values-{len(body)}", ["value", "points", "planned", *(h for _, h in METRICS)], rows))
    return H.page("eip explore", body)


def _best_chart(path: str, entries) -> str:
    """The best score against the parameter's value (values without a plan left out)."""
    points = [(e.value, e.best["score"]) for e in entries if e.best]
    if not points:
        return "<p>No chart: no value has a plan.</p>"
    box = H.Box(min(x for x, _ in points), max(x for x, _ in points), min(y for _, y in points),
                max(y for _, y in points))
    line = " ".join(f"{box.x(x):.1f},{box.y(y):.1f}" for x, y in sorted(points))
    marks = "".join(f'<circle class="alt" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="3">'
                    f"<title>{escape(f'{x:g}: best score {y:.4f}')}</title></circle>" for x, y in points)
    return box.svg("best-" + _slug(path), path, "best score", f'<polyline class="line" points="{line}"/>' + marks)


def _pareto_chart(path: str, metric: str, front: list[dict]) -> str:
    """The Pareto set of the parameter (a cost) against ``metric``, as a step curve."""
    xs, ys = [r[path] for r in front], [r[metric] for r in front]
    box = H.Box(min(xs), max(xs), min(ys), max(ys))
    points = []
    for k, (x, y) in enumerate(zip(xs, ys)):
        points.append(f"{box.x(x):.1f},{box.y(y):.1f}")
        if k + 1 < len(xs):  # this point's metric holds until a larger value does better
            points.append(f"{box.x(xs[k + 1]):.1f},{box.y(y):.1f}")
    marks = "".join(f'<circle class="best" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="4">'
                    f"<title>{escape(f'{x:g}: {metric} {y:.2f}')}</title></circle>" for x, y in zip(xs, ys))
    return box.svg(f"pareto-{_slug(path)}-{metric}", path, f"Pareto {metric}",
                   f'<polyline class="line" points="{" ".join(points)}"/>' + marks)


def _heatmap(summary: Summary, y_path: str, x_path: str) -> str:
    """The best score over two numeric parameters (the least over the others), a cell each:
    no plan when every point there is proven infeasible, not answered when a search stopped."""
    y_values = [e.value for e in summary.by_value[y_path]]
    x_values = [e.value for e in summary.by_value[x_path]]
    at = {(y, x): (i, j) for i, y in enumerate(y_values) for j, x in enumerate(x_values)}
    score = np.full((len(y_values), len(x_values)), np.inf)
    answered = np.ones(score.shape, dtype=bool)
    for r in summary.rows:
        cell = at[r[y_path], r[x_path]]
        if has_plan(r):
            score[cell] = min(score[cell], r["score"])
        elif r.get("status") != "infeasible":  # a search that stopped (or failed) before an answer
            answered[cell] = False
    answered |= np.isfinite(score)
    return heatmap("heatmap", y_path, y_values, x_path, x_values, score, answered)


def _slug(path: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in path)
