"""Readers of profiler output: each turns one file into ``Measured`` rows (a stage or a
fused group, what it cost on one device) and the entries it did not take, with why.

Formats: ONNX Runtime's profile JSON (``ort``), TensorRT ``trtexec --exportProfile`` JSON
with its optional ``--exportLayerInfo`` (``trtexec``), TFLite / LiteRT ``benchmark_model``
op-profiling CSV (``tflite``), and a plain CSV, which also reads the CO-UP / LW-GA
``Layers.csv`` layout (``csv``).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import orjson

from ..errors import ScenarioError
from .graph import BYTES_PER_MB
from .measure import KERNEL_SUFFIX, node_medians


@dataclass(frozen=True)
class Measured:
    """One stage, or a fused group of stages, measured on one device.

    ``members``: the layer names it covers (itself alone unless the profiler fused
    several); ``inputs``: the measured entries it reads, when the file says (None: it does
    not); ``device``, ``variant``, ``mode``: set by files that carry them per row.
    Costs the file lacks are None.
    """

    name: str
    latency_ms: float
    members: tuple[str, ...] = ()
    energy_mj: float | None = None
    memory_mb: float | None = None
    output_mb: float | None = None
    op: str | None = None
    inputs: tuple[str, ...] | None = None
    device: str | None = None
    variant: str | None = None
    mode: str | None = None

    @property
    def covers(self) -> tuple[str, ...]:
        return self.members or (self.name,)


@dataclass(frozen=True)
class ProfileFile:
    """What a reader took from one file: ``rows`` in the file's order, ``skipped`` entries
    (each ``(name, why)``), and a sentence saying how it was read."""

    format: str
    source: str
    rows: tuple[Measured, ...]
    skipped: tuple[tuple[str, str], ...]
    describe: str


def read_profile(format: str, path: str | os.PathLike[str], *, layer_info: str | None = None,
                 select: Mapping[str, str] | None = None, dla_device: str | None = None) -> ProfileFile:
    """Read a profiler file of ``format`` (one of ``FORMATS``). ``layer_info``: trtexec's
    ``--exportLayerInfo`` JSON; ``select``: CSV rows to keep (column -> value);
    ``dla_device``: the device of the layers a TensorRT profile ran on a DLA."""
    if format not in FORMATS:
        raise ScenarioError(os.fspath(path), "", f"unknown profile format {format!r}; choose {', '.join(FORMATS)}")
    source = os.fspath(path)
    raw = _read(source)
    if format == "trtexec":
        return read_trtexec(raw, source, None if layer_info is None else _read(layer_info), layer_info, dla_device)
    if format == "csv":
        return read_csv(raw, source, select or {})
    return FORMATS[format](raw, source)


def _read(source: str) -> bytes:
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read file ({exc.strerror})") from None


def _json(raw: bytes, source: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ScenarioError(source, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def read_ort(raw: bytes, source: str) -> ProfileFile:
    """ONNX Runtime's profile (Chrome trace events): one row per node, its median kernel
    time over the runs (``dur`` µs); ``parameter_size`` as memory, ``output_size`` as the
    output, ``op_name`` as the operator (the ``args`` strings of its events)."""
    events = _json(raw, source)
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ScenarioError(source, "", "expected ONNX Runtime's profile: a JSON list of trace events")
    medians = node_medians(events)
    if not medians:
        raise ScenarioError(source, "", "no 'Node' kernel events (was the session run with enable_profiling?)")
    args: dict[str, dict] = {}
    for e in events:
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith(KERNEL_SUFFIX):
            args.setdefault(e["name"][: -len(KERNEL_SUFFIX)], e.get("args", {}))
    rows = []
    providers = set()
    for name, ms in medians.items():
        a = args[name]
        providers.add(a.get("provider", "?"))
        rows.append(Measured(name, ms, memory_mb=_bytes_mb(a.get("parameter_size")), output_mb=_bytes_mb(a.get("output_size")),
                             op=a.get("op_name")))
    runs = sum(e.get("cat") == "Session" and e.get("name") == "model_run" for e in events)
    return ProfileFile("ort", source, tuple(rows), (), f"ONNX Runtime profile ({', '.join(sorted(providers))}): "
                       f"median kernel time per node over {runs} runs")


def _bytes_mb(value: Any) -> float | None:
    try:
        return int(value) / BYTES_PER_MB
    except (TypeError, ValueError):
        return None


#: what TensorRT appends to a layer's name for work done on its behalf (format conversions,
#: DLA synchronisation, concatenation copies): that time belongs to the layer
_TRT_SUFFIX = re.compile(r"( (input|output) reformatter \d+| reformatted input \d+ finish"
                         r"| output to be reformatted \d+ finish| finish| copy)$")


def read_trtexec(raw: bytes, source: str, layer_info_raw: bytes | None = None, layer_info: str | None = None,
                 dla_device: str | None = None) -> ProfileFile:
    """``trtexec --exportProfile``: ``[{"count": runs}, {name, timeMs, averageMs,
    medianMs?, percentage}, ...]``. A layer's time is its median (else average) plus its
    reformatters', copies' and DLA finish events'; fused layers (``a + b``, ``a || b``,
    DLA's ``{a,b,...}``) list their members. ``--exportLayerInfo`` adds the operator type,
    output sizes and the edges between layers. With ``dla_device``, the DLA's ``{...}``
    entries and ``finish`` events are that device's (the rest: the device the caller
    names)."""
    doc = _json(raw, source)
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict) or "count" not in doc[0]:
        raise ScenarioError(source, "", 'expected trtexec --exportProfile JSON: [{"count": N}, {"name", "averageMs", ...}]')
    times: dict[tuple[str, bool], float] = {}  # (layer, on a DLA) -> ms
    for i, entry in enumerate(doc[1:], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ScenarioError(source, f"[{i}]", "expected an object with a name")
        ms = entry.get("medianMs", entry.get("averageMs"))
        if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not ms >= 0:
            raise ScenarioError(source, f"[{i}].averageMs", f"expected a number of ms >= 0, got {ms!r}")
        base = _TRT_SUFFIX.sub("", entry["name"])
        # a DLA runs '{...}' groups; its 'finish' events are the wait for a DLA's output
        on_dla = (base.startswith("{") and base.endswith("}")) or entry["name"].endswith(" finish")
        times[base, on_dla] = times.get((base, on_dla), 0.0) + float(ms)
    info = _trt_layer_info(layer_info_raw, layer_info) if layer_info_raw is not None else {}
    producer = {t: name for name, layer in info.items() for t in layer["outputs"]}
    rows = []
    for (name, on_dla), ms in times.items():
        layer = info.get(name)
        inputs = None if layer is None else tuple(dict.fromkeys(producer[t] for t in layer["inputs"] if t in producer))
        rows.append(Measured(name, ms, trt_layers(name), op=None if layer is None else layer["op"],
                             output_mb=None if layer is None else layer["output_mb"], inputs=inputs,
                             device=dla_device if on_dla else None))
    what = "median" if any("medianMs" in e for e in doc[1:]) else "average"
    return ProfileFile("trtexec", source, tuple(rows), (), f"TensorRT trtexec profile: {what} time per layer over "
                       f"{doc[0]['count']} runs (reformatters and copies added to their layer)")


def trt_layers(name: str) -> tuple[str, ...]:
    """The layers a TensorRT profile entry covers: DLA's ``{a,b}``, fused ``a + b``, merged
    ``a || b``; a plain name covers itself (no members)."""
    body = name[1:-1].split(",") if name.startswith("{") and name.endswith("}") else re.split(r" \+ | \|\| ", name)
    members = tuple(m.strip() for m in body if m.strip())
    return members if len(members) > 1 or members != (name,) else ()


_TRT_BYTES = {"FP32": 4, "Float": 4, "FP16": 2, "Half": 2, "BF16": 2, "Int8": 1, "INT8": 1, "FP8": 1, "Int32": 4,
              "INT32": 4, "Int64": 8, "Bool": 1}


def _trt_layer_info(raw: bytes, source: str) -> dict[str, dict]:
    doc = _json(raw, source)
    layers = doc.get("Layers") if isinstance(doc, dict) else None
    if not isinstance(layers, list):
        raise ScenarioError(source, "Layers", "expected trtexec --exportLayerInfo JSON with a Layers list")
    out = {}
    for i, layer in enumerate(layers):
        if isinstance(layer, str):  # --profilingVerbosity=layer_names_only
            continue
        if not isinstance(layer, dict) or not isinstance(layer.get("Name"), str):
            raise ScenarioError(source, f"Layers[{i}]", "expected an object with a Name")
        outputs = layer.get("Outputs", [])
        out[layer["Name"]] = {
            "op": layer.get("LayerType"),
            "inputs": [t.get("Name") for t in layer.get("Inputs", []) if isinstance(t, dict)],
            "outputs": [t.get("Name") for t in outputs if isinstance(t, dict)],
            "output_mb": _trt_tensors_mb(outputs),
        }
    return out


def _trt_tensors_mb(tensors: list) -> float | None:
    total = 0.0
    for t in tensors:
        dims, fmt = t.get("Dimensions"), str(t.get("Format/Datatype", ""))
        size = next((b for key, b in _TRT_BYTES.items() if key in fmt.split()), None)
        if not isinstance(dims, list) or size is None:
            return None
        count = 1
        for d in dims:
            count *= max(int(d), 0)
        total += count * size
    return total / BYTES_PER_MB


_TFLITE_HEADER = ["node type", "start", "first", "avg_ms", "%", "cdf%", "mem kb", "times called", "name"]


def read_tflite(raw: bytes, source: str) -> ProfileFile:
    """TFLite / LiteRT ``benchmark_model --enable_op_profiling`` CSV: the run-order table
    (``node type, start, first, avg_ms, %, cdf%, mem KB, times called, name``) of the
    regular runs; ``avg_ms`` per run is the node's latency (x ``times called``), ``mem KB``
    its memory. Tables of the initialisation phase and the summaries are not read."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    sections, title = [], ""
    i = 0
    while i < len(lines):
        cells = [c.strip().lower() for c in next(csv.reader([lines[i]], skipinitialspace=True), [])]
        if cells[: len(_TFLITE_HEADER)] == _TFLITE_HEADER:
            rows, i = [], i + 1
            while i < len(lines) and lines[i].strip():
                rows.append((i + 1, next(csv.reader([lines[i]], skipinitialspace=True))))
                i += 1
            sections.append((title, rows))
        elif lines[i].strip():
            title = lines[i]
        i += 1
    if not sections:
        raise ScenarioError(source, "", "no op-profiling table (a header 'node type, start, first, avg_ms, %, cdf%, "
                            "mem KB, times called, name'); run benchmark_model with --enable_op_profiling=true")
    regular = [s for s in sections if "init" not in s[0].lower()] or sections
    rows = []
    for line, cells in regular[0][1]:
        try:
            node_type, avg_ms, mem_kb, called, name = cells[0], float(cells[3]), float(cells[6]), float(cells[7]), cells[8]
        except (IndexError, ValueError):
            raise ScenarioError(source, f"line {line}", f"expected 9 cells with numbers in avg_ms, mem KB and "
                                f"times called, got {len(cells)} cells") from None
        rows.append(Measured(name, avg_ms * max(called, 1.0), memory_mb=mem_kb / 1024.0, op=node_type))
    return ProfileFile("tflite", source, tuple(rows), (), "TFLite benchmark_model op profiling: average per run")


#: plain CSV columns (``energy_mj`` or ``power_mw`` required beside them)
PLAIN_COLUMNS = ("stage", "device", "latency_ms", "memory_mb")
_COUP_COLUMNS = ("Graph", "Component", "Freq", "Freq_Host", "Layer", "Metric", "Time", "Power")


def read_csv(raw: bytes, source: str, select: Mapping[str, str]) -> ProfileFile:
    """A plain CSV (``stage, device, latency_ms, energy_mj`` or ``power_mw``, ``memory_mb``,
    optionally ``variant``, ``mode``, ``output_mb``), or the CO-UP / LW-GA ``Layers.csv``
    layout. ``select`` keeps the rows whose columns have the given values."""
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    header = reader.fieldnames or []
    for key in select:
        if key not in header:
            raise ScenarioError(source, "", f"--select {key}: no such column; columns are {', '.join(header)}")
    rows = [(n, r) for n, r in enumerate(reader, 2) if all(r.get(k) == v for k, v in select.items())]
    if all(c in header for c in _COUP_COLUMNS):
        return _read_coup(rows, source, select)
    missing = [c for c in PLAIN_COLUMNS if c not in header]
    if missing or not ({"energy_mj", "power_mw"} & set(header)):
        raise ScenarioError(source, "", f"expected the columns {', '.join(PLAIN_COLUMNS)} and energy_mj or power_mw "
                            f"(or the CO-UP Layers.csv layout); missing {', '.join(missing) or 'energy_mj / power_mw'}")
    out = []
    for line, r in rows:
        num = _cell_number(source, line)
        ms = num(r, "latency_ms")
        energy = num(r, "energy_mj") if r.get("energy_mj") else ms * num(r, "power_mw") / 1000.0
        out.append(Measured(r["stage"], ms, energy_mj=energy, memory_mb=num(r, "memory_mb"),
                            output_mb=num(r, "output_mb") if r.get("output_mb") else None, device=r["device"] or None,
                            variant=r.get("variant") or None, mode=r.get("mode") or None))
    return ProfileFile("csv", source, tuple(out), (), "plain CSV of measured costs")


def _cell_number(source: str, line: int, signed: bool = False) -> Callable[[dict, str], float]:
    """A reader of a row's cell as a finite number (>= 0 unless ``signed``), whose error
    names the file, the line and the column."""
    def num(row: dict, key: str) -> float:
        try:
            value = float(row[key])
        except (TypeError, ValueError):
            raise ScenarioError(source, f"line {line}, column {key}", f"expected a number, got {row[key]!r}") from None
        if not (signed or value >= 0) or not math.isfinite(value):
            raise ScenarioError(source, f"line {line}, column {key}", f"expected a number{'' if signed else ' >= 0'}, "
                                f"got {row[key]!r}")
        return value
    return num


def _read_coup(rows: list[tuple[int, dict]], source: str, select: Mapping[str, str]) -> ProfileFile:
    """CO-UP / LW-GA ``Layers.csv``: ``task`` rows of one graph and processor at its top
    frequency (``select`` may pick another); energy = Time (ms) x Power (mW) / 1000. Rows
    of other metrics (input/output stages, NPU host I/O) are reported as skipped."""
    for key in ("Graph", "Component"):
        values = sorted({r[key] for _, r in rows})
        if len(values) > 1:
            raise ScenarioError(source, "", f"CO-UP layout: several {key} values ({', '.join(values[:8])}"
                                f"{' ...' if len(values) > 8 else ''}); pick one with --select {key}=VALUE")
    tasks = [(n, r) for n, r in rows if r["Metric"] == "task"]
    if not tasks:
        raise ScenarioError(source, "", "CO-UP layout: no 'task' rows " + ("match --select" if select else "in the file"))
    num = lambda n, r, key: _cell_number(source, n)(r, key)
    level = lambda n, r, key: _cell_number(source, n, signed=True)(r, key)  # -1: no level (no host CPU)
    top = max(level(n, r, "Freq") for n, r in tasks)
    host = max(level(n, r, "Freq_Host") for n, r in tasks if level(n, r, "Freq") == top)
    chosen = [(n, r) for n, r in tasks if level(n, r, "Freq") == top and level(n, r, "Freq_Host") == host]
    powered = [num(n, r, "Power") for n, r in chosen if r["Power"]]
    typical = statistics.median(powered) if powered else 0.0
    skipped = [(f"{r['Metric']} of layer {r['Layer']}", "not a layer's execution (input/output or host I/O)")
               for _, r in rows if r["Metric"] != "task"]
    out = []
    for n, r in chosen:
        ms = num(n, r, "Time")
        if not r["Power"]:
            skipped.append((f"power of layer {r['Layer']}", f"missing: energy uses the median power {typical:g} mW"))
        out.append(Measured(f"layer{int(num(n, r, 'Layer'))}", ms,
                            energy_mj=ms * (num(n, r, "Power") if r["Power"] else typical) / 1000.0))
    level = f"Freq {top:g}" + (f", host Freq {host:g}" if host >= 0 else "")
    return ProfileFile("csv", source, tuple(out), tuple(skipped),
                       f"CO-UP Layers.csv: {chosen[0][1]['Graph']} on {chosen[0][1]['Component']} at {level}; "
                       f"energy = time x measured board power")


FORMATS: dict[str, Callable[..., ProfileFile]] = {"ort": read_ort, "trtexec": read_trtexec, "tflite": read_tflite,
                                                  "csv": read_csv}
