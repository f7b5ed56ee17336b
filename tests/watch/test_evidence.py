"""GC logs, thread dumps and nginx logs appended in pieces give what one scan gives.

Expected before running (issue 16, gap 1 of the watch): the watcher reads every kind
of evidence scan reads. On the real runs under ``sample_logs`` written piece by piece
(cuts mid-line, mid-collection, mid-dump), the final result equals a scan of the same
bytes: every input's line/record/unparsed counts, the findings (GC storm, OOM, nginx
5xx), the GC and thread-count gauge rows, and the leak with its attribution.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.model import Kind
from logsleuth.options import ScanOptions
from logsleuth.watch.evidence import settled_end
from logsleuth.watch.follow import Follower
from logsleuth.watch.state import RunningAnalysis

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _evidence(src: Path, names: list[str]) -> dict[str, bytes]:
    """Relative name (without .gz) -> content of the named files of a sample run."""
    out = {}
    for name in names:
        for p in sorted(src.glob(name)):
            rel = p.relative_to(src).as_posix()
            out[rel.removesuffix(".gz")] = _content(p)
    return out


def _write_in_pieces(root: Path, files: dict[str, bytes], pieces: int,
                     run: RunningAnalysis, follow: Follower) -> None:
    """Append every file in cuts at arbitrary bytes (mid-line), a batch per round. With
    many files, later names appear in later rounds (thread dumps taken one by one)."""
    order = sorted(files)
    done = dict.fromkeys(order, 0)
    for k in range(pieces):
        for i, name in enumerate(order):
            first = i * pieces // len(order) if len(order) > 3 else 0  # round it appears in
            if k < first:
                continue
            data = files[name]
            share = (k - first + 1) / (pieces - first)
            cut = len(data) if k == pieces - 1 else min(len(data), int(len(data) * share) + 7)
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as f:
                f.write(data[done[name]:cut])
            done[name] = cut
        run.ingest(follow.poll())
        while follow.backlog:
            run.ingest(follow.poll())
    run.flush()


def _inputs(result: object) -> dict[str, tuple[str, int, int, int]]:
    return {s.path: (s.kind, s.lines, s.records, s.unparsed_lines)  # type: ignore[attr-defined]
            for s in result.inputs}  # type: ignore[attr-defined]


def _findings(result: object) -> list[tuple[str, str, int, str, object]]:
    return sorted((f.rule, f.fingerprint, f.count, str(f.first_seen), f.example["line"])
                  for f in result.findings)  # type: ignore[attr-defined]


def _gauges(result: object, names: tuple[str, ...]) -> list[tuple[object, ...]]:
    t = result.table("metrics")  # type: ignore[attr-defined]
    if not t.num_rows:
        return []
    t = t.filter(pc.is_in(t["metric"], value_set=pa.array(names)))
    return sorted(zip(t["source"].to_pylist(), t["line"].to_pylist(), t["metric"].to_pylist(),
                      t["value"].to_pylist(), t["origin"].to_pylist(), strict=True))


CASES = {
    # heap leak read from GC pauses (issue 19): jvm_heap_*_after_gc, the GC-storm finding
    "heap-g1": (SAMPLES / "resources" / "heap-g1", ["app.log.gz", "gc.log.gz"],
                ("jvm_heap_after_gc", "jvm_heap_old_after_gc", "jvm_heap_old_capacity")),
    # thread leak read from ten jstack files appearing one after another
    "threads-g1": (SAMPLES / "resources" / "threads-g1", ["app.log.gz", "gc.log.gz",
                                                          "jstack-*.txt"],
                   ("jvm_threads_live",)),
    # the netty incident: GC log, three dumps, nginx access and error logs beside the app
    "incident": (SAMPLES / "incident", ["push-server.log", "gc.log", "jstack-*.txt",
                                        "nginx/access.log", "nginx/error.log"],
                 ("jvm_heap_after_gc", "jvm_threads_live")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_structured_evidence_in_pieces_equals_one_scan(tmp_path: Path, case: str) -> None:
    src, names, gauges = CASES[case]
    files = _evidence(src, names)
    ref_dir = tmp_path / "ref"
    for name, data in files.items():
        (ref_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (ref_dir / name).write_bytes(data)
    ref = api.scan([str(ref_dir)], keep_records=False, workers=1, tz="UTC")
    live = tmp_path / "live"
    live.mkdir()
    run = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    _write_in_pieces(live, files, 5, run, Follower([str(live)]))
    got = run.finalize()
    assert _inputs(got) == _inputs(ref)
    assert {k for k, *_ in _inputs(got).values()} > {"app-log"}  # evidence kinds were read
    assert _findings(got) == _findings(ref)
    assert _gauges(got, gauges) == _gauges(ref, gauges)
    assert _gauges(got, gauges), "the case's gauges are read at all"
    if ref.incident is not None and ref.incident.leaks:
        assert got.incident is not None
        want = [(k.metric, k.per_event and k.per_event.template, k.exhaustion_at_ms)
                for k in ref.incident.leaks]
        assert [(k.metric, k.per_event and k.per_event.template, k.exhaustion_at_ms)
                for k in got.incident.leaks] == want
        # and the watcher says so: a leak event per leaking gauge (heap after GC, threads)
        from logsleuth.watch.events import EventLog

        said = EventLog().from_result(got, run.evidence_ms)
        assert {e["metric"] for e in said if e["event"] == "leak"} == \
            {k.metric for k in ref.incident.leaks}
        assert set(gauges[:1]) & {e["metric"] for e in said if e["event"] == "leak"}
        for e in said:  # an unattributed leak says why, as the scan's JSON does
            if e["event"] == "leak":
                assert (e["per_event"] is None) == (e["per_event_reason"] is not None), e


def test_nginx_5xx_and_gc_findings_arrive_as_events(tmp_path: Path) -> None:
    """The same finding events as app-log evidence: nginx 5xx and the GC storm."""
    from logsleuth.watch.events import EventLog

    files = _evidence(SAMPLES / "incident", ["nginx/access.log", "nginx/error.log", "gc.log"])
    run = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    _write_in_pieces(tmp_path, files, 3, run, Follower([str(tmp_path)]))
    events = EventLog().from_result(run.finalize(), run.evidence_ms)
    rules = {e["rule"] for e in events if e["event"] == "finding"}
    ref = api.scan([str(tmp_path)], keep_records=False, workers=1, tz="UTC")
    assert rules == {f.rule for f in ref.findings}
    assert any(r.startswith("nginx") for r in rules), rules
    assert run.evidence_ms is not None


DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = sorted([*(PUBLIC / "gc").glob("*.log"), *(DATA / "gc").glob("*.log"),
                 *(PUBLIC / "nginx").glob("*.log"), *(PUBLIC / "dumps").glob("*")])


def _scan_and_watch(tmp_path: Path, path: Path, pieces: int) -> tuple[Any, Any]:
    """One scan of the file's complete lines, and the watcher's result after the same
    bytes were appended in ``pieces`` (a last line without newline waits for its end)."""
    data = path.read_bytes()
    data = data[:data.rfind(b"\n") + 1]
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / path.name).write_bytes(data)
    ref = api.scan([str(tmp_path / "ref")], keep_records=False, workers=1, tz="UTC")
    live = tmp_path / "live"
    live.mkdir()
    run = RunningAnalysis.for_scan(ScanOptions(tz="UTC"), settle=3600.0)
    _write_in_pieces(live, {path.name: data}, pieces, run, Follower([str(live)]))
    return ref, run.finalize()


@pytest.mark.parametrize("pieces", [3, 7])
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_file_in_pieces_equals_one_scan(tmp_path: Path, path: Path, pieces: int) -> None:
    """Every GC log (JDK 7/8 multi-line events, PrintHeapAtGC blocks, concurrent lines
    inside pauses, unified logging of five collectors), nginx log and thread dump of the
    corpora, appended in pieces, is read as one scan reads it: counts, findings, and
    every table row by row (line and time)."""
    ref, got = _scan_and_watch(tmp_path, path, pieces)
    assert _inputs(got) == _inputs(ref)
    assert _findings(got) == _findings(ref)
    skip = {"level_counts", "level_seconds", "templates", "finding_minutes"}
    names = {k for k, t in ref.tables.items() if t.num_rows} - skip
    assert names == {k for k, t in got.tables.items() if t.num_rows} - skip
    for name in names:  # the same rows (in any order: pieces are concatenated)
        cols = [c for c in ("line", "ts", "metric", "value") if c in ref.tables[name].column_names]

        def rows(t: pa.Table, cols: list[str] = cols) -> list[tuple[object, ...]]:
            return sorted(tuple(str(v) for v in r.values()) for r in t.select(cols).to_pylist())

        assert rows(got.tables[name]) == rows(ref.tables[name]), name


def test_settled_end_holds_the_open_collection_and_dump() -> None:
    gc = (b"[0.1s][info][gc] Using G1\n"
          b"[1.0s][info][gc,heap] GC(7) Eden regions: 3->0(4)\n"
          b"[1.0s][info][gc] GC(7) Pause Young (Normal) 5M->2M(32M) 1.0ms\n"
          b"[2.0s][info][gc,heap] GC(8) Eden regions: 3->0(4)\n")
    assert settled_end(Kind.GC_LOG, gc) == gc.index(b"[2.0s]")
    dumps = (b"2026-12-06 07:08:27\nFull thread dump OpenJDK 64-Bit Server VM:\n\n"
             b'"main" #1 prio=5 os_prio=0 tid=0x1 nid=0x2 runnable\n'
             b"   java.lang.Thread.State: RUNNABLE\n\n"
             b"2026-12-06 07:08:29\nFull thread dump OpenJDK 64-Bit Server VM:\n")
    assert settled_end(Kind.THREAD_DUMP, dumps) == dumps.index(b"2026-12-06 07:08:29")
    err = (b"2026/11/26 11:27:40 [error] 1#1: *5 upstream prematurely closed\n"
           b"2026/11/26 11:27:41 [error] 1#1: *6 connect() failed\n  continued\n")
    assert settled_end(Kind.NGINX_ERROR, err) == err.index(b"2026/11/26 11:27:41")


def test_uptime_only_gc_log_is_anchored_as_scan_anchors_it(tmp_path: Path) -> None:
    """A GC log with uptimes only gets its wall clock from the thread dump beside it
    (the JVM start jstack implies), as in scan; without it its events have no time."""
    from logsleuth.watch.run import Watcher, WatchOptions

    data = Path(__file__).resolve().parents[1] / "data" / "jvmstart"
    for name in ("gc-uptime.log", "jstack.txt"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    ref = api.scan([str(tmp_path)], keep_records=False, workers=1, tz="UTC")
    w = Watcher(WatchOptions((str(tmp_path),), ScanOptions(tz="UTC"), settle=3600.0,
                             notify=False), lambda e: None)
    w._drain()
    w.analysis.flush()
    got = w.analysis.finalize()
    want = ref.table("gc_events").select(["line", "ts"]).to_pylist()
    assert got.table("gc_events").select(["line", "ts"]).to_pylist() == want
    assert want and all(r["ts"] is not None for r in want)
    assert any(d.code == "gc-anchored" for d in got.diagnostics)


MIXED = [*sorted((PUBLIC / "applogs").glob("*console*.log")),
         PUBLIC / "applogs" / "beats-elasticsearch-8-testcluster-stdout.log"]


@pytest.mark.parametrize("path", MIXED, ids=lambda p: p.name)
def test_mixed_layout_app_log_in_pieces_equals_one_scan(tmp_path: Path, path: Path) -> None:
    """A console capture with several layouts (issue 13) is planned by the watcher as by
    scan: the same records and unparsed lines, and the same layout diagnostic (code and
    level), although the watcher sees the file's head in pieces."""
    ref, got = _scan_and_watch(tmp_path, path, 2)
    assert _inputs(got) == _inputs(ref)
    assert [s.layout for s in got.inputs] == [s.layout for s in ref.inputs]
    assert " + " in str(ref.inputs[0].layout)  # the file is mixed, as the test assumes

    def layout_notes(result: object) -> list[tuple[str, str]]:
        return [(d.code, str(d.level)) for d in result.diagnostics  # type: ignore[attr-defined]
                if d.code.startswith("layout-")]

    assert layout_notes(got) == layout_notes(ref)


WRAPPED = [PUBLIC / "gc" / "jdk8-g1-cause-tenuring.log", PUBLIC / "gc" / "ujl-g1-safepoint-os-cpu.log",
           PUBLIC / "nginx" / "beats-error-multiline.log"]


@pytest.mark.parametrize("path", WRAPPED, ids=lambda p: p.name)
def test_wrapped_evidence_in_pieces_equals_one_scan(tmp_path: Path, path: Path) -> None:
    """A GC or nginx log inside docker's json-file lines (the container's own file) is read
    by the watcher as scan reads it (it was a `not-followed` warning): the same counts,
    findings and table rows. The wrapping is docker's, applied here to real public logs."""
    import json

    inner = path.read_bytes()
    inner = inner[:inner.rfind(b"\n") + 1]
    wrapped = b"".join(json.dumps({"log": ln.decode("utf-8", "replace") + "\n",
                                   "stream": "stdout",
                                   "time": f"2026-12-06T06:{i // 60 % 60:02d}:{i % 60:02d}."
                                           f"{i:09d}Z"[:-1] + "Z"},
                                  separators=(",", ":")).encode() + b"\n"
                       for i, ln in enumerate(inner.split(b"\n")[:-1]))
    src = tmp_path / "src"
    src.mkdir()
    (src / path.name).write_bytes(wrapped)
    ref, got = _scan_and_watch(tmp_path, src / path.name, 5)
    assert _inputs(got) == _inputs(ref)
    assert _findings(got) == _findings(ref)
    (stats,) = [s for s in got.inputs]
    assert stats.wrapper == "docker-json" and stats.kind != "app-log"
    assert not [d for d in got.diagnostics if d.code == "not-followed"]
    names = {k for k, t in ref.tables.items() if t.num_rows} - {
        "level_counts", "level_seconds", "templates", "finding_minutes"}
    assert names, "the scan read the wrapped evidence into tables"
    for name in names:
        cols = [c for c in ("line", "ts", "metric", "value") if c in ref.tables[name].column_names]

        def rows(t: pa.Table, cols: list[str] = cols) -> list[tuple[object, ...]]:
            return sorted(tuple(str(v) for v in r.values()) for r in t.select(cols).to_pylist())

        assert rows(got.tables[name]) == rows(ref.tables[name]), name
