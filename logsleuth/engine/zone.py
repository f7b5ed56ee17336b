"""Time zone of zone-less app logs, inferred from sibling evidence with offsets.

log4j2 prints local wall-clock time without an offset; the GC log of the same
JVM (``-Xlog`` ``time`` decoration) and nginx (``$time_local``) print the host's
offset. Reading the app log in a sibling's offset must make its first record
line up with the sibling's first event; the offset that does is chosen, and the
reason is reported.

A GC log stamped in UTC (``utctime``) or epoch ms (``timemillis``) gives instants but
not the host's offset. When it also prints the uptime, it gives the JVM's start to the
ms, and the app log of that JVM begins seconds after it: the quarter-hour offset that
puts the app log's first record within ``START_LAG_MS`` after the start is the app
log's. Nothing is guessed when no sibling lines up either way.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.guard import reported
from logsleuth.errors import Diagnostic
from logsleuth.model import Kind

MAX_GAP_MS = 15 * 60_000  # first events further apart than this do not line up
QUARTER_MS = 15 * 60_000  # real UTC offsets are whole quarter hours, -12 h..+14 h
# how long after the JVM starts its app log's first record may come (logging is set up
# in the first seconds); well under a quarter hour, so at most one offset fits
START_LAG_MS = 60_000
SIBLINGS: dict[Kind, tuple[str, str, str]] = {
    Kind.GC_LOG: ("logsleuth.parsers.gc", "parse_gc_log", "gc_events"),
    Kind.NGINX_ACCESS: ("logsleuth.parsers.nginx", "parse_nginx_access", "http_requests"),
}
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True, slots=True)
class ZoneInference:
    tz: tzinfo
    label: str  # "+01:00"
    why: str


def _offset_minutes(text: str | None) -> int | None:
    if text in ("UTC", "Z", "+00:00", "+0000"):
        return 0
    m = _OFFSET.match(text or "")
    if m is None:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    return -minutes if m[1] == "-" else minutes


@dataclass(frozen=True, slots=True)
class _Sibling:
    path: str
    minutes: int | None  # the offset it writes (None: epoch ms, or no offset printed)
    first_ms: int  # its first event
    start_ms: int | None  # the JVM's start: a GC event's wall clock less its uptime


def _sibling(kind: Kind, head: bytes, path: str) -> _Sibling | None:
    """What the head of a GC or nginx log says about instants and offsets."""
    module, func, table = SIBLINGS[kind]
    head = head[: head.rfind(b"\n") + 1]
    result = getattr(importlib.import_module(module), func)(head, path)
    t = result.tables.get(table)
    if t is None or t.num_rows == 0:
        return None
    ms = t["ts"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    first = pc.min(ms).as_py()
    if first is None:  # uptime only: no instants at all
        return None
    start = None
    if "uptime_ms" in t.column_names:
        both = pc.and_(pc.is_valid(ms), pc.is_valid(t["uptime_ms"]))
        if pc.any(both).as_py():
            i = pc.index(both, True).as_py()
            start = round(ms[i].as_py() - t["uptime_ms"][i].as_py())
    return _Sibling(path, _offset_minutes(result.timezone), first, start)


def _label(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def infer_zone(app_first_local_ms: int | None,
               siblings: Sequence[tuple[str, Kind, bytes]],
               diagnostics: list[Diagnostic] | None = None) -> ZoneInference | None:
    """The offset that makes the app log's first record line up with its siblings'."""
    if app_first_local_ms is None:
        return None
    seen: list[_Sibling] = []
    for path, kind, head in siblings:
        with reported(path, "reading this input's head for its zone", diagnostics):
            if (s := _sibling(kind, head, path)) is not None:
                seen.append(s)
    best: tuple[int, int, str] | None = None
    for sib in seen:
        if sib.minutes is None:
            continue
        gap = abs(app_first_local_ms - sib.minutes * 60_000 - sib.first_ms)
        if best is None or gap < best[0]:
            best = (gap, sib.minutes, sib.path)
    if best is None or best[0] > MAX_GAP_MS:
        return _from_jvm_start(app_first_local_ms, seen)
    gap, minutes, path = best
    label = _label(minutes)
    as_utc = min(abs(app_first_local_ms - sib.first_ms) for sib in seen)
    why = (f"inferred from {path}, which writes {label}: read in {label} the app log's first "
           f"record is {gap / 1000:.0f} s from its first event ({as_utc / 1000:.0f} s as UTC)")
    return ZoneInference(timezone(timedelta(minutes=minutes)), label, why)


def _from_jvm_start(app_first_local_ms: int, seen: Sequence[_Sibling]) -> ZoneInference | None:
    """The one quarter-hour offset that puts the app log's first record just after the JVM
    start a GC log states (wall clock and uptime on one event), whatever offset it writes."""
    fits = {}
    for sib in seen:
        if sib.start_ms is None:
            continue
        delta = app_first_local_ms - sib.start_ms
        off = (delta + 1000) // QUARTER_MS * QUARTER_MS  # 1 s: stamps of both are rounded
        lag = delta - off
        if -1000 <= lag <= START_LAG_MS and -12 * 4 <= off // QUARTER_MS <= 14 * 4:
            fits.setdefault(off, (lag, sib.path))
    if len(fits) != 1:
        return None
    ((off, (lag, path)),) = fits.items()
    label = _label(off // 60_000)
    why = (f"inferred from the JVM start in {path} (its wall clock less its uptime; it "
           f"writes instants, not the host's offset): read in {label} the app log's first "
           f"record comes {lag / 1000:.1f} s after the JVM started")
    return ZoneInference(timezone(timedelta(minutes=off // 60_000)), label, why)


def zone_for(planned: Sequence[object], first_instant: Callable[[object], int | None],
             diagnostics: list[Diagnostic] | None = None) -> ZoneInference | None:
    """Infer the zone of the planned zone-less app logs, if they have siblings."""
    zone_less = [p for p in planned if getattr(p, "kind", None) == Kind.APP_LOG
                 and getattr(getattr(p.layout, "timestamp", None), "has_zone", True) is False]
    if not zone_less:
        return None
    firsts = [t for p in zone_less if (t := first_instant(p)) is not None]
    siblings = [(p.source.path, p.kind, p.head) for p in planned  # type: ignore[attr-defined]
                if getattr(p, "kind", None) in SIBLINGS]
    return infer_zone(min(firsts) if firsts else None, siblings, diagnostics)


def written_offset(p: Any) -> str | None:
    """The UTC offset (``+08:00``) most of the head's timestamps write, for app logs whose
    layout reads an offset; None otherwise. Display only: records carry instants."""
    layout = p.layout
    ts = getattr(layout, "timestamp", None)
    if (ts is None or not getattr(ts, "has_zone", False) or not hasattr(layout, "fields_regex")
            or p.wrapper is not None):
        return None
    from logsleuth.engine.planner import head_timestamps

    stamps = head_timestamps(p)
    if stamps is None:
        return None
    offsets = ts.to_epoch_ms(stamps, None).offset_ms.drop_null()
    if len(offsets) == 0:
        return None
    counts = pc.value_counts(offsets)
    best = counts.field("values")[pc.index(counts.field("counts"),
                                           pc.max(counts.field("counts"))).as_py()]
    return _label(int(best.as_py()) // 60_000)
