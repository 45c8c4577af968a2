"""The real 75-layer YOLOv3 on the RK3399Pro (CO-UP profiles): the questions engine v2 must
answer in under a second each, warm, with HiGHS on the same question where it has one.

    python -m benchmarks.yolov3 [--time-limit-s 30]

Each line: what was asked, eip's answer (status, figures) and wall time of the whole call
(kernels already loaded), then HiGHS's time and optimum on the same model when highspy is
installed. Any disagreement on a proven optimum exits with status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np

import eip
from benchmarks import peers
from benchmarks.suite import once
from eip.report import render

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "yolov3_rk3399pro.json"
TARGET_S = 1.0


def _line(what: str, seconds: float, answer: str) -> None:
    mark = "ok" if seconds < TARGET_S else f"over {TARGET_S:g} s"
    print(f"{what:<44} {seconds * 1e3:10.1f} ms  [{mark}]  {answer}", flush=True)


def _highs(model: eip.CostModel, goal: str) -> tuple[float, peers.PeerAnswer] | None:
    if importlib.util.find_spec("highspy") is None:
        return None
    weights = eip.GOAL_WEIGHTS[goal]
    return once(lambda: peers.highs_milp(model, model.coefficients(weights)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit-s", type=float, default=30.0, help="eip's time limit per question")
    args = parser.parse_args(argv)
    limit = args.time_limit_s
    model = eip.load(SCENARIO).cost_model
    eip.plan(model)  # load the kernels
    mismatches = 0

    for goal in ("balanced", "latency", "efficiency"):
        seconds, result = once(lambda: eip.plan(model, goal=goal, top_k=1, time_limit_s=limit))
        best = result.best
        _line(f"plan --goal {goal} (top 1)", seconds,
              f"{result.status} score {best.score:.6f}" + (f" gap {result.gap:.2%}" if result.status != "optimal" else ""))
        highs = _highs(model, goal)
        if highs:
            h_seconds, answer = highs
            print(f"{'':<44} HiGHS {h_seconds * 1e3:10.1f} ms  score {answer.best:.6f} "
                  f"({'proven' if answer.proven else 'not proven'}); HiGHS / eip {h_seconds / seconds:.2f}x", flush=True)
            if answer.proven and result.status == "optimal" and not math.isclose(answer.best, best.score, rel_tol=1e-6):
                print(f"!!! MISMATCH: HiGHS {answer.best!r} vs eip {best.score!r}")
                mismatches += 1

    tight = dataclasses.replace(model, max_latency_ms=model.max_latency_ms - 100)
    seconds, result = once(lambda: eip.plan(tight, top_k=1, time_limit_s=limit))
    _line("plan with the latency cap 100 ms tighter", seconds, f"{result.status}: {result.reason}")

    seconds, front = once(lambda: eip.frontier(model, time_limit_s=limit))
    _line("frontier", seconds, f"{len(front)} points, " + ("complete" if front.complete else f"incomplete: {front.reason}"))

    fastest = eip.plan(model, goal={"latency": 1.0}, top_k=1, time_limit_s=limit).best
    caps = np.linspace(fastest.latency_ms, model.max_latency_ms, 1000)
    seconds, swept = once(lambda: eip.sweep(model, max_latency_ms=caps, time_limit_s=limit))
    _line("sweep of 1,000 latency caps", seconds, f"{len(swept.plans)} distinct plans, {int(swept.feasible.sum())} "
          f"caps feasible, {int((~swept.answered).sum())} not answered {swept.reason}".rstrip())

    seconds, report = once(lambda: render(eip.plan(model, time_limit_s=limit), "text", time_limit_s=limit))
    _line("plan with its full default report", seconds, f"{len(report):,} bytes")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
