"""What the page says: a ScanResult turned into plain JSON-shaped values.

The incident is read through its documented ``to_json()`` shape (or a dict of
that shape, e.g. a reopened store); only the leak ``maximum``, which the JSON
leaves out, is taken from the object when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logsleuth.reports.clock import incident_json

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


@dataclass(slots=True)
class Context:
    incident: dict[str, Any] | None
    findings: list[dict[str, Any]]
    leaks: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    diagnostics: list[str]
    totals: dict[str, int]
    notes: list[str] = field(default_factory=list)


def finding_json(f: object) -> dict[str, Any]:
    if isinstance(f, dict):
        return f
    return dict(f.to_json())  # type: ignore[attr-defined]


def leaks_with_maximum(incident: object | None, inc: dict[str, Any] | None,
                       findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The incident's leaks plus ``maximum``: from the estimate, else a finding's ``max``."""
    if not inc:
        return []
    objs = list(getattr(incident, "leaks", None) or [])
    fallback = None
    for f in findings:
        mx = (f.get("extracted") or {}).get("max")
        if isinstance(mx, dict) and mx.get("max") is not None:
            fallback = float(mx["max"])
            break
    out = []
    for i, k in enumerate(inc.get("leaks", [])):
        maximum = getattr(objs[i], "maximum", None) if i < len(objs) else None
        if maximum is None and str(k.get("unit")) in ("B", "bytes"):
            maximum = fallback
        out.append({**k, "maximum": maximum})
    return out


def build_context(result: Any) -> Context:
    findings = [finding_json(f) for f in (result.findings or [])]
    findings.sort(key=lambda f: (_sev_rank(f.get("severity")), -int(f.get("count") or 0)))
    inc = incident_json(result.incident)
    diags = [d.render() for d in result.diagnostics]
    inputs = []
    for s in result.inputs:
        row = dict(s.to_json())
        row["first_ts_ms"] = getattr(s, "first_ts_ms", None)
        row["last_ts_ms"] = getattr(s, "last_ts_ms", None)
        row["unparsed_samples"] = list(getattr(s, "unparsed_samples", []))[:3]
        row["notes"] = list(getattr(s, "notes", []))
        inputs.append(row)
        diags += [d.render() for d in getattr(s, "diagnostics", [])]
    return Context(
        incident=inc, findings=findings, leaks=leaks_with_maximum(result.incident, inc, findings),
        inputs=inputs, skipped=[{"path": s.path, "reason": s.reason} for s in result.skipped],
        diagnostics=diags, totals=result.totals())


def _sev_rank(s: object) -> int:
    s = str(s).lower()
    return SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)
