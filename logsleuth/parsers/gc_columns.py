"""Columnar clocks and event columns: the vectorised half of the GC parsers.

The unified-logging parser only collects raw strings per event (decoration
prefix, name, message); decorations, sizes and durations are then extracted
for all events at once with Arrow's RE2 kernels. Epoch-based ``timemillis`` /
``timenanos`` are told from uptimes by their digit count (12+ / 18+ digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.parsers.gc_common import GC_EVENTS_SCHEMA, Clock, EventRows

_ISO_LEN = 23  # "2026-11-26T10:00:00.123"
_ISO_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", re.ASCII)
_OFFSET_SUFFIX = re.compile(r"[+-]\d{4}", re.ASCII)
_ISO = r"\[(?P<v>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:[+-]\d{4}|Z)?)\]"
_UPTIME_S = r"\[(?P<v>\d+\.\d+)s\]"
_UPTIME_MS = r"\[(?P<v>\d{1,11})ms\]"
_TIME_MS = r"\[(?P<v>\d{12,})ms\]"
_UPTIME_NS = r"\[(?P<v>\d{1,17})ns\]"
_TIME_NS = r"\[(?P<v>\d{18,})ns\]"
_UNITS = ("B", "K", "M", "G", "T")
_UNIT_KB = (1 / 1024, 1.0, 1024.0, 1024.0**2, 1024.0**3)


def extract(strings: pa.Array, pattern: str, field: str = "v") -> pa.Array:
    """First capture ``field`` of ``pattern`` per string; null where it does not match."""
    got = pc.extract_regex(strings, pattern)
    return pc.if_else(pc.is_valid(got), pc.struct_field(got, field),
                      pa.scalar(None, pa.string()))


def to_number(strings: pa.Array, kind: pa.DataType | None = None) -> pa.Array:
    """Digits as numbers; empty strings (unmatched optional groups) become null."""
    empty = pc.equal(strings, "")
    return pc.if_else(empty, pa.scalar(None, pa.string()), strings).cast(kind or pa.float64())


def sizes_kb(numbers: pa.Array, units: pa.Array) -> pa.Array:
    """``"24.0"``, ``"M"`` -> 24576 KiB, per element."""
    factor = pc.take(pa.array(_UNIT_KB), pc.index_in(units, value_set=pa.array(_UNITS)))
    return pc.round(pc.multiply(to_number(numbers), factor)).cast(pa.int64())


@dataclass(slots=True)
class Clocks:
    """Per-event ISO wall time (string), epoch ms from timemillis, and uptime ms."""

    iso: pa.Array
    wall_ms: pa.Array
    uptime_ms: pa.Array

    @staticmethod
    def from_prefixes(prefixes: pa.Array) -> Clocks:
        up_s = pc.multiply(to_number(extract(prefixes, _UPTIME_S)), 1000.0)
        up_ms = to_number(extract(prefixes, _UPTIME_MS))
        up_ns = pc.divide(to_number(extract(prefixes, _UPTIME_NS)), 1e6)
        t_ms = to_number(extract(prefixes, _TIME_MS), pa.int64())
        t_ns = pc.divide(to_number(extract(prefixes, _TIME_NS), pa.int64()), 1_000_000)
        return Clocks(extract(prefixes, _ISO), pc.coalesce(t_ms, t_ns.cast(pa.int64())),
                      pc.coalesce(up_s, up_ms, up_ns))

    @staticmethod
    def from_objects(clocks: list[Clock]) -> Clocks:
        return Clocks(pa.array([c.time for c in clocks], pa.string()),
                      pa.array([c.wall_ms for c in clocks], pa.int64()),
                      pa.array([c.uptime_ms for c in clocks], pa.float64()))

    def concat(self, other: Clocks) -> Clocks:
        return Clocks(*(pa.concat_arrays([a, b]) for a, b in
                        ((self.iso, other.iso), (self.wall_ms, other.wall_ms),
                         (self.uptime_ms, other.uptime_ms))))


def _offset_minutes(suffix: str) -> int | None:
    """``+0100`` -> 60; anything else a damaged line may hold -> None (time unknown)."""
    if suffix in ("", "Z"):
        return 0
    if not _OFFSET_SUFFIX.fullmatch(suffix):
        return None
    sign = -1 if suffix[0] == "-" else 1
    return sign * (int(suffix[1:3]) * 60 + int(suffix[3:5]))


def _local_ms(text: pa.Array) -> pa.Array:
    """Wall-clock ISO text -> timestamp; an impossible date (a damaged line) -> null."""
    try:
        return text.cast(pa.timestamp("ms"))
    except pa.ArrowInvalid:
        return pa.array([_one_local(v) for v in text.to_pylist()], pa.timestamp("ms"))


def _one_local(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text and _ISO_TEXT.fullmatch(text) else None
    except ValueError:
        return None


def _assume_zone(local: pa.Array, tz: tzinfo) -> pa.Array:
    """Wall-clock times without offset read in ``tz`` (DST-aware for IANA zones)."""
    key = getattr(tz, "key", None)
    if key:
        return pc.assume_timezone(local, timezone=key, ambiguous="earliest",
                                  nonexistent="earliest").cast(pa.int64())
    off = tz.utcoffset(None)
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    return pc.subtract(local.cast(pa.int64()), minutes * 60_000)


def zone_name(suffix: str) -> str:
    """``+0100`` -> ``+01:00``; ``Z``/``+0000`` -> ``UTC``."""
    if suffix in ("Z", "+0000", "-0000"):
        return "UTC"
    return f"{suffix[:3]}:{suffix[3:5]}"


@dataclass(slots=True)
class TimeResolution:
    ts: pa.Array  # int64 epoch ms, null where unknown
    timezone: str | None
    anchored: bool  # every uptime-only clock got a wall time


def iso_to_epoch_ms(iso: pa.Array, default_tz: tzinfo | None) -> pa.Array:
    """ISO strings with optional ``+hhmm``/``Z`` suffix -> int64 epoch ms (nulls kept)."""
    local = _local_ms(pc.utf8_slice_codeunits(iso, 0, _ISO_LEN))
    suffix = pc.utf8_slice_codeunits(iso, _ISO_LEN, 64)
    enc = suffix.dictionary_encode()
    minutes = pa.array([_offset_minutes(x) for x in enc.dictionary.to_pylist()], pa.int64())
    utc = pc.subtract(local.cast(pa.int64()), pc.multiply(pc.take(minutes, enc.indices), 60_000))
    no_offset = pc.equal(suffix, "")
    if default_tz is not None and pc.any(no_offset).as_py():
        utc = pc.if_else(no_offset, _assume_zone(local, default_tz), utc)
    return utc


def resolve_times(clocks: Clocks, default_tz: tzinfo | None, jvm_start_ms: int | None,
                  anchor_hint: int | None) -> TimeResolution:
    """Epoch ms per clock; uptime-only clocks placed at JVM start + uptime.

    The start is ``jvm_start_ms`` when given, else (wall - uptime) from the first clock
    that has both, else ``anchor_hint`` (a line elsewhere in the file that has both).
    """
    wall = pc.coalesce(iso_to_epoch_ms(clocks.iso, default_tz), clocks.wall_ms)
    zone = None
    valid_iso = clocks.iso.drop_null()
    if len(valid_iso):
        suf = valid_iso[-1].as_py()[_ISO_LEN:]
        zone = zone_name(suf) if suf else (str(default_tz) if default_tz else None)
    start = jvm_start_ms
    both = pc.and_(pc.is_valid(wall), pc.is_valid(clocks.uptime_ms))
    if start is None and pc.any(both).as_py():
        i = int(np.flatnonzero(both.to_numpy(zero_copy_only=False))[0])
        start = round(wall[i].as_py() - clocks.uptime_ms[i].as_py())
    if start is None:
        start = anchor_hint
    need = pc.and_(pc.is_null(wall), pc.is_valid(clocks.uptime_ms))
    if start is None:
        return TimeResolution(wall, zone, not pc.any(need).as_py())
    placed = pc.round(pc.add(clocks.uptime_ms, float(start))).cast(pa.int64())
    return TimeResolution(pc.coalesce(wall, placed), zone, True)


_NAMES = ("line", "gc_id", "kind", "phase", "cause", "pause_ms", "duration_ms",
          "heap_before_kb", "heap_after_kb", "heap_capacity_kb", "is_full", "message")


@dataclass(slots=True)
class EventColumns:
    """gc_events columns (except source/collector/ts) plus the clocks to resolve ts."""

    columns: dict[str, pa.Array]
    clocks: Clocks

    @staticmethod
    def from_rows(rows: EventRows) -> EventColumns:
        lists = (rows.line, rows.gc_id, rows.kind, rows.phase, rows.cause, rows.pause_ms,
                 rows.duration_ms, rows.before, rows.after, rows.capacity, rows.is_full,
                 rows.message)
        cols = {name: pa.array(values, GC_EVENTS_SCHEMA.field(name).type
                               if name not in ("kind",) else pa.string())
                for name, values in zip(_NAMES, lists, strict=True)}
        return EventColumns(cols, Clocks.from_objects(rows.clock))

    def __len__(self) -> int:
        return len(self.columns["line"])

    def concat(self, other: EventColumns) -> EventColumns:
        cols = {k: pa.concat_arrays([self.columns[k], other.columns[k].cast(self.columns[k].type)])
                for k in _NAMES}
        return EventColumns(cols, self.clocks.concat(other.clocks))


def build_events_table(events: EventColumns, source: str, collector: str,
                       ts: pa.Array) -> pa.Table:
    n = len(events)
    cols = dict(events.columns)
    cols["source"] = pa.array([source], pa.string()).take(pa.array(np.zeros(n, np.int32)))
    cols["collector"] = pa.array([collector], pa.string()).take(pa.array(np.zeros(n, np.int32)))
    cols["ts"] = ts.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    cols["uptime_ms"] = events.clocks.uptime_ms
    arrays = [cols[f.name].cast(f.type) for f in GC_EVENTS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=GC_EVENTS_SCHEMA).sort_by("line")
