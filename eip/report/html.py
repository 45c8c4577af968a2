"""A self-contained HTML report: tables, explanations and three inline SVG charts.

No network, no scripts, no external fonts; a Content-Security-Policy forbids scripts as a
second line of defence. Every scenario string goes through ``html.escape``.
"""

from __future__ import annotations

import math
from html import escape

from ..costmodel import CostModel
from ..explain import Explanation
from ..result import Plan, PlanResult
from . import rows as R

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.summary p{margin:2px 0}.status{display:inline-block;padding:1px 8px;border-radius:10px;background:#e3f4e8;color:#17642f}
.status.feasible{background:#fff3d6;color:#7a5300}.status.none{background:#fde4e4;color:#8a1c1c}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{padding:4px 8px;border-bottom:1px solid #eef1f5;text-align:right}
th.name,td.name{text-align:left}th{background:#f6f8fb;font-weight:600}
ul{margin:4px 0;padding-left:20px}li{margin:2px 0}svg{display:block;margin:6px 0;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#1d2330}.lane{fill:#f6f8fb}.stage{stroke:#fff;stroke-width:1}
.xfer{stroke:#d9480f;stroke-width:2}.cap{stroke:#c92a2a;stroke-dasharray:5 4}.grid{stroke:#e6e9ef}
.budget{fill:#e9edf3}.used{fill:#3b7dd8}.over{fill:#c92a2a}.alt{fill:#8aa4c8}.best{fill:#d9480f}.line{fill:none;stroke:#3b7dd8;stroke-width:2}
"""
PALETTE = ["#3b7dd8", "#2f9e44", "#ae3ec9", "#f08c00", "#1098ad", "#e8590c", "#5c7cfa", "#a61e4d"]


def render_html(result: PlanResult, explanation: Explanation) -> bytes:
    e = escape
    best = result.best
    status_class = {"optimal": "", "feasible": " feasible"}.get(result.status, " none")
    head, *summary = R.summary_lines(result)
    parts = [
        f"<h1>{e(head)}</h1>",
        f'<div class="summary"><p><span class="status{status_class}">{e(R.proof(result))}</span></p>',
        *[f"<p>{e(line)}</p>" for line in summary],
        "</div>",
    ]
    if best is not None:
        parts += [
            "<h2>Timeline of the best plan</h2>", _timeline(best, result.model.device_names),
            *([] if result.model.is_chain else ["<h2>Graph of the best plan</h2>", _graph(best, result.model.device_names)]),
            "<h2>Placement</h2>", table("placement", *R.placement_table(best, result.model)),
            "<h2>Budgets (tightest first)</h2>", _memory_chart(best), *_load_charts(result.model, best),
            _list(R.budget_lines(explanation)),
            *_sensitivity(explanation),
            "<h2>Rationale</h2>", _list(R.rationale_lines(explanation)),
            "<h2>Alternatives on the latency/energy frontier</h2>", _tradeoff(result, explanation),
            table("alternatives", R.ALTERNATIVES_HEADER, R.alternative_rows(result, explanation)),
            _list(a.sentence for a in explanation.alternatives),
            f"<p><small>{e(R.solve_line(result))}</small></p>",
        ]
    return page(f"eip plan: {result.scenario}", parts)


def page(title: str, body: list[str]) -> bytes:
    """A complete self-contained page: the CSP, the style sheet, an escaped title, ``body``."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
    ]
    return ("\n".join(head + body + ["</body></html>"]) + "\n").encode()


class Box:
    """The plot area of a 2-D chart: maps data to SVG coordinates and draws the axes."""

    LEFT, WIDTH, TOP, HEIGHT = 60, 560, 12, 300

    def __init__(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float) -> None:
        """Data ranges; each is padded so points never sit on the frame."""
        self.x_lo, self.x_hi = _span([float(x_lo), float(x_hi)])
        self.y_lo, self.y_hi = _span([float(y_lo), float(y_hi)])

    def x(self, v: float) -> float:
        return self.LEFT + self.WIDTH * (v - self.x_lo) / (self.x_hi - self.x_lo)

    def y(self, v: float) -> float:
        return self.TOP + self.HEIGHT - self.HEIGHT * (v - self.y_lo) / (self.y_hi - self.y_lo)

    def svg(self, svg_id: str, x_label: str, y_label: str, content: str) -> str:
        left, width, top, height = self.LEFT, self.WIDTH, self.TOP, self.HEIGHT
        out = [f'<svg id="{svg_id}" width="{left + width + 20}" viewBox="0 0 {left + width + 20} {top + height + 40}" '
               f'role="img" aria-label="{escape(y_label)} versus {escape(x_label)}">']
        for t in _ticks(self.x_lo, self.x_hi):
            out.append(f'<line class="grid" x1="{self.x(t):.1f}" y1="{top}" x2="{self.x(t):.1f}" y2="{top + height}"/>'
                       f'<text x="{self.x(t):.1f}" y="{top + height + 16}" text-anchor="middle">{t:g}</text>')
        for t in _ticks(self.y_lo, self.y_hi):
            out.append(f'<line class="grid" x1="{left}" y1="{self.y(t):.1f}" x2="{left + width}" y2="{self.y(t):.1f}"/>'
                       f'<text x="{left - 6}" y="{self.y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
        out.append(f'<text x="{left + width / 2}" y="{top + height + 34}" text-anchor="middle">{escape(x_label)}</text>')
        out.append(f'<text x="14" y="{top + height / 2}" transform="rotate(-90 14 {top + height / 2})" '
                   f'text-anchor="middle">{escape(y_label)}</text>')
        out.append(content)
        out.append("</svg>")
        return "".join(out)


def table(table_id: str, header: list[str], rows: list[list[str]]) -> str:
    texts = {i for i, h in enumerate(header) if h in ("stage", "inputs", "device", "device path", "budget", "status")}
    head = "".join(f'<th class="name">{escape(h)}</th>' if i in texts else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(header))
    cell = lambda i, c: f'<td class="name">{escape(c)}</td>' if i in texts else f"<td>{escape(c)}</td>"
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _sensitivity(explanation: Explanation) -> list[str]:
    rows = R.sensitivity_rows(explanation)
    if not rows:
        return []
    return ["<h2>Sensitivity (one step more or less of each budget, re-solved)</h2>",
            table("sensitivity", R.SENSITIVITY_HEADER, rows)]


def _list(lines) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _timeline(plan: Plan, devices: tuple[str, ...]) -> str:
    """One lane per device, in its colour; the stages a device runs one after another form
    one labelled block (thin lines part its stages; each stage's costs in its tooltip);
    transfers are links between lanes."""
    left, width, lane_h, top = 110, 860, 30, 10
    total = max(plan.latency_ms, 1e-9)
    height = top + lane_h * len(devices) + 28
    lane_of = {d: i for i, d in enumerate(devices)}
    x = lambda t: left + width * t / total
    y = lambda d: top + lane_h * lane_of[d]
    out = [f'<svg id="timeline" viewBox="0 0 {left + width + 10} {height}" role="img" '
           f'aria-label="timeline of the best plan">']
    for d in devices:
        out.append(f'<rect class="lane" x="{left}" y="{y(d) + 2}" width="{width}" height="{lane_h - 4}"/>')
        out.append(f'<text x="{left - 8}" y="{y(d) + lane_h / 2 + 4}" text-anchor="end">{_label(d)}</text>')
    for t in _ticks(0.0, total):
        out.append(f'<line class="grid" x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{height - 22}"/>')
        out.append(f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle">{t:g} ms</text>')
    for run in _runs(plan.timeline):
        out += _run_svg(run, x, y(run[0].stage.device), lane_h, PALETTE[lane_of[run[0].stage.device] % len(PALETTE)])
    for slot in plan.timeline:
        s, t, edge = slot.stage, slot.start_ms, slot.edge
        if edge is not None:
            y0, y1 = y(edge.source) + lane_h / 2, y(s.device) + lane_h / 2
            tip = f"{edge.producer} -> {s.stage}, {edge.source} -> {s.device}: {edge.xfer_ms:.2f} ms, {edge.xfer_mj:.2f} mJ"
            out.append(f'<line class="xfer" x1="{x(t):.1f}" y1="{y0:.1f}" x2="{x(t + edge.xfer_ms):.1f}" y2="{y1:.1f}">'
                       f'<title>{escape(tip)}</title></line>')
    out.append("</svg>")
    return "".join(out)


def _runs(timeline) -> list[list]:
    """The execution slots, in runs of consecutive stages on one device."""
    runs: list[list] = []
    for slot in timeline:
        if slot.edge is not None:
            continue
        if runs and runs[-1][-1].stage.device == slot.stage.device \
                and abs(runs[-1][-1].start_ms + runs[-1][-1].duration_ms - slot.start_ms) < 1e-9:
            runs[-1].append(slot)
        else:
            runs.append([slot])
    return runs


def _run_svg(run: list, x, lane_y: float, lane_h: int, color: str) -> list[str]:
    """One block for a run of stages: a stage per part (its tooltip), the run's label if it fits."""
    out = []
    for slot in run:
        s = slot.stage
        w = max(x(slot.start_ms + slot.duration_ms) - x(slot.start_ms), 1.0)
        label = f"{s.stage} on {s.device}: {s.exec_ms:.2f} ms, {s.exec_mj:.2f} mJ, {R.amount(s.memory_mb)} MB"
        out.append(f'<rect class="stage" x="{x(slot.start_ms):.1f}" y="{lane_y + 4}" width="{w:.1f}" '
                   f'height="{lane_h - 8}" fill="{color}"><title>{escape(label)}</title></rect>')
    start, end = run[0].start_ms, run[-1].start_ms + run[-1].duration_ms
    names = [run[0].stage.stage] if len(run) == 1 else [f"{run[0].stage.stage} .. {run[-1].stage.stage} ({len(run)})",
                                                        f"{len(run)} stages"]
    room = x(end) - x(start) - 8
    name = next((n for n in names if 7 * len(n) <= room), None)
    if name is not None:
        out.append(f'<text x="{x(start) + 4:.1f}" y="{lane_y + lane_h / 2 + 4}" style="fill:#fff">{escape(name)}</text>')
    return out


def _graph(plan: Plan, devices: tuple[str, ...]) -> str:
    """The pipeline's graph: stages as nodes in layers (a stage's layer is one more than its
    deepest input's), coloured by device; edges that cross devices drawn bold with their
    transfer cost. Wide graphs scroll sideways."""
    layer: dict[str, int] = {}
    for s in plan.stages:
        layer[s.stage] = 1 + max((layer[p] for p in s.inputs), default=-1)
    rows: dict[str, int] = {}
    per_layer: dict[int, int] = {}
    for s in plan.stages:
        rows[s.stage] = per_layer.get(layer[s.stage], 0)
        per_layer[layer[s.stage]] = rows[s.stage] + 1
    col_w, row_h, node_w, node_h, pad, arc_room = 124, 44, 84, 26, 10, 56
    width = pad * 2 + col_w * (max(layer.values()) + 1)
    n_rows = max(per_layer.values())
    height = arc_room * 2 + row_h * n_rows + 22
    color = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(devices)}
    cx = lambda name: pad + col_w * layer[name] + node_w / 2
    cy = lambda name: arc_room + row_h * rows[name] + node_h / 2
    out = [f'<div style="overflow-x:auto"><svg id="graph" width="{width}" viewBox="0 0 {width} {height}" '
           f'style="max-width:none" role="img" aria-label="graph of the best plan">']
    for e in plan.edges:
        what = (f"{e.producer} -> {e.reader}: {e.size_mb:g} MB {e.source} -> {e.target}, "
                + (f"{e.xfer_ms:.2f} ms, {e.xfer_mj:.2f} mJ" if e.moved else "already there" if e.crosses else "same device"))
        x1, y1, x2, y2 = cx(e.producer) + node_w / 2, cy(e.producer), cx(e.reader) - node_w / 2, cy(e.reader)
        # an edge that skips layers arcs above the first row (or below the last) so that it
        # does not run through the nodes between its ends
        mid_x, mid_y, rise = (x1 + x2) / 2, (y1 + y2) / 2, min(arc_room - 18, 8 + 0.05 * (x2 - x1))
        if layer[e.reader] - layer[e.producer] > 1:
            above = min(rows[e.producer], rows[e.reader]) == 0 or n_rows == 1
            mid_y = min(y1, y2) - node_h / 2 - rise if above else max(y1, y2) + node_h / 2 + rise
        bend = 2 * mid_y - (y1 + y2) / 2  # the control point that puts the curve through (mid_x, mid_y)
        out.append(f'<path class="{"xfer" if e.crosses else "grid"}" fill="none" '
                   f'd="M{x1:.1f},{y1:.1f} Q{mid_x:.1f},{bend:.1f} {x2:.1f},{y2:.1f}"><title>{escape(what)}</title></path>')
        if e.moved:
            out.append(f'<text x="{mid_x:.1f}" y="{mid_y - 4 if mid_y <= max(y1, y2) else mid_y + 12:.1f}" text-anchor="middle" '
                       f'style="fill:#d9480f;font-size:10px">{e.xfer_ms:.2f} ms</text>')
    for s in plan.stages:
        tip = f"{s.stage} on {s.device}: {s.exec_ms:.2f} ms, {s.exec_mj:.2f} mJ, {R.amount(s.memory_mb)} MB"
        out.append(f'<rect class="stage" x="{cx(s.stage) - node_w / 2:.1f}" y="{cy(s.stage) - node_h / 2:.1f}" '
                   f'width="{node_w}" height="{node_h}" rx="4" fill="{color[s.device]}"><title>{escape(tip)}</title></rect>'
                   f'<text x="{cx(s.stage):.1f}" y="{cy(s.stage) + 4:.1f}" text-anchor="middle" style="fill:#fff">'
                   f'{_label(s.stage, 11)}</text>')
    legend = "".join(f'<rect x="{pad + 110 * i}" y="{height - 18}" width="12" height="12" fill="{color[d]}"/>'
                     f'<text x="{pad + 110 * i + 16}" y="{height - 8}">{_label(d, 12)}</text>' for i, d in enumerate(devices))
    out.append(legend + "</svg></div>")
    return "".join(out)


def _tradeoff(result: PlanResult, explanation: Explanation) -> str:
    """Latency vs energy of the ranked plans on the frontier's step curve, caps drawn."""
    lats = [p.latency_ms for p in result.plans]
    ens = [p.energy_mj for p in result.plans]
    front = explanation.frontier
    if front is not None:
        lats += front.latency_ms.tolist()
        ens += front.energy_mj.tolist()
    model = result.model
    caps_x = [model.max_latency_ms] if math.isfinite(model.max_latency_ms) else []
    caps_y = [model.max_energy_mj] if math.isfinite(model.max_energy_mj) else []
    box = Box(min(lats + caps_x), max(lats + caps_x), min(ens + caps_y), max(ens + caps_y))
    top, height, left, width = box.TOP, box.HEIGHT, box.LEFT, box.WIDTH
    out = []
    if front is not None and len(front):
        out.append(step_curve(box, front.latency_ms, front.energy_mj))
        out += [f'<circle class="alt" cx="{box.x(x):.1f}" cy="{box.y(y):.1f}" r="3">'
                f"<title>frontier: {x:.2f} ms, {y:.2f} mJ</title></circle>"
                for x, y in zip(front.latency_ms, front.energy_mj)]
    for c in caps_x:
        out.append(f'<line class="cap" x1="{box.x(c):.1f}" y1="{top}" x2="{box.x(c):.1f}" y2="{top + height}"/>'
                   f'<text x="{box.x(c) - 4:.1f}" y="{top + 12}" text-anchor="end" style="fill:#c92a2a">latency cap {c:g} ms</text>')
    for c in caps_y:
        out.append(f'<line class="cap" x1="{left}" y1="{box.y(c):.1f}" x2="{left + width}" y2="{box.y(c):.1f}"/>'
                   f'<text x="{left + 6}" y="{box.y(c) - 5:.1f}" style="fill:#c92a2a">energy cap {c:g} mJ</text>')
    for rank, p in reversed(list(enumerate(result.plans, 1))):
        cls = "best" if rank == 1 else "alt"
        tip = f"#{rank}: score {p.score:.4f}, {p.latency_ms:.2f} ms, {p.energy_mj:.2f} mJ"
        out.append(f'<circle class="{cls}" cx="{box.x(p.latency_ms):.1f}" cy="{box.y(p.energy_mj):.1f}" r="{7 if rank == 1 else 5}">'
                   f'<title>{escape(tip)}</title></circle>'
                   f'<text x="{box.x(p.latency_ms) + 9:.1f}" y="{box.y(p.energy_mj) - 7:.1f}">#{rank}</text>')
    return box.svg("tradeoff", "latency (ms)", "energy (mJ)", "".join(out))


def step_curve(box: Box, latency_ms, energy_mj) -> str:
    """A frontier (points by increasing latency, falling energy) as a step polyline."""
    xs, ys = list(latency_ms), list(energy_mj)
    points = [f"{box.x(xs[0]):.1f},{box.y(ys[0]):.1f}"]
    for i in range(1, len(xs)):
        points += [f"{box.x(xs[i]):.1f},{box.y(ys[i - 1]):.1f}", f"{box.x(xs[i]):.1f},{box.y(ys[i]):.1f}"]
    return f'<polyline class="line" points="{" ".join(points)}"/>'


def _memory_chart(plan: Plan) -> str:
    """Memory per device against its budget."""
    return _bars("memory", "memory per device against its budget", "MB",
                 [(device, use.used_mb, use.budget_mb) for device, use in plan.memory_mb.items()])


def _load_charts(model: CostModel, plan: Plan) -> list[str]:
    """Busy time per device against the frame period, and power per device against its
    sustained limit, when the scenario has a frame rate."""
    if model.period_ms == math.inf:
        return []
    return ["<h3>Busy time per frame against the frame period</h3>",
            _bars("busy", "busy time per device against the frame period", "ms",
                  [(device, ms, model.period_ms) for device, ms in plan.busy_ms.items()]),
            "<h3>Execution power at the frame rate against each device's sustained limit</h3>",
            _bars("power", "power per device against its sustained limit", "W",
                  [(device, w, cap) for (device, w), cap in zip(plan.power_w.items(), model.sustained_power_w.tolist())])]


def _bars(svg_id: str, aria: str, unit: str, items: list[tuple[str, float, float]]) -> str:
    """One bar per (name, used, limit) against its limit (inf: none), in ``unit``."""
    left, width, bar_h = 110, 600, 26
    scale = max([used for _, used, _ in items] + [cap for _, _, cap in items if math.isfinite(cap)] + [1e-9])
    out = [f'<svg id="{svg_id}" viewBox="0 0 {left + width + 200} {bar_h * len(items) + 10}" role="img" '
           f'aria-label="{escape(aria)}">']
    for i, (name, used_value, cap) in enumerate(items):
        yy = 5 + i * bar_h
        full = width * (cap / scale if math.isfinite(cap) else 1.0)
        used = width * used_value / scale
        limit = f"{R.amount(cap)} {unit}" if math.isfinite(cap) else "no limit"
        out.append(f'<text x="{left - 8}" y="{yy + bar_h / 2 + 3}" text-anchor="end">{_label(name)}</text>'
                   f'<rect class="budget" x="{left}" y="{yy + 3}" width="{full:.1f}" height="{bar_h - 8}"/>'
                   f'<rect class="{"over" if used_value > cap else "used"}" x="{left}" y="{yy + 3}" '
                   f'width="{used:.1f}" height="{bar_h - 8}"/>'
                   f'<text x="{left + max(full, used) + 6:.1f}" y="{yy + bar_h / 2 + 3}">'
                   f'{escape(f"{R.amount(used_value)} of {limit}")}</text>')
    out.append("</svg>")
    return "".join(out)


def _label(name: str, width: int = 15) -> str:
    """A chart label that fits its margin; the full name stays in a tooltip."""
    short = name if len(name) <= width else name[: width - 1] + "\u2026"
    return f"{escape(short)}<title>{escape(name)}</title>"


def _span(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 1.0)
    return lo - pad, hi + pad
