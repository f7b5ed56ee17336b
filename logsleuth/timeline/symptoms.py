"""What each source saw first around the onset, and what came before it.

Inputs are the typed tables (records, gc_events, thread_states, http_requests);
each may be None. Times are epoch ms; offsets and lead times are relative to the
onset (negative offset = before onset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from logsleuth.timeline._cols import NAT_MS, to_ms, weights
from logsleuth.timeline.trend import _iso, change_points

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Symptom:
    kind: str  # first-5xx, first-blocked-threads, first-gc-anomaly, first-error-burst
    source: str
    ts_ms: int
    offset_ms: int  # ts - onset
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "source": self.source, "ts": _iso(self.ts_ms),
                "offset_ms": self.offset_ms, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Precursor:
    kind: str  # rate-change, gc-spike, blocked-threads, new-fingerprint
    ts_ms: int
    lead_ms: int  # onset - ts, > 0
    detail: str
    source: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "ts": _iso(self.ts_ms), "lead_ms": self.lead_ms,
                "detail": self.detail, "source": self.source}


def _src(df: pd.DataFrame, default: str) -> pd.Series:
    if "source" in df.columns:
        return df["source"].astype(str)
    return pd.Series(default, index=df.index)


def _first_per_source(df: pd.DataFrame, mask: np.ndarray, ts: np.ndarray,
                      default: str) -> list[tuple[str, int, int]]:
    """(source, ts, row) of the earliest masked row per source. Rows not placed in time (a
    GC log of uptimes nothing anchored) have no lead or lag to give."""
    mask = mask & (ts != NAT_MS)
    if not mask.any():
        return []
    sub = pd.DataFrame({"src": _src(df, default).to_numpy()[mask], "ts": ts[mask],
                        "row": np.flatnonzero(mask)})
    first = sub.sort_values("ts", kind="stable").groupby("src", sort=True).head(1)
    return [(str(r.src), int(r.ts), int(r.row)) for r in first.itertuples()]


def gc_anomalies(gc_events: pd.DataFrame) -> np.ndarray:
    """Full GCs and pauses over max(200 ms, 5x the median pause)."""
    pause = gc_events["pause_ms"].to_numpy(dtype=np.float64)
    limit = max(200.0, 5.0 * float(np.nanmedian(pause))) if len(pause) else 200.0
    full = gc_events["is_full"].to_numpy(dtype=bool) if "is_full" in gc_events else False
    return (pause > limit) | full


def error_bursts(records: pd.DataFrame, *, window_ms: int = 10_000,
                 min_count: int = 5) -> np.ndarray:
    """Per record: is it an ERROR/FATAL in a window holding an unusual number of errors.

    Rows with a ``count`` stand for that many records of one second (windows are
    whole seconds, so the counts per window are exact).
    """
    ts = to_ms(records["ts"])
    lvl = records["level"].astype(str).str.upper().to_numpy()
    err = np.isin(lvl, ["ERROR", "FATAL", "SEVERE"]) & (ts != NAT_MS)
    if not err.any():
        return err
    win = ts // window_ms
    w, inverse = np.unique(win[err], return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights(records)[err])
    limit = max(min_count, 10 * float(np.median(counts)) if len(counts) > 20 else min_count)
    hot = w[counts >= limit]
    return err & np.isin(win, hot)


def first_symptoms(records: pd.DataFrame, onset_ms: int, *,
                   http_requests: pd.DataFrame | None = None,
                   thread_states: pd.DataFrame | None = None,
                   gc_events: pd.DataFrame | None = None) -> list[Symptom]:
    """First 5xx, blocked-thread dump, GC anomaly and error burst per source."""
    out: list[Symptom] = []
    if http_requests is not None and len(http_requests):
        ts = to_ms(http_requests["ts"])
        bad = http_requests["status"].to_numpy(dtype=np.int64) >= 500
        for src, t, _ in _first_per_source(http_requests, bad, ts, "http"):
            n = int(np.sum(bad))
            out.append(Symptom("first-5xx", src, t, t - onset_ms, f"{n} responses >= 500"))
    if thread_states is not None and len(thread_states):
        ts = to_ms(thread_states["ts"])
        blocked = thread_states["state"].astype(str).str.upper().to_numpy() == "BLOCKED"
        for src, t, row in _first_per_source(thread_states, blocked, ts, "thread-dump"):
            dump = thread_states["dump_index"].iloc[row] if "dump_index" in thread_states else 0
            same = blocked & (thread_states["dump_index"].to_numpy() == dump) \
                if "dump_index" in thread_states else blocked
            out.append(Symptom("first-blocked-threads", src, t, t - onset_ms,
                               f"dump {dump}: {int(same.sum())} BLOCKED threads"))
    if gc_events is not None and len(gc_events):
        ts = to_ms(gc_events["ts"])
        anom = gc_anomalies(gc_events)
        for src, t, row in _first_per_source(gc_events, anom, ts, "gc"):
            pause = float(gc_events["pause_ms"].iloc[row])
            out.append(Symptom("first-gc-anomaly", src, t, t - onset_ms,
                               f"pause {pause:.0f} ms, full={bool(gc_events['is_full'].iloc[row])}"
                               if "is_full" in gc_events else f"pause {pause:.0f} ms"))
    if len(records):
        burst = error_bursts(records)
        for src, t, row in _first_per_source(records, burst, to_ms(records["ts"]), "records"):
            msg = str(records["message"].iloc[row])[:200]
            out.append(Symptom("first-error-burst", src, t, t - onset_ms, msg))
    out.sort(key=lambda s: (s.ts_ms, s.kind, s.source))
    return out


def _rate_changes(ts: np.ndarray, start: int, onset_ms: int, label: str,
                  weight: np.ndarray | None = None) -> list[Precursor]:
    """Change points in a per-minute count series before onset, where the rate rises.

    Minutes are whole clock minutes, [start, end): rows grouped per second
    (``weight`` records each) fall into the same minute as every record they stand for.
    """
    start -= start % MINUTE_MS
    bins = (onset_ms - start) // MINUTE_MS  # whole minutes before the onset's minute
    if len(ts) == 0 or bins < 10:
        return []
    edges = start + MINUTE_MS * np.arange(bins + 1, dtype=np.int64)
    at = (ts - start) // MINUTE_MS
    inside = (at >= 0) & (at < bins)
    counts = np.bincount(at[inside], weights=None if weight is None else weight[inside],
                         minlength=bins).astype(np.float64)
    out = []
    for i in change_points(counts, max_points=3, min_size=3):
        before, after = counts[max(0, i - 10):i].mean(), counts[i:i + 10].mean()
        if after > before * 1.5 + 1:
            t = int(edges[i])
            out.append(Precursor("rate-change", t, onset_ms - t,
                                 f"{label} per minute {before:.1f} -> {after:.1f}"))
    return out


def precursors(records: pd.DataFrame, onset_ms: int, *, gc_events: pd.DataFrame | None = None,
               thread_states: pd.DataFrame | None = None, warmup: float = 0.1) -> list[Precursor]:
    """Anomalies before onset, earliest (longest lead) first.

    ``new-fingerprint``: an exception fingerprint first seen before onset but after
    the first ``warmup`` share of the pre-onset evidence (so startup noise is not new).
    """
    ts = to_ms(records["ts"])
    valid = ts != NAT_MS
    start = int(ts[valid].min()) if valid.any() else onset_ms
    before = valid & (ts < onset_ms)
    out: list[Precursor] = []
    lvl = records["level"].astype(str).str.upper().to_numpy()
    w = weights(records)
    err = before & np.isin(lvl, ["ERROR", "FATAL", "SEVERE"])
    warn = before & np.isin(lvl, ["WARN", "WARNING"])
    out += _rate_changes(ts[err], start, onset_ms, "errors", w[err])
    out += _rate_changes(ts[warn], start, onset_ms, "warnings", w[warn])
    if gc_events is not None and len(gc_events):
        gts = to_ms(gc_events["ts"])  # unplaced (NaT) pauses precede nothing
        anom = gc_anomalies(gc_events) & (gts < onset_ms) & (gts != NAT_MS)
        if anom.any():
            i = int(np.flatnonzero(anom)[np.argmin(gts[anom])])
            out.append(Precursor("gc-spike", int(gts[i]), onset_ms - int(gts[i]),
                                 f"{int(anom.sum())} anomalous GCs before onset, first pause "
                                 f"{float(gc_events['pause_ms'].iloc[i]):.0f} ms", "gc"))
        out += [dataclass_replace_kind(p, "gc-frequency")
                for p in _rate_changes(gts[(gts < onset_ms) & (gts != NAT_MS)], start,
                                       onset_ms, "GCs")]
    if thread_states is not None and len(thread_states):
        tts = to_ms(thread_states["ts"])
        blocked = (thread_states["state"].astype(str).str.upper().to_numpy() == "BLOCKED") & (
            tts < onset_ms) & (tts != NAT_MS)
        if blocked.any():
            t = int(tts[blocked].min())
            out.append(Precursor("blocked-threads", t, onset_ms - t,
                                 "BLOCKED threads in a dump before onset", "thread-dump"))
    if "fingerprint" in records.columns:
        fp = records["fingerprint"]
        has = fp.notna().to_numpy() & valid
        if has.any():
            first = pd.DataFrame({"fp": fp[has].astype(str).to_numpy(), "ts": ts[has]}).groupby(
                "fp", sort=True)["ts"].min()
            cutoff = start + warmup * (onset_ms - start)
            for name, t in first[(first > cutoff) & (first < onset_ms)].items():
                out.append(Precursor("new-fingerprint", int(t), onset_ms - int(t),
                                     f"first {name} in the evidence"))
    out.sort(key=lambda p: (-p.lead_ms, p.kind))
    return out


def dataclass_replace_kind(p: Precursor, kind: str) -> Precursor:
    return Precursor(kind, p.ts_ms, p.lead_ms, p.detail, p.source)
