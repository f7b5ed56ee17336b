"""The streaming side of incident analysis: what the timeline needs, kept small.

Per batch: message templates are mined (vectorised), and template counts are
kept per second (not per record), which is what leak attribution regresses
against; warning/error/exception records are kept as a small table for onset,
symptoms, precursors and root-cause ranking. Memory grows with seconds and
templates, not with records.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.model import EvidenceResult, Kind

MAX_NOTABLE_ROWS = 400_000  # warning/error rows kept for analysis; beyond, counted only
_KEY_BITS = 24  # template id bits in the (second, template) key
_NOTABLE_LEVELS = pa.array(["WARN", "WARNING", "ERROR", "SEVERE", "FATAL", "CRITICAL"])
_NOTABLE_COLS = ("source", "line", "ts", "level", "thread", "logger", "message", "exception",
                 "root_exception", "root_frame")


class AnalysisCollector:
    name = "analysis"

    def __init__(self, config: dict[str, Any]) -> None:
        from logsleuth.timeline.templates import TemplateMiner

        self.miner = TemplateMiner()
        self.keys: list[np.ndarray] = []  # (second << _KEY_BITS | template) keys
        self.counts: list[np.ndarray] = []
        self.notable: list[pa.Table] = []
        self.notable_rows = 0
        self.dropped = 0

    def consume(self, cb: ChunkBatch) -> None:
        b = cb.batch
        ids = self.miner.add(b.column("message"))
        ts = b.column("ts").cast(pa.int64()).fill_null(-1).to_numpy()
        timed = (ts >= 0) & (ids >= 0)
        if timed.any():
            key = (ts[timed] // 1000) << _KEY_BITS | ids[timed].astype(np.int64)
            uniq, counts = np.unique(key, return_counts=True)
            self.keys.append(uniq)
            self.counts.append(counts)
            if len(self.keys) > 16:
                self._compact()
        level = b.column("level").cast(pa.string())
        notable = pc.or_(pc.fill_null(pc.is_in(pc.utf8_upper(level), _NOTABLE_LEVELS), False),
                         pc.is_valid(b.column("exception")))
        rows = pc.sum(notable.cast(pa.int64())).as_py() or 0
        if rows:
            if self.notable_rows + rows > MAX_NOTABLE_ROWS:
                self.dropped += rows
            else:
                t = pa.Table.from_batches([b]).select(list(_NOTABLE_COLS)).filter(notable)
                self.notable.append(t.set_column(0, "source", t["source"].cast(pa.string()))
                                    .set_column(3, "level", t["level"].cast(pa.string())))
                self.notable_rows += rows

    def _compact(self) -> None:
        keys = np.concatenate(self.keys)
        counts = np.concatenate(self.counts)
        uniq, inv = np.unique(keys, return_inverse=True)
        self.keys, self.counts = [uniq], [np.bincount(inv, weights=counts).astype(np.int64)]

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: AnalysisCollector) -> None:
        remap = self.miner.merge(other.miner)
        mask = (1 << _KEY_BITS) - 1
        for keys, counts in zip(other.keys, other.counts, strict=True):
            sec, tid = keys >> _KEY_BITS, keys & mask
            self.keys.append(sec << _KEY_BITS | remap[tid].astype(np.int64))
            self.counts.append(counts)
        self._compact()
        self.notable.extend(other.notable)
        self.notable_rows += other.notable_rows
        self.dropped += other.dropped

    def shift_lines(self, path: str, delta: int) -> None:
        from logsleuth.engine.evidence import _shift

        self.notable = _shift(self.notable, path, delta)

    def events(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(second start in ms, template id, count) arrays and the template texts."""
        if not self.keys:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), []
        self._compact()
        keys, counts = self.keys[0], self.counts[0]
        sec = keys >> _KEY_BITS
        tid = keys & ((1 << _KEY_BITS) - 1)
        ts = np.repeat(sec * 1000 + 500, counts)
        return ts, np.repeat(tid, counts), self.miner.templates

    def notable_table(self) -> pa.Table:
        if not self.notable:
            return pa.table({c: pa.array([], pa.string()) for c in _NOTABLE_COLS})
        return pa.concat_tables(self.notable, promote_options="permissive")
