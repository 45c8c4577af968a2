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

from ..costmodel import Limit, LimitKind
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
#: per frontier axis: the kind of the model's limit on it (``CostModel.limits``)
_CAPS = {"latency": LimitKind.LATENCY, "energy": LimitKind.ENERGY, "accuracy": LimitKind.ACCURACY}


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
        table = H.table("frontier", ["#", *labels, "switches", "score", "device path"],
                        [[str(r[0]), *(f"{v:.2f}" for v in r[1:-3]), str(r[-3]), f"{r[-2]:.4f}", r[-1]] for r in shown_rows])
        return H.page(f"eip frontier: {front.model.name}",
                      [f"<h1>Frontier ({escape(title)}): {escape(front.model.name)}</h1>",
                       *(f"<p>{escape(n)}</p>" for n in notes + _caps_and_best(front, best)), chart, table])
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
        body.append(_score_chart(result))
        table = H.table("sweep-points", header, [[_shown(v) for v in r[:-1]] + [path] for r, path in zip(rows, paths)])
        body.append(table if len(rows) <= 60 else f"<details><summary>All {len(rows):,} grid points</summary>{table}</details>")
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


def _caps_and_best(front: Frontier, best: int) -> list[str]:
    """The caps on the frontier's axes, and the goal's best plan on it."""
    caps = [f"{a} <= {limit.value:g} {limit.unit}" for a, limit in zip(front.axes, _axis_limits(front))
            if limit.value < math.inf]
    out = ["Caps: " + ", ".join(caps) + " (dashed in the chart where they fall in its range)"] if caps else []
    if best >= 0:
        p = front.plans[best]
        out.append(f"Best plan (the least score, {p.score:.4f}): point {best + 1}, "
                   + ", ".join(f"{getattr(p, _AXES[a][0]):.2f} {_AXES[a][1]}" for a in front.axes))
    return out


def _axis_limits(front: Frontier) -> list[Limit]:
    """The model's limit on each frontier axis (an infinite one where there is none)."""
    by_kind = {limit.kind: limit for limit in front.model.limits}
    return [by_kind.get(_CAPS[a], Limit(_CAPS[a], -1, a, "", math.inf, ())) for a in front.axes]


def _step_chart(front: Frontier, best: int) -> str:
    """The frontier as a step curve (y falls as x grows), best plan marked, caps dashed."""
    if not front.plans:
        return "<p>No chart: no plan fits the budgets.</p>"
    (x_attr, x_label), (y_attr, y_label) = (_AXES[a] for a in front.axes)
    xs = np.array([getattr(p, x_attr) for p in front.plans])
    ys = np.array([getattr(p, y_attr) for p in front.plans])
    box = H.Box(xs.min(), xs.max(), ys.min(), ys.max())
    dots = "".join(f'<circle class="{"best" if i == best else "alt"}" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="{6 if i == best else 4}">'
                   f"<title>{x:.2f} {escape(x_label)}, {y:.2f} {escape(y_label)}</title></circle>"
                   for i, (x, y) in enumerate(zip(xs, ys)))
    x_cap, y_cap = (limit.value for limit in _axis_limits(front))
    caps = ""
    if box.x_lo <= x_cap <= box.x_hi:
        caps += f'<line class="cap" x1="{box.x(x_cap):.1f}" y1="{box.TOP}" x2="{box.x(x_cap):.1f}" y2="{box.TOP + box.HEIGHT}"/>'
    if box.y_lo <= y_cap <= box.y_hi:
        caps += f'<line class="cap" x1="{box.LEFT}" y1="{box.y(y_cap):.1f}" x2="{box.LEFT + box.WIDTH}" y2="{box.y(y_cap):.1f}"/>'
    return box.svg("frontier", x_label, y_label, caps + H.step_curve(box, xs, ys) + dots)


def _score_chart(result: Sweep) -> str:
    """The best score against the swept budget, as the step function it is (a plan holds
    from its budget to the next); two or more budgets swept: a heatmap of the last two."""
    if not result.axes:
        return "<p>No chart: no budget was swept (the scenario's own budgets, one point).</p>"
    grid = [len(values) for _, values in result.axes]
    if sum(n > 1 for n in grid) >= 2:
        return _heatmap(result)
    name, values = next(((n, v) for n, v in result.axes if len(v) > 1), result.axes[-1])
    scores = result.score.reshape(-1)
    finite = scores[np.isfinite(scores)]
    if not finite.size:
        return "<p>No chart: no grid point has a plan that fits.</p>"
    box = H.Box(values.min(), values.max(), finite.min(), finite.max())
    order = np.argsort(values, kind="stable")
    xs, ys = values[order], scores[order]
    segments, points = [], []
    for k in range(len(xs)):
        if not math.isfinite(ys[k]):
            segments.append(points)
            points = []
            continue
        points.append(f"{box.x(xs[k]):.1f},{box.y(ys[k]):.1f}")
        if k + 1 < len(xs):  # the plan holds until the next budget: a flat step
            points.append(f"{box.x(xs[k + 1]):.1f},{box.y(ys[k]):.1f}")
    segments.append(points)
    lines = "".join(f'<polyline class="line" points="{" ".join(p)}"/>' for p in segments if p)
    return box.svg("sweep", name, "best score", lines)


#: the heatmap's colours: best scores from light (low) to dark (high); no plan; not answered
_HEAT = ("#e7f0fb", "#1c4f96")
_NO_PLAN, _UNANSWERED = "#f1d4d4", "#ffffff"


def _heatmap(result: Sweep) -> str:
    """The best score over the last two swept budgets (earlier ones at their first value)."""
    (y_name, y_values), (x_name, x_values) = result.axes[-2:]
    lead = (0,) * (len(result.axes) - 2)
    return heatmap("sweep", y_name, y_values, x_name, x_values, result.score[lead], result.answered[lead])


def heatmap(svg_id: str, y_name: str, y_values, x_name: str, x_values, score: np.ndarray,
            answered: np.ndarray) -> str:
    """A cell per (y, x) grid point, coloured by its best ``score`` (Y, X) (not finite: no
    plan, or not answered where ``answered`` (Y, X) is False), with axes and a legend."""
    finite = score[np.isfinite(score)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    left, top, width, height = 80, 12, 560, 300
    cw, ch = width / len(x_values), height / len(y_values)
    out = [f'<svg id="{svg_id}" width="{left + width + 170}" viewBox="0 0 {left + width + 170} {top + height + 44}" '
           f'role="img" aria-label="best score over {escape(y_name)} and {escape(x_name)}">']
    for i, yv in enumerate(y_values):
        for j, xv in enumerate(x_values):
            value = score[i, j]
            fill = _shade(value, lo, hi) if math.isfinite(value) else (_NO_PLAN if answered[i, j] else _UNANSWERED)
            tip = f"{y_name} {yv:g}, {x_name} {xv:g}: " + (f"best score {value:.4f}" if math.isfinite(value) else
                                                            "no plan" if answered[i, j] else "not answered")
            out.append(f'<rect x="{left + j * cw:.1f}" y="{top + height - (i + 1) * ch:.1f}" width="{cw + 0.3:.1f}" '
                       f'height="{ch + 0.3:.1f}" fill="{fill}"><title>{escape(tip)}</title></rect>')
    out += _heat_axes(x_name, x_values, y_name, y_values, left, top, width, height)
    out += _heat_legend(left + width + 16, top, lo, hi)
    out.append("</svg>")
    return "".join(out)


def _shade(value: float, lo: float, hi: float) -> str:
    f = 0.0 if hi <= lo else (value - lo) / (hi - lo)
    a, b = (tuple(int(c[k:k + 2], 16) for k in (1, 3, 5)) for c in _HEAT)
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b))


def _heat_axes(x_name, x_values, y_name, y_values, left, top, width, height) -> list[str]:
    out = []
    for values, horizontal in ((x_values, True), (y_values, False)):
        step = max(1, len(values) // 8)
        size = (width if horizontal else height) / len(values)
        for k in range(0, len(values), step):
            if horizontal:
                out.append(f'<text x="{left + (k + 0.5) * size:.1f}" y="{top + height + 16}" '
                           f'text-anchor="middle">{values[k]:g}</text>')
            else:
                out.append(f'<text x="{left - 6}" y="{top + height - (k + 0.5) * size + 4:.1f}" '
                           f'text-anchor="end">{values[k]:g}</text>')
    out.append(f'<text x="{left + width / 2}" y="{top + height + 36}" text-anchor="middle">{escape(x_name)}</text>')
    out.append(f'<text x="14" y="{top + height / 2}" transform="rotate(-90 14 {top + height / 2})" '
               f'text-anchor="middle">{escape(y_name)}</text>')
    return out


def _heat_legend(x: float, top: float, lo: float, hi: float) -> list[str]:
    out = ['<text x="{:.1f}" y="{:.1f}">best score</text>'.format(x, top + 10)]
    for k in range(10):
        out.append(f'<rect x="{x:.1f}" y="{top + 18 + k * 12:.1f}" width="16" height="12" '
                   f'fill="{_shade(lo + (hi - lo) * k / 9, lo, hi)}"/>')
    out.append(f'<text x="{x + 22:.1f}" y="{top + 28:.1f}">{lo:.4g}</text>')
    out.append(f'<text x="{x + 22:.1f}" y="{top + 136:.1f}">{hi:.4g}</text>')
    for k, (fill, label) in enumerate(((_NO_PLAN, "no plan"), (_UNANSWERED, "not answered"))):
        y = top + 156 + k * 18
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" fill="{fill}" stroke="#ccc"/>'
                   f'<text x="{x + 22:.1f}" y="{y + 10:.1f}">{label}</text>')
    return out
