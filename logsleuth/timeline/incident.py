"""The incident: onset, first symptoms, precursors, leaks and ranked root causes.

``analyze_incident`` composes the pure functions of this package; each is also
usable alone (re-exported here). ``Incident.to_json()`` follows
``incident.schema.json`` (tested).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from logsleuth.model import Severity
from logsleuth.timeline._cols import NAT_MS, to_ms
from logsleuth.timeline.anomalies import compare_baseline, template_anomalies
from logsleuth.timeline.attribution import explain_increments
from logsleuth.timeline.ceilings import ceilings_for
from logsleuth.timeline.rootcause import RootCauseCandidate, rank_root_causes
from logsleuth.timeline.symptoms import Precursor, Symptom, first_symptoms, precursors
from logsleuth.timeline.trend import LeakEstimate, _iso, estimate_leaks
from logsleuth.timeline.tz import TimezoneGuess

__all__ = [
    "Incident", "Onset", "analyze_incident", "compare_baseline", "detect_onset",
    "first_symptoms", "load_schema", "precursors", "rank_root_causes", "template_anomalies",
]

# classes whose first occurrence defines the failure when no finding names one
_FATAL = re.compile(r"OutOf\w*MemoryError|OutOfMemoryError|StackOverflowError")
_MAX_IN_MESSAGE = re.compile(r"max: (\d+)\)")


@dataclass(frozen=True, slots=True)
class Onset:
    ts_ms: int
    path: str
    line: int
    text: str
    rule: str | None = None
    fingerprint: str | None = None
    exception: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"ts": _iso(self.ts_ms), "path": self.path, "line": self.line, "text": self.text,
                "rule": self.rule, "fingerprint": self.fingerprint, "exception": self.exception}


def _severity_rank(s: object) -> int:
    try:
        return Severity(str(s).lower()).rank
    except ValueError:
        return -1


def detect_onset(records: pd.DataFrame, findings: Sequence[Mapping[str, object]]) -> Onset | None:
    """The first record of the defining failure, exact to the ms.

    The defining failure is the highest-severity finding (ties: earliest
    ``first_seen``); its first record is the earliest record with the finding's
    fingerprint. Without findings (or fingerprints), the first record whose
    exception is an OutOfMemoryError-like class.
    """
    if not len(records):
        return None
    ts = to_ms(records["ts"])
    valid = ts != NAT_MS
    rule = fp = None
    mask = np.zeros(len(records), dtype=bool)
    ranked = sorted(findings, key=lambda f: (-_severity_rank(f.get("severity")),
                                             _first_seen_ms(f.get("first_seen"))))
    if ranked and "fingerprint" in records.columns:
        top_rank = _severity_rank(ranked[0].get("severity"))
        for f in ranked:
            if _severity_rank(f.get("severity")) != top_rank or not f.get("fingerprint"):
                continue
            m = (records["fingerprint"] == f["fingerprint"]).fillna(False).to_numpy(dtype=bool)
            if (m & valid).any():
                mask, rule, fp = m, str(f.get("rule")), str(f["fingerprint"])
                break
    if not (mask & valid).any():
        return first_fatal(records)
    return _onset_at(records, ts, mask & valid, rule, fp)


def first_fatal(frame: pd.DataFrame) -> Onset | None:
    """The earliest record whose exception or root cause is an OutOfMemoryError-like
    class, to the ms: the failure when no rule named it (or none ran)."""
    if not len(frame) or "exception" not in frame:
        return None
    cls = frame["exception"].astype("string").fillna("")
    if "root_exception" in frame:
        cls = cls + " " + frame["root_exception"].astype("string").fillna("")
    ts = to_ms(frame["ts"])
    mask = cls.str.contains(_FATAL.pattern, regex=True).to_numpy(dtype=bool) & (ts != NAT_MS)
    return _onset_at(frame, ts, mask, None, None) if mask.any() else None


def _onset_at(frame: pd.DataFrame, ts: np.ndarray, mask: np.ndarray, rule: str | None,
              fp: str | None) -> Onset:
    """The Onset of the earliest masked row (ties: the lower line)."""
    cand = np.flatnonzero(mask)
    lines = frame["line"].to_numpy(dtype=np.int64)[cand] if "line" in frame else cand
    i = int(cand[np.lexsort((lines, ts[cand]))[0]])
    row = frame.iloc[i]
    text = str(row["text"] if "text" in frame.columns else row["message"]).split("\n", 1)[0]
    exc = row.get("exception")
    if exc is None or pd.isna(exc):
        exc = row.get("root_exception")
    if fp is None and rule is None:
        got = row.get("fingerprint")
        fp = None if got is None or pd.isna(got) else got
    return Onset(int(ts[i]), str(row.get("source", "")), int(row.get("line", i + 1)), text,
                 rule, fp, None if exc is None or pd.isna(exc) else str(exc))


def _first_seen_ms(v: object) -> int:
    if v is None:
        return np.iinfo(np.int64).max
    if isinstance(v, int | float | np.integer):
        return int(v)
    return int(pd.Timestamp(v).value // 1_000_000)


def max_from_messages(records: pd.DataFrame) -> float | None:
    """The ``max: N`` of netty's OutOfDirectMemoryError message, when present."""
    msgs = records["message"].astype("string")
    found = msgs[msgs.str.contains("max: ", regex=False).fillna(False)].str.extract(
        _MAX_IN_MESSAGE.pattern, expand=False).dropna()
    return float(found.iloc[0]) if len(found) else None


@dataclass(frozen=True, slots=True)
class Incident:
    onset: Onset | None
    timezone: TimezoneGuess | None = None
    first_symptoms: list[Symptom] = field(default_factory=list)
    precursors: list[Precursor] = field(default_factory=list)
    leaks: list[LeakEstimate] = field(default_factory=list)
    root_cause_candidates: list[RootCauseCandidate] = field(default_factory=list)
    template_anomalies: list[Any] = field(default_factory=list)  # TemplateAnomaly

    @property
    def state(self) -> str:
        """``failed`` (something failed at ``onset``) or ``leaking`` (a leak, no failure yet)."""
        return "failed" if self.onset is not None else "leaking"

    def to_json(self) -> dict[str, object]:
        o = self.onset
        return {
            "state": self.state,
            "onset": _iso(o.ts_ms) if o else None,
            "onset_evidence": {"path": o.path, "line": o.line, "text": o.text} if o else None,
            "timezone": ({"zone": self.timezone.zone, "source": self.timezone.source}
                         if self.timezone else {"zone": "UTC", "source": "assumed"}),
            "first_symptoms": [s.to_json() for s in self.first_symptoms],
            "precursors": [p.to_json() for p in self.precursors],
            "leaks": [_leak_json(k) for k in self.leaks],
            "root_cause_candidates": [
                {"exception": c.exception, "message": c.message, "template": c.template,
                 "score": c.score, "count": c.count, "first_seen": _iso(c.first_seen_ms),
                 "example": c.example, "why": c.why, "tracks_leak": c.tracks_leak}
                for c in self.root_cause_candidates],
            "template_anomalies": [a.to_json() for a in self.template_anomalies],
        }


def _leak_json(k: LeakEstimate) -> dict[str, object]:
    pe = k.per_event
    return {"metric": k.metric, "unit": k.unit, "slope_per_hour": k.slope_per_hour, "r2": k.r2,
            "exhaustion_at": _iso(k.exhaustion_at_ms),
            "growth_start": _iso(k.growth_start_ms),
            "ceiling_reached_at": _iso(k.ceiling_reached_ms),
            "change_points": [_iso(t) for t in k.change_points_ms],
            "regimes": [r.to_json() for r in k.regimes],
            "error_values": k.error_values,
            "projection": k.projection_json(),
            "gauge": k.gauge,
            "resource": _resource_json(k.metric),
            "per_event": None if pe is None else {
                "template": pe.template, "amount": pe.amount, "r2": pe.r2, "n": pe.n,
                "decided": pe.decided, "alternatives": list(pe.alternatives),
                "alternative_amounts": list(pe.alternative_amounts),
                "separations": [sp.to_json() for sp in pe.separations]},
            "per_event_reason": None if k.per_event_reason is None
            else k.per_event_reason.to_json(),
            "thread_groups": list(k.thread_groups)}


def _resource_json(metric: str) -> dict[str, str] | None:
    """What runs out, as a Java engineer names it, and the next step to find the leak."""
    from logsleuth.timeline.resources import advice

    got = advice(metric)
    return None if got is None else {"name": got.resource, "next_step": got.next_step}


def load_schema() -> dict[str, object]:
    text = resources.files("logsleuth.timeline").joinpath("incident.schema.json").read_text()
    return json.loads(text)


def analyze_incident(records: pd.DataFrame, findings: Sequence[Mapping[str, object]], *,
                     metrics: pd.DataFrame | None = None,
                     gc_events: pd.DataFrame | None = None,
                     thread_states: pd.DataFrame | None = None,
                     http_requests: pd.DataFrame | None = None,
                     event_keys: Sequence[str] | np.ndarray | None = None,
                     maxima: Mapping[str, float] | None = None,
                     timezone: TimezoneGuess | None = None) -> Incident:
    """Everything at once. ``event_keys``: one label per record (e.g. its template)
    used to attribute leak growth per event; default: the record's message template
    is not mined here, so pass it (``TemplateIndex``) for per-event amounts."""
    onset = detect_onset(records, findings)
    onset_ms = onset.ts_ms if onset else None
    leaks: list[LeakEstimate] = []
    if metrics is not None and len(metrics):
        if maxima is None:
            mx = max_from_messages(records)
            maxima = dict.fromkeys(metrics["metric"].astype(str).unique(), mx) if mx else None
        leaks = estimate_leaks(metrics, maxima, ceilings=ceilings_for(metrics))
        if event_keys is not None:
            leaks = [_attach(k, metrics, records, event_keys, onset_ms) for k in leaks]
    symptoms = first_symptoms(records, onset_ms, http_requests=http_requests,
                              thread_states=thread_states, gc_events=gc_events) if onset else []
    pre = precursors(records, onset_ms, gc_events=gc_events,
                     thread_states=thread_states) if onset else []
    causes = rank_root_causes(records, leaks, onset_ms, metrics=metrics)
    return Incident(onset, timezone, symptoms, pre, leaks, causes)


def _attach(leak: LeakEstimate, metrics: pd.DataFrame, records: pd.DataFrame,
            keys: Sequence[str] | np.ndarray, onset_ms: int | None) -> LeakEstimate:
    m = metrics[metrics["metric"].astype(str) == leak.metric]
    if "origin" in m.columns:
        m = m[m["origin"].astype(str) == "gauge"]
    mts = to_ms(m["ts"])
    keep = (mts < onset_ms if onset_ms is not None and not leak.growth_ranges_ms
            else np.ones(len(mts), dtype=bool))
    per = explain_increments(mts[keep], m["value"].to_numpy(np.float64)[keep], records["ts"],
                               keys, unit=leak.unit, ranges_ms=leak.growth_ranges_ms or None)
    return leak.with_per_event(per)
