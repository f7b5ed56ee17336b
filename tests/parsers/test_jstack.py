"""Thread-dump parser on real JDK 17 dumps (see tests/data/jstack_extra/README.md).

Expected values come from what ``Dumper.java`` does (which thread holds which
lock), not from the parser's output.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from logsleuth.model import Kind
from logsleuth.parsers.jstack import find_dumps, parse_thread_dumps, thread_state_records
from logsleuth.parsers.jstack_analysis import (
    blocked_per_dump,
    lock_graph,
    most_contended_lock,
    stuck_threads,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "jstack_extra"
CONTENDERS = {"nioEventLoopGroup-3-2", "nioEventLoopGroup-3-3", "nioEventLoopGroup-3-4"}


def _parse(name: str, **kw: object):
    return parse_thread_dumps((DATA / name).read_bytes(), name, **kw)  # type: ignore[arg-type]


def test_every_line_is_counted_and_real_dumps_parse_fully() -> None:
    for name in ("jstack_l_deadlock.txt", "jdk8_deadlock_public.txt",
                 "jdk21_carrier_public.txt", "console_kill3.log", "jcmd_thread_print.txt"):
        res = _parse(name)
        assert res.kind is Kind.THREAD_DUMP
        assert res.parsed_lines + res.unparsed_lines == res.lines
    assert _parse("jstack_l_deadlock.txt").unparsed_lines == 0
    assert _parse("jdk8_deadlock_public.txt").unparsed_lines == 0
    # jcmd: its "<pid>:" first line is jcmd's own output, part of the capture
    jcmd = _parse("jcmd_thread_print.txt")
    assert jcmd.unparsed_lines == 0


def test_blocked_monitor_owner_and_waiters() -> None:
    res = _parse("jstack_l_deadlock.txt")
    ts = res.tables["thread_states"].to_pandas()
    assert sorted(ts["dump_index"].unique()) == [0, 1]
    d0 = ts[ts["dump_index"] == 0]
    blocked = d0[d0["thread"].isin(CONTENDERS)]
    assert set(blocked["state"]) == {"BLOCKED"}
    assert set(blocked["state_detail"]) == {"on object monitor"}
    assert set(blocked["top_frame"]) == {"Dumper.contend(Dumper.java:16)"}
    monitor = blocked["blocked_on_lock"].iloc[0]
    assert re.fullmatch(r"0x[0-9a-f]{16}", monitor)
    holder = d0[d0["thread"] == "nioEventLoopGroup-3-1"].iloc[0]
    assert list(holder["locks_held"]) == [monitor]
    assert holder["state"] == "TIMED_WAITING" and pd.isna(holder["blocked_on_lock"])
    assert holder["priority"] == 5 and not holder["daemon"] and holder["cpu_ms"] > 0

    top = most_contended_lock(res.tables["locks"])
    assert top is not None
    assert (top.lock, top.owner, top.max_waiters, top.dumps) == (monitor, "nioEventLoopGroup-3-1",
                                                                 3, 2)
    assert top.owner_top_frame.startswith("java.lang.Thread.sleep(")


def test_reentrant_lock_owner_from_ownable_synchronizers() -> None:
    locks = _parse("jstack_l_deadlock.txt").tables["locks"].to_pandas()
    rl = locks[(locks["dump_index"] == 0) & locks["lock_class"].str.endswith("ReentrantLock$NonfairSync")]
    assert len(rl) == 1
    row = rl.iloc[0]
    # holdRl() runs on a thread named pool-1-thread-1, waitRl() on pool-1-thread-2
    assert row["owner"] == "pool-1-thread-1" and list(row["waiters"]) == ["pool-1-thread-2"]
    # executor workers await a Condition: a wait set, not contention
    cond = locks[(locks["dump_index"] == 0) & locks["lock_class"].str.endswith("ConditionObject")]
    assert set(cond.iloc[0]["wait_set"]) == {"pool-1-thread-1", "pool-1-thread-2"}
    assert cond.iloc[0]["n_waiters"] == 0


def test_object_wait_is_not_ownership() -> None:
    ts = _parse("jstack_l_deadlock.txt").tables["thread_states"].to_pandas()
    fin = ts[(ts["thread"] == "Finalizer") & (ts["dump_index"] == 0)].iloc[0]
    assert fin["waiting_on_lock"].startswith("0x") and list(fin["locks_held"]) == []


def test_deadlock_section_and_lock_graph_cycle() -> None:
    res = _parse("jstack_l_deadlock.txt")
    dl = res.tables["deadlocks"].to_pandas()
    assert len(dl) == 2  # once per dump
    assert sorted(dl.iloc[0]["threads"]) == ["deadlock-A", "deadlock-B"]
    assert len(set(dl.iloc[0]["locks"])) == 2
    assert dl.iloc[0]["text"].startswith("Found one Java-level deadlock:")
    g = lock_graph(res.tables["locks"])
    g0 = g[(g["dump_index"] == 0) & g["waiter"].str.startswith("deadlock")]
    waits_for = dict(zip(g0["waiter"], g0["owner"], strict=True))
    assert waits_for == {"deadlock-A": "deadlock-B", "deadlock-B": "deadlock-A"}


def test_jdk8_shape_and_deadlock() -> None:
    res = _parse("jdk8_deadlock_public.txt")
    ts = res.tables["thread_states"].to_pandas()
    assert len(ts) == 18  # 13 Java threads + VM Thread, 4 GC task threads, VM Periodic
    t1 = ts[ts["thread"] == "Thread-1"].iloc[0]
    assert t1["nid"] == 0xD560 and t1["thread_no"] == 12 and pd.isna(t1["cpu_ms"])
    assert t1["blocked_on_lock"] == "0x000000076b437618"
    gc = ts[ts["thread"] == "GC task thread#0 (ParallelGC)"].iloc[0]
    assert pd.isna(gc["state"]) and gc["status"] == "runnable" and pd.isna(gc["priority"])
    assert res.tables["thread_states"].column("ts")[0].as_py() == datetime(2021, 4, 6, 19, 25,
                                                                           tzinfo=UTC)
    dl = res.tables["deadlocks"].to_pylist()
    assert dl[0]["threads"] == ["Thread-1", "Thread-0"]


def test_jdk21_carrier_and_virtual_thread_without_banner() -> None:
    ts = _parse("jdk21_carrier_public.txt").tables["thread_states"].to_pandas()
    carrier, vt = ts.iloc[0], ts.iloc[1]
    assert carrier["nid"] == 32859 and carrier["carrying_virtual"] == 7284 and carrier["daemon"]
    assert vt["virtual"] and vt["thread_no"] == 7284 and vt["thread"] == "TPCCWorker<7185>"
    assert vt["top_frame"] == "java.base/java.lang.Object.wait0(Native Method)"
    assert len(vt["frames"]) == 12


def test_find_dumps_carves_kill3_out_of_console_log() -> None:
    text = (DATA / "console_kill3.log").read_text()
    lines = text.split("\n")
    ranges = find_dumps(text)
    assert len(ranges) == 2
    app_line = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} INFO ")
    for a, b in ranges:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", lines[a])
        assert lines[a + 1].startswith("Full thread dump OpenJDK")
        assert lines[b - 1].lstrip().startswith("class space")  # end of the heap summary
        assert app_line.match(lines[a - 1])
        assert all(app_line.match(x) for x in lines[b:b + 3] if x.strip())
    outside = [x for i, x in enumerate(lines)
               if not any(a <= i < b for a, b in ranges) and x.strip()]
    assert outside[0] == "ready" and all(app_line.match(x) for x in outside[1:])


def test_timezone_default_and_unknown() -> None:
    berlin = _parse("jstack_l_deadlock.txt", default_tz="Europe/Berlin")
    first = berlin.tables["thread_states"].column("ts")[0].as_py()
    assert first == datetime(2026, 11, 26, 8, 59, 41, tzinfo=UTC)  # 09:59:41 CET
    assert berlin.timezone == "Europe/Berlin" and not berlin.notes
    unknown = _parse("jstack_l_deadlock.txt")
    assert unknown.timezone is None and unknown.notes


def test_truncated_dump_parses_what_is_there() -> None:
    data = (DATA / "jstack_l_deadlock.txt").read_bytes()
    cut = data[: data.index(b'"nioEventLoopGroup-3-3"') + 200]  # inside that thread's block
    res = parse_thread_dumps(cut, "cut.txt")
    names = res.tables["thread_states"].column("thread").to_pylist()
    assert names[-1] == "nioEventLoopGroup-3-3" and "nioEventLoopGroup-3-4" not in names
    assert res.parsed_lines + res.unparsed_lines == res.lines


def test_derived_views() -> None:
    res = _parse("console_kill3.log")
    per = blocked_per_dump(res.tables["thread_states"])
    assert list(per["BLOCKED"]) == [5, 5]  # 3 contenders + 2 deadlocked threads
    stuck = stuck_threads(res.tables["thread_states"])
    # Reference Handler really is RUNNABLE in the same native frame in both dumps
    assert set(stuck["thread"]) == CONTENDERS | {"deadlock-A", "deadlock-B", "Reference Handler"}
    assert set(stuck["dumps"]) == {2}
    everything = stuck_threads(res.tables["thread_states"], states=None)
    assert "main" in set(everything["thread"])  # sleeping in Dumper.main both times


@pytest.mark.parametrize("state", ["BLOCKED"])
def test_thread_state_records_for_rules(state: str) -> None:
    t = _parse("jstack_l_deadlock.txt").tables["thread_states"]
    recs = [r for r in thread_state_records(t) if r.fields.get("state") == state]
    assert len(recs) == 10  # 5 per dump
    r = next(r for r in recs if r.thread == "nioEventLoopGroup-3-2")
    assert r.kind is Kind.THREAD_DUMP and r.fields["blocked_on_lock"].startswith("0x")
    assert r.message == '"nioEventLoopGroup-3-2" BLOCKED at Dumper.contend(Dumper.java:16)'
    assert r.ts_ms is not None and r.line > 0


def test_jcmd_dumps_appended_to_one_file_count_every_line_once() -> None:
    """``jcmd <pid> Thread.print >> threads.txt`` in a loop: each dump opens with "<pid>:"
    and its stamp; the walk of one dump must not take the next one's opening lines, or
    they are counted twice (records past the file's line count)."""
    from itertools import pairwise

    from logsleuth.parsers.jstack import find_dumps, parse_thread_dumps

    one = ("{pid}:\n2026-12-06 14:29:{s:02d}\n"
           "Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):\n\n"
           '"main" #1 prio=5 os_prio=0 cpu=341.22ms elapsed=2.75s tid=0x00007f6310018d70 '
           "nid=0x6621 waiting on condition  [0x00007f631651e000]\n"
           "   java.lang.Thread.State: TIMED_WAITING (parking)\n"
           "\tat jdk.internal.misc.Unsafe.park(java.base@17.0.15/Native Method)\n\n"
           "JNI global refs: 13, weak refs: 0\n\n")
    text = "".join(one.format(pid=26144, s=s) for s in (26, 28, 31))
    ranges = find_dumps(text)
    assert [a for a, _ in ranges] == [0, 10, 20], ranges
    assert all(b <= a2 for (_, b), (a2, _) in pairwise(ranges))
    res = parse_thread_dumps(text.encode(), "threads.txt")
    assert res.parsed_lines + res.unparsed_lines == text.count("\n")
    assert res.tables["metrics"]["value"].to_pylist() == [1.0, 1.0, 1.0]
