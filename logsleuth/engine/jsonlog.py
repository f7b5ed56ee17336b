"""JSON-lines application logs (log4j2 JsonLayout/JsonTemplateLayout, ECS, logstash).

One line is one record. Arrow's JSON reader parses a whole chunk at once; the
layout maps its columns to the record schema. A record's ``text`` for rules is
rendered the way a text layout would print it: the message, then the stack trace.
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import BatchSink, ChunkBatch, record_batch
from logsleuth.engine.stats import InputStats
from logsleuth.model import Record
from logsleuth.parsers.lines import line_offsets, lines_array
from logsleuth.parsers.stacktrace import ThrowableCache, exception_classes, root_frame


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

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        n = len(buf)
        if n == 0:
            return 0, 0
        starts = line_offsets(np.frombuffer(buf, dtype=np.uint8), final=final)
        n_lines = len(starts) - 1
        # a copy: Arrow's JSON reader may keep views of its input beyond this call,
        # and the reader reuses ``buf`` for the next chunk
        lines = lines_array(bytes(buf), starts)
        self.stats.bytes += n
        self.stats.lines += n_lines
        stripped = pc.utf8_rtrim(lines.cast(pa.large_string()), "\r\n")
        blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False)
        table = self.layout.parse(stripped, self.default_tz)  # type: ignore[attr-defined]
        ok = pc.and_(pc.fill_null(table["_ok"], False), pc.invert(pa.array(blank)))
        ok_np = ok.to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~ok_np & ~blank)
        if len(bad):
            sample = stripped[int(bad[0])].as_py()
            self.stats.add_unparsed(first_line + int(bad[0]), sample, len(bad))
        # blank lines belong to no record but are not damage either
        self.stats.add_unparsed(first_line, "", 0)
        self.stats.unparsed_lines += int(blank.sum())
        rows = np.flatnonzero(ok_np)
        if len(rows) == 0:
            return n, n_lines
        kept = table.filter(ok)
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
        ms = t["ts"]
        lo, hi = pc.min_max(ms).values()
        self.stats.see_times(lo.as_py(), hi.as_py())
        level = pc.utf8_upper(t["level"]) if t["level"].null_count < m else t["level"]
        batch = record_batch(
            self.source, rows + first_line, np.ones(m, np.int32),
            ts=ms.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            level=level.cast(pa.string()).dictionary_encode(),
            thread=t["thread"].cast(pa.string()), logger=t["logger"].cast(pa.string()),
            msg=msgs.cast(pa.string()), exception=exc, root_exception=root, root_frame=frame)
        self.stats.records += m
        if self.sink is not None:
            self.sink(ChunkBatch(batch, texts, {}, lambda i: self._record(batch, texts, i)))
        return n, n_lines

    def _exceptions(self, stack: pa.Array,
                    error_class: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        exc = error_class.to_pylist()
        root = list(exc)
        frame: list[str | None] = [None] * len(exc)
        for i, st in enumerate(stack.to_pylist()):
            if st:
                raw = st.encode()
                top, deep = exception_classes(raw)
                exc[i] = exc[i] or top
                root[i] = deep or exc[i]
                frame[i] = root_frame(raw)
        return (pa.array(exc, pa.string()), pa.array(root, pa.string()),
                pa.array(frame, pa.string()))

    def _record(self, batch: pa.RecordBatch, texts: pa.Array, i: int) -> Record:
        text = texts[i].as_py().decode("utf-8", "replace")
        _, _, trace = text.partition("\n")
        ts = batch.column("ts")[i].as_py()
        return Record(
            source=self.source, line=batch.column("line")[i].as_py(), n_lines=1,
            ts_ms=None if ts is None else int(ts.timestamp() * 1000),
            level=batch.column("level")[i].as_py(), thread=batch.column("thread")[i].as_py(),
            logger=batch.column("logger")[i].as_py(),
            message=batch.column("message")[i].as_py() or "", text=text,
            throwable=self._cache.parse(trace) if trace else None,
        )
