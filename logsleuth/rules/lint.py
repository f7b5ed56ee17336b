"""``lint_rules``: every problem in rule directories, each at file:line:col.

Load errors (invalid YAML, duplicate keys, unknown or missing fields, bad
regexes) come from ``Rule.from_dict(collect_errors=True)``; the checks below
are small declared classes that look at a rule that did load.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.rules.loader import read_rule, rule_files
from logsleuth.rules.model import Rule
from logsleuth.rules.testing import TEST_SUFFIX
from logsleuth.rules.yamlsrc import Marks


@dataclass(frozen=True, slots=True)
class LintContext:
    path: Path
    marks: Marks


class LintCheck:
    code: ClassVar[str]
    level: ClassVar[DiagLevel]

    def check(self, rule: Rule, ctx: LintContext) -> Iterator[Diagnostic]:
        raise NotImplementedError

    def diag(self, loc: SourceLocation, message: str, help: str | None = None) -> Diagnostic:
        return Diagnostic(loc, self.code, message, self.level, help=help)


class AlwaysEvaluate(LintCheck):
    """A rule without a literal needle is evaluated on every record of a scan."""

    code, level = "W101", DiagLevel.WARNING

    def check(self, rule: Rule, ctx: LintContext) -> Iterator[Diagnostic]:
        if rule.match.needles() is None:
            yield self.diag(ctx.marks.at(("match",), key=True),
                            "no literal needle can be derived: the rule runs on every record",
                            help="add a `contains`, an exception class or a regex with a "
                                 "literal prefix to every `any` branch")


class IdMatchesFile(LintCheck):
    code, level = "R032", DiagLevel.ERROR

    def check(self, rule: Rule, ctx: LintContext) -> Iterator[Diagnostic]:
        if ctx.path.stem != rule.id:
            yield self.diag(ctx.marks.at(("id",)),
                            f"rule id {rule.id!r} does not match file name {ctx.path.name!r}")


class MissingAdvice(LintCheck):
    code, level = "W102", DiagLevel.WARNING

    def check(self, rule: Rule, ctx: LintContext) -> Iterator[Diagnostic]:
        if not rule.info.advice:
            yield self.diag(ctx.marks.at(("id",)), "rule has no advice: reports show none")


class MissingTest(LintCheck):
    code, level = "W103", DiagLevel.WARNING

    def check(self, rule: Rule, ctx: LintContext) -> Iterator[Diagnostic]:
        if not ctx.path.with_name(ctx.path.stem + TEST_SUFFIX).exists():
            yield self.diag(ctx.marks.at(("id",)),
                            f"no test file {ctx.path.stem + TEST_SUFFIX} beside the rule")


CHECKS: tuple[LintCheck, ...] = (AlwaysEvaluate(), IdMatchesFile(), MissingAdvice(),
                                 MissingTest())


def lint_rules(dirs: Iterable[str | Path]) -> list[Diagnostic]:
    """All problems in the rule files under ``dirs``, sorted by location."""
    out: list[Diagnostic] = []
    seen: dict[str, SourceLocation] = {}
    for d in map(Path, dirs):
        if not d.is_dir():
            out.append(Diagnostic(SourceLocation(str(d)), "R033", "not a directory"))
            continue
        files = rule_files(d)
        if not files:
            out.append(Diagnostic(SourceLocation(str(d)), "R031",
                                  "no rule files (*.yaml) in directory"))
        for path in files:
            rule, errors, marks = read_rule(path, collect_errors=True)
            out += errors
            if rule is None:
                continue
            loc = marks.at(("id",))
            if rule.id in seen:
                out.append(Diagnostic(loc, "R030", f"duplicate rule id {rule.id!r} (first "
                                      f"defined at {seen[rule.id]})"))
            else:
                seen[rule.id] = loc
            ctx = LintContext(path, marks)
            for check in CHECKS:
                out += check.check(rule, ctx)
    out.sort(key=lambda d: (d.location.path, d.location.line or 0, d.location.column or 0))
    return out
