"""`--format trace`: the best plan's frame as Chrome Trace Event JSON, checked against the
plan's own per-stage and per-edge costs on random graphs."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings

import eip
from eip.report import render
from strategies import scenario_docs


@settings(max_examples=40, deadline=None)
@given(doc=scenario_docs(max_stages=6, max_devices=3))
def test_trace_is_the_plans_timeline(doc):
    result = eip.plan(eip.Scenario.from_dict(doc), top_k=1)
    trace = orjson.loads(render(result, "trace"))
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    names = {e["pid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "process_name"}
    assert sorted(names.values()) == sorted(d["name"] for d in doc["devices"])
    best = result.best
    if best is None:
        assert not events and trace["otherData"]["status"] == result.status
        return
    stages = [e for e in events if e["cat"] == "stage"]
    moves = [e for e in events if e["cat"] == "transfer"]
    assert [e["name"] for e in stages] == [s.stage for s in best.stages]
    for event, stage in zip(stages, best.stages):
        assert names[event["pid"]] == stage.device and event["dur"] == pytest.approx(stage.exec_ms * 1e3)
    assert len(moves) == sum(edge.moved for edge in best.edges)
    for event in moves:  # a move sits on the lane of the device it goes to
        assert names[event["pid"]] == event["args"]["to"]
    ordered = sorted(events, key=lambda e: e["ts"])
    for before, after in zip(ordered, ordered[1:]):  # one frame runs one thing at a time
        assert before["ts"] + before["dur"] == pytest.approx(after["ts"], abs=1e-6)
    assert sum(e["dur"] for e in events) == pytest.approx(best.latency_ms * 1e3)


def test_trace_escapes_nothing_it_should_not(tmp_path):
    doc = orjson.loads(open("scenarios/mobile_vision_pipeline.json", "rb").read())
    doc["stages"][0]["name"] = 'a "quoted"\n</script> name'
    doc["stages"][1]["inputs"] = [doc["stages"][0]["name"]]
    trace = orjson.loads(render(eip.plan(eip.Scenario.from_dict(doc), top_k=1), "trace"))
    assert any(e.get("name") == 'a "quoted"\n</script> name' for e in trace["traceEvents"])  # JSON keeps it exact
