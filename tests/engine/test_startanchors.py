"""Exact JVM-start anchors in the app log (engine.startanchor) for uptime-only GC logs,
validated on real JVM runs (sample_logs/anchors, generate.sh) whose second GC log prints
both clocks, and read on public Spring Boot logs.

Ground truth per run: wall clock minus uptime on every line of truth/<case>-gc-both-clocks
(they agree to 1 ms). The scan sees only the evidence folder: the app log and the GC log
with the -Xlog default decorations (uptime only).

Expected before running:
- Spring Boot's "Started X in T seconds (process|JVM running for U)": U is RuntimeMXBean's
  uptime, which counts on the clock the GC log's uptime counts on; the record's stamp is
  taken microseconds after U is read; both are whole ms. The start is within 5 ms of the
  truth, the scan says which line placed the GC log (gc-anchored), and pause alignment is
  not used (no gc-anchored-by-pauses).
  Measured: +8 ms (boot2-local) and +7 ms (boot3-offset), outside that first expectation.
  The stamp is taken after the message is built, and StartClock builds it with Java's
  string concatenation, whose first use of doubles in a JVM costs 29-35 ms (a probe of
  that expression alone in a bare JVM, three runs). So the Spring Boot anchor is late by
  the message's build time, bounded by that cost: the range asserted is -2 .. +40 ms.
  (Spring Boot builds it with a StringBuilder in a warm JVM; no Spring Boot run here.)
- log4j2's %r counts from RuntimeMXBean.getStartTime(), which HotSpot stamps when VM
  creation begins, after the uptime clock started: measured 26, 47 and 31 ms late on
  three runs of a probe printing now - getStartTime - getUptime (OpenJDK 17.0.15, this
  machine, under load). The start is 0 to 100 ms after the truth, and the warning says so.
- `jcmd PID VM.uptime -date` saved beside the logs (jcmd-uptime): its date stamp (ms,
  with offset) and the uptime it prints (ms, HotSpot's elapsed clock, the GC log's) are
  taken microseconds apart: the start within 3 ms of the truth; the app log states none.
- Every GC event of the uptime-only log gets ts = start + uptime.
- Public logs: the start is the "Started" record's stamp minus U, to the ms.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from logsleuth import api

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "sample_logs" / "anchors"
PUBLIC = ROOT / "tests" / "data" / "public" / "applogs"
_BOTH = re.compile(rb"(?m)^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4})\]\[(\d+\.\d{3})s\]")

# case: (tz given to the scan, the anchor's kind, lowest and highest error in ms)
CASES = {
    "boot3-offset": (None, "Spring Boot", -2, 40),
    "boot2-local": ("Europe/Berlin", "Spring Boot", -2, 40),
    "relative-column": ("UTC", "%r", 0, 100),
    "jcmd-uptime": ("Asia/Tokyo", "VM.uptime", -3, 3),
    "boot3-json": ("UTC", "Spring Boot", -2, 40),  # the same line in log4j2's JsonLayout
}


def _truth(case: str) -> int:
    text = gzip.decompress((RUNS / "truth" / f"{case}-gc-both-clocks.log.gz").read_bytes())
    starts = []
    for wall, up in _BOTH.findall(text):
        when = datetime.strptime(wall.decode(), "%Y-%m-%dT%H:%M:%S.%f%z")
        starts.append(round(when.timestamp() * 1000 - float(up) * 1000))
    assert len(starts) > 20 and max(starts) - min(starts) <= 1, starts
    return sorted(starts)[len(starts) // 2]


@pytest.mark.parametrize("case", sorted(CASES))
def test_uptime_only_gc_log_is_placed_by_the_app_logs_own_clock(case: str) -> None:
    tz, kind, lo, hi = CASES[case]
    result = api.scan(RUNS / case, tz=tz, workers=1)
    codes = [d.code for d in result.diagnostics]
    assert "gc-anchored-by-pauses" not in codes and "gc-unanchored" not in codes, codes
    said = [d for d in result.diagnostics if d.code == "gc-anchored"]
    assert len(said) == 1 and kind in said[0].message, said
    gc = result.table("gc_events")
    assert gc.num_rows > 20 and gc["ts"].null_count == 0
    starts = pc.subtract(gc["ts"].cast("int64"), gc["uptime_ms"]).to_numpy(zero_copy_only=False)
    assert starts.max() - starts.min() <= 1  # every event placed from one start
    error = float(starts[0]) - _truth(case)
    assert lo <= error <= hi, (case, error)


@pytest.mark.parametrize(("name", "stamp", "uptime_s"), [
    # the records' own stamps (zone-less ones read as UTC here) minus "running for"
    ("activiti7-spring-boot2.log", "2021-11-06T13:25:08.811+00:00", 17.749),
    ("lnav-spring-farm.log", "2025-01-24T07:00:42.838+00:00", 16.066),
    ("lavalink-spring-boot3.log", "2026-08-07T00:57:46.978+05:00", 7.356),
])
def test_spring_boot_start_lines_of_public_logs(tmp_path: Path, name: str, stamp: str,
                                                uptime_s: float) -> None:
    from logsleuth.engine.planner import LayoutChoice, plan_inputs
    from logsleuth.engine.startanchor import jvm_start_stated
    from logsleuth.parsers.classify import KindOverrides
    from logsleuth.sources import discover

    found = discover([PUBLIC / name])
    planned = plan_inputs(found.sources, LayoutChoice(), KindOverrides.parse([]), [], UTC)
    start = jvm_start_stated(planned, UTC, {}, [])
    assert start is not None
    expected = round(datetime.fromisoformat(stamp).timestamp() * 1000 - uptime_s * 1000)
    assert start.ms == expected and "Spring Boot" in start.why and name in start.why


def test_two_jvm_starts_in_one_app_log_are_not_taken(tmp_path: Path) -> None:
    """A restart: the head states two starts an hour apart (the run's first 30 lines, then
    the same lines an hour later). Which JVM wrote the GC log is unknown, so neither
    start is taken, and the scan says why (info gc-start-ambiguous)."""
    lines = (RUNS / "boot2-local" / "app.log").read_text().splitlines(keepends=True)[:30]
    later = [re.sub(r"^(\d{4}-\d\d-\d\d )(\d\d)", lambda m: f"{m[1]}{int(m[2]) + 1:02d}", ln)
             for ln in lines]
    (tmp_path / "app.log").write_text("".join(lines + later))
    (tmp_path / "gc.log").write_bytes((RUNS / "boot2-local" / "gc.log").read_bytes())
    result = api.scan(tmp_path, tz="Europe/Berlin", workers=1)
    codes = [d.code for d in result.diagnostics]
    assert "gc-start-ambiguous" in codes and "gc-anchored" not in codes, codes


def test_a_startup_line_beyond_the_head_is_found(tmp_path: Path) -> None:
    """A service that logs much while it starts: 90 KB of startup records (beyond the
    planner's 64 KiB head) before Spring Boot's line. Synthetic app log in the boot3-offset
    run's layout, beside that run's real uptime-only GC log; the start is the line's stamp
    minus the uptime it states, to the ms, and the message gives its line number."""
    head = ("2026-12-06T21:28:05.{ms:03d}+05:30 DEBUG 27988 --- [           main] "
            "o.s.b.f.s.DefaultListableBeanFactory    : Creating shared instance of singleton "
            "bean 'bean{k}'\n")
    filler = "".join(head.format(ms=k % 1000, k=k) for k in range(700))
    started = ("2026-12-06T21:28:06.969+05:30  INFO 27988 --- [           main] "
               "c.e.a.ShopApplication                    : Started ShopApplication in 0.03 "
               "seconds (process running for 0.914)\n")
    assert len(filler.encode()) > 80_000
    (tmp_path / "app.log").write_text(filler + started)
    (tmp_path / "gc.log").write_bytes((RUNS / "boot3-offset" / "gc.log").read_bytes())
    result = api.scan(tmp_path, workers=1)
    said = [d.message for d in result.diagnostics if d.code == "gc-anchored"]
    assert len(said) == 1 and "app.log:701 " in said[0], said
    gc = result.table("gc_events")
    want = round(datetime.fromisoformat("2026-12-06T21:28:06.969+05:30").timestamp() * 1000
                 - 914)
    assert gc["ts"][0].value - gc["uptime_ms"][0].as_py() == pytest.approx(want, abs=1)


def test_the_reads_beyond_the_heads_share_one_budget(tmp_path: Path, monkeypatch) -> None:
    """Rolled archives of one service must not each cost a read of SCAN_BYTES: a.log
    (100 KB, no startup line) spends a 100 KB budget, so b.log's line beyond its head is
    not looked for; with the default budget it is."""
    from logsleuth.engine import startanchor

    rec = ("2026-12-06T21:28:05.{ms:03d}+05:30 DEBUG 27988 --- [           main] "
           "o.s.b.f.s.DefaultListableBeanFactory    : Creating shared instance of singleton "
           "bean 'bean{k}'\n")
    filler = "".join(rec.format(ms=k % 1000, k=k) for k in range(800))
    started = ("2026-12-06T21:28:06.969+05:30  INFO 27988 --- [           main] "
               "c.e.a.ShopApplication                    : Started ShopApplication in 0.03 "
               "seconds (process running for 0.914)\n")
    (tmp_path / "a.log").write_text(filler)
    (tmp_path / "b.log").write_text(filler + started)
    (tmp_path / "gc.log").write_bytes((RUNS / "boot3-offset" / "gc.log").read_bytes())
    monkeypatch.setattr(startanchor, "SCAN_BYTES", 100_000)
    codes = [d.code for d in api.scan(tmp_path, workers=1).diagnostics]
    assert "gc-anchored" not in codes, codes
    monkeypatch.undo()
    codes = [d.code for d in api.scan(tmp_path, workers=1).diagnostics]
    assert "gc-anchored" in codes, codes
