"""Records from text without a layout: what is a record, what is counted as unparsed."""

from __future__ import annotations

import pyarrow as pa

from logsleuth import api
from logsleuth.engine.freetext import exception_columns, group_lines

OODM = ("io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 16777216 byte(s) of"
        " direct memory (used: 520093983, max: 536870912)")


def _lines(*lines: str) -> pa.Array:
    return pa.array([(ln + "\n").encode() for ln in lines], pa.large_binary())


def test_an_exception_logged_without_its_trace_is_a_record(write) -> None:
    path = write("note.txt", f"we saw this in production:\n{OODM}\nthen it recovered\n")
    result = api.scan(path, workers=1)
    (row,) = result.table("records").to_pylist()
    assert (row["line"], row["n_lines"]) == (2, 1)
    assert row["exception"] == "io.netty.util.internal.OutOfDirectMemoryError"
    assert result.inputs[0].unparsed_lines == 2
    assert "netty-out-of-direct-memory" in {f.rule for f in result.findings}


def test_a_log_line_before_frames_heads_the_record() -> None:
    g = group_lines(_lines("boom while encoding", "\tat a.B.encode(B.java:1)", "", "tail"),
                    final=True)
    assert (g.heads.tolist(), g.ends.tolist(), g.unparsed.tolist()) == ([0], [2], [2, 3])


def test_source_code_is_not_a_trace() -> None:
    g = group_lines(_lines("def main() -> None:", "    sock.close()",
                           "    except requests.exceptions.ConnectionError:", "        pass"),
                    final=True)
    assert len(g.heads) == 0 and len(g.unparsed) == 4


def test_a_trace_at_the_chunk_end_waits_for_the_next_chunk() -> None:
    g = group_lines(_lines("x", "java.lang.Error: e", "\tat a.B.c(B.java:1)"), final=False)
    assert g.end_line == 1 and len(g.heads) == 0


def test_exception_columns_of_a_pasted_cause() -> None:
    text = (b"Caused by: java.net.ConnectException: refused\n  at a.B.c(B.java:1)\n"
            b"  ... 3 more\n")
    assert exception_columns(text) == ("java.net.ConnectException",
                                       "java.net.ConnectException", "a.B.c")


def test_a_leak_report_without_its_logger_header(write) -> None:
    """The report as a console or a ticket keeps it: no time, level or logger first."""
    report = ("LEAK: ByteBuf.release() was not called before it's garbage-collected. See "
              "https://netty.io/wiki/reference-counted-objects.html for more information.\n"
              "Recent access records:\n"
              "#1:\n"
              "\tio.netty.buffer.AdvancedLeakAwareByteBuf.writeBytes(AdvancedLeakAwareByteBuf.java:604)\n"
              "Created at:\n"
              "\tio.netty.buffer.PooledByteBufAllocator.newDirectBuffer(PooledByteBufAllocator.java:349)\n")
    result = api.scan(write("ticket.txt", "seen twice this week:\n" + report), workers=1)
    (row,) = result.table("records").to_pylist()
    assert (row["line"], row["n_lines"], row["exception"]) == (2, 6, None)
    assert {f.rule for f in result.findings} == {"netty-resource-leak"}
