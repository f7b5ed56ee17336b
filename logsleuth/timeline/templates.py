"""Message template mining: Drain-like, but the per-message work is vectorised.

Why: Drain walks a parse tree for every line in Python. Here masking has two
tiers. Tier 1 (``_tokenmask``) collapses every token holding a digit (ids,
addresses, hex, numbers with units) to one marker over the whole Arrow buffer
with numpy; the result is dictionary-encoded. Tier 2 runs the ordered, named RE2
steps (``DEFAULT_MASKS``: quoted strings, key=value values...) with
``pyarrow.compute.replace_substring_regex`` over only the distinct tier-1
strings, and the Drain-like merge runs over those few strings in Python.
Running the regex steps over every message instead measured ~4x slower.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.timeline._tokenmask import MARK, Scratch, mask_digit_tokens, thread_scratch

WILDCARD = "<*>"


@dataclass(frozen=True, slots=True)
class MaskStep:
    """One named masking step: an RE2 pattern and its replacement (``\\1`` allowed)."""

    name: str
    pattern: str
    replacement: str


# Ordered: the specific shapes first, so that a UUID is not eaten as numbers.
DEFAULT_MASKS: tuple[MaskStep, ...] = (
    MaskStep("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
             r"[0-9a-fA-F]{12}\b", "<UUID>"),
    MaskStep("ip", r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?\b", "<IP>"),
    MaskStep("hex", r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-f]{8,})\b", "<HEX>"),
    MaskStep("dquote", r'"[^"]*"', "<STR>"),
    MaskStep("squote", r"([\s=(:\[])'[^']*'", r"\1<STR>"),
    MaskStep("kv", r"\b([A-Za-z_][\w.-]*)=[^\s,;)\]}&]+", r"\1=<*>"),
    MaskStep("num", r"-?\b\d+(?:[.,]\d+)*(?:[a-zA-Z%µ]{1,5})?\b", "<NUM>"),
)


def mask_messages(messages: pa.Array, masks: Sequence[MaskStep] = DEFAULT_MASKS) -> pa.Array:
    """Apply every mask step, in order, over the whole array (RE2 via Arrow)."""
    out = messages
    for step in masks:
        out = pc.replace_substring_regex(out, pattern=step.pattern, replacement=step.replacement)
    return out


def _as_array(messages: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.Array:
    if isinstance(messages, pa.ChunkedArray):
        messages = messages.combine_chunks()
    elif not isinstance(messages, pa.Array):
        messages = pa.array(list(messages), type=pa.string())
    if pa.types.is_dictionary(messages.type):
        messages = messages.cast(messages.type.value_type)
    if not (pa.types.is_string(messages.type) or pa.types.is_large_string(messages.type)):
        messages = messages.cast(pa.string())
    return messages


def _encode_blocks(messages: pa.Array, scratch: Scratch) -> list[tuple[np.ndarray, list[str]]]:
    """Per block: dictionary codes (-1 for null) and the distinct tier-1 strings."""
    out = []
    for block in mask_digit_tokens(messages, scratch):
        enc = block.dictionary_encode()
        codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        out.append((codes, enc.dictionary.to_pylist()))
    return out


def _group_key(tokens: Sequence[str], depth: int) -> tuple[object, ...]:
    lead = tuple(
        WILDCARD if (any(c.isdigit() for c in t) or t.startswith("<")) else t
        for t in tokens[:depth]
    )
    return (len(tokens), *lead)


def _similarity(template: Sequence[str], tokens: Sequence[str]) -> tuple[float, int]:
    """Drain's score: share of equal concrete positions, then the wildcard count."""
    same = 0
    wild = 0
    for a, b in zip(template, tokens, strict=True):
        if a == WILDCARD:
            wild += 1
        elif a == b:
            same += 1
    return same / len(tokens), wild


@dataclass(frozen=True, slots=True)
class TemplateIndex:
    """Per-message template ids (-1 for null messages) and the template texts."""

    template_ids: np.ndarray  # int32, one per message
    templates: list[str]

    @property
    def counts(self) -> np.ndarray:
        ids = self.template_ids[self.template_ids >= 0]
        return np.bincount(ids, minlength=len(self.templates))

    def to_json(self) -> dict[str, object]:
        counts = self.counts
        return {
            "messages": len(self.template_ids),
            "templates": [
                {"id": i, "template": t, "count": int(counts[i])}
                for i, t in enumerate(self.templates)
            ],
        }


class TemplateMiner:
    """Streaming template miner: ``add`` learns, ``match`` is its read-only twin.

    Template ids are stable once assigned (a template only ever generalises), so
    ids returned for earlier chunks stay valid; ``templates`` gives current texts.
    """

    __slots__ = ("_cache", "_depth", "_groups", "_masks", "_sim", "_tokens")

    def __init__(self, *, masks: Sequence[MaskStep] = DEFAULT_MASKS,
                 sim_threshold: float = 0.5, depth: int = 2) -> None:
        self._masks = tuple(masks)
        self._sim = sim_threshold
        self._depth = depth
        self._tokens: list[list[str]] = []  # template id -> tokens
        self._groups: dict[tuple[object, ...], list[int]] = {}
        self._cache: dict[str, int] = {}  # tier-1 masked string -> template id

    def __getstate__(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for k, v in state.items():
            if k in self.__slots__:  # pickles of older versions carried "_scratch"
                setattr(self, k, v)

    @property
    def templates(self) -> list[str]:
        return [" ".join(t) for t in self._tokens]

    def __len__(self) -> int:
        return len(self._tokens)

    def _learn(self, masked: str) -> int:
        tokens = masked.split()
        key = _group_key(tokens, self._depth)
        members = self._groups.setdefault(key, [])
        best, best_score = -1, (-1.0, -1)
        for tid in members:
            score = _similarity(self._tokens[tid], tokens)
            if score > best_score:
                best, best_score = tid, score
        if best >= 0 and (best_score[0] >= self._sim or len(tokens) == 0):
            tpl = self._tokens[best]
            for i, (a, b) in enumerate(zip(tpl, tokens, strict=True)):
                if a != b:
                    tpl[i] = WILDCARD
            return best
        self._tokens.append(tokens)
        members.append(len(self._tokens) - 1)
        return len(self._tokens) - 1

    def _find(self, masked: str) -> int:
        tokens = masked.split()
        for tid in self._groups.get(_group_key(tokens, self._depth), ()):
            tpl = self._tokens[tid]
            if all(a in (WILDCARD, b) for a, b in zip(tpl, tokens, strict=True)):
                return tid
        return -1

    def _ids(self, messages: pa.Array | pa.ChunkedArray | Iterable[str | None],
             learn: bool) -> np.ndarray:
        parts = []
        cache = self._cache
        for codes, distinct in _encode_blocks(_as_array(messages), thread_scratch()):
            lookup = np.empty(len(distinct) + 1, dtype=np.int32)
            lookup[-1] = -1  # code -1 (null) indexes the last slot
            todo = [i for i, s in enumerate(distinct) if s not in cache]
            if todo:
                named = mask_messages(pa.array([distinct[i] for i in todo], pa.string()),
                                      self._masks).to_pylist()
                for i, m in zip(todo, named, strict=True):
                    m = m.replace(MARK, WILDCARD)
                    tid = self._learn(m) if learn else self._find(m)
                    if learn:
                        cache[distinct[i]] = tid
                    lookup[i] = tid
            for i, s in enumerate(distinct):
                tid = cache.get(s)
                if tid is not None:
                    lookup[i] = tid
            parts.append(lookup[codes])
        if not parts:
            return np.full(len(messages), -1, dtype=np.int32)
        return np.concatenate(parts)

    def add(self, messages: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> np.ndarray:
        """Learn from a chunk; returns the template id of each message (int32)."""
        return self._ids(messages, learn=True)

    def match(self, messages: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> np.ndarray:
        """Template id of each message without learning; -1 where nothing matches."""
        return self._ids(messages, learn=False)

    def merge(self, other: TemplateMiner) -> np.ndarray:
        """Fold another miner's templates into this one (the reduce of map/reduce).

        Returns an int32 array mapping ``other``'s template ids to this miner's ids,
        so ids computed by ``other`` can be translated with ``mapping[ids]``.
        """
        mapping = np.empty(len(other._tokens), dtype=np.int32)
        for oid, tokens in enumerate(other._tokens):
            mapping[oid] = self._learn(" ".join(tokens))
        for s, oid in other._cache.items():
            self._cache.setdefault(s, int(mapping[oid]))
        return mapping

    def index(self, template_ids: np.ndarray) -> TemplateIndex:
        return TemplateIndex(np.asarray(template_ids, dtype=np.int32), self.templates)


def mine_templates(messages: pa.Array | pa.ChunkedArray | Iterable[str | None], *,
                   masks: Sequence[MaskStep] = DEFAULT_MASKS,
                   sim_threshold: float = 0.5) -> TemplateIndex:
    """One-shot mining of a whole message column."""
    miner = TemplateMiner(masks=masks, sim_threshold=sim_threshold)
    ids = miner.add(messages)
    return miner.index(ids)
