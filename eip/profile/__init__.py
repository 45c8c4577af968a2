"""Measured profiles in, scenarios out: ONNX models measured with ONNX Runtime, profiler
files imported, devices nobody measured estimated by a roofline.

    >>> import eip
    >>> prof = eip.profile_onnx("resnet50.onnx", cpu_power_w=15,
    ...                         estimate={"npu": {"peak_gflops": {"int8": 4000}, "bandwidth_gbs": 30, "power_w": 3}})
    >>> eip.plan(prof.scenario)

Needs the ``profile`` extra (onnx, onnxruntime) for ONNX models; the importers of profiler
files need nothing beyond eip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..scenario import Scenario
from .document import add_estimates, measured_document
from .graph import Graph, Node, load_graph
from .measure import Measurement, measure
from .roofline import Calibration, DeviceSpec, calibrate, parse_spec


@dataclass(frozen=True)
class Profile:
    """What ``profile_onnx`` made: the scenario (``document`` as JSON, ``scenario``
    validated), the graph and measurement behind it, and the roofline's calibration on the
    measured device (None without estimated devices)."""

    document: dict
    scenario: Scenario
    graph: Graph
    measurement: Measurement
    calibration: Calibration | None


def profile_onnx(
    model: str | os.PathLike[str],
    *,
    cpu_power_w: float,
    device: str = "cpu",
    threads: int = 1,
    repeats: int = 20,
    warmup: int = 3,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    seed: int = 0,
    memory_mb: float | None = None,
    estimate: Mapping[str, str | Mapping[str, Any] | DeviceSpec] | None = None,
    progress: bool | None = None,
) -> Profile:
    """Measure an ONNX model node by node on this machine's CPU and make a DAG scenario of it.

    Args:
        model: the ``.onnx`` file.
        cpu_power_w: the CPU's active power while it runs the model (W): energy = power x
            latency (stated in the scenario's provenance).
        device: the name of the measured device in the scenario.
        threads, repeats, warmup: ONNX Runtime's intra-op threads; measured runs (the
            median per node is kept); runs before them, discarded.
        input_shapes: shapes of inputs with dynamic dimensions (``{"data": [1, 3, 224, 224]}``).
        seed: of the random inputs.
        memory_mb: the measured device's memory budget (default: the whole model's weights).
        estimate: devices nobody measured, by name: a ``DeviceSpec``, its JSON object or
            the path of a JSON file (see ``roofline.parse_spec``); their ways are roofline
            estimates, marked ``estimated``, and the roofline is calibrated on the
            measurement (``Profile.calibration``).
        progress: a progress bar on stderr (default: when stderr is a terminal).
    """
    graph = load_graph(model, input_shapes)
    measurement = measure(graph, repeats=repeats, warmup=warmup, threads=threads, seed=seed, progress=progress)
    document = measured_document(graph, measurement, device=device, power_w=cpu_power_w, memory_mb=memory_mb)
    calibration = None
    if estimate:
        specs = {name: spec if isinstance(spec, DeviceSpec) else parse_spec(name, spec) for name, spec in estimate.items()}
        calibration = calibrate(graph.nodes, measurement.node_ms)
        add_estimates(document, graph, specs, host=device, calibration=calibration)
    return Profile(document, Scenario.from_dict(document, source=os.fspath(model)), graph, measurement, calibration)


__all__ = ["profile_onnx", "Profile", "Graph", "Node", "load_graph", "measure", "Measurement", "DeviceSpec",
           "parse_spec", "calibrate", "Calibration"]
