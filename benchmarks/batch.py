"""Batch throughput: ``eip batch`` on generated scenario files with 1 and 2 workers, against
running ``eip plan`` once per file (a shell loop; a sample, extrapolated).

    python -m benchmarks.batch [--scenarios 2000] [--stages 20] [--devices 4] [--workers 1,2]

Both worker counts must give the same row for every scenario; a disagreement exits 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from benchmarks.generate import soc_scenario
from benchmarks.suite import extrapolated
from eip import batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--workers", default="1,2", help="comma list of pool sizes")
    parser.add_argument("--cli-sample", type=int, default=10, help="files planned by one 'eip plan' process each")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="eip-batch-") as tmp:
        root = Path(tmp)
        for seed in range(args.scenarios):
            (root / f"s{seed:05d}.json").write_text(json.dumps(soc_scenario(args.stages, args.devices, seed)))
        paths, _ = batch.expand([str(root / "*.json")])
        print(f"{len(paths):,} generated {args.stages}x{args.devices} scenarios")
        results = {}
        for workers in [int(w) for w in args.workers.split(",")]:
            out = root / f"rows_{workers}.jsonl"
            start = time.perf_counter()
            summary = batch.run(paths, str(out), workers=workers)
            seconds = time.perf_counter() - start
            rows = [orjson.loads(line) for line in out.read_text().splitlines()]
            results[workers] = (seconds, {r["path"]: (r["status"], r["score"], r["placement"]) for r in rows})
            solve_ms = np.array([r["solve_ms"] for r in rows if r["solve_ms"] is not None])
            slow = np.sort(solve_ms)[::-1]
            print(f"workers={workers}: {seconds:.2f} s, {len(paths) / seconds:,.0f} scenarios/s "
                  f"({summary.planned} planned, {summary.infeasible} infeasible, {summary.failed} failed); "
                  f"solve ms median {np.median(solve_ms):.2f}, p99 {np.percentile(solve_ms, 99):.1f}, "
                  f"max {slow[0]:.0f}; the slowest 1% take {slow[: max(1, len(slow) // 100)].sum() / solve_ms.sum():.0%} "
                  "of solve time")
        base_workers = min(results)
        base_s, base_rows = results[base_workers]
        for workers, (seconds, rows) in results.items():
            if workers != base_workers:
                print(f"workers={workers} vs workers={base_workers}: {base_s / seconds:.2f}x")
        mismatches = sum(rows != base_rows for _, rows in results.values())

        sample = paths[: args.cli_sample]
        start = time.perf_counter()
        for path in sample:
            subprocess.run([sys.executable, "-m", "eip", "plan", path, "--top-k", "1", "--no-sensitivity",
                            "--format", "json"], capture_output=True, check=False)
        per_file = (time.perf_counter() - start) / len(sample)
        fastest = min(seconds for seconds, _ in results.values())
        print(extrapolated("'eip plan' per file", per_file, len(sample), len(paths), "the batch", fastest))
    print(f"rows of every worker count identical: {'yes' if not mismatches else 'NO'}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
