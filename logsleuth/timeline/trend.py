"""Growth of a metric series: robust slope, leak test, change points, exhaustion time.

Why Theil–Sen: monitor lines are noisy and a few outliers (a GC, a burst) must not
tilt the slope. Pairs are subsampled for large series so the cost stays bounded.
A leak is growth *without release*: a good linear fit, mostly non-negative steps,
and no drawdown that gives back a real share of the rise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from logsleuth.timeline._cols import NAT_MS, to_ms
from logsleuth.timeline.attribution import NoAttribution, PerEventAttribution
from logsleuth.timeline.ceilings import Ceiling
from logsleuth.timeline.projection import Projection, from_events, from_gauge
from logsleuth.timeline.regimes import Regime, segment

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class LeakEstimate:
    """Trend of one metric over the evidence; ``is_leak`` says whether it is a leak.

    The slope, R² and step statistics are those of the growth regime, on the series
    resampled per ``bin_ms``; ``start_ms``/``end_ms`` span every sample.
    """

    metric: str
    unit: str
    n: int
    start_ms: int
    end_ms: int
    first_value: float
    last_value: float
    slope_per_hour: float  # Theil–Sen over the growth regime, metric unit per hour
    r2: float  # of the Theil–Sen line
    nonneg_fraction: float  # share of non-negative steps between time bins
    max_drop: float  # largest drawdown (peak to later trough) in the growth regime
    is_leak: bool
    change_points_ms: tuple[int, ...] = ()  # where a regime ends and the next begins
    maximum: float | None = None  # the ceiling's value
    exhaustion_at_ms: int | None = None  # when the ceiling was (or will be) reached
    per_event: PerEventAttribution | None = None
    growth_start_ms: int | None = None
    growth_end_ms: int | None = None
    ceiling_reached_ms: int | None = None  # observed, not projected
    ceiling: Ceiling | None = None
    regimes: tuple[Regime, ...] = ()
    growth_ranges_ms: tuple[tuple[int, int], ...] = ()  # every growth run (restarts)
    error_values: int = 0  # samples read from failure messages (kept out of the fit)
    bin_ms: int = 0
    gauge: dict[str, object] | None = None  # a discovered gauge: template, example, YAML
    per_event_reason: NoAttribution | None = None  # why ``per_event`` is None
    projection: Projection | None = None  # the ETA, its range and the rate it came from
    segment_start_ms: int | None = None  # the growth's process began (after a release)
    # a thread gauge: the name groups that grew between the first and last dump
    thread_groups: tuple[dict[str, object], ...] = ()

    def with_per_event(self, per_event: PerEventAttribution | NoAttribution | None,
                       ) -> LeakEstimate:
        if isinstance(per_event, NoAttribution):
            return replace(self, per_event=None, per_event_reason=per_event)
        return replace(self, per_event=per_event, per_event_reason=None)

    @property
    def projected(self) -> bool:
        """The exhaustion time is a projection (the ceiling was not reached yet)."""
        return self.exhaustion_at_ms is not None and self.ceiling_reached_ms is None

    def projection_json(self) -> dict[str, object]:
        """When the ceiling is reached, which ceiling and where it was read, and from
        what data window the growth rate came (``predict_linear`` practice)."""
        c, p = self.ceiling, self.projection
        horizon = (None if not self.projected or self.exhaustion_at_ms is None
                   else int(self.exhaustion_at_ms - self.end_ms))
        return {
            "exhaustion_at": _iso(self.exhaustion_at_ms),
            "state": ("reached" if self.ceiling_reached_ms is not None else
                      "projected" if self.exhaustion_at_ms is not None else
                      "no-ceiling-known" if c is None else "not-growing"),
            "ceiling": None if c is None else c.to_json(),
            "horizon_ms": horizon,
            "window": self.window_json(),
            **({} if p is None or not self.projected else p.to_json()),
        }

    def window_json(self) -> dict[str, str | None]:
        """The data the growth rate of the projection came from."""
        p = self.projection
        if p is None or not self.projected:
            return {"start": _iso(self.growth_start_ms), "end": _iso(self.growth_end_ms)}
        return {"start": _iso(p.window_ms[0]), "end": _iso(p.window_ms[1])}

    def to_json(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "n": self.n,
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
            "slope_per_hour": self.slope_per_hour,
            "r2": self.r2,
            "nonneg_fraction": self.nonneg_fraction,
            "max_drop": self.max_drop,
            "is_leak": self.is_leak,
            "change_points": [_iso(t) for t in self.change_points_ms],
            "maximum": self.maximum,
            "exhaustion_at": _iso(self.exhaustion_at_ms),
            "per_event": None if self.per_event is None else self.per_event.to_json(),
            "per_event_reason": None if self.per_event_reason is None
            else self.per_event_reason.to_json(),
            "growth_start": _iso(self.growth_start_ms),
            "ceiling_reached_at": _iso(self.ceiling_reached_ms),
            "projection": self.projection_json(),
            "regimes": [r.to_json() for r in self.regimes],
            "error_values": self.error_values,
            "gauge": self.gauge,
        }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")


def theil_sen(x: np.ndarray, y: np.ndarray, *, max_pairs: int = 200_000,
              seed: int = 0) -> tuple[float, float]:
    """Median pairwise slope and the median intercept; pairs subsampled beyond ``max_pairs``."""
    n = len(x)
    if n < 2:
        return 0.0, float(y[0]) if n else 0.0
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, size=max_pairs)
        j = rng.integers(0, n, size=max_pairs)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return 0.0, float(np.median(y))
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok]))
    return slope, float(np.median(y - slope * x))


def change_points(values: np.ndarray, *, max_points: int = 5, min_size: int = 5,
                  penalty: float | None = None) -> list[int]:
    """Binary segmentation for shifts in the mean; returns sorted split indices.

    A split is kept when it lowers the squared error by more than ``penalty``
    (default ``6 σ² log n`` with σ from the median absolute step, robust to the
    shifts themselves).
    """
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n < 2 * min_size:
        return []
    if penalty is None:
        sigma = 1.4826 * float(np.median(np.abs(np.diff(y)))) / np.sqrt(2.0)
        if sigma == 0.0:
            sigma = max(float(np.std(y)) * 1e-3, 1e-12)
        penalty = 6.0 * sigma * sigma * np.log(n)
    splits: list[int] = []
    segments = [(0, n)]
    while segments and len(splits) < max_points:
        best = (0.0, -1, -1)
        for a, b in segments:
            k, gain = _best_split(y[a:b], min_size)
            if k >= 0 and gain > best[0]:
                best = (gain, a, a + k)
        gain, a, k = best
        if k < 0 or gain <= penalty:
            break
        splits.append(k)
        seg = next(s for s in segments if s[0] == a)
        segments.remove(seg)
        segments += [(seg[0], k), (k, seg[1])]
    return sorted(splits)


def _best_split(y: np.ndarray, min_size: int) -> tuple[int, float]:
    n = len(y)
    if n < 2 * min_size:
        return -1, 0.0
    c = np.cumsum(y)
    total = c[-1]
    k = np.arange(min_size, n - min_size + 1)
    left = c[k - 1]
    gain = left**2 / k + (total - left) ** 2 / (n - k) - total**2 / n
    i = int(np.argmax(gain))
    return int(k[i]), float(gain[i])


def estimate_trend(ts: object, values: object, *, metric: str = "", unit: str = "",
                   maximum: float | None = None, bins: int = 200,
                   from_error: object = None, ceiling: Ceiling | None = None,
                   failed_ms: Sequence[int] = ()) -> LeakEstimate | None:
    """Trend of one series (``ts`` epoch ms or datetimes); None with fewer than 3 points.

    ``from_error`` marks values read from failure messages (True per sample): they
    say when the ceiling was hit but stay out of the fit while the gauge itself was
    sampled. ``ceiling`` (or a bare ``maximum``) is the limit the gauge runs into.
    ``bins`` is kept for callers; the time bins follow the gauge's own cadence.
    ``failed_ms``: when the resource's own failure was logged (the first
    ``OutOfMemoryError: Java heap space`` for the heap): it ran out then, at whatever
    level the gauge held, as a failure message's value says.
    """
    t = to_ms(ts)
    v = np.asarray(values, dtype=np.float64)
    err = (np.zeros(len(v), bool) if from_error is None
           else np.asarray(from_error, dtype=bool))
    ok = (t != NAT_MS) & np.isfinite(v)
    t, v, err = t[ok], v[ok], err[ok]
    if len(t) < 3:
        return None
    order = np.argsort(t, kind="stable")
    t, v, err = t[order], v[order], err[order]
    if ceiling is None and maximum is not None:
        ceiling = Ceiling(float(maximum), "maximum", None)
    gauge = ~err if (~err).sum() >= 3 else np.ones(len(t), bool)
    failed = np.sort(np.concatenate([t[err & ~gauge], np.asarray(failed_ms, np.int64)]))
    seg = segment(t[gauge], v[gauge], ceiling=None if ceiling is None else ceiling.value,
                  error_t=failed)
    tb, vb = seg.t, seg.v
    a, b = seg.growth if seg.growth is not None else (0, len(tb) - 1)
    gt, gv = tb[a:b + 1], vb[a:b + 1]
    slope, r2, nonneg, drawdown = _fit(gt, gv)
    if seg.ceiling_reached_ms is not None:  # it ran out: a few big chunks are evidence too
        is_leak = seg.growth is not None and _rises(gt, gv, slope, r2, nonneg, drawdown)
    else:
        is_leak = seg.growth is not None and _sustained(gt, gv, (slope, r2, nonneg, drawdown))
    cps = tuple(sorted({r.start_ms for r in seg.regimes[1:]}))
    exhaustion, proj = seg.ceiling_reached_ms, None
    first, last = _process_span(seg.regimes, int(gt[0]), int(tb[0]), int(tb[-1]))
    if exhaustion is None and ceiling is not None and is_leak and slope > 0:
        # the whole regime by time, to its newest sample (quiet stretches included)
        proj = from_gauge(tb, vb, int(gt[0]), last, ceiling.value)
        exhaustion = (proj.at_ms if proj is not None
                      else int(gt[-1] + max(ceiling.value - gv[-1], 0.0) / slope))
    return LeakEstimate(
        metric=metric, unit=unit, n=len(t), start_ms=int(t[0]), end_ms=int(t[-1]),
        first_value=float(v[0]), last_value=float(v[gauge][-1]),
        slope_per_hour=slope * HOUR_MS, r2=r2, nonneg_fraction=nonneg, max_drop=drawdown,
        is_leak=is_leak, change_points_ms=cps,
        maximum=None if ceiling is None else ceiling.value, exhaustion_at_ms=exhaustion,
        growth_start_ms=int(gt[0]), growth_end_ms=int(gt[-1]),
        ceiling_reached_ms=seg.ceiling_reached_ms, ceiling=ceiling, regimes=seg.regimes,
        growth_ranges_ms=seg.growth_ranges_ms, error_values=int(err.sum()), bin_ms=seg.bin_ms,
        projection=proj, segment_start_ms=first,
    )


def _process_span(regimes: tuple[Regime, ...], growth_start: int, first: int,
                  last: int) -> tuple[int, int]:
    """From the release before the growth to the release after it (or the evidence's
    ends): the same process's life, over which its rates are measured."""
    for r in regimes:
        if r.kind != "release":
            continue
        if r.end_ms <= growth_start:
            first = r.end_ms
        elif r.start_ms >= growth_start:
            return first, min(last, r.start_ms)
    return first, last


def _rises(t: np.ndarray, v: np.ndarray, slope: float, r2: float, nonneg: float,
           drawdown: float) -> bool:
    """The growth run rises as a leak does: a positive slope, a line that fits or steps
    that never go back, and no release larger than a quarter of the rise."""
    rise = slope * float(t[-1] - t[0]) if len(t) > 1 else 0.0
    never_released = (nonneg >= 0.95 and drawdown <= 0.01 * rise
                      and v[-1] > v[0] + 0.05 * abs(v[0]) and v[-1] > v[0])
    return bool(len(t) >= 5 and slope > 0 and (r2 >= 0.6 or never_released)
                and nonneg >= 0.6 and drawdown <= 0.25 * rise)


def _sustained(t: np.ndarray, v: np.ndarray,
               fit: tuple[float, float, float, float]) -> bool:
    """A leak short of its ceiling: it rises (``_rises``) in five observed rises, not five
    samples, and still does without its largest jump when one jump makes most of it.

    Gauges move in quanta (G1 regions, metaspace chunks) and sit on a few levels for many
    samples: three region steps in a JVM's first seconds are its warm-up. And a start-up
    ends in a jump: metaspace +5 MiB as the last classes load, then creeping by KiB (R2
    -0.1, yet never released) is a warm-up; +6.6 MiB of class loading then +24 % more,
    steadily, is a warm-up and a leak (sample_logs/resources/metaspace-g1)."""
    steps = np.diff(v)
    if int(np.count_nonzero(steps > 0)) < 5 or not _rises(t, v, *fit):
        return False
    k = int(np.argmax(steps))
    if steps[k] <= 0.5 * float(v[-1] - v[0]):
        return True
    rest_t, rest_v = t[k + 1:], v[k + 1:]
    return (int(np.count_nonzero(np.diff(rest_v) > 0)) >= 5
            and _rises(rest_t, rest_v, *_fit(rest_t, rest_v)))


def _fit(t: np.ndarray, v: np.ndarray) -> tuple[float, float, float, float]:
    """Theil–Sen slope (per ms), its R², the share of non-negative steps, the drawdown."""
    if len(t) < 2:
        return 0.0, 0.0, 0.0, 0.0
    x = (t - t[0]).astype(np.float64)
    slope, intercept = theil_sen(x, v)
    fit = intercept + slope * x
    ss_tot = float(np.sum((v - v.mean()) ** 2))
    r2 = 1.0 - float(np.sum((v - fit) ** 2)) / ss_tot if ss_tot > 0 else 0.0
    drawdown = float(np.max(np.maximum.accumulate(v) - v))
    steps = np.diff(v)
    return slope, r2, float(np.mean(steps >= 0)), drawdown


def with_event_rate(leak: LeakEstimate, amount: float, ev_ts: np.ndarray,
                    ev_counts: np.ndarray, bucket_ms: int) -> LeakEstimate:
    """The projection at ``amount`` per event times the event's own rate (``ev_ts``,
    ``ev_counts``: its counts per bucket), when the gauge's projection exists: events
    are counted over a longer window than the gauge has grown in."""
    g = leak.projection
    if g is None or not leak.projected or leak.ceiling is None:
        return leak
    p = from_events(g, amount, np.asarray(ev_ts, np.int64), np.asarray(ev_counts),
                    growth_start=int(leak.growth_start_ms or g.window_ms[0]),
                    earliest_start=int(leak.segment_start_ms or leak.start_ms),
                    bucket_ms=bucket_ms, ceiling=leak.ceiling.value)
    return leak if p is None else replace(leak, projection=p, exhaustion_at_ms=p.at_ms)


def detect_leak(ts: object, values: object, **kwargs: object) -> LeakEstimate | None:
    """``estimate_trend`` that answers None unless the series is a leak."""
    est = estimate_trend(ts, values, **kwargs)  # type: ignore[arg-type]
    return est if est is not None and est.is_leak else None


def estimate_leaks(metrics: pd.DataFrame, maxima: Mapping[str, float] | None = None, *,
                   ceilings: Mapping[str, Ceiling] | None = None,
                   everything: bool = False,
                   failed_ms: Mapping[str, int] | None = None) -> list[LeakEstimate]:
    """Every leaking metric of a metrics table (columns ``metric, ts, value, unit``
    [, ``origin``]): ceilings are not gauges, error values are marked. ``everything``
    returns the estimates of non-leaking gauges too. ``failed_ms``: per metric, when its
    resource's own failure was first logged (``estimate_trend``)."""
    out: list[LeakEstimate] = []
    maxima = maxima or {}
    ceilings = ceilings or {}
    origin = metrics["origin"] if "origin" in metrics.columns else None
    for name, grp in metrics.groupby("metric", sort=True, observed=True):
        org = None if origin is None else grp["origin"].astype(str).to_numpy()
        if org is not None and (org == "limit").all():
            continue
        unit = str(grp["unit"].iloc[0]) if "unit" in grp.columns else ""
        est = estimate_trend(grp["ts"], grp["value"].to_numpy(dtype=np.float64),
                             metric=str(name), unit=unit, maximum=maxima.get(str(name)),
                             from_error=None if org is None else org == "error",
                             ceiling=ceilings.get(str(name)),
                             failed_ms=[v for v in [(failed_ms or {}).get(str(name))]
                                        if v is not None])
        if est is not None and (est.is_leak or everything):
            out.append(est)
    return out
