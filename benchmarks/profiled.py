"""The whole measured-profile flow on real models of the onnx wheel: `eip profile` (ONNX
Runtime on this CPU, an NPU and a GPU estimated from `scenarios/specs`), then `eip plan`,
each plan cross-checked with HiGHS on the same model.

    python -m benchmarks.profiled [--models resnet50,inception_v1] [--repeats 20]

Per model: the profile's wall time, the summed node medians against the whole run, the
roofline's error on the measured CPU; then per goal and NPU memory budget eip's answer and
time (kernels loaded) beside HiGHS's, with the ratio. A disagreement on a proven optimum
exits with status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
import os
from pathlib import Path

import numpy as np

import eip
from benchmarks import peers
from benchmarks.suite import once

SPECS = Path(__file__).resolve().parents[1] / "scenarios" / "specs"


def light_model(name: str) -> str:
    import onnx

    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", f"light_{name}.onnx")


def profile(name: str, repeats: int) -> eip.Profile:
    seconds, prof = once(lambda: eip.profile_onnx(
        light_model(name), cpu_power_w=15, repeats=repeats,
        estimate={"npu": str(SPECS / "npu.json"), "gpu": str(SPECS / "gpu.json")}, progress=False))
    measured = prof.measurement
    total = sum(measured.node_ms.values())
    print(f"{name}: profiled {len(prof.graph.nodes)} stages in {seconds:.2f} s; summed node medians {total:.2f} ms, "
          f"whole run {measured.run_ms:.2f} ms ({total / measured.run_ms - 1:+.1%})", flush=True)
    print(f"{name}: {prof.calibration.describe()}", flush=True)
    return prof


def cross_check(name: str, model: eip.CostModel, goal: str, label: str) -> bool:
    """eip and HiGHS on one question; False on a disagreement between proven optima."""
    seconds, result = once(lambda: eip.plan(model, goal=goal, top_k=1, time_limit_s=60))
    best = result.best
    answer = f"{result.status}" + (f" score {best.score:.6f}" if best else f": {result.reason}")
    line = f"{name} {label:<22} {goal:<10} eip {seconds * 1e3:9.1f} ms  {answer}"
    if importlib.util.find_spec("highspy") is None:
        print(line, flush=True)
        return True
    h_seconds, peer = once(lambda: peers.highs_milp(model, model.coefficients(eip.GOAL_WEIGHTS[goal])))
    found = f"score {peer.best:.6f}" if np.isfinite(peer.best) else "no plan"
    print(f"{line}  | HiGHS {h_seconds * 1e3:9.1f} ms  {found} ({'proven' if peer.proven else 'not proven'}); "
          f"HiGHS / eip {h_seconds / seconds:.1f}x", flush=True)
    if result.status == "optimal" and peer.proven and not math.isclose(peer.best, best.score, rel_tol=1e-6):
        print(f"!!! MISMATCH: HiGHS {peer.best!r} vs eip {best.score!r}")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet50,inception_v1")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    ok = True
    for name in args.models.split(","):
        model = profile(name, args.repeats).scenario.cost_model
        seconds, _ = once(lambda: eip.plan(model, top_k=1))
        print(f"{name}: first plan {seconds:.2f} s (loads, or compiles, the kernels)", flush=True)
        npu = model.device_names.index("npu")
        for scale in (1.0, 0.5):
            caps = model.mem_cap_mb.copy()
            caps[npu] *= scale
            tight = dataclasses.replace(model, mem_cap_mb=caps)
            for goal in ("balanced", "latency", "efficiency"):
                ok &= cross_check(name, tight, goal, f"npu {caps[npu]:g} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
