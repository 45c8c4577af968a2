"""A roofline estimate of a node's cost on a device nobody measured, and its calibration on
a device somebody did.

latency = max(FLOPs / peak, bytes / bandwidth) + a per-node overhead; energy = active power
x latency. It is a cost model: every way it makes is marked ``estimated`` in the scenario.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import orjson

from ..errors import VALUE_RANGE, ScenarioError, out_of_range
from .graph import BYTES_PER_MB, Node

#: bytes per element of each precision a spec may name (the models are fp32: 4)
PRECISION_BYTES = {"fp32": 4.0, "tf32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
_SPEC_KEYS = ("peak_gflops", "bandwidth_gbs", "power_w", "overhead_ms", "memory_mb", "ops", "accuracy_loss",
              "link_latency_ms_per_mb", "link_energy_mj_per_mb")


@dataclass(frozen=True)
class DeviceSpec:
    """What a roofline needs of a device: peak GFLOP/s per precision (each precision is a
    way to run a stage there), memory bandwidth (GB/s), active power (W), a fixed overhead
    per node (ms, a kernel launch), the operator types it runs (empty: all), its memory
    budget (MB; None: the whole model), the accuracy points a stage loses per precision, and
    the link to the measured device (per MB)."""

    name: str
    peak_gflops: Mapping[str, float]
    bandwidth_gbs: float
    power_w: float
    overhead_ms: float = 0.0
    memory_mb: float | None = None
    ops: frozenset[str] = frozenset()
    accuracy_loss: Mapping[str, float] = field(default_factory=dict)
    link_latency_ms_per_mb: float = 0.0
    link_energy_mj_per_mb: float = 0.0

    def runs(self, op: str) -> bool:
        return not self.ops or op in self.ops

    def cost(self, node: Node, precision: str) -> tuple[float, float]:
        """(latency ms, energy mJ) of one run of ``node`` at ``precision``."""
        ms = float(roofline_ms(node.flops, node.bytes_moved * bytes_scale(precision), self.peak_gflops[precision],
                               self.bandwidth_gbs, self.overhead_ms))
        return ms, ms * self.power_w


def bytes_scale(precision: str) -> float:
    """The size of a tensor at ``precision`` relative to the model's fp32."""
    return PRECISION_BYTES[precision] / 4.0


def roofline_ms(flops: float | np.ndarray, nbytes: float | np.ndarray, peak_gflops, bandwidth_gbs, overhead_ms):
    """Latency (ms) of work bound by compute or by memory traffic, whichever is slower:
    ``flops`` at ``peak_gflops`` GFLOP/s against ``nbytes`` at ``bandwidth_gbs`` GB/s, plus
    ``overhead_ms``. Broadcasts over arrays."""
    return np.maximum(flops / (peak_gflops * 1e6), nbytes / (bandwidth_gbs * 1e6)) + overhead_ms


def parse_spec(name: str, text: str | Mapping[str, Any]) -> DeviceSpec:
    """A device spec from a JSON object, its text, or the path of a JSON file holding it.

    Errors name the device and the key: ``--estimate npu: peak_gflops: expected ...``.
    """
    where = f"--estimate {name}"
    doc = text
    if isinstance(text, str):
        raw = text
        if not text.lstrip().startswith("{"):
            try:
                with open(text, "rb") as handle:
                    raw = handle.read()
            except OSError as exc:
                raise ScenarioError(where, "", f"expected a JSON object or the path of a JSON file; "
                                    f"cannot read {text!r} ({exc.strerror})") from None
            where = os.fspath(text)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ScenarioError(where, "", f"invalid JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(where, "", "expected a JSON object (peak_gflops, bandwidth_gbs, power_w, ...)")
    unknown = sorted(set(doc) - set(_SPEC_KEYS))
    if unknown:
        raise ScenarioError(where, unknown[0], f"unknown key; expected one of {', '.join(_SPEC_KEYS)}")
    for key in ("peak_gflops", "bandwidth_gbs", "power_w"):
        if key not in doc:
            raise ScenarioError(where, key, "missing (a roofline needs peak_gflops, bandwidth_gbs and power_w)")
    peaks = doc["peak_gflops"] if isinstance(doc["peak_gflops"], dict) else {"fp32": doc["peak_gflops"]}
    if not peaks:
        raise ScenarioError(where, "peak_gflops", "expected at least one precision")
    for precision, value in peaks.items():
        if precision not in PRECISION_BYTES:
            raise ScenarioError(where, f"peak_gflops.{precision}",
                                f"unknown precision; expected one of {', '.join(PRECISION_BYTES)}")
        _positive(where, f"peak_gflops.{precision}", value)
    losses = doc.get("accuracy_loss", {})
    if not isinstance(losses, dict) or any(p not in peaks for p in losses):
        raise ScenarioError(where, "accuracy_loss", "expected an object of points per precision of peak_gflops")
    ops = doc.get("ops", [])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise ScenarioError(where, "ops", "expected a list of operator types (ONNX op_type names)")
    memory = doc.get("memory_mb")
    return DeviceSpec(
        name, {p: float(v) for p, v in peaks.items()}, _positive(where, "bandwidth_gbs", doc["bandwidth_gbs"]),
        _positive(where, "power_w", doc["power_w"], zero=True),
        _positive(where, "overhead_ms", doc.get("overhead_ms", 0.0), zero=True),
        None if memory is None else _positive(where, "memory_mb", memory, zero=True), frozenset(ops),
        {p: _positive(where, f"accuracy_loss.{p}", v, zero=True) for p, v in losses.items()},
        _positive(where, "link_latency_ms_per_mb", doc.get("link_latency_ms_per_mb", 0.0), zero=True),
        _positive(where, "link_energy_mj_per_mb", doc.get("link_energy_mj_per_mb", 0.0), zero=True),
    )


def _positive(where: str, key: str, value: Any, zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero) or out_of_range(value):
        raise ScenarioError(where, key, f"expected a number {'>=' if zero else '>'} 0 ({VALUE_RANGE}), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Calibration:
    """The roofline fitted to measured node latencies: the device figures that explain them
    best (least squares of log latency), and how far the fit is from each measurement.

    ``node_error``: per node, estimate / measurement - 1; ``median_abs_error``: the median
    of its absolute values; ``total_error``: the summed estimate against the summed
    measurement, minus 1.
    """

    peak_gflops: float
    bandwidth_gbs: float
    overhead_ms: float
    node_error: Mapping[str, float]
    median_abs_error: float
    total_error: float

    def describe(self) -> str:
        return (f"roofline fitted to the measurement: {self.peak_gflops:.3g} GFLOP/s, {self.bandwidth_gbs:.3g} GB/s, "
                f"{self.overhead_ms * 1e3:.3g} us per node; error per node median {self.median_abs_error:.0%}, "
                f"summed latency {self.total_error:+.1%}")


def calibrate(nodes: Sequence[Node], measured_ms: Mapping[str, float]) -> Calibration:
    """Fit peak GFLOP/s, bandwidth GB/s and per-node overhead of the roofline to ``nodes``'
    measured latencies (a grid search over decades, then a finer one around the best)."""
    flops = np.array([n.flops for n in nodes])
    nbytes = np.array([float(n.bytes_moved) for n in nodes])
    ms = np.maximum(np.array([measured_ms[n.name] for n in nodes]), 1e-6)
    best = (np.inf, 1.0, 1.0, 0.0)
    peaks, bands, overheads = np.logspace(-1, 5, 49), np.logspace(-2, 4, 49), np.array([0.0, *np.logspace(-4, 0, 17)])
    for _ in range(2):  # coarse grid, then a fine one around its best point
        for overhead in overheads:
            est = roofline_ms(flops[None, None, :], nbytes[None, None, :], peaks[:, None, None], bands[None, :, None],
                              overhead)
            loss = (np.log(np.maximum(est, 1e-9) / ms) ** 2).sum(axis=2)
            i, j = np.unravel_index(np.argmin(loss), loss.shape)
            if loss[i, j] < best[0]:
                best = (loss[i, j], peaks[i], bands[j], overhead)
        _, peak, band, over = best
        peaks, bands = peak * np.logspace(-0.15, 0.15, 31), band * np.logspace(-0.15, 0.15, 31)
        overheads = np.unique(np.maximum(0.0, over * np.linspace(0.5, 1.5, 11)))
    _, peak, band, over = best
    est = roofline_ms(flops, nbytes, peak, band, over)
    error = est / ms - 1.0
    return Calibration(float(peak), float(band), float(over), {n.name: float(e) for n, e in zip(nodes, error)},
                       float(np.median(np.abs(error))), float(est.sum() / ms.sum() - 1.0))


def estimated_ways(node: Node, spec: DeviceSpec) -> list[dict]:
    """The ways (scenario JSON) ``node`` runs on ``spec``'s device, one per precision;
    empty when the device does not run its operator."""
    if not spec.runs(node.op):
        return []
    ways = []
    for precision in spec.peak_gflops:
        scale = bytes_scale(precision)
        ms, mj = spec.cost(node, precision)
        way = {"latency_ms": ms, "energy_mj": mj, "memory_mb": node.weight_bytes * scale / BYTES_PER_MB,
               "variant": precision, "estimated": True}
        if scale != 1.0:
            way["output_mb"] = node.output_bytes * scale / BYTES_PER_MB
        if spec.accuracy_loss.get(precision):
            way["accuracy_loss"] = spec.accuracy_loss[precision]
        ways.append(way)
    return ways
