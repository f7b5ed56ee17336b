"""GC log parser on real JDK 17 output and on JDK 8 / JDK 21 logs written from the docs.

Expected values are read off the log lines themselves (by independent string
handling in the test, or by hand for the hand-written files), never copied from
the parser's output.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from logsleuth.model import Kind
from logsleuth.parsers.gc import (
    GC_EVENTS_SCHEMA,
    SAFEPOINTS_SCHEMA,
    gc_events_to_records,
    parse_gc_log,
    sniff_gc_log,
)

DATA = Path(__file__).resolve().parents[1] / "data"
EXTRA = DATA / "gc_extra"
REAL = sorted(EXTRA.glob("jdk17_*.log")) + sorted((DATA / "gc").glob("*.log"))
ALL = sorted(EXTRA.glob("*.log")) + sorted((DATA / "gc").glob("*.log"))
UL_PREFIX = re.compile(r"^(?:\[[^\]]*\])+ ?")


def _parse(path: Path, **kw: object):
    return parse_gc_log(path.read_bytes(), path.name, **kw)  # type: ignore[arg-type]


def _events(path: Path, **kw: object) -> list[dict]:
    return _parse(path, **kw).tables["gc_events"].to_pylist()


def _kb(s: str) -> int:
    return round(float(s[:-1]) * {"K": 1, "M": 1024, "G": 1024 * 1024}[s[-1]])


def _iso_ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


# ---------------------------------------------------------------- every real log file


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_log_coverage_and_line_numbers(path: Path) -> None:
    res = _parse(path)
    text_lines = path.read_text("utf-8").splitlines()
    assert res.kind is Kind.GC_LOG
    assert res.lines == len(text_lines)
    assert res.parsed_lines + res.unparsed_lines == res.lines
    assert res.parsed_lines >= 0.995 * res.lines, res.unparsed_samples
    rows = res.tables["gc_events"].to_pylist()
    assert rows, "a real GC log has events"
    for r in rows:
        assert text_lines[r["line"] - 1].endswith(r["message"])  # reported on its own line
        if r["pause_ms"] is not None:
            assert r["pause_ms"] >= 0 and r["kind"] not in ("concurrent", "cycle", "phase")
    assert sniff_gc_log(path.read_text("utf-8")[:4096])


@pytest.mark.parametrize(
    ("name", "collector"),
    [("jdk17_g1_time_uptime_level_tags.log", "G1"),
     ("jdk17_parallel_uptime_level_tags.log", "Parallel"),
     ("jdk17_serial_default.log", "Serial"),
     ("jdk17_zgc_time_uptimenanos_level_tags.log", "ZGC"),
     ("jdk17_shenandoah_uptime_tags_level.log", "Shenandoah"),
     ("jdk17_parallel_gc_none.log", "Parallel")],
)
def test_collector_named(name: str, collector: str) -> None:
    rows = _events(EXTRA / name)
    assert {r["collector"] for r in rows} == {collector}


# ---------------------------------------------------------------- unified logging


def test_g1_pause_lines_match_log_text() -> None:
    path = EXTRA / "jdk17_g1_time_uptime_level_tags.log"
    lines = path.read_text().splitlines()
    pause_lines = {i + 1: ln for i, ln in enumerate(lines)
                   if re.search(r"GC\(\d+\) Pause (Young|Full|Remark|Cleanup).*->.* [\d.]+ms$", ln)}
    rows = _events(path)
    pauses = {r["line"]: r for r in rows if r["pause_ms"] is not None}
    assert set(pauses) == set(pause_lines)
    for n, ln in pause_lines.items():
        r = pauses[n]
        heap, ms = ln.rsplit(" ", 2)[-2:]
        before, rest = heap.split("->")
        after, cap = rest.rstrip(")").split("(")
        assert (r["heap_before_kb"], r["heap_after_kb"], r["heap_capacity_kb"]) == (
            _kb(before), _kb(after), _kb(cap))
        assert r["pause_ms"] == pytest.approx(float(ms[:-2]))
        iso = ln[1:ln.index("]")]
        assert int(r["ts"].timestamp() * 1000) == _iso_ms(iso)
        assert r["gc_id"] == int(re.search(r"GC\((\d+)\)", ln)[1])
        if "Pause Young (Normal) (G1 Evacuation Pause)" in ln:
            assert (r["kind"], r["phase"], r["cause"]) == (
                "young", "Pause Young (Normal)", "G1 Evacuation Pause")
        if "Pause Full (System.gc())" in ln:
            assert (r["kind"], r["cause"], r["is_full"]) == ("full", "System.gc()", True)
    concurrent = [r for r in rows if r["phase"] == "Concurrent Mark Cycle"]
    assert concurrent and all(r["pause_ms"] is None and r["duration_ms"] > 0 for r in concurrent)
    assert _parse(path).timezone == "UTC"


def test_utctime_uptimemillis_pid_tid_and_safepoints() -> None:
    path = EXTRA / "jdk17_g1_safepoint_utctime_uptimemillis_pid_tid.log"
    res = _parse(path)
    lines = path.read_text().splitlines()
    safe = [(i + 1, ln) for i, ln in enumerate(lines) if 'Safepoint "' in ln]
    table = res.tables["safepoints"].to_pylist()
    assert [r["line"] for r in table] == [n for n, _ in safe]
    first = safe[0][1]
    assert table[0]["operation"] == first.split('"')[1]
    total_ns = int(re.search(r"Total: (\d+) ns", first)[1])
    assert table[0]["total_ms"] == pytest.approx(total_ns / 1e6)
    uptime = int(re.search(r"\]\[(\d+)ms\]", first)[1])
    assert table[0]["uptime_ms"] == uptime
    assert res.timezone == "UTC"
    ev = res.tables["gc_events"].to_pylist()[0]
    ln = lines[ev["line"] - 1]
    assert int(ev["ts"].timestamp() * 1000) == _iso_ms(ln[1:ln.index("]")])


def test_uptime_only_not_anchored_then_anchored() -> None:
    path = EXTRA / "jdk17_parallel_uptime_level_tags.log"
    res = _parse(path)
    rows = res.tables["gc_events"].to_pylist()
    assert all(r["ts"] is None for r in rows)
    assert any("uptime-only, not anchored" in n for n in res.notes)
    start = 1_795_000_000_000
    anchored = _events(path, jvm_start_ms=start)
    for r in anchored:
        assert int(r["ts"].timestamp() * 1000) == start + round(r["uptime_ms"])
    full = [r for r in anchored if r["is_full"]]
    assert full and all(r["phase"] == "Pause Full" for r in full)
    assert {r["phase"] for r in anchored if r["kind"] == "phase"} >= {"Marking Phase"}


def test_decorations_change_midway_anchor_uptime_only_half() -> None:
    """Second half written without ``time``: placed via start = time - uptime of the first."""
    path = EXTRA / "jdk17_g1_time_uptime_level_tags.log"
    lines = path.read_text().splitlines(keepends=True)
    half = len(lines) // 2
    second = [re.sub(r"^\[[^\]]*\]", "", ln) for ln in lines[half:half + 300]]
    def millis(m: re.Match[str]) -> str:
        return f"[{int(m[1]) * 1000 + int(m[2])}ms][4242]"

    third = [re.sub(r"^\[[^\]]*\]\[(\d+)\.(\d{3})s\]", millis, ln) for ln in lines[half + 300:]]
    res = parse_gc_log("".join(lines[:half] + second + third).encode(), "mixed.log")
    original = {r["line"]: r for r in _events(path)}
    mixed = res.tables["gc_events"].to_pylist()
    assert res.parsed_lines == res.lines
    assert len(mixed) == len(original)
    assert any(r["line"] > half + 300 for r in mixed)
    for r in mixed:
        want = original[r["line"]]
        assert r["uptime_ms"] == pytest.approx(want["uptime_ms"])
        # both clocks print whole milliseconds: the anchored time is within 1 ms
        assert abs((r["ts"] - want["ts"]).total_seconds()) <= 0.001
    assert res.timezone == "UTC"


def test_zgc_cycles_stalls_and_capacity() -> None:
    path = EXTRA / "jdk17_zgc_time_uptimenanos_level_tags.log"
    lines = path.read_text().splitlines()
    rows = _events(path)
    stall_re = re.compile(r"\] (Allocation|Relocation) Stall \(")
    stalls = [i + 1 for i, ln in enumerate(lines) if stall_re.search(ln)]
    assert [r["line"] for r in rows if r["kind"] == "stall"] == stalls
    starts: dict[int, int] = {}
    for ln in lines:
        m = re.search(r"\]\[(\d+)ns\].*GC\((\d+)\) Garbage Collection \(.*\)$", ln)
        if m and "->" not in ln:
            starts[int(m[2])] = int(m[1])
    cycles = [r for r in rows if r["phase"] == "Garbage Collection"]
    assert cycles
    for r in cycles:
        ln = lines[r["line"] - 1]
        end_ns = int(re.search(r"\]\[(\d+)ns\]", ln)[1])
        assert r["duration_ms"] == pytest.approx((end_ns - starts[r["gc_id"]]) / 1e6, abs=1e-3)
        before = re.search(r" (\d+)M\(\d+%\)->(\d+)M", ln)
        assert (r["heap_before_kb"], r["heap_after_kb"]) == (
            int(before[1]) * 1024, int(before[2]) * 1024)
        assert r["pause_ms"] is None and r["kind"] == "cycle"
        assert r["cause"] == re.search(r"Garbage Collection \((.*)\) ", ln)[1]
        assert r["heap_capacity_kb"] == 64 * 1024  # -Xmx64m, the heap never shrinks in ZGC
    pauses = [r for r in rows if r["phase"] == "Pause Mark Start"]
    assert pauses and all(r["pause_ms"] is not None for r in pauses)


def test_shenandoah_trigger_becomes_cause() -> None:
    path = EXTRA / "jdk17_shenandoah_uptime_tags_level.log"
    lines = path.read_text().splitlines()
    rows = _events(path)
    first_pause = next(r for r in rows if r["phase"].startswith("Pause Init Mark"))
    trigger = next(ln for ln in lines[: first_pause["line"]][::-1] if "Trigger: " in ln)
    assert first_pause["cause"] == trigger.split("Trigger: ", 1)[1]
    assert first_pause["kind"] == "pause-other" and first_pause["pause_ms"] is not None


def test_bare_none_decorations() -> None:
    path = EXTRA / "jdk17_parallel_gc_none.log"
    res = _parse(path)
    lines = path.read_text().splitlines()
    rows = res.tables["gc_events"].to_pylist()
    assert len(rows) == sum(1 for ln in lines if ln.startswith("GC(") and ln.endswith("ms"))
    assert all(r["ts"] is None and r["uptime_ms"] is None for r in rows)
    assert any("no time decorations" in n for n in res.notes)


def test_generational_zgc() -> None:
    rows = _events(EXTRA / "jdk21_zgc_generational_uptime.log", jvm_start_ms=1_000_000)
    by_phase = {(r["gc_id"], r["phase"]): r for r in rows}
    minor = by_phase[(0, "Minor Collection")]
    assert (minor["kind"], minor["cause"]) == ("cycle", "Allocation Rate")
    assert minor["duration_ms"] == 13.0
    assert (minor["heap_before_kb"], minor["heap_after_kb"]) == (120 * 1024, 30 * 1024)
    major = by_phase[(1, "Major Collection")]
    assert (major["cause"], major["duration_ms"], major["heap_after_kb"]) == (
        "Allocation Stall", 61.0, 60 * 1024)
    assert by_phase[(1, "O: Old Generation")]["duration_ms"] == 43.0
    assert by_phase[(1, "Y: Pause Mark Start (Major)")]["pause_ms"] == 0.010
    assert by_phase[(1, "O: Concurrent Mark")]["pause_ms"] is None
    stall = next(r for r in rows if r["kind"] == "stall")
    assert stall["duration_ms"] == 3.25 and stall["gc_id"] is None
    assert int(minor["ts"].timestamp() * 1000) == 1_000_000 + 525


# ---------------------------------------------------------------- damaged and mixed input


def test_truncated_last_line() -> None:
    path = EXTRA / "jdk17_g1_time_uptime_level_tags.log"
    data = path.read_bytes()
    cut = data.rindex(b"Pause Young (Normal) (G1 Evacuation Pause) ") + 50  # inside "6M->1M(..."
    res = parse_gc_log(data[:cut], "cut.log")
    full = _events(path)
    last_line = data[:cut].count(b"\n") + 1
    rows = res.tables["gc_events"].to_pylist()
    assert all(r["line"] < last_line for r in rows)
    assert len(rows) == sum(1 for r in full if r["line"] < last_line)
    assert res.lines == last_line and res.unparsed_lines == 1
    assert res.unparsed_samples[-1][0] == last_line
    assert any("no newline" in n for n in res.notes)


def test_interleaved_non_gc_lines_are_unparsed() -> None:
    path = EXTRA / "jdk17_g1_time_uptime_level_tags.log"
    lines = path.read_text().splitlines(keepends=True)
    intruders = {
        10: ["2026-11-26 10:00:00,123 INFO  [main] com.acme.App - started\n"],
        200: ["[0.512s][info][class,load] java.lang.Object source: shared objects file\n",
              "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n",
              "\tat com.acme.App.main(App.java:12)\n"],
    }
    out = []
    for i, ln in enumerate(lines, 1):
        out.append(ln)
        out.extend(intruders.get(i, []))
    res = parse_gc_log("".join(out).encode(), "mixed.log")
    assert res.unparsed_lines == 4
    assert [n for n, _ in res.unparsed_samples] == [11, 202, 203, 204]
    assert res.unparsed_samples[0][1] == intruders[10][0].rstrip("\n")
    assert res.tables["gc_events"].num_rows == len(_events(path))


def test_non_utf8_bytes_survive() -> None:
    data = (EXTRA / "jdk17_serial_default.log").read_bytes() + "Grüße aus der App\n".encode()
    res = parse_gc_log(data, "x.log")
    assert res.unparsed_samples == [(res.lines, "Grüße aus der App")]


# ---------------------------------------------------------------- JDK 8 (hand-written)


def test_jdk8_parallel_datestamps() -> None:
    res = _parse(EXTRA / "jdk8_parallel_datestamps.log")
    rows = res.tables["gc_events"].to_pylist()
    assert res.parsed_lines == res.lines == 20
    assert res.timezone == "+01:00"
    first = rows[0]
    assert (first["line"], first["kind"], first["cause"]) == (4, "young", "Allocation Failure")
    assert (first["heap_before_kb"], first["heap_after_kb"], first["heap_capacity_kb"]) == (
        33280, 5096, 125952)
    assert first["pause_ms"] == pytest.approx(4.319)
    assert first["ts"] == datetime(2026, 11, 26, 2, 0, 1, 234000, tzinfo=UTC)
    assert first["uptime_ms"] == 12345.0
    fulls = [(r["cause"], r["heap_before_kb"], r["heap_after_kb"]) for r in rows if r["is_full"]]
    assert fulls == [("Ergonomics", 12480, 12100), ("System.gc()", 13124, 4960),
                     ("Metadata GC Threshold", 6960, 6500)]
    sp = res.tables["safepoints"].to_pylist()
    assert len(sp) == 1 and sp[0]["total_ms"] == pytest.approx(4.4321)
    assert sp[0]["reaching_ms"] == pytest.approx(0.021) and sp[0]["line"] == 5


def test_jdk8_serial_timestamps_only() -> None:
    path = EXTRA / "jdk8_serial_timestamps.log"
    rows = _events(path)
    assert [(r["kind"], r["heap_before_kb"], r["heap_after_kb"]) for r in rows] == [
        ("young", 8704, 3245), ("young", 11949, 6890), ("young", 28792, 15000),
        ("full", 17000, 9000)]
    assert [r["duration_ms"] for r in rows] == pytest.approx([6.6123, 7.15, 41.1, 30.1])
    assert all(r["ts"] is None for r in rows)
    anchored = _events(path, jvm_start_ms=1_795_000_000_000)
    assert int(anchored[0]["ts"].timestamp() * 1000) == 1_795_000_000_412


def test_jdk8_cms_phases_and_concurrent_mode_failure() -> None:
    rows = _events(EXTRA / "jdk8_cms_datestamps.log")
    assert [(r["line"], r["kind"], r["phase"]) for r in rows] == [
        (2, "young", "Pause Young"), (3, "pause-other", "Pause Initial Mark"),
        (5, "concurrent", "Concurrent mark"), (7, "concurrent", "Concurrent preclean"),
        (9, "concurrent", "Concurrent abortable-preclean"), (10, "remark", "Pause Remark"),
        (12, "concurrent", "Concurrent sweep"), (14, "concurrent", "Concurrent reset"),
        # line 15 also carries a CMS-concurrent-mark printed into the middle of the pause
        (15, "full", "Pause Full"), (15, "concurrent", "Concurrent mark"),
        (17, "full", "Pause Full")]
    assert rows[9]["duration_ms"] == pytest.approx(210.0)
    assert rows[4]["duration_ms"] == pytest.approx(248.0) and rows[4]["pause_ms"] is None
    assert (rows[5]["heap_after_kb"], rows[5]["pause_ms"]) == (81296, pytest.approx(14.0))
    cmf = rows[8]
    assert (cmf["cause"], cmf["heap_before_kb"], cmf["heap_after_kb"]) == (
        "Allocation Failure", 248656, 120000)
    assert cmf["pause_ms"] == pytest.approx(900.1) and cmf["is_full"]


def test_jdk8_g1_multiline_blocks() -> None:
    res = _parse(EXTRA / "jdk8_g1_details.log")
    rows = res.tables["gc_events"].to_pylist()
    assert res.parsed_lines == res.lines
    got = [(r["line"], r["kind"], r["phase"], r["cause"]) for r in rows]
    assert got == [
        (2, "young", "Pause Young (Normal)", "G1 Evacuation Pause"),
        (29, "young", "Pause Young (Concurrent Start)", "G1 Humongous Allocation"),
        (35, "concurrent", "Concurrent root-region-scan", None),
        (37, "concurrent", "Concurrent mark", None),
        (38, "remark", "Pause Remark", None),
        (40, "cleanup", "Pause Cleanup", None),
        (43, "concurrent", "Concurrent cleanup", None),
        (44, "mixed", "Pause Young (Mixed)", "G1 Evacuation Pause"),
        (49, "full", "Pause Full", "System.gc()"),
    ]
    heaps = [(r["heap_before_kb"], r["heap_after_kb"], r["heap_capacity_kb"]) for r in rows]
    assert heaps[0] == (24 * 1024, 3500, 256 * 1024)  # from the [Eden: ... Heap: ...] line
    assert heaps[1] == (150 * 1024, 141 * 1024, 256 * 1024)
    assert heaps[7] == (160 * 1024, 110 * 1024, 256 * 1024)
    assert heaps[8] == (120 * 1024, 80 * 1024, 256 * 1024)
    assert rows[4]["pause_ms"] == pytest.approx(3.0)  # not the nested ref-proc 0.2 ms


def test_jdk8_print_gc_without_stamps_and_default_tz() -> None:
    text = ("2026-11-26T03:00:01.234: 12.345: [GC (Allocation Failure)  33280K->5096K(125952K), "
            "0.0043190 secs]\n[Full GC (System.gc())  5096K->4000K(125952K), 0.0200000 secs]\n")
    res = parse_gc_log(text.encode(), "x.log", default_tz=ZoneInfo("Europe/Berlin"))
    rows = res.tables["gc_events"].to_pylist()
    assert rows[0]["ts"] == datetime(2026, 11, 26, 2, 0, 1, 234000, tzinfo=UTC)
    assert (rows[1]["is_full"], rows[1]["ts"], rows[1]["heap_after_kb"]) == (True, None, 4000)
    assert res.parsed_lines == 2


# ---------------------------------------------------------------- sniffing and records


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_sniff_true_for_gc_logs(path: Path) -> None:
    assert sniff_gc_log(path.read_text("utf-8", "replace")[:2048])


@pytest.mark.parametrize("head", [
    "2026-11-26 10:00:00,123 INFO  [main] com.acme.App - [GC] cache warmed\n",
    '10.0.0.1 - - [26/Nov/2026:10:00:00 +0100] "GET /ws HTTP/1.1" 502 157 "-" "curl"\n',
    '2026-11-26 10:00:00\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n'
    '"main" #1 prio=5 os_prio=0 cpu=1.00ms elapsed=1.00s tid=0x1 nid=0x2 runnable\n',
    "",
])
def test_sniff_false_for_other_logs(head: str) -> None:
    assert not sniff_gc_log(head)


def test_records_mapping_supports_rules() -> None:
    res = _parse(EXTRA / "jdk8_parallel_datestamps.log")
    records = gc_events_to_records(res.tables["gc_events"])
    assert len(records) == 7 and all(r.kind is Kind.GC_LOG for r in records)
    sysgc_full = [r for r in records
                  if r.fields["cause"] == "System.gc()" and r.fields["is_full"] == "true"]
    assert [r.line for r in sysgc_full] == [9]
    assert "[Full GC (System.gc())" in sysgc_full[0].message
    assert sysgc_full[0].time == datetime(2026, 11, 26, 3, 0, 4, 2000,
                                          tzinfo=timezone(timedelta(hours=1)))
    slow = [r for r in records if float(r.fields["pause_ms"]) > 40]
    assert [r.line for r in slow] == [11]
    assert "gc_id" not in records[0].fields  # JDK 8 has no GC ids: absent, not "None"


@pytest.mark.parametrize(("message", "phase", "cause", "kind"), [
    # JDK 17 G1: young type kept in the phase, the cause split off
    ("Pause Young (Normal) (G1 Evacuation Pause) 6M->1M(128M) 9.102ms",
     "Pause Young (Normal)", "G1 Evacuation Pause", "young"),
    # JDK 21 G1 appends the evacuation failure: it stays in the phase, not the cause
    ("Pause Young (Mixed) (G1 Evacuation Pause) (Evacuation Failure: Allocation) "
     "100M->99M(128M) 30.5ms",
     "Pause Young (Mixed) (Evacuation Failure: Allocation)", "G1 Evacuation Pause", "mixed"),
    # JDK 11 G1 had no young type
    ("Pause Young (G1 Evacuation Pause) 6M->1M(128M) 9.1ms", "Pause Young", "G1 Evacuation Pause",
     "young"),
    ("Pause Initial Mark (G1 Humongous Allocation) 60M->50M(128M) 2.0ms", "Pause Initial Mark",
     "G1 Humongous Allocation", "young"),
    ("Pause Degenerated GC (Mark) 120M->100M(128M) 35.2ms", "Pause Degenerated GC (Mark)", None,
     "degenerated"),
    ("Pause Full (G1 Compaction Pause) 127M->90M(128M) 250.0ms", "Pause Full",
     "G1 Compaction Pause", "full"),
])
def test_unified_names_split_into_phase_cause_kind(message: str, phase: str, cause: str | None,
                                                   kind: str) -> None:
    line = f"[2026-11-26T10:00:00.000+0100][5.000s][info][gc] GC(7) {message}\r\n"
    res = parse_gc_log(line.encode(), "one.log")
    (row,) = res.tables["gc_events"].to_pylist()
    assert (row["phase"], row["cause"], row["kind"]) == (phase, cause, kind)
    assert row["pause_ms"] == float(message.rsplit(" ", 1)[1][:-2])
    assert row["ts"] == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert res.timezone == "+01:00" and res.parsed_lines == 1


def test_crlf_line_endings() -> None:
    path = EXTRA / "jdk8_parallel_datestamps.log"
    crlf = path.read_bytes().replace(b"\n", b"\r\n")
    res = parse_gc_log(crlf, "crlf.log")
    want = _events(path)
    got = res.tables["gc_events"].to_pylist()
    assert [(r["line"], r["heap_after_kb"], r["cause"]) for r in got] == [
        (r["line"], r["heap_after_kb"], r["cause"]) for r in want]
    assert res.parsed_lines == res.lines
    ul = (EXTRA / "jdk17_g1_time_uptime_level_tags.log").read_bytes()
    res = parse_gc_log(ul.replace(b"\n", b"\r\n"), "crlf.log")
    assert res.tables["gc_events"].num_rows == len(
        _events(EXTRA / "jdk17_g1_time_uptime_level_tags.log"))
    assert not any(r["message"].endswith("\r") for r in res.tables["gc_events"].to_pylist())


def test_anchor_from_a_non_event_line_with_both_clocks() -> None:
    """Only the init lines carry ``time``: every event is placed via start = time - uptime."""
    path = EXTRA / "jdk17_g1_time_uptime_level_tags.log"
    lines = path.read_text().splitlines(keepends=True)
    first_event = min(r["line"] for r in _events(path))
    head = lines[: first_event - 5]
    rest = [re.sub(r"^\[[^\]]*\]", "", ln) for ln in lines[first_event - 5:]]
    res = parse_gc_log("".join(head + rest).encode(), "late.log")
    rows = res.tables["gc_events"].to_pylist()
    first = head[0]
    start = _iso_ms(first[1:first.index("]")]) - round(
        float(re.match(r"\[[^\]]*\]\[(\d+\.\d+)s\]", first)[1]) * 1000)
    for r in rows:
        assert int(r["ts"].timestamp() * 1000) == start + round(r["uptime_ms"])
    original = {r["line"]: r["ts"] for r in _events(path)}
    assert all(abs((r["ts"] - original[r["line"]]).total_seconds()) <= 0.001 for r in rows)
    assert not any("not anchored" in n for n in res.notes)


def test_foreign_tag_sets_and_decorations() -> None:
    text = (
        "[2026-11-26T10:00:00.000+0000][0.100s][info][gc] Using G1\n"
        "[2026-11-26T10:00:00.001+0000][0.101s][info][class,load] java.lang.Object\n"
        "[class,init] 12 Initializing 'java/lang/String'\n"
        "[2026-11-26T10:00:00.002+0000][0.102s][info][gc,heap,exit] Heap\n"
        "[2026-11-26T10:00:00.003+0000][0.103s][info][safepoint] Safepoint \"Cleanup\", "
        "Time since last: 1000 ns, Reaching safepoint: 2000 ns, At safepoint: 3000 ns, "
        "Total: 5000 ns\n"
        "  indented stray text\n"
    )
    res = parse_gc_log(text.encode(), "x.log")
    assert [n for n, _ in res.unparsed_samples] == [2, 3, 6]
    (sp,) = res.tables["safepoints"].to_pylist()
    assert (sp["operation"], sp["reaching_ms"], sp["at_safepoint_ms"], sp["total_ms"]) == (
        "Cleanup", 0.002, 0.003, 0.005)
    assert sp["line"] == 5 and sp["uptime_ms"] == 103.0


def test_diagnostics_are_located() -> None:
    data = (EXTRA / "jdk8_serial_timestamps.log").read_bytes()
    data = data.replace(b"Heap\n", b"app says hello\nHeap\n") + b"1.500: [GC (Allocation Fai"
    res = parse_gc_log(data, "gc/old.log")
    rendered = [d.render() for d in res.diagnostics]
    assert rendered == [
        "gc/old.log:8:1: warning[GC001]: 2 of 18 lines are not GC log output; first one here",
        "gc/old.log:18:27: warning[GC002]: last line has no newline: the log was cut short",
    ]
    assert [n for n, _ in res.unparsed_samples] == [8, 18]


def test_collector_from_jdk8_command_line_flags() -> None:
    text = ("CommandLine flags: -XX:+PrintGCDetails -XX:+UseSerialGC \n"
            "0.100: [GC (Allocation Failure)  1000K->500K(2000K), 0.0010000 secs]\n")
    rows = parse_gc_log(text.encode(), "x.log").tables["gc_events"].to_pylist()
    assert [r["collector"] for r in rows] == ["Serial"]


def test_jdk11_safepoint_lines_and_table_schema() -> None:
    text = (
        "[12.000s][info][gc] GC(3) Pause Young (G1 Evacuation Pause) 24M->4M(256M) 3.500ms\n"
        "[12.004s][info][safepoint] Total time for which application threads were stopped: "
        "0.0036000 seconds, Stopping threads took: 0.0001000 seconds\n"
    )
    res = parse_gc_log(text.encode(), "jdk11.log", jvm_start_ms=1_000_000)
    (sp,) = res.tables["safepoints"].to_pylist()
    assert (sp["line"], sp["uptime_ms"], sp["total_ms"], sp["reaching_ms"]) == (
        2, 12004.0, pytest.approx(3.6), pytest.approx(0.1))
    assert int(sp["ts"].timestamp() * 1000) == 1_012_004
    assert res.tables["gc_events"].schema == GC_EVENTS_SCHEMA
    assert res.tables["safepoints"].schema == SAFEPOINTS_SCHEMA
    (rec,) = gc_events_to_records(res.tables["gc_events"])
    assert rec.fields["gc_id"] == "3" and rec.fields["heap_after_kb"] == "4096"
    assert rec.message == "GC(3) Pause Young (G1 Evacuation Pause) 24M->4M(256M) 3.500ms"
    assert rec.ts_ms == 1_012_000 and rec.line == 1


@pytest.mark.parametrize(("name", "collector"), [
    ("jdk17_zgc_time_uptimenanos_level_tags.log", "ZGC"),
    ("jdk17_shenandoah_uptime_tags_level.log", "Shenandoah"),
    ("jdk17_g1_time_uptime_level_tags.log", "G1"),
    ("jdk17_serial_default.log", "Serial"),
    ("jdk17_parallel_uptime_level_tags.log", "Parallel"),
])
def test_collector_inferred_when_using_line_rotated_away(name: str, collector: str) -> None:
    lines = (EXTRA / name).read_text().splitlines(keepends=True)
    rotated = "".join(ln for ln in lines if "] Using " not in ln or "GC(" in ln)
    assert len(rotated) < sum(map(len, lines))
    rows = parse_gc_log(rotated.encode(), name).tables["gc_events"].to_pylist()
    assert {r["collector"] for r in rows} == {collector}
