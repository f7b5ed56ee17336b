"""Rows of message templates that may print a gauge, kept for gauge discovery.

Why: real services print their gauges in endless shapes, so every numeric
variable of every template is a candidate series. Reading them needs the
messages themselves, which the analysis otherwise reduces to counts. Only rows of
templates whose text shows a *named* number (``used=<*>``, ``capacity: <*>``, ``<*>
MB``) are kept, and per template at most about ``MAX_ROWS``: past that the
template is thinned in time by halving (a row is kept when a hash of its line
number is a multiple of the template's stride, a power of two, so each halving
keeps a subset of what was kept), so memory stays bounded and a gauge keeps its
whole time span. Per chunk this is one vectorised mask over the template ids the
analysis already has, and one ``take`` of the few rows kept.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAX_ROWS = 4096  # rows kept per candidate template (thinned in time beyond)
UNIT_WORDS = frozenset({"b", "bytes", "byte", "k", "kb", "kib", "m", "mb", "mib", "g", "gb",
                        "gib", "%", "ms", "s", "us", "ns"})
_KEYED = re.compile(r"[A-Za-z_][\w.-]*[=:]<\*>")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: line numbers spread evenly


def is_candidate(template: str) -> bool:
    """A template with a named number: ``key=<*>``, ``key: <*>`` or ``<*> unit``."""
    if _KEYED.search(template):
        return True
    tokens = template.split()
    for i, tok in enumerate(tokens):
        if tok != "<*>":
            continue
        if i and tokens[i - 1][-1:] in (":", "="):
            return True
        if i + 1 < len(tokens) and tokens[i + 1].lower().rstrip(",;)") in UNIT_WORDS:
            return True
    return False


def _hash(lines: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (lines.astype(np.uint64) * _MIX) >> np.uint64(40)


class GaugeRows:
    """Candidate rows (tid, source, line, ts, message) of every unit, mergeable."""

    __slots__ = ("kept", "lut", "parts", "stride")

    def __init__(self) -> None:
        self.lut = np.zeros(0, dtype=bool)  # template id -> candidate
        self.stride = np.ones(0, dtype=np.int64)  # template id -> keep 1 row in ``stride``
        self.kept = np.zeros(0, dtype=np.int64)  # template id -> rows kept
        self.parts: list[pa.Table] = []

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def _grow(self, templates: list[str]) -> None:
        n = len(templates) - len(self.lut)
        new = np.array([is_candidate(t) for t in templates[len(self.lut):]], dtype=bool)
        self.lut = np.r_[self.lut, new]
        self.stride = np.r_[self.stride, np.ones(n, np.int64)]
        self.kept = np.r_[self.kept, np.zeros(n, np.int64)]

    def _size(self, n: int) -> None:
        if n > len(self.lut):
            extra = n - len(self.lut)
            self.lut = np.r_[self.lut, np.ones(extra, bool)]
            self.stride = np.r_[self.stride, np.ones(extra, np.int64)]
            self.kept = np.r_[self.kept, np.zeros(extra, np.int64)]

    def add(self, batch: pa.RecordBatch, ids: np.ndarray, miner: Any) -> None:
        """Keep the candidate rows of a chunk (``ids``: template id per row, -1 none)."""
        if len(miner) > len(self.lut):  # templates are new: decided once each
            self._grow(miner.templates)
        if not self.lut.any():
            return
        safe = np.where(ids >= 0, ids, 0)
        hit = (ids >= 0) & self.lut[safe]
        rows = np.flatnonzero(hit)
        if not len(rows):
            return
        tids = ids[rows]
        stride = self.stride[tids]
        if (stride > 1).any():
            lines = batch.column("line").to_numpy(zero_copy_only=False)[rows]
            keep = (_hash(lines) % stride.astype(np.uint64)) == 0
            rows, tids = rows[keep], tids[keep]
        if len(rows):
            t = pa.Table.from_batches([batch.select(["source", "line", "ts", "message"])
                                       .take(pa.array(rows))])
            self._append(t.append_column("tid", pa.array(tids.astype(np.int64))))

    def _append(self, t: pa.Table) -> None:
        t = pa.table({"tid": t["tid"], "source": t["source"].cast(pa.string()),
                      "line": t["line"], "ts": t["ts"],
                      "message": t["message"].cast(pa.string())})
        tids = t["tid"].to_numpy()
        self._size(int(tids.max()) + 1)
        self.kept += np.bincount(tids, minlength=len(self.kept))
        self.parts.append(t)
        over = np.flatnonzero(self.kept > MAX_ROWS)
        if len(over):
            self._thin(over)

    def _thin(self, over: np.ndarray) -> None:
        """Thin the templates past their cap until they fit (a subset of what was kept)."""
        while len(over):
            self.stride[over] *= 4  # a quarter: fewer passes over the kept rows
            whole = pa.concat_tables(self.parts).combine_chunks()
            tids = whole["tid"].to_numpy()
            lines = whole["line"].to_numpy(zero_copy_only=False)
            keep = (_hash(lines) % self.stride[tids].astype(np.uint64)) == 0
            whole = whole.filter(pa.array(keep))
            self.parts = [whole]
            self.kept = np.bincount(whole["tid"].to_numpy(), minlength=len(self.kept))
            over = np.flatnonzero(self.kept > MAX_ROWS)

    def merge(self, other: GaugeRows, remap: np.ndarray) -> None:
        """Fold another unit's rows in, its template ids translated by ``remap``."""
        for t in other.parts:
            mapped = remap[t["tid"].to_numpy()].astype(np.int64)
            self._size(int(mapped.max()) + 1 if len(mapped) else 0)
            stride = np.maximum(self.stride[mapped], other.stride[t["tid"].to_numpy()])
            lines = t["line"].to_numpy(zero_copy_only=False)
            keep = (_hash(lines) % stride.astype(np.uint64)) == 0
            t = t.set_column(0, "tid", pa.array(mapped)).filter(pa.array(keep))
            if t.num_rows:
                self._append(t)

    def tables(self) -> dict[int, pa.Table]:
        """Kept rows per template id, in time order."""
        if not self.parts:
            return {}
        whole = pa.concat_tables(self.parts)
        whole = whole.sort_by([("tid", "ascending"), ("ts", "ascending"),
                               ("source", "ascending"), ("line", "ascending")])
        tids = whole["tid"].to_numpy()
        cuts = np.flatnonzero(np.r_[True, tids[1:] != tids[:-1], True])
        return {int(tids[a]): whole.slice(a, b - a).drop_columns(["tid"])
                for a, b in itertools.pairwise(cuts)}


def shift(rows: GaugeRows, path: str, delta: int) -> None:
    """Line numbers of ``path`` move by ``delta`` (a unit that started mid-file)."""
    out = []
    for t in rows.parts:
        hit = pc.equal(t["source"], path)
        out.append(t.set_column(t.schema.get_field_index("line"), "line",
                                pc.if_else(hit, pc.add(t["line"], delta), t["line"])))
    rows.parts = out
