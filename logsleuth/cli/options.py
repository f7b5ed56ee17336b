"""Options shared by commands, defined once so their names and help never drift.

The flags that configure a scan come in groups (``READING``, ``RULES``, ``ANALYSIS``,
``RUNNING``); ``@scan_options(...)`` adds a group's flags to a command and hands it
one ``ScanOptions`` built from them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from logsleuth.options import ScanOptions

F = TypeVar("F", bound=Callable[..., Any])

Paths = Annotated[list[str], typer.Argument(
    help="Files, directories, globs or archives; or fsspec URLs (s3://bucket/prefix/).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the output to FILE.")]
Pattern = Annotated[str | None, typer.Option(
    help="log4j2/logback PatternLayout of the app logs, or a JSON layout spec "
         "'json: time=PATH[:iso|ms|s] level=PATH ...' (overrides detection).")]
Tz = Annotated[str | None, typer.Option(
    help="Time zone of logs whose timestamps carry no offset (IANA name).")]
Date = Annotated[str | None, typer.Option(
    "--date", help="Date (YYYY-MM-DD) of the first record of app logs that print only a "
                   "time of day (default: from the file name, sibling logs or mtime).")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Print each diagnostic's note and help (a parser crash's "
                            "traceback).")]
Kinds = Annotated[list[str] | None, typer.Option(
    "--kind", help="Force an input's kind: GLOB=KIND (repeatable).")]
Workers = Annotated[int | None, typer.Option(
    help="Worker processes (default: the number of cores).")]
RulesDirs = Annotated[list[Path] | None, typer.Option(
    "--rules", help="Directory of extra rules (repeatable).")]
Only = Annotated[list[str] | None, typer.Option(
    help="Run only rules with this id or tag (repeatable).")]
Exclude = Annotated[list[str] | None, typer.Option(
    help="Skip rules with this id or tag (repeatable).")]
Log4j2Config = Annotated[Path | None, typer.Option(
    help="Read appender patterns from this log4j2.xml.")]
LogbackConfig = Annotated[Path | None, typer.Option(
    help="Read encoder patterns from this logback.xml.")]
JvmStart = Annotated[str | None, typer.Option(
    help="JVM start time (ISO 8601 with offset) to anchor uptime-only GC logs.")]
Metrics = Annotated[list[Path] | None, typer.Option(
    "--metrics", help="YAML file of extra metric definitions (repeatable).")]
Limits = Annotated[list[str] | None, typer.Option(
    "--limit", help="METRIC=SIZE: the ceiling of a gauge, e.g. "
                    "netty_direct_memory_used=2GiB (repeatable; overrides what the "
                    "evidence states).")]
NoAnalysis = Annotated[bool, typer.Option(
    "--no-analysis", help="Skip incident analysis (onset, leaks, root causes).")]
Engine = Annotated[str, typer.Option(
    help="Where units run: local (processes on this machine) or dask.")]
DaskScheduler = Annotated[str | None, typer.Option(
    help="Dask scheduler address (default: start a local cluster).")]
DisplayTz = Annotated[str | None, typer.Option(
    "--display-tz", help="Zone of the times people read (summary, HTML report, check's "
                         "text): a zone name (Asia/Shanghai), an offset (+08:00), utc or "
                         "local (default: the evidence's own zone). JSON, SARIF, JUnit and "
                         "annotations are unchanged.")]


@dataclass(frozen=True, slots=True)
class Flag:
    """One command-line flag that sets a ScanOptions field."""

    name: str  # the command function's parameter
    annotation: Any  # Annotated[type, typer.Option(...)]
    default: Any
    field: str  # the ScanOptions field it sets
    convert: Callable[[Any], Any] = lambda v: v

    def parameter(self) -> inspect.Parameter:
        return inspect.Parameter(self.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                 default=self.default, annotation=self.annotation)


def _seq(value: list[Any] | None) -> tuple[Any, ...]:
    return tuple(value or ())


# Groups of flags shared by the commands that scan (scan, check, watch): defined once.
READING = (
    Flag("pattern", Pattern, None, "pattern"),
    Flag("log4j2_config", Log4j2Config, None, "log4j2_config"),
    Flag("logback_config", LogbackConfig, None, "logback_config"),
    Flag("tz", Tz, None, "tz"),
    Flag("date", Date, None, "date"),
    Flag("kind", Kinds, None, "kinds", _seq),
    Flag("jvm_start", JvmStart, None, "jvm_start"),
)
RULES = (
    Flag("rules", RulesDirs, None, "rules_dirs", _seq),
    Flag("only", Only, None, "only", _seq),
    Flag("exclude", Exclude, None, "exclude", _seq),
)
ANALYSIS = (
    Flag("metrics", Metrics, None, "metrics", _seq),
    Flag("limit", Limits, None, "limits", _seq),
    Flag("no_analysis", NoAnalysis, False, "analysis", lambda v: not v),
)
RUNNING = (
    Flag("workers", Workers, None, "workers"),
    Flag("engine", Engine, "local", "engine"),
    Flag("dask_scheduler", DaskScheduler, None, "dask_address"),
)


def scan_options(*groups: tuple[Flag, ...]) -> Callable[[F], F]:
    """Give a command the flags of ``groups`` in place of its ``options`` parameter,
    and call it with the one ``ScanOptions`` they build."""
    flags = [f for group in groups for f in group]

    def decorate(command: F) -> F:
        sig = inspect.signature(command, eval_str=True)
        params = list(sig.parameters.values())
        at = [p.name for p in params].index("options")
        taken = {p.name for p in params} & {f.name for f in flags}
        if taken:
            raise TypeError(f"{command.__name__} already has flags {sorted(taken)}")

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            fields = {f.field: f.convert(kwargs.pop(f.name)) for f in flags}
            return command(**kwargs, options=ScanOptions(**fields))

        run.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[*params[:at], *(f.parameter() for f in flags), *params[at + 1:]])
        return run  # type: ignore[return-value]

    return decorate
