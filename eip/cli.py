"""Command line: ``eip plan``, ``frontier``, ``sweep``, ``batch`` and ``validate`` (python-fire
dispatch, our own checks).

Exit status: 0 a plan was found (or the scenario is valid), 1 the scenario is proven
infeasible (for a batch: some scenarios failed), 2 bad input or usage, 3 an internal
error, 4 no plan was found before a time limit or label budget stopped the search (nothing
proven), 130 an interrupted batch; errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import builtins
import difflib
import inspect
import math
import os
import sys
import time
from pathlib import Path

import fire
import numpy as np
import orjson

from . import batch, explore
from . import __version__
from .costmodel import LimitKind
from .diagnose import quick_reason
from .report import FORMATS, render
from .report.explore import FORMATS as EXPLORE_FORMATS, render_summary as render_explore
from .report.tradeoff import FORMATS as TRADEOFF_FORMATS, render_frontier, render_sweep
from .errors import ScenarioError, printable
from .files import write_atomic
from .goals import GOAL_WEIGHTS, resolve_goal
from .kernels.contract import kernels_cached
from .lowering import waiting_outputs
from .scenario import load
from .solve import COUNT_LIMITS, DEFAULT_BEAM_WIDTH, DEFAULT_LABEL_BUDGET, STRATEGIES, check_time_limit, plan as plan_scenario
from .tradeoff import FRONTIER_AXES, FrontierTooLarge, frontier, sweep

MAIN_HELP = """usage: eip COMMAND [ARGS]

Edge Inference Planner: places each stage of an on-device AI pipeline on a device.

commands:
  plan SCENARIO      rank the best placements (exact optimum, alternatives, budgets' slack)
  frontier SCENARIO  every Pareto-optimal latency/energy plan
  sweep SCENARIO     the best plan over a grid of budgets (--max-latency-ms 20:40:0.5 ...)
  batch PATHS...     plan many scenario files on all cores, one result row each
  explore SCENARIOS  the best plan over a grid of hardware and budgets (--vary PATH=VALUES)
  validate SCENARIO  check a scenario and summarise it
  profile MODEL.onnx measure a model node by node with ONNX Runtime: a scenario to plan
  import FORMAT FILE merge a profiler's measurements of a device into a scenario

example:
  eip plan scenarios/mobile_vision_pipeline.json --goal balanced --top-k 3

Run 'eip plan --help' for the options.
"""

#: without --time-limit, the report's re-solves and frontier walk take at most the larger of
#: REPORT_MIN_S and REPORT_SOLVE_MULTIPLE times the solve: ways DAG 100x4 seed 2's default
#: report took 430 s after its 42 s solve (23 re-solves and a walk that each search until
#: their label budgets stop them); the profiled ResNet50's takes 12-36 s after 0.1 s
REPORT_MIN_S = 60.0
REPORT_SOLVE_MULTIPLE = 2.0

PLAN_HELP = f"""usage: eip plan SCENARIO [--goal balanced] [--top-k 3] [--strategy auto]
                     [--beam-width {DEFAULT_BEAM_WIDTH}] [--label-budget {DEFAULT_LABEL_BUDGET}]
                     [--time-limit SECONDS] [--no-sensitivity] [--format text] [--output PATH]

  --goal          latency | efficiency | balanced | throughput (default balanced)
  --top-k         how many ranked plans to show (default 3)
  --strategy      auto | exact | beam (default auto: exact when proven within the budget)
  --beam-width    labels kept per stage and device by the beam (default {DEFAULT_BEAM_WIDTH})
  --label-budget  labels the exact search may keep (default {DEFAULT_LABEL_BUDGET:,})
  --time-limit    seconds the whole command may take: the solve first (then the best plan
                  found with its proven gap, or none: status unknown), and the sensitivity
                  re-solves and the report's frontier walk share the rest (default: the
                  solve runs to the end, the report takes up to the larger of {REPORT_MIN_S:g} s and
                  {REPORT_SOLVE_MULTIPLE:g}x the solve)
  --no-sensitivity  skip re-solving each budget one step up and down (what a step is worth)
  --format        text | csv | json | md | html | trace (default text; trace: the best
                  plan's timeline as Chrome Trace Event JSON, for Perfetto or chrome://tracing)
  --output        write the report to PATH (atomically) instead of stdout

exit status: 0 plan found, 1 proven infeasible, 2 bad input or usage, 4 no plan found
before the time limit or label budget (unknown), 130 interrupted (Ctrl-C; during the
report, the report is written without its sensitivity re-solves and frontier)

example:
  eip plan scenarios/mobile_vision_pipeline.json --goal balanced --top-k 3 --format json
"""

FRONTIER_HELP = f"""usage: eip frontier SCENARIO [--axes latency,energy] [--goal balanced] [--max-plans N]
                         [--time-limit SECONDS] [--format text] [--output PATH]

Every plan that fits the scenario's budgets and that no other plan beats on both axes
(latency and energy unless --axes says otherwise), by increasing x; the goal's best plan
is marked. Walked from the least-y end, one exact solve per point (two when x is not
latency): when a solve stops at its label budget or the time limit, the points proven so
far are reported with the x range not walked.

  --axes          latency,energy | latency,accuracy | energy,accuracy (default latency,energy)
  --goal          whose score each plan shows and which is marked (default balanced)
  --max-plans     at most N plans, evenly spread along the frontier (default all)
  --label-budget  labels each exact solve may keep (default {DEFAULT_LABEL_BUDGET:,})
  --time-limit    seconds the whole walk may take (default none)
  --format        text | csv | json | html (default text)
  --output        write to PATH (atomically) instead of stdout

exit status: 0 at least one plan, 1 none fits, 2 bad input or usage, 4 stopped before
any point was proven
"""

SWEEP_HELP = f"""usage: eip sweep SCENARIO [--goal balanced] [--max-latency-ms A:B:STEP | V]
                      [--max-energy-mj A:B:STEP | V] [--memory DEVICE=A:B:STEP ...]
                      [--max-accuracy-loss A:B:STEP | V] [--frame-rate-hz A:B:STEP | V]
                      [--time-limit SECONDS] [--format text] [--output PATH]

The best plan at every point of a grid of budgets. A budget is one value, a range
START:STOP:STEP (STOP included) or a comma list; budgets not given keep the scenario's.

  --max-latency-ms, --max-energy-mj   the caps to sweep
  --memory        DEVICE=VALUES; repeat it or separate devices with ';'
  --max-accuracy-loss                 the accuracy budget (points) to sweep
  --frame-rate-hz the frame rate to sweep (its period caps every device's busy time, and
                  power limits become energy per frame at it)
  --goal          latency | efficiency | balanced | throughput (default balanced)
  --label-budget  labels each exact solve (or, sweeping both caps, the trade-off set of each
                  memory point) may create (default {DEFAULT_LABEL_BUDGET:,}); points a stopped
                  solve would have answered are reported as not answered
  --time-limit    seconds the whole sweep may take (default none)
  --format        text | csv | json | html (default text)
  --output        write to PATH (atomically) instead of stdout

exit status: 0 some point has a plan, 1 none fits, 2 bad input or usage, 4 no point was
answered before the time limit or label budget

example:
  eip sweep scenarios/mobile_vision_pipeline.json --max-latency-ms 20:40:0.5 --format csv
"""

def _run_options(row: str) -> str:
    """The options batch and explore share, in their help (``row``: what a row plans)."""
    return f"""  --goal          latency | efficiency | balanced | throughput (default balanced)
  --workers       processes planning at once (default: all {os.cpu_count() or 1} cores)
  --ray           plan on Ray: a local Ray started for the run (--workers CPUs), or the
                  cluster at ADDRESS (needs the 'cluster' extra)
  --resume        keep the rows already in --output and plan only the rest (failed rows again)
  --strategy      auto | exact | beam (default auto)
  --label-budget  labels the exact search may keep per {row} (default {DEFAULT_LABEL_BUDGET:,})
  --time-limit    seconds each {row}'s solve may take (default none)
"""


_PARQUET = """
                  .parquet: rows stream to OUTPUT.rows.jsonl, and the Parquet file is
                  written from it when the run ends (needs the 'parquet' extra)"""

BATCH_HELP = f"""usage: eip batch PATHS_OR_GLOBS... --output results.csv|.jsonl|.parquet [--goal balanced]
                      [--workers N] [--ray [ADDRESS]] [--resume] [--strategy auto]
                      [--label-budget {DEFAULT_LABEL_BUDGET}] [--time-limit SECONDS]

Plans every scenario file named (a file, a directory's *.json, or a quoted glob such as
'runs/**/*.json') and writes one row per scenario as it finishes: status, best score,
latency, energy, placement, or the error of a scenario that could not be planned. An
interrupted batch (Ctrl-C, SIGTERM) keeps every finished row.

  --output        results.csv, .jsonl or .parquet (rows in completion order; "index" is
                  the scenario's position in PATHS){_PARQUET}
{_run_options('scenario')}
exit status: 0 every scenario planned or proven infeasible, 1 some failed (see their
rows), 2 bad usage, 130 interrupted
"""

EXPLORE_HELP = f"""usage: eip explore SCENARIOS... --vary PATH=VALUES [--vary ...] --output rows.csv|.jsonl|.parquet
                        [--sample N] [--seed 0] [--goal balanced] [--workers N] [--ray [ADDRESS]]
                        [--resume] [--time-limit SECONDS] [--format text] [--summary-output FILE]
                        [--plan-each]

The best plan at every point of a grid over hardware and budgets: every combination of the
--vary values for every scenario file (or a random --sample of them), one row per point
written as it finishes, then a summary on stdout (or in --summary-output): per parameter,
the best plan at each value; per numeric parameter, the least value at which each scenario
has a plan, and the Pareto set of the parameter against latency and against energy.

  --vary          PATH=VALUES; repeat it. PATH steps into the scenario by keys and names:
                  devices.npu.memory_mb, links.gpu-npu.latency_ms_per_mb, constraints.frame_rate_hz,
                  stages.conv1.profiles.npu.latency_ms. VALUES: START:STOP:STEP (STOP
                  included), a comma list, or a JSON array of values (objects and lists
                  too: devices.cpu.power_modes='[[{{"name": "eco", ...}}], "absent"]');
                  'absent' removes what PATH names (a device with its ways and links),
                  'present' keeps it: devices.dsp=absent,present
  --output        rows.csv, .jsonl or .parquet (rows in completion order; "index" is the
                  point's place in the grid; the last parameter varies fastest){_PARQUET}
  --sample        plan N points drawn at random from the grid (--seed, default 0)
  --plan-each     plan every point on its own. By default, points of one file that
                  differ only in the latency cap (or the energy cap, whichever takes
                  more values) are answered by one exact sweep when there are at least
                  8 of them and a quarter of the cap's values (their rows say strategy
                  "sweep"): the same plans from fewer solves
{_run_options('point')}  --format        the summary as text | json | html (default text; html: charts of the best
                  score per parameter, a heatmap over two, the Pareto sets)
  --summary-output FILE: the summary goes there (written whole, atomically), not to stdout

exit status: 0 every point planned or proven infeasible, 1 some failed (see their rows),
2 bad usage, 130 interrupted

example:
  eip explore scenarios/yolov3_rk3399pro.json --vary devices.npu.memory_mb=32:64:4 \\
      --vary links.mali_gpu-npu.latency_ms_per_mb=5,10,20 --output yolo.csv
"""

PROFILE_HELP = """usage: eip profile MODEL.onnx --cpu-power-w W [--output scenario.json] [--device cpu]
                        [--threads 1] [--repeats 20] [--warmup 3] [--seed 0]
                        [--input-shape NAME=1,3,224,224] [--memory-mb MB]
                        [--estimate DEVICE=SPEC ...] [--groups groups.json]

Runs the model with ONNX Runtime on this machine's CPU (graph optimizations off, so every
profiled kernel is one node; warm-up runs, then the median of the repeats per node) and
writes a DAG scenario: one stage per node (constants folded), inputs from the graph,
output_mb from shape inference, memory_mb from the node's weights, the measured latency
and energy = latency x --cpu-power-w. Needs the 'profile' extra (onnx, onnxruntime).

  --cpu-power-w   the CPU's active power while it runs the model, in W (required)
  --output        write the scenario to PATH (atomically) instead of stdout
  --device        the measured device's name in the scenario (default cpu)
  --threads       ONNX Runtime intra-op threads (default 1)
  --repeats       measured runs (default 20); --warmup runs before them (default 3)
  --seed          of the random inputs (default 0)
  --input-shape   NAME=DIMS for an input with dynamic dimensions; repeat it or separate with ';'
  --memory-mb     the measured device's memory budget (default: the whole model's weights)
  --estimate      DEVICE=SPEC: a device nobody measured, costed by a roofline (SPEC: a JSON
                  file or object with peak_gflops (a number, or per precision: fp32, fp16,
                  int8...), bandwidth_gbs, power_w, and optionally overhead_ms, memory_mb,
                  ops, accuracy_loss per precision, link_latency_ms_per_mb,
                  link_energy_mj_per_mb); repeat it for several devices. Its ways are
                  marked estimated, and the roofline's error on the measured CPU is printed.
  --groups        a JSON file {"group name": ["node", ...]}: nodes to merge into one stage
                  each (the layers an accelerator's runtime fuses)

example:
  eip profile resnet50.onnx --cpu-power-w 15 --estimate npu=npu.json --output resnet50.json
"""

IMPORT_HELP = """usage: eip import FORMAT FILE --into scenario.json [--device NAME] [--output PATH]
                       [--power-w W] [--memory-mb MB] [--link DEVICE=MS_PER_MB,MJ_PER_MB ...]
                       [--groups groups.json] [--layer-info layers.json] [--dla-device NAME]
                       [--select COLUMN=VALUE ...]

Merges one device's measurements into a scenario by stage name (a new scenario when
--into does not exist yet: the file's entries as stages, in its order). An entry whose
layers span several stages (TensorRT's fused 'a + b', a DLA's '{a,b,...}') merges them
into one stage first, so every device covers the same stages. What matches no stage, and
every stage left without a measurement on the device, is reported on stderr.

formats:
  ort      ONNX Runtime profile JSON (SessionOptions.enable_profiling): median per node
  trtexec  TensorRT 'trtexec --exportProfile' JSON; --layer-info adds the
           '--exportLayerInfo' JSON (operator types, output sizes, edges)
  tflite   TFLite / LiteRT 'benchmark_model --enable_op_profiling' CSV output
  csv      stage,device,latency_ms,energy_mj|power_mw,memory_mb[,variant,mode,output_mb],
           or CO-UP's Layers.csv (Graph,Component,...: pick rows with --select Graph=YOLOv3
           --select Component=B; the top frequency unless --select Freq=...)

  --into          the scenario to merge into (created when it does not exist)
  --device        the device the file measured (rows with a device column keep theirs)
  --output        write the merged scenario to PATH (default: --into, atomically)
  --power-w       energy = W x latency, for files without energy figures
  --memory-mb     a new device's memory budget (default: every stage it runs, at once)
  --link          DEVICE=MS_PER_MB,MJ_PER_MB: a link from a new device to DEVICE; repeat it
  --groups        a JSON file {"group name": ["stage", ...]}: stages to merge first
  --dla-device    the device of the layers a TensorRT profile ran on a DLA ('{...}' entries)
  --select        COLUMN=VALUE: CSV rows to keep; repeat it

example:
  eip import trtexec gpu.profile --device gpu --power-w 10 --into googlenet.json
"""

VALIDATE_HELP = """usage: eip validate SCENARIO

Checks a scenario file and prints its stages, devices, links, caps and search space size,
and whether a quick check proves it has no plan (a stage no placement reaches or no
device's memory holds, a limit every plan breaks on its own; eip plan proves the rest).
exit status: 0 valid, 1 valid but proven to have no plan, 2 invalid (the first error, with
its JSON path)
"""


#: exit status of a search stopped by its time limit or label budget before any plan
EXIT_UNKNOWN = 4
#: exit status of a command interrupted (Ctrl-C), as a shell reports SIGINT
EXIT_INTERRUPTED = 130



class UsageError(ValueError):
    """A command line that cannot be run as given."""


def _plan(scenario: str, goal: str = "balanced", top_k: int = 3, strategy: str = "auto",
          beam_width: int = DEFAULT_BEAM_WIDTH, label_budget: int = DEFAULT_LABEL_BUDGET, time_limit=None,
          no_sensitivity: bool = False, format: str = "text", output: str | None = None) -> None:
    goal = _goal(goal)
    _check_choice("strategy", strategy, tuple(STRATEGIES))
    _check_choice("format", format, FORMATS)
    top_k, beam_width, label_budget = (_count(flag, value) for flag, value in (
        ("--top-k", top_k), ("--beam-width", beam_width), ("--label-budget", label_budget)))
    sensitivity = not _switch("--no-sensitivity", no_sensitivity)
    limit_s = _time_limit(time_limit)
    started = time.perf_counter()
    result = plan_scenario(load(scenario), goal=goal, top_k=top_k, strategy=strategy, beam_width=beam_width,
                           label_budget=label_budget, time_limit_s=limit_s)
    solved = time.perf_counter()
    # --time-limit is the whole command's (the plan first, its report after); without it the report is bounded
    left_s = max(started + limit_s - solved, 0.0) if math.isfinite(limit_s) else \
        max(REPORT_MIN_S, REPORT_SOLVE_MULTIPLE * (solved - started))
    try:
        body = _with_progress("re-solve", lambda progress: render(
            result, format, sensitivity=sensitivity, time_limit_s=left_s, progress=progress), leave=False)
    except KeyboardInterrupt:  # the plan is worth keeping: the report without its what-ifs
        _emit(render(result, format, sensitivity=False), output)
        _say("interrupted: the report is written without its sensitivity re-solves and frontier")
        raise SystemExit(EXIT_INTERRUPTED) from None
    _emit(body, output)
    if not result.plans:
        _say(f"no plan: {result.reason}")
        raise SystemExit(EXIT_UNKNOWN if result.status == "unknown" else 1)


def _frontier(scenario: str, goal: str = "balanced", max_plans: int | None = None,
              label_budget: int = DEFAULT_LABEL_BUDGET, time_limit=None, format: str = "text",
              output: str | None = None, axes="latency,energy") -> None:
    goal = _goal(goal)
    names = tuple(a.strip() for a in str(axes).split(","))
    _check_choice("axes", ",".join(names), tuple(",".join(a) for a in FRONTIER_AXES))
    _check_choice("format", format, TRADEOFF_FORMATS)
    if max_plans is not None:
        max_plans = _count("--max-plans", max_plans)
    label_budget = _count("--label-budget", label_budget)
    front = frontier(load(scenario), max_plans=max_plans, goal=goal, label_budget=label_budget,
                     time_limit_s=_time_limit(time_limit), axes=names)
    _emit(render_frontier(front, format), output)
    if not front.complete:
        _say(f"warning: the frontier is incomplete: {front.reason}")
    if not front.plans:
        _say("no plan fits the budgets" if front.complete else "no frontier point proven")
        raise SystemExit(1 if front.complete else EXIT_UNKNOWN)


def _sweep(scenario: str, goal: str = "balanced", max_latency_ms=None, max_energy_mj=None, memory=None,
           label_budget: int = DEFAULT_LABEL_BUDGET, time_limit=None, format: str = "text",
           output: str | None = None, max_accuracy_loss=None, frame_rate_hz=None) -> None:
    goal = _goal(goal)
    _check_choice("format", format, TRADEOFF_FORMATS)
    label_budget = _count("--label-budget", label_budget)
    memory_mb = {}
    for item in _items(memory):
        device, _, values = item.partition("=")
        if not values:
            raise UsageError(f"--memory expects DEVICE=VALUES, got {item!r}")
        memory_mb[device.strip()] = _values(f"--memory {device.strip()}", values)
    result = sweep(load(scenario), goal=goal, max_latency_ms=_values("--max-latency-ms", max_latency_ms),
                   max_energy_mj=_values("--max-energy-mj", max_energy_mj), memory_mb=memory_mb, label_budget=label_budget,
                   time_limit_s=_time_limit(time_limit),
                   max_accuracy_loss=_values("--max-accuracy-loss", max_accuracy_loss),
                   frame_rate_hz=_values("--frame-rate-hz", frame_rate_hz))
    _emit(render_sweep(result, format), output)
    if result.reason:
        _say(f"warning: {int((~result.answered).sum())} grid points not answered: {result.reason}")
    if not result.feasible.any():
        _say("no grid point has a plan that fits" if result.answered.any() else "no grid point answered")
        raise SystemExit(1 if result.answered.any() else EXIT_UNKNOWN)


def _batch(*paths: str, output: str | None = None, goal: str = "balanced", workers: int | None = None,
           resume: bool = False, strategy: str = "auto", label_budget: int = DEFAULT_LABEL_BUDGET,
           time_limit=None, ray=False) -> None:
    goal = _goal(goal)
    ray_address = _ray_address(ray)
    _check_choice("strategy", strategy, tuple(STRATEGIES))
    label_budget = _count("--label-budget", label_budget)
    workers = _count("--workers", (os.cpu_count() or 1) if workers is None else workers, 1024)
    resume = _switch("--resume", resume)
    if not output:
        raise UsageError("--output is required: a .csv, .jsonl or .parquet file for the result rows")
    if not paths:
        raise UsageError("no scenario given: name files, directories or globs")
    files, unmatched = batch.expand(str(p) for p in paths)
    for pattern in unmatched:
        _say(f"warning: {pattern} matched no scenario file")
    if not files:
        raise UsageError("no scenario file matched")
    summary = _with_progress("scenario", lambda progress: batch.run(
        files, output, goal=goal, strategy=strategy, label_budget=label_budget, time_limit_s=_time_limit(time_limit),
        workers=workers, resume=resume, progress=progress, ray_address=ray_address))
    _say(f"{summary.line('scenarios')}; rows in {output}")
    _exit_for(summary)


def _explore(*paths: str, vary=None, output: str | None = None, sample=None, seed="0", goal: str = "balanced",
             workers: int | None = None, ray=False, resume: bool = False, strategy: str = "auto",
             label_budget: int = DEFAULT_LABEL_BUDGET, time_limit=None, format: str = "text",
             summary_output: str | None = None, plan_each=False) -> None:
    goal = _goal(goal)
    _check_choice("strategy", strategy, tuple(STRATEGIES))
    _check_choice("format", format, EXPLORE_FORMATS)
    label_budget = _count("--label-budget", label_budget)
    workers = _count("--workers", (os.cpu_count() or 1) if workers is None else workers, 1024)
    sample = None if sample is None else _count("--sample", sample, explore.MAX_POINTS)
    seed = _count("--seed", seed, 2**63 - 1, low=0)
    resume = _switch("--resume", resume)
    plan_each = _switch("--plan-each", plan_each)
    ray_address = _ray_address(ray)
    if not output:
        raise UsageError("--output is required: a .csv, .jsonl or .parquet file for the result rows")
    if not paths:
        raise UsageError("no scenario given: name one or more scenario files")
    if vary is None:
        raise UsageError("--vary PATH=VALUES is required (e.g. --vary devices.npu.memory_mb=1024:4096:256)")
    parameters = [explore.parse_parameter(item) for item in _items(vary, semicolons=False)]
    if len({p.path for p in parameters}) < len(parameters):
        raise UsageError("--vary: a path is given twice")
    summary = _with_progress("point", lambda progress: explore.run(
        [str(p) for p in paths], parameters, output, goal=goal, strategy=strategy, label_budget=label_budget,
        time_limit_s=_time_limit(time_limit), workers=workers, resume=resume, sample=sample, seed=seed,
        progress=progress, ray_address=ray_address, sweeps=not plan_each))
    _say(f"{summary.line('points')}; rows in {output}")
    _emit(render_explore(explore.summarize(explore.read_rows(output, parameters), parameters), format), summary_output)
    _exit_for(summary)


def _exit_for(summary: batch.BatchSummary) -> None:
    """A batch's or an exploration's exit status: 130 interrupted, 1 some rows failed."""
    if summary.interrupted:
        raise SystemExit(130)
    if summary.failed:
        raise SystemExit(1)


def _with_progress(unit: str, work, leave: bool = True):
    """``work(progress)`` under a tqdm bar on stderr when it is a terminal (cleared at the
    end unless ``leave``)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the pool forks, and forking with threads risks deadlock
    with tqdm(total=0, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty(), leave=leave) as bar:
        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total)
            bar.update(done - bar.n)

        return work(progress)


def _ray_address(value) -> str | None:
    """--ray: None when not given, "" bare (a Ray started for the run), else the address."""
    text = str(value)
    return None if text.lower() == "false" else "" if text.lower() == "true" else text


def _items(value, semicolons: bool = True) -> list[str]:
    """The items of a repeatable flag (``REPEATABLE``: its values joined by ``_JOIN``), each
    also split at ';' with ``semicolons`` (a value of --vary may be JSON holding one)."""
    if value is None:
        return []
    items = [part for item in (value if isinstance(value, (list, tuple)) else [value])
             for part in str(item).split(_JOIN)]
    return [part for item in items for part in (item.split(";") if semicolons else [item]) if part.strip()]


def _values(flag: str, text):
    """A budget flag's value: None, one number, START:STOP:STEP (STOP included) or a comma list."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if isinstance(text, (list, tuple)):
        text = ",".join(map(str, text))
    text = str(text)
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > 10_000_000:
                raise UsageError(f"{flag}: {count:,} values is too many")
            return start + step * np.arange(count)
        if "," in text:
            return np.array([float(x) for x in text.split(",") if x.strip()])
        return float(text)
    except ValueError:
        raise UsageError(f"{flag} expects a number, START:STOP:STEP with STEP > 0, or a comma list; got {text!r}") from None


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"unknown {name} {_shown(value)}; choose {', '.join(choices[:-1])} or {choices[-1]}")


def _count(flag: str, value, maximum: int | None = None, low: int = 1) -> int:
    """A whole number from ``low`` to ``maximum`` (the API's own limit for the solver's
    counts), given as text ("1e6", "1_000" included) or as a number."""
    maximum = COUNT_LIMITS.get(flag[2:].replace("-", "_"), 10**9) if maximum is None else maximum
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            parsed = float(value.replace("_", ""))
            number = int(parsed) if math.isfinite(parsed) and parsed == int(parsed) else None
        except ValueError:
            pass
    if number is None or not low <= number <= maximum:
        raise UsageError(f"{flag} expects a whole number from {low} to {maximum:,}, got {_shown(value)}")
    return number


def _time_limit(value) -> float:
    """--time-limit as seconds (inf when not given), checked by the API's own rule."""
    try:
        return check_time_limit(None if value is None else float(value))
    except (TypeError, ValueError):
        raise UsageError(f"--time-limit expects a number of seconds > 0, got {_shown(value)}") from None


def _switch(flag: str, value) -> bool:
    """A flag that takes no value (``--flag``), or says so (``--flag=true``/``false``)."""
    text = str(value).lower()
    if text not in ("true", "false"):
        raise UsageError(f"{flag} takes no value, got {_shown(value)}")
    return text == "true"


def _goal(value):
    """--goal: a goal's name, or custom weights ``latency=1,energy=0.5,switch=0[,accuracy=1]``."""
    text = str(value)
    if "=" not in text:
        _check_choice("goal", text, tuple(GOAL_WEIGHTS))
        return text
    weights = {}
    for item in text.split(","):
        key, _, number = item.partition("=")
        try:
            weights[key.strip()] = float(number)
        except ValueError:
            raise UsageError(f"--goal expects a goal name or WEIGHT=NUMBER,...; got {_shown(value)}") from None
    try:
        resolve_goal(weights)
    except ValueError as exc:
        raise UsageError(f"--goal: {exc}") from None
    return weights


def _shown(value) -> str:
    """A value as an error message quotes it: one line, at most 60 characters."""
    text = printable(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _validate(scenario: str) -> None:
    sc = load(scenario)
    print = lambda text: builtins.print(printable(text))  # names are untrusted: one line each, no escapes
    model = sc.cost_model
    options = np.isfinite(model.exec_ms).sum(axis=1).tolist()
    space = 1
    for n in options:
        space *= n
    print(f"{scenario}: valid")
    print(f"Pipeline: {sc.name} ({len(sc.stages)} stages, {len(sc.devices)} devices, {len(sc.links)} links)")
    print("Devices: " + ", ".join(f"{d.name} ({d.memory_mb:g} MB" + (f", {len(d.power_modes)} {d.mode_policy} modes"
                                                                   if d.power_modes else "") + ")" for d in sc.devices))
    limits = [f"{limit.name} {limit.value:g} {limit.unit}" for limit in model.limits
              if limit.value < np.inf and limit.kind != LimitKind.MEMORY]
    print("Limits: " + ("; ".join(limits) or "none"))
    what = "ways (device x variant x mode)" if model.has_ways else "devices"
    count = f"{space:,}" if space < 10**15 else f"about 10^{len(str(space)) - 1}"
    per_stage = ", ".join(map(str, options)) if len(options) <= 30 else f"{min(options)} to {max(options)}"
    print(f"Search space: {count} placements ({what} per stage: {per_stage})")
    if model.mode_assignments.shape[0] > 1:
        print(f"Fixed modes: {model.mode_assignments.shape[0]} mode assignments, each searched for the plans "
              "the ones before it do not hold")
    if not model.is_chain:
        graph, sources = model.graph, sum(not inputs for inputs in model.inputs)
        print(f"Graph: {len(model.edges)} edges, {sources} source{'s' * (sources != 1)}; at most "
              f"{waiting_outputs(model)} outputs wait for readers at once in the listed order; "
              f"{graph.opt_use.shape[0]:,} planning states (at most {int(np.diff(graph.step_start).max()):,} per stage)"
              + ("; too wide to plan exactly: relaxed" if model.relaxed else ""))
    print(f"Baselines: {model.baselines[0]:g} ms, {model.baselines[1]:g} mJ (sums of each stage's cheapest)")
    reason = quick_reason(model)
    if reason is not None:
        print(f"No plan: {reason}")
        raise SystemExit(1)


def _profile(model: str, cpu_power_w=None, output: str | None = None, device: str = "cpu", threads: int = 1,
             repeats: int = 20, warmup: int = 3, seed: int = 0, input_shape=None, memory_mb=None, estimate=None,
             groups: str | None = None) -> None:
    from .profile import profile_onnx

    power = _one_number("--cpu-power-w", cpu_power_w)
    if power is None:
        raise UsageError("--cpu-power-w is required: the CPU's active power (W) while it runs the model; "
                         "energy = power x latency")
    threads, repeats = _count("--threads", threads, 1024), _count("--repeats", repeats, 1_000_000)
    warmup, seed = _count("--warmup", warmup, 1_000_000, low=0), _count("--seed", seed, 2**63 - 1, low=0)
    shapes = {}
    for item in _items(input_shape):
        name, _, dims = item.partition("=")
        try:
            shapes[name.strip()] = [int(d) for d in dims.split(",")]
        except ValueError:
            raise UsageError(f"--input-shape expects NAME=DIM,DIM,..., got {item!r}") from None
    specs = {}
    for item in _items(estimate):
        name, _, spec = item.partition("=")
        if not spec:
            raise UsageError(f"--estimate expects DEVICE=SPEC (a JSON file or object), got {item!r}")
        specs[name.strip()] = spec
    prof = profile_onnx(model, cpu_power_w=power, device=device, threads=threads, repeats=repeats, warmup=warmup,
                        input_shapes=shapes, seed=seed, estimate=specs, groups=_read_groups(groups),
                        memory_mb=_one_number("--memory-mb", memory_mb))
    measured = prof.measurement
    _say(f"{len(prof.graph.nodes)} stages; summed node medians {sum(measured.node_ms.values()):.2f} ms, "
         f"whole run {measured.run_ms:.2f} ms (median of {measured.repeats})")
    if prof.calibration is not None:
        _say(prof.calibration.describe())
    _emit(orjson.dumps(prof.document, option=orjson.OPT_INDENT_2) + b"\n", output)


def _import(format: str, file: str, into: str | None = None, device: str | None = None, output: str | None = None,
            power_w=None, memory_mb=None, link=None, groups: str | None = None, layer_info: str | None = None,
            dla_device: str | None = None, select=None) -> None:
    from .profile import FORMATS as PROFILE_FORMATS, import_profile

    _check_choice("format", format, tuple(PROFILE_FORMATS))
    if not into:
        raise UsageError("--into is required: the scenario to merge into (created when it does not exist)")
    links = {}
    for item in _items(link):
        other, _, costs = item.partition("=")
        try:
            ms, mj = (float(x) for x in costs.split(","))
        except ValueError:
            raise UsageError(f"--link expects DEVICE=MS_PER_MB,MJ_PER_MB, got {item!r}") from None
        links[other.strip()] = (ms, mj)
    selected = {}
    for item in _items(select):
        column, _, value = item.partition("=")
        selected[column.strip()] = value
    document, reports = import_profile(
        format, file, into=into if Path(into).exists() else None, device=device,
        power_w=_one_number("--power-w", power_w), memory_mb=_one_number("--memory-mb", memory_mb), links=links,
        groups=_read_groups(groups), layer_info=layer_info, select=selected, dla_device=dla_device)
    for report in reports:
        for line in report.lines():
            _say(line)
    _emit(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n", output or into)


def _read_groups(path: str | None) -> dict | None:
    """A --groups file: {"group name": ["stage", ...]}, or None without one."""
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            groups = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UsageError(f"--groups {path}: cannot read a JSON object ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(groups, dict) or not all(isinstance(v, list) and all(isinstance(m, str) for m in v)
                                               for v in groups.values()):
        raise UsageError(f'--groups {path}: expected {{"group name": ["stage", ...], ...}}')
    return groups


def _one_number(flag: str, value) -> float | None:
    """A flag's one number >= 0 (None when the flag is not given)."""
    number = _values(flag, value)
    if number is not None and (not isinstance(number, float) or not number >= 0):
        raise UsageError(f"{flag} expects one number >= 0, got {_shown(value)}")
    return number


def _say(text: str) -> None:
    """A line on stderr, prefixed and printable whatever the names in it hold."""
    print(f"eip: {printable(text)}", file=sys.stderr)


def _emit(body: bytes, output: str | None) -> None:
    """Write a report to stdout, or atomically to ``output`` as a shell redirect would: the
    mode ``umask`` gives a new file (an existing file keeps its own), through a symlink to
    its target."""
    if output is None:
        try:
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left (eip plan S | head): not an error; write no more
            _quiet_stdout()
        return
    try:
        write_atomic(output, body)
    except OSError as exc:
        raise UsageError(f"cannot write {printable(str(output))}: {exc.strerror or exc}") from None
    _say(f"wrote {output} ({len(body):,} bytes)")


def _quiet_stdout() -> None:
    """Send what is left for stdout nowhere: its reader has gone (a closed pipe)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _check_flags(fn, args: list[str]) -> None:
    """Reject before anything runs (fire would run first, then complain): unknown flags,
    short options, and a flag that takes a value given none."""
    params = inspect.signature(fn).parameters
    for i, arg in enumerate(args):
        if arg.startswith("--"):
            name, eq, _ = arg[2:].partition("=")
            key = name.replace("-", "_")
            if key not in params or params[key].kind == inspect.Parameter.VAR_POSITIONAL:
                close = difflib.get_close_matches(key, list(params), n=1)
                hint = f"; did you mean --{close[0].replace('_', '-')}?" if close else ""
                raise UsageError(f"unknown option --{printable(name)}{hint}")
            bare = not eq and (i + 1 == len(args) or args[i + 1].startswith("--"))
            if bare and not isinstance(params[key].default, bool):
                raise UsageError(f"--{name} expects a value")
        elif arg.startswith("-") and len(arg) > 1 and not _is_number(arg):
            long = [p for p in params if arg[1:2] in [word[:1] for word in p.split("_")]]
            hint = f"; did you mean --{long[0].replace('_', '-')}?" if long else ""
            raise UsageError(f"unknown option {printable(arg)}: eip's options are long (--name){hint}")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


COMMANDS = {"plan": (_plan, PLAN_HELP), "frontier": (_frontier, FRONTIER_HELP), "sweep": (_sweep, SWEEP_HELP),
            "batch": (_batch, BATCH_HELP), "explore": (_explore, EXPLORE_HELP), "validate": (_validate, VALIDATE_HELP), "profile": (_profile, PROFILE_HELP),
            "import": (_import, IMPORT_HELP)}
for _fn, _ in COMMANDS.values():
    # every value reaches us as the text typed ('123' a file name, '1e6' a count): fire's
    # literal parsing would make it an int, a bool or None first; our checks convert
    fire.decorators.SetParseFn(str)(_fn)


#: flags that may be given several times (fire keeps only the last): joined with _JOIN
REPEATABLE = ("memory", "estimate", "input_shape", "link", "select", "vary")
_JOIN = "\x1f"  # the ASCII unit separator: no value typed on a command line holds it


def _join_repeated(args: list[str]) -> list[str]:
    """``args`` with every repeatable flag given once, its values joined by ``_JOIN``."""
    out: list[str] = []
    slot: dict[str, int] = {}  # flag -> the index of its value in ``out``
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        key = name.replace("-", "_")
        if key in REPEATABLE and (eq or i + 1 < len(args)):
            if not eq:
                i += 1
                value = args[i]
            if key in slot:
                out[slot[key]] += _JOIN + value
            else:
                out.append(f"--{key}")
                slot[key] = len(out)
                out.append(value)
        else:
            out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(MAIN_HELP, end="")
        raise SystemExit(0 if args else 2)
    if args[0] in ("--version", "-V", "version"):
        print(f"eip {__version__}")
        raise SystemExit(0)
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"eip: unknown command {_shown(command)}; choose {', '.join(COMMANDS)} (see 'eip --help')", file=sys.stderr)
        raise SystemExit(2)
    fn, help_text = COMMANDS[command]
    if any(a in ("-h", "--help") for a in rest) or not rest:
        print(help_text, end="")
        raise SystemExit(0 if rest else 2)
    try:
        _check_flags(fn, rest)
        if command not in ("profile", "import") and not kernels_cached():
            print("eip: compiling the planning kernels (once per install, 5 to 8 minutes on 2 cores)...", file=sys.stderr,
                  flush=True)
        # fire parses the flags (--top-k and --top_k alike); values are checked by us
        fire.Fire(fn, command=_join_repeated(rest), name=f"eip {command}")
    except (ScenarioError, UsageError, ValueError, FrontierTooLarge) as exc:
        _say(str(exc))
        raise SystemExit(2) from None
    except BrokenPipeError:  # stdout's reader left: not an error
        _quiet_stdout()
        raise SystemExit(0) from None
    except fire.core.FireExit as exc:
        raise SystemExit(2 if exc.code else 0) from None
    except KeyboardInterrupt:
        print("eip: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # a bug of ours: still one line, and a status of its own
        print(f"eip: internal error ({type(exc).__name__}: {printable(str(exc))}); please report it with the scenario",
              file=sys.stderr)
        raise SystemExit(3) from None
