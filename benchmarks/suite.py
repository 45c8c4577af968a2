"""eip against its peers on generated and real instances: times, optima, proofs, ratios.

    python -m benchmarks [--families seed,12x3,...] [--seeds 2] [--top-k 3] [--json PATH]
    python -m benchmarks --families 150x4,200x4,300x6,100x8,500x8 --seeds 3 --peers highs \
        --top-k 1 --eip-time-limit-s 10     # engine v2's families: eip against HiGHS at scale

A family NxD is a generated SoC chain of N stages on D devices, dagNxD the same stages
wired as a network graph (residual and inception blocks; ``benchmarks.generate``), waysNxD
and waysdagNxD the same with two or three builds per stage and device, two power modes per
device (the GPU's fixed) and an accuracy budget, frame rate and power limits that bind.

    python -m benchmarks --families ways60x4,ways100x4,ways200x4 --seeds 3 --peers highs --top-k 1

    python -m benchmarks --families dag60x4,dag100x4,dag150x4,dag300x4 --seeds 3 --peers brute,highs --top-k 1

For each instance every installed peer solves the same problem (``benchmarks.peers``);
times are medians of warm repeats of whole calls (``eip.plan`` on a loaded scenario; a
peer's model build plus its solve), single thread. A loaded scenario keeps its compiled
cost model, lowered graph and fitted graphs, which a peer builds on every call: the row
``eip cold`` times top-1 calls on copies compiled and lowered by the call itself (what one
``eip plan`` run pays after reading its file), and the summary gives each peer's ratio
against it too. eip's exact engine runs at top-1 (the MILP peers' question) and at top-k
(the brute force's and the seed tool's question); each peer's ratio is against eip at the
same k. On the large families eip's beam is also shown
against HiGHS. Any disagreement on an optimum is printed as MISMATCH and makes the run exit
with status 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import orjson

import eip
from benchmarks import peers
from benchmarks.generate import soc_scenario, ways_scenario
from eip.files import write_atomic
from eip.goals import resolve_goal

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
GENERATED = ("12x3", "20x4", "30x4", "60x4", "200x4", "60x8", "500x16")
REAL = ("yolov3_rk3399pro", "googlenet_xavier", "camera_two_models", "bert24_soc", "resnet50_soc", "gnmt_soc",
        "inceptionv3_soc", "resnet50_bert24_soc", "mobile_vision_ways", "yolov3_rk3399pro_int8",
        "mobilenetv1_rk3399pro_dvfs", "alexnet_rockpi_dvfs")
FAMILIES = ("seed", *GENERATED, *REAL)
#: Above this many placements the NumPy brute force is not attempted.
BRUTE_FORCE_LIMIT = 2_000_000
#: The seed tool's pure-Python beam copies every partial plan; above this many stage x
#: option pairs one solve takes minutes, so it is skipped (and the table says so).
SEED_TOOL_LIMIT = 2_000
#: The peers, their display names, and the module each needs (None: always available).
PEERS = {"brute": ("brute force", None), "seed": ("seed tool", None), "highs": ("HiGHS MILP", "highspy"),
         "cpsat": ("CP-SAT", "ortools")}
#: Families on which eip's beam is also compared with HiGHS.
BEAM_FAMILIES = ("200x4", "60x8", "500x16")


@dataclass
class Instance:
    family: str
    name: str
    scenario: eip.Scenario


def instances(families, seeds: int, saved: Path | None = None) -> list[Instance]:
    """The instances of ``families``: the real scenarios, and ``seeds`` generated ones per
    generated family, read from ``saved``/FAMILY_sSEED.json when there and written there
    when generated (None: always generated)."""
    out = []
    for family in families:
        if family == "seed":
            out.append(Instance(family, "mobile_vision_pipeline", eip.load(SCENARIOS / "mobile_vision_pipeline.json")))
        elif family in REAL:
            out.append(Instance(family, family, eip.load(SCENARIOS / f"{family}.json")))
        else:
            for seed in range(seeds):
                doc = _generated(family, seed, saved)
                out.append(Instance(family, doc["name"], eip.Scenario.from_dict(doc)))
    return out


def _generated(family: str, seed: int, saved: Path | None) -> dict:
    """Generated instance ``seed`` of ``family``, kept in ``saved`` (``instances``): the ways
    families' limits come from witness plans of eip's own beam, so a change of its
    tie-breaks changes the instances, and comparisons across commits need saved ones."""
    path = saved / f"{family}_s{seed}.json" if saved else None
    if path is not None and path.exists():
        return orjson.loads(path.read_bytes())
    n, d = _size(family)
    shape = "dag" if family.removeprefix("ways").startswith("dag") else "chain"
    doc = ways_scenario(n, d, seed, shape=shape) if family.startswith("ways") else soc_scenario(n, d, seed, shape=shape)
    if path is not None:
        write_atomic(path, orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2))
    return doc


def _size(family: str) -> tuple[int, int]:
    """(stages, devices) of a generated family named NxD, dagNxD, waysNxD or waysdagNxD."""
    n, d = map(int, family.removeprefix("ways").removeprefix("dag").split("x"))
    return n, d


def _is_family(name: str) -> bool:
    return name in FAMILIES or re.fullmatch(r"(ways)?(dag)?[1-9][0-9]*x[1-9][0-9]*", name) is not None


def once(fn: Callable):
    """(seconds, result) of one call of ``fn``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed(fn: Callable, repeats: int, budget_s: float, warm_up: bool = True):
    """(median seconds, last result) of warm calls: one warm-up, then up to ``repeats``
    timed calls or until ``budget_s`` is spent. A first call slower than the budget is
    itself the measurement (it is not repeated). Without ``warm_up`` the first call counts
    as one of the repeats (each call is its own cold start: ``Run.instance``)."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    if first > budget_s:
        return first, result
    times = [] if warm_up else [first]
    while len(times) < repeats and sum(times) < budget_s:
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def extrapolated(peer: str, per_call_s: float, sample: int, calls: int, ours: str, ours_s: float) -> str:
    """One report line: a peer's time per call, measured on a sample and extrapolated to
    ``calls`` calls, against ``ours_s`` seconds for the same work."""
    total = per_call_s * calls
    return (f"{peer}: {per_call_s * 1e3:.3f} ms per call (sample of {sample}), {calls:,} calls ~ {total:,.2f} s "
            f"-> {ours} is {total / ours_s:,.0f}x faster")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class Run:
    """One suite run: rows of results, mismatches, and the printing of both."""

    HEADER = f"{'instance':<26} {'solver':<12} {'k':>2} {'time ms':>10} {'objective':>12} {'status':<16} {'labels':>9} {'x eip':>8}"

    def __init__(self, args) -> None:
        self.args = args
        self.rows: list[dict] = []
        self.mismatches: list[str] = []
        self.peer_names = [p for p in args.peers if PEERS[p][1] is None or installed(PEERS[p][1])]

    def add(self, inst: Instance, solver: str, k: int, seconds: float, score: float, status: str,
            labels: int | None = None, eip_seconds: float | None = None, eip_cold_seconds: float | None = None,
            **extra) -> dict:
        ratio = seconds / eip_seconds if eip_seconds else None
        row = dict(family=inst.family, instance=inst.name, solver=solver, k=k, time_ms=seconds * 1e3,
                   objective=score if math.isfinite(score) else None, status=status, labels_kept=labels,
                   ratio_vs_eip=ratio, ratio_vs_eip_cold=seconds / eip_cold_seconds if eip_cold_seconds else None,
                   **extra)
        self.rows.append(row)
        objective = f"{score:12.6f}" if math.isfinite(score) else f"{'-':>12}"
        print(f"{inst.name[:26]:<26} {solver:<12} {k:>2} {seconds * 1e3:10.3f} {objective} {status[:16]:<16} "
              f"{'' if labels is None else f'{labels:,}':>9} {'' if ratio is None else f'{ratio:8.1f}':>8}", flush=True)
        return row

    def check(self, inst: Instance, solver: str, reference: list[float], reference_proven: bool, answer: peers.PeerAnswer, k: int) -> None:
        """Loud failure when a peer and eip disagree on what is optimal."""
        def close(a: float, b: float) -> bool:
            return math.isclose(a, b, rel_tol=peers.SCORE_RTOL, abs_tol=1e-12)

        theirs, ours = answer.scores[:k], reference[:k]
        problem = ""
        if answer.proven and reference_proven:
            if len(theirs) != len(ours) or not all(close(a, b) for a, b in zip(theirs, ours)):
                problem = f"proven optima differ: {solver} {theirs} vs eip {ours}"
        elif reference_proven and theirs and ours and theirs[0] < ours[0] and not close(theirs[0], ours[0]):
            problem = f"{solver} found {theirs[0]!r}, better than eip's proven optimum {ours[0]!r}"
        elif reference_proven and theirs and not ours:
            problem = f"{solver} found a plan ({theirs[0]!r}) where eip proved there is none"
        elif answer.proven and ours and theirs and ours[0] < theirs[0] and not close(theirs[0], ours[0]):
            problem = f"eip found {ours[0]!r}, better than {solver}'s proven optimum {theirs[0]!r}"
        if answer.note.endswith("breaks a cap or a link"):
            problem = problem or f"{solver} returned a plan that breaks a cap or a link"
        if problem:
            message = f"MISMATCH on {inst.name}: {problem}"
            self.mismatches.append(message)
            print(f"!!! {message}", flush=True)

    def instance(self, inst: Instance) -> None:
        args = self.args
        model = inst.scenario.cost_model
        _, weights = resolve_goal(args.goal)
        coef = model.coefficients(weights)
        budget = args.budget_s

        def eip_row(k: int, strategy: str, label: str, cold: bool = False):
            # (cold: a copy of the scenario, which the call compiles and lowers for itself)
            seconds, result = timed(lambda: eip.plan(replace(inst.scenario) if cold else inst.scenario,
                                                     goal=args.goal, top_k=k, strategy=strategy,
                                                     label_budget=args.label_budget,
                                                     time_limit_s=args.eip_time_limit_s),
                                    args.repeats, budget, warm_up=not cold)
            proven = result.status in ("optimal", "infeasible")
            status = result.status if proven or not result.plans else f"gap {result.gap:.2%}"
            self.add(inst, label, k, seconds, result.best.score if result.best else math.inf, status,
                     labels=result.stats["labels_kept"])
            return seconds, [p.score for p in result.plans], proven

        t1, best1, proven1 = eip_row(1, "exact", "eip")
        t_cold, _, _ = eip_row(1, "exact", "eip cold", cold=True)
        tk, bestk, provenk = eip_row(args.top_k, "exact", "eip") if args.top_k > 1 else (t1, best1, proven1)
        t_beam = None
        if inst.family in BEAM_FAMILIES:
            t_beam, beam_scores, _ = eip_row(1, "beam", "eip beam")

        space = peers.search_space(model)
        runs = {
            "brute": (args.top_k, lambda: peers.brute_force(model, coef, args.top_k), space <= BRUTE_FORCE_LIMIT,
                      f"10^{len(str(space)) - 1} placements"),
            "seed": (args.top_k, lambda: peers.seed_bnb(inst.scenario, coef, args.top_k),
                     model.is_chain and not model.has_ways and model.n_stages * model.n_options <= SEED_TOOL_LIMIT,
                     "one way per device, chains only" if model.has_ways or not model.is_chain
                     else "minutes in pure Python"),
            "highs": (1, lambda: peers.highs_milp(model, coef, args.time_limit_s), True, ""),
            "cpsat": (1, lambda: peers.cpsat(model, coef, args.time_limit_s), model.is_chain and not model.fixed_mode.any(),
                      "chains without fixed modes only"),
        }
        for name in self.peer_names:
            k, solve, feasible_to_run, why = runs[name]
            label = PEERS[name][0]
            if not feasible_to_run:
                self.add(inst, label, k, math.nan, math.inf, f"skipped: {why}")
                continue
            seconds, answer = timed(solve, args.peer_repeats, budget)
            eip_seconds, reference, proven = (t1, best1, proven1) if k == 1 else (tk, bestk, provenk)
            if answer.proven:
                status = "infeasible" if not answer.scores else "optimal"
            elif answer.scores:
                status = answer.note if name == "seed" else f"gap {answer.gap:.2%}"
            else:
                status = answer.note or "no plan"
            self.add(inst, label, k, seconds, answer.best, status, eip_seconds=eip_seconds,
                     eip_cold_seconds=t_cold if k == 1 else None)
            self.check(inst, label, reference, proven, answer, k)
            if name == "highs" and t_beam is not None and answer.scores and beam_scores:
                gap = (beam_scores[0] - answer.best) / abs(answer.best)
                self.rows[-1].update(beam_gap_vs_highs=gap, highs_over_beam=seconds / t_beam)
                print(f"{'':<26} {'':<12} eip beam: {gap:+.3%} vs HiGHS's objective, HiGHS {seconds / t_beam:.1f}x the beam's time")

    def summary(self, family: str) -> None:
        rows = [r for r in self.rows if r["family"] == family]
        parts = []
        for solver in sorted({r["solver"] for r in rows if r["ratio_vs_eip"] is not None}):
            ratios = [r["ratio_vs_eip"] for r in rows if r["solver"] == solver and r["ratio_vs_eip"] is not None]
            cold = [r["ratio_vs_eip_cold"] for r in rows if r["solver"] == solver and r["ratio_vs_eip_cold"] is not None]
            parts.append(f"{solver} {statistics.median(ratios):.1f}x (geometric mean {statistics.geometric_mean(ratios):.1f}x, "
                         f"least {min(ratios):.2f}x" + (f"; against eip cold: geometric mean "
                                                        f"{statistics.geometric_mean(cold):.1f}x, least {min(cold):.2f}x"
                                                        if cold else "") + ")")
        eip_rows = [r for r in rows if r["solver"] == "eip" and r["k"] == 1]
        proven = sum(r["status"] in ("optimal", "infeasible") for r in eip_rows)
        median_ms = statistics.median(r["time_ms"] for r in eip_rows)
        cold_ms = statistics.median(r["time_ms"] for r in rows if r["solver"] == "eip cold")
        print(f"== {family}: eip top-1 median {median_ms:.3f} ms (cold {cold_ms:.3f} ms), proven {proven}/{len(eip_rows)}; "
              f"peer time / eip time (median): {', '.join(parts) or 'no peers'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help=f"comma list of {', '.join(FAMILIES)}")
    parser.add_argument("--seeds", type=int, default=2, help="generated instances per family")
    parser.add_argument("--peers", default="brute,seed,highs,cpsat")
    parser.add_argument("--goal", default="balanced")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20, help="timed eip calls per instance (at most)")
    parser.add_argument("--peer-repeats", type=int, default=5, help="timed peer calls per instance (at most)")
    parser.add_argument("--budget-s", type=float, default=3.0, help="time spent repeating one measurement (at most)")
    parser.add_argument("--time-limit-s", type=float, default=60.0, help="HiGHS / CP-SAT time limit per solve")
    parser.add_argument("--label-budget", type=int, default=eip.solve.DEFAULT_LABEL_BUDGET)
    parser.add_argument("--eip-time-limit-s", type=float, default=None, help="eip.plan time limit per solve")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "peers.json")
    parser.add_argument("--instances", type=Path, default=None,
                        help="folder of generated instances: read when there, written when generated")
    args = parser.parse_args(argv)
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [f for f in args.families if not _is_family(f)] + [p for p in args.peers if p not in PEERS]
    if unknown:
        parser.error(f"unknown family or peer: {unknown[0]}")

    run = Run(args)
    missing = sorted(set(args.peers) - set(run.peer_names))
    print(f"eip {eip.__version__}, Python {platform.python_version()}, {platform.machine()}; peers: "
          f"{', '.join(run.peer_names)}" + (f" (not installed: {', '.join(missing)}; pip install -e .[bench])" if missing else ""))
    eip.plan(SCENARIOS / "mobile_vision_pipeline.json")  # load the compiled kernels before timing
    print(run.HEADER)
    print("-" * len(run.HEADER))
    for family in args.families:
        for inst in instances([family], args.seeds, args.instances):
            run.instance(inst)
        run.summary(family)
    report = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "python": platform.python_version(), "numpy": np.__version__, "rows": run.rows, "mismatches": run.mismatches}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        tmp.replace(args.json)
        print(f"wrote {args.json}")
    if run.mismatches:
        print(f"{len(run.mismatches)} MISMATCHED OPTIMA", file=sys.stderr)
        return 1
    return 0
