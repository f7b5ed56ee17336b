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
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


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
        self._verdicts: dict[int, tuple[int, ...]] = {}  # record shape -> ids into _shapes
        self._shapes: list[tuple[Any, str, str]] = []  # distinct (rule, fingerprint, signature)
        self._shape_ids: dict[tuple[Any, str, str], int] = {}
        self._masked = np.empty(0, dtype=np.uint8)
        self.aggregator = FindingAggregator()

    def __getstate__(self) -> dict[str, Any]:
        return {"aggregator": self.aggregator}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.aggregator = state["aggregator"]
        self._compiled = None

    @property
    def needles(self) -> tuple[str, ...]:
        return self._compiled.needles if self._compiled is not None else ()

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

        Records whose header line is equal once ids and numbers are masked, and
        whose continuation lines are equal once digits are masked, match the same
        rules with the same fingerprints (conditions look at classes, frames and
        words; fingerprints mask numbers). A flood of one stack trace then costs one
        evaluation, a hash per record, and Arrow work per batch; numbers for
        ``extract`` are still read from every record.
        """
        texts = cb.texts
        offs = np.frombuffer(texts.buffers()[1], dtype=np.int64)[
            texts.offset : texts.offset + len(texts) + 1].tolist()
        raw = texts.buffers()[2].to_pybytes()  # one copy per batch; slicing bytes is cheap
        batch = cb.batch
        take = pa.array(rows)
        # the header's words, with ids and numbers masked, in a few Arrow calls
        heads = zip(*(pc.replace_substring_regex(batch.column(c).take(take).cast(pa.string()),
                                                 _ID_TOKENS_RE2, "0").to_pylist()
                      for c in ("level", "thread", "logger", "message")), strict=True)
        ts_col = batch.column("ts").cast(pa.int64()).fill_null(-1).to_numpy()
        line_col = batch.column("line").to_numpy()
        threads = batch.column("thread").to_pylist()
        source = str(batch.column("source")[0])
        cache, shapes, shape_ids = self._verdicts, self._shapes, self._shape_ids
        groups: dict[int, list[int]] = {}
        for i, head in zip(rows.tolist(), heads, strict=True):
            s, e = offs[i], offs[i + 1]
            nl = raw.find(b"\n", s, e)
            tail = raw[nl:e].translate(_DIGITS_TO_ZERO) if nl >= 0 else b""
            key = hash((head, tail))
            verdict = cache.get(key)
            if verdict is None:
                matches = self._compiled.evaluate(cb.make_record(i))
                self.aggregator.add_all(matches)
                if len(cache) >= VERDICT_CACHE:
                    cache.clear()  # shapes stay: cached verdicts only ever point into them
                ids = []
                for m in matches:
                    v = (m.rule, m.fingerprint, m.signature)
                    if v not in shape_ids:
                        shape_ids[v] = len(shapes)
                        shapes.append(v)
                    ids.append(shape_ids[v])
                cache[key] = tuple(ids)
                continue
            for v in verdict:
                groups.setdefault(v, []).append(i)

        def text_of(idx: list[int]) -> Callable[[int], str]:
            return lambda k: texts[idx[k]].as_py().decode("utf-8", "replace").rstrip("\n")

        for shape, idx in groups.items():
            rule, fp, sig = shapes[shape]
            take = np.array(idx)
            extracted = self._extract_bulk(rule.id, batch, texts, take)
            self.aggregator.add_bulk(rule, fp, sig, ts_col[take], line_col[take], source,
                                     [threads[i] for i in idx], extracted, text_of(idx))

    def _extract_bulk(self, rule_id: str, batch: Any, texts: pa.Array,
                      take: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
        """A rule's numeric captures for many rows: one Arrow RE2 pass per extractor."""
        out: dict[str, tuple[np.ndarray, str]] = {}
        for ex in self._extracts.get(rule_id, ()):
            hay = (batch.column("message") if ex.source == "message" else texts).take(take)
            got = pc.extract_regex(hay, _named_first_group(ex.regex.pattern))
            values = pc.cast(got.field("v"), pa.float64(), safe=False)
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
