"""eip — the Edge Inference Planner.

Decides where each stage of an on-device AI pipeline runs (CPU, GPU, NPU, DSP, DLA...)
under latency, energy and per-device memory budgets, paying for every tensor moved
between devices. Data flow: ``load`` -> ``Scenario`` -> compile -> ``CostModel`` ->
kernels -> ``PlanResult``; ``profile_onnx`` measures an ONNX model into a ``Scenario``;
``explore.run`` plans a grid of hardware and budget variants of scenarios.

    >>> import eip
    >>> result = eip.plan("scenarios/mobile_vision_pipeline.json", goal="balanced", top_k=3)
    >>> result.best.placement
"""

from ._numba_cache import check_cache_dir

check_cache_dir()  # first: Numba reads NUMBA_CACHE_DIR once, when it is imported
from . import explore
from .costmodel import CostModel
from .errors import ScenarioError
from .explain import Explanation, explain
from .goals import GOAL_WEIGHTS
from .profile import Profile, import_profile, profile_onnx
from .result import MemoryUse, Plan, PlanResult, StageCost
from .scenario import Constraints, Device, Link, PowerMode, Scenario, Stage, Way, load
from .solve import plan
from .tradeoff import Frontier, FrontierTooLarge, Sweep, frontier, sweep

__all__ = [
    "load",
    "plan",
    "frontier",
    "sweep",
    "explore",
    "Frontier",
    "Sweep",
    "FrontierTooLarge",
    "explain",
    "profile_onnx",
    "import_profile",
    "Profile",
    "Explanation",
    "Scenario",
    "Device",
    "Link",
    "Stage",
    "PowerMode",
    "Way",
    "Constraints",
    "CostModel",
    "PlanResult",
    "Plan",
    "StageCost",
    "MemoryUse",
    "ScenarioError",
    "GOAL_WEIGHTS",
]
__version__ = "0.1.0"
