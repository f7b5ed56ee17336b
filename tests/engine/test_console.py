"""The JVM's own console lines end the record before them; GC lines and dumps among app
records are read as evidence, placed in time by the records around them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from logsleuth import api
from logsleuth.engine.console import console_cut
from logsleuth.engine.embeddedgc import jvm_start_bounds

LINES = [
    "2026-01-01 10:00:00.000 INFO  [main] c.a.App - Request handled id=1",   # 0
    "[1.000s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 20M->5M(32M) 2.0ms",
    "java.lang.OutOfMemoryError: Java heap space",                           # 2
    "Dumping heap to /tmp/java_pid1.hprof ...",
    "Heap dump file created [1048576 bytes in 0.010 secs]",
    "2026-01-01 10:00:00.050 ERROR [main] c.a.App - Request failed id=2",     # 5
    "java.lang.OutOfMemoryError: Java heap space",
    "\tat com.acme.App.handle(App.java:10)",
    "[1.100s][info][gc] GC(1) Pause Full (G1 Compaction Pause) 31M->30M(32M) 9.0ms",
    "2026-01-01 10:00:00.150 INFO  [main] c.a.App - Request handled id=3",   # 9
]


def test_console_cut_keeps_a_records_own_lines() -> None:
    data = ("\n".join(LINES) + "\n").encode()
    starts = np.array([0] + [i + 1 for i, b in enumerate(data) if b == 10], np.int64)
    heads = np.array([0, 5, 9])
    nlines = np.array([5, 4, 1])
    assert console_cut(data, starts, heads, nlines).tolist() == [1, 3, 1]
    plain = b"2026-01-01 10:00:00.000 INFO  [main] c.a.App - ok\n"
    assert console_cut(plain, np.array([0, len(plain)]), np.array([0]), np.array([1])) is None


def test_jvm_start_is_bounded_by_the_records_around_each_gc_line() -> None:
    # written after a record at 1000 ms and before one at 1010 ms, 0.995 s after start
    lines = [("[0.995s][info][gc] GC(0) Pause Young", 1000, 1010),
             ("[2.000s][info][gc] GC(1) Pause Young", 2003, 2020)]
    assert jvm_start_bounds(lines) == (5, 15)


def test_a_console_gives_one_oom_record_gc_events_and_the_heap_dump(tmp_path: Path) -> None:
    """The heap-dump notice after GC lines does not make "Request handled id=1" an OOM
    record; the GC lines are gc_events on the records' clock; the dump is named."""
    (tmp_path / "console.log").write_text("\n".join(
        LINES + [f"2026-01-01 10:00:0{i}.000 INFO  [main] c.a.App - tick {i}" for i in range(1, 6)])
        + "\n")
    res = api.scan(tmp_path, keep_records=False, tz="UTC")
    (stats,) = res.inputs
    assert stats.kind == "app-log"
    heap = [f for f in res.findings if f.rule == "jvm-heap-oom"]
    assert [(f.count, f.example["line"]) for f in heap] == [(1, 6)]
    events = res.tables["gc_events"].to_pylist()
    assert [e["line"] for e in events] == [2, 9]
    # JVM start within [0.000 - 1.000 s, 0.050 - 1.000 s] from line 2 and [0.050 -
    # 1.100, 0.150 - 1.100] from line 9: -1000..-1050 and -950..-1050 -> -1000..-1050
    ts = [round(e["ts"].timestamp() * 1000) % 60000 for e in events]
    assert 0 <= ts[0] <= 50 and 50 <= ts[1] <= 150, ts
    (dump,) = res.tables["heap_dumps"].to_pylist()
    assert (dump["line"], dump["path"], dump["bytes"]) == (4, "/tmp/java_pid1.hprof", 1048576)
