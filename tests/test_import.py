"""`eip import`: real profiler files (HaX-CoNN's trtexec profiles, an ONNX Runtime profile
recorded here, CO-UP's Layers.csv) and a TFLite op-profiling sample written from the
documented format, merged into scenarios by stage name; nothing dropped silently."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import orjson
import pytest

import eip
from eip.cli import main
from eip.errors import ScenarioError
from eip.profile import group_stages, import_profile, read_profile

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HAXCONN = DATA / "HaX-CoNN" / "build2" / "googlenet_transition_plans" / "profiles"
COUP = DATA / "CO-UP-Profiling" / "Profiling" / "Data" / "Layers.csv"
TFLITE = ROOT / "tests" / "data" / "tflite_mobilenet_op_profile.csv"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="../shared/data is not beside the checkout")


def trt_entries(path: Path) -> list[dict]:
    return json.loads(path.read_text())[1:]


@needs_data
def test_trtexec_gpu_profile_becomes_a_chain_and_loses_no_time():
    path = HAXCONN / "googlenet_gpu_transition_at_-1.profile"
    doc, (report,) = import_profile("trtexec", path, device="gpu", power_w=10)
    entries = trt_entries(path)
    layers = [e["name"] for e in entries if not any(t in e["name"] for t in (" reformatter ", " copy"))]
    copies = {e["name"][: -len(" copy")] for e in entries if e["name"].endswith(" copy")}
    assert [s["name"] for s in doc["stages"]] == [n for n in layers if n not in copies]
    total = sum(s["profiles"]["gpu"]["latency_ms"] for s in doc["stages"])
    assert total + sum(ms for _, ms in report.unmatched) == pytest.approx(sum(e["averageMs"] for e in entries))
    assert not report.unmatched and report.measured == len(doc["stages"])
    fused = next(s for s in doc["stages"] if s["name"] == "conv1/7x7_s2 + conv1/relu_7x7")
    assert fused["profiles"]["gpu"]["latency_ms"] == pytest.approx(0.022264 + 0.0831208)  # layer + its reformatter
    assert all(s["inputs"] == ([doc["stages"][i - 1]["name"]] if i else []) for i, s in enumerate(doc["stages"]))
    assert "average time per layer over 12485 runs" in doc["provenance"]["gpu"]


@needs_data
def test_a_dla_group_merges_the_stages_it_covers():
    doc, _ = import_profile("trtexec", HAXCONN / "googlenet_gpu_transition_at_-1.profile", device="gpu", power_w=10)
    gpu_ms = {s["name"]: s["profiles"]["gpu"]["latency_ms"] for s in doc["stages"]}
    doc, (gpu, dla) = import_profile("trtexec", HAXCONN / "googlenet_dla_transition_at_10.profile", into=doc,
                                     device="gpu", dla_device="dla", power_w=2.5, links={"gpu": (0.05, 0.1)})
    ((name, members),) = dla.groups
    assert name == "{inception_3a/1x1 .. loss3/classifier} (130 layers)" and len(members) == 49  # TensorRT's: 2,890 chars
    group = next(s for s in doc["stages"] if s["name"] == name)
    fused = [layer for m in members for layer in m.replace(" || ", " + ").split(" + ")]  # the 49 stages' layers
    assert group["layers"] == fused and group["layers"][0] == "inception_3a/1x1"
    assert group["profiles"]["gpu"]["latency_ms"] == pytest.approx(sum(gpu_ms[m] for m in members))
    assert group["profiles"]["dla"]["energy_mj"] == pytest.approx(group["profiles"]["dla"]["latency_ms"] * 2.5)
    assert any("no stage has: inception_3a/output" in note for note in dla.notes)  # TensorRT's removed concats
    assert len(dla.uncovered) == len(doc["stages"]) - 1
    result = eip.plan(eip.Scenario.from_dict(doc))
    assert result.status == "optimal"
    # a later import finds the group by the layers it keeps, not by its (shortened) name
    again, (_, dla_again) = import_profile("trtexec", HAXCONN / "googlenet_dla_transition_at_10.profile",
                                           into=orjson.loads(orjson.dumps(doc)), device="gpu", dla_device="dla", power_w=2.5)
    assert not dla_again.groups and not dla_again.unmatched and dla_again.measured == 1


@needs_data
def test_a_whole_network_dla_profile_reports_its_overheads():
    doc, _ = import_profile("trtexec", HAXCONN / "googlenet_gpu_transition_at_-1.profile", device="gpu", power_w=10)
    path = DATA / "HaX-CoNN" / "build2" / "googlenet_mark_plans" / "profiles" / "googlenet_dla_mark_at_-1.profile"
    doc, reports = import_profile("trtexec", path, into=doc, device="dla", power_w=2.5, links={"gpu": (0.05, 0.1)})
    dla = reports[0]
    assert {n for n, _ in dla.unmatched} == {"data to nvm", "data copy"}  # not a layer: reported, not dropped
    names = [s["name"] for s in doc["stages"]]
    assert len(names) == 2 and names[1] == "prob"  # the DLA group covers every layer but the softmax


def test_ort_profile_recorded_here(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    model = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_squeezenet.onnx")
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / "ort")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    import numpy as np
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    for _ in range(3):
        session.run(None, {session.get_inputs()[0].name: x})
    trace = session.end_profiling()
    profiled = eip.profile_onnx(model, cpu_power_w=5, repeats=2, warmup=1, progress=False)
    doc, (report,) = import_profile("ort", trace, into=profiled.document, device="cpu_ort", power_w=6,
                                    links={"cpu": (0.0, 0.0)})
    events = [e for e in json.loads(Path(trace).read_text()) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    nodes = {e["name"][: -len("_kernel_time")] for e in events}
    stages = {s["name"] for s in doc["stages"]}
    assert report.measured == len(stages & nodes) == len(stages)  # every stage measured
    assert {n for n, _ in report.unmatched} == nodes - stages  # the weight makers ran too: reported
    conv = next(e for e in events if e["name"] == "n0_kernel_time")
    n0 = next(s for s in doc["stages"] if s["name"] == "n0")["profiles"]["cpu_ort"]
    assert n0["memory_mb"] * (1 << 20) == int(conv["args"]["parameter_size"])
    assert n0["energy_mj"] == pytest.approx(n0["latency_ms"] * 6)


def test_tflite_run_order_table():
    profile = read_profile("tflite", TFLITE)
    assert [r.name for r in profile.rows][:2] == ["MobilenetV1/Conv2d_0/Relu6", "MobilenetV1/Conv2d_1_depthwise/Relu6"]
    assert len(profile.rows) == 9  # the run-order table only: not the init phase, not the summaries
    squeeze = next(r for r in profile.rows if r.name.endswith("SpatialSqueeze"))
    assert squeeze.latency_ms == pytest.approx(0.008) and squeeze.op == "RESHAPE"  # avg x times called
    logits = next(r for r in profile.rows if r.name.endswith("Conv2d_1c_1x1/BiasAdd"))
    assert logits.memory_mb == pytest.approx(4001 / 1024)
    doc, (report,) = import_profile("tflite", TFLITE, device="cpu", power_w=2, memory_mb=64)
    assert [s["op"] for s in doc["stages"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    assert eip.plan(eip.Scenario.from_dict(doc)).status == "optimal"


@needs_data
@pytest.mark.parametrize("component, device", [("B", "big_cpu"), ("G", "mali_gpu")])
def test_coup_layers_match_the_realdata_scenario(component, device):
    doc, (report,) = import_profile("csv", COUP, device=device, select={"Graph": "YOLOv3", "Component": component})
    reference = orjson.loads((ROOT / "scenarios" / "yolov3_rk3399pro.json").read_bytes())
    assert len(doc["stages"]) == len(reference["stages"]) == 75
    for mine, theirs in zip(doc["stages"], reference["stages"]):
        ours, ref = mine["profiles"][device], theirs["profiles"][device]
        assert ours["latency_ms"] == pytest.approx(ref["latency_ms"], abs=1e-4)
        assert ours["energy_mj"] == pytest.approx(ref["energy_mj"], abs=1e-3)
    assert any("not a layer's execution" in note for note in report.notes)  # the in/out rows, reported


@needs_data
def test_coup_needs_one_graph():
    with pytest.raises(ScenarioError, match="several Graph values .* --select Graph=VALUE"):
        read_profile("csv", COUP)


def test_plain_csv_with_ways_and_power(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("stage,device,latency_ms,power_mw,memory_mb,variant,mode\n"
                    "a,npu,2,1500,10,int8,\nb,npu,3,1500,20,int8,\na,npu,1,1000,20,fp16,\n"
                    "a,dsp,4,500,5,,low\na,dsp,3,800,5,,high\n")
    doc, reports = import_profile("csv", path, power_w=None)
    assert [r.device for r in reports] == ["npu", "dsp"]
    a = doc["stages"][0]["profiles"]
    assert a["npu"] == [{"latency_ms": 2.0, "energy_mj": 3.0, "memory_mb": 10.0, "variant": "int8"},
                        {"latency_ms": 1.0, "energy_mj": 1.0, "memory_mb": 20.0, "variant": "fp16"}]
    assert [w["mode"] for w in a["dsp"]] == ["low", "high"] and reports[1].uncovered == ["b"]
    devices = {d["name"]: d for d in doc["devices"]}
    assert devices["npu"]["memory_mb"] == 40.0  # a's largest way and b, at once
    assert [m["name"] for m in devices["dsp"]["power_modes"]] == ["low", "high"]
    result = eip.plan(eip.Scenario.from_dict(doc), top_k=1)
    assert result.status == "optimal"
    doc, (only,) = import_profile("csv", path, select={"device": "dsp"})
    assert only.device == "dsp"


def test_groups_merge_a_graph_and_keep_it_acyclic():
    doc = orjson.loads((ROOT / "scenarios" / "camera_two_models.json").read_bytes())
    names = [s["name"] for s in doc["stages"]]
    group_stages(doc, {"detector": ["det_backbone_a", "det_backbone_b", "det_residual_add", "det_heads"]})
    merged = {s["name"]: s for s in doc["stages"]}
    assert "det_backbone_a" not in merged and merged["nms"]["inputs"] == ["detector"]
    assert merged["detector"]["inputs"] == ["resize_normalize"]
    original = {s["name"]: s for s in orjson.loads((ROOT / "scenarios" / "camera_two_models.json").read_bytes())["stages"]}
    members = ["det_backbone_a", "det_backbone_b", "det_residual_add", "det_heads"]
    for device, way in merged["detector"]["profiles"].items():
        assert way["latency_ms"] == pytest.approx(sum(original[m]["profiles"][device]["latency_ms"] for m in members))
    assert merged["detector"]["output_mb"] == original["det_heads"]["output_mb"]
    assert len(doc["stages"]) == len(names) - 3
    # running the detector as one stage can only cost more than placing its layers freely
    free = orjson.loads((ROOT / "scenarios" / "camera_two_models.json").read_bytes())
    for d in (doc, free):
        d["constraints"] = {}
        for device in d["devices"]:
            device["memory_mb"] = 1e6
    fastest = {"latency": 1.0, "energy": 0.0, "switch": 0.0}  # scores differ in baselines: compare latencies
    grouped, ungrouped = (eip.plan(eip.Scenario.from_dict(d), goal=fastest, top_k=1) for d in (doc, free))
    assert grouped.status == ungrouped.status == "optimal"
    assert grouped.best.latency_ms >= ungrouped.best.latency_ms - 1e-9
    assert len({grouped.best.placement[i] for i, s in enumerate(doc["stages"]) if s["name"] == "detector"}) == 1


def test_a_group_that_is_not_convex_is_refused():
    doc = orjson.loads((ROOT / "scenarios" / "camera_two_models.json").read_bytes())
    with pytest.raises(ScenarioError, match="not convex"):
        group_stages(doc, {"bad": ["det_backbone_a", "det_residual_add"]})  # det_backbone_b lies between


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("stage,device,latency_ms,memory_mb\na,cpu,1,1\n"), "energy_mj or power_mw"),
    (lambda p: p.write_text("stage,device,latency_ms,energy_mj,memory_mb\na,cpu,x,1,1\n"),
     "line 2, column latency_ms: expected a number, got 'x'"),
    (lambda p: p.write_text("stage,device,latency_ms,energy_mj,memory_mb\na,cpu,-1,1,1\n"), "expected a number >= 0"),
])
def test_csv_errors(tmp_path, make, message):
    path = tmp_path / "bad.csv"
    make(path)
    with pytest.raises(ScenarioError, match=message):
        import_profile("csv", path)


def test_cli_import_errors(tmp_path, capsys):
    for args, message in [
        (["import", "tflite", str(TFLITE), "--device", "cpu"], "--into is required"),
        (["import", "tflite", str(TFLITE), "--into", str(tmp_path / "s.json")], "give --device NAME"),
        (["import", "tflite", str(TFLITE), "--into", str(tmp_path / "s.json"), "--device", "cpu"], "give --power-w"),
        (["import", "xla", str(TFLITE), "--into", str(tmp_path / "s.json")], "unknown format 'xla'"),
        (["import", "trtexec", str(TFLITE), "--into", str(tmp_path / "s.json"), "--device", "gpu"], "invalid JSON"),
        (["import", "tflite", str(TFLITE), "--into", str(tmp_path / "s.json"), "--device", "cpu", "--power-w", "1",
          "--link", "gpu=1"], "--link expects"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert not (tmp_path / "s.json").exists()


def test_cli_import_creates_then_merges(tmp_path, capsys):
    target = tmp_path / "s.json"
    main(["import", "tflite", str(TFLITE), "--device", "cpu", "--power-w", "2", "--into", str(target)])
    path = tmp_path / "npu.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["stage", "device", "latency_ms", "energy_mj", "memory_mb"])
        writer.writerow(["MobilenetV1/Conv2d_0/Relu6", "npu", 0.4, 0.5, 1])
        writer.writerow(["not/a/layer\x1b[31m", "npu", 0.1, 0.1, 1])
    main(["import", "csv", str(path), "--into", str(target), "--memory-mb", "8", "--link", "cpu=0.1,0.05"])
    err = capsys.readouterr().err
    assert "npu: 1 stages measured" in err and "match no stage" in err and "\x1b" not in err
    scenario = eip.load(target)
    assert scenario.device("npu").memory_mb == 8 and len(scenario.links) == 1
    assert "npu" in scenario.stages[0].profiles and "npu" not in scenario.stages[1].profiles


def test_trtexec_layer_info_gives_the_graph():
    data = ROOT / "tests" / "data"
    doc, (report,) = import_profile("trtexec", data / "trtexec_resblock.profile", device="gpu", power_w=10,
                                    layer_info=str(data / "trtexec_resblock.layers.json"))
    stages = {s["name"]: s for s in doc["stages"]}
    assert list(stages) == ["conv1 + relu1", "conv2", "add + relu2", "pool"]
    assert stages["add + relu2"]["inputs"] == ["conv2", "conv1 + relu1"]  # the skip connection
    assert stages["conv2"]["profiles"]["gpu"]["latency_ms"] == pytest.approx(0.069 + 0.01)  # median, plus its reformatter
    assert stages["conv2"]["output_mb"] * (1 << 20) == 64 * 56 * 56 * 2  # fp16
    assert stages["pool"]["op"] == "CaskPooling" and stages["pool"]["output_mb"] * (1 << 20) == 64 * 4
    assert "median time per layer over 500 runs" in doc["provenance"]["gpu"]
    assert eip.plan(eip.Scenario.from_dict(doc)).status == "optimal"


# --- grouping against the model's definitions: a group is its members on one device ---

from hypothesis import given, settings, strategies as st  # noqa: E402

from reference import evaluate  # noqa: E402
from strategies import scenario_docs  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(doc=scenario_docs(max_stages=6, max_devices=3), data=st.data())
def test_a_group_costs_its_members_on_one_device(doc, data):
    """A run of stages in the listed order is convex; grouped, each placement costs what its
    members cost on that device: the same when one member at most is read outside the
    group, else never less (every outside reader receives every member's outside output)."""
    import copy
    import itertools

    n = len(doc["stages"])
    first = data.draw(st.integers(0, n - 1))
    last = data.draw(st.integers(first, n - 1))
    members = [s["name"] for s in doc["stages"][first:last + 1]]
    common = set.intersection(*(set(s["profiles"]) for s in doc["stages"][first:last + 1]))
    if not common:
        with pytest.raises(ScenarioError, match="could run nowhere"):
            group_stages(copy.deepcopy(doc), {"g": members})
        return
    grouped_doc = group_stages(copy.deepcopy(doc), {"g": members})
    original, grouped = eip.Scenario.from_dict(doc), eip.Scenario.from_dict(grouped_doc)
    inside = set(members)
    read_outside = {p for s in original.stages if s.name not in inside for p in s.inputs if p in inside}
    exact = len(read_outside) <= 1
    names = [s.name for s in grouped.stages]
    devices = [d.name for d in original.devices]
    for placement in itertools.product(devices, repeat=len(names)):
        where = dict(zip(names, placement))
        if any(device not in stage.profiles for stage, device in zip(grouped.stages, placement)):
            continue
        expanded = [where["g"] if s.name in inside else where[s.name] for s in original.stages]
        mine, theirs = evaluate(grouped, placement, (1, 1, 0)), evaluate(original, expanded, (1, 1, 0))
        if exact:
            assert (mine is None) == (theirs is None)
        if mine is None:
            continue
        assert theirs is not None
        assert mine.memory_mb == pytest.approx(theirs.memory_mb)
        if exact:
            assert (mine.latency_ms, mine.energy_mj) == pytest.approx((theirs.latency_ms, theirs.energy_mj))
        else:
            assert mine.latency_ms >= theirs.latency_ms - 1e-9 and mine.energy_mj >= theirs.energy_mj - 1e-9
