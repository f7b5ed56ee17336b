"""The streaming side of incident analysis: what the timeline needs, kept small.

Per batch: message templates are mined (vectorised), and template counts are
kept per (time, template): exact to the millisecond while they are few, then per
100 ms, then per second once there are more than ``EXACT_KEYS`` (long evidence has
windows wide enough for that), which is what leak attribution regresses against.
Past ``MAX_KEYS`` (time, template) keys the bucket doubles (2 s, 4 s, 8 s, ...)
until they fit, so the counts' memory is bounded whatever the evidence's span.
Warning, error and exception records are kept per (source, level, exception
classes, second): the first record of each with a ``count`` of the records it
stands for. Onset, symptoms, precursors and root-cause ranking read that: their
10 s burst windows and minute rates nest in seconds, and the first record of a
class is the first of its first second, so they come out as from every row.
Memory is bounded: at most ``MAX_KEYS`` counts per unit and per scan, and at most
``MAX_NOTABLE_ROWS`` warning/error rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.applog import ChunkBatch
from logsleuth.engine.gaugerows import GaugeRows
from logsleuth.engine.gaugerows import shift as shift_gauge_rows
from logsleuth.model import EvidenceResult, Kind

EXACT_KEYS = 300_000  # (ms, template) keys kept before time is bucketed per second
# (bucket, template) keys at 1 s or coarser: past it the bucket doubles until they fit.
# The result is the finest width of 1 s, 2 s, 4 s, ... at which the *whole scan* has at
# most MAX_KEYS keys, however the input was cut into units (a unit's keys are a subset
# of the scan's, so no unit goes coarser than the scan does). >= EXACT_KEYS.
MAX_KEYS = 1 << 20  # 16 MiB of counts; the 1 GiB bench (2 days) has 0.54 M keys at 1 s
COARSEN = 2  # factor between successive bucket widths past 1 s
MAX_NOTABLE_ROWS = 400_000  # (class, second) rows of warnings/errors; beyond, counted only
MAX_SHAPES = 200_000  # message shapes remembered; beyond, new shapes ask the miner each time
NOTABLE_RES_MS = 1000  # warning/error records are grouped per second
NOTABLE_BATCH_ROWS = 20_000  # warning/error rows gathered across chunks before grouping
_KEY_BITS = 20  # template id bits in the key; epoch ms needs 41 of the other 43
# bins of a dense count at most (8 B each): merging a scan's million keys of sparse spans
# went dense over 8x as many bins, a 77 MiB transient in the parent (4 GiB bench)
DENSE_MAX_BINS = 1 << 21
_ID_MASK = (1 << _KEY_BITS) - 1
_HEX_TO_ZERO = bytes.maketrans(b"123456789abcdefABCDEF", b"0" * 21)
_NOTABLE_LEVELS = pa.array(["WARN", "WARNING", "ERROR", "SEVERE", "FATAL", "CRITICAL"])
# what the timeline reads of warning/error rows (thread, logger and frames are not)
_NOTABLE_COLS = ("source", "line", "ts", "level", "message", "exception", "root_exception")
_CLASS_COLS = ("source", "level", "exception", "root_exception")


def _count_keys(bucket: np.ndarray, ids: np.ndarray,
                weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``bucket << _KEY_BITS | id`` keys (sorted) and their counts or summed weights.

    A chunk spans minutes and a few templates, so a dense ``bincount`` over
    (bucket, id) replaces sorting every event (2-4 ms per chunk) when the bins are
    few against the events; merged partials at 1 s buckets take the same path.
    """
    if len(ids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, width = int(bucket.min()), int(ids.max()) + 1
    span = int(bucket.max()) - lo + 1
    if span * width <= min(max(8 * len(ids), 1 << 16), DENSE_MAX_BINS):  # beats a sort
        dense = np.bincount((bucket - lo) * width + ids, weights=weights,
                            minlength=span * width)
        at = np.flatnonzero(dense)
        return (at // width + lo) << _KEY_BITS | at % width, dense[at].astype(np.int64)
    keys = bucket << _KEY_BITS | ids
    if weights is None:
        return np.unique(keys, return_counts=True)
    if len(keys) > 1 and not (keys[1:] >= keys[:-1]).all():
        # pieces arrive in time order: a stable (run-adaptive) sort is near linear
        order = np.argsort(keys, kind="stable")
        keys, weights = keys[order], weights[order]
    starts = _run_starts(keys)
    return keys[starts], np.add.reduceat(weights, starts)


REBUCKET_BLOCK = 1 << 17  # keys re-bucketed at a time


def _rebucket(keys: np.ndarray, counts: np.ndarray,
              factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (bucket, id) keys and their counts at ``factor`` times the bucket width.

    Block by block, each cut where a new bucket starts, so no key straddles two blocks
    and the result is what one pass gives: the temporaries of a pass over a million
    keys (buckets, ids, dense bins or a sort, 40-60 MiB) were the parent's peak while
    it merged the 10 GiB bench's units; a block's are ~2 MiB.
    """
    if len(keys) <= REBUCKET_BLOCK:
        return _count_keys((keys >> _KEY_BITS) // factor, keys & _ID_MASK, counts)
    keys_out: list[np.ndarray] = []
    counts_out: list[np.ndarray] = []
    start = 0
    while start < len(keys):
        stop = min(start + REBUCKET_BLOCK, len(keys))
        if stop < len(keys):  # back to where the last key's new bucket begins
            last = (int(keys[stop - 1]) >> _KEY_BITS) // factor
            first_key = (last * factor) << _KEY_BITS
            stop = max(int(np.searchsorted(keys[start:stop], first_key)) + start, start + 1)
            if stop == start + 1 and (int(keys[start]) >> _KEY_BITS) // factor == last:
                # one new bucket holds the whole block: run to its end
                stop = int(np.searchsorted(keys, ((last + 1) * factor) << _KEY_BITS))
        part = keys[start:stop]
        k, c = _count_keys((part >> _KEY_BITS) // factor, part & _ID_MASK, counts[start:stop])
        keys_out.append(k)
        counts_out.append(c)
        start = stop
    return np.concatenate(keys_out), np.concatenate(counts_out)


def _run_starts(keys: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _sum_repeats(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys made distinct, the counts of repeats added to the first of each run.

    Compacted pieces of consecutive units repeat only the keys of the seconds they
    share, so the repeats are found as a short list: no index of every run start
    (8 B a key) is made beside the million keys the parent compacts at a time.
    """
    rep = np.flatnonzero(keys[1:] == keys[:-1]) + 1  # the second, third... of a run
    if not len(rep):
        return keys, counts
    counts = counts.copy() if not counts.flags.writeable else counts
    brk = np.r_[True, rep[1:] != rep[:-1] + 1]  # a run of repeats begins
    first = rep[np.maximum.accumulate(np.where(brk, np.arange(len(rep)), 0))] - 1
    np.add.at(counts, first, counts[rep])
    keep = np.ones(len(keys), bool)
    keep[rep] = False
    keys = keys[keep]
    return keys, counts[keep]


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal consecutive keys and their lengths: a chunk's events come in time
    order, so this is nearly ``unique`` without sorting (repeats a compaction sums)."""
    starts = _run_starts(keys)
    return keys[starts], np.diff(np.r_[starts, len(keys)])


def _epoch_ms(ts: pa.Array) -> np.ndarray:
    """Epoch ms per row, -1 where missing: a view of the buffer when nothing is."""
    if ts.null_count == 0:
        return np.frombuffer(ts.buffers()[1], np.int64, len(ts), ts.offset * 8)
    return ts.cast(pa.int64()).fill_null(-1).to_numpy()


def _indices(arr: pa.Array) -> np.ndarray:
    """Dictionary indices (or any integers) per row, -1 where null; a view when none is."""
    if arr.null_count == 0:
        return arr.to_numpy()
    return arr.fill_null(-1).to_numpy(zero_copy_only=False)


def _codes(col: pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Code per row (0 for null) and the values the codes stand for; nothing is encoded
    when the column holds nothing (warnings alone)."""
    if col.null_count == len(col):
        return np.zeros(len(col), np.int64), [None]
    enc = col if isinstance(col, pa.DictionaryArray) else pc.dictionary_encode(col)
    idx = _indices(enc.indices)
    return idx.astype(np.int64) + 1, [None, *enc.dictionary.to_pylist()]


def fingerprint(exception: str | None, root: str | None) -> str:
    """``outer > root`` exception classes: how findings and the timeline name a failure."""
    return f"{exception} > {root or ''}"


def _notable_level(level: pa.Array) -> pa.Array:
    """Warning-or-worse per row; decided once per distinct level when dictionary-encoded."""
    if isinstance(level, pa.DictionaryArray):
        per_value = pc.is_in(pc.utf8_upper(level.dictionary.cast(pa.string())), _NOTABLE_LEVELS)
        return pc.fill_null(pc.take(per_value, level.indices), False)
    return pc.fill_null(pc.is_in(pc.utf8_upper(level.cast(pa.string())), _NOTABLE_LEVELS),
                        False)


RUNS_COALESCE = REBUCKET_BLOCK  # adjacent small runs are joined up to this many keys


def _sorted_distinct(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One piece's keys sorted and made distinct (its counts summed): a piece is a chunk's
    or a unit's, so this costs a piece's size."""
    if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
        if not (keys[1:] >= keys[:-1]).all():
            order = np.argsort(keys, kind="stable")  # pieces come nearly in time order
            keys, counts = keys[order], counts[order]
        else:  # the sums go into a copy: the piece may be another partial's
            counts = counts.copy()
        keys, counts = _sum_repeats(keys, counts)
    return keys, counts


class _Level:
    """Counts per (bucket, id) at one bucket width: sorted runs, folded when they grow.

    Compact means ``keys`` is a list of runs, each sorted and distinct, the runs in order
    and disjoint (every key of a run below every key of the next). Units are merged in
    time order, so a unit's keys join as a new run once the few keys of the seconds it
    shares with the run before are summed: a merge's temporaries are a unit's size, not
    the union's (a million keys past ``MAX_KEYS``, 8 MiB an array, sorted in one piece
    by every compaction of the parent before: its peak at 4 GiB). Pieces that overlap
    more than the last run (inputs of the same span merged) are folded the long way.
    """

    __slots__ = ("compacted", "counts", "keys", "pending", "runs")

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []  # the runs, then the pieces not yet compacted
        self.counts: list[np.ndarray] = []
        self.runs = 0  # how many of ``keys`` are compact runs
        self.pending = 0  # keys in pieces not yet compacted
        self.compacted = 0

    def append(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self.keys.append(keys)
        self.counts.append(counts)
        self.pending += len(keys)

    def due(self) -> bool:
        """Amortised: compact when the new pieces outgrow what is already compact."""
        return self.pending > max(EXACT_KEYS // 2, 2 * self.compacted)

    def compact(self) -> int:
        """Fold the pending pieces into the runs; the number of distinct keys."""
        if len(self.keys) == self.runs:
            return self.compacted
        rk, rc = self.keys[:self.runs], self.counts[:self.runs]
        pk, pc_ = self.keys[self.runs:], self.counts[self.runs:]
        self.keys, self.counts = rk, rc
        while pk:
            k, c = _sorted_distinct(pk.pop(0), pc_.pop(0))
            if not len(k):
                continue
            if rk and k[0] <= rk[-1][-1]:  # shares keys with the last run's end
                last_k, last_c = rk[-1], rc[-1]
                if k[0] < last_k[0] and len(rk) > 1 and k[0] <= rk[-2][-1]:
                    self._fold_all(pk, pc_, k, c)  # out of order: sort the whole
                    return self.compacted
                i = int(np.searchsorted(last_k, k[0]))
                j = int(np.searchsorted(k, last_k[-1], side="right"))
                tk, tc = _sorted_distinct(np.concatenate([last_k[i:], k[:j]]),
                                          np.concatenate([last_c[i:], c[:j]]))
                if i:
                    rk[-1], rc[-1] = last_k[:i], last_c[:i]
                else:
                    rk.pop()
                    rc.pop()
                rk.append(tk)
                rc.append(tc)
                k, c = k[j:], c[j:]
                if not len(k):
                    continue
            rk.append(k)
            rc.append(c)
        self._coalesce()
        return self.compacted

    def _coalesce(self) -> None:
        """Adjacent small runs joined (ordered already: no sort), so a unit's many chunk
        pieces do not stay thousands of arrays; the counts brought up to date."""
        keys: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        group: list[int] = []
        size = 0

        def flush() -> None:
            if len(group) == 1:
                keys.append(self.keys[group[0]])
                counts.append(self.counts[group[0]])
            elif group:
                keys.append(np.concatenate([self.keys[g] for g in group]))
                counts.append(np.concatenate([self.counts[g] for g in group]))
            group.clear()

        for n, k in enumerate(self.keys):
            if group and size + len(k) > RUNS_COALESCE:
                flush()
                size = 0
            group.append(n)
            size += len(k)
        flush()
        self.keys, self.counts = keys, counts
        self.runs = len(keys)
        self.pending, self.compacted = 0, sum(len(k) for k in keys)

    def _fold_all(self, pk: list[np.ndarray], pc_: list[np.ndarray],
                  k: np.ndarray, c: np.ndarray) -> None:
        """Every run and piece sorted as one (pieces out of time order)."""
        keys = np.concatenate([*self.keys, k, *pk])
        counts = np.concatenate([*self.counts, c, *pc_])
        self.keys, self.counts = [], []
        pk.clear()
        pc_.clear()
        del k, c
        keys, counts = _sorted_distinct(keys, counts)
        self.keys, self.counts = [keys], [counts]
        self.runs, self.pending, self.compacted = 1, 0, len(keys)

    def whole(self) -> tuple[np.ndarray, np.ndarray]:
        """The compact keys and counts as one pair of arrays (kept so)."""
        self.compact()
        if not self.keys:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if len(self.keys) > 1:
            keys, counts = np.concatenate(self.keys), np.concatenate(self.counts)
            self.keys, self.counts, self.runs = [keys], [counts], 1
        return self.keys[0], self.counts[0]

    def buckets(self) -> tuple[int, int, int]:
        """First and last bucket and how many distinct buckets the compact keys hold."""
        self.compact()
        first = last = None
        n = 0
        for k in self.keys:
            if not len(k):
                continue
            b = k >> _KEY_BITS
            n += 1 + int(np.count_nonzero(b[1:] != b[:-1]))
            if last is not None and int(b[0]) == last:
                n -= 1  # a bucket split between two runs
            first = int(b[0]) if first is None else first
            last = int(b[-1])
        return (first if first is not None else 0), (last if last is not None else -1), n


class _KeyCounts:
    """Event counts per (time bucket, id): exact to the millisecond while they are
    few, else per 100 ms, else per second (past ``EXACT_KEYS`` distinct keys), else per
    2, 4, 8 ... seconds (past ``MAX_KEYS``).

    The widths up to 1 s are counted side by side until they overflow and are
    dropped, so giving up a width costs nothing: no re-sorting of millions of finer
    keys. The finest surviving width is the answer, the same as coarsening one width
    would give, because counts per coarser bucket are exact at every width. Past 1 s
    only one width is kept and coarsened in place (its keys are at most a few
    ``MAX_KEYS``).
    """

    WIDTHS = (1, 100, 1000)

    def __init__(self, finest: int = 1) -> None:
        self.levels: dict[int, _Level] = (
            {finest: _Level()} if finest > self.WIDTHS[-1]
            else {w: _Level() for w in self.WIDTHS if w >= finest})
        self._merged: _Floor | None = None  # what merged partials proved (parent side)

    @property
    def res_ms(self) -> int:
        return min(self.levels)

    @property
    def top(self) -> int:
        """The coarsest width kept: 1 s or a ``COARSEN`` multiple of it."""
        return max(self.levels)

    def drop_finer(self, width: int) -> None:
        for w in [w for w in self.levels if w < width]:
            del self.levels[w]

    def limit(self, width: int) -> None:
        """Keep nothing finer than ``width`` (a width of the ladder)."""
        if width > self.top:
            self._coarsen(width)
        self.drop_finer(width)

    def _coarsen(self, to: int | None = None) -> None:
        """The coarsest width, compacted, re-bucketed to ``to`` (at least once by
        ``COARSEN``) and then until it holds at most ``MAX_KEYS`` keys; the finer
        widths hold more keys still, so they go. Run by run: the temporaries are a
        run's, and the runs' shared boundary buckets are summed as they join."""
        width = self.top
        level = self.levels.pop(width)
        self.levels.clear()
        level.compact()
        target = to if to is not None else width * COARSEN
        while True:
            if target > width:
                kept = _Level()
                while level.keys:
                    keys, counts = level.keys.pop(0), level.counts.pop(0)
                    kept.append(*_rebucket(keys, counts, target // width))
                    del keys, counts
                kept.compact()
                level, width = kept, target
            if level.compacted <= MAX_KEYS:
                break
            target = width * COARSEN
        self.levels[width] = level

    def add(self, ts: np.ndarray, ids: np.ndarray) -> None:
        """Count events at epoch ms ``ts`` (-1: no time) of ``ids`` (-1: none)."""
        if len(ts) and (ts.min() < 0 or ids.min() < 0 or ids.max() >= 1 << _KEY_BITS):
            timed = (ts >= 0) & (ids >= 0) & (ids < 1 << _KEY_BITS)
            ts, ids = ts[timed], ids[timed]
        if not len(ts):
            return
        bucket, tid, weight, prev = ts, ids, None, 1
        for width in sorted(self.levels):  # finest first
            if width not in self.levels:  # dropped on the way
                continue
            if width == 1:
                uniq, counts = _runs(ts << _KEY_BITS | ids)
                if len(uniq) > EXACT_KEYS // 8 and len(np.unique(uniq)) > EXACT_KEYS // 8:
                    # dense evidence (tens of thousands of events per chunk): exact
                    # instants would overflow soon, after sorting millions of keys
                    self.drop_finer(width + 1)
                    continue
            else:
                if weight is not None and 2 * len(bucket) > len(ts):  # raw events are cheaper
                    bucket, tid, weight, prev = ts, ids, None, 1
                uniq, counts = _count_keys(bucket // (width // prev), tid, weight)
            self.levels[width].append(uniq, counts)
            bucket, tid, weight, prev = uniq >> _KEY_BITS, uniq & _ID_MASK, counts, width
        self._settle()

    def _settle(self, force: bool = False) -> None:
        """Compact widths that are due (all when ``force``); drop those that overflow,
        coarsen the last one past ``MAX_KEYS``."""
        for width in sorted(self.levels):
            level = self.levels.get(width)
            if level is None or not (force or level.due()):
                continue
            n = level.compact()
            if width < self.WIDTHS[-1]:
                if n > EXACT_KEYS:
                    self.drop_finer(width + 1)
            elif n > MAX_KEYS:
                self._coarsen()

    def compact(self) -> None:
        self._settle(force=True)

    def merge(self, other: _KeyCounts, remap: np.ndarray) -> None:
        """Fold ``other`` in, its ids translated by ``remap``; widths the partials prove
        lost are dropped before their keys are sorted."""
        if self._merged is None:
            self._merged = _Floor()
            self._merged.learn(self)
        self._merged.learn(other)
        if other.top > self.top:  # the coarser of the two past 1 s
            self._coarsen(other.top)
        self.limit(max(other.res_ms, self._merged.finest))
        for width, level in self.levels.items():
            # ``other`` has every width this one kept, or a finer last one (past 1 s)
            have = width if width in other.levels else other.top
            for keys, counts in zip(other.levels[have].keys, other.levels[have].counts,
                                    strict=True):
                ids = remap[keys & _ID_MASK]
                if have != width:
                    keys, counts = _count_keys((keys >> _KEY_BITS) // (width // have),
                                               ids, counts)
                    level.append(keys, counts)
                else:
                    level.append(keys >> _KEY_BITS << _KEY_BITS | ids, counts)
        top = self.levels[self.top]
        if self.top >= self.WIDTHS[-1] and top.pending + top.compacted > MAX_KEYS:
            # the union may pass MAX_KEYS: coarsen now, before the next partial adds its
            # keys, so the parent never sorts all units' keys at once (10 GiB: 5 M)
            self.compact()
        self._settle()  # otherwise once, when the events are read

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Epoch ms (bucket middle), id and count per (bucket, id), at the finest width
        that fits: compacted first, so the width does not depend on how the input was
        cut into units or how the partials arrived."""
        self.compact()
        width = self.res_ms
        keys, counts = self.levels[width].whole()
        return (keys >> _KEY_BITS) * width + width // 2, keys & _ID_MASK, counts


class _Floor:
    """Widths one scan's result cannot keep, as learnt by this process's finished units.

    A unit whose own keys overflowed a width makes the merged result drop it too
    (the merge keeps the coarser of two widths); units with disjoint time spans
    whose distinct buckets add up past ``EXACT_KEYS`` (``MAX_KEYS`` at 1 s and
    coarser) prove the merged keys do (a bucket holds at least one key, whatever ids
    the merge renumbers). The units
    this process reads next skip those widths, and the parent's merge drops them
    before sorting them: the result is the same. Keyed by the scan's token; the
    scan forgets it at the end.
    """

    def __init__(self) -> None:
        self.finest = 1
        self.spans: dict[int, list[tuple[int, int, int]]] = {}  # width -> (from, to, keys)

    def learn(self, counts: _KeyCounts) -> None:
        counts.compact()
        self.finest = max(self.finest, counts.res_ms)
        for width, level in counts.levels.items():
            first, last, n = level.buckets()
            if n:
                self.spans.setdefault(width, []).append(
                    (first * width, last * width + width - 1, n))
        for width in sorted(self.spans):
            # a lower bound of the union's buckets: each span adds its own, less the
            # buckets it could share with the spans before it (those in the overlap)
            total, end = 0, None
            for start, stop, n in sorted(self.spans[width]):
                shared = 0 if end is None or start > end else (end - start) // width + 1
                total, end = total + max(0, n - shared), stop if end is None else max(end, stop)
            if width < self.finest:
                continue
            if width < _KeyCounts.WIDTHS[-1]:
                if total > EXACT_KEYS:
                    self.finest = _KeyCounts.WIDTHS[_KeyCounts.WIDTHS.index(width) + 1]
            elif total > MAX_KEYS:  # past 1 s the next width is a doubling
                self.finest = width * COARSEN


_FLOORS: dict[tuple[str, str], _Floor] = {}


def forget_scan(token: str) -> None:
    """Drop what this process learnt about the scan ``token`` (at the end of the scan)."""
    for key in [k for k in _FLOORS if k[0] == token]:
        del _FLOORS[key]


class AnalysisCollector:
    name = "analysis"

    def __init__(self, config: dict[str, Any]) -> None:
        from logsleuth.timeline.templates import TemplateMiner

        self.miner = TemplateMiner()
        self._shape_ids: dict[str, int] = {}  # message shape -> template id
        self._level_luts: dict[tuple[str | None, ...], np.ndarray] = {}
        token = config.get("scan_token")
        self._floors = None if token is None else (
            _FLOORS.setdefault((token, "templates"), _Floor()),
            _FLOORS.setdefault((token, "classes"), _Floor()))
        self.template_counts = _KeyCounts(self._floors[0].finest if self._floors else 1)
        # warning/error classes: (source, level, exception, root exception) -> id;
        # exception classes are also counted per instant, for root-cause tracking
        self.classes: dict[tuple[str | None, ...], int] = {}
        self.class_counts = _KeyCounts(self._floors[1].finest if self._floors else 1)
        self.notable: list[pa.Table] = []
        self.notable_rows = 0
        self._pending: list[pa.RecordBatch] = []  # warning/error rows not yet grouped
        self._pending_rows = 0
        self.dropped = 0
        self.gauges = GaugeRows()  # rows of templates that may print a gauge

    def consume(self, cb: ChunkBatch) -> None:
        b = cb.batch
        ids = self._template_ids(b.column("message"))
        ts = _epoch_ms(b.column("ts"))
        self.template_counts.add(ts, ids)
        self.gauges.add(b, ids, self.miner)
        rows = np.flatnonzero(self._notable(b))
        if len(rows):
            self._pending.append(b.select(_NOTABLE_COLS).take(pa.array(rows)))
            self._pending_rows += len(rows)
            if self._pending_rows >= NOTABLE_BATCH_ROWS:
                self._keep_notable()

    def _notable(self, b: pa.RecordBatch) -> np.ndarray:
        """Warning-or-worse or carrying an exception, per row (decided per level value)."""
        level, exc = b.column("level"), b.column("exception")
        if isinstance(level, pa.DictionaryArray):
            names = tuple(level.dictionary.to_pylist())
            lut = self._level_luts.get(names)
            if lut is None:  # a few level names per log: decided once each
                lut = self._level_luts[names] = np.append(
                    _notable_level(level.dictionary.cast(pa.string())).to_numpy(
                        zero_copy_only=False), False)  # the last slot: null level
            out = lut[_indices(level.indices)]
        else:
            out = _notable_level(level).to_numpy(zero_copy_only=False)
        if exc.null_count < len(exc):
            out = out | exc.is_valid().to_numpy(zero_copy_only=False)
        return out

    def _keep_notable(self) -> None:
        """The first warning/error of each (class, second) pending, with its count.

        Pending rows are grouped ``NOTABLE_BATCH_ROWS`` at a time, not per chunk: a
        chunk brings a few hundred, and the dozen Arrow and numpy calls of a grouping
        cost more than its rows. Rows stay in record order, so ties on a timestamp
        resolve as over every row.
        """
        if not self._pending:
            return
        t = pa.Table.from_batches(self._pending).unify_dictionaries().combine_chunks()
        self._pending, self._pending_rows = [], 0
        for name in ("source", "level"):  # read as strings by the timeline
            if pa.types.is_dictionary(t[name].type):
                t = t.set_column(t.schema.get_field_index(name), name,
                                 t[name].cast(pa.string()))
        key = np.zeros(t.num_rows, dtype=np.int64)  # one mixed-radix code per class
        codes, values = [], []
        for name in _CLASS_COLS:
            c, v = _codes(t[name].chunk(0))
            key = key * len(v) + c
            codes.append(c)
            values.append(v)
        _, first_of, inverse = np.unique(key, return_index=True, return_inverse=True)
        gid = np.array([self.classes.setdefault(tuple(v[c[i]] for c, v in zip(codes, values,
                                                                              strict=True)),
                                                len(self.classes))
                        for i in first_of.tolist()], dtype=np.int64)
        cls = gid[inverse.ravel()]
        ts = _epoch_ms(t["ts"].chunk(0))
        thrown = codes[2] > 0
        if thrown.any():
            self.class_counts.add(ts[thrown], cls[thrown])
        sec = ts // NOTABLE_RES_MS  # null times (-1) share second -1
        group = np.unique(cls << 44 | (sec - sec.min()), return_index=True, return_counts=True)
        back = np.argsort(group[1])  # record order again
        firsts, counts = group[1][back], group[2][back]  # first row of each group, its size
        room = max(0, MAX_NOTABLE_ROWS - self.notable_rows)
        if len(firsts) > room:  # the earliest groups are kept; the rest only counted
            self.dropped += int(counts[room:].sum())
            firsts, counts = firsts[:room], counts[:room]
        if len(firsts):
            self.notable.append(t.take(pa.array(firsts)).append_column(
                "count", pa.array(counts)))
            self.notable_rows += len(firsts)

    def finish(self) -> None:
        # one compact array and one table per unit, made in parallel
        self.notable_table()
        self.template_counts.compact()
        self.class_counts.compact()
        if self._floors is not None:  # the next units of this process may start coarser
            for floor, counts in zip(self._floors, (self.template_counts, self.class_counts),
                                     strict=True):
                floor.learn(counts)
                counts.limit(floor.finest)  # lost anyway: not shipped, not merged
            self._floors = None  # learnt once per unit

    def __getstate__(self) -> dict[str, Any]:
        self.finish()  # ship compact arrays, not a pile of per-chunk pieces
        state = self.__dict__.copy()
        state["_shape_ids"] = {}  # only the unit that read the messages needs them
        state["_floors"] = None  # this process's knowledge stays here
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _template_ids(self, messages: pa.Array) -> np.ndarray:
        """Template id per message, mining one representative per message shape.

        A shape is the message with every hex digit (0-9, a-f, A-F) replaced by
        ``0``: one C-speed translate plus Arrow's hash encoding, instead of masking
        every message. Messages of one shape differ only in hex-digit characters, so
        they share a template except in rare cases ("id=abc" beside "id=123": the
        first one mined names the template). A shape seen before keeps its template
        without asking the miner again: most chunks bring no new shape. CPU on the
        1 GiB bench: 1.5 s masking every message, 0.4 s mining one representative
        per shape and chunk, 0.27 s when known shapes skip the miner.
        """
        data = messages.buffers()[2]
        if len(messages) == 0 or messages.null_count == len(messages) or not data or not data.size:
            return self.miner.add(messages)
        shaped = pa.Array.from_buffers(
            messages.type, len(messages),
            [messages.buffers()[0], messages.buffers()[1],
             pa.py_buffer(data.to_pybytes().translate(_HEX_TO_ZERO))],
            offset=messages.offset)
        enc = pc.dictionary_encode(shaped)
        codes = _indices(enc.indices)
        shapes = enc.dictionary.to_pylist()
        known = self._shape_ids
        lut = np.array([known.get(sh, -1) for sh in shapes] + [-1], dtype=np.int64)
        new = np.flatnonzero(lut[:-1] < 0)
        if len(new):
            # dictionary codes are numbered in order of first appearance: the first
            # row of each shape is where the running maximum of the codes rises
            firsts = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
            if len(firsts) != len(shapes):  # another numbering: find them the long way
                firsts = np.unique(codes, return_index=True)[1][-len(shapes):]
            ids = self.miner.add(messages.take(pa.array(firsts[new]))).astype(np.int64)
            lut[new] = ids
            if len(known) < MAX_SHAPES:
                known.update(zip((shapes[i] for i in new.tolist()), ids.tolist(), strict=True))
        return lut[codes]  # code -1 (null message) reads the last slot

    def consume_evidence(self, kind: Kind, result: EvidenceResult) -> None:
        return None

    def merge(self, other: AnalysisCollector) -> None:
        self._keep_notable()  # no-ops after finish(), which every unit ends with
        other._keep_notable()
        mapping = self.miner.merge(other.miner)
        self.template_counts.merge(other.template_counts, mapping)
        self.gauges.merge(other.gauges, mapping)
        remap = np.array([self.classes.setdefault(c, len(self.classes))
                          for c in other.classes], dtype=np.int64)
        self.class_counts.merge(other.class_counts, remap)
        self.notable.extend(other.notable)
        self.notable_rows += other.notable_rows
        self.dropped += other.dropped

    def shift_lines(self, path: str, delta: int) -> None:
        from logsleuth.engine.evidence import _shift

        self.notable = _shift(self.notable, path, delta)
        shift_gauge_rows(self.gauges, path, delta)

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Per (time bucket, template): epoch ms (bucket middle), template id, count;
        and the template texts."""
        return (*self.template_counts.events(), self.miner.templates)

    def exception_events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per (time bucket, exception class): epoch ms, ``outer > root`` fingerprint, count."""
        self._keep_notable()
        ts, cid, counts = self.class_counts.events()
        names = np.array([fingerprint(c[2], c[3]) for c in self.classes] or [""], dtype=object)
        return ts, names[cid], counts

    def notable_table(self) -> pa.Table:
        """Per (source, level, exception classes, second): its first record and ``count``."""
        self._keep_notable()
        if not self.notable:
            return pa.table({**{c: pa.array([], pa.string()) for c in _NOTABLE_COLS},
                             "count": pa.array([], pa.int64())})
        if len(self.notable) > 1:  # read twice by the timeline: concatenated once
            self.notable = [pa.concat_tables(self.notable, promote_options="permissive")]
        return self.notable[0]
