"""The compiler: a ``Scenario`` (names, units) -> a ``CostModel`` (dense arrays only).

All modelling happens here. An *option* is what a stage can be placed on; today one option
per device, later device x variant x power mode. The kernels only ever see options, usage
dimensions and caps: they never learn what an "NPU" is.

Usage dimensions (``Dim``, ``Q = 3 + D``): latency ms, energy mJ, device switches, then
resident memory MB on each device. Every constraint is a cap on one usage dimension;
``inf`` means no cap. The score weighs latency, energy and switches (``goals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Sequence

import numpy as np

from .errors import ScenarioError
from .goals import score_coefficients
from .kernels.bounds import completion_usage
from .kernels.contract import LayeredGraph
from .scenario import Scenario


class Dim(IntEnum):
    """The usage dimensions of a compiled chain; memory of device d is ``MEMORY + d``."""

    LATENCY = 0
    ENERGY = 1
    SWITCHES = 2
    MEMORY = 3

#: Caps are compared with this relative slack: totals summed in another order differ in the
#: last bits, and a strict comparison would reject plans that sit exactly on a cap.
CAP_RTOL = 1e-9


def cap_with_tolerance(cap: np.ndarray) -> np.ndarray:
    """The value a usage total may reach and still count as within ``cap`` (inf stays inf)."""
    return cap + CAP_RTOL * np.maximum(1.0, cap)


@dataclass(frozen=True, eq=False)
class CostModel:
    """Dense cost tensors of one planning problem (N stages, O options, D devices).

    Attributes:
        exec_ms, exec_mj, mem_mb: (N, O) float64 execution latency, energy and resident
            memory of stage s on option o; ``inf`` where the option cannot run the stage.
        option_device: (O,) int64 device index of each option.
        output_mb: (N,) float64 size of each stage's output tensor.
        xfer_ms_per_mb, xfer_mj_per_mb: (D, D) float64 cost of moving one MB from device a
            to device b; 0 on the diagonal, ``inf`` where there is no link.
        link_mask: (D, D) bool, True where a tensor can move (always on the diagonal).
        mem_cap_mb: (D,) float64 memory budget per device (``inf`` for none).
        max_latency_ms, max_energy_mj: pipeline caps (``inf`` for none).
    """

    exec_ms: np.ndarray
    exec_mj: np.ndarray
    mem_mb: np.ndarray
    option_device: np.ndarray
    output_mb: np.ndarray
    xfer_ms_per_mb: np.ndarray
    xfer_mj_per_mb: np.ndarray
    link_mask: np.ndarray
    mem_cap_mb: np.ndarray
    max_latency_ms: float
    max_energy_mj: float
    stage_names: tuple[str, ...]
    device_names: tuple[str, ...]
    option_names: tuple[str, ...]
    name: str = "pipeline"

    @property
    def n_stages(self) -> int:
        return self.exec_ms.shape[0]

    @property
    def n_options(self) -> int:
        return self.exec_ms.shape[1]

    @property
    def n_devices(self) -> int:
        return self.mem_cap_mb.shape[0]

    @classmethod
    def from_arrays(
        cls,
        exec_ms: np.ndarray,
        exec_mj: np.ndarray,
        mem_mb: np.ndarray,
        output_mb: np.ndarray,
        xfer_ms_per_mb: np.ndarray,
        xfer_mj_per_mb: np.ndarray,
        mem_cap_mb: np.ndarray,
        *,
        link_mask: np.ndarray | None = None,
        max_latency_ms: float | None = None,
        max_energy_mj: float | None = None,
        stage_names: Sequence[str] | None = None,
        device_names: Sequence[str] | None = None,
        name: str = "pipeline",
    ) -> "CostModel":
        """Build a cost model straight from profiler tensors (one option per device).

        ``exec_*``/``mem_mb`` are (N, D) with ``inf`` (or NaN-free ``inf`` rows) where a
        device cannot run a stage; ``xfer_*`` are (D, D) per-MB costs, ``inf`` or a False
        ``link_mask`` entry where there is no link. Raises ``ScenarioError`` naming the
        argument and index of the first bad value.
        """
        check = _ArrayChecker()
        exec_ms = check.matrix("exec_ms", exec_ms, allow_inf=True)
        n, d = exec_ms.shape
        exec_mj = check.matrix("exec_mj", exec_mj, shape=(n, d), allow_inf=True)
        mem_mb = check.matrix("mem_mb", mem_mb, shape=(n, d), allow_inf=True)
        output_mb = check.vector("output_mb", output_mb, n)
        xfer_ms = check.matrix("xfer_ms_per_mb", xfer_ms_per_mb, shape=(d, d), allow_inf=True)
        xfer_mj = check.matrix("xfer_mj_per_mb", xfer_mj_per_mb, shape=(d, d), allow_inf=True)
        mem_cap = check.vector("mem_cap_mb", mem_cap_mb, d, allow_inf=True)
        if link_mask is None:
            mask = np.isfinite(xfer_ms) & np.isfinite(xfer_mj)
        else:
            mask = np.asarray(link_mask)
            if mask.shape != (d, d) or mask.dtype != bool:
                raise ScenarioError("<arrays>", "link_mask", f"expected a ({d}, {d}) bool array, got {mask.dtype} {mask.shape}")
            bad = mask & ~(np.isfinite(xfer_ms) & np.isfinite(xfer_mj))
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise ScenarioError("<arrays>", f"xfer_ms_per_mb[{i}, {j}]", "expected a finite cost where link_mask is True")
        runnable = np.isfinite(exec_ms) & np.isfinite(exec_mj) & np.isfinite(mem_mb)
        partial = (np.isfinite(exec_ms) | np.isfinite(exec_mj) | np.isfinite(mem_mb)) & ~runnable
        if partial.any():
            s, o = map(int, np.argwhere(partial)[0])
            raise ScenarioError("<arrays>", f"exec_ms[{s}, {o}]", "expected exec_ms, exec_mj and mem_mb all finite or all inf")
        idle = np.flatnonzero(~runnable.any(axis=1))
        if idle.size:
            raise ScenarioError("<arrays>", f"exec_ms[{int(idle[0])}]", "no device can run this stage (all inf)")
        stage_names = check.names("stage_names", stage_names, n, "stage")
        device_names = check.names("device_names", device_names, d, "device")
        return cls._assemble(
            exec_ms, exec_mj, mem_mb, output_mb, xfer_ms, xfer_mj, mask, mem_cap,
            _cap(max_latency_ms, "max_latency_ms"), _cap(max_energy_mj, "max_energy_mj"),
            stage_names, device_names, name,
        )

    @classmethod
    def _assemble(cls, exec_ms, exec_mj, mem_mb, output_mb, xfer_ms, xfer_mj, mask, mem_cap,
                  max_latency_ms, max_energy_mj, stage_names, device_names, name) -> "CostModel":
        runnable = np.isfinite(exec_ms)
        xfer_ms = np.where(mask, xfer_ms, np.inf)
        xfer_mj = np.where(mask, xfer_mj, np.inf)
        np.fill_diagonal(xfer_ms, 0.0)
        np.fill_diagonal(xfer_mj, 0.0)
        mask = mask.copy()
        np.fill_diagonal(mask, True)
        return cls(
            exec_ms=np.where(runnable, exec_ms, np.inf),
            exec_mj=np.where(runnable, exec_mj, np.inf),
            mem_mb=np.where(runnable, mem_mb, np.inf),
            option_device=np.arange(len(device_names), dtype=np.int64),
            output_mb=output_mb,
            xfer_ms_per_mb=xfer_ms,
            xfer_mj_per_mb=xfer_mj,
            link_mask=mask,
            mem_cap_mb=mem_cap,
            max_latency_ms=max_latency_ms,
            max_energy_mj=max_energy_mj,
            stage_names=tuple(stage_names),
            device_names=tuple(device_names),
            option_names=tuple(device_names),
            name=name,
        )

    @cached_property
    def caps(self) -> np.ndarray:
        """(Q,) cap per usage dimension (``Dim``): latency, energy, switches (none), then
        memory per device."""
        return np.concatenate(([self.max_latency_ms, self.max_energy_mj, np.inf], self.mem_cap_mb))

    @cached_property
    def caps_tol(self) -> np.ndarray:
        """(Q,) the caps with the comparison tolerance applied: what the kernels compare with."""
        return cap_with_tolerance(self.caps)

    @cached_property
    def baselines(self) -> tuple[float, float]:
        """(L_base, E_base): sums of each stage's cheapest execution latency / energy."""
        return (
            max(float(self.exec_ms.min(axis=1).sum()), 1e-6),
            max(float(self.exec_mj.min(axis=1).sum()), 1e-6),
        )

    def coefficients(self, weights: tuple[float, float, float]) -> np.ndarray:
        """(Q,) score weight per usage dimension for goal weights (w_lat, w_en, w_sw)."""
        coef = np.zeros(Dim.MEMORY + self.n_devices)
        coef[[Dim.LATENCY, Dim.ENERGY, Dim.SWITCHES]] = score_coefficients(weights, self.baselines)
        return coef

    @cached_property
    def least_usage(self) -> np.ndarray:
        """(Q,) the least usage any plan could have in each dimension on its own (every cap
        ignored; inf in every dimension when no placement exists at all)."""
        graph = self.graph
        least, _ = completion_usage(graph)
        sources = slice(graph.step_start[0], graph.step_start[1])
        return (graph.opt_use[sources] + least[sources]).min(axis=0)

    @cached_property
    def transfers(self) -> np.ndarray:
        """(N, O, O, 2) latency ms / energy mJ of the transfer into stage s when stage s-1
        ran on option a and stage s on option b (the transfer rule, written once).

        The output of s-1 moves when the two options sit on different devices, at
        ``output_mb[s-1]`` times the link's per-MB costs; without a link only an empty
        tensor can move (for free), anything else is ``inf``. Row 0 is zeros (no input).
        """
        n, o = self.exec_ms.shape
        dev = self.option_device
        moves = dev[:, None] != dev[None, :]
        linked = self.link_mask[dev[:, None], dev[None, :]]
        out = np.zeros((n, o, o, 2))
        if n > 1:
            size = self.output_mb[:-1, None, None]
            impossible = moves & ~linked & (size > 0)
            for k, per_mb in enumerate((self.xfer_ms_per_mb, self.xfer_mj_per_mb)):
                # per-MB cost 0 where no move or no link, so a 0 MB tensor never meets an inf
                per_mb = np.where(moves & linked, per_mb[dev[:, None], dev[None, :]], 0.0)
                out[1:, :, :, k] = np.where(impossible, np.inf, size * per_mb)
        return out

    @cached_property
    def graph(self) -> LayeredGraph:
        """The chain lowered to the kernels' layered graph: step s offers the options that
        can run stage s (usage: execution latency, energy, memory on the option's device);
        an arc joins two options of consecutive stages when the transfer between them is
        possible (usage: transfer latency, energy, and 1 switch if the devices differ)."""
        n, o = self.exec_ms.shape
        q = Dim.MEMORY + self.n_devices
        dev = self.option_device
        step_of, opt_of = np.nonzero(np.isfinite(self.exec_ms))
        index = np.full((n, o), -1, dtype=np.int64)
        index[step_of, opt_of] = np.arange(len(step_of))
        opt_use = np.zeros((len(step_of), q))
        opt_use[:, Dim.LATENCY] = self.exec_ms[step_of, opt_of]
        opt_use[:, Dim.ENERGY] = self.exec_mj[step_of, opt_of]
        opt_use[np.arange(len(step_of)), Dim.MEMORY + dev[opt_of]] = self.mem_mb[step_of, opt_of]
        xfer = self.transfers[1:]
        s, a, b = np.nonzero((index[:-1, :, None] >= 0) & (index[1:, None, :] >= 0) & np.isfinite(xfer[..., 0]))
        head, tail = index[s + 1, b], index[s, a]
        by_head = np.lexsort((tail, head))
        s, a, b, head, tail = s[by_head], a[by_head], b[by_head], head[by_head], tail[by_head]
        arc_use = np.zeros((len(head), Dim.SWITCHES + 1))  # transfers touch latency, energy, switches
        arc_use[:, [Dim.LATENCY, Dim.ENERGY]] = xfer[s, a, b]
        arc_use[:, Dim.SWITCHES] = dev[a] != dev[b]
        counts = np.bincount(step_of, minlength=n)
        return LayeredGraph(
            step_start=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
            opt_use=opt_use,
            opt_key=opt_of.astype(np.int64),
            arc_start=np.concatenate(([0], np.cumsum(np.bincount(head, minlength=len(step_of))))).astype(np.int64),
            arc_tail=np.ascontiguousarray(tail, dtype=np.int64),
            arc_head=np.ascontiguousarray(head, dtype=np.int64),
            arc_use=arc_use,
        )


def compile_scenario(scenario: Scenario) -> CostModel:
    """Lower a validated scenario to dense arrays (one option per device)."""
    names = tuple(d.name for d in scenario.devices)
    index = {name: i for i, name in enumerate(names)}
    n, d = len(scenario.stages), len(names)
    exec_ms = np.full((n, d), np.inf)
    exec_mj = np.full((n, d), np.inf)
    mem_mb = np.full((n, d), np.inf)
    for s, stage in enumerate(scenario.stages):
        for device, prof in stage.profiles.items():
            j = index[device]
            exec_ms[s, j], exec_mj[s, j], mem_mb[s, j] = prof.latency_ms, prof.energy_mj, prof.memory_mb
    xfer_ms = np.full((d, d), np.inf)
    xfer_mj = np.full((d, d), np.inf)
    mask = np.zeros((d, d), dtype=bool)
    for link in scenario.links:
        pairs = [(link.source, link.target)] + ([(link.target, link.source)] if link.bidirectional else [])
        for a, b in pairs:
            i, j = index[a], index[b]
            xfer_ms[i, j], xfer_mj[i, j], mask[i, j] = link.latency_ms_per_mb, link.energy_mj_per_mb, True
    caps = scenario.constraints
    return CostModel._assemble(
        exec_ms, exec_mj, mem_mb,
        np.array([s.output_mb for s in scenario.stages], dtype=np.float64),
        xfer_ms, xfer_mj, mask,
        np.array([dev.memory_mb for dev in scenario.devices], dtype=np.float64),
        np.inf if caps.max_total_latency_ms is None else caps.max_total_latency_ms,
        np.inf if caps.max_total_energy_mj is None else caps.max_total_energy_mj,
        tuple(s.name for s in scenario.stages), names, scenario.name,
    )


def _cap(value: float | None, name: str) -> float:
    if value is None:
        return np.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not value >= 0:
        raise ScenarioError("<arrays>", name, f"expected a number >= 0 or None, got {value!r}")
    return float(value)


class _ArrayChecker:
    """Shape and value checks for ``CostModel.from_arrays`` with path-style messages."""

    def matrix(self, name: str, value, shape: tuple[int, int] | None = None, allow_inf: bool = False) -> np.ndarray:
        arr = self._floats(name, value)
        if arr.ndim != 2 or (shape is not None and arr.shape != shape) or 0 in arr.shape:
            want = f"a {shape} array" if shape else "a non-empty 2-D array"
            raise ScenarioError("<arrays>", name, f"expected {want}, got shape {arr.shape}")
        return self._values(name, arr, allow_inf)

    def vector(self, name: str, value, length: int, allow_inf: bool = False) -> np.ndarray:
        arr = self._floats(name, value)
        if arr.shape != (length,):
            raise ScenarioError("<arrays>", name, f"expected shape ({length},), got {arr.shape}")
        return self._values(name, arr, allow_inf)

    def names(self, name: str, value, length: int, what: str) -> tuple[str, ...]:
        if value is None:
            return tuple(f"{what}{i}" for i in range(length))
        names = tuple(value)
        if len(names) != length or not all(isinstance(x, str) and x for x in names):
            raise ScenarioError("<arrays>", name, f"expected {length} non-empty strings, got {len(names)} items")
        if len(set(names)) != length:
            raise ScenarioError("<arrays>", name, f"expected unique {what} names")
        return names

    @staticmethod
    def _floats(name: str, value) -> np.ndarray:
        try:
            return np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ScenarioError("<arrays>", name, "expected an array of numbers") from None

    @staticmethod
    def _values(name: str, arr: np.ndarray, allow_inf: bool) -> np.ndarray:
        bad = np.isnan(arr) | (arr < 0) | (~np.isfinite(arr) if not allow_inf else False)
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            want = "a number >= 0 or inf" if allow_inf else "a finite number >= 0"
            raise ScenarioError("<arrays>", f"{name}[{', '.join(map(str, idx))}]", f"expected {want}, got {arr[idx]:g}")
        return np.ascontiguousarray(arr)
