"""Usage of whole placements, for many at once: the cost model's totals of each placement
(an option per stage), summed stage by stage in the kernels' order (a stage's moves in, in
input order, then its execution), so that they equal the plan rows of the layered graph
bit for bit. Brute force evaluates thousands of placements a step with it. Local search
ranks a placement's single moves by what each changes (``single_move_usage``, equal
within rounding) and evaluates the one it takes whole. Arrays are the cost model's
(``eip.costmodel.CostModel``): N stages, O options, D devices, E input edges, Q usage
dimensions.
"""

from enum import IntEnum

import numpy as np
from numba import njit


class Load(IntEnum):
    """Slots of ``placement_loads``' last axis."""

    BUSY_MS = 0  # the device's busy time per frame: its stages' execution and the moves into them
    EXEC_MJ = 1  # its stages' execution energy per frame


@njit(cache=True)
def moved(moves, src_option, src_device, dst_device, copies):
    """One input edge of a stage under one placement: the copy-once rule. A tensor moves
    once to each other device that reads it; the first reader there pays, later readers
    there use the copy.

    ``moves`` (O, D, 2) latency ms / energy mJ of moving the producer's output, run on
    option a, to device b (``CostModel.moves`` of the producer); ``src_option`` the
    producer's option, ``src_device`` / ``dst_device`` the producer's and the reader's
    device, ``copies`` the int64 bitmask of the devices already holding the output.
    Returns ``(latency ms, energy mJ, crossing, copies)``: what the reader pays (0 where the
    data is on its device already), 1.0 where the edge crosses devices, and the updated
    bitmask.
    """
    if src_device == dst_device:
        return 0.0, 0.0, 0.0, copies
    if (copies >> dst_device) & 1 == 1:
        return 0.0, 0.0, 1.0, copies
    return moves[src_option, dst_device, 0], moves[src_option, dst_device, 1], 1.0, copies | (np.int64(1) << dst_device)


@njit(cache=True)
def receive(moves, src_option, src_device, dst_device, copies):
    """``moved`` for P placements at once (the lowering's transitions): ``src_option``,
    ``src_device``, ``dst_device``, ``copies`` (P,) int64. Returns ``(cost (P, 2),
    crossing (P,), copies (P,))``."""
    p_count = src_option.shape[0]
    cost = np.zeros((p_count, 2))
    crossing = np.zeros(p_count)
    held = np.empty(p_count, dtype=np.int64)
    for i in range(p_count):
        cost[i, 0], cost[i, 1], crossing[i], held[i] = moved(moves, src_option[i], src_device[i], dst_device[i],
                                                              copies[i])
    return cost, crossing, held


@njit(cache=True)
def _placement_edges(placement, option_device, moves, edges, copies, out):
    """Fill ``out`` (E, 4) with what each edge costs under one placement (``edge_moves``'
    columns); ``copies`` (N,) int64 is scratch for the devices holding each output."""
    copies[:] = 0
    for e in range(edges.shape[0]):
        p, r = edges[e, 0], edges[e, 1]
        a = placement[p]
        out[e, 0], out[e, 1], out[e, 2], held = moved(moves[p], a, option_device[a], option_device[placement[r]],
                                                      copies[p])
        out[e, 3] = 1.0 if held != copies[p] else 0.0
        copies[p] = held


@njit(cache=True)
def edge_moves(options, option_device, moves, edges):
    """(P, E, 4) what each edge costs under placements ``options`` (P, N) int64: transfer
    latency ms, energy mJ, 1.0 where the producer sits on another device than the reader,
    and 1.0 where the data moves for this reader (``moved``). ``option_device`` (O,) device
    of each option; ``moves`` (N, O, D, 2) of every producer; ``edges`` (E, 2) int64
    (producer, reader) pairs by reader, then input order."""
    p_count, n = options.shape
    out = np.zeros((p_count, edges.shape[0], 4))
    copies = np.zeros(n, dtype=np.int64)
    for i in range(p_count):
        _placement_edges(options[i], option_device, moves, edges, copies, out[i])
    return out


@njit(cache=True)
def inbound_moves(options, option_device, moves, edges):
    """(P, N, 3) what each stage pays to receive its inputs under placements ``options``
    (P, N) int64 (arrays as in ``edge_moves``): latency ms, energy mJ and switches of its
    edges, summed in input order."""
    p_count, n = options.shape
    inbound = np.zeros((p_count, n, 3))
    copies = np.zeros(n, dtype=np.int64)
    costs = np.zeros((edges.shape[0], 4))  # one placement's edges at a time
    for i in range(p_count):
        _placement_edges(options[i], option_device, moves, edges, copies, costs)
        for e in range(edges.shape[0]):
            for j in range(3):
                inbound[i, edges[e, 1], j] += costs[e, j]
    return inbound


@njit(cache=True)
def placement_loads(options, inbound, exec_ms, exec_mj, option_device, n_devices):
    """(P, D, 2) each device's load under placements ``options`` (P, N) int64 (``Load``
    slots), accumulated stage by stage: ``inbound`` (P, N, 3) from ``inbound_moves``;
    ``exec_ms``, ``exec_mj`` (N, O) per stage and option; ``option_device`` (O,)."""
    p_count, n = options.shape
    loads = np.zeros((p_count, n_devices, 2))
    for i in range(p_count):
        for s in range(n):
            o = options[i, s]
            d = option_device[o]
            loads[i, d, Load.BUSY_MS] += inbound[i, s, 0]
            loads[i, d, Load.BUSY_MS] += exec_ms[s, o]
            loads[i, d, Load.EXEC_MJ] += exec_mj[s, o]
    return loads


@njit(cache=True)
def _add_stage(use, s, o, sign, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, memory, accuracy, busy,
               power):
    """Add ``sign`` times stage s's own usage on option o to ``use`` (Q,): its execution,
    memory and accuracy loss, and its device's busy time and execution energy."""
    d = option_device[o]
    use[0] += sign * exec_ms[s, o]
    use[1] += sign * exec_mj[s, o]
    use[memory + d] += sign * mem_mb[s, o]
    if accuracy >= 0:
        use[accuracy] += sign * accuracy_loss[s, o]
    if busy >= 0:
        use[busy + d] += sign * exec_ms[s, o]
    if power >= 0:
        use[power + d] += sign * exec_mj[s, o]


@njit(cache=True)
def placement_usage(options, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, moves, edges, n_devices,
                    memory, accuracy, busy, power, q):
    """(P, Q) usage of placements ``options`` (P, N) int64, ``inf`` where a stage cannot run
    on its option or an input cannot reach it.

    ``exec_ms``, ``exec_mj``, ``mem_mb``, ``accuracy_loss`` (N, O) per stage and option;
    ``option_device``, ``moves`` and ``edges`` as in ``inbound_moves``. Dimensions 0-2 are
    latency ms, energy mJ and switches; ``memory + d`` is MB held on device d; ``accuracy``
    the summed loss (points); ``busy + d`` and ``power + d`` device d's ``placement_loads``;
    each -1 when the model tracks none.
    """
    p_count, n = options.shape
    inbound = inbound_moves(options, option_device, moves, edges)
    use = np.zeros((p_count, q))
    for i in range(p_count):
        for s in range(n):
            o = options[i, s]
            for j in range(3):
                use[i, j] += inbound[i, s, j]
            # (busy time and power from the loads below, summed in the graph's order)
            _add_stage(use[i], s, o, 1.0, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, memory, accuracy,
                       -1, -1)
    if busy >= 0 or power >= 0:
        loads = placement_loads(options, inbound, exec_ms, exec_mj, option_device, n_devices)
        for i in range(p_count):
            for d in range(n_devices):
                if busy >= 0:
                    use[i, busy + d] = loads[i, d, Load.BUSY_MS]
                if power >= 0:
                    use[i, power + d] = loads[i, d, Load.EXEC_MJ]
    return use


@njit(cache=True)
def _readers_of(edges, n):
    """The input edges (E, 2) (producer, reader) by producer, in CSR form: ``start`` (N + 1,)
    and ``reader`` (E,), stage p's readers being ``reader[start[p]:start[p + 1]]``."""
    start = np.zeros(n + 1, dtype=np.int64)
    for e in range(edges.shape[0]):
        start[edges[e, 0] + 1] += 1
    for p in range(n):
        start[p + 1] += start[p]
    fill = start[:-1].copy()
    reader = np.empty(edges.shape[0], dtype=np.int64)
    for e in range(edges.shape[0]):
        reader[fill[edges[e, 0]]] = edges[e, 1]
        fill[edges[e, 0]] += 1
    return start, reader


@njit(cache=True)
def _output_cost(p, placement, option_device, moves, start, reader, cost):
    """Fill ``cost`` (3 + D,) with what stage p's output costs to reach its readers under
    ``placement`` (N,) (``moved``'s copy-once rule; ``start``, ``reader`` from
    ``_readers_of``): latency ms, energy mJ, the readers on another device (switches), then
    per device the ms of the copy into it (its busy time)."""
    cost[:] = 0.0
    a = placement[p]
    src = option_device[a]
    held = np.int64(0)
    for e in range(start[p], start[p + 1]):
        dst = option_device[placement[reader[e]]]
        ms, mj, crossing, now = moved(moves[p], a, src, dst, held)
        cost[0] += ms
        cost[1] += mj
        cost[2] += crossing
        if now != held:
            cost[3 + dst] += ms
        held = now


@njit(cache=True)
def _swap_output(use, old, new, busy):
    """Replace an output's ``_output_cost`` ``old`` (3 + D,) by ``new`` in ``use`` (Q,)."""
    for j in range(3):
        use[j] += new[j] - old[j]
    if busy >= 0:
        for d in range(old.shape[0] - 3):
            use[busy + d] += new[3 + d] - old[3 + d]


@njit(cache=True)
def single_move_usage(current, base, stage_of, alt, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, moves,
                      edges, n_devices, memory, accuracy, busy, power):
    """(M, Q) usage of the M placements that differ from ``current`` (N,) int64 in one
    stage: stage ``stage_of[i]`` moved to option ``alt[i]`` (M,) int64. ``base`` (Q,) is
    ``current``'s usage (``placement_usage``), finite; the other arrays as in
    ``placement_usage``.

    Only what a move changes is recomputed: the stage's own usage, the copies of its output,
    and those of each of its inputs' outputs (a reader that moves can make or spare a copy
    for the other readers on its old and new device). That is O(degree) per move where
    ``placement_usage`` is O(N + E); the sums run in another order, so they equal its totals
    within rounding, not bit for bit.
    """
    n = current.shape[0]
    start, reader = _readers_of(edges, n)
    in_start = np.searchsorted(edges[:, 1], np.arange(n + 1))  # (edges are by reader)
    old = np.zeros((n, 3 + n_devices))  # (N, 3 + D) each output's cost under current
    for p in range(n):
        _output_cost(p, current, option_device, moves, start, reader, old[p])
    placement = current.copy()
    new = np.zeros(3 + n_devices)
    use = np.empty((stage_of.shape[0], base.shape[0]))
    for i in range(stage_of.shape[0]):
        s = stage_of[i]
        use[i] = base
        _add_stage(use[i], s, current[s], -1.0, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, memory,
                   accuracy, busy, power)
        _add_stage(use[i], s, alt[i], 1.0, exec_ms, exec_mj, mem_mb, accuracy_loss, option_device, memory, accuracy,
                   busy, power)
        placement[s] = alt[i]
        _output_cost(s, placement, option_device, moves, start, reader, new)
        _swap_output(use[i], old[s], new, busy)
        for e in range(in_start[s], in_start[s + 1]):
            p = edges[e, 0]
            _output_cost(p, placement, option_device, moves, start, reader, new)
            _swap_output(use[i], old[p], new, busy)
        placement[s] = current[s]
    return use
