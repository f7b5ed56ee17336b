"""Third round of the resource runs: the checks particular to each new shape.

The generic checks (onset, oom_records, leak, per_event, ceiling, no_leak) run on every
case in test_resources.py; its module doc states what each case is expected to give. These
are the expectations particular to each shape, written before the analysis ran on them.
"""

from __future__ import annotations

import gzip
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.timeline.test_resources import (
    ROOT,
    _gauge_rows,
    _leak,
    _within_the_app_log,
    scanned,
    truth,
)


def _text(case: str, name: str) -> str:
    return gzip.decompress((ROOT / case / name).read_bytes()).decode(errors="replace")


def test_zgc_cycles_are_heap_samples() -> None:
    """heap-zgc: every ZGC cycle's summary (``Garbage Collection (cause) A(x%)->B(y%)``)
    is one heap sample, placed on the app log's clock, the last near the ceiling."""
    text = _text("heap-zgc", "gc.log.gz")
    cycles = set(re.findall(r"GC\((\d+)\) Garbage Collection \([^)]*\) \d+M\(\d+%\)->\d+M", text))
    rows = _gauge_rows("heap-zgc", "jvm_heap_after_gc")
    assert len(cycles) >= 50 and len(rows) == len(cycles), (len(rows), len(cycles))
    _within_the_app_log("heap-zgc", rows, 2000)
    assert max(r["value"] for r in rows) >= 0.75 * (32 << 20)


def _console_pauses(text: str) -> int:
    """Pauses the console's -Xlog:gc lines print with the heap before and after."""
    return len(re.findall(r"(?m)^\[[\d.]+s\]\[info *\]\[gc *\] GC\(\d+\) Pause [^\n]*"
                          r"\d+M->\d+M\(\d+M\)", text))


def test_a_console_gives_gc_events_thread_dumps_and_app_records() -> None:
    """console-threads: one stdout holds the app's records, -Xlog:gc lines (uptime only),
    kill -3 dumps and the heap-dump notice. The scan reads each: the heap gauge has one
    sample per pause line, on the app log's clock; one live-thread sample per dump with the
    count truth counted; the app's records are the records truth counted."""
    t = truth("console-threads")
    text = _text("console-threads", "console.log.gz")
    heap = _gauge_rows("console-threads", "jvm_heap_after_gc")
    assert len(heap) == _console_pauses(text) > 10, (len(heap), _console_pauses(text))
    _within_the_app_log("console-threads", heap, 2000)
    threads = sorted(_gauge_rows("console-threads", "jvm_threads_live"), key=lambda r: r["ts"])
    assert [int(r["value"]) for r in threads] == t["threads_per_dump"]
    assert len(threads) == t["console"]["thread_dumps"] >= 5
    stamps = [datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Europe/Berlin"))
              for m in re.findall(r"(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\nFull thread dump ",
                                  text)]
    assert [round(r["ts"].timestamp()) for r in threads] == [round(s.timestamp()) for s in stamps]
    res = scanned("console-threads")
    (stats,) = [i for i in res.inputs if Path(i.path).name == "console.log.gz"]
    assert stats.records >= t["counts"]["records"], (stats.records, t["counts"]["records"])


def test_the_heap_dump_the_jvm_wrote_is_named() -> None:
    """console-threads: HeapDumpOnOutOfMemoryError wrote a dump and said where ("Dumping
    heap to X ..."): the report's next step for the heap names that file rather than
    asking for a dump that already exists."""
    from logsleuth.reports.narrative import incident_paragraph

    text = _text("console-threads", "console.log.gz")
    (path,) = re.findall(r"(?m)^Dumping heap to (\S+) \.\.\.", text)
    assert truth("console-threads")["console"]["heap_dumps"] == 1
    res = scanned("console-threads")
    assert path in incident_paragraph(res)


def test_direct_buffer_gauge_is_discovered_in_bytes() -> None:
    """direct-buffers: the health line "NIO direct buffers: count=N memoryUsed=B
    totalCapacity=B" is no built-in definition; its memoryUsed is discovered as a gauge
    whose ceiling is the 16 MiB -XX:MaxDirectMemorySize, and the paragraph names it."""
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned("direct-buffers")
    inc: dict[str, Any] = res.incident.to_json()
    leak = _leak(inc, "direct-buffers")
    assert leak is not None, [lk["metric"] for lk in inc["leaks"]]
    assert "memoryUsed=" in next(g["example_text"] for g in res.tables["gauges"].to_pylist()
                                 if g["metric"] == leak["metric"])
    assert leak["projection"]["ceiling"]["value"] == 16 << 20
    assert leak["metric"] in incident_paragraph(res)


def test_a_step_of_the_live_set_is_seen_and_is_not_a_leak() -> None:
    """step-g1: the after-GC heap steps up by the 24 MiB cache at its load (medians of
    the samples 3 s either side of the step, away from it) and no leak is reported: the
    gauge is there, the step is in it, and it is still not a leak."""
    t = truth("step-g1")
    at = datetime.fromisoformat(t["step"]["at_utc"].replace("Z", "+00:00"))
    rows = _gauge_rows("step-g1", "jvm_heap_after_gc")
    before = sorted(r["value"] for r in rows if -6 <= (r["ts"] - at).total_seconds() < -1)
    after = sorted(r["value"] for r in rows if 3 < (r["ts"] - at).total_seconds() <= 8)
    assert len(before) >= 5 and len(after) >= 5, (len(before), len(after))
    rise = after[len(after) // 2] - before[len(before) // 2]
    assert abs(rise - t["step"]["bytes"]) <= 0.15 * t["step"]["bytes"], rise
    inc = scanned("step-g1").incident
    assert inc is None or not inc.to_json()["leaks"]
