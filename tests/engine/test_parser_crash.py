"""A parser bug costs the rest of one input, never the scan, in every engine.

The bugs are planted with monkeypatch at a known line; what must hold: a
``parser-crash`` diagnostic at that line with the exception and the traceback,
the records before it kept, every line accounted for, the other inputs read,
and the CLI's exit code that of a completed scan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.cli.app import run
from logsleuth.engine import local, traces
from logsleuth.parsers import gc as gc_parser

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "healthy"
PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"
GC_BAD_LINE = 57  # the planted GC parser bug strikes when this line is read


def _app_log(n: int, bad_at: int) -> str:
    """n records, each with a one-frame trace; the trace of record ``bad_at`` says BOOM."""
    out = []
    for i in range(n):
        cls = "BoomException" if i == bad_at else "java.io.IOException"
        out.append(f"2026-11-26 10:{i // 60 % 60:02d}:{i % 60:02d}.000 ERROR [main] a.B - fail {i}\n"
                   f"{cls}: x\n\tat a.B.c(B.java:{i})\n")
    return "".join(out)


@pytest.fixture
def evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An app log whose record 150 (line 451) trips the trace reader; a GC log whose
    parser fails once it reaches line 57; a healthy jstack dump beside them."""
    (tmp_path / "app.log").write_text(_app_log(300, bad_at=150))
    shutil.copy(SAMPLE / "gc.log", tmp_path / "gc.log")
    shutil.copy(SAMPLE / "jstack-20261126T112853.txt", tmp_path / "jstack.txt")
    real_classes, real_gc = traces.trace_summary, gc_parser.parse_gc_log

    def classes(data: bytes, a: int, b: int) -> tuple[str, str, str | None] | None:
        if b"BoomException" in data[a:b]:
            raise KeyError("planted trace bug")
        return real_classes(data, a, b)

    def gc_log(data: bytes, source: str, **kw: object) -> object:
        if data.count(b"\n") >= GC_BAD_LINE:
            raise ValueError("planted GC bug")
        return real_gc(data, source, **kw)

    monkeypatch.setattr(traces, "trace_summary", classes)
    monkeypatch.setattr(gc_parser, "parse_gc_log", gc_log)
    return tmp_path


def _check(result: api.ScanResult) -> None:  # type: ignore[name-defined]
    by_path = {s.path: s for s in result.inputs}
    app, gc, dump = by_path["app.log"], by_path["gc.log"], by_path["jstack.txt"]
    (crash,) = [d for d in app.diagnostics if d.code == "parser-crash"]
    # record 150's trace is lines 452-453: the reader fails on it, the header line 451
    # and everything before is read
    assert crash.location.line == 452
    assert "KeyError: 'planted trace bug'" in crash.message
    assert crash.note is not None and "Traceback" in crash.note and "classes" in crash.note
    assert app.lines == 900
    records = result.table("records")
    mine = records.filter(pc.equal(records["source"].cast("string"), "app.log"))
    assert mine.num_rows == app.records > 100  # the records before the crash are kept
    assert pc.sum(mine["n_lines"]).as_py() + app.unparsed_lines == app.lines
    assert app.unparsed_lines == 900 - 452 + 1
    assert mine["line"].to_pylist()[-1] == 451  # the failing record's header, without its trace

    (gcrash,) = [d for d in gc.diagnostics if d.code == "parser-crash"]
    assert gcrash.location.line == GC_BAD_LINE and "ValueError: planted GC bug" in gcrash.message
    total = (SAMPLE / "gc.log").read_bytes().count(b"\n")
    assert gc.lines == total
    assert gc.unparsed_lines >= total - GC_BAD_LINE + 1 and gc.records > 0
    assert len(result.table("gc_events")) > 0  # events of the first 56 lines stay

    assert dump.records > 0 and not dump.diagnostics  # the other input is untouched
    assert len(result.table("thread_states")) > 0


def test_inline_engine_reports_crashes_and_reads_the_rest(evidence: Path) -> None:
    _check(api.scan(evidence, pattern=PATTERN, workers=1, chunk_size=4096))


def test_forked_workers_report_crashes_and_read_the_rest(
        evidence: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "PARALLEL_MIN_BYTES", 1)  # small inputs take the pool path
    _check(api.scan(evidence, pattern=PATTERN, workers=2, chunk_size=4096))


def test_dask_engine_reports_crashes_and_reads_the_rest(evidence: Path) -> None:
    distributed = pytest.importorskip("distributed")
    # threads in this process, so the planted bugs are in the workers too
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        _check(api.scan(evidence, pattern=PATTERN, workers=1, chunk_size=4096, engine="dask",
                        dask_address=cluster.scheduler_address))


def test_cli_prints_the_located_crash_and_exits_as_a_completed_scan(
        evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", str(evidence), "--pattern", PATTERN, "--workers", "1",
                "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"gc.log:{GC_BAD_LINE}: error[parser-crash]: the gc-log parser failed: " \
           "ValueError: planted GC bug" in err
    assert "Traceback" not in err
    assert run(["scan", str(evidence), "--pattern", PATTERN, "--workers", "1",
                "--no-progress", "-v"]) == 0
    err = capsys.readouterr().err
    assert "note: Traceback" in err and "help: a bug in logsleuth" in err


def test_check_goes_on_after_a_parser_crash(evidence: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["check", str(evidence), "--pattern", PATTERN, "--workers", "1",
                "--fail-on", "none"])
    assert code == 0
    assert "error[parser-crash]" in capsys.readouterr().err


def test_a_crash_while_planning_costs_only_that_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from logsleuth.engine import planner

    shutil.copy(SAMPLE / "gc.log", tmp_path / "gc.log")
    (tmp_path / "app.log").write_text(_app_log(5, bad_at=-1))

    def broken(*args: object) -> object:  # (lines, choice[, more_lines])
        raise IndexError("planted layout bug")

    monkeypatch.setattr(planner, "choose_layout", broken)
    result = api.scan(tmp_path, workers=1)
    crash = [d for d in result.diagnostics if d.code == "parser-crash"]
    assert [(d.location.path, "IndexError" in d.message) for d in crash] == [("app.log", True)]
    app = next(s for s in result.inputs if s.path == "app.log")
    assert app.lines == 15 and app.records + app.unparsed_lines > 0  # read without a layout
    assert next(s for s in result.inputs if s.path == "gc.log").records > 0


def test_a_collector_failure_is_reported_as_such(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in what consumes the records (here the level counter) is not the
    parser's: the diagnostic says so, and the input's lines are still accounted."""
    from logsleuth.engine import collectors

    (tmp_path / "app.log").write_text(_app_log(20, bad_at=-1))

    def broken(self: object, cb: object) -> None:
        raise RuntimeError("planted collector bug")

    monkeypatch.setattr(collectors.LevelCounts, "consume", broken)
    result = api.scan(tmp_path, pattern=PATTERN, workers=1)
    (app,) = result.inputs
    (crash,) = [d for d in app.diagnostics if d.code == "parser-crash"]
    assert "not the parser itself" in crash.message and "planted collector bug" in crash.message
    assert crash.location.line == 1 and app.lines == 60 and app.unparsed_lines == 60
