"""One test per defect the fuzz run (tests/test_fuzz.py) found, on the input it found.

Each keeps the smallest real excerpt that showed the defect, so it fails again if
the defect comes back.
"""

from __future__ import annotations

import io

import pyarrow.compute as pc

from logsleuth.engine.applog import AppLogParser, ChunkBatch
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts import compile_pattern

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
