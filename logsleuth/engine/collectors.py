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
import pyarrow.compute as pc

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
    """Records per minute per (source, level): the backbone of timelines and rates."""

    name = "levels"

    def __init__(self, config: dict[str, Any]) -> None:
        self.counts: Counter[tuple[str, int, str]] = Counter()

    def consume(self, cb: ChunkBatch) -> None:
        b = cb.batch
        ts = b.column("ts").cast(pa.int64())
        if ts.null_count == len(ts):
            return
        minute = pc.divide(ts, 60_000)
        level = b.column("level")
        if isinstance(level, pa.DictionaryArray):
            level = level.dictionary_decode()
        table = pa.table({"m": minute, "l": pc.fill_null(level.cast(pa.string()), "")})
        grouped = table.group_by(["m", "l"]).aggregate([("m", "count")])
        source = str(b.column("source")[0]) if b.num_rows else ""
        for m, lvl, n in zip(grouped["m"].to_pylist(), grouped["l"].to_pylist(),
                             grouped["m_count"].to_pylist(), strict=True):
            if m is not None:
                self.counts[(source, int(m) * 60_000, lvl)] += n

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: LevelCounts) -> None:
        self.counts.update(other.counts)

    def shift_lines(self, path: str, delta: int) -> None:
        return None

    def table(self) -> pa.Table:
        keys = list(self.counts)
        return pa.table({
            "source": [k[0] for k in keys],
            "minute": pa.array(np.array([k[1] for k in keys], dtype=np.int64)).cast(
                pa.timestamp("ms", tz="UTC")),
            "level": [k[2] for k in keys],
            "count": pa.array([self.counts[k] for k in keys], pa.int64()),
        }).sort_by([("minute", "ascending"), ("source", "ascending"), ("level", "ascending")])


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
    """The collectors of one unit; merged across units in input order."""

    def __init__(self, collectors: list[Any]) -> None:
        self.items = collectors

    @classmethod
    def create(cls, names: tuple[str, ...], config: dict[str, Any]) -> CollectorSet:
        return cls([_load(REGISTRY[n])(config) for n in names])

    def get(self, name: str) -> Any | None:
        return next((c for c in self.items if c.name == name), None)

    def consume(self, cb: ChunkBatch) -> None:
        """Feed a batch; evidence a collector finds inside it goes to all of them."""
        found: list[tuple[Kind, EvidenceResult]] = []
        for c in self.items:
            found.extend(c.consume(cb) or ())
        for kind, result in found:
            self.consume_evidence(kind, result)

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        for c in self.items:
            c.consume_evidence(kind, result)

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
