"""Scenario model and its loader: JSON -> validated, immutable dataclasses.

The schema is the seed tool's (see README.md, "Scenario format"). Validation happens here,
once; everything downstream (compiler, kernels, reports) may trust a ``Scenario``.
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

import orjson

from .errors import ScenarioError

if TYPE_CHECKING:
    from .costmodel import CostModel


@dataclass(frozen=True)
class Device:
    """A processor with a resident-memory budget (MB) for the stages placed on it."""

    name: str
    memory_mb: float
    label: str | None = None


@dataclass(frozen=True)
class Link:
    """Cost of moving one MB from ``source`` to ``target`` (and back when bidirectional)."""

    source: str
    target: str
    latency_ms_per_mb: float
    energy_mj_per_mb: float
    bidirectional: bool = True


@dataclass(frozen=True)
class Profile:
    """What one stage costs on one device."""

    latency_ms: float
    energy_mj: float
    memory_mb: float


@dataclass(frozen=True)
class Stage:
    """One pipeline stage; a device absent from ``profiles`` cannot run it.

    ``inputs`` names the earlier stages whose outputs it reads (the previous stage unless
    the scenario says otherwise; empty for a source).
    """

    name: str
    output_mb: float
    profiles: Mapping[str, Profile]
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraints:
    """Caps on the whole pipeline's latency and energy; ``None`` means no cap."""

    max_total_latency_ms: float | None = None
    max_total_energy_mj: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated planning problem: devices, links, stages (a DAG listed in a topological
    order; a chain unless stages name their ``inputs``) and caps.

    Immutable, so the compiled ``CostModel`` is built once and reused by every
    ``eip.plan`` call on the same scenario.
    """

    name: str
    devices: tuple[Device, ...]
    links: tuple[Link, ...]
    stages: tuple[Stage, ...]
    constraints: Constraints = field(default_factory=Constraints)
    description: str = ""
    source: str = "<dict>"

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> "Scenario":
        """Validate a parsed scenario document; raises ``ScenarioError`` naming the bad field."""
        return _Parser(source).scenario(data)

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
    return Scenario.from_dict(data, source=source)


_TOP_KEYS = ("name", "description", "devices", "links", "stages", "constraints")
_DEVICE_KEYS = ("name", "memory_mb", "label")
_LINK_KEYS = ("source", "target", "latency_ms_per_mb", "energy_mj_per_mb", "bidirectional")
_STAGE_KEYS = ("name", "output_mb", "profiles", "inputs")
_PROFILE_KEYS = ("latency_ms", "energy_mj", "memory_mb")
_CONSTRAINT_KEYS = ("max_total_latency_ms", "max_total_energy_mj")


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

    def number(self, value: Any, path: str, *, allow_null: bool = False) -> float | None:
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.fail(path, f"expected a number >= 0, got {_show(value)}")
        return float(value)

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {_show(value)}")
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
        stages = self.stages(doc["stages"], known)
        constraints = self.constraints(doc.get("constraints", {}))
        return Scenario(name, devices, links, stages, constraints, description, self.source)

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
            out.append(Device(name, self.number(item["memory_mb"], f"{path}.memory_mb"), label))
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

    def stages(self, value: Any, known: set[str]) -> tuple[Stage, ...]:
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
            profiles: dict[str, Profile] = {}
            for device, prof in raw_profiles.items():
                ppath = f"{path}.profiles.{device}"
                if device not in known:
                    raise self.fail(ppath, _unknown_device(device, known))
                prof = self.obj(prof, ppath, _PROFILE_KEYS, _PROFILE_KEYS)
                profiles[device] = Profile(
                    *(self.number(prof[key], f"{ppath}.{key}") for key in _PROFILE_KEYS)
                )
            default = (out[-1].name,) if out else ()
            inputs = self.inputs(item["inputs"], f"{path}.inputs", name, seen) if "inputs" in item else default
            out.append(Stage(name, output_mb, MappingProxyType(profiles), inputs))
            seen.add(name)
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
        return Constraints(
            *(self.number(doc.get(key), f"constraints.{key}", allow_null=True) for key in _CONSTRAINT_KEYS)
        )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _unknown_device(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; devices are {', '.join(sorted(known))}"
    return f"unknown device '{name}'{hint}"


def _default_name(source: str) -> str:
    base = os.path.basename(source)
    return os.path.splitext(base)[0] if base and not base.startswith("<") else "pipeline"
