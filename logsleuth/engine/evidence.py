"""Collectors for evidence that lives inside application logs.

Metric lines (a direct-memory monitor) become the ``metrics`` table; thread
dumps printed into a console log (kill -3) are carved out and parsed like a
jstack file, so their threads reach the timeline and the rules.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.model import EvidenceResult, Kind


def _shift(tables: list[pa.Table], path: str, delta: int) -> list[pa.Table]:
    out = []
    for t in tables:
        if t.num_rows and "line" in t.column_names and "source" in t.column_names:
            hit = pc.equal(t["source"].cast(pa.string()), path)
            t = t.set_column(t.schema.get_field_index("line"), "line",
                             pc.if_else(hit, pc.add(t["line"], delta), t["line"]))
        out.append(t)
    return out


class MetricCollector:
    """Numeric series declared by metric definitions, read from record messages.

    Candidate rows (those holding a definition's word) are gathered across chunks
    and parsed ``FLUSH_ROWS`` at a time: a monitor line every second puts a few
    hundred rows in each chunk, and ~20 Arrow calls per chunk on so few rows cost
    more than the rows themselves. Long gauge series are thinned as they are read
    (``timeline.bounds.StreamingBound``): what a scan holds of them stays bounded
    whatever the evidence's span, and the analysis reads the rows it always read.
    """

    name = "metrics"
    FLUSH_ROWS = 50_000

    def __init__(self, config: dict[str, Any]) -> None:
        from logsleuth.parsers.metrics import metric_defs
        from logsleuth.rules.needles import NeedleMatcher
        from logsleuth.timeline.bounds import StreamingBound

        self._defs = metric_defs(config.get("metric_files") or ())
        self.needles = tuple(sorted({d.contains for d in self._defs}))
        self._own = NeedleMatcher(self.needles)  # when no shared scan ran
        self.parts: list[pa.Table] = []
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.bound = StreamingBound()

    def __getstate__(self) -> dict[str, Any]:
        self._flush()
        return {"parts": self.parts, "bound": self.bound}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.parts, self.bound = state["parts"], state["bound"]
        self._defs, self.needles = [], ()
        self._pending, self._pending_rows = [], 0

    def consume(self, cb: ChunkBatch) -> list[tuple[Kind, EvidenceResult]]:
        hits = cb.rows_with(self.needles)
        if hits is None:
            hits = self._own.mask(cb.texts)
        if not hits.any():
            return []
        hits = self._one_failure_per_second(cb, hits)
        mask = pa.array(hits)
        b = cb.batch.filter(mask)
        self._pending.append(pa.table({
            "source": b.column("source").cast(pa.string()), "line": b.column("line"),
            "ts": b.column("ts"), "message": b.column("message"), "logger": b.column("logger"),
            "text": self._texts(cb, hits, b)}))
        self._pending_rows += b.num_rows
        if self._pending_rows >= self.FLUSH_ROWS:
            self._flush()
        return []

    @staticmethod
    def _one_failure_per_second(cb: ChunkBatch, hits: np.ndarray) -> np.ndarray:
        """Of the records carrying an exception (a flood of OOMs repeats the same ``used:``
        and ``max:`` thousands of times), the first of each second per file: they say
        when the ceiling was hit and what it is, and monitors never throw."""
        exc = cb.batch.column("exception")
        if exc.null_count == len(exc):
            return hits
        thrown = hits & exc.is_valid().to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(thrown)
        if len(rows) < 2:
            return hits
        sec = cb.batch.column("ts").cast(pa.int64()).fill_null(-1000).to_numpy(
            zero_copy_only=False)[rows] // 1000
        first = np.unique(sec, return_index=True)[1]  # a chunk is one file
        out = hits.copy()
        out[rows] = False
        out[rows[first]] = True
        return out

    def _texts(self, cb: ChunkBatch, hits: np.ndarray, b: pa.RecordBatch) -> pa.Array:
        """``text`` per hit row: the message, and for records carrying an exception the
        message plus the exception's own line (only those rows are cut from the raw)."""
        message = b.column("message").cast(pa.string())
        thrown = b.column("exception").is_valid().to_numpy(zero_copy_only=False)
        if not thrown.any():
            return message
        rows = np.flatnonzero(hits)[thrown]
        joined = _text(cb.texts.take(pa.array(rows)), message.filter(pa.array(thrown)))
        at = np.cumsum(thrown) - 1  # position of each thrown row among the joined
        pick = np.where(thrown, at + len(message), np.arange(len(message)))
        return pa.concat_arrays([message, joined]).take(pa.array(pick))

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        from logsleuth.parsers.metrics import extract_metrics

        if not self._pending:
            return
        got = extract_metrics(pa.concat_tables(self._pending), self._defs)
        self._pending, self._pending_rows = [], 0
        if got.num_rows:
            self.parts.append(got)
            self._thin()

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: MetricCollector) -> None:
        self._flush()
        other._flush()
        self.parts.extend(other.parts)
        self.bound.merge(other.bound)
        self._thin()

    def _thin(self) -> None:
        """Long gauge series held thinned (when due); the parts the bound joins get their
        ceilings once per file first, as ``tables`` would give them."""
        from logsleuth.parsers.metrics import first_statements

        if len(self.parts) > 1 and self.bound.due(self.parts):
            self.parts = [first_statements(pa.concat_tables(self.parts))]
        self.parts = self.bound.reduce(self.parts)

    def shift_lines(self, path: str, delta: int) -> None:
        self._flush()
        self.parts = _shift(self.parts, path, delta)
        self.bound.shift(path, delta)

    def tables(self) -> dict[str, list[pa.Table]]:
        from logsleuth.parsers.metrics import first_statements

        self._flush()
        if len(self.parts) > 1:  # ceilings once per file across flushes too
            self.parts = [first_statements(pa.concat_tables(self.parts))]
        self.parts = self.bound.reduce(self.parts, final=True)
        return {"metrics": self.parts}


TEXT_HEAD = 1024  # bytes of a record read for its exception's own line


def _text(raw: pa.Array, message: pa.Array) -> pa.Array:
    """The message and the head of the record: an exception's own message (netty's
    OutOfDirectMemoryError, the JDK's "Cannot reserve ...") lives in its trace, on the
    line after the header, or inside a JSON record's ``thrown``. Only the first
    ``TEXT_HEAD`` bytes, not the whole trace, so a flood of failures stays cheap."""
    message = message.cast(pa.string())
    head = pc.binary_slice(raw, 0, TEXT_HEAD)
    try:
        text = head.cast(pa.large_string()).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a character cut in two
        try:
            text = pc.utf8_slice_codeunits(raw.cast(pa.large_string()), 0,
                                           TEXT_HEAD).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # not UTF-8 at all
            return message
    return pc.binary_join_element_wise(message, text, "\n")


_DUMP_BANNER = re.compile(b"Full thread dump")


def _placed(table: pa.Table, before: int | None, after: int | None) -> pa.Table:
    """A console's kill -3 dump at the ms: its own stamp is to the second, but it was
    printed after the record before it and before the next one. Where those bound a
    time within the stamp's second, the dump takes the middle of that span; where they
    do not (another clock, a zone read differently), the stamp stands."""
    if before is None or "ts" not in table.column_names or table.num_rows == 0:
        return table
    stamps = table["ts"].cast(pa.int64())
    stamp = stamps[0].as_py()
    if stamp is None or pc.count_distinct(stamps).as_py() != 1:
        return table
    lo = max(before, stamp)
    hi = min(after if after is not None else stamp + 999, stamp + 999)
    if lo > hi:
        return table
    at = table.schema.get_field_index("ts")
    field = table.schema.field(at)
    placed = pa.array([(lo + hi) // 2] * table.num_rows, pa.int64()).cast(field.type)
    return table.set_column(at, field, placed)


class TablePartsCollector:
    """What a collector of evidence found inside records keeps: tables per name, merged by
    concatenation, shifted when a unit's line numbers move (shared plumbing only)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.parts: dict[str, list[pa.Table]] = {}
        self._tz = config.get("default_tz")

    def __getstate__(self) -> dict[str, Any]:
        return {"parts": self.parts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.parts = state["parts"]
        self._tz = None

    def keep(self, name: str, table: pa.Table) -> None:
        self.parts.setdefault(name, []).append(table)

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: TablePartsCollector) -> None:
        for name, tables in other.parts.items():
            self.parts.setdefault(name, []).extend(tables)

    def shift_lines(self, path: str, delta: int) -> None:
        self.parts = {k: _shift(v, path, delta) for k, v in self.parts.items()}

    def tables(self) -> dict[str, list[pa.Table]]:
        return self.parts


class EmbeddedDumpCollector(TablePartsCollector):
    """kill -3 thread dumps inside console logs, parsed as thread-dump evidence."""

    name = "dumps"

    needles = ("Full thread dump",)

    def consume(self, cb: ChunkBatch) -> list[tuple[Kind, EvidenceResult]]:
        shared = cb.rows_with(self.needles)
        if shared is not None:
            rows = np.flatnonzero(shared)
        else:  # no shared scan: one search of the chunk's bytes, then the rows
            if _DUMP_BANNER.search(memoryview(cb.spans.buffers()[2])) is None:
                return []
            hits = pc.match_substring(cb.spans, b"Full thread dump")
            rows = np.flatnonzero(hits.fill_null(False).to_numpy(zero_copy_only=False))
        if len(rows) == 0:
            return []
        from logsleuth.parsers.jstack import find_dumps, parse_thread_dumps

        source = str(cb.batch.column("source")[0])
        ts = cb.batch.column("ts").cast(pa.int64()).to_pylist()
        out: list[tuple[Kind, EvidenceResult]] = []
        for i in rows.tolist():
            text = cb.spans[i].as_py().decode("utf-8", "replace")
            first = int(cb.batch.column("line")[i].as_py())
            lines = text.split("\n")
            around = (ts[i], ts[i + 1] if i + 1 < len(ts) else None)
            for start, end in find_dumps(text):
                piece = "\n".join(lines[start:end]).encode()
                result = parse_thread_dumps(piece, source, default_tz=self._tz,
                                            line_offset=first - 1 + start)
                for name, table in result.tables.items():
                    table = _placed(table, *around)
                    result.tables[name] = table
                    self.keep(name, table)
                out.append((Kind.THREAD_DUMP, result))
        return out
