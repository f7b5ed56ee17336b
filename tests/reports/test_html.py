"""The HTML report over a real scan of evidence laced with XSS payloads.

Structure is checked with the standard library's HTML parser (what a browser
would see as tags and attributes), numbers against counts known from the
evidence generator. The browser tests (tests/browser) check that it draws.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))

from evidence import APP_NAME, NPE_MSG, PAYLOADS, THREAD, scan_with_incident, write_evidence

import logsleuth
from logsleuth.reports.html import render_html, write_html
from logsleuth.reports.html import series as S
from logsleuth.reports.html.safe import script_json


class Page(HTMLParser):
    """Every start tag with its attributes, and the body of every <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("xss") / "evidence"
    return root, write_evidence(root)


@pytest.fixture(scope="module")
def result(evidence):
    return scan_with_incident(evidence[0])


@pytest.fixture(scope="module")
def page(result) -> tuple[str, Page]:
    html = render_html(result)
    p = Page()
    p.feed(html)
    p.close()
    return html, p


def _json_block(p: Page, ident: str) -> object:
    (body,) = [b for a, b in p.scripts if a.get("id") == ident]
    return json.loads(body)


def test_only_the_pages_own_scripts_exist(page):
    _, p = page
    kinds = [(a.get("type"), a.get("id")) for a, _ in p.scripts]
    assert kinds == [("application/json", "timeline-figure"), ("application/json", "incident-json"),
                     (None, None), (None, None)]
    assert not any("src" in a for a, _ in p.scripts)


def test_no_payload_becomes_markup(page):
    _, p = page
    tags = {t for t, _ in p.tags}
    assert not tags & {"img", "svg", "a", "iframe", "object", "embed", "link", "base", "form"}
    handlers = [(t, k) for t, a in p.tags for k in a if k.startswith("on")]
    assert handlers == []
    urls = [v for _, a in p.tags for k, v in a.items() if k in ("href", "src", "action")]
    assert urls == []


def test_payloads_are_shown_as_text(page, result):
    html, p = page
    text = "".join(p.text)
    assert APP_NAME in text  # the file name, readable, in the inputs table
    assert f"java.lang.NullPointerException: {NPE_MSG}" in text  # in the stack trace
    assert THREAD in text
    assert PAYLOADS[0] in text
    # the raw payloads only ever appear escaped in the source
    for raw in (APP_NAME, NPE_MSG, PAYLOADS[1]):
        assert raw not in html


def test_script_json_carries_log_text_and_cannot_close_the_tag(page, result):
    _html, p = page
    inc = _json_block(p, "incident-json")
    assert inc == json.loads(json.dumps(result.incident.to_json()))
    assert inc["onset_evidence"]["path"] == APP_NAME
    assert PAYLOADS[0] in inc["onset_evidence"]["text"]
    for _, body in p.scripts[:2]:
        assert "<" not in body and ">" not in body and "\u2028" not in body


def test_csp_allows_exactly_the_inline_scripts(page):
    _, p = page
    (csp,) = [a["content"] for t, a in p.tags
              if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    hashes = set(re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", csp))
    code = [b for a, b in p.scripts if a.get("type") is None]
    assert hashes == {base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()
                      for b in code}
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_plotly_is_inlined_once_and_nothing_is_fetched(page):
    html, p = page
    assert sum("Plotly" in b[:2000] and "plotly.js v" in b[:2000] for _, b in p.scripts) == 1
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)


def test_timeline_lanes_and_counts(page, result, evidence):
    _, p = page
    fig = _json_block(p, "timeline-figure")
    counts = evidence[1]
    titles = [a["text"] for a in fig["layout"]["annotations"] if a.get("name", "").startswith(
        "lane:")]
    assert len(titles) == 7  # markers, levels, rules, gc, threads, http, one metric
    axes = {k for k in fig["layout"] if re.fullmatch(r"yaxis\d*", k)}
    assert {t["yaxis"].replace("y", "yaxis") for t in fig["data"]} == axes
    assert {t["xaxis"] for t in fig["data"]} == {"x"}  # one shared time axis
    level_bars = [t for t in fig["data"] if t["type"] == "bar" and "records" in
                  t["hovertemplate"]]
    assert sum(sum(t["y"]) for t in level_bars) == counts["app_records"]
    http_bars = [t for t in fig["data"] if t["type"] == "bar" and "responses" in t["hovertemplate"]]
    assert sum(sum(t["y"]) for t in http_bars) == counts["http"]
    gc = [t for t in fig["data"] if t.get("name") in ("full GC", "young / mixed")]
    assert sum(len(t["x"]) for t in gc) == counts["gc_events"]  # few enough to keep all


def test_onset_marker_matches_the_incident(page, result):
    _, p = page
    fig = _json_block(p, "timeline-figure")
    (onset,) = [s for s in fig["layout"]["shapes"] if s["name"] == "onset"]
    expected = pd.Timestamp(result.incident.to_json()["onset"])
    assert pd.Timestamp(onset["x0"], tz="UTC") == expected
    pre = [s for s in fig["layout"]["shapes"] if s["name"].startswith("precursor:")]
    assert len(pre) == len(result.incident.to_json()["precursors"]) > 0


def test_header_names_onset_and_evidence(page, result):
    _, p = page
    text = " ".join("".join(p.text).split())
    ev = result.incident.to_json()["onset_evidence"]
    assert f"{ev['path']}:{ev['line']}" in text
    assert "2024-03-11 13:25:01.000 UTC" in text
    assert "Netty ran out of direct memory" in text


def test_stack_traces_are_collapsed_per_finding(page, result):
    _html, p = page
    details = [a for t, a in p.tags if t == "details"]
    with_stack = [f for f in result.findings if f.stack.strip()]
    assert len(details) == len(with_stack) > 0
    assert not any("open" in a for a in details)


def test_missing_lanes_are_named(tmp_path):
    root = tmp_path / "only-app"
    root.mkdir()
    (root / "app.log").write_text("".join(
        f"2024-03-11 13:00:{s:02d},000 INFO  [main] c.a.App - tick {s}\n" for s in range(40)))
    html = render_html(logsleuth.scan(root))
    for note in ("no GC log in the evidence", "no thread dump in the evidence",
                 "no nginx log in the evidence", "no rule fired"):
        assert note in html
    assert "No incident found." in html


def test_a_scan_without_anything_renders(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    out = write_html(logsleuth.scan(tmp_path), tmp_path / "r.html")
    p = Page()
    p.feed(out.read_text())
    assert json.loads(next(b for a, b in p.scripts if a.get("id") == "timeline-figure")) is None


def test_script_json_escapes_what_could_end_a_script():
    s = script_json({"a": "</script><!--\u2028\u2029&", "n": float("nan")})
    assert "<" not in s and ">" not in s and "&" not in s and "\u2028" not in s
    assert json.loads(s) == {"a": "</script><!--\u2028\u2029&", "n": None}


def test_extremes_keep_the_envelope_of_a_long_series():
    rng = np.random.default_rng(7)
    ms = np.sort(rng.integers(0, 86_400_000, 1_000_000))
    v = rng.normal(0, 1, len(ms)).cumsum()
    keep = S.extremes(ms, v)
    assert len(keep) <= S.MAX_POINTS + 2
    assert v[keep].max() == v.max() and v[keep].min() == v.min()
    assert np.all(np.diff(ms[keep]) >= 0)


def test_grid_has_few_bins_and_covers_the_span():
    for lo, hi in ((0, 65_000), (0, 86_400_000 * 2), (5, 5), (1_000, 3_600_000 * 40)):
        g = S.make_grid(lo, hi)
        assert g.n <= S.MAX_BINS + 1
        assert g.start_ms <= lo and g.start_ms + g.n * g.width_ms > hi
