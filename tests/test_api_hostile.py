"""The Python API with hostile arguments: every public entry point, one argument at a time
replaced by a value of the wrong type, out of range, NaN, infinite, huge, empty or strange.

A call must either answer (and then its plans keep the budgets) or raise ``ValueError``
(``ScenarioError`` is one) or ``TypeError`` with a one-line message: never another
exception from deep inside (IndexError, ZeroDivisionError, a Numba typing error, a
MemoryError), never a NumPy warning.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import eip
from eip import explore
from eip.costmodel import Dim

ROOT = Path(__file__).resolve().parents[1]
SEED = eip.load(ROOT / "scenarios" / "mobile_vision_pipeline.json")
RESULT = eip.plan(SEED, top_k=2)

HOSTILE = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e-324, 5e-324, 1e308, -0.0, 2**63, "", "0", "1e6", "balanced", "latency=1",
                     "\x1b[31m", "a\nb", "exact", "auto", (), [], {}, [1.0, 2.0], [[1.0]], {"latency": -1},
                     {"latency": float("nan")}, {"cpu": 1.0}, {"tpu": 1.0}, {"npu": [1.0, float("inf")]},
                     ("latency", "energy"), ("energy", "energy"), ("accuracy", "latency"), complex(1, 2),
                     np.int64(3), np.float32(2.5), np.array([]), np.array([1.0, np.nan]), np.array([[30.0]]),
                     np.array([30.0, 40.0]), np.arange(3), object()]),
    st.text(max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
)

# (function, keyword arguments it takes) of every planning entry point
CALLS = {
    "plan": (eip.plan, ("goal", "top_k", "strategy", "beam_width", "label_budget", "time_limit_s")),
    "frontier": (eip.frontier, ("max_plans", "goal", "label_budget", "time_limit_s", "axes")),
    "sweep": (eip.sweep, ("goal", "max_latency_ms", "max_energy_mj", "memory_mb", "label_budget", "time_limit_s",
                          "max_accuracy_loss", "frame_rate_hz")),
}
FROM_ARRAYS = ("exec_ms", "exec_mj", "mem_mb", "output_mb", "xfer_ms_per_mb", "xfer_mj_per_mb", "mem_cap_mb",
               "link_mask", "max_latency_ms", "max_energy_mj", "stage_names", "device_names", "inputs", "name")


def _call(fn, *args, **kwargs):
    """``fn``'s answer, or None when it refused the arguments as it should."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy warning on stderr is a failure too
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:  # ScenarioError and FrontierTooLarge's kin included
            assert "\n" not in str(exc), f"a message over several lines: {exc!r}"
            assert str(exc), "an empty message"
            return None


def _keeps_budgets(plans, model) -> None:
    caps = model.caps_tol
    for plan in plans:
        use = plan.usage
        assert np.all(use[: len(caps)] <= caps), (use, caps)


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_planning_calls_refuse_or_answer(name, data):
    fn, keywords = CALLS[name]
    keyword = data.draw(st.sampled_from(keywords), label="argument")
    value = data.draw(HOSTILE, label="value")
    answer = _call(fn, SEED, **{keyword: value})
    if answer is None:
        return
    if name == "plan":
        assert answer.status in ("optimal", "feasible", "infeasible", "unknown")
        _keeps_budgets(answer.plans, answer.model)
        assert all(np.isfinite(p.score) for p in answer.plans)
    elif name == "frontier":
        assert all(np.isfinite(p.latency_ms) and np.isfinite(p.energy_mj) for p in answer.plans)
    else:
        assert answer.score.shape == answer.feasible.shape
        assert not np.any(np.isnan(answer.score[answer.feasible]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fn=st.sampled_from([eip.plan, eip.frontier, eip.sweep, eip.load, eip.Scenario.from_dict, eip.explain]),
       value=HOSTILE)
def test_what_is_planned_may_be_anything(fn, value):
    """The first argument (a scenario, its path, its document, a result) of the wrong kind."""
    assert _call(fn, value) is None or fn is eip.Scenario.from_dict and isinstance(value, dict)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyword=st.sampled_from(["sensitivity", "time_limit_s", "progress"]), value=HOSTILE)
def test_explain_refuses_or_explains(keyword, value):
    explanation = _call(eip.explain, RESULT, **{keyword: value})
    assert explanation is None or explanation.stages


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyword=st.sampled_from(FROM_ARRAYS), value=HOSTILE)
def test_from_arrays_refuses_or_builds_a_model_that_plans(keyword, value):
    m = SEED.cost_model
    arrays = dict(exec_ms=m.exec_ms, exec_mj=m.exec_mj, mem_mb=m.mem_mb, output_mb=m.output_mb,
                  xfer_ms_per_mb=m.xfer_ms_per_mb, xfer_mj_per_mb=m.xfer_mj_per_mb, mem_cap_mb=m.mem_cap_mb)
    options = dict(max_latency_ms=m.max_latency_ms, max_energy_mj=m.max_energy_mj)
    arguments = {**arrays, **options, keyword: value}
    model = _call(eip.CostModel.from_arrays, **arguments)
    if model is None:
        return
    result = _call(eip.plan, model, top_k=2)
    assert result is not None, "a model from_arrays accepted must plan"
    _keeps_budgets(result.plans, model)
    assert np.isfinite(model.caps_tol[Dim.LATENCY]) or model.max_latency_ms == np.inf


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=HOSTILE, keyword=st.sampled_from(["text", "sample", "seed", "goal"]))
def test_explore_refuses_or_builds_a_grid(value, keyword):
    if keyword == "text":
        parameter = _call(explore.parse_parameter, value if isinstance(value, str) else f"a.b={value}")
        assert parameter is None or parameter.values
        return
    parameters = [explore.parse_parameter("constraints.max_total_latency_ms=20:40:5")]
    if keyword == "goal":
        with tempfile.TemporaryDirectory() as tmp:
            summary = _call(explore.run, [str(ROOT / "scenarios" / "mobile_vision_pipeline.json")], parameters,
                            str(Path(tmp) / "rows.jsonl"), goal=value)
        assert summary is None or summary.done == 5
        return
    points = _call(explore.grid, [str(ROOT / "scenarios" / "mobile_vision_pipeline.json")], parameters,
                   **{keyword: value})
    assert points is None or len(points) <= 5
