"""Vectorised parsing of application logs (log4j2/logback text layouts).

A chunk of bytes becomes an Arrow array of lines without copying; header lines
are found with one RE2 pass, records are the zero-copy spans between headers,
and fields come from one ``extract_regex`` per chunk. Python runs per record
only for records with continuation lines (stack traces), through a tail cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine import freetext
from logsleuth.engine.console import console_cut
from logsleuth.engine.extract import extract, plan_extraction, program_plan, spans_to_strings
from logsleuth.engine.fastfields import FieldProgram
from logsleuth.engine.mixed import OtherLayouts, merge
from logsleuth.engine.stats import InputStats
from logsleuth.engine.traces import TraceReader
from logsleuth.model import RECORD_SCHEMA, Kind, Record
from logsleuth.parsers.lines import line_offsets, lines_array
from logsleuth.parsers.stacktrace import ThrowableCache


class LayoutLike(Protocol):
    """What the engine needs of a compiled layout (see logsleuth.layouts)."""

    name: str

    @property
    def header_regex(self) -> str: ...

    @property
    def fields_regex(self) -> str: ...


NO_TIME = np.iinfo(np.int64).min  # a wrapper line without a usable time
TsConverter = Callable[[pa.Array], pa.Array]  # ts strings -> int64 epoch ms (nulls allowed)

_STRING_FIELDS = ("thread", "logger", "msg")
# Lines that continue a record as a stack trace; used by the no-layout mode too.
TRACE_LINE = r"^(?:\s+at |\s+\.\.\. \d+ (?:more|common)|\s*(?:Caused by|Suppressed|Wrapped by): )"


@dataclass(slots=True)
class ChunkBatch:
    """One chunk's records: the Arrow batch plus what lazy consumers need."""

    batch: pa.RecordBatch  # RECORD_SCHEMA columns
    texts: pa.Array  # raw record text (large_binary), valid only during the callback
    fields: dict[str, pa.Array]  # extra layout fields (mdc_*, pid, cls, method...)
    make_record: Callable[[int], Record]  # build a full Record (with throwable) for row i
    needle_rows: dict[str, np.ndarray] | None = None  # the collectors' shared needle scan
    # where each record's first line ends, as offsets into ``texts``' data buffer
    first_line_ends: np.ndarray | None = None
    # each record's span with the lines the JVM wrote into a console after it (thread
    # dumps, GC lines: engine.console), when any; ``texts`` holds the record's own lines
    whole_texts: pa.Array | None = None

    @property
    def spans(self) -> pa.Array:
        """Record texts with any JVM console lines after them (for embedded evidence)."""
        return self.texts if self.whole_texts is None else self.whole_texts

    def rows_with(self, needles: Iterable[str]) -> np.ndarray | None:
        """Rows holding any of ``needles``, from the shared scan (None without one)."""
        if self.needle_rows is None:
            return None
        out = np.zeros(self.batch.num_rows, dtype=bool)
        for needle in needles:
            rows = self.needle_rows.get(needle)
            if rows is not None:
                out[rows] = True
        return out


BatchSink = Callable[[ChunkBatch], None]


@dataclass(frozen=True, slots=True)
class _Found:
    """Fields found with the header lines: rows vouched for, columns, prefix lengths."""

    ok: np.ndarray
    cols: dict[str, pa.Array]
    prefix: np.ndarray


def _as_str(arr: pa.Array) -> pa.Array:
    try:
        return arr.cast(pa.string())
    except pa.ArrowInvalid:  # invalid UTF-8 survives only in the rare slow path
        return pa.array(
            [None if v is None else v.decode("utf-8", "replace") for v in arr.to_pylist()],
            pa.string(),
        )


def trimmed_levels(values: pa.Array) -> pa.DictionaryArray:
    """A padded level column (``%-5level``) trimmed, as the string dictionary the records
    keep: its few distinct values are trimmed and checked as UTF-8 once each, not per row
    (three passes over every row's level before: 0.07 s per 256 MiB of ``incident``).

    Equal to dictionary-encoding the trimmed rows: values that trim alike share a code,
    numbered in order of first appearance as ``dictionary_encode`` numbers them.
    """
    enc = values.dictionary_encode()
    words = pc.utf8_trim(enc.dictionary.cast(pa.string()), " ")
    again = words.dictionary_encode()
    if len(again.dictionary) == len(words):
        return pa.DictionaryArray.from_arrays(enc.indices, words)
    return pa.DictionaryArray.from_arrays(again.indices.take(enc.indices), again.dictionary)


def _level_column(level: pa.Array) -> pa.DictionaryArray:
    if isinstance(level, pa.DictionaryArray):  # trimmed_levels made it
        return level
    return _as_str(level).dictionary_encode()


def record_batch(source: str, lines: np.ndarray, n_lines: np.ndarray,
                 **columns: pa.Array | None) -> pa.RecordBatch:
    """A batch of RECORD_SCHEMA; columns not given (or None) are null.

    Keyword names are the schema's, with ``msg`` for ``message``; every parser of
    app logs builds its batches here so the schema has one construction site.
    """
    n = len(lines)
    columns = {("message" if k == "msg" else k): v for k, v in columns.items()}
    fixed = {
        "source": pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), [source]),
        "kind": pa.DictionaryArray.from_arrays(np.zeros(n, np.int8), [str(Kind.APP_LOG)]),
        "line": pa.array(lines, pa.int64()),
        "n_lines": pa.array(n_lines, pa.int32()),
    }
    arrays = []
    for field in RECORD_SCHEMA:
        value = fixed.get(field.name, columns.get(field.name))
        arrays.append(pa.nulls(n, field.type) if value is None else value)
    return pa.RecordBatch.from_arrays(arrays, schema=RECORD_SCHEMA)


def _searchable(buf: memoryview) -> bytes | bytearray:
    """``buf``'s bytes with ``find``/``rfind``: the object under it when the view starts at
    its first byte (the reader's chunk buffer), else a copy. Copying each 4 MiB chunk
    (and faulting its pages in) cost as much as the bounded searches saved."""
    obj = buf.obj
    if isinstance(obj, (bytes, bytearray)) and len(buf) and len(obj) >= len(buf) and (
            np.frombuffer(buf, np.uint8).ctypes.data == np.frombuffer(obj, np.uint8).ctypes.data):
        return obj
    return bytes(buf)


class AppLogParser:
    """Parses the chunks of one input; keeps only what spans chunk boundaries."""

    def __init__(
        self,
        source: str,
        layout: LayoutLike | None,
        ts_converter: TsConverter | None,
        stats: InputStats,
        sink: BatchSink | None = None,
        *,
        default_tz: tzinfo | None = None,
    ) -> None:
        self.source = source
        self.layout = layout
        self.ts_converter = ts_converter
        self.stats = stats
        self.sink = sink
        self.default_tz = default_tz
        self._cache = ThrowableCache()
        # a flood repeats one trace: its classes and frame are read once
        self._traces = TraceReader()
        # matching without captures runs on RE2's DFA: the layout's own regex is fast here
        self._header_regex = layout.header_regex if layout else TRACE_HEADER_REGEX
        self._plan = plan_extraction(layout.fields_regex) if layout else None
        # more fields than one RE2 pass takes (orders' inferred layout, five) still have
        # a one-pass plan for the program: 0.54 -> ~0.13 s per 256 MiB of orders
        program = (self._plan if self._plan is None or self._plan.gaps
                   else program_plan(layout.fields_regex) if layout else None)
        self._fast = FieldProgram.build(layout.header_regex, program) if program else None
        self._fast_trim = program.trim if program is not None else ()
        self._layout_regex = layout.fields_regex if layout else ""
        self._mask = np.empty(0, dtype=bool)
        # a mixed file's further layouts: their lines are found with one more RE2 pass each
        others = getattr(layout, "others", ())
        self._others = OtherLayouts(others, default_tz) if others else None
        # Set per chunk by an unwrapping feeder (engine.unwrap): the outer line where
        # each line of the chunk starts (plus an end sentinel) and the outer time.
        self.line_map: np.ndarray | None = None
        self.line_ms: np.ndarray | None = None

    def release_scratch(self) -> None:
        """Give back the chunk-sized scratch kept between feeds: a watcher keeps a rolled
        file's parser while its archive is on disk, 8 MiB each when idle."""
        self._mask = np.empty(0, dtype=bool)

    # -- chunk entry point -------------------------------------------------
    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        """Parse whole records in ``buf``; return the bytes and lines consumed.

        Unless ``final``, the last record is left unconsumed so the caller can
        carry it to the front of the next chunk (records never straddle chunks).
        """
        n = len(buf)
        if n == 0:
            return 0, 0
        raw = np.frombuffer(buf, dtype=np.uint8)
        if self._mask.shape[0] < n:
            self._mask = np.empty(n, dtype=bool)
        starts = line_offsets(raw, final=final, scratch=self._mask)
        n_lines = len(starts) - 1
        data = pa.py_buffer(buf)
        lines = lines_array(data, starts)
        if self.layout is None:
            return self._feed_unknown(buf, lines, starts, first_line, final)
        found: _Found | None = None
        if self._fast is not None:
            heads, found = self._fast_heads(raw, data, lines, starts)
        else:
            is_header = pc.match_substring_regex(lines, self._header_regex)
            heads = np.flatnonzero(is_header.to_numpy(zero_copy_only=False))
        other = (self._others.heads(data, raw, lines, starts, heads)
                 if self._others is not None else None)
        bounds = heads if other is None else np.union1d(heads, other.heads)
        if other is not None and other.tail >= 0 and not final and len(bounds) == 0:
            bounds = np.array([other.tail])  # a two-line record may start there: carried
        if not final and len(bounds) >= 1:
            end_line = int(bounds[-1])
            if end_line == 0:  # one record fills the chunk: the reader reads more
                return 0, 0
        else:
            end_line = n_lines
        consumed = int(starts[end_line])
        kept = int(np.searchsorted(heads, end_line))
        heads = heads[:kept]
        self.stats.bytes += consumed
        self.stats.lines += end_line
        texts: pa.Array | None = None
        cols: dict[str, pa.Array] = {}
        if len(heads):
            heads, cols, texts = self._fields(data, raw, starts, heads, end_line, found, kept)
        ms: pa.Array | None = None
        if other is not None:
            heads, cols, ms = merge(heads, cols, self.ts_converter, other.before(end_line))
            texts = None
        if len(heads) == 0:
            self._leading(lines, 0, end_line, first_line)
            return consumed, end_line
        if texts is None:
            texts = self._spans(data, starts, heads, end_line)
        self._leading(lines, 0, int(heads[0]), first_line)
        self._emit(texts, cols, heads, end_line, first_line, buf, starts, ms)
        return consumed, end_line

    def _fields(self, data: pa.Buffer, raw: np.ndarray, starts: np.ndarray, heads: np.ndarray,
                end_line: int, found: _Found | None, kept: int
                ) -> tuple[np.ndarray, dict[str, pa.Array], pa.Array]:
        """The layout's fields of its header lines, without those it cannot vouch for."""
        texts = self._spans(data, starts, heads, end_line)
        if found is None:
            valid, cols = extract(texts, self._plan)
            ok = valid.to_numpy(zero_copy_only=False)
            prefix = self._prefix_lengths(cols) if self._plan.msg_from_prefix else None
        else:
            ok = found.ok[:kept]
            cols = {name: col.slice(0, kept) for name, col in found.cols.items()}
            prefix = found.prefix[:kept]
        if prefix is not None:
            cols["msg"] = self._messages(data, raw, starts, heads, prefix)
        if not ok.all():
            keep = self._rescue(texts, ok, cols)
            # a header-looking line that is not a header continues the previous record
            if not keep.all():
                heads = heads[keep]
                mask = pa.array(keep)
                cols = {k: v.filter(mask) for k, v in cols.items()}
                if len(heads) == 0:
                    return heads, cols, texts
                texts = self._spans(data, starts, heads, end_line)
        for name in self._fast_trim if found is not None else self._plan.trim:
            cols[name] = (trimmed_levels(cols[name]) if name == "level"
                          else pc.utf8_trim(cols[name].cast(pa.large_string()), " "))
        return heads, cols, texts

    # -- helpers -------------------------------------------------------------
    def _fast_heads(self, raw: np.ndarray, data: pa.Buffer, lines: pa.Array,
                    starts: np.ndarray) -> tuple[np.ndarray, _Found]:
        """Header lines and their fields through the regex-free program.

        Lines that start like a header but that the program cannot vouch for are
        matched with the header regex; their fields are left to ``_rescue``.
        """
        assert self._fast is not None
        cand = self._fast.candidates(raw, starts)
        ok, cols, prefix = self._fast.run(raw, data, starts[cand], starts[cand + 1])
        heads = cand[ok]
        doubt = cand[~ok]
        if len(doubt):
            matched = pc.match_substring_regex(lines.take(pa.array(doubt)), self._header_regex)
            doubt = doubt[matched.to_numpy(zero_copy_only=False)]
        if len(doubt) == 0:
            return heads, _Found(np.ones(len(heads), dtype=bool), cols, prefix)
        every = np.union1d(heads, doubt)
        at = np.searchsorted(every, heads)
        index = np.full(len(every), -1, dtype=np.int64)
        index[at] = np.arange(len(heads))
        take = pa.array(index, mask=index < 0)
        full_ok = np.zeros(len(every), dtype=bool)
        full_ok[at] = True
        full_prefix = np.zeros(len(every), dtype=np.int64)
        full_prefix[at] = prefix
        return every, _Found(full_ok, {k: v.take(take) for k, v in cols.items()}, full_prefix)

    @staticmethod
    def _spans(data: pa.Buffer, starts: np.ndarray, heads: np.ndarray,
               end_line: int) -> pa.Array:
        offs = np.empty(len(heads) + 1, dtype=np.int64)
        offs[:-1] = starts[heads]
        offs[-1] = starts[end_line]
        return pa.Array.from_buffers(pa.large_binary(), len(heads),
                                     [None, pa.py_buffer(offs), data])

    def _leading(self, lines: pa.Array, lo: int, hi: int, first_line: int) -> None:
        """Lines before the first header are unparsed.

        Records never straddle chunks, so such lines follow a record already emitted
        that the reader had to cut (longer than its limit, or around an oversized
        line), or open the input; they are in no record.
        """
        if hi <= lo:
            return
        sample = lines[lo].as_py().decode("utf-8", "replace").rstrip("\r\n")
        at = self._outer(np.array([lo, hi]), first_line)
        self.stats.add_unparsed(int(at[0]), sample, int(at[1] - at[0]))

    def _rescue(self, texts: pa.Array, ok: np.ndarray, cols: dict[str, pa.Array]) -> np.ndarray:
        """Rows the one-pass regex missed, tried with the layout's own regex.

        The one-pass rewrite reads ``[%t]`` as "no ]" for speed; a thread named
        ``AsyncLogger[AsyncContext@5c6]-1`` is recovered here. Returns rows to keep.
        """
        bad = np.flatnonzero(~ok)
        second = pc.extract_regex(texts.take(pa.array(bad)), self._layout_regex)
        rescued = second.is_valid().to_numpy(zero_copy_only=False)
        keep = ok.copy()
        if not rescued.any():
            return keep
        keep[bad[rescued]] = True
        where = np.zeros(len(ok), dtype=bool)
        where[bad[rescued]] = True
        good = pa.array(rescued)
        for name in list(cols):
            if name in second.type.names or name == "msg":
                values = second.field(name).filter(good).cast(cols[name].type)
                cols[name] = pc.replace_with_mask(cols[name], pa.array(where), values)
        return keep

    def _prefix_lengths(self, cols: dict[str, pa.Array]) -> np.ndarray:
        plan = self._plan
        assert plan is not None
        if not plan.prefix_groups:
            lengths = pc.binary_length(cols.pop("_prefix")).fill_null(0)
            return lengths.to_numpy(zero_copy_only=False).astype(np.int64)
        total = np.full(len(cols[plan.prefix_groups[0]]), plan.prefix_fixed, dtype=np.int64)
        for name in plan.prefix_groups:
            total += pc.binary_length(cols[name]).fill_null(0).to_numpy(zero_copy_only=False)
        return total

    @staticmethod
    def _messages(data: pa.Buffer, raw: np.ndarray, starts: np.ndarray, heads: np.ndarray,
                  prefix_len: np.ndarray) -> pa.Array:
        """The rest of each header line after the layout's prefix, without a regex pass."""
        begin = starts[heads] + prefix_len
        end = starts[heads + 1].copy()
        nonempty = end > begin
        end[nonempty & (raw[np.maximum(end - 1, 0)] == 10)] -= 1
        end[(end > begin) & (raw[np.maximum(end - 1, 0)] == 13)] -= 1
        return spans_to_strings(data, begin, np.maximum(end, begin))

    def _outer(self, idx: np.ndarray, first_line: int) -> np.ndarray:
        """Line numbers in the input of chunk lines ``idx`` (through an unwrapper's map)."""
        return idx + first_line if self.line_map is None else self.line_map[idx]

    def _inner_time_needed(self, heads: np.ndarray) -> bool:
        """False when a wrapper's exact time covers every record of a zone-less layout
        (then a time-only or year-less inner pattern never needs a date at all)."""
        if self.line_ms is None:
            return True
        stamp = getattr(self.layout, "timestamp", None)
        zoned = stamp is not None and (stamp.has_zone or stamp.zone is not None)
        return zoned or bool((self.line_ms[heads] == NO_TIME).any())

    def _times(self, ms: pa.Array | None, heads: np.ndarray) -> pa.Array:
        """Record times: the layout's, or the wrapper's where the layout has no zone."""
        if self.line_ms is not None:
            outer = self.line_ms[heads]
            stamp = getattr(self.layout, "timestamp", None)
            zoned = stamp is not None and (stamp.has_zone or stamp.zone is not None)
            wrapped = pa.array(outer, pa.int64(), mask=outer == NO_TIME)
            if ms is None:
                ms = wrapped
            elif zoned:  # the inner time is exact: the wrapper's only fills its gaps
                ms = pc.if_else(ms.is_null(), wrapped, ms)
            else:  # the wrapper's time is exact (UTC): the inner one only fills its gaps
                ms = pc.if_else(wrapped.is_null(), ms, wrapped)
        if ms is None:
            return pa.nulls(len(heads), pa.timestamp("ms", tz="UTC"))
        lo, hi = pc.min_max(ms).values()
        self.stats.see_times(lo.as_py(), hi.as_py())
        return ms.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))

    def _emit(self, texts: pa.Array, cols: dict[str, pa.Array], heads: np.ndarray,
              end_line: int, first_line: int, buf: memoryview, starts: np.ndarray,
              converted: pa.Array | None = None) -> None:
        """One batch of records; ``converted``: their epoch ms, when several layouts
        (each with its own timestamp format) read the chunk."""
        n = len(heads)
        nlines = np.diff(np.append(heads, end_line)).astype(np.int32)
        ms = None
        if converted is not None and converted.null_count < n and self._inner_time_needed(heads):
            ms = self.stats.plausible(converted, self._outer(heads, first_line))
        elif "ts" in cols and self.ts_converter is not None and self._inner_time_needed(heads):
            ms = self.stats.plausible(self.ts_converter(cols["ts"]),
                                      self._outer(heads, first_line))
        ts = self._times(ms, heads)
        whole = None  # the records' spans with the JVM's own console lines (engine.console)
        own = console_cut(_searchable(buf), starts, heads, nlines)
        if own is not None:
            whole = texts
            texts = spans_to_strings(pa.py_buffer(buf), starts[heads], starts[heads + own])
        exc, root, frame = self._exceptions(buf, starts, heads, nlines if own is None else own)
        level = cols.get("level")
        if self.line_map is not None:
            nlines = np.diff(self._outer(np.append(heads, end_line), first_line)).astype(np.int32)
        batch = record_batch(
            self.source, self._outer(heads, first_line), nlines, ts=ts,
            level=_level_column(level) if level is not None else None,
            **{f: _as_str(cols[f]) for f in _STRING_FIELDS if f in cols},
            exception=exc, root_exception=root, root_frame=frame)
        self.stats.records += n
        if self.sink is None:
            return
        extra = {k: v for k, v in cols.items() if k not in ("ts", "level", *_STRING_FIELDS)}
        self.sink(ChunkBatch(batch, texts, extra, lambda i: self._record(batch, texts, extra, i),
                             first_line_ends=starts[heads + 1], whole_texts=whole))

    def _exceptions(self, buf: memoryview, starts: np.ndarray, heads: np.ndarray,
                    nlines: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Outermost and root exception class, and the root's top frame, per record.

        Python reads only the records with continuation lines; their summaries are
        spread over the chunk's rows with one ``take``. Three lists of a ``None`` per
        record, converted by Arrow, cost 0.04 s per 256 MiB of one-line records.
        """
        rows = np.flatnonzero(nlines > 1)
        if len(rows) == 0:
            none = pa.nulls(len(heads), pa.string())
            return none, none, none
        data = _searchable(buf)
        read = self._traces.read
        head = starts[heads[rows]].tolist()
        begin = starts[heads[rows] + 1].tolist()
        end = starts[heads[rows] + nlines[rows]].tolist()
        summaries = [read(data, buf, a, b, h) for h, a, b in zip(head, begin, end, strict=True)]
        index = np.full(len(heads), -1, dtype=np.int64)
        index[rows] = np.arange(len(rows))
        spread = pa.array(index, mask=index < 0)
        exc, root, frame = (pa.array(col, pa.string()).take(spread)
                            for col in zip(*summaries, strict=True))
        return exc, root, frame

    def _record(self, batch: pa.RecordBatch, texts: pa.Array, extra: dict[str, pa.Array],
                i: int) -> Record:
        text = texts[i].as_py().decode("utf-8", "replace")
        _, _, cont = text.partition("\n")
        row = {name: batch.column(name)[i].as_py() for name in ("line", "n_lines", "ts", "level",
                                                                 "thread", "logger", "message")}
        ts = row["ts"]
        fields = {k: v[i].as_py() for k, v in extra.items()}
        return Record(
            source=self.source,
            line=row["line"],
            n_lines=row["n_lines"],
            ts_ms=None if ts is None else int(ts.timestamp() * 1000),
            level=row["level"],
            thread=row["thread"],
            logger=row["logger"],
            message=row["message"] or "",
            text=text.rstrip("\n"),
            fields={k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
                    for k, v in fields.items() if v is not None},
            throwable=self._cache.parse(cont) if cont else None,
        )

    # -- no recognisable layout --------------------------------------------------
    def _feed_unknown(self, buf: memoryview, lines: pa.Array, starts: np.ndarray,
                      first_line: int, final: bool) -> tuple[int, int]:
        """Traces, LEAK reports and named exceptions as records; other lines unparsed.

        See ``engine.freetext``: records keep the time opening their first line (or
        the wrapper's), and their throwable is read from the whole text.
        """
        groups = freetext.group_lines(lines, final, every_line=self.line_map is not None)
        end_line = groups.end_line
        if end_line == 0 and not final:
            return 0, 0
        consumed = int(starts[end_line])
        self.stats.bytes += consumed
        self.stats.lines += end_line
        if len(groups.unparsed):
            first = int(groups.unparsed[0])
            sample = lines[first].as_py().decode("utf-8", "replace").rstrip("\r\n")
            runs = self._outer(np.append(groups.unparsed, groups.unparsed + 1), first_line)
            count = int(np.sum(runs[len(groups.unparsed):] - runs[: len(groups.unparsed)]))
            self.stats.add_unparsed(int(runs[0]), sample, count)
        heads, ends = groups.heads, groups.ends
        n = len(heads)
        if n == 0:
            return consumed, end_line
        texts = freetext.spans(buf, starts, heads, ends)
        first_lines = pc.utf8_rtrim(lines.take(pa.array(heads)).cast(pa.large_string()), "\r\n")
        ts = self._times(freetext.head_times(first_lines, self.default_tz), heads)
        exc, root, frame = freetext.exception_arrays(texts, first_lines, ends - heads)
        outer = self._outer(np.append(heads, ends), first_line)
        nlines = (outer[n:] - outer[:n]).astype(np.int32)
        batch = record_batch(self.source, outer[:n], nlines, ts=ts,
                             msg=pc.utf8_trim_whitespace(first_lines).cast(pa.string()),
                             exception=exc, root_exception=root, root_frame=frame)
        self.stats.records += n
        if self.sink is not None:
            offs = np.frombuffer(texts.buffers()[1], dtype=np.int64)[:n]
            self.sink(ChunkBatch(batch, texts, {}, lambda i: self._free_record(batch, texts, i),
                                 first_line_ends=offs + starts[heads + 1] - starts[heads]))
        return consumed, end_line

    def _free_record(self, batch: pa.RecordBatch, texts: pa.Array, i: int) -> Record:
        record = self._record(batch, texts, {}, i)
        return dataclasses.replace(record, throwable=freetext.throwable(record.text, self._cache))


TRACE_HEADER_REGEX = TRACE_LINE

