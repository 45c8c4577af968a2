"""Reports of a ``Frontier`` and of a ``Sweep``: text, CSV, JSON and self-contained HTML.

The HTML pages use the plan report's page shell (CSP, no scripts, escaped names) and draw
one SVG chart: the frontier as a latency/energy step curve with the goal's best plan
marked, or the best score against the swept budget.
"""

from __future__ import annotations

import csv
import io
import math
from html import escape

import numpy as np
import orjson

from ..tradeoff import Frontier, Sweep
from . import html as H
from .data import csv_cell

FORMATS = ("text", "csv", "json", "html")
FRONTIER_SCHEMA = "eip.frontier/1"
SWEEP_SCHEMA = "eip.sweep/1"


def render_frontier(front: Frontier, format: str) -> bytes:
    rows = [[i + 1, p.latency_ms, p.energy_mj, p.switches, p.score, " -> ".join(p.placement)] for i, p in enumerate(front.plans)]
    best = min(range(len(front.plans)), key=lambda i: (front.plans[i].score, i)) if front.plans else -1
    if format == "json":
        doc = {"schema": FRONTIER_SCHEMA, "scenario": front.model.name, "complete": front.complete,
               "unexplored_ms": list(front.unexplored_ms) if front.unexplored_ms else None, "reason": front.reason,
               "plans": [{"latency_ms": p.latency_ms, "energy_mj": p.energy_mj, "switches": p.switches, "score": p.score,
                          "placement": list(p.placement)} for p in front.plans],
               "best_index": best}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if format == "csv":
        return _csv(["point", "latency_ms", "energy_mj", "switches", "score", "placement"], rows)
    if format == "text":
        lines = [f"Pipeline: {front.model.name}", f"Frontier: {len(front.plans)} Pareto-optimal plans (latency vs energy)"]
        if not front.complete:
            lines.append(_incomplete(front))
        lines += [f"{'#':>3} {'latency ms':>11} {'energy mJ':>10} {'sw':>3} {'score':>8}  placement"]
        lines += [f"{r[0]:>3} {r[1]:11.2f} {r[2]:10.2f} {r[3]:>3} {r[4]:8.4f}  {r[5]}" + ("  <- best" if i == best else "")
                  for i, r in enumerate(rows)]
        return ("\n".join(lines) + "\n").encode()
    if format == "html":
        chart = _step_chart(front, best)
        table = H.table("frontier", ["#", "latency ms", "energy mJ", "switches", "score", "placement"],
                        [[str(r[0]), f"{r[1]:.2f}", f"{r[2]:.2f}", str(r[3]), f"{r[4]:.4f}", r[5]] for r in rows])
        note = [] if front.complete else [f"<p>{escape(_incomplete(front))}</p>"]
        return H.page(f"eip frontier: {front.model.name}",
                      [f"<h1>Frontier: {escape(front.model.name)}</h1>", *note, chart, table])
    raise ValueError(f"unknown format {format!r}; choose {', '.join(FORMATS)}")


def _incomplete(front: Frontier) -> str:
    low, high = front.unexplored_ms
    return f"Incomplete: {front.reason}; latencies from {low:.2f} to {high:.2f} ms were not walked (each plan shown is exact)."


def render_sweep(result: Sweep, format: str) -> bytes:
    names = [name for name, _ in result.axes]
    header = names + ["answered", "feasible", "score", "latency_ms", "energy_mj", "plan"]
    answered = result.answered
    rows = []
    for index in np.ndindex(result.score.shape):
        values = [float(result.axes[a][1][i]) for a, i in enumerate(index)]
        k = int(result.plan_index[index])
        rows.append(values + [bool(answered[index]), bool(result.feasible[index]), _num(result.score[index]),
                              _num(result.latency_ms[index]), _num(result.energy_mj[index]),
                              " -> ".join(result.plans[k].placement) if k >= 0 else ""])
    unanswered = int(answered.size - answered.sum())
    note = f"{unanswered} grid points not answered: {result.reason}" if unanswered else ""
    if format == "json":
        doc = {"schema": SWEEP_SCHEMA, "scenario": result.model.name, "goal": result.goal, "reason": result.reason,
               "axes": {name: values.tolist() for name, values in result.axes},
               "points": [dict(zip(header, r)) for r in rows]}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if format == "csv":
        return _csv(header, rows)
    if format == "text":
        lines = [f"Pipeline: {result.model.name} | Goal: {result.goal} | {len(rows)} grid points, "
                 f"{int(result.feasible.sum())} feasible, {len(result.plans)} distinct plans"]
        if note:
            lines.append(note)
        lines.append("  ".join(f"{h:>12}" for h in header[:-1]) + "  plan")
        for r in rows:
            lines.append("  ".join(f"{_shown(v):>12}" for v in r[:-1]) + f"  {r[-1]}")
        return ("\n".join(lines) + "\n").encode()
    if format == "html":
        body = [f"<h1>Budget sweep: {escape(result.model.name)}</h1>", f"<p>Goal: {escape(result.goal)}</p>"]
        if note:
            body.append(f"<p>{escape(note)}</p>")
        if len(result.axes) >= 1:
            body.append(_score_chart(result))
        body.append(H.table("sweep", header, [[_shown(v) for v in r] for r in rows]))
        return H.page(f"eip sweep: {result.model.name}", body)
    raise ValueError(f"unknown format {format!r}; choose {', '.join(FORMATS)}")


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _shown(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([csv_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in r])
    return out.getvalue().encode()


def _step_chart(front: Frontier, best: int) -> str:
    """The frontier as a step curve (energy falls as latency grows), best plan marked."""
    if not front.plans:
        return "<p>No plan fits the budgets.</p>"
    xs, ys = front.latency_ms, front.energy_mj
    box = H.Box(xs.min(), xs.max(), ys.min(), ys.max())
    dots = "".join(f'<circle class="{"best" if i == best else "alt"}" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="{6 if i == best else 4}">'
                   f"<title>{x:.2f} ms, {y:.2f} mJ</title></circle>" for i, (x, y) in enumerate(zip(xs, ys)))
    return box.svg("frontier", "latency ms", "energy mJ", H.step_curve(box, xs, ys) + dots)


def _score_chart(result: Sweep) -> str:
    """Best score against the last swept budget (one line per value of the others)."""
    name, values = result.axes[-1]
    scores = result.score.reshape(-1, len(values))
    finite = scores[np.isfinite(scores)]
    if not finite.size:
        return "<p>No grid point is feasible.</p>"
    box = H.Box(values.min(), values.max(), finite.min(), finite.max())
    lines = []
    for series in scores:
        points = [f"{box.x(v):.1f},{box.y(s):.1f}" for v, s in zip(values, series) if math.isfinite(s)]
        if points:
            lines.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    return box.svg("sweep", name, "best score", "".join(lines))
