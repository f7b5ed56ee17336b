"""What the ``logsleuth rules`` and ``logsleuth check`` CLI commands call.

Each CLI command is a thin wrapper: parse options, call one function here,
print the string it returns, exit with the ``ExitCode`` it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from logsleuth.errors import ExitCode
from logsleuth.model import Record, Severity
from logsleuth.reports.clock import DisplayZone
from logsleuth.reports.github import render_github
from logsleuth.reports.junit import render_junit
from logsleuth.reports.sarif import render_sarif
from logsleuth.rules.baseline import filter_new, load_baseline, write_baseline
from logsleuth.rules.compile import RuleSet
from logsleuth.rules.findings import Finding, FindingAggregator
from logsleuth.rules.lint import lint_rules
from logsleuth.rules.loader import load_rules
from logsleuth.rules.model import Rule, RuleInfo
from logsleuth.rules.testing import RuleTestReport, test_rules

FORMATS = ("text", "json", "sarif", "junit", "github")

__all__ = ["FORMATS", "RuleTestReport", "apply_baseline", "exit_code_for", "find",
           "lint_rules", "list_rules", "render_check", "test_rules", "write_baseline"]


def list_rules(dirs: Iterable[str | Path] | None = None, *, only: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None) -> list[RuleInfo]:
    """``logsleuth rules list``: built-ins plus ``dirs``, selected by id or tag."""
    return sorted((r.info for r in load_rules(dirs, only=only, exclude=exclude)),
                  key=lambda i: i.id)


def find(records: Iterable[Record], rules: Sequence[Rule]) -> list[Finding]:
    """Reference path for small inputs: evaluate every record, aggregate, finish.

    The scan engine does the same per chunk with ``candidate_mask`` first and a
    ``FindingAggregator`` per worker, merged at the end.
    """
    compiled = RuleSet.compile(rules)
    agg = FindingAggregator()
    for rec in records:
        agg.add_all(compiled.evaluate(rec))
    return agg.finish()


def apply_baseline(findings: Sequence[Finding], baseline: str | Path | None) -> list[Finding]:
    return list(findings) if baseline is None else filter_new(findings, load_baseline(baseline))


def exit_code_for(findings: Iterable[Finding], fail_on: Severity | str | None) -> ExitCode:
    """FINDINGS when any finding is at or above ``fail_on`` ("none"/None: never)."""
    if fail_on is None or fail_on == "none":
        return ExitCode.OK
    floor = Severity(fail_on).rank
    return ExitCode.FINDINGS if any(f.severity.rank >= floor for f in findings) \
        else ExitCode.OK


def _text(findings: Sequence[Finding], _rules: Sequence[RuleInfo],
          zone: DisplayZone | None = None) -> str:
    """For people: instants as ISO 8601 with the offset of ``zone`` (default UTC)."""
    if not findings:
        return "no findings\n"
    out = []
    for f in findings:
        where = f"{f.example.get('path')}:{f.example.get('line')}"
        first, last = (f.first_seen, f.last_seen) if zone is None else (
            zone.iso(f.first_seen), zone.iso(f.last_seen))
        out.append(f"{f.severity.upper():8} {f.rule} x{f.count} (peak {f.peak_per_minute}/min) "
                   f"{first} .. {last}\n  {f.title}\n  at {where}: {f.signature}")
        for name, v in f.extracted.items():
            out.append(f"  {name}: min {v['min']:g} max {v['max']:g} last {v['last']:g} "
                       f"{v['unit']}")
    return "\n".join(out) + "\n"


def _json(findings: Sequence[Finding], _rules: Sequence[RuleInfo]) -> str:
    return json.dumps({"findings": [f.to_json() for f in findings]}, indent=2) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Finding], Sequence[RuleInfo]], str]] = {
    "text": _text,
    "json": _json,
    "sarif": render_sarif,
    "junit": render_junit,
    "github": lambda f, _r: render_github(f),
}


def render_check(findings: Sequence[Finding], fmt: str,
                 rules: Sequence[RuleInfo] = (), zone: DisplayZone | None = None) -> str:
    """``logsleuth check --format``; ``rules`` lists every rule that ran (SARIF, JUnit).

    ``zone`` is the clock of the text format, which people read; the machine formats
    keep their instants as they are."""
    if fmt == "text":
        return _text(findings, rules, zone)
    try:
        render = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}") \
            from None
    return render(findings, rules)
