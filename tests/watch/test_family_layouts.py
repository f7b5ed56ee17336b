"""Watch reads the files of one rolled family in the family's layout, as scan does.

The files are written here in one log4j2 PatternLayout that no built-in layout reads
(``%d{yyyy-MM-dd HH:mm:ss.SSS} | %-5p | %t | %c | %m%n``), so each file's layout is
inferred from its own head. The current file holds only two records, each with a
twelve-frame trace: its head alone shows ``ERROR`` levels only, so ``%p`` and
``%-5p`` read it alike; read in ``%p``, the archive's padded ``INFO  |`` records are
glued to the records before them. Expected (written before running): every file read
in the layout it was written in, every record read, nothing unparsed, no layout warning.
"""

from __future__ import annotations

import gzip
import os
import random
import threading
import time
from pathlib import Path

from logsleuth import api
from logsleuth.options import ScanOptions
from logsleuth.watch.run import Watcher, WatchOptions

WRITTEN = "%d{yyyy-MM-dd HH:mm:ss.SSS} | %-5p | %t | %c | %m%n"
LEVELS = ("INFO", "WARN", "DEBUG", "ERROR")


def record(i: int, level: str | None = None, depth: int = 3, rng: random.Random | None = None
           ) -> str:
    level = level or (rng or random.Random(i)).choice(LEVELS)
    ts = f"2026-12-06 10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}"
    out = f"{ts} | {level:<5} | worker-{i % 4} | acme.push.Handler{i % 3} | handled id={i}\n"
    if level == "ERROR":
        out += "java.lang.IllegalStateException: boom\n" + "".join(
            f"\tat acme.push.Handler.run{k}(Handler.java:{k + 10})\n" for k in range(depth))
    return out


def archive_text(n: int = 400) -> str:
    rng = random.Random(7)
    return "".join(record(i, rng=rng) for i in range(n))


def flood_text(start: int, n: int = 2) -> str:
    """A freshly rolled file: a few ERROR records with long traces (>= 20 lines)."""
    return "".join(record(start + k, "ERROR", depth=12) for k in range(n))


def watch(paths: list[str], action: object, expect: int) -> Watcher:
    w = Watcher(WatchOptions(paths=tuple(paths), scan=ScanOptions(), interval=0.2, poll=0.05,
                             settle=0.5, notify=False), lambda _e: None)
    t = threading.Thread(target=w.run)
    t.start()
    try:
        action()  # type: ignore[operator]
        deadline = time.monotonic() + 30
        while sum(w.analysis.records_read.values()) < expect and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # the held last record settles
    finally:
        w.stop.set()
        t.join(30)
    assert not t.is_alive()
    return w


def _read_in_written_layout(result: object, records: dict[str, int]) -> None:
    by_path = {i.path: i for i in result.inputs}  # type: ignore[attr-defined]
    for path, n in records.items():
        stats = by_path[path]
        assert stats.layout == f"inferred: {WRITTEN}", (path, stats.layout)
        assert (stats.records, stats.unparsed_lines) == (n, 0), path
    codes = [d.code for d in result.diagnostics]  # type: ignore[attr-defined]
    assert not [c for c in codes if c.startswith("layout-")], codes


def test_a_family_found_at_start_shares_the_archive_layout(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(flood_text(400))  # listed before its archive
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(archive_text().encode()))
    expect = {"app.log": 2, "app.log.1.gz": 400}
    _read_in_written_layout(api.scan([str(tmp_path)], keep_records=False, workers=1), expect)
    w = watch([str(tmp_path)], lambda: None, sum(expect.values()))
    _read_in_written_layout(w.latest, expect)


def test_a_file_rolled_while_followed_keeps_the_family_layout(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(archive_text())

    def roll() -> None:
        time.sleep(1.0)  # the archive-to-be is read and planned first
        os.rename(log, tmp_path / "app.log.1")  # log4j2's rollover: rename, create
        log.write_text(flood_text(400))
        time.sleep(0.3)
        with open(log, "a") as f:
            f.write(record(402, "INFO"))

    w = watch([str(tmp_path)], roll, 403)
    # the renamed file continues the stream first seen as app.log: one name, two streams
    stats = [i for i in w.latest.inputs if i.path == "app.log"]
    assert sorted(s.records for s in stats) == [3, 400]
    assert {s.layout for s in stats} == {f"inferred: {WRITTEN}"}
    assert sum(s.unparsed_lines for s in stats) == 0
    assert not [d.code for d in w.latest.diagnostics if d.code.startswith("layout-")]


def test_a_near_empty_current_file_takes_the_archive_layout_in_scan(tmp_path: Path) -> None:
    """One record in the current file: its own inference is unsure and leaves the
    thread and logger in the message; the family's 400 records show them."""
    (tmp_path / "app.log").write_text(record(400, "INFO"))
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(archive_text().encode()))
    expect = {"app.log": 1, "app.log.1.gz": 400}
    _read_in_written_layout(api.scan([str(tmp_path)], keep_records=False, workers=1), expect)
    w = watch([str(tmp_path)], lambda: None, sum(expect.values()))
    _read_in_written_layout(w.latest, expect)


def test_a_restored_watch_keeps_the_family_layout(tmp_path: Path) -> None:
    """Stopped and continued from --state: the current file is planned again with its
    family (alone, its two ERROR records gave %p) and its new INFO record is read."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text(flood_text(400))
    (logs / "app.log.1.gz").write_bytes(gzip.compress(archive_text().encode()))
    state = str(tmp_path / "watch.state")

    def options() -> WatchOptions:
        return WatchOptions(paths=(str(logs),), scan=ScanOptions(), interval=0.2, poll=0.05,
                            settle=0.5, notify=False, state=state, max_seconds=2.0)

    Watcher(options(), lambda _e: None).run()
    with open(logs / "app.log", "a") as f:
        f.write(record(402, "INFO") + record(403, "WARN"))
    w = Watcher(options(), lambda _e: None)
    w.run()
    _read_in_written_layout(w.latest, {"app.log": 4, "app.log.1.gz": 400})
