"""The trade-offs against brute force: the frontier is exactly the Pareto set of the feasible
placements, the trade-off-set kernel is exactly their (latency, energy, switches) Pareto
set, and every sweep grid point is what a fresh ``eip.plan`` would say."""

from __future__ import annotations

import contextlib
import math
import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import eip
from dataclasses import replace
from eip.costmodel import Dim
from eip.kernels.contract import Row
from eip.tradeoff import _pareto
from reference import ranked_plans
from strategies import goals, scenario_docs


def _pareto_points(plans) -> np.ndarray:
    front: list[tuple[float, float]] = []
    for lat, en in sorted({(p.latency_ms, p.energy_mj) for p in plans}):
        # by latency, then energy: a point is on the front when it strictly cuts energy
        # (exactly: the oracle sums in the engine's documented order, so totals are bit-equal)
        if not front or en < front[-1][1]:
            front.append((lat, en))
    return np.array(front).reshape(-1, 2)


def _pareto_points3(plans) -> set[tuple[float, float, int]]:
    """(latency, energy, switches) of the plans no other beats on all three (rounded)."""
    points = {(p.latency_ms, p.energy_mj, p.switches) for p in plans}
    beats = lambda a, b: a != b and all(x <= y for x, y in zip(a, b))
    return {(round(a[0], 9), round(a[1], 9), a[2]) for a in points if not any(beats(b, a) for b in points)}


_ZERO = {"latency_ms": 0.0, "energy_mj": 0.0, "memory_mb": 0.0}
_ONE_MJ = {"latency_ms": 0.0, "energy_mj": 1.0, "memory_mb": 0.0}


def _rounding_tie_doc(first_mb: float, s1: dict, s2: dict, tail: list, max_latency_ms: float) -> dict:
    """A chain where 19.999999999999996 MB at 0.03125 mJ/MB (0.6249999999999999 mJ) and a
    0.625 mJ stage round to the same total once 1.0 mJ is added: found by a fresh CI run, where the
    unconstrained k best kept the prefix 1 ulp cheaper and lost the tie-break."""
    stages = [{"name": "s0", "output_mb": first_mb, "profiles": {"d1" if first_mb else "d0": _ZERO}}, s1, s2]
    return {"name": "random", "devices": [{"name": "d0", "memory_mb": 0.001}, {"name": "d1", "memory_mb": 0.001}],
            "links": [{"source": "d0", "target": "d1", "latency_ms_per_mb": 0.0, "energy_mj_per_mb": 0.03125}],
            "stages": stages + tail,
            "constraints": {"max_total_latency_ms": max_latency_ms, "max_total_energy_mj": 1.626}}


# (a tie at the least energy that the lower latency must win; one that the fewer switches must win)
_LATENCY_TIE = _rounding_tie_doc(
    0.0, {"name": "s1", "output_mb": 19.999999999999996, "profiles": {"d1": _ZERO}},
    {"name": "s2", "output_mb": 0.0, "profiles": {"d0": {**_ZERO, "latency_ms": 0.625},
                                                  "d1": {**_ZERO, "energy_mj": 0.625}}},
    [{"name": "s3", "output_mb": 0.0, "profiles": {"d0": _ZERO, "d1": _ZERO}},
     {"name": "s4", "output_mb": 0.0, "profiles": {"d0": _ONE_MJ}}], 0.626)
_SWITCH_TIE = _rounding_tie_doc(
    19.999999999999996,
    {"name": "s1", "output_mb": 0.0, "profiles": {"d0": _ZERO, "d1": {**_ZERO, "energy_mj": 0.625}}},
    {"name": "s2", "output_mb": 0.0, "profiles": {"d0": _ZERO, "d1": _ZERO}},
    [{"name": "s3", "output_mb": 0.0, "profiles": {"d1": _ONE_MJ}}], 0.001)


@settings(max_examples=200)
@given(scenario_docs())
@example(_LATENCY_TIE)
@example(_SWITCH_TIE)
def test_frontier_equals_the_brute_force_pareto_set(doc):
    scenario = eip.Scenario.from_dict(doc)
    feasible = ranked_plans(scenario, (1.0, 1.0, 0.0))
    got = eip.frontier(scenario)
    points = np.array([(p.latency_ms, p.energy_mj) for p in got.plans]).reshape(-1, 2)
    expected = _pareto_points(feasible)
    assert points.shape == expected.shape
    assert np.allclose(points, expected, rtol=1e-9, atol=1e-12)
    assert list(got.latency_ms) == sorted(got.latency_ms)
    placements = {p.placement for p in feasible}
    assert all(plan.placement in placements for plan in got.plans)
    # ties on the front keep the fewest switches
    fewest = {}
    for p in feasible:
        key = (p.latency_ms, p.energy_mj)
        fewest[key] = min(fewest.get(key, p.switches), p.switches)
    assert all(plan.switches == fewest[(plan.latency_ms, plan.energy_mj)] for plan in got.plans)


@settings(max_examples=150)
@given(scenario_docs())
def test_the_tradeoff_set_kernel_equals_the_brute_force_pareto_set(doc):
    """The set 2-D sweeps are answered from: exactly the (latency, energy, switches) front."""
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    (paths, rows), = _pareto(model, model.caps_tol[None, :], 10**6, 10**9)
    use = rows[:, Row.USE:]
    got = {(round(u[Dim.LATENCY], 9), round(u[Dim.ENERGY], 9), int(u[Dim.SWITCHES])) for u in use}
    want = _pareto_points3(ranked_plans(scenario, (1.0, 1.0, 0.0)))
    # the same points: summed in another order a value may round to either side of a half
    # (7.8125e-06 to 7.812e-06 from one sum, 7.813e-06 from the other)
    same = lambda a, b: a[2] == b[2] and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=2e-9) for x, y in zip(a, b))
    assert len(got) == len(want) and all(any(same(point, w) for w in want) for point in got)
    assert len(rows) == len(got)  # one placement per point


def _grid(values, lo, hi):
    return np.unique(np.round(np.linspace(lo, hi, values), 6))


@settings(max_examples=150)
@given(scenario_docs(max_stages=6), goals, st.integers(1, 6), st.integers(1, 3), st.booleans(), st.booleans())
def test_every_sweep_point_equals_a_fresh_plan(doc, goal, n_lat, n_en, sweep_memory, set_too_large):
    """Latency x energy grids (the trade-off set, or walks when it is too large), one swept
    cap (the breakpoint walk), or none, each with or without a swept memory budget."""
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    free = eip.frontier(replace(model, max_latency_ms=np.inf, max_energy_mj=np.inf))
    top_ms = max([p.latency_ms for p in free.plans] + [1.0])
    top_mj = max([p.energy_mj for p in free.plans] + [1.0])
    lat = _grid(n_lat, 0.0, 1.1 * top_ms) if n_lat > 1 else float(0.9 * top_ms)
    en = _grid(n_en, 0.3 * top_mj, 1.1 * top_mj) if n_en > 1 else float(0.8 * top_mj)
    memory = {}
    if sweep_memory:
        device = model.device_names[0]
        memory[device] = _grid(3, 0.0, float(model.mem_cap_mb[0]) if math.isfinite(model.mem_cap_mb[0]) else 100.0)
    with mock.patch("eip.tradeoff._pareto", side_effect=eip.FrontierTooLarge("too large")) if set_too_large \
            else contextlib.nullcontext():
        result = eip.sweep(scenario, goal=goal, max_latency_ms=lat, max_energy_mj=en, memory_mb=memory)
    mem_axis = list(memory.values())[0] if memory else [None]
    walked = set_too_large or np.size(lat) == 1 or np.size(en) == 1
    for index in np.ndindex(result.score.shape):
        point = dict(zip([name for name, _ in result.axes], index))
        caps = {"max_latency_ms": float(lat[point["max_latency_ms"]]) if "max_latency_ms" in point else lat,
                "max_energy_mj": float(en[point["max_energy_mj"]]) if "max_energy_mj" in point else en}
        if memory:
            budgets = model.mem_cap_mb.copy()
            budgets[0] = mem_axis[point[f"memory_mb[{model.device_names[0]}]"]]
            caps["mem_cap_mb"] = budgets
        fresh = eip.plan(replace(model, **caps), goal=goal, top_k=1, strategy="exact")
        if fresh.best is None:
            assert not result.feasible[index]
        else:
            assert result.feasible[index]
            assert math.isclose(result.score[index], fresh.best.score, rel_tol=1e-9, abs_tol=1e-12)
            chosen = result.plans[result.plan_index[index]]
            if walked:
                assert chosen.placement == fresh.best.placement  # the walk re-uses eip.plan's own answers
            assert chosen.latency_ms <= caps["max_latency_ms"] * (1 + 1e-9) + 1e-9


def test_frontier_of_the_seed_scenario():
    front = eip.frontier("scenarios/mobile_vision_pipeline.json")
    assert [(round(p.latency_ms, 2), round(p.energy_mj, 2)) for p in front.plans] == [(27.97, 32.18), (28.65, 31.6), (30.91, 30.16)]
    assert front.plans[0].placement == eip.plan("scenarios/mobile_vision_pipeline.json").best.placement
    assert len(eip.frontier("scenarios/mobile_vision_pipeline.json", max_plans=2)) == 2


def test_sweep_shapes_and_bad_budgets():
    seed = eip.load("scenarios/mobile_vision_pipeline.json")
    result = eip.sweep(seed, max_latency_ms=np.arange(20, 41, 1.0), memory_mb={"npu": [2048, 3072, 4096]})
    assert [name for name, _ in result.axes] == ["memory_mb[npu]", "max_latency_ms"]
    assert result.score.shape == result.feasible.shape == result.plan_index.shape == (3, 21)
    assert not result.feasible[:, 0].any() and result.feasible[1:, -1].all()
    # a looser budget never makes the best score worse
    scores = np.where(result.feasible, result.score, np.inf)
    assert np.all(scores[:, 1:] <= scores[:, :-1] + 1e-12) and np.all(scores[1:] <= scores[:-1] + 1e-12)
    for bad, message in (({"max_latency_ms": -1}, "max_latency_ms"), ({"memory_mb": {"tpu": 1}}, "unknown device"),
                         ({"max_energy_mj": [[1.0]]}, "1-D")):
        with pytest.raises(ValueError, match=message):
            eip.sweep(seed, **bad)


def test_exact_or_nothing_past_the_label_budget():
    from benchmarks.generate import soc_scenario

    big = eip.Scenario.from_dict(soc_scenario(30, 4, 0))
    partial = eip.frontier(big, label_budget=50)
    assert not partial.complete and partial.unexplored_ms[0] <= partial.unexplored_ms[1]
    assert re.match(r"^after \d+ frontier points?, the exact solve below .* needs more than 50 labels", partial.reason)
    full = eip.frontier(big)
    assert full.complete and full.unexplored_ms is None and full.reason == ""
    # every point proven before the stop is a point of the whole frontier, and the walk
    # stopped exactly where the unexplored range begins
    assert {p.placement for p in partial.plans} <= {p.placement for p in full.plans}
    assert all(p.latency_ms > partial.unexplored_ms[1] for p in partial.plans)
    assert all(p.latency_ms <= partial.unexplored_ms[1] * (1 + 1e-9) for p in full.plans if p not in partial.plans
               and p.placement not in {q.placement for q in partial.plans})
    timed_out = eip.frontier(big, time_limit_s=1e-9)
    assert not timed_out.complete and "time limit" in timed_out.reason
    lat = big.cost_model.max_latency_ms * np.array([0.9, 1.0])
    stopped = eip.sweep(big, max_latency_ms=lat, label_budget=50)
    assert not stopped.answered.any() and not stopped.feasible.any() and np.isnan(stopped.score).all()
    assert stopped.reason == f"the exact solve at max_latency_ms={lat[1]:g} needs more than 50 labels; raise the label budget"
    en = big.cost_model.max_energy_mj * np.array([0.9, 1.0])
    # the trade-off set passes its budget, and then so does the walk that stands in for it
    stopped = eip.sweep(big, max_latency_ms=lat, max_energy_mj=en, label_budget=50)
    assert not stopped.answered.all() and re.match(r"the exact solve at max_latency_ms=.* needs more than 50 labels",
                                                   stopped.reason)
    # what a stopped sweep answers is exact: the same as with room to work
    whole = eip.sweep(big, max_latency_ms=lat, max_energy_mj=en)
    assert whole.answered.all()
    assert np.array_equal(stopped.feasible[stopped.answered], whole.feasible[stopped.answered])
    assert np.allclose(stopped.score[stopped.answered], whole.score[stopped.answered], equal_nan=True)
    # with room to work, every point is answered and equals a fresh plan at its caps
    full = eip.sweep(big, max_latency_ms=lat)
    assert full.answered.all() and full.reason == ""
    for i, cap in enumerate(lat):
        fresh = eip.plan(replace(big.cost_model, max_latency_ms=float(cap)), top_k=1, strategy="exact")
        assert fresh.status in ("optimal", "infeasible") and full.feasible[i] == (fresh.status == "optimal")
        assert not full.feasible[i] or math.isclose(full.score[i], fresh.best.score, rel_tol=1e-12)
    timed_out = eip.sweep(big, max_latency_ms=lat, time_limit_s=1e-9)
    assert "time limit" in timed_out.reason and not timed_out.answered.all()
    assert len(eip.frontier(big)) == 9  # and exact with the default budget


def test_a_sweep_starts_no_walk_once_well_past_its_time_limit(monkeypatch):
    """A walk given no time still pays its solves' setup (0.1-0.3 s on a wide DAG's graph):
    past the time limit (and LATE_WALKS_S) the walks left are not started, and the reason
    names the first of them."""
    import time

    import eip.tradeoff as tradeoff

    started = []

    def slow_walk(model, coef, caps_tol, dim, values, limits, distinct):
        started.append(caps_tol[Dim.ENERGY])
        time.sleep(0.3)
        return np.full(len(values), tradeoff.UNANSWERED)

    monkeypatch.setattr(tradeoff, "_from_tradeoff_sets", lambda *args: None)
    monkeypatch.setattr(tradeoff, "_walk", slow_walk)
    swept = eip.sweep("scenarios/mobile_vision_pipeline.json", max_latency_ms=[28.0, 30.0, 32.0, 34.0],
                      max_energy_mj=[31.0, 35.0, 40.0], time_limit_s=0.1)
    assert len(started) == 1 and not swept.answered.any()
    assert re.fullmatch(r"the time limit was reached before the walk at max_energy_mj=35", swept.reason)
