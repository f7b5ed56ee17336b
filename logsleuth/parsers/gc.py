"""JVM GC logs: one row per collection, pause or phase, plus safepoints.

``parse_gc_log`` reads JDK 9+ unified logging (``-Xlog:gc*`` with any decorations,
which may change midway through a file) and JDK 8 ``-XX:+PrintGCDetails`` output.
The result's ``gc_events`` table has the columns of ``GC_EVENTS_SCHEMA``::

    source, line (1-based, where the event is reported), ts (UTC ms, null when
    unknown), uptime_ms, gc_id, collector (G1|Parallel|Serial|CMS|ZGC|Shenandoah),
    kind, phase, cause, pause_ms (null unless stop-the-world), duration_ms,
    heap_before_kb, heap_after_kb, heap_capacity_kb, is_full, message

``kind`` is one of young, mixed, full, degenerated, remark, cleanup, pause-other
(stop-the-world: ``pause_ms`` is set), concurrent, cycle (a whole concurrent
ZGC collection or generation), phase (a step inside a pause, e.g. ``Phase 1: Mark
live objects``) and stall (a ZGC allocation stall of one thread; ``phase`` is
``Allocation Stall``). ``message`` is the event line without its decorations.

Records mapping (for the rules engine; see ``gc_events_to_records``): each row is a
``Record`` with ``kind=Kind.GC_LOG``, ``message`` = the row's ``message``, ``level``
None, ``logger`` = ``gc``, and ``fields`` holding ``gc_id, collector, kind, phase,
cause, pause_ms, duration_ms, heap_before_kb, heap_after_kb, heap_capacity_kb,
is_full`` as strings (absent when null; booleans as ``true``/``false``).
"""

from __future__ import annotations

import re
from datetime import tzinfo

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.model import EvidenceResult, Kind, Record
from logsleuth.parsers.gc_columns import (
    Clocks,
    EventColumns,
    build_events_table,
    resolve_times,
)
from logsleuth.parsers.gc_common import (
    GC_EVENTS_SCHEMA,
    SAFEPOINTS_SCHEMA,
    TIME_RE,
    Clock,
    EventRows,
    LineCounter,
    line_start_matches,
    parse_decorations,
    unparsed_summary,
)
from logsleuth.parsers.gc_jdk8 import (
    BAD_LINE8_RE,
    PREFIX8_RE,
    clock8,
    detect_collector8,
    parse_jdk8,
)
from logsleuth.parsers.gc_unified import (
    BARE_BAD_LINE_RE,
    bad_line_starts,
    infer_collector,
    parse_unified,
)

__all__ = [
    "GC_EVENTS_SCHEMA",
    "SAFEPOINTS_SCHEMA",
    "gc_events_to_records",
    "parse_gc_log",
    "sniff_gc_log",
]

MAX_SAMPLES = 10
_HEAD = 1 << 16

_UL_LINE = re.compile(
    r"^\[(?:\d[^\]\n]*|[a-z]+[^\]\n]*)\](?:\[[^\]\n]*\])* ?(?:GC\(\d+\) |Using |Safepoint|"
    r"Version: |Heap |CPUs: |Memory: |Min heap|Initial |Trigger:|Allocation Stall)",
    re.M,
)
_UL_BARE = re.compile(r"^(?:GC\(\d+\) |Using (?:G1|Parallel|Serial|The Z|Shenandoah))", re.M)
_JDK8_LINE = re.compile(
    rf"^(?:(?:{TIME_RE}): )?(?:\d+\.\d+: )?(?:#\d+: )?\[(?:GC|Full GC|CMS-concurrent-)"
    r"|^CommandLine flags: |^Total time for which application threads",
    re.M,
)
# Two patterns, each led by a literal so ``re`` can skip ahead quickly.
SAFEPOINT_RE = re.compile(
    r"Safepoint \"(?P<op>[^\"\n]+)\", Time since last: \d+ ns, Reaching safepoint: "
    r"(?P<reach>\d+) ns, (?:Cleanup: \d+ ns, )?At safepoint: (?P<at>\d+) ns, Total: "
    r"(?P<total>\d+) ns"
)
STOPPED_RE = re.compile(
    r"Total time for which application threads were stopped: (?P<stopped>\d+(?:\.\d+)?) seconds"
    r"(?:, Stopping threads took: (?P<stopping>\d+(?:\.\d+)?) seconds)?"
)
_COMPLETE_TAIL = re.compile(r"(?:secs\]|seconds|\])\s*$")
# Both clocks on one line, found anywhere in the file: anchors uptime-only events.
_ANCHOR_UL = re.compile(rf"\[({TIME_RE})\](?:\[[^\]\n]*\])*?\[(\d+\.\d+s|\d+ms|\d+ns)\]")
_ANCHOR_8 = re.compile(rf"^({TIME_RE}): (\d+\.\d+): ", re.M)


def sniff_gc_log(head: str) -> bool:
    """Cheap content test: does this start of a file look like a GC log (any format)?"""
    head = head[:_HEAD]
    return bool(_UL_LINE.search(head) or _UL_BARE.search(head) or _JDK8_LINE.search(head))


def _is_unified(head: str) -> bool:
    return bool(_UL_LINE.search(head) or _UL_BARE.search(head)) or not _JDK8_LINE.search(head)


def is_unified_gc_log(data: bytes) -> bool:
    """JDK 9+ unified logging (-Xlog): a pause's uptime stamps its end line (JDK 8's
    ``12.345: [GC ...`` stamps its start)."""
    return _is_unified(data[:_HEAD].decode("latin-1"))


def parse_gc_log(data: bytes, source: str, *, default_tz: tzinfo | None = None,
                 jvm_start_ms: int | None = None) -> EvidenceResult:
    """Parse one GC log (already decompressed) into ``gc_events`` and ``safepoints``."""
    # latin-1 keeps text offsets equal to byte offsets and never fails; GC logs are
    # ASCII, and the few strings we keep are re-decoded as UTF-8 when they are not.
    text = data.decode("latin-1")
    head = text[:_HEAD]
    result = EvidenceResult(source=source, kind=Kind.GC_LOG)
    result.lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    if _is_unified(head):
        events, named = parse_unified(text)
        collector = named or infer_collector(events.columns["phase"].to_pylist(), head)
        bare = _UL_BARE.search(head) is not None and _UL_LINE.search(head) is None
        bad = line_start_matches(text, BARE_BAD_LINE_RE) if bare else bad_line_starts(text)
        anchor_re = _ANCHOR_UL
    else:
        rows = EventRows()
        continued = parse_jdk8(text, rows)
        events = EventColumns.from_rows(rows)
        collector = detect_collector8(head)
        bad = line_start_matches(text, BAD_LINE8_RE)
        if continued:  # lines that carried on an event are part of it
            bad = sorted(set(bad).difference(continued))
        anchor_re = _ANCHOR_8
    event_lines = events.columns["line"]
    _account_truncated_tail(text, event_lines, result, bad)
    safe_clocks, safe_cols = _safepoints(text)
    clocks = events.clocks.concat(Clocks.from_objects(safe_clocks))
    hint = _anchor_hint(text, anchor_re, clocks, jvm_start_ms, default_tz)
    times = resolve_times(clocks, default_tz, jvm_start_ms, hint)
    n = len(events)
    result.timezone = times.timezone
    if n and not pc.any(pc.or_(pc.or_(pc.is_valid(events.clocks.iso),
                                      pc.is_valid(events.clocks.wall_ms)),
                               pc.is_valid(events.clocks.uptime_ms))).as_py():
        result.notes.append("no time decorations: ts and uptime_ms are null")
    if not times.anchored:
        result.notes.append("uptime-only, not anchored: pass jvm_start_ms to place events in time")
    elif jvm_start_ms is not None:
        result.notes.append("uptime-only events anchored via jvm_start_ms")
    result.tables["gc_events"] = build_events_table(events, source, collector,
                                                    times.ts.slice(0, n))
    if safe_cols["line"]:
        result.tables["safepoints"] = _safepoint_table(source, safe_clocks, safe_cols,
                                                       times.ts.slice(n))
    result.notes.append(f"collector: {collector}")
    from logsleuth.parsers.gc_gauges import gc_gauges  # heap, old gen, metaspace after GC

    gauges = gc_gauges(text, result.tables["gc_events"], source)
    if gauges.num_rows:
        result.tables["metrics"] = gauges
    return result


def _account_truncated_tail(text: str, event_lines: pa.Array, result: EvidenceResult,
                            bad: list[int]) -> None:
    """Fill the line counts; a last line without newline is cut short unless it is an event."""
    tail_start = text.rfind("\n") + 1
    tail = text[tail_start:]
    # No trailing newline. A last line that ends as GC lines end (`secs]`, `seconds`,
    # a closing bracket) was written whole; anything else was cut mid-line.
    cut = bool(tail.strip()) and _COMPLETE_TAIL.search(tail) is None
    last = result.lines
    if cut:
        result.notes.append(f"last line {last} has no newline (file cut short?)")
        has_event = pc.any(pc.equal(event_lines, last)).as_py()
        if not has_event and (not bad or bad[-1] != tail_start):
            bad = [*bad, tail_start]
    unparsed, samples = unparsed_summary(text, bad, MAX_SAMPLES)
    result.unparsed_lines = unparsed
    result.parsed_lines = result.lines - unparsed
    result.unparsed_samples = [(ln, _fix(s)) for ln, s in samples]
    if samples:
        result.diagnostics.append(Diagnostic(
            SourceLocation(result.source, samples[0][0], 1), "GC001",
            f"{unparsed} of {result.lines} lines are not GC log output; first one here",
            DiagLevel.WARNING, note=result.unparsed_samples[0][1][:200],
            help="lines from other writers (stdout, other -Xlog tags) are counted, not parsed"))
    if cut:
        result.diagnostics.append(Diagnostic(
            SourceLocation(result.source, last, len(text) - tail_start + 1), "GC002",
            "last line has no newline: the log was cut short", DiagLevel.WARNING))


def _fix(s: str) -> str:
    """Undo the latin-1 decoding for kept strings that were UTF-8."""
    return s if s.isascii() else s.encode("latin-1").decode("utf-8", "replace")


def _clock_before(text: str, pos: int) -> tuple[int, Clock]:
    start = text.rfind("\n", 0, pos) + 1
    prefix = text[start:pos]
    if prefix.startswith("["):
        return start, parse_decorations(prefix[: prefix.rfind("]") + 1])
    m = PREFIX8_RE.match(prefix)
    return start, clock8(m["date"], m["up"]) if m else Clock()


def _safepoints(text: str) -> tuple[list[Clock], dict[str, list]]:
    clocks: list[Clock] = []
    cols: dict[str, list] = {k: [] for k in ("line", "op", "reach", "at", "total")}
    matches = list(SAFEPOINT_RE.finditer(text)) + list(STOPPED_RE.finditer(text))
    matches.sort(key=lambda m: m.start())
    counter = LineCounter(text)
    for m in matches:
        start, clock = _clock_before(text, m.start())
        clocks.append(clock)
        cols["line"].append(counter.line_at(start))
        if m.re is SAFEPOINT_RE:
            cols["op"].append(m["op"])
            cols["reach"].append(int(m["reach"]) / 1e6)
            cols["at"].append(int(m["at"]) / 1e6)
            cols["total"].append(int(m["total"]) / 1e6)
        else:
            stopping = float(m["stopping"]) * 1000 if m["stopping"] else None
            total = float(m["stopped"]) * 1000
            cols["op"].append(None)
            cols["reach"].append(stopping)
            cols["at"].append(total - stopping if stopping is not None else None)
            cols["total"].append(total)
    return clocks, cols


def _safepoint_table(source: str, clocks: list[Clock], cols: dict[str, list],
                     ts: pa.Array) -> pa.Table:
    n = len(clocks)
    arrays = [
        pa.array([source] * n, pa.string()).dictionary_encode(),
        pa.array(cols["line"], pa.int64()),
        ts.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        pa.array([c.uptime_ms for c in clocks], pa.float64()),
        pa.array(cols["op"], pa.string()),
        pa.array(cols["reach"], pa.float64()),
        pa.array(cols["at"], pa.float64()),
        pa.array(cols["total"], pa.float64()),
    ]
    arrays = [a.cast(f.type) for a, f in zip(arrays, SAFEPOINTS_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=SAFEPOINTS_SCHEMA)


def _anchor_hint(text: str, anchor_re: re.Pattern[str], clocks: Clocks,
                 jvm_start_ms: int | None, default_tz: tzinfo | None) -> int | None:
    """JVM start from any line with both wall time and uptime, when no event has both."""
    if jvm_start_ms is not None:
        return None
    has_wall = pc.or_(pc.is_valid(clocks.iso), pc.is_valid(clocks.wall_ms))
    uptime_only = pc.and_(pc.invert(has_wall), pc.is_valid(clocks.uptime_ms))
    if not pc.any(uptime_only).as_py():
        return None
    m = anchor_re.search(text)
    if m is None:
        return None
    up = m.group(2)
    clock = parse_decorations(f"[{up}]") if not up[-1].isdigit() else clock8(None, up)
    clock.time = m.group(1)
    wall = resolve_times(Clocks.from_objects([clock]), default_tz, None, None).ts[0].as_py()
    return None if wall is None or clock.uptime_ms is None else round(wall - clock.uptime_ms)


def gc_events_to_records(table: pa.Table) -> list[Record]:
    """One ``Record`` per gc_events row (see the module docstring for the mapping)."""
    out: list[Record] = []
    names = ("gc_id", "collector", "kind", "phase", "cause", "pause_ms", "duration_ms",
             "heap_before_kb", "heap_after_kb", "heap_capacity_kb", "is_full")
    for row in table.to_pylist():
        fields: dict[str, str] = {}
        for k in names:
            v = row[k]
            if v is None:
                continue
            fields[k] = ("true" if v else "false") if isinstance(v, bool) else (
                f"{v:g}" if isinstance(v, float) else str(v))
        ts = row["ts"]
        out.append(Record(
            source=row["source"], line=row["line"], n_lines=1,
            ts_ms=None if ts is None else int(ts.timestamp() * 1000),
            level=None, thread=None, logger="gc", message=row["message"],
            text=row["message"], kind=Kind.GC_LOG, fields=fields,
        ))
    return out
