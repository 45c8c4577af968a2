"""The quick infeasibility check `eip validate` runs is sound: when it names a reason, the
brute-force reference finds no plan; and `eip.plan` agrees that there is none."""

from __future__ import annotations

from hypothesis import given, settings

import eip
from eip.diagnose import quick_reason
from reference import ranked_plans
from strategies import scenario_docs


@settings(max_examples=150, deadline=None)
@given(doc=scenario_docs(max_stages=6, max_devices=3))
def test_a_quick_reason_is_a_proof(doc):
    scenario = eip.Scenario.from_dict(doc)
    reason = quick_reason(scenario.cost_model)
    if reason is None:
        return
    assert ranked_plans(scenario, (1.0, 1.0, 0.0)) == [], reason
    result = eip.plan(scenario, top_k=1)
    assert result.status == "infeasible" and result.reason == reason


def _crowded() -> eip.Scenario:
    """Three stages of 8 MB, two devices of 10 MB: each budget alone can be met (every
    stage on the other device), both together cannot, and only a search shows it."""
    profile = {"latency_ms": 1.0, "energy_mj": 1.0, "memory_mb": 8.0}
    return eip.Scenario.from_dict({
        "name": "crowded", "devices": [{"name": "a", "memory_mb": 10}, {"name": "b", "memory_mb": 10}],
        "links": [{"source": "a", "target": "b", "latency_ms_per_mb": 0.1, "energy_mj_per_mb": 0.1}],
        "stages": [{"name": f"s{i}", "output_mb": 1.0, "profiles": {"a": profile, "b": profile}} for i in range(3)]})


def test_the_reasons_search_stays_within_the_time_left_and_says_when_it_stopped(monkeypatch):
    """The re-solves behind an infeasible answer's reason share the time the plan left
    (ways DAG 100x4 seed 1's report: one took 79 s past a 30 s explanation). One that stops
    unproven says nothing about its limits: the reason then says what stopped the search,
    and nothing is kept for the next diagnosis of the same model."""
    import eip.solve as eip_solve
    from eip.diagnose import infeasibility_reason
    from eip.kernels.contract import Status, Stop

    model = _crowded().cost_model
    assert quick_reason(model) is None
    full = "no plan fits every device's memory budget at once (each budget alone can be met)"
    honest, given = eip_solve.solve_model, []

    def stopped(model, coef, k, mode, beam_width, label_budget, limit_s, caps=None):
        given.append(limit_s)
        sol = honest(model, coef, k, mode, beam_width, label_budget, limit_s, caps)
        return sol._replace(status=Status.UNKNOWN, options=sol.options[:0], rows=sol.rows[:0], stop=Stop.TIME_LIMIT)

    monkeypatch.setattr(eip_solve, "solve_model", stopped)
    assert infeasibility_reason(model, 0.0) == ("no plan meets every limit at once; the time limit stopped the "
                                                "search for the limits that rule it out") and given == []
    assert "the time limit stopped" in infeasibility_reason(model, 5.0) and 0 < given[0] <= 5.0
    monkeypatch.setattr(eip_solve, "solve_model", honest)
    assert infeasibility_reason(model, 5.0) == full
    result = eip.plan(_crowded(), top_k=1, time_limit_s=5.0)
    assert result.status == "infeasible" and result.reason == full
