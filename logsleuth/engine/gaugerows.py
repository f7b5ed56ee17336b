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
# a metric name with a separator or labels, as exposition formats print it
_EXPOSED = re.compile(r"[A-Za-z_:][\w:.]*(?:[_.:][\w:.]*\{.*\}|[_.:][\w:.]*|\{.*\})")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: line numbers spread evenly


def is_candidate(template: str) -> bool:
    """A template with a named number: ``key=<*>``, ``key: <*>`` or ``<*> unit``."""
    if _KEYED.search(template):
        return True
    tokens = template.split()
    if len(tokens) == 2 and tokens[1] == "<*>" and _EXPOSED.fullmatch(tokens[0]):
        return True  # one exposition sample: name{labels} value
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
    """Candidate rows (tid, source, line, ts, message) of every unit, mergeable.

    Thinning is logical first: a template's stride grows and its rows whose hash is
    not a multiple of it stop counting; the rows are dropped physically only when
    the dead ones outnumber the live ones, so thinning costs numpy over two small
    integer arrays, not a rewrite of the kept messages each time.
    """

    __slots__ = ("hashes", "kept", "lut", "parts", "stride", "tids")

    def __init__(self) -> None:
        self.lut = np.zeros(0, dtype=bool)  # template id -> candidate
        self.stride = np.ones(0, dtype=np.int64)  # template id -> keep 1 row in ``stride``
        self.kept = np.zeros(0, dtype=np.int64)  # template id -> live rows
        self.parts: list[pa.Table] = []  # source, line, ts, message
        self.tids: list[np.ndarray] = []  # per part: template id per row
        self.hashes: list[np.ndarray] = []  # per part: line hash per row

    def __getstate__(self) -> dict[str, Any]:
        self._compact()
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def _grow(self, templates: list[str]) -> None:
        new = np.array([is_candidate(t) for t in templates[len(self.lut):]], dtype=bool)
        n = len(new)
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
        rows = np.flatnonzero((ids >= 0) & self.lut[safe])
        if not len(rows):
            return
        tids = ids[rows].astype(np.int64)
        lines = batch.column("line").to_numpy(zero_copy_only=False)[rows]
        h = _hash(lines)
        stride = self.stride[tids]
        if (stride > 1).any():
            keep = (h % stride.astype(np.uint64)) == 0
            rows, tids, h = rows[keep], tids[keep], h[keep]
        if len(rows):
            t = pa.Table.from_batches([batch.select(["source", "line", "ts", "message"])
                                       .take(pa.array(rows))])
            self._append(t, tids, h)

    def _append(self, t: pa.Table, tids: np.ndarray, h: np.ndarray) -> None:
        self._size(int(tids.max()) + 1)
        self.parts.append(t)
        self.tids.append(tids)
        self.hashes.append(h)
        self.kept += np.bincount(tids, minlength=len(self.kept))
        over = np.flatnonzero(self.kept > MAX_ROWS)
        if len(over):
            self._thin(over)

    def _live(self, tids: np.ndarray, h: np.ndarray) -> np.ndarray:
        return (h % self.stride[tids].astype(np.uint64)) == 0

    def _thin(self, over: np.ndarray) -> None:
        """Thin the templates past their cap until they fit (a subset of what was kept)."""
        while len(over):
            self.stride[over] *= 4
            tids, h = np.concatenate(self.tids), np.concatenate(self.hashes)
            self.kept = np.bincount(tids[self._live(tids, h)], minlength=len(self.kept))
            over = np.flatnonzero(self.kept > MAX_ROWS)
        if sum(len(x) for x in self.tids) > 2 * int(self.kept.sum()) + MAX_ROWS:
            self._compact()

    def _compact(self) -> None:
        """Drop the rows thinning left behind, and join the pieces."""
        if not self.parts:
            return
        tids, h = np.concatenate(self.tids), np.concatenate(self.hashes)
        live = self._live(tids, h)
        whole = pa.concat_tables(self.parts)
        if not live.all():
            whole = whole.filter(pa.array(live))
        self.parts, self.tids, self.hashes = [whole], [tids[live]], [h[live]]

    def merge(self, other: GaugeRows, remap: np.ndarray) -> None:
        """Fold another unit's rows in, its template ids translated by ``remap``."""
        other._compact()
        for t, tids, h in zip(other.parts, other.tids, other.hashes, strict=True):
            mapped = remap[tids].astype(np.int64)
            self._size(int(mapped.max()) + 1 if len(mapped) else 0)
            stride = np.maximum(self.stride[mapped], other.stride[tids])
            keep = (h % stride.astype(np.uint64)) == 0
            if keep.any():
                self._append(t.filter(pa.array(keep)), mapped[keep], h[keep])

    def tables(self) -> dict[int, pa.Table]:
        """Kept rows per template id, in time order."""
        self._compact()
        if not self.parts or not self.parts[0].num_rows:
            return {}
        # one chunk (taking rows from many chunks joins them on every take), kept as
        # the state so that no second copy lives beside it
        whole = self.parts[0] = self.parts[0].combine_chunks()
        # the order from the sort keys alone, then each template's rows taken from the
        # kept rows: a sorted copy of every message beside a cast copy of them was the
        # analysis' peak on many-template evidence (publicmix bench: 25 MiB of rows)
        keys = pa.table({"tid": pa.array(self.tids[0]), "ts": whole["ts"],
                         "source": whole["source"].cast(pa.string()), "line": whole["line"]})
        order = pc.sort_indices(keys, sort_keys=[("tid", "ascending"), ("ts", "ascending"),
                                                 ("source", "ascending"),
                                                 ("line", "ascending")])
        del keys
        tids = self.tids[0][order.to_numpy()]
        cuts = np.flatnonzero(np.r_[True, tids[1:] != tids[:-1], True])
        out = {}
        for a, b in itertools.pairwise(cuts):
            rows = whole.take(order.slice(a, b - a))
            out[int(tids[a])] = pa.table({"source": rows["source"].cast(pa.string()),
                                          "line": rows["line"], "ts": rows["ts"],
                                          "message": rows["message"].cast(pa.string())})
        return out


def shift(rows: GaugeRows, path: str, delta: int) -> None:
    """Line numbers of ``path`` move by ``delta`` (a unit that started mid-file); the
    hashes stay those of the lines as first read, so thinning stays a subset."""
    out = []
    for t in rows.parts:
        hit = pc.equal(t["source"].cast(pa.string()), path)
        out.append(t.set_column(t.schema.get_field_index("line"), "line",
                                pc.if_else(hit, pc.add(t["line"], delta), t["line"])))
    rows.parts = out
