"""Engine benchmark: compile time, per-call overhead, exact vs beam on SoC-shaped scenarios.

    python -m benchmarks.engine [--seeds 3] [--label-budget 1000000] [--json out.json]

Prints, per stages x devices size (memory budgets and both caps binding): exact solve time
(median of warm repeats), labels kept, whether optimality was proven (or the proven gap),
beam time and the beam's gap to the exact optimum. Times are whole ``eip.plan`` calls on a
loaded scenario, single thread, kernels already compiled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import orjson

import eip
from benchmarks.generate import soc_scenario
from benchmarks.suite import timed

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "mobile_vision_pipeline.json"
SIZES = [(12, 3), (30, 4), (60, 4), (200, 4), (60, 8)]


def compile_and_start_times() -> tuple[tuple[float, float], tuple[float, float]]:
    """((first eip.plan, then a first 2-D eip.sweep) with an empty Numba cache, the same with
    the cache that left behind). The sweep's time is the trade-off-set kernel's compile;
    frontiers and one-cap sweeps reuse the plan's kernels."""
    probe = (f"import time; t = time.perf_counter(); import eip; eip.plan({str(SEED)!r}); p = time.perf_counter(); "
             f"eip.sweep({str(SEED)!r}, max_latency_ms=[30, 32], max_energy_mj=[33, 35]); "
             "print(p - t, time.perf_counter() - p)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
                for _ in range(2)]
    cold, warm = (tuple(float(x) for x in out.split()) for out in runs)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--label-budget", type=int, default=eip.solve.DEFAULT_LABEL_BUDGET)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-compile", action="store_true", help="do not measure cold compile time")
    args = parser.parse_args()

    report: dict = {"sizes": []}
    if not args.skip_compile:
        cold, warm = compile_and_start_times()
        report.update(compile_s=cold[0], cached_start_s=warm[0], sweep_2d_compile_s=cold[1], sweep_2d_cached_s=warm[1])
        print(f"first call, empty Numba cache (compile): {cold[0]:.2f} s")
        print(f"first call, cached kernels (import + load + plan): {warm[0] * 1e3:.0f} ms")
        print(f"first 2-D sweep after that: {cold[1]:.2f} s compiling the trade-off-set kernel, "
              f"{warm[1] * 1e3:.0f} ms cached")

    seed = eip.load(SEED)
    eip.plan(seed)
    for goal in ("balanced", "latency", "efficiency"):
        t, r = timed(lambda: eip.plan(seed, goal=goal, top_k=3), 2000, 1.0)
        report[f"seed_{goal}_us"] = t * 1e6
        print(f"seed scenario, eip.plan goal={goal} top_k=3: {t * 1e6:.1f} us ({r.strategy}, {r.status})")

    for n in (10_000, 40_000):  # all ties: the tie-break must stay linear in the stages
        ones = np.ones((n, 2))
        flat = eip.CostModel.from_arrays(ones, ones, ones, np.zeros(n), np.zeros((2, 2)), np.zeros((2, 2)), np.full(2, 1e9))
        eip.plan(flat, top_k=3)
        t, r = timed(lambda: eip.plan(flat, top_k=3), 5, 1.0)
        report[f"identical_{n}_top3_ms"] = t * 1e3
        print(f"{n:,} stages x 2 devices, identical costs, eip.plan top_k=3: {t * 1e3:.1f} ms ({r.strategy})")

    header = f"{'size':>7} {'seed':>4} | {'exact ms':>9} {'labels kept':>11} {'status':>9} {'gap':>7} | {'beam ms':>8} {'beam gap':>8}"
    print()
    print(header)
    print("-" * len(header))
    for n, d in SIZES:
        rows = []
        for seed_no in range(args.seeds):
            scenario = eip.Scenario.from_dict(soc_scenario(n, d, seed_no))
            t_exact, exact = timed(lambda: eip.plan(scenario, top_k=1, strategy="exact", label_budget=args.label_budget), args.repeats, 2.0)
            t_beam, beam = timed(lambda: eip.plan(scenario, top_k=1, strategy="beam"), args.repeats, 2.0)
            if exact.best and beam.best and exact.status == "optimal":
                beam_gap = (beam.best.score - exact.best.score) / abs(exact.best.score)
                beam_text = f"{beam_gap:8.3%}"
            else:
                beam_gap = None
                beam_text = "no plan" if not beam.best else f">={beam.gap:6.2%}"
            row = dict(stages=n, devices=d, seed=seed_no, exact_ms=t_exact * 1e3, labels_kept=exact.stats["labels_kept"],
                       status=exact.status, gap=exact.gap, beam_ms=t_beam * 1e3, beam_gap=beam_gap)
            rows.append(row)
            print(f"{n:>3}x{d:<3} {seed_no:>4} | {t_exact * 1e3:9.2f} {row['labels_kept']:>11,} {exact.status:>9} "
                  f"{exact.gap:7.2%} | {t_beam * 1e3:8.2f} {beam_text:>8}", flush=True)
        proven = sum(r["status"] == "optimal" for r in rows)
        print(f"{'':>7} {'':>4} | median {statistics.median(r['exact_ms'] for r in rows):.2f} ms, "
              f"proven optimal {proven}/{len(rows)}")
        report["sizes"].extend(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
