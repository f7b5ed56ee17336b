"""Rows of message templates that may print a gauge, kept for gauge discovery.

Why: real services print their gauges in endless shapes, so every numeric
variable of every template is a candidate series. Reading them needs the
messages themselves, which the analysis otherwise reduces to counts. Only rows of
templates whose text shows a *named* number (``used=<*>``, ``capacity: <*>``, ``<*>
MB``) are kept, and per template at most ``MAX_ROWS`` of them: past that the
template is thinned in time (every second kept row dropped, then every other new
row skipped), so memory stays bounded and a gauge keeps its whole time span. The
per-chunk cost is one table lookup of the template ids the analysis already has.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

MAX_ROWS = 4096  # rows kept per candidate template (thinned in time beyond)
MAX_TEMPLATES = 512  # candidate templates followed per scan
UNIT_WORDS = frozenset({"b", "bytes", "byte", "k", "kb", "kib", "m", "mb", "mib", "g", "gb",
                        "gib", "%", "ms", "s", "us", "ns"})
_VAR = re.compile(r"<\*>|<[A-Z]+>")
_KEYED = re.compile(r"[A-Za-z_][\w.-]*[=:]<\*>")


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


class GaugeRows:
    """Candidate rows per template id: (source, line, ts, message), mergeable."""

    __slots__ = ("kept", "lut", "parts", "seen", "stride")

    def __init__(self) -> None:
        self.lut = np.zeros(0, dtype=bool)  # template id -> candidate
        self.parts: dict[int, list[pa.Table]] = {}
        self.kept: dict[int, int] = {}
        self.stride: dict[int, int] = {}  # keep one row in ``stride`` (grows by doubling)
        self.seen: dict[int, int] = {}  # rows of the template offered so far

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def _grow(self, templates: list[str]) -> None:
        n = len(self.lut)
        if len(templates) > n:
            new = np.array([is_candidate(t) for t in templates[n:]], dtype=bool)
            self.lut = np.r_[self.lut, new]

    def add(self, batch: pa.RecordBatch, ids: np.ndarray, miner: Any) -> None:
        """Keep the candidate rows of a chunk (``ids``: template id per row, -1 none)."""
        if len(miner) > len(self.lut):  # templates are new: decided once each
            self._grow(miner.templates)
        if not self.lut.any():
            return
        ok = ids >= 0
        hit = np.zeros(len(ids), dtype=bool)
        hit[ok] = self.lut[ids[ok]]
        rows = np.flatnonzero(hit)
        if not len(rows):
            return
        tids = ids[rows]
        for tid in np.unique(tids).tolist():
            if tid not in self.parts and len(self.parts) >= MAX_TEMPLATES:
                continue
            mine = rows[tids == tid]
            stride = self.stride.get(tid, 1)
            seen = self.seen.get(tid, 0)
            self.seen[tid] = seen + len(mine)
            if stride > 1:  # the rows whose running number is a multiple of the stride
                mine = mine[(seen + np.arange(len(mine))) % stride == 0]
            if len(mine):
                self._append(tid, batch.take(pa.array(mine)))

    def _append(self, tid: int, rows: pa.RecordBatch | pa.Table) -> None:
        t = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([rows])
        t = pa.table({"source": t["source"].cast(pa.string()), "line": t["line"],
                      "ts": t["ts"], "message": t["message"].cast(pa.string())})
        self.parts.setdefault(tid, []).append(t)
        self.kept[tid] = self.kept.get(tid, 0) + t.num_rows
        if self.kept[tid] > MAX_ROWS:
            whole = pa.concat_tables(self.parts[tid]).combine_chunks()
            half = whole.take(pa.array(np.arange(0, whole.num_rows, 2)))
            self.parts[tid] = [half]
            self.kept[tid] = half.num_rows
            self.stride[tid] = self.stride.get(tid, 1) * 2

    def merge(self, other: GaugeRows, remap: np.ndarray) -> None:
        """Fold another unit's rows in, its template ids translated by ``remap``."""
        for tid, parts in other.parts.items():
            mine = int(remap[tid])
            for t in parts:
                self._append(mine, t)

    def tables(self) -> dict[int, pa.Table]:
        """Kept rows per template id, in time order."""
        out = {}
        for tid, parts in self.parts.items():
            t = pa.concat_tables(parts)
            out[tid] = t.sort_by([("ts", "ascending"), ("source", "ascending"),
                                  ("line", "ascending")])
        return out
