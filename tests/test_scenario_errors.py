"""Every mistake a person can make in a scenario gets one clear line naming the field."""

import copy
from pathlib import Path

import numpy as np
import orjson
import pytest

import eip
from eip import ScenarioError

SEED = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json"
BASE = orjson.loads(SEED.read_bytes())


def broken(edit, base=BASE):
    doc = copy.deepcopy(base)
    edit(doc)
    return doc


def _set(path, value):
    def edit(doc):
        *head, last = path
        node = doc
        for key in head:
            node = node[key]
        node[last] = value
    return edit


def _delete(path):
    def edit(doc):
        *head, last = path
        node = doc
        for key in head:
            node = node[key]
        del node[last]
    return edit


CASES = [
    (_set(("stages", 0, "layers"), []), "stages[0].layers: expected at least one layer name, got an empty list"),
    (_set(("stages", 0, "layers"), ["conv1", 3]), "stages[0].layers[1]: expected a non-empty string, got 3"),
    (_set(("stages", 1, "name"), "s" * 300), "stages[1].name: expected a name of at most 256 characters, got 300"),
    (_set(("stages", 0, "op"), 3), "stages[0].op: expected a non-empty string, got 3"),
    (_set(("stages", 3, "profiles", "npu", "estimated"), "yes"), "stages[3].profiles.npu.estimated: expected true or false, got 'yes'"),
    (_set(("provenance",), {"tpu": "measured"}), "provenance.tpu: unknown device 'tpu'; did you mean 'npu'?"),
    (_set(("provenance",), {"npu": 3}), "provenance.npu: expected a string, got 3"),
    (_set(("provenance",), ["npu"]), "provenance: expected an object keyed by device name, got a list"),
    (_set(("stages", 3, "profiles", "npu", "latency_ms"), -1), "stages[3].profiles.npu.latency_ms: expected a number >= 0, got -1"),
    (_set(("stages", 0, "output_mb"), float("nan")), "stages[0].output_mb: expected a number >= 0, got nan"),
    (_set(("stages", 0, "output_mb"), float("inf")), "stages[0].output_mb: expected a number >= 0, got inf"),
    (_set(("stages", 0, "output_mb"), "24"), "stages[0].output_mb: expected a number >= 0, got '24'"),
    (_set(("stages", 0, "output_mb"), True), "stages[0].output_mb: expected a number >= 0, got true"),
    (_delete(("devices", 1, "memory_mb")), "devices[1].memory_mb: missing required field"),
    (_set(("devices", 2, "name"), "cpu"), "devices[2].name: duplicate device name 'cpu'"),
    (_set(("stages", 2, "name"), "frame_decode"), "stages[2].name: duplicate stage name 'frame_decode'"),
    (_set(("stages", 1, "profiles", "tpu"), {"latency_ms": 1, "energy_mj": 1, "memory_mb": 1}), "stages[1].profiles.tpu: unknown device 'tpu'; did you mean 'npu'?"),
    (_set(("links", 0, "target"), "gpux"), "links[0].target: unknown device 'gpux'; did you mean 'gpu'?"),
    (lambda d: d["links"].append({"source": "gpu", "target": "cpu", "latency_ms_per_mb": 1, "energy_mj_per_mb": 1, "bidirectional": False}),
     "links[3]: duplicate link gpu -> cpu (already given by links[0])"),
    (_set(("links", 0, "target"), "cpu"), "links[0]: a link joins two different devices, got 'cpu' to itself"),
    (_set(("devices",), []), "devices: expected at least one device, got an empty list"),
    (_set(("stages",), []), "stages: expected at least one stage, got an empty list"),
    (_set(("stages", 4, "profiles"), {}), "stages[4].profiles: no device can run stage 'detector_heads'"),
    (_set(("stages", 0, "latency_ms"), 3), "stages[0].latency_ms: unknown key 'latency_ms'"),
    (_set(("constraints", "max_total_latency"), 3), "constraints.max_total_latency: unknown key 'max_total_latency'; did you mean 'max_total_latency_ms'?"),
    (_set(("constraints", "max_total_energy_mj"), -2), "constraints.max_total_energy_mj: expected a number >= 0, got -2"),
    (_set(("links", 1, "bidirectional"), "yes"), "links[1].bidirectional: expected true or false, got 'yes'"),
    (_set(("stages", 0, "profiles"), []), "stages[0].profiles: expected an object keyed by device name, got a list"),
    (_set(("devices", 0), "cpu"), "devices[0]: expected an object, got 'cpu'"),
    (_set(("stages", 6, "name"), ""), "stages[6].name: expected a non-empty string, got ''"),
    (_set(("devces",), []), "devces: unknown key 'devces'; did you mean 'devices'?"),
]


def test_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"devices": [\n  {"name": "cpu",, }\n]}')
    with pytest.raises(ScenarioError, match=r"bad\.json: invalid JSON at line 2, column \d+"):
        eip.load(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        eip.load(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="is a directory"):
        eip.load(tmp_path)
    top = tmp_path / "list.json"
    top.write_text("[1, 2]")
    with pytest.raises(ScenarioError, match=r"list\.json: \(top level\): expected an object, got a list"):
        eip.load(top)


def test_numbers_at_the_edges(tmp_path):
    dup = tmp_path / "dup.json"
    dup.write_text(SEED.read_text().replace('"name": "frame_decode",', '"name": "frame_decode", "name": "again",', 1))
    with pytest.raises(ScenarioError, match=r"dup\.json: duplicate key 'name' in one object"):
        eip.load(dup)
    doc = copy.deepcopy(BASE)
    doc["stages"][0]["profiles"]["cpu"]["latency_ms"] = np.int64(5)  # numpy numbers are numbers
    doc["devices"][0]["memory_mb"] = np.float32(4096)
    assert eip.Scenario.from_dict(doc).stages[0].profiles["cpu"][0].latency_ms == 5.0
    for path, value in ((("constraints", "max_total_latency_ms"), 5e-324), (("devices", 1, "memory_mb"), 1.797e308),
                        (("stages", 2, "output_mb"), 1e13), (("links", 0, "latency_ms_per_mb"), 1e-10)):
        with pytest.raises(ScenarioError, match=r"expected a number >= 0 \(0 or from 1e-9 to 1e12\)"):
            eip.Scenario.from_dict(broken(_set(path, value)))
    with pytest.raises(ValueError, match="goal weight 'latency' must be a number >= 0"):
        eip.plan(eip.Scenario.from_dict(BASE), goal={"latency": 6e-323, "energy": 1})


def test_seed_loads_with_every_field():
    scenario = eip.load(SEED)
    assert scenario.name == "mobile_vision_stack"
    assert [d.name for d in scenario.devices] == ["cpu", "gpu", "npu"]
    assert scenario.devices[2].label == "Neural Processing Unit"
    assert scenario.links[0].bidirectional is True
    assert scenario.constraints.max_total_latency_ms == 32.0
    assert "npu" not in scenario.stages[0].profiles
    with pytest.raises(TypeError):
        scenario.stages[0].profiles["npu"] = None  # read-only


WAYS = orjson.loads((SEED.parent / "mobile_vision_ways.json").read_bytes())


WAY_CASES = [
    (_set(("stages", 2, "profiles", "npu", 1, "mode"), "turbo"),
     "stages[2].profiles.npu[1].mode: unknown power mode 'turbo' of device 'npu' (its power_modes: none)"),
    (_set(("stages", 0, "profiles", "cpu", "mode"), "fast"),
     "stages[0].profiles.cpu.mode: unknown power mode 'fast' of device 'cpu' (its power_modes: performance, powersave)"),
    (_set(("stages", 2, "profiles", "npu", 1, "variant"), "fp16"),
     "stages[2].profiles.npu[1]: duplicate way: variant 'fp16' is already given for device 'npu'"),
    (_set(("stages", 2, "profiles", "npu"), []), "stages[2].profiles.npu: expected at least one way, got an empty list"),
    (_set(("stages", 2, "profiles", "npu", 1, "accuracy_loss"), -0.1),
     "stages[2].profiles.npu[1].accuracy_loss: expected a number >= 0, got -0.1"),
    (_set(("stages", 2, "profiles", "npu", 1, "output_mb"), "small"),
     "stages[2].profiles.npu[1].output_mb: expected a number >= 0, got 'small'"),
    (_set(("stages", 2, "profiles", "npu", 1, "precision"), "int8"),
     "stages[2].profiles.npu[1].precision: unknown key 'precision'"),
    (_set(("devices", 0, "power_modes", 1, "latency_scale"), 0),
     "devices[0].power_modes[1].latency_scale: expected a number > 0, got 0"),
    (_set(("devices", 0, "power_modes", 1, "name"), "performance"),
     "devices[0].power_modes[1].name: duplicate power mode 'performance'"),
    (_delete(("devices", 0, "power_modes", 0, "power_scale")), "devices[0].power_modes[0].power_scale: missing required field"),
    (_set(("devices", 2, "mode_policy"), "fixed"), "devices[2].mode_policy: a fixed mode policy needs power_modes"),
    (_set(("devices", 1, "mode_policy"), "sometimes"), "devices[1].mode_policy: expected one of per_stage, fixed, got 'sometimes'"),
    (lambda d: (d["constraints"].pop("frame_rate_hz"), d["constraints"].pop("max_average_power_w")),
     "devices[1].sustained_power_w: a power limit needs constraints.frame_rate_hz"),
    (_delete(("constraints", "frame_rate_hz")),
     "constraints.max_average_power_w: a power limit needs constraints.frame_rate_hz"),
    (_set(("constraints", "frame_rate_hz"), 0), "constraints.frame_rate_hz: expected a number > 0, got 0"),
    (_set(("constraints", "max_accuracy_loss"), -1), "constraints.max_accuracy_loss: expected a number >= 0, got -1"),
]


@pytest.mark.parametrize("base,source,edit,message", [(BASE, "seed.json", *case) for case in CASES]
                         + [(WAYS, "ways.json", *case) for case in WAY_CASES])
def test_schema_errors_name_path_and_expectation(base, source, edit, message):
    """The seed's schema errors, then the ways issue's (on the ways example)."""
    with pytest.raises(ScenarioError) as info:
        eip.Scenario.from_dict(broken(edit, base), source=source)
    assert str(info.value).startswith(f"{source}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_way_measured_at_a_mode_replaces_the_scaled_one():
    """A way without a mode runs in every mode of its device, scaled; one measured at a
    mode is taken as measured there."""
    doc = broken(lambda d: d["stages"][0]["profiles"].update(cpu=[
        {"latency_ms": 5.6, "energy_mj": 4.2, "memory_mb": 280},
        {"latency_ms": 7.0, "energy_mj": 2.0, "memory_mb": 280, "mode": "powersave"}]), WAYS)
    model = eip.Scenario.from_dict(doc).cost_model
    cpu = [o for o, name in enumerate(model.option_names) if name.startswith("cpu")]
    assert [model.option_names[o] for o in cpu] == ["cpu@performance", "cpu@powersave"]
    assert model.exec_ms[0, cpu].tolist() == [5.6, 7.0] and model.exec_mj[0, cpu].tolist() == [4.2, 2.0]
    # the next stage has no measured mode: scaled by 1.6 and 1.6 x 0.45
    assert model.exec_ms[1, cpu].tolist() == pytest.approx([3.4, 3.4 * 1.6])
    assert model.exec_mj[1, cpu].tolist() == pytest.approx([2.9, 2.9 * 1.6 * 0.45])
