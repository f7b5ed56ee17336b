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
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def bounded_series(table: pa.Table, max_samples: int | None = None) -> pa.Table:
    """``table`` (the ``metrics`` schema) with every long gauge series thinned by the rule."""
    max_samples = MAX_SAMPLES if max_samples is None else max_samples
    if table.num_rows <= max_samples:
        return table
    from logsleuth.timeline.resources import AFTER_GC

    source, _ = _codes(table["source"])
    metric, names = _codes(table["metric"])
    gauge = pc.fill_null(pc.equal(table["origin"], "gauge"), False).to_numpy(
        zero_copy_only=False) if "origin" in table.column_names else np.ones(
        table.num_rows, bool)
    whole = [i for i, name in enumerate(names) if name in AFTER_GC]
    series = np.where(gauge & ~np.isin(metric, whole),
                      (source + 1) * (len(names) + 1) + metric + 1, -1)
    sizes = np.bincount(series[series >= 0]) if (series >= 0).any() else np.zeros(0, np.int64)
    long = np.flatnonzero(sizes > max_samples)
    if not len(long):
        return table
    ts = table["ts"].cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
    keep = np.ones(table.num_rows, bool)
    for s in long.tolist():
        rows = np.flatnonzero(series == s)
        rows = rows[np.argsort(ts[rows], kind="stable")]  # ties keep their line order
        t = ts[rows]
        width = thinned_width(t, max_samples)
        b = t // width
        keep[rows[np.r_[b[1:] != b[:-1], True] == 0]] = False  # all but each bucket's last
    return table.filter(pa.array(keep))
