"""Batch runs: plan many scenario files on a process pool, one result row per scenario.

Rows are written (and flushed) one whole line at a time as scenarios finish, so an
interrupted batch keeps every row it finished and ``resume`` can pick up where it stopped.
A scenario that cannot be loaded or planned gives a row with its error; the batch goes on.
A Parquet file cannot grow a line at a time: its rows stream to a JSONL journal beside it
(``journal_path``), and the Parquet file is written whole from it when the run ends (also
when it is interrupted); a run killed outright leaves the journal, which a resume reads.
"""

from __future__ import annotations

import csv
import ctypes
import glob
import hashlib
import io
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import orjson

from .costmodel import CostModel
from .errors import ScenarioError
from .files import write_atomic
from .goals import Goal
from .scenario import load
from .report.data import csv_cell, csv_text
from .result import PlanResult
from .solve import DEFAULT_LABEL_BUDGET, plan

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".parquet")
FIELDS = ("index", "path", "scenario", "status", "score", "latency_ms", "energy_mj", "switches", "accuracy_loss",
          "period_ms", "gap", "strategy", "solve_ms", "placement", "reason")
#: statuses of a row: a plan (PLANNED), none ("infeasible", "unknown"), or "failed"
PLANNED = ("optimal", "feasible")
FAILED = "failed"


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: counts by outcome, wall time, and whether it ran to the end."""

    total: int
    skipped: int  # rows already in the output (resume)
    planned: int
    infeasible: int
    unknown: int
    failed: int
    seconds: float
    interrupted: bool

    @property
    def done(self) -> int:
        return self.planned + self.infeasible + self.unknown + self.failed

    def line(self, unit: str = "scenarios") -> str:
        """One line for people: what was done, how fast, by outcome (``unit``: what a row is)."""
        rate = self.done / self.seconds if self.seconds > 0 else math.inf
        head = "interrupted after" if self.interrupted else "done:"
        parts = [f"{self.planned} planned", f"{self.infeasible} infeasible"]
        if self.unknown:
            parts.append(f"{self.unknown} without a plan at the label budget")
        parts.append(f"{self.failed} failed")
        skipped = f" ({self.skipped} already done)" if self.skipped else ""
        return (f"{head} {self.done} of {self.total - self.skipped} {unit}{skipped} in {self.seconds:.1f} s "
                f"({rate:,.1f}/s): " + ", ".join(parts))


def expand(patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """Scenario files named by paths, directories (their ``*.json``) and globs (``**`` recurses).

    Returns ``(paths, unmatched)``: paths in the order given (each once; globs and
    directories sorted) and the patterns that matched nothing. A plain path that does not
    exist is kept: its row will say so.
    """
    paths: list[str] = []
    unmatched: list[str] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            found = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        elif os.path.isdir(pattern):
            found = sorted(str(p) for p in Path(pattern).glob("*.json"))
        else:
            found = [pattern]
        if not found:
            unmatched.append(pattern)
        paths += found
    return list(dict.fromkeys(paths)), unmatched


def plan_file(path: str, goal: Goal, strategy: str, label_budget: int, time_limit_s: float | None = None) -> dict:
    """The result row of one scenario file; load and plan errors become a "failed" row."""
    return {"path": path, **plan_row(lambda: plan(load(path), goal=goal, top_k=1, strategy=strategy,
                                                  label_budget=label_budget, time_limit_s=time_limit_s))}


def plan_row(solve: Callable[[], PlanResult]) -> dict:
    """The result fields of one ``solve()`` (from "scenario" to "reason" of ``FIELDS``); its
    errors become a "failed" row with the reason."""
    try:
        result = solve()
    except (ScenarioError, ValueError) as exc:
        return {"status": FAILED, "reason": str(exc)}
    except Exception as exc:  # one bad scenario must not end the batch: record our bug and go on
        if isinstance(exc.__context__, KeyboardInterrupt):  # a forced stop that landed in a kernel
            raise KeyboardInterrupt from None
        return {"status": FAILED, "reason": f"internal error ({type(exc).__name__}: {exc})"}
    row = dict(scenario=result.scenario, status=result.status, strategy=result.strategy,
               solve_ms=result.stats["solve_seconds"] * 1e3, reason=result.reason)
    best = result.best
    if best is not None:
        row.update(score=best.score, latency_ms=best.latency_ms, energy_mj=best.energy_mj, switches=best.switches,
                   accuracy_loss=best.accuracy_loss, period_ms=best.period_ms, gap=result.gap,
                   placement=list(best.placement))
    return row


def run(paths: list[str], output: str, goal: Goal = "balanced", strategy: str = "auto",
        label_budget: int = DEFAULT_LABEL_BUDGET, time_limit_s: float | None = None, workers: int = 1,
        resume: bool = False, progress: Callable[[int, int], None] | None = None,
        ray_address: str | None = None) -> BatchSummary:
    """Plan every file of ``paths`` and write one row each to ``output`` (.csv, .jsonl or
    .parquet).

    ``time_limit_s`` bounds each scenario's solve (``eip.plan``).

    ``workers`` > 1 plans on a process pool of that size; ``ray_address`` (a cluster's
    address, or "" for a Ray started for the run with ``workers`` CPUs) plans on Ray
    instead; ``resume`` keeps the rows already in ``output`` and plans only the paths they
    do not cover (failed rows are retried); ``progress(done, total)`` is called before the
    first row and after each. On Ctrl-C or SIGTERM it finishes the scenario at hand (a
    second signal: at once), keeps every finished row and returns a summary with
    ``interrupted`` set.
    """
    options = (goal, strategy, label_budget, time_limit_s)
    jobs = [Job(index, (path,), (path, *options)) for index, path in enumerate(paths)]
    return run_jobs(jobs, plan_file, output, FIELDS, ("path",), workers=workers, resume=resume, progress=progress,
                    ray_address=ray_address)


@dataclass(frozen=True)
class Job:
    """One row to compute: its index in the run, its key (the values of the run's key
    fields, which a resume matches) and the arguments of the run's row function."""

    index: int
    key: tuple
    args: tuple


def run_jobs(jobs: list[Job], row_of: Callable[..., dict], output: str, fields: tuple[str, ...],
             key_fields: tuple[str, ...], workers: int = 1, resume: bool = False,
             progress: Callable[[int, int], None] | None = None, ray_address: str | None = None) -> BatchSummary:
    """Compute ``row_of(*job.args)`` for every job (``run``'s pool, Ray, resume, progress and
    signals) and write each row, with its "index", to ``output`` under ``fields``; a resume
    skips the jobs whose ``key`` a finished row of ``output`` holds in ``key_fields``.
    ``row_of`` must be a module-level function (workers import it) that returns a row with
    a "status"."""
    suffix = output_suffix(output)
    kept = [(key, raw) for key, status, raw in (_finished_rows(output, suffix, fields, key_fields) if resume else [])
            if status != FAILED]
    done = {key for key, _ in kept}
    todo = [job for job in jobs if tuple(map(_key_text, job.key)) not in done]
    counts = {"planned": 0, "infeasible": 0, "unknown": 0, "failed": 0}
    started = time.perf_counter()
    if progress is not None:
        progress(0, len(todo))
    with _RowWriter(output, suffix, fields, [raw for _, raw in kept]) as writer, _StopOnSignal() as stop:
        try:
            for index, row in _rows(todo, row_of, workers, ray_address):
                writer.write({"index": index, **row})
                status = row["status"]
                counts["planned" if status in PLANNED else status] += 1
                if progress is not None:
                    progress(sum(counts.values()), len(todo))
                if stop.requested:
                    break
        except KeyboardInterrupt:
            pass
        interrupted = stop.requested
    return BatchSummary(len(jobs), len(jobs) - len(todo), counts["planned"], counts["infeasible"],
                        counts["unknown"], counts["failed"], time.perf_counter() - started, interrupted)


def output_suffix(output: str) -> str:
    """The format of a run's ``output`` by its suffix (``OUTPUT_SUFFIXES``); ValueError for
    another, or for .parquet without pyarrow."""
    suffix = Path(output).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--output must end in .csv, .jsonl or .parquet, got {output!r}")
    if suffix == ".parquet":
        _arrow()
    return suffix


def _arrow():
    """``pyarrow`` and ``pyarrow.parquet``, or a one-line error naming the extra that installs them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ValueError("Parquet output needs pyarrow: pip install 'edge-inference-planner[parquet]' "
                         "(or pip install pyarrow)") from None
    return pyarrow, pyarrow.parquet


def journal_path(output: str) -> Path:
    """Where a .parquet run streams its rows (JSONL) until it ends: ``OUTPUT.rows.jsonl``,
    or a short name from its hash when that would be longer than a file name may be."""
    path = Path(output)
    name = f"{path.name}.rows.jsonl"
    if len(name.encode()) > 255:
        name = f".eip-{hashlib.sha1(path.name.encode()).hexdigest()[:16]}.rows.jsonl"
    return path.with_name(name)


def _key_text(value) -> str:
    """A key value as a resume reads it back from either output format."""
    return repr(value) if isinstance(value, float) else str(value)


def _rows(todo: list[Job], row_of: Callable[..., dict], workers: int,
          ray_address: str | None) -> Iterator[tuple[int, dict]]:
    """(index, row) per job, in completion order."""
    tasks = [(row_of, job) for job in todo]
    if ray_address is not None:
        from . import cluster

        yield from cluster.rows(tasks, _run_task, workers, ray_address)
        return
    if workers <= 1 or len(tasks) <= 1:
        yield from map(_run_task, tasks)
        return
    _warm()  # forked workers inherit the loaded kernels; spawned ones load them in _init_worker
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    pool = context.Pool(workers, initializer=_init_worker, initargs=(os.getpid(),))
    try:
        yield from pool.imap_unordered(_run_task, tasks, chunksize=chunk)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _run_task(task: tuple[Callable[..., dict], Job]) -> tuple[int, dict]:
    row_of, job = task
    return job.index, row_of(*job.args)


def _init_worker(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, workers stay quiet;
    # a forked worker must not inherit the parent's graceful SIGTERM (terminate() uses it)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)
    # a parent killed outright (SIGKILL) leaves the result pipe without a reader: the worker's
    # next result ends it quietly, not with a BrokenPipeError traceback on the terminal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _warm()


def _die_with(parent: int) -> None:
    """On Linux, end this worker when ``parent`` dies: a batch killed outright (SIGKILL)
    must not leave workers waiting for work forever (each holds the task pipe open)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the line above
        os._exit(0)


_PR_SET_PDEATHSIG = 1


def _warm() -> None:
    """Load the solve kernels (from the Numba cache) with one tiny plan."""
    one = np.ones((1, 1))
    plan(CostModel.from_arrays(one, one, one, np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), np.ones(1)), top_k=1)


class _StopOnSignal:
    """Ctrl-C or SIGTERM (a scheduler's stop): the scenario at hand finishes and the batch
    stops with its rows kept; a second signal stops at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict = {}

    def __enter__(self) -> "_StopOnSignal":
        # handlers can only be set from the main thread; elsewhere signals keep their handlers
        if threading.current_thread() is threading.main_thread():
            self._old = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


class _RowWriter:
    """Writes whole rows, one write and flush per line, after the kept ones (raw text); for
    .parquet, to the journal, and the Parquet file from it at the end."""

    def __init__(self, output: str, suffix: str, fields: tuple[str, ...], kept: list[str]) -> None:
        self._csv = suffix == ".csv"
        self._parquet = output if suffix == ".parquet" else None
        self._fields = fields
        path = journal_path(output) if self._parquet else Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        # rows kept by a resume are rewritten first: this drops failed rows (they are retried)
        # and a half line left by a kill
        self._handle = open(path, "w", encoding="utf-8", newline="")
        self._emit((_csv_record([csv_cell(f) for f in fields]) if self._csv else "") + "".join(kept))

    def write(self, row: dict) -> None:
        fields = self._fields
        self._emit(_csv_line(row, fields) if self._csv else orjson.dumps({k: row.get(k) for k in fields}).decode() + "\n")

    def _emit(self, line: str) -> None:
        self._handle.write(line)
        self._handle.flush()

    def __enter__(self) -> "_RowWriter":
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()
        if self._parquet:
            journal = journal_path(self._parquet)
            rows = [row for row, _ in _jsonl_rows(journal, self._fields)]
            write_atomic(self._parquet, _parquet_bytes(rows, self._fields))
            journal.unlink()


def _parquet_bytes(rows: list[dict], fields: tuple[str, ...]) -> bytes:
    """A Parquet file of ``rows`` (one column per field, in order; its type from its values:
    int64, float64, a list of strings, or else strings)."""
    pa, pq = _arrow()
    columns = {}
    for name in fields:
        values = [row.get(name) for row in rows]
        kind = _arrow_type(pa, [v for v in values if v is not None])
        if kind == pa.string():
            values = [None if v is None else _key_text(v) for v in values]
        columns[name] = pa.array(values, type=kind)
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def _arrow_type(pa, values: list):
    """The column type that holds ``values`` (not None) without loss."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if values and len(numbers) == len(values):
        return pa.int64() if all(isinstance(v, int) for v in numbers) else pa.float64()
    if values and all(isinstance(v, list) for v in values):
        return pa.list_(pa.string())
    return pa.string()


def _csv_line(row: dict, fields: tuple[str, ...]) -> str:
    cells = []
    for key in fields:
        value = row.get(key)
        if key == "placement" and value is not None:
            value = " -> ".join(value)
        cells.append("" if value is None else repr(value) if isinstance(value, float)
                     else csv_cell(value) if isinstance(value, str) else value)
    return _csv_record(cells)


def _csv_record(cells: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def _finished_rows(output: str, suffix: str, fields: tuple[str, ...],
                   key_fields: tuple[str, ...]) -> list[tuple[tuple, str, str]]:
    """(key, status, raw text) of each whole row already in ``output`` (none when it does
    not exist), the key as ``_key_text`` of the ``key_fields``."""
    try:
        parsed = _parsed_rows(output, suffix, fields)
    except FileNotFoundError:
        return []
    return [(tuple(_key_text(row[f]) for f in key_fields), row["status"], raw) for row, raw in parsed]


def read_output(output: str, fields: tuple[str, ...]) -> list[dict]:
    """The rows of a run's output file (.csv cells as text, .jsonl values as JSON gives them,
    .parquet values as its typed columns hold them)."""
    try:
        return [row for row, _ in _parsed_rows(output, Path(output).suffix.lower(), fields)]
    except FileNotFoundError:
        raise ValueError(f"{output}: no such file") from None


def _parsed_rows(output: str, suffix: str, fields: tuple[str, ...]) -> list[tuple[dict, str]]:
    """(row, raw text) of each whole row of ``output`` (for .parquet: of its journal when a
    run left one, the raw text a JSONL line); a last line cut short by a kill is dropped.
    FileNotFoundError when it does not exist; ValueError for rows not of ``fields``."""
    if suffix == ".parquet":
        journal = journal_path(output)
        return _jsonl_rows(journal, fields) if journal.exists() else _parquet_rows(output, fields)
    if suffix == ".jsonl":
        return _jsonl_rows(Path(output), fields)
    lines = _whole_lines(Path(output))
    reader = csv.reader(lines)
    header = [csv_text(cell) for cell in next(reader, list(fields))]
    if header != list(fields):
        raise ValueError(f"{output}: line 1: expected the header {','.join(fields)}")
    rows = []
    first = reader.line_num
    for cells in reader:
        if len(cells) != len(fields):
            raise ValueError(f"{output}: line {reader.line_num}: expected {len(fields)} cells, got {len(cells)}")
        rows.append(({f: csv_text(c) for f, c in zip(fields, cells)}, "".join(lines[first:reader.line_num])))
        first = reader.line_num
    return rows


def _whole_lines(path: Path) -> list[str]:
    """The lines of ``path`` that end in a newline (a last line cut short by a kill is
    dropped). FileNotFoundError when it does not exist; ValueError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    # rows end at "\n" only: str.splitlines would also split a name holding U+2028 or \x0c
    return [piece + "\n" for piece in text.split("\n")[:-1]]  # the last piece: "" or a row cut short


def _jsonl_rows(path: Path, fields: tuple[str, ...]) -> list[tuple[dict, str]]:
    """(row, line) of each whole line of a JSONL file of rows of ``fields``."""
    rows = []
    for n, line in enumerate(_whole_lines(path), 1):
        try:
            row = orjson.loads(line)
            if not isinstance(row, dict) or list(row) != list(fields):
                raise TypeError
        except (orjson.JSONDecodeError, TypeError):
            raise ValueError(f"{path}: line {n}: expected a JSON row with {', '.join(fields)}") from None
        rows.append((row, line))
    return rows


def _parquet_rows(output: str, fields: tuple[str, ...]) -> list[tuple[dict, str]]:
    """(row, its JSONL line) of each row of a Parquet file of rows of ``fields``."""
    _, pq = _arrow()
    if not os.path.exists(output):
        raise FileNotFoundError(output)
    try:
        table = pq.read_table(output)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(f"cannot read {output} as Parquet: {str(exc).splitlines()[0]}") from None
    if table.column_names != list(fields):
        raise ValueError(f"{output}: expected the columns {', '.join(fields)}")
    return [(row, orjson.dumps(row).decode() + "\n") for row in table.to_pylist()]
