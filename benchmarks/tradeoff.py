"""Trade-offs against separate solves: the frontier's time, one ``eip.sweep`` of many
latency caps versus an ``eip.plan`` call per cap (and HiGHS re-solving a sample, both
extrapolated), and a latency x energy grid the same way.

    python -m benchmarks.tradeoff [--caps 10000] [--stages 30] [--devices 4] [--seed 0]
                                  [--sample 200] [--grid 50x10]

Every sampled grid point is checked against its separate solve; a disagreement exits 1.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace

import numpy as np

import eip
from benchmarks import peers
from benchmarks.generate import soc_scenario
from benchmarks.suite import extrapolated, installed
from eip.goals import resolve_goal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps", type=int, default=10_000)
    parser.add_argument("--stages", type=int, default=30)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=200, help="caps solved separately by eip.plan (extrapolated)")
    parser.add_argument("--highs-sample", type=int, default=20)
    parser.add_argument("--grid", default="50x10", help="latency x energy caps of the 2-D sweep")
    args = parser.parse_args(argv)

    scenario = eip.Scenario.from_dict(soc_scenario(args.stages, args.devices, args.seed))
    model = scenario.cost_model
    start = time.perf_counter()
    front = eip.frontier(model)
    print(f"{model.name}: eip.frontier: {len(front)} Pareto-optimal plans in {(time.perf_counter() - start) * 1e3:.2f} ms")

    # caps from just below the fastest plan that fits to the scenario's own latency cap
    fastest = eip.plan(model, goal={"latency": 1.0}, top_k=1, strategy="exact").best
    caps = np.linspace(fastest.latency_ms * 0.98, model.max_latency_ms, args.caps)
    eip.sweep(model, max_latency_ms=caps[:10])  # warm
    start = time.perf_counter()
    result = eip.sweep(model, max_latency_ms=caps)
    sweep_s = time.perf_counter() - start
    print(f"eip.sweep over {args.caps:,} latency caps: {sweep_s * 1e3:.2f} ms ({sweep_s / args.caps * 1e6:.2f} us per cap); "
          f"{len(result.plans)} distinct best plans, {int(result.feasible.sum()):,} caps feasible")
    rng = np.random.default_rng(0)
    sample = rng.choice(args.caps, size=min(args.sample, args.caps), replace=False)
    points = [{"max_latency_ms": float(caps[i])} for i in sample]
    plan_s, mismatches = _check(model, points, [result.score[i] for i in sample], [result.feasible[i] for i in sample])
    print(extrapolated("eip.plan", plan_s, len(sample), args.caps, "the sweep", sweep_s))
    if installed("highspy") and args.highs_sample > 0:
        coef = model.coefficients(resolve_goal("balanced")[1])
        highs_sample = sample[: args.highs_sample]
        start = time.perf_counter()
        for i in highs_sample:
            peers.highs_milp(replace(model, max_latency_ms=float(caps[i])), coef)
        highs_s = (time.perf_counter() - start) / len(highs_sample)
        print(extrapolated("HiGHS", highs_s, len(highs_sample), args.caps, "the sweep", sweep_s))

    n_lat, n_en = (int(x) for x in args.grid.split("x"))
    lat = model.max_latency_ms * np.linspace(0.7, 1.0, n_lat)
    en = model.max_energy_mj * np.linspace(0.8, 1.0, n_en)
    start = time.perf_counter()
    grid = eip.sweep(model, max_latency_ms=lat, max_energy_mj=en)
    grid_s = time.perf_counter() - start
    cells = list(np.ndindex(grid.score.shape))
    picked = [cells[i] for i in rng.choice(len(cells), size=min(args.sample, len(cells)), replace=False)]
    points = [{"max_latency_ms": float(lat[a]), "max_energy_mj": float(en[b])} for a, b in picked]
    grid_plan_s, grid_mismatches = _check(model, points, [grid.score[c] for c in picked], [grid.feasible[c] for c in picked])
    print(f"eip.sweep over {n_lat}x{n_en} latency x energy caps: {grid_s * 1e3:.1f} ms; "
          f"{len(grid.plans)} distinct best plans, {int(grid.feasible.sum()):,} points feasible")
    print(extrapolated("eip.plan", grid_plan_s, len(picked), len(cells), "the sweep", grid_s))
    mismatches += grid_mismatches
    print(f"{len(sample) + len(picked)} sampled grid points checked against separate plans: {mismatches} mismatches")
    return 1 if mismatches else 0


def _check(model, points: list[dict], scores: list[float], feasible: list[bool]) -> tuple[float, int]:
    """(seconds per separate exact ``eip.plan`` call, mismatches) over sweep grid points."""
    start = time.perf_counter()
    answers = [eip.plan(replace(model, **point), top_k=1, strategy="exact") for point in points]
    per_call = (time.perf_counter() - start) / len(points)
    mismatches = 0
    for point, r, score, fits in zip(points, answers, scores, feasible):
        same = (r.best is None and not fits) or (r.best is not None and fits and math.isclose(r.best.score, score, rel_tol=1e-9))
        if not same:
            mismatches += 1
            print(f"!!! MISMATCH at {point}: sweep {score!r}, plan {r.best.score if r.best else None!r}")
    return per_call, mismatches


if __name__ == "__main__":
    sys.exit(main())
