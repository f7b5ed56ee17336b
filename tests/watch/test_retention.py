"""Memory stays bounded over days: old windows are coarsened, totals and leaks kept.

Expected before running (``watch.retention``): a day and a half of a service that
logs every 5 s (four templates, a direct-memory gauge growing 1 KiB per disconnect (three ticks in five),
a warning every minute and a NullPointerException every 10 minutes), followed with a
fine window of 1 h and a coarse one of 12 h:

- template counts keep at most one key per template per second of the last hour, per
  minute to 12 h, per hour beyond (without the rule: one per 5 s, ~26,000 each);
- warning/error rows and gauge samples are coarsened alike;
- what is totalled is untouched: template totals, finding counts and first/last times
  equal a scan's;
- the leak stays: the same metric, attributed to the same event, its slope within 2 %.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.options import ScanOptions
from logsleuth.watch.follow import Follower
from logsleuth.watch.retention import Retention, coarsen_counts
from logsleuth.watch.state import RunningAnalysis

START = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
TICK_S, TICKS = 5, 36 * 720  # 36 h
FINE_MS, COARSE_MS = 3_600_000, 12 * 3_600_000
NPE = ("java.lang.NullPointerException: null\n"
       "\tat com.example.push.Encoder.encode(Encoder.java:42)\n"
       "\tat com.example.push.Server.push(Server.java:88)\n")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _leaks(i: int) -> bool:
    """Whether tick ``i`` has a disconnect (three ticks in five, not in step with the
    connects of every tick, so the two can be told apart)."""
    return (i * 7) % 5 < 3


LEAKED = np.cumsum([_leaks(i) for i in range(TICKS)])


def _log(first: int, last: int) -> bytes:
    out = []
    for i in range(first, last):
        t = START + i * TICK_S
        sid = f"{i * 7919:016x}"
        out.append(f"{_stamp(t)} INFO  [nioEventLoopGroup-3-1] com.example.push.Server - "
                   f"Client connected: sessionId={sid} user=u{i % 50} sessions=5\n")
        if _leaks(i):
            out.append(f"{_stamp(t + 1)} INFO  [nioEventLoopGroup-3-1] "
                       f"com.example.push.Server - Client disconnected: sessionId={sid} "
                       f"user=u{i % 50} durationMs=900 sessions=4\n")
        if i % 2 == 0:
            out.append(f"{_stamp(t + 2)} DEBUG [nioEventLoopGroup-3-2] "
                       f"com.example.push.Server - Pushed quote seq={i} to sessionId={sid}\n")
        out.append(f"{_stamp(t + 3)} INFO  [direct-memory-monitor] com.example.push.metrics - "
                   f"netty_direct_memory: {1024 + LEAKED[i]}k\n")
        if i % 12 == 0:
            out.append(f"{_stamp(t + 4)} WARN  [nioEventLoopGroup-3-2] "
                       f"com.example.push.Server - Slow consumer: sessionId={sid}\n")
        if i % 120 == 0:
            out.append(f"{_stamp(t + 4.5)} ERROR [nioEventLoopGroup-3-2] "
                       "com.example.push.Server - push failed\n" + NPE)
    return "".join(out).encode()


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunningAnalysis, object]:
    root = tmp_path_factory.mktemp("days")
    log = root / "push-server.log"
    run = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    run.retention = Retention(fine_ms=FINE_MS, coarse_ms=COARSE_MS, every_ms=600_000)
    follow = Follower([str(root)])
    pieces = 36
    for k in range(pieces):
        with open(log, "ab") as f:
            f.write(_log(TICKS * k // pieces, TICKS * (k + 1) // pieces))
        run.ingest(follow.poll())
        while follow.backlog:
            run.ingest(follow.poll())
    run.flush()
    ref = api.scan([str(root)], keep_records=False, workers=1, tz="UTC")
    return run, ref


def test_old_windows_are_coarsened(followed: tuple[RunningAnalysis, object]) -> None:
    run, _ = followed
    studied = run.running.get("analysis")
    ts, ids, _counts = studied.template_counts.events()
    hours = TICKS * TICK_S / 3600
    per_template = np.bincount(ids)
    bound = 3600 + (COARSE_MS - FINE_MS) // 60_000 + int(hours) + 2
    assert per_template.max() <= bound < TICKS / 4
    newest = int(ts.max())
    old = ts < newest - COARSE_MS
    assert old.any() and len(np.unique(ts[old] // 3_600_000)) == old.sum() / len(
        np.unique(ids[old]))  # one key per (hour, template) there
    notable = studied.notable_table()
    warn_rows = TICKS // 12
    assert notable.num_rows < warn_rows / 2  # one per minute / hour beyond the fine hour
    metrics = run.running.get("metrics").tables()["metrics"][0]
    assert metrics.num_rows < TICKS / 4


def test_totals_findings_and_the_leak_survive(followed: tuple[RunningAnalysis, object]) -> None:
    run, ref = followed
    got = run.finalize()
    want_t = sorted(map(tuple, (r.values() for r in ref.table("templates").to_pylist())))
    assert sorted(map(tuple, (r.values() for r in got.table("templates").to_pylist()))) == want_t
    assert sorted((f.rule, f.fingerprint, f.count, f.first_seen, f.last_seen)
                  for f in got.findings) == \
        sorted((f.rule, f.fingerprint, f.count, f.first_seen, f.last_seen)
               for f in ref.findings)
    assert got.findings, "the NPEs make a finding"
    (leak_ref, *_), (leak_got, *_) = ref.incident.leaks, got.incident.leaks
    assert leak_got.metric == leak_ref.metric
    assert leak_ref.per_event is not None
    assert leak_got.per_event.template == leak_ref.per_event.template
    assert "disconnected" in leak_got.per_event.template
    assert leak_got.slope_per_hour == pytest.approx(leak_ref.slope_per_hour, rel=0.02)
    assert leak_got.per_event.amount == pytest.approx(1024, rel=0.02)
    n = pc.sum(got.table("level_counts")["count"]).as_py()
    assert n == pc.sum(ref.table("level_counts")["count"]).as_py()


def test_coarsening_is_idempotent(followed: tuple[RunningAnalysis, object]) -> None:
    run, _ = followed
    counts = run.running.get("analysis").template_counts
    before = [a.copy() for a in counts.events()]
    newest = run.retention.last_ms  # the same cut as the last application
    coarsen_counts(counts, newest - FINE_MS, newest - COARSE_MS)
    after = counts.events()
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(np.sort(a), np.sort(b))


def test_threshold_windows_survive_trimming() -> None:
    """An old burst that reached a threshold still reaches it; recent seconds stay whole."""
    from logsleuth.model import Severity
    from logsleuth.rules.findings import _Group
    from logsleuth.rules.model import RuleInfo, Threshold
    from logsleuth.watch.retention import trim_seconds

    rule = RuleInfo("storm", "storm", Severity.HIGH, threshold=Threshold(50, 60.0, "1m"))
    g = _Group(rule, "sig")
    rng = np.random.default_rng(7)
    seconds = {int(s): int(n) for s, n in zip(rng.integers(0, 40_000, 3000),
                                              rng.integers(1, 4, 3000), strict=True)}
    seconds.update({20_000 + i: 5 for i in range(40)})  # a burst: 200 in 40 s
    g.seconds.update(seconds)
    peak = g.window_peak()
    trim_seconds(g, fine_cut=30_000 * 1000)
    assert g.window_peak() >= peak - max(v for k, v in seconds.items() if k >= 29_940)
    assert g.window_peak() >= 200
    assert {s for s in g.seconds if s >= 30_000} == {s for s in seconds if s >= 30_000}
    assert sum(1 for s in g.seconds if s < 30_000) <= 60


def test_gauge_samples_keep_low_high_and_last_per_minute() -> None:
    import pyarrow as pa

    from logsleuth.parsers.metrics import METRICS_SCHEMA
    from logsleuth.watch.retention import coarsen_metrics

    ts = np.arange(0, 600_000, 1000)  # 10 minutes at 1 Hz
    value = np.sin(ts / 7000.0) * 100 + ts / 1000
    t = pa.table({"source": ["a.log"] * len(ts), "line": pa.array(np.arange(len(ts)) + 1),
                  "ts": pa.array(ts).cast(pa.timestamp("ms", tz="UTC")),
                  "metric": ["m"] * len(ts), "value": value, "unit": ["B"] * len(ts),
                  "origin": ["gauge"] * len(ts), "caps": pa.array([None] * len(ts),
                                                                  pa.string())},
                 schema=METRICS_SCHEMA)
    out = coarsen_metrics(t, fine_cut=300_000, coarse_cut=0)
    old = out.filter(pc.less(out["ts"].cast(pa.int64()), 300_000))
    assert old.num_rows <= 3 * 5
    for minute in range(5):
        sel = (ts >= minute * 60_000) & (ts < (minute + 1) * 60_000)
        got = old.filter(pc.equal(pc.divide(old["ts"].cast(pa.int64()), 60_000), minute))
        vals = set(got["value"].to_pylist())
        assert {value[sel].min(), value[sel].max(), value[sel][-1]} <= vals
    assert out.num_rows - old.num_rows == int((ts >= 300_000).sum())  # recent: all
