"""GC-log variants the public corpus lacked (issue 19): JDK 8 G1 with PrintGCDateStamps and
interleaved lines, JDK 11 G1 with padded -Xlog decorations, unified Parallel with the
default decorations. Files in tests/data/public/gc, sources in SOURCES.md.

Every figure below was read off the file by eye and written before the parser was run
on it: pause kinds and lengths, heap before/after/capacity (M in the log = MiB, K = KiB),
wall clock (+0800 turned to UTC) or uptime, concurrent phase lengths, stopped-time lines,
and the gauges (bytes) the leak analysis gets: heap after GC, old generation (G1
regions times the region size the log states), metaspace used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from logsleuth.model import Kind
from logsleuth.parsers.classify import classify
from logsleuth.parsers.gc import parse_gc_log
from logsleuth.parsers.gc_gauges import HEAP, METASPACE, OLD

GC = Path(__file__).resolve().parents[1] / "data" / "public" / "gc"
MIB, KIB = 1024 * 1024, 1024
START_MS = 1_790_000_000_000  # places uptime-only logs, so their gauges form series


def _read(name: str, **kw):
    data = (GC / name).read_bytes()
    assert classify(data[:65536], name=name) is Kind.GC_LOG
    res = parse_gc_log(data, name, **kw)
    assert res.parsed_lines + res.unparsed_lines == res.lines
    return res


def _pauses(res) -> list[dict]:
    t = res.tables["gc_events"]
    return t.filter(pc.is_valid(t["pause_ms"])).to_pylist()


def _gauge(res, metric: str) -> dict[int, float]:
    m = res.tables["metrics"].to_pandas()
    m = m[m["metric"] == metric]
    return dict(zip(m["line"].tolist(), m["value"].tolist(), strict=True))


def test_jdk8_g1_date_stamps_ergonomics_and_a_doubled_stamp() -> None:
    name = "jifa-jdk8-g1-datestamps-interleaved.log"
    res = _read(name)
    assert res.unparsed_lines == 0  # the lone "[GC concurrent-root-region-scan-start]" too
    p = _pauses(res)
    assert [x["kind"] for x in p] == ["young", "young", "remark", "cleanup"]
    assert p[0]["phase"] == "Pause Young (Concurrent Start)"  # (young) (initial-mark)
    assert p[0]["cause"] == p[1]["cause"] == "G1 Evacuation Pause"
    assert [x["pause_ms"] for x in p] == [pytest.approx(18.2684), pytest.approx(53.566),
                                          pytest.approx(135.056), pytest.approx(1.6114)]
    assert [x["ts"] for x in p] == [
        datetime(2022, 4, 25, 3, 38, 47, 548000, tzinfo=UTC),
        datetime(2022, 4, 25, 3, 38, 51, 924000, tzinfo=UTC),
        datetime(2022, 4, 25, 3, 38, 52, 949000, tzinfo=UTC),
        datetime(2022, 4, 25, 3, 38, 53, 89000, tzinfo=UTC)]
    assert [x["uptime_ms"] for x in p] == [pytest.approx(u) for u in (
        725062, 729438, 730463, 730603)]
    assert [(x["heap_before_kb"], x["heap_after_kb"], x["heap_capacity_kb"]) for x in p] == [
        (round(2223.9 * KIB), round(1902.5 * KIB), 2560 * KIB),
        (round(2230.5 * KIB), round(1906.2 * KIB), 2560 * KIB),
        (None, None, None),
        (1984 * KIB, 1984 * KIB, 2560 * KIB)]
    t = res.tables["gc_events"]
    conc = t.filter(pc.equal(t["kind"], "concurrent"))["duration_ms"].to_pylist()
    assert conc == [pytest.approx(46.072), pytest.approx(5331.2732)]
    assert res.tables["safepoints"].num_rows == 4  # one of them after a doubled stamp
    # first expectation: rows at the Heap: lines (29, 65) and the cleanup's line 75. Run:
    # rows sit on the event's first line (as for every multi-line JDK 8 event), and
    # remark/cleanup pauses are not collections of the heap (gc_gauges._PAUSES)
    assert _gauge(res, HEAP) == {1: round(1902.5 * KIB) * KIB, 37: round(1906.2 * KIB) * KIB}


def test_jdk11_g1_padded_decorations_uptime_only() -> None:
    name = "jifa-jdk11-g1-uptime-padded-tags.log"
    res = _read(name, jvm_start_ms=START_MS)
    assert res.unparsed_lines == 0
    p = _pauses(res)
    assert [(x["kind"], x["gc_id"]) for x in p] == [
        ("young", 0), ("remark", 1), ("cleanup", 1), ("full", 2)]
    assert p[0]["cause"] == "Metadata GC Threshold" and p[3]["cause"] == "G1 Evacuation Pause"
    assert [x["pause_ms"] for x in p] == [pytest.approx(10.709), pytest.approx(2.381),
                                          pytest.approx(0.094), pytest.approx(67.806)]
    assert [x["uptime_ms"] for x in p] == [pytest.approx(u) for u in (1010, 3008, 3010, 7123)]
    assert [(x["heap_before_kb"], x["heap_after_kb"], x["heap_capacity_kb"]) for x in p] == [
        (19 * KIB, 4 * KIB, 64 * KIB), (5 * KIB, 5 * KIB, 64 * KIB),
        (6 * KIB, 6 * KIB, 64 * KIB), (1700 * KIB, 1078 * KIB, 1700 * KIB)]
    assert [x["is_full"] for x in p] == [False, False, False, True]
    assert all(x["ts"] is not None for x in p)  # placed by the start given
    assert res.tables["safepoints"].num_rows == 1
    assert _gauge(res, OLD) == {16: 2 * MIB, 60: 1089 * MIB}  # "Heap region size: 1M"
    assert _gauge(res, METASPACE) == {18: 20679 * KIB, 62: 3604 * KIB}
    assert _gauge(res, HEAP)[19] == 4 * MIB and _gauge(res, HEAP)[63] == 1078 * MIB


def test_unified_parallel_default_decorations_no_final_newline() -> None:
    name = "ujl-parallel-defaults.log"
    res = _read(name, jvm_start_ms=START_MS)
    # 11 newlines and a last line without one: 12 lines (first expectation said 11,
    # counted with wc -l)
    assert res.unparsed_lines == 0 and res.lines == 12
    p = _pauses(res)
    assert [x["kind"] for x in p] == ["young", "young", "full", "full", "young", "full",
                                      "full", "young", "full", "full", "young"]
    assert {x["collector"] for x in p} == {"Parallel"}
    assert [x["gc_id"] for x in p] == list(range(11))
    assert p[2]["cause"] == "Ergonomics" and p[0]["cause"] == "Allocation Failure"
    assert p[-1]["pause_ms"] == pytest.approx(6.081)  # the last line, with no newline
    assert [x["heap_after_kb"] // KIB for x in p] == [29, 62, 61, 30, 62, 62, 31, 63, 62, 31,
                                                     63]
    assert {x["heap_capacity_kb"] for x in p} == {123 * KIB}
    assert sorted(_gauge(res, HEAP).values()) == sorted(
        x * MIB for x in (29, 62, 61, 30, 62, 62, 31, 63, 62, 31, 63))
