"""Hypothesis strategies: random scenario documents in the seed's schema.

Small enough to enumerate (at most 8 stages x 4 devices), and shaped to hit the hard
cases: missing profiles and links, zero-size tensors, exact ties (values from a small grid),
caps and memory budgets that range from slack to infeasible, and graphs of every shape
(chains, residual skips, inception-like branches, random fan-in and fan-out, several
sources).
"""

from __future__ import annotations

from hypothesis import strategies as st
from reference import evaluate

from eip.scenario import Scenario

GRID = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0]
# Budgets and caps are a random witness placement's own usage times a factor, so they bind
# near a real plan; factors < 1 may make the scenario infeasible. Hypothesis favours the
# first entries: typical values first, extremes last.
MEMORY_FACTORS = [1.0, 1.3, 1.1, 2.0, 1.6, 10.0, 0.8, 0.0]
CAP_FACTORS = [1.0, None, 1.1, 1.3, None, 1.6, 2.5, 0.9]


def _value(draw, hi: float):
    if draw(st.booleans()):
        return draw(st.sampled_from(GRID)) * hi / 8.0
    # Nonzero values stay within 1e6 of each other: a value below 2^-53 of a total is
    # absorbed when added to it, which can turn a partial order into a tie that float
    # arithmetic alone decides (no profiler reports 1e-260 ms beside 1 ms).
    return draw(st.one_of(st.just(0.0), st.floats(hi * 1e-6, hi, allow_nan=False, allow_infinity=False)))


@st.composite
def scenario_docs(draw, max_stages: int = 8, max_devices: int = 4, max_placements: int = 4096):
    n_dev = draw(st.sampled_from([d for d in (3, 2, 4, 1) if d <= max_devices]))
    n_stages = draw(st.sampled_from([s for s in (6, 4, 8, 5, 3, 7, 2, 1) if s <= max_stages]))
    while n_dev ** n_stages > max_placements:
        n_stages -= 1
    names = [f"d{i}" for i in range(n_dev)]
    stages = []
    for s in range(n_stages):
        runs = [draw(st.integers(0, 3)) < 3 for _ in range(n_dev)]
        if not any(runs):
            runs[draw(st.integers(0, n_dev - 1))] = True
        profiles = {
            names[i]: {"latency_ms": _value(draw, 10.0), "energy_mj": _value(draw, 10.0), "memory_mb": _value(draw, 100.0)}
            for i in range(n_dev) if runs[i]
        }
        output_mb = 0.0 if draw(st.integers(0, 3)) == 0 else _value(draw, 20.0)
        stages.append({"name": f"s{s}", "output_mb": output_mb, "profiles": profiles})
    links = []
    for i in range(n_dev):
        for j in range(i + 1, n_dev):
            kind = draw(st.sampled_from(["both", "forward", "two", "backward", "none"]))
            cost = lambda: {"latency_ms_per_mb": _value(draw, 0.5), "energy_mj_per_mb": _value(draw, 0.5)}
            if kind == "both":
                links.append({"source": names[i], "target": names[j], **cost()})
            elif kind == "forward":
                links.append({"source": names[i], "target": names[j], "bidirectional": False, **cost()})
            elif kind == "backward":
                links.append({"source": names[j], "target": names[i], "bidirectional": False, **cost()})
            elif kind == "two":
                links.append({"source": names[i], "target": names[j], "bidirectional": False, **cost()})
                links.append({"source": names[j], "target": names[i], "bidirectional": False, **cost()})
    _connect(draw, stages)
    witness = _witness(draw, stages, links, names)
    devices = []
    for name in names:
        used = witness["memory"][name] if witness else sum(
            st_["profiles"][name]["memory_mb"] for st_ in stages if name in st_["profiles"])
        devices.append({"name": name, "memory_mb": round(used * draw(st.sampled_from(MEMORY_FACTORS)) + 1e-3, 3)})
    constraints = {}
    for key in ("max_total_latency_ms", "max_total_energy_mj"):
        factor = draw(st.sampled_from(CAP_FACTORS))
        if factor is not None and witness:
            constraints[key] = round(witness[key] * factor + 1e-3, 3)
    return {"name": "random", "devices": devices, "links": links, "stages": stages, "constraints": constraints}


goals = st.one_of(
    st.sampled_from(["latency", "efficiency", "balanced"]),
    st.fixed_dictionaries({
        "latency": st.sampled_from([0.0, 0.5, 1.0]),
        "energy": st.sampled_from([0.0, 0.3, 1.0]),
        "switch": st.sampled_from([0.0, 0.08, 1.0]),
    }).filter(lambda w: any(w.values())),
)


SHAPES = ["chain", "residual", "branches", "random"]


def _connect(draw, stages) -> None:
    """Give the stages ``inputs`` of a random shape (a chain leaves the default)."""
    shape = draw(st.sampled_from(SHAPES))
    n = len(stages)
    for s in range(1, n):
        if shape == "residual":
            inputs = [s - 1] + ([s - 2] if s >= 2 and draw(st.booleans()) else [])
        elif shape == "branches":
            # a block: a split stage, parallel branches reading it, a join reading every branch
            split = draw(st.integers(max(0, s - 4), s - 1))
            inputs = [split] if draw(st.booleans()) else list(range(split, s))
        elif shape == "random":
            inputs = draw(st.lists(st.integers(max(0, s - 4), s - 1), max_size=3, unique=True))
        else:
            continue
        stages[s]["inputs"] = [stages[p]["name"] for p in inputs]


def _witness(draw, stages, links, names):
    """A random possible placement's totals (the reference's evaluation), or None when the
    walk gets stuck (no device can receive a stage's inputs)."""
    linked = set()
    for link in links:
        linked.add((link["source"], link["target"]))
        if link.get("bidirectional", True):
            linked.add((link["target"], link["source"]))
    index = {stage["name"]: s for s, stage in enumerate(stages)}
    placement = []
    for s, stage in enumerate(stages):
        inputs = [index[p] for p in stage.get("inputs", [stages[s - 1]["name"]] if s else [])]
        options = [d for d in sorted(stage["profiles"]) if all(
            placement[p] == d or (placement[p], d) in linked or stages[p]["output_mb"] == 0 for p in inputs)]
        if not options:
            return None
        placement.append(draw(st.sampled_from(options)))
    plan = evaluate(_unbudgeted(stages, links, names), placement, (1.0, 1.0, 1.0))
    return {"max_total_latency_ms": plan.latency_ms, "max_total_energy_mj": plan.energy_mj, "memory": plan.memory_mb}


def _unbudgeted(stages, links, names) -> Scenario:
    """The scenario of these stages and links with no budgets (only for evaluating)."""
    devices = [{"name": name, "memory_mb": 0.0} for name in names]
    return Scenario.from_dict({"devices": devices, "links": links, "stages": stages}, "<witness>")
