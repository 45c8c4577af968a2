"""Ways to run a stage (variants, power modes, fixed modes), accuracy, frame rate and power
limits, and the throughput goal, against the brute-force oracle."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import eip
from eip.goals import THROUGHPUT, resolve_goal
from reference import evaluate, feasible, ranked_plans
from strategies import goals_with_throughput, ways_scenario_docs
from test_engine_properties import close, pipeline


def _ways(plan) -> tuple:
    return tuple((s.device, s.variant, s.mode) for s in plan.stages)


def assert_recomputes(scenario, weights, plan):
    ref = evaluate(scenario, _ways(plan), weights)
    assert ref is not None and feasible(scenario, ref), plan
    assert close(plan.score, ref.score) and close(plan.latency_ms, ref.latency_ms)
    assert close(plan.energy_mj, ref.energy_mj) and plan.switches == ref.switches
    assert close(plan.accuracy_loss, ref.accuracy_loss)
    for device, busy in ref.busy_ms.items():
        assert close(plan.busy_ms[device], busy)
    assert close(plan.period_ms, ref.period_ms)
    if scenario.constraints.frame_rate_hz is not None:
        for device, mj in ref.exec_mj.items():
            assert close(plan.power_w[device], mj * scenario.constraints.frame_rate_hz / 1000.0)
    for device in scenario.devices:
        used = {s.mode for s in plan.stages if s.device == device.name}
        if device.mode_policy == "fixed" and used:
            assert plan.fixed_modes[device.name] == used.pop()


@settings(max_examples=300, deadline=None)
@given(ways_scenario_docs(), goals_with_throughput, st.sampled_from([1, 3, 5]), st.booleans())
def test_exact_topk_with_ways_equals_brute_force(doc, goal, k, full):
    scenario = eip.Scenario.from_dict(doc)
    name, weights = resolve_goal(goal)
    throughput = name == THROUGHPUT
    ref = ranked_plans(scenario, weights, throughput=throughput)
    with pipeline(full):
        result = eip.plan(scenario, goal=goal, top_k=k, strategy="exact")
    if not ref:
        assert result.status == "infeasible" and not result.plans and result.reason
        return
    assert result.status == "optimal", result
    assert len(result.plans) == min(k, len(ref))
    key = (lambda p: p.throughput_key[:5]) if throughput else (lambda p: p.key[:4])
    for i, (got, want) in enumerate(zip(result.plans, ref)):
        assert_recomputes(scenario, weights, got)
        assert close(got.score, want.score), (i, got, want)
        if throughput:
            assert close(got.period_ms, want.period_ms), (i, got, want)
        near = [r for r in ref if key(r) == key(want)]
        if len(near) == 1:
            assert _ways(got) == want.ways, (i, got, want)
        else:
            assert _ways(got) in {r.ways for r in near}
