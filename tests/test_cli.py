"""The command line as a person runs it: real subprocesses, exit statuses, outputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "mobile_vision_pipeline.json"
GRAPH = ROOT / "scenarios" / "camera_two_models.json"


def eip(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "eip", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_plan_prints_the_seed_tools_numbers():
    out = eip("plan", SEED, "--goal", "balanced", "--top-k", "3")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Goal: balanced | Strategy: exact | Score: 1.85 (proven optimal)" in text
    assert "Latency: 27.97 ms | Energy: 32.18 mJ | Switches: 2" in text
    assert "Memory: cpu 0/4096 MB, gpu 1030/6144 MB, npu 2576/3072 MB" in text
    assert "backbone_embedding | npu    | 7.40    | 1.08    | 8.48" in text
    assert "gpu -> gpu -> npu -> npu -> npu -> npu -> gpu" in text
    assert out.stderr == ""


def test_json_output_written_atomically(tmp_path):
    target = tmp_path / "deep" / "er" / "plan.json"
    out = eip("plan", SEED, "--top_k", "2", "--format", "json", "--output", target)
    assert out.returncode == 0 and out.stdout == ""
    assert f"wrote {target}" in out.stderr
    doc = json.loads(target.read_text())
    assert doc["schema"] == "eip.plan/1" and doc["status"] == "optimal"
    assert [p["rank"] for p in doc["plans"]] == [1, 2]
    assert doc["plans"][0]["placement"] == ["gpu", "gpu", "npu", "npu", "npu", "npu", "gpu"]
    assert list(tmp_path.glob("deep/er/.*")) == []  # no temporary file left behind


def test_infeasible_exits_1_with_reason(tmp_path):
    doc = json.loads(SEED.read_text())
    doc["constraints"]["max_total_latency_ms"] = 20
    path = tmp_path / "tight.json"
    path.write_text(json.dumps(doc))
    out = eip("plan", path)
    assert out.returncode == 1
    assert "eip: no plan: the fastest possible plan takes 25.45 ms > latency cap 20 ms" in out.stderr


@pytest.mark.parametrize("args,message", [
    (["plan", "missing.json"], "missing.json: no such file"),
    (["plan", "{bad}"], "invalid JSON at line 1, column"),
    (["plan", "{schema}"], "stages[0].profiles.cpu.latency_ms: expected a number >= 0, got -1"),
    (["plan", SEED, "--goal", "lat"], "unknown goal 'lat'; choose latency, efficiency, balanced or throughput"),
    (["plan", SEED, "--top-k", "0"], "--top-k expects a whole number from 1 to 100,000, got '0'"),
    (["plan", SEED, "--top-k", "1000000000"], "--top-k expects a whole number from 1 to 100,000"),
    (["plan", SEED, "--top-k", "99999999999999999999"], "--top-k expects a whole number from 1 to 100,000"),
    (["plan", SEED, "--top-k", "2.5"], "--top-k expects a whole number"),
    (["plan", SEED, "--label-budget", "1e400"], "--label-budget expects a whole number"),
    (["plan", SEED, "-k", "3"], "unknown option -k: eip's options are long (--name); did you mean --top-k?"),
    (["plan", SEED, "--output"], "--output expects a value"),
    (["plan", SEED, "--output", "--top-k", "2"], "--output expects a value"),
    (["plan", SEED, "--no-sensitivity=maybe"], "--no-sensitivity takes no value, got 'maybe'"),
    (["plan", SEED, "--goal", "latency=1,energy=x"], "--goal expects a goal name or WEIGHT=NUMBER"),
    (["plan", SEED, "--goal", "latency=0"], "goal weights are all zero"),
    (["plan", SEED, "--time-limit", "soon"], "--time-limit expects a number of seconds > 0, got 'soon'"),
    (["plan", SEED, "--gaol\x1b[31m", "x"], "unknown option --gaol\\x1b[31m"),
    (["plan", SEED, "--format", "pdf"], "unknown format 'pdf'"),
    (["plan", SEED, "--gaol", "latency"], "unknown option --gaol; did you mean --goal?"),
    (["plan", SEED, "--output", "/proc/eip/plan.txt"], "cannot write /proc/eip/plan.txt"),
    (["frobnicate"], "unknown command 'frobnicate'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text('{"devices": [}')
    schema = tmp_path / "schema.json"
    doc = json.loads(SEED.read_text())
    doc["stages"][0]["profiles"]["cpu"]["latency_ms"] = -1
    schema.write_text(json.dumps(doc))
    args = [str(a).replace("{bad}", str(bad)).replace("{schema}", str(schema)) for a in args]
    out = eip(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_values_are_the_text_typed(tmp_path):
    for name in ("123", "1e5", "True", "None", "[1]"):  # file names fire would have parsed as literals
        (tmp_path / name).write_text(SEED.read_text())
        out = eip("validate", name, cwd=tmp_path)
        assert out.returncode == 0 and out.stdout.startswith(f"{name}: valid"), out.stderr
    out = eip("plan", SEED, "--label-budget", "1e6", "--top-k", "1_000", "--output", "2024", cwd=tmp_path)
    assert out.returncode == 0 and (tmp_path / "2024").exists(), out.stderr
    out = eip("plan", SEED, "--goal", "latency=1,energy=0.5,switch=0", "--top-k", "1", "--no-sensitivity")
    assert out.returncode == 0 and "Goal: custom" in out.stdout


@pytest.mark.parametrize("edit, reason", [
    (lambda d: d.update(links=[]), "the most frugal possible plan uses 40.7 mJ > energy cap 35 mJ; with free links "
                                   "between every pair of devices 28.9 mJ would do: the missing links (cpu->gpu"),
    (lambda d: [w.update(memory_mb=99999) for w in d["stages"][2]["profiles"].values()],
     "stage 'backbone_embedding' fits no device's memory budget (cpu 99999 MB > 4096, gpu 99999 MB > 6144"),
])
def test_diagnoses_name_the_cause_and_validate_finds_them(tmp_path, edit, reason):
    doc = json.loads(SEED.read_text())
    edit(doc)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    planned, validated = eip("plan", path), eip("validate", path)
    assert planned.returncode == 1 and reason in planned.stderr
    assert validated.returncode == 1 and f"No plan: {reason}" in validated.stdout


def test_version_and_a_closed_pipe():
    out = eip("--version")
    assert out.returncode == 0 and out.stdout.startswith("eip 0.")
    script = f"set -o pipefail; {sys.executable} -m eip plan {SEED} | head -c 10 > /dev/null"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""


def test_an_unusable_numba_cache_dir_is_one_warning_not_a_traceback(tmp_path):
    (tmp_path / "a_file").write_text("")
    unusable = tmp_path / "a_file" / "cache"  # under a file: it can never be made, even by root
    out = subprocess.run([sys.executable, "-m", "eip", "plan", str(SEED), "--top-k", "1"], capture_output=True,
                         text=True, env={**os.environ, "NUMBA_CACHE_DIR": str(unusable)})
    assert out.returncode == 0 and "Score: 1.85 (proven optimal)" in out.stdout
    assert out.stderr == (f"eip: warning: NUMBA_CACHE_DIR {unusable} cannot be used (Not a directory); "
                          "the compiled kernels are cached in Numba's default place instead\n")


def test_output_files_as_a_shell_would_write_them(tmp_path):
    import os
    import stat

    target = tmp_path / "plan.txt"
    out = subprocess.run(["bash", "-c", f"umask 022; {sys.executable} -m eip plan {SEED} --output {target}"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o600)
    assert eip("plan", SEED, "--output", target).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # an existing file keeps its mode
    real = tmp_path / "reports" / "real.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert eip("plan", SEED, "--output", link).returncode == 0
    assert link.is_symlink() and real.read_text().startswith("Pipeline:")  # written through the link
    long = tmp_path / ("p" * 255)
    out = eip("plan", SEED, "--output", long)
    assert out.returncode == 0 and long.read_text().startswith("Pipeline:"), out.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".eip-")] == []


def test_help_and_validate():
    out = eip("--help")
    assert out.returncode == 0 and "eip plan scenarios/mobile_vision_pipeline.json" in out.stdout
    out = eip("plan", "--help")
    assert out.returncode == 0 and "--goal" in out.stdout and "default balanced" in out.stdout
    out = eip("validate", SEED)
    assert out.returncode == 0
    assert "Search space: 972 placements" in out.stdout and "valid" in out.stdout


@pytest.mark.parametrize("fmt,marker", [
    ("csv", "record,rank,status,score,latency_ms,energy_mj,switches,stage_index,stage,device"),
    ("md", "## Placement"),
    ("html", '<table id="placement">'),
    ("json", '"schema": "eip.plan/1"'),
    ("text", "Rationale"),
])
def test_every_format(fmt, marker):
    out = eip("plan", SEED, "--format", fmt)
    assert out.returncode == 0, out.stderr
    assert marker in out.stdout


@pytest.mark.parametrize("fmt,markers", [
    ("text", ["stage            | inputs", "compose_overlay  | nms, seg_decoder, face_detect, frame_decode |",
              "to receive 4 MB from gpu (seg_decoder) and 0.2 MB from dsp (face_detect) and 6 MB from dsp (frame_decode)"]),
    ("md", ["| stage | inputs | device |", r"| det\_residual\_add | det\_backbone\_b, det\_backbone\_a |"]),
    ("csv", [',change,inputs', '"[""det_backbone_b"",""det_backbone_a""]"']),
    ("json", ['"inputs": [', '"det_backbone_b",']),
    ("html", ['<svg id="graph"', '<table id="placement">', '<th class="name">inputs</th>']),
])
def test_a_graph_in_every_format(fmt, markers):
    out = eip("plan", GRAPH, "--format", fmt)
    assert out.returncode == 0, out.stderr
    for marker in markers:
        assert marker in out.stdout, marker


def test_a_search_stopped_by_its_time_limit_has_its_own_exit_status(tmp_path):
    """60x4 with both caps binding: no plan within 1e-9 s (the seed's Lagrangian ascent
    alone already meets a plan that fits)."""
    from benchmarks.generate import soc_scenario

    hard = tmp_path / "hard.json"
    hard.write_text(json.dumps(soc_scenario(60, 4, 0)))
    out = eip("plan", hard, "--time-limit", "1e-9", "--no-sensitivity")
    assert out.returncode == 4, out.stderr
    assert "eip: no plan: the search stopped at its time limit" in out.stderr
    assert eip("plan", SEED, "--time-limit", "0").returncode == 2


def _report_limits(monkeypatch, sleep_s: float, write: bool) -> tuple[list, list]:
    """Slow eip plan's solve by ``sleep_s`` and record the time limit its report gets, and the
    solve's seconds; the report is written when ``write``, else empty."""
    import time

    import eip.cli as cli

    given, spent = [], []
    real_plan, real_render = cli.plan_scenario, cli.render

    def slow_plan(*args, **kwargs):
        started = time.perf_counter()
        time.sleep(sleep_s)
        answer = real_plan(*args, **kwargs)
        spent.append(time.perf_counter() - started)
        return answer

    def render(result, format, sensitivity, time_limit_s, progress):
        given.append(time_limit_s)
        return real_render(result, format, sensitivity=sensitivity, time_limit_s=time_limit_s,
                           progress=progress) if write else b""

    monkeypatch.setattr(cli, "plan_scenario", slow_plan)
    monkeypatch.setattr(cli, "render", render)
    return given, spent


def test_plans_time_limit_bounds_the_whole_command(monkeypatch, capsys):
    """The solve takes what it needs of --time-limit; the report's re-solves get the rest,
    and none when the solve spent it all."""
    import eip.cli as cli

    given, spent = _report_limits(monkeypatch, 0.3, write=True)
    for limit_s in ("1", "0.2"):
        try:
            cli.main(["plan", str(SEED), "--time-limit", limit_s])
        except SystemExit as exc:
            assert exc.code in (0, None)
    assert given[0] == pytest.approx(1 - spent[0], abs=0.05) and given[1] == 0.0
    out = capsys.readouterr().out
    assert "energy cap: +1 mJ was not solved (the time limit was spent)" in out


def test_without_a_time_limit_the_report_is_bounded_by_the_solve(monkeypatch):
    import eip.cli as cli

    given, spent = _report_limits(monkeypatch, 0.2, write=False)
    monkeypatch.setattr(cli, "REPORT_MIN_S", 0.0)
    cli.main(["plan", str(SEED)])
    assert given[0] == pytest.approx(2 * spent[0], abs=0.05)  # REPORT_SOLVE_MULTIPLE times the solve
    monkeypatch.setattr(cli, "REPORT_MIN_S", 60.0)
    cli.main(["plan", str(SEED)])
    assert given[1] == 60.0


def test_ctrl_c_writes_the_plan_without_its_what_ifs_and_exits_130(monkeypatch, capsys):
    import eip.cli as cli

    real_render = cli.render

    def render(result, format, sensitivity=True, time_limit_s=None, progress=None):
        if sensitivity:
            raise KeyboardInterrupt  # as a Ctrl-C during the re-solves would
        return real_render(result, format, sensitivity=False)

    monkeypatch.setattr(cli, "render", render)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["plan", str(SEED), "--format", "json"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 130
    assert json.loads(out)["plans"][0]["placement"] and json.loads(out)["explanation"]["budgets"][0]["relaxed"] is None
    assert err == "eip: interrupted: the report is written without its sensitivity re-solves and frontier\n"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "plan_scenario", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["plan", str(SEED)])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 130 and out == "" and err == "eip: interrupted\n"
