"""``logsleuth scan``: read evidence, print a summary or the JSON document."""

from __future__ import annotations

import gc
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from logsleuth.cli import options as opt
from logsleuth.options import ScanOptions
from logsleuth.reports import console
from logsleuth.reports.clock import DisplayZone
from logsleuth.result import ScanResult


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


@opt.scan_options(opt.READING, opt.RULES, opt.ANALYSIS, opt.RUNNING)
def scan(
    paths: opt.Paths,
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="Output: text (summary) or json.")] = "text",
    output: opt.Output = None,
    options: ScanOptions | None = None,  # built from the READING ... RUNNING flags
    parquet: Annotated[Path | None, typer.Option(
        help="Also write the result tables as Parquet into DIR.")] = None,
    html: Annotated[Path | None, typer.Option(
        help="Also write the self-contained HTML incident timeline to FILE.")] = None,
    no_rules: Annotated[bool, typer.Option(
        "--no-rules", help="Ingest only: run no rules.")] = False,
    baseline: Annotated[list[str] | None, typer.Option(
        help="Healthy logs to compare with: list templates and fingerprints new here "
             "(repeatable).")] = None,
    display_tz: opt.DisplayTz = None,
    progress: Annotated[bool, typer.Option(
        help="Show a progress bar on stderr.")] = True,
    verbose: opt.Verbose = False,
) -> None:
    """Scan evidence and report what it holds; exits 0 whenever the scan completed."""
    # What the scan loads (modules, classes: ~50,000 objects) lives as long as the
    # command: no collection while it arrives, then frozen, so that the collector stops
    # walking it in every full collection (on the 256 MiB bench logs one at import,
    # one mid-scan and one at the end: 0.1 s of CPU), also in the forked workers.
    collecting = gc.isenabled()
    gc.disable()
    from logsleuth import api
    from logsleuth.reports.clock import check_display_tz, display_zone

    gc.freeze()
    if collecting:
        gc.enable()
    if format not in ("text", "json"):
        raise typer.BadParameter(f"'{format}' is not text or json", param_hint="--format")
    check_display_tz(display_tz)  # a bad zone fails before a long scan
    # records kept for --parquet stream to disk beside it: memory stays flat
    spill = None
    if parquet is not None:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        spill = tempfile.mkdtemp(prefix=".logsleuth-records-", dir=parquet.parent)
    options = replace(options or ScanOptions(), rules=not no_rules,
                      baseline=baseline or None, keep_records=parquet is not None,
                      spill_dir=spill)
    try:
        with console.progress_bar(enabled=progress and sys.stderr.isatty()) as tick:
            result = api.scan(paths, options, progress=tick)
        if parquet is not None:
            result.to_parquet(parquet)
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    zone = display_zone(result, display_tz)
    if html is not None:
        from logsleuth.reports.html import write_html

        write_html(result, html, zone=zone)
    text = render(result, format, zone)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for line in console.diagnostic_lines(result, verbose):
        print(line, file=sys.stderr)


def render(result: ScanResult, fmt: str, zone: DisplayZone | None = None) -> str:
    """The JSON document (instants as ISO 8601, whatever ``zone``) or the summary."""
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    return console.summary(result, zone)
