"""JSON application logs (log4j2 JsonLayout/JsonTemplateLayout, ECS, logstash, GELF...).

One object is one record, on one line or spread over several (pretty-printed
log4j2, Elasticsearch 7 traces); a chunk never ends inside one. Arrow's JSON
reader parses a whole chunk at once; the layout maps its columns to the record
schema. A record's ``text`` for rules is
rendered the way a text layout would print it: the message, then the stack trace
(throwable objects rendered as Java trace text by the layout), so exception
columns and rule hits come from the same parser as for text logs.
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import BatchSink, ChunkBatch, record_batch
from logsleuth.engine.stats import InputStats
from logsleuth.layouts.jsonrecords import OBJECT_START
from logsleuth.model import Record
from logsleuth.parsers.lines import line_offsets, lines_array
from logsleuth.parsers.stacktrace import ThrowableCache, exception_classes, root_frame

_TRACE_CACHE = 4096  # distinct trace texts remembered per input


def _complete_lines(table: pa.Table, lines: pa.Array) -> int:
    """Lines before a multi-line record the chunk may have cut (all when none is).

    After the last line that is in a parsed record, a line starting an object may
    begin a record whose end is in the next chunk: it and what follows wait.
    """
    good = table["_ok"].to_numpy(zero_copy_only=False) | table["_cont"].to_numpy(
        zero_copy_only=False)
    n = len(good)
    seen = np.flatnonzero(good)
    after = int(seen[-1]) + 1 if len(seen) else 0
    if after >= n:
        return n
    opens = np.flatnonzero(pc.fill_null(pc.match_substring_regex(
        lines[after:], OBJECT_START), False).to_numpy(zero_copy_only=False))
    return n if len(opens) == 0 else after + int(opens[0])


class JsonLogParser:
    """Feeds chunks of a JSON-lines log; lines that are not JSON objects are unparsed."""

    def __init__(self, source: str, layout: object, stats: InputStats,
                 sink: BatchSink | None = None, *, default_tz: tzinfo | None = None) -> None:
        self.source = source
        self.layout = layout
        self.stats = stats
        self.sink = sink
        self.default_tz = default_tz
        self._cache = ThrowableCache()
        self._unzoned = False  # a record's time had no offset: the zone is not in the log
        # a flood repeats one trace: its classes and frame are read once
        self._trace_cache: dict[str, tuple[str | None, str | None, str | None]] = {}

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        n = len(buf)
        if n == 0:
            return 0, 0
        starts = line_offsets(np.frombuffer(buf, dtype=np.uint8), final=final)
        n_lines = len(starts) - 1
        # a copy: Arrow's JSON reader may keep views of its input beyond this call,
        # and the reader reuses ``buf`` for the next chunk
        lines = lines_array(bytes(buf), starts)
        stripped = pc.utf8_rtrim(lines.cast(pa.large_string()), "\r\n")
        table = self.layout.parse(stripped, self.default_tz)  # type: ignore[attr-defined]
        if not final:
            keep = _complete_lines(table, stripped)
            if keep == 0:  # one multi-line record fills the chunk: the reader reads more
                return 0, 0
            if keep < n_lines:
                table, stripped, n_lines = table.slice(0, keep), stripped[:keep], keep
                n = int(starts[keep])
        self.stats.bytes += n
        self.stats.lines += n_lines
        blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False)
        ok = pc.and_(pc.fill_null(table["_ok"], False), pc.invert(pa.array(blank)))
        ok_np = ok.to_numpy(zero_copy_only=False)
        cont = table["_cont"].to_numpy(zero_copy_only=False).astype(bool)
        bad = np.flatnonzero(~ok_np & ~blank & ~cont)
        if len(bad):
            sample = stripped[int(bad[0])].as_py()
            self.stats.add_unparsed(first_line + int(bad[0]), sample, len(bad))
        # blank lines belong to no record but are not damage either
        self.stats.add_unparsed(first_line, "", 0)
        self.stats.unparsed_lines += int((blank & ~cont).sum())
        rows = np.flatnonzero(ok_np)
        if len(rows) == 0:
            return n, n_lines
        kept = table.filter(ok)
        self._see_zones(kept["_zoned"])
        t = {name: kept.column(name).combine_chunks() for name in kept.column_names}
        msgs = pc.fill_null(t["msg"], "")
        stack = t["stack_trace"]
        if "error_message" in t and t["error_message"].null_count < len(t["error_message"]):
            # no trace text (log4j2 JsonLayout's ``thrown`` is a structure): the exception's
            # own line, "class: message", as a text layout prints it under the header, so
            # what reads records' text (needles, rules, metric definitions) finds it there
            own = pc.binary_join_element_wise(pc.fill_null(t["error_class"], ""),
                                              t["error_message"], ": ")
            stack = pc.coalesce(stack, own)
        texts = pc.binary_join_element_wise(msgs, pc.fill_null(stack, ""), "\n")
        texts = pc.if_else(pc.is_null(stack), msgs, texts).cast(pa.large_binary())
        exc, root, frame = self._exceptions(stack, t["error_class"])
        m = len(rows)
        ms = self.stats.plausible(t["ts"], rows + first_line)
        lo, hi = pc.min_max(ms).values()
        self.stats.see_times(lo.as_py(), hi.as_py())
        level = (pc.utf8_upper(pc.utf8_trim_whitespace(t["level"]))
                 if t["level"].null_count < m else t["level"])
        batch = record_batch(
            self.source, rows + first_line,
            table["_span"].to_numpy(zero_copy_only=False)[rows].astype(np.int32),
            ts=ms.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            level=level.cast(pa.string()).dictionary_encode(),
            thread=t["thread"].cast(pa.string()), logger=t["logger"].cast(pa.string()),
            msg=msgs.cast(pa.string()), exception=exc, root_exception=root, root_frame=frame)
        self.stats.records += m
        if self.sink is not None:
            self.sink(ChunkBatch(batch, texts, {},
                                 lambda i: self._record(batch, texts, stack, i)))
        return n, n_lines

    def _see_zones(self, zoned: pa.Array | pa.ChunkedArray) -> None:
        """``from-log`` while every record's time carried its offset (or was epoch)."""
        if self._unzoned:
            return
        if pc.all(zoned).as_py() is False:
            self._unzoned = True
            self.stats.timezone = None
        else:
            self.stats.timezone = "from-log"

    def _exceptions(self, stack: pa.Array,
                    error_class: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Outermost and root class and root frame, read from the trace text as for text logs.

        A declared error class (ECS ``error.type``) wins for the outermost one.
        """
        exc = error_class.to_pylist()
        root = list(exc)
        frame: list[str | None] = [None] * len(exc)
        seen = self._trace_cache
        rows = np.flatnonzero(pc.is_valid(stack).to_numpy(zero_copy_only=False))
        for i, st in zip(rows.tolist(), stack.take(pa.array(rows)).to_pylist(), strict=True):
            known = seen.get(st)
            if known is None:
                raw = st.encode()
                top, deep = exception_classes(raw)
                known = (top, deep, root_frame(raw) if top is not None else None)
                if len(seen) >= _TRACE_CACHE:
                    seen.clear()
                seen[st] = known
            top, deep, frame[i] = known
            exc[i] = exc[i] or top
            root[i] = deep or exc[i]
        return (pa.array(exc, pa.string()), pa.array(root, pa.string()),
                pa.array(frame, pa.string()))

    def _record(self, batch: pa.RecordBatch, texts: pa.Array, stack: pa.Array,
                i: int) -> Record:
        text = texts[i].as_py().decode("utf-8", "replace")
        trace = stack[i].as_py()
        ts = batch.column("ts")[i].as_py()
        return Record(
            source=self.source, line=batch.column("line")[i].as_py(),
            n_lines=batch.column("n_lines")[i].as_py(),
            ts_ms=None if ts is None else int(ts.timestamp() * 1000),
            level=batch.column("level")[i].as_py(), thread=batch.column("thread")[i].as_py(),
            logger=batch.column("logger")[i].as_py(),
            message=batch.column("message")[i].as_py() or "", text=text,
            throwable=self._cache.parse(trace) if trace else None,
        )
