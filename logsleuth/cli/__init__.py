"""Command line: thin typer wrappers over ``logsleuth.api``; errors map to ExitCode here."""

from __future__ import annotations

from logsleuth.cli.app import app, main

__all__ = ["app", "main"]
