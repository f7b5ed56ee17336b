"""What a watcher keeps of old evidence, so its memory (and its state file) stay bounded
over days of input.

The rule, by age against the newest record read (``evidence_ms``):

- **younger than ``FINE`` (6 h)**: everything exactly as scan keeps it, so a watch over
  less than 6 h of evidence gives exactly what a scan gives;
- **6 h to ``COARSE`` (7 days)**: per minute. Template and exception counts are summed
  per (minute, template) and placed at the minute's middle; warning/error rows keep the
  first row of each (class, minute) with the count of the rows it stands for; gauge
  samples keep, per (source, metric, minute), the lowest, the highest and the last
  sample (a leak's slope, an after-GC floor and a ceiling reached all survive);
- **7 to ``ANCIENT`` (30) days**: the same, per hour;
- **older than 30 days**: the same, per day (per hour the state still grew by ~24 keys
  a log day per template, class, level and gauge: ~0.8 MiB of RSS a log day on the
  30-day bench; per day it is 24 times less);
- **detail tables** (GC events, safepoints, thread states, requests, nginx errors): the
  newest ``MAX_DETAIL_ROWS`` rows each (by their order of reading): what the timeline
  reads of them is the neighbourhood of a failure. Findings, gauges and counts made
  from them are kept above. (By count, not age: few rows cost nothing, and the logs of
  real hosts jump in time: an old file read late, a clock set back);
- **threshold rules**' per-second counts: recent ones whole; of the older ones only the
  busiest window, so a threshold once reached stays reached;
- the template miner's message cache is cleared past ``MAX_SHAPES`` entries (a cache:
  templates and their ids stay);
- records per (source, minute, level) older than ``COARSE``: per hour (they were the
  state's steepest growth: ~4,600 keys and ~0.75 MiB per log day on the 30-day bench,
  as Python tuples);
- each finding's matches per minute older than ``COARSE``: per hour, kept apart from
  its minutes with the busiest folded minute, so its peak per minute stays exact (a
  record read late into a minute already folded is counted, but not in that peak).

Applied at most once per ``EVERY`` of evidence time; its cost is a pass over the old
aggregates, which the rule itself keeps small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FINE_MS = 6 * 3_600_000
COARSE_MS = 7 * 86_400_000
ANCIENT_MS = 30 * 86_400_000
MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
EVERY_MS = 10 * 60_000
MAX_DETAIL_ROWS = 200_000
MAX_SHAPES = 200_000


def _width(ms: np.ndarray, coarse_cut: int, ancient_cut: int | None = None) -> np.ndarray:
    """The bucket each instant is kept in: a minute, an hour before ``coarse_cut``, a day
    before ``ancient_cut`` (days are whole UTC days: a day's hours fold into it)."""
    w = np.where(ms < coarse_cut, HOUR_MS, MINUTE_MS)
    return w if ancient_cut is None else np.where(ms < ancient_cut, DAY_MS, w)


def coarsen_counts(counts: Any, fine_cut: int, coarse_cut: int,
                   ancient_cut: int | None = None) -> None:
    """``_KeyCounts`` buckets older than ``fine_cut`` summed per minute (per hour before
    ``coarse_cut``, per day before ``ancient_cut``), at the bucket's middle; idempotent."""
    from logsleuth.engine.analysis import _ID_MASK, _KEY_BITS, _count_keys

    counts.compact()
    for width, level in counts.levels.items():
        keys, cnt = level.whole()
        if not len(keys):
            continue
        ms = (keys >> _KEY_BITS) * width
        old = ms < fine_cut
        if not old.any():
            continue
        w = _width(ms, coarse_cut, ancient_cut)
        moved = np.where(old, ms - ms % w + w // 2, ms) // width
        uniq, sums = _count_keys(moved, keys & _ID_MASK, cnt.astype(np.float64))
        level.keys, level.counts = [uniq], [sums.astype(np.int64)]
        level.runs, level.pending, level.compacted = 1, 0, len(uniq)


def coarsen_levels(levels: Any, coarse_cut: int, ancient_cut: int | None = None) -> None:
    """``LevelCounts`` minutes older than ``coarse_cut`` summed per hour (per day before
    ``ancient_cut``), at the bucket's middle minute (where they stay: idempotent).
    Counted per second, they are few (short evidence) and stay as they are."""
    if levels.bucket_ms < MINUTE_MS:
        return

    def middle(ms: np.ndarray) -> np.ndarray:
        w = (np.where(ms < ancient_cut, DAY_MS, HOUR_MS) if ancient_cut is not None
             else np.full(len(ms), HOUR_MS, np.int64))
        return np.where(ms < coarse_cut, ms - ms % w + w // 2, ms)

    levels.regroup_minutes(middle)


def _groups(cols: list[pa.Array], bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group id per row of (columns..., bucket), and the first row of each group."""
    from logsleuth.engine.analysis import _codes

    key = np.zeros(len(bucket), np.int64)
    for col in cols:
        c, values = _codes(col)
        key = key * len(values) + c
    _, first, inverse = np.unique(np.stack([key, bucket]), axis=1, return_index=True,
                                  return_inverse=True)
    return inverse.ravel(), first


def coarsen_notable(table: pa.Table, fine_cut: int, coarse_cut: int,
                    ancient_cut: int | None = None) -> pa.Table:
    """Warning/error rows older than ``fine_cut``: the first of each (class, minute) or
    (class, hour), with the summed ``count``; the recent rows as they are."""
    if not table.num_rows:
        return table
    ms = table["ts"].cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    old = ms < fine_cut
    if not old.any():
        return table
    cls = ["source", "level", "exception", "root_exception"]
    part = table.filter(pa.array(old)).combine_chunks()
    pms = ms[old]
    gid, first = _groups([part[c].combine_chunks() for c in cls],
                         pms // _width(pms, coarse_cut, ancient_cut))
    sums = np.bincount(gid, weights=part["count"].to_numpy().astype(np.float64))
    order = np.sort(first)  # record order kept
    kept = part.take(pa.array(order))
    kept = kept.set_column(kept.schema.get_field_index("count"), "count",
                           pa.array(sums[gid[order]].astype(np.int64)))
    return pa.concat_tables([kept, table.filter(pa.array(~old))],
                            promote_options="permissive")


def coarsen_metrics(table: pa.Table, fine_cut: int, coarse_cut: int,
                    ancient_cut: int | None = None) -> pa.Table:
    """Gauge samples older than ``fine_cut``: per (source, metric, origin, minute/hour) the
    lowest, the highest and the last; limits (ceilings) as they are."""
    if not table.num_rows:
        return table
    ms = table["ts"].cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    old = (ms < fine_cut) & (pc.not_equal(table["origin"], "limit")
                             .fill_null(True).to_numpy(zero_copy_only=False))
    if not old.any():
        return table
    part = table.filter(pa.array(old)).combine_chunks()
    pms = ms[old]
    gid, _ = _groups([part[c].combine_chunks() for c in ("source", "metric", "origin")],
                     pms // _width(pms, coarse_cut, ancient_cut))
    value = part["value"].to_numpy(zero_copy_only=False)
    keep = np.zeros(len(gid), bool)
    for by in (value, -value, pms):  # lowest, highest, last per group
        order = np.lexsort((by, gid))
        ends = np.flatnonzero(np.r_[gid[order][1:] != gid[order][:-1], True])
        keep[order[ends]] = True
    kept = part.filter(pa.array(keep))
    return pa.concat_tables([kept, table.filter(pa.array(~old))],
                            promote_options="permissive")


def trim_seconds(group: Any, fine_cut: int) -> None:
    """A threshold rule's old per-second counts: only its busiest window stays."""
    rule = group.rule
    if rule.threshold is None or not group.seconds:
        return
    cut = fine_cut // 1000
    old = sorted((s, n) for s, n in group.seconds.items() if s < cut)
    if len(old) < 2:
        return
    width = max(1, int(rule.threshold.window_s))
    best, total, lo, at = -1, 0, 0, 0
    for i, (t, n) in enumerate(old):
        total += n
        while old[lo][0] <= t - width:
            total -= old[lo][1]
            lo += 1
        if total > best:
            best, at = total, i
    keep = {s for s, _ in old if old[at][0] - width < s <= old[at][0]}
    for s, _ in old:
        if s not in keep:
            del group.seconds[s]


def trim_detail(parts: list[pa.Table], cap: int) -> list[pa.Table]:
    """A detail table: the ``cap`` rows read last."""
    parts = [t for t in parts if t.num_rows]
    if sum(t.num_rows for t in parts) <= cap:
        return parts
    t = pa.concat_tables(parts, promote_options="permissive")
    return [t.slice(t.num_rows - cap)]


@dataclass
class Retention:
    """Applies the rule above to a ``RunningAnalysis``."""

    fine_ms: int = FINE_MS
    coarse_ms: int = COARSE_MS
    ancient_ms: int = ANCIENT_MS
    every_ms: int = EVERY_MS
    max_detail_rows: int = MAX_DETAIL_ROWS
    last_ms: int | None = None  # evidence time of the last application

    def apply(self, run: Any, force: bool = False) -> bool:
        """Coarsen what aged since the last time; False when it was not due."""
        now = run.evidence_ms
        if now is None or (not force and self.last_ms is not None
                           and now - self.last_ms < self.every_ms):
            return False
        self.last_ms = now
        fine, coarse, ancient = now - self.fine_ms, now - self.coarse_ms, now - self.ancient_ms
        studied = run.running.get("analysis")
        if studied is not None:
            coarsen_counts(studied.template_counts, fine, coarse, ancient)
            coarsen_counts(studied.class_counts, fine, coarse, ancient)
            studied._keep_notable()
            if studied.notable:
                whole = pa.concat_tables(studied.notable, promote_options="permissive")
                studied.notable = [coarsen_notable(whole, fine, coarse, ancient)]
                studied.notable_rows = studied.notable[0].num_rows
            if len(studied.miner._cache) > MAX_SHAPES:
                studied.miner._cache.clear()
        levels = run.running.get("levels")
        if levels is not None:
            coarsen_levels(levels, coarse, ancient)
        rules = run.running.get("rules")
        if rules is not None:
            for g in rules.aggregator._groups.values():
                trim_seconds(g, fine)
                g.fold_minutes(coarse, ancient)
        metrics = run.running.get("metrics")
        if metrics is not None:
            metrics._flush()
            if metrics.parts:
                metrics.parts = [coarsen_metrics(pa.concat_tables(metrics.parts), fine, coarse,
                                                 ancient)]
        dumps = run.running.get("dumps")
        if dumps is not None:
            dumps.parts = {k: trim_detail(v, self.max_detail_rows)
                           for k, v in dumps.parts.items()}
        for name, parts in list(run.evidence_tables.items()):
            if name == "metrics":
                if parts:
                    parts[:] = [coarsen_metrics(pa.concat_tables(
                        parts, promote_options="permissive"), fine, coarse, ancient)]
            else:
                run.evidence_tables[name] = trim_detail(parts, self.max_detail_rows)
        return True

    def to_json(self) -> dict[str, Any]:
        return {"last_ms": self.last_ms}

    def restore(self, data: dict[str, Any]) -> None:
        self.last_ms = data.get("last_ms")
