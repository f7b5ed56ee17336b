"""A two-line built-in layout beside a file's dominant one (issue 13): java.util.logging's
SimpleFormatter records (``Dec 18, 2023 2:31:14 PM cls method`` + ``WARNING: msg``) in a
console capture of another layout. Each starts at its date line, its level line belongs
to it, whatever the chunking; a date line without a level line under it starts nothing.

The expected records come from the composed text, which knows what it wrote where.
"""

from __future__ import annotations

import datetime
import io

import pyarrow as pa
import pytest

import logsleuth
from logsleuth.engine.applog import AppLogParser
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts.compile import CompiledLayout, compile_pattern, with_others
from logsleuth.layouts.mixed import known_layouts

APP = compile_pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n", name="app")
JUL = next(lay for lay in known_layouts() if lay.name == "jul-simpleformatter")
T0 = datetime.datetime(2026, 11, 26, 13, 0, tzinfo=datetime.UTC)


def _ms(t: datetime.datetime) -> int:
    return int(t.timestamp() * 1000)


def _composed(lead: int = 0
              ) -> tuple[bytes, list[tuple[int, int, int, str | None, str | None]]]:
    """``lead`` app records, then app records, JUL two-line records (one with a trace)
    and plain stdout, some of it dated; returns the text and the expected records
    (line, n_lines, ms, level, logger)."""
    lines: list[str] = []
    expected: list[list] = []

    def app(i: int, level: str = "INFO ") -> None:
        t = T0 + datetime.timedelta(seconds=i)
        lines.append(f"{t:%Y-%m-%d %H:%M:%S}.{i % 1000:03d} {level} [main] c.e.App - step {i}")
        expected.append([len(lines), 1, _ms(t) + i % 1000, level.strip(), "c.e.App"])

    def jul(i: int, level: str, msg: str) -> None:
        t = T0 + datetime.timedelta(seconds=i)
        hour = t.hour % 12 or 12
        lines.append(f"{t:%b %d, %Y} {hour}:{t:%M:%S %p} sun.util.locale.provider."
                     f"LocaleProviderAdapter <clinit>")
        lines.append(f"{level}: {msg}")
        expected.append([len(lines) - 1, 2, _ms(t), level,
                         "sun.util.locale.provider.LocaleProviderAdapter"])

    def more(*text: str) -> None:  # continues the record before it
        lines.extend(text)
        expected[-1][1] += len(text)

    for i in range(lead):
        app(100 + i)
    app(1)
    app(2, "WARN ")
    jul(3, "WARNING", "COMPAT locale provider will be removed in a future release")
    app(4)
    # plain stdout that merely holds a date, at the start or further in: no record
    more("Dec 18, 2023 2:31:14 PM build started by ci",
         "the build of Dec 18, 2023 2:31:14 PM finished")
    app(5, "ERROR")
    more("java.lang.IllegalStateException: boom", "\tat c.e.App.run(App.java:1)")
    jul(6, "SEVERE", "Exception in thread main")
    more("java.lang.IllegalArgumentException: bad", "\tat c.e.Jul.run(Jul.java:2)")
    # a full date line whose next line is no level: not this layout's shape either
    more("Dec 18, 2023 2:31:15 PM sun.util.Foo bar", "Note: Some input files use unchecked ops")
    app(7)
    for i in range(8, 14):  # records one after the other: chunk boundaries fall between
        jul(i, "INFO", f"record {i}")
    app(14)
    jul(15, "WARNING", "the last record")
    return "".join(line + "\n" for line in lines).encode(), [tuple(e) for e in expected]


def _parser(layout: CompiledLayout, rows: list[dict]) -> AppLogParser:
    fmt = layout.timestamp
    assert fmt is not None

    def convert(values: pa.Array) -> pa.Array:
        return fmt.to_epoch_ms(values, datetime.UTC).ms

    return AppLogParser("t.log", layout, convert, InputStats("t.log", kind="app-log"),
                        lambda cb: rows.extend(cb.batch.to_pylist()), default_tz=datetime.UTC)


def _got(rows: list[dict]) -> list[tuple]:
    return [(r["line"], r["n_lines"], _ms(r["ts"]), r["level"], r["logger"]) for r in rows]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("chunk", [*range(120, 400, 13), 1 << 16])
def test_two_line_records_beside_another_layout_across_chunks(chunk: int, fast: bool) -> None:
    data, expected = _composed()
    rows: list[dict] = []
    parser = _parser(with_others(APP, [JUL]), rows)
    if not fast:
        parser._fast = None
    feed_stream(io.BytesIO(data), parser, chunk_size=chunk)
    assert _got(rows) == expected
    stats = parser.stats
    assert stats.lines == data.count(b"\n") and stats.unparsed_lines == 0
    assert sum(r["n_lines"] for r in rows) == stats.lines  # no line lost
    by_line = {r["line"]: r for r in rows}
    assert by_line[3]["message"] == "COMPAT locale provider will be removed in a future release"
    # the JUL record's trace is its own, not glued to the record before it
    assert by_line[8]["exception"] == "java.lang.IllegalStateException"
    assert by_line[11]["exception"] == "java.lang.IllegalArgumentException"


def test_a_date_line_that_ends_a_chunk_waits_for_its_level_line() -> None:
    data, expected = _composed()
    date_line = data.index(b"Nov 26", data.index(b"step 7"))  # the next record's date line
    cut = data.index(b"\n", date_line) + 1  # the chunk ends after the date line
    rows: list[dict] = []
    parser = _parser(with_others(APP, [JUL]), rows)
    used, lines = parser.feed(memoryview(data[:cut]), 1, final=False)
    assert used == data.index(b"2026", data.index(b"step 7") - 60), "step 7 is carried"
    parser.feed(memoryview(data[used:]), 1 + lines, final=True)
    assert _got(rows) == expected


def test_a_file_ending_on_a_date_line_keeps_it_in_the_record_before() -> None:
    data = (b"2026-11-26 13:00:01.000 INFO  [main] c.e.App - step 1\n"
            b"Dec 18, 2023 2:31:14 PM sun.util.Foo bar\n")
    rows: list[dict] = []
    parser = _parser(with_others(APP, [JUL]), rows)
    feed_stream(io.BytesIO(data), parser, chunk_size=1 << 16)
    assert [(r["line"], r["n_lines"]) for r in rows] == [(1, 2)]


# -- end to end: the built-in is found beside the dominant layout, and only in full --

def _scan(tmp_path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "console.log"
    path.write_text(text, encoding="utf-8")
    return logsleuth.scan(path, tz="UTC", rules=False, analysis=False, workers=1)


def test_a_single_jul_record_beside_another_layout_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data, expected = _composed(lead=60)  # the app layout is the file's dominant one
    result = _scan(tmp_path, data.decode())
    [stats] = result.inputs
    assert "jul-simpleformatter" in stats.layout
    got = sorted(zip(result.records["line"], result.records["n_lines"], strict=True))
    assert got == [(e[0], e[1]) for e in expected]


def test_one_jul_record_is_enough_for_the_builtin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "".join(f"2026-11-26 13:00:{i:02d}.000 INFO  [main] c.e.App - step {i}\n"
                   for i in range(40))
    text += ("Dec 18, 2023 2:31:14 PM sun.util.locale.provider.LocaleProviderAdapter <clinit>\n"
             "WARNING: COMPAT locale provider will be removed in a future release\n")
    text += "2026-11-26 13:01:00.000 INFO  [main] c.e.App - done\n"
    result = _scan(tmp_path, text)
    [stats] = result.inputs
    assert stats.layout.endswith(" + jul-simpleformatter")
    assert (stats.records, stats.unparsed_lines) == (42, 0)
    jul = result.records[result.records["line"] == 41].iloc[0]
    assert (jul["n_lines"], jul["level"]) == (2, "WARNING")
    assert jul["message"] == "COMPAT locale provider will be removed in a future release"


@pytest.mark.parametrize("stdout", [
    "Dec 18, 2023 2:31:14 PM build started by ci\nnext plain line\n",
    "Dec 18, 2023 2:31:14 PM sun.util.Foo bar\nNote: not a level line\n",
    "built on Dec 18, 2023 2:31:14 PM sun.util.Foo bar\nWARNING: the date is not first\n",
])
def test_a_plain_line_with_a_date_is_no_record_of_a_builtin(tmp_path, stdout: str) -> None:  # type: ignore[no-untyped-def]
    text = "".join(f"2026-11-26 13:00:{i:02d}.000 INFO  [main] c.e.App - step {i}\n"
                   for i in range(40))
    result = _scan(tmp_path, text + stdout)
    [stats] = result.inputs
    assert "jul-simpleformatter" not in stats.layout
    assert stats.records == 40
    assert result.records["n_lines"].iloc[-1] == 3  # the stdout continues the last record


# -- the rule itself: one line is enough for a known shape, never for a guess --

def test_a_builtin_needs_one_line_where_an_inferred_layout_needs_two() -> None:
    from logsleuth.layouts.mixed import MIN_KNOWN, other_layouts

    app = [f"2026-11-26 13:00:{i:02d}.000 INFO  [main] c.e.App - step {i}" for i in range(40)]
    jul = ["Dec 18, 2023 2:31:14 PM sun.util.locale.provider.LocaleProviderAdapter <clinit>",
           "WARNING: COMPAT locale provider will be removed in a future release"]
    build = ["[2023-12-18T13:31:13.096494Z] [BUILD] Starting Elasticsearch process"]
    lines = app[:20] + jul + build + app[20:]
    read = [ln in app for ln in lines]
    others, why = other_layouts(read, lines)
    assert MIN_KNOWN == 1
    assert [(o.layout.name, o.lines) for o in others] == [("jul-simpleformatter", 1)]
    assert "built-in layout jul-simpleformatter on 1" in why[0]
    # the same date line without its level line under it is no record of the built-in
    others, _ = other_layouts([ln in app for ln in app + jul[:1]], app + jul[:1])
    assert others == ()


def test_a_name_with_a_builtin_in_it_is_reusable_with_pattern(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data, _ = _composed(lead=60)
    guessed = _scan(tmp_path, data.decode())
    name = guessed.inputs[0].layout
    assert name.endswith(" + jul-simpleformatter")
    path = tmp_path / "console.log"
    pinned = logsleuth.scan(path, tz="UTC", rules=False, analysis=False, workers=1,
                            pattern=name)
    cols = ["line", "n_lines", "ts", "level", "logger", "message", "exception"]
    assert pinned.records[cols].astype(str).values.tolist() == \
        guessed.records[cols].astype(str).values.tolist()
