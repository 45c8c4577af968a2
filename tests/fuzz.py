"""A fuzz campaign through the command line: structure-aware mutations of the bundled
scenarios (numbers at the edges, wrong types, hostile names, missing and extra keys, broken
JSON) and of the arguments, each run in-process by ``eip.cli.main``.

    python tests/fuzz.py [--cases 10000] [--seed 0]

Every case must end with exit 0, 1, 2 or 4 (3 is a bug), write nothing but one-line
``eip: ...`` messages to stderr, and, when it plans, give a plan that keeps every budget and,
on scenarios small enough to enumerate, the optimum the brute-force reference finds. Prints
the counts of each outcome and every failure; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eip  # noqa: E402
from eip.cli import main  # noqa: E402
from reference import ranked_plans  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: small enough to plan in milliseconds (and the first three to enumerate)
CORPUS = ["mobile_vision_pipeline", "camera_two_models", "mobile_vision_ways", "googlenet_xavier", "bert24_soc"]
NUMBERS = [0, -1, -0.0, 5e-324, 1e-10, 1e-9, 0.5, 1, 3, 1e12, 1e13, 1e308, 1.797e308, 10**30, True, "7", None, [], {}]
NAMES = ["", " ", "a\nb", "\x1b[31mred\x1b[0m", "<script>alert(1)</script>", "=SUM(A1)", "odd\u2028name", "é" * 300,
         "x" * 5000, "gpu", "cpu", "npu", "name with spaces", "\x00nul"]
FLAGS = {
    "plan": ["--goal", "--top-k", "--strategy", "--time-limit", "--format", "--label-budget", "--no-sensitivity",
             "--beam-width"],
    "frontier": ["--goal", "--max-plans", "--time-limit", "--format", "--axes", "--label-budget"],
    "sweep": ["--goal", "--max-latency-ms", "--max-energy-mj", "--memory", "--time-limit", "--format",
              "--frame-rate-hz", "--max-accuracy-loss"],
    "validate": [],
}
VALUES = ["1", "3", "0", "-1", "1e6", "1e400", "nan", "inf", "", "latency", "balanced", "throughput", "latency=1,energy=0",
          "latency=1e-300", "json", "csv", "html", "md", "trace", "text", "exact", "beam", "20:40:5", "40:20:5", "1,2,3",
          "npu=1024:2048:512", "tpu=5", "latency,accuracy", "0.001", "x" * 300, "a\nb", "--top-k"]


#: values a flag is usually given
SENSIBLE = {"--goal": ["latency", "efficiency", "balanced", "throughput", "latency=1,energy=0.5,switch=0"],
            "--top-k": ["1", "3", "10"], "--strategy": ["auto", "exact", "beam"], "--time-limit": ["0.5", "2"],
            "--format": ["text", "csv", "json", "md", "html", "trace"], "--label-budget": ["1000", "1e6"],
            "--beam-width": ["4", "32"], "--max-plans": ["2", "5"], "--axes": ["latency,energy", "energy,accuracy"],
            "--max-latency-ms": ["10:60:10", "30"], "--max-energy-mj": ["20:60:10"], "--memory": ["npu=512:4096:512"],
            "--frame-rate-hz": ["10,30,60"], "--max-accuracy-loss": ["0:1:0.25"]}


def mutate(doc: dict, rng: random.Random) -> dict:
    """``doc`` with one to three random edits at random JSON paths."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        parent, key = _random_slot(doc, rng)
        if parent is None:
            continue
        value = parent[key]
        kind = rng.random()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and kind < 0.4:
            parent[key] = value * rng.choice([0, 0.01, 0.5, 0.9, 1.1, 2, 100])  # in range: a different plan
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and kind < 0.6:
            parent[key] = rng.choice(NUMBERS)
        elif isinstance(value, str) and kind < 0.6:
            _rename(doc, value, rng.choice(NAMES)) if rng.random() < 0.5 else parent.__setitem__(key, rng.choice(NAMES))
        elif kind < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif kind < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["extra", key + "s", "inputs", "mode", "variant"])] = rng.choice(NUMBERS + NAMES)
        elif kind < 0.92 and isinstance(parent, list):
            parent.append(copy.deepcopy(value))
        else:
            parent[key] = rng.choice(NUMBERS + NAMES)
    return doc


def _random_slot(doc, rng: random.Random):
    """A random (container, key) pair reached by walking down from the top."""
    parent, key, node = None, None, doc
    while isinstance(node, (dict, list)) and node and (parent is None or rng.random() < 0.8):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, rng.choice(keys)
        node = node[key]
    return parent, key


def _rename(node, old: str, new: str):
    """Every string ``old`` in ``node`` becomes ``new`` (a device or stage renamed everywhere)."""
    if isinstance(node, dict):
        for k in list(node):
            _rename(node[k], old, new)
            if isinstance(node[k], str) and node[k] == old:
                node[k] = new
            if k == old:
                node[new] = node.pop(k)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if item == old:
                node[i] = new
            else:
                _rename(item, old, new)


def raw_text(doc: dict, rng: random.Random) -> bytes:
    """The document as JSON, now and then broken as text."""
    text = json.dumps(doc, ensure_ascii=False).encode()  # json: ints past 64 bits too
    roll = rng.random()
    if roll < 0.03:
        return text[: rng.randint(0, len(text))]
    if roll < 0.06:
        cut = rng.randint(0, len(text))
        return text[:cut] + rng.choice([b"NaN", b"Infinity", b"\xff\xfe", b"}", b'"', b",", b"1e999"]) + text[cut:]
    return text


def arguments(command: str, path: str, rng: random.Random) -> list[str]:
    args = [command, path]
    for flag in rng.sample(FLAGS[command], k=rng.randint(0, min(3, len(FLAGS[command])))):
        value = rng.choice(VALUES) if rng.random() < 0.4 else rng.choice(SENSIBLE.get(flag, VALUES))
        args += [flag] if flag == "--no-sensitivity" and rng.random() < 0.8 else [flag, value]
    if command in ("plan", "frontier", "sweep"):
        args += ["--time-limit", "2"]
    if command == "plan" and "--no-sensitivity" not in args and rng.random() < 0.7:
        args.append("--no-sensitivity")
    return args


def run(argv: list[str]) -> tuple[int, bytes, str]:
    """``eip.cli.main(argv)`` in this process: (exit status, stdout bytes, stderr text)."""
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # main must never let one through
            code = -1
            print(f"escaped {type(exc).__name__}: {exc}", file=err)
        stdout.flush()
    return code, out.getvalue(), err.getvalue()


def check(argv: list[str], path: Path, code: int, out: bytes, err: str) -> list[str]:
    """What is wrong with one case (nothing, when it behaved)."""
    problems = []
    if code not in (0, 1, 2, 4):
        problems.append(f"exit {code}")
    if "Traceback" in err or any(line and not line.startswith("eip: ") for line in err.split("\n")):
        problems.append("stderr is not one-line eip messages")
    if code == 0 and argv[0] == "plan" and "--format" not in argv:
        problems += _check_plan(argv, path)
    return problems


def _check_plan(argv: list[str], path: Path) -> list[str]:
    """The plan keeps every budget and, where the reference can enumerate, is its optimum."""
    scenario = eip.load(path)
    goal = argv[argv.index("--goal") + 1] if "--goal" in argv else "balanced"
    from eip.cli import _goal

    result = eip.plan(scenario, goal=_goal(goal), top_k=1, time_limit_s=2)
    best = result.best
    if best is None:
        return []
    usage, caps = best.usage, result.model.caps_tol
    if (usage > caps).any():
        return [f"plan breaks a budget: usage {usage.tolist()} caps {caps.tolist()}"]
    if result.status != "optimal" or result.goal == "throughput":
        return []
    space = 1
    for stage in scenario.stages:
        space *= sum(len(w) for w in stage.profiles.values()) * max(1, max(len(scenario.device(d).power_modes)
                                                                         for d in stage.profiles))
    if space > 20_000:
        return []
    ref = ranked_plans(scenario, result.weights)
    if not ref or abs(ref[0].score - best.score) > 1e-6 * max(1.0, abs(ref[0].score)):
        return [f"claimed optimum {best.score!r}, reference {ref[0].score if ref else 'no plan'}"]
    return []


def campaign(cases: int, seed: int, progress: bool = True) -> tuple[Counter, list[str]]:
    rng = random.Random(seed)
    docs = {name: orjson.loads((ROOT / "scenarios" / f"{name}.json").read_bytes()) for name in CORPUS}
    counts: Counter = Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="eip-fuzz-") as folder:
        for case in range(cases):
            name = rng.choice(CORPUS)
            doc = mutate(docs[name], rng) if rng.random() < 0.7 else docs[name]
            path = Path(folder) / f"case{case % 10}.json"
            path.write_bytes(raw_text(doc, rng))
            argv = arguments(rng.choice(list(FLAGS)), str(path), rng)
            code, out, err = run(argv)
            counts[f"exit {code}"] += 1
            for problem in check(argv, path, code, out, err):
                counts["failures"] += 1
                failures.append(f"case {case} ({name}): {problem}: eip {' '.join(map(repr, argv))}: {err[:300]!r}")
            if progress and case % 500 == 499:
                print(f"{case + 1} cases: {dict(counts)}", flush=True)
    counts["cases"] = cases
    return counts, failures


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts, failures = campaign(args.cases, args.seed)
    for failure in failures[:50]:
        print(failure)
    print(f"{args.cases} cases in {time.perf_counter() - start:.0f} s: {dict(sorted(counts.items()))}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main_())
