"""The JVM start the evidence states itself, for GC logs that print only uptimes.

Three statements count from the JVM's start on HotSpot's own clocks:

- Spring Boot's startup line, ``Started X in T seconds (process running for U)`` (Boot 3;
  ``JVM running for`` before): ``U`` is ``RuntimeMXBean.getUptime()``, HotSpot's elapsed
  counter, the clock ``-Xlog``'s ``uptime`` decoration counts on. The record's stamp
  minus ``U`` is the start, late by the time the message takes to build (a few ms).
- ``jcmd PID VM.uptime -date`` saved with the evidence: ``<ISO date with offset>: U s``,
  the date and the same uptime read together: the start to a couple of ms, whatever
  kind of input the output was saved in.
- log4j2's ``%r`` column: ms since ``RuntimeMXBean.getStartTime()``, which HotSpot stamps
  when VM creation begins, after the uptime clock has started (26-48 ms later in runs of
  OpenJDK 17 on a loaded machine). Each record's stamp minus ``%r`` is the start, late
  by that much; used only where nothing exact states it.

They are read from the inputs' heads (the planner's first bytes); a Spring Boot line
is also looked for beyond the head when the head holds none (``SCAN_BYTES`` in all), and in
layouts read without a line regex (JSON) the matching lines go through the input's own
parser. Paid only when a GC log prints uptimes only. They are preferred to thread dumps
(about a second) and to pause alignment (a search). One JVM start anchors every
uptime-only GC log of a scan: when the evidence states several starts more than
``SAME_JVM_MS`` apart (restarts), none is taken and the scan says why.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.guard import reported
from logsleuth.engine.jvmstart import JvmStart
from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.model import Kind

_UPTIME_DATE = re.compile(rb"(?m)^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}): "
                          rb"(\d+\.\d{3}) s\r?$")  # jcmd VM.uptime -date
_STARTED_BYTES = re.compile(rb"Started \S+ in \d+(?:\.\d+)? seconds \((?:process|JVM) running for ")
SCAN_BYTES = 8 << 20  # bytes a scan reads beyond the heads for a Spring Boot startup line
SAME_JVM_MS = 1000  # starts closer than this are one JVM (clocks of whole ms, %r's bias)
_STARTED = (r"Started \S+ in \d+(?:\.\d+)? seconds "
            r"\((?P<clock>process|JVM) running for (?P<up>\d+(?:\.\d+)?)\)")
_STARTED_PY = re.compile(_STARTED)


@dataclass(frozen=True, slots=True)
class _Seen:
    ms: int  # the JVM start this line implies
    how: str  # "spring", "jcmd" (the uptime clock itself) or "relative" (%r: late)
    path: str
    line: int  # 1-based, in the file
    text: str  # what the line says: the uptime it states, or its %r value

    @property
    def exact(self) -> bool:
        return self.how != "relative"


def _head_fields(p: Any, text: bytes, first_line: int = 1
                 ) -> tuple[pa.StructArray, np.ndarray] | None:
    """The header lines' fields in ``text`` (whole lines of an app log), and their
    1-based line numbers in the file (``text`` starts at line ``first_line``)."""
    from logsleuth.engine.planner import head_lines

    layout = p.layout
    if layout is None or not hasattr(layout, "fields_regex") or layout.timestamp is None:
        return None
    lines = pa.array(head_lines(text), pa.large_string())
    header = pc.fill_null(pc.match_substring_regex(lines, layout.header_regex), False)
    where = np.flatnonzero(header.to_numpy(zero_copy_only=False)) + first_line
    if len(where) == 0:
        return None
    return pc.extract_regex(lines.filter(header), layout.fields_regex), where


def _prefix(p: Any, budget: list[int]) -> bytes:
    """The bytes a Spring Boot line is looked for in: the head when it holds one or is the
    whole file, else the file's first bytes (raw, as the parser reads them), at most
    ``SCAN_BYTES`` in all for the scan: the rolled archives of one service would otherwise
    cost a read each (this runs only when a GC log prints uptimes only)."""
    from logsleuth.engine.local import HEAD_BYTES

    wrapped = getattr(p, "wrapper", None) is not None  # the head is inner text then
    if not wrapped and (_STARTED_BYTES.search(p.head) or len(p.head) < HEAD_BYTES
                        or budget[0] <= len(p.head)):
        return p.head
    with p.source.open() as stream:
        data = stream.read(max(min(SCAN_BYTES, budget[0]), HEAD_BYTES))
    budget[0] -= len(data)
    return data


def _started_further(p: Any, budget: list[int]) -> tuple[bytes, int] | None:
    """Spring Boot's startup line beyond the planner's head (a service logging much while
    it starts), searched as bytes: the line and its line number."""
    if getattr(p, "wrapper", None) is not None:
        return None
    data = _prefix(p, budget)
    m = _STARTED_BYTES.search(data) if data is not p.head else None
    if m is None:
        return None
    start = data.rfind(b"\n", 0, m.start()) + 1
    end = data.find(b"\n", m.end())
    return data[start:end if end >= 0 else len(data)] + b"\n", data.count(b"\n", 0, start) + 1


def _parsed_lines(p: Any, default_tz: tzinfo | None, base_dates: dict[str, date],
                  budget: list[int]) -> list[_Seen]:
    """Spring Boot's startup records in a layout read without a line regex (JSON, ...):
    the matching raw lines of ``_prefix`` go through the input's own parser, which gives
    their instants and messages."""
    from logsleuth.engine.collectors import CollectorSet
    from logsleuth.engine.reader import feed_stream
    from logsleuth.engine.stats import InputStats
    from logsleuth.engine.units import Partial, UnitOptions, WorkUnit, app_log_parser

    data = _prefix(p, budget)
    starts = [data.rfind(b"\n", 0, m.start()) + 1 for m in _STARTED_BYTES.finditer(data)]
    if not starts:
        return []
    picked = b"".join(data[a:(e if (e := data.find(b"\n", a)) >= 0 else len(data))] + b"\n"
                      for a in starts)
    options = UnitOptions(default_tz=default_tz, base_dates=dict(base_dates))
    unit = WorkUnit(p.source, p.kind, p.layout, wrapper=getattr(p, "wrapper", None))
    scratch = Partial(p.source.path, 0, InputStats(p.source.path), CollectorSet.create((), {}))
    got: list[tuple[int | None, str | None]] = []

    def sink(cb: Any) -> None:
        got.extend(zip(cb.batch.column("ts").cast(pa.int64()).to_pylist(),
                       cb.batch.column("message").to_pylist(), strict=True))

    feed_stream(io.BytesIO(picked), app_log_parser(unit, options, scratch, sink),
                chunk_size=options.chunk_size)
    out = []
    for (ms, msg), at in zip(got, starts, strict=False):
        m = _STARTED_PY.search(msg or "")
        if ms is not None and m is not None:
            out.append(_Seen(round(ms - float(m["up"]) * 1000), "spring", p.source.path,
                             data.count(b"\n", 0, at) + 1,
                             f"({m['clock']} running for {m['up']})"))
    return out


def _seen_in(p: Any, default_tz: tzinfo | None, base_dates: dict[str, date],
             budget: list[int]) -> list[_Seen]:
    """Every JVM start the head of one app log states (and a Spring Boot startup line
    further on, when the head holds none)."""
    if not hasattr(p.layout, "fields_regex"):
        return ([] if p.layout is None
                else _parsed_lines(p, default_tz, base_dates, budget))
    found = _seen_at(p, p.head, 1, default_tz, base_dates)
    if not any(s.exact for s in found) and (
            further := _started_further(p, budget)) is not None:
        found += [s for s in _seen_at(p, *further, default_tz, base_dates) if s.exact]
    return found


def _seen_at(p: Any, text: bytes, first_line: int, default_tz: tzinfo | None,
             base_dates: dict[str, date]) -> list[_Seen]:
    got = _head_fields(p, text, first_line)
    if got is None:
        return []
    parts, where = got
    path = p.source.path
    layout = p.layout
    if layout.timestamp.needs_base_date and path not in base_dates:
        return []  # a time-only log nothing dated: its stamps are no instants
    ms = layout.timestamp.to_epoch_ms(parts.field("ts"), default_tz,
                                      base_date=base_dates.get(path)).ms
    names = {parts.type.field(i).name for i in range(parts.type.num_fields)}
    out: list[_Seen] = []
    if "msg" in names:
        said = pc.extract_regex(pc.fill_null(parts.field("msg"), ""), _STARTED)
        ups = said.field("up")
        hit = pc.and_(pc.is_valid(said), pc.is_valid(ms))
        for i in np.flatnonzero(pc.fill_null(hit, False).to_numpy(zero_copy_only=False)):
            up = ups[int(i)].as_py()
            clock = said.field("clock")[int(i)].as_py()
            out.append(_Seen(round(ms[int(i)].as_py() - float(up) * 1000), "spring", path,
                             int(where[i]), f"({clock} running for {up})"))
    if "relative" in names and not out:
        rel = pc.cast(parts.field("relative"), pa.int64(), safe=False)
        ok = pc.fill_null(pc.and_(pc.is_valid(rel), pc.is_valid(ms)), False)
        for i in np.flatnonzero(ok.to_numpy(zero_copy_only=False)):
            r = rel[int(i)].as_py()
            out.append(_Seen(ms[int(i)].as_py() - r, "relative", path, int(where[i]),
                             f"%r {r}"))
    return out


def _seen_in_jcmd(p: Any) -> list[_Seen]:
    """``jcmd VM.uptime -date`` lines in any input's head."""
    out = []
    for m in _UPTIME_DATE.finditer(p.head):
        when = datetime.strptime(m[1].decode(), "%Y-%m-%dT%H:%M:%S.%f%z")
        up = m[2].decode()
        out.append(_Seen(round(when.timestamp() * 1000 - float(up) * 1000), "jcmd",
                         p.source.path, p.head.count(b"\n", 0, m.start()) + 1,
                         f"{m[1].decode()}: {up} s"))
    return out


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def jvm_start_stated(planned: Sequence[Any], default_tz: tzinfo | None,
                     base_dates: dict[str, date],
                     diagnostics: list[Diagnostic] | None = None) -> JvmStart | None:
    """The JVM start the inputs' heads state (jcmd's VM.uptime -date or Spring Boot's
    uptime, else log4j2's %r), or None when they state none, or several JVMs' (said in
    ``diagnostics``)."""
    seen: list[_Seen] = []
    budget = [SCAN_BYTES]  # bytes read beyond the heads, for the whole scan
    for p in planned:
        with reported(p.source.path, "reading this input's head for a stated JVM start",
                      diagnostics):
            if p.kind == Kind.APP_LOG:
                seen.extend(_seen_in(p, default_tz, base_dates, budget))
            if getattr(p, "wrapper", None) is None:
                seen.extend(_seen_in_jcmd(p))
    if not seen:
        return None
    exact = [s for s in seen if s.exact]
    use = exact or seen
    starts = np.array(sorted(s.ms for s in use))
    if starts[-1] - starts[0] > SAME_JVM_MS:
        if diagnostics is not None:
            first, last = min(use, key=lambda x: x.ms), max(use, key=lambda x: x.ms)
            diagnostics.append(Diagnostic(
                SourceLocation(first.path, first.line), "gc-start-ambiguous",
                f"the evidence states JVM starts {_when(first.ms)} ({first.path}:{first.line}) "
                f"to {_when(last.ms)} ({last.path}:{last.line}), more than "
                f"{SAME_JVM_MS} ms apart: restarts, so none of them is taken to place "
                "the uptime-only GC logs", level=DiagLevel.INFO,
                help="pass --jvm-start with the start of the JVM that wrote the GC log"))
        return None
    ms = int(np.median(starts))
    s = min(use, key=lambda x: abs(x.ms - ms))
    if s.how == "jcmd":
        how = (f"`jcmd VM.uptime -date` output {s.path}:{s.line} ({s.text}): its date minus "
               "the uptime it states (HotSpot's uptime, the GC log's clock: to a few ms)")
    elif s.how == "spring":
        how = (f"Spring Boot's startup record {s.path}:{s.line} stamp minus the uptime it "
               f"states {s.text} (RuntimeMXBean's uptime, the GC log's clock: a few ms late)")
    else:
        how = (f"log4j2's %r column of {s.path} (line {s.line}: stamp minus {s.text} ms; "
               f"{len(use)} records agree): %r counts from RuntimeMXBean's start time, "
               "stamped tens of ms after the GC log's uptime clock starts, so the GC "
               "events may be placed up to ~0.1 s late")
    return JvmStart(ms, f"JVM start {_when(ms)} from {how}")
