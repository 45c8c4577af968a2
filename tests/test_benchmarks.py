"""The benchmark suite cannot rot: a smoke run with every installed peer, and the real-data
scenarios rebuilt from ``../shared/data``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from unittest import mock

import numpy as np
import orjson
import pytest
from hypothesis import given, settings

import eip
from benchmarks import (batch as batch_bench, explore as explore_bench, localsearch as localsearch_bench, peers, realdata,
                        suite, tradeoff as tradeoff_bench)
from benchmarks.generate import soc_scenario
from eip.goals import resolve_goal
from reference import ranked_plans
from strategies import goals_with_throughput, scenario_docs, ways_scenario_docs


def test_profiled_flow_agrees_with_highs(capsys):
    pytest.importorskip("onnxruntime")
    from benchmarks import profiled

    assert profiled.main(["--models", "squeezenet", "--repeats", "3"]) == 0, capsys.readouterr().out
    printed = capsys.readouterr().out
    assert "squeezenet: profiled 66 stages" in printed and "roofline fitted" in printed
    assert printed.count("optimal score") == 6


def test_smoke_run_agrees_with_every_installed_peer(tmp_path, capsys):
    out = tmp_path / "peers.json"
    status = suite.main(["--families", "seed,12x3,dag12x3", "--seeds", "1", "--repeats", "2", "--peer-repeats", "1",
                         "--budget-s", "0.2", "--time-limit-s", "30", "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = orjson.loads(out.read_bytes())
    assert report["mismatches"] == []
    solvers = {(r["instance"], r["solver"]) for r in report["rows"]}
    for name in ("mobile_vision_pipeline", "soc_12x3_s0"):
        assert {(name, "eip"), (name, "seed tool"), (name, "brute force")} <= solvers
    for label, module in suite.PEERS.values():
        if module is None or suite.installed(module):
            assert ("soc_12x3_s0", label) in solvers
    seed_rows = [r for r in report["rows"] if r["instance"] == "mobile_vision_pipeline"]
    assert {round(r["objective"], 9) for r in seed_rows} == {round(seed_rows[0]["objective"], 9)}
    assert "== 12x3" in printed and "== dag12x3" in printed
    # the cold calls (each compiles and lowers its own copy) answer as the warm ones, and
    # the MILP peers' ratios are given against them too
    for name in ("soc_12x3_s0", "dag_12x3_s0"):
        by_solver = {r["solver"]: r for r in report["rows"] if r["instance"] == name}
        assert by_solver["eip cold"]["objective"] == by_solver["eip"]["objective"]
        milps = [r for r in by_solver.values() if r["solver"] in ("HiGHS MILP", "CP-SAT") and r["ratio_vs_eip"]]
        assert milps and all(r["ratio_vs_eip_cold"] > 0 for r in milps)
    assert {("dag_12x3_s0", "eip"), ("dag_12x3_s0", "brute force")} <= solvers


def test_saved_instances_are_measured_again_as_saved(tmp_path):
    """``--instances``: a generated instance is written once, then read back as it is
    (another commit's eip measures the same instance even when its beam would set other
    limits), and unsaved families are generated as before."""
    first = suite.instances(["ways12x3", "dag12x3"], 1, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag12x3_s0.json", "ways12x3_s0.json"]
    for family in ("ways12x3", "dag12x3"):
        assert orjson.loads((tmp_path / f"{family}_s0.json").read_bytes()) == suite._generated(family, 0, None)
    doc = orjson.loads((tmp_path / "ways12x3_s0.json").read_bytes())
    doc["constraints"]["max_accuracy_loss"] = 123.0
    (tmp_path / "ways12x3_s0.json").write_bytes(orjson.dumps(doc))
    again = suite.instances(["ways12x3"], 1, tmp_path)[0]
    assert again.scenario.constraints.max_accuracy_loss == 123.0 and again.name == first[0].name
    assert suite.instances(["ways12x3"], 1)[0].scenario.constraints.max_accuracy_loss != 123.0


def test_sweep_and_batch_benchmarks_run_and_check(capsys):
    assert tradeoff_bench.main(["--caps", "300", "--stages", "12", "--devices", "3", "--sample", "20",
                                "--highs-sample", "2", "--grid", "6x4"]) == 0
    printed = capsys.readouterr().out
    assert "40 sampled grid points checked against separate plans: 0 mismatches" in printed
    assert batch_bench.main(["--scenarios", "12", "--stages", "8", "--devices", "3", "--cli-sample", "1"]) == 0
    printed = capsys.readouterr().out
    assert "workers=2 vs workers=1: " in printed and "rows of every worker count identical: yes" in printed


def test_local_search_benchmark_runs_and_checks(capsys):
    """Moves evaluated by their change agree with whole placements on a chain, a DAG and
    ways (the benchmark exits 1 where they do not)."""
    assert localsearch_bench.main(["--families", "seed,dag12x3,ways12x3,camera_two_models", "--seeds", "1",
                                   "--repeats", "2"]) == 0
    printed = capsys.readouterr().out
    assert "mobile_vision_pipeline" in printed and "camera_two_models" in printed and "no plan" not in printed


def test_explore_benchmark_runs_and_checks(capsys):
    """Serial and pool rows agree point by point; budget grids agree with their sweeps."""
    assert explore_bench.main(["--points", "40", "--stages", "8", "--devices", "3", "--backends", "serial,pool",
                               "--budget-points", "20"]) == 0
    printed = capsys.readouterr().out
    assert "serial: " in printed and "  pool: " in printed and "MISMATCH" not in printed
    assert "YOLOv3 75x4 budget grid of 20 points, sweeps" in printed and "8x3 budget grid of 20 points" in printed


def test_a_wrong_peer_answer_is_reported_as_a_mismatch():
    args = type("Args", (), {"peers": ["brute"]})()
    run = suite.Run(args)
    inst = suite.Instance("seed", "x", None)
    wrong = peers.PeerAnswer(placements=[(0,)], scores=[1.5], proven=True)
    run.check(inst, "brute force", [1.0], True, wrong, 1)
    run.check(inst, "brute force", [1.0], True, peers.PeerAnswer(placements=[(0,)], scores=[1.0 + 1e-9], proven=True), 1)
    better = peers.PeerAnswer(placements=[(0,)], scores=[0.9], proven=False)
    run.check(inst, "seed tool", [1.0], True, better, 1)
    assert len(run.mismatches) == 2


@pytest.mark.parametrize("seed", range(4))
def test_peers_agree_with_the_reference_oracle(seed):
    doc = soc_scenario(6, 3, seed, memory_share=0.6)
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    weights = resolve_goal("balanced")[1]
    coef = model.coefficients(weights)
    expected = [p.score for p in ranked_plans(scenario, weights)[:3]]
    assert expected  # the generator sets caps around a witness plan, so one exists
    ranked = [peers.brute_force(model, coef, 3), peers.seed_bnb(scenario, coef, 3)]
    for answer in ranked:  # the top-k peers: the same (up to) three scores
        assert answer.proven and len(answer.scores) == len(expected) and np.allclose(answer.scores, expected, rtol=1e-9)
    milps = []
    if suite.installed("highspy"):
        milps.append(peers.highs_milp(model, coef))
    if suite.installed("ortools"):
        milps.append(peers.cpsat(model, coef))
    for answer in milps:  # top-1 only; CP-SAT rounds costs to integers
        assert answer.proven and len(answer.scores) == 1 and np.isclose(answer.scores[0], expected[0], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(scenario_docs(max_stages=6))
def test_dag_peers_agree_with_the_reference_oracle(doc):
    """Brute force and the DAG MILP (copy variables per producer and device) on random graphs."""
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    weights = resolve_goal("balanced")[1]
    coef = model.coefficients(weights)
    expected = [p.score for p in ranked_plans(scenario, weights)[:3]]
    brute = peers.brute_force(model, coef, 3)
    assert brute.proven and np.allclose(brute.scores, expected, rtol=1e-9) and len(brute.scores) == len(expected)
    if suite.installed("highspy"):
        milp = peers.highs_milp(model, coef)
        assert milp.proven and (np.isclose(milp.best, expected[0], rtol=1e-6) if expected else milp.scores == [])


@settings(max_examples=60, deadline=None)
@given(ways_scenario_docs(max_stages=4), goals_with_throughput.filter(lambda g: g != "throughput"))
def test_ways_peers_agree_with_the_reference_oracle(doc, goal):
    """Brute force and both MILPs (chain and DAG) with ways, modes (fixed: one mode per
    device through z variables), accuracy, frame rate and power limits."""
    ways_peers_agree(doc, goal)


def test_the_milp_breaks_no_tiny_cap():
    """A way 11% over a 9e-6 mJ power cap (1e-6 W sustained at 111 Hz) breaks its MILP row by
    only 1e-6 in absolute units, within HiGHS's MIP feasibility tolerance: the cap rows are
    in units of the cap (a case hypothesis found)."""
    ways_peers_agree(json.loads((Path(__file__).parent / "data" / "ways_tiny_power_cap.json").read_text()), "latency")


def ways_peers_agree(doc: dict, goal: str) -> None:
    """Brute force and the MILP on ``doc`` agree with the reference oracle for ``goal``."""
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    weights = resolve_goal(goal)[1]
    coef = model.coefficients(weights)
    expected = [p.score for p in ranked_plans(scenario, weights)[:3]]
    brute = peers.brute_force(model, coef, 3)
    assert brute.proven and len(brute.scores) == len(expected) and np.allclose(brute.scores, expected, rtol=1e-9)
    if suite.installed("highspy"):
        milp = peers.highs_milp(model, coef)
        assert milp.proven and (np.isclose(milp.best, expected[0], rtol=1e-6) if expected else milp.scores == [])


def test_peers_on_an_infeasible_instance():
    doc = soc_scenario(5, 3, 0, with_caps=False)
    doc["constraints"] = {"max_total_latency_ms": 0.001}
    scenario = eip.Scenario.from_dict(doc)
    coef = scenario.cost_model.coefficients(resolve_goal("balanced")[1])
    answers = [peers.brute_force(scenario.cost_model, coef, 1), peers.seed_bnb(scenario, coef, 1)]
    if suite.installed("highspy"):
        answers.append(peers.highs_milp(scenario.cost_model, coef))
    if suite.installed("ortools"):
        answers.append(peers.cpsat(scenario.cost_model, coef))
    assert all(a.scores == [] and a.proven and math.isinf(a.best) for a in answers)


#: the real-data files built from the dnn-partitioning layer graphs
SLOW_CAPS = {f"{m}_soc.json" for m in realdata.LAYER_GRAPH_SOCS} | {"resnet50_bert24_soc.json"}


@pytest.mark.skipif(not realdata.DATA.is_dir(), reason="../shared/data is not beside the checkout")
@pytest.mark.parametrize("file", sorted(realdata.BUILDERS))
def test_real_data_scenarios_are_rebuilt_exactly_from_the_data(file):
    checked_in = (suite.SCENARIOS / file).read_bytes()
    if file in SLOW_CAPS:
        # their caps come from exact solves of large graphs (a minute for all): the data-derived
        # rest is rebuilt, the caps are taken as checked in (the benchmarks solve these files)
        caps = orjson.loads(checked_in)["constraints"]
        with mock.patch.object(realdata, "_frame_budget", lambda doc, latency_slack: caps):
            built = realdata.render(realdata.BUILDERS[file]())
        assert built == checked_in, f"scenarios/{file} drifted: run python -m benchmarks.realdata"
        return
    built = realdata.render(realdata.BUILDERS[file]())
    assert built == checked_in, f"scenarios/{file} drifted: run python -m benchmarks.realdata"
    doc = orjson.loads(built)
    constrained = eip.plan(eip.Scenario.from_dict(doc), top_k=1)
    assert constrained.status == "optimal"
    free = {**doc, "constraints": {}, "devices": [{**d, "memory_mb": 1e9} for d in doc["devices"]]}
    unconstrained = eip.plan(eip.Scenario.from_dict(free), top_k=1)
    assert constrained.best.score > unconstrained.best.score, "the budgets and caps should bind"
