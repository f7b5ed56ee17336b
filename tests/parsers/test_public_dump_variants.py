"""A thread-dump variant the public corpus lacked (issue 19): `jstack -l` of a JDK 21.0.9
JVM on macOS (tests/data/public/dumps/tda-jdk21-macos-jstack-l.txt, SOURCES.md): the OS
thread id in brackets after `#N`, a *decimal* `nid`, `os_prio=31`, `Locked ownable
synchronizers` under every Java thread, and 16 VM threads without a `#N`.

Every figure was read off the file by eye and written before the parser was run on it:
28 threads listed (the SMR list names the 12 Java threads; the 16 GC/VM threads are OS
threads too, and `ulimit -u` counts every one), so the live-thread gauge is 28; states
RUNNABLE 10, WAITING 1, TIMED_WAITING 1 and none on the 16 VM threads; the JVM start is
the dump time less the oldest thread's elapsed time (`VM Thread`, 25574.12 s).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from logsleuth.model import Kind
from logsleuth.parsers.classify import classify
from logsleuth.parsers.jstack import parse_thread_dumps
from logsleuth.parsers.jstack_analysis import THREADS

DUMPS = Path(__file__).resolve().parents[1] / "data" / "public" / "dumps"
NAME = "tda-jdk21-macos-jstack-l.txt"


def test_jdk21_macos_jstack_with_os_thread_ids_and_decimal_nids() -> None:
    data = (DUMPS / NAME).read_bytes()
    assert classify(data[:65536], name=NAME) is Kind.THREAD_DUMP
    res = parse_thread_dumps(data, NAME, default_tz=UTC)
    assert res.parsed_lines + res.unparsed_lines == res.lines and res.unparsed_lines == 0
    rows = res.tables["thread_states"].to_pylist()
    t = {r["thread"]: r for r in rows}
    assert len(rows) == len(t) == 28
    assert Counter(r["state"] for r in rows) == {
        "RUNNABLE": 10, "WAITING": 1, "TIMED_WAITING": 1, None: 16}
    assert {r["ts"] for r in rows} == {datetime(2026, 1, 20, 17, 29, 40, tzinfo=UTC)}
    ref = t["Reference Handler"]
    assert (ref["thread_no"], ref["nid"], ref["daemon"]) == (9, 30467, True)
    assert t["GC Thread#0"]["nid"] == 12803 and t["DestroyJavaVM"]["daemon"] is False
    assert t["Attach Listener"]["elapsed_s"] == 99.69
    loop = t["JPS event loop"]
    assert loop["top_frame"] == "sun.nio.ch.KQueue.poll(java.base@21.0.9/Native Method)"
    assert set(loop["locks_held"]) == {"0x000000034b310400", "0x000000034b3103a8",
                                      "0x000000034b314548"}
    assert t["Finalizer"]["waiting_on_lock"] == "0x000000034b3000f0"
    gauge = res.tables["metrics"].to_pylist()
    assert [(g["metric"], g["value"]) for g in gauge] == [(THREADS, 28.0)]


def test_the_dump_implies_the_jvm_start() -> None:
    from logsleuth.engine.jvmstart import jvm_start_from_dumps
    from logsleuth.engine.planner import LayoutChoice, plan_inputs
    from logsleuth.parsers.classify import KindOverrides
    from logsleuth.sources import discover

    planned = plan_inputs(discover([DUMPS / NAME]).sources, LayoutChoice(),
                          KindOverrides.parse([]), [], UTC)
    start = jvm_start_from_dumps(planned, UTC, [])
    assert start is not None
    dumped = datetime(2026, 1, 20, 17, 29, 40, tzinfo=UTC).timestamp() * 1000
    assert start.ms == round(dumped - 25574.12 * 1000)
