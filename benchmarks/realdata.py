"""Scenarios built from measured profiles in ``../shared/data`` (see ``scenarios/README.md``).

    python -m benchmarks.realdata [--data ../shared/data] [--out scenarios]

writes ``scenarios/yolov3_rk3399pro.json`` and ``scenarios/googlenet_xavier.json``. The
files are checked in; ``tests/test_benchmarks.py`` rebuilds them from the data and checks
they have not drifted. Every modelling choice that the data does not settle is named in
the docstring of the function that makes it.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import defaultdict
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MB = 1024.0 * 1024.0
FP32_BYTES = 4

# ----------------------------------------------------------------------------- YOLOv3


def yolov3_convs(size: int = 416) -> list[tuple[int, int, int, int]]:
    """(kernel, in_channels, out_channels, out_side) of YOLOv3's 75 convolutions, in order.

    Darknet-53 (52 convolutions: a 3x3 stem, five stride-2 downsamplers followed by 1, 2, 8,
    8 and 4 residual pairs of 1x1 halving / 3x3 restoring convolutions), then three
    detection heads of 7 convolutions at 13, 26 and 52 (five alternating 1x1/3x3, a 3x3 and
    the 1x1 255-channel output), with a 1x1 reducer before each upsample. This is the layer
    order of darknet's yolov3.cfg, which is the order ARM-CL's graph (and the profile) uses.
    """
    convs: list[tuple[int, int, int, int]] = []
    side, ch = size, 3

    def conv(k: int, out: int, stride: int = 1, c_in: int | None = None) -> None:
        nonlocal side, ch
        side //= stride
        convs.append((k, ch if c_in is None else c_in, out, side))
        ch = out

    conv(3, 32)
    for width, repeats in ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)):
        conv(3, width, stride=2)
        for _ in range(repeats):
            conv(1, width // 2)
            conv(3, width)
    routes = {52: 256, 26: 512}  # channels of the Darknet feature map each upsample joins
    for head, width in enumerate((512, 256, 128)):
        if head:
            conv(1, width, c_in=convs[-3][2])  # the reducer reads the head's 5th conv
            side *= 2
            ch = width + routes[side]
        for _ in range(2):
            conv(1, width)
            conv(3, width * 2)
        conv(1, width)
        conv(3, width * 2)
        conv(1, 255)
    return convs


def _layers(path: Path, graph: str) -> dict[str, dict[int, tuple[float, float]]]:
    """Component -> layer -> (ms, mW) of each processor at its highest frequency level.

    A layer without a power reading (the meter missed a few short ones) gets the median
    power of its processor.
    """
    rows = defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["Graph"] == graph and r["Metric"] == "task":
                rows[r["Component"]].append(r)
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for comp, items in rows.items():
        top = max(float(r["Freq"]) for r in items)
        host = max(float(r["Freq_Host"]) for r in items if float(r["Freq"]) == top)
        chosen = [r for r in items if float(r["Freq"]) == top and float(r["Freq_Host"]) == host]
        # a few short layers have no power reading (the meter missed them): use the median
        typical = statistics.median(float(r["Power"]) for r in chosen if r["Power"])
        out[comp] = {int(float(r["Layer"])): (float(r["Time"]), float(r["Power"]) if r["Power"] else typical) for r in chosen}
    return out


def _npu_io(path: Path, graph: str) -> dict[int, dict[str, float]]:
    """Layer -> the NPU's per-layer host I/O metrics (ms) at its highest frequency."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Graph"] == graph and r["Component"] == "N"]
    top = max(float(r["Freq"]) for r in rows)
    for r in rows:
        if float(r["Freq"]) == top:
            out[int(float(r["Layer"]))][r["Metric"]] = float(r["Time"])
    return out


def yolov3_rk3399pro(data: Path = DATA) -> dict:
    """YOLOv3 (75 convolutions) on the Rock Pi N10 (RK3399Pro): big CPU, LITTLE CPU, Mali GPU, NPU.

    - Execution: CO-UP-Profiling ``Layers.csv`` metric ``task`` at each processor's highest
      frequency (GPU and NPU with the host CPU at its highest level too). Energy = time x
      the measured whole-board power (ms x mW / 1000 = mJ).
    - Tensors: ``output_mb`` is each convolution's fp32 output (side x side x channels).
    - CPU/GPU links: per ordered pair, the median over layers of measured transfer time
      (``Data/Transfers.csv``) divided by the size of the tensor moved after that layer.
      Energy per MB = that time x the median transfer power of ``Transfer_Freq.csv``.
    - NPU links: host -> NPU from ``NPU_fill_tensor`` / input size, NPU -> host from
      (``NPU_run_get`` - ``task``) / output size, medians over layers; both CPU clusters
      share the same host path. There is no direct NPU <-> GPU path on this board: such a
      move goes through host memory, so it costs the two host hops added up.
    - Memory: weights (fp32; the NPU holds int8, a quarter) plus the output tensor. The
      data has no memory figures; this is the standard size arithmetic.
    - Budgets (not in the data, chosen so they bind): the NPU's int8 weight space holds
      40% of the model, the GPU's 50% of its fp32 weights; each CPU cluster 60%. Caps: the
      latency cap halfway between the fastest plan that fits memory and the balanced
      optimum, the energy cap just above the most frugal plan within that latency (the
      same rule as the generated families, ``benchmarks.generate.binding_caps``).
    """
    from benchmarks.generate import binding_caps

    profiling = data / "CO-UP-Profiling" / "Profiling" / "Data"
    layers = _layers(profiling / "Layers.csv", "YOLOv3")
    convs = yolov3_convs()
    out_mb = [side * side * c_out * FP32_BYTES / MB for _, _, c_out, side in convs]
    in_mb = [416 * 416 * 3 * FP32_BYTES / MB] + out_mb[:-1]
    weights_mb = [k * k * c_in * c_out * FP32_BYTES / MB for k, c_in, c_out, _ in convs]
    devices = RK3399PRO

    stages = []
    for i in range(len(convs)):
        profiles = {}
        for comp, dev in devices.items():
            ms, mw = layers[comp][i]
            weight = weights_mb[i] / 4 if comp == "N" else weights_mb[i]
            profiles[dev] = {"latency_ms": round(ms, 4), "energy_mj": round(ms * mw / 1000, 4),
                             "memory_mb": round(weight + out_mb[i], 3)}
        stages.append({"name": f"conv{i:02d}_{convs[i][0]}x{convs[i][0]}_{convs[i][2]}", "output_mb": round(out_mb[i], 4),
                       "profiles": profiles})

    links = _rk3399pro_links(profiling, "YOLOv3", in_mb, out_mb)

    share = {"big_cpu": 0.6, "little_cpu": 0.6, "mali_gpu": 0.5, "npu": 0.4}
    device_docs = []
    for dev in devices.values():
        weights = sum(st["profiles"][dev]["memory_mb"] - st["output_mb"] for st in stages)
        device_docs.append({"name": dev, "memory_mb": round(share[dev] * weights + max(out_mb), 1)})
    doc = {
        "name": "yolov3_rk3399pro",
        "description": "Measured profiles from CO-UP-Profiling (Ehsan-aghapour/CO-UP-Profiling @22005a9): Profiling/Data/Layers.csv, "
                  "Transfers.csv, Transfer_Freq.csv; built by benchmarks/realdata.py",
        "devices": device_docs,
        "links": links,
        "stages": stages,
        "constraints": {},
    }
    doc["constraints"] = binding_caps(doc, 0.5)
    return doc


#: The Rock Pi N10's processors by CO-UP's component letter
RK3399PRO = {"B": "big_cpu", "L": "little_cpu", "G": "mali_gpu", "N": "npu"}


def _rk3399pro_links(profiling: Path, graph: str, in_mb: list[float], out_mb: list[float]) -> list[dict]:
    """The RK3399Pro's links for one profiled network (``yolov3_rk3399pro`` says how): CPU
    and GPU pairs from the measured per-layer transfers, the NPU's from its host I/O, NPU <->
    GPU through host memory (the two hops added up)."""
    npu_io = _npu_io(profiling / "Layers.csv", graph)
    per_mb = _measured_per_mb(profiling / "Transfers.csv", graph, lambda layer: out_mb[layer] if layer < len(out_mb) - 1
                              else None)
    layers = range(len(out_mb))
    to_npu = statistics.median(npu_io[i]["NPU_fill_tensor"] / in_mb[i] for i in layers)
    from_npu = statistics.median(max(npu_io[i]["NPU_run_get"] - npu_io[i]["task"], 0.0) / out_mb[i] for i in layers)
    for host in ("big_cpu", "little_cpu"):
        per_mb[host, "npu"], per_mb["npu", host] = to_npu, from_npu
    per_mb["mali_gpu", "npu"] = per_mb["mali_gpu", "big_cpu"] + to_npu
    per_mb["npu", "mali_gpu"] = from_npu + per_mb["big_cpu", "mali_gpu"]
    return _links_doc(per_mb, _transfer_watts(profiling / "Transfer_Freq.csv"))


def _measured_per_mb(path: Path, graph: str, size_mb) -> dict[tuple[str, str], float]:
    """(source, target) device -> the median over layers of a measured handoff's time per MB
    (``Transfers.csv``: ``Graph,Layer,Dest,Src,Time``); ``size_mb(layer)`` is the tensor a
    row's handoff moves (None: skip the row)."""
    ratios = defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            size = size_mb(int(r["Layer"])) if r["Graph"] == graph else None
            if size:
                ratios[RK3399PRO[r["Src"]], RK3399PRO[r["Dest"]]].append(float(r["Time"]) / size)
    return {pair: statistics.median(values) for pair, values in ratios.items()}


def _links_doc(per_mb: dict[tuple[str, str], float], watts: float) -> list[dict]:
    """One directed link per measured pair; energy per MB = time per MB x the transfer power
    (ms x W = mJ)."""
    return [{"source": a, "target": b, "latency_ms_per_mb": round(ms, 4), "energy_mj_per_mb": round(ms * watts, 4),
             "bidirectional": False} for (a, b), ms in sorted(per_mb.items())]


def _transfer_watts(path: Path) -> float:
    """Median board power (W) while a tensor moves between processors at top frequencies."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    tops = {}
    for r in rows:
        tops[r["order"]] = r  # rows of one order ascend in frequency: keep the last
    return statistics.median(float(r["transfer_power"]) for r in tops.values()) / 1000


# ----------------------------------------------------------------------------- GoogLeNet

#: DLA time per GoogLeNet layer group (ms), HaX-CoNN's own group-level inputs (SOURCES.md).
#: The per-group differencing in ``dla_compute_times.json`` is too noisy to use (negative
#: values); TensorRT 7 fuses DLA layers, so no finer figure exists.
GOOGLENET_DLA_MS = (0.75, 0.34, 0.45, 0.37, 0.31, 0.33, 0.31, 0.35, 0.27, 0.36)
#: Nominal power (W) of the Xavier's GPU and one DLA at MAXN. Not measured in the data:
#: NVIDIA's published Xavier figures put a DLA at a few watts against the Volta GPU's 10+.
XAVIER_WATTS = {"gpu": 10.0, "dla": 2.5}
#: GoogLeNet's weights (fp16, as TensorRT runs it on both engines): 6.8 M parameters.
GOOGLENET_WEIGHTS_MB = 6.8e6 * 2 / MB


def googlenet_xavier(data: Path = DATA) -> dict:
    """GoogLeNet's 10 layer groups on the Jetson AGX Xavier's GPU and DLA (HaX-CoNN).

    - Execution: GPU time per group from ``layer_results.json``; DLA time per group from
      HaX-CoNN's group-level inputs (``GOOGLENET_DLA_MS``). Energy = time x a nominal
      engine power (``XAVIER_WATTS``; the artifact has no power figures).
    - Transfers: ``transition_results.json`` gives the measured cost of a GPU <-> DLA switch
      after each group boundary, on the GPU side and on the DLA side. The data has no tensor
      sizes, so each group's ``output_mb`` is that switch's cost in ms (the mean of both
      sides) on a link of 1 ms/MB: the plan then pays exactly the measured handoff.
    - Memory: the model's fp16 weights split over groups by layer count, plus a 1 MB
      activation buffer. Budget (not in the data, chosen so it binds): the DLA holds 40%
      of the model; the GPU all of it. Caps: ``_frame_budget_caps``.
    """
    out = data / "HaX-CoNN" / "output_expected"
    groups = orjson.loads((out / "layer_results.json").read_bytes())
    transitions = orjson.loads((out / "transition_results.json").read_bytes())
    names = list(groups)
    counts = [groups[g]["gpu"]["layer_count"] for g in names]
    stages = []
    for i, group in enumerate(names):
        gpu_ms = groups[group]["gpu"]["total_gpu_time_ms"]
        dla_ms = GOOGLENET_DLA_MS[i]
        memory = GOOGLENET_WEIGHTS_MB * counts[i] / sum(counts) + 1.0
        boundary = group.split("-")[1]
        # marks sit on the group's last layer or the one after it, whichever was profiled
        mark = next((m for m in (int(boundary), int(boundary) + 1) if f"googlenet_gpu_mark_at_{m}" in transitions), None)
        sides = [] if mark is None else [transitions[f"googlenet_{e}_mark_at_{mark}"]["transition_cost"] for e in ("gpu", "dla")]
        stages.append({
            "name": f"layers_{group}",
            "output_mb": round(statistics.fmean(sides), 5) if sides else 0.0,
            "profiles": {
                "gpu": {"latency_ms": round(gpu_ms, 5), "energy_mj": round(gpu_ms * XAVIER_WATTS["gpu"], 5), "memory_mb": round(memory, 3)},
                "dla": {"latency_ms": dla_ms, "energy_mj": round(dla_ms * XAVIER_WATTS["dla"], 5), "memory_mb": round(memory, 3)},
            },
        })
    total = sum(st["profiles"]["dla"]["memory_mb"] for st in stages)
    doc = {
        "name": "googlenet_xavier",
        "description": "Measured profiles from HaX-CoNN (ismetdagli/HaX-CoNN @87f5f25): output_expected/layer_results.json, "
                  "transition_results.json; DLA group times as listed in shared/data/SOURCES.md; "
                  "built by benchmarks/realdata.py",
        "devices": [{"name": "gpu", "memory_mb": round(total + 1.0, 2)}, {"name": "dla", "memory_mb": round(0.4 * total, 2)}],
        "links": [{"source": "gpu", "target": "dla", "latency_ms_per_mb": 1.0, "energy_mj_per_mb": XAVIER_WATTS["gpu"]}],
        "stages": stages,
        "constraints": {},
    }
    doc["constraints"] = _frame_budget_caps(doc, latency_slack=0.25)
    return doc


def _frame_budget_caps(doc: dict, latency_slack: float) -> dict:
    """Caps for a pipeline whose balanced optimum is already its fastest plan.

    The latency cap gives ``latency_slack`` over the fastest plan that fits memory (a frame
    budget with headroom); the energy cap sits halfway between the most frugal plan within
    that latency and the fastest plan's energy, so offloading to the DLA is required.
    """
    import eip

    fastest = _fastest(doc)
    caps = _latency_cap(fastest, latency_slack)
    frugal = eip.plan(eip.Scenario.from_dict({**doc, "constraints": caps}), goal={"energy": 1.0}, top_k=1).best
    caps["max_total_energy_mj"] = round((frugal.energy_mj + fastest.energy_mj) / 2, 4)
    return caps


def _fastest(doc: dict):
    """The fastest plan ``eip.plan`` finds within the scenario's memory budgets."""
    import eip

    return eip.plan(eip.Scenario.from_dict(doc), goal={"latency": 1.0}, top_k=1).best


def _latency_cap(fastest, latency_slack: float) -> dict:
    """A latency cap ``latency_slack`` over the ``fastest`` plan's latency."""
    return {"max_total_latency_ms": round(fastest.latency_ms * (1 + latency_slack), 4)}


# ----------------------------------------------------------------------------- dnn-partitioning layer graphs

LAYER_GRAPHS = DATA / "dnn-partitioning" / "latency-inputs" / "LayerGraphs"
#: The edge SoC the layer graphs are placed on (the data measures one accelerator, a GPU):
#: device -> (latency from the data's figures, watts, share of the model's memory it holds).
#: Powers are typical of a phone-class SoC (big CPU cluster 4 W, LITTLE 0.8 W, GPU 6 W,
#: NPU 2 W); the memory shares make every accelerator's budget bind.
SOC = {
    "cpu": (lambda node: node["cpuLatency"], 4.0, 0.6),
    "little": (lambda node: 2.5 * node["cpuLatency"], 0.8, 0.3),
    "gpu": (lambda node: node["fpgaLatency"], 6.0, 0.4),
    "npu": (None, 2.0, 0.25),  # see _npu_ms
}
#: The devices each layer graph is placed on: all four where the frontier state stays small
#: in a low-width order; three for the graphs with 5 outputs waiting at once.
LAYER_GRAPH_SOCS = {"resnet50": tuple(SOC), "bert24": tuple(SOC), "inceptionv3": ("cpu", "gpu", "npu"),
                    "gnmt": ("cpu", "gpu", "npu")}
#: Power drawn while a tensor moves between devices (DRAM and interconnect), W.
TRANSFER_WATTS = 1.5


def _npu_ms(node: dict, weight_bytes: float) -> float:
    """The NPU runs layers with weights (convolutions, matrix products) at twice the GPU's
    speed and weightless ones (pooling, element-wise, concatenation) at half of it: the
    usual NPU trait, and the data's only per-layer hint of the operator kind."""
    return node["fpgaLatency"] * (0.5 if weight_bytes > 0 else 2.0)


def low_width_order(ids: list[int], edges: list[tuple[int, int]]) -> list[int]:
    """A topological order that keeps few outputs waiting for readers: repeatedly take the
    ready node that frees the most waiting outputs and adds the fewest, then the one whose
    inputs were placed most recently (finish a branch before starting another), then the
    smallest id."""
    succ: dict[int, list[int]] = defaultdict(list)
    pred: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    waiting = {v: len(succ[v]) for v in ids}
    indegree = {v: len(pred[v]) for v in ids}
    ready = [v for v in ids if not indegree[v]]
    placed: dict[int, int] = {}

    def cost(v: int) -> tuple:
        frees = sum(waiting[p] == 1 for p in pred[v])
        return (int(bool(succ[v])) - frees, -max((placed[p] for p in pred[v]), default=-1), v)

    while ready:
        v = min(ready, key=cost)
        ready.remove(v)
        placed[v] = len(placed)
        for p in pred[v]:
            waiting[p] -= 1
        for w in succ[v]:
            indegree[w] -= 1
            if not indegree[w]:
                ready.append(w)
    return list(placed)


def _layer_graph_stages(graph: dict, devices: tuple[str, ...], prefix: str = "") -> list[dict]:
    """The stages of one dnn-partitioning layer graph in ``low_width_order``.

    Kept from the data: the DAG, each node's accelerator (GPU) and CPU latency, tensor sizes
    (an edge's ``size``; every edge of a node carries the same tensor) and node sizes, which
    are memory on every device (weights plus the output at the paper's batch). Derived: the
    LITTLE cluster and the NPU (``SOC``, ``_npu_ms``) and energy = time x power.
    """
    out_bytes: dict[int, float] = {}
    for e in graph["edges"]:
        out_bytes[e["sourceId"]] = e["size"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    order = low_width_order(sorted(nodes), [(e["sourceId"], e["destId"]) for e in graph["edges"]])
    position = {v: i for i, v in enumerate(order)}
    inputs_of = defaultdict(list)
    for e in graph["edges"]:
        inputs_of[e["destId"]].append(e["sourceId"])
    stages = []
    for v in order:
        node = nodes[v]
        weight_bytes = node["size"] - out_bytes.get(v, 0.0)
        profiles = {}
        for device in devices:
            latency, watts, _ = SOC[device]
            ms = _npu_ms(node, weight_bytes) if latency is None else latency(node)
            profiles[device] = {"latency_ms": round(ms, 6), "energy_mj": round(ms * watts, 6),
                                "memory_mb": round(node["size"] / MB, 4)}
        stages.append({"name": prefix + node["name"], "output_mb": round(out_bytes.get(v, 0.0) / MB, 6),
                       "inputs": [prefix + nodes[p]["name"] for p in sorted(inputs_of[v], key=position.get)],
                       "profiles": profiles})
    return stages


def _soc_doc(name: str, description: str, stages: list[dict], graph: dict, devices: tuple[str, ...]) -> dict:
    """Devices with budgets that are shares of the model's memory, links at the data's
    transfer speed (an edge's ``cost`` is its size at 2 GiB/s, 0.48828 ms/MB)."""
    per_mb = statistics.median(e["cost"] / (e["size"] / MB) for e in graph["edges"] if e["size"] > 0)
    total_mb = sum(st["profiles"]["cpu"]["memory_mb"] for st in stages)
    names = list(devices)
    devices = [{"name": d, "memory_mb": round(SOC[d][2] * total_mb, 1)} for d in names]
    links = [{"source": a, "target": b, "latency_ms_per_mb": round(per_mb, 6),
              "energy_mj_per_mb": round(per_mb * TRANSFER_WATTS, 6)}
             for i, a in enumerate(names) for b in names[i + 1:]]
    return {"name": name, "description": description, "devices": devices, "links": links, "stages": stages,
            "constraints": {}}


def _frame_budget(doc: dict, latency_slack: float) -> dict:
    """A latency cap ``latency_slack`` over the fastest plan found within the memory budgets
    (a frame budget with headroom); energy stays the goal's to trade, uncapped."""
    return _latency_cap(_fastest(doc), latency_slack)


def _layer_graph(data: Path, model: str) -> dict:
    """The dnn-partitioning layer graph ``{model}_inference.json`` under ``data``."""
    return orjson.loads((data / LAYER_GRAPHS.relative_to(DATA) / f"{model}_inference.json").read_bytes())


def layer_graph(model: str, devices: tuple[str, ...], data: Path = DATA) -> dict:
    """One dnn-partitioning layer graph (``{model}_inference.json``) on ``devices`` of the
    ``SOC``, with a frame budget (``_frame_budget``)."""
    graph = _layer_graph(data, model)
    doc = _soc_doc(f"{model}_soc", f"{model} layer graph (msr-fiddle/dnn-partitioning) on a SoC's "
                   f"{', '.join(devices)}; see scenarios/README.md", _layer_graph_stages(graph, devices), graph, devices)
    doc["constraints"] = _frame_budget(doc, latency_slack=0.25)
    return doc


def two_models(data: Path = DATA) -> dict:
    """ResNet50 and BERT-24 on one SoC: two disconnected graphs (vision and language heads of
    one product) whose memory shares one set of budgets."""
    graphs = [_layer_graph(data, m) for m in ("resnet50", "bert24")]
    devices = tuple(SOC)
    stages = _layer_graph_stages(graphs[0], devices, "resnet50/") + _layer_graph_stages(graphs[1], devices, "bert24/")
    doc = _soc_doc("resnet50_bert24_soc", "ResNet50 and BERT-24 layer graphs sharing one 4-device SoC; "
                   "see scenarios/README.md", stages, graphs[0], devices)
    doc["constraints"] = _frame_budget(doc, latency_slack=0.25)
    return doc


# ----------------------------------------------------------------------------- ways: int8 and DVFS

#: Whole-model int8 losses the per-layer accuracy losses are spread from (no per-layer
#: accuracy is measured in the data): YOLOv3 (opset 12) COCO mAP 0.2874 -> 0.2693 for its
#: int8 build, 1.81 points (ONNX Model Zoo, validated/vision/object_detection_segmentation/
#: yolov3/README.md); MobileNetV1 1.0 224 top-1 0.617 -> 0.596 for its quantized build,
#: 2.1 points (Android MLTS, platform/test/mlts/models mobilenet_topk_aosp.json).
INT8_LOSS_POINTS = {"YOLOv3": 1.81, "MobileV1": 2.1}


def _spread(total: float, weights: list[float]) -> list[float]:
    """``total`` split over layers in proportion to ``weights``, rounded to 1e-4."""
    whole = sum(weights)
    return [round(total * w / whole, 4) for w in weights]


def yolov3_rk3399pro_int8(data: Path = DATA) -> dict:
    """``yolov3_rk3399pro`` with its precisions named and priced: the CPUs and the GPU run
    fp32 builds (ARM-CL), the NPU runs the RKNN int8 build the data measured, which loses
    accuracy. Per-layer loss: the 1.81 mAP points of ``INT8_LOSS_POINTS`` spread over the
    75 convolutions in proportion to their multiply-accumulates (an assumption: quantization
    noise grows with the arithmetic a layer does). Accuracy budget (chosen so it binds):
    halfway between the least loss any plan within the caps has and the loss of the balanced
    plan without a budget."""
    doc = yolov3_rk3399pro(data)
    macs = [k * k * c_in * c_out * side * side for k, c_in, c_out, side in yolov3_convs()]
    for stage, loss in zip(doc["stages"], _spread(INT8_LOSS_POINTS["YOLOv3"], macs)):
        for dev, way in stage["profiles"].items():
            way.update(variant="int8", accuracy_loss=loss) if dev == "npu" else way.update(variant="fp32")
    doc["name"] = "yolov3_rk3399pro_int8"
    doc["description"] = ("YOLOv3 on the RK3399Pro (CO-UP-Profiling, as yolov3_rk3399pro) with the NPU's int8 build "
                          "against fp32 on the CPUs and GPU and an accuracy budget; built by benchmarks/realdata.py")
    import eip

    scenario = eip.Scenario.from_dict(doc)
    least = eip.plan(scenario, goal={"accuracy": 1.0}, top_k=1).best.accuracy_loss
    balanced = eip.plan(scenario, top_k=1).best.accuracy_loss
    doc["constraints"]["max_accuracy_loss"] = round((least + balanced) / 2, 4)
    return doc


#: DVFS levels (MHz) of the RK3399's processors, by CO-UP's frequency index (LW-GA's
#: config.py, SOURCES.md): big CPU 8, LITTLE 6, GPU 5
FREQ_MHZ = {"B": (408, 600, 816, 1008, 1200, 1416, 1608, 1800), "L": (408, 600, 816, 1008, 1200, 1416),
            "G": (200, 300, 400, 600, 800)}
#: MobileNetV1 1.0 224 as ARM-CL profiles it: a 3x3 stem, then 13 depthwise-separable blocks
#: (out channels, stride); the last group also holds the pooling and the 1000-way classifier
MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                    (512, 1), (512, 1), (1024, 2), (1024, 1))


def mobilenet_v1_layers() -> list[tuple[float, float]]:
    """(fp32 weights MB, fp32 output MB) of MobileNetV1's 14 profiled layer groups."""
    out = [(3 * 3 * 3 * 32 * FP32_BYTES / MB, 112 * 112 * 32 * FP32_BYTES / MB)]
    side, ch = 112, 32
    for width, stride in MOBILENET_BLOCKS:
        side //= stride
        out.append(((3 * 3 * ch + ch * width) * FP32_BYTES / MB, side * side * width * FP32_BYTES / MB))
        ch = width
    weights, _ = out[-1]
    out[-1] = (weights + 1024 * 1000 * FP32_BYTES / MB, 1000 * FP32_BYTES / MB)
    return out


def _dvfs_layers(path: Path, graph: str) -> dict[str, dict[int, dict[int, tuple[float, float]]]]:
    """Component -> frequency index -> layer -> (ms, mW), metric ``task``; the GPU with its
    host CPU at the top level. A missing power reading gets that level's median."""
    rows = defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["Graph"] == graph and r["Metric"] == "task" and r["Component"] in FREQ_MHZ:
                rows[r["Component"], int(r["Freq"]), int(r["Freq_Host"])].append(r)
    out: dict[str, dict[int, dict[int, tuple[float, float]]]] = defaultdict(dict)
    top_host = max(host for _, _, host in rows)
    for (comp, freq, host), items in rows.items():
        if comp == "G" and host != top_host:
            continue
        typical = statistics.median(float(r["Power"]) for r in items if r["Power"])
        out[comp][freq] = {int(r["Layer"]): (float(r["Time"]), float(r["Power"]) if r["Power"] else typical)
                           for r in items}
    return out


def mobilenetv1_rk3399pro_dvfs(data: Path = DATA) -> dict:
    """MobileNetV1 on the RK3399Pro at every DVFS level (CO-UP-Profiling ``Layers.csv``).

    - Ways: the big CPU at its 8 levels, the LITTLE CPU at 6 and the Mali GPU at 5 (host
      CPU at its top level), each a measured mode (``mode`` on the way; fp32 ARM-CL
      builds); the NPU's int8 build at its top level. Energy = time x the measured
      whole-board power. Each device's ``power_modes`` scales (used only for ways measured
      without a mode) are the medians over layers of time and power at the level against
      the top level.
    - The GPU's mode is fixed (one GPU clock for every layer); the CPU governors may switch
      levels between layers (``per_stage``).
    - Tensors, weights and links: MobileNetV1's fp32 shapes (``mobilenet_v1_layers``; the
      NPU holds int8 weights, a quarter), links as in ``yolov3_rk3399pro``.
    - Accuracy: the NPU's int8 loses the 2.1 top-1 points of ``INT8_LOSS_POINTS``, spread
      over the 14 layer groups in proportion to the big CPU's top-level time (a proxy for
      each group's arithmetic); budget 1.0 point.
    - Frame rate (not in the data, chosen so it binds): its period sits halfway between the
      least period any plan reaches within the accuracy budget and the period of the
      balanced plan there (``_binding_frame_rate``). Memory budgets are generous
      (MobileNetV1 is small).
    """
    profiling = data / "CO-UP-Profiling" / "Profiling" / "Data"
    dvfs = _dvfs_layers(profiling / "Layers.csv", "MobileV1")
    npu = _layers(profiling / "Layers.csv", "MobileV1")["N"]
    shapes = mobilenet_v1_layers()
    out_mb = [o for _, o in shapes]
    in_mb = [224 * 224 * 3 * FP32_BYTES / MB] + out_mb[:-1]
    losses = _spread(INT8_LOSS_POINTS["MobileV1"], [dvfs["B"][len(FREQ_MHZ["B"]) - 1][i][0] for i in range(len(shapes))])
    stages = []
    for i, (weights, output) in enumerate(shapes):
        profiles = _dvfs_profiles(dvfs, i, weights + output)
        ms, mw = npu[i]
        profiles["npu"] = {"variant": "int8", "accuracy_loss": losses[i], "latency_ms": round(ms, 4),
                           "energy_mj": round(ms * mw / 1000, 4), "memory_mb": round(weights / 4 + output, 3)}
        stages.append({"name": f"group{i:02d}", "output_mb": round(output, 4), "profiles": profiles})
    devices = _dvfs_devices(dvfs, "BLGN")
    doc = {
        "name": "mobilenetv1_rk3399pro_dvfs",
        "description": "MobileNetV1 on the RK3399Pro at every DVFS level of its CPUs and GPU, and the NPU's int8 "
                       "build, from CO-UP-Profiling (Ehsan-aghapour/CO-UP-Profiling @22005a9); built by "
                       "benchmarks/realdata.py",
        "devices": devices,
        "links": _rk3399pro_links(profiling, "MobileV1", in_mb, out_mb),
        "stages": stages,
        "constraints": {"max_accuracy_loss": 1.0},
    }
    doc["constraints"]["frame_rate_hz"] = _binding_frame_rate(doc)
    return doc


def _dvfs_profiles(dvfs: dict, layer: int, memory_mb: float) -> dict[str, list[dict]]:
    """Device -> one fp32 way per measured level of each DVFS processor for ``layer``
    (energy = time x the measured board power)."""
    return {RK3399PRO[comp]: [{"variant": "fp32", "mode": f"{FREQ_MHZ[comp][f]}MHz",
                               "latency_ms": round(levels[f][layer][0], 4),
                               "energy_mj": round(levels[f][layer][0] * levels[f][layer][1] / 1000, 4),
                               "memory_mb": round(memory_mb, 3)} for f in sorted(levels)]
            for comp, levels in dvfs.items()}


def _dvfs_devices(dvfs: dict, components: str) -> list[dict]:
    """The board's devices (CO-UP letters ``components``) with generous memory, each DVFS
    processor's measured modes, and the GPU's mode fixed (one clock for the whole frame)."""
    devices = []
    for comp in components:
        doc_dev = {"name": RK3399PRO[comp], "memory_mb": 512.0}
        if comp in dvfs:
            doc_dev["power_modes"] = _mode_scales(comp, dvfs[comp])
            doc_dev["mode_policy"] = "fixed" if comp == "G" else "per_stage"
        devices.append(doc_dev)
    return devices


#: AlexNet as ARM-CL profiles it in 8 groups: (fp32 weights, fp32 output) in elements; the
#: conv groups end after their pooling, conv2/4/5 are grouped (two halves), fc6 reads 6x6x256
ALEXNET_GROUPS = ((11 * 11 * 3 * 96, 27 * 27 * 96), (5 * 5 * 48 * 256, 13 * 13 * 256), (3 * 3 * 256 * 384, 13 * 13 * 384),
                  (3 * 3 * 192 * 384, 13 * 13 * 384), (3 * 3 * 192 * 256, 6 * 6 * 256), (9216 * 4096, 4096),
                  (4096 * 4096, 4096), (4096 * 1000, 1000))


def alexnet_rockpi_dvfs(data: Path = DATA) -> dict:
    """AlexNet on the Rock Pi (RK3399) at every DVFS level, from LW-GA (``Profiling/Layers.csv``,
    ``Transfers.csv``, ``Transfer_Freq.csv``): the big CPU at 8 levels, the LITTLE CPU at 6,
    the Mali GPU at 5 (host CPU at its top level; mode fixed), fp32 ARM-CL builds; energy =
    time x the measured whole-board power. A ``Transfers.csv`` row of layer k is the handoff
    into group k (of group k - 1's output); links are medians of time per MB as for the
    RK3399Pro. Frame rate chosen as for ``mobilenetv1_rk3399pro_dvfs``; memory generous."""
    profiling = data / "LW-GA" / "Profiling"
    dvfs = _dvfs_layers(profiling / "Layers.csv", "alex")
    shapes = [(w * FP32_BYTES / MB, o * FP32_BYTES / MB) for w, o in ALEXNET_GROUPS]
    names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    stages = [{"name": name, "output_mb": round(output, 4), "profiles": _dvfs_profiles(dvfs, i, weights + output)}
              for i, (name, (weights, output)) in enumerate(zip(names, shapes))]
    per_mb = _measured_per_mb(profiling / "Transfers.csv", "alex", lambda layer: shapes[layer - 1][1] if layer else None)
    doc = {
        "name": "alexnet_rockpi_dvfs",
        "description": "AlexNet on the Rock Pi (RK3399) at every DVFS level of its big and LITTLE CPUs and Mali GPU, "
                       "from LW-GA (Ehsan-aghapour/LW-GA @c67700a); built by benchmarks/realdata.py",
        "devices": _dvfs_devices(dvfs, "BLG"),
        "links": _links_doc(per_mb, _transfer_watts(profiling / "Transfer_Freq.csv")),
        "stages": stages,
        "constraints": {},
    }
    doc["constraints"]["frame_rate_hz"] = _binding_frame_rate(doc)
    return doc


def _mode_scales(comp: str, levels: dict[int, dict[int, tuple[float, float]]]) -> list[dict]:
    """Power modes of one processor, each level's latency and power against the top level
    (medians over layers), fastest first."""
    top = levels[max(levels)]
    modes = []
    for f in sorted(levels, reverse=True):
        layer_ids = sorted(top)
        modes.append({"name": f"{FREQ_MHZ[comp][f]}MHz",
                      "latency_scale": round(statistics.median(levels[f][i][0] / top[i][0] for i in layer_ids), 4),
                      "power_scale": round(statistics.median(levels[f][i][1] / top[i][1] for i in layer_ids), 4)})
    return modes


def _binding_frame_rate(doc: dict) -> float:
    """A frame rate whose period lies halfway between the least period ``eip.plan`` finds
    and the balanced plan's period."""
    import eip

    scenario = eip.Scenario.from_dict(doc)
    least = eip.plan(scenario, goal="throughput", top_k=1).best.period_ms
    balanced = eip.plan(scenario, top_k=1).best.period_ms
    return round(1000.0 / ((least + balanced) / 2), 4)


BUILDERS = {
    "yolov3_rk3399pro.json": yolov3_rk3399pro,
    "googlenet_xavier.json": googlenet_xavier,
    **{f"{m}_soc.json": (lambda data=DATA, m=m, d=d: layer_graph(m, d, data)) for m, d in LAYER_GRAPH_SOCS.items()},
    "resnet50_bert24_soc.json": two_models,
    "yolov3_rk3399pro_int8.json": yolov3_rk3399pro_int8,
    "mobilenetv1_rk3399pro_dvfs.json": mobilenetv1_rk3399pro_dvfs,
    "alexnet_rockpi_dvfs.json": alexnet_rockpi_dvfs,
}


def render(doc: dict) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "scenarios")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"realdata: {args.data}: no such folder: the real data sits in ../shared/data beside the "
                         f"checkout (see its SOURCES.md), or give --data")
    for file, build in BUILDERS.items():
        path = args.out / file
        path.write_bytes(render(build(args.data)))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
