"""Budget sweeps against separate solves: one ``eip.sweep`` of many latency caps versus an
``eip.plan`` call per cap, and HiGHS re-solving a sample of them (extrapolated).

    python -m benchmarks.tradeoff [--caps 10000] [--stages 30] [--devices 4] [--sample 200]

Every sampled grid point is checked against its separate solve; a disagreement exits 1.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import eip
from benchmarks import peers
from benchmarks.generate import soc_scenario
from benchmarks.suite import installed
from eip.goals import resolve_goal, score_coefficients
from dataclasses import replace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps", type=int, default=10_000)
    parser.add_argument("--stages", type=int, default=30)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=200, help="caps solved separately by eip.plan (extrapolated)")
    parser.add_argument("--highs-sample", type=int, default=20)
    args = parser.parse_args(argv)

    scenario = eip.Scenario.from_dict(soc_scenario(args.stages, args.devices, args.seed))
    model = scenario.cost_model
    # caps from just below the fastest plan that fits to the scenario's own latency cap
    fastest = eip.plan(model, goal={"latency": 1.0}, top_k=1, strategy="exact").best
    caps = np.linspace(fastest.latency_ms * 0.98, model.max_latency_ms, args.caps)
    eip.sweep(model, max_latency_ms=caps[:10])  # warm
    start = time.perf_counter()
    result = eip.sweep(model, max_latency_ms=caps)
    sweep_s = time.perf_counter() - start
    print(f"{model.name}: {len(result.plans)} distinct best plans over the caps; "
          f"{int(result.feasible.sum()):,} of {args.caps:,} caps feasible")
    start = time.perf_counter()
    front = eip.frontier(model)
    print(f"eip.frontier: {len(front)} Pareto-optimal plans in {(time.perf_counter() - start) * 1e3:.2f} ms")
    print(f"eip.sweep over {args.caps:,} latency caps: {sweep_s * 1e3:.2f} ms ({sweep_s / args.caps * 1e6:.2f} us per cap)")

    rng = np.random.default_rng(0)
    sample = rng.choice(args.caps, size=min(args.sample, args.caps), replace=False)
    mismatches = 0
    start = time.perf_counter()
    answers = [eip.plan(replace(model, max_latency_ms=float(caps[i])), top_k=1, strategy="exact") for i in sample]
    plan_s = (time.perf_counter() - start) / len(sample)
    for i, r in zip(sample, answers):
        same = (r.best is None and not result.feasible[i]) or (
            r.best is not None and result.feasible[i] and math.isclose(r.best.score, result.score[i], rel_tol=1e-9))
        if not same:
            mismatches += 1
            print(f"!!! MISMATCH at cap {caps[i]!r}: sweep {result.score[i]!r}, plan {r.best.score if r.best else None!r}")
    plan_total = plan_s * args.caps
    print(f"eip.plan per cap: {plan_s * 1e3:.3f} ms (sample of {len(sample)}), {args.caps:,} calls ~ {plan_total:.2f} s "
          f"-> sweep is {plan_total / sweep_s:,.0f}x faster")
    if installed("highspy") and args.highs_sample > 0:
        coef = score_coefficients(resolve_goal("balanced")[1], model.baselines)
        start = time.perf_counter()
        for i in sample[: args.highs_sample]:
            peers.highs_milp(replace(model, max_latency_ms=float(caps[i])), coef)
        highs_s = (time.perf_counter() - start) / min(args.highs_sample, len(sample))
        print(f"HiGHS per cap: {highs_s * 1e3:.1f} ms (sample of {min(args.highs_sample, len(sample))}), {args.caps:,} solves ~ "
              f"{highs_s * args.caps:.0f} s -> sweep is {highs_s * args.caps / sweep_s:,.0f}x faster")
    print(f"{len(sample)} sampled caps checked against separate plans: {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
