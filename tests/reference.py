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
    """Totals of one placement (device names), or None if a stage or a move is impossible."""
    names = [d.name for d in scenario.devices]
    links = _links(scenario)
    lat = en = 0.0
    switches = 0
    memory = {n: 0.0 for n in names}
    prev = None
    for s, (stage, dev) in enumerate(zip(scenario.stages, placement)):
        prof = stage.profiles.get(dev)
        if prof is None:
            return None
        if prev is not None and prev != dev:
            switches += 1
            size = scenario.stages[s - 1].output_mb
            if (prev, dev) in links:
                per_ms, per_mj = links[(prev, dev)]
                t_ms, t_mj = size * per_ms, size * per_mj
            elif size == 0:
                t_ms = t_mj = 0.0
            else:
                return None
            lat = lat + t_ms
            en = en + t_mj
        lat = lat + prof.latency_ms
        en = en + prof.energy_mj
        memory[dev] += prof.memory_mb
        prev = dev
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
