"""Ray as the engine for scale-out (``eip batch --ray``, ``eip explore --ray``).

The rows of a run go out in chunks, one Ray task each: a task that does nothing costs about
1.5 ms of a CPU (``benchmarks.explore``), so a chunk holds up to CHUNK_SOLVES solves (fewer
when a run is small, so that every CPU gets several chunks). Each worker process loads the planning kernels once, from
Numba's on-disk cache (a cluster's nodes compile them once each, or share a
``NUMBA_CACHE_DIR``). Rows stream back chunk by chunk in order of completion, and a chunk
whose worker dies is run again (TASK_RETRIES). Needs the ``cluster`` extra (``ray``).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

#: solves per Ray task at most
CHUNK_SOLVES = 1000
#: chunks per CPU at least, when the run is small (the last chunks then end close together)
CHUNKS_PER_CPU = 4
#: runs of a chunk whose worker died before it is reported failed
TASK_RETRIES = 3


def require_ray():
    """The ``ray`` module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs Ray: pip install 'edge-inference-planner[cluster]' (or pip install ray)") from None
    return ray


def chunk_size(tasks: int, cpus: int) -> int:
    """Solves per Ray task for a run of ``tasks`` on ``cpus`` CPUs."""
    return max(1, min(CHUNK_SOLVES, math.ceil(tasks / (CHUNKS_PER_CPU * max(1, cpus)))))


def rows(tasks: Sequence, run_task: Callable, cpus: int, address: str) -> Iterator:
    """``run_task(task)`` for every task, on Ray: a cluster at ``address``, or ("") a Ray
    started here with ``cpus`` CPUs for the run and stopped after it. Yields the results
    in order of completion; closing the iterator cancels what has not run."""
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address or None, num_cpus=None if address else cpus, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
    pending: list = []
    try:
        total_cpus = int(ray.cluster_resources().get("CPU", cpus))
        size = chunk_size(len(tasks), total_cpus)
        chunk = ray.remote(max_retries=TASK_RETRIES)(_chunk)
        pending = [chunk.remote(run_task, list(tasks[i:i + size])) for i in range(0, len(tasks), size)]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


_warmed = False


def _chunk(run_task: Callable, tasks: list) -> list:
    """One Ray task: the kernels loaded once per worker process, then every task."""
    global _warmed
    if not _warmed:
        from .batch import _warm

        _warm()
        _warmed = True
    return [run_task(task) for task in tasks]
