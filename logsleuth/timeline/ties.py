"""Events that cannot be told apart: which rivals explain a gauge's growth as well, and say so.

A connect and its disconnect a few ms later, or two events at a steady rate, fit the same
growth. When no event is named (``NoAttribution``) or one is named among rivals, the rivals
are listed with their amounts per event and the nested tests of timing between them
(``separability.separate``), so a reader sees every candidate the evidence leaves open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from logsleuth.timeline._cols import to_ms
from logsleuth.timeline.separability import (
    MAX_WINDOWS,
    Separation,
    gauge_intervals,
    interval_counts,
    separate,
)

if TYPE_CHECKING:
    from logsleuth.timeline.attribution import NoAttribution

Z_1PCT = 2.58  # McNemar's / Vuong's paired z, two-sided 1 %
def tie_words(no: NoAttribution) -> str:
    """The tied events with their figures, and whether timing told them apart."""
    u = f" {no.unit}" if no.unit else ""
    each = ", ".join(f"'{a}' ({m:.4g}{u} per event, counts correlated {c:.3f})"
                     for a, m, c in zip(no.alternatives[:3], no.alternative_amounts,
                                        no.alternative_corr, strict=False))
    if len(no.alternatives) > 3:
        each += f" and {len(no.alternatives) - 3} more"
    sep = next((sp for sp in no.separations if no.template in (sp.a, sp.b)), None)
    tests = ""
    if sep is not None:
        i = 0 if sep.a == no.template else 1
        f, p, loo = ((sep.f_a, sep.p_a, sep.p_a_loo) if i == 0
                     else (sep.f_b, sep.p_b, sep.p_b_loo))
        f2, p2 = (sep.f_b, sep.p_b) if i == 0 else (sep.f_a, sep.p_a)
        tests = (f" (what '{no.template}' adds to the other's fit: F {f:.1f}, p {p:.2g}, "
                 f"{loo:.2g} with one interval left out; what the other adds: F {f2:.1f}, "
                 f"p {p2:.2g}; {sep.n} intervals)")
    if no.decided == "lead-lag":
        return (f"; of the events whose counts move with it, {each}, timing names "
                f"'{no.template}': its count changes where the gauge's do{tests}")
    return (f"; it cannot be told apart from {each}: their counts move with its own or fit "
            f"the growth as well, and timing at the gauge's samples does not decide{tests}")


def with_ties(no: NoAttribution, metric_ts: object, metric_values: object, event_ts: object,
               event_keys: Sequence[str] | pd.Series | np.ndarray,
               weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
               min_events: int, top: int = 10) -> NoAttribution:
    """The events tied with the one a rejection names (``tied``: counts that move with its
    counts, or a fit to the growth as good), each with its amount per event through the
    origin, and the nested tests of timing between them (``separate``: which count changes
    where the gauge's increments do). When timing names one over every other, that one is
    the candidate (``decided`` lead-lag); else all are named and ``decided`` is ambiguous."""
    if no.template is None:
        return no
    got = interval_totals(metric_ts, metric_values, event_ts, event_keys, weights, ranges)
    if got is None:
        return no
    t, same, y, arr, ets, uniques, tot = got
    x = {no.template: interval_counts(t, same, *event_times(no.template, arr, ets, weights))}
    for j in np.argsort(-tot, kind="stable")[:top]:
        k = str(uniques[j])
        if tot[j] >= min_events and k not in x:
            x[k] = interval_counts(t, same, *event_times(k, arr, ets, weights))
    base = x[no.template]

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        if a.std() == 0 or b.std() == 0:
            return 1.0 if a.std() == b.std() == 0 and a.any() and b.any() else 0.0
        return float(np.corrcoef(a, b)[0, 1])

    def tied(k: str, sep: Separation | None) -> bool:
        """Counts that move together, or an explanation as good (``as_good``): two steady
        events explain the growth as well as each other, whatever their counts'
        correlation."""
        if corr(base, x[k]) >= COLLINEAR:
            return True
        if float(x[k] @ y) <= 0 or x[k].std() == 0:
            return False  # a count constant per interval is the clock (``clock`` tests it)
        return as_good(sep, k)

    first = {k: separate(y, base, x[k], no.template, k) for k in x if k != no.template}
    ties = [k for k, sp in first.items() if tied(k, sp)]
    if not ties:
        return no
    keys = [no.template, *ties]
    seps = [sp for sp in (first[k] for k in ties) if sp is not None] + [
        sp for i, a in enumerate(ties) for b in ties[i + 1:]
        if (sp := separate(y, x[a], x[b], a, b)) is not None]
    lead = next((k for k in keys if sum(sp.winner == k for sp in seps) == len(keys) - 1
                 and len(seps) == len(keys) * (len(keys) - 1) // 2), None)
    name = lead or no.template
    others = [k for k in keys if k != name]

    def amount(k: str) -> float:
        sxx = float(x[k] @ x[k])
        return float(x[k] @ y) / sxx if sxx > 0 else 0.0
    out = replace(no, alternatives=tuple(others),
                  alternative_amounts=tuple(amount(k) for k in others),
                  alternative_corr=tuple(corr(x[name], x[k]) for k in others),
                  decided="lead-lag" if lead else "ambiguous", separations=tuple(seps))
    if name != no.template:  # timing names a rival: the figures of the message stay its own
        out = replace(out, template=name, amount=amount(name),
                      message=no.message.replace("{event}", "{alt0}"))
    return out


def interval_totals(metric_ts: object, metric_values: object, event_ts: object,
                     event_keys: Sequence[str] | pd.Series | np.ndarray,
                     weights: np.ndarray | None, ranges: Sequence[tuple[int, int]] | None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                np.ndarray, np.ndarray] | None:
    """The gauge's own intervals and each template's events inside them, shared by the
    fallbacks that look past the regression: interval ends ``t``, the mask ``same`` of
    intervals within one range, their increments ``y``, the keys, event times, distinct
    templates and their (weighted) totals; None under three samples."""
    t, v, same = gauge_intervals(to_ms(metric_ts), np.asarray(metric_values, np.float64),
                                 ranges, MAX_WINDOWS)
    if len(t) < 3 or not same.any():
        return None
    y = np.diff(v)[same]
    arr = (np.asarray(event_keys) if isinstance(event_keys, np.ndarray | pd.Series)
           else np.asarray(list(event_keys), dtype=object))
    ets = to_ms(event_ts)
    inside = (ets > t[0]) & (ets <= t[-1])
    codes, uniques = pd.factorize(arr[inside])
    tot = np.bincount(codes[codes >= 0], minlength=len(uniques),
                      weights=None if weights is None else weights[inside][codes >= 0])
    return t, same, y, arr, ets, np.asarray(uniques), tot


COLLINEAR = 0.9  # counts correlated at least this much cannot be told apart by amount


def as_good(sep: Separation | None, rival: str) -> bool:
    """Timing prefers the rival, or names no winner and neither event alone misses the
    growth less than the other (Vuong's paired z within 1 %): the rival explains the growth
    as well as the event, whatever their fits' R² (which trail each other by chance)."""
    return sep is not None and (sep.winner == rival or (
        sep.winner is None and abs(sep.z) < Z_1PCT))


def event_times(key: str, arr: np.ndarray, ets: np.ndarray,
                 weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    pick = (arr == int(key)) if arr.dtype.kind in "iu" else (arr.astype(str) == key)
    return ets[pick], None if weights is None else weights[pick]
