"""Growth of a metric series: robust slope, leak test, change points, exhaustion time.

Why Theil–Sen: monitor lines are noisy and a few outliers (a GC, a burst) must not
tilt the slope. Pairs are subsampled for large series so the cost stays bounded.
A leak is growth *without release*: a good linear fit, mostly non-negative steps,
and no drawdown that gives back a real share of the rise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from logsleuth.timeline._cols import NAT_MS, to_ms
from logsleuth.timeline.attribution import PerEventAttribution

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class LeakEstimate:
    """Trend of one metric over the evidence; ``is_leak`` says whether it is a leak."""

    metric: str
    unit: str
    n: int
    start_ms: int
    end_ms: int
    first_value: float
    last_value: float
    slope_per_hour: float  # Theil–Sen, metric unit per hour
    r2: float  # of the Theil–Sen line
    nonneg_fraction: float  # share of non-negative steps between coarse bins
    max_drop: float  # largest drawdown (peak to later trough), metric unit
    is_leak: bool
    change_points_ms: tuple[int, ...] = ()  # where the growth rate changes
    maximum: float | None = None
    exhaustion_at_ms: int | None = None  # when the fit reaches ``maximum``
    per_event: PerEventAttribution | None = None

    def with_per_event(self, per_event: PerEventAttribution | None) -> LeakEstimate:
        return replace(self, per_event=per_event)

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
                   maximum: float | None = None, bins: int = 200) -> LeakEstimate | None:
    """Trend of one series (``ts`` epoch ms or datetimes); None with fewer than 3 points."""
    t = to_ms(ts)
    v = np.asarray(values, dtype=np.float64)
    ok = (t != NAT_MS) & np.isfinite(v)
    t, v = t[ok], v[ok]
    if len(t) < 3:
        return None
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    x = (t - t[0]).astype(np.float64)
    slope, intercept = theil_sen(x, v)
    fit = intercept + slope * x
    ss_tot = float(np.sum((v - v.mean()) ** 2))
    r2 = 1.0 - float(np.sum((v - fit) ** 2)) / ss_tot if ss_tot > 0 else 0.0
    drawdown = float(np.max(np.maximum.accumulate(v) - v))
    # coarse bins: last value per equal-time bin, so per-sample noise does not dominate
    span = int(t[-1] - t[0])
    edges = t[0] + (np.arange(1, bins + 1) * span) // bins
    last_idx, first_edge = np.unique(np.searchsorted(t, edges, side="right") - 1,
                                     return_index=True)
    steps = np.diff(v[last_idx])
    nonneg = float(np.mean(steps >= 0)) if len(steps) else 0.0
    # a change point i splits steps[:i] from steps[i:]; step i ends at bin edge i + 1
    cp_ms = tuple(int(edges[first_edge[i]]) for i in change_points(steps))
    rise = slope * span
    # a steady line, or growth that is bursty (it follows traffic) but never released
    never_released = nonneg >= 0.95 and drawdown <= 0.01 * rise and v[-1] > v[0] * 1.05
    is_leak = bool(slope > 0 and (r2 >= 0.6 or never_released) and nonneg >= 0.6
                   and drawdown <= 0.25 * rise)
    return LeakEstimate(
        metric=metric, unit=unit, n=len(t), start_ms=int(t[0]), end_ms=int(t[-1]),
        first_value=float(v[0]), last_value=float(v[-1]),
        slope_per_hour=slope * HOUR_MS, r2=r2, nonneg_fraction=nonneg, max_drop=drawdown,
        is_leak=is_leak, change_points_ms=cp_ms, maximum=maximum,
        exhaustion_at_ms=_exhaustion(t, v, slope, maximum),
    )


def _exhaustion(t: np.ndarray, v: np.ndarray, slope: float, maximum: float | None) -> int | None:
    if maximum is None:
        return None
    reached = np.flatnonzero(v >= maximum)
    if len(reached):
        return int(t[reached[0]])
    if slope <= 0:
        return None
    return int(t[-1] + (maximum - v[-1]) / slope)


def detect_leak(ts: object, values: object, **kwargs: object) -> LeakEstimate | None:
    """``estimate_trend`` that answers None unless the series is a leak."""
    est = estimate_trend(ts, values, **kwargs)  # type: ignore[arg-type]
    return est if est is not None and est.is_leak else None


def estimate_leaks(metrics: pd.DataFrame,
                   maxima: Mapping[str, float] | None = None) -> list[LeakEstimate]:
    """Every leaking metric of a metrics table (columns ``metric, ts, value, unit``)."""
    out: list[LeakEstimate] = []
    maxima = maxima or {}
    for name, grp in metrics.groupby("metric", sort=True, observed=True):
        unit = str(grp["unit"].iloc[0]) if "unit" in grp.columns else ""
        est = detect_leak(grp["ts"], grp["value"].to_numpy(dtype=np.float64),
                          metric=str(name), unit=unit, maximum=maxima.get(str(name)))
        if est is not None:
            out.append(est)
    return out
