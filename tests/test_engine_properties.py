"""Exact top-k, beam and bounds against the brute-force oracle on random scenarios."""

from __future__ import annotations

import contextlib
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eip
from eip.goals import resolve_goal
from reference import evaluate, feasible, ranked_plans
from strategies import goals, scenario_docs

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def assert_plan_recomputes(scenario, weights, plan):
    """Every total a Plan reports recomputes from the scenario, and it is feasible."""
    ref = evaluate(scenario, plan.placement, weights)
    assert ref is not None, f"impossible placement returned: {plan.placement}"
    assert feasible(scenario, ref), f"infeasible plan returned: {plan}"
    assert close(plan.score, ref.score) and close(plan.latency_ms, ref.latency_ms)
    assert close(plan.energy_mj, ref.energy_mj) and plan.switches == ref.switches
    for dev in scenario.devices:
        use = plan.memory_mb[dev.name]
        assert close(use.used_mb, ref.memory_mb[dev.name]) and use.budget_mb == dev.memory_mb
    assert close(sum(s.total_ms for s in plan.stages), plan.latency_ms)
    assert close(sum(s.total_mj for s in plan.stages), plan.energy_mj)
    assert [s.device for s in plan.stages] == list(plan.placement)


def assert_matches_oracle(result, ref, k):
    """Same scores rank by rank; same placements wherever the oracle's key is not a near-tie."""
    expect = ref[:k]
    assert len(result.plans) == len(expect)
    for i, (got, want) in enumerate(zip(result.plans, expect)):
        assert close(got.score, want.score), (i, got, want)
        # scores within rounding of the best rank either way: summed in another order, the
        # reference's 1-ulp difference in score may be eip's tie broken by latency
        near = [r for r in ref if close(r.score, want.score)]
        if len(near) == 1 or all(r.key[:4] == want.key[:4] for r in near):
            # unique, or exact (bit-equal) ties broken by placement order: must be identical
            assert got.placement == want.placement, (i, got, want)
        else:
            assert got.placement in {r.placement for r in near}


#: how far a solve of a small graph is forced into the pipeline: as it runs (depth first
#: on unconstrained bounds); past that, to the depth-first search on Lagrangian bounds;
#: past the depth-first searches (Lagrangian bounds, beams, certificate, quick exact
#: search); past the quick exact searches too (refined tables, dive, guesses,
#: reduced-cost fixing, the search limited by the incumbent), which small graphs never
#: reach on their own; and those two within every cap at once instead of by constraint
#: generation (``LAZY_CAPS``; with it, the rounds that add caps back run wherever a
#: relaxed answer breaks a cap the LP left unpriced)
DEPTHS = ("as it runs", "pulse on Lagrangian bounds", "bounded", "deep", "bounded, every cap", "deep, every cap")
_FORCED = {"as it runs": {}, "pulse on Lagrangian bounds": {"PULSE_FREE_NODES": 0}, "bounded": {"PULSE_ARCS": 0},
           "deep": {"PULSE_ARCS": 0, "QUICK_LABELS": 1},
           "bounded, every cap": {"PULSE_ARCS": 0, "LAZY_CAPS": False},
           "deep, every cap": {"PULSE_ARCS": 0, "QUICK_LABELS": 1, "LAZY_CAPS": False},
           # (top-1 searches past the quick ones stop at once: the LP tree answers, its
           # nodes' searches within one label each; ``tests/test_tree.py``)
           "tree": {"PULSE_ARCS": 0, "QUICK_LABELS": 0},
           "tree, every cap": {"PULSE_ARCS": 0, "QUICK_LABELS": 0, "LAZY_CAPS": False},
           # (past the quick searches with one label, and trees whose node LPs visit 1,000
           # options and arcs: they run out of work on small graphs,
           # and a round after one the tree proved goes to the long tree at once: TREE_AGAIN)
           "short trees": {"PULSE_ARCS": 0, "QUICK_LABELS": 1, "TREE_WORK": 1000}}


def pipeline(depth: str):
    """The solve forced to ``depth`` (one of ``DEPTHS``), through the tuning constants the
    kernels take as arguments."""
    from eip.kernels import solve as kernel

    return mock.patch.multiple(kernel, **_FORCED[depth]) if _FORCED[depth] else contextlib.nullcontext()


def fitting(every_graph: bool):
    """Solves on graphs fitted to their caps (``contract.fitted``) however small the graph
    (``every_graph``), or as they run (small graphs are not fitted)."""
    from eip.kernels import contract

    return mock.patch.object(contract, "FIT_MIN_ARCS", 0) if every_graph else contextlib.nullcontext()


@settings(max_examples=400)
@given(scenario_docs(), goals, st.sampled_from([1, 3, 5]), st.sampled_from(DEPTHS), st.booleans())
def test_exact_topk_equals_brute_force(doc, goal, k, depth, fit):
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with pipeline(depth), fitting(fit):
        result = eip.plan(scenario, goal=goal, top_k=k, strategy="exact")
    if not ref:
        assert result.status == "infeasible" and not result.plans and result.reason
        return
    assert result.status == "optimal" and result.gap == 0.0
    assert_matches_oracle(result, ref, k)
    for plan in result.plans:
        assert_plan_recomputes(scenario, weights, plan)


@settings(max_examples=150)
@given(scenario_docs(), goals, st.sampled_from([1, 3]), st.sampled_from([1, 2, 4]))
def test_beam_is_feasible_and_never_beats_exact(doc, goal, k, width):
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    result = eip.plan(scenario, goal=goal, top_k=k, strategy="beam", beam_width=width)
    assert len(result.plans) <= len(ref)
    for i, plan in enumerate(result.plans):
        assert_plan_recomputes(scenario, weights, plan)
        assert plan.score >= ref[i].score - TOL * max(1.0, abs(ref[i].score))
    assert len({p.placement for p in result.plans}) == len(result.plans)
    if ref:
        assert result.bound <= ref[0].score + TOL * max(1.0, abs(ref[0].score))
    if result.status == "optimal":
        assert_matches_oracle(result, ref, k)
    elif result.status == "infeasible":
        assert not ref


@settings(max_examples=300)
@given(scenario_docs(), goals, st.sampled_from([1, 3, 5]), st.sampled_from([1, 3, 10, 10**6]),
       st.sampled_from([None, 1e-9, 3600.0]), st.sampled_from(["auto", "exact"]), st.sampled_from(DEPTHS))
def test_budgets_that_stop_the_search_keep_answers_honest(doc, goal, k, budget, time_limit, strategy, depth):
    """A tiny label budget or a time limit already past may stop the search: plans stay
    feasible, the bound stays a bound, and "optimal" is only said when proven. (A time
    limit that never runs out still changes the searches: an LP dive first, where rounds
    relax caps.)"""
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with pipeline(depth):
        result = eip.plan(scenario, goal=goal, top_k=k, strategy=strategy, label_budget=budget, beam_width=2,
                          time_limit_s=time_limit)
    if time_limit is None:
        assert result.stats["stopped_by"] != "time_limit"
    for plan in result.plans:
        assert_plan_recomputes(scenario, weights, plan)
    if result.status == "optimal":
        assert_matches_oracle(result, ref, k)
    elif result.status == "infeasible":
        assert not ref and result.reason
    elif result.status == "feasible":
        assert ref and result.gap >= 0.0
        assert result.bound <= ref[0].score + TOL * max(1.0, abs(ref[0].score))
        assert result.plans[0].score >= ref[0].score - TOL
        best = result.plans[0].score
        assert math.isinf(result.gap) or math.isclose(
            result.gap, max(0.0, best - result.bound) / max(abs(best), 1e-12), rel_tol=1e-9, abs_tol=1e-12)
    else:
        assert result.status == "unknown" and not result.plans and result.reason


def test_time_limit_stops_a_hard_search_with_what_it_proved():
    """300x6 seed 0 runs the exact search for seconds; a 0.2 s limit stops it with the beam's
    plan and a proven gap (the clock is read as the search goes, not only at the end)."""
    from benchmarks.generate import soc_scenario

    scenario = eip.Scenario.from_dict(soc_scenario(300, 6, 0))
    result = eip.plan(scenario, top_k=1, strategy="exact", time_limit_s=0.2)
    assert result.stats["stopped_by"] == "time_limit"
    assert result.stats["solve_seconds"] < 2.0  # 0.2 s plus one step of work, generously
    if result.plans:
        assert result.status == "feasible" and 0.0 <= result.gap < math.inf
        assert result.bound <= result.plans[0].score
    else:
        assert result.status == "unknown" and "time limit (0.2 s)" in result.reason


def test_the_time_limit_counts_the_lowering_of_the_model():
    """A model's first solve lowers it to the kernels' graph; a lowering that takes longer
    than the limit leaves the search no time (40x4 seed 0 is otherwise proven in ~1 ms)."""
    import time

    from benchmarks.generate import soc_scenario
    from eip import lowering

    scenario = eip.Scenario.from_dict(soc_scenario(40, 4, 0))
    assert eip.plan(scenario, top_k=1, strategy="exact").status == "optimal"
    lower_chain = lowering.lower_chain

    def slow_lowering(model):
        time.sleep(0.3)
        return lower_chain(model)

    with mock.patch.object(lowering, "lower_chain", slow_lowering):
        result = eip.plan(eip.Scenario.from_dict(soc_scenario(40, 4, 0)), top_k=1, strategy="exact",
                          time_limit_s=0.2)
    assert result.stats["stopped_by"] == "time_limit" and result.status in ("feasible", "unknown")


@settings(max_examples=300)
@given(scenario_docs())
def test_an_infeasibility_certificate_is_a_proof(doc):
    """Weights under which every path overuses the caps exist only when no plan fits; where
    none fits and the relaxation shows it, the certificate finds them."""
    from eip.kernels.bounds import CERTIFICATE_MARGIN, infeasibility_certificate

    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    proof = infeasibility_certificate(model.graph, model.caps_tol, 200) > 1.0 + CERTIFICATE_MARGIN
    if proof:
        assert not ranked_plans(scenario, (1.0, 0.0, 0.0))


def graph_paths(g) -> tuple[list[list[int]], np.ndarray]:
    """Every path of a layered graph and its usage (P, Q), summed by the contract's rule
    (arc into a step, then the step's option), enumerated step by step."""
    paths = [([t], g.opt_use[t].copy()) for t in range(g.step_start[0], g.step_start[1])]
    for s in range(1, len(g.step_start) - 1):
        longer = []
        for path, use in paths:
            for t in range(g.step_start[s], g.step_start[s + 1]):
                for e in range(g.arc_start[t], g.arc_start[t + 1]):
                    if g.arc_tail[e] == path[-1]:
                        grown = use.copy()
                        grown[:g.arc_use.shape[1]] += g.arc_use[e]
                        longer.append((path + [t], grown + g.opt_use[t]))
        paths = longer
    return [p for p, _ in paths], np.array([u for _, u in paths]).reshape(len(paths), g.opt_use.shape[1])


class Enumerated(NamedTuple):
    """A random scenario's cost model under a goal's coefficients, with every path of its
    graph (``graph_paths``): usage (P, Q), score (P,), whether it fits the caps (P,)."""

    model: object
    coef: np.ndarray
    paths: list
    usage: np.ndarray
    scores: np.ndarray
    fits: np.ndarray


def enumerated(doc: dict, goal) -> Enumerated:
    model = eip.Scenario.from_dict(doc).cost_model
    coef = model.coefficients(resolve_goal(goal)[1])
    paths, usage = graph_paths(model.graph)
    return Enumerated(model, coef, paths, usage, usage @ coef, np.all(usage <= model.caps_tol, axis=1))


def convex_combination_lp(scores: np.ndarray, usage: np.ndarray, caps: np.ndarray) -> float | None:
    """The least score of a convex combination of paths (scores (P,), usage (P, Q)) whose
    usage fits every cap in (0, inf) (the LP the Lagrangian dual equals), by HiGHS; None
    when no combination fits."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = len(scores)
    h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), scores)
    h.addRow(1.0, 1.0, n, np.arange(n, dtype=np.int32), np.ones(n))
    for j in np.flatnonzero((caps > 0) & np.isfinite(caps)):
        h.addRow(-highspy.kHighsInf, 1.0, n, np.arange(n, dtype=np.int32), usage[:, j] / caps[j])
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h.getInfo().objective_function_value


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([0.25, 1.0, 4.0]))
def test_binding_caps_free_only_caps_no_path_breaks_and_keep_the_lp(doc, goal, scale):
    """``bounds.binding_caps`` (the caps a tree's LPs run within) frees (inf) only capped
    dimensions that every path keeps within its cap, against every path of the graph
    (caps scaled by ``scale``, so some bind and some cannot); within them the same plans
    fit and the LP over convex combinations of all paths is the same (HiGHS)."""
    pytest.importorskip("highspy")
    from eip.kernels.bounds import binding_caps

    model, coef, paths, usage, scores, _ = enumerated(doc, goal)
    caps = model.caps_tol * scale
    lp_caps = binding_caps(model.graph, caps)
    freed = lp_caps != caps
    assert np.all(np.isinf(lp_caps[freed])) and np.all((caps[freed] > 0) & np.isfinite(caps[freed]))
    assert np.all(usage[:, freed] <= caps[freed])
    assert np.array_equal(np.all(usage <= caps, axis=1), np.all(usage <= lp_caps, axis=1))
    ours, theirs = convex_combination_lp(scores, usage, lp_caps), convex_combination_lp(scores, usage, caps)
    assert (ours is None) == (theirs is None)
    assert ours is None or abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs))


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), goals)
def test_column_generation_meets_the_lp_bound_and_never_passes_a_plan(doc, goal):
    """The Lagrangian dual bound is at most every feasible plan's score (it prunes) and,
    given passes enough, equals the LP over convex combinations of all paths; a plan it
    meets fits; a bound of inf only where no plan fits."""
    pytest.importorskip("highspy")
    from eip.kernels.bounds import by_dimension, lagrangian_prices

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    prices, values, lam_sums, dual, incumbent, incumbent_path = lagrangian_prices(g, by_dimension(g), coef, caps, 200,
                                                                                  np.inf)
    if not fits.any():
        return  # any bound is valid; inf is the proof
    best = scores[fits].min()
    assert dual <= best + TOL * max(1.0, abs(best))
    assert np.all(prices >= 0) and np.all(lam_sums >= 0)
    if incumbent[0] < np.inf:
        assert list(incumbent_path) in [p for p, f in zip(paths, fits) if f]
        assert incumbent[0] >= best - TOL * max(1.0, abs(best))
    lp = convex_combination_lp(scores, usage, caps)
    assert lp is not None and abs(dual - lp) <= 1e-6 * max(1.0, abs(lp)), (dual, lp)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 5), st.integers(0, 300), st.sampled_from([0, 1, 10**9]), st.data())
def test_usage_classes_are_the_distinct_rows_in_order_of_first_appearance(distinct, d, rows, min_rows, data):
    """Usage rows (some repeated, 0.0 and -0.0 apart) fall into one class per distinct row
    (bit for bit; under ``min_rows`` rows one class per row), numbered in order of first
    appearance, and each class's usage is its rows'."""
    from eip.kernels.bounds import usage_classes

    values = st.sampled_from([0.0, -0.0, 1.0, 0.1, 1e-300, 3.5e6])
    pool = np.array(data.draw(st.lists(st.lists(values, min_size=d, max_size=d), min_size=distinct,
                                       max_size=distinct)), dtype=float).reshape(distinct, d)
    use = pool[data.draw(st.lists(st.integers(0, distinct - 1), min_size=rows, max_size=rows))].reshape(rows, d)
    row_class, class_use = usage_classes(use, min_rows)
    assert row_class.dtype == np.int32 and class_use.shape[0] == d
    assert np.array_equal(class_use[:, row_class].view(np.uint64), use.T.view(np.uint64))
    if rows < min_rows:
        assert np.array_equal(row_class, np.arange(rows))
        return
    bits = [row.tobytes() for row in use]
    first = list(dict.fromkeys(bits))  # distinct rows in order of first appearance
    assert class_use.shape[1] == len(first)
    assert [first.index(b) for b in bits] == row_class.tolist()


@settings(max_examples=100, deadline=None)
@given(scenario_docs(), goals)
def test_classed_usages_price_every_option_and_arc_as_the_rows_do(doc, goal):
    """A pass's costs from the graph's usages classed (every size hashed) are bit for bit
    score + price . usage summed dimension by dimension, and a column generation over them
    answers exactly as over one class per row."""
    from eip.kernels.bounds import by_dimension, lagrangian_prices, relaxed_costs, usage_classes

    model, coef, *_ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    classed = (*usage_classes(g.opt_use, 0), *usage_classes(g.arc_use, 0))
    price = np.where((caps > 0) & np.isfinite(caps), 1.0 / np.where(caps > 0, caps, 1.0), 0.0)
    opt_cost, arc_cost = np.empty(len(g.opt_key)), np.empty(len(g.arc_tail))
    relaxed_costs(classed, coef, price, opt_cost, arc_cost)
    for cost, use in ((opt_cost, g.opt_use), (arc_cost, g.arc_use)):
        expected = np.zeros(len(use))
        for j in range(use.shape[1]):
            if coef[j] + price[j] != 0.0:
                expected += (coef[j] + price[j]) * use[:, j]
        assert np.array_equal(cost, expected)
    ours = lagrangian_prices(g, classed, coef, caps, 200, np.inf)
    rows = lagrangian_prices(g, by_dimension(g), coef, caps, 200, np.inf)
    for a, b in zip(ours, rows):
        assert np.array_equal(a, b)


def allowed_and_pool(model, coef: np.ndarray, paths: list, pooled: int, data):
    """A random mask of ``model.graph``'s options, ``allowed`` (T,) bool, the enumerated
    ``paths`` through it (P,) bool, and a pool of ``pooled`` columns that a column
    generation over another random mask filled (some of them not through ``allowed``)."""
    from eip.kernels.bounds import by_dimension, column_generation, column_pool

    g = model.graph
    masks = st.lists(st.booleans(), min_size=len(g.opt_key), max_size=len(g.opt_key))
    allowed, other = np.array(data.draw(masks)), np.array(data.draw(masks))
    through = np.array([all(allowed[t] for t in p) for p in paths], dtype=bool)
    pool = column_pool(pooled, model.n_stages, g.opt_use.shape[1])
    column_generation(g, by_dimension(g), coef, model.caps_tol, 200, other, np.empty(len(g.opt_key)), np.inf, pool,
                      np.inf, column_pool(0, model.n_stages, g.opt_use.shape[1]), np.zeros(len(coef)), 0.0)
    return allowed, through, pool


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([0, 2, 256]), st.data())
def test_column_generation_over_allowed_options_solves_their_lp(doc, goal, pooled, data):
    """Restricted to the paths through allowed options, the bound is the LP over their
    convex combinations (inf where none fits), and the options' shares are that LP's
    fractional placement: the same total weight at every step, 1 once it fits. So also
    where its master starts from a pool of ``pooled`` columns that an LP over other
    allowed options left (some of them not through the allowed options; 2: a full pool
    that keeps overwriting its oldest), from any first multipliers (where no pooled
    column sets them), and with its passes smoothed or not. The columns of its master's
    last basis are such paths, with their plan rows, and hold the shares; where no plan it
    met ends the LP first, the LP over them alone is the LP (where a later LP starts from
    them)."""
    pytest.importorskip("highspy")
    from eip.kernels.bounds import by_dimension, column_generation, column_pool
    from eip.kernels.contract import Row

    model, coef, paths, usage, _, _ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    allowed, through, columns = allowed_and_pool(model, coef, paths, pooled, data)
    share = np.empty(len(g.opt_key))
    basis = column_pool(len(caps) + 1, model.n_stages, len(caps))
    assert all(list(p) in paths for p in columns.paths[:columns.held[0]])
    start = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.01, 0.5, 3.0, 100.0]), min_size=len(caps),
                                        max_size=len(caps))))
    smoothing = data.draw(st.sampled_from([0.0, 0.6, 0.95]))
    prices, _, lam_sums, dual, incumbent, incumbent_path = column_generation(g, by_dimension(g), coef, caps, 200,
                                                                             allowed, share, np.inf, columns, np.inf,
                                                                             basis, start, smoothing)
    lp = convex_combination_lp(usage[through] @ coef, usage[through], caps) if through.any() else None
    if lp is None:
        assert dual == np.inf  # no combination fits: the bound proves it
        return
    assert abs(dual - lp) <= 1e-6 * max(1.0, abs(lp)), (dual, lp)
    held = [paths.index(list(p)) for p in basis.paths[:basis.held[0]]]
    assert len(set(held)) == len(held) <= np.count_nonzero((caps > 0) & np.isfinite(caps)) + 1
    assert all(through[i] for i in held)
    assert np.allclose(basis.rows[:len(held), Row.USE:], usage[held])
    assert np.allclose(basis.rows[:len(held), Row.SCORE], usage[held] @ coef)
    assert {t for i in held for t in paths[i]} >= set(np.flatnonzero(share > 0).tolist())
    if incumbent[0] > lp + 1e-6 * max(1.0, abs(lp)):
        alone = convex_combination_lp(usage[held] @ coef, usage[held], caps) if held else None
        assert alone is not None and abs(alone - lp) <= 1e-6 * max(1.0, abs(lp)), (alone, lp)
    # both multiplier sets (the first pass's, on a seeded master its duals, and the best) bound the LP
    for price, lam_sum in zip(prices, lam_sums):
        assert (usage[through] @ (coef + price)).min() - lam_sum <= lp + 1e-6 * max(1.0, abs(lp))
    if incumbent[0] < np.inf:
        assert list(incumbent_path) in [p for p, t in zip(paths, through) if t]
    steps = [share[g.step_start[s]:g.step_start[s + 1]].sum() for s in range(model.n_stages)]
    assert np.all(share >= 0) and np.all(share[~allowed] == 0)
    assert np.allclose(steps, steps[0]) and (incumbent[0] < np.inf or abs(steps[0] - 1.0) <= 1e-6)


@settings(max_examples=150, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([0, 256]), st.sampled_from([-0.5, -0.01, -1e-6, 0.0, 0.01]), st.data())
def test_column_generation_stops_once_its_bound_passes_a_cutoff(doc, goal, pooled, below, data):
    """Given a cutoff, the bound over the paths through allowed options is still at most
    their LP (a bound), and where that LP lies past the cutoff it passes the cutoff too
    (the caller prunes by it); a cutoff at or above the LP changes nothing. It stops at the
    first pass whose bound passes the cutoff: its bound is that of the same column
    generation cut short after that many passes. ``below``: the cutoff's distance from the
    LP, relative; ``pooled``: a pool that an LP over other options filled first."""
    pytest.importorskip("highspy")
    from eip.kernels.bounds import ColumnPool, by_dimension, column_generation, column_pool

    model, coef, paths, usage, _, _ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    allowed, through, pool = allowed_and_pool(model, coef, paths, pooled, data)
    lp = convex_combination_lp(usage[through] @ coef, usage[through], caps) if through.any() else None
    cutoff = np.inf if lp is None else lp + below * max(1.0, abs(lp))

    def bound(passes: int, cut: float) -> float:  # (each run from a copy of the same pool)
        columns = ColumnPool(*(a.copy() for a in pool))
        return column_generation(g, by_dimension(g), coef, caps, passes, allowed, np.empty(len(g.opt_key)), np.inf,
                                 columns, cut, column_pool(0, model.n_stages, len(caps)), np.zeros(len(caps)),
                                 0.0)[3]

    dual = bound(200, cutoff)
    if lp is None:
        assert dual == np.inf
        return
    tol = 1e-6 * max(1.0, abs(lp))
    assert dual <= lp + tol, (dual, lp)
    if cutoff < lp - tol:
        assert dual > cutoff, (dual, cutoff, lp)
    elif cutoff >= lp:
        assert abs(dual - lp) <= tol, (dual, lp)
    first_past = next((b for b in (bound(p, np.inf) for p in range(1, 201)) if b > cutoff), bound(200, np.inf))
    assert dual == first_past, (dual, first_past, cutoff, lp)


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([None, 0.0, 0.5, 1.0]))
def test_the_dive_meets_only_plans_that_fit(doc, goal, beaten):
    """A plan the LP dive returns is a path that fits, its row its own totals, scoring no
    better than the brute-force optimum and below the incumbent it was given (``beaten``:
    none, or the score that far from the optimum to the worst plan that fits); where no
    plan fits it returns none."""
    from eip.kernels.dive import DIVE_STALL_PER_STEP, lp_dive

    model, coef, paths, usage, _, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    scores = usage @ coef
    incumbent = np.inf
    if beaten is not None and fits.any():
        incumbent = scores[fits].min() + beaten * (scores[fits].max() - scores[fits].min())
    path = np.zeros(model.n_stages, dtype=np.int64)
    row = lp_dive(g, coef, caps, incumbent, np.inf, DIVE_STALL_PER_STEP, path)
    if row[0] == np.inf:
        return
    assert fits.any() and row[0] < incumbent
    i = paths.index(list(path))
    assert fits[i] and np.allclose(row[1:], usage[i]) and close(row[0], usage[i] @ coef)
    assert row[0] >= scores[fits].min() - TOL * max(1.0, abs(row[0]))


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals)
def test_polishing_the_worst_plan_meets_the_optimum_where_one_window_holds_every_step(doc, goal):
    """``_polished`` (the large neighbourhood search) from the worst plan that fits: it
    leaves a path that fits, its row its own totals, no worse than it started from; on
    these graphs (at most POLISH_WIDTH / 2 steps) its first window holds every step, so
    it ends at the brute-force optimum."""
    from eip.kernels import solve as kernel
    from eip.kernels.bounds import cap_tests, completion_usage
    from eip.kernels.contract import lp_bound

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    n = g.step_start.shape[0] - 1
    if not fits.any():
        return
    assert n <= kernel.POLISH_WIDTH // 2
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, n)
    root = tuple(lp_bound(g, coef, caps).root)  # (a plain tuple, as ``solve_topk`` passes it)
    ctx = kernel._bounded(g, coef, caps, least, thr, 1, 1_000_000, kernel.TREE_WORK, root, np.inf,
                          np.empty(0))[0]
    worst = int(np.flatnonzero(fits)[np.argmax(scores[fits])])
    path = np.array(paths[worst], dtype=np.int64)
    row = np.concatenate([[scores[worst]], usage[worst]])
    stats = np.zeros(kernel.STAT_SLOTS)
    improved = kernel._polished(ctx, path, row, stats)
    i = paths.index(list(path))
    assert fits[i] and np.allclose(row[1:], usage[i]) and close(row[0], scores[i])
    assert close(row[0], scores[fits].min())
    assert improved == (row[0] < scores[worst])


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 3]), st.sampled_from([1, 4, 16, 64, 10**6]), st.booleans())
def test_a_search_the_growth_check_stops_proves_only_a_bound(doc, goal, k, budget, limited):
    """An exact search with the growth check (``labels.outgrows``), limited by the k-th
    best score or by nothing, either ends with the k best plans the brute force finds or
    stops with a lower bound on the best score that the brute force confirms."""
    from eip.kernels import solve as kernel
    from eip.kernels.bounds import cap_tests, completion_usage
    from eip.kernels.contract import Row, Stop, lp_bound

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    if not fits.any():
        return
    best = np.sort(scores[fits])[:k]
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, g.step_start.shape[0] - 1)
    root = tuple(lp_bound(g, coef, caps).root)
    ctx = kernel._bounded(g, coef, caps, least, thr, k, budget, kernel.TREE_WORK, root, np.inf, np.empty(0))[0]
    limit = best[-1] if limited and len(best) == k else np.inf
    stop, _, rows, found, bound = kernel._search(ctx, kernel.EXACT_WIDTH, limit, budget, np.inf,
                                                 np.zeros(kernel.STAT_SLOTS), False, True)
    if stop == Stop.COMPLETE:
        assert found == len(best) and all(close(a, b) for a, b in zip(rows[:found, Row.SCORE], best))
    else:
        assert stop == Stop.LABEL_BUDGET and found == 0
        assert min(bound, limit) <= best[0] + TOL * max(1.0, abs(best[0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(0, 2000), st.data())
def test_a_search_outgrows_its_budget_at_its_last_steps_rate(step_kept, budget, data):
    """``labels.outgrows`` against its definition: the labels kept so far, and each step
    left keeping the average of the last GROWTH_WINDOW steps, exceed the budget."""
    from eip.kernels.labels import GROWTH_WINDOW, outgrows

    s = data.draw(st.integers(0, len(step_kept) - 1))
    kept = sum(step_kept[:s + 1])
    window = step_kept[max(0, s + 1 - GROWTH_WINDOW):s + 1]
    steps_left = len(step_kept) - 1 - s
    expected = Fraction(kept) + Fraction(sum(window) * steps_left, len(window)) > budget
    assert outgrows(np.array(step_kept, dtype=np.int64), s, kept, budget) == expected


def path_arcs(g, path: list[int]) -> list[int]:
    """The arcs a path of a layered graph takes, step by step (none into step 0)."""
    return [next(e for e in range(g.arc_start[t], g.arc_start[t + 1]) if g.arc_tail[e] == before)
            for before, t in zip(path, path[1:])]


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 4, 64]), st.data())
def test_bound_tables_never_exceed_a_completion_that_fits_their_room(doc, goal, grid, data):
    """``resource_tables`` on random prices: for every option and every completion after
    it (the steps of some path past that option), the table of a dimension at any room
    of at least the completion's usage in grid units (rounded down step by step) is at
    most the completion's cost (score + price . usage, that dimension unpriced), and at
    the full grid it is the least such cost."""
    from eip.kernels.bounds import resource_tables, table_dimensions
    from eip.kernels.paths import score_limit

    model, coef, paths, _, _, _ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    price = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.1, 1.0, 3.0]), min_size=len(caps),
                                        max_size=len(caps))))
    table, dims, units = resource_tables(g, coef, caps, price, grid, np.empty(0))
    assert np.array_equal(dims, table_dimensions(caps, price))
    r = g.arc_use.shape[1]
    for i, j in enumerate(dims.tolist()):
        own = price.copy()
        own[j] = 0.0
        least = {}  # (option, completion's units) -> least cost of such a completion
        for path in paths:
            arcs = path_arcs(g, path)
            for s in range(len(path)):
                steps = [(arcs[u - 1], path[u]) for u in range(s + 1, len(path))]
                cost = sum(float((coef[:r] + own[:r]) @ g.arc_use[e] + (coef + own) @ g.opt_use[b]) for e, b in steps)
                used = sum(int(np.floor(((g.arc_use[e, j] if j < r else 0.0) + g.opt_use[b, j]) / units[i]))
                           for e, b in steps)
                if used <= grid:
                    key = (path[s], used)
                    least[key] = min(least.get(key, math.inf), cost)
        for (t, used), cost in least.items():
            # summed backward, a table may differ from a forward sum in the last bits: what
            # the searches' score_limit slack absorbs
            assert np.all(table[i, t, used:] <= score_limit(cost)), (t, used, cost, table[i, t])
        for t in {t for t, _ in least}:
            best = min(cost for (u, _), cost in least.items() if u == t)
            assert close(float(table[i, t, grid]), best)


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), goals, st.floats(0.0, 1.0))
def test_reduced_cost_fixing_keeps_every_plan_within_its_limit(doc, goal, share):
    """Fixed at a limit between the best and the worst plan's score, no option or arc of a
    plan scoring at most the limit is dropped, by either multiplier set."""
    from eip.kernels.bounds import by_dimension, lagrangian_prices
    from eip.kernels.fixing import fixed_by_bounds

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    if not fits.any():
        return
    limit = scores[fits].min() + share * (scores[fits].max() - scores[fits].min())
    prices, values, lam_sums, *_ = lagrangian_prices(g, by_dimension(g), coef, caps, 200, np.inf)
    keep_opt, keep_arc = fixed_by_bounds(g, by_dimension(g), coef, prices, values, lam_sums, limit)
    for i in np.flatnonzero(fits & (scores <= limit)):
        assert keep_opt[paths[i]].all() and keep_arc[path_arcs(g, paths[i])].all(), (paths[i], scores[i], limit)


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.floats(0.0, 1.0), st.sampled_from([None, 0.5, 1.0, 2.0]))
def test_a_graph_within_a_score_holds_every_plan_that_scores_within_it(doc, goal, share, start_scale):
    """``contract.within_score`` at a limit between the best and the worst plan's score,
    by the graph's own LP: every placement within the caps scoring at most the limit is a
    path of it, and every path of it is one of the graph's. So also where the LP started
    from the multipliers of another LP (here the same graph's within caps scaled by
    ``start_scale``, as a model's mode graphs start from the one before)."""
    from eip.kernels.contract import lp_bound, within_score

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    if not fits.any():
        return
    limit = scores[fits].min() + share * (scores[fits].max() - scores[fits].min())
    start = None if start_scale is None else lp_bound(g, coef, caps * start_scale).root
    sub = within_score(g, coef, lp_bound(g, coef, caps, start=start), limit)
    placements = {tuple(g.opt_key[p]) for p in paths}
    kept = {tuple(sub.opt_key[p]) for p in graph_paths(sub)[0]}
    assert kept <= placements
    for i in np.flatnonzero(fits & (scores <= limit)):
        assert tuple(g.opt_key[paths[i]]) in kept, (paths[i], scores[i], limit)


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), st.data())
def test_cap_fixing_drops_what_its_least_paths_break_round_by_round(doc, data):
    """``fitting_parts`` within caps drawn from the model's or between the least and the
    most a path uses, against rounds of its definition on every path of the graph: each
    round keeps the options and arcs that, in every capped dimension alone, some path of
    kept options and arcs through them keeps within the cap (the same rounds, until one
    drops nothing). So every path within the caps keeps all its options and arcs."""
    from eip.kernels.bounds import rounding_slack
    from eip.kernels.fixing import fitting_parts

    g = eip.Scenario.from_dict(doc).cost_model.graph
    paths, usage = graph_paths(g)
    caps = eip.Scenario.from_dict(doc).cost_model.caps_tol.copy()
    if len(paths):
        for j in range(len(caps)):
            if data.draw(st.booleans()):
                caps[j] = usage[:, j].min() + data.draw(st.floats(0.0, 1.0)) * np.ptp(usage[:, j])
    rounds = data.draw(st.sampled_from([1, 2, 16]))
    keep_opt, keep_arc, settled = fitting_parts(*g, caps, rounds)
    opts = [np.array(p) for p in paths]
    arcs = [np.array(path_arcs(g, p), dtype=np.int64) for p in paths]
    capped = np.flatnonzero(caps < np.inf)
    limit = np.array([caps[j] + rounding_slack(caps[j], g.n_steps) for j in capped])
    want_opt, want_arc = np.ones(len(g.opt_key), bool), np.ones(len(g.arc_tail), bool)
    settles = True
    for _ in range(rounds if len(capped) else 0):
        settles = False
        kept = [i for i in range(len(paths)) if want_opt[opts[i]].all() and want_arc[arcs[i]].all()]
        least_opt = np.full((len(want_opt), len(capped)), np.inf)
        least_arc = np.full((len(want_arc), len(capped)), np.inf)
        for i in kept:
            least_opt[opts[i]] = np.minimum(least_opt[opts[i]], usage[i, capped])
            least_arc[arcs[i]] = np.minimum(least_arc[arcs[i]], usage[i, capped])
        new_opt = want_opt & np.all(least_opt <= limit, axis=1)
        new_arc = want_arc & np.all(least_arc <= limit, axis=1)
        if np.array_equal(new_opt, want_opt) and np.array_equal(new_arc, want_arc):
            settles = True
            break
        want_opt, want_arc = new_opt, new_arc
    assert np.array_equal(keep_opt, want_opt) and np.array_equal(keep_arc, want_arc)
    assert settled == settles
    for i in np.flatnonzero(np.all(usage <= caps, axis=1)):
        assert keep_opt[opts[i]].all() and keep_arc[arcs[i]].all()


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), st.data())
def test_a_subgraph_has_exactly_the_paths_through_what_it_keeps(doc, data):
    """The subgraph's paths, mapped back through ``origin``, are the graph's paths through
    kept options and arcs, in the same order and with the same usage; options keep their
    keys and order, and it has a path exactly when one is kept."""
    from eip.kernels.fixing import subgraph

    g = eip.Scenario.from_dict(doc).cost_model.graph
    keep_opt = np.array(data.draw(st.lists(st.booleans(), min_size=len(g.opt_key), max_size=len(g.opt_key))))
    keep_arc = np.array(data.draw(st.lists(st.booleans(), min_size=len(g.arc_tail), max_size=len(g.arc_tail))))
    sub, origin, has_path = subgraph(g, keep_opt, keep_arc)
    paths, usage = graph_paths(g)
    kept = [i for i, p in enumerate(paths) if keep_opt[p].all() and keep_arc[path_arcs(g, p)].all()]
    sub_paths, sub_usage = graph_paths(sub) if has_path else ([], np.zeros((0, g.opt_use.shape[1])))
    assert has_path == bool(kept)
    assert [[int(origin[t]) for t in p] for p in sub_paths] == [paths[i] for i in kept]
    assert np.array_equal(sub_usage, usage[kept])
    assert np.all(np.diff(origin) > 0) and np.array_equal(sub.opt_key, g.opt_key[origin])
    assert np.all(np.diff(sub.step_start) >= (1 if has_path else 0))


@settings(max_examples=300, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 3, 5]), st.booleans(), st.sampled_from([1, 4, 10**6]),
       st.sampled_from([math.inf, 0.0]), st.data())
def test_the_depth_first_search_meets_the_k_best_paths_or_says_it_stopped(doc, goal, k, lagrangian, nodes, deadline,
                                                                          data):
    """``pulse_search`` on unconstrained or Lagrangian bounds, below an incumbent or not:
    complete, its plans are the k best paths that fit and score at most the incumbent, in
    placement order on exact ties; stopped by its node budget or a deadline already past
    (at its first prefix), it says which, and what it met fits."""
    from eip.kernels.bounds import by_dimension, cap_tests, completion_usage, lagrangian_prices
    from eip.kernels.contract import Row, Stop
    from eip.kernels.pulse import pulse_search
    from eip.kernels.solve import _unconstrained_best

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    least, most = completion_usage(g)
    least, _ = cap_tests(caps, least, most, len(g.step_start) - 1)
    if lagrangian:
        prices, values, lam_sums, *_ = lagrangian_prices(g, by_dimension(g), coef, caps, 200, np.inf)
    else:
        prices, values, lam_sums = np.zeros((1, len(caps))), _unconstrained_best(g, coef, caps)[0][None, :], np.zeros(1)
    levels = np.unique(scores[fits])
    incumbent = data.draw(st.sampled_from([math.inf, *levels.tolist()]))
    stop, got_paths, rows, found, created, visited = pulse_search(g, coef, caps, least, prices, values, lam_sums, k,
                                                                  incumbent, nodes, deadline)
    for r in range(found):
        assert np.all(rows[r, Row.USE:] <= caps) and close(rows[r, Row.SCORE], rows[r, Row.USE:] @ coef)
    if deadline == 0.0:  # the clock is read on the first prefix: only a search that visits none completes
        assert (stop == Stop.TIME_LIMIT and visited == 1) or (stop == Stop.COMPLETE and visited == 0)
        if stop == Stop.TIME_LIMIT:
            return
    if stop != Stop.COMPLETE:
        assert stop == Stop.LABEL_BUDGET and visited > nodes
        return
    within = np.flatnonzero(fits & (scores <= incumbent + TOL * max(1.0, abs(incumbent))))
    ranked = sorted(within, key=lambda i: (scores[i], paths[i]))[:k]
    assert found == len(ranked)
    assert np.allclose(rows[:found, Row.SCORE], scores[ranked], rtol=TOL, atol=TOL)
    for r, i in enumerate(ranked):
        if sum(close(scores[j], scores[i]) for j in within) == 1:  # not a near-tie: the same path
            assert list(got_paths[r]) == paths[i]


def test_reduced_cost_fixing_at_the_optimum_leaves_a_small_graph():
    """On an at-scale chain (150x4 seed 0), fixing at the proven optimum drops most of the
    graph (all but a quarter of its arcs), and the plan stays in what is left."""
    from benchmarks.generate import soc_scenario
    from eip.kernels.bounds import by_dimension, lagrangian_prices
    from eip.kernels.fixing import fixed_by_bounds, subgraph

    model = eip.Scenario.from_dict(soc_scenario(150, 4, 0)).cost_model
    best = eip.plan(model, top_k=1, strategy="exact")
    assert best.status == "optimal"
    coef = model.coefficients(best.weights)
    g, caps = model.graph, model.caps_tol
    prices, values, lam_sums, *_ = lagrangian_prices(g, by_dimension(g), coef, caps, 200, np.inf)
    sub, origin, has_path = subgraph(g, *fixed_by_bounds(g, by_dimension(g), coef, prices, values, lam_sums,
                                                         best.plans[0].score))
    assert has_path and len(sub.arc_tail) < 0.25 * len(g.arc_tail)  # 438 of 1,975 arcs
    for s, name in enumerate(best.plans[0].option_names):
        assert name in [model.option_names[key] for key in sub.opt_key[sub.step_start[s]:sub.step_start[s + 1]]]


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 3]), st.sampled_from(DEPTHS), st.data())
def test_a_cutoff_asks_only_for_the_plans_within_it(doc, goal, k, depth, data):
    """With a cutoff (below the best plan, or at any plan's score) the answer is the k best
    plans scoring at most it, proven, and no other (infeasible when there are none)."""
    from eip.kernels.contract import Mode, Row, Status, solve

    model, coef, _, _, all_scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    scores = np.sort(all_scores[fits])
    levels = np.unique(scores)
    # cutoffs with no other score within the limit's slack above them (``paths.score_limit``)
    apart = levels[np.append(np.diff(levels) > 2 * TOL * np.maximum(1.0, np.abs(levels[:-1])), True)[:len(levels)]]
    cutoff = data.draw(st.sampled_from([(levels[0] if len(levels) else 0.0) - 1.0, *apart.tolist()]))
    wanted = scores[scores <= cutoff][:k]
    with pipeline(depth):
        sol = solve(g, coef, caps, k, Mode.EXACT, 32, 10**6, cutoff=cutoff)
    if not len(wanted):
        assert sol.status == Status.INFEASIBLE and not len(sol.rows)
        return
    assert sol.status == Status.OPTIMAL
    assert np.allclose(sol.rows[:, Row.SCORE], wanted, rtol=TOL, atol=TOL)


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.sampled_from(("tree", "short trees")), st.sampled_from([1, 10, 10**6]), st.data())
def test_a_cutoff_where_no_search_met_a_plan_is_answered_like_brute_force(doc, goal, depth, label_budget, data):
    """Solved as a DAG's graph is under another graph's plan (no LP dives, a cutoff below the
    best plan or at a plan's score), within caps tightened to one plan's usage, from an LP
    that met no plan and a first search that met none either (width 0: the exact search,
    which one or ten labels stop): the best plan scoring at most the cutoff, proven, or
    infeasible when there is none; where the labels stop it, an honest answer. (The first
    tree, limited by the cutoff, goes before the guesses from the bound there:
    ``solve._constrained``, TREE_UNDER_CUTOFF.)"""
    from eip.kernels.contract import Mode, Row, Status, Stop, lp_bound, solve

    model, coef, _, usage, all_scores, fits = enumerated(doc, goal)
    if not fits.any():
        return
    slack = 1e-6 * np.maximum(1.0, np.abs(usage))
    unconstrained = usage[np.argmin(all_scores)]  # (its caps break the best path: past the unconstrained answer)
    plans = np.flatnonzero(fits & np.any(unconstrained > usage + slack, axis=1))
    if not len(plans):
        return
    g, p = model.graph, data.draw(st.sampled_from(plans.tolist()))
    caps = np.minimum(model.caps_tol, usage[p] + slack[p])
    scores = np.sort(all_scores[np.all(usage <= caps, axis=1)])
    apart = scores[np.append(np.diff(scores) > 2 * TOL * np.maximum(1.0, np.abs(scores[:-1])), True)]
    cutoff = data.draw(st.sampled_from([scores[0] - 1.0, *apart.tolist()]))
    root = lp_bound(g, coef, caps).root
    with pipeline(depth):
        sol = solve(g, coef, caps, 1, Mode.EXACT, 0, label_budget, lp_dives=False, cutoff=cutoff,
                    root=root._replace(row=np.full_like(root.row, np.inf)))
    wanted = scores[scores <= cutoff][:1]
    if sol.status in (Status.FEASIBLE, Status.UNKNOWN):  # (labels that stop it: honest, never better)
        assert label_budget < 10**6 and sol.stop == Stop.LABEL_BUDGET
        assert len(sol.rows) <= len(wanted) and np.all(sol.rows[:, Row.SCORE] >= wanted[:len(sol.rows)] - TOL)
        assert not len(wanted) or sol.bound <= wanted[0] + TOL
        return
    assert sol.status == (Status.OPTIMAL if len(wanted) else Status.INFEASIBLE)
    assert np.allclose(sol.rows[:, Row.SCORE], wanted, rtol=TOL, atol=TOL)


@settings(max_examples=150, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 3]), st.sampled_from(DEPTHS))
def test_a_solve_from_the_lp_it_was_given_answers_as_one_that_computes_it(doc, goal, k, depth):
    """``solve`` given the graph's LP (``lp_bound(...).root``, as ``solve_model`` passes the
    one its graph order came from) answers exactly as the solve that runs its own column
    generation: the same status, plans and bound, the plans brute force's best. And it
    takes the LP as given: past the unconstrained shortcut, with the first pulse off (a
    graph of one step has no arcs: ``PULSE_ARCS`` 0 leaves it on), an LP whose bound says
    no path fits answers infeasible."""
    from eip.kernels.contract import Mode, Row, Status, Strategy, lp_bound, solve

    model, coef, _, _, all_scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    root = lp_bound(g, coef, caps).root
    with pipeline(depth):
        own = solve(g, coef, caps, k, Mode.EXACT, 32, 10**6)
        given = solve(g, coef, caps, k, Mode.EXACT, 32, 10**6, root=root)
        told_none_fits = solve(g, coef, caps, k, Mode.EXACT, 32, 10**6, root=root._replace(bound=np.inf))
    if depth != "as it runs" and len(g.arc_tail) and own.strategy != Strategy.VITERBI:
        assert told_none_fits.status == Status.INFEASIBLE
    assert given.status == own.status and given.bound == own.bound
    assert np.array_equal(given.options, own.options) and np.array_equal(given.rows, own.rows)
    wanted = np.sort(all_scores[fits])[:k]
    assert own.status == (Status.OPTIMAL if len(wanted) else Status.INFEASIBLE)
    assert np.allclose(given.rows[:, Row.SCORE], wanted, rtol=TOL, atol=TOL)


@settings(max_examples=300)
@given(scenario_docs())
def test_the_branched_certificate_decides_feasibility_like_brute_force(doc):
    """Given nodes enough, branching closes every node exactly when no plan fits (both
    outcomes checked), and stopped early it claims nothing."""
    from eip.kernels.bounds import BRANCH_FITS, BRANCH_PROVEN, BRANCH_STOPPED, branched_certificate

    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    feasible = bool(ranked_plans(scenario, (1.0, 0.0, 0.0)))
    fitting = np.empty(model.n_stages, dtype=np.int64)
    outcome, nodes = branched_certificate(model.graph, model.caps_tol, 50, 10, 1_000_000, np.inf, fitting)
    assert outcome == (BRANCH_FITS if feasible else BRANCH_PROVEN)
    if outcome == BRANCH_FITS:  # the path it met is a plan
        assert np.all(model.usage(model.graph.opt_key[fitting][None])[0] <= model.caps_tol)
    if nodes > 1:
        stopped = branched_certificate(model.graph, model.caps_tol, 50, 10, nodes - 1, np.inf, fitting)[0]
        assert stopped == BRANCH_STOPPED


def test_branching_without_a_capped_dimension_meets_a_plan():
    """No cap to weigh: nothing can be proven, and the first path met fits."""
    from eip.kernels.bounds import BRANCH_FITS, branched_certificate

    model = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json").cost_model
    fitting = np.empty(model.n_stages, dtype=np.int64)
    no_caps = np.full(model.dims.size, np.inf)
    assert branched_certificate(model.graph, no_caps, 50, 10, 1000, np.inf, fitting) == (BRANCH_FITS, 1)


def test_yolov3_with_its_npu_memory_2_mb_short_is_proven_infeasible_by_branching():
    """The relaxation fits (no certificate alone), no plan does: HiGHS branches for 4 s, a
    label search stops unproven at any budget up to 20M labels."""
    from eip.costmodel import LimitKind
    from eip.kernels.bounds import BRANCH_PROVEN, CERTIFICATE_MARGIN, branched_certificate, infeasibility_certificate

    model = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "yolov3_rk3399pro.json").cost_model
    npu = next(limit for limit in model.limits if limit.kind == LimitKind.MEMORY and limit.name == "npu memory")
    short = model.with_limit(npu, npu.value - 2)
    assert not infeasibility_certificate(short.graph, short.caps_tol, 1000) > 1.0 + CERTIFICATE_MARGIN
    fitting = np.empty(short.n_stages, dtype=np.int64)
    assert branched_certificate(short.graph, short.caps_tol, 50, 10, 100_000, np.inf, fitting)[0] == BRANCH_PROVEN
    assert eip.plan(short, top_k=1).status == "infeasible"


def test_yolov3_with_a_latency_cap_100_ms_tighter_is_proven_infeasible():
    """The relaxation rules it out: a certificate, not a search that runs out of budget."""
    from dataclasses import replace
    from pathlib import Path

    from eip.kernels.bounds import CERTIFICATE_MARGIN, infeasibility_certificate

    model = eip.load(Path(__file__).resolve().parents[1] / "scenarios" / "yolov3_rk3399pro.json").cost_model
    tight = replace(model, max_latency_ms=model.max_latency_ms - 100)
    assert infeasibility_certificate(tight.graph, tight.caps_tol, 200) > 1.0 + CERTIFICATE_MARGIN
    result = eip.plan(tight, top_k=1)
    assert result.status == "infeasible" and result.stats["labels_kept"] < 10_000
    assert "latency cap" in result.reason


def test_a_float_near_tie_in_score_may_rank_either_way():
    """Found by CI: two plans whose scores differ by one ulp in the reference's summation
    order (7.119199999999999 against 7.1192) tie in eip's, which breaks the tie by latency."""
    doc = json.loads((Path(__file__).parent / "data" / "near_tie_scenario.json").read_text())
    scenario, goal = eip.Scenario.from_dict(doc), {"latency": 0.5, "energy": 0.0, "switch": 1.0}
    result = eip.plan(scenario, goal=goal, top_k=1, strategy="exact")
    ref = ranked_plans(scenario, resolve_goal(goal)[1])
    assert result.status == "optimal" and result.best.placement in {ref[0].placement, ref[1].placement}
    assert_matches_oracle(result, ref, 1)


@settings(max_examples=150, deadline=None)
@given(scenario_docs(), goals, st.sampled_from([1, 3]), st.sampled_from(DEPTHS), st.integers(0, 2**32 - 1))
def test_dimensions_that_only_ride_along_change_no_plan(doc, goal, k, depth, seed):
    """Dimensions no cap limits and the score does not weigh (the solve leaves them out of
    its searches: ``solve._projected``) change neither the plans nor, bit for bit, the rows
    of the others; their own totals are their options' sums along each plan."""
    from eip.kernels.contract import LayeredGraph, Mode, Row, solve

    model, coef, *_ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    # by option key (a DAG's frontier states repeat keys within a step), so plans' totals follow from their keys
    by_key = np.random.default_rng(seed).random((int(g.opt_key.max()) + 1, 3)) * 10.0
    wide = LayeredGraph(g.step_start, np.ascontiguousarray(np.hstack([g.opt_use, by_key[g.opt_key]])), g.opt_key,
                        g.arc_start,
                        g.arc_tail, g.arc_head, g.arc_use)
    with pipeline(depth):
        sol = solve(g, coef, caps, k, Mode.EXACT, 32, 10**6)
        wide_sol = solve(wide, np.append(coef, np.zeros(3)), np.append(caps, np.full(3, np.inf)), k, Mode.EXACT, 32,
                         10**6)
    assert (sol.status, sol.bound) == (wide_sol.status, wide_sol.bound)
    assert np.array_equal(sol.options, wide_sol.options)
    q = g.opt_use.shape[1]
    assert np.array_equal(sol.rows, wide_sol.rows[:, :Row.USE + q])
    for options, row in zip(wide_sol.options, wide_sol.rows):
        assert np.allclose(row[Row.USE + q:], by_key[options].sum(axis=0))
