"""The running analysis of a watch: the scan's own collectors, fed batch by batch.

A watch is one unit of a scan that never ends: each poll's new records go through
the app-log parsers a scan uses into the same collectors, and finalizing them
(what a scan does once its partials are merged) gives the scan's objects:
findings, templates, gauges, leaks, attribution. Whatever is finalized, the
collectors go on consuming. (A partial per batch, merged into the running set,
was measured first: building the collectors alone cost 60-80 ms a batch (rules
compiled, metric definitions, the needle matcher), every batch mined its templates
again, and the template counts' merge bookkeeping grows with every merge.)
The last record of each stream is held by its parser until the next header (or
a quiet period) shows it is complete, so a trace being written is never split.
GC logs, thread dumps and nginx logs are parsed in settled pieces by scan's own
evidence parser (``watch.evidence``); their tables join the result as scan's do.
The state is checkpointed by ``watch.checkpoint`` and kept bounded over days by
``watch.retention``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.engine.collectors import CollectorSet
from logsleuth.engine.guard import GuardedFeeder
from logsleuth.engine.reader import feed_buffer
from logsleuth.engine.stats import InputStats
from logsleuth.engine.units import EVIDENCE_PARSERS, Partial, UnitOptions, WorkUnit, app_log_parser
from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.model import Kind
from logsleuth.options import ScanOptions
from logsleuth.result import ScanResult
from logsleuth.sources.family import family_of
from logsleuth.sources.values import Source
from logsleuth.watch.follow import Chunk
from logsleuth.watch.retention import Retention

PLAN_BYTES = 64 * 1024  # a new file is classified on this many first bytes (scan's head)
PLAN_LINES = 20  # ... or on this many lines: enough to tell a GC log from an app log
SETTLE_SECONDS = 5.0  # a held last record is complete once its file is quiet this long


@dataclass(slots=True)
class _Stream:
    """One record stream (a file and its rolled copies) and its parser."""

    display: str
    kind: Kind
    parser: Any | None  # app-log parser or EvidenceFeeder; None: not read (unknown kind)
    stats: InputStats
    carry: bytes = b""  # bytes of the held last record
    line: int = 1  # line number of the carry's first line
    quiet_since: float = field(default_factory=time.monotonic)
    layout: Any | None = None
    wrapper: Any | None = None
    head: bytes = b""  # first bytes: how it was planned (and GC log heads state ceilings)
    evidence: bool = False  # a GC log, thread dump or nginx log: parsed in settled pieces
    fs_path: str = ""  # the file it was planned from
    base_date: Any | None = None  # a time-only layout's first date (as scan chose it)


class RunningAnalysis:
    """Streams, the running collectors, and what the newest batch brought."""

    def __init__(self, options: UnitOptions, *, choice: Any, overrides: Any = None,
                 tz: str | None = None, limits: dict[str, float] | None = None,
                 date: Any = None, settle: float = SETTLE_SECONDS) -> None:
        self.options = options  # the scan's options whole, and the resolved zone
        self.names, self.config = options.collectors, options.collector_config
        self.choice, self.overrides, self.tz = choice, overrides, tz
        self.default_tz = options.default_tz
        self.limits = limits or {}
        self.date = date  # --date: the first record's date of time-only logs
        self.settle = settle
        self.running = CollectorSet.create(self.names, self.config)
        self.streams: dict[str, _Stream] = {}
        self.diagnostics: list[Diagnostic] = []
        self.evidence_ms: int | None = None  # newest record time read
        self.records_read: dict[str, int] = {}  # per source name
        self.retired: dict[str, InputStats] = {}  # accounting of streams no longer on disk
        self._heads: dict[str, _Head] = {}  # heads of retired non-app streams
        self._unplanned: dict[str, tuple[Chunk, float]] = {}  # new streams' first bytes
        self.retention = Retention()  # old windows coarsened: bounded over days
        self.evidence_tables: dict[str, list[pa.Table]] = {}  # GC events, threads, requests
        self.batch_records = 0

    @classmethod
    def for_scan(cls, scan: ScanOptions, *, default_tz: Any = None, tz: str | None = None,
                 settle: float = SETTLE_SECONDS,
                 jvm_start_ms: int | None = None) -> RunningAnalysis:
        """The running analysis a ``scan`` with these options would do (``default_tz``: a
        zone resolved elsewhere, e.g. inferred; by default ``scan.tz``)."""
        from logsleuth import api
        from logsleuth.engine.timeonly import parse_date
        from logsleuth.parsers.classify import KindOverrides

        if default_tz is None:
            default_tz, tz = api.resolve_tz(scan.tz), scan.tz
        names, config = api.collectors_for(default_tz, scan)
        config.pop("scan_token", None)  # no sibling units to share widths with
        if jvm_start_ms is None:
            jvm_start_ms = api.parse_instant(scan.jvm_start)
        unit = UnitOptions(scan=scan, default_tz=default_tz, collectors=names,
                           collector_config=config, jvm_start_ms=jvm_start_ms)
        return cls(unit, choice=api.layout_choice(scan.pattern, scan.log4j2_config,
                                                  scan.logback_config),
                   overrides=KindOverrides.parse(list(scan.kinds)), tz=tz,
                   limits=scan.stated_limits(), date=parse_date(scan.date), settle=settle)

    # -- one batch --------------------------------------------------------------
    def ingest(self, chunks: list[Chunk], flush_quiet: bool = True) -> int:
        """Parse ``chunks`` (and held records gone quiet) into the running set; records read."""
        self.batch_records = 0
        now = time.monotonic()
        ready: list[str] = []
        for c in chunks:
            self._chunk(c, now, ready)
        if flush_quiet:
            ready += [key for key, (_, since) in self._unplanned.items()
                      if now - since >= self.settle and key not in ready]
        self._start(ready, now)
        if flush_quiet:
            for s in self.streams.values():
                if now - s.quiet_since >= self.settle:
                    if s.carry:
                        self._feed(s, b"", final=True)
                    _release_scratch(s.parser)  # quiet: a rolled file's, often for good
        self.retention.apply(self)
        return self.batch_records

    def start_new(self) -> int:
        """Read the files still waiting to be planned on what they have now (the watcher
        stops); records read. Held last records stay held."""
        self.batch_records = 0
        self._start(list(self._unplanned), time.monotonic())
        return self.batch_records

    def flush(self) -> int:
        """Every held record is complete (end of input, or a test's final state)."""
        self.batch_records = 0
        self._start(list(self._unplanned), time.monotonic())
        for s in self.streams.values():
            if s.carry:
                self._feed(s, b"", final=True)
        self.retention.apply(self)
        return self.batch_records

    def _chunk(self, c: Chunk, now: float, ready: list[str]) -> None:
        s = self.streams.get(c.stream)
        if s is None:
            # what a file is (app log, GC log, dump...) and its layout are decided on its
            # first bytes, as scan decides them on its first 64 KiB: a new file's first
            # bytes wait for that many, or PLAN_LINES lines, its end, or the settle time;
            # the files ready in one batch are planned together, as scan plans its inputs
            held = self._unplanned.get(c.stream)
            if held is not None:
                c = replace(held[0], data=held[0].data + c.data, final=c.final)
                now = held[1]
            self._unplanned[c.stream] = (c, now)
            if c.stream not in ready and (len(c.data) >= PLAN_BYTES or c.final
                                          or c.data.count(b"\n") >= PLAN_LINES):
                ready.append(c.stream)
            return
        if c.restarted:  # truncated: what was held is complete, numbering starts over
            if s.carry:
                self._feed(s, b"", final=True)
            s.line = c.first_line
        if c.data or c.final:
            s.quiet_since = now
            self._feed(s, c.data, final=c.final)

    def _start(self, keys: list[str], now: float) -> None:
        """Plan new streams on their first bytes, together, and feed them."""
        if not keys:
            return
        held = [self._unplanned.pop(key) for key in keys]
        planned = self._plan_many([c for c, _ in held])
        for key, (c, since), s in zip(keys, held, planned, strict=True):
            self.streams[key] = s
            s.quiet_since = since
            self._feed(s, c.data, final=c.final)

    def _feed(self, s: _Stream, data: bytes, final: bool) -> None:
        if s.parser is None:
            s.stats.bytes += len(data)
            s.stats.lines += data.count(b"\n")
            return
        buf = bytearray(s.carry + data)
        if not buf:
            return
        mv = memoryview(buf)
        try:
            if s.evidence:  # read as bytes, as scan reads the whole file
                consumed, lines = s.parser.feed(mv, s.line, final)
            else:
                consumed, lines = feed_buffer(s.parser, mv, len(buf), s.line, final, s.stats)
        finally:
            mv.release()
        s.carry = bytes(buf[consumed:])
        s.line += lines

    def _plan(self, c: Chunk, dated: Any = None) -> _Stream:
        """Kind and layout from the stream's first lines, or from its family's; ``dated``:
        a time-only layout's first date already chosen (a restored stream)."""
        return self._plan_many([c], [dated])[0]

    def _plan_many(self, chunks: list[Chunk], dated: list[Any] | None = None) -> list[_Stream]:
        """Streams for new files, each planned on its first lines as scan plans an input,
        then sharing layouts with the files of its family (those planned with it and those
        read already) by scan's own rule (``share_family_layouts``): a freshly rolled file
        of a few lines, or one opening with a long trace, is read in the layout inferred
        from its family's many lines, and an archive found after a near-empty current
        file is not read in that file's weak guess. Streams already read keep theirs."""
        from logsleuth.engine.local import PlannedInput
        from logsleuth.engine.planner import share_family_layouts

        guesses = [self._guess(c) for c in chunks]
        known = [PlannedInput(Source(s.display, Path(s.display), family=family_of(s.display)),
                              s.kind, s.layout, s.head, s.wrapper)
                 for s in self.streams.values() if s.parser is not None]
        fresh = [PlannedInput(_source(c), kind, layout, head, wrapper)
                 for c, (kind, layout, wrapper, head, _note) in zip(chunks, guesses, strict=True)]
        shared = share_family_layouts(known + fresh)[len(known):]
        out = []
        for i, (c, p) in enumerate(zip(chunks, shared, strict=True)):
            kind, layout, wrapper, _head, note = guesses[i]
            if note and p.layout is layout:  # the same code and level as scan gives
                from logsleuth.engine.planner import layout_diagnostic

                self.diagnostics.append(layout_diagnostic(c.display, layout, note))
            out.append(self._build(c, kind, p.layout, wrapper, dated[i] if dated else None))
        return out

    def _guess(self, c: Chunk) -> tuple[Kind, Any, Any, bytes, str | None]:
        """Kind, layout, wrapper, (inner) head and the layout note, from ``c`` alone."""
        from logsleuth.engine.planner import (
            HEAD_BYTES,
            choose_layout,
            classify_kind,
            head_lines,
            unwrap_head,
        )

        wrapper, head = unwrap_head(c.data[:HEAD_BYTES], self.choice)
        kind = classify_kind(_source(c), head, self.overrides)
        if wrapper is not None and kind == Kind.UNKNOWN:
            kind = Kind.APP_LOG
        layout, note = None, None
        if kind == Kind.APP_LOG:
            layout, note = choose_layout(head_lines(head), self.choice)
        return kind, layout, wrapper, head, note

    def _build(self, c: Chunk, kind: Kind, layout: Any, wrapper: Any,
               dated: Any = None) -> _Stream:
        from logsleuth.engine.planner import HEAD_BYTES

        src = _source(c)
        stats = InputStats(c.display)
        stats.kind = str(kind)
        if kind != Kind.APP_LOG:
            head = c.data[:HEAD_BYTES]
            if kind in EVIDENCE_PARSERS:
                if wrapper is not None:
                    stats.wrapper = wrapper.describe()
                return _Stream(c.display, kind, self._evidence_feeder(c, kind, stats, wrapper),
                               stats, line=c.first_line, head=head, evidence=True,
                               fs_path=c.fs_path, wrapper=wrapper)
            self.diagnostics.append(Diagnostic(
                SourceLocation(c.display), "not-followed",
                f"a {kind} input is not read by watch; scan reads it",
                level=DiagLevel.WARNING))
            return _Stream(c.display, kind, None, stats, head=head, fs_path=c.fs_path)
        stats.layout = getattr(layout, "name", None)
        partial = Partial(c.display, 0, stats, CollectorSet([]))
        unit = WorkUnit(src, kind, layout, wrapper=wrapper)
        options = self._dated(c, layout, dated)
        # a parser bug costs this stream's rest (a parser-crash diagnostic), never the watch
        display = c.display  # the probe keeps the name only: ``c`` holds the first read
        parser = GuardedFeeder(
            app_log_parser(unit, options, partial, self._sink),
            f"the app-log parser (layout {stats.layout})",
            probe=lambda: app_log_parser(unit, options, Partial(
                display, 0, InputStats(display), CollectorSet([])), None))
        return _Stream(c.display, kind, parser, stats, line=c.first_line, layout=layout,
                       wrapper=wrapper, head=c.data[:HEAD_BYTES], fs_path=c.fs_path,
                       base_date=options.base_dates.get(c.display))

    def _evidence_feeder(self, c: Chunk, kind: Kind, stats: InputStats,
                         wrapper: Any = None) -> Any:
        from logsleuth.watch.evidence import EvidenceFeeder

        formats = None
        if kind == Kind.NGINX_ACCESS and c.fs_path:
            from logsleuth.parsers.nginx_format import formats_near  # the user's log_format

            formats = formats_near(Path(c.fs_path))
        return EvidenceFeeder(kind, stats, self.options, self._evidence, formats, wrapper)

    def _evidence(self, kind: Kind, result: Any) -> None:
        """A settled piece of structured evidence: into the collectors (rules see GC
        events, thread states and requests as scan's do) and the evidence tables."""
        self.running.consume_evidence(kind, result)
        self.batch_records += result.parsed_lines
        self.records_read[result.source] = (self.records_read.get(result.source, 0)
                                            + result.parsed_lines)
        for name, table in result.tables.items():
            if not table.num_rows:
                continue
            parts = self.evidence_tables.setdefault(name, [])
            parts.append(table)
            if len(parts) > 32:  # many small pieces: one table
                parts[:] = [pa.concat_tables(parts, promote_options="permissive")]
            if "ts" in table.column_names:
                hi = pc.max(table["ts"].cast(pa.int64())).as_py()
                if hi is not None and (self.evidence_ms is None or hi > self.evidence_ms):
                    self.evidence_ms = hi

    def _dated(self, c: Chunk, layout: Any, dated: Any = None) -> UnitOptions:
        """Options for a time-only layout: the first record's date, chosen as scan does
        (file name, else the file's modification time; reported as a diagnostic)."""
        from logsleuth.engine.planner import PlannedInput
        from logsleuth.engine.timeonly import date_anchors, needs_date

        if not needs_date(layout):
            return self.options
        if dated is not None:
            return replace(self.options, base_dates={c.display: dated})
        if not c.fs_path:
            return self.options
        try:
            mtime = os.stat(c.fs_path).st_mtime
        except OSError:
            mtime = None
        src = Source(path=c.display, fs_path=Path(c.fs_path), mtime=mtime)
        head = c.data[:65536]
        days = date_anchors([PlannedInput(src, Kind.APP_LOG, layout, head)], self.date,
                            self.default_tz, self.diagnostics)
        return replace(self.options, base_dates=days)

    def _sink(self, cb: ChunkBatch) -> None:
        self.running.consume(cb)
        b = cb.batch
        n = b.num_rows
        self.batch_records += n
        if n:
            src = str(b.column("source")[0])
            self.records_read[src] = self.records_read.get(src, 0) + n
            ts = b.column("ts").cast(pa.int64())
            if ts.null_count < n:
                hi = int(np.nanmax(ts.fill_null(-1).to_numpy(zero_copy_only=False)))
                if hi >= 0 and (self.evidence_ms is None or hi > self.evidence_ms):
                    self.evidence_ms = hi

    def retire(self, live: set[str]) -> None:
        """Streams whose files are all gone, with nothing held, free their parser; their
        accounting joins the retired totals of their name (memory stays flat over days
        of rotations)."""
        for key in [k for k, s in self.streams.items() if k not in live and not s.carry]:
            s = self.streams.pop(key)
            if s.kind != Kind.APP_LOG:  # its head may state a ceiling
                self._heads.setdefault(s.display, _Head(s.kind, s.head,
                                                        Source(s.display, Path(s.display))))
            done = self.retired.get(s.display)
            if done is None:
                self.retired[s.display] = s.stats
            else:
                done.merge(s.stats)

    # -- results ----------------------------------------------------------------
    def finalize(self) -> ScanResult:
        """The scan's result over everything merged so far (the running state is kept)."""
        from logsleuth import api
        from logsleuth.parsers.metrics import first_statements

        gauges = self.evidence_tables.get("metrics")
        if gauges and len(gauges) > 1:  # a ceiling stated in every piece counts once
            gauges[:] = [first_statements(pa.concat_tables(gauges,
                                                           promote_options="permissive"))]
        heads = {**self._heads, **{s.display: _Head(s.kind, s.head, Source(s.display,
                                                                            Path(s.display)))
                                   for s in self.streams.values() if s.kind != Kind.APP_LOG}}
        return api.result_from_collectors(
            self.running, inputs=[*self.retired.values(),
                                  *(s.stats for s in self.streams.values())],
            tables=self.evidence_tables, heads=list(heads.values()),
            diagnostics=self.diagnostics, tz=self.tz, limits=self.limits)


@dataclass(frozen=True, slots=True)
class _Head:
    """What ``limits_from_heads`` reads of a planned input."""

    kind: Kind
    head: bytes
    source: Source


def _release_scratch(parser: Any) -> None:
    """The parsers of a stream (a guard, an unwrapper, the app-log parser) give back
    what they keep between feeds."""
    while parser is not None:
        release = getattr(parser, "release_scratch", None)
        if release is not None:
            release()
        parser = getattr(parser, "inner", None)


def _source(c: Chunk) -> Source:
    return Source(path=c.display, fs_path=Path(c.display), family=family_of(c.display))
