"""Rules inside the scan: a collector that prefilters each batch and aggregates findings.

Rule matching costs per record only for candidates of the vectorised needle
prefilter; evidence tables (GC events, thread states, nginx) become records
only for the rows a rule could care about.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.engine.extract import spans_to_strings
from logsleuth.model import EvidenceResult, Kind, Record

# (module, function, table) turning an evidence table into Records for rules
EVIDENCE_RECORDS: dict[Kind, tuple[tuple[str, str, str], ...]] = {
    Kind.GC_LOG: (("logsleuth.parsers.gc", "gc_events_to_records", "gc_events"),),
    Kind.THREAD_DUMP: (("logsleuth.parsers.jstack", "thread_state_records", "thread_states"),
                       ("logsleuth.parsers.jstack", "deadlock_records", "deadlocks")),
    Kind.NGINX_ACCESS: (("logsleuth.parsers.nginx", "request_records", "http_requests"),),
    Kind.NGINX_ERROR: (("logsleuth.parsers.nginx", "error_records", "nginx_errors"),),
}


def evidence_records(kind: Kind, result: EvidenceResult) -> Iterator[Record]:
    for module, func, table in EVIDENCE_RECORDS.get(kind, ()):
        t = result.tables.get(table)
        if t is not None and t.num_rows:
            yield from getattr(importlib.import_module(module), func)(t)


FAST_PATH_MIN = 64  # candidates per batch before the verdict cache pays off
VERDICT_CACHE = 50_000


# tokens that are ids or numbers: hex, decimal, with a 0x prefix (RE2, run by Arrow)
_ID_TOKENS_RE2 = r"\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*\b"


def _named_first_group(pattern: str) -> str:
    """The extractor's first capturing group, named ``v`` for Arrow's extract_regex."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(" and not pattern.startswith("(?", i):
            return pattern[:i] + "(?P<v>" + pattern[i + 1 :]
        if ch == "(" and pattern.startswith("(?P<", i):
            close = pattern.index(">", i)
            return pattern[:i] + "(?P<v>" + pattern[close + 1 :]
        i += 1
    return f"(?P<v>{pattern})"


def _masked_codes(values: pa.Array) -> tuple[np.ndarray, list[str | None]]:
    """Per row, a code of the value with ids and numbers masked; and the masked values.

    Masking runs once per distinct value: levels, threads and loggers repeat, so a
    flood's columns cost a hash each instead of a regex each.
    """
    enc = values if isinstance(values, pa.DictionaryArray) else values.dictionary_encode()
    masked = pc.replace_substring_regex(enc.dictionary.cast(pa.string()), _ID_TOKENS_RE2, "0")
    again = masked.dictionary_encode()  # distinct values that mask alike share a code
    remap = np.append(again.indices.fill_null(-1).to_numpy(zero_copy_only=False), -1)
    raw = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return remap[raw], [*again.dictionary.to_pylist(), None]


class RuleCollector:
    """Findings of the enabled rules; only the aggregator travels between processes."""

    name = "rules"

    def __init__(self, config: dict[str, Any]) -> None:
        from logsleuth.rules.compile import RuleSet
        from logsleuth.rules.findings import FindingAggregator
        from logsleuth.rules.loader import load_rules

        rules = load_rules(config.get("rules_dirs") or (), only=config.get("only"),
                           exclude=config.get("exclude"))
        self._compiled: Any = RuleSet.compile(rules)
        self._extracts = {r.id: r.extract for r in rules if r.extract}
        self.infos = {r.id: r.info for r in rules}  # a saved state's findings name their rule
        self._verdicts: dict[int, tuple[int, ...]] = {}  # record shape -> ids into _shapes
        self._shapes: list[tuple[Any, str, str]] = []  # distinct (rule, fingerprint, signature)
        self._shape_ids: dict[tuple[Any, str, str], int] = {}
        self._masked = np.empty(0, dtype=np.uint8)
        self._needles = self._compiled.needles_for(Kind.APP_LOG)  # asked for every chunk
        self.aggregator = FindingAggregator()

    def __getstate__(self) -> dict[str, Any]:
        return {"aggregator": self.aggregator}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.aggregator = state["aggregator"]
        self._compiled = None
        self._needles = ()

    @property
    def needles(self) -> tuple[str, ...]:
        """Words to find in application-log chunks (the batches ``consume`` sees)."""
        return self._needles

    def consume(self, cb: ChunkBatch) -> None:
        mask = self._compiled.candidate_mask(cb.texts, kinds=cb.batch.column("kind"),
                                             needle_mask=cb.rows_with(self.needles))
        rows = np.flatnonzero(mask)
        if len(rows) < FAST_PATH_MIN:
            for i in rows:
                self.aggregator.add_all(self._compiled.evaluate(cb.make_record(int(i))))
            return
        self._consume_cached(cb, rows)

    def _consume_cached(self, cb: ChunkBatch, rows: np.ndarray) -> None:
        """Evaluate each distinct record shape once; aggregate the repeats in bulk.

        Records whose header fields are equal once ids and numbers are masked, and
        whose continuation lines are equal, match the same rules with the same
        fingerprints (conditions look at classes, frames and words; fingerprints
        mask numbers). Shapes are found with Arrow hashing, so a flood of one stack
        trace costs one evaluation and Python work per distinct shape, not per
        record; numbers for ``extract`` are still read from every record.
        """
        take = pa.array(rows)
        heads = [_masked_codes(cb.batch.column(c).take(take))
                 for c in ("level", "thread", "logger", "message")]
        tails = self._tails(cb, rows)
        tail_codes = pc.dictionary_encode(tails).indices.fill_null(-1).to_numpy(
            zero_copy_only=False)
        codes = np.stack([*(c for c, _ in heads), tail_codes], axis=1)
        _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(inverse.ravel(), kind="stable")
        members = np.split(rows[order], np.cumsum(np.bincount(inverse.ravel()))[:-1])
        cache, groups = self._verdicts, {}
        for g in np.argsort(first, kind="stable").tolist():  # in order of first record
            rep = int(first[g])
            key = hash((tuple(values[c[rep]] for c, values in heads), tails[rep].as_py()))
            verdict = cache.get(key)
            same = members[g]
            if verdict is None:
                verdict = cache[key] = self._evaluate_shape(cb.make_record(int(rows[rep])))
                same = same[1:]  # the first of the shape was just added in full
            for v in verdict:
                groups.setdefault(v, []).append(same)
        self._add_groups(cb, groups)

    @staticmethod
    def _tails(cb: ChunkBatch, rows: np.ndarray) -> pa.Array:
        """Each record's continuation lines (empty for one-line records)."""
        texts = cb.texts
        offs = np.frombuffer(texts.buffers()[1], dtype=np.int64)[
            texts.offset : texts.offset + len(texts) + 1]
        if cb.first_line_ends is not None:
            begin = cb.first_line_ends[rows]
        else:
            found = pc.find_substring(texts.take(pa.array(rows)), "\n").to_numpy(
                zero_copy_only=False)
            begin = np.where(found >= 0, offs[rows] + found + 1, offs[rows + 1])
        return spans_to_strings(texts.buffers()[2], begin, offs[rows + 1])

    def _evaluate_shape(self, record: Record) -> tuple[int, ...]:
        matches = self._compiled.evaluate(record)
        self.aggregator.add_all(matches)
        if len(self._verdicts) >= VERDICT_CACHE:
            self._verdicts.clear()  # shapes stay: cached verdicts only ever point into them
        ids = []
        for m in matches:
            v = (m.rule, m.fingerprint, m.signature)
            if v not in self._shape_ids:
                self._shape_ids[v] = len(self._shapes)
                self._shapes.append(v)
            ids.append(self._shape_ids[v])
        return tuple(ids)

    def _add_groups(self, cb: ChunkBatch, groups: dict[int, list[np.ndarray]]) -> None:
        texts, batch = cb.texts, cb.batch
        ts_col = batch.column("ts").cast(pa.int64()).fill_null(-1).to_numpy()
        line_col = batch.column("line").to_numpy()
        thread_col = batch.column("thread")
        source = str(batch.column("source")[0])

        def text_of(idx: np.ndarray) -> Callable[[int], str]:
            return lambda k: texts[int(idx[k])].as_py().decode("utf-8", "replace").rstrip("\n")

        for shape, parts in groups.items():
            take = np.sort(np.concatenate(parts))
            if len(take) == 0:
                continue
            rule, fp, sig = self._shapes[shape]
            extracted = self._extract_bulk(rule.id, batch, texts, take)
            threads = thread_col.take(pa.array(take)).to_pylist()
            self.aggregator.add_bulk(rule, fp, sig, ts_col[take], line_col[take], source,
                                     threads, extracted, text_of(take))

    def _extract_bulk(self, rule_id: str, batch: Any, texts: pa.Array,
                      take: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
        """A rule's numeric captures for many rows: one Arrow RE2 pass per extractor."""
        out: dict[str, tuple[np.ndarray, str]] = {}
        hays: dict[bool, pa.Array] = {}  # the rows' texts or messages, gathered once
        for ex in self._extracts.get(rule_id, ()):
            on_message = ex.source == "message"
            hay = hays.get(on_message)
            if hay is None:
                hay = hays[on_message] = (batch.column("message") if on_message
                                          else texts).take(take)
            got = pc.extract_regex(hay, _named_first_group(ex.regex.pattern))
            # struct_field, not .field: a record the rule matched without this number
            # (the throwable's class alone) reads null, not "", which no cast takes
            values = pc.cast(pc.struct_field(got, "v"), pa.float64(), safe=False)
            out[ex.name] = (values.fill_null(np.nan).to_numpy(zero_copy_only=False), ex.unit)
        return out

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        self._evaluate(evidence_records(kind, result))

    def _evaluate(self, records: Iterable[Record]) -> None:
        for rec in records:
            self.aggregator.add_all(self._compiled.evaluate(rec))

    def merge(self, other: RuleCollector) -> None:
        self.aggregator.merge(other.aggregator)

    def shift_lines(self, path: str, delta: int) -> None:
        self.aggregator.shift_lines(path, delta)

    def findings(self) -> list[Any]:
        return self.aggregator.finish()
