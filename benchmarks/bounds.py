"""The engine's bounds, measured: column generation's multipliers against the LP optimum,
and what the bound tables' dimensions and grid cost and save.

    python -m benchmarks.bounds

Per instance (YOLOv3 at tight latency caps and its least-energy plan; generated chains of
100-500 stages): the LP relaxation's optimum by HiGHS, column generation's bound
(``kernels.bounds.lagrangian_prices``) and its time; then, where the exact optimum is
proven in seconds, for tables of the priced dimensions and of every capped dimension on
grids of 1,024, 2,048 and 4,096 points, the tables' time, and the time and labels kept of
an exact search limited by the optimum. A bound above the LP optimum exits with status 1.

Then the LP dive (``kernels.dive.lp_dive``) against a beam of 32 labels per option on the
Lagrangian bounds, on instances where beams meet no plan or a poor one (generated ways
chains), where they meet a good one (300x6) and on a DAG's frontier-state graph (ResNet50):
each plan's score above the LP bound, and the dive's time. The optima, by HiGHS, are in
``python -m benchmarks --families ways60x4,ways100x4 --seeds 1 --peers highs --top-k 1``.

Then an exact search whose buckets are large enough for the dominance index
(``kernels/skyband.py``): its labels kept and time.

Then reduced-cost fixing (``kernels/fixing.py``) at HiGHS's optimum of the at-scale
chains the engine found hardest: the options and arcs left, and an exact search limited by
the optimum on the whole graph (stopped after ``WHOLE_GRAPH_S``) and on what is left, each
with its bounds computed there.

Then the grid of the bound tables on InceptionV3's layer graph fixed at its optimum: what
FINE_TABLE_CELLS allows there against finer grids (``solve.TABLE_CELLS_PER_LABEL``).

Last, constraint generation (``solve.LAZY_CAPS``) on generated ways chains: a whole solve
within every cap at once against one that relaxes the caps the LP leaves unpriced first.

    python -m benchmarks.bounds lazy      # one section: lp, dives, dominance, fixing, grids, lazy
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np

import eip
from benchmarks import peers
from benchmarks.generate import soc_scenario, ways_scenario
from benchmarks.suite import once
from eip.kernels.bounds import (by_dimension, cap_tests, completion_usage, lagrangian_prices, resource_tables,
                                table_dimensions)
from eip.costmodel import Dim
from eip.kernels.contract import Mode, Row, Stop
from eip.kernels.dive import DIVE_STALL_PER_STEP, lp_dive
from eip.kernels.fixing import fixed_by_bounds, subgraph
from eip.kernels.labels import label_memory, label_search
from eip.kernels.paths import clock, score_limit
from eip.kernels.solve import DUAL_ITERATIONS, EXACT_WIDTH, FINE_TABLE_CELLS
from eip.solve import solve_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
YOLOV3 = SCENARIOS / "yolov3_rk3399pro.json"
GRIDS = (1024, 2048, 4096)
#: seconds an exact search on a whole at-scale graph may take before it is reported stopped
WHOLE_GRAPH_S = 30.0
#: added to the unpriced capped dimensions' prices so that they get tables too
EVERY_DIMENSION = 1e-300


def instances():
    """(name, model, coef, with_tables) of each instance measured: the tables' searches only
    where the exact optimum is proven in seconds."""
    yolo = eip.load(YOLOV3).cost_model
    balanced = yolo.coefficients(eip.GOAL_WEIGHTS["balanced"])
    for cap in (3156.388, 3131.37, 3125.17):
        yield f"YOLOv3 balanced, latency cap {cap:g}", replace(yolo, max_latency_ms=cap), balanced, True
    yield "YOLOv3 least energy", yolo, yolo.dimension_coefficients(Dim.ENERGY), True
    for n, d, seed, with_tables in ((150, 4, 0, True), (200, 4, 0, True), (100, 8, 2, True), (300, 6, 0, False),
                                    (500, 8, 1, False)):
        model = eip.Scenario.from_dict(soc_scenario(n, d, seed)).cost_model
        yield f"soc_{n}x{d}_s{seed} balanced", model, model.coefficients(eip.GOAL_WEIGHTS["balanced"]), with_tables


def _labels_kept(g, coef, caps, prices, values, lam_sums, price, grid, limit,
                 seconds: float = np.inf) -> tuple[float, float, int, bool]:
    """(tables seconds, search seconds, labels kept, whether it ended) of an exact search
    limited by ``limit`` on tables of the dimensions ``price`` prices, within ``seconds``."""
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, len(g.step_start) - 1)
    t_tables, (table, dims, units) = once(lambda: resource_tables(g, coef, caps, price, grid, np.empty(0)))
    deadline = clock() + seconds
    t_search, answer = once(lambda: label_search(g, coef, caps, least, thr, prices, values, lam_sums, table, dims,
                                                 units, 1, EXACT_WIDTH, limit, 50_000_000, deadline, False,
                                                 label_memory(0, len(caps)), False))
    return t_tables, t_search, int(answer[5]), answer[0] == Stop.COMPLETE


def dive_instances():
    """(name, model) of each instance the dive is measured on."""
    for n, d, seed in ((60, 4, 0), (100, 4, 0), (200, 4, 1)):
        yield f"ways_{n}x{d}_s{seed}", eip.Scenario.from_dict(ways_scenario(n, d, seed)).cost_model
    yield "soc_300x6_s0", eip.Scenario.from_dict(soc_scenario(300, 6, 0)).cost_model
    yield "resnet50_soc (DAG states)", eip.load(SCENARIOS / "resnet50_soc.json").cost_model


def dives() -> None:
    """Print the beam's and the dive's plans above the LP bound, on each mode graph."""
    for name, model in dive_instances():
        for m, g in enumerate(model.mode_graphs):
            _dive(f"{name} mode graph {m}" if len(model.mode_graphs) > 1 else name, model, g)


def _dive(name: str, model, g) -> None:
    """One line of ``dives``: the LP bound, a beam's plan and the dive's on graph ``g``."""
    caps = model.caps_tol
    coef = model.coefficients(eip.GOAL_WEIGHTS["balanced"])
    prices, values, lam_sums, lp, _, _ = lagrangian_prices(g, by_dimension(g), coef, caps, DUAL_ITERATIONS, np.inf)
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, len(g.step_start) - 1)
    no_tables = np.zeros((0, g.opt_use.shape[0], 1)), np.zeros(0, dtype=np.int64), np.zeros(0)
    beam = label_search(g, coef, caps, least, thr, prices, values, lam_sums, *no_tables, 1, np.int64(32), np.inf,
                        50_000_000, np.inf, False, label_memory(0, len(caps)), False)
    path = np.zeros(len(g.step_start) - 1, dtype=np.int64)
    seconds, row = once(lambda: lp_dive(g, coef, caps, np.inf, np.inf, DIVE_STALL_PER_STEP, path))

    def above(score: float) -> str:
        return "no plan" if score == np.inf else f"{score:.6g} ({(score - lp) / abs(score):.2%} above)"

    beam_score = beam[2][0, Row.SCORE] if beam[3] else np.inf
    print(f"{name}: LP {lp:.6g}; beam of 32: {above(beam_score)}; dive: {above(row[Row.SCORE])} "
          f"in {seconds * 1e3:.0f} ms", flush=True)


def dominance() -> None:
    """An exact search whose buckets hold tens of thousands of candidates, the figure
    ``kernels/skyband.py`` quotes: 300x6 seed 0, limited 3/4 of the way from column
    generation's bound to HiGHS's optimum, on tables of 4,096 points."""
    model = eip.Scenario.from_dict(soc_scenario(300, 6, 0)).cost_model
    g, caps = model.graph, model.caps_tol
    coef = model.coefficients(eip.GOAL_WEIGHTS["balanced"])
    optimum = peers.highs_milp(model, coef, 120.0).best
    prices, values, lam_sums, dual, _, _ = lagrangian_prices(g, by_dimension(g), coef, caps, DUAL_ITERATIONS, np.inf)
    limit = dual + 0.75 * (optimum - dual)
    t_tables, t_search, kept, _ = _labels_kept(g, coef, caps, prices, values, lam_sums, prices[1], GRIDS[-1], limit)
    print(f"soc_300x6_s0 searched at 3/4 of its gap ({limit:.6g}): {kept:,} labels in {t_search:.2f} s "
          f"(tables {t_tables * 1e3:.0f} ms)", flush=True)


def fixing() -> None:
    """Reduced-cost fixing at the optimum of 300x6 seed 0 and 500x8 seed 1: what is left,
    and the search limited by the optimum there against the whole graph."""
    for n, d, seed in ((300, 6, 0), (500, 8, 1)):
        model = eip.Scenario.from_dict(soc_scenario(n, d, seed)).cost_model
        g, caps = model.graph, model.caps_tol
        coef = model.coefficients(eip.GOAL_WEIGHTS["balanced"])
        optimum = peers.highs_milp(model, coef, 120.0).best
        limit = score_limit(optimum)
        uses = by_dimension(g)
        prices, values, lam_sums, dual, _, _ = lagrangian_prices(g, uses, coef, caps, DUAL_ITERATIONS, np.inf)
        t_fix, (sub, _, _) = once(lambda: subgraph(g, *fixed_by_bounds(g, uses, coef, prices, values, lam_sums,
                                                                        limit)))
        print(f"soc_{n}x{d}_s{seed} fixed at its optimum {optimum:.6g} in {t_fix * 1e3:.1f} ms: options "
              f"{len(g.opt_key):,} -> {len(sub.opt_key):,}, arcs {len(g.arc_tail):,} -> {len(sub.arc_tail):,}", flush=True)
        for name, graph in (("whole graph", g), ("fixed graph", sub)):
            p, v, lam, *_ = lagrangian_prices(graph, by_dimension(graph), coef, caps, DUAL_ITERATIONS, np.inf)
            _, t_search, kept, ended = _labels_kept(graph, coef, caps, p, v, lam, p[1], GRIDS[-1], limit, WHOLE_GRAPH_S)
            print(f"  {name}: {kept:,} labels in {t_search:.2f} s{'' if ended else ', stopped unproven'}", flush=True)


def table_grids() -> None:
    """InceptionV3's layer graph fixed at its optimum: an exact search limited by the
    optimum on tables of the grid FINE_TABLE_CELLS allows there and on finer ones (the
    figures ``kernels.solve.TABLE_CELLS_PER_LABEL`` quotes)."""
    model = eip.load(SCENARIOS / "inceptionv3_soc.json").cost_model
    g, caps = model.graph, model.caps_tol
    coef = model.coefficients(eip.GOAL_WEIGHTS["balanced"])
    optimum = solve_model(model, coef, 1, Mode.EXACT, 32, 50_000_000, 300.0).rows[0, Row.SCORE]
    limit = score_limit(optimum)
    uses = by_dimension(g)
    prices, values, lam_sums, _, _, _ = lagrangian_prices(g, uses, coef, caps, DUAL_ITERATIONS, np.inf)
    sub, _, _ = subgraph(g, *fixed_by_bounds(g, uses, coef, prices, values, lam_sums, limit))
    p, v, lam, *_ = lagrangian_prices(sub, by_dimension(sub), coef, caps, DUAL_ITERATIONS, np.inf)
    n_tables = len(table_dimensions(caps, p[1]))
    allowed = FINE_TABLE_CELLS // (len(sub.opt_key) * n_tables)
    print(f"inceptionv3_soc fixed at its optimum {optimum:.6g}: {len(sub.opt_key):,} options, {n_tables} tables",
          flush=True)
    for grid in (allowed, 512, 1024):
        t_tables, t_search, kept, _ = _labels_kept(sub, coef, caps, p, v, lam, p[1], grid, limit)
        print(f"  {grid:,} grid points: tables {t_tables * 1e3:.0f} ms, search {t_search * 1e3:.0f} ms, "
              f"{kept:,} labels", flush=True)


def lazy_caps() -> None:
    """Generated ways chains solved within every cap at once and by constraint generation
    (``solve.LAZY_CAPS``), for the best plan and the best three: time, labels kept, status
    and scores of each."""
    from eip.kernels import solve as kernel

    for n, seed in ((60, 0), (60, 1), (60, 2), (100, 0), (100, 1)):
        model = eip.Scenario.from_dict(ways_scenario(n, 4, seed)).cost_model
        coef = model.coefficients(eip.GOAL_WEIGHTS["balanced"])
        solve_model(model, coef, 1, Mode.EXACT, 32, 4_000_000, 30.0)  # lower the model, load the kernels
        for k in (1, 3):
            cells = []
            for label, lazy in (("every cap", False), ("constraint generation", True)):
                with mock.patch.object(kernel, "LAZY_CAPS", lazy):
                    sol = solve_model(model, coef, k, Mode.EXACT, 32, 4_000_000, 30.0)
                scores = ", ".join(f"{score:.6f}" for score in sol.rows[:, Row.SCORE]) or "none"
                cells.append(f"{label}: {sol.seconds:.2f} s, {sol.labels_kept:,} labels, "
                             f"{sol.status.name.lower()} {scores}")
            print(f"ways_{n}x4_s{seed} top-{k}: " + " | ".join(cells), flush=True)


def lp_bounds() -> int:
    """Column generation against the LP optimum, and the bound tables' dimensions and
    grids (the module docstring's first paragraph); returns how many bounds exceed the LP."""
    failures = 0
    for name, model, coef, with_tables in instances():
        g, caps = model.graph, model.caps_tol
        lp = peers.chain_lp_bound(model, coef, caps)
        lagrangian_prices(g, by_dimension(g), coef, caps, DUAL_ITERATIONS, np.inf)  # load the kernel
        seconds, (prices, values, lam_sums, dual, _, _) = once(
            lambda: lagrangian_prices(g, by_dimension(g), coef, caps, DUAL_ITERATIONS, np.inf))
        print(f"{name}: LP {lp:.6g}, column generation {dual:.6g} in {seconds * 1e3:.1f} ms "
              f"({(lp - dual) / abs(lp):.4%} below the LP)", flush=True)
        if dual > lp + 1e-6 * max(1.0, abs(lp)):
            print(f"!!! bound {dual!r} above the LP optimum {lp!r}")
            failures += 1
        if not with_tables:
            continue
        optimum = solve_model(model, coef, 1, Mode.EXACT, 32, 50_000_000, 300.0).rows[0, Row.SCORE]
        print(f"  optimum {optimum:.6g}, {(optimum - lp) / abs(optimum):.2%} above the LP", flush=True)
        capped = np.isfinite(caps) & (caps > 0)
        limit = score_limit(optimum)
        _labels_kept(g, coef, caps, prices, values, lam_sums, prices[1], GRIDS[0], limit)  # load the kernels
        for label, price in (("priced dimensions", prices[1]),
                             ("every capped dimension", prices[1] + np.where(capped, EVERY_DIMENSION, 0.0))):
            cells = []
            for grid in GRIDS:
                t_tables, t_search, kept, _ = _labels_kept(g, coef, caps, prices, values, lam_sums, price, grid, limit)
                cells.append(f"{grid}: {t_tables * 1e3:.0f} + {t_search * 1e3:.0f} ms, {kept:,} labels")
            print(f"  tables of the {label:<22} " + " | ".join(cells), flush=True)
    return failures


SECTIONS = {"lp": lp_bounds, "dives": dives, "dominance": dominance, "fixing": fixing, "grids": table_grids,
            "lazy": lazy_caps}


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        print(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    failures = [SECTIONS[name]() for name in (names or SECTIONS)]
    return 1 if any(failures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
