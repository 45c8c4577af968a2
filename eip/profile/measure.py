"""Measure a folded ONNX graph with ONNX Runtime on this machine's CPU, node by node.

Graph optimizations are off so that every profiled kernel is one node of the graph (no
fusion, no constant folding by the runtime); the profile's ``Node`` events of the warm-up
runs are discarded and each node's latency is the median over the repeats.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import orjson

from ..errors import ScenarioError
from .graph import Graph, require

#: suffix ONNX Runtime appends to a node's name in its profile's kernel events
KERNEL_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class Measurement:
    """What one ``measure`` call saw: per-node median latency (ms) over ``repeats`` runs,
    the median whole-run wall time (ms), and how it was measured (for the scenario's
    provenance)."""

    node_ms: Mapping[str, float]
    run_ms: float
    repeats: int
    warmup: int
    threads: int
    runtime: str

    def describe(self) -> str:
        return (f"measured with {self.runtime} (CPUExecutionProvider, graph optimizations off, "
                f"{self.threads} thread{'s' * (self.threads != 1)}): median of {self.repeats} runs "
                f"after {self.warmup} warm-up runs")


def measure(graph: Graph, *, repeats: int = 20, warmup: int = 3, threads: int = 1, seed: int = 0,
            progress: bool | None = None) -> Measurement:
    """Run ``graph`` ``warmup + repeats`` times with ONNX Runtime's profiler on and return
    each node's median latency.

    Inputs are random (normal floats, small integers) from ``seed``. ``progress``: show a
    progress bar on stderr (default: when stderr is a terminal).
    """
    from tqdm import tqdm

    ort = require("onnxruntime")

    with tempfile.TemporaryDirectory(prefix="eip-profile-") as folder:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(folder, "ort")
        options.log_severity_level = 3
        folded = graph.folded().SerializeToString()
        try:
            session = ort.InferenceSession(folded, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ScenarioError(graph.source, "", f"ONNX Runtime cannot load the model: {str(exc).splitlines()[0]}") from None
        feeds = _random_feeds(graph, seed)
        show = sys.stderr.isatty() if progress is None else progress
        wall_ms = []
        for i in tqdm(range(warmup + repeats), desc=f"profiling {graph.name}", unit="run", file=sys.stderr,
                      disable=not show):
            start = time.perf_counter()
            session.run(None, feeds)
            if i >= warmup:
                wall_ms.append((time.perf_counter() - start) * 1e3)
        with open(session.end_profiling(), "rb") as handle:
            events = orjson.loads(handle.read())
    node_ms = node_medians(events, skip_runs=warmup)
    missing = [n.name for n in graph.nodes if n.name not in node_ms]
    if missing:
        raise ScenarioError(graph.source, "", f"ONNX Runtime's profile has no kernel event for node(s) "
                            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    return Measurement(node_ms, statistics.median(wall_ms), repeats, warmup, threads, f"onnxruntime {ort.__version__}")


def node_medians(events: list, skip_runs: int = 0) -> dict[str, float]:
    """Median kernel time (ms) per node name in an ONNX Runtime profile (Chrome trace
    events), over the runs after the first ``skip_runs`` (runs are the ``model_run``
    session events; a profile without them counts every event)."""
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("cat") == "Session" and e.get("name") == "model_run")
    kept = runs[skip_runs:]
    starts = np.array([r[0] for r in kept])
    times: dict[str, list[float]] = {}
    for event in events:
        if event.get("cat") != "Node" or not str(event.get("name", "")).endswith(KERNEL_SUFFIX):
            continue
        if runs:
            at = int(np.searchsorted(starts, event["ts"], side="right")) - 1
            if at < 0 or event["ts"] > kept[at][1]:
                continue  # a warm-up run's event
        times.setdefault(event["name"][: -len(KERNEL_SUFFIX)], []).append(event["dur"] / 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def _random_feeds(graph: Graph, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, (shape, dtype) in graph.feeds.items():
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            feeds[name] = rng.integers(0, 2, shape).astype(dtype)
        else:
            feeds[name] = rng.integers(0, 8, shape).astype(dtype)
    return feeds
