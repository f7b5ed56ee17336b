"""Time zone of zone-less app logs, inferred from sibling evidence with offsets.

log4j2 prints local wall-clock time without an offset; the GC log of the same
JVM (``-Xlog`` ``time`` decoration) and nginx (``$time_local``) print the host's
offset. Reading the app log in a sibling's offset must make its first record
line up with the sibling's first event; the offset that does is chosen, and the
reason is reported. Nothing is guessed when no sibling lines up.
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


def _sibling(kind: Kind, head: bytes, path: str) -> tuple[int, int] | None:
    """(offset minutes, first event epoch ms) from the head of a GC or nginx log."""
    module, func, table = SIBLINGS[kind]
    head = head[: head.rfind(b"\n") + 1]
    result = getattr(importlib.import_module(module), func)(head, path)
    minutes = _offset_minutes(result.timezone)
    t = result.tables.get(table)
    if minutes is None or t is None or t.num_rows == 0:
        return None
    first = pc.min(t["ts"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())).as_py()
    return None if first is None else (minutes, first)


def _label(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def infer_zone(app_first_local_ms: int | None,
               siblings: Sequence[tuple[str, Kind, bytes]],
               diagnostics: list[Diagnostic] | None = None) -> ZoneInference | None:
    """The offset that makes the app log's first record line up with its siblings'."""
    if app_first_local_ms is None:
        return None
    seen = []
    for path, kind, head in siblings:
        with reported(path, "reading this input's head for its zone", diagnostics):
            if (s := _sibling(kind, head, path)) is not None:
                seen.append((path, *s))
    best: tuple[int, int, str] | None = None
    for path, minutes, first in seen:
        gap = abs(app_first_local_ms - minutes * 60_000 - first)
        if best is None or gap < best[0]:
            best = (gap, minutes, path)
    if best is None or best[0] > MAX_GAP_MS:
        return None
    gap, minutes, path = best
    label = _label(minutes)
    as_utc = min(abs(app_first_local_ms - first) for _, _, first in seen)
    why = (f"inferred from {path}, which writes {label}: read in {label} the app log's first "
           f"record is {gap / 1000:.0f} s from its first event ({as_utc / 1000:.0f} s as UTC)")
    return ZoneInference(timezone(timedelta(minutes=minutes)), label, why)


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
