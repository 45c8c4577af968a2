"""Brute-force oracle: enumerate every placement of a Scenario and rank the feasible ones.

Deliberately independent of eip's compiler and kernels: it reads the Scenario dataclasses
and applies the model of DESIGN.md directly. Totals accumulate stage by stage (transfer in,
then execution), the documented order, so equal plans get bit-equal totals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from eip.costmodel import cap_with_tolerance
from eip.scenario import Scenario


@dataclass(frozen=True)
class RefPlan:
    placement: tuple[str, ...]
    order: tuple[int, ...]
    score: float
    latency_ms: float
    energy_mj: float
    switches: int
    memory_mb: dict

    @property
    def key(self):
        return (self.score, self.latency_ms, self.energy_mj, self.switches, self.order)


def _links(scenario: Scenario) -> dict:
    out = {}
    for link in scenario.links:
        out[(link.source, link.target)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
        if link.bidirectional:
            out[(link.target, link.source)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
    return out


def evaluate(scenario: Scenario, placement, weights) -> RefPlan | None:
    """Totals of one placement (device names), or None if a stage or a move is impossible.

    The DAG issue's definitions, directly: each stage reads the outputs of its ``inputs``;
    an output moves once to each other device that runs a reader of it (the first such
    reader, in stage order, pays ``output_mb`` x the link's per-MB costs; without a link only
    an empty tensor can move); a switch per input edge across devices. A stage's moves are
    summed in input order, then added to the totals, then its execution.
    """
    names = [d.name for d in scenario.devices]
    links = _links(scenario)
    where = dict(zip((st.name for st in scenario.stages), placement))
    size = {st.name: st.output_mb for st in scenario.stages}
    copies: dict[str, set] = {}  # producer -> devices that already received its output
    lat = en = 0.0
    switches = 0
    memory = {n: 0.0 for n in names}
    for stage, dev in zip(scenario.stages, placement):
        prof = stage.profiles.get(dev)
        if prof is None:
            return None
        in_ms = in_mj = 0.0
        for producer in stage.inputs:
            src = where[producer]
            if src == dev:
                continue
            switches += 1
            if dev in copies.setdefault(producer, set()):
                continue
            copies[producer].add(dev)
            if (src, dev) in links:
                per_ms, per_mj = links[(src, dev)]
                in_ms, in_mj = in_ms + size[producer] * per_ms, in_mj + size[producer] * per_mj
            elif size[producer] != 0:
                return None
        lat = lat + in_ms + prof.latency_ms
        en = en + in_mj + prof.energy_mj
        memory[dev] += prof.memory_mb
    l_base = max(sum(min(p.latency_ms for p in st.profiles.values()) for st in scenario.stages), 1e-6)
    e_base = max(sum(min(p.energy_mj for p in st.profiles.values()) for st in scenario.stages), 1e-6)
    score = (weights[0] / l_base) * lat + (weights[1] / e_base) * en + weights[2] * switches
    order = tuple(names.index(d) for d in placement)
    return RefPlan(tuple(placement), order, score, lat, en, switches, memory)


def feasible(scenario: Scenario, plan: RefPlan) -> bool:
    c = scenario.constraints
    tol = lambda cap: float(cap_with_tolerance(np.float64(cap)))
    if c.max_total_latency_ms is not None and plan.latency_ms > tol(c.max_total_latency_ms):
        return False
    if c.max_total_energy_mj is not None and plan.energy_mj > tol(c.max_total_energy_mj):
        return False
    return all(plan.memory_mb[d.name] <= tol(d.memory_mb) for d in scenario.devices)


def ranked_plans(scenario: Scenario, weights) -> list[RefPlan]:
    """Every feasible placement, best first by (score, latency, energy, switches, order)."""
    names = [d.name for d in scenario.devices]
    plans = []
    for placement in itertools.product(names, repeat=len(scenario.stages)):
        p = evaluate(scenario, placement, weights)
        if p is not None and feasible(scenario, p):
            plans.append(p)
    plans.sort(key=lambda p: p.key)
    return plans
