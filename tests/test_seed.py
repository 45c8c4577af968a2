"""The seed tool's published answers on its own reference scenario."""

from pathlib import Path

import pytest

import eip

SEED = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json"


@pytest.fixture(scope="module")
def seed():
    return eip.load(SEED)


@pytest.mark.parametrize("strategy", ["auto", "exact"])
def test_balanced_top3_reproduces_published_answer(seed, strategy):
    result = eip.plan(seed, goal="balanced", top_k=3, strategy=strategy)
    assert result.status == "optimal" and result.gap == 0.0
    best = result.best
    assert best.placement == ("gpu", "gpu", "npu", "npu", "npu", "npu", "gpu")
    assert round(best.score, 4) == 1.8479
    assert round(best.latency_ms, 2) == 27.97 and round(best.energy_mj, 2) == 32.18
    assert best.switches == 2
    assert best.memory_mb["gpu"] == (1030.0, 6144.0)
    assert best.memory_mb["npu"] == (2576.0, 3072.0)
    assert best.memory_mb["cpu"] == (0.0, 4096.0)
    assert [round(p.score, 4) for p in result.plans] == [1.8479, 1.8535, 1.8851]


def test_latency_and_efficiency_goals(seed):
    latency = eip.plan(seed, goal="latency", top_k=1)
    assert round(latency.best.score, 4) == 1.5197
    assert latency.best.placement == ("gpu", "gpu", "npu", "npu", "npu", "npu", "gpu")
    efficiency = eip.plan(seed, goal="efficiency", top_k=1)
    # nothing binds the efficiency optimum: the k-best Viterbi fast path proves it alone
    assert efficiency.strategy == "viterbi" and efficiency.status == "optimal"
    assert round(efficiency.best.score, 4) == 1.6434
    assert efficiency.best.placement == ("cpu", "npu", "npu", "npu", "npu", "npu", "gpu")


def test_per_stage_breakdown_of_best_plan(seed):
    stages = eip.plan(seed).best.stages
    assert [s.stage for s in stages][0] == "frame_decode"
    assert (stages[2].device, stages[2].xfer_ms, stages[2].exec_ms) == ("npu", pytest.approx(12 * 0.09), 7.4)
    assert stages[6].xfer_ms == pytest.approx(1 * 0.09) and stages[6].memory_mb == 260
    assert sum(s.total_ms for s in stages) == pytest.approx(27.97)


def test_custom_weights_and_caps_that_bind(seed):
    tight = eip.Scenario.from_dict({
        **_doc(), "constraints": {"max_total_latency_ms": 26.0, "max_total_energy_mj": 45.0}})
    result = eip.plan(tight, goal={"energy": 1.0})
    assert result.status == "optimal"
    assert result.best.placement == ("gpu", "gpu", "gpu", "gpu", "gpu", "npu", "gpu")
    assert all(p.latency_ms <= 26.0 for p in result.plans)
    assert result.weights == (0.0, 1.0, 0.0, 0.0) and result.goal == "custom"
    joint = eip.Scenario.from_dict({
        **_doc(), "constraints": {"max_total_latency_ms": 26.0, "max_total_energy_mj": 40.0}})
    result = eip.plan(joint, goal={"energy": 1.0})
    assert result.status == "infeasible"
    assert result.reason == ("the latency cap 26 ms and energy cap 40 mJ cannot both be met: "
                             "the most frugal plan within 26 ms uses 40.2 mJ")


def test_infeasible_scenario_says_which_cap(seed):
    doc = _doc()
    doc["constraints"] = {"max_total_latency_ms": 20.0}
    result = eip.plan(eip.Scenario.from_dict(doc))
    assert result.status == "infeasible" and not result.plans and not result
    assert result.reason == "the fastest possible plan takes 25.45 ms > latency cap 20 ms"
    doc["constraints"] = {}
    doc["devices"][2]["memory_mb"] = 100  # npu; renderer and frame_decode still have cpu/gpu
    doc["devices"][0]["memory_mb"] = 0
    doc["devices"][1]["memory_mb"] = 500
    result = eip.plan(eip.Scenario.from_dict(doc))
    assert result.status == "infeasible"
    assert "memory" in result.reason


def test_bad_arguments_are_value_errors(seed):
    for kwargs, text in [({"goal": "lat"}, "unknown goal 'lat'"), ({"top_k": 0}, "top_k"),
                         ({"strategy": "greedy"}, "unknown strategy"), ({"goal": {"latency": -1}}, "latency"),
                         ({"goal": {"latency": 0}}, "all zero")]:
        with pytest.raises(ValueError, match=text):
            eip.plan(seed, **kwargs)


def _doc():
    import orjson

    return orjson.loads(SEED.read_bytes())
