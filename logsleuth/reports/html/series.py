"""Scan tables reduced to the few thousand points a browser draws quickly.

Everything here is vectorised over Arrow/numpy columns: counts go through
``np.bincount`` on a shared time grid, long series keep each bin's extremes.
A report of a 1 GiB input therefore stays a few hundred KB of data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min
STEPS_MS = tuple(s * 1000 for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                    7200, 10800, 21600, 43200, 86400))
MAX_BINS = 720  # bars per lane
MAX_POINTS = 2000  # points per scatter/line trace


@dataclass(frozen=True, slots=True)
class Grid:
    """Equal time bins ``[start + i*width, start + (i+1)*width)``, epoch ms UTC."""

    start_ms: int
    width_ms: int
    n: int

    def index(self, ms: np.ndarray) -> np.ndarray:
        """Bin of each time; -1 for missing times or times outside the grid."""
        idx = (ms - self.start_ms) // self.width_ms
        bad = (ms == NAT) | (idx < 0) | (idx >= self.n)
        return np.where(bad, -1, idx)

    def centers(self) -> np.ndarray:
        return ms_to_dt(self.start_ms + self.width_ms * np.arange(self.n) + self.width_ms // 2)

    def at_least(self, width_ms: int) -> Grid:
        """The same span with bins no finer than ``width_ms`` (e.g. per-minute data)."""
        if self.width_ms >= width_ms:
            return self
        return make_grid(self.start_ms, self.start_ms + self.n * self.width_ms, width_ms)


def make_grid(lo_ms: int, hi_ms: int, floor_ms: int = 1000, max_bins: int = MAX_BINS) -> Grid:
    """The finest step of ``STEPS_MS`` that covers ``[lo, hi]`` in at most ``max_bins`` bins."""
    span = max(hi_ms - lo_ms, 1)
    width = next((s for s in STEPS_MS if s >= floor_ms and span / s <= max_bins), None)
    if width is None:
        width = int(np.ceil(span / max_bins / 86_400_000)) * 86_400_000
    start = lo_ms - lo_ms % width
    n = int((hi_ms - start) // width) + 1
    return Grid(start, width, n)


def ms_to_dt(ms: np.ndarray | list[int]) -> np.ndarray:
    return np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")


def column_ms(table: pa.Table, name: str = "ts") -> np.ndarray:
    """A timestamp (or epoch-ms integer) column as int64 ms, ``NAT`` where null."""
    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("ms", tz=col.type.tz))
        col = pc.cast(col, pa.int64())
    elif not pa.types.is_integer(col.type):
        return np.full(table.num_rows, NAT, dtype=np.int64)
    return pc.fill_null(pc.cast(col, pa.int64()), NAT).to_numpy()


def codes(table: pa.Table, name: str, missing: str = "(none)") -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels of a string/dictionary column (nulls get ``missing``)."""
    col = table.column(name)
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(pc.cast(col, pa.string()))
    if isinstance(col, pa.ChunkedArray):
        col = pa.table({"c": col}).unify_dictionaries().column(0)
        col = col.combine_chunks() if col.num_chunks else pa.array([], col.type)
    arr = col
    labels = [str(v) for v in pc.cast(arr.dictionary, pa.string()).to_pylist()]
    idx = pc.fill_null(pc.cast(arr.indices, pa.int64()), len(labels)).to_numpy()
    return idx, [*labels, missing]


def count_by(grid: Grid, ms: np.ndarray, keys: np.ndarray, labels: list[str],
             weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-bin counts for every label that occurs, in label order."""
    b = grid.index(ms)
    ok = b >= 0
    k = len(labels)
    flat = np.bincount(keys[ok] * grid.n + b[ok], minlength=k * grid.n,
                       weights=None if weights is None else weights[ok])
    mat = flat.reshape(k, grid.n)
    return {labels[i]: mat[i].astype(np.int64) for i in range(k) if mat[i].any()}


def time_span(tables: dict[str, pa.Table], extra_ms: list[int]) -> tuple[int, int] | None:
    """Earliest and latest known time over every table with a ``ts``/``minute`` column."""
    lo, hi = [], []
    for t in tables.values():
        for name in ("ts", "minute"):
            if name in t.column_names and t.num_rows:
                ms = column_ms(t, name)
                ms = ms[ms != NAT]
                if len(ms):
                    lo.append(int(ms.min()))
                    hi.append(int(ms.max()))
                break
    lo += extra_ms
    hi += extra_ms
    return (min(lo), max(hi)) if lo else None


def extremes(ms: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Row indices (time ordered) keeping each bin's minimum and maximum value.

    A line through these points has the same envelope as the full series.
    """
    order = np.argsort(ms, kind="stable")
    if len(order) <= max_points:
        return order
    ms, values = ms[order], values[order]
    width = (int(ms[-1]) - int(ms[0])) // (max_points // 2) + 1
    b = (ms - ms[0]) // width
    o = np.lexsort((values, b))
    _, first = np.unique(b[o], return_index=True)
    last = np.r_[first[1:] - 1, len(o) - 1]
    keep = np.unique(np.concatenate([o[first], o[last]]))
    return order[keep]


def top_per_bin(ms: np.ndarray, values: np.ndarray, group: np.ndarray,
                max_points: int = MAX_POINTS) -> np.ndarray:
    """Row indices keeping the largest value per (bin, group) when there are too many rows."""
    ok = np.flatnonzero((ms != NAT) & ~np.isnan(values))
    if len(ok) <= max_points:
        return ok
    lo, hi = int(ms[ok].min()), int(ms[ok].max())
    width = max(1, (hi - lo) // (max_points // 2) + 1)
    b = (ms[ok] - lo) // width
    o = np.lexsort((-values[ok], group[ok], b))
    key = b[o] * 4 + group[ok][o]
    _, first = np.unique(key, return_index=True)
    return np.sort(ok[o[first]])
