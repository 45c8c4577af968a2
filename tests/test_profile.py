"""`eip profile`: ONNX models from the onnx wheel measured with ONNX Runtime, checked
against the graph read plainly from the model file, and the roofline estimate."""

from __future__ import annotations

import math
import os

import numpy as np
import orjson
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import eip  # noqa: E402
from eip.cli import main  # noqa: E402
from eip.errors import ScenarioError  # noqa: E402
from eip.profile import calibrate, load_graph, parse_spec, profile_onnx  # noqa: E402
from eip.profile.graph import Node  # noqa: E402
from eip.profile.roofline import roofline_ms  # noqa: E402
from eip.report import render  # noqa: E402

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
MODELS = sorted(f[len("light_"):-len(".onnx")] for f in os.listdir(LIGHT) if f.endswith(".onnx"))
NPU = {"peak_gflops": {"int8": 4000, "fp16": 1000}, "bandwidth_gbs": 30, "power_w": 3, "overhead_ms": 0.02,
       "memory_mb": 16, "ops": ["Conv", "Relu", "MaxPool", "Concat", "BatchNormalization", "Sum"],
       "accuracy_loss": {"int8": 0.02}, "link_latency_ms_per_mb": 0.2, "link_energy_mj_per_mb": 0.1}
GPU = {"peak_gflops": 400, "bandwidth_gbs": 25, "power_w": 5, "overhead_ms": 0.05,
       "link_latency_ms_per_mb": 0.1, "link_energy_mj_per_mb": 0.08}


def path(model: str) -> str:
    return os.path.join(LIGHT, f"light_{model}.onnx")


def reference(model: str):
    """The model read plainly: the nodes that compute on data (not those whose inputs are
    all constants: the weight makers and what they feed alone), the edges between them (by
    tensor name), and the bytes of each node's outputs that someone reads, from ONNX's own
    shape inference on the unmodified file."""
    m = onnx.load(path(model))
    inferred = onnx.shape_inference.infer_shapes(m)
    constants = {i.name for i in m.graph.initializer}
    stages = []
    for n in m.graph.node:
        if all(i in constants for i in n.input):
            constants.update(n.output)
        else:
            stages.append(n)
    producer = {out: n.name for n in stages for out in n.output}
    edges = {(producer[i], n.name) for n in stages for i in n.input if i in producer}
    types = {v.name: v.type.tensor_type for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    read = {i for n in stages for i in n.input} | {o.name for o in m.graph.output}
    size = {1: 4, 7: 8, 6: 4, 10: 2}
    out_bytes = {n.name: sum(math.prod(d.dim_value for d in types[o].shape.dim) * size[types[o].elem_type]
                             for o in n.output if o in read) for n in stages}
    return stages, edges, out_bytes


@pytest.mark.parametrize("model", MODELS)
def test_graph_matches_the_model_file(model):
    graph = load_graph(path(model))
    stages, edges, out_bytes = reference(model)
    assert [n.name for n in graph.nodes] == [n.name for n in stages]
    assert {(p, n.name) for n in graph.nodes for p in n.inputs} == edges
    for node in graph.nodes:
        assert node.output_bytes == out_bytes[node.name]


@pytest.fixture(scope="module")
def resnet50():
    return profile_onnx(path("resnet50"), cpu_power_w=15, repeats=6, warmup=2, memory_mb=200,
                        estimate={"npu": NPU, "gpu": GPU}, progress=False)


@pytest.mark.parametrize("model", ["inception_v1", "squeezenet"])
def test_measured_scenario(model):
    prof = profile_onnx(path(model), cpu_power_w=10, repeats=6, warmup=2, progress=False)
    check_measured(prof, model, 10)


def test_measured_resnet50(resnet50):
    check_measured(resnet50, "resnet50", 15)


def check_measured(prof, model, power_w):
    stages, edges, out_bytes = reference(model)
    doc = prof.document
    assert [s["name"] for s in doc["stages"]] == [n.name for n in stages]  # one stage per executed node
    assert set(prof.measurement.node_ms) == {n.name for n in stages}  # and nothing else ran
    assert {(p, s["name"]) for s in doc["stages"] for p in s["inputs"]} == edges
    for s in doc["stages"]:
        assert s["output_mb"] * (1 << 20) == out_bytes[s["name"]]  # byte for byte
        cpu = s["profiles"]["cpu"]
        assert cpu["energy_mj"] == pytest.approx(cpu["latency_ms"] * power_w)
    total = sum(prof.measurement.node_ms.values())
    assert abs(total / prof.measurement.run_ms - 1) < 0.25
    assert f"{power_w:g} W" in doc["provenance"]["cpu"]
    assert prof.scenario.stages[0].op == "Conv"


def test_weights_are_node_memory(resnet50):
    first = resnet50.document["stages"][0]
    assert first["profiles"]["cpu"]["memory_mb"] * (1 << 20) == 64 * 3 * 7 * 7 * 4  # conv1's fp32 weights
    assert sum(n.weight_bytes for n in resnet50.graph.nodes) > 90 * (1 << 20)  # ResNet50: about 25.6M parameters


def test_flops_of_known_layers(resnet50):
    nodes = {n.name: n for n in resnet50.graph.nodes}
    conv1 = nodes["n0"]
    assert conv1.op == "Conv" and conv1.flops == 2 * 64 * 112 * 112 * 3 * 7 * 7
    gemm = next(n for n in resnet50.graph.nodes if n.op == "Gemm")
    assert gemm.flops == 2 * 1000 * 2048 + 1000  # 2048 -> 1000 classes, plus the bias
    assert next(n for n in resnet50.graph.nodes if n.op == "Reshape").flops == 0


def test_estimated_devices(resnet50):
    doc = resnet50.document
    ops = {s["name"]: s["op"] for s in doc["stages"]}
    for s in doc["stages"]:
        npu = s["profiles"].get("npu")
        assert (npu is not None) == (ops[s["name"]] in NPU["ops"])
        for way in ([npu] if isinstance(npu, dict) else npu or []) + [s["profiles"]["gpu"]]:
            assert way["estimated"] is True
    conv1 = resnet50.graph.nodes[0]
    int8 = doc["stages"][0]["profiles"]["npu"][0]
    expected = max(conv1.flops / 4000e6, conv1.bytes_moved / 4 / 30e6) + 0.02
    assert int8["variant"] == "int8" and int8["latency_ms"] == pytest.approx(expected)
    assert int8["energy_mj"] == pytest.approx(expected * 3) and int8["accuracy_loss"] == 0.02
    assert int8["output_mb"] * 4 * (1 << 20) == conv1.output_bytes
    assert "roofline" in doc["provenance"]["npu"] and "not measured" in doc["provenance"]["npu"]
    assert {(link["source"], link["target"]) for link in doc["links"]} == {("cpu", "npu"), ("cpu", "gpu"), ("npu", "gpu")}


def test_plan_marks_estimates_in_every_report(resnet50):
    result = eip.plan(resnet50.scenario, top_k=1)
    assert result.status == "optimal"
    best = result.best
    assert best.memory_mb["npu"].used_mb <= 16 + 1e-9
    assert any(s.estimated for s in best.stages)
    assert all(s.estimated == (s.device != "cpu") for s in best.stages)
    text = render(result, "text", sensitivity=False).decode()
    table = text.split("Placement\n")[1].splitlines()
    assert "Estimated:" in text and table[0].endswith("| costs") and table[1].endswith("| estimated")
    csv_rows = render(result, "csv", sensitivity=False).decode().splitlines()
    assert csv_rows[0].endswith(",estimated") and any(r.endswith(",true") for r in csv_rows[1:])
    doc = orjson.loads(render(result, "json", sensitivity=False))
    assert any(s["estimated"] for s in doc["plans"][0]["stages"])
    for fmt in ("md", "html"):
        assert b"estimated" in render(result, fmt, sensitivity=False)


def test_calibration_recovers_a_roofline():
    rng = np.random.default_rng(3)
    nodes = [Node(f"n{i}", "Conv", (), int(b), 0, 0, float(f))
             for i, (f, b) in enumerate(zip(10 ** rng.uniform(4, 9, 60), 10 ** rng.uniform(3, 7, 60)))]
    measured = {n.name: float(roofline_ms(n.flops, n.bytes_moved, 50.0, 12.0, 0.004)) for n in nodes}
    fit = calibrate(nodes, measured)
    assert fit.median_abs_error < 0.03 and abs(fit.total_error) < 0.03
    assert fit.peak_gflops == pytest.approx(50.0, rel=0.1) and fit.bandwidth_gbs == pytest.approx(12.0, rel=0.1)


def test_calibration_on_the_measured_cpu(resnet50):
    fit = resnet50.calibration
    assert set(fit.node_error) == {n.name for n in resnet50.graph.nodes}
    assert fit.median_abs_error < 1.0  # a roofline explains a CPU's node times within a factor of two
    assert "fitted" in resnet50.document["provenance"]["npu"]


@pytest.mark.parametrize("spec, message", [
    ({"bandwidth_gbs": 1, "power_w": 1}, "peak_gflops: missing"),
    ({"peak_gflops": {"int3": 1}, "bandwidth_gbs": 1, "power_w": 1}, "peak_gflops.int3: unknown precision"),
    ({"peak_gflops": 0, "bandwidth_gbs": 1, "power_w": 1}, "peak_gflops.fp32: expected a number > 0"),
    ({"peak_gflops": 1, "bandwidth_gbs": 1, "power_w": 1, "speed": 3}, "speed: unknown key"),
    ({"peak_gflops": 1, "bandwidth_gbs": 1, "power_w": 1, "ops": "Conv"}, "ops: expected a list"),
    ({"peak_gflops": 1, "bandwidth_gbs": 1, "power_w": 1, "accuracy_loss": {"int8": 1}}, "accuracy_loss: expected"),
])
def test_spec_errors(spec, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        parse_spec("npu", spec)


def test_cli_profile_then_plan_with_a_trace(tmp_path, capsys):
    spec = tmp_path / "npu.json"
    spec.write_bytes(orjson.dumps(NPU))
    out = tmp_path / "squeezenet.json"
    main(["profile", path("squeezenet"), "--cpu-power-w", "8", "--repeats", "3", "--warmup", "1",
          "--estimate", f"npu={spec}", "--estimate", "gpu=" + orjson.dumps(GPU).decode(), "--output", str(out)])
    err = capsys.readouterr().err
    assert "66 stages" in err and "roofline fitted" in err
    scenario = eip.load(out)
    assert {d.name for d in scenario.devices} == {"cpu", "npu", "gpu"}
    trace = tmp_path / "trace.json"
    main(["plan", str(out), "--format", "trace", "--output", str(trace)])
    doc = orjson.loads(trace.read_bytes())
    stages = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["cat"] == "stage"]
    assert sorted(e["name"] for e in stages) == sorted(s.name for s in scenario.stages)
    names = {e["pid"]: e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    assert set(names.values()) == {"cpu", "npu", "gpu"}
    assert all(names[e["pid"]] == e["args"]["device"] for e in stages)


@pytest.mark.parametrize("args, message", [
    ([], "--cpu-power-w is required"),
    (["--cpu-power-w", "x"], "--cpu-power-w expects"),
    (["--cpu-power-w", "5", "--input-shape", "nope=1,2"], "no input named 'nope'"),
    (["--cpu-power-w", "5", "--input-shape", "gpu_0/data_0=1,3"], "has 4 dimensions"),
    (["--cpu-power-w", "5", "--estimate", "npu"], "--estimate expects DEVICE=SPEC"),
    (["--cpu-power-w", "5", "--estimate", "npu=/no/such.json"], "cannot read"),
    (["--cpu-power-w", "5", "--repeats", "0"], "--repeats expects"),
])
def test_cli_profile_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["profile", path("resnet50"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_profile_rejects_a_file_that_is_not_a_model(tmp_path, capsys):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x00\x01not a model")
    with pytest.raises(SystemExit) as exit_info:
        main(["profile", str(bad), "--cpu-power-w", "5"])
    assert exit_info.value.code == 2 and "not an ONNX model" in capsys.readouterr().err


def test_trace_of_a_dag_has_one_event_per_stage_and_move():
    result = eip.plan("scenarios/camera_two_models.json", top_k=1)
    doc = orjson.loads(render(result, "trace"))
    events = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    best = result.best
    assert sum(e["cat"] == "stage" for e in events) == len(best.stages)
    assert sum(e["cat"] == "transfer" for e in events) == sum(edge.moved for edge in best.edges)
    end = max(e["ts"] + e["dur"] for e in events)
    assert end == pytest.approx(best.latency_ms * 1e3)


def test_tradeoff_reports_say_costs_are_estimated(resnet50):
    from eip.report.tradeoff import render_frontier, render_sweep

    front = eip.frontier(resnet50.scenario, max_plans=3, time_limit_s=60)
    assert b"Estimated: the costs on npu, gpu are roofline estimates" in render_frontier(front, "text")
    assert orjson.loads(render_frontier(front, "json"))["estimated_devices"] == ["npu", "gpu"]
    swept = eip.sweep(resnet50.scenario, memory_mb={"npu": [8.0, 16.0]})
    assert b"roofline estimates" in render_sweep(swept, "html")
    measured = eip.sweep("scenarios/mobile_vision_pipeline.json", max_latency_ms=[30.0])
    assert b"Estimated" not in render_sweep(measured, "text")


def tiny_model(tmp_path, batch):
    """x[batch, 4] -> MatMul(W[4, 3]) -> Relu: a model made here, with a dynamic batch."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm"), helper.make_node("Relu", ["y"], ["z"])],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [batch, 3])], [w])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)


def test_dynamic_dimensions_need_a_shape(tmp_path):
    model = tiny_model(tmp_path, "N")
    with pytest.raises(ScenarioError, match=r"input 'x': has a dynamic dimension \[N, 4\].*--input-shape"):
        load_graph(model)
    prof = profile_onnx(model, cpu_power_w=1, repeats=2, warmup=1, input_shapes={"x": [2, 4]}, progress=False)
    mm, relu = prof.document["stages"]
    assert (mm["name"], mm["op"], mm["inputs"]) == ("mm", "MatMul", [])
    assert relu["name"] == "Relu_1" and relu["inputs"] == ["mm"]  # an unnamed node: its operator and position
    assert mm["output_mb"] * (1 << 20) == 2 * 3 * 4 and mm["profiles"]["cpu"]["memory_mb"] * (1 << 20) == 4 * 3 * 4
    assert prof.graph.nodes[0].flops == 2 * 2 * 3 * 4
