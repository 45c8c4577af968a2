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

from ..errors import printable
from ..tradeoff import Frontier, Sweep
from . import html as H
from .data import csv_cell
from .rows import estimated_devices, estimated_note, path_text

FORMATS = ("text", "csv", "json", "html")
FRONTIER_SCHEMA = "eip.frontier/1"
SWEEP_SCHEMA = "eip.sweep/1"


#: per frontier axis: its plan attribute, column name and chart label
_AXES = {"latency": ("latency_ms", "latency ms"), "energy": ("energy_mj", "energy mJ"),
         "accuracy": ("accuracy_loss", "accuracy loss")}


def render_frontier(front: Frontier, format: str) -> bytes:
    shown = ["latency", "energy"] + (["accuracy"] if "accuracy" in front.axes else [])
    attrs = [_AXES[a][0] for a in shown]
    rows = [[i + 1, *(getattr(p, a) for a in attrs), p.switches, p.score, " -> ".join(p.option_names)]
            for i, p in enumerate(front.plans)]
    shown_rows = [r[:-1] + [path_text(p.option_names)] for r, p in zip(rows, front.plans)]  # for people: runs folded
    best = min(range(len(front.plans)), key=lambda i: (front.plans[i].score, i)) if front.plans else -1
    title = f"{front.axes[0]} vs {front.axes[1]}"
    if format == "json":
        doc = {"schema": FRONTIER_SCHEMA, "scenario": front.model.name, "axes": list(front.axes),
               "complete": front.complete,
               "unexplored_ms": list(front.unexplored_ms) if front.unexplored_ms else None, "reason": front.reason,
               "plans": [{**{a: getattr(p, a) for a in attrs}, "switches": p.switches, "score": p.score,
                          "placement": list(p.placement), "options": list(p.option_names)} for p in front.plans],
               "best_index": best, "estimated_devices": estimated_devices(front.model)}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if format == "csv":
        return _csv(["point", *attrs, "switches", "score", "placement"], rows)
    labels = [_AXES[a][1] for a in shown]
    notes = [n for n in (estimated_note(front.model), "" if front.complete else _incomplete(front)) if n]
    if format == "text":
        lines = [f"Pipeline: {front.model.name}", f"Frontier: {len(front.plans)} Pareto-optimal plans ({title})", *notes]
        lines += [f"{'#':>3} " + " ".join(f"{h:>13}" for h in labels) + f" {'sw':>3} {'score':>8}  placement"]
        lines += [f"{r[0]:>3} " + " ".join(f"{v:13.2f}" for v in r[1:-3]) + f" {r[-3]:>3} {r[-2]:8.4f}  {r[-1]}"
                  + ("  <- best" if i == best else "") for i, r in enumerate(shown_rows)]
        return ("\n".join(printable(line) for line in lines) + "\n").encode()
    if format == "html":
        chart = _step_chart(front, best)
        table = H.table("frontier", ["#", *labels, "switches", "score", "placement"],
                        [[str(r[0]), *(f"{v:.2f}" for v in r[1:-3]), str(r[-3]), f"{r[-2]:.4f}", r[-1]] for r in shown_rows])
        return H.page(f"eip frontier: {front.model.name}",
                      [f"<h1>Frontier ({escape(title)}): {escape(front.model.name)}</h1>",
                       *(f"<p>{escape(n)}</p>" for n in notes), chart, table])
    raise ValueError(f"unknown format {format!r}; choose {', '.join(FORMATS)}")


def _incomplete(front: Frontier) -> str:
    low, high = front.unexplored_ms
    label = _AXES[front.axes[0]][1]
    return (f"Incomplete: {front.reason}; {label} from {low:.2f} to {high:.2f} was not walked "
            f"(each plan shown is exact).")


def render_sweep(result: Sweep, format: str) -> bytes:
    names = [name for name, _ in result.axes]
    header = names + ["answered", "feasible", "score", "latency_ms", "energy_mj", "plan"]
    answered = result.answered
    rows, paths = [], []
    for index in np.ndindex(result.score.shape):
        values = [float(result.axes[a][1][i]) for a, i in enumerate(index)]
        k = int(result.plan_index[index])
        rows.append(values + [bool(answered[index]), bool(result.feasible[index]), _num(result.score[index]),
                              _num(result.latency_ms[index]), _num(result.energy_mj[index]),
                              " -> ".join(result.plans[k].option_names) if k >= 0 else ""])
        paths.append(path_text(result.plans[k].option_names) if k >= 0 else "")  # for people: runs folded
    unanswered = int(answered.size - answered.sum())
    notes = [n for n in (estimated_note(result.model),
                         f"{unanswered} grid points not answered: {result.reason}" if unanswered else "") if n]
    if format == "json":
        doc = {"schema": SWEEP_SCHEMA, "scenario": result.model.name, "goal": result.goal, "reason": result.reason,
               "axes": {name: values.tolist() for name, values in result.axes},
               "estimated_devices": estimated_devices(result.model),
               "points": [dict(zip(header, r)) for r in rows]}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if format == "csv":
        return _csv(header, rows)
    if format == "text":
        lines = [f"Pipeline: {result.model.name} | Goal: {result.goal} | {len(rows)} grid points, "
                 f"{int(result.feasible.sum())} feasible, {len(result.plans)} distinct plans"]
        lines += notes
        lines.append("  ".join(f"{h:>12}" for h in header[:-1]) + "  plan")
        for r, path in zip(rows, paths):
            lines.append("  ".join(f"{_shown(v):>12}" for v in r[:-1]) + f"  {path}")
        return ("\n".join(printable(line) for line in lines) + "\n").encode()
    if format == "html":
        body = [f"<h1>Budget sweep: {escape(result.model.name)}</h1>", f"<p>Goal: {escape(result.goal)}</p>"]
        body += [f"<p>{escape(n)}</p>" for n in notes]
        if len(result.axes) >= 1:
            body.append(_score_chart(result))
        body.append(H.table("sweep", header, [[_shown(v) for v in r[:-1]] + [path] for r, path in zip(rows, paths)]))
        return H.page(f"eip sweep: {result.model.name}", body)
    raise ValueError(f"unknown format {format!r}; choose {', '.join(FORMATS)}")


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _shown(v) -> str:
    """A table cell: numbers to 4 decimals at most, never in exponent form below 1e15
    (18998.03, not 1.9e+04)."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{round(v, 4):.15g}"
    return str(v)


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([csv_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in r])
    return out.getvalue().encode()


def _step_chart(front: Frontier, best: int) -> str:
    """The frontier as a step curve (y falls as x grows), best plan marked."""
    if not front.plans:
        return "<p>No plan fits the budgets.</p>"
    (x_attr, x_label), (y_attr, y_label) = (_AXES[a] for a in front.axes)
    xs = np.array([getattr(p, x_attr) for p in front.plans])
    ys = np.array([getattr(p, y_attr) for p in front.plans])
    box = H.Box(xs.min(), xs.max(), ys.min(), ys.max())
    dots = "".join(f'<circle class="{"best" if i == best else "alt"}" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="{6 if i == best else 4}">'
                   f"<title>{x:.2f} {escape(x_label)}, {y:.2f} {escape(y_label)}</title></circle>"
                   for i, (x, y) in enumerate(zip(xs, ys)))
    return box.svg("frontier", x_label, y_label, H.step_curve(box, xs, ys) + dots)


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
