"""Sensitivity in explanations against brute force: every budget step's best plan is the
brute-force optimum of the scenario with that budget moved, infeasible where none fits."""

from __future__ import annotations

import copy
import math

from hypothesis import given, settings

import eip
from eip.costmodel import Dim
from eip.explain import budget_step
from eip.goals import resolve_goal
from reference import ranked_plans
from strategies import goals, scenario_docs

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def _with_limit(doc: dict, dim: int, limit: float) -> dict:
    doc = copy.deepcopy(doc)
    if dim == Dim.LATENCY:
        doc["constraints"]["max_total_latency_ms"] = limit
    elif dim == Dim.ENERGY:
        doc["constraints"]["max_total_energy_mj"] = limit
    else:
        doc["devices"][dim - eip.Scenario.from_dict(doc).cost_model.dims.memory]["memory_mb"] = limit
    return doc


@settings(max_examples=120, deadline=None)
@given(scenario_docs(max_placements=1024), goals)
def test_every_budget_step_is_the_brute_force_optimum(doc, goal):
    _, weights = resolve_goal(goal)
    result = eip.plan(eip.Scenario.from_dict(doc), goal=goal, top_k=1, strategy="exact")
    explanation = eip.explain(result)
    if result.best is None:
        assert explanation.budgets == ()
        return
    best = result.best
    for budget in explanation.budgets:
        if not math.isfinite(budget.limit):
            assert budget.shifts == () and budget.sensitivity == ""
            continue
        assert budget.step == budget_step(budget.limit, budget.unit) > 0
        assert (budget.tightened is None) == (budget.limit < budget.step)
        assert budget.name in budget.sensitivity
        for shift in budget.shifts:
            ref = ranked_plans(eip.Scenario.from_dict(_with_limit(doc, budget.dim, budget.limit + shift.change)), weights)
            if not ref:
                assert shift.plan is None and shift.status == "infeasible"
                assert math.isnan(shift.delta_score)
                continue
            assert shift.status == "optimal" and shift.plan is not None
            assert close(shift.plan.score, ref[0].score)
            assert close(shift.delta_score, shift.plan.score - best.score)
            assert close(shift.delta_ms, shift.plan.latency_ms - best.latency_ms)
            assert close(shift.delta_mj, shift.plan.energy_mj - best.energy_mj)
            # more of a budget never hurts; less never helps
            assert shift.delta_score <= TOL if shift.change > 0 else shift.delta_score >= -TOL


def test_budget_steps_are_round():
    assert budget_step(32, "ms") == 1 and budget_step(35, "mJ") == 1 and budget_step(5, "ms") == 0.1
    assert budget_step(120, "ms") == 2 and budget_step(3072, "MB") == 256 and budget_step(6144, "MB") == 512
    assert budget_step(0, "MB") == 1 and budget_step(3, "MB") == 0.25
