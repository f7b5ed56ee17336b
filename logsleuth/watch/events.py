"""Which events a finalized result brings, against what was already said.

Every event is a flat JSON object with ``event``, ``wall_time`` (when it was
emitted) and ``evidence_time`` (the log time of the newest record read then).
What was emitted is remembered (and checkpointed), so a restarted watcher
repeats nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from logsleuth.timeline.projection import LEVEL

ETA_MOVE = 0.10  # a forecast is re-emitted when its ETA moves by this share of the time left
LEAK_MOVE = 0.25  # a leak is re-announced when its rate moves by more than this share
RATE_JUMP = 10.0  # a finding is re-announced when its recent rate is this many times its mean
RATE_MIN = 20  # ... and at least this many new matches came


def iso(ms: int | float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass
class EventLog:
    """Turns results into events; its memory is plain JSON."""

    horizon_ms: int = 7 * 86_400_000
    findings: dict[str, list[float]] = field(default_factory=dict)  # key -> [count, ev ms]
    leaks: dict[str, float] = field(default_factory=dict)  # metric -> rate per hour said
    # metric -> [eta, evidence ms when said, template said]
    forecasts: dict[str, list[Any]] = field(default_factory=dict)
    onset_ms: int | None = None

    def event(self, kind: str, evidence_ms: int | None, **body: Any) -> dict[str, Any]:
        return {"event": kind, "wall_time": iso(time.time() * 1000),
                "evidence_time": iso(evidence_ms), **body}

    def from_result(self, result: Any, evidence_ms: int | None) -> list[dict[str, Any]]:
        out = self._findings(result.findings, evidence_ms)
        incident = result.incident
        if incident is None:
            return out
        for leak in incident.leaks:
            out.extend(self._leak(leak, evidence_ms))
        onset = incident.onset
        if onset is not None and onset.ts_ms != self.onset_ms and _failed(onset, result):
            # said again only when it moved: a rolled archive read after the live file
            # (it rolled between polls, and its .gz came late) can hold an earlier failure
            revised = self.onset_ms is not None
            self.onset_ms = onset.ts_ms
            out.append(self.event("onset", evidence_ms, onset=iso(onset.ts_ms),
                                  path=onset.path, line=onset.line, text=onset.text,
                                  rule=onset.rule, exception=onset.exception, revised=revised))
        return out

    def _findings(self, findings: list[Any], evidence_ms: int | None) -> list[dict[str, Any]]:
        out = []
        for f in findings:
            key = f"{f.rule}:{f.fingerprint}"
            said = self.findings.get(key)
            now = float(evidence_ms or 0)
            reason = None
            if said is None:
                reason = "new"
            else:
                count, at = said
                first = _ms(f.first_seen) or now
                mean = count / max(at - first, 60_000.0)  # per ms, over at least a minute
                recent = (f.count - count) / max(now - at, 60_000.0)
                if f.count - count >= RATE_MIN and recent > RATE_JUMP * mean:
                    reason = "rate"
            if reason is None:
                continue
            self.findings[key] = [float(f.count), now]
            out.append(self.event("finding", evidence_ms, reason=reason, rule=f.rule,
                                  severity=str(f.severity), title=f.title,
                                  fingerprint=f.fingerprint, signature=f.signature,
                                  count=f.count, first_seen=f.first_seen,
                                  last_seen=f.last_seen, example=dict(f.example)))
        return out

    def _leak(self, leak: Any, evidence_ms: int | None) -> list[dict[str, Any]]:
        out = []
        per = leak.per_event
        per_json = None if per is None else {
            "template": per.template, "amount": per.amount,
            "alternatives": list(per.alternatives), "decided": per.decided,
            "alternative_amounts": list(per.alternative_amounts)}
        why = getattr(leak, "per_event_reason", None)  # why per_event is null
        said = self.leaks.get(leak.metric)
        rate = float(leak.slope_per_hour)
        if said is None or abs(rate - said) > LEAK_MOVE * max(abs(said), 1e-9):
            self.leaks[leak.metric] = rate
            out.append(self.event("leak", evidence_ms, metric=leak.metric, unit=leak.unit,
                                  rate_per_hour=rate, r2=leak.r2, per_event=per_json,
                                  per_event_reason=None if why is None else why.to_json(),
                                  growth_start=iso(leak.growth_start_ms),
                                  last_value=leak.last_value,
                                  projection=leak.projection_json()))
        eta = leak.exhaustion_at_ms if leak.projected else None
        if leak.ceiling_reached_ms is not None:
            return out  # reached: the failure speaks for itself (onset, findings)
        now = evidence_ms if evidence_ms is not None else leak.end_ms
        prior = self.forecasts.get(leak.metric)
        template = None if per is None else per.template
        # the event that explains the growth, once known, is news of its own (a flip
        # between candidates it cannot be told from is not)
        news = prior is None or (template is not None and prior[2] is None)
        if eta is None:
            if not news or per is None:
                return out  # a leak with no known ceiling is forecast once it is attributed
        else:
            if eta - now > self.horizon_ms:
                return out
            # news when it moved by more than a tenth of the time left (as the end nears)
            if (not news and prior[0] is not None
                    and abs(eta - float(prior[0])) <= ETA_MOVE * max(eta - now, 1000.0)):
                return out
        self.forecasts[leak.metric] = [None if eta is None else float(eta), float(now),
                                       template]
        c, p = leak.ceiling, leak.projection if eta is not None else None
        out.append(self.event(
            "forecast", evidence_ms, metric=leak.metric, unit=leak.unit, eta=iso(eta),
            eta_earliest=None if p is None else iso(p.earliest_ms),
            eta_latest=None if p is None else iso(p.latest_ms),
            eta_level=None if p is None else LEVEL,
            ceiling=None if c is None else c.to_json(), per_event=per_json,
            per_event_reason=None if why is None else why.to_json(),
            confidence=(round(max(0.0, min(1.0, float(leak.r2))), 3) if p is None
                        else p.confidence),
            rate_per_hour=rate if p is None else p.rate * 3_600_000,
            rate_source="regime-line" if p is None else p.source,
            last_value=leak.last_value, window=leak.window_json()))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"findings": self.findings, "leaks": self.leaks, "forecasts": self.forecasts,
                "onset_ms": self.onset_ms}

    def restore(self, data: dict[str, Any]) -> None:
        self.findings = dict(data.get("findings", {}))
        self.leaks = dict(data.get("leaks", {}))
        self.forecasts = dict(data.get("forecasts", {}))
        self.onset_ms = data.get("onset_ms")


def _failed(onset: Any, result: Any) -> bool:
    """The onset is a failure, not an early error: a critical finding defines it, or an
    OutOfMemoryError-like record. A live watcher sees errors that a leak will later
    explain as its cause (issue 15): those are findings, not an onset, until then."""
    if onset.rule is None:
        return True
    return any(f.rule == onset.rule and f.fingerprint == onset.fingerprint
               and str(f.severity) == "critical" for f in result.findings)


def _ms(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None
