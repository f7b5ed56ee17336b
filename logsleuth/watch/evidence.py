"""Structured evidence followed as it grows: GC logs, thread dumps, nginx logs.

``scan`` parses such a file whole; the watcher parses *settled pieces* of it with the
same function (``engine.units.parse_evidence``), so GC gauges, thread counts and
nginx findings reach the running collectors as appended app-log records do. A piece
ends where the next bytes cannot change what was parsed:

- GC log (unified): before the first line of the newest ``GC(N)``: a collection's pool
  lines come before its pause line, so a collection is never cut in two; JDK 8
  (no ids): before the newest line that starts a collection (or its ``{Heap before GC``
  block); concurrent-phase lines are printed inside pauses, so they start nothing;
- thread dumps: before the newest dump (``find_dumps``), whose threads may still come;
  the first dump, and whatever is above it, waits for the second or the quiet end;
- nginx error log: before the newest dated line (continuation lines stay with it);
- nginx access log: at any line end.

The rest is held, like an app log's last record, until more comes or the file has
been quiet for the settle time. A later piece is parsed behind the stream's
*preamble* (its first lines: the GC log's header with its collector, region size and
ceilings, up to JDK 8's ``CommandLine flags:`` or unified logging's first ``GC(0)``;
the access log's first lines, from which the format is chosen), so it is
read in the same context as in one whole parse; rows and counts of the preamble
itself are taken out again. Line numbers are the file's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.stats import MAX_SAMPLES, InputStats
from logsleuth.engine.units import UnitOptions, parse_evidence
from logsleuth.model import EvidenceResult, Kind

PREAMBLE_MAX = 64 * 1024  # bytes of a stream's head parsed again with each later piece
_ACCESS_PREAMBLE_LINES = 200  # the access-log lines the format is chosen from
_GC_ID = re.compile(rb"GC\((\d+)\)")
_NGINX_DATED = re.compile(rb"\d{4}/\d\d/\d\d ")
_JDK8_START = re.compile(
    rb"^(?:\d{4}-\d\d-\d\dT[\d:.]+(?:[+-]\d{4}|Z)?: )?(?:\d+\.\d+: )?(?:#\d+: )?"
    rb"\[(?:GC|Full GC)(?! concurrent)", re.M)

Sink = Callable[[Kind, EvidenceResult], None]


def _line_start(data: bytes, pos: int) -> int:
    return data.rfind(b"\n", 0, pos) + 1


def _gc_cut(data: bytes) -> int:
    at = data.rfind(b"GC(")
    m = _GC_ID.match(data, at) if at >= 0 else None
    if m is not None:  # unified: the newest collection may still print lines
        return _line_start(data, data.find(b"GC(" + m.group(1) + b")"))
    # JDK 8 (no ids): before the newest line that starts a collection, or before the
    # {Heap before GC block printed above it. Concurrent-phase lines are not starts:
    # they are printed inside a pause's lines
    starts = list(_JDK8_START.finditer(data))
    if not starts:
        return 0
    cut = starts[-1].start()
    heap = data.rfind(b"{Heap before GC", 0, cut)
    before = starts[-2].start() if len(starts) > 1 else -1
    if heap > before and data.find(b"}", heap, cut) < 0:  # its block, still open
        cut = _line_start(data, heap)
    # a piece holds a collection: the format is told by its lines (the safepoint lines
    # above the first one do not say it)
    return cut if cut > starts[0].start() else 0


def _dump_cut(data: bytes) -> int:
    from logsleuth.parsers.jstack import find_dumps

    dumps = find_dumps(data.decode("latin-1"))
    if len(dumps) < 2:  # the first dump (and what is above it: a console prompt) waits
        return 0  # for the next one, or for the file to be quiet (then it is read whole)
    start = 0
    for _ in range(dumps[-1][0]):
        start = data.index(b"\n", start) + 1
    return start


def _error_cut(data: bytes) -> int:
    pos = len(data)
    while pos > 0:
        start = _line_start(data, pos - 1)
        if _NGINX_DATED.match(data, start):
            return start
        pos = start
    return len(data)


CUTS: dict[Kind, Callable[[bytes], int]] = {
    Kind.GC_LOG: _gc_cut,
    Kind.THREAD_DUMP: _dump_cut,
    Kind.NGINX_ERROR: _error_cut,
    Kind.NGINX_ACCESS: len,
    Kind.JVM_INFO: lambda _data: 0,  # a few lines written at once: read whole when quiet
}


def settled_end(kind: Kind, data: bytes) -> int:
    """Where the part of ``data`` (complete lines) that more bytes cannot change ends."""
    return CUTS[kind](data)


def preamble_of(kind: Kind, data: bytes) -> bytes:
    """The head a later piece of this stream is parsed behind (empty: none needed)."""
    if kind == Kind.GC_LOG:  # the JVM's header: JDK 8's ends with its flags
        flags = data.find(b"CommandLine flags: ", 0, PREAMBLE_MAX)
        if flags >= 0:
            end = data.find(b"\n", flags)
            return data[:end + 1] if end >= 0 else b""
        m = _GC_ID.search(data, 0, PREAMBLE_MAX)  # unified: the lines before GC(0)
        return data[:_line_start(data, m.start())] if m else b""
    if kind == Kind.NGINX_ACCESS:
        end = 0
        for _ in range(_ACCESS_PREAMBLE_LINES):
            nxt = data.find(b"\n", end, PREAMBLE_MAX)
            if nxt < 0:
                break
            end = nxt + 1
        return data[:end]
    return b""


class EvidenceFeeder:
    """A ``ChunkFeeder`` for one structured-evidence stream: settled pieces are parsed
    and handed to ``sink``; ``feed`` says how much it consumed, as the app-log parser
    does, so the watcher holds the rest the same way."""

    def __init__(self, kind: Kind, stats: InputStats, options: UnitOptions, sink: Sink,
                 log_formats: Any = None, wrapper: Any = None) -> None:
        self.kind, self.stats, self.options = kind, stats, options
        self.sink, self.log_formats = sink, log_formats
        self.wrapper = wrapper  # a parsers.wrappers.WrapperSpec (docker, syslog): unwrapped
        self.preamble = b""
        self.pre_lines = 0  # lines of the preamble
        self.pre_records = 0  # its own parsed and unparsed lines, taken out of later pieces
        self.pre_unparsed = 0

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        data = bytes(buf)
        if self.wrapper is not None:
            return self._feed_wrapped(data, first_line, final)
        end = len(data) if final else settled_end(self.kind, data)
        if end <= 0:
            return 0, 0
        piece = data[:end]
        self._parse(piece, first_line)
        return end, piece.count(b"\n")

    def _feed_wrapped(self, data: bytes, first_line: int, final: bool) -> tuple[int, int]:
        """Evidence inside wrapper lines (a GC log in docker's json-file): the inner text is
        settled and parsed as scan parses the unwrapped file; what is consumed is counted
        in outer lines and bytes, so the watcher holds the unsettled outer lines."""
        import numpy as np

        from logsleuth.parsers.lines import line_offsets
        from logsleuth.parsers.wrappers import unwrap

        raw = np.frombuffer(data, dtype=np.uint8)
        starts = line_offsets(raw, final=final)
        if len(starts) < 2:
            return 0, 0
        inner = unwrap(self.wrapper, raw, starts)
        text = inner.data
        end = len(text) if final else settled_end(self.kind, text)
        if end <= 0:
            return 0, 0
        if end >= len(text):
            outer = int(inner.outer_lines)
        else:  # the outer line where the first unsettled inner line starts
            outer = int(inner.outer_line[text.count(b"\n", 0, end)])
        if outer <= 0:
            return 0, 0
        self._parse(text[:end], first_line)
        return int(starts[outer]), outer

    def _parse(self, piece: bytes, first_line: int) -> None:
        if first_line == 1 and not self.preamble:
            self._learn_preamble(piece)
        behind = first_line > 1 and bool(self.preamble)
        text = self.preamble + piece if behind else piece
        skip = self.pre_lines if behind else 0
        scratch = InputStats(self.stats.path, kind=self.stats.kind)
        result = parse_evidence(self.kind, text, scratch, self.options,
                                log_formats=self.log_formats)
        self._account(scratch, piece, skip, first_line, behind)
        if result is None:
            return
        delta = first_line - 1 - skip
        for name, table in list(result.tables.items()):
            result.tables[name] = _relined(table, skip, delta)
        if behind:
            result.parsed_lines -= self.pre_records
            result.unparsed_lines -= self.pre_unparsed
        self.sink(self.kind, result)

    def _learn_preamble(self, piece: bytes) -> None:
        pre = preamble_of(self.kind, piece)
        if not pre:
            return
        scratch = InputStats(self.stats.path)
        parse_evidence(self.kind, pre, scratch, self.options, log_formats=self.log_formats)
        self.preamble, self.pre_lines = pre, pre.count(b"\n")
        self.pre_records, self.pre_unparsed = scratch.records, scratch.unparsed_lines

    def _account(self, got: InputStats, piece: bytes, skip: int, first_line: int,
                 behind: bool) -> None:
        st = self.stats
        st.bytes += len(piece)
        st.lines += piece.count(b"\n") + int(bool(piece) and not piece.endswith(b"\n"))
        st.records += got.records - (self.pre_records if behind else 0)
        st.unparsed_lines += got.unparsed_lines - (self.pre_unparsed if behind else 0)
        delta = first_line - 1 - skip
        room = MAX_SAMPLES - len(st.unparsed_samples)
        st.unparsed_samples.extend([(ln + delta, s) for ln, s in got.unparsed_samples
                                    if ln > skip][:max(room, 0)])
        st.see_times(got.first_ts_ms, got.last_ts_ms)
        if st.timezone is None:
            st.timezone = got.timezone
        codes = {d.code for d in st.diagnostics}
        st.diagnostics.extend(d for d in got.diagnostics if d.code not in codes)  # once each
        st.notes.extend(n for n in got.notes if n not in st.notes)

    # -- checkpoint -------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"preamble": self.preamble.decode("latin-1"), "pre_lines": self.pre_lines,
                "pre_records": self.pre_records, "pre_unparsed": self.pre_unparsed}

    def restore(self, data: dict[str, Any]) -> None:
        self.preamble = str(data.get("preamble", "")).encode("latin-1")
        self.pre_lines = int(data.get("pre_lines", 0))
        self.pre_records = int(data.get("pre_records", 0))
        self.pre_unparsed = int(data.get("pre_unparsed", 0))


def _relined(table: pa.Table, skip: int, delta: int) -> pa.Table:
    """Rows of the preamble dropped; the piece's line numbers made the file's own."""
    if "line" not in table.column_names or not table.num_rows:
        return table
    line = table["line"]
    if skip:
        table = table.filter(pc.fill_null(pc.greater(line, skip), True))
        line = table["line"]
    if delta:
        at = table.schema.get_field_index("line")
        table = table.set_column(at, table.schema.field(at),
                                 pc.add(line, pa.scalar(delta, line.type)))
    return table
