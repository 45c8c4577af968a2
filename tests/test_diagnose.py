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
