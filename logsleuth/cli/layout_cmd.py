"""``logsleuth layout PATH...``: how each input is read, and why (``api.explain_layouts``)."""

from __future__ import annotations

import typer

from logsleuth.cli import options as opt


def register(app: typer.Typer) -> None:
    app.command("layout")(layout)


def layout(paths: opt.Paths) -> None:
    """Show the layout scan reads each app log with, the inferred PatternLayout and why.

    The inferred pattern can be passed verbatim to `scan --pattern` to fix or adjust it.
    """
    from logsleuth import api

    for e in api.explain_layouts(paths):
        typer.echo(f"{e.path}: {e.layout or 'no layout'}")
        if e.note:
            typer.echo(f"  warning: {e.note}")
        if e.inferred:
            typer.echo(f"  inferred: {e.inferred}  (reads {e.share:.0%} of header lines)")
        for why in e.evidence:
            typer.echo(f"  - {why}")
