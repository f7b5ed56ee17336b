"""When a leaking gauge reaches its ceiling, and how sure that is.

Why not extend the growth regime's fitted line: on bursty traffic (campaigns of a few
minutes between long quiet stretches) the gauge grows in steps, and a line fitted to
the bins of whatever window the segmentation picks swings between a quiet stretch
(little growth: the ETA goes out by days) and a burst (it comes in). The rate that
tells the future is the *average* over the whole regime, quiet stretches included:

- from the gauge alone: the median slope of every pair of samples half the regime
  apart (Theil's pairing, by time), from the start of the growth to the newest sample;
- with a per-event attribution: the amount per event times the event's rate, counted
  over a window at least as long as the time still to go (Prometheus'
  ``predict_linear`` practice: the window is of the order of the horizon), reaching
  back before the growth began when the same process logged the event then. A warm-up
  at its start is set aside: leading blocks whose rate is below the rest's by more than
  the rest's own block-to-block spread allows (a client ramping up, traffic not yet
  begun). Bursty traffic spreads by about its mean, so its quiet stretches stay in.

The time to go is not room / rate when growth comes in bursts: a room smaller than one
burst is reached when the next burst comes, not at the mean rate. So the window's own
growth is replayed from every instant of it (circularly, for rooms larger than the
window grew): the time each start took to grow by the room left is the distribution
of the time to go; its median is the ETA and its 5th and 95th percentiles the range.
The rate measured over the window is itself uncertain: the spread of the rate in equal
blocks of the window, ``sd / sqrt(blocks)``, widens the range (log-normal, in quadrature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.9
Z = 1.645  # two-sided 90 %
BLOCKS = 12  # blocks of the rate window for its spread
MIN_BLOCKS = 3  # fewer: the spread is not measured; the range says so (cv 1)
MIN_EVENTS = 30  # events in the gauge's window to measure the growth per event there
STARTS = 2000  # instants of the window replayed for the time to go
BASELINE = 0.01  # a gauge within this share of its rise of where it began has not grown yet


@dataclass(frozen=True, slots=True)
class Projection:
    """``at_ms`` the ETA at ``rate`` (metric units per ms) from ``value`` at ``from_ms``,
    within [``earliest_ms``, ``latest_ms``] at ``LEVEL``; ``source`` says where the
    rate came from (``gauge`` or ``per-event``), ``window_ms`` over what span."""

    at_ms: int
    earliest_ms: int
    latest_ms: int
    rate: float
    cv: float  # relative spread of the mean rate over the time to go
    source: str
    window_ms: tuple[int, int]
    from_ms: int
    value: float
    slack: float = 0.0  # the gauge's typical rise between samples: a failure may come so short
    start_value: float = 0.0  # the gauge at the start of ``window_ms``

    def to_json(self) -> dict[str, object]:
        from logsleuth.timeline.trend import HOUR_MS, _iso

        return {"earliest": _iso(self.earliest_ms), "latest": _iso(self.latest_ms),
                "level": LEVEL, "rate_per_hour": self.rate * HOUR_MS, "source": self.source,
                "confidence": self.confidence}

    @property
    def confidence(self) -> float:
        """1 - the range's width as a share of the time to go (0: as wide as it)."""
        left = max(self.at_ms - self.from_ms, 1)
        return round(max(0.0, min(1.0, 1.0 - (self.latest_ms - self.earliest_ms)
                                  / (2.0 * left))), 3)


def rate_by_time(t: np.ndarray, v: np.ndarray, start: int, end: int) -> float:
    """Median slope of the samples in [start, end] paired with the value half the span
    later (interpolated): every pair spans half the regime, quiet stretches and bursts
    alike, and an outlier moves one pair."""
    sel = (t >= start) & (t <= end)
    ts, vs = t[sel].astype(np.float64), v[sel]
    if len(ts) < 2 or ts[-1] <= ts[0]:
        return 0.0
    half = (ts[-1] - ts[0]) / 2.0
    first = ts <= ts[0] + half
    later = np.interp(ts[first] + half, ts, vs)
    return float(np.median((later - vs[first]) / half))


def first_passage(t: np.ndarray, grown: np.ndarray, room: float,
                  starts: int = STARTS) -> np.ndarray:
    """From each of up to ``starts`` instants of the window, how long its growth took
    to add ``room``: the window repeats (circularly) past its end. ``grown`` is the
    cumulative growth at ``t`` (non-decreasing, 0 at ``t[0]``)."""
    total, period = float(grown[-1]), float(t[-1] - t[0])
    if total <= 0 or period <= 0:
        return np.zeros(0)
    idx = np.unique(np.linspace(0, len(t) - 1, min(starts, len(t))).astype(np.int64))
    level = grown[idx] + room
    laps = np.floor(level / total)
    rest = level - laps * total
    k = np.clip(np.searchsorted(grown, rest, side="left"), 1, len(t) - 1)
    g0, g1 = grown[k - 1], grown[k]  # the first passage lies between samples k-1 and k
    frac = np.clip((rest - g0) / np.where(g1 > g0, g1 - g0, 1.0), 0.0, 1.0)
    at = t[k - 1] + frac * (t[k] - t[k - 1])
    return laps * period + at - t[idx]


def _estimation_spread(block_rates: np.ndarray, rate: float) -> float:
    """Relative standard error of the window's mean rate, from its blocks."""
    m = len(block_rates)
    if m < MIN_BLOCKS or rate <= 0:
        return 1.0
    return float(np.std(block_rates, ddof=1)) / rate / math.sqrt(m)


def _blocks(start: float, end: float, cadence_ms: float) -> np.ndarray:
    """Edges of up to ``BLOCKS`` equal blocks, each at least two cadences long."""
    m = int(min(BLOCKS, (end - start) // max(2.0 * cadence_ms, 1.0)))
    return np.linspace(start, end, max(m, 1) + 1)


def _project(t: np.ndarray, grown: np.ndarray, rate: float, se: float, source: str,
             from_ms: int, value: float, ceiling: float, slack: float,
             start_value: float = 0.0) -> Projection | None:
    """The ETA and its range from the window's growth ``grown`` at ``t``. The earliest
    end counts the room short by ``slack``: the next allocation fails once one more rise
    would pass the ceiling (as ``regimes`` judges the ceiling reached)."""
    if rate <= 0:
        return None
    room = max(ceiling - value, 0.0)
    waits = first_passage(t, grown, room)
    soon = first_passage(t, grown, max(room - slack, 0.0))
    if not len(waits):
        return None
    mid, hi = (max(float(q), 1.0) for q in np.quantile(waits, [0.5, 0.95]))
    lo = min(max(float(np.quantile(soon, 0.05)), 1.0), mid)
    a_lo = math.hypot(math.log(mid / lo), Z * se)
    a_hi = math.hypot(math.log(hi / mid), Z * se)
    return Projection(at_ms=int(from_ms + mid), earliest_ms=int(from_ms + mid * math.exp(-a_lo)),
                      latest_ms=int(from_ms + mid * math.exp(a_hi)), rate=rate, cv=se,
                      source=source, window_ms=(int(t[0]), int(t[-1])), from_ms=from_ms,
                      value=value, slack=slack, start_value=start_value)


def from_gauge(t: np.ndarray, v: np.ndarray, start: int, end: int,
               ceiling: float) -> Projection | None:
    """The projection of the gauge's own growth from ``start`` to ``end`` (its newest
    sample in the regime). The window begins where the gauge last stood at its
    starting level: a flat lead-in the segmentation joined to the growth is no growth."""
    sel = (t >= start) & (t <= end)
    ts, vs = t[sel].astype(np.float64), v[sel]
    if len(ts) < 3:
        return None
    top = np.maximum.accumulate(vs)
    base = np.flatnonzero(top <= vs[0] + BASELINE * (top[-1] - vs[0]))[-1]
    ts, vs, top = ts[base:], vs[base:], top[base:]
    if len(ts) < 3:
        return None
    rate = rate_by_time(ts, vs, int(ts[0]), int(ts[-1]))
    if rate <= 0:
        return None
    edges = _blocks(ts[0], ts[-1], float(np.median(np.diff(ts))))
    at = np.interp(edges, ts, vs)
    se = _estimation_spread(np.diff(at) / float(edges[1] - edges[0]), rate)
    steps = np.diff(vs)
    slack = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    return _project(ts, top - top[0], rate, se, "gauge", int(ts[-1]), float(vs[-1]), ceiling,
                    slack, float(vs[0]))


def from_events(gauge: Projection, amount: float, ev_ts: np.ndarray, ev_counts: np.ndarray,
                *, growth_start: int, earliest_start: int, bucket_ms: int,
                ceiling: float) -> Projection | None:
    """The projection at ``amount`` per event times the event's counts, over a window
    at least as long as the growth and as the time to go (by the gauge's own
    projection), back to ``earliest_start`` (the start of the same process's evidence)."""
    if amount <= 0:
        return None
    amount = _amount_in(gauge, ev_ts, ev_counts) or amount
    end = gauge.from_ms
    to_go = gauge.at_ms - gauge.from_ms
    start = int(max(earliest_start, min(growth_start, gauge.window_ms[0], end - to_go)))
    if end - start <= 0:
        return None
    start = _after_warm_up(ev_ts, ev_counts, start, end, max(float(bucket_ms), 1.0))
    sel = (ev_ts >= start) & (ev_ts <= end)
    ts, counts = ev_ts[sel], ev_counts[sel].astype(np.float64)
    if counts.sum() <= 0:
        return None
    rate = amount * float(counts.sum()) / (end - start)
    edges = _blocks(start, end, max(float(bucket_ms), 1.0))
    per_block, _ = np.histogram(ts, bins=edges, weights=counts)
    se = _estimation_spread(amount * per_block / float(edges[1] - edges[0]), rate)
    t = np.r_[float(start), ts.astype(np.float64), float(end)]
    grown = amount * np.r_[0.0, np.cumsum(counts), counts.sum()]
    return _project(t, grown, rate, se, "per-event", gauge.from_ms, gauge.value, ceiling,
                    gauge.slack)


def _after_warm_up(ev_ts: np.ndarray, ev_counts: np.ndarray, start: int, end: int,
                   cadence_ms: float) -> int:
    """Where the window's warm-up ends: its leading blocks are set aside one by one while
    the first lies below the mean of the blocks after it by more than their spread allows
    one more such block (one-sided, ``Z``), up to half the window. A ramping client or a
    process not yet serving is no sample of the rate to come; a quiet stretch of bursty
    traffic is, and the bursts' spread keeps it in."""
    edges = _blocks(start, end, cadence_ms)
    m = len(edges) - 1
    if m < 2 * MIN_BLOCKS:
        return start
    sel = (ev_ts >= start) & (ev_ts <= end)
    per_block, _ = np.histogram(ev_ts[sel], bins=edges,
                                weights=ev_counts[sel].astype(np.float64))
    k = 0
    while k < m // 2:
        rest = per_block[k + 1:]
        bound = rest.mean() - Z * float(np.std(rest, ddof=1)) * math.sqrt(1.0 + 1.0 / len(rest))
        if per_block[k] >= bound:
            break
        k += 1
    return int(edges[k])


def _amount_in(gauge: Projection, ev_ts: np.ndarray, ev_counts: np.ndarray) -> float | None:
    """Growth per event over the gauge's own window (its rise over the event's count
    there): the attribution names the event, but its amount may be fitted over windows
    the gauge did not grow in (a flat lead-in joined to the growth), which biases it."""
    g0, g1 = gauge.window_ms
    sel = (ev_ts >= g0) & (ev_ts <= g1)
    n = float(ev_counts[sel].sum())
    rise = gauge.value - gauge.start_value
    return rise / n if n >= MIN_EVENTS and rise > 0 else None
