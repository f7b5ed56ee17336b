"""Shared pieces of the GC log parsers: schemas, sizes, scalar clocks, line counting.

The JDK 8 parser and the rare side lines (ZGC stalls, safepoints) fill an
``EventRows`` one event at a time; the unified-logging parser builds columns
directly (``gc_columns``), where wall-clock time is also resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

GC_EVENTS_SCHEMA = pa.schema(
    [
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("line", pa.int64()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("uptime_ms", pa.float64()),
        ("gc_id", pa.int64()),
        ("collector", pa.dictionary(pa.int8(), pa.string())),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
        ("phase", pa.string()),
        ("cause", pa.string()),
        ("pause_ms", pa.float64()),
        ("duration_ms", pa.float64()),
        ("heap_before_kb", pa.int64()),
        ("heap_after_kb", pa.int64()),
        ("heap_capacity_kb", pa.int64()),
        ("is_full", pa.bool_()),
        ("message", pa.string()),
    ]
)

SAFEPOINTS_SCHEMA = pa.schema(
    [
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("line", pa.int64()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("uptime_ms", pa.float64()),
        ("operation", pa.string()),
        ("reaching_ms", pa.float64()),
        ("at_safepoint_ms", pa.float64()),
        ("total_ms", pa.float64()),
    ]
)

_UNIT_KB = {"B": 1 / 1024, "K": 1.0, "M": 1024.0, "G": 1024.0 * 1024, "T": 1024.0**3}

# ISO time as printed by -Xlog `time`/`utctime` and JDK 8 -XX:+PrintGCDateStamps.
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:[+-]\d{4}|Z)?"
_ISO_LEN = 23  # "2026-11-26T10:00:00.123"


def size_kb(number: str | None, unit: str | None) -> int | None:
    """``"24.0", "M"`` -> 24576; None when the size is absent."""
    if number is None:
        return None
    return round(float(number) * _UNIT_KB[unit or "K"])


class LineCounter:
    """Maps ascending text offsets to 1-based line numbers by counting newlines between them."""

    __slots__ = ("_line", "_pos", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1

    def line_at(self, pos: int) -> int:
        if pos < self._pos:  # out of order: recount from the start (rare)
            self._pos, self._line = 0, 1
        self._line += self._text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line


@dataclass(slots=True)
class Clock:
    """Time decorations of one line: ISO wall time, epoch ms from timemillis, uptime ms."""

    time: str | None = None
    wall_ms: int | None = None
    uptime_ms: float | None = None


_CLOCK_TOKEN = re.compile(
    r"\[(?:(\d{4}-\d\d-\d\dT[^\]]*)|(\d+(?:\.\d+)?)(s|ms|ns))\]"
)


def parse_decorations(prefix: str) -> Clock:
    """Read the clocks out of ``[..][..]`` decorations in any order and combination.

    Epoch-based ``timemillis``/``timenanos`` are told from uptimes by magnitude.
    """
    clock = Clock()
    for iso, num, unit in _CLOCK_TOKEN.findall(prefix):
        if iso:
            clock.time = iso
        elif unit == "s":
            clock.uptime_ms = float(num) * 1000.0
        elif unit == "ms":
            v = int(num)
            if v > 10**11:  # timemillis: after 1973
                clock.wall_ms = v
            else:
                clock.uptime_ms = float(v)
        else:
            v = int(num)
            if v > 10**17:  # timenanos
                clock.wall_ms = v // 1_000_000
            else:
                clock.uptime_ms = v / 1e6
    return clock


@dataclass(slots=True)
class EventRows:
    """Column lists of gc_events, filled one event at a time."""

    line: list[int] = field(default_factory=list)
    clock: list[Clock] = field(default_factory=list)
    gc_id: list[int | None] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)
    cause: list[str | None] = field(default_factory=list)
    pause_ms: list[float | None] = field(default_factory=list)
    duration_ms: list[float | None] = field(default_factory=list)
    before: list[int | None] = field(default_factory=list)
    after: list[int | None] = field(default_factory=list)
    capacity: list[int | None] = field(default_factory=list)
    is_full: list[bool] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(self, line: int, clock: Clock, gc_id: int | None, kind: str, phase: str,
            cause: str | None, pause_ms: float | None, duration_ms: float | None,
            before: int | None, after: int | None, capacity: int | None, is_full: bool,
            message: str) -> None:
        self.line.append(line)
        self.clock.append(clock)
        self.gc_id.append(gc_id)
        self.kind.append(kind)
        self.phase.append(phase)
        self.cause.append(cause)
        self.pause_ms.append(pause_ms)
        self.duration_ms.append(duration_ms)
        self.before.append(before)
        self.after.append(after)
        self.capacity.append(capacity)
        self.is_full.append(is_full)
        self.message.append(message)


def iter_line_matches(pattern: re.Pattern[str], text: str,
                      ) -> Iterator[tuple[int, re.Match[str]]]:
    """(line start, match) for a ``\\n``-led pattern at every line, the first included.

    The first line's match is against a copy of that line: use its groups and
    length, not its offsets.
    """
    end = text.find("\n")
    m = pattern.match("\n" + (text if end < 0 else text[:end]))
    if m is not None:
        yield 0, m
    for m in pattern.finditer(text):
        yield m.start() + 1, m


def line_start_matches(text: str, pattern: re.Pattern[str]) -> list[int]:
    """Offsets of the lines ``pattern`` (led by ``\\n``) matches, the first line included.

    The first line has no newline before it and is tested on its own, so the
    whole text is never copied.
    """
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    starts = [0] if first and pattern.match("\n" + first) else []
    starts.extend(m.start() + 1 for m in pattern.finditer(text))
    return starts


def unparsed_summary(text: str, starts: list[int], limit: int,
                     ) -> tuple[int, list[tuple[int, str]]]:
    """Count of unparsed lines and the first ``limit`` as (1-based line, text)."""
    counter = LineCounter(text)
    samples = []
    for ls in starts[:limit]:
        end = text.find("\n", ls)
        samples.append((counter.line_at(ls), text[ls:end if end >= 0 else len(text)].rstrip("\r")))
    return len(starts), samples
