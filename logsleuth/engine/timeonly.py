"""Dates for app logs whose layout prints only a time of day (``%d{HH:mm:ss.SSS}``).

Such a log says when in the day, never which day. The day of its first record
comes, in order, from ``--date``, a date in the file name, sibling evidence with
full dates that the log's times fall into, or the file's modification time (the
day of the *last* record, earlier records reached back across midnights). The
clock going backwards by more than ``ROLLOVER_MS`` is a midnight. Each input's
choice is reported as an info diagnostic; with none of them, records keep no
timestamp and the scan says to pass ``--date``.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.guard import reported
from logsleuth.errors import DiagLevel, Diagnostic, PatternError, SourceLocation
from logsleuth.model import Kind
from logsleuth.sources.opening import open_disk

DAY_MS = 86_400_000
# Backwards by more than this is a new day: a DST fall-back is 1 h, async or
# multi-threaded appenders disorder records by seconds.
ROLLOVER_MS = 2 * 3_600_000
# A sibling's span must hold the log's first time of day within this slack.
SIBLING_SLACK_MS = 30 * 60_000
_TAIL_BYTES = 64 * 1024
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<sep>[-_.]?)(?P<m>\d{2})(?P=sep)(?P<d>\d{2})(?!\d)")


@dataclass(frozen=True, slots=True)
class DateAnchor:
    """The date of an input's first record, and where it came from."""

    day: date
    source: str  # "--date", "the file name", "sibling evidence", "the modification time"
    why: str

    def diagnostic(self, path: str) -> Diagnostic:
        return Diagnostic(SourceLocation(path), "time-only-date",
                          f"time-only layout: first record dated {self.day} from "
                          f"{self.source} ({self.why})", level=DiagLevel.INFO)


def parse_date(text: str | None) -> date | None:
    """``--date YYYY-MM-DD``; a bad value is a usage error."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PatternError.at("--date", "bad-date",
                              f"'{text}' is not a date YYYY-MM-DD (e.g. 2026-11-26)") from None


def date_in_name(path: str) -> date | None:
    """``app-2026-11-26.log``, ``app.2026-11-26.0.log``, ``app_20261126.log.gz``."""
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    for m in _NAME_DATE.finditer(name):
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            continue
    return None


def needs_date(layout: object | None) -> bool:
    """A text layout whose timestamp lacks the year (time-only or ``MMM dd``)."""
    fmt = getattr(layout, "timestamp", None)
    return bool(getattr(fmt, "needs_base_date", False)) and hasattr(layout, "fields_regex")


class TimeOfDayClock:
    """Converts one input's timestamps chunk after chunk, carrying the day over midnights.

    Keeps only two integers between chunks, so it runs on the engine's fast path.
    Known limit: a log silent for more than 22 h (or more than 24 h) is misdated
    from there on: a time of day alone cannot tell.
    """

    def __init__(self, fmt: Any, start: date, tz: tzinfo | None) -> None:
        self.fmt, self.start, self.tz = fmt, start, tz
        self.days = 0
        self.last_local: int | None = None  # wall-clock ms of the last dated record

    def __call__(self, values: pa.Array) -> pa.Array:
        from logsleuth.layouts.epoch import local_offsets_ms

        fmt = self.fmt
        if fmt.has_date:  # month and day are printed: only the year was missing
            return fmt.to_epoch_ms(values, self.tz, base_date=self.start).ms
        got = fmt.to_epoch_ms(values, None, base_date=self.start, rollover=False)
        valid = got.ms.is_valid().to_numpy(zero_copy_only=False)
        local = (got.ms.fill_null(0).to_numpy(zero_copy_only=False)
                 + got.offset_ms.fill_null(0).to_numpy(zero_copy_only=False)).astype(np.int64)
        idx = np.flatnonzero(valid)
        if len(idx):
            seq = local[idx] + self.days * DAY_MS
            prev = seq[0] if self.last_local is None else self.last_local
            step = np.diff(seq, prepend=prev)
            # the wall clock is a circle: back by more than the tolerance is the next day,
            # forward by almost a day is a record a little out of order across midnight
            rolled = np.cumsum((step < -ROLLOVER_MS).astype(np.int64)
                               - (step > DAY_MS - ROLLOVER_MS))
            seq += rolled * DAY_MS
            local[idx] = seq
            self.days += int(rolled[-1])
            self.last_local = int(seq[-1])
        if fmt.has_zone or fmt.zone:
            offset = got.offset_ms.fill_null(0).to_numpy(zero_copy_only=False)
        elif self.tz is not None and self.tz is not UTC:
            offset = local_offsets_ms(local, valid, self.tz)
        else:
            offset = 0
        return pa.array(local - offset, pa.int64(), mask=~valid)


def _header_times(layout: Any, data: bytes) -> pa.Array:
    """The ``ts`` strings of the header lines in ``data`` (zero-copy lines, one RE2 pass)."""
    from logsleuth.parsers.lines import line_offsets, lines_array

    lines = lines_array(data, line_offsets(np.frombuffer(data, np.uint8), final=True))
    heads = lines.filter(pc.match_substring_regex(lines, layout.header_regex))
    if len(heads) == 0:
        return pa.array([], pa.string())
    ts = pc.extract_regex(heads, layout.fields_regex).field("ts")
    try:
        return ts.cast(pa.string())
    except pa.ArrowInvalid:  # invalid UTF-8 in a timestamp: such a value reads as null
        return pa.array([None if v is None else v.decode("utf-8", "replace")
                         for v in ts.to_pylist()], pa.string())


def walk_days(source: Any, layout: Any) -> TimeOfDayClock:
    """Read the whole input once: midnights crossed and the last record's time of day.

    The engine's own parser runs with this clock as its converter and no sink, so
    the walk costs a parse without the collectors.
    """
    from logsleuth.engine.applog import AppLogParser
    from logsleuth.engine.reader import feed_stream
    from logsleuth.engine.stats import InputStats
    from logsleuth.errors import InputError

    clock = TimeOfDayClock(layout.timestamp, date(2000, 1, 1), None)
    parser = AppLogParser(getattr(source, "path", "?"), layout, clock, InputStats("walk"))
    # a truncated archive raises after its last records: those count
    with source.open() as stream, contextlib.suppress(InputError):
        feed_stream(stream, parser)
    return clock


def _first_time_of_day(layout: Any, head: bytes) -> int | None:
    clock = TimeOfDayClock(layout.timestamp, date(2000, 1, 1), None)
    valid = clock(_header_times(layout, head)).drop_null()
    return int(valid[0].as_py()) % DAY_MS if len(valid) else None


def _tail(source: Any) -> bytes:
    """The last whole lines of a plain file (cheap: one seek); nothing otherwise."""
    if not getattr(source, "splittable", False) or source.size <= _TAIL_BYTES:
        return b""
    with open_disk(source.path, source.fs_path) as f:
        f.seek(source.size - _TAIL_BYTES)
        data = f.read(_TAIL_BYTES)
    return data[data.find(b"\n") + 1:]


def _span_local(p: Any) -> tuple[int, int] | None:
    """Wall-clock span (ms, as if UTC) of a dated sibling's head and tail."""
    from logsleuth.engine.zone import SIBLINGS, _offset_minutes

    texts = [p.head[: p.head.rfind(b"\n") + 1], _tail(p.source)]
    lows, highs = [], []
    for text in texts:
        if not text:
            continue
        if p.kind in SIBLINGS:
            module, func, table = SIBLINGS[p.kind]
            result = getattr(importlib.import_module(module), func)(text, p.source.path)
            t = result.tables.get(table)
            if t is None or t.num_rows == 0:
                continue
            minutes = _offset_minutes(result.timezone) or 0
            ms = t["ts"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
            local = pc.add(ms, minutes * 60_000)
        elif p.kind == Kind.APP_LOG and hasattr(p.layout, "fields_regex") \
                and p.layout.timestamp is not None and not p.layout.timestamp.needs_base_date:
            got = p.layout.timestamp.to_epoch_ms(
                _header_times(p.layout, text), None)
            local = pc.add(got.ms, got.offset_ms)
        else:
            return None
        lo, hi = pc.min_max(local).values()
        if lo.as_py() is not None:
            lows.append(lo.as_py())
            highs.append(hi.as_py())
    return (min(lows), max(highs)) if lows else None


def _from_siblings(p: Any, planned: Sequence[Any], diagnostics: list[Diagnostic],
                   spans: dict[int, tuple[int, int] | None]) -> DateAnchor | None:
    """The one day on which the log's first time of day falls inside its dated siblings.

    A sibling whose span holds that time of day on two days says nothing; siblings
    that name different days cancel out.
    """
    if p.layout.timestamp.has_date:
        return None
    t0 = _first_time_of_day(p.layout, p.head)
    if t0 is None:
        return None
    days: dict[date, str] = {}
    for other in planned:
        if other is p:
            continue
        if id(other) not in spans:  # each sibling is read once per scan
            spans[id(other)] = None
            with reported(other.source.path, "reading this input's dates as a sibling's",
                          diagnostics):
                spans[id(other)] = _span_local(other)
        span = spans[id(other)]
        if span is None:
            continue
        lo, hi = span[0] - SIBLING_SLACK_MS, span[1] + SIBLING_SLACK_MS
        first, last = -(-(lo - t0) // DAY_MS), (hi - t0) // DAY_MS  # days holding t0
        if first == last:
            days.setdefault(date(1970, 1, 1) + timedelta(days=first), other.source.path)
    if len(days) != 1:
        return None
    (day, path), = days.items()
    return DateAnchor(day, "sibling evidence",
                      f"its first time of day falls within {path} on that day and no other")


def _from_mtime(p: Any, tz: tzinfo | None) -> DateAnchor | None:
    mtime = getattr(p.source, "mtime", None)
    if mtime is None:
        return None
    zone = tz or UTC
    modified = datetime.fromtimestamp(mtime, zone)
    label = "UTC (zone unknown)" if tz is None else str(tz)
    if p.layout.timestamp.has_date:  # ``MMM dd HH:mm:ss``: only the year is missing
        return DateAnchor(date(modified.year, 1, 1), "the modification time",
                          f"the year of {modified:%Y-%m-%d %H:%M:%S} {label}")
    clock = walk_days(p.source, p.layout)
    if clock.last_local is None:
        return None
    last_tod = clock.last_local % DAY_MS
    mod_tod = (modified.hour * 3600 + modified.minute * 60 + modified.second) * 1000
    # the last record was written before the file was last modified
    last_day = modified.date() - timedelta(days=1 if last_tod > mod_tod + 1000 else 0)
    start = last_day - timedelta(days=clock.days)
    return DateAnchor(start, "the modification time",
                      f"last modified {modified:%Y-%m-%d %H:%M:%S} {label}; the last record "
                      f"is on {last_day}, {clock.days} midnight(s) after the first")


def date_anchors(planned: Sequence[Any], explicit: date | None, tz: tzinfo | None,
                 diagnostics: list[Diagnostic]) -> dict[str, date]:
    """First-record dates of the time-only app logs, by path; each choice reported."""
    out: dict[str, date] = {}
    spans: dict[int, tuple[int, int] | None] = {}
    for p in planned:
        if getattr(p, "kind", None) != Kind.APP_LOG or not needs_date(p.layout):
            continue
        path = p.source.path
        anchor = None
        if explicit is not None:
            anchor = DateAnchor(explicit, "--date", "given explicitly")
        elif (named := date_in_name(path)) is not None:
            anchor = DateAnchor(named, "the file name", path.rsplit("/", 1)[-1])
        else:
            with reported(path, "dating this time-only log", diagnostics):
                anchor = (_from_siblings(p, planned, diagnostics, spans)
                          or _from_mtime(p, tz))
        if anchor is None:
            diagnostics.append(Diagnostic(
                SourceLocation(path), "time-only-undated",
                "time-only layout and no date in the file name, its siblings or its "
                "modification time: records keep no timestamp", level=DiagLevel.WARNING,
                help="pass --date YYYY-MM-DD (the date of the first record)"))
            continue
        diagnostics.append(anchor.diagnostic(path))
        out[path] = anchor.day
    return out
