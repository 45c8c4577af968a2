"""The compiler and the profiler-tensor entry point agree, and reject bad arrays clearly."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eip
from eip import CostModel, ScenarioError
from eip.costmodel import Dim, Load, moved_placements
from reference import evaluate
from strategies import scenario_docs, ways_scenario_docs
from test_engine_properties import close
from eip.scenario import read_document

SEED = Path(__file__).resolve().parents[1] / "scenarios" / "mobile_vision_pipeline.json"


def seed_arrays():
    m = eip.load(SEED).cost_model
    return dict(exec_ms=m.exec_ms, exec_mj=m.exec_mj, mem_mb=m.mem_mb, output_mb=m.output_mb,
                xfer_ms_per_mb=m.xfer_ms_per_mb, xfer_mj_per_mb=m.xfer_mj_per_mb, mem_cap_mb=m.mem_cap_mb,
                max_latency_ms=m.max_latency_ms, max_energy_mj=m.max_energy_mj,
                stage_names=m.stage_names, device_names=m.device_names)


def test_compiled_seed_arrays():
    m = eip.load(SEED).cost_model
    assert m.exec_ms.shape == (7, 3) and m.exec_ms.dtype == np.float64
    assert np.isinf(m.exec_ms[0, 2]) and np.isinf(m.mem_mb[6, 2])  # npu runs neither end
    assert m.xfer_ms_per_mb[1, 2] == 0.09 and m.xfer_ms_per_mb[2, 1] == 0.09  # bidirectional
    assert m.link_mask.all() and np.all(np.diag(m.xfer_ms_per_mb) == 0)
    assert list(m.mem_cap_mb) == [4096, 6144, 3072]
    assert (m.max_latency_ms, m.max_energy_mj) == (32.0, 35.0)
    assert m.baselines == pytest.approx((24.6, 28.9))
    assert m.moves.shape == (7, 3, 3, 2)
    assert m.moves[0, 0, 1, Dim.LATENCY] == pytest.approx(24 * 0.05)  # decode output moved cpu -> gpu
    g = m.graph
    # the npu runs neither end: 2 options at the first and last stage, 3 in between
    assert g.step_start.tolist() == [0, 2, 5, 8, 11, 14, 17, 19]
    assert m.dims.memory == Dim.SWITCHES + 1 and g.opt_use.shape == (19, m.dims.memory + 3) and g.opt_key.tolist()[:5] == [0, 1, 0, 1, 2]
    # every pair of options of consecutive stages is linked: arcs = sum of products of counts
    assert len(g.arc_tail) == 2 * 3 + 3 * 3 * 4 + 3 * 2
    into_gpu_at_1 = g.arc_use[g.arc_start[3]:g.arc_start[4]]  # option 3 = stage 1 on gpu, from cpu and gpu
    assert into_gpu_at_1[:, Dim.SWITCHES].tolist() == [1.0, 0.0]
    assert into_gpu_at_1[0, Dim.LATENCY] == pytest.approx(24 * 0.05)


def test_arcs_carry_only_the_dimensions_moves_add_to():
    """With a frame rate the busy times follow the switches, before memory, so arcs carry
    latency, energy, switches and busy time only; each limit names its own dimensions."""
    doc = read_document(SEED)
    doc["constraints"]["frame_rate_hz"] = 30.0
    doc["devices"][1]["sustained_power_w"] = 5.0
    m = eip.Scenario.from_dict(doc).cost_model
    d = m.n_devices
    assert (m.dims.busy, m.dims.arcs, m.dims.memory) == (Dim.SWITCHES + 1, Dim.SWITCHES + 1 + d, Dim.SWITCHES + 1 + d)
    assert m.graph.arc_use.shape[1] == m.dims.arcs and m.graph.opt_use.shape[1] == m.dims.size
    dims_of = {(limit.kind.name, limit.device): limit.dims for limit in m.limits}
    assert dims_of[("MEMORY", 2)] == (m.dims.memory + 2,) and dims_of[("PERIOD", -1)] == tuple(range(3, 3 + d))
    assert dims_of[("SUSTAINED_POWER", 1)] == (m.dims.power + 1,) and m.dims.power == m.dims.memory + d
    best = eip.plan(m, top_k=1).best
    assert [best.memory_mb[name].used_mb for name in m.device_names] == pytest.approx(
        [sum(s.memory_mb for s in best.stages if s.device == name) for name in m.device_names])


def test_from_arrays_plans_like_the_scenario():
    from_arrays = CostModel.from_arrays(**seed_arrays())
    direct = eip.plan(eip.load(SEED), top_k=3)
    tensors = eip.plan(from_arrays, top_k=3)
    assert [p.placement for p in tensors.plans] == [p.placement for p in direct.plans]
    assert [p.score for p in tensors.plans] == [p.score for p in direct.plans]


def test_missing_link_blocks_only_nonempty_tensors():
    xfer = np.full((2, 2), np.inf)
    np.fill_diagonal(xfer, 0.0)
    model = CostModel.from_arrays(
        exec_ms=[[1.0, 5.0], [9.0, 1.0]], exec_mj=[[1.0, 1.0], [1.0, 1.0]], mem_mb=[[1.0, 1.0], [1.0, 1.0]],
        output_mb=[0.0, 0.0], xfer_ms_per_mb=xfer, xfer_mj_per_mb=xfer, mem_cap_mb=[10.0, 10.0])
    assert eip.plan(model, goal="latency", top_k=1).best.placement == ("device0", "device1")
    model = CostModel.from_arrays(
        exec_ms=[[1.0, 5.0], [9.0, 1.0]], exec_mj=[[1.0, 1.0], [1.0, 1.0]], mem_mb=[[1.0, 1.0], [1.0, 1.0]],
        output_mb=[2.0, 0.0], xfer_ms_per_mb=xfer, xfer_mj_per_mb=xfer, mem_cap_mb=[10.0, 10.0])
    best = eip.plan(model, goal="latency", top_k=1).best
    assert best.placement in {("device0", "device0"), ("device1", "device1")}


@pytest.mark.parametrize("change,message", [
    (dict(exec_ms=[[1.0, -1.0]] * 7), "exec_ms[0, 1]: expected a number >= 0 or inf, got -1"),
    (dict(exec_mj=np.ones((3, 3))), "exec_mj: expected a (7, 3) array, got shape (3, 3)"),
    (dict(output_mb=np.ones(6)), "output_mb: expected shape (7,) or (7, 3), got (6,)"),
    (dict(output_mb=[np.nan] * 7), "output_mb[0]: expected a finite number >= 0, got nan"),
    (dict(mem_cap_mb=[1, 2]), "mem_cap_mb: expected shape (3,), got (2,)"),
    (dict(max_latency_ms=-3), "max_latency_ms: expected a number >= 0 or None, got -3"),
    (dict(max_latency_ms=5e-324), "max_latency_ms: expected a number >= 0 (0 or from 1e-9 to 1e12) or None, got 5e-324"),
    (dict(stage_names=["a"] * 7), "stage_names: expected unique stage names"),
    (dict(exec_ms="fast"), "exec_ms: expected an array of real numbers, got dtype <U4"),
    (dict(exec_ms=np.full((7, 3), 1 + 2j)), "exec_ms: expected an array of real numbers, got dtype complex128"),
    (dict(exec_ms=np.full((7, 3), "1.5")), "exec_ms: expected an array of real numbers, got dtype <U3"),
    (dict(mem_mb=np.full((7, 3), True)), "mem_mb: expected an array of real numbers, got dtype bool"),
    (dict(exec_ms=np.full((7, 3), 1e308)), "exec_ms[0, 0]: expected a number >= 0 or inf (0 or from 1e-9 to 1e12), got 1e+308"),
    (dict(mem_cap_mb=[5e-324, 1, 1]), "mem_cap_mb[0]: expected a number >= 0 or inf (0 or from 1e-9 to 1e12), got 4.94066e-324"),
])
def test_from_arrays_rejects_bad_tensors(change, message):
    arrays = seed_arrays()
    if "exec_ms" in change and isinstance(change["exec_ms"], list):
        change = dict(exec_ms=np.array(change["exec_ms"], dtype=float))
        change["exec_ms"][:, 0] = 1.0
        change["exec_ms"][0, 1] = -1.0
    arrays.update(change)
    with pytest.raises(ScenarioError) as info:
        CostModel.from_arrays(**arrays)
    assert message in str(info.value) and str(info.value).startswith("<arrays>: ")


def test_unrunnable_stage_and_partial_rows_rejected():
    arrays = seed_arrays()
    arrays["exec_ms"] = arrays["exec_ms"].copy()
    arrays["exec_ms"][2, :] = np.inf
    arrays["exec_mj"] = arrays["exec_mj"].copy()
    arrays["exec_mj"][2, :] = np.inf
    arrays["mem_mb"] = arrays["mem_mb"].copy()
    with pytest.raises(ScenarioError, match="expected exec_ms, exec_mj and mem_mb all finite or all inf"):
        CostModel.from_arrays(**arrays)
    arrays["mem_mb"][2, :] = np.inf
    with pytest.raises(ScenarioError, match=r"exec_ms\[2\]: no device can run this stage"):
        CostModel.from_arrays(**arrays)


def test_kernels_package_is_not_top_level(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import eip.kernels.labels, importlib.util as u; print(u.find_spec('kernels'))"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "None"


WAYS = SEED.parent / "mobile_vision_ways.json"


@pytest.mark.parametrize("path, constraints", [
    (SEED, {}),
    (SEED, {"max_total_latency_ms": 40, "max_total_energy_mj": 30}),
    (SEED, {"max_total_latency_ms": 60, "frame_rate_hz": 30, "max_average_power_w": 2.5, "max_accuracy_loss": 1.0}),
    (WAYS, {"frame_rate_hz": 20}),
    (WAYS, {"max_total_latency_ms": 40, "max_accuracy_loss": 0.3, "frame_rate_hz": 45}),
])
def test_moved_constraints_plan_like_a_fresh_compile(path, constraints):
    """``Scenario.with_constraints`` moves only the budgets of the compiled model (a frame
    rate adds busy dimensions): every plan equals the one of the document compiled anew."""
    doc = read_document(path)
    moved = eip.load(path).with_constraints(constraints)
    fresh = eip.Scenario.from_dict({**doc, "constraints": constraints}, str(path))
    assert np.array_equal(moved.cost_model.caps, fresh.cost_model.caps)
    for goal in ("balanced", "latency", "throughput"):
        ours, theirs = eip.plan(moved, goal=goal, top_k=3), eip.plan(fresh, goal=goal, top_k=3)
        assert ours.status == theirs.status
        assert [(p.placement, p.score) for p in ours.plans] == [(p.placement, p.score) for p in theirs.plans]


@settings(max_examples=80, deadline=None)
@given(doc=st.one_of(scenario_docs(), ways_scenario_docs(), ways_scenario_docs(fixed_mode=True)), data=st.data())
def test_placement_usage_recomputes_from_the_definitions(doc, data):
    """``CostModel.usage`` and ``device_loads`` (``kernels.usage``) against the issues'
    definitions (``reference.evaluate``), placement by placement: runnable options, some
    impossible moves (no link), DAG copies, ways, modes."""
    scenario = eip.Scenario.from_dict(doc)
    model = scenario.cost_model
    runnable = [np.flatnonzero(np.isfinite(row)).tolist() for row in model.exec_ms]
    options = np.array([[data.draw(st.sampled_from(r)) for r in runnable] for _ in range(6)], dtype=np.int64)
    use, loads = model.usage(options), model.device_loads(options)
    dims = model.dims
    for placement, row, load in zip(options.tolist(), use, loads):
        if not model.modes_hold(np.array(placement))[0]:
            continue  # the reference rejects a fixed-mode device in two modes; usage does not look
        keys = [(model.device_names[model.option_device[o]], model.option_variant[o],
                 model.mode_names[model.option_device[o]][model.option_mode[o]] if model.option_mode[o] >= 0 else None)
                for o in placement]
        ref = evaluate(scenario, keys, (1.0, 1.0, 1.0))
        if ref is None:  # an input that cannot reach its reader
            assert not np.isfinite(row).all()
            continue
        assert close(row[Dim.LATENCY], ref.latency_ms) and close(row[Dim.ENERGY], ref.energy_mj)
        assert row[Dim.SWITCHES] == ref.switches
        for d, name in enumerate(model.device_names):
            assert close(row[dims.memory + d], ref.memory_mb[name])
            assert close(load[d, Load.BUSY_MS], ref.busy_ms[name])
            assert close(load[d, Load.EXEC_MJ], ref.exec_mj[name])
        if dims.accuracy >= 0:
            assert close(row[dims.accuracy], ref.accuracy_loss)


@settings(max_examples=80, deadline=None)
@given(doc=st.one_of(scenario_docs(), ways_scenario_docs(), ways_scenario_docs(fixed_mode=True)), data=st.data())
def test_single_moves_and_their_usage_against_whole_placements(doc, data):
    """``CostModel.move_choices`` is every placement one stage away, on an option that can
    run it, whose fixed-mode devices keep one mode (by enumeration and ``modes_hold``), and
    ``moved_usage``, from what each move changes (``kernels.usage.single_move_usage``),
    equals ``usage`` of the whole placement within rounding, ``inf`` where it is: from
    placements with impossible moves (no link: usage in full) and with a device in two
    modes, on chains and DAGs (copies a move makes or spares for other readers)."""
    model = eip.Scenario.from_dict(doc).cost_model
    runnable = [np.flatnonzero(np.isfinite(row)).tolist() for row in model.exec_ms]
    current = np.array([data.draw(st.sampled_from(r)) for r in runnable], dtype=np.int64)
    stage, option = model.move_choices(current)
    one_away = [(s, o) for s, r in enumerate(runnable) for o in r if o != current[s]]
    kept = model.modes_hold(moved_placements(current, *map(np.array, zip(*one_away)))) if one_away else []
    assert sorted(zip(stage.tolist(), option.tolist())) == [move for move, ok in zip(one_away, kept) if ok]
    moved = model.moved_usage(current, model.usage(current)[0], stage, option)
    whole = model.usage(moved_placements(current, stage, option))
    assert moved.shape == whole.shape and np.array_equal(np.isfinite(moved), np.isfinite(whole))
    finite = np.isfinite(whole)
    assert np.allclose(moved[finite], whole[finite], rtol=1e-9, atol=1e-9)
