"""Semgrep-style rule tests over real-shaped log text.

``<rule-id>.test.log`` sits beside ``<rule-id>.yaml``. Annotation lines
``# ruleid: <id>``, ``# ok: <id>``, ``# todoruleid: <id>`` and ``# todook: <id>``
apply to the next *record* (a stack trace spans many lines); other lines
starting with "# " are comments. The runner strips both, parses the rest into
records, and maps every record back to its line in the original file.

``# layout: <pattern>`` starts an app-log section parsed with that layout;
``# kind: <kind>`` (``gc-log``, ``thread-dump``, ``nginx-access``, ``nginx-error``)
starts a section of other evidence, parsed by that kind's parser and turned into
records the way a scan does. An annotation then applies to the next record that
kind reports: the line a GC event is reported on, a thread's header line, a
deadlock section's first line, a request line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.model import Kind, Record
from logsleuth.rules.compile import RuleSet
from logsleuth.rules.loader import read_rule, rule_files
from logsleuth.rules.model import Rule

ANNOTATION = re.compile(r"^\s*#\s*(ruleid|ok|todoruleid|todook)\s*:\s*(.*?)\s*$")
LAYOUT = re.compile(r"^#\s*layout\s*:\s*(.*?)\s*$")  # starts a section parsed with this layout
KIND = re.compile(r"^#\s*kind\s*:\s*(.*?)\s*$")  # starts a section of evidence of this kind
COMMENT = re.compile(r"^# ")  # test-file comments; netty's "#1:" access records stay
TEST_SUFFIX = ".test.log"

Parse = Callable[[str, str, str | None], list[Record]]  # (text, source, layout or None)
EvidenceParse = Callable[[bytes, str, Kind], list[Record]]  # (data, source, kind)

def default_parse(text: str, source: str, layout: str | None) -> list[Record]:
    """The one switch to the engine's parser (records with throwables parsed)."""
    from logsleuth.api import parse_text

    return parse_text(text, source=source, layout=layout)


def default_evidence_parse(data: bytes, source: str, kind: Kind) -> list[Record]:
    """The scan's own parser and record makers for one kind of evidence."""
    import importlib

    from logsleuth.engine.rulescan import evidence_records
    from logsleuth.engine.units import EVIDENCE_PARSERS

    module, func = EVIDENCE_PARSERS[kind]
    result = getattr(importlib.import_module(module), func)(data, source)
    return list(evidence_records(kind, result))


@dataclass(slots=True)
class RuleTestResult:
    rule: str
    missed: list[SourceLocation] = field(default_factory=list)  # ruleid: but no match
    unexpected: list[SourceLocation] = field(default_factory=list)  # matched, not expected
    todo: list[SourceLocation] = field(default_factory=list)  # known miss / false alarm, still
    todo_fixed: list[SourceLocation] = field(default_factory=list)  # todo that now passes
    positives: int = 0
    negatives: int = 0

    @property
    def ok(self) -> bool:
        return not self.missed and not self.unexpected


@dataclass(slots=True)
class RuleTestReport:
    results: dict[str, RuleTestResult] = field(default_factory=dict)
    untested: list[str] = field(default_factory=list)  # rule ids without any ruleid: test
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results.values()) and not any(
            d.level == DiagLevel.ERROR for d in self.diagnostics)

    def render(self) -> str:
        out: list[str] = []
        for rid, r in sorted(self.results.items()):
            status = "ok" if r.ok else "FAIL"
            out.append(f"{status:4} {rid}: {r.positives} positive, {r.negatives} negative"
                       + (f", {len(r.todo)} todo" if r.todo else ""))
            out += [f"  {loc}: missed: expected {rid} to match" for loc in r.missed]
            out += [f"  {loc}: unexpected: {rid} matched" for loc in r.unexpected]
            out += [f"  {loc}: todo now passes, turn it into a real annotation"
                    for loc in r.todo_fixed]
        out += [f"untested rule: {rid}" for rid in self.untested]
        out += [d.render() for d in self.diagnostics]
        return "\n".join(out)


@dataclass(frozen=True, slots=True)
class _Ann:
    kind: str
    rule: str
    line: int  # of the annotation, in the original file


@dataclass(slots=True)
class _Section:
    """Lines parsed together (one layout or one evidence kind), with the original line
    number of each."""

    layout: str | None
    kind: Kind = Kind.APP_LOG
    line: int = 0  # of the directive that started it (0: none)
    bad_kind: str | None = None  # a ``# kind:`` naming no evidence kind (kind is UNKNOWN)
    lines: list[str] = field(default_factory=list)
    orig: list[int] = field(default_factory=list)


def _strip(text: str) -> tuple[list[_Section], list[_Ann]]:
    """Remove annotations and comments; split into sections at ``# layout:`` and
    ``# kind:`` lines."""
    sections = [_Section(None)]
    anns: list[_Ann] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if (m := ANNOTATION.match(line)) is not None:
            anns += [_Ann(m[1], rid.strip(), n) for rid in m[2].split(",") if rid.strip()]
        elif (m := LAYOUT.match(line)) is not None:
            sections.append(_Section(m[1] or None, line=n))
        elif (m := KIND.match(line)) is not None:
            kind = next((k for k in Kind if str(k) == m[1] and k is not Kind.UNKNOWN), None)
            sections.append(_Section(None, kind or Kind.UNKNOWN, n, None if kind else m[1]))
        elif not COMMENT.match(line):
            sections[-1].lines.append(line)
            sections[-1].orig.append(n)
    return [s for s in sections if s.lines or s.bad_kind is not None], anns


_KINDS = sorted(str(k) for k in Kind if k not in (Kind.APP_LOG, Kind.UNKNOWN))


def _section_records(sec: _Section, src: str, parse: Parse, evidence: EvidenceParse,
                     report: RuleTestReport) -> list[tuple[int, Record]]:
    """Records of one section with the original line of each (kept in the file's order)."""
    body = "\n".join(sec.lines) + "\n"
    if sec.kind is Kind.UNKNOWN:  # its lines are skipped, not parsed as an app log
        report.diagnostics.append(Diagnostic(SourceLocation(src, sec.line, 1), "T004",
                                             f"unknown evidence kind {sec.bad_kind!r}; "
                                             f"expected one of {_KINDS}"))
        return []
    if sec.kind is Kind.APP_LOG:
        recs = parse(body, src, sec.layout)
    else:
        recs = evidence(body.encode("utf-8"), src, sec.kind)
    out: list[tuple[int, Record]] = []
    for rec in recs:
        if not 1 <= rec.line <= len(sec.orig):  # a parser bug: say so, do not guess a line
            report.diagnostics.append(Diagnostic(
                SourceLocation(src, sec.line or sec.orig[0], 1), "T005",
                f"{sec.kind} parser reported line {rec.line} outside its section"))
            continue
        out.append((sec.orig[rec.line - 1], rec))
    return out


def _run_file(log: Path, rules: dict[str, Rule], stem_rule: str | None, parse: Parse,
              evidence: EvidenceParse, report: RuleTestReport) -> None:
    src = str(log)
    sections, anns = _strip(log.read_text(encoding="utf-8"))
    located: list[tuple[int, Record]] = []
    for sec in sections:
        located += _section_records(sec, src, parse, evidence, report)
    located.sort(key=lambda x: x[0])  # stable: a dump's threads before its deadlocks
    records = [rec for _, rec in located]
    starts = [line for line, _ in located]  # original line of each record's header
    expect: dict[tuple[str, int], str] = {}  # (rule, record index) -> annotation kind
    for a in anns:
        loc = SourceLocation(src, a.line, 1)
        if a.rule not in rules:
            report.diagnostics.append(Diagnostic(loc, "T001", f"annotation names unknown rule "
                                                 f"{a.rule!r}"))
            continue
        idx = next((i for i, s in enumerate(starts) if s > a.line), None)
        if idx is None:
            report.diagnostics.append(Diagnostic(loc, "T002", "annotation is not followed by "
                                                 "a record"))
            continue
        if (a.rule, idx) in expect:  # the line annotated first produced no record
            report.diagnostics.append(Diagnostic(loc, "T006", f"a second annotation for "
                                                 f"{a.rule} on the record at line {starts[idx]}"))
            continue
        expect[(a.rule, idx)] = a.kind
    tested = {a.rule for a in anns if a.rule in rules} | ({stem_rule} if stem_rule else set())
    compiled = RuleSet.compile([rules[r] for r in sorted(tested)])
    for i, rec in enumerate(records):
        fired = {m.rule.id for m in compiled.evaluate(rec)}
        loc = SourceLocation(src, starts[i], 1)
        for rid in tested:
            res = report.results.setdefault(rid, RuleTestResult(rid))
            kind = expect.get((rid, i))
            hit = rid in fired
            if kind == "ruleid":
                res.positives += 1
                if not hit:
                    res.missed.append(loc)
            elif kind in ("ok", None):
                res.negatives += kind == "ok"
                if hit:
                    res.unexpected.append(loc)
            elif (kind == "todoruleid") == hit:  # a known miss now matches, or vice versa
                res.todo_fixed.append(loc)
            else:
                res.todo.append(loc)


def test_rules(dirs: Iterable[str | Path], *, parse: Parse | None = None,
               evidence: EvidenceParse | None = None) -> RuleTestReport:
    """Run every ``*.test.log`` under ``dirs`` against the rules there.

    ``parse`` turns app-log sections into records, ``evidence`` the ``# kind:``
    sections (both default to what a scan uses).
    """
    parse = parse or default_parse
    evidence = evidence or default_evidence_parse
    report = RuleTestReport()
    rules: dict[str, Rule] = {}
    logs: list[tuple[Path, str | None]] = []
    for d in map(Path, dirs):
        for path in rule_files(d):
            rule, diags, _ = read_rule(path, collect_errors=True)
            report.diagnostics += diags
            if rule is not None:
                rules[rule.id] = rule
        for log in sorted(d.rglob("*" + TEST_SUFFIX)):
            stem = log.name[: -len(TEST_SUFFIX)]
            if not log.with_name(stem + ".yaml").exists():
                report.diagnostics.append(Diagnostic(
                    SourceLocation(str(log), 1, 1), "T003",
                    f"test file without a rule file {stem}.yaml", DiagLevel.WARNING))
            logs.append((log, stem))
    for log, stem in logs:
        _run_file(log, rules, stem if stem in rules else None, parse, evidence, report)
    report.untested = sorted(rid for rid in rules
                             if rid not in report.results or not report.results[rid].positives)
    return report

