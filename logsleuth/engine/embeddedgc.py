"""-Xlog GC lines and heap-dump notices inside a console log, read as evidence.

A container keeps one stream: the JVM writes ``-Xlog:gc`` to stdout (its default target)
between the application's log records, which then carry the GC lines as continuation
lines. They are found in the records that hold them, parsed by the GC parser and mapped
back to their lines in the file.

With the default decorations (uptime, level, tags) such a line has no wall clock, but its
place in the stream bounds it: it was written after the record it follows and before the
next one. Each line gives ``record time - uptime <= JVM start <= next record time -
uptime``; the intersection over a chunk's lines places the JVM's start, usually to a few
ms (the gap between a record and the GC line after it). ``notes`` say how it was placed.

-XX:+HeapDumpOnOutOfMemoryError says where it wrote the dump (``Dumping heap to PATH
...`` then ``Heap dump file created [N bytes in S secs]``): table ``heap_dumps``, so the
report can send the reader to the dump that exists.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.engine.evidence import TablePartsCollector
from logsleuth.model import EvidenceResult, Kind

# a unified-logging line whose tags start with gc ([0.364s][info][gc] / [gc,heap ])
_GC_LINE = re.compile(r"^\[[^\]\n]*\](?:\[[^\]\n]*\])*?\[gc[\w,]*\s*\]")
_UPTIME = re.compile(r"\[(\d+(?:\.\d+)?)(s|ms|ns)\]")
_WALL = re.compile(r"^\[\d{4}-\d\d-\d\dT|^\[\d{10,}ms\]")
_NEEDLE = "][gc"
_DUMP_NEEDLE = "Dumping heap to "
_HEAP_DUMP = re.compile(r"^Dumping heap to (?P<path>.+?) \.\.\.(?:\n(?:Heap dump file created "
                        r"\[(?P<bytes>\d+) bytes)?)?", re.M)
HEAP_DUMPS_SCHEMA = pa.schema([("source", pa.string()), ("line", pa.int64()),
                               ("ts", pa.timestamp("ms", tz="UTC")), ("path", pa.string()),
                               ("bytes", pa.int64())])
_SCALE = {"s": 1000.0, "ms": 1.0, "ns": 1e-6}


def _uptime_ms(line: str) -> float | None:
    m = _UPTIME.search(line, 0, line.find("[gc"))
    return None if m is None else float(m.group(1)) * _SCALE[m.group(2)]


def jvm_start_bounds(lines: list[tuple[str, int | None, int | None]]) -> tuple[int, int] | None:
    """(earliest, latest) JVM start in epoch ms that fits every uptime-stamped line
    between the records around it: (line, time of the record before, of the one after)."""
    lo, hi = None, None
    for text, before, after in lines:
        up = _uptime_ms(text)
        if up is None:
            continue
        if before is not None:
            lo = before - up if lo is None else max(lo, before - up)
        if after is not None:
            hi = after - up if hi is None else min(hi, after - up)
    if lo is None:
        return None
    return round(lo), round(hi if hi is not None and hi >= lo else lo)


class ConsoleJvmCollector(TablePartsCollector):
    """Unified GC lines and heap-dump notices inside app-log records (a console)."""

    name = "jvmconsole"
    needles = (_NEEDLE, _DUMP_NEEDLE)

    def consume(self, cb: ChunkBatch) -> list[tuple[Kind, EvidenceResult]]:
        shared = cb.rows_with(self.needles)
        if shared is None:
            hits = pc.or_(pc.match_substring(cb.spans, _NEEDLE.encode()),
                          pc.match_substring(cb.spans, _DUMP_NEEDLE.encode()))
            shared = hits.fill_null(False).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(shared)
        if len(rows) == 0:
            return []
        ts = cb.batch.column("ts").cast(pa.int64()).to_pylist()
        first_lines = cb.batch.column("line").to_pylist()
        source = str(cb.batch.column("source")[0])
        found: list[tuple[str, int | None, int | None]] = []
        numbers: list[int] = []
        for i in rows.tolist():
            text = cb.spans[i].as_py().decode("utf-8", "replace")
            after = ts[i + 1] if i + 1 < len(ts) else None
            for k, line in enumerate(text.split("\n")[1:], 1):
                if _GC_LINE.match(line):
                    found.append((line, ts[i], after))
                    numbers.append(first_lines[i] + k)
            if _DUMP_NEEDLE in text:
                self._heap_dumps(source, text, first_lines[i], ts[i])
        if not found:
            return []
        return [(Kind.GC_LOG, self._parse(source, found, numbers))]

    def _heap_dumps(self, source: str, text: str, first: int, ts: int | None) -> None:
        """Each "Dumping heap to" notice: where, its line, after which record's time."""
        rows = [(first + text.count("\n", 0, m.start()), m["path"],
                 int(m["bytes"]) if m["bytes"] else None) for m in _HEAP_DUMP.finditer(text)]
        if rows:
            self.parts.setdefault("heap_dumps", []).append(pa.table({
                "source": [source] * len(rows), "line": [r[0] for r in rows],
                "ts": pa.array([ts] * len(rows), pa.int64()).cast(HEAP_DUMPS_SCHEMA.field(
                    "ts").type), "path": [r[1] for r in rows], "bytes": [r[2] for r in rows]},
                schema=HEAP_DUMPS_SCHEMA))

    def _parse(self, source: str, found: list[tuple[str, int | None, int | None]],
               numbers: list[int]) -> EvidenceResult:
        from logsleuth.parsers.gc import parse_gc_log

        start = note = None
        if not any(_WALL.match(t) for t, _, _ in found):
            bounds = jvm_start_bounds(found)
            if bounds is not None:
                start = (bounds[0] + bounds[1]) // 2
                note = (f"GC lines of the console placed by the records around them: JVM "
                        f"start within {bounds[1] - bounds[0]} ms")
        data = ("\n".join(t for t, _, _ in found) + "\n").encode("utf-8", "replace")
        result = parse_gc_log(data, source, default_tz=self._tz, jvm_start_ms=start)
        if note:
            result.notes.append(note)
        lookup = np.asarray(numbers, dtype=np.int64)
        for name, table in list(result.tables.items()):
            if "line" in table.column_names:
                lines = table["line"].to_numpy(zero_copy_only=False).astype(np.int64)
                mapped = pa.array(lookup[np.clip(lines - 1, 0, len(lookup) - 1)], pa.int64())
                at = table.column_names.index("line")
                table = table.set_column(at, table.schema.field(at), mapped.cast(
                    table.schema.field(at).type))
            result.tables[name] = table
            self.keep(name, table)
        return result
