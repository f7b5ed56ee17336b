"""A resource gauge over time, in regimes: warm-up, growth, flat, plateau, saturation, release.

Why: a leak is judged by how the gauge moves over *time*, not over samples. A
monitor line every second for hours and a flood of 2,000 failure messages at the
ceiling in the last minute are both "samples"; fitted per sample, the flood
outweighs the hours and the slope comes out flat. So the series is first resampled
per time interval (the last value of each), then cut at releases (a drop to near
zero: a restart, or a GC that frees it), and each piece is split where its rate
changes. Reaching a known ceiling and staying there is *saturation*: evidence of
exhaustion, not flatness. Values read from failure messages (``origin`` "error")
never enter the fit when the gauge itself was sampled; they only say when the
ceiling was hit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

HOUR_MS = 3_600_000
MAX_BINS = 1000  # time bins per series: hours of 1 Hz samples are judged per few seconds
RELEASE_SHARE = 0.1  # a release drops below this share of the peak before it
MAX_RELEASES = 2  # more: the resource is released in normal operation (a sawtooth)


@dataclass(frozen=True, slots=True)
class Regime:
    """One stretch of a gauge: ``kind`` is warm-up, growth, flat, plateau, saturation
    or release (the drop itself, at ``start_ms``)."""

    kind: str
    start_ms: int
    end_ms: int
    first_value: float
    last_value: float
    slope_per_hour: float

    def to_json(self) -> dict[str, object]:
        from logsleuth.timeline.trend import _iso

        return {"kind": self.kind, "start": _iso(self.start_ms), "end": _iso(self.end_ms),
                "first_value": self.first_value, "last_value": self.last_value,
                "slope_per_hour": self.slope_per_hour}


@dataclass(frozen=True, slots=True)
class Segmentation:
    """The regimes of a series and what the leak test reads of them."""

    regimes: tuple[Regime, ...]
    growth: tuple[int, int] | None  # bin range [a, b] of the chosen growth run
    growth_ranges_ms: tuple[tuple[int, int], ...]  # what attribution reads of every growth
    # run: from its start to the ceiling, the plateau or the release (``read_runs``)
    ceiling_reached_ms: int | None
    releases: int
    bin_ms: int
    t: np.ndarray  # bin times (last sample of each bin)
    v: np.ndarray  # bin values (last sample of each bin)


def resample(t: np.ndarray, v: np.ndarray, width_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Last sample per ``width_ms`` interval (sorted input): its time and value."""
    if len(t) == 0:
        return t, v
    b = (t - t[0]) // max(width_ms, 1)
    last = np.flatnonzero(np.r_[b[1:] != b[:-1], True])
    return t[last], v[last]


def bin_width(t: np.ndarray) -> int:
    """The gauge's own cadence, widened so a series has at most ``MAX_BINS`` bins."""
    if len(t) < 2:
        return 1
    cadence = float(np.median(np.diff(t)))
    return int(max(1.0, cadence, (t[-1] - t[0]) / MAX_BINS))


def _slope(t: np.ndarray, v: np.ndarray) -> float:
    from logsleuth.timeline.trend import theil_sen

    return theil_sen((t - t[0]).astype(np.float64), v)[0] if len(t) >= 2 else 0.0


def _releases(v: np.ndarray) -> list[int]:
    """Bins where the gauge drops to near zero from a real peak: a restart or a release."""
    out, peak = [], 0.0
    for i, x in enumerate(v.tolist()):
        if peak > 0 and x <= RELEASE_SHARE * peak:
            out.append(i)
            peak = x
        else:
            peak = max(peak, x)
    return out


def tolerance(v: np.ndarray) -> float:
    """How near the ceiling counts as reaching it: within one of the gauge's typical
    rises between samples. A monitor printing whole KiB stops a rounding short of the
    limit; a pooled allocator grows a chunk at a time: when one more rise would pass
    the ceiling, the next allocation fails."""
    steps = np.diff(v)
    up = steps[steps > 0]
    return float(np.median(up)) if len(up) else 0.0


def _reached(t: np.ndarray, v: np.ndarray, ceiling: float | None, step: float,
             error_t: np.ndarray) -> int | None:
    """First bin index at the ceiling (within its rounding, or one rise of it), or None."""
    if ceiling is None or ceiling <= 0:
        return None
    hit = np.flatnonzero((v >= ceiling) | ((v + step > ceiling) & (step > 0)))
    first = int(hit[0]) if len(hit) else None
    if len(error_t):
        # a failure message says the ceiling was hit then, at the level the gauge holds:
        # reached when it got there (a heap after GC stays below -Xmx by the young
        # generation, and thrashes at that level in back-to-back full GCs before the JVM
        # gives up): the sample after the last one below that level
        k = min(int(np.searchsorted(t, error_t[0], side="left")), len(t) - 1)
        below = np.flatnonzero(v[:k] < v[k] - step)
        k = int(below[-1]) + 1 if len(below) else 0
        first = k if first is None else min(first, k)
    return first


def _pieces(t: np.ndarray, v: np.ndarray) -> list[tuple[int, int, float]]:
    """Sub-ranges [a, b] of bins with one growth rate each (change points of the steps)."""
    from logsleuth.timeline.trend import change_points

    n = len(v)
    if n < 2:
        return [(0, n - 1, 0.0)] if n else []
    cuts = [0, *change_points(np.diff(v)), n - 1]
    out = []
    for a, b in itertools.pairwise(cuts):
        out.append((a, b, _slope(t[a:b + 1], v[a:b + 1])))
    return out


def _falls_from_top(sv: np.ndarray, top: int) -> int | None:
    """Where a top held after the growth is given back, when the gauge then ends below
    half of its rise (in-flight memory released as concurrency falls): the last bin
    still at the top (within 5 % of the range), or None when the top is held."""
    hi, lo = float(sv[top]), float(sv.min())
    rng = hi - lo
    if rng <= 0 or sv[-1] > hi - 0.5 * rng:
        return None
    near = np.flatnonzero(sv[top:] >= hi - 0.05 * rng)
    fall = top + int(near[-1])
    return fall if fall < len(sv) - 1 else None


def segment(t: np.ndarray, v: np.ndarray, *, ceiling: float | None = None,
            error_t: np.ndarray | None = None) -> Segmentation:
    """Regimes of a gauge sampled at ``t`` (epoch ms, sorted) with values ``v``."""
    error_t = np.zeros(0, np.int64) if error_t is None else np.sort(error_t)
    width = bin_width(t)
    rise = tolerance(v)
    tb, vb = resample(t, v, width)
    regimes: list[Regime] = []
    rel = _releases(vb)
    bounds = [0, *rel, len(vb)]
    growth_runs: list[tuple[int, int]] = []
    # what attribution reads of each: from the growth's start to the ceiling, the plateau
    # or the segment's end. Growth per event must hold wherever the gauge is free to move
    # (below its ceiling, not released): a stretch that rises slowly because the events
    # slowed (a GC storm before a heap OOM) is evidence for the event, and one where the
    # events go on and the gauge does not is evidence against it; neither is for the
    # attribution to leave out. Not read: a saturation (capped: at the ceiling, or from
    # where the gauge reached the level it held at its resource's own failure), a plateau
    # below no known ceiling (capped by a limit the evidence does not state), a release,
    # and the stretch before the growth began (where a pool's first chunks absorb the
    # first events)
    read_runs: list[tuple[int, int]] = []
    reached_ms: int | None = None
    span = max(float(np.ptp(vb)) if len(vb) else 0.0, 1e-12)
    for si, (a, b) in enumerate(itertools.pairwise(bounds)):
        if si > 0:
            regimes.append(Regime("release", int(tb[a - 1]), int(tb[a]), float(vb[a - 1]),
                                  float(vb[a]), 0.0))
        st, sv = tb[a:b], vb[a:b]
        if len(st) == 0:
            continue
        errs = error_t[(error_t >= st[0]) & (error_t <= (tb[b] if b < len(tb) else np.inf))]
        k = _reached(st, sv, ceiling, rise, errs)
        if k is not None and reached_ms is None:
            reached_ms = int(st[k])
        end = len(st) - 1 if k is None else k
        plateau_from = None
        if k is None and end >= 4:  # no ceiling known: a long flat top ends the growth
            top = float(sv.max())
            p = int(np.flatnonzero(sv >= top - 0.01 * max(top - float(sv.min()), 1e-12))[0])
            if st[-1] - st[p] >= 0.2 * (st[-1] - st[0]) and p > 0:
                plateau_from = p
                end = p
        pieces = _pieces(st[:end + 1], sv[:end + 1])
        # a piece rises when its net change is a real share of the whole series' range
        # (a staircase of chunk allocations rises in short jumps between flat stretches)
        rising = [s >= 0 and sv[q] - sv[p0] > 0.05 * span for p0, q, s in pieces]
        labels = ["growth" if r else "flat" for r in rising]
        if any(rising):  # leading pieces far steeper than the main growth: a warm-up
            main = max((i for i, r in enumerate(rising) if r),
                       key=lambda i: st[pieces[i][1]] - st[pieces[i][0]])
            for i in range(main):
                steep = pieces[i][2] > 3 * max(pieces[main][2], 0.0)
                if not steep or st[pieces[i][1]] - st[0] >= 0.25 * max(st[end] - st[0], 1):
                    break
                labels[i] = "warm-up"
        grows = [i for i, lab in enumerate(labels) if lab == "growth"]
        # the growth run: from the first rising piece to the last, flat stretches between
        best = (pieces[grows[0]][0], pieces[grows[-1]][1]) if grows else None
        for (p0, q, s), lab in zip(pieces, labels, strict=True):
            regimes.append(Regime(lab, int(st[p0]), int(st[q]), float(sv[p0]), float(sv[q]),
                                  s * HOUR_MS))
        tail_kind = "saturation" if k is not None else "plateau" if plateau_from else None
        fall = _falls_from_top(sv, end) if tail_kind == "plateau" else None
        if fall is not None:  # held its top, then gave it back: a plateau, then a release
            regimes.append(Regime("plateau", int(st[end]), int(st[fall]), float(sv[end]),
                                  float(sv[fall]), _slope(st[end:fall + 1], sv[end:fall + 1])
                                  * HOUR_MS))
            regimes.append(Regime("release", int(st[fall]), int(st[-1]), float(sv[fall]),
                                  float(sv[-1]), _slope(st[fall:], sv[fall:]) * HOUR_MS))
        elif tail_kind:
            regimes.append(Regime(tail_kind, int(st[end]), int(st[-1]), float(sv[end]),
                                  float(sv[-1]), _slope(st[end:], sv[end:]) * HOUR_MS))
        if best is not None:
            # sustained and unreleased: the run ends where the piece's growth ends (at the
            # ceiling, at the release, or at the end of the evidence), not long before it
            after = st[end] - st[best[1]]
            stopped = after > 0.25 * (st[best[1]] - st[best[0]])
            if plateau_from is not None:
                stopped = stopped or (st[-1] - st[end]) > 0.5 * (st[best[1]] - st[best[0]])
            if not stopped:
                growth_runs.append((a + best[0], a + best[1]))
                read_runs.append((a + best[0], a + end))
    chosen = max(growth_runs, key=lambda r: tb[r[1]] - tb[r[0]]) if growth_runs else None
    periodic = len(rel) > MAX_RELEASES
    first = bin_starts(t, width)
    return Segmentation(
        tuple(regimes), None if periodic else chosen,
        () if periodic else tuple((int(tb[x] if x in rel else first[x]), int(tb[y]))
                                  for x, y in read_runs),
        reached_ms, len(rel), width, tb, vb)


def bin_starts(t: np.ndarray, width_ms: int) -> np.ndarray:
    """The first sample of each ``resample`` bin. A bin stands for all its samples, so a
    growth run from bin ``x`` covers the gauge's own samples from the first of bin ``x``:
    attribution reads them, at the gauge's own resolution. (Bins one cadence wide hold two
    samples where the reporter's period jitters past the median, and the run's first
    interval, often the only one where the event rate varies, was lost.) A bin where a
    release lands starts its run at its last sample: before it is the old process."""
    if len(t) == 0:
        return t
    b = (t - t[0]) // max(width_ms, 1)
    return t[np.flatnonzero(np.r_[True, b[1:] != b[:-1]])]
