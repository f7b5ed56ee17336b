"""The report in a real browser: it loads offline, draws every lane, and resists XSS."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evidence import ARTIFACTS, scan_with_incident, write_evidence

from logsleuth.reports.html import write_html

# For each subplot: how many data points plotly drew into its SVG layer.
DRAWN = """() => {
  const gd = document.getElementById('timeline');
  const out = {};
  for (const sp of gd.querySelectorAll('.cartesianlayer .subplot')) {
    const id = [...sp.classList].find(c => c.startsWith('xy'));
    out[id] = sp.querySelectorAll('.point, path.js-line').length;
  }
  return {subplots: out, traces: gd.data.length,
          empty: gd.data.filter(t => !t.x || t.x.length === 0).map(t => t.name)};
}"""


@pytest.fixture(scope="module")
def loaded(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("evidence")
    write_evidence(root)
    result = scan_with_incident(root)
    report = write_html(result, root.parent / "report.html")
    page = browser.new_page()
    console: list[tuple[str, str]] = []
    requests: list[str] = []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_selector("body[data-rendered='1']", timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-xss.png"), full_page=True)
    yield {"page": page, "console": console, "requests": requests, "url": report.as_uri(),
           "incident": result.incident.to_json(), "findings": result.findings}
    page.close()


def test_loads_without_errors_or_network(loaded):
    assert [m for m in loaded["console"] if m[0] in ("error", "pageerror", "warning")] == []
    assert loaded["requests"] == [loaded["url"]]


def test_payloads_did_not_run(loaded):
    page = loaded["page"]
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img, svg a, a[href], iframe').length") == 0
    # the payloads are on screen as text
    assert "window.__pwned=1" in page.inner_text("#findings")


def test_every_lane_has_drawn_data(loaded):
    drawn = loaded["page"].evaluate(DRAWN)
    assert drawn["empty"] == []
    assert len(drawn["subplots"]) == 7, drawn
    assert all(n > 0 for n in drawn["subplots"].values()), drawn


def test_onset_marker_is_the_incident_onset(loaded):
    page = loaded["page"]
    x0 = page.evaluate("document.getElementById('timeline').layout.shapes"
                       ".find(s => s.name === 'onset').x0")
    embedded = page.evaluate("JSON.parse(document.getElementById('incident-json').textContent)"
                             ".onset")
    assert embedded == loaded["incident"]["onset"]
    assert pd.Timestamp(x0, tz="UTC") == pd.Timestamp(embedded)
    # and it is drawn: a red vertical line in the shape layer
    assert page.evaluate("document.querySelectorAll('.shapelayer path').length") >= 1


def test_clicking_a_finding_reveals_its_stack_trace(loaded):
    page = loaded["page"]
    first = page.locator("details.stack").first
    pre = first.locator("pre")
    assert not pre.is_visible()
    first.locator("summary").click()
    assert pre.is_visible()
    assert "at io.netty" in pre.inner_text() or "at com.acme" in pre.inner_text()


def test_zooming_one_lane_zooms_all(loaded):
    page = loaded["page"]
    ranges = page.evaluate("""async () => {
      const gd = document.getElementById('timeline');
      await Plotly.relayout(gd, {'xaxis.range': ['2024-03-11 13:20:00', '2024-03-11 13:26:00']});
      return Object.keys(gd._fullLayout._plots).map(k => gd._fullLayout._plots[k].xaxis.range);
    }""")
    assert len(ranges) == 7
    assert all(r == ranges[0] for r in ranges)
