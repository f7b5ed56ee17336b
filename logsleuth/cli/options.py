"""Options shared by commands, defined once so their names and help never drift."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Paths = Annotated[list[str], typer.Argument(help="Files, directories, globs or archives.")]
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
