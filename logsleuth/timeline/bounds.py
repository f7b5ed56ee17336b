"""Gauge series as the leak analysis reads them: bounded whatever the evidence's span.

Why: a monitor line every second is 86,400 samples a day, and every step of the
leak analysis (after-GC floors, regimes, ceilings, attribution, root-cause ranking)
used to copy the whole series into pandas several times: on the 10 GiB benchmark
(20 days of logs) that was most of the memory growth. The analysis never needs
that resolution: regimes work on at most ``regimes.MAX_BINS`` bins and attribution
on at most ``attribution.MAX_WINDOWS`` windows of several samples.

The rule: a gauge series (one ``source``, ``metric``, ``origin="gauge"``) of more
than ``MAX_SAMPLES`` samples keeps its last sample per time bucket, with the bucket
the finest of 1 s, 2 s, 4 s, ... (epoch-aligned) at which it has at most
``MAX_SAMPLES``. The last sample of each bucket keeps the increments between
buckets exact (they telescope), which is what the trend and the attribution read.
Values from failure messages, ceilings and after-GC gauges (whose floor is a
minimum over later samples) are kept whole. Shorter series are untouched, so
evidence of up to ~3 days of 1 Hz samples is analysed exactly as before.

Applied while reading (``StreamingBound``, used by the metrics collector), the rule
gives the same rows: a series is thinned as soon as what is held of it passes
``MAX_SAMPLES`` (the whole series then does too), at the width the rule gives for what
is held. Widths are epoch-aligned doublings, so the last sample of a coarser bucket is
the last of one of its finer buckets, and more samples only make the width coarser:
the width remembered per series is a floor, and the end of the scan thins every
series that has one from there. What is held stays near ``MAX_SAMPLES`` per series
instead of growing with the span (10 GiB bench: 1.7 M rows, 152 MiB, were kept whole).
Gauge discovery must still know which lines a definition read (``_declared`` in
``timeline.scan``): the lines of the thinned-away rows are kept, delta-encoded
(``ThinnedLines``, one or two bytes a row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd

MAX_SAMPLES = 1 << 18  # per gauge series: 3 days of 1 Hz samples


def _codes(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[object]]:
    """A small integer per distinct value (nulls: -1) and the values they stand for."""
    enc = pc.dictionary_encode(col.combine_chunks() if isinstance(col, pa.ChunkedArray)
                               else col)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, enc.dictionary.to_pylist()


def thinned_width(ts: np.ndarray, max_samples: int | None = None) -> int:
    """The bucket (ms) of the rule for one series' sorted epoch ms: 0 when it fits whole."""
    max_samples = MAX_SAMPLES if max_samples is None else max_samples
    if len(ts) <= max_samples:
        return 0
    width = 1000
    while np.count_nonzero(np.diff(ts // width)) + 1 > max_samples:
        width *= 2
    return width


def _series(table: pa.Table) -> tuple[np.ndarray, list[object], list[object]]:
    """A series code per row (-1: not thinned by the rule), the sources and the metric
    names the codes are made of (``_key``)."""
    from logsleuth.timeline.resources import AFTER_GC

    source, sources = _codes(table["source"])
    metric, names = _codes(table["metric"])
    gauge = pc.fill_null(pc.equal(table["origin"], "gauge"), False).to_numpy(
        zero_copy_only=False) if "origin" in table.column_names else np.ones(
        table.num_rows, bool)
    whole = [i for i, name in enumerate(names) if name in AFTER_GC]
    series = np.where(gauge & ~np.isin(metric, whole),
                      (source + 1) * (len(names) + 1) + metric + 1, -1)
    return series, sources, names


def _key(code: int, sources: list[object], names: list[object]) -> tuple[str, str]:
    s, m = divmod(code, len(names) + 1)
    return str(sources[s - 1]), str(names[m - 1])


def _width_from(t: np.ndarray, max_samples: int, width: int) -> int:
    while np.count_nonzero(np.diff(t // width)) + 1 > max_samples:
        width *= 2
    return width


Dropped = dict[tuple[str, str], np.ndarray]  # (source, metric) -> rows thinned away


def _keep(table: pa.Table, max_samples: int, floors: dict[tuple[str, str], int] | None = None,
          final: bool = True) -> tuple[np.ndarray | None, dict[tuple[str, str], int], Dropped]:
    """Rows the rule keeps (None: all), the width each thinned series got and the rows it
    dropped of each. A series is thinned when it holds more than ``max_samples`` rows, or
    (``final``) when it has a floor in ``floors`` (it was thinned before); its width
    starts at its floor."""
    floors = floors or {}
    series, sources, names = _series(table)
    sizes = np.bincount(series[series >= 0]) if (series >= 0).any() else np.zeros(0, np.int64)
    todo = [s for s in np.flatnonzero(sizes).tolist()
            if sizes[s] > max_samples or (final and _key(s, sources, names) in floors)]
    if not todo:
        return None, {}, {}
    ts = table["ts"].cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
    keep = np.ones(table.num_rows, bool)
    widths: dict[tuple[str, str], int] = {}
    dropped: Dropped = {}
    for s in todo:
        key = _key(s, sources, names)
        rows = np.flatnonzero(series == s)
        rows = rows[np.argsort(ts[rows], kind="stable")]  # ties keep their line order
        t = ts[rows]
        width = widths[key] = _width_from(t, max_samples, floors.get(key, 1000))
        b = t // width
        gone = rows[np.r_[b[1:] != b[:-1], True] == 0]  # all but each bucket's last
        keep[gone] = False
        if len(gone):
            dropped[key] = gone
    return keep, widths, dropped


def bounded_series(table: pa.Table, max_samples: int | None = None) -> pa.Table:
    """``table`` (the ``metrics`` schema) with every long gauge series thinned by the rule."""
    max_samples = MAX_SAMPLES if max_samples is None else max_samples
    if table.num_rows <= max_samples:
        return table
    keep, _, _ = _keep(table, max_samples)
    return table if keep is None else table.filter(pa.array(keep))


class ThinnedLines:
    """Line numbers of the rows a streaming bound dropped, per (source, metric): sorted
    and delta-encoded in the smallest unsigned type that holds the gaps (a 1 Hz monitor
    among busy logs: one or two bytes a row), for ``_declared`` in ``timeline.scan``."""

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: dict[tuple[str, str], list[tuple[int, np.ndarray]]] = {}

    def add(self, key: tuple[str, str], lines: np.ndarray) -> None:
        lines = np.unique(lines)
        if not len(lines):
            return
        gaps = np.diff(lines)
        top = int(gaps.max()) if len(gaps) else 0
        kind = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                    if top <= np.iinfo(t).max)
        self.chunks.setdefault(key, []).append((int(lines[0]), gaps.astype(kind)))

    def merge(self, other: ThinnedLines) -> None:
        for key, chunks in other.chunks.items():
            self.chunks.setdefault(key, []).extend(chunks)

    def shift(self, path: str, delta: int) -> None:
        for (source, _), chunks in self.chunks.items():
            if source == path:
                chunks[:] = [(first + delta, gaps) for first, gaps in chunks]

    def rows(self) -> int:
        return sum(len(g) + 1 for chunks in self.chunks.values() for _, g in chunks)

    def nbytes(self) -> int:
        return sum(g.nbytes + 8 for chunks in self.chunks.values() for _, g in chunks)

    def among(self, lines: np.ndarray) -> pd.DataFrame:
        """``source, line, metric`` of the dropped rows whose line is in ``lines``."""
        import pandas as pd

        src: list[str] = []
        met: list[str] = []
        out: list[np.ndarray] = []
        for (source, metric), chunks in self.chunks.items():
            for first, gaps in chunks:
                mine = first + np.r_[0, np.cumsum(gaps, dtype=np.int64)]
                hit = mine[np.isin(mine, lines)]
                out.append(hit)
                src.extend([source] * len(hit))
                met.extend([metric] * len(hit))
        return pd.DataFrame({"source": pd.Series(src, dtype=object),
                             "line": np.concatenate(out) if out else np.zeros(0, np.int64),
                             "metric": pd.Series(met, dtype=object)})


class StreamingBound:
    """The rule applied while a collector reads: ``reduce`` the parts it holds whenever
    they pass ``MAX_SAMPLES`` rows (amortised: again once a quarter of it has arrived),
    and with ``final`` at the end. The result is ``bounded_series`` of every row read
    (module doc); the floors and the thinned lines merge with another unit's."""

    __slots__ = ("check_at", "floors", "lines")

    def __init__(self) -> None:
        self.floors: dict[tuple[str, str], int] = {}  # series -> width it was thinned to
        self.lines = ThinnedLines()
        self.check_at = 0  # held rows past which ``reduce`` looks again

    def due(self, parts: list[pa.Table], final: bool = False) -> bool:
        """Whether ``reduce`` would look at ``parts`` (and join them into one table)."""
        rows = sum(t.num_rows for t in parts)
        if not parts:
            return False
        if final:
            return bool(self.floors) or rows > MAX_SAMPLES
        return rows > max(self.check_at, MAX_SAMPLES)

    def reduce(self, parts: list[pa.Table], final: bool = False) -> list[pa.Table]:
        if not self.due(parts, final):
            return parts
        limit = MAX_SAMPLES
        whole = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 \
            else parts[0]
        keep, widths, dropped = _keep(whole, limit, self.floors, final)
        self.floors.update(widths)  # a width only grows: it started at the floor
        if keep is not None:
            lines = whole["line"].cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
            for key, gone in dropped.items():
                self.lines.add(key, lines[gone])
            whole = whole.filter(pa.array(keep))
        self.check_at = whole.num_rows + limit // 4
        return [whole]

    def merge(self, other: StreamingBound) -> None:
        for key, width in other.floors.items():
            self.floors[key] = max(width, self.floors.get(key, 0))
        self.lines.merge(other.lines)

    def shift(self, path: str, delta: int) -> None:
        self.lines.shift(path, delta)
