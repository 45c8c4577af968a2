"""The best plan's frame as a Chrome Trace Event JSON file (Perfetto, chrome://tracing).

One process per device (in the scenario's device order), with two threads: ``compute``
(one complete event per stage run there) and ``transfers in`` (one complete event per
input moved to the device). Times are µs from the frame's start (``Plan.timeline``).
"""

from __future__ import annotations

import orjson

from ..result import PlanResult

_COMPUTE, _TRANSFERS = 1, 2


def render_trace(result: PlanResult) -> bytes:
    """The trace of ``result``'s best plan (no events but the metadata when there is none)."""
    devices = result.model.device_names
    pid = {d: i + 1 for i, d in enumerate(devices)}
    events: list[dict] = []
    for d in devices:
        events += [
            {"ph": "M", "pid": pid[d], "tid": 0, "name": "process_name", "args": {"name": d}},
            {"ph": "M", "pid": pid[d], "tid": 0, "name": "process_sort_index", "args": {"sort_index": pid[d]}},
            {"ph": "M", "pid": pid[d], "tid": _COMPUTE, "name": "thread_name", "args": {"name": "compute"}},
            {"ph": "M", "pid": pid[d], "tid": _TRANSFERS, "name": "thread_name", "args": {"name": "transfers in"}},
        ]
    best = result.best
    for slot in best.timeline if best else ():
        s, edge = slot.stage, slot.edge
        event = {"ph": "X", "pid": pid[s.device], "ts": slot.start_ms * 1e3, "dur": slot.duration_ms * 1e3}
        if edge is None:
            event |= {"tid": _COMPUTE, "name": s.stage, "cat": "stage",
                      "args": {"device": s.device, "variant": s.variant, "mode": s.mode, "exec_ms": s.exec_ms,
                               "exec_mj": s.exec_mj, "memory_mb": s.memory_mb, "accuracy_loss": s.accuracy_loss,
                               "estimated": s.estimated, "inputs": list(s.inputs)}}
        else:
            event |= {"tid": _TRANSFERS, "name": f"{edge.producer} -> {edge.reader}", "cat": "transfer",
                      "args": {"producer": edge.producer, "reader": edge.reader, "from": edge.source, "to": edge.target,
                               "size_mb": edge.size_mb, "xfer_ms": edge.xfer_ms, "xfer_mj": edge.xfer_mj}}
        events.append(event)
    other = {"scenario": result.scenario, "goal": result.goal, "status": result.status}
    if best:
        other |= {"score": best.score, "latency_ms": best.latency_ms, "energy_mj": best.energy_mj,
                  "switches": best.switches}
    doc = {"traceEvents": events, "displayTimeUnit": "ms", "otherData": other}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
