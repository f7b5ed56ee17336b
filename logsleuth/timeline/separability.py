"""Can the evidence tell two collinear events apart? Nested tests at the gauge's resolution.

Two events whose counts move together (a connect and the disconnect a few ms later) both
fit a gauge's growth. Their counts differ only in the windows where a session straddles a
gauge sample, so only windows that end at the gauge's own samples, with every event
placed to its millisecond, hold what tells them apart. On those windows each candidate
is tested for what it adds to the other: the joint fit ``y = a·x_a + b·x_b`` (no growth
without events, amounts never negative: a negative amount is a timing artefact, not a
leak) against each one alone, by the F statistic of the nested models.

A candidate is *decided* over its rival when what it adds is significant (``alpha``) and
either what the rival adds is not (``keep``) or, alone, it misses the windows' growth
less than the rival does (Vuong's paired z for non-nested models, at 1 %: with thousands
of windows a rival may add a sliver and still be the worse explanation), and all of it
still holds with any one window left out (closed form): a single window, typically the
first, where an allocator sets up its pool at the first connections, is not evidence
about the leak. Otherwise the honest answer is that the evidence cannot tell them apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.01  # what the winner adds beyond its rival: significant at 1 %
KEEP = 0.05  # what the rival adds beyond the winner: not significant at 5 %, or the
Z_ALPHA = 2.58  # winner is the closer single explanation by Vuong's paired z at 1 %
MIN_WINDOWS = 8
MAX_WINDOWS = 20_000  # windows x candidates is the memory of a fit: days of 1 Hz samples
                      # are regressed in windows of several samples, not per sample


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / (c if abs(c) > tiny else tiny)
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def f_sf(f: float, d1: int, d2: int) -> float:
    """P(F > f) for an F(d1, d2) variable: the p-value of a nested-model test."""
    if not f > 0.0 or d2 <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return _betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


@dataclass(frozen=True, slots=True)
class Separation:
    """What each of two candidates adds to the other over ``n`` gauge intervals."""

    a: str
    b: str
    n: int
    f_a: float  # F of adding a to the model of b alone
    p_a: float
    f_b: float
    p_b: float
    p_a_loo: float  # worst p of f_a with one window left out
    p_b_loo: float
    corr: float  # correlation of the two candidates' counts per interval
    winner: str | None  # a, b, or None: the evidence cannot tell them apart
    z: float = 0.0  # Vuong's paired z: which one alone explains the growth better (+: a)

    def to_json(self) -> dict[str, object]:
        return {"candidates": [self.a, self.b], "windows": self.n,
                "f": [self.f_a, self.f_b], "p": [self.p_a, self.p_b],
                "p_leave_one_out": [self.p_a_loo, self.p_b_loo], "corr": self.corr,
                "z": self.z, "winner": self.winner}


def _sse_loo(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least squares through the origin: SSE, coefficients and the SSE with each row left
    out (``SSE - e_i² / (1 - h_ii)``, the closed form of deleting one observation).

    One or two columns: sums of elementwise products, not BLAS (``dot``/``@`` on long
    vectors start BLAS threads that spin for milliseconds per call on a busy machine)."""
    cols = [np.ascontiguousarray(x[:, j]) for j in range(x.shape[1])]
    p = len(cols)
    gram = np.array([[float((cols[i] * cols[j]).sum()) for j in range(p)] for i in range(p)])
    try:
        inv = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(gram)
    beta = inv @ np.array([float((c * y).sum()) for c in cols])
    fitted = np.zeros_like(y)
    h = np.zeros_like(y)
    for i in range(p):
        fitted += beta[i] * cols[i]
        for j in range(p):
            h += inv[i, j] * cols[i] * cols[j]  # leverages: the diagonal of x inv x^T
    e = y - fitted
    sse = float((e * e).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = sse - np.where(h < 1 - 1e-9, e * e / (1 - h), e * e)
    return sse, beta, loo


def _added(sse_without: float | np.ndarray, sse_joint: float | np.ndarray, df: int,
           ) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.asarray(sse_joint) > 0,
                     (np.asarray(sse_without) - np.asarray(sse_joint))
                     / (np.asarray(sse_joint) / df), np.inf)
    return np.maximum(f, 0.0)


def separate(y: np.ndarray, xa: np.ndarray, xb: np.ndarray, a: str = "a", b: str = "b",
             *, alpha: float = ALPHA, keep: float = KEEP) -> Separation | None:
    """Nested tests of two candidates' counts ``xa``, ``xb`` against the increments ``y``."""
    n = len(y)
    if n < MIN_WINDOWS or not (xa.any() and xb.any()):
        return None
    sa, _, la = _sse_loo(xa[:, None], y)
    sb, _, lb = _sse_loo(xb[:, None], y)
    joint = np.column_stack([xa, xb])
    sj, beta, lj = _sse_loo(joint, y)
    if beta[0] < 0 or beta[1] < 0:  # a negative amount: the joint fit is the other alone
        sj, lj = (sb, lb) if beta[0] < 0 else (sa, la)
    df = n - 2
    f_a, f_b = float(_added(sb, sj, df)), float(_added(sa, sj, df))
    fa_loo, fb_loo = _added(lb, lj, df - 1), _added(la, lj, df - 1)
    if beta[0] < 0:
        f_a, fa_loo = 0.0, np.zeros(n)
    if beta[1] < 0:
        f_b, fb_loo = 0.0, np.zeros(n)
    p_a, p_b = f_sf(f_a, 1, df), f_sf(f_b, 1, df)
    pa_loo = f_sf(float(fa_loo.min()), 1, df - 1)
    pb_loo = f_sf(float(fb_loo.min()), 1, df - 1)
    corr = float(np.corrcoef(xa, xb)[0, 1]) if xa.std() > 0 and xb.std() > 0 else 1.0
    z, z_loo = _closer(y, xa, xb)
    winner = None
    if p_a < alpha and pa_loo < alpha and (p_b > keep or min(z, z_loo[0]) >= Z_ALPHA):
        winner = a
    elif p_b < alpha and pb_loo < alpha and (p_a > keep or max(z, z_loo[1]) <= -Z_ALPHA):
        winner = b
    return Separation(a, b, n, f_a, p_a, f_b, p_b, pa_loo, pb_loo, corr, winner, z)


def _closer(y: np.ndarray, xa: np.ndarray, xb: np.ndarray,
            ) -> tuple[float, tuple[float, float]]:
    """Vuong's paired z of which single-event model misses each window's growth less
    (positive: ``a``), and its least favourable values for ``a`` and for ``b`` with one
    window left out. Non-nested: with thousands of windows a rival may add a sliver to the
    winner's fit (F significant) and still be far from the better explanation."""
    def resid(x: np.ndarray) -> np.ndarray:
        sxx = float((x * x).sum())
        return y - (float((x * y).sum()) / sxx) * x if sxx > 0 else y
    ea, eb = resid(xa), resid(xb)
    d = eb * eb - ea * ea
    n = len(d)
    s1, s2 = float(d.sum()), float((d * d).sum())

    def zval(t1: np.ndarray | float, t2: np.ndarray | float, m: int) -> np.ndarray:
        mean = np.asarray(t1) / m
        var = (np.asarray(t2) - m * mean * mean) / (m - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(var > 0, mean / np.sqrt(var / m), 0.0)
    loo = zval(s1 - d, s2 - d * d, n - 1)
    return float(zval(s1, s2, n)), (float(loo.min()), float(loo.max()))


def gauge_intervals(t: np.ndarray, v: np.ndarray,
                    ranges: Sequence[tuple[int, int]] | None, max_windows: int,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample times and values inside the growth ranges (sorted), and which consecutive
    pairs lie in one range: the windows ending at the gauge's own samples. Long series are
    thinned to every k-th sample (at most ``max_windows`` windows)."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    seg = np.zeros(len(t), np.int64)
    if ranges:
        seg[:] = -1
        for i, (lo, hi) in enumerate(sorted(ranges)):
            seg[(t >= lo) & (t <= hi)] = i
        inside = seg >= 0
        t, v, seg = t[inside], v[inside], seg[inside]
    k = len(t) // max_windows + 1
    t, v, seg = t[::k], v[::k], seg[::k]
    return t, v, seg[1:] == seg[:-1]


def interval_counts(t: np.ndarray, same: np.ndarray, ets: np.ndarray,
                    weights: np.ndarray | None) -> np.ndarray:
    """Events in each interval ``(t[i-1], t[i]]`` kept by ``same``, to the millisecond."""
    slot = np.searchsorted(t, ets, side="left") - 1
    ok = (slot >= 0) & (slot < len(t) - 1)
    counts = np.bincount(slot[ok], weights=None if weights is None else weights[ok],
                         minlength=len(t) - 1)
    return counts[same].astype(np.float64)
