"""The HTML report in a real browser (Debian's headless Chromium).

Chromium loads the file, then the test reads the DOM it dumps: the title, one placement
row per stage, three SVG charts, and no script element or effect even when every name in
the scenario is a script payload. Screenshots land in artifacts/ for a person to look at.
"""

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import eip
from eip.report import render
from hostile import STAGE, hostile_doc

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "mobile_vision_pipeline.json"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (CI installs it: see .ci/run)", allow_module_level=True)


class Dom(HTMLParser):
    """The few facts of a dumped DOM the tests check."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.scripts = 0
        self.svgs = 0
        self.placement_rows = 0
        self.text = []
        self._in = []
        self._svg_depth = 0  # SVG <title> elements are tooltips, not the page title

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "placement":
            self._in.append("placement")
        elif tag == "tbody" and self._in[-1:] == ["placement"]:
            self._in.append("tbody")
        elif tag == "tr" and self._in[-1:] == ["tbody"]:
            self.placement_rows += 1
        self.scripts += tag == "script"
        if tag == "svg":
            self.svgs += 1
            self._svg_depth += 1
        if tag == "title" and self._svg_depth == 0:
            self._in.append("title")

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_depth -= 1
        if self._in and ((tag == "title" and self._in[-1] == "title") or (tag == "tbody" and self._in[-1] == "tbody")
                         or (tag == "table" and self._in[-1] == "placement")):
            self._in.pop()

    def handle_data(self, data):
        if self._in[-1:] == ["title"]:
            self.title += data
        self.text.append(data)


def browse(page: Path, shot: Path) -> Dom:
    profile = page.parent / f"profile-{page.stem}"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1100,2200",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    parsed = Dom()
    parsed.feed(dom.stdout)
    return parsed


def test_seed_report_in_chromium(tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    page = tmp_path / "seed.html"
    page.write_bytes(render(eip.plan(eip.load(SEED), top_k=3), "html"))
    dom = browse(page, ARTIFACTS / "report-seed.png")
    assert dom.title == "eip plan: mobile_vision_stack"
    assert dom.placement_rows == 7
    assert dom.svgs == 3
    assert dom.scripts == 0


def test_graph_report_in_chromium(tmp_path):
    """A DAG's report draws its graph (a fourth chart) beside the timeline."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = tmp_path / "graph.html"
    result = eip.plan(eip.load(ROOT / "scenarios" / "camera_two_models.json"), top_k=3)
    page.write_bytes(render(result, "html"))
    dom = browse(page, ARTIFACTS / "report-graph.png")
    assert dom.title == "eip plan: camera_two_models"
    assert dom.placement_rows == 11 and dom.svgs == 4 and dom.scripts == 0
    text = "".join(dom.text)
    # every crossing edge's tooltip names both stages and what the move cost (or that a copy was there)
    for edge in result.best.edges:
        if edge.crosses:
            assert f"{edge.producer} -> {edge.reader}: {edge.size_mb:g} MB {edge.source} -> {edge.target}" in text


def test_hostile_report_runs_no_script(tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    page = tmp_path / "hostile.html"
    page.write_bytes(render(eip.plan(eip.Scenario.from_dict(hostile_doc()), top_k=2), "html"))
    dom = browse(page, ARTIFACTS / "report-hostile.png")
    # the payload is the title's text, never run (a run would have set the title to PWNED)
    assert dom.title == "eip plan: </title><script>document.title='PWNED'</script>"
    assert dom.scripts == 0
    assert dom.placement_rows == 3 and dom.svgs == 3
    assert STAGE in "".join(dom.text)  # the payload is visible as plain text
