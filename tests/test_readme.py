"""Every Python snippet of README.md runs as written (in order, in one namespace, from the
repository's root), so the documentation cannot drift from the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_snippets_run(monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    text = (ROOT / "README.md").read_text()
    snippets = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(snippets) >= 2
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for i, code in enumerate(snippets):
        exec(compile(code, f"README.md snippet {i + 1}", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["result"].status == "optimal" and namespace["sweep"].score.shape == (3, 40)
