"""The compiler: a ``Scenario`` (names, units) -> a ``CostModel`` (dense arrays only).

All modelling happens here. An *option* is one way to run a stage: a device x a variant
(fp32, int8...) x a power mode of the device. A way measured without a mode on a device
with ``power_modes`` becomes one option per mode, its latency scaled by the mode's
``latency_scale`` and its energy by ``latency_scale x power_scale``; a way measured at a
mode is taken as measured (and replaces the scaled copy of the same variant there).
Stages form a DAG listed in a topological order (``inputs``; a chain by default). The
kernels only ever see the layered graph of ``eip.lowering``, usage dimensions and caps:
they never learn what an "NPU" or "int8" is.

Usage dimensions (``Dims``): latency ms, energy mJ, device switches, resident memory MB on
each device, then only when the model needs them: the summed accuracy loss, each device's
busy ms per frame (its execution plus the transfers into its stages) and each device's
execution energy mJ per frame. Every limit is a cap on one usage dimension (``inf``: no
cap): a frame rate caps busy time at the period, a power limit caps energy per frame at
power x period. The score weighs latency, energy, switches and accuracy loss (``goals``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import cached_property
from typing import NamedTuple, Sequence

import numpy as np

from .errors import MAX_NAME_CHARS, VALUE_RANGE, ScenarioError, out_of_range
from .goals import Weights, score_coefficients
from .kernels.bounds import completion_usage
from .kernels.contract import LayeredGraph
from .kernels.usage import Load, edge_moves, inbound_moves, placement_loads, placement_usage, single_move_usage
from .scenario import Constraints, Device, Scenario, Stage, Way


class Dim(IntEnum):
    """The usage dimensions every model has first; the others follow (``Dims``)."""

    LATENCY = 0
    ENERGY = 1
    SWITCHES = 2


class Dims(NamedTuple):
    """Where a model's usage dimensions after ``Dim``'s sit (-1: the model has none). The
    busy times come right after ``Dim``'s when tracked, so that arcs carry only R columns.

    Attributes:
        memory: MB held on device d at ``memory + d``.
        accuracy: the summed accuracy loss (points).
        busy: busy ms per frame of device d at ``busy + d``.
        power: execution mJ per frame of device d at ``power + d``.
        size: Q, the number of dimensions.
        arcs: R, the leading dimensions arcs (transfers) add to: latency, energy,
            switches, and the busy time of the receiving device when tracked.
    """

    memory: int
    accuracy: int
    busy: int
    power: int
    size: int
    arcs: int

#: Caps are compared with this relative slack: totals summed in another order differ in the
#: last bits, and a strict comparison would reject plans that sit exactly on a cap.
CAP_RTOL = 1e-9
#: split mode graphs (``CostModel.mode_graph_after``), and their marks (``_marks_after``), a
#: model keeps for its next solves: one per assignment and set searched before it, few
#: unless budgets reorder the assignments
MODE_GRAPHS_KEPT = 64
#: mode graphs fitted to caps (``CostModel.fitted_graph``) a model keeps per mode graph for
#: its next solves, the oldest dropped first: a frontier walk or a report's sensitivity
#: re-solves tighten caps that a kept graph was fitted to, and fitting that one again costs
#: a fraction of fitting the whole mode graph (a DAG's frontier states: millions of arcs)
FITTED_KEPT = 4
#: graphs per mode graph whose usages by dimension a model keeps (``CostModel.graph_uses``,
#: the last it was asked for): those of the latest caps' solves, which ``fitted_graph`` keeps too
USES_KEPT = 2


class LimitKind(IntEnum):
    """What a limit caps (``Limit``)."""

    LATENCY = 0
    ENERGY = 1
    MEMORY = 2            # of one device
    ACCURACY = 3
    PERIOD = 4            # every device's busy time: the frame period
    AVERAGE_POWER = 5     # the whole pipeline's energy per frame at the frame rate
    SUSTAINED_POWER = 6   # one device's execution energy per frame at the frame rate


class Limit(NamedTuple):
    """One limit of a model in its user's terms: ``value`` ``unit`` (``inf``: none), on the
    usage dimensions ``dims``, where a usage of u counts as u / ``per_unit`` units (1, or
    the period in ms for a power in W); the most used of ``dims`` is what counts."""

    kind: LimitKind
    device: int           # the device of a per-device limit (-1: none)
    name: str
    unit: str
    value: float
    dims: tuple[int, ...]
    per_unit: float = 1.0

    def used(self, usage: np.ndarray) -> float:
        """How much of this limit a usage vector (Q,) uses, in ``unit``."""
        return float(max(usage[j] for j in self.dims) / self.per_unit)

    def breaks(self, used: float) -> bool:
        """Whether a use of ``used`` (in ``unit``, as ``used`` gives it) breaks this limit: its
        own value with the caps' tolerance (limits may share a usage dimension, whose cap in
        ``CostModel.caps`` is the tightest of them)."""
        return used > cap_with_tolerance(self.value)


def cap_with_tolerance(cap: np.ndarray) -> np.ndarray:
    """The value a usage total may reach and still count as within ``cap`` (inf stays inf)."""
    return cap + CAP_RTOL * np.maximum(1.0, cap)


@dataclass(frozen=True, eq=False)
class CostModel:
    """Dense cost tensors of one planning problem (N stages, O options, D devices).

    Attributes:
        exec_ms, exec_mj, mem_mb: (N, O) float64 execution latency, energy and resident
            memory of stage s on option o; ``inf`` where the option cannot run the stage.
        option_device: (O,) int64 device index of each option.
        output_mb: (N, O) float64 size of each stage's output tensor when run on option o.
        xfer_ms_per_mb, xfer_mj_per_mb: (D, D) float64 cost of moving one MB from device a
            to device b; 0 on the diagonal, ``inf`` where there is no link.
        link_mask: (D, D) bool, True where a tensor can move (always on the diagonal).
        mem_cap_mb: (D,) float64 memory budget per device (``inf`` for none).
        max_latency_ms, max_energy_mj: pipeline caps (``inf`` for none).
        inputs: per stage, the indices of the earlier stages whose outputs it reads
            (``((), (0,), (1,), ...)`` for a chain).
        accuracy_loss: (N, O) float64 points of quality lost by running stage s on option o.
        option_variant: (O,) the variant name of each option.
        option_mode: (O,) int64 index of each option's power mode in ``mode_names`` of its
            device (-1: the device has no modes).
        mode_names: per device, the names of its power modes.
        fixed_mode: (D,) bool, True for a device whose stages all run in one mode.
        max_accuracy_loss: cap on the summed accuracy loss (``inf`` for none).
        period_ms: the frame period, cap on every device's busy time (``inf``: no frame rate).
        max_power_w: average power cap over the whole pipeline at the frame rate.
        sustained_power_w: (D,) execution power each device sustains at the frame rate.
        track_busy: keep busy time per device as usage dimensions without a frame rate
            (the ``throughput`` goal needs them).
        estimated: (N, O) bool, True where stage s's costs on option o are an estimate (a
            roofline model), not a measurement.
    """

    exec_ms: np.ndarray
    exec_mj: np.ndarray
    mem_mb: np.ndarray
    option_device: np.ndarray
    output_mb: np.ndarray
    xfer_ms_per_mb: np.ndarray
    xfer_mj_per_mb: np.ndarray
    link_mask: np.ndarray
    mem_cap_mb: np.ndarray
    max_latency_ms: float
    max_energy_mj: float
    stage_names: tuple[str, ...]
    device_names: tuple[str, ...]
    option_names: tuple[str, ...]
    inputs: tuple[tuple[int, ...], ...]
    accuracy_loss: np.ndarray
    option_variant: tuple[str, ...]
    option_mode: np.ndarray
    mode_names: tuple[tuple[str, ...], ...]
    fixed_mode: np.ndarray
    max_accuracy_loss: float = np.inf
    period_ms: float = np.inf
    max_power_w: float = np.inf
    sustained_power_w: np.ndarray | None = None
    track_busy: bool = False
    estimated: np.ndarray | None = None
    name: str = "pipeline"
    # what depends only on the costs and the graph, not on the budgets: shared with the
    # copies ``dataclasses.replace`` makes to move a budget (sensitivity, sweeps)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_stages(self) -> int:
        return self.exec_ms.shape[0]

    @property
    def n_options(self) -> int:
        return self.exec_ms.shape[1]

    @property
    def n_devices(self) -> int:
        return self.mem_cap_mb.shape[0]

    @classmethod
    def from_arrays(
        cls,
        exec_ms: np.ndarray,
        exec_mj: np.ndarray,
        mem_mb: np.ndarray,
        output_mb: np.ndarray,
        xfer_ms_per_mb: np.ndarray,
        xfer_mj_per_mb: np.ndarray,
        mem_cap_mb: np.ndarray,
        *,
        link_mask: np.ndarray | None = None,
        max_latency_ms: float | None = None,
        max_energy_mj: float | None = None,
        stage_names: Sequence[str] | None = None,
        device_names: Sequence[str] | None = None,
        inputs: Sequence[Sequence[int]] | None = None,
        name: str = "pipeline",
    ) -> "CostModel":
        """Build a cost model straight from profiler tensors (one option per device).

        ``inputs[s]`` lists the indices of the earlier stages stage s reads (default: a
        chain, each stage reading the one before). ``output_mb`` is (N,), or (N, D) when the
        size of a stage's output depends on where it runs.
        ``exec_*``/``mem_mb`` are (N, D) with ``inf`` (or NaN-free ``inf`` rows) where a
        device cannot run a stage; ``xfer_*`` are (D, D) per-MB costs, ``inf`` or a False
        ``link_mask`` entry where there is no link. Raises ``ScenarioError`` naming the
        argument and index of the first bad value.
        """
        check = _ArrayChecker()
        exec_ms = check.matrix("exec_ms", exec_ms, allow_inf=True)
        n, d = exec_ms.shape
        exec_mj = check.matrix("exec_mj", exec_mj, shape=(n, d), allow_inf=True)
        mem_mb = check.matrix("mem_mb", mem_mb, shape=(n, d), allow_inf=True)
        output_mb = check.sizes("output_mb", output_mb, n, d)
        xfer_ms = check.matrix("xfer_ms_per_mb", xfer_ms_per_mb, shape=(d, d), allow_inf=True)
        xfer_mj = check.matrix("xfer_mj_per_mb", xfer_mj_per_mb, shape=(d, d), allow_inf=True)
        mem_cap = check.vector("mem_cap_mb", mem_cap_mb, d, allow_inf=True)
        if link_mask is None:
            mask = np.isfinite(xfer_ms) & np.isfinite(xfer_mj)
        else:
            mask = np.asarray(link_mask)
            if mask.shape != (d, d) or mask.dtype != bool:
                raise ScenarioError("<arrays>", "link_mask", f"expected a ({d}, {d}) bool array, got {mask.dtype} {mask.shape}")
            bad = mask & ~(np.isfinite(xfer_ms) & np.isfinite(xfer_mj))
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise ScenarioError("<arrays>", f"xfer_ms_per_mb[{i}, {j}]", "expected a finite cost where link_mask is True")
        runnable = np.isfinite(exec_ms) & np.isfinite(exec_mj) & np.isfinite(mem_mb)
        partial = (np.isfinite(exec_ms) | np.isfinite(exec_mj) | np.isfinite(mem_mb)) & ~runnable
        if partial.any():
            s, o = map(int, np.argwhere(partial)[0])
            raise ScenarioError("<arrays>", f"exec_ms[{s}, {o}]", "expected exec_ms, exec_mj and mem_mb all finite or all inf")
        idle = np.flatnonzero(~runnable.any(axis=1))
        if idle.size:
            raise ScenarioError("<arrays>", f"exec_ms[{int(idle[0])}]", "no device can run this stage (all inf)")
        stage_names = check.names("stage_names", stage_names, n, "stage")
        device_names = check.names("device_names", device_names, d, "device")
        return cls._assemble(
            exec_ms, exec_mj, mem_mb, output_mb, xfer_ms, xfer_mj, mask, mem_cap,
            _cap(max_latency_ms, "max_latency_ms"), _cap(max_energy_mj, "max_energy_mj"),
            stage_names, device_names, check.inputs(inputs, n), name,
        )

    @classmethod
    def _assemble(cls, exec_ms, exec_mj, mem_mb, output_mb, xfer_ms, xfer_mj, mask, mem_cap,
                  max_latency_ms, max_energy_mj, stage_names, device_names, inputs, name, **ways) -> "CostModel":
        """The model of cost arrays over one option per device (``ways``: the fields of
        several ways per device, which ``compile_scenario`` gives)."""
        d = len(device_names)
        one_way = dict(option_device=np.arange(d, dtype=np.int64), option_names=tuple(device_names),
                       accuracy_loss=np.zeros(exec_ms.shape), option_variant=("default",) * d,
                       option_mode=np.full(d, -1, dtype=np.int64), mode_names=((),) * d,
                       fixed_mode=np.zeros(d, dtype=bool), sustained_power_w=np.full(d, np.inf),
                       estimated=np.zeros(exec_ms.shape, dtype=bool))
        runnable = np.isfinite(exec_ms)
        xfer_ms = np.where(mask, xfer_ms, np.inf)
        xfer_mj = np.where(mask, xfer_mj, np.inf)
        np.fill_diagonal(xfer_ms, 0.0)
        np.fill_diagonal(xfer_mj, 0.0)
        mask = mask.copy()
        np.fill_diagonal(mask, True)
        return cls(
            exec_ms=np.where(runnable, exec_ms, np.inf),
            exec_mj=np.where(runnable, exec_mj, np.inf),
            mem_mb=np.where(runnable, mem_mb, np.inf),
            output_mb=np.ascontiguousarray(np.broadcast_to(output_mb.reshape(len(output_mb), -1), exec_ms.shape)),
            xfer_ms_per_mb=xfer_ms,
            xfer_mj_per_mb=xfer_mj,
            link_mask=mask,
            mem_cap_mb=mem_cap,
            max_latency_ms=max_latency_ms,
            max_energy_mj=max_energy_mj,
            stage_names=tuple(stage_names),
            device_names=tuple(device_names),
            inputs=inputs,
            name=name,
            **(one_way | ways),
        )

    @cached_property
    def dims(self) -> Dims:
        """The usage dimensions this model needs (``Dims``)."""
        d, q = self.n_devices, Dim.SWITCHES + 1
        accuracy = busy = power = -1
        if self.period_ms < np.inf or self.track_busy:
            busy, q = q, q + d
        arcs = q
        memory, q = q, q + d
        if self.max_accuracy_loss < np.inf or self.accuracy_loss[np.isfinite(self.exec_ms)].any():
            accuracy, q = q, q + 1
        if np.isfinite(self.sustained_power_w).any():
            power, q = q, q + d
        return Dims(memory, accuracy, busy, power, q, arcs)

    @cached_property
    def caps(self) -> np.ndarray:
        """(Q,) cap per usage dimension (``Dims``): latency, energy (and average power x
        period), switches (none), busy time (the period) when tracked, memory per device,
        then accuracy loss and execution energy (sustained power x period) when tracked."""
        dims = self.dims
        caps = np.full(dims.size, np.inf)
        caps[Dim.LATENCY] = self.max_latency_ms
        caps[Dim.ENERGY] = min(self.max_energy_mj, self.max_power_w * self.period_ms)
        caps[dims.memory:dims.memory + self.n_devices] = self.mem_cap_mb
        if dims.accuracy >= 0:
            caps[dims.accuracy] = self.max_accuracy_loss
        if dims.busy >= 0:
            caps[dims.busy:dims.busy + self.n_devices] = self.period_ms
        if dims.power >= 0:
            caps[dims.power:dims.power + self.n_devices] = self.sustained_power_w * self.period_ms
        return caps

    @cached_property
    def limits(self) -> tuple[Limit, ...]:
        """Every limit in its user's terms: the latency and energy caps and each device's
        memory (finite or not), then the limits the scenario sets: accuracy loss, frame
        period, average power and each device's sustained power."""
        dims, d = self.dims, self.n_devices
        out = [Limit(LimitKind.LATENCY, -1, "latency cap", "ms", self.max_latency_ms, (Dim.LATENCY,)),
               Limit(LimitKind.ENERGY, -1, "energy cap", "mJ", self.max_energy_mj, (Dim.ENERGY,))]
        out += [Limit(LimitKind.MEMORY, j, f"{name} memory", "MB", float(self.mem_cap_mb[j]), (dims.memory + j,))
                for j, name in enumerate(self.device_names)]
        if self.max_accuracy_loss < np.inf:
            out.append(Limit(LimitKind.ACCURACY, -1, "accuracy budget", "points", self.max_accuracy_loss,
                             (dims.accuracy,)))
        if self.period_ms < np.inf:
            out.append(Limit(LimitKind.PERIOD, -1, "frame period", "ms", self.period_ms,
                             tuple(range(dims.busy, dims.busy + d))))
        if self.max_power_w < np.inf:
            out.append(Limit(LimitKind.AVERAGE_POWER, -1, "average power", "W", self.max_power_w, (Dim.ENERGY,),
                             self.period_ms))
        out += [Limit(LimitKind.SUSTAINED_POWER, j, f"{name} sustained power", "W", float(self.sustained_power_w[j]),
                      (dims.power + j,), self.period_ms)
                for j, name in enumerate(self.device_names) if self.sustained_power_w[j] < np.inf]
        return tuple(out)

    def with_limit(self, limit: Limit, value: float) -> "CostModel":
        """This model with ``limit`` set to ``value`` (its unit), all else equal (a new frame
        period moves the power limits' energy per frame with it)."""
        if limit.kind == LimitKind.LATENCY:
            return replace(self, max_latency_ms=value)
        if limit.kind == LimitKind.ENERGY:
            return replace(self, max_energy_mj=value)
        if limit.kind == LimitKind.ACCURACY:
            return replace(self, max_accuracy_loss=value)
        if limit.kind == LimitKind.PERIOD:
            return replace(self, period_ms=value)
        if limit.kind == LimitKind.AVERAGE_POWER:
            return replace(self, max_power_w=value)
        field_name = "mem_cap_mb" if limit.kind == LimitKind.MEMORY else "sustained_power_w"
        values = getattr(self, field_name).copy()
        values[limit.device] = value
        return replace(self, **{field_name: values})

    @cached_property
    def caps_tol(self) -> np.ndarray:
        """(Q,) the caps with the comparison tolerance applied: what the kernels compare with."""
        return cap_with_tolerance(self.caps)

    @cached_property
    def baselines(self) -> tuple[float, float]:
        """(L_base, E_base): sums of each stage's cheapest execution latency / energy over
        its ways."""
        return (
            max(float(self.exec_ms.min(axis=1).sum()), 1e-6),
            max(float(self.exec_mj.min(axis=1).sum()), 1e-6),
        )

    def coefficients(self, weights: Weights | Sequence[float]) -> np.ndarray:
        """(Q,) score weight per usage dimension for goal ``weights`` (a ``Weights``, or
        its (latency, energy, switch[, accuracy]) values)."""
        weights = Weights(*weights)
        coef = np.zeros(self.dims.size)
        # a slice (a list index costs 0.4 us more: this runs once per eip.plan)
        coef[Dim.LATENCY:Dim.SWITCHES + 1] = score_coefficients(weights, self.baselines)
        if self.dims.accuracy >= 0:
            coef[self.dims.accuracy] = weights.accuracy
        return coef

    def dimension_coefficients(self, dim: int) -> np.ndarray:
        """(Q,) the score that is usage dimension ``dim`` alone (ties: the engine's ranking)."""
        coef = np.zeros(self.dims.size)
        coef[dim] = 1.0
        return coef

    @property
    def least_usage(self) -> np.ndarray:
        """(Q,) the least usage any plan could have in each dimension on its own (every cap
        ignored; inf in every dimension when no placement exists at all)."""
        return self.shared("least_usage", lambda: _least_usage(self.graph))

    @property
    def mode_least_usage(self) -> np.ndarray:
        """(M, Q) ``least_usage`` of each graph of ``mode_graphs``."""
        return self.shared("mode_least_usage", lambda: np.array([_least_usage(g) for g in self.mode_graphs]))

    @cached_property
    def has_ways(self) -> bool:
        """True when some device offers more than one way, a named variant or power modes."""
        return (any(v != "default" for v in self.option_variant) or bool((self.option_mode >= 0).any())
                or len(set(self.option_device.tolist())) < len(self.option_device))

    @cached_property
    def is_chain(self) -> bool:
        """True when every stage reads exactly the stage before it (the first reads none)."""
        return all(inputs == ((s - 1,) if s else ()) for s, inputs in enumerate(self.inputs))

    @cached_property
    def readers(self) -> tuple[tuple[int, ...], ...]:
        """Per stage, the later stages that read its output, in stage order."""
        out: list[list[int]] = [[] for _ in range(self.n_stages)]
        for q, inputs in enumerate(self.inputs):
            for p in inputs:
                out[p].append(q)
        return tuple(tuple(r) for r in out)

    @property
    def moves(self) -> np.ndarray:
        """(N, O, D, 2) latency ms / energy mJ of moving the output of stage p, run on
        option a, to device b (the transfer rule, written once): ``output_mb[p, a]`` times the
        link's per-MB costs; 0 when b is a's own device; without a link only an empty
        tensor can move (for free), anything else is ``inf``."""
        return self.shared("moves", self._moves)

    def _moves(self) -> np.ndarray:
        n, o = self.exec_ms.shape
        src = self.option_device[:, None]
        dst = np.arange(self.n_devices)[None, :]
        moving = src != dst
        linked = self.link_mask[src, dst]
        size = self.output_mb[:, :, None]
        impossible = moving & ~linked & (size > 0)
        out = np.zeros((n, o, self.n_devices, 2))
        for k, per_mb in enumerate((self.xfer_ms_per_mb, self.xfer_mj_per_mb)):
            # per-MB cost 0 where no move or no link, so a 0 MB tensor never meets an inf
            per_mb = np.where(moving & linked, per_mb[src, dst], 0.0)
            out[..., k] = np.where(impossible, np.inf, size * per_mb)
        return out

    @cached_property
    def edges(self) -> np.ndarray:
        """(E, 2) int64 every (producer, reader) pair of stages, by reader then input order."""
        pairs = [(p, q) for q, inputs in enumerate(self.inputs) for p in inputs]
        return np.array(pairs, dtype=np.int64).reshape(len(pairs), 2)

    def edge_costs(self, options: np.ndarray) -> np.ndarray:
        """(P, E, 4) what each edge (``edges``) costs under placements ``options`` (P, N)
        (option per stage): transfer latency ms, energy mJ, 1 where the producer sits on
        another device than the reader, and 1 where the data moves for this reader. A tensor
        moves once to each device; the first reader there pays, later readers there use the
        copy and pay nothing (``kernels.usage.edge_moves``)."""
        return edge_moves(_placements(options), self.option_device, self.moves, self.edges)

    def inbound(self, options: np.ndarray) -> np.ndarray:
        """(P, N, 3) what each stage pays to receive its inputs under placements ``options``
        (P, N): latency ms, energy mJ and switches of its edges summed in input order
        (``kernels.usage.inbound_moves``)."""
        return inbound_moves(_placements(options), self.option_device, self.moves, self.edges)

    def usage(self, options: np.ndarray) -> np.ndarray:
        """(P, Q) usage vectors of placements ``options`` (P, N), accumulated stage by stage
        (receiving, then executing: the kernels' order, so totals are bit-equal); ``inf``
        where a stage cannot run on its option or an input cannot reach it
        (``kernels.usage.placement_usage``)."""
        dims = self.dims
        return placement_usage(_placements(options), self.exec_ms, self.exec_mj, self.mem_mb, self.accuracy_loss,
                               self.option_device, self.moves, self.edges, self.n_devices, dims.memory,
                               dims.accuracy, dims.busy, dims.power, dims.size)

    def single_moves(self, options: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``move_choices`` of ``options`` (N,) with their placements: (stage (M,), new
        option (M,), placements (M, N))."""
        stage_of, alt = self.move_choices(options)
        return stage_of, alt, moved_placements(options, stage_of, alt)

    def move_choices(self, options: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every placement that differs from ``options`` (N,) in one stage, moved to another
        option that can run it, keeping every fixed-mode device in one mode: (stage (M,),
        new option (M,))."""
        stage_of, alt = self._runnable
        other = alt != options[stage_of]
        stage_of, alt = stage_of[other], alt[other]
        if not self.fixed_mode.any():
            return stage_of, alt
        if self.modes_hold(options)[0]:
            keep = self._modes_kept(options, stage_of, alt)
        else:  # (a move may mend a device in two modes: whole placements tell)
            keep = self.modes_hold(moved_placements(options, stage_of, alt))
        return stage_of[keep], alt[keep]

    @cached_property
    def _runnable(self) -> tuple[np.ndarray, np.ndarray]:
        """(stage (R,), option (R,)) every pair whose stage can run on the option."""
        return np.nonzero(np.isfinite(self.exec_ms))

    def _modes_kept(self, options: np.ndarray, stage_of: np.ndarray, alt: np.ndarray) -> np.ndarray:
        """(M,) bool: whether moving stage ``stage_of[i]`` to option ``alt[i]`` keeps every
        fixed-mode device in one mode, from a placement ``options`` (N,) that does
        (``modes_hold``): where no other stage on the new option's device runs another mode."""
        device, mode = self.option_device[options], self.option_mode[options]
        fixed = self.fixed_mode[device]
        count = np.zeros((self.n_devices, max(self.option_mode.max(), 0) + 1), dtype=np.int64)  # stages per mode
        np.add.at(count, (device[fixed], mode[fixed]), 1)
        to_device, to_mode = self.option_device[alt], self.option_mode[alt]
        leaving = (device[stage_of] == to_device) & (mode[stage_of] != to_mode)  # (the moving stage's own mode)
        others = count[to_device].sum(axis=1) - count[to_device, to_mode] - leaving
        return ~self.fixed_mode[to_device] | (others == 0)

    def moved_usage(self, options: np.ndarray, base: np.ndarray, stage_of: np.ndarray,
                    alt: np.ndarray) -> np.ndarray:
        """(M, Q) usage of ``options`` (N,), of usage ``base`` (Q,) (``usage``), with stage
        ``stage_of[i]`` moved to option ``alt[i]`` (``move_choices``): recomputed from what
        the move changes where ``base`` is finite (``kernels.usage.single_move_usage``;
        equal to ``usage`` within rounding), in full otherwise."""
        if not np.isfinite(base).all():
            return self.usage(moved_placements(options, stage_of, alt))
        dims = self.dims
        stage_of, alt = stage_of.astype(np.int64, copy=False), alt.astype(np.int64, copy=False)
        return single_move_usage(_placements(options)[0], base, stage_of, alt, self.exec_ms, self.exec_mj, self.mem_mb,
                                 self.accuracy_loss, self.option_device, self.moves, self.edges, self.n_devices,
                                 dims.memory, dims.accuracy, dims.busy, dims.power)

    def modes_hold(self, options: np.ndarray) -> np.ndarray:
        """(P,) bool: placements ``options`` (P, N) run every fixed-mode device in one mode."""
        options = np.atleast_2d(options)
        mode = self.option_mode[options]
        device = self.option_device[options]
        ok = np.ones(options.shape[0], dtype=bool)
        for d in np.flatnonzero(self.fixed_mode):
            on = np.where(device == d, mode, -1)
            first = on.max(axis=1)  # the mode of some stage on d (-1: none)
            ok &= np.all((on == -1) | (on == first[:, None]), axis=1)
        return ok

    def device_loads(self, options: np.ndarray) -> np.ndarray:
        """(P, D, 2) per device, under placements ``options`` (P, N): its busy time per frame
        (ms: the execution of its stages plus the moves into them, ``Load.BUSY_MS``) and the
        execution energy of its stages (mJ, ``Load.EXEC_MJ``), accumulated stage by stage."""
        options = _placements(options)
        return placement_loads(options, self.inbound(options), self.exec_ms, self.exec_mj, self.option_device,
                               self.n_devices)

    @property
    def graph(self) -> LayeredGraph:
        """The model lowered to the kernels' layered graph (``eip.lowering``): exact unless
        ``relaxed`` names tensors it forgot to stay small (a DAG too wide for its order)."""
        return self._lowered[0]

    @property
    def relaxed(self) -> dict:
        """Producing stage -> ``lowering.Relaxed`` for every tensor the graph forgot about;
        empty when the graph is exact (always for a chain)."""
        return self._lowered[1]

    @property
    def mode_assignments(self) -> np.ndarray:
        """(M, D) int64: every way to give each fixed-mode device one of its modes (-1 for
        the others and for fixed devices no stage can run on); a single row of -1 when the
        model has none."""
        def assignments() -> np.ndarray:
            runnable = np.isfinite(self.exec_ms).any(axis=0)
            choices = [np.unique(self.option_mode[runnable & (self.option_device == d)]) if self.fixed_mode[d]
                       else np.array([-1]) for d in range(self.n_devices)]
            grid = np.meshgrid(*[c if len(c) else np.array([-1]) for c in choices], indexing="ij")
            return np.stack([g.reshape(-1) for g in grid], axis=1).astype(np.int64)
        return self.shared("mode_assignments", assignments)

    @cached_property  # read by every solve: the shared lookup costs 3-5 us of a 60 us plan
    def mode_graphs(self) -> list[LayeredGraph]:
        """The graph restricted to each row of ``mode_assignments`` (the graph itself when
        there is one row): a fixed-mode device's options in other modes removed."""
        def graphs() -> list[LayeredGraph]:
            from .lowering import restrict

            rows = self.mode_assignments
            if len(rows) == 1:
                return [self.graph]
            assigned = rows[:, self.option_device]  # (M, O) mode each option's device is given
            return [restrict(self.graph, (row < 0) | (row == self.option_mode)) for row in assigned]
        return self.shared("mode_graphs", graphs)

    def fitted_graph(self, m: int, caps: np.ndarray) -> LayeredGraph:
        """``mode_graphs[m]`` fitted to ``caps`` (Q,) (``contract.fitted``): fitted again from the
        smallest kept graph fitted to caps as loose or looser in every dimension, whose paths
        within ``caps`` are all the mode graph's (fitting drops only options and arcs that no
        path within its caps goes through), and kept for the next solves (FITTED_KEPT) when
        fitting dropped anything (a graph too small to fit is never kept: a sweep's solves on
        it pay no bookkeeping, 1 us rather than 11 us per new set of caps)."""
        from .kernels.contract import fitted

        kept = self._fitted_kept.setdefault(m, {})  # caps' bytes -> (caps, graph), oldest first
        base = self.mode_graphs[m]
        if kept:  # (never, for a graph too small to fit)
            held = kept.get(caps.tobytes())
            if held is not None:
                return held[1]
            bases = [graph for loose, graph in kept.values() if np.all(loose >= caps)]
            base = min(bases, key=lambda graph: len(graph.arc_tail), default=base)
        graph = fitted(base, caps)
        if graph is not base:
            if len(kept) >= FITTED_KEPT:
                del kept[next(iter(kept))]
            kept[caps.tobytes()] = (caps.copy(), graph)
        return graph

    def graph_uses(self, graph: LayeredGraph) -> tuple:
        """``bounds.by_dimension(graph)`` (the usages as column generation's passes read them)
        of one of this model's graphs, kept for the next solves on it: the last USES_KEPT
        times as many graphs as there are mode graphs that it was asked for, the oldest
        dropped first (those the solves of the latest caps fitted; a ways DAG 100x4
        mode graph's usage classes take 35-47 ms, its LP 0.16 s: a frontier over goals on the
        same caps, or a plan asked again, classes its graphs once)."""
        from .kernels.bounds import by_dimension

        kept = self.shared("graph_uses", dict)  # id(graph) -> (graph, uses), oldest first
        held = kept.get(id(graph))
        if held is not None and held[0] is graph:  # (the graph held too: its id is not reused)
            return held[1]
        uses = by_dimension(graph)
        if len(kept) >= USES_KEPT * len(self.mode_graphs):
            del kept[next(iter(kept))]
        kept[id(graph)] = (graph, uses)
        return uses

    @cached_property  # (read by every solve: the shared lookup costs 3-5 us of a 30 us plan)
    def _fitted_kept(self) -> dict:
        return self.shared("fitted_graphs", dict)

    def mode_graph_after(self, m: int, searched: frozenset[int]) -> tuple[LayeredGraph, np.ndarray]:
        """The graph of ``mode_graphs[m]`` without the plans that one of the assignments
        ``searched`` holds too, and its ``least_usage`` (Q,) (``split_after``), kept for the
        next solves (up to ``MODE_GRAPHS_KEPT``)."""
        return self._kept_after("mode_graphs_after", m, searched,
                                lambda: self.split_after(self.mode_graphs[m], m, searched))

    def split_after(self, graph: LayeredGraph, m: int, searched: frozenset[int]) -> tuple[LayeredGraph, np.ndarray]:
        """``graph``, a part of ``mode_graphs[m]`` (same keys), without the plans that one of
        the assignments ``searched`` holds too, and its ``least_usage`` (Q,); ``graph``
        itself when none of them does (``splits``).

        A plan holds its fixed-mode devices' modes only for the devices it runs stages on,
        so it belongs to every assignment that agrees on those (one that leaves the GPU
        unused is a plan of each GPU mode): the paths are split by the set of fixed-mode
        devices they use (``lowering.by_marks_used``) and those whose set the searched
        assignments agree on are dropped, so that each plan is searched once.
        """
        from .lowering import by_marks_used

        marks = self._marks_after(m, searched)
        if marks is None:
            return graph, self.mode_least_usage[m] if graph is self.mode_graphs[m] else _least_usage(graph)
        split = by_marks_used(graph, *marks)
        return split, _least_usage(split)

    def splits(self, m: int, searched: frozenset[int]) -> bool:
        """Whether one of the assignments ``searched`` holds plans of ``mode_graphs[m]`` too
        (``split_after``)."""
        return self._marks_after(m, searched) is not None

    def _marks_after(self, m: int, searched: frozenset[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """``lowering.by_marks_used``'s marks (O,) (a bit per fixed-mode device, by model
        option) and the unions (W,) of them whose plans no assignment ``searched`` holds
        besides ``mode_assignments[m]``; None when that is every union. Kept for the next
        solves: every solve of a model with several assignments asks for them (20 us each,
        a 0.37 ms plan of mobile_vision_ways)."""
        return self._kept_after("marks_after", m, searched, lambda: self._unions_after(m, searched))

    def _kept_after(self, name: str, m: int, searched: frozenset[int], compute):
        """``compute()`` for assignment ``m`` after the assignments ``searched``, kept under
        ``name`` (``shared``) for the next solves, up to MODE_GRAPHS_KEPT of them."""
        kept = self.shared(name, dict)
        key = (m, searched)
        if key not in kept:
            if len(kept) >= MODE_GRAPHS_KEPT:
                kept.clear()
            kept[key] = compute()
        return kept[key]

    def _unions_after(self, m: int, searched: frozenset[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """``_marks_after``, computed."""
        rows = self.mode_assignments
        fixed = np.flatnonzero((rows >= 0).any(axis=0))  # the fixed-mode devices some stage can run on
        bit = np.zeros(self.n_devices, dtype=np.int64)
        bit[fixed] = np.left_shift(1, np.arange(len(fixed)))
        unions = np.arange(1 << len(fixed))
        uses = (unions[:, None] >> np.arange(len(fixed))[None, :]) & 1 == 1  # (W, F) devices each union uses
        others = rows[sorted(searched)][:, fixed]  # (S, F)
        differs = others != rows[m, fixed][None, :]  # (S, F)
        # a union's plans are new when every searched assignment differs on a device it uses
        allowed = (differs[None, :, :] & uses[:, None, :]).any(axis=2).all(axis=1)  # (W,)
        return None if allowed.all() else (bit[self.option_device], allowed)

    @cached_property
    def states_per_option(self) -> float:
        """Options of the layered graph per (stage, stage option) pair that can run: 1 for a
        chain, more for a DAG whose frontier states split each stage option."""
        return self.graph.opt_use.shape[0] / int(np.isfinite(self.exec_ms).sum())

    @cached_property
    def _lowered(self) -> tuple:
        return self._lower(math.inf)

    def _lower(self, deadline: float) -> tuple:
        from .lowering import lower_chain, lower_dag

        return self.shared("graph", lambda: (lower_chain(self), {}) if self.is_chain else lower_dag(self, deadline))

    def lower(self, deadline: float = math.inf) -> None:
        """Lower the model to ``graph`` and ``mode_graphs`` now, kept as they are, unless a
        DAG's lowering sees ``time.perf_counter()`` pass ``deadline`` between two stages
        (``lowering.LoweringStopped``: nothing half-done is kept; the next call starts over)."""
        if "mode_graphs" not in self.__dict__:  # (every solve asks: once lowered, one dict lookup, not ``shared``'s)
            self._lower(deadline)
            self.mode_graphs

    @property
    def is_lowered(self) -> bool:
        """Whether ``mode_graphs`` (and so ``graph``) are computed and kept."""
        return self._held("mode_graphs")[1] is not None

    def shared(self, name: str, compute):
        """``compute()``, cached under ``name`` across the budget-moved copies of this model
        for as long as they keep the same cost arrays, graph and usage dimensions."""
        key, held = self._held(name)
        if held is None:
            held = self._derived[name] = (key, compute())
        return held[1]

    def _held(self, name: str) -> tuple[tuple, tuple | None]:
        """The key ``shared`` keeps ``name`` under, and what it keeps there (None: nothing
        computed for these arrays)."""
        key = (self.exec_ms, self.exec_mj, self.mem_mb, self.output_mb, self.xfer_ms_per_mb, self.xfer_mj_per_mb,
               self.link_mask, self.option_device, self.accuracy_loss, self.inputs, self.dims)
        held = self._derived.get(name)
        if held is None or any(a is not b and (isinstance(a, np.ndarray) or a != b) for a, b in zip(held[0], key)):
            return key, None
        return key, held


def _least_usage(graph: LayeredGraph) -> np.ndarray:
    """(Q,) the least usage of any path of ``graph`` in each dimension on its own (inf
    everywhere when it has none)."""
    completion, _ = completion_usage(graph)
    sources = slice(graph.step_start[0], graph.step_start[1])
    return (graph.opt_use[sources] + completion[sources]).min(axis=0, initial=np.inf)


def moved_placements(options: np.ndarray, stage_of: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """(M, N) ``options`` (N,) with stage ``stage_of[i]`` moved to option ``alt[i]``, one
    row per move."""
    placements = np.repeat(options[None, :], len(alt), axis=0)
    placements[np.arange(len(alt)), stage_of] = alt
    return placements


def _placements(options: np.ndarray) -> np.ndarray:
    """``options`` as the kernels take placements: (P, N) C-contiguous int64."""
    return np.ascontiguousarray(np.atleast_2d(options), dtype=np.int64)


def compile_scenario(scenario: Scenario) -> CostModel:
    """Lower a validated scenario to dense arrays: one option per (device, variant, mode)
    that some stage can run (module docstring)."""
    names = tuple(d.name for d in scenario.devices)
    index = {name: i for i, name in enumerate(names)}
    ways = [[(index[device], variant, mode, values) for device, variant, mode, values in _stage_ways(stage, scenario)]
            for stage in scenario.stages]
    options = _options(scenario, ways)
    column = {key: o for o, key in enumerate(options)}
    n, o_count = len(scenario.stages), len(options)
    costs = np.full((6, n, o_count), np.inf)  # latency, energy, memory, accuracy loss, output MB, estimated
    for s, stage_ways in enumerate(ways):
        for device, variant, mode, values in stage_ways:
            costs[:, s, column[(device, variant, mode)]] = values
    d = len(names)
    xfer_ms = np.full((d, d), np.inf)
    xfer_mj = np.full((d, d), np.inf)
    mask = np.zeros((d, d), dtype=bool)
    for link in scenario.links:
        pairs = [(link.source, link.target)] + ([(link.target, link.source)] if link.bidirectional else [])
        for a, b in pairs:
            i, j = index[a], index[b]
            xfer_ms[i, j], xfer_mj[i, j], mask[i, j] = link.latency_ms_per_mb, link.energy_mj_per_mb, True
    position = {stage.name: s for s, stage in enumerate(scenario.stages)}
    inputs = tuple(tuple(position[p] for p in stage.inputs) for stage in scenario.stages)
    runnable = np.isfinite(costs[0])
    devices = scenario.devices
    return CostModel._assemble(
        costs[0], costs[1], costs[2], np.where(runnable, costs[4], 0.0),
        xfer_ms, xfer_mj, mask,
        np.array([dev.memory_mb for dev in devices], dtype=np.float64),
        stage_names=tuple(s.name for s in scenario.stages), device_names=names, inputs=inputs, name=scenario.name,
        **budgets(scenario.constraints),
        option_device=np.array([dev for dev, _, _ in options], dtype=np.int64),
        option_names=tuple(_option_name(devices[dev], variant, mode, {v for e, v, _ in options if e == dev})
                           for dev, variant, mode in options),
        accuracy_loss=np.where(runnable, costs[3], 0.0),
        option_variant=tuple(variant for _, variant, _ in options),
        option_mode=np.array([-1 if mode is None else [m.name for m in devices[dev].power_modes].index(mode)
                              for dev, _, mode in options], dtype=np.int64),
        mode_names=tuple(tuple(m.name for m in dev.power_modes) for dev in devices),
        fixed_mode=np.array([dev.mode_policy == "fixed" for dev in devices], dtype=bool),
        sustained_power_w=np.array([_or_inf(dev.sustained_power_w) for dev in devices], dtype=np.float64),
        estimated=runnable & (costs[5] == 1.0),
    )


def budgets(constraints: Constraints) -> dict[str, float]:
    """The ``CostModel`` fields a scenario's ``constraints`` set (inf where there is no
    cap): a model moved to other constraints is ``dataclasses.replace(model, **budgets(c))``."""
    return dict(max_latency_ms=_or_inf(constraints.max_total_latency_ms),
                max_energy_mj=_or_inf(constraints.max_total_energy_mj),
                max_accuracy_loss=_or_inf(constraints.max_accuracy_loss),
                period_ms=_or_inf(constraints.period_ms),
                max_power_w=_or_inf(constraints.max_average_power_w))


def _or_inf(value: float | None) -> float:
    return np.inf if value is None else float(value)


def _stage_ways(stage: Stage, scenario: Scenario):
    """(device, variant, mode, (latency ms, energy mJ, memory MB, accuracy loss, output MB, estimated))
    of every way ``stage`` runs: measured ways as given, a way measured without a mode on a
    device with power modes once per mode the stage has no measured way of that variant in."""
    for device, ways in stage.profiles.items():
        modes = scenario.device(device).power_modes
        measured = {(w.variant, w.mode) for w in ways}
        for way in ways:
            output_mb = stage.output_mb if way.output_mb is None else way.output_mb
            if way.mode is not None or not modes:
                yield device, way.variant, way.mode, _way_costs(way, output_mb, 1.0, 1.0)
                continue
            for mode in modes:
                if (way.variant, mode.name) not in measured:
                    yield device, way.variant, mode.name, _way_costs(way, output_mb, mode.latency_scale,
                                                                     mode.latency_scale * mode.power_scale)


def _way_costs(way: Way, output_mb: float, latency_scale: float, energy_scale: float) -> tuple[float, ...]:
    return (way.latency_ms * latency_scale, way.energy_mj * energy_scale, way.memory_mb, way.accuracy_loss, output_mb,
            float(way.estimated))


def _options(scenario: Scenario, ways: list[list[tuple]]) -> list[tuple[int, str, str | None]]:
    """Every (device index, variant, mode) of ``ways`` (per stage, (device index, variant,
    mode, costs)), in the tie-break order: by device, then variant in order of first
    appearance, then mode in declared order."""
    first: dict[tuple[int, str], int] = {}  # (device, variant) -> order of first appearance
    keys: set[tuple[int, str, str | None]] = set()
    for stage_ways in ways:
        for device, variant, mode, _ in stage_ways:
            first.setdefault((device, variant), len(first))
            keys.add((device, variant, mode))

    def order(key: tuple[int, str, str | None]) -> tuple[int, int, int]:
        device, variant, mode = key
        modes = [m.name for m in scenario.devices[device].power_modes]
        return device, first[(device, variant)], -1 if mode is None else modes.index(mode)
    return sorted(keys, key=order)


def _option_name(device: Device, variant: str, mode: str | None, variants: set[str]) -> str:
    """``device``, with ``:variant`` unless the device runs only the default variant
    (``variants``: the variants it runs), and ``@mode`` when it has modes."""
    name = device.name if variants == {"default"} else f"{device.name}:{variant}"
    return name if mode is None else f"{name}@{mode}"


def _cap(value: float | None, name: str) -> float:
    if value is None:
        return np.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not value >= 0:
        raise ScenarioError("<arrays>", name, f"expected a number >= 0 or None, got {value!r}")
    if out_of_range(value):
        raise ScenarioError("<arrays>", name, f"expected a number >= 0 ({VALUE_RANGE}) or None, got {value!r}")
    return float(value)


class _ArrayChecker:
    """Shape and value checks for ``CostModel.from_arrays`` with path-style messages."""

    def matrix(self, name: str, value, shape: tuple[int, int] | None = None, allow_inf: bool = False) -> np.ndarray:
        arr = self._floats(name, value)
        if arr.ndim != 2 or (shape is not None and arr.shape != shape) or 0 in arr.shape:
            want = f"a {shape} array" if shape else "a non-empty 2-D array"
            raise ScenarioError("<arrays>", name, f"expected {want}, got shape {arr.shape}")
        return self._values(name, arr, allow_inf)

    def vector(self, name: str, value, length: int, allow_inf: bool = False) -> np.ndarray:
        arr = self._floats(name, value)
        if arr.shape != (length,):
            raise ScenarioError("<arrays>", name, f"expected shape ({length},), got {arr.shape}")
        return self._values(name, arr, allow_inf)

    def sizes(self, name: str, value, n: int, d: int) -> np.ndarray:
        """(N,) or (N, D) finite sizes."""
        arr = self._floats(name, value)
        if arr.shape not in ((n,), (n, d)):
            raise ScenarioError("<arrays>", name, f"expected shape ({n},) or ({n}, {d}), got {arr.shape}")
        return self._values(name, arr, False)

    def names(self, name: str, value, length: int, what: str) -> tuple[str, ...]:
        if value is None:
            return tuple(f"{what}{i}" for i in range(length))
        names = tuple(value)
        if len(names) != length or not all(isinstance(x, str) and 0 < len(x) <= MAX_NAME_CHARS for x in names):
            raise ScenarioError("<arrays>", name, f"expected {length} non-empty strings of at most {MAX_NAME_CHARS} "
                                                  f"characters, got {len(names)} items")
        if len(set(names)) != length:
            raise ScenarioError("<arrays>", name, f"expected unique {what} names")
        return names

    @staticmethod
    def inputs(value, n: int) -> tuple[tuple[int, ...], ...]:
        if value is None:
            return tuple(() if s == 0 else (s - 1,) for s in range(n))
        try:
            inputs = tuple(tuple(int(p) for p in row) for row in value)
        except (TypeError, ValueError):
            raise ScenarioError("<arrays>", "inputs", "expected a list of stage-index lists") from None
        if len(inputs) != n:
            raise ScenarioError("<arrays>", "inputs", f"expected {n} lists (one per stage), got {len(inputs)}")
        for s, row in enumerate(inputs):
            if any(not 0 <= p < s for p in row) or len(set(row)) != len(row):
                raise ScenarioError("<arrays>", f"inputs[{s}]", f"expected distinct indices of earlier stages (0 .. {s - 1}), got {list(row)}")
        return inputs

    @staticmethod
    def _floats(name: str, value) -> np.ndarray:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            raise ScenarioError("<arrays>", name, "expected an array of real numbers") from None
        if arr.dtype.kind not in "iuf":  # no bools, strings, objects, complex numbers
            raise ScenarioError("<arrays>", name, f"expected an array of real numbers, got dtype {arr.dtype}")
        return arr.astype(np.float64)

    @staticmethod
    def _values(name: str, arr: np.ndarray, allow_inf: bool) -> np.ndarray:
        wrong = np.isnan(arr) | (arr < 0) | (~np.isfinite(arr) if not allow_inf else False)
        ranged = ~wrong & out_of_range(arr)
        for bad, why in ((wrong, ""), (ranged, f" ({VALUE_RANGE})")):
            if np.any(bad):
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                want = ("a number >= 0 or inf" if allow_inf else "a finite number >= 0") + why
                raise ScenarioError("<arrays>", f"{name}[{', '.join(map(str, idx))}]", f"expected {want}, got {arr[idx]:g}")
        return np.ascontiguousarray(arr)
