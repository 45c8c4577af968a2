"""The compiler: a ``Scenario`` (names, units) -> a ``CostModel`` (dense arrays only).

All modelling happens here. An *option* is what a stage can be placed on; today one option
per device, later device x variant x power mode. Stages form a DAG listed in a topological
order (``inputs``; a chain by default). The kernels only ever see the layered graph of
``eip.lowering``, usage dimensions and caps: they never learn what an "NPU" is.

Usage dimensions (``Dim``, ``Q = 3 + D``): latency ms, energy mJ, device switches, then
resident memory MB on each device. Every constraint is a cap on one usage dimension;
``inf`` means no cap. The score weighs latency, energy and switches (``goals``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import Sequence

import numpy as np

from .errors import ScenarioError
from .goals import score_coefficients
from .kernels.bounds import completion_usage
from .kernels.contract import LayeredGraph
from .scenario import Scenario


class Dim(IntEnum):
    """The usage dimensions of a compiled chain; memory of device d is ``MEMORY + d``."""

    LATENCY = 0
    ENERGY = 1
    SWITCHES = 2
    MEMORY = 3

#: Caps are compared with this relative slack: totals summed in another order differ in the
#: last bits, and a strict comparison would reject plans that sit exactly on a cap.
CAP_RTOL = 1e-9


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
        output_mb: (N,) float64 size of each stage's output tensor.
        xfer_ms_per_mb, xfer_mj_per_mb: (D, D) float64 cost of moving one MB from device a
            to device b; 0 on the diagonal, ``inf`` where there is no link.
        link_mask: (D, D) bool, True where a tensor can move (always on the diagonal).
        mem_cap_mb: (D,) float64 memory budget per device (``inf`` for none).
        max_latency_ms, max_energy_mj: pipeline caps (``inf`` for none).
        inputs: per stage, the indices of the earlier stages whose outputs it reads
            (``((), (0,), (1,), ...)`` for a chain).
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
        chain, each stage reading the one before).
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
        output_mb = check.vector("output_mb", output_mb, n)
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
                  max_latency_ms, max_energy_mj, stage_names, device_names, inputs, name) -> "CostModel":
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
            option_device=np.arange(len(device_names), dtype=np.int64),
            output_mb=output_mb,
            xfer_ms_per_mb=xfer_ms,
            xfer_mj_per_mb=xfer_mj,
            link_mask=mask,
            mem_cap_mb=mem_cap,
            max_latency_ms=max_latency_ms,
            max_energy_mj=max_energy_mj,
            stage_names=tuple(stage_names),
            device_names=tuple(device_names),
            option_names=tuple(device_names),
            inputs=inputs,
            name=name,
        )

    @cached_property
    def caps(self) -> np.ndarray:
        """(Q,) cap per usage dimension (``Dim``): latency, energy, switches (none), then
        memory per device."""
        return np.concatenate(([self.max_latency_ms, self.max_energy_mj, np.inf], self.mem_cap_mb))

    @cached_property
    def caps_tol(self) -> np.ndarray:
        """(Q,) the caps with the comparison tolerance applied: what the kernels compare with."""
        return cap_with_tolerance(self.caps)

    @cached_property
    def baselines(self) -> tuple[float, float]:
        """(L_base, E_base): sums of each stage's cheapest execution latency / energy."""
        return (
            max(float(self.exec_ms.min(axis=1).sum()), 1e-6),
            max(float(self.exec_mj.min(axis=1).sum()), 1e-6),
        )

    def coefficients(self, weights: tuple[float, float, float]) -> np.ndarray:
        """(Q,) score weight per usage dimension for goal weights (w_lat, w_en, w_sw)."""
        coef = np.zeros(Dim.MEMORY + self.n_devices)
        coef[[Dim.LATENCY, Dim.ENERGY, Dim.SWITCHES]] = score_coefficients(weights, self.baselines)
        return coef

    @property
    def least_usage(self) -> np.ndarray:
        """(Q,) the least usage any plan could have in each dimension on its own (every cap
        ignored; inf in every dimension when no placement exists at all)."""
        def least() -> np.ndarray:
            graph = self.graph
            completion, _ = completion_usage(graph)
            sources = slice(graph.step_start[0], graph.step_start[1])
            return (graph.opt_use[sources] + completion[sources]).min(axis=0)
        return self._shared("least_usage", least)

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
        option a, to device b (the transfer rule, written once): ``output_mb[p]`` times the
        link's per-MB costs; 0 when b is a's own device; without a link only an empty
        tensor can move (for free), anything else is ``inf``."""
        return self._shared("moves", self._moves)

    def _moves(self) -> np.ndarray:
        n, o = self.exec_ms.shape
        src = self.option_device[:, None]
        dst = np.arange(self.n_devices)[None, :]
        moving = src != dst
        linked = self.link_mask[src, dst]
        size = self.output_mb[:, None, None]
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
        moves once to each device; the first reader there pays (``receive``), later readers
        there use the copy and pay nothing."""
        options = np.atleast_2d(options)
        device = self.option_device[options]
        moves = self.moves
        out = np.zeros((options.shape[0], len(self.edges), 4))
        copies = np.zeros(options.shape, dtype=np.int64)  # devices holding a copy of each output
        for e, (p, q) in enumerate(self.edges.tolist()):
            held = copies[:, p].copy()
            out[:, e, :2], out[:, e, 2], copies[:, p] = receive(moves[p], options[:, p], device[:, p], device[:, q], held)
            out[:, e, 3] = copies[:, p] != held
        return out

    def inbound(self, options: np.ndarray, edge_costs: np.ndarray | None = None) -> np.ndarray:
        """(P, N, 3) what each stage pays to receive its inputs under placements ``options``
        (P, N): latency ms, energy mJ and switches of its edges (``edge_costs``, computed
        unless given) summed in input order."""
        options = np.atleast_2d(options)
        costs = self.edge_costs(options) if edge_costs is None else edge_costs
        out = np.zeros(options.shape + (3,))
        for e, q in enumerate(self.edges[:, 1].tolist()):
            out[:, q] += costs[:, e, :3]
        return out

    def usage(self, options: np.ndarray) -> np.ndarray:
        """(P, Q) usage vectors of placements ``options`` (P, N), accumulated stage by stage
        (receiving, then executing: the kernels' order, so totals are bit-equal); ``inf``
        where a stage cannot run on its option or an input cannot reach it."""
        options = np.atleast_2d(options)
        inbound = self.inbound(options)
        use = np.zeros((options.shape[0], Dim.MEMORY + self.n_devices))
        rows = np.arange(options.shape[0])
        for s in range(self.n_stages):
            o = options[:, s]
            use[:, :Dim.SWITCHES + 1] += inbound[:, s]
            use[:, Dim.LATENCY] += self.exec_ms[s, o]
            use[:, Dim.ENERGY] += self.exec_mj[s, o]
            use[rows, Dim.MEMORY + self.option_device[o]] += self.mem_mb[s, o]
        return use

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

    @cached_property
    def states_per_option(self) -> float:
        """Options of the layered graph per (stage, stage option) pair that can run: 1 for a
        chain, more for a DAG whose frontier states split each stage option."""
        return self.graph.opt_use.shape[0] / int(np.isfinite(self.exec_ms).sum())

    @cached_property
    def _lowered(self) -> tuple:
        from .lowering import lower_chain, lower_dag

        return self._shared("graph", lambda: (lower_chain(self), {}) if self.is_chain else lower_dag(self))

    def _shared(self, name: str, compute):
        """``compute()``, cached across the budget-moved copies of this model for as long as
        they keep the same cost arrays and graph."""
        key = (self.exec_ms, self.exec_mj, self.mem_mb, self.output_mb, self.xfer_ms_per_mb, self.xfer_mj_per_mb,
               self.link_mask, self.option_device, self.inputs)
        held = self._derived.get(name)
        if held is None or any(a is not b for a, b in zip(held[0], key)):
            held = self._derived[name] = (key, compute())
        return held[1]


def receive(moves: np.ndarray, src_option: np.ndarray, src_device: np.ndarray, dst_device: np.ndarray,
            copies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One input edge of a stage, for many placements at once (the copy-once rule).

    ``moves`` (O, D, 2) is ``CostModel.moves`` of the producer; ``src_option`` (P,) its
    option, ``src_device``/``dst_device`` (P,) the producer's and the reader's device,
    ``copies`` (P,) int64 bitmask of the devices already holding the producer's output.
    Returns the (P, 2) latency/energy the reader pays (0 when the data is already on its
    device), (P,) 1 where the edge crosses devices, and the updated bitmask.
    """
    crossing = src_device != dst_device
    fresh = crossing & ((copies >> dst_device) & 1 == 0)
    cost = np.where(fresh[:, None], moves[src_option, dst_device], 0.0)
    return cost, crossing.astype(np.float64), copies | np.where(fresh, np.left_shift(1, dst_device), 0)


def compile_scenario(scenario: Scenario) -> CostModel:
    """Lower a validated scenario to dense arrays (one option per device)."""
    names = tuple(d.name for d in scenario.devices)
    index = {name: i for i, name in enumerate(names)}
    n, d = len(scenario.stages), len(names)
    exec_ms = np.full((n, d), np.inf)
    exec_mj = np.full((n, d), np.inf)
    mem_mb = np.full((n, d), np.inf)
    for s, stage in enumerate(scenario.stages):
        for device, prof in stage.profiles.items():
            j = index[device]
            exec_ms[s, j], exec_mj[s, j], mem_mb[s, j] = prof.latency_ms, prof.energy_mj, prof.memory_mb
    xfer_ms = np.full((d, d), np.inf)
    xfer_mj = np.full((d, d), np.inf)
    mask = np.zeros((d, d), dtype=bool)
    for link in scenario.links:
        pairs = [(link.source, link.target)] + ([(link.target, link.source)] if link.bidirectional else [])
        for a, b in pairs:
            i, j = index[a], index[b]
            xfer_ms[i, j], xfer_mj[i, j], mask[i, j] = link.latency_ms_per_mb, link.energy_mj_per_mb, True
    caps = scenario.constraints
    position = {stage.name: s for s, stage in enumerate(scenario.stages)}
    inputs = tuple(tuple(position[p] for p in stage.inputs) for stage in scenario.stages)
    return CostModel._assemble(
        exec_ms, exec_mj, mem_mb,
        np.array([s.output_mb for s in scenario.stages], dtype=np.float64),
        xfer_ms, xfer_mj, mask,
        np.array([dev.memory_mb for dev in scenario.devices], dtype=np.float64),
        np.inf if caps.max_total_latency_ms is None else caps.max_total_latency_ms,
        np.inf if caps.max_total_energy_mj is None else caps.max_total_energy_mj,
        tuple(s.name for s in scenario.stages), names, inputs, scenario.name,
    )


def _cap(value: float | None, name: str) -> float:
    if value is None:
        return np.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not value >= 0:
        raise ScenarioError("<arrays>", name, f"expected a number >= 0 or None, got {value!r}")
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

    def names(self, name: str, value, length: int, what: str) -> tuple[str, ...]:
        if value is None:
            return tuple(f"{what}{i}" for i in range(length))
        names = tuple(value)
        if len(names) != length or not all(isinstance(x, str) and x for x in names):
            raise ScenarioError("<arrays>", name, f"expected {length} non-empty strings, got {len(names)} items")
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
            return np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ScenarioError("<arrays>", name, "expected an array of numbers") from None

    @staticmethod
    def _values(name: str, arr: np.ndarray, allow_inf: bool) -> np.ndarray:
        bad = np.isnan(arr) | (arr < 0) | (~np.isfinite(arr) if not allow_inf else False)
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            want = "a number >= 0 or inf" if allow_inf else "a finite number >= 0"
            raise ScenarioError("<arrays>", f"{name}[{', '.join(map(str, idx))}]", f"expected {want}, got {arr[idx]:g}")
        return np.ascontiguousarray(arr)
