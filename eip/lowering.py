"""Lowering: a ``CostModel`` (stages, options, a DAG of tensors) -> the kernels' layered graph.

Step s places stage s. For a chain an option of step s is just an option of stage s, and
the arc from the option of stage s-1 carries the transfer of its output. For a DAG the
option also carries the *frontier state*, what later stages still need to know about
earlier ones:

* for every *live* tensor (the output of a stage at or before s that a stage after s
  reads): the option its producer ran on, and the devices that already hold a copy of it
  (a tensor moves once to each device; the first reader there pays for the move). Options
  whose outputs sit on the same device with the same size cost their readers the same,
  so the state names the first of them (``_producer_classes``): two ways of a stage that
  differ only in power mode leave the same state. Once no later reader can need to move
  the tensor (each device a reader can run on holds it), its size no longer matters either
  and the state names the producer's first option on that device (``_settle``).

The state after step s is a function of the state after step s-1 and the option chosen at
s, so every placement is exactly one path and the kernels stay exact (top-k included).
Options of a step are sorted by (stage option, state): two paths first differ at the first
stage whose option differs, so the kernels' placement tie-break stays the placement order.
The state stays small: a tensor is forgotten after its last reader; a copy is remembered
only for a non-empty tensor and only on devices where a later reader of it can run. A chain
lowers to exactly the chain's graph (the DAG lowering of a chain is tested against it).

Arc usage (latency, energy, switches): the moves into stage s summed in input order (one
per input whose data is not yet on the stage's device), and one switch per input whose
producer ran on another device.

A graph too wide for its listed order (a step with more than ``MAX_STEP_OPTIONS`` states,
or more than ``MAX_GRAPH_OPTIONS`` in all) is lowered to a *relaxation*: the lowering
forgets where copies of some tensors sit (their later readers then pay no move:
``Relaxed.COPIES``), and if that is not enough, where their producers ran (no move and no
switch: ``Relaxed.DEVICE``), smallest tensors first.
Every placement is still exactly one path, and its usage in the relaxed graph is at most
its true usage in every dimension, so the relaxed optimum is a proven lower bound and the
true usage of its plans (``CostModel.usage``) gives feasible answers (``eip.solve``).
"""

from __future__ import annotations

import math
import time
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from .costmodel import CostModel, Dim
from .kernels.contract import LayeredGraph
from .kernels.usage import receive

#: Options one step of a DAG's layered graph, and the whole graph, may have before the
#: lowering gives up on exactness (a graph wider than this under its listed order is
#: relaxed: module docstring). They bound the lowering's memory: about 15 arcs per option
#: on the generated ways DAGs (10-18 ways per stage), each arc 80 bytes with its usage;
#: 200x4 seed 0, 395k options and 6M arcs, peaks at 1.4 GB.
MAX_STEP_OPTIONS = 100_000
MAX_GRAPH_OPTIONS = 500_000


class LoweringStopped(Exception):
    """A lowering's deadline passed before its last step (``lower_dag``)."""


class Relaxed(IntEnum):
    """What the lowering of a too-wide graph forgot about a tensor (module docstring)."""

    COPIES = 1   # the devices holding copies of it: its later readers pay no move
    DEVICE = 2   # where its producer ran, too: its later readers pay no move and no switch


class _Step(NamedTuple):
    """One lowered step: its options and the arcs into them (before global numbering)."""

    option: np.ndarray   # (M,) model option of each graph option
    state: np.ndarray    # (M, 2 * live) per live tensor: producer's option, copy bitmask
    arc_tail: np.ndarray  # (A,) index of the tail among the previous step's options
    arc_head: np.ndarray  # (A,) index of the head among this step's options (arcs by (head, tail))
    arc_use: np.ndarray  # (A, 3) latency ms, energy mJ, switches


class _Transitions(NamedTuple):
    """Every (class of previous options, group of stage s's options) pair, before merging
    by state: the previous options of a class have the same state (two ways of a stage
    that differ only in power mode leave the same one), and the options of a group
    (``_groups``) receive their inputs alike and leave the same state. Pairs by (class,
    group)."""

    tail_class: np.ndarray  # (T,) the class of each of the previous step's options
    group: np.ndarray     # (P,) group of stage s's options
    state: np.ndarray     # (P, 2 * live) the state after stage s (``_Step.state``)
    use: np.ndarray       # (P, 3) latency ms, energy mJ, switches of receiving the inputs
    possible: np.ndarray  # (P,) bool: every input can reach the group's device
    group_of: np.ndarray  # (R,) the group of each of stage s's options ``runnable``


def lower_chain(model: CostModel) -> LayeredGraph:
    """The layered graph of a chain: step s offers the options that can run stage s (usage:
    execution latency, energy, memory on the option's device); an arc joins two options of
    consecutive stages when the move between them is possible (usage: the move's latency,
    energy, and 1 switch if the devices differ)."""
    dev = model.option_device
    runnable = [np.flatnonzero(np.isfinite(row)) for row in model.exec_ms]
    steps = [_first_step(runnable[0], np.zeros((len(runnable[0]), 0), dtype=np.int64))]
    for s in range(1, model.n_stages):
        src, dst = runnable[s - 1], runnable[s]
        cost = model.moves[s - 1][src][:, dev[dst]]  # (tails, heads, 2)
        head, tail = np.nonzero((np.isfinite(cost[..., 0]) & np.isfinite(cost[..., 1])).T)  # by (head, tail)
        use = np.column_stack([cost[tail, head], dev[src[tail]] != dev[dst[head]]])
        steps.append(_Step(dst, np.zeros((len(dst), 0), dtype=np.int64), tail, head, use))
    return _assemble(model, steps)


def lower_dag(model: CostModel, deadline: float = math.inf) -> tuple[LayeredGraph, dict[int, Relaxed]]:
    """The layered graph of a DAG-shaped model (module docstring), and what it forgot about
    which tensors (by producing stage) to stay within ``MAX_STEP_OPTIONS`` options per step
    and ``MAX_GRAPH_OPTIONS`` in all (empty: exact). Raises ``LoweringStopped`` when
    ``time.perf_counter()`` passes ``deadline`` before a step (a wide DAG takes seconds)."""
    last_read = _last_reads(model)
    classes = _producer_classes(model)
    runs_on = np.array([np.bitwise_or.reduce(np.left_shift(1, model.option_device[np.isfinite(row)]))
                        for row in model.exec_ms], dtype=np.int64)
    live: list[int] = []
    steps: list[_Step] = []
    relaxed: dict[int, Relaxed] = {}
    total = 0
    for s in range(model.n_stages):
        if time.perf_counter() > deadline:
            raise LoweringStopped(f"the time limit stopped the model's lowering to the kernels' graph at stage "
                                  f"{s} of {model.n_stages}")
        runnable = np.flatnonzero(np.isfinite(model.exec_ms[s]))
        after = [p for p in live if last_read[p] > s] + ([s] if last_read[s] > s else [])
        keep = _copy_masks(model, runs_on, after, s)
        if s == 0:
            step = _first_step(runnable, _source_state(model, runnable, after, classes, keep))
        else:
            pairs = _transitions(model, s, steps[-1], live, after, runnable, classes, keep, relaxed)
            step = _merge(runnable, pairs)
            room = min(MAX_STEP_OPTIONS, MAX_GRAPH_OPTIONS - total)
            while len(step.option) > room and _forget(model, after, pairs.state, relaxed):
                step = _merge(runnable, pairs)
        total += len(step.option)
        steps.append(step)
        live = after
    return _assemble(model, steps), relaxed


def _forget(model: CostModel, live: list[int], state: np.ndarray, relaxed: dict[int, Relaxed]) -> bool:
    """Relax one more live tensor in ``state`` (M, 2 * live) and ``relaxed``: the copies of
    the smallest tensor whose copies are still tracked, else the device of the smallest one
    whose device is (module docstring); False when nothing is left to forget."""
    for kind, columns in ((Relaxed.COPIES, (1,)), (Relaxed.DEVICE, (0, 1))):
        open_ = [i for i, p in enumerate(live) if relaxed.get(p, 0) < kind]
        if open_:
            i = min(open_, key=lambda i: (model.output_mb[live[i]].max(), live[i]))
            relaxed[live[i]] = kind
            for c in columns:
                state[:, 2 * i + c] = 0
            return True
    return False


def restrict(graph: LayeredGraph, allowed: np.ndarray) -> LayeredGraph:
    """The sub-graph of ``graph`` whose options have an allowed key (``allowed`` (O,) bool by
    model option): its paths are exactly the paths of ``graph`` through allowed options.
    A step left without options keeps none (no path exists). Renumbering keeps the order
    of options, so the arcs kept stay ordered by (head, tail)."""
    keep = allowed[graph.opt_key]
    new_index = np.cumsum(keep) - 1
    arcs = keep[graph.arc_tail] & keep[graph.arc_head]
    step_start = np.concatenate(([0], np.cumsum(keep)))[graph.step_start].astype(np.int64)
    return _graph(step_start, graph.opt_use[keep], graph.opt_key[keep], new_index[graph.arc_tail[arcs]],
                  new_index[graph.arc_head[arcs]], graph.arc_use[arcs])


def by_marks_used(graph: LayeredGraph, mark: np.ndarray, allowed: np.ndarray) -> LayeredGraph:
    """The graph of the paths of ``graph`` whose marks, or-ed over their options, are
    ``allowed``: ``mark`` (O,) int64 bitmask by model option (0: unmarked), ``allowed``
    (W,) bool by the union of the marks along a path (W a power of two above every mark).

    Each option splits by the union of the marks of its prefix (a function of the prefix:
    every path is still exactly one path, with the same usage), each step's options
    ordered by (option, union) so the placement tie-break stays the same; options and
    arcs on no allowed path are dropped.
    """
    n = len(graph.step_start) - 1
    lo = graph.step_start[:-1]
    opt_mark = mark[graph.opt_key]
    into = [np.arange(graph.arc_start[lo[s]], graph.arc_start[graph.step_start[s + 1]]) for s in range(n)]
    steps = [_MarkedStep(into[s], graph.arc_tail[into[s]] - lo[s - 1] if s else into[s],
                         graph.arc_head[into[s]] - lo[s], opt_mark[lo[s]:graph.step_start[s + 1]]) for s in range(n)]
    alive = _allowed_pairs(steps, allowed)
    counts = np.array([int(pairs.sum()) for pairs in alive], dtype=np.int64)
    step_start = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    index, origin = [], []
    for s in range(n):
        option, union = np.nonzero(alive[s])  # row-major: ordered by (option, union)
        index.append(np.full(alive[s].shape, -1, dtype=np.int64))
        index[s][option, union] = step_start[s] + np.arange(counts[s])
        origin.append(lo[s] + option)
    tails, heads, arcs = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for s in range(1, n):
        t_index, h_index = index[s - 1][steps[s].tail], index[s][steps[s].head[:, None], steps[s].joined(len(allowed))]
        a, u = np.nonzero((t_index >= 0) & (h_index >= 0))
        tails.append(t_index[a, u])
        heads.append(h_index[a, u])
        arcs.append(steps[s].arcs[a])
    tail, head, arc = np.concatenate(tails), np.concatenate(heads), np.concatenate(arcs)
    order = _arc_order(tail, head)  # each step's arcs come by (arc, union), not by head
    tail, head, arc = tail[order], head[order], arc[order]
    origin = np.concatenate(origin) if n else np.zeros(0, dtype=np.int64)
    return _graph(step_start, graph.opt_use[origin], graph.opt_key[origin], tail, head, graph.arc_use[arc])


class _MarkedStep(NamedTuple):
    """One step of ``by_marks_used``: the arcs into it, their tails and heads as indices
    local to their steps, and the mark of each of its options."""

    arcs: np.ndarray   # (A,) arc indices in the graph
    tail: np.ndarray   # (A,) tail among the previous step's options
    head: np.ndarray   # (A,) head among this step's options
    mark: np.ndarray   # (M,) int64 mark of each option

    def joined(self, width: int) -> np.ndarray:
        """(A, W) the union after each arc's head, by the union before it."""
        return np.arange(width)[None, :] | self.mark[self.head][:, None]


def _allowed_pairs(steps: list[_MarkedStep], allowed: np.ndarray) -> list[np.ndarray]:
    """Per step, (M, W) bool: the (option, union of the prefix's marks) pairs that some
    prefix reaches and some allowed path goes through."""
    width = len(allowed)
    alive = [np.zeros((len(step.mark), width), dtype=bool) for step in steps]
    if not steps:
        return alive
    alive[0][np.arange(len(steps[0].mark)), steps[0].mark] = True
    for s in range(1, len(steps)):  # forward: the pairs some prefix reaches
        a, u = np.nonzero(alive[s - 1][steps[s].tail])
        alive[s][steps[s].head[a], u | steps[s].mark[steps[s].head[a]]] = True
    alive[-1] &= allowed[None, :]
    for s in range(len(steps) - 1, 0, -1):  # backward: those some allowed path goes through
        a, u = np.nonzero(alive[s][steps[s].head[:, None], steps[s].joined(width)])
        through = np.zeros_like(alive[s - 1])
        through[steps[s].tail[a], u] = True
        alive[s - 1] &= through
    return alive


def waiting_outputs(model: CostModel) -> int:
    """The most outputs that wait for a later reader at once, over the listed order (the
    frontier width the state of ``lower_dag`` grows with; 1 for a chain)."""
    last_read = _last_reads(model)
    # output p waits through steps p .. last_read[p] - 1: count them with a difference array
    waits = np.zeros(model.n_stages + 1, dtype=np.int64)
    read_later = np.flatnonzero(last_read > np.arange(model.n_stages))
    np.add.at(waits, read_later, 1)
    np.add.at(waits, last_read[read_later], -1)
    return int(np.cumsum(waits).max())


def _last_reads(model: CostModel) -> np.ndarray:
    """(N,) the last stage that reads each stage's output (-1: none)."""
    last = np.full(model.n_stages, -1, dtype=np.int64)
    for q, inputs in enumerate(model.inputs):
        for p in inputs:
            last[p] = max(last[p], q)
    return last


def _copy_masks(model: CostModel, runs_on: np.ndarray, live: list[int], s: int) -> np.ndarray:
    """(len(live),) int64 bitmask of the devices where a copy of each live tensor is worth
    remembering after step s: where a later reader can run (``runs_on`` (N,) is the device
    bitmask of each stage; no copy of an empty tensor is worth remembering)."""
    masks = np.zeros(len(live), dtype=np.int64)
    for i, p in enumerate(live):
        if model.output_mb[p].max() > 0:
            for q in model.readers[p]:
                if q > s:
                    masks[i] |= runs_on[q]
    return masks


class _Classes(NamedTuple):
    """What a frontier state names about a live tensor's producer: its *class*, the first
    option of the producing stage that puts the output on the same device with the same size
    (what its readers pay to receive it depends on nothing else: ``CostModel.moves``), or,
    once no reader can need a move of it, on the same device (the size no longer matters)."""

    by_size: np.ndarray    # (N, O) int64 class of each stage's option; -1 where it cannot run
    by_device: np.ndarray  # (N, D) int64 first option of each stage on each device; -1: none


def _producer_classes(model: CostModel) -> _Classes:
    """The producer classes of every stage's options (``_Classes``)."""
    by_size = np.full(model.exec_ms.shape, -1, dtype=np.int64)
    by_device = np.full((model.n_stages, model.n_devices), -1, dtype=np.int64)
    for p, row in enumerate(model.exec_ms):
        runnable = np.flatnonzero(np.isfinite(row))
        keys = np.column_stack([model.option_device[runnable], model.output_mb[p, runnable]])
        _, index, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        by_size[p, runnable] = runnable[index[inverse.reshape(-1)]]
        devices, first = np.unique(model.option_device[runnable], return_index=True)
        by_device[p, devices] = runnable[first]
    return _Classes(by_size, by_device)


def _first_step(runnable: np.ndarray, state: np.ndarray) -> _Step:
    """Step 0: its options ``runnable`` (M,) and their states (M, 2 * live)."""
    empty = np.zeros(0, dtype=np.int64)
    return _Step(runnable.astype(np.int64), state, empty, empty, np.zeros((0, 3)))


def _source_state(model: CostModel, runnable: np.ndarray, after: list[int], classes: _Classes,
                  keep: np.ndarray) -> np.ndarray:
    """(M, 2 * live) the states after stage 0's options ``runnable``: when a later stage
    reads its output (``after``), its class (``keep`` as in ``_transitions``)."""
    state = np.zeros((len(runnable), 2 * len(after)), dtype=np.int64)
    if after:
        state[:, 0] = classes.by_size[0, runnable]
        _settle(model, after, state, keep, classes, {})
    return state


def _transitions(model: CostModel, s: int, prev: _Step, live: list[int], after: list[int], runnable: np.ndarray,
                 classes: _Classes, keep: np.ndarray, relaxed: dict[int, Relaxed]) -> _Transitions:
    """Every (class of previous options, group of stage s's options ``runnable``) pair;
    ``keep`` (live after s,) masks the copies worth remembering (``_copy_masks``)."""
    first, group_of = _groups(model, s, runnable, classes)
    # what a previous option passes on is its state alone: one row per distinct state
    one_each, tail_class = np.unique(_row_codes(prev.state), return_index=True, return_inverse=True)[1:]
    tail = np.repeat(one_each, len(first))
    group = np.tile(np.arange(len(first)), len(one_each))
    option = runnable[first][group]  # each group's first option stands for all of them
    state = prev.state[tail]
    dst = model.option_device[option]
    use = np.zeros((len(tail), 3))
    for p in model.inputs[s]:
        col = 2 * live.index(p)
        if relaxed.get(p) == Relaxed.DEVICE:
            continue  # a lower bound: no move, no switch
        src = np.ascontiguousarray(state[:, col])  # (the kernel's one specialization takes contiguous arrays)
        cost, switch, copies = receive(model.moves[p], src, model.option_device[src], dst,
                                       np.ascontiguousarray(state[:, col + 1]))
        use[:, 2] += switch
        if p not in relaxed:
            use[:, :2] += cost
            state[:, col + 1] = copies
    possible = np.isfinite(use[:, 0]) & np.isfinite(use[:, 1])
    columns = [c for p in after if p != s for c in (2 * live.index(p), 2 * live.index(p) + 1)]
    state = state[:, columns]
    if after and after[-1] == s:
        state = np.column_stack([state, classes.by_size[s, option], np.zeros_like(option)])
    _settle(model, after, state, keep, classes, relaxed)
    return _Transitions(tail_class.reshape(-1), group, state, use, possible, group_of)


def _groups(model: CostModel, s: int, runnable: np.ndarray, classes: _Classes) -> tuple[np.ndarray, np.ndarray]:
    """Stage s's options ``runnable`` grouped by device and producer class (options that
    differ only in power mode, or in a build with the same output size): the position in
    ``runnable`` of each group's first option, and the group of each option."""
    keys = classes.by_size[s, runnable] * model.n_devices + model.option_device[runnable]
    _, first, group_of = np.unique(keys, return_index=True, return_inverse=True)
    return first, group_of.reshape(-1)


def _settle(model: CostModel, live: list[int], state: np.ndarray, keep: np.ndarray, classes: _Classes,
            relaxed: dict[int, Relaxed]) -> None:
    """Keep in ``state`` (P, 2 * live) only what later readers can tell apart: the copies on
    the devices ``keep`` (live,) names, and a tensor's size only while a later reader may
    still need to move it (a device in ``keep`` holds no copy yet and is not the producer's);
    otherwise its class becomes the producer's first option on that device (``_Classes``).
    A relaxed tensor's columns are left as ``_forget`` set them."""
    state[:, 1::2] &= keep[None, :]
    for i, p in enumerate(live):
        if p in relaxed:
            continue
        device = model.option_device[state[:, 2 * i]]
        settled = (keep[i] & ~state[:, 2 * i + 1] & ~np.left_shift(1, device)) == 0
        state[settled, 2 * i] = classes.by_device[p, device[settled]]


def _merge(runnable: np.ndarray, pairs: _Transitions) -> _Step:
    """The step the possible transitions lead to: one option per distinct (option, state),
    ordered so, each (group, state) spread over the group's options; its arcs, one per
    previous option of each possible pair's class, come by (head, tail), as the
    contract's CSR wants them."""
    ok = pairs.possible
    if not ok.any():
        # no placement reaches stage s: keep its options, unreachable (a step has options,
        # as in a chain's graph, and the kernels find no path)
        empty = np.zeros(0, dtype=np.int64)
        return _Step(runnable.astype(np.int64), np.zeros((len(runnable), pairs.state.shape[1]), dtype=np.int64),
                     empty, empty, np.zeros((0, 3)))
    rows = np.flatnonzero(ok)
    first, numbers = np.unique(_row_codes(np.column_stack([pairs.group[rows], pairs.state[rows]])),
                               return_index=True, return_inverse=True)[1:]
    first = rows[first]  # each (group, state)'s first pair, in (group, state) order
    number = np.full(len(ok), -1, dtype=np.int64)
    number[rows] = numbers.reshape(-1)
    # every previous option's transitions, in tail order: its class's possible pairs
    n_groups = int(pairs.group_of.max()) + 1
    by_tail = (pairs.tail_class[:, None] * n_groups + np.arange(n_groups)).reshape(-1)
    unique = number[by_tail]
    taken = unique >= 0
    pair, unique = by_tail[taken], unique[taken]
    tail = np.repeat(np.arange(len(pairs.tail_class)), n_groups)[taken]
    group_of = pairs.group_of
    start = np.searchsorted(pairs.group[first], np.arange(n_groups))  # each group's first (group, state)
    per_option = np.bincount(pairs.group[first], minlength=n_groups)[group_of]
    option_start = np.concatenate(([0], np.cumsum(per_option)))
    state = pairs.state[first][_ranges(start[group_of], per_option)]
    # the transitions by (group, state), each by tail as they came; then each option of
    # stage s, in order, takes its group's in that order: arcs by (head, tail)
    by_state = np.argsort(unique, kind="stable")
    group_rows = np.searchsorted(unique[by_state], np.append(start, len(first)))  # (groups + 1,) their transitions
    count = np.diff(group_rows)[group_of]
    head_option = np.repeat(np.arange(len(group_of)), count)
    row = by_state[_ranges(group_rows[group_of], count)]
    head = option_start[head_option] + unique[row] - start[group_of[head_option]]
    return _Step(np.repeat(runnable, per_option).astype(np.int64), state, tail[row], head, pairs.use[pair[row]])


def _ranges(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``first[i] .. first[i] + count[i] - 1`` (``first``, ``count`` (M,))."""
    ends = np.cumsum(count)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(first - (ends - count), count)


def _row_codes(keys: np.ndarray) -> np.ndarray:
    """(P,) int64 codes of the rows of ``keys`` (P, C) non-negative int64, equal for equal
    rows and ordered as the rows are lexicographically: ``np.unique(keys, axis=0)`` sorts
    rows as opaque bytes, 30-50x slower than sorting these codes. Columns are packed in
    mixed radix while the code fits in 62 bits, then the codes so far are ranked densely."""
    code = np.zeros(len(keys), dtype=np.int64)
    span = 1  # a Python int: the products below must not overflow
    for column in keys.T:
        radix = int(column.max(initial=0)) + 1
        if span * radix >= 1 << 62:
            code = np.unique(code, return_inverse=True)[1].reshape(-1).astype(np.int64)
            span = int(code.max(initial=0)) + 1
        code = code * radix + column
        span *= radix
    return code


def _assemble(model: CostModel, steps: list[_Step]) -> LayeredGraph:
    """Number the options step by step, and the arcs, which each step lists by (head, tail),
    in that order: the CSR of the contract, with the usage of every dimension the model
    tracks (``CostModel.dims``)."""
    counts = np.array([len(step.option) for step in steps], dtype=np.int64)
    step_start = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    option = np.concatenate([step.option for step in steps]).astype(np.int64)
    step_of = np.repeat(np.arange(len(steps)), counts)
    tails = [step.arc_tail + step_start[s - 1] for s, step in enumerate(steps) if s > 0]
    heads = [step.arc_head + step_start[s] for s, step in enumerate(steps) if s > 0]
    tail = np.concatenate(tails).astype(np.int64) if tails else np.zeros(0, dtype=np.int64)
    head = np.concatenate(heads).astype(np.int64) if heads else np.zeros(0, dtype=np.int64)
    moves = np.concatenate([step.arc_use for step in steps[1:]]) if tails else np.zeros((0, 3))
    # (each step's arcs come by (head, tail), so all of them do: a DAG's frontier states give
    # millions of arcs, and a permutation of them costs a copy of each array and its page faults)
    return _graph(step_start, option_usage(model, step_of, option), option, tail, head,
                  move_usage(model, moves, model.option_device[option[head]]))


def _graph(step_start: np.ndarray, opt_use: np.ndarray, opt_key: np.ndarray, tail: np.ndarray, head: np.ndarray,
           arc_use: np.ndarray) -> LayeredGraph:
    """The contract's graph of these options (numbered step by step) and arcs (``tail``,
    ``head`` (A,) option indices, ``arc_use`` (A, R), already ordered by (head, tail):
    ``_arc_order``) with their CSR by head."""
    return LayeredGraph(
        step_start=step_start,
        opt_use=np.ascontiguousarray(opt_use),
        opt_key=np.ascontiguousarray(opt_key),
        arc_start=np.concatenate(([0], np.cumsum(np.bincount(head, minlength=len(opt_key))))).astype(np.int64),
        arc_tail=np.ascontiguousarray(tail),
        arc_head=np.ascontiguousarray(head),
        arc_use=np.ascontiguousarray(arc_use),
    )


def _arc_order(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """The permutation that orders arcs (``tail``, ``head`` (A,) option indices) by (head, tail)."""
    return np.lexsort((tail, head))


def option_usage(model: CostModel, stage: np.ndarray, option: np.ndarray) -> np.ndarray:
    """(T, Q) usage of running stages ``stage`` (T,) on options ``option`` (T,): execution
    latency, energy, memory on the option's device, accuracy loss, and the device's busy
    time and execution energy when the model tracks them."""
    dims = model.dims
    rows = np.arange(len(option))
    device = model.option_device[option]
    use = np.zeros((len(option), dims.size))
    use[:, Dim.LATENCY] = model.exec_ms[stage, option]
    use[:, Dim.ENERGY] = model.exec_mj[stage, option]
    use[rows, dims.memory + device] = model.mem_mb[stage, option]
    if dims.accuracy >= 0:
        use[:, dims.accuracy] = model.accuracy_loss[stage, option]
    if dims.busy >= 0:
        use[rows, dims.busy + device] = model.exec_ms[stage, option]
    if dims.power >= 0:
        use[rows, dims.power + device] = model.exec_mj[stage, option]
    return use


def move_usage(model: CostModel, moves: np.ndarray, device: np.ndarray) -> np.ndarray:
    """(A, R) usage of receiving data in the dimensions moves touch (``Dims.arcs``; none of
    the others): ``moves`` (A, 3) latency, energy and switches of the moves into a stage on
    ``device`` (A,); the latency also keeps that device busy when the model tracks busy time."""
    use = np.zeros((len(moves), model.dims.arcs))
    use[:, :Dim.SWITCHES + 1] = moves
    if model.dims.busy >= 0:
        use[np.arange(len(moves)), model.dims.busy + device] = moves[:, Dim.LATENCY]
    return use
