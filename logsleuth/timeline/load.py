"""Growth that load explains is not a leak.

A gauge that climbs for a minute reads as a leak when the evidence is cut before it falls
back. What an SRE checks next is whether the climb follows a concurrency printed beside
it: memory that tracks the number of live sessions (connections, requests in flight,
queue depth) is load and goes when they go; memory that keeps growing per closed session
while the live count stays flat is a leak. Two checks, on the growth regime of a leak:

- a resource gauge (bytes, ...) is load when a count gauge of the same evidence explains
  it at least as well as the clock (and as the event its growth was put on), with the
  same growth per unit of that count in both halves of the regime;
- a count gauge (the live count itself) is load when it moves as the balance of two
  events, one up and one down per event (opened minus closed): it grows only because
  more opened than closed. A count that rises per close, or never falls on a close,
  is not a balance and stays a leak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from logsleuth.timeline.attribution import PerEventAttribution
from logsleuth.timeline.trend import LeakEstimate

Series = Callable[[str], tuple[np.ndarray, np.ndarray]]  # a gauge's epoch ms and values

MIN_SAMPLES = 8  # aligned samples in the growth regime for either check
STABLE = 1.25  # the two halves' growth per unit agree within this factor
BALANCE = 0.1  # a balance moves the count by 1 +- this per event
TOP_EVENTS = 12  # the most frequent templates of the regime tried as balance pairs
# "As well as": an explanation leaves at most this multiple of the clock's unexplained
# variance. Near-linear climbs fit the clock to R² 0.9999 too, and a count printed by
# several threads is off by a session or two at the millisecond: same order, not a loss.
AS_WELL = 2.0


def _as_well(r2: float, bar: float) -> bool:
    return 1.0 - r2 <= AS_WELL * max(1.0 - bar, 0.0)


@dataclass(frozen=True, slots=True)
class LoadExplanation:
    """Why the growth of ``metric`` is load: ``per_unit`` of it per unit of ``by``."""

    metric: str
    by: str  # a count gauge, or "<opened template> - <closed template>"
    kind: str  # "gauge" | "balance"
    per_unit: float
    r2: float  # of the metric against ``by`` over the growth regime
    r2_time: float  # of the metric against the clock over the same samples
    halves: tuple[float, float]  # ``per_unit`` fitted on each half of the regime

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "by": self.by, "kind": self.kind,
                "per_unit": self.per_unit, "r2": self.r2, "r2_time": self.r2_time,
                "halves": list(self.halves)}


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R² of y on x with an intercept (0, 0 when x or y does not move)."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0, 0.0
    slope, icept = np.polyfit(x, y, 1)
    res = y - (slope * x + icept)
    return float(slope), float(1.0 - res.var() / y.var())


def _asof(t: np.ndarray, ct: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The count's last value at or before each sample time, and which samples have one."""
    idx = np.searchsorted(ct, t, side="right") - 1
    ok = idx >= 0
    return cv[np.maximum(idx, 0)], ok


def _stable(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """The slope on each half, when both are positive and agree within ``STABLE``."""
    h = len(x) // 2
    a, b = _ols(x[:h], y[:h])[0], _ols(x[h:], y[h:])[0]
    if a <= 0 or b <= 0 or max(a, b) > STABLE * min(a, b):
        return None
    return a, b


def by_count_gauge(metric: str, t: np.ndarray, v: np.ndarray,
                   counts: Mapping[str, tuple[np.ndarray, np.ndarray]],
                   event_r2: float | None = None) -> LoadExplanation | None:
    """The count gauge that explains the growth of ``v`` (samples of the growth regime,
    sorted by time) at least as well as the clock and the attributed event, with a
    stable growth per unit of it; None when none does."""
    if len(v) < MIN_SAMPLES:
        return None
    r2_time = _ols((t - t[0]).astype(np.float64), v)[1]
    bar = max(r2_time, event_r2 or 0.0)
    best: LoadExplanation | None = None
    for name, (ct, cv) in counts.items():
        if name == metric or len(ct) < MIN_SAMPLES:
            continue
        x, ok = _asof(t, ct, cv)
        x, y = x[ok], v[ok]
        if len(x) < MIN_SAMPLES:
            continue
        per, r2 = _ols(x, y)
        halves = _stable(x, y) if per > 0 and _as_well(r2, bar) else None
        if halves is not None and (best is None or r2 > best.r2):
            best = LoadExplanation(metric, name, "gauge", per, r2, r2_time, halves)
    return best


def _one_for_one(x: np.ndarray, v: np.ndarray, bar: float) -> bool:
    per, r2 = _ols(x, v)
    return abs(per - 1.0) <= BALANCE and _as_well(r2, bar)


def by_event_balance(metric: str, t: np.ndarray, v: np.ndarray, ev_ts: np.ndarray,
                     ev_ids: np.ndarray, ev_counts: np.ndarray,
                     templates: list[str]) -> LoadExplanation | None:
    """The pair of events whose balance (first minus second, counted up to each sample)
    the count ``v`` follows one for one, at least as well as the clock; None when none."""
    if len(v) < MIN_SAMPLES:
        return None
    r2_time = _ols((t - t[0]).astype(np.float64), v)[1]
    inside = (ev_ts >= t[0]) & (ev_ts <= t[-1])
    ids, n = np.unique(ev_ids[inside], return_counts=True)
    top = ids[np.argsort(-n, kind="stable")[:TOP_EVENTS]]
    cum: dict[int, np.ndarray] = {}
    for tid in top:
        sel = ev_ids == tid
        ets, w = ev_ts[sel], ev_counts[sel]
        order = np.argsort(ets, kind="stable")
        running = np.cumsum(w[order])
        idx = np.searchsorted(ets[order], t, side="right") - 1
        cum[int(tid)] = np.where(idx >= 0, running[np.maximum(idx, 0)], 0).astype(np.float64)
    # A count that one event moves one for one by itself (a rare second event aside) is
    # not a balance: it rises per event and never falls, which is a leak.
    alone = {a for a, x in cum.items() if _one_for_one(x, v, r2_time)}
    best: LoadExplanation | None = None
    for a in cum:
        for b in cum:
            if a == b or a in alone:
                continue
            x = cum[a] - cum[b]
            if not _one_for_one(x, v, r2_time):
                continue
            per, r2 = _ols(x, v)
            halves = _stable(x, v)
            if halves is not None and (best is None or r2 > best.r2):
                best = LoadExplanation(metric, f"{templates[a]} - {templates[b]}", "balance",
                                       per, r2, r2_time, halves)
    return best


def _regime(leak: LeakEstimate, series: Series) -> tuple[np.ndarray, np.ndarray]:
    t, v = series(leak.metric)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    lo = leak.growth_start_ms if leak.growth_start_ms is not None else leak.start_ms
    hi = leak.growth_end_ms if leak.growth_end_ms is not None else leak.end_ms
    keep = (t >= lo) & (t <= hi)
    return t[keep], v[keep]


def split_load(leaks: list[LeakEstimate], series: Series, count_gauges: list[str],
               events: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]],
               ) -> tuple[list[LeakEstimate], list[LoadExplanation]]:
    """The leaks load does not explain, and why the others are load. A count gauge
    explains other gauges only when it is no leak itself (or its own growth is a
    balance of events): memory that follows a leaking thread count is that leak."""
    ev_ts, ev_ids, ev_counts, templates = events
    load: dict[str, LoadExplanation] = {}
    for leak in leaks:
        if leak.unit == "count":
            t, v = _regime(leak, series)
            got = by_event_balance(leak.metric, t, v, ev_ts, ev_ids,
                                   ev_counts.astype(np.float64), templates)
            if got is not None:
                load[leak.metric] = got
    leaking = {k.metric for k in leaks} - set(load)
    counts = {}
    for name in count_gauges:
        if name not in leaking:
            ct, cv = series(name)
            order = np.argsort(ct, kind="stable")
            counts[name] = (ct[order], cv[order])
    for leak in leaks:
        if leak.unit == "count" or leak.metric in load or not counts:
            continue
        t, v = _regime(leak, series)
        per = leak.per_event
        got = by_count_gauge(leak.metric, t, v, counts,
                             per.r2 if isinstance(per, PerEventAttribution) else None)
        if got is not None:
            load[leak.metric] = got
    return [k for k in leaks if k.metric not in load], list(load.values())
