"""Compile enabled rules into a prefilter plus per-record evaluation.

The engine calls ``candidate_mask`` on whole Arrow text columns (vectorised:
one RE2 alternation of all literal needles, run by Arrow), then builds
``Record`` objects only for candidate rows and calls ``evaluate``. A rule whose
conditions yield no literal needle is "always evaluate" (lint warns about it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.model import Record
from logsleuth.rules.conditions import AllCond, Condition, KindCond
from logsleuth.rules.findings import RuleMatch
from logsleuth.rules.fingerprint import fingerprint
from logsleuth.rules.model import Rule
from logsleuth.rules.needles import NeedleMatcher

MASK_STRATEGIES = ("buffer", "regex", "substring")


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    needles: frozenset[str] | None  # None: always evaluate


def _as_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


class CompiledRuleSet:
    """Immutable after construction; safe to pickle to worker processes."""

    def __init__(self, rules: Sequence[Rule], strategy: str = "buffer") -> None:
        if strategy not in MASK_STRATEGIES:
            raise ValueError(f"unknown mask strategy {strategy!r}")
        self.strategy = strategy
        self._rules = tuple(_Compiled(r, r.match.needles()) for r in rules if r.enabled)
        needles: set[str] = set()
        for c in self._rules:
            if c.needles is not None:
                needles |= c.needles
        self.needles: tuple[str, ...] = tuple(sorted(needles))
        self.always: tuple[str, ...] = tuple(c.rule.id for c in self._rules if c.needles is None)
        # Longest first so the alternation reports the most specific literal.
        ordered = sorted(self.needles, key=lambda n: (-len(n), n))
        self._pattern = "|".join(re.escape(n) for n in ordered)
        self._matcher: NeedleMatcher | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_matcher"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def needles_for(self, kind: str) -> tuple[str, ...]:
        """Needles of the rules that can match records of ``kind``.

        A scan of application-log chunks need not look for ``[GC`` or ``" 5``:
        the rules behind them only match GC logs or nginx records (measured: the
        shared Hyperscan pass of the bench log drops from 0.6 s to 0.35 s).
        """
        out: set[str] = set()
        for c in self._rules:
            kinds = _kinds_of(c.rule.match)
            if c.needles is not None and (kinds is None or kind in kinds):
                out |= c.needles
        return tuple(sorted(out))

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(c.rule for c in self._rules)

    def candidate_mask(self, texts: pa.Array | pa.ChunkedArray,
                       kinds: pa.Array | pa.ChunkedArray | None = None,
                       needle_mask: np.ndarray | None = None) -> np.ndarray:
        """Rows that some rule might match. Never drops a row ``evaluate`` would match.

        ``kinds`` (optional, the record kind column) narrows always-evaluate rules
        that are restricted to some kinds; without it they make every row a candidate.
        ``needle_mask``: rows holding a needle, when a shared scan found them already.
        """
        n = len(texts)
        if not self._rules:
            return np.zeros(n, dtype=bool)
        if self.always and kinds is None:
            return np.ones(n, dtype=bool)
        if needle_mask is not None:  # a shared scan of the buffer found the needles already
            mask = needle_mask.copy()
        else:
            mask = self._needle_mask(texts) if self.needles else np.zeros(n, dtype=bool)
        if self.always and kinds is not None:
            mask |= self._always_mask(kinds)
        return mask

    def _needle_mask(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        if self.strategy == "buffer":
            if self._matcher is None:  # native engines do not pickle: built where used
                self._matcher = NeedleMatcher(self.needles)
            return self._matcher.mask(texts)
        if self.strategy == "regex":
            return _as_bool(pc.match_substring_regex(texts, self._pattern))
        out = np.zeros(len(texts), dtype=bool)
        for needle in self.needles:
            out |= _as_bool(pc.match_substring(texts, needle))
        return out

    def _always_mask(self, kinds: pa.Array | pa.ChunkedArray) -> np.ndarray:
        wanted: set[str] = set()
        for c in self._rules:
            if c.needles is None:
                k = _kinds_of(c.rule.match)
                if k is None:
                    return np.ones(len(kinds), dtype=bool)
                wanted |= k
        if isinstance(kinds, pa.ChunkedArray):
            kinds = kinds.combine_chunks()
        if pa.types.is_dictionary(kinds.type):
            kinds = kinds.dictionary_decode()
        return _as_bool(pc.is_in(kinds, value_set=pa.array(sorted(wanted), pa.string())))

    def evaluate(self, record: Record) -> list[RuleMatch]:
        """Full conditions of every rule whose needles occur in the record."""
        out: list[RuleMatch] = []
        text = record.text
        for c in self._rules:
            if c.needles is not None and not any(n in text for n in c.needles):
                continue
            if not c.rule.match.matches(record):
                continue
            fp, sig = fingerprint(record, c.rule.fingerprint)
            out.append(RuleMatch(c.rule.info, record, fp, sig, _extract(c.rule, record)))
        return out


def _kinds_of(cond: Condition) -> frozenset[str] | None:
    """The kinds a condition is restricted to, when it says so at its top level."""
    if isinstance(cond, KindCond):
        return cond.kinds
    if isinstance(cond, AllCond):
        for child in cond.children:
            if isinstance(child, KindCond):
                return child.kinds
    return None


def _extract(rule: Rule, rec: Record) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    for ex in rule.extract:
        if ex.source == "message":
            hay: Iterable[str | None] = (rec.message,)
        elif ex.source == "exception_message":
            hay = (t.message for t in rec.throwable.chain()) if rec.throwable else ()
        else:
            hay = (rec.text,)
        for s in hay:
            m = ex.regex.search(s) if s else None
            if m is not None:
                with suppress(TypeError, ValueError):  # not a number: leave it out
                    out[ex.name] = (float(m.group(1)), ex.unit)
                break
    return out


class RuleSet:
    """Entry point: ``RuleSet.compile(rules)``."""

    @staticmethod
    def compile(rules: Iterable[Rule], strategy: str = "buffer") -> CompiledRuleSet:
        return CompiledRuleSet(list(rules), strategy)
