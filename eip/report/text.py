"""Text (the seed tool's layout, plus proofs, slack and reasons) and Markdown reports."""

from __future__ import annotations

from ..errors import printable
from ..explain import Explanation
from ..result import PlanResult
from . import rows as R


def render_text(result: PlanResult, explanation: Explanation) -> str:
    lines = R.summary_lines(result)
    if result.best is not None:
        lines.append("Placement")
        header, rows = R.placement_table(result.best, result.model)
        lines += _aligned([header] + rows)
        lines.append("Budgets (tightest first)")
        lines += [f"  {line}" for line in R.budget_lines(explanation)]
        lines.append("Rationale")
        lines += [f"  {line}" for line in R.rationale_lines(explanation)]
        lines.append("Alternatives")
        lines += _aligned([R.ALTERNATIVES_HEADER] + R.alternative_rows(result, explanation))
        lines += [f"  {a.sentence}" for a in explanation.alternatives]
        lines.append(R.solve_line(result))
    return "\n".join(printable(line) for line in lines) + "\n"  # the terminal reads it: no control characters


def render_markdown(result: PlanResult, explanation: Explanation) -> str:
    head, *rest = R.summary_lines(result)
    lines = [f"# {_md(head)}", ""] + [f"- {_md(line)}" for line in rest] + [""]
    if result.best is not None:
        header, rows = R.placement_table(result.best, result.model)
        lines += ["## Placement", ""] + _pipe([header] + rows) + [""]
        lines += ["## Budgets", ""] + [f"- {_md(line)}" for line in R.budget_lines(explanation)] + [""]
        lines += ["## Rationale", ""] + [f"- {_md(line)}" for line in R.rationale_lines(explanation)] + [""]
        lines += ["## Alternatives", ""] + _pipe([R.ALTERNATIVES_HEADER] + R.alternative_rows(result, explanation)) + [""]
        lines += [f"- {_md(a.sentence)}" for a in explanation.alternatives]
        lines += ["", f"_{R.solve_line(result)}_"]
    return "\n".join(lines) + "\n"


def _aligned(rows: list[list[str]]) -> list[str]:
    rows = [[printable(cell) for cell in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" | ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def _pipe(rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_md(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return out + ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows[1:]]


def _md(text: str) -> str:
    """Scenario strings are untrusted: keep them from opening Markdown or HTML syntax.

    Markup characters become entities (renderers that ignore backslash escapes before HTML
    still show them as text); Markdown's own punctuation is backslash-escaped.
    """
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#":
        text = text.replace(ch, "\\" + ch)
    return text
