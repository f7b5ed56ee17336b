"""Infer the UTC offset of zone-less logs from sibling evidence that carries one.

Zone-less timestamps are read as if they were UTC ("wall-clock ms"). The same
incident shows up in several sources (an app error burst and an nginx 5xx burst;
GC pauses in a decorated GC log and the app's monitor lines), so the offset is
the shift, among real zone offsets (multiples of 15 min, -12 h..+14 h), that best
aligns the per-minute event counts. Only an offset can be inferred, not a zone
name: the result says which evidence supports it, or is None when nothing does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logsleuth.timeline._cols import NAT_MS, to_ms

QUARTER_MS = 15 * 60_000
OFFSETS_MS = np.arange(-12 * 4, 14 * 4 + 1) * QUARTER_MS


@dataclass(frozen=True, slots=True)
class TimezoneGuess:
    zone: str  # "+02:00"
    offset_ms: int  # local wall clock - UTC
    correlation: float
    margin: float  # correlation of the best offset minus the runner-up's
    source: str  # the evidence used, and why

    def to_json(self) -> dict[str, object]:
        return {"zone": self.zone, "source": self.source, "offset_ms": self.offset_ms,
                "correlation": self.correlation}


def format_offset(ms: int) -> str:
    sign = "+" if ms >= 0 else "-"
    minutes = abs(ms) // 60_000
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def infer_offset(local_ts: object, utc_ts: object, *, local_label: str = "zone-less events",
                 utc_label: str = "events with offsets", bin_ms: int = 60_000,
                 min_events: int = 5, min_corr: float = 0.5,
                 min_margin: float = 0.1) -> TimezoneGuess | None:
    """The offset aligning ``local_ts`` (zone-less, read as UTC) with ``utc_ts``.

    Both are the times of the *same kind* of event seen by two sources. Returns
    None when either side has too few events, the best alignment correlates
    weakly, or another offset aligns nearly as well (ambiguous periodic input).
    """
    loc = to_ms(local_ts)
    utc = to_ms(utc_ts)
    loc, utc = loc[loc != NAT_MS], utc[utc != NAT_MS]
    if len(loc) < min_events or len(utc) < min_events:
        return None
    lo = min(int(utc.min()), int(loc.min()) - int(OFFSETS_MS.max())) // bin_ms
    hi = max(int(utc.max()), int(loc.max()) - int(OFFSETS_MS.min())) // bin_ms + 2
    nb = hi - lo
    if nb > 5_000_000:
        return None
    ref = np.bincount(utc // bin_ms - lo, minlength=nb).astype(np.float64)
    shifts = OFFSETS_MS // bin_ms
    base = loc // bin_ms - lo
    corr = np.empty(len(shifts))
    for i, s in enumerate(shifts):  # ~105 offsets, each a bincount over the events
        cand = np.bincount(base - s, minlength=nb).astype(np.float64)
        corr[i] = _corr(cand, ref)
    order = np.argsort(-corr)
    best, second = int(order[0]), int(order[1])
    margin = float(corr[best] - corr[second])
    if corr[best] < min_corr or margin < min_margin:
        return None
    off = int(OFFSETS_MS[best])
    why = (f"{local_label} align with {utc_label} when shifted by {format_offset(off)} "
           f"(per-{bin_ms // 1000}s counts correlate {corr[best]:.2f}; next best offset "
           f"{format_offset(int(OFFSETS_MS[second]))} at {corr[second]:.2f})")
    return TimezoneGuess(format_offset(off), off, float(corr[best]), margin, why)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    d = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / d if d > 0 else 0.0
