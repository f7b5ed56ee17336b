"""Map/reduce units: one input (or byte range of one) in, one ``Partial`` out.

Units and partials are plain picklable values so the same functions run
inline, in a local process pool, or on a distributed engine.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import AppLogParser, ChunkBatch
from logsleuth.engine.collectors import CollectorSet
from logsleuth.engine.guard import GuardedFeeder, crash_diagnostic, parse_whole
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.errors import Diagnostic, InputError, SourceLocation
from logsleuth.model import RECORD_SCHEMA, EvidenceResult, Kind
from logsleuth.options import ScanOptions

# Structured-evidence parsers by kind: module path and function name, imported lazily.
EVIDENCE_PARSERS: dict[Kind, tuple[str, str]] = {
    Kind.GC_LOG: ("logsleuth.parsers.gc", "parse_gc_log"),
    Kind.THREAD_DUMP: ("logsleuth.parsers.jstack", "parse_thread_dumps"),
    Kind.NGINX_ACCESS: ("logsleuth.parsers.nginx", "parse_nginx_access"),
    Kind.NGINX_ERROR: ("logsleuth.parsers.nginx", "parse_nginx_error"),
}


@dataclass(frozen=True, slots=True)
class UnitOptions:
    """What a worker needs: the scan's options whole, and what the planner derived from
    them and the evidence (resolved zone, JVM start, collectors, dates); picklable."""

    scan: ScanOptions = field(default_factory=ScanOptions)
    default_tz: tzinfo | None = None  # --tz, or the zone inferred from sibling logs
    jvm_start_ms: int | None = None
    collectors: tuple[str, ...] = ()
    collector_config: dict[str, Any] = field(default_factory=dict)
    # date of the first record of each time-only app log, by path (engine.timeonly)
    base_dates: dict[str, date] = field(default_factory=dict)

    @property
    def chunk_size(self) -> int:
        return self.scan.chunk_size

    @property
    def keep_records(self) -> bool:
        return self.scan.keep_records

    @property
    def spill_dir(self) -> str | None:
        """Kept records go to Parquet files here, not memory."""
        return None if self.scan.spill_dir is None else str(self.scan.spill_dir)


@dataclass(frozen=True, slots=True)
class WorkUnit:
    source: Any  # logsleuth.sources.Source
    kind: Kind
    layout: Any | None  # a compiled layout (picklable frozen dataclass) or None
    start: int = 0  # byte range of a split plain file; end None = to EOF
    end: int | None = None
    part: int = 0
    wrapper: Any | None = None  # a parsers.wrappers.WrapperSpec: parse the inner text
    # a record cut by a size-based rotation (engine.continued): the lines this file opens
    # with belong to the previous file's last record, which reads them after its end
    skip: int = 0  # bytes (and lines) at the start that the previous file's unit reads
    skip_lines: int = 0
    tail: bytes = b""  # the next file's opening lines, read after this one's end


@dataclass(slots=True)
class Partial:
    """What one unit produced; ``merge`` folds the next part of the same input in."""

    path: str
    part: int
    stats: InputStats
    collectors: CollectorSet
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    record_files: list[tuple[str, int]] = field(default_factory=list)  # (parquet, line delta)

    def shift_lines(self, delta: int) -> None:
        """Byte-range parts count lines from 1; make them absolute."""
        if delta == 0:
            return
        self.record_files = [(path, d + delta) for path, d in self.record_files]
        for name, parts in self.tables.items():
            self.tables[name] = [
                t.set_column(t.schema.get_field_index("line"), "line", pc.add(t["line"], delta))
                if "line" in t.schema.names else t
                for t in parts
            ]
        self.collectors.shift_lines(self.path, delta)
        self.stats.unparsed_samples = [(ln + delta, s) for ln, s in self.stats.unparsed_samples]


def run_unit(unit: WorkUnit, options: UnitOptions) -> Partial:
    """Parse one unit; expected input problems become diagnostics, never exceptions."""
    src = unit.source
    stats = InputStats(src.path, kind=str(unit.kind),
                       layout=getattr(unit.layout, "name", None) if unit.kind == Kind.APP_LOG
                       else None)
    collectors = CollectorSet.create(options.collectors, options.collector_config)
    partial = Partial(src.path, unit.part, stats, collectors)
    if unit.wrapper is not None:
        stats.wrapper = unit.wrapper.describe()
    try:
        if unit.kind in EVIDENCE_PARSERS:
            _run_evidence(unit, options, partial)
        else:
            _run_applog(unit, options, partial)
    except InputError as err:
        stats.diagnostics.append(err.diagnostic)
    except OSError as err:
        stats.diagnostics.append(Diagnostic(SourceLocation(src.path), "unreadable",
                                            f"cannot read: {err.strerror or err}"))
    except Exception as err:  # a bug outside the guarded parse: this input stops here
        stats.diagnostics.append(crash_diagnostic(
            src.path, None, err, f"reading this {unit.kind} input",
            "the rest of this input is not read"))
    collectors.finish()  # in the worker, not in the serial reduce
    return partial


def _run_applog(unit: WorkUnit, options: UnitOptions, partial: Partial) -> None:
    with _RecordKeeper(options, partial) as keeper:

        def sink(cb: ChunkBatch) -> None:
            partial.collectors.consume(cb)
            keeper.add(cb.batch)

        with unit.source.open() as stream:
            parser = GuardedFeeder(app_log_parser(unit, options, partial, sink),
                                   f"the app-log parser (layout {partial.stats.layout})",
                                   probe=lambda: app_log_parser(unit, options, _scratch(partial),
                                                                None))
            limit = None
            if unit.start or unit.end is not None:
                stream.seek(unit.start)
                limit = None if unit.end is None else unit.end - unit.start
            if unit.skip:  # the previous file's unit reads these lines
                stream.read(unit.skip)
                limit = None if limit is None else limit - unit.skip
            feed_stream(_Tailed(stream, unit.tail) if unit.tail else stream, parser,
                        chunk_size=options.chunk_size, limit=limit,
                        first_line=1 + unit.skip_lines)


class _Tailed:
    """A stream, then ``tail``: the next file's opening lines after this file's end."""

    __slots__ = ("rest", "stream")

    def __init__(self, stream: Any, tail: bytes) -> None:
        self.stream, self.rest = stream, memoryview(tail)

    def readinto1(self, buf: memoryview) -> int:
        if self.stream is not None:
            k = getattr(self.stream, "readinto1", self.stream.readinto)(buf)
            if k:
                return int(k)
            self.stream = None
        n = min(len(buf), len(self.rest))
        buf[:n] = self.rest[:n]
        self.rest = self.rest[n:]
        return n

    readinto = readinto1


def _scratch(partial: Partial) -> Partial:
    """A throwaway partial of the same input, for parsing with no effect on the real one."""
    return Partial(partial.path, partial.part, InputStats(partial.path),
                   CollectorSet.create((), {}))


def app_log_parser(unit: WorkUnit, options: UnitOptions, partial: Partial,
                   sink: Callable[[ChunkBatch], None] | None) -> Any:
    """The chunk feeder scan reads an app-log unit with (layout, clock, wrapper); record
    batches go to ``sink``. Public: the watcher feeds appended bytes to the same one."""
    layout = unit.layout
    if layout is not None and not hasattr(layout, "fields_regex"):  # a JSON-lines layout
        from logsleuth.engine.jsonlog import JsonLogParser

        return JsonLogParser(partial.path, layout, partial.stats, sink,
                             default_tz=options.default_tz)
    converter: Callable[[pa.Array], pa.Array] | None = None
    if layout is not None and layout.timestamp is not None and layout.timestamp.needs_base_date:
        from logsleuth.engine.timeonly import TimeOfDayClock

        start = options.base_dates.get(partial.path)
        if start is not None:  # undated: records keep no timestamp (reported by the planner)
            converter = TimeOfDayClock(layout.timestamp, start, options.default_tz)
    elif layout is not None and layout.timestamp is not None:
        ts_format, tz = layout.timestamp, options.default_tz

        def convert(values: pa.Array) -> pa.Array:
            return ts_format.to_epoch_ms(values, tz).ms

        converter = convert

    parser = AppLogParser(partial.path, layout, converter, partial.stats, sink,
                          default_tz=options.default_tz)
    if unit.wrapper is None:
        return parser
    from logsleuth.engine.unwrap import UnwrapFeeder

    return UnwrapFeeder(unit.wrapper, parser)


class _RecordKeeper:
    """Keeps record batches in memory, or streams them to a Parquet file (``spill_dir``)
    so memory stays flat however many records are kept."""

    def __init__(self, options: UnitOptions, partial: Partial) -> None:
        self.options, self.partial = options, partial
        self.batches: list[pa.RecordBatch] = []
        self.writer: Any = None

    def add(self, batch: pa.RecordBatch) -> None:
        if not self.options.keep_records:
            return
        if self.options.spill_dir is None:
            self.batches.append(batch)
            return
        if self.writer is None:
            import pyarrow.parquet as pq

            path = Path(self.options.spill_dir) / f"records-{uuid.uuid4().hex}.parquet"
            self.writer = pq.ParquetWriter(path, RECORD_SCHEMA)
            self.partial.record_files.append((str(path), 0))
        self.writer.write_batch(batch)

    def __enter__(self) -> _RecordKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.batches:
            self.partial.tables["records"] = [pa.Table.from_batches(self.batches)]


def _line_at(data: bytes, line: int) -> str:
    start = 0
    for _ in range(line - 1):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return ""
    end = data.find(b"\n", start)
    return data[start: end if end >= 0 else len(data)].decode("utf-8", "replace")[:200]


def _run_evidence(unit: WorkUnit, options: UnitOptions, partial: Partial) -> None:
    with unit.source.open() as stream:
        data = stream.read()
    if unit.wrapper is not None:  # e.g. nginx or GC logs inside docker json-file lines
        from logsleuth.parsers.wrappers import unwrap_bytes

        data = unwrap_bytes(unit.wrapper, data)
    formats = None
    if unit.kind == Kind.NGINX_ACCESS and not unit.source.member:
        from logsleuth.parsers.nginx_format import formats_near  # the user's log_format

        formats = formats_near(Path(unit.source.fs_path))
    result = parse_evidence(unit.kind, data, partial.stats, options, log_formats=formats)
    if result is None:
        return
    for name, table in result.tables.items():
        partial.tables.setdefault(name, []).append(table)
    partial.collectors.consume_evidence(unit.kind, result)


def parse_evidence(kind: Kind, data: bytes, stats: InputStats, options: UnitOptions, *,
                   log_formats: Any = None) -> EvidenceResult | None:
    """Parse structured evidence (GC log, thread dumps, nginx) as scan does; ``stats`` (the
    input's, named by its path) gets the accounting. Times outside 1900-2200 become null.
    Public: the watcher parses each settled piece of a growing file with it. None: the
    parser failed before it read anything (a parser-crash diagnostic is in ``stats``)."""
    module, func = EVIDENCE_PARSERS[kind]
    parse = getattr(importlib.import_module(module), func)
    kwargs: dict[str, Any] = {"default_tz": options.default_tz}
    if kind == Kind.GC_LOG:
        kwargs["jvm_start_ms"] = options.jvm_start_ms
    elif log_formats is not None:
        kwargs["log_formats"] = log_formats
    result, kept_lines, crash = parse_whole(parse, data, stats.path,
                                            f"the {kind} parser", **kwargs)
    st = stats
    st.bytes = len(data)
    if crash is not None:  # what the parser read before it failed stays; the rest is unparsed
        st.diagnostics.append(crash)
        where = crash.location.line or 1
        st.lines = data.count(b"\n") + int(bool(data) and not data.endswith(b"\n"))
        st.records = 0 if result is None else result.parsed_lines
        st.unparsed_lines = st.lines - kept_lines + (0 if result is None else result.unparsed_lines)
        earlier = [] if result is None else list(result.unparsed_samples)[:4]
        st.unparsed_samples = [*earlier, (where, _line_at(data, where))]
        if result is None:
            return None
    else:
        st.lines = result.lines
        st.records = result.parsed_lines
        st.unparsed_lines = result.unparsed_lines
        st.unparsed_samples = list(result.unparsed_samples)[:5]
    st.timezone = result.timezone
    st.diagnostics.extend(d for d in result.diagnostics if isinstance(d, Diagnostic))
    st.notes.extend(result.notes)
    for name, table in list(result.tables.items()):
        if "ts" in table.schema.names and table.num_rows:  # damaged years: time unknown
            at = table.schema.get_field_index("ts")
            lines = table["line"] if "line" in table.schema.names else None
            table = table.set_column(at, table.schema.field(at),
                                     st.plausible(table["ts"].combine_chunks(), lines))
            result.tables[name] = table
        if "ts" in table.schema.names and table.num_rows:
            lo, hi = pc.min_max(table["ts"].cast(pa.int64())).values()
            st.see_times(lo.as_py(), hi.as_py())
    return result
