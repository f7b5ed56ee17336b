"""One test per defect the fuzz run (tests/test_fuzz.py) found, on the input it found.

Each keeps the smallest real excerpt that showed the defect, so it fails again if
the defect comes back.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth.engine.applog import AppLogParser, ChunkBatch
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts import compile_pattern

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
PUSH = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"


def _parse(data: bytes, pattern: str, chunk: int) -> tuple[InputStats, int]:
    layout = compile_pattern(pattern)
    stats = InputStats("x.log")
    seen: list[int] = []

    def sink(cb: ChunkBatch) -> None:
        seen.append(pc.sum(cb.batch["n_lines"]).as_py() or 0)

    fmt = layout.timestamp
    parser = AppLogParser("x.log", layout, lambda v: fmt.to_epoch_ms(v, None).ms, stats, sink)
    feed_stream(io.BytesIO(data), parser, chunk_size=chunk)
    return stats, sum(seen)


def test_lines_after_a_cut_record_are_counted_as_unparsed() -> None:
    """Found by the fuzz run: a record longer than four chunks is cut by the reader;
    the lines after the cut were in no record and not counted as unparsed either."""
    trace = "".join(f"\tat io.netty.channel.AbstractChannelHandlerContext.invoke{i}"
                    f"(AbstractChannelHandlerContext.java:{i}) ~[netty-transport.jar]\n"
                    for i in range(12))
    data = ("2026-11-26 11:27:57.982 INFO  [push-worker-3-2] a.B - connected\n"
            "2026-11-26 11:27:57.982 ERROR [push-worker-3-3] a.B - Failed to publish\n"
            "java.lang.NullPointerException: x\n" + trace +
            "2026-11-26 11:27:57.990 INFO  [push-worker-3-2] a.B - after\n").encode()
    stats, in_records = _parse(data, PUSH, chunk=256)
    assert stats.lines == 16
    assert in_records + stats.unparsed_lines == stats.lines
    assert stats.unparsed_lines > 0  # the tail of the cut trace
    assert [d.code for d in stats.diagnostics] == ["oversized-record"]


GC_LINE = (b"[2026-11-26T10:05:53.777+0000][36ms][20741][20748][info][gc          ] GC(0) "
           b"Pause Young (Normal) (G1 Evacuation Pause) 6M->1M(64M) 1.049ms\n")
SAFEPOINT = (b"[2026-11-26T10:05:53.850+0000][110ms][20741][20748][info][safepoint   ] Safepoint "
             b'"G1CollectForAllocation", Time since last: 135182 ns, Reaching safepoint: 491 ns, '
             b"Cleanup: 450 ns, At safepoint: 443963 ns, Total: 444904 ns\n")


@pytest.mark.parametrize("damaged", [
    SAFEPOINT.replace(b"+0000]", b"+\x00000]"),  # offset with a NUL: int('\x000') raised
    SAFEPOINT.replace(b"T10:", b"T\x000:"),  # hour with a NUL: the timestamp cast raised
])
def test_gc_log_with_a_damaged_decoration_time_parses(damaged: bytes) -> None:
    """Found by the fuzz run on tests/data/gc_extra/jdk17_g1_safepoint_*.log: one
    damaged time in a decoration made the whole GC log fail to parse."""
    from logsleuth.parsers.gc import parse_gc_log

    result = parse_gc_log(GC_LINE + damaged, "gc.log")
    assert result.lines == 2 and result.parsed_lines + result.unparsed_lines == 2
    events = result.tables["gc_events"]
    assert events.num_rows >= 1
    assert events["ts"].cast(pa.int64())[0].as_py() == 1795687553777  # the intact line's time


def test_nginx_ingress_line_with_a_damaged_upstream_time_parses() -> None:
    """Found by the fuzz run on tests/data/public/nginx/beats-ingress-upstreaminfo.log:
    an upstream time '0\\x00001' (a NUL for the dot) made the access log fail as a whole."""
    from logsleuth.parsers.nginx import parse_nginx_access

    line = (PUBLIC / "nginx/beats-ingress-upstreaminfo.log").read_bytes().split(b"\n")[0]
    assert b" 59 0.000 200 " in line
    damaged = line.replace(b" 59 0.000 200 ", b" 59 0\x00000 200 ") + b"\n"
    result = parse_nginx_access(line + b"\n" + damaged, "access.log")
    assert result.lines == 2 and result.parsed_lines + result.unparsed_lines == 2
    times = result.tables["http_requests"]["upstream_time_s"].to_pylist()
    assert times[0] == 0.0 and (len(times) == 1 or times[1] is None)


def test_nginx_error_line_with_an_overlong_pid_parses() -> None:
    """Found by the fuzz run on sample_logs/incident/nginx/error.log: digits inserted
    into the pid ('99999999999999999999999929317#29317') overflowed the int64 cast
    and the whole error log failed."""
    from logsleuth.parsers.nginx import parse_nginx_error

    sample = Path(__file__).resolve().parents[2] / "sample_logs/incident/nginx/error.log"
    line = next(ln for ln in sample.read_bytes().split(b"\n") if b"] 29317#29317: " in ln)
    damaged = line.replace(b"] 29317#", b"] 99999999999999999999999929317#", 1)
    result = parse_nginx_error(line + b"\n" + damaged + b"\n", "error.log")
    assert result.lines == 2 and result.parsed_lines + result.unparsed_lines == 2
    assert result.tables["nginx_errors"]["pid"].to_pylist() == [29317, None]


def test_a_damaged_year_is_an_unknown_time_not_a_failed_analysis(tmp_path: Path) -> None:
    """Found by the fuzz run (whole scan) on tests/data/nginx/access_combined.log: a
    year cut to '026' on a 502 line became year 26, and the incident analysis failed
    converting it to pandas nanoseconds (OverflowError, exit 3)."""
    from logsleuth import api

    sample = Path(__file__).resolve().parents[1] / "data/nginx/access_combined.log"
    lines = sample.read_bytes().split(b"\n")[:40]
    assert b" 502 " in b"\n".join(lines) and b"/Nov/2026:" in lines[1]
    lines[1] = lines[1].replace(b"/Nov/2026:", b"/Nov/026:")
    (tmp_path / "access.log").write_bytes(b"\n".join(lines) + b"\n")
    result = api.scan(tmp_path, workers=1)
    (stats,) = result.inputs
    (warn,) = [d for d in stats.diagnostics if d.code == "implausible-time"]
    assert warn.location.line == 2
    assert stats.records + stats.unparsed_lines == stats.lines == 40
    times = result.table("http_requests")["ts"]
    assert times.null_count == 1 and times[1].as_py() is None
