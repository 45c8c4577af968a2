"""Merge a profiler's measurements of one device into a scenario document by stage name,
grouping stages where the profiler fused them, and say what did not match.

A measured entry covers one or more layers (``Measured.covers``). It lands on the stage
that covers all of them: a stage of that name, or one whose name lists them (TensorRT's
``a + b``), or a group made here. When its layers span several stages, those stages are
merged into one group stage first (a fused layer on an accelerator is one stage on every
device), so that every device's profile covers the same stages.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..errors import MAX_NAME_CHARS, ScenarioError
from .importers import Measured, ProfileFile, trt_layers


@dataclass
class ImportReport:
    """What one device's import did: stages measured, groups made, and what was left."""

    device: str
    measured: int = 0
    groups: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    unmatched: list[tuple[str, float]] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.device}: {self.measured} stages measured"]
        for name, members in self.groups:
            out.append(f"{self.device}: grouped {len(members)} stages into '{_short(name)}' ({_few(members, 3)})")
        if self.unmatched:
            total = sum(ms for _, ms in self.unmatched)
            out.append(f"{self.device}: {len(self.unmatched)} entries ({total:.3f} ms) match no stage and were not "
                       f"imported: " + _few([f"'{_short(n)}' ({ms:.3f} ms)" for n, ms in self.unmatched]))
        if self.uncovered:
            out.append(f"{self.device}: {len(self.uncovered)} stages have no measurement here (they cannot run on "
                       f"{self.device}): {_few(self.uncovered)}")
        return out + [f"{self.device}: {note}" for note in self.notes]


def _short(name: str, width: int = 60) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def _few(items: Sequence[str], shown: int = 5) -> str:
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def merge_profile(document: dict | None, profile: ProfileFile, *, device: str | None = None,
                  power_w: float | None = None, memory_mb: float | None = None,
                  links: Mapping[str, tuple[float, float]] | None = None) -> tuple[dict, list[ImportReport]]:
    """``document`` (None: a new one from the file) with ``profile``'s measurements as each
    stage's way on its row's device, or on ``device`` for rows that name none.

    ``power_w`` gives energy = power x latency for files without energy; ``memory_mb`` the
    budget of a device the document does not have yet; ``links`` per other device the
    (ms/MB, mJ/MB) of a link to it.
    """
    rows = list(profile.rows)
    if device is None and any(r.device is None for r in rows):
        raise ScenarioError(profile.source, "", "the file does not say which device it measured: give --device NAME")
    devices = list(dict.fromkeys(r.device or device for r in rows))
    if document is None:
        document = new_document(profile, rows)
    reports = []
    for name in devices:
        mine = [r for r in rows if (r.device or device) == name]
        reports.append(_merge_device(document, mine, name, profile, power_w, memory_mb, links or {}))
    return document, reports


def new_document(profile: ProfileFile, rows: list[Measured]) -> dict:
    """A scenario of the file's entries as stages, in the file's (execution) order: edges
    from the file where it has them (trtexec layer info), else a chain. An entry for a
    layer another entry covers (TensorRT's copy of one member of a fused layer) is no
    stage of its own: its time goes to that entry's stage."""
    covered = {m for r in rows for m in r.members if m != r.name}
    stages, seen = [], {}
    for row in rows:
        if row.name in seen or row.name in covered:
            continue
        earlier = set(seen)
        if row.inputs is not None:
            inputs = [seen[p]["name"] for p in row.inputs if p in earlier]
        else:
            inputs = [stages[-1]["name"]] if stages else []
        stage = {"name": stage_name(row.name, row.covers), "output_mb": row.output_mb or 0.0, "inputs": inputs,
                 "profiles": {}}
        if stage["name"] != row.name:  # shortened: the layers say what it covers
            stage["layers"] = list(row.covers)
        if row.op:
            stage["op"] = row.op
        seen[row.name] = stage
        stages.append(stage)
    edges = "its edges from the layer info" if any(r.inputs is not None for r in rows) else \
        "stages as a chain in the profile's order"
    return {"name": _default_name(profile.source), "description": f"imported from {profile.source}: {edges}",
            "provenance": {}, "devices": [], "links": [], "stages": stages}


def stage_name(name: str, layers: Sequence[str]) -> str:
    """``name``, or when a profiler's name is too long for a stage (a DLA group lists every
    layer) its first and last layers and how many it covers."""
    if len(name) <= MAX_NAME_CHARS:
        return name
    short = f"{{{layers[0][:100]} .. {layers[-1][:100]}}} ({len(layers)} layers)"
    return short[:MAX_NAME_CHARS]


def _default_name(source: str) -> str:
    base = re.split(r"[\\/]", source)[-1]
    return base.rsplit(".", 1)[0] or "pipeline"


def _merge_device(document: dict, rows: list[Measured], device: str, profile: ProfileFile, power_w: float | None,
                  memory_mb: float | None, links: Mapping[str, tuple[float, float]]) -> ImportReport:
    report = ImportReport(device)
    new = not any(d["name"] == device for d in document["devices"])
    if new:
        _add_device(document, device, links, report)
    costs: dict[str, list[Measured]] = {}
    for row in rows:
        stage = _stage_for(document, row, report)
        if stage is None:
            report.unmatched.append((row.name, row.latency_ms))
        else:
            costs.setdefault(stage, []).append(row)
    by_name = {s["name"]: s for s in document["stages"]}
    for stage, measured in costs.items():
        by_name[stage]["profiles"][device] = _ways(by_name[stage], measured, power_w, profile)
    if new:
        _declare(document, device, memory_mb, report)
    report.measured = len(costs)
    report.uncovered = [s["name"] for s in document["stages"] if device not in s["profiles"]]
    text = profile.describe + (f"; energy = latency x {power_w:g} W (the power figure given)"
                               if power_w is not None and _needs_power(rows) else "")
    old = document["provenance"].get(device)
    document["provenance"][device] = text if not old or old == text else f"{old}; then {text}"
    report.notes += [f"{name}: {why}" for name, why in profile.skipped]
    return report


def _needs_power(rows: list[Measured]) -> bool:
    return any(r.energy_mj is None for r in rows)


def _add_device(document: dict, device: str, links: Mapping[str, tuple[float, float]], report: ImportReport) -> None:
    known = {d["name"] for d in document["devices"]}
    for other in links:
        if other not in known:
            raise ScenarioError("--link", other, f"unknown device; the scenario has {', '.join(sorted(known)) or 'none'}")
    document["devices"].append({"name": device, "memory_mb": 0.0})  # the budget: see _declare
    for other, (ms, mj) in links.items():
        document["links"].append({"source": device, "target": other, "latency_ms_per_mb": ms, "energy_mj_per_mb": mj})
    if known and not links:
        report.notes.append(f"no link to {', '.join(sorted(known))}: no tensor can move to or from {device} (--link)")


def _declare(document: dict, device: str, memory_mb: float | None, report: ImportReport) -> None:
    """A new device's memory budget (default: every stage it measured at once) and the power
    modes its ways were measured at (taken as measured: their scales are 1)."""
    ways = [w for s in document["stages"] for w in _way_list(s["profiles"].get(device))]
    entry = next(d for d in document["devices"] if d["name"] == device)
    if memory_mb is None:
        memory_mb = sum(max((w["memory_mb"] for w in _way_list(s["profiles"].get(device))), default=0.0)
                        for s in document["stages"])
        report.notes.append(f"memory budget {memory_mb:g} MB (every stage it runs at once; --memory-mb sets it)")
    entry["memory_mb"] = memory_mb
    modes = list(dict.fromkeys(w["mode"] for w in ways if "mode" in w))
    if modes:
        entry["power_modes"] = [{"name": m, "latency_scale": 1.0, "power_scale": 1.0} for m in modes]
        report.notes.append(f"power modes {', '.join(modes)} declared as measured (each way's costs as given)")


def _way_list(value) -> list[dict]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _stage_memory(stage: dict) -> float:
    """The largest memory of any way of ``stage`` (0 without one)."""
    return max((w["memory_mb"] for v in stage["profiles"].values() for w in _way_list(v)), default=0.0)


def _stage_for(document: dict, row: Measured, report: ImportReport) -> str | None:
    """The stage that covers the layers of ``row``, grouping stages if they span several;
    None when none of them is in a stage."""
    owner = _owners(document)
    if row.name in owner:
        return owner[row.name]
    stages = [owner.get(m) for m in row.covers]
    distinct = list(dict.fromkeys(s for s in stages if s is not None))
    if not distinct:
        return None
    name = stage_name(row.name, row.covers)
    missing = [m for m, s in zip(row.covers, stages) if s is None]
    if missing:  # layers the scenario has no stage for (TensorRT removes concatenations on a GPU)
        report.notes.append(f"'{name}' also covers layers no stage has: {_few(missing)}")
    if len(distinct) == 1:
        return distinct[0]
    group_stages(document, {name: distinct})
    report.groups.append((name, tuple(distinct)))
    return name


def _owners(document: dict) -> dict[str, str]:
    """Layer name -> the stage covering it: each stage covers itself, the layers its name
    lists (TensorRT's ``a + b``) and its ``layers`` (a group's)."""
    owner = {}
    for stage in document["stages"]:
        for member in tuple(stage.get("layers", ())) + trt_layers(stage["name"]) + (stage["name"],):
            owner.setdefault(member, stage["name"])
    return owner


def _ways(stage: dict, rows: list[Measured], power_w: float | None, profile: ProfileFile) -> dict | list[dict]:
    """The ways of ``stage`` the rows measured: one per (variant, mode), the rows of one
    adding up (a layer's copies and format conversions)."""
    by_way: dict[tuple, list[Measured]] = {}
    for row in rows:
        by_way.setdefault((row.variant, row.mode), []).append(row)
    ways = [_way(stage, same, power_w, profile) for same in by_way.values()]
    return ways[0] if len(ways) == 1 else ways


def _way(stage: dict, rows: list[Measured], power_w: float | None, profile: ProfileFile) -> dict:
    ms = sum(r.latency_ms for r in rows)
    if _needs_power(rows):
        if power_w is None:
            raise ScenarioError(profile.source, "", "the file has no energy figures: give --power-w (energy = power x latency)")
        energy = ms * power_w
    else:
        energy = sum(r.energy_mj for r in rows)
    memories = [r.memory_mb for r in rows if r.memory_mb is not None]
    way = {"latency_ms": ms, "energy_mj": energy, "memory_mb": sum(memories) if memories else _stage_memory(stage)}
    for key, value in (("variant", rows[0].variant), ("mode", rows[0].mode), ("output_mb", rows[0].output_mb)):
        if value and (key != "output_mb" or value != stage["output_mb"]):
            way[key] = value
    return way


def group_stages(document: dict, groups: Mapping[str, Sequence[str]]) -> dict:
    """Merge each group's stages into one stage named after the group, in place; its
    ``layers`` lists the layers it covers (its members and theirs).

    The group reads what its members read from outside it; its output is what its members
    give to stages outside it (what moves when a reader sits elsewhere); on each device where
    every member has one way of the same (variant, mode), it costs their sums. Stages are
    reordered so that every input still comes first; a group that is not convex (a path
    leaves it and comes back) is an error, since running it as one stage would be a cycle.
    """
    stages = document["stages"]
    index = {s["name"]: i for i, s in enumerate(stages)}
    group_of: dict[str, str] = {}
    for name, members in groups.items():
        for m in members:
            if m not in index:
                raise ScenarioError("groups", f"{name}", f"no stage named '{m}'")
            if m in group_of:
                raise ScenarioError("groups", f"{name}", f"stage '{m}' is already in group '{group_of[m]}'")
            group_of[m] = name
        if name in index and name not in members:
            raise ScenarioError("groups", f"{name}", "a stage of that name exists outside the group")
    unit = lambda s: group_of.get(s, s)
    merged: dict[str, dict] = {}
    for stage in stages:
        key = unit(stage["name"])
        if key not in merged:
            merged[key] = _group_stage(key, [stages[index[m]] for m in groups[key]], unit, stages, index) if key in groups \
                else dict(stage, inputs=list(dict.fromkeys(unit(p) for p in _inputs(stage, stages, index))))
    document["stages"] = _topological(merged, [min(index[m] for m in groups[k]) if k in groups else index[k] for k in merged])
    return document


def _inputs(stage: dict, stages: list[dict], index: dict[str, int]) -> list[str]:
    if "inputs" in stage:
        return list(stage["inputs"])
    i = index[stage["name"]]
    return [stages[i - 1]["name"]] if i else []


def _group_stage(name: str, members: list[dict], unit, stages: list[dict], index: dict[str, int]) -> dict:
    inside = {m["name"] for m in members}
    inputs = [unit(p) for m in members for p in _inputs(m, stages, index) if p not in inside]
    read_outside = {p for s in stages if s["name"] not in inside for p in _inputs(s, stages, index)}
    output_mb = sum(m["output_mb"] for m in members if m["name"] in read_outside)
    layers = [layer for m in members for layer in m.get("layers") or trt_layers(m["name"]) or [m["name"]]]
    stage = {"name": name, "output_mb": output_mb, "inputs": list(dict.fromkeys(inputs)), "profiles": {},
             "layers": list(dict.fromkeys(layers))}
    ops = {m.get("op") for m in members}
    stage["op"] = ops.pop() if len(ops) == 1 and None not in ops else "group"
    for device in members[0]["profiles"]:
        ways = [m["profiles"].get(device) for m in members]
        if all(isinstance(w, dict) and (w.get("variant"), w.get("mode")) == (ways[0].get("variant"), ways[0].get("mode"))
               for w in ways):
            way = {key: sum(w.get(key, 0.0) for w in ways) for key in ("latency_ms", "energy_mj", "memory_mb", "accuracy_loss")}
            way |= {k: ways[0][k] for k in ("variant", "mode") if k in ways[0]}
            if any(w.get("estimated") for w in ways):
                way["estimated"] = True
            stage["profiles"][device] = way
    if not stage["profiles"]:
        raise ScenarioError("groups", name, "no device runs every stage of the group (in one same way): "
                            "the group could run nowhere")
    return stage


def _topological(units: dict[str, dict], rank: list[int]) -> list[dict]:
    """``units`` in an order where every input comes first (ties by ``rank``, the first
    original position: Kahn's algorithm on a heap), or an error naming a group on a cycle."""
    order = dict(zip(units, rank))
    waiting = {k: set(u["inputs"]) for k, u in units.items()}
    readers: dict[str, list[str]] = {}
    for k, inputs in waiting.items():
        for p in inputs:
            readers.setdefault(p, []).append(k)
    ready = [(order[k], k) for k, inputs in waiting.items() if not inputs]
    heapq.heapify(ready)
    out = []
    while ready:
        _, k = heapq.heappop(ready)
        out.append(units[k])
        for r in readers.get(k, ()):
            waiting[r].discard(k)
            if not waiting[r]:
                heapq.heappush(ready, (order[r], r))
    if len(out) < len(units):
        stuck = min((k for k in units if waiting[k]), key=order.get)
        raise ScenarioError("groups", stuck, "the group is not convex: a path leaves it and comes back, so it "
                            "cannot run as one stage")
    return out
