"""Scenario documents (the JSON a user plans) built from a measured graph, and estimated
devices added beside the measured one."""

from __future__ import annotations

import platform
from typing import Mapping

from .graph import BYTES_PER_MB, Graph
from .measure import Measurement
from .roofline import Calibration, DeviceSpec, estimated_ways


def measured_document(graph: Graph, measurement: Measurement, *, device: str, power_w: float,
                      memory_mb: float | None = None) -> dict:
    """A DAG scenario of ``graph``'s stages on one measured device.

    Each stage: its inputs from the graph, ``output_mb`` from shape inference, ``memory_mb``
    its weights, the median measured latency, and energy = ``power_w`` x latency. The
    device's memory budget is ``memory_mb`` (default: every stage's weights at once).
    """
    stages = []
    for node in graph.nodes:
        ms = measurement.node_ms[node.name]
        stages.append({"name": node.name, "op": node.op, "inputs": list(node.inputs),
                       "output_mb": node.output_bytes / BYTES_PER_MB,
                       "profiles": {device: {"latency_ms": ms, "energy_mj": ms * power_w,
                                             "memory_mb": node.weight_bytes / BYTES_PER_MB}}})
    provenance = (f"{measurement.describe()} on {cpu_name()}; whole run {measurement.run_ms:.2f} ms (median); "
                  f"energy = latency x {power_w:g} W (the power figure given)")
    return {
        "name": graph.name,
        "description": f"{graph.name} from {graph.source}: one stage per node, measured on {device}",
        "provenance": {device: provenance},
        "devices": [{"name": device, "memory_mb": graph.weights_mb if memory_mb is None else memory_mb}],
        "links": [],
        "stages": stages,
    }


def cpu_name() -> str:
    """This machine's CPU model, as the OS names it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "this machine's CPU"


def add_estimates(document: dict, graph: Graph, specs: Mapping[str, DeviceSpec], *, host: str,
                  calibration: Calibration | None = None) -> dict:
    """``document`` with one more device per spec, each stage's ways there estimated by the
    roofline (one per precision), a link from each to ``host`` (the measured device) and,
    between two estimated devices, through ``host`` (both links' costs added)."""
    by_name = {stage["name"]: stage for stage in document["stages"]}
    fitted = f"; the same roofline fitted to {host}'s measurement: {calibration.describe()}" if calibration else ""
    for spec in specs.values():
        document["devices"].append({"name": spec.name,
                                    "memory_mb": graph.weights_mb if spec.memory_mb is None else spec.memory_mb})
        peaks = ", ".join(f"{p} {v:g}" for p, v in spec.peak_gflops.items())
        document["provenance"][spec.name] = (
            f"estimated by a roofline, not measured: max(FLOPs / peak, bytes / bandwidth) + {spec.overhead_ms:g} ms "
            f"per node; peak GFLOP/s {peaks}; {spec.bandwidth_gbs:g} GB/s; energy = latency x {spec.power_w:g} W"
            + (f"; runs {', '.join(sorted(spec.ops))} only" if spec.ops else "") + fitted)
        document["links"].append({"source": host, "target": spec.name,
                                  "latency_ms_per_mb": spec.link_latency_ms_per_mb,
                                  "energy_mj_per_mb": spec.link_energy_mj_per_mb})
        for node in graph.nodes:
            ways = estimated_ways(node, spec)
            if ways:
                by_name[node.name]["profiles"][spec.name] = ways if len(ways) > 1 else ways[0]
    names = list(specs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sa, sb = specs[a], specs[b]
            document["links"].append({"source": a, "target": b,
                                      "latency_ms_per_mb": sa.link_latency_ms_per_mb + sb.link_latency_ms_per_mb,
                                      "energy_mj_per_mb": sa.link_energy_mj_per_mb + sb.link_energy_mj_per_mb})
    return document
