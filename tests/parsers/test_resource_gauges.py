"""Gauges the GC log and thread dumps feed to the leak analysis (issue 19 item 1).

Expected figures were read off the logs by eye; each is the line's own number.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from logsleuth.parsers.gc import parse_gc_log
from logsleuth.parsers.gc_gauges import HEAP, METASPACE, METASPACE_COMMITTED, OLD, OLD_CAPACITY
from logsleuth.parsers.jstack import parse_thread_dumps
from logsleuth.parsers.jstack_analysis import THREADS
from logsleuth.timeline.resources import advice, post_gc_floor

DATA = Path(__file__).resolve().parents[1] / "data"
KB = 1024


START_MS = 1_790_000_000_000  # anchors uptime-only logs: rows need a time to be a series


def _gauges(path: Path) -> pd.DataFrame:
    res = parse_gc_log(path.read_bytes(), path.name, jvm_start_ms=START_MS)
    return res.tables["metrics"].to_pandas()


def _rows(df: pd.DataFrame, metric: str) -> list[tuple[int, float]]:
    m = df[df["metric"] == metric]
    return list(zip(m["line"].tolist(), m["value"].tolist(), strict=True))


def test_jdk8_parallel_old_gen_metaspace_and_capacity_inside_the_full_gc_line() -> None:
    df = _gauges(DATA / "gc_extra" / "jdk8_parallel_datestamps.log")
    assert _rows(df, OLD) == [(7, 12100 * KB), (9, 4960 * KB), (11, 6500 * KB)]
    assert _rows(df, METASPACE)[0] == (7, 3041 * KB)
    cap = df[df["metric"] == OLD_CAPACITY]  # stated three times, kept once
    assert cap["value"].tolist() == [87552 * KB] and cap["origin"].tolist() == ["limit"]
    assert cap["caps"].tolist() == [OLD]
    heap = dict(_rows(df, HEAP))
    assert heap[4] == 5096 * KB and heap[7] == 12100 * KB  # whole heap after each pause
    assert df[df["metric"] == OLD]["ts"].iloc[0] == pd.Timestamp("2026-11-26T02:00:03.100Z")


def test_jdk8_serial_tenured_and_cms_old_gen() -> None:
    serial = _gauges(DATA / "gc_extra" / "jdk8_serial_timestamps.log")
    assert [v for _, v in _rows(serial, OLD)][:2] == [15000 * KB, 9000 * KB]
    cms = _gauges(DATA / "gc_extra" / "jdk8_cms_datestamps.log")
    assert 90000 * KB in [v for _, v in _rows(cms, OLD)]


def test_unified_serial_tenured_and_metaspace_by_gc_id() -> None:
    df = _gauges(DATA / "public" / "gc" / "ujl-serial-safepoint-os-cpu.log")
    old = df[df["metric"] == OLD]
    assert old["value"].iloc[0] == 20953 * KB
    assert df[df["metric"] == METASPACE]["value"].iloc[0] == 3644 * KB


# (log, metric, [(line, KiB)] or a prefix of them): used metaspace is the first number of
# "A->B" after the arrow; committed only where the JVM prints it (JDK 16+ parentheses, ZGC,
# heap blocks) - JDK 8-15's parenthesis is the reserved size. Read off the lines by eye.
_RUNS = Path(__file__).resolve().parents[2] / "sample_logs" / "resources"
METASPACE_LINES = [
    ("public/gc/ujl-g1-safepoint-os-cpu.log", METASPACE, [(17, 3644), (32, 3647)]),
    ("public/gc/ujl-g1-safepoint-os-cpu.log", METASPACE_COMMITTED, []),  # reserved only
    ("public/gc/ujl-serial-safepoint-os-cpu.log", METASPACE, [(9, 3644), (17, 3644), (35, 3644)]),
    # the heap-at-exit block: "used 3661K, capacity 4490K, committed 4864K"
    ("public/gc/ujl-serial-safepoint-os-cpu.log", METASPACE_COMMITTED, [(47, 4864)]),
    ("public/gc/ujl-serial-safepoint-os-cpu.log", METASPACE_COMMITTED, "last", (47, 4864)),
    ("public/gc/jdk8-parallel-tenuring-cause.log", METASPACE, None),  # prints no metaspace
    ("public/gc/jdk7-cms-tenuring-promotion-failure.log", METASPACE_COMMITTED, []),  # PermGen
    ("gc_extra/jdk8_parallel_datestamps.log", METASPACE, [(7, 3041), (9, 3041), (11, 20900)]),
    ("gc_extra/jdk8_parallel_datestamps.log", METASPACE_COMMITTED, [(19, 21248)]),
    ("gc_extra/jdk8_g1_details.log", METASPACE_COMMITTED, [(56, 30720)]),
    ("gc_extra/jdk17_g1_time_uptime_level_tags.log", METASPACE, [(None, 78)]),
    ("gc_extra/jdk17_g1_time_uptime_level_tags.log", METASPACE_COMMITTED, [(None, 320)]),
    ("gc/g1-uptime.log", METASPACE, [(32, 74), (47, 74)]),
    ("gc/g1-uptime.log", METASPACE_COMMITTED, [(32, 320), (47, 320)]),
    ("gc/g1-uptime.log", METASPACE_COMMITTED, "last", (329, 448)),  # "used 244K, committed 448K"
    ("gc/zgc-uptime.log", METASPACE, [(None, 0)]),  # "0M used, 0M committed, 1088M reserved"
    ("gc/zgc-uptime.log", METASPACE_COMMITTED, [(None, 0)]),
    ("gc/zgc-uptime.log", METASPACE, "last", (227, 0)),  # GC(5) "0M used, 0M committed"
    ("gc/zgc-uptime.log", METASPACE_COMMITTED, "last", (249, 448)),  # the exit block
    ("gc_extra/jdk8_parallel_datestamps.log", METASPACE_COMMITTED, "last", (19, 21248)),
]


def _metaspace_params() -> list[object]:
    out = []
    for log, metric, *rest in METASPACE_LINES:
        which, want = ("last", rest[1]) if rest[0] == "last" else ("first", rest[0])
        out.append(pytest.param(log, metric, which, want, id=f"{log}:{metric}:{which}"))
    return out


@pytest.mark.parametrize(("log", "metric", "which", "want"), _metaspace_params())
def test_metaspace_used_and_committed_as_each_collector_prints_them(
        log: str, metric: str, which: str, want: object) -> None:
    got = _rows(_gauges(DATA / log), metric)
    if not want:
        assert got == [], got
        return
    if which == "last":
        line, kib = want  # type: ignore[misc]
        assert got and got[-1] == (line, kib * KB), got[-3:]
        return
    assert len(got) >= len(want), got  # type: ignore[arg-type]
    for (line, kib), (gl, gv) in zip(want, got, strict=False):  # type: ignore[call-overload]
        assert (line is None or gl == line) and gv == kib * KB, (got[:4], want)


def test_metaspace_run_reads_used_as_the_leak_and_committed_beside_it() -> None:
    """metaspace-g1 (JDK 17): GC(13) "11000K(14336K)->11000K(14336K)" (line 227) and GC(16)
    "11000K(14336K)->10937K(14336K)" (line 268): used 11000K and 10937K, committed 14 MiB,
    exactly -XX:MaxMetaspaceSize=14m, which committed reaches while used is ~3 MiB below."""
    import gzip

    text = gzip.decompress((_RUNS / "metaspace-g1" / "gc.log.gz").read_bytes())
    df = parse_gc_log(text, "gc.log").tables["metrics"].to_pandas()
    used, com = dict(_rows(df, METASPACE)), dict(_rows(df, METASPACE_COMMITTED))
    assert used[227] == 11000 * KB and used[268] == 10937 * KB and used[62] == 9604 * KB
    assert com[227] == com[268] == 14 << 20 and com[62] == 10112 * KB
    exit_line = max(com)  # the heap-at-exit block: "used 10985K, committed 14336K"
    assert set(com) - set(used) == {exit_line} and com[exit_line] == 14 << 20


# (log, {line of the pause: KiB}): the whole heap after a pause in KiB, young + old after
# from the generation lines, where the summary line rounds to whole MiB. Read off by hand.
HEAP_KIB = [
    # GC(0) DefNew ->3263K + Tenured ->20953K (summary 23M); GC(1) 3233K + 47140K (49M);
    # GC(2) 0K + 10970K (10M); GC(3)'s full pause prints no generations: its 10M stays
    ("public/gc/ujl-serial-safepoint-os-cpu.log",
     {10: 24216, 18: 50373, 36: 10970, 32: 10240}),
    # GC(0) PSYoungGen ->496K + ParOldGen ->136K (summary "4M->0M"); GC(1) 496K + 280K
    ("gc/parallel-uptime.log", {21: 632, 27: 776}),
    # JDK 8 prints the whole heap in K already: unchanged
    ("gc_extra/jdk8_parallel_datestamps.log", {4: 5096, 7: 12100}),
]


@pytest.mark.parametrize(("log", "want"), HEAP_KIB)
def test_whole_heap_after_gc_in_kib_from_the_generations(log: str, want: dict[int, int]) -> None:
    heap = dict(_rows(_gauges(DATA / log), HEAP))
    assert {ln: heap.get(ln) for ln in want} == {ln: k * KB for ln, k in want.items()}


def test_heap_parallel_run_heap_after_gc_is_young_plus_old() -> None:
    """heap-parallel GC(3) (line 39, "12M->4M(31M)"): PSYoungGen ->1022K + ParOldGen
    ->3377K = 4399K."""
    import gzip

    text = gzip.decompress((_RUNS / "heap-parallel" / "gc.log.gz").read_bytes())
    heap = dict(_rows(parse_gc_log(text, "gc.log").tables["metrics"].to_pandas(), HEAP))
    assert heap[39] == 4399 * KB


def test_g1_old_regions_need_the_region_size() -> None:
    """Regions become bytes by the region size the log states: JDK 10/11 print it in
    lower case (``[gc,heap] Heap region size: 1M``, line 2 of the public log, once read
    as missing), JDK 17 as ``Heap Region Size: 1M`` (gc,init). Without one, no old-gen
    series rather than a wrong one."""
    path = DATA / "public" / "gc" / "ujl-g1-safepoint-os-cpu.log"
    public = _gauges(path)
    olds = [ln for ln in path.read_text().splitlines() if " Old regions: " in ln]
    assert len(_rows(public, OLD)) == len(olds) and _rows(public, OLD)[0] == (15, 11 << 20)
    cut = b"".join(ln for ln in path.read_bytes().splitlines(keepends=True)
                   if b"region size" not in ln)
    df = parse_gc_log(cut, path.name, jvm_start_ms=START_MS).tables["metrics"].to_pandas()
    assert _rows(df, OLD) == []
    assert len(_rows(public, METASPACE)) == 11
    import gzip

    run = Path(__file__).resolve().parents[2] / "sample_logs" / "resources" / "heap-g1"
    text = gzip.decompress((run / "gc.log.gz").read_bytes())
    df = parse_gc_log(text, "gc.log").tables["metrics"].to_pandas()
    first_old = next(ln for ln in text.decode().splitlines() if "Old regions:" in ln)
    regions = int(first_old.rsplit("->", 1)[1])
    assert df[df["metric"] == OLD]["value"].iloc[0] == regions * 1024 * KB


def test_live_threads_per_dump() -> None:
    run = Path(__file__).resolve().parents[2] / "sample_logs" / "resources" / "threads-g1"
    counts = []
    for f in sorted(run.glob("jstack-*.txt")):
        res = parse_thread_dumps(f.read_bytes(), f.name)
        m = res.tables["metrics"].to_pandas()
        assert m["metric"].tolist() == [THREADS] and m["unit"].tolist() == ["count"]
        n_quoted = sum(1 for ln in f.read_text().splitlines() if ln.startswith('"'))
        assert m["value"].iloc[0] == n_quoted  # every thread the dump lists
        counts.append(n_quoted)
    assert len(counts) >= 5 and counts == sorted(counts)


def test_post_gc_floor_is_the_lowest_value_from_then_on() -> None:
    ts = pd.date_range("2026-01-01", periods=6, freq="s", tz="UTC")
    df = pd.DataFrame({"source": "gc.log", "line": range(6), "ts": ts, "metric": HEAP,
                       "value": [10.0, 14.0, 11.0, 15.0, 12.0, 16.0], "unit": "B",
                       "origin": "gauge", "caps": None})
    other = df.assign(metric="netty_direct_memory_used")
    out = post_gc_floor(pd.concat([df, other], ignore_index=True))
    assert out[out["metric"] == HEAP]["value"].tolist() == [10, 11, 11, 12, 12, 16]
    assert out[out["metric"] != HEAP]["value"].tolist() == df["value"].tolist()


@pytest.mark.parametrize(("metric", "word"), [
    (HEAP, "dominator tree"), (METASPACE, "class-loader leak"), (THREADS, "name prefix"),
    ("process_open_fds", "lsof"), ("hikari_active", "leakDetectionThreshold"),
    # a JDK buffer pool is direct memory, not a connection pool
    ("jvm_buffer_pool_direct_used", "DirectByteBuffer"),
    ("jvm_buffer_pool_direct_count", "DirectByteBuffer")])
def test_advice_names_the_next_step(metric: str, word: str) -> None:
    got = advice(metric)
    assert got is not None and word in got.next_step


def test_dump_times_refined_from_elapsed_stay_inside_their_header_second() -> None:
    """jstack stamps whole seconds; ``elapsed=`` of the oldest thread places each dump to
    ~0.1 s, never outside the second its header states."""
    from logsleuth.timeline.resources import refine_dump_times

    run = Path(__file__).resolve().parents[2] / "sample_logs" / "resources" / "threads-g1"
    states, gauges = [], []
    for f in sorted(run.glob("jstack-*.txt")):
        res = parse_thread_dumps(f.read_bytes(), f.name)
        states.append(res.tables["thread_states"].to_pandas())
        gauges.append(res.tables["metrics"].to_pandas())
    metrics = pd.concat(gauges, ignore_index=True)
    out = refine_dump_times(metrics, pd.concat(states, ignore_index=True))
    header = metrics["ts"].astype("datetime64[ms, UTC]").astype("int64")
    refined = out["ts"].astype("datetime64[ms, UTC]").astype("int64")
    assert ((refined >= header) & (refined < header + 1000)).all()
    assert (refined % 1000 != 0).any(), "nothing was refined"
    assert out["value"].tolist() == metrics["value"].tolist()


def test_a_resource_exhaustion_marks_its_gauge_reached_at_the_onset() -> None:
    from logsleuth.timeline.resources import exhausted_at_onset
    from logsleuth.timeline.trend import estimate_trend

    ts = [1_000 * i for i in range(10)]
    heap = estimate_trend(ts, [float(10 + i) for i in range(10)], metric=HEAP, unit="B")
    threads = estimate_trend(ts, [float(10 + i) for i in range(10)], metric=THREADS,
                             unit="count")
    assert heap is not None and threads is not None and heap.ceiling_reached_ms is None
    got = exhausted_at_onset([heap, threads], "jvm-heap-oom", 12_345)
    assert got[0].ceiling_reached_ms == 12_345 and got[0].exhaustion_at_ms == 12_345
    assert got[1] is threads  # a heap OOM says nothing of threads
    assert exhausted_at_onset([heap], "netty-out-of-direct-memory", 1) == [heap]
