"""SARIF 2.1.0: findings as results pointing at the log file and line.

Code-scanning UIs show ``tool.driver.rules[].help`` next to each result, so the
rule's advice goes there; ``partialFingerprints`` carries our fingerprint so
the same finding is recognised across runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from logsleuth.model import Severity
from logsleuth.rules.findings import Finding
from logsleuth.rules.model import RuleInfo

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}


def _rule(r: RuleInfo) -> dict[str, object]:
    out: dict[str, object] = {
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.description or r.title},
        "help": {"text": r.advice or r.title},
        "defaultConfiguration": {"level": LEVELS[r.severity]},
        "properties": {"tags": list(r.tags), "severity": str(r.severity)},
    }
    if r.references:
        out["helpUri"] = r.references[0]
    return out


def _result(f: Finding, index: int) -> dict[str, object]:
    path = str(f.example.get("path", ""))
    line = f.example.get("line")
    region = {"startLine": line} if isinstance(line, int) and line >= 1 else None
    physical: dict[str, object] = {"artifactLocation": {"uri": quote(path, safe="/!:@")}}
    if region:
        physical["region"] = region
    when = f" between {f.first_seen} and {f.last_seen}" if f.first_seen else ""
    return {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.title}: {f.count} occurrence(s){when}; {f.signature}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"logsleuth/v1": f.fingerprint},
        "properties": {"count": f.count, "first_seen": f.first_seen,
                       "last_seen": f.last_seen, "peak_per_minute": f.peak_per_minute,
                       "extracted": f.extracted},
    }


def to_sarif(findings: Sequence[Finding], rules: Sequence[RuleInfo],
             version: str = "0.1.0") -> dict[str, object]:
    """A SARIF log with one run; ``rules`` should include every rule that ran."""
    infos = {r.id: r for r in rules}
    for f in findings:  # a finding's rule must be listed even when not passed in
        infos.setdefault(f.rule, RuleInfo(f.rule, f.title, f.severity, advice=f.advice))
    ordered = sorted(infos.values(), key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(ordered)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "logsleuth", "version": version,
                                "informationUri": "https://github.com/logsleuth/logsleuth",
                                "rules": [_rule(r) for r in ordered]}},
            "results": [_result(f, index[f.rule]) for f in findings],
        }],
    }


def render_sarif(findings: Sequence[Finding], rules: Sequence[RuleInfo]) -> str:
    return json.dumps(to_sarif(findings, rules), indent=2) + "\n"
