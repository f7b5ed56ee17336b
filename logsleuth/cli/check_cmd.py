"""``logsleuth check``: scan evidence, run the rules, fail CI on serious findings.

The command is a thin wrapper: ``run_check`` does the work through the Python
API (``api.scan`` then ``logsleuth.rules.api``) and returns a typed outcome;
the typer function parses options, prints, and maps the outcome to an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from logsleuth.cli import options as opt
from logsleuth.errors import DiagLevel, Diagnostic, ExitCode, InputError, SourceLocation
from logsleuth.model import Severity
from logsleuth.options import ScanOptions, resolve_options
from logsleuth.reports.clock import DisplayZone, check_display_tz, display_zone

if TYPE_CHECKING:
    from logsleuth.rules.findings import Finding
    from logsleuth.rules.model import RuleInfo

FORMATS = ("text", "json", "sarif", "junit", "github")
FAIL_ON = (*(str(s) for s in Severity), "none")


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What one check found: every finding, the ones not in the baseline, the verdict."""

    findings: list[Finding]  # everything the rules found
    new: list[Finding]  # not in the baseline (all of them without one)
    rules: list[RuleInfo]  # every rule that ran (SARIF and JUnit list them)
    diagnostics: list[Diagnostic]  # input problems that did not stop the scan
    exit_code: ExitCode
    inputs: int  # inputs actually read
    error: Diagnostic | None = None  # why the check could not run (exit 2)
    unread: tuple[str, ...] = ()  # app logs that gave no record (exit 2 unless allowed)
    zone: DisplayZone | None = None  # the clock of the text output (reports.clock)

    @property
    def suppressed(self) -> int:
        return len(self.findings) - len(self.new)


def run_check(paths: Sequence[str], options: ScanOptions | None = None, *,
              fail_on: str = "high", baseline: Path | None = None,
              write_baseline: Path | None = None, path_prefix: str = "",
              allow_unread: bool = False, display_tz: str | None = None,
              **overrides: Any) -> CheckOutcome:
    """Scan ``paths`` with the rules and decide the exit code.

    ``options`` and ``overrides`` configure the scan as for ``logsleuth.scan``
    (rules always run; records are not kept); the other keywords are the check's
    own verdict policy (``baseline`` here is a findings baseline, not healthy logs).
    A check that read no input at all must not pass: the outcome then carries
    an ``error`` and exit code USAGE (the input diagnostics say why), and no
    baseline is written. Nor does one with an app log that gave no record
    (USAGE unless ``allow_unread``). Writing a baseline accepts what was found (exit 0).
    Broken rules, a bad pattern or zone and an unreadable baseline raise.
    """
    from logsleuth import api
    from logsleuth.rules import api as rules_api
    from logsleuth.rules.baseline import filter_new, load_baseline

    opts = replace(resolve_options(options, overrides), keep_records=False, rules=True)
    known = None if baseline is None else load_baseline(baseline)  # fail before a long scan
    result = api.scan(list(paths), opts)
    diagnostics = list(result.diagnostics)
    for s in result.inputs:
        diagnostics.extend(s.diagnostics)
    if not result.inputs:
        skipped = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped)
        error = Diagnostic(SourceLocation(paths[0] if paths else "."), "no-input",
                           "no readable input: nothing was checked"
                           + (f" (skipped {skipped})" if skipped else ""))
        return CheckOutcome([], [], [], diagnostics, ExitCode.USAGE, 0, error)
    findings = list(result.findings)
    if path_prefix:
        findings = [_prefixed(f, path_prefix) for f in findings]
    if write_baseline is not None:
        rules_api.write_baseline(findings, write_baseline)
    new = findings if known is None else filter_new(findings, known)
    infos = rules_api.list_rules(opts.rules_dirs, only=list(opts.only) or None,
                                 exclude=list(opts.exclude) or None)
    code = ExitCode.OK if write_baseline is not None else rules_api.exit_code_for(new, fail_on)
    unread = tuple(s.path for s in result.unread_app_logs())
    for path in unread:
        diagnostics.append(Diagnostic(SourceLocation(path), "unread-input",
                                      "app log not read (0 records, or no layout and most "
                                      "lines unparsed): its "
                                      "evidence was not checked (pass --pattern, or "
                                      "--allow-unread to accept)",
                                      level=DiagLevel.WARNING if allow_unread
                                      else DiagLevel.ERROR))
    if unread and not allow_unread and write_baseline is None:
        code = ExitCode.USAGE
    return CheckOutcome(findings, new, infos, diagnostics, code, len(result.inputs),
                        unread=unread, zone=display_zone(result, display_tz))


def _prefixed(f: Finding, prefix: str) -> Finding:
    """Point the example at the file as the repository sees it (SARIF, annotations)."""
    path = f.example.get("path")
    if not isinstance(path, str):
        return f
    joined = prefix.rstrip("/") + "/" + path if prefix else path
    return replace(f, example={**f.example, "path": joined})


def register(app: typer.Typer) -> None:
    app.command("check")(check)


@opt.scan_options(opt.READING, opt.RULES, opt.RUNNING)
def check(
    paths: opt.Paths,
    options: ScanOptions | None = None,  # built from the READING, RULES, RUNNING flags
    fail_on: Annotated[str, typer.Option(
        "--fail-on", help="Exit 1 when a finding is at or above this severity: "
                          "info, low, medium, high, critical (none: never).")] = "high",
    baseline: Annotated[Path | None, typer.Option(
        help="Fail only on findings not in this baseline file.")] = None,
    write_baseline: Annotated[Path | None, typer.Option(
        "--write-baseline", help="Record the current findings in FILE and exit 0.")] = None,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Output: text, json, sarif, junit or github.")] = "text",
    output: opt.Output = None,
    path_prefix: Annotated[str, typer.Option(
        "--path-prefix", help="Prefix finding paths with this (e.g. the logs directory "
                              "relative to the repository, for SARIF and annotations).")] = "",
    verbose: opt.Verbose = False,
    allow_unread: Annotated[bool, typer.Option(
        "--allow-unread", help="Do not exit 2 when an app log yields 0 records.")] = False,
    display_tz: opt.DisplayTz = None,
) -> None:
    """Scan evidence and run the rules for CI: exit 1 on findings at or above --fail-on.

    Exit codes: 0 no finding at or above --fail-on (after the baseline), 1 there
    are, 2 bad options, a broken rule, an unreadable baseline, no readable input,
    or an app log that yields 0 records (unless --allow-unread).
    """
    if format not in FORMATS:
        raise typer.BadParameter(f"'{format}' is not one of {', '.join(FORMATS)}",
                                 param_hint="--format")
    if fail_on not in FAIL_ON:
        raise typer.BadParameter(f"'{fail_on}' is not one of {', '.join(FAIL_ON)}",
                                 param_hint="--fail-on")
    check_display_tz(display_tz)  # a bad zone fails before a long scan
    outcome = run_check(paths, options, fail_on=fail_on, baseline=baseline,
                        write_baseline=write_baseline, path_prefix=path_prefix,
                        allow_unread=allow_unread, display_tz=display_tz)
    for d in outcome.diagnostics:
        print(d.render(verbose), file=sys.stderr)
    if outcome.error is not None:
        raise InputError(outcome.error)
    from logsleuth.rules.api import render_check

    text = render_check(outcome.new, format, outcome.rules, outcome.zone)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print(_verdict(outcome, fail_on, write_baseline), file=sys.stderr)
    if outcome.exit_code != ExitCode.OK:
        raise typer.Exit(int(outcome.exit_code))


def _verdict(o: CheckOutcome, fail_on: str, written: Path | None) -> str:
    """One stderr line a CI log reader can scan: counts and why it passed or failed."""
    parts = [f"{len(o.findings)} finding(s) from {len(o.rules)} rule(s) over "
             f"{o.inputs} input(s)"]
    if o.suppressed:
        parts.append(f"{o.suppressed} in the baseline")
    if written is not None:
        parts.append(f"baseline written to {written}")
    floor = None if fail_on == "none" else Severity(fail_on).rank
    failing = 0 if floor is None else sum(1 for f in o.new if f.severity.rank >= floor)
    parts.append(f"{failing} new at or above {fail_on}")
    if o.unread:
        parts.append(f"{len(o.unread)} app log(s) unread")
    return "check: " + ", ".join(parts) + ("" if o.exit_code == ExitCode.OK else ": FAIL")
