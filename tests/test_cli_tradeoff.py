"""``eip frontier`` and ``eip sweep`` from the command line, every format."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from eip.cli import main

SEED = "scenarios/mobile_vision_pipeline.json"
GRAPH = "scenarios/camera_two_models.json"
HOSTILE_NAME = "<script>alert(1)</script>"


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_frontier_formats(capsys, tmp_path):
    code, out, _ = run(capsys, "frontier", SEED)
    assert code == 0 and "3 Pareto-optimal plans" in out and "<- best" in out
    code, out, _ = run(capsys, "frontier", SEED, "--format", "json")
    doc = orjson.loads(out)
    assert doc["schema"] == "eip.frontier/1" and len(doc["plans"]) == 3 and doc["best_index"] == 0
    latencies = [p["latency_ms"] for p in doc["plans"]]
    assert latencies == sorted(latencies)
    code, out, _ = run(capsys, "frontier", SEED, "--format", "csv", "--max-plans", "2")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 2
    page = tmp_path / "f.html"
    code, _, err = run(capsys, "frontier", SEED, "--format", "html", "--output", str(page))
    text = page.read_text()
    assert code == 0 and 'id="frontier"' in text and "<polyline" in text and 'class="best"' in text


def test_sweep_formats_and_grid(capsys, tmp_path):
    code, out, _ = run(capsys, "sweep", SEED, "--max-latency-ms", "20:40:0.5", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 41
    assert rows[0]["feasible"] == "False" and rows[-1]["feasible"] == "True"
    assert float(rows[-1]["score"]) == pytest.approx(1.847865, rel=1e-6)
    code, out, _ = run(capsys, "sweep", SEED, "--max-latency-ms", "26,30", "--memory", "npu=2048:3072:1024", "--format", "json")
    doc = orjson.loads(out)
    assert doc["schema"] == "eip.sweep/1" and list(doc["axes"]) == ["memory_mb[npu]", "max_latency_ms"]
    assert len(doc["points"]) == 4
    # a repeated flag adds an axis (it is not the last one given that wins)
    code, out, _ = run(capsys, "sweep", SEED, "--memory", "npu=2048,3072", "--memory=gpu=4096,6144", "--format", "json")
    assert list(orjson.loads(out)["axes"]) == ["memory_mb[npu]", "memory_mb[gpu]"]
    page = tmp_path / "s.html"
    code, _, _ = run(capsys, "sweep", SEED, "--max-latency-ms", "20:40:1", "--format", "html", "--output", str(page))
    assert code == 0 and 'id="sweep"' in page.read_text()


@pytest.mark.parametrize("fmt", ["text", "csv", "json", "html"])
def test_frontier_and_sweep_of_a_graph(capsys, tmp_path, fmt):
    """Every frontier point and sweep answer of a DAG is the plan ``eip.plan`` gives there."""
    import eip

    page = tmp_path / f"out.{fmt}"
    code, _, _ = run(capsys, "frontier", GRAPH, "--format", fmt, "--output", str(page))
    assert code == 0 and page.stat().st_size > 0
    code, _, _ = run(capsys, "sweep", GRAPH, "--max-latency-ms", "26:34:2", "--format", fmt, "--output", str(page))
    assert code == 0 and page.stat().st_size > 0
    if fmt != "json":
        return
    scenario = eip.load(GRAPH)
    for point in orjson.loads(page.read_bytes())["points"]:
        limited = eip.Scenario.from_dict({**orjson.loads(open(GRAPH, "rb").read()),
                                          "constraints": {"max_total_latency_ms": point["max_latency_ms"],
                                                          "max_total_energy_mj": scenario.constraints.max_total_energy_mj}})
        best = eip.plan(limited, top_k=1).best
        assert (best is None) == (not point["feasible"])
        if best is not None:
            assert point["score"] == pytest.approx(best.score, rel=1e-9)


def test_sweep_and_frontier_errors(capsys, tmp_path):
    assert run(capsys, "sweep", SEED, "--max-latency-ms", "3:1:1")[0] == 2
    code, _, err = run(capsys, "sweep", SEED, "--memory", "tpu=3")
    assert code == 2 and "unknown device 'tpu'" in err
    code, _, err = run(capsys, "sweep", SEED, "--max-latency-ms", "1")
    assert code == 1 and "no grid point" in err
    code, out, err = run(capsys, "frontier", SEED, "--label-budget", "2")
    assert code == 0 and "the frontier is incomplete" in err and "label budget" in err and err.count("\n") == 1
    assert "Incomplete: after 1 frontier point" in out and "was not walked" in out
    from benchmarks.generate import soc_scenario

    big = tmp_path / "soc_30x4.json"
    big.write_bytes(orjson.dumps(soc_scenario(30, 4, 0), option=orjson.OPT_SERIALIZE_NUMPY))
    code, out, err = run(capsys, "frontier", str(big), "--time-limit", "1e-9", "--format", "json")
    assert out, (code, err)
    doc = orjson.loads(out)
    assert doc["complete"] is False and "time limit" in doc["reason"]
    # exit 4 exactly when the walk stopped before its first point
    assert (code == 4) == (doc["plans"] == []) and code in (0, 4)
    assert ("no frontier point proven" in err) == (code == 4)
    assert run(capsys, "frontier", SEED, "--format", "md")[0] == 2
    # a sweep ranks by a score: the throughput goal (by the period) is refused, not answered by the score
    code, _, err = run(capsys, "sweep", "scenarios/mobile_vision_ways.json", "--goal", "throughput",
                       "--max-latency-ms", "30,40")
    assert code == 2 and "the throughput goal ranks them by the frame period" in err and err.count("\n") == 1


def test_names_are_escaped_in_tradeoff_pages(capsys, tmp_path):
    doc = orjson.loads(open(SEED, "rb").read())
    doc["name"] = HOSTILE_NAME
    doc["stages"][0]["name"] = HOSTILE_NAME
    path = tmp_path / "hostile.json"
    path.write_bytes(orjson.dumps(doc))
    for command in (["frontier"], ["sweep", "--max-latency-ms", "20:40:5"]):
        code, out, _ = run(capsys, command[0], str(path), *command[1:], "--format", "html")
        assert code == 0 and "<script>" not in out and "&lt;script&gt;" in out


def test_a_sweep_past_the_label_budget_leaves_points_unanswered(capsys, tmp_path):
    import json

    from benchmarks.generate import soc_scenario

    path = tmp_path / "soc.json"
    path.write_text(json.dumps(soc_scenario(30, 4, 0)))
    code, out, err = run(capsys, "sweep", str(path), "--max-latency-ms", "40:50:5", "--label-budget", "50",
                         "--format", "json")
    assert code == 4 and err.startswith("eip: warning: 3 grid points not answered: the exact solve at max_latency_ms=")
    assert "raise the label budget" in err and err.strip().splitlines()[-1] == "eip: no grid point answered"
    doc = orjson.loads(out)
    assert [p["answered"] for p in doc["points"]] == [False] * 3 and "raise the label budget" in doc["reason"]
