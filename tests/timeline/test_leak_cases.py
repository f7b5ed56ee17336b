"""Leak analysis on evidence cut from the bundled real run, in shapes it was not built on.

The cuts are made at test time from ``sample_logs/incident`` (never edited): whole
records are kept or dropped, nothing inside a record changes. The truth is the
run's own (``ground_truth.json`` and the README): 256 B leaked per
``Client disconnected``; netty's limit 1 MiB; first OutOfDirectMemoryError at
2026-11-26 10:28:23.858 UTC.

Expectations, written before the analysis was run on these cuts:

* ``before-oom`` (every record before the first OOM; GC log cut at the same instant):
  nothing has failed, so ``state`` is "leaking" and ``onset`` null; the leak is
  found with 256 B per "Client disconnected" (within 1 %); the NPE is the first root
  cause and is called a cause, not a symptom. No line states netty's ceiling here
  except the monitor's own WARN ``used=.. max=..`` lines, so either no ceiling is
  known or the ceiling is 1 MiB read at one of those lines; with ``--limit`` the
  projected exhaustion falls within 5 s of the real first OOM. (Amended after the
  first run: see the test.)
* ``no-npe`` (every NPE record removed: the cause is never logged): the service
  failed at the first OOM, exact to the ms; the leak is still attributed to
  "Client disconnected", 256 B within 1 %.
* the whole sample: the OOM flood's ``used:`` values are in the series, marked as
  read from failure messages; the leak and its 256 B per event survive them, and
  the ceiling (1 MiB) is read at the first OOM record.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest

from logsleuth import api
from logsleuth.reports.narrative import incident_paragraph

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"
TRUTH_LEAK = 256.0
TRUTH_MAX = 1_048_576.0
FIRST_OOM = "2026-11-26T10:28:23.858"
FIRST_OOM_LOCAL = "2026-11-26 11:28:23.858"
DISCONNECT = "Client disconnected: sessionId=<*> user=<*> durationMs=<*> sessions=<*>"
HEADER = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ")


def _app_files() -> list[Path]:
    rolled = sorted(SAMPLE.glob("push-server-*.log.gz"),
                    key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
    return [*rolled, SAMPLE / "push-server.log"]


def _read(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines(keepends=True)


def _records(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for line in lines:
        if HEADER.match(line) or not out:
            out.append([line])
        else:
            out[-1].append(line)
    return out


def _write_app(dst: Path, keep: object) -> None:
    """Each app file, as plain text, keeping the records ``keep(record)`` accepts."""
    for src in _app_files():
        kept = [r for r in _records(_read(src)) if keep(r)]  # type: ignore[operator]
        if kept:
            name = src.name.removesuffix(".gz")
            (dst / name).write_text("".join("".join(r) for r in kept), encoding="utf-8")


@pytest.fixture(scope="module")
def before_oom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("before-oom")
    _write_app(dst, lambda r: r[0][:23] < FIRST_OOM_LOCAL)
    gc = [ln for ln in _read(SAMPLE / "gc.log")
          if ln[1:24].replace("T", " ") < FIRST_OOM_LOCAL]
    (dst / "gc.log").write_text("".join(gc), encoding="utf-8")
    shutil.copy(SAMPLE / "jstack-20261126T112737.txt", dst)
    return dst


@pytest.fixture(scope="module")
def no_npe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("no-npe")
    _write_app(dst, lambda r: not any("NullPointerException" in ln for ln in r[:2]))
    for other in ("gc.log", "nginx", *(p.name for p in SAMPLE.glob("jstack-*.txt"))):
        src = SAMPLE / other
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / other)
    return dst


def _leak(result: object, metric: str = "netty_direct_memory_used") -> dict:
    inc = result.incident.to_json()  # type: ignore[attr-defined]
    return next(k for k in inc["leaks"] if k["metric"] == metric)


def test_before_first_oom_is_leaking_not_failed(before_oom: Path) -> None:
    result = api.scan(before_oom, workers=1, keep_records=False)
    assert result.incident is not None
    inc = result.incident.to_json()
    assert inc["state"] == "leaking" and inc["onset"] is None
    leak = _leak(result)
    assert leak["per_event"]["template"] == DISCONNECT
    assert leak["per_event"]["amount"] == pytest.approx(TRUTH_LEAK, rel=0.01)
    proj = leak["projection"]
    # Found on running it: the startup line prints io.netty.maxDirectMemory=1048576 (line
    # 1 of the first file), and the last monitor sample (1023k) is within its printing
    # resolution (1 KiB) of that ceiling, so "reached" is also a right answer here.
    assert proj["state"] in ("no-ceiling-known", "projected", "reached")
    if proj["state"] != "no-ceiling-known":
        assert proj["ceiling"]["value"] == TRUTH_MAX and proj["ceiling"]["where"]
    top = inc["root_cause_candidates"][0]
    assert top["exception"] == "java.lang.NullPointerException"
    assert "a cause" in top["why"] and "symptom" not in top["why"]
    text = incident_paragraph(result)
    assert text.startswith("Nothing has failed yet") and "netty_direct_memory_used" in text


def test_before_first_oom_the_html_report_shows_the_projection(before_oom: Path,
                                                                tmp_path: Path) -> None:
    """The report's verdict says leaking with no failure, and the leak line names the
    ceiling, where it was stated, and when it is (or was) reached."""
    page = tmp_path / "report.html"
    api.scan(before_oom, workers=1, keep_records=False, html=page)
    html = page.read_text(encoding="utf-8")
    assert "Leaking, no failure yet" in html
    assert "towards its maximum of 1.0 MiB" in html
    assert "push-server-2026-11-26-1.log" in html
    assert "reached 2026-11-26" in html or "projected to run out" in html


def test_before_first_oom_with_a_stated_limit_projects_the_oom(before_oom: Path) -> None:
    result = api.scan(before_oom, workers=1, keep_records=False,
                      limits=["netty_direct_memory_used=1MiB"])
    leak = _leak(result)
    proj = leak["projection"]
    assert proj["ceiling"] == {"value": TRUTH_MAX, "source": "--limit", "where": None}
    assert proj["state"] in ("projected", "reached")
    got = api.parse_instant(leak["exhaustion_at"])
    truth = api.parse_instant(FIRST_OOM + "Z")
    assert got is not None and truth is not None and abs(got - truth) <= 5_000
    assert proj["window"]["start"] is not None


def test_cause_never_logged_is_attributed_to_the_event(no_npe: Path) -> None:
    result = api.scan(no_npe, workers=1, keep_records=False)
    inc = result.incident.to_json()
    assert inc["state"] == "failed"
    assert inc["onset"].startswith(FIRST_OOM)
    leak = _leak(result)
    assert leak["per_event"]["template"] == DISCONNECT
    assert leak["per_event"]["amount"] == pytest.approx(TRUTH_LEAK, rel=0.01)


def test_oom_flood_values_are_marked_and_do_not_drown_the_gauge() -> None:
    result = api.scan(SAMPLE, workers=1, keep_records=False)
    leak = _leak(result)
    # the flood (671 OOMs from 10:28:23.858 to 10:28:29.087) is read once per second
    # and file: the seconds 23..29 of the two files it spans, at most
    assert 6 <= leak["error_values"] <= 14
    assert leak["slope_per_hour"] > 0
    assert leak["per_event"]["amount"] == pytest.approx(TRUTH_LEAK, rel=0.01)
    proj = leak["projection"]
    assert proj["state"] == "reached"
    assert proj["ceiling"]["value"] == TRUTH_MAX
    assert proj["ceiling"]["where"] == "push-server-2026-11-26-9.log.gz:2592"
    assert leak["ceiling_reached_at"] <= FIRST_OOM + "Z"
    kinds = [r["kind"] for r in leak["regimes"]]
    assert kinds[-1] == "saturation" and "growth" in kinds
