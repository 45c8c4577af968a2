"""Design-space exploration: the best plan at every point of a grid over hardware and budgets.

A *parameter* is a JSON path into a scenario document and the values it takes
(``devices.npu.memory_mb=1024:4096:256``, ``links.gpu-npu.latency_ms_per_mb=0.02,0.05``,
``devices.dsp=absent,present``, ``constraints.frame_rate_hz=15:60:5``). A *point* is one
scenario file with one value of every parameter; the grid is every combination over every
file (or a seeded random sample of it). Each point is planned exactly like ``eip.plan``
(top 1) and gives one result row, written as it finishes, so an interrupted exploration
keeps its rows and resumes where it stopped (``eip.batch`` runs the rows: a process pool,
or a Ray cluster).

Paths: dots separate the steps; in a list, a step names the element whose ``name`` it is
(``devices.npu``, ``stages.conv1``), or for ``links`` its ``source-target`` (or
``target-source`` when no link runs that way).
The last step may name a key the document does not have yet (it is added). ``absent``
removes what the path names; a device removed takes its ways and links with it.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import orjson

from . import batch
from .diagnose import infeasibility_reason
from .errors import ScenarioError
from .goals import Goal, resolve_goal
from .result import PlanResult
from .scenario import Scenario, read_document
from .solve import DEFAULT_LABEL_BUDGET, check_time_limit, plan
from .tradeoff import UNANSWERED, FrontierTooLarge, sweep

#: the value that removes what a path names; PRESENT keeps the document's own
ABSENT, PRESENT = "absent", "present"
#: at most this many grid points (a grid past it is a mistake, not an exploration)
MAX_POINTS = 10_000_000


class PathError(ValueError):
    """A parameter's path or value does not apply to a scenario document."""


@dataclass(frozen=True)
class Parameter:
    """One varied value: a JSON path and the values it takes (numbers, strings, or
    ``ABSENT`` / ``PRESENT``)."""

    path: str
    values: tuple

    @property
    def numeric(self) -> bool:
        """Whether every value is a number (then summaries can look for the least that works)."""
        return all(isinstance(v, float) for v in self.values)


class JsonValue(str):
    """A value that is a JSON object, list, true, false or null, held as its compact JSON
    text (hashable; a row's cell holds the text, which compares equal to it)."""

    @property
    def value(self):
        """The value itself (a fresh copy each time)."""
        return orjson.loads(str(self))  # orjson reads str itself, not its subclasses


def parse_parameter(text: str) -> Parameter:
    """``PATH=VALUES``: VALUES a range ``START:STOP:STEP`` (STOP included), a comma list of
    numbers and words (``absent``, ``present``, a name), or a JSON array of values (numbers,
    strings, objects, lists: ``[[{"name": "eco", ...}], "absent"]``). ValueError on anything else."""
    path, eq, values = str(text).partition("=")
    path = path.strip()
    if not eq or not path or not values.strip():
        raise ValueError(f"--vary expects PATH=VALUES (e.g. devices.npu.memory_mb=1024:4096:256), got {text!r}")
    if any(not step for step in path.split(".")):
        raise ValueError(f"--vary {path}: a path is steps separated by single dots")
    if values.lstrip().startswith("["):
        return Parameter(path, _json_values(path, values))
    if ":" in values:
        try:
            start, stop, step = (float(x) for x in values.split(":"))
        except ValueError:
            raise ValueError(f"--vary {path}: a range is START:STOP:STEP, got {values!r}") from None
        if not (math.isfinite(start) and math.isfinite(stop) and step > 0 and stop >= start):
            raise ValueError(f"--vary {path}: a range needs STEP > 0 and STOP >= START, got {values!r}")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > MAX_POINTS:
            raise ValueError(f"--vary {path}: {count:,} values is too many")
        return Parameter(path, tuple(float(v) for v in start + step * np.arange(count)))
    items = [item.strip() for item in values.split(",") if item.strip()]
    if not items:
        raise ValueError(f"--vary {path}: no values in {values!r}")
    return Parameter(path, tuple(dict.fromkeys(_number_or_word(item) for item in items)))


def _json_values(path: str, text: str) -> tuple:
    """The values of a JSON array: numbers as floats, strings as words, anything else a
    ``JsonValue``."""
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"--vary {path}: the values are not a JSON array ({exc})") from None
    if not isinstance(items, list) or not items:
        raise ValueError(f"--vary {path}: expected a non-empty JSON array of values")
    values = []
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            values.append(_number_or_word(str(item)))
        elif isinstance(item, str):
            values.append(item)
        else:
            values.append(JsonValue(orjson.dumps(item).decode()))
    return tuple(dict.fromkeys(values))


def _number_or_word(item: str):
    try:
        number = float(item)
    except ValueError:
        return item
    if not math.isfinite(number):
        raise ValueError(f"--vary: {item!r} is not a finite number")
    return number


@dataclass(frozen=True)
class Point:
    """One grid point: its position in the grid, the scenario file and a value per parameter."""

    index: int
    path: str
    values: tuple


def grid(paths: Sequence[str], parameters: Sequence[Parameter], sample: int | None = None,
         seed: int = 0) -> list[Point]:
    """Every combination of the parameters' values for every file, in order (the last
    parameter varies fastest); with ``sample``, that many of them drawn at random without
    replacement (``seed``), kept in grid order."""
    for name, value, least in (("sample", 1 if sample is None else sample, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    sizes = [len(paths)] + [len(p.values) for p in parameters]
    total = math.prod(sizes)
    if total > MAX_POINTS and sample is None:
        raise ValueError(f"the grid has {total:,} points (at most {MAX_POINTS:,}); draw a --sample of it")
    if total >= 2**62:  # past what a sample can index
        raise ValueError(f"the grid has {total:.3g} points: too many even to sample (vary fewer values)")
    if sample is None or sample >= total:
        chosen: Iterable[int] = range(total)
    else:
        rng = np.random.default_rng(seed)
        chosen = sorted(int(i) for i in rng.choice(total, size=sample, replace=False))
    points = []
    for index in chosen:
        digits = np.unravel_index(index, sizes)
        values = tuple(p.values[int(d)] for p, d in zip(parameters, digits[1:]))
        points.append(Point(index, paths[int(digits[0])], values))
    return points


def apply(doc: dict, parameters: Sequence[Parameter], values: Sequence) -> dict:
    """A copy of the scenario document ``doc`` with every parameter set to its value."""
    out = orjson.loads(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY))  # a deep copy, 7x faster than copy.deepcopy
    for parameter, value in zip(parameters, values):
        _set(out, parameter.path, value)
    return out


def _set(doc: dict, path: str, value) -> None:
    steps = path.split(".")
    parent = doc
    for depth, step in enumerate(steps[:-1]):
        parent = _child(parent, step, ".".join(steps[:depth + 1]))
    last = steps[-1]
    if value == PRESENT:
        _child(parent, last, path)  # it must exist to be kept
        return
    if value == ABSENT:
        if isinstance(parent, list):
            parent.remove(_child(parent, last, path))
            if steps[:-1] == ["devices"]:
                _drop_device(doc, last)
        elif last in parent:
            del parent[last]
        return
    if isinstance(parent, list):
        raise PathError("names a list element; only 'absent' or 'present' can replace it")
    if not isinstance(parent, dict):
        raise PathError(f"{'.'.join(steps[:-1])} is not an object")
    parent[last] = value.value if isinstance(value, JsonValue) else value


def _child(node, step: str, where: str):
    """The element ``step`` names in ``node`` (a key of an object, or a named list element)."""
    if isinstance(node, dict):
        if step not in node:
            raise PathError(f"{where}: no such key (there: {', '.join(map(str, node)) or 'none'})")
        return node[step]
    if isinstance(node, list):
        items = [item for item in node if isinstance(item, dict)]
        # a one-way link a-b is named a-b; b-a names it only when there is no link b -> a
        for named in (lambda i: i.get("name") == step or _link_name(i) == step, lambda i: _link_name(i, True) == step):
            for item in items:
                if named(item):
                    return item
        raise PathError(f"{where}: no element named {step!r}")
    raise PathError(f"{where}: cannot step into a {type(node).__name__}")


def _link_name(item: dict, reverse: bool = False) -> str | None:
    """A link's ``source-target`` (``target-source`` with ``reverse``); None for other items."""
    source, target = item.get("source"), item.get("target")
    if not (isinstance(source, str) and isinstance(target, str)):
        return None
    return f"{target}-{source}" if reverse else f"{source}-{target}"


def _drop_device(doc: dict, device: str) -> None:
    """Remove a device's ways and links along with it."""
    for stage in doc.get("stages", []):
        if isinstance(stage, dict) and isinstance(stage.get("profiles"), dict):
            stage["profiles"].pop(device, None)
    if isinstance(doc.get("links"), list):
        doc["links"] = [link for link in doc["links"]
                        if not (isinstance(link, dict) and device in (link.get("source"), link.get("target")))]


def check(paths: Sequence[str], parameters: Sequence[Parameter]) -> None:
    """Raise ScenarioError unless every parameter's every value applies to every file (the
    scenario it makes may still be invalid: that point's row says why)."""
    for path in paths:
        doc = read_document(path)
        for parameter in parameters:
            for value in parameter.values:
                try:
                    apply(doc, [parameter], [value])
                except PathError as exc:
                    raise ScenarioError(path, f"--vary {parameter.path}", str(exc)) from None


def fields(parameters: Sequence[Parameter]) -> tuple[str, ...]:
    """Columns of an exploration's rows: the point, one column per parameter, the plan."""
    return ("index", "path", *(p.path for p in parameters), *batch.FIELDS[2:])


def plan_point(path: str, parameters: Sequence[Parameter], values: Sequence, goal: Goal, strategy: str,
               label_budget: int, time_limit_s: float | None, swept: int | None = None) -> dict:
    """The result row of one point (a "failed" row when its scenario is invalid). With
    ``swept`` (the index of a cap parameter, ``swept_parameters``), the point is looked up
    in one sweep over that cap's values at the point's other values (computed once per
    process, ``_group_sweep``); a point the sweep leaves unanswered is planned alone."""
    row = {"path": path, **{p.path: v for p, v in zip(parameters, values)}}
    try:
        scenario = _scenario(path, tuple(parameters), tuple(values))
    except ValueError as exc:  # ScenarioError, PathError
        return {**row, "status": batch.FAILED, "reason": str(exc)}
    answer = None if swept is None else _swept_answer(path, tuple(parameters), tuple(values), swept, scenario, goal,
                                                       time_limit_s)
    if answer is None:
        answer = lambda: plan(scenario, goal=goal, top_k=1, strategy=strategy, label_budget=label_budget,
                              time_limit_s=time_limit_s)
    return {**row, **batch.plan_row(answer)}


#: the caps a sweep walks with one exact solve per distinct answer, as its keywords (other
#: budgets would cost a solve per value, as planning each point does)
SWEEP_CAPS = {"constraints.max_total_latency_ms": "max_latency_ms", "constraints.max_total_energy_mj": "max_energy_mj"}
#: a group of points (one file, the same values of every other parameter) is answered by
#: one sweep when it holds at least this many points and this share of the cap's values
SWEEP_MIN_POINTS, SWEEP_MIN_SHARE = 8, 0.25
#: labels each solve of a group's walk may keep: a walk stopped there leaves its points to
#: be planned alone (with the run's label budget), which proves most such points quickly
SWEEP_LABEL_BUDGET = 50_000


def swept_parameters(points: Sequence[Point], parameters: Sequence[Parameter], strategy: str) -> dict[int, int]:
    """Per grid index, the cap parameter (its index) whose values one sweep answers at that
    point: the latency or energy cap with the most values (all numbers). Points of groups
    too sparse for a sweep to pay, and every point of a beam run, get none."""
    caps = [i for i, p in enumerate(parameters) if p.path in SWEEP_CAPS and p.numeric]
    if not caps or strategy == "beam":
        return {}
    axis = max(caps, key=lambda i: len(parameters[i].values))
    groups: dict[tuple, list[int]] = {}
    for point in points:
        groups.setdefault((point.path, *point.values[:axis], *point.values[axis + 1:]), []).append(point.index)
    least = max(SWEEP_MIN_POINTS, SWEEP_MIN_SHARE * len(parameters[axis].values))
    return {index: axis for members in groups.values() if len(members) >= least for index in members}


def _swept_answer(path: str, parameters: tuple, values: tuple, axis: int, scenario: Scenario, goal: Goal,
                  time_limit_s: float | None) -> Callable[[], PlanResult] | None:
    """The point's answer from its group's sweep along ``axis``, as ``plan`` gives it (None:
    the sweep did not answer it)."""
    goal_key = goal if isinstance(goal, str) else tuple(sorted(goal.items()))
    fixed = values[:axis] + (None,) + values[axis + 1:]
    found = _group_sweep(path, parameters, axis, fixed, goal_key, time_limit_s)
    if found is None:
        return None
    result, seconds = found
    chosen = int(result.plan_index[parameters[axis].values.index(values[axis])])
    if chosen == UNANSWERED:
        return None
    model = scenario.cost_model
    plans = (result.plans[chosen],) if chosen >= 0 else ()
    return lambda: PlanResult(
        scenario=model.name, goal=result.goal, weights=result.weights, top_k=1, plans=plans,
        status="optimal" if plans else "infeasible", gap=0.0, bound=plans[0].score if plans else math.inf,
        strategy="sweep", reason="" if plans else infeasibility_reason(model, check_time_limit(time_limit_s)),
        stats={"solve_seconds": seconds},
        model=model)


@functools.lru_cache(maxsize=8)
def _group_sweep(path: str, parameters: tuple, axis: int, fixed: tuple, goal_key, time_limit_s: float | None):
    """(the ``Sweep`` of parameter ``axis``'s values at the ``fixed`` values of the others,
    its seconds per value); None when that scenario is invalid or cannot be swept (its
    points are then planned one by one)."""
    others = [i for i in range(len(parameters)) if i != axis]
    goal = goal_key if isinstance(goal_key, str) else dict(goal_key)
    started = time.perf_counter()
    try:
        base = _scenario(path, tuple(parameters[i] for i in others), tuple(fixed[i] for i in others))
        result = sweep(base, goal=goal, label_budget=SWEEP_LABEL_BUDGET, time_limit_s=time_limit_s,
                       **{SWEEP_CAPS[parameters[axis].path]: np.array(parameters[axis].values)})
    except (ValueError, FrontierTooLarge):  # ScenarioError, PathError, a goal a sweep does not rank by
        return None
    return result, (time.perf_counter() - started) / len(parameters[axis].values)


def _scenario(path: str, parameters: tuple, values: tuple) -> Scenario:
    """A point's scenario. Points that differ only in budgets (``constraints.*``) share the
    parse of everything else: only their constraints are validated again."""
    budget = [i for i, p in enumerate(parameters) if p.path.split(".")[0] == "constraints"]
    if not budget:
        return Scenario.from_dict(apply(_document(path), parameters, values), source=path)
    hardware = tuple(i for i in range(len(parameters)) if i not in budget)
    base = _hardware(path, tuple(parameters[i] for i in hardware), tuple(values[i] for i in hardware))
    constraints = {"constraints": _document(path).get("constraints", {})}
    # the budget parameters' paths are set on a document of the constraints alone
    return base.with_constraints(apply(constraints, [parameters[i] for i in budget],
                                       [values[i] for i in budget]).get("constraints", {}))


@functools.lru_cache(maxsize=64)
def _hardware(path: str, parameters: tuple, values: tuple) -> Scenario:
    """The scenario of a file with the hardware parameters set (cached per process)."""
    return Scenario.from_dict(apply(_document(path), parameters, values), source=path)


@functools.lru_cache(maxsize=64)
def _document(path: str) -> dict:
    """A scenario file's document, read once per process (every point of a file shares it)."""
    return read_document(path)


def run(paths: Sequence[str], parameters: Sequence[Parameter], output: str, goal: Goal = "balanced",
        strategy: str = "auto", label_budget: int = DEFAULT_LABEL_BUDGET, time_limit_s: float | None = None,
        workers: int = 1, resume: bool = False, sample: int | None = None, seed: int = 0,
        progress: Callable[[int, int], None] | None = None, ray_address: str | None = None,
        sweeps: bool = True) -> batch.BatchSummary:
    """Plan every point of the grid (``grid``) and write one row each to ``output`` (.csv,
    .jsonl or .parquet: ``fields``), as ``eip.batch.run`` does for files: a process pool of ``workers``,
    or Ray at ``ray_address`` ("" starts one for the run), ``resume``, ``progress`` and
    signals alike. With ``sweeps``, the points of a group that differ only in budgets
    (``swept_parameters``) are answered by one sweep (``strategy`` "sweep" in their rows,
    the same plans). Raises ScenarioError when a parameter does not apply to a file."""
    parameters = tuple(parameters)
    resolve_goal(goal)  # a bad goal is one error before anything runs, not a failed row per point
    check(paths, parameters)
    options = (goal, strategy, label_budget, time_limit_s)
    points = grid(paths, parameters, sample, seed)
    swept = swept_parameters(points, parameters, strategy) if sweeps else {}
    jobs = [batch.Job(p.index, (p.path, *p.values), (p.path, parameters, p.values, *options, swept.get(p.index)))
            for p in points]
    key_fields = ("path", *(p.path for p in parameters))
    return batch.run_jobs(jobs, plan_point, output, fields(parameters), key_fields, workers=workers, resume=resume,
                          progress=progress, ray_address=ray_address)


#: the plan metrics a summary reports, as (row field, heading)
METRICS = (("score", "best score"), ("latency_ms", "latency ms"), ("energy_mj", "energy mJ"))


@dataclass(frozen=True)
class ValueSummary:
    """What the points with one value of one parameter gave."""

    value: object
    points: int
    planned: int
    best: dict | None  # the row of the best score among them


@dataclass(frozen=True)
class Summary:
    """An exploration's rows, summarised per parameter.

    Attributes:
        rows: every row (dicts of ``fields``), by grid index.
        by_value: per parameter path, one ``ValueSummary`` per value, in the order given.
        least: per numeric parameter path, per scenario file, the least value at which some
            point has a plan (None: no value does).
        pareto: per numeric parameter path and metric ("latency_ms", "energy_mj"), the rows
            no other row beats on both the parameter (a cost: less is better) and the metric.
    """

    rows: list
    by_value: dict
    least: dict
    pareto: dict

    @property
    def planned(self) -> int:
        """How many points have a plan."""
        return sum(has_plan(r) for r in self.rows)


def has_plan(row: dict) -> bool:
    """Whether a row holds a plan (optimal, or feasible within its gap)."""
    return row.get("status") in batch.PLANNED


def summarize(rows: list[dict], parameters: Sequence[Parameter]) -> Summary:
    """The summary of an exploration's rows (``read_rows``)."""
    rows = sorted(rows, key=lambda r: r["index"])
    planned = [r for r in rows if has_plan(r)]
    by_value, least, pareto = {}, {}, {}
    for p in parameters:
        at: dict = {value: [] for value in p.values}
        for r in rows:
            at.setdefault(r.get(p.path), []).append(r)
        entries = []
        for value in p.values:
            good = [r for r in at[value] if has_plan(r)]
            entries.append(ValueSummary(value, len(at[value]), len(good), min(good, key=_rank) if good else None))
        by_value[p.path] = entries
        if p.numeric:
            files = list(dict.fromkeys(r["path"] for r in rows))
            least[p.path] = {f: min((r[p.path] for r in planned if r["path"] == f), default=None) for f in files}
            pareto[p.path] = {metric: _pareto(planned, p.path, metric) for metric in ("latency_ms", "energy_mj")}
    return Summary(rows, by_value, least, pareto)


def _rank(row: dict):
    return row["score"], row["index"]


def _pareto(rows: list[dict], cost: str, metric: str) -> list[dict]:
    """The rows that no row with no more ``cost`` beats on ``metric`` (by increasing cost)."""
    front: list[dict] = []
    for row in sorted(rows, key=lambda r: (r[cost], r[metric], r["index"])):
        if not front or row[metric] < front[-1][metric]:
            front.append(row)
    return front


def read_rows(output: str, parameters: Sequence[Parameter]) -> list[dict]:
    """An exploration's rows from its output file, with numbers as numbers."""
    numeric = {"score", "latency_ms", "energy_mj", "switches", "accuracy_loss", "period_ms", "gap", "solve_ms"}
    numeric |= {p.path for p in parameters if p.numeric}
    out = []
    for row in batch.read_output(output, fields(parameters)):
        for key in numeric:
            if isinstance(row.get(key), str):
                row[key] = float(row[key]) if row[key] else None
        row["index"] = int(row["index"])
        out.append(row)
    return out
