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

from ..scenario import Scenario, read_document
from .document import add_estimates, measured_document
from .graph import Graph, Node, load_graph
from .importers import FORMATS, Measured, ProfileFile, read_profile
from .merge import ImportReport, group_stages, merge_profile
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
    groups: Mapping[str, Sequence[str]] | None = None,
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
        groups: stages to merge into one stage each, by group name (a fused layer of an
            accelerator's profile; see ``group_stages``).
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
    if groups:
        group_stages(document, groups)
    return Profile(document, Scenario.from_dict(document, source=os.fspath(model)), graph, measurement, calibration)


def import_profile(
    format: str,
    path: str | os.PathLike[str],
    *,
    into: dict | str | os.PathLike[str] | None = None,
    device: str | None = None,
    power_w: float | None = None,
    memory_mb: float | None = None,
    links: Mapping[str, tuple[float, float]] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    layer_info: str | None = None,
    select: Mapping[str, str] | None = None,
    dla_device: str | None = None,
) -> tuple[dict, list[ImportReport]]:
    """Merge a profiler file's measurements of one device into a scenario, by stage name.

    Args:
        format: "ort" (ONNX Runtime profile JSON), "trtexec" (``--exportProfile`` JSON),
            "tflite" (``benchmark_model`` op-profiling CSV) or "csv" (plain, or CO-UP's
            ``Layers.csv``).
        into: the scenario (a document, or the path of a JSON file); None: a new one of
            the file's entries (a chain in the profile's order, or the layer info's edges).
        device: the device the file measured (rows of files with a device column keep
            their own; ``select`` picks rows).
        power_w: energy = power x latency, for files without energy.
        memory_mb, links: a new device's memory budget and links (other device ->
            (ms/MB, mJ/MB)).
        groups: stages to merge first, by group name. Entries whose layers span several
            stages (TensorRT's fused ``a + b`` and DLA's ``{a,b}``) group them anyway.
        layer_info: trtexec's ``--exportLayerInfo`` JSON; select: CSV rows to keep (column
            -> value); dla_device: the device of a TensorRT profile's DLA layers.

    Returns:
        The merged document (validated: it plans) and one ``ImportReport`` per device:
        what matched, what was grouped, and what did not match (never dropped silently).
    """
    document = None
    if isinstance(into, dict):
        document = into
    elif into is not None:
        document = read_document(into)
        Scenario.from_dict(document, source=os.fspath(into))  # valid, or the one-line error naming the field
        document.setdefault("provenance", {})
    if document is not None and groups:
        group_stages(document, groups)
    profile = read_profile(format, path, layer_info=layer_info, select=select, dla_device=dla_device)
    document, reports = merge_profile(document, profile, device=device, power_w=power_w, memory_mb=memory_mb, links=links)
    Scenario.from_dict(document, source=os.fspath(path))
    return document, reports


__all__ = [
    "import_profile",
    "ImportReport",
    "read_profile",
    "ProfileFile",
    "Measured",
    "FORMATS",
    "group_stages","profile_onnx", "Profile", "Graph", "Node", "load_graph", "measure", "Measurement", "DeviceSpec",
           "parse_spec", "calibrate", "Calibration"]
