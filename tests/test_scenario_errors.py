"""Every mistake a person can make in a scenario gets one clear line naming the field."""

import copy
from pathlib import Path

import orjson
import pytest

import eip
from eip import ScenarioError

SEED = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json"
BASE = orjson.loads(SEED.read_bytes())


def broken(edit):
    doc = copy.deepcopy(BASE)
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


@pytest.mark.parametrize("edit,message", CASES)
def test_schema_errors_name_path_and_expectation(edit, message):
    with pytest.raises(ScenarioError) as info:
        eip.Scenario.from_dict(broken(edit), source="seed.json")
    assert str(info.value).startswith("seed.json: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


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
