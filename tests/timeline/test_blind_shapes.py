"""The general fixes the blind matrix cases asked for (s8, issue 15 "evidence it has never
seen"), each on a small input of its own so that it holds beyond the four runs.

Expected, written from the runs' own lines before the fixes: a pipe-separated layout's
``sid=`` column and log4j 1's ``%c (%F:%L) -`` are fields, not the message's start; rolled
files of one appender keep one layout even when an archive's head shows one level only; a
Prometheus exposition sample is a gauge with the unit its name states; a monitor printing
every 10 s all along the evidence is a gauge after a handful of ticks; a ``(limit N KiB)`` beside a gauge is its
ceiling; and at a steady event rate an exception logged with one event's records names it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.engine.gaugerows import is_candidate
from logsleuth.layouts.infer import infer_layout
from logsleuth.timeline.attribution import (
    Markers,
    NoAttribution,
    PerEventAttribution,
    explain_increments,
)
from logsleuth.timeline.gauges import _rejects, _variables

MATRIX = Path(__file__).resolve().parents[2] / "sample_logs" / "matrix"

# lines of the blind runs, as the JVM wrote them
PIPE = """\
2026-12-06T14:28:07.064 | INFO  | main                   | PushServer | sid= | PushServer starting: port=18273 leakOnDisconnect=true
2026-12-06T14:28:07.112 | INFO  | direct-memory-monitor  | metrics | sid= | jvm_buffer_memory_used_bytes{id="direct",} 0.0
2026-12-06T14:28:07.384 | INFO  | push-worker-3-3        | PushHandler | sid=c93a0b9893ed86d4 | Client connected: sessionId=c93a0b9893ed86d4 user=sub00 remote=/127.0.0.1:49120 sessions=1
2026-12-06T14:28:07.402 | INFO  | push-worker-3-1        | PushHandler | sid=dc87f1f8a718fff9 | Client disconnected: sessionId=dc87f1f8a718fff9 user=u53547 durationMs=14 sessions=5
2026-12-06T14:28:07.409 | DEBUG | push-worker-3-4        | PushHandler | sid= | Message from sessionId=ced881316770b886: subscribe ACME 780
2026-12-06T14:28:07.411 | ERROR | push-worker-3-4        | PushHandler | sid=ced881316770b886 | Failed to publish offline presence for sessionId=ced881316770b886
"""
LOG4J1 = """\
06 Dec 2026 14:29:23,077 INFO  [main] PushServer (PushServer.java:85) - PushServer starting: port=18273
06 Dec 2026 14:29:23,158 INFO  [direct-memory-monitor] metrics (PushServer.java:474) - DirectMemory: used=0.00MB max=8.00MB
06 Dec 2026 14:29:23,390 INFO  [push-worker-3-1] PushHandler (PushServer.java:318) - Upgraded to websocket uri=/ws?user=sub00 user=sub00 remote=/127.0.0.1:40000
06 Dec 2026 14:29:23,402 INFO  [push-worker-3-2] PushHandler (PushServer.java:349) - Request completed uri=/ws status=101 durationMs=12 bytesOut=700
06 Dec 2026 14:29:23,409 ERROR [push-worker-3-2] PushHandler (PushServer.java:368) - Failed to publish offline presence for sessionId=ced881316770b886
"""


def _fields(pattern_layout: object, lines: list[str]) -> list[dict[str, str]]:
    got = pc.extract_regex(pa.array(lines, pa.string()), pattern_layout.fields_regex)  # type: ignore[attr-defined]
    return got.to_pylist()


@pytest.mark.parametrize(("text", "piece", "msg"), [
    (PIPE, "| sid=%X{sid} | %m%n", "Client disconnected: sessionId="),
    (LOG4J1, "[%t] %c (%F:%L) - %m%n", "Request completed uri="),
])
def test_columns_after_the_logger_are_fields_not_the_message(text: str, piece: str,
                                                             msg: str) -> None:
    inf = infer_layout(text.splitlines() * 3)
    assert inf.confident and inf.pattern is not None and inf.pattern.endswith(piece), inf
    rows = _fields(inf.layout, text.splitlines())
    assert all(r is not None for r in rows)
    assert any(r["msg"].startswith(msg) for r in rows)


def test_rolled_files_keep_the_layout_an_error_flood_hides(tmp_path: Path) -> None:
    """An archive rolled in an ERROR flood shows only 5-letter levels in its head: it reads
    its few INFO records with the padding its siblings show, not glued to a trace."""
    rec = "2026-12-06T14:28:{s:02d}.{ms:03d} | {lvl:<5} | push-worker-3-1        | PushHandler | sid= | {msg}\n"
    trace = "java.lang.IllegalStateException: boom\n" + "\tat com.example.A.b(A.java:1)\n" * 20
    calm = "".join(rec.format(s=i % 60, ms=i % 1000, lvl=("INFO", "WARN", "ERROR")[i % 3],
                              msg=f"step {i}") for i in range(300))
    flood = [rec.format(s=i % 60, ms=i % 1000, lvl="ERROR", msg=f"failed {i}") + trace
             for i in range(150)]
    flood.insert(120, rec.format(s=5, ms=5, lvl="INFO", msg="monitor tick"))  # past the head
    (tmp_path / "app-1.log").write_text(calm)
    (tmp_path / "app-2.log").write_text("".join(flood))
    assert len("".join(flood[:120]).encode()) > 64 * 1024
    result = api.scan(tmp_path, keep_records=False, tz="UTC")
    apps = {Path(s.path).name: s for s in result.inputs if s.kind == "app-log"}
    assert apps["app-2.log"].records == 151, apps["app-2.log"]
    assert apps["app-1.log"].layout == apps["app-2.log"].layout


def test_an_exposition_sample_is_a_gauge_with_its_names_unit() -> None:
    assert is_candidate('jvm_buffer_memory_used_bytes{id=<*>,} <*>')
    assert is_candidate("process_open_fds <*>")
    assert not is_candidate("Processed <*>")  # a word and a number: not a metric name
    (var,) = _variables(["jvm_buffer_memory_used_bytes{id=<*>,}", "<*>"])
    assert (var.token, var.key, var.unit) == (1, "jvm_buffer_memory_used_bytes", "bytes")


def test_a_limit_in_parentheses_beside_a_gauge_is_its_sibling() -> None:
    got = _variables(["Direct", "buffers:", "<*>", "KiB", "in", "use", "(limit", "<*>", "KiB)"])
    assert [(v.key, v.unit) for v in got] == [("buffers", "KiB"), ("limit", "KiB")]


def test_a_handful_of_samples_is_a_gauge_only_at_a_fixed_tick() -> None:
    # the sparse run's monitor: used= in MiB with two decimals, every 10 s
    v = np.array([0.0, 0.86, 1.80, 2.73, 3.66, 4.59, 5.51, 6.44]) * 1048576
    tick = 1_796_563_763_158 + np.arange(8, dtype=np.int64) * 10_000 + np.array([0, 1, 1, 2, 0, 1, 0, 25])
    assert _rejects(tick, v) is None
    jitter = 1_796_563_763_158 + np.cumsum([0, 3_000, 15_000, 9_000, 12_000, 4_000, 17_000, 10_000])
    assert _rejects(jitter.astype(np.int64), v) is not None
    assert _rejects(tick[:5], v[:5]) is not None  # fewer than a handful
    # printed all along a 95 s evidence: a monitor; the same 8 at a 1 s tick in the last
    # 8 s of it (a warning above 75 % of the limit, each second): not a gauge of its own
    assert _rejects(tick, v, span_ms=95_000) is None
    burst = 1_796_563_763_158 + np.arange(8, dtype=np.int64) * 1_000
    assert _rejects(burst, v, span_ms=35_000) is not None


def _steady(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                    np.ndarray]:
    """A gauge every 10 s, 390 'req' and 390 'upg' records per interval at distinct ms,
    2500 B per 'req' rounded to 0.01 MiB as a monitor prints it; the failing 'req' handler
    logs an exception in the same ms as 'req' (3 % of them with another 'upg' too)."""
    rng = np.random.default_rng(seed)
    t = 1_000_000 + np.arange(10, dtype=np.int64) * 10_000
    req = np.sort(np.concatenate([t[i] + 1 + rng.choice(9_998, 390, replace=False)
                                  for i in range(9)]))
    upg = req - 3
    v = np.round(2500.0 * np.searchsorted(req, t, side="right") / 10485.76) * 10485.76
    ev_ts = np.concatenate([req, upg])
    ev_keys = np.array(["req"] * len(req) + ["upg"] * len(upg), dtype=object)
    return t, v, ev_ts, ev_keys, req


def test_at_a_steady_rate_the_exception_logged_with_an_event_names_it() -> None:
    t, v, ev_ts, ev_keys, req = _steady()
    plain = explain_increments(t, v, ev_ts, ev_keys, unit="B", min_windows=5)
    assert isinstance(plain, NoAttribution) and plain.code == "flat-counts", plain
    marks = Markers(req.copy(), np.array(["NPE"] * len(req)), np.ones(len(req)))
    got = explain_increments(t, v, ev_ts, ev_keys, unit="B", min_windows=5, markers=marks)
    assert isinstance(got, PerEventAttribution), got
    assert got.template == "req" and got.decided == "co-occurrence"
    assert got.amount == pytest.approx(2500.0, rel=0.01)
    assert got.alternatives == ("upg",) and got.p_value < 0.01


def test_an_exception_logged_with_both_events_names_neither() -> None:
    t, v, ev_ts, ev_keys, req = _steady()
    both = np.sort(np.concatenate([req[::2], req[1::2] - 3]))  # half with each
    marks = Markers(both, np.array(["NPE"] * len(both)), np.ones(len(both)))
    got = explain_increments(t, v, ev_ts, ev_keys, unit="B", min_windows=5, markers=marks)
    assert isinstance(got, NoAttribution) and got.code == "flat-counts", got
