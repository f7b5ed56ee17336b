"""The regex-free field program must give exactly what the regex path gives.

Each case parses the same bytes twice, with the program and with it switched off
(``parser._fast = None``), and compares every record and the line accounting.
The lines are chosen to break a naive delimiter split: brackets and spaces in
thread names, tabs in loggers, bad digits, truncation, CRLF, non-ASCII, a last
line without newline, records across small chunks.
"""

from __future__ import annotations

import datetime
import io
import random

import numpy as np
import pyarrow as pa
import pytest

from logsleuth.engine.applog import AppLogParser
from logsleuth.engine.extract import plan_extraction, program_plan
from logsleuth.engine.fastfields import FieldProgram, _Classes
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts import CompiledLayout, compile_pattern, load_builtin_layouts
from logsleuth.layouts.regexshape import ALL, alphabet, fixed_classes, leading_fixed, star_class

TS = "2020-04-14 00:00:01.113"
TRICKY = [
    f"{TS} INFO  [main] com.example.App - started",
    f"{TS} DEBUG [pool-2-thread-8] com.example.push.PushService - Pushed id=1 bytes=3543",
    f"{TS} WARN  [AsyncLogger[AsyncContext@5c6]-1] c.e.Weird - thread with brackets",
    f"{TS} INFO  [thread with spaces] c.e.S - spaces in the thread",
    f"{TS} ERROR [] c.e.Empty - empty thread",
    f"{TS} INFO  [main] c.e.Tab\tbed - tab in logger",
    f"{TS} INFO  [main] c.e.NoDash message without separator",
    f"{TS} INFO  [main] c.e.Dash -no space after dash",
    f"{TS} info  [main] c.e.Lower - lower-case level",
    f"{TS} INF0  [main] c.e.Digit - digit in level",
    f"{TS} INFO[main] c.e.Tight - no space before bracket",
    f"{TS} INFO  [main c.e.Open - bracket never closed",
    f"{TS} INFO  [main]",
    f"{TS} INFO",
    f"{TS}",
    "2020-04-1x 00:00:01.113 INFO  [main] c.e.BadDigit - bad digit in date",
    "2020-04-14T00:00:01.113 INFO  [main] c.e.T - T separator",
    "2020-04-14 00:00:01,113 INFO  [main] c.e.Comma - comma millis",
    f"{TS} INFO  [main] c.e.Crlf - windows line\r",
    f"{TS} INFO  [mäin] c.e.Ümlaut - non-ASCII thread and ünïcödé message",
    f"{TS} INFO  [main] c.e.Empty - ",
    f"{TS} INFO  [main] c.e.Dashes - a - b - c ] [ x",
    f"{TS} INFO  [{'t' * 3000}] c.e.Long - a very long thread name",
    f"{TS} ERROR [main] c.e.Fail - it broke",
    "java.lang.NullPointerException: boom",
    "\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:42) ~[app.jar:?]",
    "2020-04-14 00:00:01 continuation line that starts with a date",
    "Caused by: java.lang.IllegalStateException: inner",
    "\t... 15 more",
    "",
    "   ",
]


def _parse(layout: CompiledLayout, data: bytes, *, fast: bool, chunk: int) -> tuple[list, tuple]:
    rows: list[dict] = []
    stats = InputStats("t.log", kind="app-log")
    converter = None
    if layout.timestamp is not None:
        fmt = layout.timestamp

        def converter(values: pa.Array) -> pa.Array:
            return fmt.to_epoch_ms(values, None, base_date=datetime.date(2020, 4, 14)).ms

    parser = AppLogParser("t.log", layout, converter, stats,
                          lambda cb: rows.extend(cb.batch.to_pylist()))
    if not fast:
        parser._fast = None
    feed_stream(io.BytesIO(data), parser, chunk_size=chunk)
    return rows, (stats.records, stats.lines, stats.bytes, stats.unparsed_lines)


def _shuffled(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    lines = [rng.choice(TRICKY) for _ in range(n)]
    return "\n".join(lines).encode()  # no newline after the last line


PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"


@pytest.mark.parametrize("chunk", [1 << 20, 4096])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_program_equals_regex_path_on_tricky_lines(seed: int, chunk: int) -> None:
    layout = compile_pattern(PATTERN)
    data = _shuffled(seed, 600)
    fast = _parse(layout, data, fast=True, chunk=chunk)
    slow = _parse(layout, data, fast=False, chunk=chunk)
    assert fast[1] == slow[1]
    assert fast[0] == slow[0]
    assert _vouched(layout, data) > 100  # the program, not the fallback, read most rows


THREAD_FIRST = "%d{yyyy-MM-dd HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n"
PADDED = [
    f"{TS} [main] INFO  c.e.X - two spaces of padding",
    f"{TS} [main] ERROR c.e.X - one space",
    f"{TS} [main] INFO   - empty logger after padding",
    f"{TS} [main] INFO {' ' * 40}c.e.Far - padding longer than the window",
    f"{TS} [main] INFO\tc.e.Tab - tab instead of padding",
    f"{TS} [main] INFO  ",
    f"{TS} [main] INFO",
    f"{TS} [main] INFO  c.e.X-no-separator",
    f"{TS} [a] b] WARN  c.e.Y - bracket in thread",
]


def _same_records(layout: CompiledLayout, lines: list[str], seed: int,
                  ) -> tuple[bytes, tuple[list, tuple]]:
    """400 lines drawn from ``lines``, read with and without the program: the records must
    be equal. The data and the records, for the caller's further checks."""
    rng = random.Random(seed)
    data = "\n".join(rng.choice(lines) for _ in range(400)).encode()
    fast = _parse(layout, data, fast=True, chunk=1 << 20)
    assert fast == _parse(layout, data, fast=False, chunk=1 << 20)
    return data, fast


@pytest.mark.parametrize("seed", [4, 5])
def test_padding_before_a_field_equals_regex_path(seed: int) -> None:
    layout = compile_pattern(THREAD_FIRST)
    assert FieldProgram.build(layout.header_regex, plan_extraction(layout.fields_regex))
    data, _ = _same_records(layout, PADDED + TRICKY[-8:], seed)
    assert _vouched(layout, data) > 30  # two good shapes of 17: the program read them


def _vouched(layout: CompiledLayout, data: bytes) -> int:
    plan = plan_extraction(layout.fields_regex)  # as AppLogParser picks it
    program = FieldProgram.build(layout.header_regex,
                                 plan if plan.gaps else program_plan(layout.fields_regex))
    assert program is not None
    raw = np.frombuffer(data, np.uint8)
    starts = np.array([0, *[i + 1 for i, b in enumerate(data) if b == 10], len(data)],
                      dtype=np.int64)
    cand = program.candidates(raw, starts)
    ok, _, _ = program.run(raw, pa.py_buffer(data), starts[cand], starts[cand + 1])
    return int(ok.sum())


def test_program_is_built_for_the_bench_layout_and_takes_the_common_lines() -> None:
    layout = compile_pattern(PATTERN)
    program = FieldProgram.build(layout.header_regex, plan_extraction(layout.fields_regex))
    assert program is not None
    data = "\n".join(TRICKY[:2] + TRICKY[-7:-5]).encode() + b"\n"
    raw = np.frombuffer(data, np.uint8)
    starts = np.array([0, *[i + 1 for i, b in enumerate(data) if b == 10]], dtype=np.int64)
    cand = program.candidates(raw, starts)
    assert cand.tolist() == [0, 1]  # the stack-trace lines are not candidates
    ok, cols, prefix = program.run(raw, pa.py_buffer(data), starts[cand], starts[cand + 1])
    assert ok.tolist() == [True, True]
    assert cols["thread"].to_pylist() == [b"main", b"pool-2-thread-8"]
    assert cols["logger"].to_pylist() == [b"com.example.App", b"com.example.push.PushService"]
    assert data[starts[1] + prefix[1]:].startswith(b"Pushed id=1")


TEXT_LAYOUTS = [lay for lay in load_builtin_layouts() if isinstance(lay, CompiledLayout)]


@pytest.mark.parametrize("layout", TEXT_LAYOUTS, ids=lambda lay: lay.name)
def test_every_builtin_layout_gives_the_same_records_with_or_without_program(
        layout: CompiledLayout, layout_samples) -> None:
    samples = layout_samples(layout.name)
    rng = random.Random(7)
    lines = [rng.choice(samples + TRICKY) for _ in range(300)]
    data = "\n".join(lines).encode() + b"\n"
    fast = _parse(layout, data, fast=True, chunk=1 << 20)
    slow = _parse(layout, data, fast=False, chunk=1 << 20)
    assert fast == slow


def test_programs_exist_for_the_common_layouts_only() -> None:
    built = {lay.name: FieldProgram.build(lay.header_regex, plan_extraction(lay.fields_regex))
             is not None for lay in TEXT_LAYOUTS}
    assert built["log4j2-file"] and built["log4j1-iso8601"] and built["logback-default"]
    assert built["log4j2-default"] and built["log4j1-date"]
    assert not built["spring-boot-2-console"]  # ANSI colours: the regex path


def test_classes_check_matches_a_byte_by_byte_check() -> None:
    rng = np.random.default_rng(3)
    digits = frozenset(range(48, 58))
    classes = [digits] * 4 + [frozenset(b"-")] + [frozenset(b".,")] + [ALL] + [digits] * 12
    check = _Classes.of(classes)
    alphabet_bytes = np.frombuffer(b"0123456789-.,x", np.uint8)
    for size in (0, 5, 17, 40, 3000):
        raw = alphabet_bytes[rng.integers(0, len(alphabet_bytes), size)]
        raw[rng.random(size) < 0.5] = 48
        at = np.sort(rng.integers(0, max(size, 1), 400))
        limit = np.minimum(at + rng.integers(0, 30, 400), size)
        want = np.array([a + len(classes) <= lim and all(
            int(raw[a + j]) in cls for j, cls in enumerate(classes)) for a, lim in zip(at, limit, strict=True)])
        assert (check.fits(raw, at, limit) == want).all()


def test_regex_shapes() -> None:
    assert fixed_classes(r"\d{2}:\d{2}[.,]\d{3}") == (
        [frozenset(range(48, 58))] * 2 + [frozenset(b":")] + [frozenset(range(48, 58))] * 2
        + [frozenset(b".,")] + [frozenset(range(48, 58))] * 3)
    assert fixed_classes(r"\d+") is None
    assert fixed_classes("é") is None  # several bytes in UTF-8: not handled
    assert alphabet("(?:[A-Za-z]+) +") == frozenset(b" ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    assert alphabet(r"[^\]\n]*") == ALL - {93, 10}
    assert star_class(r"[^\s\x1b]*") == ALL - frozenset(b"\t\n\f\r \x1b")
    assert star_class(r"[A-Z]+") is None
    assert len(leading_fixed(r"^(?:\d{4}-\d{2}) (?:[A-Za-z]+) *")) == 8
    assert leading_fixed(r"(?:\d{4})") == []  # not anchored


# ``%t`` between literals reads as ``.*?``: the program ends it at the first " | " and
# leaves every row where the rest does not fit from there to RE2, which may take a
# later " | " (a thread named with one). Expected: the same records either way, and the
# program reading the plain rows (the first three shapes, most of the 400 lines).
PIPES = "%d{yyyy-MM-dd'T'HH:mm:ss,SSS} | %-5p | %t | %c | %m%n"
PIPE_TS = "2021-03-01T08:00:00,009"
PIPED = [
    f"{PIPE_TS} | ERROR | http-nio-8080-exec-37 | com.shop.OrderService | req=1 | failed",
    f"{PIPE_TS} | INFO  | main | c.e.App | started | ok",
    f"{PIPE_TS} | WARN  |  | c.e.Empty | empty thread",
    f"{PIPE_TS} | INFO  | pool | worker-1 | c.e.Pipe | a thread holding ' | '",
    f"{PIPE_TS} | INFO  | a | b c | c.e.Later | the first ' | ' leaves a logger with a space",
    f"{PIPE_TS} | INFO  | a|b | c.e.Bar | a bare pipe in the thread",
    f"{PIPE_TS} | INFO  | no logger after the thread",
    f"{PIPE_TS} | INFO  | t |  | empty logger",
    f"{PIPE_TS} | INFO  | t | c.e.X |",
    f"{PIPE_TS} | INFO  | t | c.e.X | ",
    "\tat com.shop.X.y(X.java:1)",
]
SPACED = "%d{yyyy-MM-dd'T'HH:mm:ss,SSS} %t %c %m%n"
SPACE_LINES = [
    f"{PIPE_TS} main c.e.App started",
    f"{PIPE_TS} pool 1 c.e.App a thread with a space: RE2 decides",
    f"{PIPE_TS} main",
    f"{PIPE_TS}  c.e.App empty thread",
    f"{PIPE_TS} main c.e.App",
]


@pytest.mark.parametrize(("pattern", "shapes", "plain"),
                         [(PIPES, PIPED, 3), (SPACED, SPACE_LINES, 1)])
@pytest.mark.parametrize("seed", [6, 7])
def test_lazy_thread_ends_at_the_first_gap_or_goes_back_to_regex(
        pattern: str, shapes: list[str], plain: int, seed: int) -> None:
    layout = compile_pattern(pattern)
    assert "(?P<thread>.*?)" in layout.fields_regex
    assert FieldProgram.build(layout.header_regex, plan_extraction(layout.fields_regex))
    rng = random.Random(seed)
    data = "\n".join(rng.choice(shapes + TRICKY[-4:]) for _ in range(400)).encode()
    fast = _parse(layout, data, fast=True, chunk=1 << 20)
    slow = _parse(layout, data, fast=False, chunk=1 << 20)
    assert fast == slow
    assert _vouched(layout, data) >= 400 * plain // (len(shapes) + 4) // 2


# Five fields before the message are more than one RE2 pass takes (MAX_ONE_PASS_GROUPS):
# RE2 reads them in two passes, the program in one. Expected: the same records either way
# (padded levels trimmed alike), and the program reading the plain rows.
FIVE = "%d{yyyy-MM-dd'T'HH:mm:ss,SSS} | %-5p | %t | %c | req=%X{req} | %m%n"
FIVE_LINES = [
    f"{PIPE_TS} | ERROR | http-nio-8080-exec-37 | com.shop.OrderService | req=1648ee0f | failed",
    f"{PIPE_TS} | INFO  | main | c.e.App | req= | empty key",
    f"{PIPE_TS} | WARN  | pool | w-1 | c.e.Pipe | req=x | a thread holding ' | '",
    f"{PIPE_TS} | INFO  | main | c.e.App | req=a | b | the key holding ' | '",
    f"{PIPE_TS} | INFO  | main | c.e.App | no key",
]


@pytest.mark.parametrize("seed", [8, 9])
def test_more_fields_than_one_regex_pass_equals_regex_path(seed: int) -> None:
    layout = compile_pattern(FIVE)
    assert len(plan_extraction(layout.fields_regex).passes) > 1
    assert FieldProgram.build(layout.header_regex, program_plan(layout.fields_regex))
    data, fast = _same_records(layout, FIVE_LINES + TRICKY[-4:], seed)
    assert {r["level"] for r in fast[0]} >= {"ERROR", "INFO", "WARN"}
    assert _vouched(layout, data) >= 400 * 3 // 9 // 2
