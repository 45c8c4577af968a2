"""Exploration throughput: ``eip explore`` on a grid over a generated 20x4 scenario, serial,
on the process pool and on a local Ray, with the overhead per solve and a scaling model.

    python -m benchmarks.explore [--points 100000] [--stages 20] [--devices 4] [--workers 2]
                                 [--backends serial,pool,ray] [--budget-points 1000]

The grid varies the memory budget of two devices and both caps, each point planned on its
own (``sweeps=False``: what this measures is the per-point machinery). Every backend must
give the same row for every point; a disagreement exits 1. Printed per backend: points/s, the wall time per point
and, of it, the solve (the kernel call) and the rest (building the point's scenario and
cost model, the plan's packaging, the transport, the row written by the driver); then the
driver's rows per second with no solving at all and the cost of a Ray task that does
nothing. The scaling model is what README.md quotes: N machines of c cores run at about
N c / (solve + per-point work) points/s until the driver's own per-row cost caps it.

Then budget grids as eip explore runs them by default: ``--budget-points`` latency x
energy caps (10 energy caps) of the real YOLOv3 scenario and of the generated one, each planned
point by point and then with one latency sweep per energy cap (``sweeps=True``); the two
must give the same plan at every point.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.generate import soc_scenario
from benchmarks.suite import once
from eip import batch, cluster, explore


def _parameters(doc: dict, points: int) -> list[explore.Parameter]:
    """Four parameters whose grid has at least ``points`` points, around the scenario's values."""
    side = math.ceil(points ** 0.25)
    devices = doc["devices"]
    caps = doc["constraints"]
    spans = [(f"devices.{devices[1]['name']}.memory_mb", devices[1]["memory_mb"]),
             (f"devices.{devices[2]['name']}.memory_mb", devices[2]["memory_mb"]),
             ("constraints.max_total_latency_ms", caps["max_total_latency_ms"]),
             ("constraints.max_total_energy_mj", caps["max_total_energy_mj"])]
    return [explore.Parameter(path, tuple(float(v) for v in np.round(np.linspace(0.6 * x, 1.6 * x, side), 3)))
            for path, x in spans]


def _driver_rows_per_s(fields: tuple[str, ...], rows: list[dict], out: Path) -> float:
    """Rows per second the driver writes with no solving at all (its ceiling)."""
    jobs = [batch.Job(i, (i,), (row,)) for i, row in enumerate(rows)]
    seconds, _ = once(lambda: batch.run_jobs(jobs, dict, str(out), fields, ("index",)))
    return len(rows) / seconds


def _ray_task_ms(tasks: int, cpus: int) -> float:
    """Wall milliseconds per Ray task that does nothing, on a local Ray of ``cpus`` CPUs
    (what chunking spreads over the solves of a chunk)."""
    ray = cluster.require_ray()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        nothing = ray.remote(lambda: None)
        ray.get([nothing.remote() for _ in range(cpus * 4)])  # the workers started
        seconds, _ = once(lambda: ray.get([nothing.remote() for _ in range(tasks)]))
    finally:
        ray.shutdown()
    return seconds / tasks * cpus * 1e3


YOLOV3 = Path(__file__).resolve().parents[1] / "scenarios" / "yolov3_rk3399pro.json"


def _budget_grids(root: Path, generated: Path, size: str, points: int) -> bool:
    """Print plan-each against sweeps on a latency x energy grid (10 energy caps, the rest
    latency caps: one sweep per energy cap) of the real YOLOv3 and of the generated
    scenario (of ``size`` stages x devices); False when any plan differs."""
    agree = True
    for name, path in (("YOLOv3 75x4", YOLOV3), (size, generated)):
        caps = json.loads(path.read_text())["constraints"]
        parameters = [explore.Parameter(key, tuple(float(v) for v in np.round(np.linspace(low * caps[key], high * caps[key],
                                                                                          count), 3)))
                      for key, low, high, count in (("max_total_energy_mj", 0.8, 1.2, 10),
                                                    ("max_total_latency_ms", 0.6, 1.2, max(1, points // 10)))]
        parameters = [explore.Parameter(f"constraints.{p.path}", p.values) for p in parameters]
        answers = {}
        for sweeps in (False, True):
            out = root / f"budgets-{sweeps}.jsonl"
            seconds, summary = once(lambda: explore.run([str(path)], parameters, str(out), sweeps=sweeps))
            rows = explore.read_rows(str(out), parameters)
            answers[sweeps] = {r["index"]: (r["status"], r["score"], r["placement"]) for r in rows}
            swept = sum(r["strategy"] == "sweep" for r in rows)
            print(f"{name} budget grid of {len(rows):,} points, {'sweeps' if sweeps else 'plan each'}: "
                  f"{seconds:7.2f} s, {len(rows) / seconds:8,.0f} points/s ({summary.planned:,} planned, "
                  f"{summary.infeasible:,} infeasible, {summary.unknown:,} unknown; {swept:,} answered by a sweep)",
                  flush=True)
        if answers[False] != answers[True]:
            print(f"!!! MISMATCH: {name}: the sweeps' plans differ from the plans point by point")
            agree = False
    return agree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="serial,pool,ray")
    parser.add_argument("--budget-points", type=int, default=1000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="eip-explore-") as tmp:
        root = Path(tmp)
        doc = soc_scenario(args.stages, args.devices, 0)
        scenario = root / "scenario.json"
        scenario.write_text(json.dumps(doc))
        parameters = _parameters(doc, args.points)
        total = math.prod(len(p.values) for p in parameters)
        sample = args.points if args.points < total else None
        print(f"{args.points:,} points of a {args.stages}x{args.devices} scenario ({total:,}-point grid"
              f"{', sampled' if sample else ''}), {args.workers} workers")
        answers = {}
        for backend in args.backends.split(","):
            workers = 1 if backend == "serial" else args.workers
            out = root / f"{backend}.jsonl"
            seconds, summary = once(lambda: explore.run([str(scenario)], parameters, str(out), workers=workers,
                                                        sample=sample, ray_address="" if backend == "ray" else None,
                                                        sweeps=False))
            rows = explore.read_rows(str(out), parameters)
            answers[backend] = {r["index"]: (r["status"], r["score"], r["placement"]) for r in rows}
            solve_s = np.nansum([r["solve_ms"] or 0.0 for r in rows]) / 1e3
            per_point_ms = seconds * workers / len(rows) * 1e3
            print(f"{backend:>6}: {seconds:8.1f} s, {len(rows) / seconds:8,.0f} points/s "
                  f"({summary.planned:,} planned, {summary.infeasible:,} infeasible, {summary.unknown:,} unknown, "
                  f"{summary.failed:,} failed); per point and worker {per_point_ms:.3f} ms: "
                  f"solve {solve_s / len(rows) * 1e3:.3f} ms, the rest {per_point_ms - solve_s / len(rows) * 1e3:.3f} ms",
                  flush=True)
        ceiling = _driver_rows_per_s(explore.fields(parameters), rows, root / "driver.jsonl")
        print(f"driver alone: {ceiling:,.0f} rows/s written (no solving): the ceiling of any cluster")
        if "ray" in args.backends.split(","):
            print(f"a Ray task that does nothing: {_ray_task_ms(2000, args.workers):.2f} ms of a CPU each "
                  f"(spread over up to {cluster.CHUNK_SOLVES:,} solves per chunk)")
        first = next(iter(answers.values()))
        mismatched = [b for b, a in answers.items() if a != first]
        for backend in mismatched:
            print(f"!!! MISMATCH: {backend} rows differ from {next(iter(answers))}'s")
        agree = (_budget_grids(root, scenario, f"{args.stages}x{args.devices}", args.budget_points)
                 if args.budget_points else True)
        return 1 if mismatched or not agree else 0


if __name__ == "__main__":
    raise SystemExit(main())
