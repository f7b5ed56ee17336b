"""Which event explains a metric's growth, and by how much per event.

The metric's increments per window are regressed against per-window counts of
each candidate (message template or exception fingerprint). Windows are runs of
``k`` consecutive metric samples, so increments telescope exactly and events are
assigned to the sample interval they fall in; ``k`` is chosen adaptively (the
window size giving the best fit, with at least ``min_windows`` windows), because
measurement noise is per sample while the signal grows with the window.

Fits are rejected honestly: low R², candidates whose count variation cannot show in
the gauge (under its reading error), and fits no better than the best fit over all
candidates against shuffled increments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from logsleuth.timeline._cols import NAT_MS, to_ms
from logsleuth.timeline.separability import (
    KEEP,
    MAX_WINDOWS,
    Separation,
    f_sf,
    gauge_intervals,
    interval_counts,
    separate,
)
from logsleuth.timeline.ties import (
    COLLINEAR,
    Z_1PCT,
    as_good,
    event_times,
    interval_totals,
    tie_words,
    with_ties,
)
from logsleuth.timeline.visibility import (
    TOO_STEADY,
    flat_words,
    resolution,
    visible,
)

WINDOW_SAMPLES = (1, 2, 5, 10, 20, 30, 60, 120, 300)


@dataclass(frozen=True, slots=True)
class PerEventAttribution:
    """``amount`` metric units per ``template`` event, fitted over ``n`` windows."""

    template: str
    amount: float
    unit: str
    r2: float
    n: int
    model: str = "origin"  # "origin" (no growth without events) or "intercept"
    intercept: float = 0.0  # per window, for the intercept model
    events: int = 0
    window_ms: int = 0
    p_value: float = 1.0
    # candidates whose counts move with this one's (connect vs disconnect in short
    # sessions): ``decided`` says whether their timing (lead/lag) told them apart
    alternatives: tuple[str, ...] = ()
    decided: str = "unique"  # "unique" | "lead-lag" | "co-occurrence" | "ambiguous"
    alternative_amounts: tuple[float, ...] = ()  # per event of each alternative
    separations: tuple[Separation, ...] = ()  # the tests that decided, or could not

    def to_json(self) -> dict[str, object]:
        return {"template": self.template, "amount": self.amount, "unit": self.unit,
                "r2": self.r2, "n": self.n, "model": self.model, "intercept": self.intercept,
                "events": self.events, "window_ms": self.window_ms, "p_value": self.p_value,
                "alternatives": list(self.alternatives), "decided": self.decided,
                "alternative_amounts": list(self.alternative_amounts),
                "separations": [s.to_json() for s in self.separations]}


@dataclass(frozen=True, slots=True)
class NoAttribution:
    """Why no event is named for a leak's growth, with the figures that decided it.

    ``code``: ``no-samples`` (under 3 gauge samples in the growth range), ``no-events``
    (no message template with ``min_events`` records there), ``few-windows`` (events in
    under 5 windows), ``flat-counts`` (every candidate's count per window nearly constant:
    growth per event and growth per unit of time cannot be told apart), ``no-growth``
    (no candidate's count rises with the growth), ``weak-fit`` (the best fit's R² under the
    minimum), ``not-significant`` (no better than shuffled increments). ``message`` names
    the event as ``{event}`` until ``named`` fills it in (the caller knows template texts).
    """

    code: str
    message: str
    windows: int = 0
    template: str | None = None  # the best candidate, when there was one
    amount: float | None = None  # its amount per event, had it been named
    clock: Separation | None = None  # the candidate against a constant rate per second
    unit: str = ""
    # events whose counts per gauge interval move with ``template``'s (connect vs disconnect
    # in short sessions), each with its amount per event and that correlation; ``decided``
    # says whether timing at the gauge's samples told them apart ("lead-lag": ``template``
    # adds to each rival's fit and no rival to its own) or not ("ambiguous"); None: no tie
    alternatives: tuple[str, ...] = ()
    alternative_amounts: tuple[float, ...] = ()
    alternative_corr: tuple[float, ...] = ()
    decided: str | None = None
    separations: tuple[Separation, ...] = ()

    def named(self, template: str | None) -> NoAttribution:
        return replace(self, template=template)

    def renamed(self, name: Callable[[str], str]) -> NoAttribution:
        """Every key (the candidate, its tied rivals, the tests between them) by ``name``."""
        def n(k: str | None) -> str | None:
            return None if k is None or k == "clock" else name(k)
        return replace(self, template=n(self.template),
                       alternatives=tuple(name(a) for a in self.alternatives),
                       separations=tuple(replace(sp, a=n(sp.a) or sp.a, b=n(sp.b) or sp.b,
                                                 winner=n(sp.winner) if sp.winner else None)
                                         for sp in self.separations))

    def to_json(self) -> dict[str, object]:
        text = self.message.replace("{event}", f"'{self.template}'")
        if self.alternatives:
            text = text.replace("{alt0}", f"'{self.alternatives[0]}'") + tie_words(self)
        clock = None if self.clock is None else self.clock.to_json()
        if clock is not None and self.template is not None:
            clock["candidates"] = [self.template, "clock"]
            if self.clock is not None and self.clock.winner == self.clock.a:
                clock["winner"] = self.template
        return {"code": self.code, "message": text, "windows": self.windows,
                "template": self.template, "amount": self.amount, "clock": clock,
                "alternatives": list(self.alternatives),
                "alternative_amounts": list(self.alternative_amounts),
                "alternative_corr": list(self.alternative_corr), "decided": self.decided,
                "separations": [sp.to_json() for sp in self.separations]}


@dataclass(frozen=True, slots=True)
class CandidateFit:
    """Both fits of one candidate at one window size."""

    key: str
    events: int
    windows_present: int
    slope_origin: float
    r2_origin: float
    slope: float
    intercept: float
    r2: float  # with intercept: squared correlation

    @property
    def best_r2(self) -> float:
        """The better fit of the two models that say the event adds growth: a model
        whose amount per event is negative explains nothing (metaspace-g1: 'Request
        handled' ranked first by R² 0.99 for -23 KB per request plus 6.6 MB per window)."""
        return max(self.r2_origin if self.slope_origin > 0 else -math.inf,
                   self.r2 if self.slope > 0 else -math.inf)


def _windows(t: np.ndarray, v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    edges = t[::k]
    y = np.diff(v[::k])
    return edges, y


def _in_ranges(t: np.ndarray, ranges: Sequence[tuple[int, int]] | None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Samples inside the growth ranges and the range each belongs to: increments across
    a release, a saturation or a gap between ranges explain nothing and are dropped."""
    if not ranges:
        return np.ones(len(t), bool), np.zeros(len(t), np.int64)
    seg = np.full(len(t), -1, np.int64)
    for i, (a, b) in enumerate(sorted(ranges)):
        seg[(t >= a) & (t <= b)] = i
    return seg >= 0, seg


def _count_matrix(edges: np.ndarray, interval: np.ndarray, k: int, codes: np.ndarray,
                  ncand: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Events per (window, candidate). ``interval`` is each event's sample interval
    (``searchsorted(t, ets) - 1``, found once): a window is ``k`` intervals, so the
    window is ``interval // k`` (the last sample before the event is in it)."""
    nwin = len(edges) - 1
    w = interval // k  # intervals are >= 0 and codes valid: filtered once by the caller
    ok = w < nwin
    flat = np.bincount(codes[ok] * nwin + w[ok], minlength=ncand * nwin,
                       weights=None if weights is None else weights[ok])
    return flat.reshape(ncand, nwin).T.astype(np.float64)


def _coarser(base: np.ndarray, m: int, nwin: int) -> np.ndarray:
    """Counts per window of ``m`` base windows: window ``j`` sums base windows
    ``j*m .. j*m+m-1``, which exist for every ``j < nwin`` (the last sample's multiple
    of the larger size is never past the smaller size's)."""
    if m == 1:
        return base[:nwin]
    return base[:nwin * m].reshape(nwin, m, base.shape[1]).sum(axis=1)


def _fits(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Column-wise fits of y on each column of x: origin and intercept models."""
    n = len(y)
    sxx = np.einsum("ij,ij->j", x, x)
    sxy = x.T @ y
    syy = float(y @ y)
    ybar = y.mean()
    sst = syy - n * ybar * ybar
    with np.errstate(divide="ignore", invalid="ignore"):
        b0 = np.where(sxx > 0, sxy / sxx, 0.0)
        r2_0 = np.where(sxx > 0, 1.0 - (syy - sxy * b0) / sst, 0.0) if sst > 0 else 0 * sxx
        xbar = x.mean(axis=0)
        cxx = sxx - n * xbar * xbar
        cxy = sxy - n * xbar * ybar
        b1 = np.where(cxx > 0, cxy / cxx, 0.0)
        r2_1 = np.where((cxx > 0) & (sst > 0), cxy * cxy / (cxx * sst), 0.0)
    return b0, r2_0, b1, ybar - b1 * xbar, r2_1


def rank_candidates(metric_ts: object, metric_values: object, event_ts: object,
                    event_keys: Sequence[str] | pd.Series | np.ndarray, *,
                    samples_per_window: int | None = None, min_events: int = 10,
                    max_candidates: int = 200, min_windows: int = 30,
                    event_weights: np.ndarray | None = None,
                    ranges_ms: Sequence[tuple[int, int]] | None = None) -> list[CandidateFit]:
    """Fits of every candidate at the chosen window size, best first."""
    fits, _, _ = _rank(metric_ts, metric_values, event_ts, event_keys,
                       samples_per_window, min_events, max_candidates, min_windows,
                       event_weights, ranges_ms)
    return fits


def _rank(metric_ts: object, metric_values: object, event_ts: object,
          event_keys: Sequence[str] | pd.Series | np.ndarray, k_fixed: int | None,
          min_events: int, max_candidates: int, min_windows: int,
          weights: np.ndarray | None = None,
          ranges: Sequence[tuple[int, int]] | None = None,
          ) -> tuple[list[CandidateFit], tuple[np.ndarray, np.ndarray], int]:
    fits, xy, step, _, _ = _rank_cols(metric_ts, metric_values, event_ts, event_keys, k_fixed,
                                   min_events, max_candidates, min_windows, weights, ranges)
    return fits, xy, step


def _rank_cols(metric_ts: object, metric_values: object, event_ts: object,
               event_keys: Sequence[str] | pd.Series | np.ndarray, k_fixed: int | None,
               min_events: int, max_candidates: int, min_windows: int,
               weights: np.ndarray | None = None,
               ranges: Sequence[tuple[int, int]] | None = None,
               ) -> tuple[list[CandidateFit], tuple[np.ndarray, np.ndarray], int, dict[str, int],
                          np.ndarray]:
    """``_rank`` plus each fitted candidate's column in the returned count matrix and each
    window's (start ms, end ms, growth range) as rows of an array."""
    t = to_ms(metric_ts)
    v = np.asarray(metric_values, dtype=np.float64)
    ok = (t != NAT_MS) & np.isfinite(v)
    order = np.argsort(t[ok], kind="stable")
    t, v = t[ok][order], v[ok][order]
    quantum = resolution(v)  # what the gauge can show, over all its readings
    inside_ranges, seg = _in_ranges(t, ranges)
    t, v, seg = t[inside_ranges], v[inside_ranges], seg[inside_ranges]
    ets = to_ms(event_ts)
    keys = event_keys if isinstance(event_keys, np.ndarray | pd.Series) else np.asarray(
        list(event_keys), dtype=object)
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu" and len(keys) \
            and keys.min() >= 0:  # ids already (template ids of the scan): nothing to hash
        codes, uniques = keys.astype(np.int64), np.arange(int(keys.max()) + 1)
    else:
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
    codes = np.where(ets == NAT_MS, -1, codes)
    has = codes >= 0
    totals = np.bincount(codes[has], minlength=len(uniques),
                         weights=None if weights is None else weights[has]).astype(np.int64)
    keep = np.flatnonzero(totals >= min_events)
    keep = keep[np.argsort(-totals[keep], kind="stable")][:max_candidates]
    remap = np.full(len(uniques) + 1, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    codes = remap[codes]  # -1 stays -1 via the last slot
    if len(t) < 3 or len(keep) == 0:
        return [], (np.zeros((0, 0)), np.zeros(0)), 0, {}, np.zeros((0, 3), np.int64)
    ks = [k_fixed] if k_fixed else [k for k in WINDOW_SAMPLES
                                     if min_windows <= len(t) // k <= MAX_WINDOWS]
    if not ks and not k_fixed and len(t) // WINDOW_SAMPLES[-1] > MAX_WINDOWS:
        ks = [len(t) // MAX_WINDOWS + 1]
    best: tuple[float, list[CandidateFit], tuple[np.ndarray, np.ndarray], int,
                dict[str, int], np.ndarray] | None = None
    interval = np.searchsorted(t, ets, side="left") - 1  # sample interval of each event
    inside = (interval >= 0) & (codes >= 0)  # the rest falls in no window at any size
    interval, codes = interval[inside], codes[inside]
    weights = None if weights is None else weights[inside]
    ks = ks or [1]
    # every window size is a multiple of their gcd: its windows are counted once and
    # summed in runs, so the events are binned once, not once per size
    base_k = math.gcd(*ks)
    base = _count_matrix(_windows(t, v, base_k)[0], interval, base_k, codes, len(keep),
                         weights)
    for k in ks:
        edges, y = _windows(t, v, k)
        x = _coarser(base, k // base_k, len(edges) - 1)
        same = seg[::k][1:] == seg[::k][:-1]  # a window inside one growth range
        spans = np.column_stack([edges[:-1], edges[1:], seg[::k][1:]])[same]
        if not same.all():
            x, y = x[same], y[same]
            if len(y) < 3:
                continue
        b0, r2_0, b1, a1, r2_1 = _fits(x, y)
        present = (x > 0).sum(axis=0)
        usable = present >= MIN_PRESENT
        # fitted when its variation shows above the gauge's reading error; the fit decides
        varies = usable & visible(x, np.where(b0 > 0, b0, np.abs(b1)), quantum)
        fits = [  # only growth can be attributed: a negative amount explains nothing here
            CandidateFit(str(uniques[keep[j]]), int(x[:, j].sum()), int(present[j]),
                         float(b0[j]), float(r2_0[j]), float(b1[j]), float(a1[j]), float(r2_1[j]))
            for j in np.flatnonzero(varies & ((b0 > 0) | (b1 > 0)))
        ]
        fits.sort(key=lambda f: -f.best_r2)
        score = fits[0].best_r2 if fits else -1.0
        if best is None or score > best[0]:
            step_ms = int(np.median(np.diff(edges)[same])) if same.any() else 0
            # every usable candidate's column: the fitted ones, and those too steady to
            # fit, which may still explain the growth as well as the best (``_collinear``)
            col = np.cumsum(usable) - 1
            cols = {str(uniques[keep[j]]): int(col[j]) for j in np.flatnonzero(usable)}
            best = (score, fits, (x[:, usable], y), step_ms, cols, spans)
    if best is None:
        return [], (np.zeros((0, 0)), np.zeros(0)), 0, {}, np.zeros((0, 3), np.int64)
    return best[1], best[2], best[3], best[4], best[5]


def attribute_increments(*args: Any, **kwargs: Any) -> PerEventAttribution | None:
    """``explain_increments``' event, or None when none explains the growth (callers that
    need the reason call ``explain_increments``)."""
    got = explain_increments(*args, **kwargs)
    return got if isinstance(got, PerEventAttribution) else None


def explain_increments(metric_ts: object, metric_values: object, event_ts: object,
                       event_keys: Sequence[str] | pd.Series | np.ndarray, *, unit: str = "",
                       samples_per_window: int | None = None, min_r2: float = 0.5,
                       min_events: int = 10, permutations: int = 200, alpha: float = 0.01,
                       min_windows: int = 30, seed: int = 0,
                       event_weights: np.ndarray | None = None,
                       ranges_ms: Sequence[tuple[int, int]] | None = None,
                       markers: Markers | None = None,
                       ) -> PerEventAttribution | NoAttribution:
    """The event that best explains the metric's increments, or why none does.

    ``event_keys`` are labels per event (template text, ``fingerprint``...). The
    origin model (no growth without events) is preferred unless the intercept
    model fits significantly better (nested F at 1 %). A candidate is fitted when its
    count per window varies enough to show in the gauge (``visible``). ``event_weights``
    lets one row stand for several events (counts per time bucket), so long evidence need
    not be expanded.
    ``ranges_ms`` are the growth regimes: only windows inside one of them are fitted.
    ``markers`` (exception instants, exceptions' own templates) help tell collinear
    candidates apart when timing cannot (``_decide``), and name the event whose failure
    path leaks when the frequent events' counts are too steady to fit at all.
    """
    got = _explain(metric_ts, metric_values, event_ts, event_keys, unit=unit,
                   samples_per_window=samples_per_window, min_r2=min_r2,
                   min_events=min_events, permutations=permutations, alpha=alpha,
                   min_windows=min_windows, seed=seed, event_weights=event_weights,
                   ranges_ms=ranges_ms, markers=markers)
    if isinstance(got, NoAttribution) and got.code in FLAT_RESCUE:
        marked = _flat_cooccurrence(metric_ts, metric_values, event_ts, event_keys,
                                    event_weights, ranges_ms, min_events, markers, unit)
        if marked is not None:
            return marked
    if isinstance(got, NoAttribution):
        return with_ties(replace(got, unit=unit), metric_ts, metric_values, event_ts,
                          event_keys, event_weights, ranges_ms, min_events)
    return got


FLAT_RESCUE = frozenset({"flat-counts", "weak-fit", "not-significant"})


def _explain(metric_ts: object, metric_values: object, event_ts: object,
             event_keys: Sequence[str] | pd.Series | np.ndarray, *, unit: str,
             samples_per_window: int | None, min_r2: float, min_events: int,
             permutations: int, alpha: float, min_windows: int, seed: int,
             event_weights: np.ndarray | None, ranges_ms: Sequence[tuple[int, int]] | None,
             markers: Markers | None) -> PerEventAttribution | NoAttribution:
    """The regression of ``explain_increments`` (its arguments, its answer)."""
    fits, (x, y), window_ms, cols, spans = _rank_cols(
        metric_ts, metric_values, event_ts, event_keys, samples_per_window, min_events, 200,
        min_windows, event_weights, ranges_ms)
    if not fits:
        return _no_fit(metric_ts, metric_values, event_ts, event_keys, event_weights,
                       ranges_ms, min_events, unit)
    trimmed = _without_warmup(x[:, cols[fits[0].key]], y, spans, ranges_ms,
                              resolution(metric_values))
    if trimmed is not None:  # refit on the steady part of each growth range
        steady = _rank_cols(metric_ts, metric_values, event_ts, event_keys,
                            samples_per_window, min_events, 200, min_windows, event_weights,
                            trimmed)
        if steady[0]:  # else the warm-up was all the variation there is: keep the whole
            ranges_ms = trimmed
            fits, (x, y), window_ms, cols, spans = steady
    top = fits[0]
    fitted = {f.key for f in fits}
    steady = [k for k in cols if k not in fitted][:5]  # most frequent first
    rivals = _collinear(fits, x, cols, y) + [
        f for f in _steady_fits(steady, x, cols, y, fits[0].events)
        if as_good(separate(y, x[:, cols[top.key]], x[:, cols[f.key]], top.key, f.key), f.key)]
    decided, seps = "unique", ()
    if rivals:
        top, decided, seps = _decide([top, *rivals], metric_ts, metric_values, event_ts,
                                     event_keys, event_weights, ranges_ms, markers)
        rivals = [f for f in [fits[0], *rivals] if f.key != top.key]
    # the intercept model only when its amount is positive and it fits significantly better
    # (nested F at 1 %): an intercept that wins by chance takes the level the events explain
    # and leaves the amount to the counts' variation alone, imprecise when it is small
    use_origin = top.slope_origin > 0 and (top.slope <= 0 or not _intercept_adds(top, len(y)))
    r2 = top.r2_origin if use_origin else top.r2
    amount = top.slope_origin if use_origin else top.slope
    if r2 < min_r2 or amount <= 0:  # a shrinking amount per event explains no growth
        grows = top.slope_origin > 0 or top.slope > 0
        short = f"R² {min_r2:g} needed" if grows else "neither amount is positive"
        u = f" {unit}" if unit else ""
        why = (f"the best fit, {{event}}, over {len(y)} windows: {top.slope_origin:.4g}{u} "
               f"per event with no growth without events (R² {top.r2_origin:.2f}), "
               f"{top.slope:.4g}{u} per event plus {top.intercept:.4g}{u} per window (R² "
               f"{top.r2:.2f}); {short}")
        return _rejected("weak-fit" if grows else "no-growth", why, top.key,
                         top.slope_origin, metric_ts, metric_values, event_ts, event_keys,
                         event_weights, ranges_ms, unit)
    p = _permutation_p(x[:, [cols[f.key] for f in fits]], y, top.r2, permutations, seed)
    if p > alpha:
        return _rejected("not-significant",
                         f"the best fit, {{event}} (R² {r2:.2f}, {len(y)} windows), is no "
                         f"better than fits to shuffled increments (p {p:.2g}, {alpha:g} "
                         "needed)", top.key, amount, metric_ts, metric_values, event_ts,
                         event_keys, event_weights, ranges_ms, unit)
    return PerEventAttribution(
        template=top.key, amount=top.slope_origin if use_origin else top.slope, unit=unit,
        r2=r2, n=len(y), model="origin" if use_origin else "intercept",
        intercept=0.0 if use_origin else top.intercept, events=top.events,
        window_ms=window_ms, p_value=p, alternatives=tuple(f.key for f in rivals),
        decided=decided, alternative_amounts=tuple(
            f.slope_origin if use_origin else f.slope for f in rivals),
        separations=seps)


MIN_PRESENT = 5  # windows with events a candidate needs to be fitted


def _intercept_adds(f: CandidateFit, n: int, alpha: float = 0.01) -> bool:
    """Whether growth without events (the intercept) adds significantly to the origin fit:
    the nested F of the two models, from their R² over the same windows."""
    if n < 4:
        return f.r2 > f.r2_origin + 0.02
    sse_o, sse_i = 1.0 - f.r2_origin, 1.0 - f.r2
    if sse_i <= 0:
        return sse_o > 0
    return f_sf(max(sse_o - sse_i, 0.0) / (sse_i / (n - 2)), 1, n - 2) < alpha


def _own_intervals(metric_ts: object, metric_values: object, event_ts: object,
                   event_keys: Sequence[str] | pd.Series | np.ndarray,
                   weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
                   key: str | None, min_events: int,
                   ) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
    """The gauge's own intervals inside the growth ranges: the candidate ``key`` (else the
    most frequent one there) counted per interval, the increments and the durations (ms)."""
    t, v, same = gauge_intervals(to_ms(metric_ts), np.asarray(metric_values, np.float64),
                                 ranges, MAX_WINDOWS)
    empty = np.zeros(0)
    if len(t) < 2:
        return None, empty, empty, empty
    y, dt = np.diff(v)[same], np.diff(t).astype(np.float64)[same]
    arr = (np.asarray(event_keys) if isinstance(event_keys, np.ndarray | pd.Series)
           else np.asarray(list(event_keys), dtype=object))
    ets = to_ms(event_ts)
    inside = (ets > t[0]) & (ets <= t[-1])
    if key is None:
        codes, uniques = pd.factorize(arr[inside])
        tot = np.bincount(codes[codes >= 0], minlength=len(uniques),
                          weights=None if weights is None else weights[inside][codes >= 0])
        if not len(uniques) or tot.max() < min_events:
            return None, empty, y, dt
        key = str(uniques[int(np.argmax(tot))])
    ev, w = event_times(key, arr, ets, weights)
    return key, interval_counts(t, same, ev, w), y, dt


def _clock_words(sep: Separation | None) -> str:
    if sep is None:
        return ""
    verdict = ("the event explains the growth better than the clock" if sep.winner == sep.a
               else "the clock explains the growth better than the event"
               if sep.winner == sep.b else "neither is decided at 1 %")
    return (f"; against a constant rate per second the event's count adds F {sep.f_a:.1f} "
            f"(p {sep.p_a:.2g}, {sep.p_a_loo:.2g} with one interval left out) and the clock "
            f"adds F {sep.f_b:.1f} (p {sep.p_b:.2g}) over {sep.n} intervals: {verdict}")


def _clock(key: str, x: np.ndarray, y: np.ndarray, dt: np.ndarray) -> Separation | None:
    """The candidate against a constant rate per second, when the intervals' lengths vary
    at all (of equal lengths, time and a steady event rate are the same model)."""
    if len(y) < 2 or not dt.any() or dt.std() == 0:
        return None
    return separate(y, x, dt / 1000.0, key, "clock")


def _rejected(code: str, why: str, key: str, amount: float, metric_ts: object,
              metric_values: object, event_ts: object,
              event_keys: Sequence[str] | pd.Series | np.ndarray,
              weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
              unit: str = "") -> NoAttribution:
    """A fit that fell short, with how its counts vary and how it fares against the clock."""
    _, x, y, dt = _own_intervals(metric_ts, metric_values, event_ts, event_keys, weights,
                                 ranges, key, 0)
    extra, steady = "", False
    quantum = resolution(metric_values)
    if len(x) and x.mean() > 0:
        cv = float(x.std() / x.mean())
        extra = f"; its count per gauge interval varies by {100 * cv:.1f} % (cv)"
        if not visible(x, amount, quantum, y)[0]:  # no fit of it could have passed
            extra = "; its count " + flat_words(x, amount, quantum, y, unit) + TOO_STEADY
            steady = code in ("weak-fit", "not-significant")
    sep = _clock(key, x, y, dt)
    # a best fit whose count still adds to a constant rate per second (at 5 %) is the
    # informative reason (metaspace-g1's reloads: F 12 against the clock, not decided at
    # 1 %); one that adds nothing to the clock is no evidence, and a steady event that
    # fits the growth better is the honest reason: it and the clock cannot be told apart
    leads = sep is not None and sep.p_a < KEEP
    rival = None if leads else _flat_rival(metric_ts, metric_values, event_ts, event_keys,
                                           weights, ranges, key)
    if rival is not None:  # a steady event fits the growth better than any that varies
        other, _, amt, xo = rival
        sep = _clock(other, xo, y, dt)
        return NoAttribution(
            "flat-counts", "the event whose count fits the growth best, {event}, "
            + flat_words(xo, amt, quantum, y, unit) + TOO_STEADY
            + f" ({amt:.4g} per event if the events drive it); every event whose count "
            "varies fits worse ("
            + why.replace("the best fit, {event}, ", "the best of them, ").replace(
                "{event}", "the best of them") + ")" + _clock_words(sep),
            len(y), other, amt, sep)
    return NoAttribution("flat-counts" if steady else code, why + extra + _clock_words(sep),
                         len(y), key, amount, sep)


def _flat_rival(metric_ts: object, metric_values: object, event_ts: object,
                event_keys: Sequence[str] | pd.Series | np.ndarray,
                weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
                key: str, top: int = 10, min_events: int = 10,
                ) -> tuple[str, float, float, np.ndarray] | None:
    """A candidate too steady for the gauge to show (``visible`` against the increments:
    no fit of it could pass)
    whose growth per event misses the gauge's increments less than the rejected best fit
    ``key`` does (through the origin, over the gauge's own intervals): then the honest
    reason is that a steady event and the clock cannot be told apart, not that ``key``
    fits weakly. Its key, cv, amount and counts, or None."""
    got = interval_totals(metric_ts, metric_values, event_ts, event_keys, weights, ranges)
    if got is None:
        return None
    t, same, y, arr, ets, uniques, tot = got

    def miss(x: np.ndarray) -> tuple[float, float]:
        sxx = float(x @ x)
        b = float(x @ y) / sxx if sxx > 0 else 0.0
        r = y - b * x
        return float(r @ r), b

    worst, _ = miss(interval_counts(t, same, *event_times(key, arr, ets, weights)))
    quantum = resolution(metric_values)
    best: tuple[float, str, float, float, np.ndarray] | None = None
    for j in np.argsort(-tot, kind="stable")[:top]:
        k = str(uniques[j])
        if tot[j] < min_events or k == key:
            continue
        x = interval_counts(t, same, *event_times(k, arr, ets, weights))
        if (x > 0).sum() < MIN_PRESENT or x.mean() <= 0:
            continue
        sse, b = miss(x)
        if x.std() == 0 or visible(x, b, quantum, y)[0]:
            continue  # a constant count is the clock (``clock``); one that could show was
                      # fitted on its merits
        if b > 0 and sse < worst and (best is None or sse < best[0]):
            best = (sse, k, float(x.std() / x.mean()), b, x)
    return None if best is None else (best[1], best[2], best[3], best[4])


def _no_fit(metric_ts: object, metric_values: object, event_ts: object,
            event_keys: Sequence[str] | pd.Series | np.ndarray, weights: np.ndarray | None,
            ranges: Sequence[tuple[int, int]] | None, min_events: int, unit: str = "",
            ) -> NoAttribution:
    """Why no candidate could be fitted at all (the rare path: figures recomputed here)."""
    key, x, y, dt = _own_intervals(metric_ts, metric_values, event_ts, event_keys, weights,
                                   ranges, None, min_events)
    if len(y) < 2:
        return NoAttribution("no-samples", f"{len(y)} gauge intervals in the growth range "
                             "(under 3 samples): no increments to fit", len(y))
    if key is None:
        return NoAttribution("no-events", f"no message template has {min_events} records "
                             f"in the growth range ({len(y)} gauge intervals)", len(y))
    present = int((x > 0).sum())
    amount = float(x @ y / (x @ x)) if x.any() else None
    sep = _clock(key, x, y, dt)
    if present < MIN_PRESENT:
        return NoAttribution("few-windows", f"the most frequent event, {{event}}, falls in "
                             f"{present} of {len(y)} gauge intervals ({MIN_PRESENT} needed)",
                             len(y), key, amount, sep)
    quantum = resolution(metric_values)
    if not visible(x, amount or 0.0, quantum, y)[0]:
        return NoAttribution(
            "flat-counts", "the most frequent event, {event}, "
            + flat_words(x, amount or 0.0, quantum, y, unit) + TOO_STEADY
            + f" ({amount or 0.0:.4g} per event if the events drive it)"
            + _clock_words(sep), len(y), key, amount, sep)
    return NoAttribution("no-growth", "no event's count rises with the growth: the most "
                         f"frequent, {{event}}, fits a non-positive amount over {len(y)} "
                         "intervals" + _clock_words(sep), len(y), key, amount, sep)


def _flat_cooccurrence(metric_ts: object, metric_values: object, event_ts: object,
                       event_keys: Sequence[str] | pd.Series | np.ndarray,
                       weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
                       min_events: int, markers: Markers | None, unit: str,
                       ) -> PerEventAttribution | None:
    """At a constant event rate (a steady client, a gauge printed every 10-30 s) counts
    cannot tell an event from the clock, nor two events of one session apart. A leak is a
    release skipped on a failure path, though: an exception logged all through the growth
    (in every gauge interval, at least half as often as the event) and in the same
    millisecond as one event's records far more often than as any other's (McNemar at 1 %)
    names that event; its amount is the gauge's rise over its count (through the origin).
    """
    if markers is None or markers.ts is None or markers.keys is None or not len(markers.ts):
        return None
    got = interval_totals(metric_ts, metric_values, event_ts, event_keys, weights, ranges)
    if got is None:
        return None
    t, same, y, arr, ets, uniques, tot = got
    causes = markers.cause_keys
    keys = [str(uniques[j]) for j in np.argsort(-tot, kind="stable")[:6]
            if tot[j] >= min_events and str(uniques[j]) not in causes]
    if len(keys) < 2:  # nothing to tell it from but the clock
        return None
    times = {k: event_times(k, arr, ets, weights) for k in keys}
    x = {k: interval_counts(t, same, e, w) for k, (e, w) in times.items()}
    mk = np.asarray(markers.keys).astype(str)
    for fp in pd.unique(mk):
        pick = (mk == fp) & (markers.ts > t[0]) & (markers.ts <= t[-1])
        marks = np.repeat(markers.ts[pick], markers.counts[pick].astype(np.int64)
                          if markers.counts is not None else 1)
        if len(marks) < min_events:
            continue
        mine = interval_counts(t, same, marks, None)
        told = cooccurring(marks, {k: times[k][0] for k in keys})
        if told is None:
            continue
        top, z = told
        if (mine == 0).any() or mine.sum() < 0.5 * x[top].sum():
            continue
        xt = x[top]
        if xt.mean() <= 0:
            return None
        amount = float(xt @ y / (xt @ xt))
        if amount <= 0 or visible(xt, amount, resolution(metric_values), y)[0]:
            return None  # its variation shows in the gauge: the regression's verdict stands
        sse = float(((y - amount * xt) ** 2).sum())
        r2 = 1.0 - sse / float((y * y).sum()) if (y * y).sum() > 0 else 0.0
        # the events whose counts move with it: told apart by the exception alone
        others = [k for k in keys if k != top and (x[k].std() == 0 or xt.std() == 0 or float(
            np.corrcoef(x[k], xt)[0, 1]) >= COLLINEAR)]
        return PerEventAttribution(
            template=top, amount=amount, unit=unit, r2=r2, n=len(y), model="origin",
            events=int(xt.sum()), window_ms=int(np.median(np.diff(t)[same])),
            p_value=math.erfc(z / math.sqrt(2)), alternatives=tuple(others),
            decided="co-occurrence",
            alternative_amounts=tuple(float(x[k] @ y / (x[k] @ x[k])) for k in others))
    return None


def _without_warmup(x: np.ndarray, y: np.ndarray, spans: np.ndarray,
                    ranges: Sequence[tuple[int, int]] | None, quantum: float = 0.0,
                    ) -> list[tuple[int, int]] | None:
    """Growth ranges without their warm-up, or None when none has one.

    A resource grows at start-up without the events that later drive it (the JVM loading
    its own classes, an allocator setting up its first chunks): a regime with its own
    growth, before the steady one the events explain. Leading windows of a range are
    moved to that regime while the origin model (growth = amount x events) gains more from
    leaving each out than the Bayesian information criterion charges for the parameter it
    costs (n log(SSE/SSE') > log n) and the window's unexplained growth is more than two
    events' worth (events a few ms from the window's edges can make that much on an exact
    gauge) plus the gauge's ``quantum`` (``resolution``: a monitor printing whole KiB
    misses up to a KiB per increment, in any window); at most half of a range's windows,
    and only leading ones:
    growth without events later on is evidence against the event, not warm-up.
    """
    n = len(y)
    if n < 8 or x.std() == 0:
        return None
    keep = np.ones(n, bool)

    def fit(mask: np.ndarray) -> tuple[float, float]:
        sxx = float(x[mask] @ x[mask])
        if sxx <= 0:
            return math.inf, 0.0
        b = float(x[mask] @ y[mask]) / sxx
        r = y[mask] - b * x[mask]
        return float(r @ r), b

    for g in np.unique(spans[:, 2]):
        idx = np.flatnonzero(spans[:, 2] == g)
        for j in idx[: len(idx) // 2]:
            before, _ = fit(keep)
            trial = keep.copy()
            trial[j] = False
            after, b = fit(trial)
            m = int(trial.sum())
            # more unexplained growth than two events straddling the window's edges make
            # (material), and leaving it out pays for its parameter (significant)
            material = abs(y[j] - b * x[j]) > 2 * abs(b) + quantum
            gain = math.inf if after == 0 < before else (
                m * math.log(before / after) if after > 0 else 0.0)
            if not (material and gain > math.log(m)):
                break
            keep = trial
    if keep.all():
        return None
    base = sorted(ranges) if ranges else [(int(spans[0, 0]), int(spans[-1, 1]))]
    out = []
    for g, (lo, hi) in enumerate(base):
        dropped = spans[~keep & (spans[:, 2] == g)] if ranges else spans[~keep]
        out.append((int(dropped[:, 1].max()) if len(dropped) else lo, hi))
    return out


COOCCUR = 0.9  # share of a cause's instances logged in the same ms as the event's records


def _collinear(fits: list[CandidateFit], x: np.ndarray, cols: dict[str, int],
               y: np.ndarray) -> list[CandidateFit]:
    """Fits whose counts move with the best's, nearly as good (R² within 0.05), or that
    explain the growth as well by timing (``as_good``): a fit that trails by chance
    (steady connects 3 ms before their disconnects: R² 0.79 vs 0.73 over 15 windows) is a
    rival, not a loser."""
    top = fits[0]
    if top.key not in cols:
        return []
    a = x[:, cols[top.key]]
    out = []
    for f in fits[1:6]:
        if f.key not in cols:
            continue
        b = x[:, cols[f.key]]
        moves = a.std() > 0 and b.std() > 0 and float(np.corrcoef(a, b)[0, 1]) >= COLLINEAR
        if (moves and f.best_r2 >= top.best_r2 - 0.05) or as_good(
                separate(y, a, b, top.key, f.key), f.key):
            out.append(f)
    return out


def _steady_fits(keys: list[str], x: np.ndarray, cols: dict[str, int], y: np.ndarray,
                 events: int) -> list[CandidateFit]:
    """Fits of candidates too steady to be ranked (``visible``), with a positive amount."""
    out = []
    for k in keys:
        c = x[:, [cols[k]]]
        b0, r2_0, b1, a1, r2_1 = (float(v[0]) for v in _fits(c, y))
        if b0 > 0 or b1 > 0:
            out.append(CandidateFit(k, int(c.sum()), int((c > 0).sum()), b0, r2_0, b1, a1, r2_1))
    return out


@dataclass(frozen=True, slots=True)
class Markers:
    """What besides timing may tell collinear events apart.

    ``ts``/``keys``/``counts``: exception instances (epoch ms, fingerprint, count), exact to
    the millisecond, with the events' own times exact too; ``cause_keys``: candidate keys
    whose records are an exception's own message (a cause's record, not the event)."""

    ts: np.ndarray | None = None
    keys: np.ndarray | None = None
    counts: np.ndarray | None = None
    cause_keys: frozenset[str] = frozenset()


def _decide(cands: list[CandidateFit], metric_ts: object, metric_values: object,
            event_ts: object, event_keys: Sequence[str] | pd.Series | np.ndarray,
            weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
            markers: Markers | None) -> tuple[CandidateFit, str, tuple[Separation, ...]]:
    """Tell collinear candidates apart, or say that the evidence cannot.

    1. Timing, at the gauge's own resolution (``separability``): the event that adds
       significantly to each rival's fit, while no rival adds to its own, with any single
       interval left out, caused the growth; growth follows the event that causes it.
    2. Co-occurrence, only when timing cannot decide: a leak is a release skipped on a
       failure path, so an exception that grows with the leak (its counts move with the
       events') and is logged in the same millisecond as one event's records far more
       often than as the rival's (McNemar's paired test at 1 %) names the event whose
       handler failed.
    An exception's own message is the cause, not the event: such candidates are named
    only when no other event moves with the growth.
    """
    causes = markers.cause_keys if markers is not None else frozenset()
    events = [c for c in cands if c.key not in causes] or list(cands)
    arr = (np.asarray(event_keys) if isinstance(event_keys, np.ndarray | pd.Series)
           else np.asarray(list(event_keys), dtype=object))
    ets_all = to_ms(event_ts)
    t, v, same = gauge_intervals(to_ms(metric_ts), np.asarray(metric_values, np.float64),
                                 ranges, MAX_WINDOWS)
    y = np.diff(v)[same]
    times = {c.key: event_times(c.key, arr, ets_all, weights) for c in events}
    x = {k: interval_counts(t, same, e, w) for k, (e, w) in times.items()}
    seps: list[Separation] = []
    if len(events) == 1:  # the rest are its cause's own records: no rival event
        return events[0], "unique", ()
    def beats_all(c: CandidateFit, others: list[CandidateFit]) -> bool:
        won = True
        for o in others:  # every pair is tested and kept, for the report
            sep = separate(y, x[c.key], x[o.key], c.key, o.key)
            if sep is not None:
                seps.append(sep)
            won = won and sep is not None and sep.winner == c.key
        return won

    # the best fit against each rival first; a rival that beats it against the rest
    if beats_all(events[0], events[1:]):
        return events[0], "lead-lag", tuple(seps)
    for c in events[1:]:
        if any(s.winner == c.key for s in seps) and beats_all(
                c, [o for o in events[1:] if o is not c]):
            return c, "lead-lag", tuple(seps)
    best = _cooccurrence(events, times, markers, x,
                         lambda e, w: interval_counts(t, same, e, w))
    if best is not None:
        return best, "co-occurrence", tuple(seps)
    return events[0], "ambiguous", tuple(seps)


def _same_ms(marks: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Whether each marker instant has a record at the same millisecond."""
    s = np.unique(times)
    k = np.searchsorted(s, marks)
    return (k < len(s)) & (s[np.minimum(k, len(s) - 1)] == marks)


def cooccurring(marks: np.ndarray, times: Mapping[str, np.ndarray]) -> tuple[str, float] | None:
    """The key whose records share their millisecond with at least COOCCUR of the marker
    instants, and significantly more often than each other key's (McNemar's paired test
    at 1 %), with the smallest of those z; None when no key is told apart so. One test
    for every place that tells collinear events apart by an exception logged with one."""
    hit = {k: _same_ms(marks, t) for k, t in times.items()}
    top = max(hit, key=lambda k: float(hit[k].mean()))
    if float(hit[top].mean()) < COOCCUR:
        return None
    z = math.inf
    for k, h in hit.items():
        if k == top:
            continue
        n10, n01 = int((hit[top] & ~h).sum()), int((~hit[top] & h).sum())
        z = min(z, (n10 - n01) / math.sqrt(max(n10 + n01, 1)))
    return (top, z) if z >= Z_1PCT else None


def _cooccurrence(events: list[CandidateFit],
                  times: dict[str, tuple[np.ndarray, np.ndarray | None]],
                  markers: Markers | None, x: dict[str, np.ndarray],
                  count: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
                  ) -> CandidateFit | None:
    if markers is None or markers.ts is None or markers.keys is None or not len(markers.ts):
        return None
    mk = np.asarray(markers.keys).astype(str)
    lo = min(float(e.min()) for e, _ in times.values() if len(e))
    hi = max(float(e.max()) for e, _ in times.values() if len(e))
    for fp in pd.unique(mk):
        pick = (mk == fp) & (markers.ts >= lo) & (markers.ts <= hi)
        marks = np.repeat(markers.ts[pick], markers.counts[pick].astype(np.int64)
                          if markers.counts is not None else 1)
        if len(marks) < 10:
            continue
        told = cooccurring(marks, {c.key: times[c.key][0] for c in events})
        if told is None:
            continue
        top = next(c for c in events if c.key == told[0])
        mine = count(marks, None)  # the exception grows with the leak: a cause
        if mine.std() > 0 and x[top.key].std() > 0 \
                and float(np.corrcoef(mine, x[top.key])[0, 1]) >= COLLINEAR:
            return top
    return None


def _permutation_p(x: np.ndarray, y: np.ndarray, observed: float, b: int, seed: int) -> float:
    """Share of shuffles where the best candidate's correlation beats the observed one."""
    if b <= 0 or len(y) < 3:
        return 0.0
    rng = np.random.default_rng(seed)
    yp = np.stack([rng.permutation(y) for _ in range(b)], axis=1)
    yc = yp - yp.mean(axis=0)
    xc = x - x.mean(axis=0)
    cxy = xc.T @ yc
    denom = np.outer((xc * xc).sum(axis=0), (yc * yc).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(denom > 0, cxy * cxy / denom, 0.0)
    null_max = r2.max(axis=0)
    return float((1 + np.sum(null_max >= observed)) / (b + 1))
