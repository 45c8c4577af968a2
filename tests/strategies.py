"""Hypothesis strategies: random scenario documents in the seed's schema.

Small enough to enumerate (at most 8 stages x 4 devices), and shaped to hit the hard
cases: missing profiles and links, zero-size tensors, exact ties (values from a small grid),
caps and memory budgets that range from slack to infeasible, and graphs of every shape
(chains, residual skips, inception-like branches, random fan-in and fan-out, several
sources).
"""

from __future__ import annotations

from hypothesis import strategies as st
from reference import evaluate, stage_ways

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
def scenario_docs(draw, max_stages: int = 8, max_devices: int = 4, max_placements: int = 4096,
                  shapes: tuple[str, ...] | None = None):
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
    _connect(draw, stages, shapes or SHAPES)
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


SHAPES = ("chain", "residual", "branches", "random")
DAG_SHAPES = SHAPES[1:]


def _connect(draw, stages, shapes: tuple[str, ...]) -> None:
    """Give the stages ``inputs`` of a random shape among ``shapes`` (a chain leaves the default)."""
    shape = draw(st.sampled_from(shapes))
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


VARIANTS = ["fp32", "fp16", "int8"]
SCALES = [0.5, 1.0, 1.5, 2.0, 0.8]
LIMIT_FACTORS = [1.0, None, 1.2, 0.9, 2.0]


@st.composite
def ways_scenario_docs(draw, max_stages: int = 5, max_devices: int = 3, max_placements: int = 3000,
                       shapes: tuple[str, ...] | None = None, fixed_mode: bool = False):
    """Scenarios of the ways issue: several ways per device (variants, accuracy losses,
    their own output sizes), power modes (scaled, measured, per stage or fixed), and an
    accuracy budget, frame rate and power limits near a random witness plan. With
    ``fixed_mode`` the first device has 2-3 modes, fixed (the solve has a graph per mode)."""
    doc = draw(scenario_docs(max_stages=max_stages, max_devices=max_devices, max_placements=max_placements,
                             shapes=shapes))
    doc["constraints"] = {}
    for index, device in enumerate(doc["devices"]):
        forced = fixed_mode and index == 0
        if forced or draw(st.integers(0, 2)) > 0:
            count = draw(st.integers(2 if forced else 1, 3))
            device["power_modes"] = [{"name": f"m{i}", "latency_scale": draw(st.sampled_from(SCALES)),
                                      "power_scale": draw(st.sampled_from(SCALES))} for i in range(count)]
            if forced or draw(st.booleans()):
                device["mode_policy"] = "fixed"
    modes = {d["name"]: [m["name"] for m in d.get("power_modes", [])] for d in doc["devices"]}
    for stage in doc["stages"]:
        for name, way in list(stage["profiles"].items()):
            stage["profiles"][name] = _ways(draw, way, modes[name])
    while _placements(doc) > max_placements:
        doc["stages"].pop()
        names = {s["name"] for s in doc["stages"]}
        for s in doc["stages"]:
            if "inputs" in s:
                s["inputs"] = [p for p in s["inputs"] if p in names]
    _limits(draw, doc)
    return doc


def _ways(draw, base: dict, modes: list[str]) -> list | dict:
    """One to three ways of a stage on a device, from its drawn profile."""
    count = draw(st.sampled_from([1, 2, 3, 1]))
    ways, seen = [], set()
    for i in range(count):
        way = dict(base) if i == 0 else {
            "latency_ms": _value(draw, 10.0), "energy_mj": _value(draw, 10.0), "memory_mb": _value(draw, 100.0)}
        if count > 1 or draw(st.booleans()):
            way["variant"] = draw(st.sampled_from(VARIANTS))
        if draw(st.booleans()):
            way["accuracy_loss"] = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
        if draw(st.integers(0, 3)) == 0:
            way["output_mb"] = draw(st.sampled_from([0.0, 1.0, 4.0]))
        if modes and draw(st.integers(0, 2)) == 0:
            way["mode"] = draw(st.sampled_from(modes))
        key = (way.get("variant", "default"), way.get("mode"))
        if key not in seen:
            seen.add(key)
            ways.append(way)
    return ways[0] if len(ways) == 1 and draw(st.booleans()) else ways


def _placements(doc) -> int:
    scenario = Scenario.from_dict(doc, "<ways>")
    total = 1
    for stage in scenario.stages:
        total *= len(stage_ways(scenario, stage))
    return total


def _limits(draw, doc) -> None:
    """Caps near a random witness plan's usage: latency, energy, memory, accuracy, frame
    rate, average and sustained power (each may be left out, loose, or too tight)."""
    scenario = Scenario.from_dict(doc, "<ways>")
    choice = [draw(st.sampled_from([(w.device, w.variant, w.mode) for w in stage_ways(scenario, stage)]))
              for stage in scenario.stages]
    plan = evaluate(scenario, choice, (1.0, 1.0, 1.0))
    if plan is None:
        return
    for device in doc["devices"]:
        device["memory_mb"] = round(plan.memory_mb[device["name"]] * draw(st.sampled_from(MEMORY_FACTORS)) + 1e-3, 3)
    caps = doc["constraints"]
    for key, used in (("max_total_latency_ms", plan.latency_ms), ("max_total_energy_mj", plan.energy_mj),
                      ("max_accuracy_loss", plan.accuracy_loss)):
        factor = draw(st.sampled_from(LIMIT_FACTORS))
        if factor is not None:
            caps[key] = round(used * factor + 1e-3, 3)
    factor = draw(st.sampled_from(LIMIT_FACTORS))
    if factor is None:
        return
    period_ms = plan.period_ms * factor + 1e-3
    caps["frame_rate_hz"] = 1000.0 / period_ms
    factor = draw(st.sampled_from(LIMIT_FACTORS))
    if factor is not None:
        caps["max_average_power_w"] = plan.energy_mj / period_ms * factor + 1e-6
    for device in doc["devices"]:
        factor = draw(st.sampled_from(LIMIT_FACTORS))
        if factor is not None:
            device["sustained_power_w"] = plan.exec_mj[device["name"]] / period_ms * factor + 1e-6


goals_with_throughput = st.one_of(
    goals,
    st.just("throughput"),
    st.fixed_dictionaries({
        "latency": st.sampled_from([0.0, 1.0]),
        "energy": st.sampled_from([0.0, 1.0]),
        "switch": st.sampled_from([0.0, 0.08]),
        "accuracy": st.sampled_from([0.0, 0.1, 1.0]),
    }).filter(lambda w: any(w.values())),
)
