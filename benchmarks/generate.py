"""Reproducible SoC-shaped scenarios for benchmarks (stages x devices from a seed).

A ``dag`` shape wires the stages like real networks (``dag_inputs``): residual blocks
(two stages and an add that also reads the block's input) and inception blocks (two to four
branches of one or two stages off one input, joined by a concat); widths stay at most 5.

Devices follow real SoC processor kinds: each kind has a speed per stage kind, a power draw
(energy = power x time, W x ms = mJ), a weight-precision factor for memory, and stage kinds
it cannot run (an NPU cannot run NMS or custom ops, a DLA no attention). Links cost
0.02-0.12 ms/MB, a few pairs have none. Memory budgets give each device a share of what
the stages it can run would need (0.5: "each device holds half the model"); the latency and
energy caps sit between the best reachable value and the unconstrained optimum's, so both
bind.

``ways_scenario`` adds the ways issue on top: two or three builds per stage and device
(fp32, fp16 on GPU-like devices, int8 on NPU-like ones: faster, smaller outputs, an
accuracy loss), two DVFS modes per device (a fixed mode on the GPU), and an accuracy
budget, a frame rate and power limits, each set between a witness plan's use and the
balanced plan's, so each binds.
"""

from __future__ import annotations

import numpy as np

from eip.costmodel import Dim, LimitKind

# kind: (speed by stage kind, watts, memory factor, stage kinds it cannot run)
STAGE_KINDS = ("conv", "attention", "pre", "post", "nms", "custom")
DEVICE_KINDS = {
    "cpu": ({"conv": 1.0, "attention": 1.0, "pre": 1.0, "post": 1.0, "nms": 1.0, "custom": 1.0}, 3.2, 1.0, ()),
    "gpu": ({"conv": 5.0, "attention": 4.0, "pre": 3.0, "post": 2.0, "nms": 1.5, "custom": 1.2}, 5.5, 0.6, ()),
    "npu": ({"conv": 12.0, "attention": 5.0, "pre": 4.0, "post": 3.0}, 2.2, 0.35, ("nms", "custom")),
    "dsp": ({"conv": 3.0, "pre": 5.0, "post": 3.5, "nms": 2.0}, 1.3, 0.5, ("attention", "custom")),
    "dla": ({"conv": 7.0, "pre": 2.0, "post": 1.5}, 1.6, 0.4, ("attention", "nms", "custom")),
    "little": ({"conv": 0.35, "attention": 0.35, "pre": 0.45, "post": 0.45, "nms": 0.4, "custom": 0.4}, 0.9, 1.0, ()),
}
KIND_ORDER = ("cpu", "gpu", "npu", "dsp", "dla", "little")


def soc_scenario(n_stages: int, n_devices: int, seed: int = 0, memory_share: float = 0.5,
                 cap_tightness: float = 0.5, with_caps: bool = True, shape: str = "chain") -> dict:
    """A scenario document (seed schema) for an n_stages x n_devices SoC pipeline, a chain
    or (``shape="dag"``) a network graph."""
    rng = np.random.default_rng([n_stages, n_devices, seed] + ([1] if shape == "dag" else []))
    kinds = [KIND_ORDER[i % len(KIND_ORDER)] for i in range(n_devices)]
    names = [k if kinds.count(k) == 1 else f"{k}{kinds[:i].count(k)}" for i, k in enumerate(kinds)]
    # a few per-instance variations between devices of the same kind
    device_speed = rng.uniform(0.7, 1.3, n_devices)
    stages = []
    for s in range(n_stages):
        kind = str(rng.choice(STAGE_KINDS, p=[0.45, 0.2, 0.1, 0.1, 0.08, 0.07]))
        work_ms = float(rng.lognormal(np.log(6.0), 0.8))
        weights_mb = float(rng.lognormal(np.log(40.0), 0.9))
        act_mb = float(rng.uniform(2.0, 30.0))
        profiles = {}
        for d, (dev, dkind) in enumerate(zip(names, kinds)):
            speeds, watts, mem_factor, cannot = DEVICE_KINDS[dkind]
            if kind in cannot or kind not in speeds:
                continue
            ms = work_ms / (speeds[kind] * device_speed[d]) * float(rng.lognormal(0.0, 0.25))
            power = watts * float(rng.uniform(0.85, 1.15))
            profiles[dev] = {
                "latency_ms": round(ms, 4),
                "energy_mj": round(ms * power, 4),
                "memory_mb": round(weights_mb * mem_factor + act_mb, 2),
            }
        stages.append({"name": f"{kind}_{s}", "output_mb": round(float(rng.lognormal(np.log(3.0), 1.0)), 3),
                       "profiles": profiles})
    links = []
    for i in range(n_devices):
        for j in range(i + 1, n_devices):
            if rng.random() < 0.1 and "cpu" not in (kinds[i], kinds[j]):
                continue  # accelerators that only talk through the CPU
            links.append({"source": names[i], "target": names[j],
                          "latency_ms_per_mb": round(float(rng.uniform(0.02, 0.12)), 4),
                          "energy_mj_per_mb": round(float(rng.uniform(0.01, 0.06)), 4)})
    devices = []
    for dev in names:
        need = sum(st["profiles"][dev]["memory_mb"] for st in stages if dev in st["profiles"])
        devices.append({"name": dev, "memory_mb": round(memory_share * need, 1)})
    if shape == "dag":
        for stage, inputs in zip(stages, dag_inputs(rng, n_stages)):
            stage["inputs"] = [stages[p]["name"] for p in inputs]
    prefix = "soc" if shape == "chain" else "dag"
    doc = {"name": f"{prefix}_{n_stages}x{n_devices}_s{seed}", "devices": devices, "links": links,
           "stages": stages, "constraints": {}}
    if with_caps:
        doc["constraints"] = binding_caps(doc, cap_tightness)
    return doc


def dag_inputs(rng: np.random.Generator, n_stages: int) -> list[list[int]]:
    """Inputs per stage of a network-shaped DAG listed depth first (module docstring)."""
    inputs: list[list[int]] = [[]]
    while len(inputs) < n_stages:
        s, room, kind = len(inputs), n_stages - len(inputs), rng.random()
        if kind < 0.35 and room >= 3:  # residual: a -> b, add(b, block input)
            inputs += [[s - 1], [s], [s + 1, s - 1]]
        elif kind < 0.6 and room >= 4:  # inception: branches off s - 1, then a concat
            ends = []
            for _ in range(int(rng.integers(2, 5))):
                length = int(rng.integers(1, 3))
                if len(inputs) + length >= n_stages:
                    break
                inputs.append([s - 1])
                inputs += [[len(inputs) - 1]] * (length - 1)
                ends.append(len(inputs) - 1)
            inputs.append(ends or [s - 1])
        else:
            inputs.append([s - 1])
    return inputs[:n_stages]


def binding_caps(doc: dict, tightness: float) -> dict:
    """Caps that bind yet admit a known plan.

    The latency cap sits between the fastest plan that fits memory and the balanced
    optimum's latency; the energy cap just above the most frugal plan found within that
    latency cap, so that plan (the witness) proves the scenario feasible. The plans come
    from the kernels' beam at a fixed 32 labels per graph option (``_beam_best``), so the
    instances do not move when ``eip.plan``'s own choice of beam does. They move when the
    kernels' bounds do (the beam ranks labels by them): column generation's multipliers
    moved every generated family's caps, and the instances quoted before it differ. They
    also move when the beam strategy meets a plan where it met none: since its LP dive
    (``kernels/dive.py``), more of the ways families' witnesses exist and their limits
    with them (ways 60x4: seed 0 gained its GPU power limit, seed 2 its frame rate and
    power limits; 12 and 8 usage dimensions -> 16).
    """
    import eip

    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    balanced, fastest = _beam_best(model, (0.75, 0.75, 0.08)), _beam_best(model, (1.0, 0.0, 0.0))
    if balanced is None or fastest is None:
        return {}
    lat = fastest[Dim.LATENCY] + tightness * (balanced[Dim.LATENCY] - fastest[Dim.LATENCY]) + 1e-3
    caps = {"max_total_latency_ms": round(lat, 3)}
    witness = _beam_best(eip.Scenario.from_dict({**doc, "constraints": caps}).cost_model, (0.0, 1.0, 0.0))
    if witness is None:
        return caps
    slack = abs(balanced[Dim.ENERGY] - witness[Dim.ENERGY])
    caps["max_total_energy_mj"] = round(witness[Dim.ENERGY] + tightness * slack + 0.05 * witness[Dim.ENERGY], 3)
    return caps


def _beam_best(model, weights) -> list[float] | None:
    """Usage (``Dims`` order) of the beam's best plan of a ``CostModel`` for goal
    ``weights``, a ``Weights`` or (Q,) coefficients (None if it meets none): the best of a
    beam on each mode graph, so that the instances stay the same whatever order and
    pruning ``eip.solve.solve_model`` gives the mode graphs. On a relaxed graph (a DAG too
    wide for its order) the beam's plan counts with its true usage, and only when that
    fits the limits set so far (a witness must be a real plan; asking ``solve_relaxed``
    for its 16 best plans instead took minutes on one ways DAG)."""
    from eip.kernels.contract import Mode, Row
    from eip.solve import evaluated, solve_graph

    coef = np.asarray(weights, dtype=np.float64) if len(weights) == model.dims.size else model.coefficients(weights)
    rows = []
    for g in model.mode_graphs:
        sol = solve_graph(model, g, coef, model.caps_tol, 1, Mode.BEAM, 32, 1_000_000, np.inf)
        if len(sol.rows) and model.relaxed:
            true, over = evaluated(model, coef, model.caps_tol, sol.options)
            rows += list(true[over == 0.0])
        else:
            rows += list(sol.rows)
    return min(rows, key=lambda row: row[Row.SCORE]).tolist()[Row.USE:] if rows else None


# (variant, latency factor range, memory and output factor, accuracy loss scale), by device kind
BUILDS = {
    "cpu": (("fp32", (1.0, 1.0), 1.0, 0.0), ("int8", (0.55, 0.7), 0.25, 0.12)),
    "little": (("fp32", (1.0, 1.0), 1.0, 0.0), ("int8", (0.55, 0.7), 0.25, 0.12)),
    "gpu": (("fp32", (1.0, 1.0), 1.0, 0.0), ("fp16", (0.6, 0.75), 0.5, 0.01), ("int8", (0.45, 0.6), 0.25, 0.12)),
    "npu": (("fp16", (1.0, 1.0), 0.5, 0.01), ("int8", (0.5, 0.6), 0.25, 0.1)),
    "dsp": (("fp16", (1.0, 1.0), 0.5, 0.01), ("int8", (0.5, 0.65), 0.25, 0.1)),
    "dla": (("fp16", (1.0, 1.0), 0.5, 0.01), ("int8", (0.5, 0.6), 0.25, 0.1)),
}
#: (name, latency scale, power scale) of every device's two modes: DVFS at about half the
#: clock takes ~1.7x as long at ~0.45x the power
MODES = (("high", 1.0, 1.0), ("low", 1.7, 0.45))


def ways_scenario(n_stages: int, n_devices: int, seed: int = 0, shape: str = "chain", memory_share: float = 0.6,
                  tightness: float = 0.5) -> dict:
    """``soc_scenario`` with builds, modes and every limit of the ways issue binding
    (module docstring)."""
    doc = soc_scenario(n_stages, n_devices, seed, memory_share=memory_share, with_caps=False, shape=shape)
    rng = np.random.default_rng([n_stages, n_devices, seed, 7])
    kinds = {dev["name"]: KIND_ORDER[i % len(KIND_ORDER)] for i, dev in enumerate(doc["devices"])}
    for dev in doc["devices"]:
        dev["power_modes"] = [{"name": n, "latency_scale": ls, "power_scale": ps} for n, ls, ps in MODES]
        if kinds[dev["name"]] == "gpu":
            dev["mode_policy"] = "fixed"
    for stage in doc["stages"]:
        loss = float(rng.lognormal(np.log(0.1), 0.7))  # how much this layer suffers from quantization
        for dev, base in stage["profiles"].items():
            ways = []
            for variant, (lo, hi), shrink, acc in BUILDS[kinds[dev]]:
                f = float(rng.uniform(lo, hi))
                ways.append({"variant": variant, "latency_ms": round(base["latency_ms"] * f, 4),
                             "energy_mj": round(base["energy_mj"] * f, 4),
                             "memory_mb": round(base["memory_mb"] * (0.5 + 0.5 * shrink), 2),
                             "output_mb": round(stage["output_mb"] * shrink, 3),
                             "accuracy_loss": round(acc * loss / 0.1, 4)})
            stage["profiles"][dev] = ways
    doc["name"] = doc["name"].replace("soc_", "ways_").replace("dag_", "waysdag_")
    doc["constraints"] = binding_caps(doc, tightness)
    _binding_limits(doc, tightness)
    return doc


def _binding_limits(doc: dict, tightness: float) -> None:
    """Set the accuracy budget, the frame rate, the average power and the GPU's sustained
    power of ``doc`` one after another, each between the least a witness plan (the beam's
    best plan for that limit alone, within the limits set so far) uses and what the
    balanced plan uses, so that each binds and the witness keeps the scenario feasible."""
    import eip

    for kind in (LimitKind.ACCURACY, LimitKind.PERIOD, LimitKind.AVERAGE_POWER, LimitKind.SUSTAINED_POWER):
        model = _with_dims(eip.Scenario.from_dict(doc).cost_model)
        balanced = _beam_best(model, (0.75, 0.75, 0.08))
        if balanced is None:
            return
        dims = model.dims
        pick = {LimitKind.ACCURACY: [dims.accuracy], LimitKind.PERIOD: list(range(dims.busy, dims.busy + model.n_devices)),
                LimitKind.AVERAGE_POWER: [Dim.ENERGY], LimitKind.SUSTAINED_POWER: [dims.power + _gpu(model)]}[kind]
        coef = np.zeros(dims.size)
        coef[pick] = 1.0
        used = lambda use: max(use[j] for j in pick)
        witness = min((w for w in (_beam_best(model, coef), balanced) if w is not None), key=used)
        value = used(witness) + tightness * max(used(balanced) - used(witness), 0.0) + 1e-3
        period = 1000.0 / doc["constraints"]["frame_rate_hz"] if "frame_rate_hz" in doc["constraints"] else None
        if kind == LimitKind.ACCURACY:
            doc["constraints"]["max_accuracy_loss"] = round(value, 4)
        elif kind == LimitKind.PERIOD:
            doc["constraints"]["frame_rate_hz"] = round(1000.0 / value, 4)
        elif kind == LimitKind.AVERAGE_POWER:
            doc["constraints"]["max_average_power_w"] = round(value / period + 1e-4, 4)
        else:
            doc["devices"][_gpu(model)]["sustained_power_w"] = round(value / period + 1e-4, 4)


def _with_dims(model):
    """``model`` tracking busy time and each device's execution energy (the limits to set)."""
    from dataclasses import replace

    power = np.where(np.isfinite(model.sustained_power_w), model.sustained_power_w, 1e30)
    return replace(model, track_busy=True, sustained_power_w=power,
                   period_ms=model.period_ms if model.period_ms < np.inf else 1e30,
                   max_accuracy_loss=model.max_accuracy_loss if model.max_accuracy_loss < np.inf else 1e30)


def _gpu(model) -> int:
    """The index of the GPU-like device (the fixed-mode one), else the first."""
    return next((d for d, fixed in enumerate(model.fixed_mode) if fixed), 0)
