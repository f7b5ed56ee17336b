"""The watch loop on recorded runs of the reproduction, appended while it watches."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from logsleuth import api
from logsleuth.options import ScanOptions
from logsleuth.watch.checkpoint import STATE_VERSION, read_state
from logsleuth.watch.events import _ms
from logsleuth.watch.run import Watcher, WatchOptions

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "sample_logs" / "matrix"
TZ = "Europe/Berlin"  # the runs' zone (sample_logs/README.md)


def app_log_bytes(case: Path) -> bytes:
    """The case's app log as it was written: rolled archives (oldest first), then active."""
    rolled = sorted(case.glob("push-server-*.log.gz"),
                    key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
    return b"".join(gzip.decompress(p.read_bytes()) for p in rolled) + \
        (case / "push-server.log").read_bytes()


def stream(data: bytes, log: Path, pieces: int, pause: float) -> None:
    cuts = [len(data) * k // pieces + 7 * k for k in range(1, pieces)] + [len(data)]
    prev = 0
    for cut in cuts:
        with open(log, "ab") as f:
            f.write(data[prev:cut])
        prev = cut
        time.sleep(pause)


def run_watcher(options: WatchOptions, write: Any, expect_records: int
                ) -> tuple[list[dict[str, Any]], Watcher]:
    events: list[dict[str, Any]] = []
    w = Watcher(options, events.append)
    t = threading.Thread(target=w.run)
    t.start()
    try:
        write()
        deadline = time.monotonic() + 60
        while (sum(w.analysis.records_read.values()) < expect_records
               and time.monotonic() < deadline):
            time.sleep(0.1)
        time.sleep(3 * options.interval + 0.5)  # the last analysis of what was read
    finally:
        w.stop.set()
        t.join(30)
    assert not t.is_alive()
    return events, w


def fast(paths: list[str], state: str | None = None, **scan: Any) -> WatchOptions:
    return WatchOptions(paths=tuple(paths), scan=ScanOptions(**scan), interval=0.2, poll=0.05,
                        settle=0.5, state=state, notify=False)


def test_forecast_of_a_live_leak_before_any_failure(tmp_path: Path) -> None:
    case = MATRIX / "unpooled-netty-256-k-cut"  # a leak, cut before the first OOM
    truth = json.loads((MATRIX / f"{case.name}.truth.json").read_text())
    data = app_log_bytes(case)
    ref = api.scan([str(case)], keep_records=False, workers=1,
                   tz=TZ).incident.leaks[0]
    log = tmp_path / "push-server.log"
    events, w = run_watcher(fast([str(tmp_path)], tz=TZ), lambda: stream(data, log, 12, 0.3),
                            truth["counts"]["records"])
    assert all({"event", "wall_time", "evidence_time"} <= e.keys() for e in events)
    assert events[0]["event"] == "started" and events[-1]["event"] == "stopped"
    forecasts = [e for e in events if e["event"] == "forecast"]
    assert forecasts, [e["event"] for e in events]
    assert not [e for e in events if e["event"] == "onset"]  # nothing failed
    last = forecasts[-1]
    assert last["metric"] == "netty_direct_memory_used"
    assert last["ceiling"]["value"] == truth["ceiling"]["bytes"]
    assert last["per_event"]["template"].startswith(truth["leak"]["event_template_prefix"])
    assert last["per_event"]["amount"] == pytest.approx(truth["leak"]["bytes_per_event"],
                                                        rel=0.01)
    # the last forecast said stands within 10 % of the time left after the last record
    said, left = _ms(last["eta"]), ref.exhaustion_at_ms - w.analysis.evidence_ms
    assert abs(ref.exhaustion_at_ms - said) <= 0.1 * max(left, 1000)
    # each ETA comes with its range, which holds the real first OOM on this steady leak
    oom = _ms(truth["cut"]["first_oom_after_cut_utc"])
    for f in forecasts:
        assert _ms(f["eta_earliest"]) <= _ms(f["eta"]) <= _ms(f["eta_latest"]), f
        assert f["eta_level"] == 0.9 and 0.0 <= f["confidence"] <= 1.0
        assert f["rate_source"] in ("per-event", "gauge")
    assert _ms(last["eta_earliest"]) <= oom <= _ms(last["eta_latest"]), last
    assert sum(w.analysis.records_read.values()) == truth["counts"]["records"]


def test_healthy_run_gives_no_forecast_and_no_leak(tmp_path: Path) -> None:
    case = MATRIX / "healthy-pooled-jdk-kv"
    data = app_log_bytes(case)
    expect = data.count(b"\n2026-") + data.startswith(b"2026-")
    events, _ = run_watcher(fast([str(tmp_path)]),
                            lambda: stream(data, tmp_path / "push-server.log", 6, 0.3), expect)
    kinds = [e["event"] for e in events]
    assert "forecast" not in kinds and "leak" not in kinds and "onset" not in kinds
    assert kinds[0] == "started" and kinds[-1] == "stopped"


def test_restart_from_state_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    case = MATRIX / "unpooled-netty-256-k-cut"
    truth = json.loads((MATRIX / f"{case.name}.truth.json").read_text())
    data = app_log_bytes(case)
    half = data.index(b"\n2026-", len(data) // 2) + 1
    watched, state = tmp_path / "logs", tmp_path / "watch.state.json"
    watched.mkdir()
    log = watched / "push-server.log"
    first, _ = run_watcher(fast([str(watched)], state=str(state)),
                           lambda: stream(data[:half], log, 3, 0.2),
                           data[:half].count(b"\n2026-") + 1)
    assert read_state(str(state)).meta["version"] == STATE_VERSION
    with open(log, "ab") as f:  # written while no watcher ran
        f.write(data[half:])
    second, w = run_watcher(fast([str(watched)], state=str(state)), lambda: None,
                            truth["counts"]["records"])
    assert second[0]["event"] == "started" and second[0]["resumed"] is True
    said_first = {(e["rule"], e["fingerprint"]) for e in first if e["event"] == "finding"}
    said_again = {(e["rule"], e["fingerprint"]) for e in second
                  if e["event"] == "finding" and e["reason"] == "new"}
    assert said_first and not said_first & said_again
    # everything read once: the running result is the scan of every byte
    got = w.analysis.finalize()
    ref = api.scan([str(watched)], keep_records=False, workers=1)
    assert sorted((f.rule, f.fingerprint, f.count) for f in got.findings) == \
        sorted((f.rule, f.fingerprint, f.count) for f in ref.findings)
    assert sum(w.analysis.records_read.values()) == truth["counts"]["records"]


def test_cli_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    case = MATRIX / "unpooled-netty-256-k-cut"
    (tmp_path / "push-server.log").write_bytes(app_log_bytes(case)[:200_000])
    out = tmp_path / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from logsleuth.cli import main; main()",
                             "watch", str(tmp_path), "--jsonl", str(out), "--interval", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            not out.exists() or b'"finding"' not in out.read_bytes()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events[0]["event"] == "started" and events[-1]["event"] == "stopped"
    # its own output, written in the watched folder, is not read back
    assert events[0]["files"] == ["push-server.log"] and events[0]["missing"] == []
    assert any(e["event"] == "finding" for e in events)


def test_zone_inferred_from_the_gc_log_beside_the_app_log(tmp_path: Path) -> None:
    """Without --tz, the watcher reads the zone as scan does (the GC log's offsets)."""
    case = MATRIX / "unpooled-netty-256-k-cut"
    (tmp_path / "gc.log").write_bytes((case / "gc.log").read_bytes())
    data = app_log_bytes(case)
    truth = json.loads((MATRIX / f"{case.name}.truth.json").read_text())
    (tmp_path / "push-server.log").write_bytes(data)
    events, w = run_watcher(fast([str(tmp_path)]), lambda: None, truth["counts"]["records"])
    assert w.analysis.evidence_ms == _ms(truth["last_ts_utc"])
    forecasts = [e for e in events if e["event"] == "forecast"]
    scanned = api.scan([str(tmp_path)], keep_records=False, workers=1)
    ref = scanned.incident.leaks[0]
    assert forecasts and _ms(forecasts[-1]["eta"]) == ref.exhaustion_at_ms
    # the GC log is read too, as scan reads it
    gc = {s.path: (s.kind, s.records) for s in w.latest.inputs}["gc.log"]
    assert gc == {s.path: (s.kind, s.records) for s in scanned.inputs}["gc.log"]
    assert gc[0] == "gc-log" and gc[1] > 0
    assert not any(d.code == "not-followed" for d in w.analysis.diagnostics)


def test_live_view_shows_files_findings_leak_eta_and_events(tmp_path: Path) -> None:
    from rich.console import Console

    from logsleuth.watch.view import LiveView

    case = MATRIX / "unpooled-netty-256-k-cut"
    truth = json.loads((MATRIX / f"{case.name}.truth.json").read_text())
    (tmp_path / "push-server.log").write_bytes(app_log_bytes(case))
    view = LiveView()
    events: list[dict[str, Any]] = []
    w = Watcher(fast([str(tmp_path)], tz=TZ), lambda e: (events.append(e), view.add(e)))
    t = threading.Thread(target=w.run)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            any(e["event"] == "forecast" for e in events)  # the last record is held until
            and sum(w.analysis.records_read.values()) == truth["counts"]["records"]):  # quiet
        time.sleep(0.1)
    console = Console(record=True, width=160, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(view.render(w))
    w.stop.set()
    t.join(30)
    text = console.export_text()
    eta = [e["eta"] for e in events if e["event"] == "forecast"][-1]
    assert "push-server.log" in text and f"{truth['counts']['records']:,}" in text
    assert "exception-in-encoder" in text  # the NPE's finding
    assert "netty_direct_memory_used" in text and "256 B per 'Client disconnected" in text
    assert f"{eta} (1.0 MiB)" in text and "forecast" in text


def test_live_view_reports_a_bad_state_file(tmp_path: Path) -> None:
    """The live view runs the loop in a thread: its errors still reach the CLI's edge."""
    from logsleuth.cli.watch_cmd import _run_live
    from logsleuth.errors import PatternError
    from logsleuth.watch.view import LiveView

    (tmp_path / "logs").mkdir()
    state = tmp_path / "watch.state"
    state.write_bytes(b"not a state")
    w = Watcher(fast([str(tmp_path / "logs")], state=str(state)), lambda e: None)
    with pytest.raises(PatternError, match="not a logsleuth watch state"):
        _run_live(w, LiveView())


def test_a_file_deleted_unread_is_a_lost_event_and_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from logsleuth.watch import follow

    monkeypatch.setattr(follow, "MAX_READ", 64 * 1024)
    data = app_log_bytes(MATRIX / "unpooled-netty-256-k")
    log = tmp_path / "push-server.log"
    log.write_bytes(data)
    events: list[dict[str, Any]] = []
    w = Watcher(fast([str(tmp_path)]), events.append)
    w._drain(budget=0.0)  # one bounded read: the watcher is behind
    read = w.follower.files[next(iter(w.follower.files))].offset
    assert 0 < read < len(data)
    log.unlink()  # the writer deleted it before the watcher caught up
    w._drain(budget=0.0)
    w._report_lost(0.0)
    (lost,) = [e for e in events if e["event"] == "lost"]
    assert lost["bytes"] == len(data) - read and lost["path"] == "push-server.log"
    (diag,) = [d for d in w.analysis.diagnostics if d.code == "unread-deleted"]
    assert str(len(data) - read) in diag.message and str(diag.level) == "warning"


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(),
                    reason="resident memory is read from Linux /proc")
def test_an_analysis_gives_freed_memory_back(tmp_path: Path) -> None:
    """What is freed by the time an analysis ends (its own transient, the live view's)
    goes back to the system before the watcher waits: glibc's malloc and Arrow's pool
    keep it otherwise. ~190 MiB freed in the middle of the heap (2,000 blocks of
    100 kB, every 50th kept) by the view is gone from the RSS when the analysis ends."""
    import numpy as np

    from logsleuth.engine.memory import release_free_heap

    if not release_free_heap():
        pytest.xfail("no malloc_trim (not glibc): only Arrow's pool is released")
    root = tmp_path / "logs"
    root.mkdir()
    (root / "push-server.log").write_bytes(app_log_bytes(MATRIX / "pooled-netty-1024-k"))
    kept: list[Any] = []
    freed_at: list[float] = []

    def view(result: Any, watcher: Watcher) -> None:
        blocks = [np.ones(100_000 // 8) for _ in range(2000)]
        kept.extend(blocks[::50])
        del blocks
        freed_at.append(_rss_mib())

    w = Watcher(WatchOptions((str(root),), ScanOptions(tz=TZ), notify=False), lambda e: None,
                on_result=view)
    w._drain()
    w._analyse()
    assert w.latest is not None and len(kept) == 40
    assert freed_at[0] - _rss_mib() > 100
