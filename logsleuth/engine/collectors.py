"""Collectors: mergeable consumers of record batches (the reduce side of a scan).

Each collector is registered by name; a scan asks for the ones it needs, so an
ingestion-only run pays for none of them.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
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

    Held as sorted numpy keys (``bucket << _PAIR_BITS | (source, level) code``) and
    counts, not a Counter of tuples: 20 days of evidence are 87k minute keys, 13 MiB as
    Python objects in the process that merges every unit (10 GiB bench), 1.4 MiB here.
    """

    name = "levels"
    MAX_SECOND_KEYS = 20_000  # about 1.5 h of four levels: longer evidence bins by minute

    def __init__(self, config: dict[str, Any]) -> None:
        self.bucket_ms = 1000
        self.pairs: list[tuple[str, str]] = []  # (source, level) per code
        self._pair_codes: dict[tuple[str, str], int] = {}
        self.keys = np.zeros(0, np.int64)  # sorted, distinct
        self.values = np.zeros(0, np.int64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_keys = 0

    def _code(self, pair: tuple[str, str]) -> int:
        code = self._pair_codes.get(pair)
        if code is None:
            if len(self.pairs) > _PAIR_MASK:
                raise ValueError(f"more than {_PAIR_MASK + 1} (source, level) pairs")
            code = self._pair_codes[pair] = len(self.pairs)
            self.pairs.append(pair)
        return code

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
        lut = np.array([self._code((source, n)) for n in names], np.int64)
        self._add(uniq // width << _PAIR_BITS | lut[uniq % width], counts.astype(np.int64))
        self._settle()

    def _add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self._pending.append((keys, counts))
        self._pending_keys += len(keys)

    def _compact(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self.keys, *(k for k, _ in self._pending)])
        counts = np.concatenate([self.values, *(c for _, c in self._pending)])
        self._pending, self._pending_keys = [], 0
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        self.keys, self.values = keys[starts], np.add.reduceat(counts, starts) if len(
            keys) else counts

    def _settle(self) -> None:
        """Per second: the distinct keys counted now (past the bound, per minute). Per
        minute: compacted once the new pieces outgrow what is compact."""
        if self.bucket_ms < 60_000:
            self._compact()
            if len(self.keys) > self.MAX_SECOND_KEYS:
                self._coarsen()
        elif self._pending_keys > max(4096, len(self.keys)):
            self._compact()

    def _regroup(self, ms: np.ndarray, bucket_ms: int) -> None:
        """Every key moved to the bucket of ``bucket_ms`` that holds ``ms`` (one per key,
        compacted), its counts summed with those already there."""
        pair = self.keys & _PAIR_MASK
        self.keys, counts, self.values = np.zeros(0, np.int64), self.values, np.zeros(0, np.int64)
        self.bucket_ms = bucket_ms
        self._add(ms // bucket_ms << _PAIR_BITS | pair, counts)
        self._compact()

    def _coarsen(self) -> None:
        self._compact()
        ms = self.bucket_starts()
        self._regroup(ms - ms % 60_000, 60_000)

    def bucket_starts(self) -> np.ndarray:
        """Epoch ms of each compacted key's bucket."""
        return (self.keys >> _PAIR_BITS) * self.bucket_ms

    def regroup_minutes(self, move: Callable[[np.ndarray], np.ndarray]) -> None:
        """Per minute: every count moved to the minute ``move`` maps its minute to (the
        watcher's retention sums old minutes per hour or day this way)."""
        self._compact()
        self._regroup(move(self.bucket_starts()), self.bucket_ms)

    def rows(self) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
        """Source, bucket start (epoch ms), level and count per key."""
        self._compact()
        pair = (self.keys & _PAIR_MASK).tolist()
        return ([self.pairs[p][0] for p in pair], self.bucket_starts(),
                [self.pairs[p][1] for p in pair], self.values)

    def load_rows(self, sources: list[str], ms: np.ndarray, levels: list[str],
                  counts: np.ndarray, bucket_ms: int) -> None:
        """Counts as ``rows`` gives them, added (``ms`` on ``bucket_ms`` boundaries)."""
        self._compact()
        self.bucket_ms = bucket_ms
        codes = np.array([self._code(p) for p in zip(sources, levels, strict=True)], np.int64)
        self._add(np.asarray(ms, np.int64) // bucket_ms << _PAIR_BITS | codes.reshape(-1),
                  np.asarray(counts, np.int64))
        self._compact()

    @property
    def counts(self) -> Counter[tuple[str, int, str]]:
        """A copy as a Counter of (source, bucket start ms, level): for inspection."""
        src, ms, lvl, n = self.rows()
        return Counter(dict(zip(zip(src, ms.tolist(), lvl, strict=True), n.tolist(),
                                strict=True)))

    @counts.setter
    def counts(self, counts: Counter[tuple[str, int, str]]) -> None:
        self.keys, self.values, self._pending, self._pending_keys = (
            np.zeros(0, np.int64), np.zeros(0, np.int64), [], 0)
        keys = list(counts)
        self.load_rows([k[0] for k in keys], np.array([k[1] for k in keys], np.int64),
                       [k[2] for k in keys], np.array([counts[k] for k in keys], np.int64),
                       self.bucket_ms)

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: LevelCounts) -> None:
        if other.bucket_ms > self.bucket_ms:
            self._coarsen()
        elif other.bucket_ms < self.bucket_ms:
            other._coarsen()
        other._compact()
        remap = np.array([self._code(p) for p in other.pairs] or [0], np.int64)
        self._add(other.keys >> _PAIR_BITS << _PAIR_BITS | remap[other.keys & _PAIR_MASK],
                  other.values)
        self._settle()

    def shift_lines(self, path: str, delta: int) -> None:
        return None

    def __getstate__(self) -> dict[str, Any]:
        self._compact()  # ship two arrays, not a pile of per-chunk pieces
        return self.__dict__.copy()

    def _table(self, per_minute: bool, column: str) -> pa.Table:
        src, ms, lvl, n = self.rows()
        if per_minute and self.bucket_ms < 60_000:
            minute = LevelCounts({})
            minute.pairs, minute._pair_codes = self.pairs, self._pair_codes
            minute.keys, minute.values, minute.bucket_ms = self.keys, self.values, self.bucket_ms
            minute._coarsen()
            src, ms, lvl, n = minute.rows()
        return pa.table({
            "source": pa.array(src, pa.string()),
            column: pa.array(ms).cast(pa.timestamp("ms", tz="UTC")),
            "level": pa.array(lvl, pa.string()),
            "count": pa.array(n, pa.int64()),
        }).sort_by([(column, "ascending"), ("source", "ascending"), ("level", "ascending")])

    def table(self) -> pa.Table:
        """Per minute: ``source, minute, level, count``."""
        return self._table(True, "minute")

    def seconds_table(self) -> pa.Table | None:
        """Per second (``source, second, level, count``), or None once coarsened."""
        return self._table(False, "second") if self.bucket_ms == 1000 else None


_PAIR_BITS = 24  # (source, level) code bits of a level-count key; the bucket has the rest
_PAIR_MASK = (1 << _PAIR_BITS) - 1


# name -> "module:Class"; classes take a config dict. Heavy modules load only when asked for.
REGISTRY: dict[str, str] = {
    "levels": "logsleuth.engine.collectors:LevelCounts",
    "rules": "logsleuth.engine.rulescan:RuleCollector",
    "metrics": "logsleuth.engine.evidence:MetricCollector",
    "dumps": "logsleuth.engine.evidence:EmbeddedDumpCollector",
    "jvmconsole": "logsleuth.engine.embeddedgc:ConsoleJvmCollector",
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
            cb.needle_rows = matcher.rows_by_needle(cb.spans)  # a superset for the rules
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
