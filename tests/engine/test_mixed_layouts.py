"""Several layouts in one file (issue 13): each line a layout reads starts a record,
read by that layout, whatever the chunking and whether the field program runs.

The expected records come from the generator, which knows which line it wrote in
which layout; the parser only sees the bytes.
"""

from __future__ import annotations

import datetime
import io
import random

import pyarrow as pa
import pytest

from logsleuth.engine.applog import AppLogParser
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts.compile import CompiledLayout, compile_pattern, with_others

APP = compile_pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n", name="app")
BUILD = compile_pattern("[%d{yyyy-MM-dd'T'HH:mm:ss.SSSSSSX}] [%t] %m%n", name="build")
JULI = compile_pattern("%d{dd-MMM-yyyy HH:mm:ss.SSS} %p [%t] %c %m%n", name="juli")
T0 = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


def _ms(t: datetime.datetime) -> int:
    return int(t.timestamp() * 1000)


def _mixed_text(seed: int, n: int) -> tuple[bytes, list[tuple[int, int, int, str | None]], int]:
    """Lines in three layouts, traces and plain stdout; returns the text, the expected
    records (line, n_lines, epoch ms, thread) and the plain lines before the first."""
    rnd = random.Random(seed)
    lines: list[str] = []
    expected: list[list] = []
    leading = 0
    for i in range(n):
        t = T0 + datetime.timedelta(seconds=i, microseconds=rnd.randrange(10**6))
        kind = rnd.choice(["app", "app", "app", "build", "juli", "plain", "trace"])
        if kind == "app":
            lines.append(f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} "
                         f"{rnd.choice(['INFO ', 'WARN ', 'ERROR'])} [worker-{i % 3}] c.e.App - "
                         f"step {i}")
            expected.append([len(lines), 1, _ms(t.replace(microsecond=t.microsecond // 1000
                                                          * 1000)), f"worker-{i % 3}"])
        elif kind == "build":
            lines.append(f"[{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}Z] [BUILD] task {i}")
            expected.append([len(lines), 1, _ms(t.replace(microsecond=t.microsecond // 1000
                                                          * 1000)), "BUILD"])
        elif kind == "juli":
            lines.append(f"{t:%d-%b-%Y %H:%M:%S}.{t.microsecond // 1000:03d} INFO [main] "
                         f"org.apache.catalina.startup.Catalina.start started {i}")
            expected.append([len(lines), 1, _ms(t.replace(microsecond=t.microsecond // 1000
                                                          * 1000)), "main"])
        else:
            more = (["java.lang.IllegalStateException: boom", "\tat c.e.App.run(App.java:1)"]
                    if kind == "trace" else [f"plain stdout {i}"])
            lines.extend(more)
            if expected:
                expected[-1][1] += len(more)
            else:
                leading += len(more)
    text = "".join(line + "\n" for line in lines).encode()
    return text, [tuple(e) for e in expected], leading


def _parse(layout: CompiledLayout, data: bytes, *, chunk: int, fast: bool = True
           ) -> tuple[list[dict], InputStats]:
    rows: list[dict] = []
    stats = InputStats("t.log", kind="app-log")
    fmt = layout.timestamp
    assert fmt is not None

    def convert(values: pa.Array) -> pa.Array:
        return fmt.to_epoch_ms(values, None).ms

    parser = AppLogParser("t.log", layout, convert, stats,
                          lambda cb: rows.extend(cb.batch.to_pylist()))
    if not fast:
        parser._fast = None
    feed_stream(io.BytesIO(data), parser, chunk_size=chunk)
    return rows, stats


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("chunk", [256, 1024, 1 << 16])
@pytest.mark.parametrize("fast", [True, False])
def test_each_layout_starts_its_own_records_across_chunks(seed: int, chunk: int,
                                                          fast: bool) -> None:
    data, expected, leading = _mixed_text(seed, 300)
    rows, stats = _parse(with_others(APP, [BUILD, JULI]), data, chunk=chunk, fast=fast)
    got = [(r["line"], r["n_lines"], _ms(r["ts"]), r["thread"]) for r in rows]
    assert got == expected
    assert stats.records == len(expected)
    assert stats.lines == data.count(b"\n") and stats.unparsed_lines == leading
    # every line is in a record or counted as unparsed
    assert sum(r["n_lines"] for r in rows) + stats.unparsed_lines == stats.lines
    # each record's fields come from its own layout
    for r in rows:
        if r["thread"] == "BUILD":
            assert r["level"] is None and r["logger"] is None
        elif r["thread"] == "main":
            assert r["logger"] == "org.apache.catalina.startup.Catalina.start"
        else:
            assert r["logger"] == "c.e.App" and r["level"] in ("INFO", "WARN", "ERROR")


def test_the_exception_stays_in_the_record_it_follows() -> None:
    data = (b"[2026-11-26T10:00:00.000001Z] [BUILD] starting\n"
            b"2026-11-26 10:00:01.000 ERROR [main] c.e.App - failed\n"
            b"java.lang.IllegalStateException: boom\n"
            b"\tat c.e.App.run(App.java:1)\n"
            b"[2026-11-26T10:00:02.000001Z] [BUILD] done\n")
    rows, stats = _parse(with_others(APP, [BUILD]), data, chunk=1 << 16)
    assert [(r["line"], r["n_lines"], r["exception"]) for r in rows] == [
        (1, 1, None), (2, 3, "java.lang.IllegalStateException"), (5, 1, None)]
    assert stats.unparsed_lines == 0


def test_without_other_layouts_the_layout_is_the_same_object() -> None:
    assert with_others(APP, []) is APP
    mixed = with_others(APP, [BUILD])
    assert mixed.name == "app + build" and mixed.others == (BUILD,)
    assert mixed.header_regex == APP.header_regex and mixed.fields_regex == APP.fields_regex


def test_a_single_layout_file_parses_alike_with_an_unused_other_layout() -> None:
    """The further layout costs one regex pass and changes nothing when it reads nothing."""
    data, _, _ = _mixed_text(7, 200)
    only_app = b"".join(line + b"\n" for line in data.splitlines()
                        if not line.startswith((b"[", b"2")) or line[:4] == b"2026")
    alone, s1 = _parse(APP, only_app, chunk=1024)
    beside, s2 = _parse(with_others(APP, [BUILD]), only_app, chunk=1024)
    assert alone == beside
    assert (s1.records, s1.lines, s1.unparsed_lines) == (s2.records, s2.lines, s2.unparsed_lines)
