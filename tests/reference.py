"""Brute-force oracle: enumerate every placement of a Scenario and rank the feasible ones.

Deliberately independent of eip's compiler and kernels: it reads the Scenario dataclasses
and applies the model of DESIGN.md and the issues directly. Totals accumulate stage by
stage (transfer in, then execution), the documented order, so equal plans get bit-equal
totals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from eip.costmodel import cap_with_tolerance
from eip.scenario import Scenario


@dataclass(frozen=True)
class RefWay:
    """One way a stage can run: on ``device``, as ``variant``, in power ``mode`` (None: the
    device has no modes), with these costs."""

    device: str
    variant: str
    mode: str | None
    latency_ms: float
    energy_mj: float
    memory_mb: float
    accuracy_loss: float
    output_mb: float


@dataclass(frozen=True)
class RefPlan:
    placement: tuple[str, ...]
    ways: tuple[tuple[str, str, str | None], ...]  # (device, variant, mode) per stage
    order: tuple[int, ...]
    score: float
    latency_ms: float
    energy_mj: float
    switches: int
    memory_mb: dict
    accuracy_loss: float
    busy_ms: dict
    exec_mj: dict

    @property
    def period_ms(self) -> float:
        return max(self.busy_ms.values())

    @property
    def key(self):
        return (self.score, self.latency_ms, self.energy_mj, self.switches, self.order)

    @property
    def throughput_key(self):
        return (self.period_ms, *self.key)


def stage_ways(scenario: Scenario, stage) -> list[RefWay]:
    """Every way to run ``stage``: a way measured at a mode as given; one measured without a
    mode on a device with power modes in each mode (latency x latency_scale, energy x
    latency_scale x power_scale) unless the same variant is measured at that mode."""
    out = []
    for device, ways in stage.profiles.items():
        modes = scenario.device(device).power_modes
        for way in ways:
            size = stage.output_mb if way.output_mb is None else way.output_mb
            if way.mode is not None or not modes:
                out.append(RefWay(device, way.variant, way.mode, way.latency_ms, way.energy_mj, way.memory_mb,
                                  way.accuracy_loss, size))
                continue
            for m in modes:
                if any(w.variant == way.variant and w.mode == m.name for w in ways):
                    continue
                out.append(RefWay(device, way.variant, m.name, way.latency_ms * m.latency_scale,
                                  way.energy_mj * (m.latency_scale * m.power_scale), way.memory_mb,
                                  way.accuracy_loss, size))
    return out


def option_order(scenario: Scenario) -> dict:
    """(device, variant, mode) -> its position in the placement tie-break: device order,
    then variant by first appearance over the stages, then mode in declared order."""
    devices = [d.name for d in scenario.devices]
    first: list[tuple[str, str]] = []
    keys = set()
    for stage in scenario.stages:
        for w in stage_ways(scenario, stage):
            if (w.device, w.variant) not in first:
                first.append((w.device, w.variant))
            keys.add((w.device, w.variant, w.mode))

    def rank(key):
        device, variant, mode = key
        modes = [m.name for m in scenario.device(device).power_modes]
        return (devices.index(device), first.index((device, variant)), -1 if mode is None else modes.index(mode))
    return {key: i for i, key in enumerate(sorted(keys, key=rank))}


def _links(scenario: Scenario) -> dict:
    out = {}
    for link in scenario.links:
        out[(link.source, link.target)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
        if link.bidirectional:
            out[(link.target, link.source)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
    return out


def _resolve(scenario: Scenario, placement) -> list[RefWay] | None:
    """The way of each entry of ``placement``: a device name (its only way there) or a
    (device, variant, mode) triple; None if a stage cannot run so."""
    out = []
    for stage, choice in zip(scenario.stages, placement):
        ways = [w for w in stage_ways(scenario, stage)
                if (w.device == choice if isinstance(choice, str) else (w.device, w.variant, w.mode) == tuple(choice))]
        if not ways:
            return None
        assert len(ways) == 1, f"{choice!r} is ambiguous for stage {stage.name}"
        out.append(ways[0])
    return out


def evaluate(scenario: Scenario, placement, weights) -> RefPlan | None:
    """Totals of one placement, or None if a stage or a move is impossible.

    ``placement``: per stage a device name (when the stage has one way there) or a
    (device, variant, mode) triple. ``weights``: (w_lat, w_en, w_sw[, w_acc]).

    The issues' definitions, directly: each stage reads the outputs of its ``inputs``; an
    output moves once to each other device that runs a reader of it (the first such reader,
    in stage order, pays the producer way's ``output_mb`` x the link's per-MB costs; without
    a link only an empty tensor can move); a switch per input edge across devices. A
    stage's moves are summed in input order, then added to the totals, then its execution.
    A device's busy time is the execution of its stages plus the moves into them; a fixed-
    mode device runs all its stages in one mode (else the placement is impossible).
    """
    ways = _resolve(scenario, placement)
    if ways is None:
        return None
    for device in scenario.devices:
        if device.mode_policy == "fixed" and len({w.mode for w in ways if w.device == device.name}) > 1:
            return None
    names = [d.name for d in scenario.devices]
    links = _links(scenario)
    where = {st.name: w for st, w in zip(scenario.stages, ways)}
    copies: dict[str, set] = {}  # producer -> devices that already received its output
    lat = en = acc = 0.0
    switches = 0
    memory = {n: 0.0 for n in names}
    busy = {n: 0.0 for n in names}
    exec_mj = {n: 0.0 for n in names}
    for stage, way in zip(scenario.stages, ways):
        dev = way.device
        in_ms = in_mj = 0.0
        for producer in stage.inputs:
            src = where[producer]
            if src.device == dev:
                continue
            switches += 1
            if dev in copies.setdefault(producer, set()):
                continue
            copies[producer].add(dev)
            if (src.device, dev) in links:
                per_ms, per_mj = links[(src.device, dev)]
                in_ms, in_mj = in_ms + src.output_mb * per_ms, in_mj + src.output_mb * per_mj
            elif src.output_mb != 0:
                return None
        lat = lat + in_ms + way.latency_ms
        en = en + in_mj + way.energy_mj
        busy[dev] = busy[dev] + in_ms + way.latency_ms
        exec_mj[dev] += way.energy_mj
        memory[dev] += way.memory_mb
        acc += way.accuracy_loss
    cheapest = [stage_ways(scenario, st) for st in scenario.stages]
    l_base = max(sum(min(w.latency_ms for w in ws) for ws in cheapest), 1e-6)
    e_base = max(sum(min(w.energy_mj for w in ws) for ws in cheapest), 1e-6)
    w_acc = weights[3] if len(weights) > 3 else 0.0
    score = (weights[0] / l_base) * lat + (weights[1] / e_base) * en + weights[2] * switches + w_acc * acc
    order = option_order(scenario)
    keys = tuple((w.device, w.variant, w.mode) for w in ways)
    return RefPlan(tuple(w.device for w in ways), keys, tuple(order[k] for k in keys), score, lat, en, switches,
                   memory, acc, busy, exec_mj)


def feasible(scenario: Scenario, plan: RefPlan) -> bool:
    c = scenario.constraints
    tol = lambda cap: float(cap_with_tolerance(np.float64(cap)))
    if c.max_total_latency_ms is not None and plan.latency_ms > tol(c.max_total_latency_ms):
        return False
    if c.max_total_energy_mj is not None and plan.energy_mj > tol(c.max_total_energy_mj):
        return False
    if c.max_accuracy_loss is not None and plan.accuracy_loss > tol(c.max_accuracy_loss):
        return False
    if c.frame_rate_hz is not None:
        period = 1000.0 / c.frame_rate_hz
        if any(b > tol(period) for b in plan.busy_ms.values()):
            return False
        if c.max_average_power_w is not None and plan.energy_mj > tol(c.max_average_power_w * period):
            return False
        for d in scenario.devices:
            if d.sustained_power_w is not None and plan.exec_mj[d.name] > tol(d.sustained_power_w * period):
                return False
    return all(plan.memory_mb[d.name] <= tol(d.memory_mb) for d in scenario.devices)


def ranked_plans(scenario: Scenario, weights, throughput: bool = False) -> list[RefPlan]:
    """Every feasible placement, best first by (score, latency, energy, switches, order), or
    for the throughput goal by the period first."""
    choices = [[(w.device, w.variant, w.mode) for w in stage_ways(scenario, st)] for st in scenario.stages]
    plans = []
    for placement in itertools.product(*choices):
        p = evaluate(scenario, placement, weights)
        if p is not None and feasible(scenario, p):
            plans.append(p)
    plans.sort(key=(lambda p: p.throughput_key) if throughput else (lambda p: p.key))
    return plans
