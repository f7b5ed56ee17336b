"""A resource run's report in a real browser: the leaking gauge's lane draws the gauge, its
ceiling (the maximum the evidence states), the fitted trend and where it ran out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logsleuth import api
from logsleuth.reports.html import write_html

RESOURCES = Path(__file__).resolve().parents[2] / "sample_logs" / "resources"

# the lane of one gauge: the traces sharing its y axis, and what plotly drew into that subplot
LANE = """(metric) => {
  const gd = document.getElementById('timeline');
  const own = gd.data.find(t => t.name === metric);
  if (!own) return null;
  const axis = own.yaxis || 'y';
  const traces = gd.data.filter(t => (t.yaxis || 'y') === axis);
  const sp = gd.querySelector('.cartesianlayer .subplot.x' + axis);
  return {names: traces.map(t => t.name),
          maximum: (traces.find(t => t.name === 'known maximum') || {}).y,
          lines: sp ? sp.querySelectorAll('path.js-line').length : 0,
          markers: sp ? sp.querySelectorAll('.point').length : 0,
          text: sp ? sp.textContent : ''};
}"""


@pytest.mark.parametrize(("case", "want"), [("fd-g1", "descriptor"), ("heap-g1", "jvm_heap_after_gc"),
                                           ("metaspace-g1", "metaspace"), ("pool-hikari", "active")])
def test_leaking_gauge_lane_draws_its_ceiling_and_exhaustion(
        browser: Any, tmp_path: Path, case: str, want: str) -> None:
    result = api.scan(RESOURCES / case, keep_records=False)
    inc = result.incident.to_json()
    leak = next(lk for lk in inc["leaks"] if want in lk["metric"])
    ceiling = leak["projection"]["ceiling"]["value"]
    report = write_html(result, tmp_path / "report.html")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-rendered='1']", timeout=60_000)
        lane = page.evaluate(LANE, leak["metric"])
    finally:
        page.close()
    assert errors == []
    assert lane is not None, f"no lane for {leak['metric']}"
    assert {"known maximum", "fitted trend", "exhaustion"} <= set(lane["names"]), lane
    assert lane["maximum"] == [ceiling, ceiling]
    assert lane["lines"] >= 3, lane  # the gauge, its trend and its ceiling
    assert lane["markers"] >= 1, lane  # where it ran out
    assert "ceiling reached" in lane["text"], lane["text"]
