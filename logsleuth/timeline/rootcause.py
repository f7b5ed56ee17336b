"""Rank exception fingerprints as root causes of a leak.

A cause tracks the growth (its per-window counts explain the leaking metric's
increments over the growth regimes: R² from ``attribution.rank_candidates``) and
shows up early (long before onset). An exception whose counts grow with the leak
is a cause whenever it first appears; one that only appears at or after onset and
does not track the growth (the onset exception itself) is a symptom.

When a leak is known, tracking it is what makes a cause: an exception whose count does
not follow the growth (a one-off at startup, however early) ranks below every one that
does, whatever its earliness. When none does, the cause was never logged as an
exception, and the leak's per-event attribution names the event template to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from logsleuth.timeline._cols import NAT_MS, to_ms, weights
from logsleuth.timeline.attribution import PerEventAttribution, rank_candidates
from logsleuth.timeline.templates import mine_templates
from logsleuth.timeline.trend import LeakEstimate, _iso

TRACK_WEIGHT = 0.7  # the rest of the score is earliness
CAUSE_R2 = 0.5  # counts explaining this share of the growth make an exception a cause


@dataclass(frozen=True, slots=True)
class RootCauseCandidate:
    fingerprint: str
    exception: str | None
    message: str
    template: str
    score: float  # TRACK_WEIGHT * tracking R² + (1 - TRACK_WEIGHT) * earliness, in [0, 1]
    count: int
    first_seen_ms: int
    example: dict[str, object]  # {path, line}
    tracking_r2: float
    earliness: float
    why: str
    tracks_leak: bool = False  # its counts follow a leak's growth (R² >= CAUSE_R2)

    def to_json(self) -> dict[str, object]:
        return {"exception": self.exception, "fingerprint": self.fingerprint,
                "message": self.message, "template": self.template, "score": self.score,
                "count": self.count, "first_seen": _iso(self.first_seen_ms),
                "example": self.example, "tracking_r2": self.tracking_r2,
                "earliness": self.earliness, "why": self.why, "tracks_leak": self.tracks_leak}


def _tracking(leaks: Sequence[LeakEstimate], metrics: pd.DataFrame | None, onset_ms: int | None,
              ts: np.ndarray, fps: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    """Best R² per fingerprint against any leaking metric, over its growth regimes
    (before onset when they are not known)."""
    out: dict[str, float] = {}
    if metrics is None or not leaks:
        return out
    # the columns read once, each leak's rows picked by position: filtering the whole
    # frame per leak took every column, strings included (0.19 s of 1 GiB's analysis)
    names = metrics["metric"].astype(str).to_numpy()
    own = ((metrics["origin"].astype(str) == "gauge").to_numpy() if "origin" in metrics.columns
           else np.ones(len(metrics), bool))
    all_ts = to_ms(metrics["ts"])
    all_values = metrics["value"].to_numpy(np.float64, na_value=np.nan)
    for leak in leaks:
        sel = (names == leak.metric) & own
        mts, values = all_ts[sel], all_values[sel]
        keep = (mts < onset_ms if onset_ms is not None and not leak.growth_ranges_ms
                else np.ones(len(mts), bool))
        for fit in rank_candidates(mts[keep], values[keep], ts, fps,
                                   min_events=5, event_weights=counts,
                                   ranges_ms=leak.growth_ranges_ms or None):
            out[fit.key] = max(out.get(fit.key, 0.0), max(fit.best_r2, 0.0))
    return out


def rank_root_causes(records: pd.DataFrame, leaks: Sequence[LeakEstimate],
                     onset_ms: int | None, *, metrics: pd.DataFrame | None = None,
                     limit: int = 10,
                     events: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                     ) -> list[RootCauseCandidate]:
    """Exception fingerprints ranked by how well they track leak growth and how early.

    ``metrics`` (columns ``metric, ts, value``) gives the series of ``leaks``;
    without it only earliness ranks. ``events`` (epoch ms, fingerprint, count) are
    the exception records at their own instants, for tracking, when ``records`` are
    grouped per second (a ``count`` column); by default the rows themselves.
    """
    if "fingerprint" not in records.columns or not len(records):
        return []
    has = records["fingerprint"].notna().to_numpy()
    ts_all = to_ms(records["ts"])
    has = has & (ts_all != NAT_MS)
    if not has.any():
        return []
    pick = np.flatnonzero(has)  # positions, not a filtered copy of every column
    ts = ts_all[has]
    n = weights(records)[has]  # records per row: rows may stand for a second of a class
    fps = records["fingerprint"].iloc[pick].astype(str).to_numpy(dtype=object)
    order = np.argsort(ts, kind="stable")
    frame = pd.DataFrame({"fp": fps[order], "ts": ts[order], "row": np.arange(len(ts))[order],
                          "n": n[order]})
    grouped = frame.groupby("fp", sort=True)
    first = grouped.head(1).set_index("fp")
    counts = grouped["n"].sum().astype(np.int64)
    track = _tracking(leaks, metrics, onset_ms, *(events or (ts, fps, n)))
    tracked = bool(leaks) and metrics is not None  # a leak to follow, and its series
    cut = onset_ms if onset_ms is not None else np.iinfo(np.int64).max
    before = frame[frame["ts"] < cut].groupby("fp")["n"].sum()
    start = int(ts.min())
    end = onset_ms if onset_ms is not None else int(ts.max())
    rows = first["row"].to_numpy()
    msgs = records["message"].iloc[pick[rows]].astype(str).to_numpy(dtype=object)
    tpl = mine_templates(pa.array(list(msgs), pa.string()))
    out = []
    for i, (fp, r) in enumerate(first.iterrows()):
        row = records.iloc[int(pick[int(r["row"])])]
        t = int(r["ts"])
        early = float(np.clip((end - t) / (end - start), 0, 1)) if end > start else 0.0
        tr = track.get(str(fp), 0.0)
        cause = tr >= CAUSE_R2
        metric = leaks[0].metric if leaks else "the metric"
        if cause:
            why = f"counts track {metric} growth (R² {tr:.2f}); "
        elif tracked:
            why = (f"its count does not follow {metric} growth "
                   + (f"(R² {tr:.2f}); " if tr > 0 else
                      f"({int(before.get(str(fp), 0))} record(s) within it, too few to "
                      "follow it); "))
        else:
            why = "no tracking data; "
        label = "onset" if onset_ms is not None else "the end of the evidence"
        if cause:  # growing with the leak makes it a cause, whenever it first appears
            why += (f"a cause: its count grows with the leak; first seen "
                    f"{abs(end - t) / 60000:.1f} min {'before' if t < end else 'after'} {label}")
            early = max(early, tr)
        else:
            why += (f"first seen {(end - t) / 60000:.1f} min before {label}" if t < end
                    else "appears only at/after onset (a symptom)")
        out.append(RootCauseCandidate(
            fingerprint=str(fp),
            exception=None if pd.isna(row.get("exception")) else str(row.get("exception")),
            message=str(row["message"]), template=tpl.templates[tpl.template_ids[i]],
            score=TRACK_WEIGHT * tr + (1 - TRACK_WEIGHT) * early, count=int(counts[fp]),
            first_seen_ms=t, example={"path": str(row.get("source", "")),
                                      "line": int(row["line"]) if "line" in row else None},
            tracking_r2=tr, earliness=early, why=why, tracks_leak=cause))
    # what follows a known leak comes before what does not, however early the latter
    out.sort(key=lambda c: (tracked and not c.tracks_leak, -c.score, c.first_seen_ms))
    return out[:limit]


NOTABLE_LEVELS = frozenset({"WARN", "WARNING", "ERROR", "SEVERE", "FATAL", "CRITICAL"})


def event_causes(notable: pd.DataFrame, leaks: Sequence[LeakEstimate], row_templates: np.ndarray,
                 onset_ms: int | None) -> list[RootCauseCandidate]:
    """The event a leak's growth was put on, as a cause, when the service logs it as a
    warning or an error without an exception: a cause never logged as an exception
    (issue 15, "attribute to the event template"). A routine lifecycle event (an INFO
    'Client disconnected' every session emits) is where a leak shows, not what is wrong,
    and stays out; so does an event the attribution could not tell from its rivals.

    ``row_templates``: the template text of each ``notable`` row's message, as the leak's
    attribution names templates ("" where none matches)."""
    if not len(notable) or "level" not in notable.columns:
        return []
    out: list[RootCauseCandidate] = []
    levels = notable["level"].astype(str).str.upper().to_numpy()
    plain = notable["exception"].isna().to_numpy() if "exception" in notable.columns \
        else np.ones(len(notable), bool)
    ts = to_ms(notable["ts"])
    n = weights(notable)
    start = int(ts.min())
    for leak in leaks:
        per = leak.per_event
        if not isinstance(per, PerEventAttribution) or per.decided == "ambiguous":
            continue
        sel = np.flatnonzero((row_templates == per.template) & plain
                             & np.isin(levels, list(NOTABLE_LEVELS)))
        if not len(sel) or any(c.template == per.template for c in out):
            continue
        first = sel[np.argmin(ts[sel])]
        t = int(ts[first])
        end = onset_ms if onset_ms is not None else int(ts.max())
        early = float(np.clip((end - t) / (end - start), 0, 1)) if end > start else 0.0
        row = notable.iloc[int(first)]
        amount = f"{per.amount:,.1f} {per.unit}" if per.unit else f"{per.amount:,.1f}"
        out.append(RootCauseCandidate(
            fingerprint=f"event: {per.template}", exception=None, message=str(row["message"]),
            template=per.template, score=TRACK_WEIGHT * max(per.r2, 0.0)
            + (1 - TRACK_WEIGHT) * max(early, per.r2), count=int(n[sel].sum()),
            first_seen_ms=t, example={"path": str(row.get("source", "")),
                                      "line": int(row["line"]) if "line" in row else None},
            tracking_r2=max(per.r2, 0.0), earliness=max(early, per.r2),
            why=(f"a cause never logged as an exception: {leak.metric} grows by {amount} per "
                 f"this {levels[first]} event (R² {per.r2:.2f}, {per.decided}); read what "
                 "its code keeps and never releases"),
            tracks_leak=True))
    return out


def with_event_causes(causes: list[RootCauseCandidate], events: list[RootCauseCandidate],
                      limit: int = 10) -> list[RootCauseCandidate]:
    """Both kinds ranked together: what follows the leak first, then by score."""
    both = [*causes, *events]
    both.sort(key=lambda c: (not c.tracks_leak, -c.score, c.first_seen_ms))
    return both[:limit]
