"""Shared pieces of the GC log parsers: event rows, sizes, clocks and line counting.

Both the unified-logging (JDK 9+) and the JDK 8 parser fill an ``EventRows``
(column lists, one append per event: events are rare next to lines) and hand
it to ``build_events_table``, which resolves wall-clock time in one vectorised
step: ``time`` strings are parsed by numpy, uptime-only events are anchored
with a per-file offset (wall time minus uptime), and everything else stays null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import numpy as np
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


def _offset_minutes(suffix: str, default_tz: tzinfo | None, iso: str) -> int:
    if suffix == "Z":
        return 0
    if suffix:
        sign = -1 if suffix[0] == "-" else 1
        return sign * (int(suffix[1:3]) * 60 + int(suffix[3:5]))
    if default_tz is not None:
        off = default_tz.utcoffset(datetime.fromisoformat(iso))
        return int(off.total_seconds() // 60) if off is not None else 0
    return 0


def zone_name(suffix: str) -> str:
    """``+0100`` -> ``+01:00``; ``Z``/``+0000`` -> ``UTC``."""
    if suffix in ("Z", "+0000", "-0000"):
        return "UTC"
    return f"{suffix[:3]}:{suffix[3:5]}"


def iso_to_epoch_ms(times: list[str], default_tz: tzinfo | None) -> np.ndarray:
    """Vectorised ISO -> epoch ms (int64); offsets handled per distinct suffix."""
    base = np.array([t[:_ISO_LEN] for t in times], dtype="datetime64[ms]").astype(np.int64)
    cache: dict[str, int] = {}
    offs = np.empty(len(times), dtype=np.int64)
    for i, t in enumerate(times):
        suf = t[_ISO_LEN:]
        m = cache.get(suf)
        if m is None:
            m = cache[suf] = _offset_minutes(suf, default_tz, t[:_ISO_LEN])
        offs[i] = m
    return base - offs * 60_000


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


@dataclass(slots=True)
class TimeResolution:
    """Epoch-ms per clock plus what the caller should report (zone, notes)."""

    ts: list[int | None]
    timezone: str | None
    anchored: bool  # every uptime-only clock got a wall time


def resolve_times(clocks: list[Clock], default_tz: tzinfo | None,
                  jvm_start_ms: int | None, anchor_hint: int | None) -> TimeResolution:
    """Turn decorations into epoch ms; anchor uptime-only clocks via a JVM start time.

    The start is ``jvm_start_ms`` when given, else (wall - uptime) from the first clock
    that has both, else ``anchor_hint`` (found elsewhere in the file).
    """
    idx = [i for i, c in enumerate(clocks) if c.time is not None]
    wall: list[int | None] = [c.wall_ms for c in clocks]
    zone = None
    if idx:
        ms = iso_to_epoch_ms([clocks[i].time for i in idx], default_tz)  # type: ignore[misc]
        for i, v in zip(idx, ms.tolist(), strict=True):
            wall[i] = v
        suf = clocks[idx[-1]].time[_ISO_LEN:]  # type: ignore[index]
        zone = zone_name(suf) if suf else (str(default_tz) if default_tz else None)
    start = jvm_start_ms
    if start is None:
        for c, w in zip(clocks, wall, strict=True):
            if w is not None and c.uptime_ms is not None:
                start = round(w - c.uptime_ms)
                break
    if start is None:
        start = anchor_hint
    anchored = True
    for i, c in enumerate(clocks):
        if wall[i] is None and c.uptime_ms is not None:
            if start is None:
                anchored = False
            else:
                wall[i] = round(start + c.uptime_ms)
    return TimeResolution(wall, zone, anchored)


def build_events_table(rows: EventRows, source: str, collector: str,
                       ts: list[int | None]) -> pa.Table:
    n = len(rows.line)
    cols = [
        pa.array([source] * n, pa.string()).dictionary_encode(),
        pa.array(rows.line, pa.int64()),
        pa.array(ts, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        pa.array([c.uptime_ms for c in rows.clock], pa.float64()),
        pa.array(rows.gc_id, pa.int64()),
        pa.array([collector] * n, pa.string()).dictionary_encode(),
        pa.array(rows.kind, pa.string()).dictionary_encode(),
        pa.array(rows.phase, pa.string()),
        pa.array(rows.cause, pa.string()),
        pa.array(rows.pause_ms, pa.float64()),
        pa.array(rows.duration_ms, pa.float64()),
        pa.array(rows.before, pa.int64()),
        pa.array(rows.after, pa.int64()),
        pa.array(rows.capacity, pa.int64()),
        pa.array(rows.is_full, pa.bool_()),
        pa.array(rows.message, pa.string()),
    ]
    cols = [c.cast(f.type) for c, f in zip(cols, GC_EVENTS_SCHEMA, strict=True)]
    return pa.Table.from_arrays(cols, schema=GC_EVENTS_SCHEMA)


def find_unparsed(text: str, bad_line: re.Pattern[str], limit: int,
                  ) -> tuple[int, list[tuple[int, str]]]:
    """Count lines matched by ``bad_line`` (which starts at a ``\\n``); keep the first few.

    ``text`` must start with a newline sentinel so the first line is seen too; line
    numbers are therefore the count of newlines before the match's line.
    """
    count = 0
    samples: list[tuple[int, str]] = []
    counter = LineCounter(text)
    for m in bad_line.finditer(text):
        count += 1
        if len(samples) < limit:
            line = counter.line_at(m.start() + 1) - 1
            samples.append((line, m.group(0)[1:].rstrip("\r")))
    return count, samples
