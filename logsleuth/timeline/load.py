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

Where no count is printed, the balance of two events is the live count: a resource gauge
is load when such a balance explains it clearly better (not merely as well) than the
clock and either event alone, since it is picked among many pairs. And growth a live
count explains is still a leak when, beside what each live unit holds, an event adds
memory every time it happens (a leak per close during a ramp of sessions): the count and
the clock both rise through a ramp, so "as well as the clock" cannot tell them apart.
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
# Growth per event beside the live count: a leak when it is this many standard errors
# from zero (a dozen events are tried: about a 1e-4 chance each by noise) and carries at
# least this share of the regime's growth.
PER_EVENT_T = 4.0
PER_EVENT_SHARE = 0.05


def _as_well(r2: float, bar: float) -> bool:
    return 1.0 - r2 <= AS_WELL * max(1.0 - bar, 0.0)


@dataclass(frozen=True, slots=True)
class LoadExplanation:
    """Why the growth of ``metric`` is load: ``per_unit`` of it per unit of ``by``."""

    metric: str
    by: str  # a count gauge, or "<opened template> - <closed template>"
    kind: str  # "gauge" | "balance" | "events" (a gauge per unit of an event balance)
    per_unit: float
    r2: float  # of the metric against ``by`` over the growth regime
    r2_time: float  # of the metric against the clock over the same samples
    halves: tuple[float, float]  # ``per_unit`` fitted on each half of the regime
    pair: tuple[int, int] | None = None  # the opened and closed event ids of a balance

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "by": self.by, "kind": self.kind,
                "per_unit": self.per_unit, "r2": self.r2, "r2_time": self.r2_time,
                "halves": list(self.halves)}


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R² of y on x with an intercept (0, 0 when x or y does not move)."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0, 0.0
    # the closed form, not np.polyfit: the load checks fit hundreds of event pairs per
    # scan, and polyfit's SVD made them most of the analysis' time
    dx, dy = x - x.mean(), y - y.mean()
    slope = float(dx @ dy) / float(dx @ dx)
    res = dy - slope * dx
    return slope, float(1.0 - float(res @ res) / float(dy @ dy))


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


class EventIndex:
    """The events of a scan, each template's instants sorted and counted up once: every
    leak's regime asks for the same few templates, and selecting them from every
    (second, template) row per question was most of the load checks' time."""

    def __init__(self, ev_ts: np.ndarray, ev_ids: np.ndarray, weights: np.ndarray) -> None:
        self.ts, self.ids, self.weights = ev_ts, ev_ids, weights
        self._runs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def top(self, lo: int, hi: int) -> np.ndarray:
        """The most frequent templates between ``lo`` and ``hi``, most frequent first
        (ties: the smaller id first)."""
        inside = (self.ts >= lo) & (self.ts <= hi)
        if not inside.any():
            return np.zeros(0, np.int64)
        n = np.bincount(self.ids[inside].astype(np.int64))
        order = np.argsort(-n, kind="stable")
        return order[n[order] > 0][:TOP_EVENTS]

    def counted(self, tid: int, t: np.ndarray) -> np.ndarray:
        """How many ``tid`` events happened up to each instant of ``t``."""
        if tid not in self._runs:
            sel = self.ids == tid
            ets, w = self.ts[sel], self.weights[sel]
            order = np.argsort(ets, kind="stable")
            self._runs[tid] = ets[order], np.cumsum(w[order])
        ets, running = self._runs[tid]
        idx = np.searchsorted(ets, t, side="right") - 1
        return np.where(idx >= 0, running[np.maximum(idx, 0)], 0).astype(np.float64)


def _cumulative(t: np.ndarray, index: EventIndex) -> dict[int, np.ndarray]:
    """Each of the regime's most frequent events, counted up to each sample time."""
    return {int(tid): index.counted(int(tid), t) for tid in index.top(t[0], t[-1])}


def by_events(metric: str, t: np.ndarray, v: np.ndarray, cum: Mapping[int, np.ndarray],
              templates: list[str]) -> LoadExplanation | None:
    """The balance of two events (opened minus closed) that explains the growth of ``v``
    clearly better than the clock and than either event alone, with a stable growth per
    unit of it: the live count where none is printed; None when none does."""
    if len(v) < MIN_SAMPLES:
        return None
    r2_time = _ols((t - t[0]).astype(np.float64), v)[1]
    bar = max([r2_time, *(_ols(x, v)[1] for x in cum.values())])
    best: LoadExplanation | None = None
    for a in cum:
        for b in cum:
            if a == b:
                continue
            x = cum[a] - cum[b]
            per, r2 = _ols(x, v)
            # chosen among many pairs: it must leave at most 1/AS_WELL of what the best
            # of the clock and the single events leaves, not merely as much
            if per <= 0 or (1.0 - r2) * AS_WELL > 1.0 - bar:
                continue
            halves = _stable(x, v)
            if halves is not None and (best is None or r2 > best.r2):
                best = LoadExplanation(metric, f"{templates[a]} - {templates[b]}", "events",
                                       per, r2, r2_time, halves, (a, b))
    return best


def grows_per_event(v: np.ndarray, live: np.ndarray, cum: Mapping[int, np.ndarray],
                    material_live: bool = False) -> list[tuple[int, float, float, float, float]]:
    """The events that add to ``v`` every time they happen, beside what each unit of the
    live count holds: (event, amount per event, share of the growth, t, R²), best evidence
    first; empty when none does. Fitted as v = a * live + b * events + c, b clearly
    positive and material. Events whose counts span the same space tie (the opened and
    the closed event of the live count itself: a * (o - c) + b * c = (a - b) * (o - c) +
    b * o), and are all returned: which of them leaks is not in these counts. With
    ``material_live`` the live count must matter too (its term as clearly non-zero, and
    moving the gauge by that share of the growth): a leak whose live count barely moves
    keeps the fit its events alone give."""
    growth = float(v[-1] - v[0])
    if growth <= 0 or len(v) < MIN_SAMPLES + 2:
        return []
    found: list[tuple[int, float, float, float, float]] = []
    for tid, x in cum.items():
        design = np.column_stack([live, x, np.ones_like(x)])
        coef, *_ = np.linalg.lstsq(design, v, rcond=None)
        res = v - design @ coef
        gram = design.T @ design
        if np.linalg.matrix_rank(gram) < 3:
            continue  # the event is the live count (or constant) here: nothing beside it
        inv = np.linalg.inv(gram) * (float(res @ res) / (len(v) - 3))
        var = float(inv[1, 1])
        b = float(coef[1])
        share = b * float(x[-1] - x[0]) / growth
        if var <= 0 or b / np.sqrt(var) < PER_EVENT_T or share < PER_EVENT_SHARE:
            continue
        if material_live and (inv[0, 0] <= 0 or abs(coef[0]) / np.sqrt(inv[0, 0]) < PER_EVENT_T
                              or abs(coef[0]) * np.ptp(live) < PER_EVENT_SHARE * growth):
            continue
        found.append((tid, b, share, b / float(np.sqrt(var)), float(1 - res.var() / v.var())))
    found.sort(key=lambda f: -f[3])
    return [f for f in found if f[3] >= found[0][3] * (1 - 1e-6)] if found else []


def _one_for_one(x: np.ndarray, v: np.ndarray, bar: float) -> bool:
    per, r2 = _ols(x, v)
    return abs(per - 1.0) <= BALANCE and _as_well(r2, bar)


def by_event_balance(metric: str, t: np.ndarray, v: np.ndarray, index: EventIndex,
                     templates: list[str]) -> LoadExplanation | None:
    """The pair of events whose balance (first minus second, counted up to each sample)
    the count ``v`` follows one for one, at least as well as the clock; None when none."""
    if len(v) < MIN_SAMPLES:
        return None
    r2_time = _ols((t - t[0]).astype(np.float64), v)[1]
    cum = _cumulative(t, index)
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
                                       per, r2, r2_time, halves, (a, b))
    return best


def _regime(leak: LeakEstimate, series: Series) -> tuple[np.ndarray, np.ndarray]:
    t, v = series(leak.metric)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    lo = leak.growth_start_ms if leak.growth_start_ms is not None else leak.start_ms
    hi = leak.growth_end_ms if leak.growth_end_ms is not None else leak.end_ms
    keep = (t >= lo) & (t <= hi)
    return t[keep], v[keep]


@dataclass(frozen=True, slots=True)
class BesideLoad:
    """Growth a live count explains, kept as a leak: ``event`` adds ``amount`` per event
    beside what each unit of ``by`` holds (``share`` of the regime's growth)."""

    metric: str
    by: str
    events: tuple[str, ...]  # tied when several: the counts cannot tell which one leaks
    amount: float
    share: float
    r2: float  # of the joint fit (live count, event, intercept)
    decided: str | None = None  # "co-occurrence" when an exception named one of the tied

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "by": self.by, "events": list(self.events),
                "amount": self.amount, "share": self.share, "r2": self.r2,
                "decided": self.decided}


def _live(got: LoadExplanation, t: np.ndarray, cum: Mapping[int, np.ndarray],
          counts: Mapping[str, tuple[np.ndarray, np.ndarray]],
          balances: Mapping[str, LoadExplanation]) -> tuple[np.ndarray, np.ndarray]:
    """The live count behind an explanation at each sample, and which samples have it:
    the exact balance of events where one is known (a printed count is the value of its
    last line, late by up to its interval), else the count gauge as printed."""
    bal = balances.get(got.by) if got.kind == "gauge" else got
    if bal is not None and bal.pair is not None and all(e in cum for e in bal.pair):
        return cum[bal.pair[0]] - cum[bal.pair[1]], np.ones(len(t), dtype=bool)
    return _asof(t, *counts[got.by])


def _beside_moving_count(metric: str, t: np.ndarray, v: np.ndarray,
                        cum: Mapping[int, np.ndarray],
                        counts: Mapping[str, tuple[np.ndarray, np.ndarray]],
                        balances: Mapping[str, LoadExplanation],
                        index: EventIndex, templates: list[str]) -> BesideLoad | None:
    """A leak that no live count explains, during which one moves all the same (a slow
    ramp of sessions): its growth per event, fitted beside that count where the count is
    an exact balance of events (a printed count lags: it would bias both terms)."""
    best: BesideLoad | None = None
    for name, (ct, cv) in counts.items():
        bal = balances.get(name)
        if bal is None:
            inside = (ct >= t[0]) & (ct <= t[-1])
            bal = by_event_balance(name, ct[inside], cv[inside], index, templates)
        if bal is None or bal.pair is None or not all(e in cum for e in bal.pair):
            continue
        live = cum[bal.pair[0]] - cum[bal.pair[1]]
        extra = grows_per_event(v, live, cum, material_live=True)
        if extra and (best is None or extra[0][4] > best.r2):
            best = BesideLoad(metric, name, tuple(templates[e[0]] for e in extra),
                              extra[0][1], extra[0][2], extra[0][4])
    return best


def split_load(leaks: list[LeakEstimate], series: Series, count_gauges: list[str],
               events: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]],
               ) -> tuple[list[LeakEstimate], list[LoadExplanation], list[BesideLoad]]:
    """The leaks load does not explain, why the others are load, and the growth a live
    count explains that is kept as a leak all the same (an event adds memory beside it).
    A count gauge explains other gauges only when it is no leak itself (or its own growth
    is a balance of events): memory that follows a leaking thread count is that leak."""
    ev_ts, ev_ids, ev_counts, templates = events
    index = EventIndex(ev_ts, ev_ids, ev_counts.astype(np.float64))
    load: dict[str, LoadExplanation] = {}
    for leak in leaks:
        if leak.unit == "count":
            t, v = _regime(leak, series)
            got = by_event_balance(leak.metric, t, v, index, templates)
            if got is not None:
                load[leak.metric] = got
    balances = dict(load)
    leaking = {k.metric for k in leaks} - set(load)
    counts = {}
    for name in count_gauges:
        if name not in leaking:
            ct, cv = series(name)
            order = np.argsort(ct, kind="stable")
            counts[name] = (ct[order], cv[order])
    beside: list[BesideLoad] = []
    for leak in leaks:
        if leak.unit == "count" or leak.metric in load:
            continue
        t, v = _regime(leak, series)
        if len(v) < MIN_SAMPLES:
            continue
        cum = _cumulative(t, index)
        per = leak.per_event
        got = by_count_gauge(leak.metric, t, v, counts,
                             per.r2 if isinstance(per, PerEventAttribution) else None)
        if got is None:
            got = by_events(leak.metric, t, v, cum, templates)
        if got is None:
            moved = _beside_moving_count(leak.metric, t, v, cum, counts, balances, index,
                                         templates)
            if moved is not None:
                beside.append(moved)
            continue
        live, ok = _live(got, t, cum, counts, balances)
        extra = grows_per_event(v[ok], live[ok], {k: x[ok] for k, x in cum.items()})
        if not extra:
            load[leak.metric] = got
        else:
            beside.append(BesideLoad(leak.metric, got.by,
                                     tuple(templates[e[0]] for e in extra),
                                     extra[0][1], extra[0][2], extra[0][4]))
    return [k for k in leaks if k.metric not in load], list(load.values()), beside
