"""``logsleuth scan``: read evidence, print a summary or the JSON document."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from logsleuth.cli import options as opt
from logsleuth.reports import console
from logsleuth.result import ScanResult


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    paths: opt.Paths,
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="Output: text (summary) or json.")] = "text",
    output: opt.Output = None,
    pattern: opt.Pattern = None,
    log4j2_config: Annotated[Path | None, typer.Option(
        help="Read appender patterns from this log4j2.xml.")] = None,
    logback_config: Annotated[Path | None, typer.Option(
        help="Read encoder patterns from this logback.xml.")] = None,
    tz: opt.Tz = None,
    date: opt.Date = None,
    kind: opt.Kinds = None,
    workers: opt.Workers = None,
    parquet: Annotated[Path | None, typer.Option(
        help="Also write the result tables as Parquet into DIR.")] = None,
    html: Annotated[Path | None, typer.Option(
        help="Also write the self-contained HTML incident timeline to FILE.")] = None,
    rules: opt.RulesDirs = None,
    no_rules: Annotated[bool, typer.Option(
        "--no-rules", help="Ingest only: run no rules.")] = False,
    only: opt.Only = None,
    exclude: opt.Exclude = None,
    metrics: Annotated[list[Path] | None, typer.Option(
        "--metrics", help="YAML file of extra metric definitions (repeatable).")] = None,
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", help="METRIC=SIZE: the ceiling of a gauge, e.g. "
                        "netty_direct_memory_used=2GiB (repeatable; overrides what the "
                        "evidence states).")] = None,
    baseline: Annotated[list[str] | None, typer.Option(
        help="Healthy logs to compare with: list templates and fingerprints new here "
             "(repeatable).")] = None,
    engine: Annotated[str, typer.Option(
        help="Where units run: local (processes on this machine) or dask.")] = "local",
    dask_scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (default: start a local cluster).")] = None,
    no_analysis: Annotated[bool, typer.Option(
        "--no-analysis", help="Skip incident analysis (onset, leaks, root causes).")] = False,
    jvm_start: Annotated[str | None, typer.Option(
        help="JVM start time (ISO 8601 with offset) to anchor uptime-only GC logs.")] = None,
    progress: Annotated[bool, typer.Option(
        help="Show a progress bar on stderr.")] = True,
    verbose: opt.Verbose = False,
) -> None:
    """Scan evidence and report what it holds; exits 0 whenever the scan completed."""
    from logsleuth import api

    if format not in ("text", "json"):
        raise typer.BadParameter(f"'{format}' is not text or json", param_hint="--format")
    # records kept for --parquet stream to disk beside it: memory stays flat
    spill = None
    if parquet is not None:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        spill = tempfile.mkdtemp(prefix=".logsleuth-records-", dir=parquet.parent)
    try:
        with console.progress_bar(enabled=progress and sys.stderr.isatty()) as tick:
            result = api.scan(paths, pattern=pattern, log4j2_config=log4j2_config,
                              logback_config=logback_config, tz=tz, kinds=kind or (),
                              workers=workers, keep_records=parquet is not None,
                              spill_dir=spill, rules=not no_rules, rules_dirs=rules or (),
                              only=only or (), exclude=exclude or (),
                              analysis=not no_analysis, jvm_start=jvm_start, date=date,
                              html=html,
                              baseline=baseline or None, metrics=metrics or (),
                              limits=limit or (), engine=engine,
                              dask_address=dask_scheduler, progress=tick)
        if parquet is not None:
            result.to_parquet(parquet)
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    text = render(result, format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for line in console.diagnostic_lines(result, verbose):
        print(line, file=sys.stderr)


def render(result: ScanResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    return console.summary(result)
