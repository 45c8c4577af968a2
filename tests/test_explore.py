"""eip explore: grid rows equal separate plans, resume, process pool and Ray alike, path errors."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import eip
from eip import batch, cluster, explore
from eip.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "mobile_vision_pipeline.json"
VARY = ["devices.npu.memory_mb=1024,2048,3072", "constraints.max_total_latency_ms=24:36:4",
        "links.gpu-npu.latency_ms_per_mb=0.03,0.3", "devices.gpu=absent,present"]


def _reference(point_doc: dict, npu_mb, latency_ms, gpu_npu_ms, gpu) -> dict:
    """The point's scenario written by hand from the issue's definitions, not by explore."""
    doc = copy.deepcopy(point_doc)
    next(d for d in doc["devices"] if d["name"] == "npu")["memory_mb"] = npu_mb
    doc["constraints"]["max_total_latency_ms"] = latency_ms
    link = next(li for li in doc["links"] if {li["source"], li["target"]} == {"gpu", "npu"})
    link["latency_ms_per_mb"] = gpu_npu_ms
    if gpu == "absent":
        doc["devices"] = [d for d in doc["devices"] if d["name"] != "gpu"]
        doc["links"] = [li for li in doc["links"] if "gpu" not in (li["source"], li["target"])]
        for stage in doc["stages"]:
            stage["profiles"].pop("gpu", None)
    return doc


def _by_point(rows: list[dict], parameters) -> dict:
    return {(r["path"], *(r[p.path] for p in parameters)): r for r in rows}


def _run(tmp_path: Path, name: str, **options) -> tuple[list[dict], list]:
    parameters = [explore.parse_parameter(v) for v in VARY]
    output = tmp_path / name
    explore.run([str(SEED)], parameters, str(output), **options)
    return explore.read_rows(str(output), parameters), parameters


def test_grid_rows_equal_separate_plans(tmp_path):
    rows, parameters = _run(tmp_path, "rows.csv")
    assert [r["index"] for r in sorted(rows, key=lambda r: r["index"])] == list(range(3 * 4 * 2 * 2))
    doc = json.loads(SEED.read_text())
    statuses = set()
    for row in rows:
        values = [row[p.path] for p in parameters]
        expected = eip.plan(eip.Scenario.from_dict(_reference(doc, *values)), top_k=1)
        statuses.add(expected.status)
        assert row["status"] == expected.status, values
        assert row["reason"] == expected.reason
        if expected.best is not None:
            assert math.isclose(row["score"], expected.best.score, rel_tol=1e-12)
            assert row["placement"].split(" -> ") == list(expected.best.placement)
            assert math.isclose(row["latency_ms"], expected.best.latency_ms, rel_tol=1e-12)
    assert statuses == {"optimal", "infeasible"}  # the grid crosses the feasibility border
    # 4 latency caps per group of the other values: too few for a sweep to pay
    assert "sweep" not in {r["strategy"] for r in rows}


WAYS = ROOT / "scenarios" / "mobile_vision_ways.json"


@pytest.mark.parametrize("goal", ["balanced", "latency", "throughput"])
def test_budget_groups_answered_by_a_sweep_equal_separate_plans(tmp_path, goal):
    """Latency caps swept at every frame rate, accuracy budget and GPU mode policy of a
    scenario with ways: the sweep's rows (or, for the throughput goal, which no sweep ranks
    by, each point planned alone) equal plans of hand-made documents, infeasible reasons
    included."""
    parameters = [explore.parse_parameter(v) for v in (
        "devices.gpu.mode_policy=per_stage,fixed", "constraints.frame_rate_hz=30:50:10",
        "constraints.max_accuracy_loss=0.2,0.8", "constraints.max_total_latency_ms=24:40:1")]
    output = tmp_path / "rows.jsonl"
    explore.run([str(WAYS)], parameters, str(output), goal=goal)
    rows = explore.read_rows(str(output), parameters)
    assert len(rows) == 2 * 3 * 2 * 17
    for row in rows:
        doc = json.loads(WAYS.read_text())
        next(d for d in doc["devices"] if d["name"] == "gpu")["mode_policy"] = row["devices.gpu.mode_policy"]
        doc["constraints"].update({p.path.split(".")[1]: row[p.path] for p in parameters[1:]})
        expected = eip.plan(eip.Scenario.from_dict(doc), goal=goal, top_k=1)
        assert (row["status"], row["reason"]) == (expected.status, expected.reason)
        if expected.best is not None:
            assert math.isclose(row["score"], expected.best.score, rel_tol=1e-12)
            assert row["placement"] == list(expected.best.placement)
    assert {r["status"] for r in rows} == {"optimal", "infeasible"}
    assert ({r["strategy"] for r in rows} == {"sweep"}) == (goal != "throughput")


def test_only_groups_dense_enough_are_swept():
    parameters = [explore.parse_parameter(v) for v in ("devices.gpu=absent,present",
                                                       "constraints.max_total_latency_ms=20:59:1")]
    points = explore.grid([str(SEED)], parameters)
    swept = explore.swept_parameters(points, parameters, "auto")
    assert set(swept) == {p.index for p in points} and set(swept.values()) == {1}
    assert explore.swept_parameters(points, parameters, "beam") == {}
    sparse = explore.grid([str(SEED)], parameters, sample=12, seed=1)  # about 6 of 40 caps per group
    assert explore.swept_parameters(sparse, parameters, "auto") == {}
    words = [explore.parse_parameter("constraints.max_total_latency_ms=20,absent")]
    assert explore.swept_parameters(explore.grid([str(SEED)], words), words, "auto") == {}
    # both caps varied: the one with more values is the sweep's axis, the other names groups
    both = [explore.parse_parameter("constraints.max_total_energy_mj=20:30:1"),
            explore.parse_parameter("constraints.max_total_latency_ms=20:39:1")]
    assert set(explore.swept_parameters(explore.grid([str(SEED)], both), both, "auto").values()) == {1}


def test_a_sample_is_part_of_the_grid_and_reproducible(tmp_path):
    parameters = [explore.parse_parameter(v) for v in VARY]
    whole = explore.grid([str(SEED)], parameters)
    sample = explore.grid([str(SEED)], parameters, sample=10, seed=3)
    assert len(sample) == 10 and all(whole[p.index] == p for p in sample)
    assert sample == explore.grid([str(SEED)], parameters, sample=10, seed=3)


def test_resume_after_an_interruption_plans_only_the_rest(tmp_path):
    full, parameters = _run(tmp_path, "full.jsonl")
    output = tmp_path / "cut.jsonl"
    explore.run([str(SEED)], parameters, str(output))
    lines = output.read_text().split("\n")
    output.write_text("\n".join(lines[:11]) + "\n" + lines[11][:20])  # 11 rows and half a line kept
    summary = explore.run([str(SEED)], parameters, str(output), resume=True)
    assert summary.skipped == 11 and summary.done == len(full) - 11
    resumed = explore.read_rows(str(output), parameters)
    assert _strip(_by_point(resumed, parameters)) == _strip(_by_point(full, parameters))


def _strip(rows: dict) -> dict:
    """Rows without what depends on the run (time, completion order)."""
    return {k: {f: v for f, v in r.items() if f != "solve_ms"} for k, r in rows.items()}


def test_parquet_rows_equal_jsonl_rows_and_resume_from_the_journal(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    full, parameters = _run(tmp_path, "full.jsonl")
    parquet, _ = _run(tmp_path, "rows.parquet")
    assert _strip(_by_point(parquet, parameters)) == _strip(_by_point(full, parameters))
    schema = pq.read_schema(tmp_path / "rows.parquet")
    assert schema.names == list(explore.fields(parameters))
    assert schema.field("index").type == pa.int64() and schema.field("score").type == pa.float64()
    assert schema.field("devices.npu.memory_mb").type == pa.float64()
    assert schema.field("devices.gpu").type == pa.string()
    assert schema.field("placement").type == pa.list_(pa.string())

    # killed outright: the Parquet file was never written, the journal holds 7 rows and half a line
    output = tmp_path / "killed.parquet"
    journal = batch.journal_path(str(output))
    kept = (tmp_path / "full.jsonl").read_text().split("\n")
    journal.write_text("\n".join(kept[:7]) + "\n" + kept[7][:30])
    summary = explore.run([str(SEED)], parameters, str(output), resume=True)
    assert summary.skipped == 7 and summary.done == len(full) - 7 and not journal.exists()
    assert _strip(_by_point(explore.read_rows(str(output), parameters), parameters)) == \
        _strip(_by_point(full, parameters))


def test_parquet_without_pyarrow_is_a_one_line_error_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    parameters = [explore.parse_parameter(v) for v in VARY]
    with pytest.raises(ValueError, match=r"^Parquet output needs pyarrow: pip install 'edge-inference-planner\[parquet\]'"):
        explore.run([str(SEED)], parameters, str(tmp_path / "rows.parquet"))
    assert list(tmp_path.iterdir()) == []


def test_a_process_pool_gives_the_same_rows(tmp_path):
    serial, parameters = _run(tmp_path, "serial.csv")
    pooled, _ = _run(tmp_path, "pooled.csv", workers=2)
    assert _strip(_by_point(pooled, parameters)) == _strip(_by_point(serial, parameters))


def test_paths_that_do_not_apply_are_one_line_errors(tmp_path):
    for text, expected in [("devices.tpu.memory_mb=1", "no element named 'tpu'"),
                           ("links.cpu-tpu.latency_ms_per_mb=1", "no element named 'cpu-tpu'"),
                           ("devices.npu=1,2", "only 'absent' or 'present'"),
                           ("stages.renderer.profiles.dsp=present", "no such key")]:
        with pytest.raises(ScenarioError, match=expected):
            explore.check([str(SEED)], [explore.parse_parameter(text)])
    for text in ("devices.npu.memory_mb", "a..b=1", "x=1:0:1", "x=1:2:0", "x=nan"):
        with pytest.raises(ValueError):
            explore.parse_parameter(text)
    out = subprocess.run([sys.executable, "-m", "eip", "explore", str(SEED), "--vary", "devices.tpu.memory_mb=1",
                          "--output", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "devices.tpu" in out.stderr


def test_cli_writes_rows_and_a_json_summary(tmp_path):
    output = tmp_path / "rows.csv"
    args = [sys.executable, "-m", "eip", "explore", str(SEED), "--vary", "devices.npu.memory_mb=1024:3072:1024",
            "--vary", "devices.gpu=absent,present", "--output", str(output), "--workers", "1", "--format", "json"]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "eip.explore/1" and doc["points"] == 6
    least = doc["least_with_a_plan"]["devices.npu.memory_mb"][str(SEED)]
    rows = explore.read_rows(str(output), [explore.parse_parameter("devices.npu.memory_mb=1024:3072:1024"),
                                           explore.parse_parameter("devices.gpu=absent,present")])
    assert least == min(r["devices.npu.memory_mb"] for r in rows if r["status"] == "optimal")
    memory = doc["parameters"]["devices.npu.memory_mb"]
    assert [m["value"] for m in memory] == [1024.0, 2048.0, 3072.0]
    best = min((r for r in rows if r["status"] == "optimal"), key=lambda r: (r["score"], r["index"]))
    assert min((m["best"]["score"] for m in memory if m["best"]), default=None) == best["score"]


MODES = [[{"name": "performance", "latency_scale": 1.0, "power_scale": 1.0}],
         [{"name": "performance", "latency_scale": 1.0, "power_scale": 1.0},
          {"name": "powersave", "latency_scale": 1.6, "power_scale": 0.45}]]


def test_json_values_set_objects_and_lists(tmp_path):
    """A JSON array of values: each object or list is set whole (power modes for the CPU),
    a string is a word ('absent' removes the key); rows equal plans of hand-made documents."""
    parameters = [explore.parse_parameter("devices.cpu.power_modes=" + json.dumps(MODES + ["absent"])),
                  explore.parse_parameter("constraints.max_total_energy_mj=[24, 30]")]
    output = tmp_path / "rows.jsonl"
    explore.run([str(SEED)], parameters, str(output))
    rows = explore.read_rows(str(output), parameters)
    assert len(rows) == 6
    for row in rows:
        doc = json.loads(SEED.read_text())
        modes = row["devices.cpu.power_modes"]
        if modes != "absent":
            next(d for d in doc["devices"] if d["name"] == "cpu")["power_modes"] = json.loads(modes)
        doc["constraints"]["max_total_energy_mj"] = row["constraints.max_total_energy_mj"]
        expected = eip.plan(eip.Scenario.from_dict(doc), top_k=1)
        assert row["status"] == expected.status
        if expected.best is not None:
            assert math.isclose(row["score"], expected.best.score, rel_tol=1e-12)
            assert row["placement"] == list(expected.best.placement)
    assert {r["devices.cpu.power_modes"] for r in rows} == {json.dumps(m, separators=(",", ":")) for m in MODES} | {"absent"}
    for bad in ("devices.cpu.power_modes=[]", "devices.cpu.power_modes=[{]", 'devices.cpu.power_modes={"a": 1}'):
        with pytest.raises(ValueError):
            explore.parse_parameter(bad)


def test_cli_json_values_with_semicolons_and_a_summary_file(tmp_path):
    """A JSON value holding ';' reaches explore whole, and --summary-output writes the summary."""
    modes = [[{"name": "eco;slow", "latency_scale": 2.0, "power_scale": 0.4}], MODES[0]]
    summary = tmp_path / "summary.html"
    args = [sys.executable, "-m", "eip", "explore", str(SEED), "--vary", "devices.cpu.power_modes=" + json.dumps(modes),
            "--vary", "devices.gpu=absent,present", "--output", str(tmp_path / "rows.csv"), "--format", "html",
            "--summary-output", str(summary)]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and f"wrote {summary}" in out.stderr
    assert "eco;slow" in summary.read_text()


# ----------------------------------------------------------------------------- Ray

def _dies_once(task):
    """A task that ends its worker process the first time any task runs (a marker file
    says it has): the chunk must be run again on another worker."""
    marker, value = task
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return value * 2


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


def test_ray_gives_the_rows_of_the_pool(tmp_path, local_ray):
    pooled, parameters = _run(tmp_path, "pooled.csv", workers=2)
    on_ray, _ = _run(tmp_path, "ray.csv", workers=2, ray_address="")
    assert _strip(_by_point(on_ray, parameters)) == _strip(_by_point(pooled, parameters))


def test_a_worker_that_dies_has_its_chunk_run_again(tmp_path, local_ray):
    marker = str(tmp_path / "died")
    tasks = [(marker, i) for i in range(40)]
    assert cluster.chunk_size(len(tasks), 2) == 5
    results = sorted(cluster.rows(tasks, _dies_once, 2, ""))
    assert os.path.exists(marker) and results == [2 * i for i in range(40)]


def test_batch_on_ray_equals_batch_on_the_pool(tmp_path, local_ray):
    files = [str(p) for p in sorted((ROOT / "scenarios").glob("*.json"))[:4]]
    for name, options in (("pool.csv", {"workers": 2}), ("ray.csv", {"workers": 2, "ray_address": ""})):
        batch.run(files, str(tmp_path / name), **options)
    pool, on_ray = (batch.read_output(str(tmp_path / n), batch.FIELDS) for n in ("pool.csv", "ray.csv"))
    key = lambda rows: {r["path"]: {f: v for f, v in r.items() if f not in ("solve_ms", "index")} for r in rows}
    assert key(pool) == key(on_ray)


def test_the_cli_runs_on_a_local_ray(tmp_path):
    pytest.importorskip("ray")
    args = [sys.executable, "-m", "eip", "explore", str(SEED), "--vary", "devices.npu.memory_mb=1024,3072",
            "--vary", "devices.gpu=absent,present", "--workers", "2"]
    runs = {}
    for name, extra in (("pool.csv", []), ("ray.csv", ["--ray"])):
        out = subprocess.run(args + ["--output", str(tmp_path / name)] + extra, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        runs[name] = out.stdout
    assert runs["pool.csv"] == runs["ray.csv"]  # the same summary


def test_a_one_way_link_is_named_source_target():
    doc = {"links": [{"source": "gpu", "target": "npu", "latency_ms_per_mb": 1.0},
                     {"source": "npu", "target": "gpu", "latency_ms_per_mb": 2.0},
                     {"source": "cpu", "target": "npu", "latency_ms_per_mb": 3.0}]}
    for path, value, index in (("links.gpu-npu.latency_ms_per_mb", 9.0, 0), ("links.npu-gpu.latency_ms_per_mb", 8.0, 1),
                               ("links.npu-cpu.latency_ms_per_mb", 7.0, 2)):
        out = explore.apply(doc, [explore.Parameter(path, (value,))], [value])
        assert [li["latency_ms_per_mb"] for li in out["links"]] == [value if i == index else li["latency_ms_per_mb"]
                                                                    for i, li in enumerate(doc["links"])]


def test_the_html_summary_draws_its_charts_and_escapes_names(tmp_path):
    doc = json.loads(SEED.read_text())
    hostile = "<b onmouseover>npu"  # (a name holding "=" or "." cannot be a --vary step)
    text = json.dumps(doc).replace('"npu"', json.dumps(hostile))
    scenario = tmp_path / "hostile.json"
    scenario.write_text(text)
    parameters = [explore.parse_parameter(f"devices.{hostile}.memory_mb=1024,3072"),
                  explore.parse_parameter("constraints.max_total_latency_ms=24:36:6")]
    output = tmp_path / "rows.jsonl"
    explore.run([str(scenario)], parameters, str(output))
    from eip.report.explore import render_summary

    page = render_summary(explore.summarize(explore.read_rows(str(output), parameters), parameters), "html").decode()
    assert 'id="heatmap"' in page and 'id="best-' in page and 'id="pareto-' in page
    assert "<b onmouseover" not in page and "&lt;b onmouseover&gt;npu" in page
