"""Terminal rendering: the human summary and the progress bar."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

from logsleuth.reports.clock import DisplayZone, display_zone
from logsleuth.result import ScanResult


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    # rich only where a terminal shows it: ``--format json`` and pipes never load it
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("scanning"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("scan", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def _shown(zone: DisplayZone, instant: str | None) -> str:
    return zone.fmt(instant) if instant else "-"


def summary(result: ScanResult, zone: DisplayZone | None = None) -> str:
    """What was read and what it holds, as plain text (no colour when not a tty).

    Instants show in ``zone`` (default: the evidence's own), stated once on top."""
    from rich.console import Console  # only the text summary needs rich
    from rich.table import Table

    from logsleuth.reports.narrative import incident_paragraph, unread_warning

    zone = zone or display_zone(result)
    buf = io.StringIO()
    # force_jupyter=False: in a notebook rich would display HTML instead of writing buf
    con = Console(file=buf, width=120, color_system=None, highlight=False,
                  force_jupyter=False)
    warning = unread_warning(result)  # evidence not read goes before anything else
    if warning:
        con.print(warning, soft_wrap=False)
    con.print(zone.header(), soft_wrap=False)
    con.print(incident_paragraph(result, zone, warn=False), soft_wrap=False)
    con.print()
    if result.findings:
        f_table = Table(title="Findings", show_lines=False)
        for col in ("severity", "rule", "count", "first seen", "last seen", "example"):
            f_table.add_column(col, overflow="fold")
        for f in result.findings:
            f_table.add_row(str(f.severity), f.rule, f"{f.count:,}", _shown(zone, f.first_seen),
                            _shown(zone, f.last_seen),
                            f"{f.example.get('path')}:{f.example.get('line')}")
        con.print(f_table)
    t = Table(title="Inputs", show_lines=False)
    for col in ("path", "kind", "layout", "bytes", "lines", "records", "unparsed", "timezone"):
        t.add_column(col, overflow="fold")
    for s in result.inputs:
        t.add_row(s.path, s.kind, s.layout or "-", f"{s.bytes:,}", f"{s.lines:,}",
                  f"{s.records:,}", f"{s.unparsed_lines:,}", s.timezone or "-")
    con.print(t)
    tot = result.totals()
    con.print(f"Totals: {tot['inputs']} inputs, {tot['bytes']:,} bytes, {tot['lines']:,} lines, "
              f"{tot['records']:,} records, {tot['unparsed_lines']:,} unparsed lines, "
              f"{tot['invalid_bytes']:,} invalid bytes replaced")
    if result.skipped:
        con.print("Skipped: " + ", ".join(f"{s.path} ({s.reason})" for s in result.skipped))
    return buf.getvalue()


def diagnostic_lines(result: ScanResult, verbose: bool = False) -> list[str]:
    """One line per diagnostic; ``verbose`` adds notes and help (a crash's traceback)."""
    lines = [d.render(verbose) for d in result.diagnostics]
    for s in result.inputs:
        lines.extend(d.render(verbose) for d in s.diagnostics)
    return lines
