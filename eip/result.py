"""Result types: raw kernel output decoded back into names and units."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .costmodel import CostModel, Dim, Load
from .goals import Weights
from .kernels.contract import Row


# row slots of a chain's plan (``Row`` + ``Dim``), as plain ints for list indexing
_SCORE = int(Row.SCORE)
_USE = int(Row.USE)
_LATENCY, _ENERGY, _SWITCHES = (int(Row.USE + d) for d in (Dim.LATENCY, Dim.ENERGY, Dim.SWITCHES))


class MemoryUse(NamedTuple):
    """Resident memory a plan puts on one device, beside that device's budget."""

    used_mb: float
    budget_mb: float


class StageCost(NamedTuple):
    """One stage of a plan: where and how it runs (``variant``; ``mode``: the device's power
    mode, None when it has none), what it costs there (``estimated``: by a cost model, not
    measured), and the stages it reads (``xfer_*``: what it pays to receive their outputs)."""

    stage: str
    device: str
    exec_ms: float
    exec_mj: float
    xfer_ms: float
    xfer_mj: float
    memory_mb: float
    inputs: tuple[str, ...]
    variant: str = "default"
    mode: str | None = None
    accuracy_loss: float = 0.0
    estimated: bool = False

    @property
    def total_ms(self) -> float:
        return self.xfer_ms + self.exec_ms

    @property
    def total_mj(self) -> float:
        return self.xfer_mj + self.exec_mj


class EdgeCost(NamedTuple):
    """One stage reading another's output in a plan, and what it pays for the data.

    ``moved`` is True when the output moves to the reader's device for this reader (the
    first reader there); ``xfer_ms``/``xfer_mj`` are 0 otherwise: both sit on one device, or
    an earlier reader on the reader's device already paid for the copy.
    """

    producer: str
    reader: str
    source: str
    target: str
    size_mb: float
    xfer_ms: float
    xfer_mj: float
    moved: bool

    @property
    def crosses(self) -> bool:
        return self.source != self.target


class Slot(NamedTuple):
    """One interval of a frame's timeline (ms from the frame's start): ``stage`` executing
    (``edge`` None), or one of its inputs moving to its device (``edge``)."""

    start_ms: float
    duration_ms: float
    stage: StageCost
    edge: EdgeCost | None = None


class Plan:
    """One placement of every stage, with its totals.

    Attributes:
        placement: device name per stage, in stage order.
        option_names: the option per stage (``device[:variant][@mode]``, the device alone
            when it has one way to run everything).
        score: the goal's score (lower is better).
        latency_ms, energy_mj: totals of execution plus transfers.
        switches: (input, stage) edges whose two stages sit on different devices.
        memory_mb: device -> MemoryUse(used_mb, budget_mb).
        usage: (Q,) the plan's usage vector (``costmodel.Dims`` order), as the kernels saw it.
        stages: per-stage breakdown (``StageCost``), decoded on first access.
        edges: per (input, stage) edge, where the data moves and what it costs (``EdgeCost``).
        timeline: one frame as ``Slot``s: stages one after another in order, each after
            the moves of its inputs to its device.
        accuracy_loss: summed accuracy loss of the ways chosen (points).
        busy_ms: device -> busy time per frame (its execution plus the moves into it).
        period_ms, fps: the busiest device's busy time, and the frame rate it sustains.
        power_w: device -> average execution power at the scenario's frame rate (empty
            without one).
        fixed_modes: fixed-mode device -> the mode it runs in (devices this plan uses).
    """

    __slots__ = ("placement", "score", "latency_ms", "energy_mj", "switches", "usage", "_options", "_model", "__dict__")

    def __init__(self, model: CostModel, options: np.ndarray, row: np.ndarray) -> None:
        self._model = model
        self._options = options
        names = model.option_names
        self.usage = row[_USE:]
        values = row.tolist()  # plain floats: a plan is read many times by explanations and reports
        self.placement: tuple[str, ...] = tuple([model.device_names[i] for i in model.option_device[options].tolist()])
        self.option_names: tuple[str, ...] = tuple([names[i] for i in options.tolist()])
        self.score = values[_SCORE]
        self.switches = int(values[_SWITCHES])
        self.latency_ms = values[_LATENCY]
        self.energy_mj = values[_ENERGY]

    @cached_property  # built when read: 1 us of a 30 us eip.plan on a 12-stage chain
    def memory_mb(self) -> dict[str, MemoryUse]:
        model = self._model
        used = self.usage[model.dims.memory:model.dims.memory + model.n_devices].tolist()
        return {name: MemoryUse(u, c) for name, u, c in zip(model.device_names, used, model.mem_cap_mb.tolist())}

    @property
    def accuracy_loss(self) -> float:
        accuracy = self._model.dims.accuracy
        return float(self.usage[accuracy]) if accuracy >= 0 else 0.0  # without the dimension no way loses any

    @cached_property
    def _loads(self) -> np.ndarray:
        """(D, 2) ``CostModel.device_loads`` of this placement."""
        m = self._model
        return m.device_loads(self._options)[0]

    @cached_property
    def busy_ms(self) -> dict[str, float]:
        m = self._model
        busy = m.dims.busy
        # the kernels tracked it when a frame rate (or the throughput goal) asked for it
        loads = self.usage[busy:busy + m.n_devices] if busy >= 0 else self._loads[:, Load.BUSY_MS]
        return dict(zip(m.device_names, loads.tolist()))

    @property
    def period_ms(self) -> float:
        return max(self.busy_ms.values())

    @property
    def fps(self) -> float:
        return 1000.0 / self.period_ms if self.period_ms > 0 else float("inf")

    @cached_property
    def power_w(self) -> dict[str, float]:
        period = self._model.period_ms
        if period == np.inf:
            return {}
        return dict(zip(self._model.device_names, (self._loads[:, Load.EXEC_MJ] / period).tolist()))

    @cached_property
    def fixed_modes(self) -> dict[str, str]:
        m = self._model
        return {st.device: st.mode for st in self.stages if m.fixed_mode[m.device_names.index(st.device)]}

    @cached_property
    def _edge_costs(self) -> np.ndarray:
        """(1, E, 4) ``CostModel.edge_costs`` of this placement, for ``edges``."""
        return self._model.edge_costs(self._options)

    @cached_property
    def stages(self) -> tuple[StageCost, ...]:
        m = self._model
        inbound = m.inbound(self._options)[0].tolist()
        out = []
        for s, o in enumerate(self._options.tolist()):
            x_ms, x_mj, _ = inbound[s]
            device = int(m.option_device[o])
            mode = int(m.option_mode[o])
            out.append(StageCost(m.stage_names[s], m.device_names[device], float(m.exec_ms[s, o]),
                                 float(m.exec_mj[s, o]), x_ms, x_mj, float(m.mem_mb[s, o]),
                                 tuple(m.stage_names[p] for p in m.inputs[s]), m.option_variant[o],
                                 m.mode_names[device][mode] if mode >= 0 else None, float(m.accuracy_loss[s, o]),
                                 bool(m.estimated[s, o])))
        return tuple(out)

    @cached_property
    def edges(self) -> tuple[EdgeCost, ...]:
        m = self._model
        costs = self._edge_costs[0].tolist()
        names, stages = m.stage_names, self.stages
        options = self._options
        return tuple(EdgeCost(names[p], names[q], stages[p].device, stages[q].device,
                              float(m.output_mb[p, options[p]]), ms, mj, bool(moved))
                     for (p, q), (ms, mj, _, moved) in zip(m.edges.tolist(), costs))

    @cached_property
    def timeline(self) -> tuple[Slot, ...]:
        into: dict[str, list[EdgeCost]] = {}  # reader -> the edges that move data to its device
        for edge in self.edges:
            if edge.moved:
                into.setdefault(edge.reader, []).append(edge)
        out, t = [], 0.0
        for s in self.stages:
            for edge in into.get(s.stage, []):
                out.append(Slot(t, edge.xfer_ms, s, edge))
                t += edge.xfer_ms
            out.append(Slot(t, s.exec_ms, s))
            t += s.exec_ms
        return tuple(out)

    def __repr__(self) -> str:
        return (f"Plan(score={self.score:.4f}, latency_ms={self.latency_ms:.2f}, energy_mj={self.energy_mj:.2f}, "
                f"switches={self.switches}, placement={list(self.option_names)})")


@dataclass(frozen=True)
class PlanResult:
    """The ranked plans of one ``eip.plan`` call and what is proven about them.

    Attributes:
        plans: best first; empty when no plan was found.
        status: "optimal" (proven), "feasible" (a plan, not proven optimal: see ``gap``),
            "infeasible" (proven: no plan meets the constraints, see ``reason``) or
            "unknown" (the search stopped before finding a plan).
        gap: relative gap (best score - bound) / best score; 0 when optimal.
        bound: proven lower bound on the best feasible score.
        strategy: what produced the answer: "viterbi" (unconstrained k-best, proven to fit
            the caps), "exact" (label search), "beam", "relaxed" (a too-wide DAG's relaxed
            graph, plans re-evaluated exactly) or "repaired" (no search met a plan as good;
            local search made a plan the LP prices cheapest, or the unconstrained
            optimum, fit).
        reason: why there is no plan (empty otherwise).
        stats: labels_created, labels_kept, solve_seconds.
    """

    scenario: str
    goal: str
    weights: Weights
    top_k: int
    plans: tuple[Plan, ...]
    status: str
    gap: float
    bound: float
    strategy: str
    reason: str = ""
    stats: dict = field(default_factory=dict)
    model: CostModel | None = field(default=None, repr=False)

    @property
    def best(self) -> Plan | None:
        return self.plans[0] if self.plans else None

    @property
    def best_proven(self) -> bool:
        """Whether the best plan is proven optimal: so is every plan when ``status`` is
        "optimal"; an unproven top-k answer ("feasible") whose bound meets its best plan
        proved that one, not that the others are the next best."""
        return self.status == "optimal" or (self.status == "feasible" and self.gap <= 0.0)

    def __bool__(self) -> bool:
        return bool(self.plans)
