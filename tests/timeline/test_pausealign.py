"""The JVM start from GC pauses against the app log's silences (engine.pausealign),
validated on the resource runs whose GC logs print both clocks (wall time and uptime).

Ground truth per case: wall time minus uptime on the GC log's own lines (they agree to
1 ms, the decorations' resolution). The estimator sees only the uptimes and pause lengths
(the wall clock dropped) and the app log's record times, read here with the stdlib in
the run's zone (Europe/Berlin, README.md).

Expected before running: the start within 5 ms of the truth on every case (app stamps,
uptime decorations and pause lengths are whole ms; a shift of a few ms already lets
records into the shorter pauses), and a refusal (None) whenever the two logs are of
different runs or the app log's gaps are blurred (every record moved by up to +-200 ms)
or the pauses are moved (up to +-500 ms each): no deep, unique optimum exists then.
"""

from __future__ import annotations

import gzip
import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.compute as pc
import pytest

from logsleuth.engine.pausealign import MIN_Z, align_start
from logsleuth.parsers.gc import parse_gc_log

ROOT = Path(__file__).resolve().parents[2] / "sample_logs" / "resources"
# GC logs with wall clock and uptime on every line (time/utctime/timemillis + uptime)
BOTH_CLOCKS = ("heap-g1", "heap-parallel", "heap-serial-rotated", "undersized-g1",
               "undersized-parallel", "metaspace-g1")
# fewer than 20 pauses >= 3 ms: too few to align, whatever the app log
TOO_FEW = ("threads-g1", "threads-executor", "fd-g1", "pool-hikari")
_STAMP = re.compile(rb"(?m)^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)[.,](\d{3})")
_ZONE = ZoneInfo("Europe/Berlin")


def _gc(case: str) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Pause end uptimes and lengths (ms) of every GC log file, and the true JVM start."""
    ups, durs, starts = [], [], []
    for path in sorted((ROOT / case).glob("gc.log*")):
        ev = parse_gc_log(gzip.decompress(path.read_bytes()), str(path)).tables["gc_events"]
        pauses = ev.filter(pc.is_valid(ev["pause_ms"]))
        ups.append(pauses["uptime_ms"].to_numpy(zero_copy_only=False))
        durs.append(pauses["pause_ms"].to_numpy(zero_copy_only=False))
        both = ev.filter(pc.and_(pc.is_valid(ev["ts"]), pc.is_valid(ev["uptime_ms"])))
        wall = both["ts"].cast("int64").to_numpy(zero_copy_only=False)
        starts.append(wall - both["uptime_ms"].to_numpy(zero_copy_only=False))
    every = np.concatenate(starts)
    truth = None
    if len(every):
        assert np.ptp(every) <= 1.0, f"{case}: the clocks disagree by {np.ptp(every)} ms"
        truth = float(np.median(every))
    return np.concatenate(ups), np.concatenate(durs), truth


def _app(case: str) -> np.ndarray:
    """Epoch ms of every app record (the lines that start with a stamp)."""
    text = gzip.decompress((ROOT / case / "app.log.gz").read_bytes())
    out = []
    for stamp, ms in _STAMP.findall(text):
        when = datetime.strptime(stamp.decode().replace("T", " "), "%Y-%m-%d %H:%M:%S")
        out.append(int(when.replace(tzinfo=_ZONE).timestamp()) * 1000 + int(ms))
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("case", BOTH_CLOCKS)
def test_the_start_is_recovered_without_the_wall_clock(case: str) -> None:
    ups, durs, truth = _gc(case)
    assert truth is not None
    found = align_start(ups, durs, _app(case))
    assert found is not None, f"{case}: refused"
    assert abs(found.ms - truth) <= 5, (case, found, truth)
    assert found.z <= MIN_Z and found.z <= 2 * found.z_next, found
    assert found.uncertainty_ms <= 10, found


@pytest.mark.parametrize("case", TOO_FEW)
def test_too_few_pauses_are_no_evidence(case: str) -> None:
    ups, durs, _ = _gc(case)
    assert align_start(ups, durs, _app(case)) is None


MATCHABLE = (*BOTH_CLOCKS, "heap-shenandoah")


@pytest.mark.parametrize("gc_case", MATCHABLE)
def test_another_runs_app_log_is_refused(gc_case: str) -> None:
    ups, durs, _ = _gc(gc_case)
    claimed = {app_case: found for app_case in MATCHABLE if app_case != gc_case
               if (found := align_start(ups, durs, _app(app_case))) is not None}
    assert not claimed, claimed


@pytest.mark.parametrize("case", MATCHABLE)
def test_blurred_gaps_are_refused(case: str) -> None:
    rng = np.random.default_rng(19)
    ups, durs, _ = _gc(case)
    times = _app(case)
    assert align_start(ups, durs, times + rng.integers(-200, 201, len(times))) is None
    assert align_start(ups + rng.uniform(-500, 500, len(ups)), durs, times) is None


def test_an_unrelated_app_log_leaves_the_gc_log_unanchored(tmp_path: Path) -> None:
    """End to end: heap-shenandoah's uptime-only GC log beside heap-g1's app log (another
    run) is not placed by pause alignment; the scan still says it is not placed at all."""
    from logsleuth import api

    shutil.copy(ROOT / "heap-shenandoah" / "gc.log.gz", tmp_path / "gc.log.gz")
    shutil.copy(ROOT / "heap-g1" / "app.log.gz", tmp_path / "app.log.gz")
    res = api.scan([tmp_path])
    codes = [d.code for d in res.diagnostics]
    assert "gc-unanchored" in codes and "gc-anchored-by-pauses" not in codes, codes
    assert res.tables["gc_events"]["ts"].null_count == res.tables["gc_events"].num_rows


def test_a_rolled_app_log_against_a_long_gc_log() -> None:
    """Synthetic, for the long-log path only (the real runs are 30-60 s): a 40 min GC log
    (its densest 15 min of pauses are searched) and an app log that starts 13 min into the
    JVM's life, records in the pauses removed. The start is found to 1 ms; with the app
    records drawn anew (no pause left empty) it is refused."""
    rng = np.random.default_rng(7)
    span, start = 40 * 60_000, 1_800_000_000_000
    ups = np.sort(rng.uniform(1_000, span, 1_500))
    durs = rng.uniform(3, 30, len(ups))
    times = np.sort(rng.integers(start, start + span, 200_000))
    inside = np.zeros(len(times) + 1, dtype=np.int64)
    np.add.at(inside, np.searchsorted(times, start + ups - durs), 1)
    np.add.at(inside, np.searchsorted(times, start + ups), -1)
    silent = times[np.cumsum(inside)[:-1] == 0]
    rolled = silent[silent >= start + 13 * 60_000]
    found = align_start(ups, durs, rolled)
    assert found is not None and abs(found.ms - start) <= 1, found
    fresh = np.sort(rng.integers(start + 13 * 60_000, start + span, len(rolled)))
    assert align_start(ups, durs, fresh) is None


def test_only_unified_logs_are_aligned() -> None:
    """JDK 8 stamps a pause's start, unified logging its end line: only the latter is
    validated above, so only it is read for alignment (engine.pausealign._pauses)."""
    from logsleuth.parsers.gc import is_unified_gc_log

    public = Path(__file__).resolve().parents[1] / "data" / "public" / "gc"
    assert not is_unified_gc_log((public / "jdk8-parallel-tenuring-cause.log").read_bytes())
    assert is_unified_gc_log(gzip.decompress(
        (ROOT / "heap-shenandoah" / "gc.log.gz").read_bytes()))
