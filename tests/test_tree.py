"""The LP branch and bound (``kernels/tree.py`` and the solve's ``_tree``) against plain
references: its branching pairs and children, its nodes' reduced-cost fixing, its open-node
pool, the k best plans it keeps, its top-k answers against brute force on chains, ways and
DAGs, and the guesses' hand-over to it."""

from __future__ import annotations

import copy
import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import eip
from eip.goals import resolve_goal
from reference import ranked_plans
from strategies import goals, scenario_docs, ways_scenario_docs
from test_engine_properties import (assert_matches_oracle, assert_plan_recomputes, close, enumerated, fitting,
                                    path_arcs, pipeline)
from test_ways import _ways, assert_recomputes

#: solves forced past the quick exact searches into the tree (``test_engine_properties.pipeline``):
#: a node's exact search then gets one label, so nodes branch down to single placements;
#: and past them with one quick label, where a label budget beyond 100 (the switch, 100
#: quick searches' labels) leaves the first tree, the guesses (whose growth may send the
#: solve to the long tree: ``_beyond``) and the long tree their turns; and the same with
#: trees that run out of work (``solve_topk``'s ``tree_work``)
TREE_DEPTHS = ("tree", "tree, every cap", "deep", "short trees")


def _profile(ms=0.0, mj=0.0, mb=0.0):
    return {"latency_ms": ms, "energy_mj": mj, "memory_mb": mb}


def _link(source, target, mj_per_mb=0.0, bidirectional=True):
    return {"source": source, "target": target, "bidirectional": bidirectional, "latency_ms_per_mb": 0.0,
            "energy_mj_per_mb": mj_per_mb}


#: a top-2 that the tree once answered wrongly as optimal (hypothesis found it): from a limit
#: at the best plan (125000.16), the root's LP met a plan at 125000.32 and the tree, done
#: with every plan up to its limit, counted that one as the proven second; brute force's
#: second is 125000.24 (a plan that fills d3's memory to 6.25 of 6.251 MB)
TOP2_ABOVE_THE_LIMIT = {
    "name": "random",
    "devices": [{"name": "d0", "memory_mb": 0.001}, {"name": "d1", "memory_mb": 0.001},
                {"name": "d2", "memory_mb": 0.001}, {"name": "d3", "memory_mb": 6.251}],
    "links": [_link("d0", "d2"), _link("d3", "d0", bidirectional=False), _link("d1", "d2"), _link("d1", "d3"),
              _link("d2", "d3", mj_per_mb=0.5)],
    "stages": [
        {"name": "s0", "output_mb": 0.0, "profiles": {"d0": _profile()}},
        {"name": "s1", "output_mb": 0.0, "profiles": {"d1": _profile(), "d3": _profile()}},
        {"name": "s2", "output_mb": 0.0, "profiles": {"d0": _profile(), "d2": _profile(), "d3": _profile(mb=6.25)}},
        {"name": "s3", "output_mb": 0.0, "profiles": {"d1": _profile(), "d2": _profile(), "d3": _profile()}},
        {"name": "s4", "output_mb": 1.25, "profiles": {"d0": _profile(), "d1": _profile(mb=1.0), "d3": _profile()}},
        {"name": "s5", "output_mb": 0.0,
         "profiles": {"d1": _profile(mj=0.625), "d2": _profile(mj=0.625), "d3": _profile(mb=7.0)}},
    ],
    "constraints": {"max_total_latency_ms": 0.001, "max_total_energy_mj": 0.626},
}


def fractional_pairs(g, allowed, share, tol):
    """Reference for ``branch_candidates``: at every step where ``allowed`` keeps options of
    two keys or more, every (step, key) whose allowed options' LP shares sum to more than
    ``tol`` from both 0 and 1, most fractional first (ties in step and then key order); of a
    step that allows exactly two keys, only the first such key (both split the node alike)."""
    pairs = []
    for s in range(len(g.step_start) - 1):
        sums: dict[int, float] = {}
        for t in range(g.step_start[s], g.step_start[s + 1]):
            key = int(g.opt_key[t])
            sums[key] = sums.get(key, 0.0) + (share[t] if allowed[t] else 0.0)
        kinds = len({int(g.opt_key[t]) for t in range(g.step_start[s], g.step_start[s + 1]) if allowed[t]})
        if kinds < 2:
            continue
        step_pairs = [(min(v, 1.0 - v), s, key) for key, v in sorted(sums.items()) if min(v, 1.0 - v) > tol]
        pairs += step_pairs[:1] if kinds == 2 else step_pairs
    pairs.sort(key=lambda p: -p[0])  # (stable: step and key order among ties)
    return [(s, key) for _, s, key in pairs]


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.integers(1, 6), st.data())
def test_branching_pairs_are_the_most_fractional_keys_and_children_split_the_paths(doc, goal, count, data):
    """At a node of random allowed options, the branching pairs are the (step, key) pairs
    whose LP share is most fractional, as summed from the definition; each pair's two
    children hold exactly the node's paths, split by whether the step runs that key, and no
    two pairs split it alike."""
    from eip.kernels.bounds import by_dimension, column_generation, column_pool
    from eip.kernels.tree import SHARE_TOLERANCE, branch_candidates, child_masks

    model, coef, paths, _, _, _ = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(g.opt_key), max_size=len(g.opt_key))))
    share = np.empty(len(g.opt_key))
    nothing = column_pool(0, model.n_stages, len(caps))
    column_generation(g, by_dimension(g), coef, caps, 200, allowed, share, np.inf, nothing, np.inf, nothing,
                      np.zeros(len(caps)), 0.0)
    steps, keys = branch_candidates(g, allowed, share, count)
    assert list(zip(steps.tolist(), keys.tolist())) == fractional_pairs(g, allowed, share, SHARE_TOLERANCE)[:count]
    for s, k in zip(steps, keys):  # every pair splits the node: neither child is the node itself
        assert all((child != allowed).any() for child in child_masks(g, allowed, s, k))
    splits = [frozenset(child.tobytes() for child in child_masks(g, allowed, s, k)) for s, k in zip(steps, keys)]
    assert len(set(splits)) == len(splits)
    step = data.draw(st.integers(0, model.n_stages - 1))
    key = int(data.draw(st.sampled_from(g.opt_key[g.step_start[step]:g.step_start[step + 1]].tolist())))
    with_key, without_key = child_masks(g, allowed, step, key)
    through = lambda mask: {tuple(p) for p in paths if mask[p].all()}
    node = through(allowed)
    assert through(with_key) | through(without_key) == node and not through(with_key) & through(without_key)
    assert all(g.opt_key[p[step]] == key for p in through(with_key))


@settings(max_examples=200, deadline=None)
@given(scenario_docs(), goals, st.integers(1, 6), st.data())
def test_strong_branching_drops_exactly_the_children_it_closed(doc, goal, count, data):
    """A node less the children strong branching closed (``reduced_node``): its paths are the
    node's paths that lie, for every pair, in a child whose bound is within the cut; it is
    closed exactly when both children of some pair lie beyond it. The bounds are drawn at
    random (the rule holds for any numbers), around the cut and at inf."""
    from eip.kernels.tree import reduced_node

    model, _, paths, _, _, _ = enumerated(doc, goal)
    g = model.graph
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(g.opt_key), max_size=len(g.opt_key))))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, model.n_stages - 1), st.data()), min_size=1, max_size=count))
    steps = np.array([s for s, _ in pairs], dtype=np.int64)
    keys = np.array([int(d.draw(st.sampled_from(g.opt_key[g.step_start[s]:g.step_start[s + 1]].tolist())))
                     for s, d in pairs], dtype=np.int64)
    child = np.array(data.draw(st.lists(st.tuples(*[st.sampled_from([0.0, 1.0, 2.0, math.inf])] * 2),
                                        min_size=len(pairs), max_size=len(pairs))), dtype=float).reshape(-1, 2)
    cut = 1.0
    node, closed = reduced_node(g, allowed, steps, keys, child, cut)
    assert closed == bool(((child[:, 0] > cut) & (child[:, 1] > cut)).any())
    if closed:
        return
    through = lambda mask: {tuple(p) for p in paths if mask[p].all()}
    kept = {p for p in through(allowed)
            if all(child[c, 0 if g.opt_key[p[s]] == k else 1] <= cut for c, (s, k) in enumerate(zip(steps, keys)))}
    assert through(node) == kept and not (node & ~allowed).any()


@settings(max_examples=500, deadline=None)
@given(scenario_docs(), goals, st.floats(-0.1, 1.1), st.data())
def test_node_fixing_keeps_the_options_of_paths_whose_every_part_its_bounds_keep(doc, goal, share, data):
    """Reduced-cost fixing of a node of random allowed options (``node_fixed``) by its own
    LP's multiplier sets, at a limit around its plans' scores, against its definition on
    every path of the node: the Lagrangian bound of an option or arc is the least relaxed
    cost, (coef + price) . usage less the multipliers' sum, of a node path through it; an
    option is kept exactly when some node path through it has every option and arc within
    the limit by every set (up to the rounding tolerance). So no plan of the node within the
    caps and the limit loses an option."""
    from eip.kernels.bounds import by_dimension, column_generation, column_pool
    from eip.kernels.fixing import FIX_TOLERANCE, node_fixed

    model, coef, paths, usage, scores, fits = enumerated(doc, goal)
    g, caps = model.graph, model.caps_tol
    mostly = st.sampled_from([True, True, True, False])  # (a node of paths, more often than not)
    allowed = np.array(data.draw(st.lists(mostly, min_size=len(g.opt_key), max_size=len(g.opt_key))))
    node = [i for i, p in enumerate(paths) if allowed[p].all()]
    if not node:
        return
    nothing = column_pool(0, model.n_stages, len(caps))
    prices, values, lam_sums, *_ = column_generation(g, by_dimension(g), coef, caps, 200, allowed,
                                                     np.empty(len(g.opt_key)), np.inf, nothing, np.inf, nothing,
                                                     np.zeros(len(caps)), 0.0)
    least, most = scores[node].min(), scores[node].max()
    limit = least + share * (most - least)
    kept = node_fixed(g, by_dimension(g), coef, prices, values, lam_sums, allowed, limit)
    assert not (kept & ~allowed).any()

    def parts(i):
        return [("opt", t) for t in paths[i]] + [("arc", e) for e in path_arcs(g, paths[i])]

    bounds = {}  # (kind, index) -> per set, the least relaxed cost of a node path through it
    for i in node:
        relaxed = (coef + prices) @ usage[i] - lam_sums
        for part in parts(i):
            bounds[part] = np.minimum(bounds.get(part, np.full(len(lam_sums), math.inf)), relaxed)
    above = limit + FIX_TOLERANCE * (abs(limit) + lam_sums + 1.0)
    slack = 1e-9 * (abs(limit) + lam_sums + 1.0)

    def options_of(within):
        return {t for i in node if all((bounds[part] <= within).all() for part in parts(i)) for t in paths[i]}

    assert options_of(above - slack) <= set(np.flatnonzero(kept).tolist()) <= options_of(above + slack)
    for i in node:
        if fits[i] and scores[i] <= limit:
            assert kept[paths[i]].all(), (paths[i], scores[i], limit)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 3)), min_size=1, max_size=40),
       st.integers(1, 5))
def test_the_pool_gives_its_nodes_least_bound_first(nodes, width):
    """Nodes added to the open pool (growing past its first size) come out least bound first,
    each with its own mask, and leave their own seed columns (0-3 of them) in the tree's
    columns as they come out."""
    from eip.kernels.bounds import column_pool, keep_column
    from eip.kernels.tree import open_nodes, pool_add, pool_take

    n, q = 3, 2
    pool, size = open_nodes(2, width, n, q), 0
    added = []
    for i, (bound, seeds) in enumerate(nodes):
        mask = np.array([(i >> b) & 1 == 1 for b in range(width)])
        own = column_pool(q + 1, n, q)
        for c in range(seeds):  # (each node's seeds its own: paths tagged with its index)
            keep_column(own, np.array([i, c, 7]), np.array([float(i), float(c), 0.5]))
        pool, size = pool_add(pool, size, mask, bound, own)
        added.append((bound, tuple(mask), {(i, c, 7) for c in range(seeds)}))
    taken = []
    while size > 0:
        columns = column_pool(8, n, q)
        mask, bound, size = pool_take(pool, size, columns)
        held = {tuple(p) for p in columns.paths[:columns.held[0]]}
        assert all(columns.rows[c, 0] == columns.paths[c, 0] for c in range(columns.held[0]))
        taken.append((bound, tuple(mask), held))
    assert [b for b, _, _ in taken] == sorted(b for b, _ in nodes)
    key = lambda node: (node[0], node[1], sorted(node[2]))
    assert sorted(taken, key=key) == sorted(added, key=key)


#: plans met: (score, key usage, placement code of 3 binary-ish steps), with ties and repeats
MET = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(0, 7)), min_size=1, max_size=30)


def kept_plans(met, k, plans):
    """The ranked k best (``paths``, ``rows``, ``found``) of the plans ``met``, kept one by
    one by ``_kept_best``; ``plans`` collects each path's row (a path met again: the same row)."""
    from eip.kernels.contract import KEY_DIMS, Row
    from eip.kernels.solve import _kept_best

    n, q = 3, KEY_DIMS + 1
    paths, rows, found = np.zeros((k, n), dtype=np.int64), np.full((k, Row.USE + q), np.inf), 0
    for score, tie, code in met:
        path = np.array([code >> 2, (code >> 1) & 1, code & 1])
        if tuple(path) not in plans:
            plans[tuple(path)] = np.zeros(Row.USE + q)
            plans[tuple(path)][Row.SCORE], plans[tuple(path)][Row.USE] = float(score), float(tie)
        found = _kept_best(found, paths, rows, path, plans[tuple(path)].copy())
    return paths, rows, found


def assert_k_best(paths, rows, found, plans, k):
    """``paths`` / ``rows`` hold the k best distinct ``plans`` by the ranking rule: score, then
    the key usage dimensions in order, then the placement in option order (``contract``)."""
    from eip.kernels.contract import KEY_DIMS, Row

    rank = lambda item: (tuple(item[1][:Row.USE + KEY_DIMS]), item[0])
    want = sorted(plans.items(), key=rank)[:k]
    assert found == len(want)
    assert [tuple(p) for p in paths[:found]] == [path for path, _ in want]
    assert np.array_equal(rows[:found], np.array([row for _, row in want]).reshape(found, -1))
    return want


@settings(max_examples=200, deadline=None)
@given(MET, st.integers(1, 5))
def test_the_tree_keeps_the_k_best_distinct_plans_it_meets(met, k):
    """Plans met one after another (scores and key usages with ties, some paths met twice)
    leave the k best distinct paths kept, by the ranking rule."""
    from eip.kernels.contract import Row
    from eip.kernels.solve import _kth_score

    plans = {}
    paths, rows, found = kept_plans(met, k, plans)
    want = assert_k_best(paths, rows, found, plans, k)
    assert _kth_score(rows, found) == (want[-1][1][Row.SCORE] if found == k else math.inf)


@settings(max_examples=200, deadline=None)
@given(MET, MET, st.integers(1, 5), st.sampled_from([0.0, 1e-3, 0.5, math.inf]))
def test_two_sets_of_plans_merge_into_the_k_best_of_both_and_a_band_limits_the_tree(first, second, k, band):
    """Two ranked sets of plans (a beam's and a tree's, say; a plan in both) merge into the
    k best distinct plans of both, neither set changed; the tree's limit is the k-th's score
    and, with a band, no more than the band (relative) above the best plan."""
    from eip.kernels.contract import Row
    from eip.kernels.solve import _merged_plans, _tree_limit

    plans = {}
    a_paths, a_rows, a_found = kept_plans(first, k, plans)
    b_paths, b_rows, b_found = kept_plans(second, k, plans)
    before = a_paths.copy(), a_rows.copy(), b_paths.copy(), b_rows.copy()
    paths, rows, found = _merged_plans(a_paths, a_rows, a_found, b_paths, b_rows, b_found)
    assert_k_best(paths, rows, found, plans, k)
    for was, now in zip(before, (a_paths, a_rows, b_paths, b_rows)):
        assert np.array_equal(was, now)
    scores = sorted(row[Row.SCORE] for row in plans.values())
    kth = scores[k - 1] if len(scores) >= k else math.inf
    banded = scores[0] + band * max(1.0, abs(scores[0])) if band < math.inf else math.inf
    assert _tree_limit(rows, found, band) == min(kth, banded)


def tree_agrees_with_brute_force(doc, goal, depth, fit, label_budget=4_000_000, k=1):
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with pipeline(depth), fitting(fit):
        result = eip.plan(scenario, goal=goal, top_k=k, strategy="exact", label_budget=label_budget)
    if not ref:
        # (a label budget that stops the search before any proof may leave it unknown: never a plan)
        assert not result.plans
        assert result.status == "infeasible" or (label_budget < 4_000_000 and result.status == "unknown")
        return
    for plan in result.plans:
        assert_plan_recomputes(scenario, weights, plan)
    if result.status != "optimal":  # (a label budget that stops the search: honest, never better than the optimum)
        assert label_budget < 4_000_000 and result.status == "feasible" and result.bound <= ref[0].score + 1e-9
        assert all(plan.score >= want.score - 1e-9 for plan, want in zip(result.plans, ref))
        assert len({plan.placement for plan in result.plans}) == len(result.plans)
        if result.best_proven:  # (a top-k answer whose bound meets its best plan: that one is the optimum)
            assert close(result.plans[0].score, ref[0].score), (result.plans[0], ref[0])
        return
    assert_matches_oracle(result, ref, k)


@settings(max_examples=250, deadline=None)
@given(scenario_docs(), goals, st.sampled_from(TREE_DEPTHS), st.booleans(),
       st.sampled_from([1, 10, 300, 4_000_000]), st.sampled_from([1, 1, 2, 3, 5]))
@example(TOP2_ABOVE_THE_LIMIT, "latency", "tree", False, 1, 2)
def test_the_tree_answers_top_k_like_brute_force(doc, goal, depth, fit, label_budget, k):
    """Top-k solves forced through the tree (every node branched down to one placement) rank
    the brute-force k best plans in order, ties broken by the ranking rule; infeasibility
    agrees; a label budget that stops it leaves plans and a bound that are honest."""
    tree_agrees_with_brute_force(doc, goal, depth, fit, label_budget, k)


@settings(max_examples=100, deadline=None)
@given(ways_scenario_docs(), goals, st.sampled_from(TREE_DEPTHS), st.booleans(), st.sampled_from([1, 1, 3]))
def test_the_tree_answers_top_k_with_ways_like_brute_force(doc, goal, depth, fit, k):
    """The same with precision variants, power modes (fixed and per stage), accuracy, frame
    rate and power limits."""
    scenario = eip.Scenario.from_dict(doc)
    _, weights = resolve_goal(goal)
    ref = ranked_plans(scenario, weights)
    with pipeline(depth), fitting(fit):
        result = eip.plan(scenario, goal=goal, top_k=k, strategy="exact")
    if not ref:
        assert result.status == "infeasible" and not result.plans
        return
    assert result.status == "optimal" and len(result.plans) == len(ref[:k])
    for i, (got, want) in enumerate(zip(result.plans, ref)):
        assert close(got.score, want.score), (i, got, want)
        assert_recomputes(scenario, weights, got)
    got, want = result.plans[0], ref[0]
    near = {r.ways for r in ref if r.key[:4] == want.key[:4]}
    assert _ways(got) == want.ways if len(near) == 1 else _ways(got) in near


def with_twins(doc: dict) -> dict:
    """``doc`` with a twin of every device: the same profiles and memory, links like the
    device's to each device and twin (and a free one between the two), so that whole plans
    tie, every device swapped for its twin."""
    doc = copy.deepcopy(doc)
    twin = {d["name"]: d["name"] + "_twin" for d in doc["devices"]}
    doc["devices"] += [{**d, "name": twin[d["name"]]} for d in doc["devices"]]
    for stage in doc["stages"]:
        stage["profiles"].update({twin[name]: dict(p) for name, p in stage["profiles"].items()})
    doc["links"] = [{**link, "source": source, "target": target} for link in doc["links"]
                    for source in (link["source"], twin[link["source"]])
                    for target in (link["target"], twin[link["target"]])]
    doc["links"] += [{"source": name, "target": twin[name], "latency_ms_per_mb": 0.0, "energy_mj_per_mb": 0.0}
                     for name in twin]
    return doc


@settings(max_examples=300, deadline=None)
@given(scenario_docs(max_devices=2, max_placements=64), goals, st.sampled_from(["tree", "short trees"]),
       st.sampled_from([2, 3, 5]))
def test_the_tree_answers_top_k_among_twin_devices_like_brute_force(doc, goal, depth, k):
    """With every device twice, the best plans tie (the trees within a band above the best
    plan met, ``_best_first``, then end with the k best): the top-k solve still ranks the
    brute-force k best, ties broken by the ranking rule."""
    tree_agrees_with_brute_force(with_twins(doc), goal, depth, True, k=k)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 10.0), st.floats(1e-3, 1.0), st.floats(0.0, 5.0), st.floats(1.0, 1e5), st.floats(1.0, 1e3),
       st.floats(1.0, 1e7))
def test_the_guesses_hand_over_to_the_tree_where_their_growth_predicts_more_than_the_budget(
        below, stride, ahead, below_labels, growth, most):
    """``_beyond`` against its definition: labels that grew between two guesses, grown on at
    the same rate per unit of score (log-linear) up to the target, exceed ``most``; labels
    that did not grow predict nothing."""
    from eip.kernels.solve import _beyond

    guess, labels = below + stride, below_labels * growth
    target = guess + ahead
    log_predicted = math.log(labels) + math.log(growth) * ahead / stride  # (in logs: it may overflow)
    decided = _beyond(below, below_labels, guess, labels, target, most)
    if growth == 1.0:
        assert not decided
    elif not math.isclose(log_predicted, math.log(most), rel_tol=1e-9, abs_tol=1e-9):
        assert decided == (log_predicted > math.log(most)), (log_predicted, most)
