"""``logsleuth query DIR SQL``: SQL over a saved scan (``logsleuth.query`` on the CLI)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

FORMATS = ("table", "csv", "json")


def register(app: typer.Typer) -> None:
    app.command("query")(query)


def query(
    directory: Annotated[Path, typer.Argument(
        help="A dataset written by `logsleuth scan --parquet DIR` or ScanResult.to_parquet.")],
    sql: Annotated[str, typer.Argument(
        help="DuckDB SQL; every table of the dataset is a view of the same name "
             "(records, level_counts, gc_events, ...).")],
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Output: table (aligned text), csv or json (array of rows).")
    ] = "table",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the output to FILE.")] = None,
) -> None:
    """Run SQL over a saved dataset; a bad query exits 2 with a one-line error."""
    from logsleuth import store
    from logsleuth.errors import InputError

    if format not in FORMATS:
        raise InputError.at("--format", "bad-format",
                            f"'{format}' is not one of {', '.join(FORMATS)}")
    table = store.query_arrow(directory, sql)
    text = render(table, format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def render(table: Any, fmt: str) -> str:
    """Format an Arrow table as ``table``, ``csv`` or ``json`` text."""
    names = list(table.column_names)
    rows = [[_plain(v) for v in row.values()] for row in table.to_pylist()]
    if fmt == "json":
        return json.dumps([dict(zip(names, r, strict=True)) for r in rows],
                          ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        w.writerows(["" if v is None else v for v in r] for r in rows)
        return buf.getvalue()
    return _aligned(names, rows)


def _plain(v: Any) -> Any:
    """JSON-friendly scalars: ISO times, floats for decimals, text for the rest."""
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _aligned(names: list[str], rows: list[list[Any]]) -> str:
    """Plain aligned columns (no colour, no box): readable and easy to paste."""
    cells = [names] + [["NULL" if v is None else _one_line(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(names))]
    right = [all(isinstance(r[i], int | float) or r[i] is None for r in rows) and rows
             for i in range(len(names))]
    out = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if right[i] else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.append("  ".join(parts).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out) + "\n"


def _one_line(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v) if isinstance(v, list | dict) else str(v)
    s = s.replace("\n", "\\n")
    return s if len(s) <= 120 else s[:119] + "…"
