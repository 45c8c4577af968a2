"""Explanations and every report format, on the seed and on hostile names."""

import csv
import html
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import eip
from eip.report import render
from eip.report.data import CSV_HEADER
from hostile import DEVICE, STAGE, hostile_doc
from reference import evaluate

SEED = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json"


@pytest.fixture(scope="module")
def seed_result():
    return eip.plan(eip.load(SEED), goal="balanced", top_k=3)


def test_explanations_of_the_seed(seed_result):
    e = eip.explain(seed_result)
    assert e.summary[0] == "Proven optimal: the exact label search finished."
    backbone = e.stages[2]
    assert backbone.device == "npu"
    assert "it pays 1.08 ms and 0.72 mJ to receive 12 MB from gpu" in backbone.sentence
    gpu = next(m for m in backbone.moves if m.device == "gpu")
    assert gpu.delta_ms == pytest.approx(-0.42) and gpu.delta_mj == pytest.approx(4.42)
    assert gpu.breaks == "the energy cap (36.60 > 35 mJ)"
    # every single move of the best plan is either worse or breaks a constraint (it is optimal)
    assert all(m.delta_score >= -1e-12 or m.breaks for r in e.stages for m in r.moves)
    tight = e.budgets[0]
    assert tight.name == "energy cap" and tight.slack == pytest.approx(2.82)
    assert tight.pressed_by == ("backbone_embedding", "frame_decode")
    npu = next(b for b in e.budgets if b.name == "npu memory")
    assert npu.sentence.startswith("npu memory: 2576 of 3072 MB (84%, 496 MB slack)")
    alt = e.alternatives[0]
    assert alt.rank == 2 and alt.moved == (("resize_normalize", "gpu", "npu"),)
    assert alt.sentence == "Alternative 2 moves resize_normalize gpu -> npu: +0.68 ms, -0.58 mJ, score +0.0057."


def test_move_deltas_recompute(seed_result):
    """A move's deltas equal re-evaluating the moved placement from scratch."""
    best = seed_result.best
    e = eip.explain(seed_result)
    scenario = eip.load(SEED)

    base = evaluate(scenario, best.placement, seed_result.weights)
    for s, reason in enumerate(e.stages):
        for m in reason.moves:
            moved = list(best.placement)
            moved[s] = m.device
            ref = evaluate(scenario, moved, seed_result.weights)
            assert m.delta_ms == pytest.approx(ref.latency_ms - base.latency_ms)
            assert m.delta_mj == pytest.approx(ref.energy_mj - base.energy_mj)
            assert m.delta_score == pytest.approx(ref.score - base.score)


def test_text_report_like_the_seed_tool(seed_result):
    text = render(seed_result, "text").decode()
    for heading in ("Placement", "Budgets (tightest first)", "Rationale", "Alternatives"):
        assert f"\n{heading}\n" in text
    assert "stage              | device | exec ms | xfer ms | total ms | exec mJ | xfer mJ | memory MB" in text
    assert "rank | score  | latency ms | energy mJ | switches | device path" in text


def test_csv_one_row_per_rank_and_stage_then_per_budget_step(seed_result):
    rows = list(csv.reader(io.StringIO(render(seed_result, "csv").decode())))
    assert rows[0] == CSV_HEADER
    stages = [r for r in rows[1:] if r[0] == "stage"]
    steps = [dict(zip(CSV_HEADER, r)) for r in rows[1:] if r[0] == "sensitivity"]
    assert len(stages) == 3 * 7 and len(steps) == 2 * 5 and len(rows) == 1 + 21 + 10
    assert stages[0][:10] == ["stage", "1", "optimal", "1.8478650097054603", "27.97", "32.18", "2", "0", "frame_decode",
                              "gpu"]
    assert {r[1] for r in stages} == {"1", "2", "3"}
    npu = [r for r in steps if r["budget"] == "npu memory"]
    assert [(r["change"], r["used"], r["limit"], r["unit"]) for r in npu] == [
        ("256.0", "2576.0", "3072.0", "MB"), ("-256.0", "2576.0", "3072.0", "MB")]
    assert all(r["status"] == "optimal" and r["score"] == "1.8478650097054603" for r in steps)


def test_sensitivity_on_a_binding_energy_cap():
    """At 31 mJ the energy cap binds: +1 mJ buys a faster plan, -1 mJ leaves none."""
    doc = json.loads(SEED.read_text())
    doc["constraints"]["max_total_energy_mj"] = 31
    scenario = eip.Scenario.from_dict(doc)
    result = eip.plan(scenario, top_k=1)
    energy = eip.explain(result).budgets[0]
    assert energy.name == "energy cap" and energy.step == 1
    relaxed, tightened = energy.relaxed, energy.tightened
    assert relaxed.status == "optimal" and relaxed.delta_score < 0
    moved = {**doc, "constraints": {**doc["constraints"], "max_total_energy_mj": 32}}
    assert relaxed.plan.score == pytest.approx(eip.plan(eip.Scenario.from_dict(moved), top_k=1).best.score)
    assert tightened.status == "infeasible" and tightened.plan is None
    sentence = (f"energy cap: +1 mJ would cut the score by {-relaxed.delta_score:.4f}: latency "
                f"{relaxed.delta_ms:+.2f} ms, energy {relaxed.delta_mj:+.2f} mJ; -1 mJ would leave no plan.")
    assert energy.sensitivity == sentence
    assert eip.explain(result).summary[-1] == f"Most valuable step: +1 mJ on the energy cap (score {relaxed.delta_score:+.4f})."
    for fmt in ("text", "md", "html"):
        assert html.unescape(render(result, fmt).decode()).replace("\\", "").count(sentence) == 1, fmt
    page = render(result, "html").decode()
    assert '<table id="sensitivity">' in page and '<td class="name">infeasible</td>' in page
    budgets = json.loads(render(result, "json"))["explanation"]["budgets"]
    assert budgets[0]["tightened"] == {"change": -1.0, "status": "infeasible", "placement": None, "score": None,
                                       "latency_ms": None, "energy_mj": None, "delta_score": None, "delta_ms": None,
                                       "delta_mj": None}
    assert budgets[0]["relaxed"]["delta_score"] == pytest.approx(relaxed.delta_score)
    assert budgets[0]["sensitivity"] == sentence
    rows = [dict(zip(CSV_HEADER, r)) for r in csv.reader(io.StringIO(render(result, "csv").decode()))]
    assert {(r["change"], r["status"], r["score"]) for r in rows if r["budget"] == "energy cap"} == {
        ("1.0", "optimal", repr(relaxed.plan.score)), ("-1.0", "infeasible", "")}


def test_explain_without_sensitivity(seed_result):
    assert all(b.shifts == () and b.sensitivity == "" for b in eip.explain(seed_result, sensitivity=False).budgets)


def test_json_has_explanations_and_schema(seed_result):
    doc = json.loads(render(seed_result, "json"))
    assert doc["schema"] == "eip.plan/1"
    assert doc["explanation"]["alternatives"][0]["moved"] == [["resize_normalize", "gpu", "npu"]]
    assert doc["plans"][0]["stages"][2]["xfer_ms"] == pytest.approx(1.08)


def test_markdown_tables(seed_result):
    md = render(seed_result, "md").decode()
    assert "| stage | device | exec ms |" in md and "| backbone\\_embedding | npu | 7.40 | 1.08 |" in md
    assert "## Rationale" in md


def test_hostile_names_are_escaped_everywhere():
    result = eip.plan(eip.Scenario.from_dict(hostile_doc()), top_k=2)
    assert result.status == "optimal"
    page = render(result, "html").decode()
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # no script could run even if escaping failed
    md = render(result, "md").decode()
    assert "<script" not in md and "&lt;script&gt;" in md
    rows = list(csv.reader(io.StringIO(render(result, "csv").decode())))
    assert all(not r[8].startswith("=") for r in rows[1:])  # no spreadsheet formula
    assert json.loads(render(result, "json"))["plans"][0]["stages"][0]["stage"] == STAGE
    assert DEVICE in render(result, "text").decode()


def test_infeasible_report_states_the_reason():
    doc = json.loads(SEED.read_text())
    doc["constraints"]["max_total_latency_ms"] = 20
    result = eip.plan(eip.Scenario.from_dict(doc))
    for fmt in ("text", "md", "html"):
        assert "25.45 ms > latency cap 20 ms" in html.unescape(render(result, fmt).decode())
    assert render(result, "csv").decode().strip() == ",".join(CSV_HEADER)
    assert json.loads(render(result, "json"))["plans"] == []


def test_reports_carry_the_frontier(seed_result, monkeypatch):
    front = eip.frontier(SEED)
    doc = json.loads(render(seed_result, "json"))
    assert [(p["latency_ms"], p["energy_mj"]) for p in doc["explanation"]["frontier"]] == list(
        zip(front.latency_ms.tolist(), front.energy_mj.tolist()))
    page = render(seed_result, "html").decode()
    chart = page[page.index('<svg id="tradeoff"'):]
    chart = chart[: chart.index("</svg>")]
    assert chart.count('<polyline class="line"') == 1 and chart.count('class="best"') == 1
    assert chart.count("<title>frontier: ") == len(front)
    # a frontier walk stopped by the report's label budget keeps its proven points, and
    # the summary says where it stopped (under 40 mJ the frontier has 5 points; under 31 mJ
    # it has one, and branching proves that nothing is faster without a label)
    monkeypatch.setattr(sys.modules["eip.explain"], "REPORT_LABELS", 1)
    big = eip.plan(eip.Scenario.from_dict(json.loads(SEED.read_text()) | {"constraints": {"max_total_energy_mj": 40}}))
    e = eip.explain(big)
    assert not e.frontier.complete and len(e.frontier) >= 1
    assert re.match(r"Latency/energy frontier incomplete: after \d+ frontier points?, the exact solve below .* "
                    r"were not walked\.$", e.summary[-1])
    assert len(json.loads(render(big, "json"))["explanation"]["frontier"]) == len(e.frontier)


def test_reports_read_well_at_75_stages():
    from eip.report.rows import path_text
    from eip.report.tradeoff import _shown

    result = eip.plan("scenarios/yolov3_rk3399pro.json", top_k=2)
    text = render(result, "text", sensitivity=False).decode()
    path = [line for line in text.splitlines() if line.startswith("1    |")][0]
    assert " x8 -> " in path and len(path) < 200  # runs of one device fold; the seed's short paths do not
    second = [line for line in text.splitlines() if line.startswith("2    |")][0]
    moved = eip.explain(result, sensitivity=False).alternatives[0].moved
    assert second.endswith("| as 1, but " + ", ".join(f"{stage} -> {option}" for stage, _, option in moved))
    assert 0 < len(moved) <= 4  # only the stages that differ from plan 1
    assert path_text(["gpu", "gpu", "npu"]) == "gpu -> gpu -> npu"
    assert path_text(["big_cpu"] * 30 + ["npu"]) == "big_cpu x30 -> npu"
    assert _shown(18998.03) == "18998.03" and _shown(1.847865) == "1.8479"  # no 1.9e+04
    seed = render(eip.plan("scenarios/mobile_vision_pipeline.json"), "text", sensitivity=False).decode()
    assert "Weights: latency 0.75, energy 0.75, switch 0.08 (one switch scores as much as 2.62 ms or 3.08 mJ)" in seed


def test_html_reads_well_at_scale(tmp_path):
    from eip.report.tradeoff import render_frontier, render_sweep

    result = eip.plan("scenarios/yolov3_rk3399pro.json", top_k=1)
    page = render(result, "html", sensitivity=False).decode()
    timeline = page[page.index('<svg id="timeline"'):page.index("</svg>", page.index('<svg id="timeline"'))]
    assert timeline.count("<rect class=\"stage\"") == 75  # a part per stage, each with its tooltip
    assert "8 stages" in timeline and "15 stages" in timeline  # runs on one device are labelled
    assert len(set(re.findall(r'class="stage"[^>]*fill="(#[0-9a-f]+)"', timeline))) == 4  # a colour per device
    seed = "scenarios/mobile_vision_pipeline.json"
    two = render_sweep(eip.sweep(seed, max_latency_ms=np.arange(20, 41), max_energy_mj=np.arange(25, 41)), "html").decode()
    assert two.count("<rect x=") >= 21 * 16 and "no plan" in two and "not answered" in two and "<details>" in two
    one = render_sweep(eip.sweep(seed, max_energy_mj=[32.0, 32.5, 34.0]), "html").decode()
    points = re.search(r'<polyline class="line" points="([^"]+)"', one).group(1).split()
    assert len(points) == 5 and points[0].split(",")[1] == points[1].split(",")[1]  # a step: flat, then down
    nothing = render_sweep(eip.sweep(seed), "html").decode()  # no budget swept: one point, no chart (the fuzzer's find)
    assert "No chart: no budget was swept" in nothing
    front = render_frontier(eip.frontier(seed), "html").decode()
    assert "Caps: latency &lt;= 32 ms, energy &lt;= 35 mJ" in front and "Best plan (the least score" in front


def _binding_energy_cap_result():
    doc = json.loads(SEED.read_text())
    doc["constraints"]["max_total_energy_mj"] = 31
    return eip.plan(eip.Scenario.from_dict(doc), top_k=1)


def _timed_resolves(monkeypatch, seconds_used):
    """Record the time limit each sensitivity re-solve and the frontier walk get; a re-solve
    sleeps ``seconds_used(its limit)`` and then answers as the real one."""
    import time

    module = sys.modules["eip.explain"]
    real_plan, real_frontier = module.plan, module.frontier_of
    given = {"plan": [], "frontier": []}

    def plan(*args, time_limit_s, **kwargs):
        given["plan"].append(time_limit_s)
        time.sleep(seconds_used(time_limit_s))
        return real_plan(*args, **kwargs)

    def frontier(*args, time_limit_s, **kwargs):
        given["frontier"].append(time_limit_s)
        return real_frontier(*args, **kwargs)

    monkeypatch.setattr(module, "plan", plan)
    monkeypatch.setattr(module, "frontier_of", frontier)
    return given


def test_an_explanations_time_limit_bounds_its_re_solves_together(monkeypatch):
    """Each re-solve takes its share of what is left, the frontier walk the rest (at least
    half), and re-solves that use all of their share keep the whole within the limit."""
    import time

    result = _binding_energy_cap_result()
    given = _timed_resolves(monkeypatch, lambda limit_s: limit_s)
    started = time.perf_counter()
    e = eip.explain(result, time_limit_s=0.4)
    assert time.perf_counter() - started < 0.4 + 0.3  # (the real re-solves and walk take milliseconds)
    finite = sum(np.isfinite(b.limit) for b in e.budgets)
    assert 1 <= len(given["plan"]) <= 2 * finite and len(given["frontier"]) == 1
    assert given["plan"][0] == pytest.approx(0.4 / (4 * finite), rel=0.05)
    assert all(0 < later < earlier for earlier, later in zip(given["plan"], given["plan"][1:]))
    assert sum(given["plan"]) <= 0.2 + 1e-9 and 0.15 <= given["frontier"][0] <= 0.4
    assert e.frontier is not None and all(s.status != "skipped" for b in e.budgets for s in b.shifts)


def test_what_the_walk_leaves_solves_the_stopped_re_solves_again(monkeypatch):
    """Re-solves that stop unproven are solved once more, sharing the time the frontier
    walk left (each at least as long as its first share); a proven second answer replaces
    the first, and the whole stays within the limit."""
    import dataclasses
    import time

    result = _binding_energy_cap_result()
    module = sys.modules["eip.explain"]
    real_plan, first, second = module.plan, [], []

    def plan(model, *args, time_limit_s, **kwargs):  # the first answer for each budget stops unproven
        answer = real_plan(model, *args, **kwargs)
        key = model.caps_tol.tobytes()
        if key in {k for k, _ in first}:
            second.append(time_limit_s)
            return answer
        first.append((key, time_limit_s))
        return dataclasses.replace(answer, status="unknown", plans=(), gap=float("inf"))

    monkeypatch.setattr(module, "plan", plan)
    started = time.perf_counter()
    e = eip.explain(result, time_limit_s=0.4)
    assert time.perf_counter() - started < 0.4 + 0.3
    assert len(second) == len(first) >= 1 and min(second) >= max(limit for _, limit in first)
    assert all(s.status in ("optimal", "infeasible") for b in e.budgets for s in b.shifts), e.budgets
    fresh = eip.explain(result)  # (no limit: every re-solve is proven the first time)
    assert [b.sensitivity for b in e.budgets] == [b.sensitivity for b in fresh.budgets]


def test_re_solves_after_the_explanations_time_limit_are_skipped_and_say_so(monkeypatch):
    result = _binding_energy_cap_result()
    given = _timed_resolves(monkeypatch, lambda limit_s: 0.3)  # the first re-solve overruns it all
    e = eip.explain(result, time_limit_s=0.1)
    assert len(given["plan"]) == 1 and given["frontier"] == []
    skipped = [s for b in e.budgets for s in b.shifts if s.status == "skipped"]
    assert skipped and all(s.plan is None and np.isnan(s.delta_score) for s in skipped)
    assert e.budgets[0].sensitivity.endswith("-1 mJ was not solved (the time limit was spent).")
    assert e.frontier is None
    assert e.summary[-1] == "No latency/energy frontier: the time limit was spent before its walk began."
    relaxed = json.loads(render(result, "json", time_limit_s=0.0))["explanation"]["budgets"][0]["relaxed"]
    assert relaxed["status"] == "skipped" and relaxed["placement"] is None
    for fmt in ("text", "md", "html"):
        assert "was not solved (the time limit was spent)" in render(result, fmt, time_limit_s=0.0).decode(), fmt
    rows = [dict(zip(CSV_HEADER, r)) for r in csv.reader(io.StringIO(render(result, "csv", time_limit_s=0.0).decode()))]
    assert {r["status"] for r in rows if r["record"] == "sensitivity" and r["change"] == "1.0"} == {"skipped"}
    spent = eip.explain(result, time_limit_s=0)  # (the tightening the plan still fits needs no re-solve)
    assert spent.frontier is None and len(given["plan"]) == 1
    assert [s.status for b in spent.budgets for s in b.shifts if s.status != "optimal"] == ["skipped"] * (len(skipped) + 1)


def test_a_relaxed_budgets_stopped_re_solve_keeps_the_best_plan(monkeypatch):
    """Relaxing a budget keeps the best plan feasible: a re-solve that stops with no plan
    (or a worse one) reports that plan, unproven, not "no plan"."""
    import dataclasses

    result = _binding_energy_cap_result()
    stopped = dataclasses.replace(result, plans=(), status="unknown", reason="stopped")
    monkeypatch.setattr(sys.modules["eip.explain"], "plan", lambda *args, **kwargs: stopped)
    energy = eip.explain(result).budgets[0]
    assert energy.relaxed.status == "feasible" and energy.relaxed.plan is result.best
    assert energy.relaxed.delta_score == 0
    assert energy.tightened.status == "unknown" and energy.tightened.plan is None
    assert energy.sensitivity.startswith("energy cap: +1 mJ would not change the plan (not proven optimal); "
                                         "-1 mJ stopped the search with no plan")


def test_an_explanation_reports_its_progress_per_budget_and_walk():
    result = _binding_energy_cap_result()
    calls = []
    e = eip.explain(result, progress=lambda done, total: calls.append((done, total)))
    steps = 2 * sum(np.isfinite(b.limit) for b in e.budgets) + 1
    assert calls[-1] == (steps, steps) and len(calls) == len(e.budgets) + 1
    assert all(total == steps for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert eip.explain(result, sensitivity=False, progress=lambda *a: calls.append(a)) and len(calls) == len(e.budgets) + 1


def test_an_unproven_answer_names_the_knob_that_stopped_it():
    stopped = eip.plan("scenarios/yolov3_rk3399pro.json", top_k=1, label_budget=10)
    assert stopped.status == "feasible" and stopped.stats["stopped_by"] == "label_budget"
    sentence = eip.explain(stopped, sensitivity=False).summary[0]
    assert sentence.startswith("Not proven optimal (the beam search): the best score is within ")
    assert sentence.endswith(" The search stopped at its label budget: a larger one (--label-budget) may prove it.")
    assert sentence in render(stopped, "text", sensitivity=False).decode()
    proven = eip.plan("scenarios/yolov3_rk3399pro.json", top_k=1)
    assert eip.explain(proven, sensitivity=False).summary[0] == "Proven optimal: the exact label search finished."


def test_a_top_k_answer_that_proved_only_its_best_plan_says_so_in_every_format():
    """An unproven top-k answer whose bound meets its best plan (the solve proved that one,
    not the ranks after it: ``kernels.solve._best_first``) is ``best_proven``, and says so
    in the summary, the header and the JSON; one with a gap is not."""
    import dataclasses

    proven = eip.plan("scenarios/yolov3_rk3399pro.json", top_k=3)
    assert proven.status == "optimal" and proven.best_proven
    best_only = dataclasses.replace(proven, status="feasible", gap=0.0, stats={**proven.stats, "stopped_by": "time_limit"})
    gapped = dataclasses.replace(best_only, gap=0.015)
    assert best_only.best_proven and not gapped.best_proven
    sentence = eip.explain(best_only, sensitivity=False).summary[0]
    assert sentence.startswith("The best plan is proven optimal (the exact label search); the others are the next "
                               "best found, not proven the next best.")
    assert sentence.endswith("more time (--time-limit) may prove it.")
    assert "best plan proven optimal, the next best not proven" in render(best_only, "text", sensitivity=False).decode()
    assert json.loads(render(best_only, "json", sensitivity=False))["best_proven"] is True
    assert "feasible, gap <= 1.50%" in render(gapped, "text", sensitivity=False).decode()
    assert json.loads(render(gapped, "json", sensitivity=False))["best_proven"] is False
    assert eip.explain(gapped, sensitivity=False).summary[0].startswith("Not proven optimal (the exact label search): "
                                                                       "the best score is within 1.50% of the optimum.")
