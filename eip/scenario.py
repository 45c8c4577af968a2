"""Scenario model and its loader: JSON -> validated, immutable dataclasses.

The schema is the seed tool's (see README.md, "Scenario format"). Validation happens here,
once; everything downstream (compiler, kernels, reports) may trust a ``Scenario``.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

import orjson

from .errors import MAX_NAME_CHARS, VALUE_RANGE, ScenarioError, out_of_range

if TYPE_CHECKING:
    from .costmodel import CostModel


@dataclass(frozen=True)
class PowerMode:
    """A DVFS operating point of a device: a way measured at the device's reference point
    runs ``latency_scale`` times as long at ``power_scale`` times the power here (so its
    energy scales by their product)."""

    name: str
    latency_scale: float
    power_scale: float


@dataclass(frozen=True)
class Device:
    """A processor with a resident-memory budget (MB) for the stages placed on it.

    ``power_modes``: its operating points (none: one, unnamed); ``mode_policy``
    ``"per_stage"`` lets the governor pick a mode per stage, ``"fixed"`` runs every stage
    on the device in one mode. ``sustained_power_w``: the execution power it can sustain
    at the scenario's frame rate (None: no limit).
    """

    name: str
    memory_mb: float
    label: str | None = None
    power_modes: tuple[PowerMode, ...] = ()
    mode_policy: str = "per_stage"
    sustained_power_w: float | None = None

    def mode(self, name: str) -> PowerMode:
        return next(m for m in self.power_modes if m.name == name)


@dataclass(frozen=True)
class Link:
    """Cost of moving one MB from ``source`` to ``target`` (and back when bidirectional)."""

    source: str
    target: str
    latency_ms_per_mb: float
    energy_mj_per_mb: float
    bidirectional: bool = True


@dataclass(frozen=True)
class Way:
    """One way to run a stage on a device, and what it costs there.

    ``variant`` names the precision or build (``"default"`` unless given); ``accuracy_loss``
    the points of quality lost by running the stage this way (they add up over stages);
    ``output_mb`` the size of its output this way (None: the stage's ``output_mb``);
    ``mode`` the device power mode the costs were measured at (None: the device's
    reference point, scaled to each of its ``power_modes``); ``estimated`` marks costs that
    a cost model (a roofline estimate) gave, not a measurement.
    """

    latency_ms: float
    energy_mj: float
    memory_mb: float
    variant: str = "default"
    accuracy_loss: float = 0.0
    output_mb: float | None = None
    mode: str | None = None
    estimated: bool = False


@dataclass(frozen=True)
class Stage:
    """One pipeline stage; a device absent from ``profiles`` cannot run it.

    ``profiles`` maps a device to the ways the stage runs there (one or more).
    ``inputs`` names the earlier stages whose outputs it reads (the previous stage unless
    the scenario says otherwise; empty for a source). ``op``: the operator it runs (an ONNX
    op type, a profiler's layer type), when known; ``layers``: the layers of a model it
    covers when it is a group of them (a fused layer, a DLA subgraph).
    """

    name: str
    output_mb: float
    profiles: Mapping[str, tuple[Way, ...]]
    inputs: tuple[str, ...] = ()
    op: str | None = None
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraints:
    """Caps on the whole pipeline; ``None`` means no cap.

    ``frame_rate_hz``: frames arrive at this rate and are pipelined across devices, so each
    device's busy time per frame must fit in the period 1000 / frame_rate_hz ms; it also
    turns power limits (``max_average_power_w``, ``Device.sustained_power_w``) into
    energy per frame.
    """

    max_total_latency_ms: float | None = None
    max_total_energy_mj: float | None = None
    max_accuracy_loss: float | None = None
    frame_rate_hz: float | None = None
    max_average_power_w: float | None = None

    @property
    def period_ms(self) -> float | None:
        """The frame period (ms) of ``frame_rate_hz``."""
        return None if self.frame_rate_hz is None else 1000.0 / self.frame_rate_hz


@dataclass(frozen=True)
class Scenario:
    """A validated planning problem: devices, links, stages (a DAG listed in a topological
    order; a chain unless stages name their ``inputs``) and caps.

    ``provenance`` says, per device, where its costs come from (a profiler and its
    settings, a roofline estimate and its spec). Immutable, so the compiled ``CostModel`` is
    built once and reused by every ``eip.plan`` call on the same scenario.
    """

    name: str
    devices: tuple[Device, ...]
    links: tuple[Link, ...]
    stages: tuple[Stage, ...]
    constraints: Constraints = field(default_factory=Constraints)
    description: str = ""
    source: str = "<dict>"
    provenance: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> "Scenario":
        """Validate a parsed scenario document; raises ``ScenarioError`` naming the bad field."""
        return _Parser(source).scenario(data)

    def with_constraints(self, data: Any) -> "Scenario":
        """This scenario with ``data`` (the ``constraints`` object of a scenario document)
        instead of its constraints, validated as ``from_dict`` would. The devices, links and stages
        are not parsed again, nor compiled: the new scenario's cost model is this one's with
        the new budgets."""
        from .costmodel import budgets

        parser = _Parser(self.source)
        constraints = parser.constraints(data)
        parser.check_power_limits(self.devices, constraints)
        moved = replace(self, constraints=constraints)
        moved.__dict__["cost_model"] = replace(self.cost_model, **budgets(constraints))  # fills the cached_property
        return moved

    @cached_property
    def cost_model(self) -> "CostModel":
        """The dense arrays the kernels work on (compiled on first use, then cached)."""
        from .costmodel import compile_scenario

        return compile_scenario(self)

    def device(self, name: str) -> Device:
        return next(d for d in self.devices if d.name == name)


def load(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario JSON file.

    Raises ``ScenarioError`` (one line: file, JSON path, what was expected) for a missing
    file, malformed JSON (with line and column) or any schema violation.
    """
    return Scenario.from_dict(read_document(path), source=os.fspath(path))


def read_document(path: str | os.PathLike[str]) -> Any:
    """A scenario file's parsed JSON, not yet validated (``load`` validates it); one-line
    ``ScenarioError`` for a missing file, malformed JSON or a key given twice."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(source, "", "is a directory, expected a scenario JSON file") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read file ({exc.strerror})") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg.rstrip(".") if exc.msg else "malformed JSON"
        raise ScenarioError(
            source, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {reason}"
        ) from None
    _reject_duplicate_keys(raw, source)
    return data


def _reject_duplicate_keys(raw: bytes, source: str) -> None:
    """A key given twice in one object is an error (JSON parsers keep the last silently)."""
    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen = set()
        for key, _ in items:
            if key in seen:
                others = ", ".join(repr(k) for k, _ in items if k != key)[:80]
                raise ScenarioError(source, "", f"duplicate key {_show(key)} in one object (beside {others or 'nothing'})")
            seen.add(key)
        return {}  # the values were read by orjson already
    json.loads(raw, object_pairs_hook=pairs)


_TOP_KEYS = ("name", "description", "devices", "links", "stages", "constraints", "provenance")
_DEVICE_KEYS = ("name", "memory_mb", "label", "power_modes", "mode_policy", "sustained_power_w")
_MODE_KEYS = ("name", "latency_scale", "power_scale")
MODE_POLICIES = ("per_stage", "fixed")
_LINK_KEYS = ("source", "target", "latency_ms_per_mb", "energy_mj_per_mb", "bidirectional")
_STAGE_KEYS = ("name", "output_mb", "profiles", "inputs", "op", "layers")
_WAY_KEYS = ("latency_ms", "energy_mj", "memory_mb", "variant", "accuracy_loss", "output_mb", "mode", "estimated")
_CONSTRAINT_KEYS = ("max_total_latency_ms", "max_total_energy_mj", "max_accuracy_loss", "frame_rate_hz",
                    "max_average_power_w")


def _show(value: Any) -> str:
    """A short rendering of an offending JSON value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Parser:
    """Walks a parsed document, tracking the JSON path for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.stage_names: set[str] = set()  # every stage's name, to tell "later" from "unknown"

    def fail(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, path, message)

    def obj(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path or "(top level)", f"expected an object, got {_show(value)}")
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(allowed)}"
                raise self.fail(_join(path, key), f"unknown key '{key}'{hint}")
        for key in required:
            if key not in value:
                raise self.fail(_join(path, key), "missing required field")
        return value

    def number(self, value: Any, path: str, *, allow_null: bool = False, positive: bool = False) -> float | None:
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                or value < 0 or (positive and value == 0):
            raise self.fail(path, f"expected a number {'> 0' if positive else '>= 0'}, got {_show(value)}")
        if out_of_range(value):
            raise self.fail(path, f"expected a number {'> 0' if positive else '>= 0'} ({VALUE_RANGE}), got {_show(value)}")
        return float(value)

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {_show(value)}")
        if len(value) > MAX_NAME_CHARS:
            raise self.fail(path, f"expected a name of at most {MAX_NAME_CHARS} characters, got {len(value):,}")
        return value

    def nonempty_list(self, value: Any, path: str, what: str) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of {what}, got {_show(value)}")
        if not value:
            raise self.fail(path, f"expected at least one {what[:-1]}, got an empty list")
        return value

    def scenario(self, data: Any) -> Scenario:
        doc = self.obj(data, "", _TOP_KEYS, ("devices", "stages"))
        name = self.name(doc["name"], "name") if "name" in doc else _default_name(self.source)
        description = doc.get("description", "")
        if not isinstance(description, str):
            raise self.fail("description", f"expected a string, got {_show(description)}")
        devices = self.devices(doc["devices"])
        known = {d.name for d in devices}
        links = self.links(doc.get("links", []), known)
        stages = self.stages(doc["stages"], {d.name: d for d in devices})
        constraints = self.constraints(doc.get("constraints", {}))
        provenance = self.provenance(doc.get("provenance", {}), known)
        self.check_power_limits(devices, constraints)
        return Scenario(name, devices, links, stages, constraints, description, self.source,
                        MappingProxyType(provenance))

    def check_power_limits(self, devices: tuple[Device, ...], constraints: Constraints) -> None:
        for i, device in enumerate(devices):
            if device.sustained_power_w is not None and constraints.frame_rate_hz is None:
                raise self.fail(f"devices[{i}].sustained_power_w",
                                "a power limit needs constraints.frame_rate_hz (power = energy per frame x frame rate)")

    def provenance(self, value: Any, known: set[str]) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.fail("provenance", f"expected an object keyed by device name, got {_show(value)}")
        for device, text in value.items():
            if device not in known:
                raise self.fail(f"provenance.{device}", _unknown_device(device, known))
            if not isinstance(text, str):
                raise self.fail(f"provenance.{device}", f"expected a string, got {_show(text)}")
        return dict(value)

    def devices(self, value: Any) -> tuple[Device, ...]:
        out: list[Device] = []
        seen: set[str] = set()
        for i, item in enumerate(self.nonempty_list(value, "devices", "devices")):
            path = f"devices[{i}]"
            item = self.obj(item, path, _DEVICE_KEYS, ("name", "memory_mb"))
            name = self.name(item["name"], f"{path}.name")
            if name in seen:
                raise self.fail(f"{path}.name", f"duplicate device name '{name}'")
            seen.add(name)
            label = item.get("label")
            if label is not None and not isinstance(label, str):
                raise self.fail(f"{path}.label", f"expected a string, got {_show(label)}")
            modes = self.power_modes(item.get("power_modes", []), f"{path}.power_modes")
            policy = item.get("mode_policy", "per_stage")
            if policy not in MODE_POLICIES:
                raise self.fail(f"{path}.mode_policy", f"expected one of {', '.join(MODE_POLICIES)}, got {_show(policy)}")
            if policy == "fixed" and not modes:
                raise self.fail(f"{path}.mode_policy", "a fixed mode policy needs power_modes to choose from")
            power = self.number(item.get("sustained_power_w"), f"{path}.sustained_power_w", allow_null=True)
            out.append(Device(name, self.number(item["memory_mb"], f"{path}.memory_mb"), label, modes, policy, power))
        return tuple(out)

    def power_modes(self, value: Any, path: str) -> tuple[PowerMode, ...]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of power modes, got {_show(value)}")
        out: list[PowerMode] = []
        for j, item in enumerate(value):
            item = self.obj(item, f"{path}[{j}]", _MODE_KEYS, _MODE_KEYS)
            name = self.name(item["name"], f"{path}[{j}].name")
            if any(m.name == name for m in out):
                raise self.fail(f"{path}[{j}].name", f"duplicate power mode '{name}'")
            scales = (self.number(item[key], f"{path}[{j}].{key}", positive=True) for key in _MODE_KEYS[1:])
            out.append(PowerMode(name, *scales))
        return tuple(out)

    def links(self, value: Any, known: set[str]) -> tuple[Link, ...]:
        if not isinstance(value, list):
            raise self.fail("links", f"expected a list of links, got {_show(value)}")
        out: list[Link] = []
        directed: dict[tuple[str, str], int] = {}
        for i, item in enumerate(value):
            path = f"links[{i}]"
            item = self.obj(item, path, _LINK_KEYS, _LINK_KEYS[:4])
            ends = []
            for end in ("source", "target"):
                device = self.name(item[end], f"{path}.{end}")
                if device not in known:
                    raise self.fail(f"{path}.{end}", _unknown_device(device, known))
                ends.append(device)
            if ends[0] == ends[1]:
                raise self.fail(path, f"a link joins two different devices, got '{ends[0]}' to itself")
            bidirectional = item.get("bidirectional", True)
            if not isinstance(bidirectional, bool):
                raise self.fail(f"{path}.bidirectional", f"expected true or false, got {_show(bidirectional)}")
            pairs = [(ends[0], ends[1])] + ([(ends[1], ends[0])] if bidirectional else [])
            for pair in pairs:
                if pair in directed:
                    raise self.fail(
                        path, f"duplicate link {pair[0]} -> {pair[1]} (already given by links[{directed[pair]}])"
                    )
                directed[pair] = i
            out.append(
                Link(
                    ends[0],
                    ends[1],
                    self.number(item["latency_ms_per_mb"], f"{path}.latency_ms_per_mb"),
                    self.number(item["energy_mj_per_mb"], f"{path}.energy_mj_per_mb"),
                    bidirectional,
                )
            )
        return tuple(out)

    def stages(self, value: Any, known: Mapping[str, Device]) -> tuple[Stage, ...]:
        out: list[Stage] = []
        seen: set[str] = set()
        items = self.nonempty_list(value, "stages", "stages")
        self.stage_names = {item["name"] for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)}
        for i, item in enumerate(items):
            path = f"stages[{i}]"
            item = self.obj(item, path, _STAGE_KEYS, _STAGE_KEYS[:3])
            name = self.name(item["name"], f"{path}.name")
            if name in seen:
                raise self.fail(f"{path}.name", f"duplicate stage name '{name}'")
            output_mb = self.number(item["output_mb"], f"{path}.output_mb")
            raw_profiles = item["profiles"]
            if not isinstance(raw_profiles, dict):
                raise self.fail(f"{path}.profiles", f"expected an object keyed by device name, got {_show(raw_profiles)}")
            if not raw_profiles:
                raise self.fail(f"{path}.profiles", f"no device can run stage '{name}': give at least one profile")
            profiles: dict[str, tuple[Way, ...]] = {}
            for device, ways in raw_profiles.items():
                ppath = f"{path}.profiles.{device}"
                if device not in known:
                    raise self.fail(ppath, _unknown_device(device, set(known)))
                profiles[device] = self.ways(ways, ppath, known[device])
            default = (out[-1].name,) if out else ()
            inputs = self.inputs(item["inputs"], f"{path}.inputs", name, seen) if "inputs" in item else default
            op = self.name(item["op"], f"{path}.op") if "op" in item else None
            layers = tuple(self.name(layer, f"{path}.layers[{j}]")
                           for j, layer in enumerate(self.nonempty_list(item["layers"], f"{path}.layers", "layer names"))) \
                if "layers" in item else ()
            out.append(Stage(name, output_mb, MappingProxyType(profiles), inputs, op, layers))
            seen.add(name)
        return tuple(out)

    def ways(self, value: Any, path: str, device: Device) -> tuple[Way, ...]:
        """One way (an object) or several (a non-empty list) to run a stage on ``device``."""
        items = [(value, path)] if isinstance(value, dict) else \
            [(item, f"{path}[{j}]") for j, item in enumerate(self.nonempty_list(value, path, "ways"))]
        out: list[Way] = []
        for item, wpath in items:
            item = self.obj(item, wpath, _WAY_KEYS, _WAY_KEYS[:3])
            costs = (self.number(item[key], f"{wpath}.{key}") for key in _WAY_KEYS[:3])
            variant = self.name(item["variant"], f"{wpath}.variant") if "variant" in item else "default"
            loss = self.number(item.get("accuracy_loss", 0.0), f"{wpath}.accuracy_loss")
            output_mb = self.number(item.get("output_mb"), f"{wpath}.output_mb", allow_null=True)
            mode = None
            if "mode" in item:
                mode = self.name(item["mode"], f"{wpath}.mode")
                if all(m.name != mode for m in device.power_modes):
                    declared = ", ".join(m.name for m in device.power_modes) or "none"
                    raise self.fail(f"{wpath}.mode", f"unknown power mode '{mode}' of device '{device.name}' "
                                                     f"(its power_modes: {declared})")
            if any(w.variant == variant and w.mode == mode for w in out):
                raise self.fail(wpath, f"duplicate way: variant '{variant}'" + (f" in mode '{mode}'" if mode else "")
                                + f" is already given for device '{device.name}'")
            estimated = item.get("estimated", False)
            if not isinstance(estimated, bool):
                raise self.fail(f"{wpath}.estimated", f"expected true or false, got {_show(estimated)}")
            out.append(Way(*costs, variant, loss, output_mb, mode, estimated))
        return tuple(out)

    def inputs(self, value: Any, path: str, stage: str, earlier: set[str]) -> tuple[str, ...]:
        """The names of the earlier stages a stage reads, each once."""
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of earlier stage names, got {_show(value)}")
        out: list[str] = []
        for j, item in enumerate(value):
            name = self.name(item, f"{path}[{j}]")
            if name == stage:
                raise self.fail(f"{path}[{j}]", f"stage '{stage}' cannot read its own output")
            if name in out:
                raise self.fail(f"{path}[{j}]", f"input '{name}' is listed twice")
            if name not in earlier:
                raise self.fail(f"{path}[{j}]", self._not_earlier(name, earlier))
            out.append(name)
        return tuple(out)

    def _not_earlier(self, name: str, earlier: set[str]) -> str:
        if name in self.stage_names:
            return (f"stage '{name}' comes later in the list; list stages so that every input comes before "
                    f"the stages that read it")
        close = difflib.get_close_matches(name, sorted(earlier), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown stage '{name}'{hint}"

    def constraints(self, value: Any) -> Constraints:
        doc = self.obj(value, "constraints", _CONSTRAINT_KEYS, ())
        out = Constraints(*(self.number(doc.get(key), f"constraints.{key}", allow_null=True,
                                        positive=key == "frame_rate_hz") for key in _CONSTRAINT_KEYS))
        if out.max_average_power_w is not None and out.frame_rate_hz is None:
            raise self.fail("constraints.max_average_power_w",
                            "a power limit needs constraints.frame_rate_hz (power = energy per frame x frame rate)")
        return out


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _unknown_device(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; devices are {', '.join(sorted(known))}"
    return f"unknown device '{name}'{hint}"


def _default_name(source: str) -> str:
    base = os.path.basename(source)
    return os.path.splitext(base)[0] if base and not base.startswith("<") else "pipeline"
