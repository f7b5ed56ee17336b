"""A stream appended faster than one poll reads is analysed while it is read.

bench/watch_stream.py found the watcher draining a 20 MB/s stream for 8 minutes
without one analysis, heartbeat or checkpoint: reading went on while a poll left a
backlog. Here a recorded run lands in the file at once and each poll reads a small
piece: with ``interval=0`` every piece must be followed by an analysis.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from pathlib import Path
from typing import Any

from logsleuth.options import ScanOptions
from logsleuth.watch import follow
from logsleuth.watch.run import Watcher, WatchOptions

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "sample_logs" / "matrix" / "unpooled-netty-256-k"
PIECE = 128 * 1024


def _app_log(case: Path) -> bytes:
    rolled = sorted(case.glob("push-server-*.log.gz"),
                    key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
    return b"".join(gzip.decompress(p.read_bytes()) for p in rolled) + \
        (case / "push-server.log").read_bytes()


def test_backlog_is_analysed_piece_by_piece(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(follow, "MAX_READ", PIECE)
    data = _app_log(CASE)
    records = json.loads((CASE.parent / f"{CASE.name}.truth.json").read_text())["counts"]["records"]
    assert len(data) > 8 * PIECE
    log = tmp_path / "push-server.log"
    log.write_bytes(b"")
    read_at_analysis: list[int] = []
    options = WatchOptions(paths=(str(tmp_path),), scan=ScanOptions(tz="Europe/Berlin"),
                           interval=0.0, poll=0.05, settle=0.5, notify=False)
    w = Watcher(options, lambda e: None,
                on_result=lambda r, w: read_at_analysis.append(
                    sum(t.offset for t in w.follower.files.values())))
    thread = threading.Thread(target=w.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not read_at_analysis and time.monotonic() < deadline:
            time.sleep(0.05)  # the backfill of the empty file was analysed
        log.write_bytes(data)
        deadline = time.monotonic() + 120
        while (sum(w.analysis.records_read.values()) < records
               and time.monotonic() < deadline):
            time.sleep(0.1)
    finally:
        w.stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert sum(w.analysis.records_read.values()) == records
    partial = [n for n in read_at_analysis if 0 < n < len(data)]
    # one analysis after each piece read (a few pieces may be read between two of them)
    assert len(partial) >= len(data) // PIECE // 2, (len(partial), len(data) // PIECE)

