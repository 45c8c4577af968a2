"""Ways to run a stage (variants, power modes, fixed modes), accuracy, frame rate and power
limits, and the throughput goal, against the brute-force oracle."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import eip
from eip.goals import THROUGHPUT, resolve_goal
from eip.kernels.contract import Mode, Row, Solution, Status, Stop, Strategy
from eip.report import render
from eip.tradeoff import FRONTIER_AXES
from reference import evaluate, feasible, ranked_plans
from strategies import DAG_SHAPES, goals, goals_with_throughput, ways_scenario_docs
from test_engine_properties import DEPTHS, close, fitting, graph_paths, pipeline


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
@given(ways_scenario_docs(), goals_with_throughput, st.sampled_from([1, 3, 5]), st.sampled_from(DEPTHS), st.booleans())
def test_exact_topk_with_ways_equals_brute_force(doc, goal, k, depth, fit):
    scenario = eip.Scenario.from_dict(doc)
    name, weights = resolve_goal(goal)
    throughput = name == THROUGHPUT
    ref = ranked_plans(scenario, weights, throughput=throughput)
    with pipeline(depth), fitting(fit):
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


@settings(max_examples=200, deadline=None)
@given(ways_scenario_docs(), st.data())
def test_a_mode_graph_after_others_holds_exactly_the_plans_they_do_not(doc, data):
    """``mode_graph_after(m, searched)``: the paths of mode graph m whose placement no
    searched mode graph has, in the same order, with the same usage, options in key order
    within each step; and the least usage of those paths."""
    model = eip.Scenario.from_dict(doc).cost_model
    graphs = model.mode_graphs
    m = data.draw(st.integers(0, len(graphs) - 1))
    searched = frozenset(data.draw(st.sets(st.integers(0, len(graphs) - 1)))) - {m}
    graph, least = model.mode_graph_after(m, searched)

    def placements(g) -> tuple[list[tuple], np.ndarray]:
        paths, usage = graph_paths(g)
        return [tuple(g.opt_key[p].tolist()) for p in paths], usage

    held = {p for j in searched for p in placements(graphs[j])[0]}
    every, usage = placements(graphs[m])
    new = [i for i, p in enumerate(every) if p not in held]
    got, got_usage = placements(graph)
    assert got == [every[i] for i in new]
    assert np.array_equal(got_usage, usage[new])
    for s in range(len(graph.step_start) - 1):
        assert np.all(np.diff(graph.opt_key[graph.step_start[s]:graph.step_start[s + 1]]) >= 0)
    for g in (graph, graphs[m]):  # the contract's arc order: by head, then tail, each arc once
        assert np.all(np.diff(g.arc_head * len(g.opt_key) + g.arc_tail) > 0)
        assert np.array_equal(g.arc_start, np.searchsorted(g.arc_head, np.arange(len(g.opt_key) + 1)))
    want = usage[new].min(axis=0) if new else np.full(usage.shape[1], np.inf)
    assert all(close(a, b) or a == b for a, b in zip(least.tolist(), want.tolist()))
    assert model.splits(m, searched) == (graph is not graphs[m])


@settings(max_examples=150, deadline=None)
@given(ways_scenario_docs(), st.data())
def test_a_part_of_a_mode_graph_splits_as_the_mode_graph_does(doc, data):
    """``split_after(part, m, searched)`` on a part of mode graph m (its paths through
    some model options, or none at all: a part that fixing left no path): exactly the
    paths of ``mode_graph_after(m, searched)`` that the part has, and their least usage."""
    from eip.kernels.contract import _without_arcs
    from eip.lowering import restrict

    model = eip.Scenario.from_dict(doc).cost_model
    graphs = model.mode_graphs
    m = data.draw(st.integers(0, len(graphs) - 1))
    searched = frozenset(data.draw(st.sets(st.integers(0, len(graphs) - 1)))) - {m}
    kept = np.array(data.draw(st.lists(st.booleans(), min_size=model.n_options, max_size=model.n_options)))
    part = _without_arcs(graphs[m]) if data.draw(st.booleans()) else restrict(graphs[m], kept)
    graph, least = model.split_after(part, m, searched)

    def placements(g) -> tuple[list[tuple], np.ndarray]:
        paths, usage = graph_paths(g)
        return [tuple(g.opt_key[p].tolist()) for p in paths], usage

    in_part = set(placements(part)[0])
    every, usage = placements(model.mode_graph_after(m, searched)[0])
    want = [i for i, p in enumerate(every) if p in in_part]
    got, got_usage = placements(graph)
    assert got == [every[i] for i in want]
    assert np.array_equal(got_usage, usage[want])
    want_least = usage[want].min(axis=0) if want else np.full(usage.shape[1], np.inf)
    assert all(close(a, b) or a == b for a, b in zip(least.tolist(), want_least.tolist()))


@settings(max_examples=150, deadline=None)
@given(ways_scenario_docs(), goals_with_throughput, st.sampled_from([1, 3]), st.sampled_from([1, 3, 10**6]),
       st.sampled_from([None, 1e-9, 3600.0]), st.sampled_from(["auto", "exact", "beam"]))
def test_budgets_that_stop_the_search_keep_ways_answers_honest(doc, goal, k, budget, time_limit, strategy):
    """Label budgets, time limits and the beam with ways: plans fit and recompute, "optimal"
    is the oracle's optimum, "infeasible" only when nothing fits. (A time limit that never
    runs out still changes the searches: an LP dive first, where rounds relax caps.)"""
    scenario = eip.Scenario.from_dict(doc)
    name, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights, throughput=name == THROUGHPUT)
    result = eip.plan(scenario, goal=goal, top_k=k, strategy=strategy, label_budget=budget, beam_width=2,
                      time_limit_s=time_limit)
    for plan in result.plans:
        assert_recomputes(scenario, weights, plan)
    if result.status == "optimal":
        assert close(result.plans[0].score, ref[0].score)
        if name == THROUGHPUT:
            assert close(result.plans[0].period_ms, ref[0].period_ms)
    elif result.status == "infeasible":
        assert not ref and result.reason
    elif result.status == "unknown":
        assert not result.plans and result.reason


def _front(points):
    """The Pareto set of (x, y) points: by x, then y, each strictly cutting y."""
    out = []
    for x, y in sorted(set(points)):
        if not out or y < out[-1][1]:
            out.append((x, y))
    return out


@settings(max_examples=150, deadline=None)
@given(ways_scenario_docs(), st.sampled_from(FRONTIER_AXES))
def test_frontier_on_any_axes_equals_the_brute_force_pareto_set(doc, axes):
    scenario = eip.Scenario.from_dict(doc)
    feasible = ranked_plans(scenario, (1.0, 1.0, 0.0))
    attr = {"latency": "latency_ms", "energy": "energy_mj", "accuracy": "accuracy_loss"}
    if "accuracy" in axes and scenario.cost_model.dims.accuracy < 0:
        with pytest.raises(ValueError, match="loses accuracy"):
            eip.frontier(scenario, axes=axes)
        return
    got = eip.frontier(scenario, axes=axes)
    pick = lambda p: tuple(getattr(p, attr[a]) for a in axes)
    want = np.array(_front(pick(p) for p in feasible)).reshape(-1, 2)
    points = np.array([pick(p) for p in got.plans]).reshape(-1, 2)
    assert points.shape == want.shape and np.allclose(points, want, rtol=1e-9, atol=1e-12)
    assert got.complete and got.axes == axes


@settings(max_examples=100, deadline=None)
@given(ways_scenario_docs(max_stages=4), goals_with_throughput.filter(lambda g: g != "throughput"),
       st.booleans(), st.booleans())
def test_sweeps_of_accuracy_and_frame_rate_equal_fresh_plans(doc, goal, sweep_accuracy, sweep_rate):
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    loss = [0.0, 0.5, 1.0, 2.5] if sweep_accuracy else None
    free = eip.plan(dataclasses.replace(model, track_busy=True), top_k=1, goal="throughput")
    period = free.best.period_ms if free.best and free.best.period_ms > 0 else 10.0
    rate = [1000.0 / (period * f) for f in (0.9, 1.0, 1.5, 3.0)] if sweep_rate else None
    result = eip.sweep(scenario, goal=goal, max_accuracy_loss=loss, frame_rate_hz=rate)
    names = [name for name, _ in result.axes]
    for index in np.ndindex(result.score.shape):
        point = dict(zip(names, index))
        moved = model
        if sweep_accuracy:
            moved = dataclasses.replace(moved, max_accuracy_loss=loss[point["max_accuracy_loss"]])
        if sweep_rate:
            moved = dataclasses.replace(moved, period_ms=1000.0 / rate[point["frame_rate_hz"]])
        fresh = eip.plan(moved, goal=goal, top_k=1, strategy="exact")
        assert result.feasible[index] == (fresh.best is not None)
        if fresh.best is not None:
            chosen = result.plans[result.plan_index[index]]
            assert math.isclose(result.score[index], fresh.best.score, rel_tol=1e-9, abs_tol=1e-12)
            assert chosen.option_names == fresh.best.option_names


WAYS = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_ways.json"


def test_every_report_format_shows_ways_and_limits(tmp_path):
    """The CLI on a scenario with variants, modes (one device fixed), accuracy, a frame
    rate and power limits: each format carries the way, the accuracy loss, busy time,
    period, power and the fixed mode."""
    run = lambda *args: subprocess.run([sys.executable, "-m", "eip", *map(str, args)], capture_output=True, text=True,
                                       cwd=tmp_path)
    text = run("plan", WAYS, "--goal", "throughput", "--no-sensitivity")
    assert text.returncode == 0, text.stderr
    for line in ("| way ", "accuracy loss", "Accuracy loss: ", "Period: ", "fps (frame period 25.00 ms)",
                 "Power: ", "/0.9 W", "Fixed modes: gpu ", "Goal: throughput"):
        assert line in text.stdout, line
    for fmt in ("json", "csv", "md", "html"):
        out = run("plan", WAYS, "--format", fmt, "--output", f"plan.{fmt}", "--no-sensitivity")
        assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "plan.json").read_text())
    best = doc["plans"][0]
    assert {"options", "accuracy_loss", "busy_ms", "period_ms", "fps", "power_w", "fixed_modes"} <= set(best)
    assert {"variant", "mode", "accuracy_loss"} <= set(best["stages"][0])
    assert best["period_ms"] == max(best["busy_ms"].values()) and best["fixed_modes"]["gpu"] in ("800MHz", "400MHz")
    assert any(b["name"] == "accuracy budget" for b in doc["explanation"]["budgets"])
    rows = list(csv.DictReader(io.StringIO((tmp_path / "plan.csv").read_text())))
    stages = [r for r in rows if r["record"] == "stage"]
    assert {r["variant"] for r in stages} >= {"int8"} and all(r["period_ms"] for r in stages)
    assert "| way |" in (tmp_path / "plan.md").read_text()
    page = (tmp_path / "plan.html").read_text()
    assert 'id="busy"' in page and 'id="power"' in page and "frame period" in page
    front = run("frontier", WAYS, "--axes", "latency,accuracy", "--format", "csv")
    assert front.returncode == 0 and front.stdout.startswith("point,latency_ms,energy_mj,accuracy_loss,"), front.stderr
    bad = run("frontier", WAYS, "--axes", "accuracy,latency")
    assert bad.returncode == 2 and "unknown axes 'accuracy,latency'" in bad.stderr
    valid = run("validate", WAYS)
    assert valid.returncode == 0 and "Fixed modes: 2 mode assignments" in valid.stdout
    assert "accuracy budget 0.8 points; frame period 25 ms; average power 1.3 W; gpu sustained power 0.9 W" in valid.stdout
    swept = run("sweep", WAYS, "--max-accuracy-loss", "0:1:0.5", "--frame-rate-hz", "30,60", "--format", "csv")
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.startswith("max_accuracy_loss,frame_rate_hz,answered,feasible,")


def test_the_throughput_walk_never_walks_in_place(monkeypatch):
    """The walk lowers the busy caps below each solve's largest period; a solve that answered
    a plan above its caps (no exact solve does) would leave them where they were and walk
    forever, so the walk stops with an error instead."""
    import eip.solve as eip_solve

    scenario = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_ways.json")
    honest = eip_solve.solve_model

    def above_its_caps(model, coef, k, mode, beam_width, label_budget, limit_s, caps=None):
        sol = honest(model, coef, k, mode, beam_width, label_budget, limit_s)  # the caps ignored
        return sol._replace(options=np.repeat(sol.options[:1], k, axis=0), rows=np.repeat(sol.rows[:1], k, axis=0))

    monkeypatch.setattr(eip_solve, "solve_model", above_its_caps)
    with pytest.raises(RuntimeError, match="exceeds its busy cap"):
        eip.plan(scenario, goal="throughput", top_k=1)


def test_mode_graphs_share_a_time_limit_and_stopped_ones_get_the_rest(monkeypatch):
    """Under a time limit, the first mode graph gets a share of the time; when its search
    stops there with no plan, the next graph is searched, and the first again with the time
    left, limited by the plan the second found (on the part of its graph reduced-cost fixing
    at that plan's score leaves): the answer is the untimed one, proven. (No repair after
    the first stops: its plan would spare the second graph.)"""
    import eip.solve as eip_solve

    scenario = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_ways.json")
    model = scenario.cost_model
    untimed = eip.plan(model, top_k=1)
    honest = eip_solve.solve_mode_graph
    calls = []

    def first_stops_at_its_share(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff=np.inf,
                                 root=None):
        sol = honest(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff, root)
        if not calls:  # as if its share ran out before it met a plan
            sol = sol._replace(status=eip_solve.Status.UNKNOWN, options=sol.options[:0], rows=sol.rows[:0],
                               bound=-np.inf, stop=eip_solve.Stop.TIME_LIMIT)
        calls.append((graph, limit_s, cutoff, sol))
        return sol

    monkeypatch.setattr(eip_solve, "solve_mode_graph", first_stops_at_its_share)
    monkeypatch.setattr(eip_solve, "repaired", lambda *args: None)
    result = eip.plan(model, top_k=1, time_limit_s=100.0)
    first, retried = calls[0][0], calls[2][0]
    assert len(calls) == 3 and retried.n_steps == first.n_steps and set(retried.opt_key) <= set(first.opt_key)
    searching_s = eip_solve.SEARCH_SHARE * 100.0  # (the rest is local search's)
    assert calls[0][1] <= searching_s / 2 and calls[1][1] > searching_s - 10  # half of the time left, then all of it
    second_best = calls[1][3].rows[0, eip_solve.Row.SCORE] if len(calls[1][3].rows) else np.inf
    assert calls[0][2] == np.inf and calls[2][2] == second_best  # the retry is limited by it
    assert result.status == "optimal" and result.plans[0].placement == untimed.plans[0].placement


def test_the_repairs_plan_limits_the_next_searches(monkeypatch):
    """On a chain with fixed-mode devices, once the first mode graph's search stops at its
    label budget with no plan, the repair from the priced paths runs, and its plan is the
    next graph's cutoff: that search looks only for plans as good. (The repair here makes
    mobile_vision_ways' 4th best plan, which the second graph's LP bound does not beat.)
    The stopped graph, which proved nothing, still bounds the answer by its LP bound."""
    import eip.solve as eip_solve

    model = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_ways.json").cost_model
    coef = model.coefficients(resolve_goal("balanced")[1])
    best = eip_solve.solve_model(model, coef, 4, Mode.EXACT, 32, 10**6, np.inf)
    fourth = best.options[3:], best.rows[3:]
    honest = eip_solve.solve_mode_graph
    cutoffs = []

    def first_stops(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff=np.inf, root=None):
        cutoffs.append(cutoff)
        sol = honest(model, graph, coef, caps, k, mode, beam_width, label_budget, limit_s, cutoff, root)
        if len(cutoffs) == 1:
            sol = sol._replace(status=Status.UNKNOWN, options=sol.options[:0], rows=sol.rows[:0], bound=-np.inf,
                               stop=Stop.LABEL_BUDGET)
        return sol

    monkeypatch.setattr(eip_solve, "solve_mode_graph", first_stops)
    monkeypatch.setattr(eip_solve, "repaired", lambda *args: fourth)
    sol = eip_solve.solve_model(model, coef, 1, Mode.EXACT, 32, 10**6, np.inf)
    assert cutoffs == [np.inf, fourth[1][0, Row.SCORE]]
    assert sol.status == Status.FEASIBLE and sol.rows[0, Row.SCORE] <= cutoffs[1]
    fit = lambda m: eip_solve.fitted(model.mode_graphs[m], model.caps_tol)
    assert sol.bound == min(eip_solve._mode_bounds(model, fit, coef, model.caps_tol, np.inf)[0])


@pytest.mark.parametrize("goal", ["balanced", "efficiency"])
def test_a_time_limit_that_never_runs_out_changes_no_answer(goal):
    """Generated ways 60x4 seed 0, where column generation meets no plan on either GPU
    mode's graph and the first rounds relax caps: under a time limit an LP dive runs first
    (``kernels.solve.LIMITED_DIVE_STALL_PER_STEP``); the top-3 stay the proven untimed ones."""
    from benchmarks.generate import ways_scenario
    from eip.kernels.bounds import by_dimension, lagrangian_prices
    from eip.kernels.solve import DUAL_ITERATIONS, _lazy_dimensions

    scenario = eip.Scenario.from_dict(ways_scenario(60, 4, 0))
    model = scenario.cost_model
    coef, caps = model.coefficients(resolve_goal(goal)[1]), model.caps_tol
    for g in model.mode_graphs:  # the case the dive is for: no plan from column generation, caps to relax
        prices, _, _, _, met, _ = lagrangian_prices(g, by_dimension(g), coef, caps, DUAL_ITERATIONS, np.inf)
        assert met[Row.SCORE] == np.inf and _lazy_dimensions(caps, prices[1]).any()
    untimed = eip.plan(scenario, goal=goal, top_k=3)
    timed = eip.plan(scenario, goal=goal, top_k=3, time_limit_s=3600.0)
    assert untimed.status == timed.status == "optimal"
    assert [p.placement for p in timed.plans] == [p.placement for p in untimed.plans]
    assert [p.score for p in timed.plans] == [p.score for p in untimed.plans]


def test_the_mode_graphs_lp_bounds_stay_within_the_time_limit(monkeypatch):
    """The LP bounds that order the mode graphs come out of the time limit: each gets the
    time left, and once it has run out the graphs left keep their least usage's score (on
    a ways DAG's frontier-state graphs they take seconds). Here each LP bound uses all the
    time it is given (at most 1 s). (A repair after the searches may ask for more, in the
    time they leave: those calls are not counted.)"""
    import eip.solve as eip_solve

    model = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_ways.json").cost_model
    assert len(model.mode_graphs) > 1
    honest = eip_solve.lp_bound
    given = []

    def slow_lp_bound(graph, coef, caps, time_limit_s=np.inf, uses=None, start=None):
        if sys._getframe(1).f_code.co_name == "_mode_bounds":
            given.append(time_limit_s)
        time.sleep(min(time_limit_s, 1.0))
        return honest(graph, coef, caps, uses=uses, start=start)

    monkeypatch.setattr(eip_solve, "lp_bound", slow_lp_bound)
    started = time.perf_counter()
    result = eip.plan(model, top_k=1, time_limit_s=0.5)
    elapsed = time.perf_counter() - started
    assert len(given) == 1 and given[0] <= 0.5  # the first graph's bound took the time: no second one
    assert elapsed < 2 * 0.5 and result.stats["stopped_by"] == "time_limit"
    assert result.status in ("feasible", "unknown")


def _swap_only_doc() -> dict:
    """Two stages, two devices, memory caps that only a swap of both stages meets: from
    (big on small, little on large), every single move breaks a cap by more."""
    profile = lambda memory_mb: {"latency_ms": 1.0, "energy_mj": 1.0, "memory_mb": memory_mb}
    return {"name": "swap", "devices": [{"name": "small", "memory_mb": 14}, {"name": "large", "memory_mb": 16}],
            "stages": [{"name": "big", "output_mb": 0, "profiles": {"small": profile(15), "large": profile(15)}},
                       {"name": "little", "output_mb": 0, "profiles": {"small": profile(8), "large": profile(8)}}]}


def test_a_repair_stalled_for_single_moves_takes_a_pair_move(monkeypatch):
    """From (big on small, little on large) each single move raises the overuse (15 of 14
    MB on the small device: 0.07; moving big breaks the large device's 16 MB by 7, moving
    little the small one's 14 by 9): the repair takes the pair move that swaps them, and
    without pair moves it stalls."""
    from eip.localsearch import repaired

    model = eip.Scenario.from_dict(_swap_only_doc()).cost_model
    coef = model.coefficients(resolve_goal("balanced")[1])
    device = {model.device_names[model.option_device[o]]: o for o in range(model.exec_ms.shape[1])}
    start = np.array([[device["small"], device["large"]]])
    options, rows = repaired(model, coef, model.caps_tol, start, time.perf_counter() + 60)
    assert options.tolist() == [[device["large"], device["small"]]] and np.all(rows[0, Row.USE:] <= model.caps_tol)
    monkeypatch.setattr(eip.localsearch, "PAIR_FIRST_MOVES", 0)
    assert repaired(model, coef, model.caps_tol, start, time.perf_counter() + 60) is None


def test_a_polish_stalled_for_single_moves_takes_a_pair_move(monkeypatch):
    """Two stages, two devices that each hold one of them: from (fast-on-B on A,
    fast-on-A on B) every single move puts both on one device (memory breaks); the polish
    takes the swap, the optimum by brute force, and without pair moves it stays put."""
    from eip.localsearch import evaluated, polished

    profile = lambda latency_ms: {"latency_ms": latency_ms, "energy_mj": 1.0, "memory_mb": 1.0}
    doc = {"name": "swap to polish", "devices": [{"name": "a", "memory_mb": 1}, {"name": "b", "memory_mb": 1}],
           "links": [{"source": "a", "target": "b", "latency_ms_per_mb": 0.1, "energy_mj_per_mb": 0.1}],
           "stages": [{"name": "first", "output_mb": 1, "profiles": {"a": profile(5.0), "b": profile(1.0)}},
                      {"name": "second", "output_mb": 0, "profiles": {"a": profile(1.0), "b": profile(5.0)}}]}
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    coef = model.coefficients(resolve_goal("balanced")[1])
    device = {model.device_names[model.option_device[o]]: o for o in range(model.exec_ms.shape[1])}
    start = np.array([[device["a"], device["b"]]])
    rows, over = evaluated(model, coef, model.caps_tol, start)
    assert over[0] == 0.0
    options, better = polished(model, coef, model.caps_tol, start, rows, 1, time.perf_counter() + 60)
    assert options.tolist() == [[device["b"], device["a"]]] and better[0, Row.SCORE] < rows[0, Row.SCORE]
    assert better[0, Row.SCORE] == pytest.approx(ranked_plans(scenario, resolve_goal("balanced")[1])[0].score)
    monkeypatch.setattr(eip.localsearch, "PAIR_FIRST_MOVES", 0)
    options, _ = polished(model, coef, model.caps_tol, start, rows, 1, time.perf_counter() + 60)
    assert options.tolist() == start.tolist()


def _graph_searches_stopped():
    """Each mode graph's search within caps stops at its label budget before it meets a
    plan (no bound); unconstrained searches (a repair's starts) run."""
    honest = eip.solve.solve_graph

    def solve_graph(model, graph, coef, caps, k, *rest, **kw):
        if np.isinf(caps).all():
            return honest(model, graph, coef, caps, k, *rest, **kw)
        return Solution(Status.UNKNOWN, Strategy.LABELS, np.zeros((0, model.n_stages), dtype=np.int64),
                        np.zeros((0, Row.USE + model.dims.size)), -np.inf, Stop.LABEL_BUDGET, 0, 0, 0.0)
    return mock.patch.object(eip.solve, "solve_graph", solve_graph)


@settings(max_examples=100, deadline=None)
@given(st.one_of(ways_scenario_docs(), ways_scenario_docs(shapes=DAG_SHAPES, fixed_mode=True)), goals,
       st.sampled_from([1, 3]))
def test_the_priced_repair_answers_where_the_graph_searches_meet_no_plan(doc, goal, k):
    """Mode graphs' searches that meet no plan: the repair from the paths their LP prices
    cheapest (before the searches on a DAG with fixed-mode devices, after them otherwise)
    answers with plans that fit and recompute, never better than the oracle's optimum and
    never "optimal"; "unknown" only where it meets none, "infeasible" only where none fits."""
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with _graph_searches_stopped():
        result = eip.plan(scenario, goal=goal, top_k=k)
    model = scenario.cost_model
    event(f"{result.status}, {'dag' if not model.is_chain else 'chain'}, {len(model.mode_graphs)} mode graphs")
    if result.status in ("unknown", "infeasible"):  # (infeasible: proven by the bounds before any search)
        assert not result.plans and (result.status == "unknown" or not ref)
        return
    assert ref and result.status == "feasible" and result.strategy == "repaired" and 1 <= len(result.plans) <= k
    for plan in result.plans:
        assert_recomputes(scenario, weights, plan)
        assert plan.score >= ref[0].score * (1 - 1e-9) - 1e-12


def test_the_priced_repair_makes_the_plan_on_ways_dag_100x4_seed_1():
    """Generated ways DAG 100x4 seed 1 (saved by ``python -m benchmarks --families
    waysdag100x4 --seeds 2 --instances DIR``: generating it takes two minutes), both GPU
    modes' searches stopped: the repair from the paths the LP prices cheapest (single moves
    stall 0.1% over the caps there) makes a plan within 1% of HiGHS's optimum, 5.48407;
    from the unconstrained optimum it makes none."""
    from eip.localsearch import repaired

    scenario = eip.load(Path(__file__).parent / "data" / "ways_dag_100x4_seed1.json")
    with _graph_searches_stopped():
        result = eip.plan(scenario, top_k=1)
    assert result.status == "feasible" and result.strategy == "repaired"
    assert result.best.score <= 5.48407 * 1.01
    model = scenario.cost_model
    coef = model.coefficients(resolve_goal("balanced")[1])
    free = eip.solve.solve_model(model, coef, 1, Mode.EXACT, 32, 10**6, np.inf, np.full(model.dims.size, np.inf))
    assert free.status == Status.OPTIMAL
    assert repaired(model, coef, model.caps_tol, free.options, time.perf_counter() + 60) is None


def test_a_search_limited_by_a_cutoff_still_takes_the_wide_beams_plan():
    """Generated ways DAG 100x4 seed 2 (saved like seed 1), the GPU mode whose LP bound is
    the lower (5.007), searched for plans within a cutoff 3% above its best (the repair's
    plan, 5.19588) and 20,000 labels a search: the beams within the caps meet no plan and
    the guesses stop at the label budget; the wide beam that keeps room in the caps meets
    5.04538, which a cutoff used to skip (another graph had a plan), leaving none."""
    scenario = eip.load(Path(__file__).parent / "data" / "ways_dag_100x4_seed2.json")
    model = scenario.cost_model
    coef = model.coefficients(resolve_goal("balanced")[1])
    sol = eip.solve.solve_mode_graph(model, model.mode_graphs[1], coef, model.caps_tol, 1, Mode.EXACT, 32, 20_000,
                                     np.inf, 5.19588)
    assert sol.stop == Stop.LABEL_BUDGET and sol.status == Status.FEASIBLE
    assert sol.rows[0, Row.SCORE] <= 5.04538 and np.all(sol.rows[0, Row.USE:] <= model.caps_tol)


def _searches_stopped(strategy: Strategy, bound: float, stop: Stop, limits: list | None = None):
    """``solve_model`` replaced by searches that stop (``stop``) before they meet any plan;
    with ``limits``, each runs to its time limit, which it appends there."""
    def solve_model(model, coef, k, mode, beam_width, label_budget, limit_s, *rest, **kw):
        if limits is not None:
            limits.append(limit_s)
            time.sleep(limit_s)
        return Solution(Status.UNKNOWN, strategy, np.zeros((0, model.n_stages), dtype=np.int64),
                        np.zeros((0, Row.USE + model.dims.size)), bound, stop, 0, 0, 0.0)
    return mock.patch.object(eip.solve, "solve_model", solve_model)


@settings(max_examples=150, deadline=None)
@given(ways_scenario_docs(), goals, st.sampled_from([1, 3]))
def test_repair_makes_a_plan_only_where_one_fits(doc, goal, k):
    """Searches that stop before they meet any plan (no plans, no bound) hand over to the
    repair: what it returns fits every budget and recomputes, scores at least the oracle's
    optimum, and is "feasible" (never "optimal", whose proof the searches never gave); with
    no fitting plan it stays "unknown". (Local search may also stall where a plan fits:
    that it does meet one is the next test's.)"""
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with _searches_stopped(Strategy.LABELS, -np.inf, Stop.LABEL_BUDGET):
        result = eip.plan(scenario, goal=goal, top_k=k)
    event(f"{result.status}, {'some' if ref else 'no'} plan fits")
    if result.status == "unknown":
        assert not result.plans and "label budget" in result.reason
        return
    assert ref and result.status == "feasible" and result.strategy == "repaired" and 1 <= len(result.plans) <= k
    for plan in result.plans:
        assert_recomputes(scenario, weights, plan)
        assert plan.score >= ref[0].score * (1 - 1e-9) - 1e-12
    assert [p.score for p in result.plans] == sorted(p.score for p in result.plans)
    assert "local search moved a plan the LP prices cheapest" in render(result, "text").decode()


def test_repair_meets_a_plan_where_the_searches_stop_without_one():
    """The seed scenario's tight caps and searches that stop at once: the unconstrained
    optimum breaks the energy cap, and single-stage moves repair it."""
    scenario = eip.load(Path(__file__).parents[1] / "scenarios" / "mobile_vision_pipeline.json")
    model = scenario.cost_model
    free = eip.plan(scenario.with_constraints({}), top_k=1)
    assert free.best.energy_mj > model.max_energy_mj or free.best.latency_ms > model.max_latency_ms
    with _searches_stopped(Strategy.BEAM, 1.0, Stop.TIME_LIMIT):
        result = eip.plan(scenario, top_k=1)
    assert result.status == "feasible" and result.strategy == "repaired" and result.bound == 1.0
    assert result.best.energy_mj <= model.max_energy_mj and result.best.latency_ms <= model.max_latency_ms


def test_searches_that_run_to_the_time_limit_leave_the_repair_time():
    """Under a time limit the searches take SEARCH_SHARE of it: searches that use all of
    their share and meet no plan still leave the repair (the previous test's) time to make
    one, within the limit."""
    scenario = eip.load(Path(__file__).parents[1] / "scenarios" / "mobile_vision_pipeline.json")
    eip.plan(scenario.with_constraints({}), top_k=1)  # loads the kernels the repair's first call runs
    limits: list[float] = []
    with _searches_stopped(Strategy.LABELS, -np.inf, Stop.TIME_LIMIT, limits):
        started = time.perf_counter()
        result = eip.plan(scenario, top_k=1, time_limit_s=0.5)
        elapsed = time.perf_counter() - started
    assert limits == [pytest.approx(eip.solve.SEARCH_SHARE * 0.5)]
    assert result.status == "feasible" and result.strategy == "repaired"
    assert elapsed < 2 * 0.5  # (the repair checks the clock between moves: well within twice the limit)


@pytest.fixture(scope="module")
def ways_dag_12x3() -> dict:
    """A generated ways DAG large enough to be fitted to its caps (47,608 arcs per GPU mode)."""
    from benchmarks.generate import ways_scenario
    return ways_scenario(12, 3, 0, shape="dag")


@settings(max_examples=12, deadline=None)
@given(moves=st.lists(st.tuples(st.sampled_from(["max_total_latency_ms", "max_total_energy_mj", "max_accuracy_loss",
                                                 "max_average_power_w"]), st.floats(0.85, 1.2)), min_size=2, max_size=4))
def test_graphs_fitted_from_kept_ones_answer_as_freshly_fitted_ones(ways_dag_12x3, moves):
    """Budget moves on one scenario (its copies share the fitted graphs it keeps, and a
    tighter cap is fitted from a kept graph) answer exactly as a scenario compiled afresh."""
    shared = eip.Scenario.from_dict(ways_dag_12x3)
    constraints = dict(ways_dag_12x3["constraints"])
    for key, factor in moves:
        constraints[key] *= factor
        got = eip.plan(shared.with_constraints(constraints), top_k=3)
        want = eip.plan(eip.Scenario.from_dict({**ways_dag_12x3, "constraints": constraints}), top_k=3)
        assert got.status == want.status
        # (a plan's score is summed along the road that met it: the same plan may differ in the last bit)
        assert [p.score for p in got.plans] == pytest.approx([p.score for p in want.plans], rel=1e-12)
        assert [(p.placement, _ways(p)) for p in got.plans] == [(p.placement, _ways(p)) for p in want.plans]


def test_a_tighter_cap_is_fitted_from_the_smallest_kept_graph_fitted_to_looser_ones(ways_dag_12x3):
    model = eip.Scenario.from_dict(ways_dag_12x3).cost_model
    whole = model.mode_graphs[0]
    loose = model.fitted_graph(0, model.caps_tol)
    tighter = model.caps_tol.copy()
    tighter[0] *= 0.95  # the latency cap
    bases = []
    real = eip.kernels.contract.fitted
    with mock.patch("eip.kernels.contract.fitted", side_effect=lambda g, caps: bases.append(g) or real(g, caps)):
        assert model.fitted_graph(0, model.caps_tol) is loose  # kept: not fitted again
        model.fitted_graph(0, tighter)
        looser = model.caps_tol.copy()
        looser[0] *= 1.05
        model.fitted_graph(0, looser)
    assert len(loose.arc_tail) < len(whole.arc_tail)  # (the premise: fitting drops arcs)
    assert [base is loose for base in bases] == [True, False] and bases[1] is whole


def test_a_graphs_usages_are_made_once_while_it_is_among_the_latest(ways_dag_12x3):
    """``graph_uses`` answers ``by_dimension`` of the graph it is given, made once while the
    graph is among the last USES_KEPT x (mode graphs) that it was asked for, made again
    after (a graph equal to another but not the same object gets its own)."""
    from eip.costmodel import USES_KEPT
    from eip.kernels import bounds

    model = eip.Scenario.from_dict(ways_dag_12x3).cost_model
    graphs = [model.mode_graphs[0]._replace() for _ in range(USES_KEPT * len(model.mode_graphs) + 1)]
    made = []
    real = bounds.by_dimension
    with mock.patch("eip.kernels.bounds.by_dimension", side_effect=lambda g: made.append(g) or real(g)):
        first = model.graph_uses(graphs[0])
        assert model.graph_uses(graphs[0]) is first and len(made) == 1 and made[0] is graphs[0]
        for graph in graphs[1:]:
            model.graph_uses(graph)
        model.graph_uses(graphs[0])  # (the oldest: dropped when the last came)
    assert len(made) == len(graphs) + 1 and all(m is g for m, g in zip(made, graphs + graphs[:1]))
    assert all(np.array_equal(a, b) for a, b in zip(first, real(graphs[0])))


@settings(max_examples=60, deadline=None)
@given(ways_scenario_docs(), goals)
def test_a_move_is_said_to_break_a_limit_only_when_it_breaks_that_one(doc, goal):
    """The limit a stage's other way is said to break is broken by its own value: the energy
    cap and the average power cap the same energy per frame, and the model's cap is the
    tighter of the two, which must not be reported under the looser one's name."""
    result = eip.plan(eip.Scenario.from_dict(doc), goal=goal, top_k=1)
    if not result.plans:
        return
    model = result.model
    limits = {limit.name: limit for limit in model.limits}
    for reason in eip.explain(result, sensitivity=False).stages:
        for move in reason.moves:
            if move.breaks:
                name, used, value = re.fullmatch(r"the (.+) \((\S+) > (\S+) \S+\)", move.breaks).groups()
                # (the use is printed to two decimals: it may show a hair below a tiny limit)
                assert float(used) + 0.005 >= float(value) and float(value) == pytest.approx(limits[name].value, rel=1e-3)
