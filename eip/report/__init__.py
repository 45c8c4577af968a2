"""Reports of a ``PlanResult`` in every format: text, CSV, JSON, Markdown, HTML and a
Chrome trace of the best plan."""

from __future__ import annotations

from typing import Callable

from ..explain import explain
from ..result import PlanResult
from .data import JSON_SCHEMA, render_csv, render_json
from .html import render_html
from .text import render_markdown, render_text
from .trace import render_trace

FORMATS = ("text", "csv", "json", "md", "html", "trace")
_RENDERERS = {"text": render_text, "csv": render_csv, "json": render_json, "md": render_markdown, "html": render_html}


def render(result: PlanResult, format: str = "text", sensitivity: bool = True, time_limit_s: float | None = None,
           progress: Callable[[int, int], None] | None = None) -> bytes:
    """The report of ``result`` in ``format`` (one of ``FORMATS``), as bytes; ``sensitivity``
    re-solves each finite budget one step up and down and walks the frontier, all within
    ``time_limit_s``, calling ``progress`` as it goes (see ``eip.explain``). A trace is the best plan's timeline alone (no
    explanation is computed for it)."""
    if format == "trace":
        return render_trace(result)
    if format not in _RENDERERS:
        raise ValueError(f"unknown format {format!r}; choose {', '.join(FORMATS)}")
    out = _RENDERERS[format](result, explain(result, sensitivity=sensitivity, time_limit_s=time_limit_s,
                                                     progress=progress))
    return out if isinstance(out, bytes) else out.encode()


__all__ = ["FORMATS", "JSON_SCHEMA", "render"]
