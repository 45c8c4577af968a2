"""``eip batch`` as a person runs it: real subprocesses, a broken scenario in the batch, an
interrupted batch resumed, the progress bar only on a terminal."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import orjson
import pytest

import eip
from benchmarks.generate import soc_scenario
from eip.batch import FIELDS, journal_path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "mobile_vision_pipeline.json"


def command(*args) -> list[str]:
    return [sys.executable, "-m", "eip", "batch", *map(str, args)]


def batch(*args, cwd=None):
    return subprocess.run(command(*args), capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Six generated chains, two generated graphs, the seed, an infeasible one and a broken one."""
    root = tmp_path_factory.mktemp("batch")
    for seed in range(6):
        (root / f"soc_{seed}.json").write_text(json.dumps(soc_scenario(12, 3, seed=seed)))
    for seed in range(2):
        (root / f"dag_{seed}.json").write_text(json.dumps(soc_scenario(12, 3, seed=seed, shape="dag")))
    shutil.copy(SEED, root / "seed.json")
    doc = json.loads(SEED.read_text())
    doc["constraints"]["max_total_latency_ms"] = 20
    (root / "too_fast.json").write_text(json.dumps(doc))
    del doc["stages"][3]["profiles"]["npu"]["latency_ms"]
    (root / "broken.json").write_text(json.dumps(doc))
    return root


def read_rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        assert tuple(table.column_names) == FIELDS
        return table.to_pylist()
    if path.suffix == ".jsonl":
        return [orjson.loads(line) for line in path.read_text().splitlines()]
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == FIELDS
        return list(reader)


def test_a_broken_scenario_does_not_stop_the_batch(folder, tmp_path):
    out = tmp_path / "results.csv"
    done = batch(folder / "*.json", tmp_path / "missing.json", "--output", out, "--workers", "2")
    assert done.returncode == 1, done.stderr
    rows = {Path(r["path"]).name: r for r in read_rows(out)}
    assert len(rows) == 12 and sorted(int(r["index"]) for r in rows.values()) == list(range(12))
    assert rows["broken.json"]["status"] == "failed"
    assert rows["broken.json"]["reason"].endswith("broken.json: stages[3].profiles.npu.latency_ms: missing required field")
    assert rows["missing.json"]["reason"].endswith("missing.json: no such file")
    assert rows["too_fast.json"]["status"] == "infeasible" and "latency cap 20 ms" in rows["too_fast.json"]["reason"]
    for name in [f"soc_{seed}.json" for seed in range(6)] + ["dag_0.json", "dag_1.json", "seed.json"]:
        expected = eip.plan(folder / name, top_k=1).best
        row = rows[name]
        assert row["status"] == "optimal" and float(row["score"]) == expected.score
        assert row["placement"] == " -> ".join(expected.placement) and int(row["switches"]) == expected.switches
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith("eip: done: 12 of 12 scenarios in ")
    assert summary.endswith(f": 9 planned, 1 infeasible, 2 failed; rows in {out}")
    assert "%|" not in done.stderr, "no progress bar when stderr is not a terminal"


def test_one_and_two_workers_agree_and_jsonl(folder, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert batch(folder, "--output", one, "--workers", "1", "--goal", "latency").returncode == 1
    assert batch(folder, "--output", two, "--workers", "2", "--goal", "latency").returncode == 1
    by_path = lambda rows: {r["path"]: {k: v for k, v in r.items() if k != "solve_ms"} for r in rows}
    rows = read_rows(one)
    assert by_path(rows) == by_path(read_rows(two)) and len(rows) == 11
    seed = next(r for r in rows if r["path"].endswith("seed.json"))
    best = eip.plan(SEED, goal="latency", top_k=1).best
    assert seed["placement"] == list(best.placement)
    assert seed["accuracy_loss"] == 0.0 and seed["period_ms"] == best.period_ms == max(best.busy_ms.values())
    assert seed["scenario"] == "mobile_vision_stack" and seed["gap"] == 0.0 and seed["strategy"] in ("exact", "viterbi")


@pytest.mark.parametrize("args, message", [
    (["--output", "r.txt"], "--output must end in .csv, .jsonl or .parquet, got 'r.txt'"),
    ([], "--output is required"),
    (["--workers", "0", "--output", "r.csv"], "--workers expects a whole number from 1 to 1,024, got '0'"),
    (["--goal", "fast", "--output", "r.csv"], "unknown goal 'fast'"),
])
def test_usage_errors_exit_2(folder, tmp_path, args, message):
    done = batch(folder / "seed.json", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists()


def test_nothing_matched(tmp_path):
    done = batch(tmp_path / "none*.json", "--output", tmp_path / "r.csv")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"eip: warning: {tmp_path / 'none*.json'} matched no scenario file",
                                        "eip: no scenario file matched"]


@pytest.mark.parametrize("workers, suffix", [(1, ".csv"), (2, ".jsonl"), (2, ".parquet")])
def test_an_interrupted_batch_keeps_its_rows_and_resumes(tmp_path, workers, suffix):
    source = tmp_path / "s.json"
    source.write_text(json.dumps(soc_scenario(30, 4, seed=5)))  # about 6 ms to plan
    for i in range(300):
        os.link(source, tmp_path / f"copy_{i:03d}.json")
    out = tmp_path / f"results{suffix}"
    streamed = journal_path(out) if suffix == ".parquet" else out  # where rows appear while it runs
    proc = subprocess.Popen(command(tmp_path / "copy_*.json", "--output", out, "--workers", workers),
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not streamed.exists() or len(streamed.read_text().splitlines()) < 25) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("eip: interrupted after ")
    rows = read_rows(out)  # every line whole: CSV cells and JSON rows parse; the Parquet file is whole
    assert 20 <= len(rows) < 300
    assert {r["status"] for r in rows} == {"optimal"}
    assert not journal_path(out).exists()

    # a kill can leave half a line (of a Parquet run: in the journal it leaves, with every
    # row before it): resume drops it and plans what is missing
    if suffix == ".parquet":
        streamed.write_text("".join(orjson.dumps(r).decode() + "\n" for r in rows))
        out.unlink()
    with streamed.open("a") as handle:
        handle.write('0,"half')
    done = batch(tmp_path / "copy_*.json", "--output", out, "--workers", workers, "--resume")
    assert done.returncode == 0, done.stderr
    assert f"({len(rows)} already done)" in done.stderr
    final = read_rows(out)
    assert sorted(Path(r["path"]).name for r in final) == [f"copy_{i:03d}.json" for i in range(300)]
    assert len({r["score"] for r in final}) == 1


def test_progress_bar_on_a_terminal(folder, tmp_path):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(command(folder, "--output", tmp_path / "r.csv"), stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 1
    assert b"100%|" in seen and b"11/11 [" in seen and b"scenario/s]" in seen


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_reads_back_names_with_line_separators(tmp_path, suffix):
    """U+2028, U+2029 and form feeds are line breaks to str.splitlines, not to a CSV or JSONL row."""
    doc = json.loads(SEED.read_text())
    doc["name"] = "odd\u2028name\u2029with\x0cbreaks\x85"
    names = [tmp_path / f"odd\u2028{i}.json" for i in range(2)]
    for path in names:
        path.write_text(json.dumps(doc))
    out = tmp_path / f"results{suffix}"
    assert batch(*names[:1], "--output", out).returncode == 0
    done = batch(*names, "--output", out, "--resume")
    assert done.returncode == 0, done.stderr
    assert "(1 already done)" in done.stderr, done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers follow their parent on Linux")
def test_a_killed_batch_leaves_no_workers_and_no_tracebacks(tmp_path):
    source = tmp_path / "s.json"
    source.write_text(json.dumps(soc_scenario(40, 4, seed=5)))
    for i in range(3000):
        os.link(source, tmp_path / f"copy_{i:04d}.json")
    err = tmp_path / "err.txt"
    with open(err, "w") as handle:
        proc = subprocess.Popen(command(tmp_path, "--output", tmp_path / "r.csv", "--workers", "2"), stderr=handle)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        deadline = time.time() + 60
        while time.time() < deadline and len(children.read_text().split()) < 2:
            time.sleep(0.1)
        workers = [int(p) for p in children.read_text().split()]
        time.sleep(1.0)
        proc.kill()
        proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    assert workers and not any(Path(f"/proc/{w}").exists() for w in workers)
    assert "Traceback" not in err.read_text()
