"""Over many log days the watcher's state grows by the hour, not by the minute.

Expected before running: a service that logs a record every 10 s (INFO), a warning
every 5 minutes and an error with a NullPointerException every 10 minutes, for five
days, appended to one file in 6-hour pieces and followed with a fine window of 1 h
and a coarse one of 1 day (``watch.retention``):

- once the first day has left the coarse window and the records are counted per
  minute (past 20,000 per-second keys, on day 3), each further log day adds at most
  one row per (hour, source, level) to them (3 levels: 72 rows a day), where per
  minute it added 1,440 + 288 + 144 = 1,872;
- a finding's matches (one error every 10 minutes) are kept per hour past the window
  too (24 keys a day, where per minute it was 144), and its peak per minute (5, a
  burst on the first day, long folded) stays a scan's;
- template counts and warning/error rows grow alike: at most one key per (hour,
  template) and width kept (1 ms, 100 ms and 1 s are counted side by side) and one
  row per (hour, class) a day;
- within the exact window (the last hour) the level counts are a scan's, row for
  row, and every total (records per level, findings, first and last times) equals a
  scan of the same bytes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.options import ScanOptions
from logsleuth.watch.follow import Follower
from logsleuth.watch.retention import Retention
from logsleuth.watch.state import RunningAnalysis

START = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
STEP_S, DAYS = 10, 5
BURST = 1_000  # 2 h 46 min in: five errors in one minute, the finding's peak
PER_DAY = 86_400 // STEP_S
FINE_MS, COARSE_MS = 3_600_000, 86_400_000
NPE = ("java.lang.NullPointerException: null\n"
       "\tat com.example.push.Encoder.encode(Encoder.java:42)\n"
       "\tat com.example.push.Server.push(Server.java:88)\n")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _log(first: int, last: int) -> bytes:
    out = []
    for i in range(first, last):
        t = START + i * STEP_S
        out.append(f"{_stamp(t)} INFO  [nioEventLoopGroup-3-1] com.example.push.Server - "
                   f"Client connected: sessionId={i * 7919:016x} sessions={i % 40}\n")
        if i % 30 == 3:
            out.append(f"{_stamp(t + 1)} WARN  [nioEventLoopGroup-3-2] "
                       f"com.example.push.Server - Slow consumer: queue={i % 97}\n")
        for k in range(5 if i == BURST else 1 if i % 60 == 7 else 0):
            out.append(f"{_stamp(t + 2 + k)} ERROR [nioEventLoopGroup-3-2] "
                       "com.example.push.Server - push failed\n" + NPE)
    return "".join(out).encode()


def _sizes(run: RunningAnalysis) -> dict[str, int]:
    studied = run.running.get("analysis")
    studied._keep_notable()
    return {"levels": len(run.running.get("levels").counts),
            "templates": sum(len(k) for lv in studied.template_counts.levels.values()
                             for k in lv.keys),
            "notable": sum(t.num_rows for t in studied.notable),
            "widths": len(studied.template_counts.levels),
            "finding_minutes": sum(len(g.minutes) + len(g.hours) for g in
                                   run.running.get("rules").aggregator._groups.values())}


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunningAnalysis, object,
                                                            list[dict[str, int]]]:
    return _follow_days(tmp_path_factory.mktemp("days"),
                        Retention(fine_ms=FINE_MS, coarse_ms=COARSE_MS, every_ms=600_000))


@pytest.fixture(scope="module")
def ancient(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunningAnalysis, object,
                                                               list[dict[str, int]]]:
    """The same days with hours summed per day past 2 days (30 by default)."""
    return _follow_days(tmp_path_factory.mktemp("ancient"),
                        Retention(fine_ms=FINE_MS, coarse_ms=COARSE_MS,
                                  ancient_ms=2 * COARSE_MS, every_ms=600_000))


def _follow_days(root: Path, retention: Retention) -> tuple[RunningAnalysis, object,
                                                             list[dict[str, int]]]:
    log = root / "push-server.log"
    run = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    run.retention = retention
    follow = Follower([str(root)])
    pieces_a_day = 4
    per_day: list[dict[str, int]] = []
    for k in range(DAYS * pieces_a_day):
        with open(log, "ab") as f:
            f.write(_log(PER_DAY * k // pieces_a_day, PER_DAY * (k + 1) // pieces_a_day))
        run.ingest(follow.poll())
        while follow.backlog:
            run.ingest(follow.poll())
        if k % pieces_a_day == pieces_a_day - 1:
            per_day.append(_sizes(run))
    run.flush()
    ref = api.scan([str(root)], keep_records=False, workers=1, tz="UTC")
    return run, ref, per_day


def test_state_grows_by_the_hour_past_the_window(days: tuple[RunningAnalysis, object,
                                                             list[dict[str, int]]]) -> None:
    _, _, per_day = days
    grown = [{k: b[k] - a[k] for k in a} for a, b in pairwise(per_day)]
    for g in grown[2:]:  # past the coarse window, and counted per minute
        assert g["levels"] <= 24 * 3, per_day
        # connected, slow consumer, push failed; at each width kept
        assert g["templates"] <= 24 * 3 * per_day[-1]["widths"], per_day
        assert g["notable"] <= 24 * 2, per_day  # (WARN, -), (ERROR, NPE)
    assert per_day[-1]["levels"] < 1_872 * 2  # per minute: ~1,872 a day


def test_state_grows_by_the_day_past_the_ancient_window(
        ancient: tuple[RunningAnalysis, object, list[dict[str, int]]]) -> None:
    """Past 2 days (the default is 30) a day adds about one row per key, not 24: the
    hours of the day leaving the window fold into it while the next day's minutes
    become hours (one boundary row of slack each way)."""
    run, ref, per_day = ancient
    grown = [{k: b[k] - a[k] for k in a} for a, b in pairwise(per_day)]
    for g in grown[2:]:
        assert g["levels"] <= 2 * 3, per_day
        assert g["templates"] <= 2 * 3 * per_day[-1]["widths"], per_day
        assert g["notable"] <= 2 * 2, per_day
        assert g["finding_minutes"] <= 2, per_day
    got = run.finalize()  # what is folded is still counted: totals and findings a scan's
    assert [(f.rule, f.count) for f in got.findings] == [(f.rule, f.count) for f in ref.findings]
    for name in ("level_counts",):
        want = ref.table(name).group_by("level").aggregate([("count", "sum")]).to_pylist()
        have = got.table(name).group_by("level").aggregate([("count", "sum")]).to_pylist()
        assert sorted(map(str, have)) == sorted(map(str, want))


def test_finding_minutes_grow_by_the_hour_past_the_window(
        days: tuple[RunningAnalysis, object, list[dict[str, int]]]) -> None:
    _, _, per_day = days
    for a, b in list(pairwise(per_day))[2:]:
        assert b["finding_minutes"] - a["finding_minutes"] <= 24, per_day  # per minute: 144


def test_the_exact_window_and_the_totals_are_a_scans(days: tuple[RunningAnalysis, object,
                                                                 list[dict[str, int]]]) -> None:
    run, ref, _ = days
    got = run.finalize()

    def rows(t: pa.Table, since: int) -> list[tuple[object, ...]]:
        recent = t.filter(pc.greater_equal(t["minute"].cast(pa.int64()), since))
        return sorted(map(tuple, (r.values() for r in recent.to_pylist())))

    newest = run.evidence_ms
    assert newest is not None
    since = newest - FINE_MS
    since -= since % 60_000
    assert rows(got.table("level_counts"), since) == rows(ref.table("level_counts"), since)
    assert len(rows(ref.table("level_counts"), since)) >= 60  # an hour of minutes
    totals = [Counter(dict(zip(t["level"].to_pylist(), t["count"].to_pylist(), strict=False)))
              for t in (got.table("level_counts").group_by("level").aggregate(
                  [("count", "sum")]).rename_columns(["level", "count"]),
                        ref.table("level_counts").group_by("level").aggregate(
                  [("count", "sum")]).rename_columns(["level", "count"]))]
    # one every 10 minutes, and the burst (on a tick that has none: 1,000 % 60 = 40)
    assert totals[0] == totals[1] and totals[0]["ERROR"] == DAYS * PER_DAY // 60 + 5
    assert sorted((f.rule, f.fingerprint, f.count, f.first_seen, f.last_seen, f.peak_per_minute)
                  for f in got.findings) == \
        sorted((f.rule, f.fingerprint, f.count, f.first_seen, f.last_seen, f.peak_per_minute)
               for f in ref.findings)
    assert got.findings, "the NPEs make a finding"
    assert max(f.peak_per_minute for f in got.findings) == 5


def test_a_restart_keeps_the_folded_counts(days: tuple[RunningAnalysis, object,
                                                       list[dict[str, int]]],
                                           tmp_path: Path) -> None:
    """The folded hours are what the state file holds: a restarted watcher has them."""
    from logsleuth.engine.snapshot import Snapshot
    from logsleuth.watch.checkpoint import dump_analysis, load_analysis, read_state, write_state

    run, _, _ = days
    snap = Snapshot({})
    dump_analysis(run, snap)
    write_state(str(tmp_path / "s"), snap)
    again = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    load_analysis(again, read_state(str(tmp_path / "s")))
    assert again.running.get("levels").counts == run.running.get("levels").counts
    groups = run.running.get("rules").aggregator._groups
    restored = again.running.get("rules").aggregator._groups
    assert any(g.hours for g in groups.values())
    assert {k: (g.minutes, g.hours, g.folded_peak) for k, g in restored.items()} == \
        {k: (g.minutes, g.hours, g.folded_peak) for k, g in groups.items()}
