"""Collectors: mergeable consumers of record batches (the reduce side of a scan).

Each collector is registered by name; a scan asks for the ones it needs, so an
ingestion-only run pays for none of them.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from logsleuth.engine.applog import ChunkBatch
from logsleuth.model import EvidenceResult, Kind


class Collector(Protocol):
    """A reduce-side consumer; ``consume`` may return evidence found in the batch."""

    name: str

    def consume(self, cb: ChunkBatch) -> list[tuple[Kind, EvidenceResult]] | None: ...

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None: ...

    def merge(self, other: Any) -> None: ...

    def shift_lines(self, path: str, delta: int) -> None: ...


class LevelCounts:
    """Records per (source, time bucket, level): the backbone of timelines and rates.

    Counted per second while that stays small (short incidents want fine bins), per
    minute beyond ``MAX_SECOND_KEYS``; ``table()`` is always per minute and
    ``seconds_table()`` exists while the per-second counts were kept.
    """

    name = "levels"
    MAX_SECOND_KEYS = 20_000  # about 1.5 h of four levels: longer evidence bins by minute

    def __init__(self, config: dict[str, Any]) -> None:
        self.counts: Counter[tuple[str, int, str]] = Counter()
        self.bucket_ms = 1000

    def consume(self, cb: ChunkBatch) -> None:
        """Count per (bucket, level) with numpy: Acero's group_by costs 0.5 ms per call."""
        b = cb.batch
        ts = b.column("ts").cast(pa.int64())
        if ts.null_count == len(ts):
            return
        level = b.column("level")
        if not isinstance(level, pa.DictionaryArray):
            level = level.cast(pa.string()).dictionary_encode()
        names = [*(str(v) for v in level.dictionary.to_pylist()), ""]  # "" for no level
        codes = level.indices.fill_null(len(names) - 1).to_numpy(zero_copy_only=False)
        timed = ts.is_valid().to_numpy(zero_copy_only=False)
        bucket = ts.fill_null(0).to_numpy(zero_copy_only=False)[timed] // self.bucket_ms
        key = bucket * len(names) + codes[timed].astype(np.int64)
        lo = int(key.min())
        if int(key.max()) - lo < 4_000_000:  # a chunk spans minutes: a dense count is cheap
            dense = np.bincount(key - lo)
            uniq = np.flatnonzero(dense)
            counts = dense[uniq]
            uniq = uniq + lo
        else:
            uniq, counts = np.unique(key, return_counts=True)
        source = str(b.column("source")[0]) if b.num_rows else ""
        width = len(names)
        for k, n in zip(uniq.tolist(), counts.tolist(), strict=True):
            self.counts[(source, (k // width) * self.bucket_ms, names[k % width])] += n
        if self.bucket_ms < 60_000 and len(self.counts) > self.MAX_SECOND_KEYS:
            self._coarsen()

    def _coarsen(self) -> None:
        per_minute: Counter[tuple[str, int, str]] = Counter()
        for (src, ms, lvl), n in self.counts.items():
            per_minute[(src, ms - ms % 60_000, lvl)] += n
        self.counts, self.bucket_ms = per_minute, 60_000

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: LevelCounts) -> None:
        if other.bucket_ms > self.bucket_ms:
            self._coarsen()
        elif other.bucket_ms < self.bucket_ms:
            other._coarsen()
        self.counts.update(other.counts)
        if self.bucket_ms < 60_000 and len(self.counts) > self.MAX_SECOND_KEYS:
            self._coarsen()

    def shift_lines(self, path: str, delta: int) -> None:
        return None

    def _table(self, counts: Counter[tuple[str, int, str]], column: str) -> pa.Table:
        keys = list(counts)
        return pa.table({
            "source": pa.array([k[0] for k in keys], pa.string()),
            column: pa.array(np.array([k[1] for k in keys], dtype=np.int64)).cast(
                pa.timestamp("ms", tz="UTC")),
            "level": pa.array([k[2] for k in keys], pa.string()),
            "count": pa.array([counts[k] for k in keys], pa.int64()),
        }).sort_by([(column, "ascending"), ("source", "ascending"), ("level", "ascending")])

    def table(self) -> pa.Table:
        """Per minute: ``source, minute, level, count``."""
        per_minute: Counter[tuple[str, int, str]] = Counter()
        for (src, ms, lvl), n in self.counts.items():
            per_minute[(src, ms - ms % 60_000, lvl)] += n
        return self._table(per_minute, "minute")

    def seconds_table(self) -> pa.Table | None:
        """Per second (``source, second, level, count``), or None once coarsened."""
        return self._table(self.counts, "second") if self.bucket_ms == 1000 else None


# name -> "module:Class"; classes take a config dict. Heavy modules load only when asked for.
REGISTRY: dict[str, str] = {
    "levels": "logsleuth.engine.collectors:LevelCounts",
    "rules": "logsleuth.engine.rulescan:RuleCollector",
    "metrics": "logsleuth.engine.evidence:MetricCollector",
    "dumps": "logsleuth.engine.evidence:EmbeddedDumpCollector",
    "analysis": "logsleuth.engine.analysis:AnalysisCollector",
}


def _load(spec: str) -> type:
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)


class CollectorSet:
    """The collectors of one unit; merged across units in input order.

    Collectors that look for literal words declare them as ``needles``; one search
    of each chunk's buffer finds them all (``ChunkBatch.rows_with``).
    """

    def __init__(self, collectors: list[Any]) -> None:
        self.items = collectors
        self._matcher: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"items": self.items}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.items, self._matcher = state["items"], None

    def _needles(self) -> Any:
        if self._matcher is None:
            from logsleuth.rules.needles import NeedleMatcher

            words = sorted({n for c in self.items for n in getattr(c, "needles", ())})
            self._matcher = NeedleMatcher(words)
        return self._matcher

    @classmethod
    def create(cls, names: tuple[str, ...], config: dict[str, Any]) -> CollectorSet:
        return cls([_load(REGISTRY[n])(config) for n in names])

    def get(self, name: str) -> Any | None:
        return next((c for c in self.items if c.name == name), None)

    def consume(self, cb: ChunkBatch) -> None:
        """Feed a batch; evidence a collector finds inside it goes to all of them."""
        found: list[tuple[Kind, EvidenceResult]] = []
        matcher = self._needles()
        if matcher.needles:
            cb.needle_rows = matcher.rows_by_needle(cb.texts)
        for c in self.items:
            found.extend(c.consume(cb) or ())
        for kind, result in found:
            self.consume_evidence(kind, result)

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        for c in self.items:
            c.consume_evidence(kind, result)

    def finish(self) -> None:
        """End of a unit: collectors that batch work (``finish``) complete it here.

        A partial kept by the process that made it is never pickled, so without
        this its pending work would run during the reduce, which is serial.
        """
        for c in self.items:
            done = getattr(c, "finish", None)
            if done is not None:
                done()

    def merge(self, other: CollectorSet) -> None:
        for mine, theirs in zip(self.items, other.items, strict=True):
            mine.merge(theirs)

    def shift_lines(self, path: str, delta: int) -> None:
        for c in self.items:
            c.shift_lines(path, delta)

    def tables(self) -> dict[str, list[pa.Table]]:
        """Typed tables the collectors built (metrics, embedded thread dumps...)."""
        out: dict[str, list[pa.Table]] = {}
        for c in self.items:
            for name, parts in getattr(c, "tables", dict)().items():
                out.setdefault(name, []).extend(parts)
        return out
