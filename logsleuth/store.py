"""The event store: a scan saved as a Parquet dataset, reopened without re-parsing.

Layout of a store directory::

    manifest.json              accounting, diagnostics, findings, incident, table list
    records/kind=app-log/day=2020-04-14/part-0.parquet   (hive partitions)
    gc_events/part-0.parquet   (small tables: one file)

Why a manifest: the Arrow schemas (dictionary index widths, time zones) and the
non-tabular parts of a result (inputs, findings, incident JSON) must come back
exactly, and DuckDB/pyarrow readers alone do not keep them. Rows of partitioned
tables carry a hidden ``_row`` column so ``open`` restores the original order.
"""

from __future__ import annotations

import base64
import json
import shutil
import uuid
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from logsleuth.errors import DiagLevel, Diagnostic, InputError, LogsleuthError, SourceLocation

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from logsleuth.result import ScanResult

STORE_VERSION = 1
MANIFEST = "manifest.json"
ROW_COL = "_row"
DAY_COL = "day"
# records are partitioned by kind and UTC day; other tables are small enough for one file
PARTITIONS: dict[str, tuple[str, ...]] = {"records": ("kind", DAY_COL)}


class QueryError(LogsleuthError):
    """SQL that DuckDB rejects; located in the SQL text when DuckDB says where."""


# -- writing ------------------------------------------------------------------------------
def write(result: ScanResult, directory: str | Path) -> Path:
    """Save ``result`` as a store in ``directory`` and return its path.

    A directory that already holds a store is replaced; a non-empty directory
    that is not a store is refused (InputError) rather than overwritten. The new
    store is written beside the target and swapped in, so a failure leaves the old
    one intact (and a result opened from the same directory can be saved back).
    """
    out = Path(directory)
    if out.exists() and not (out / MANIFEST).is_file() and (
            not out.is_dir() or any(out.iterdir())):
        raise InputError.at(str(out), "store-exists",
                            "exists and is not a logsleuth store; choose an empty directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir()
        tables = {name: _write_table(result.tables[name], tmp / name, name)
                  for name in sorted(result.tables)}
        if "records" not in result.tables and result.record_files:
            from logsleuth.model import RECORD_SCHEMA

            tables["records"] = _write_batches(result.iter_record_batches(), RECORD_SCHEMA,
                                               tmp / "records", "records")
            tables = dict(sorted(tables.items()))
        manifest = _manifest(result, tables)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _write_table(table: pa.Table, where: Path, name: str) -> dict[str, Any]:
    return _write_batches(iter(table.to_batches()), table.schema, where, name,
                          rows=table.num_rows)


def _write_batches(batches: Iterator[pa.RecordBatch], schema: pa.Schema, where: Path,
                   name: str, rows: int | None = None) -> dict[str, Any]:
    """Write one table batch by batch (memory stays flat for spilled records)."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    parts = [p for p in PARTITIONS.get(name, ()) if p == DAY_COL or p in schema.names]
    if DAY_COL in parts and "ts" not in schema.names:
        parts.remove(DAY_COL)
    entry: dict[str, Any] = {
        "rows": rows,
        "partitioning": parts,
        "columns": {f.name: str(f.type) for f in schema},
        "arrow_schema": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
    }
    if len(schema) == 0:
        entry["rows"] = rows or 0
        return entry
    where.mkdir()
    count = [0]
    if not parts:
        with pq.ParquetWriter(where / "part-0.parquet", schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                count[0] += batch.num_rows
        entry["rows"] = count[0]
        return entry
    out_schema = schema.append(pa.field(ROW_COL, pa.int64()))
    if DAY_COL in parts:
        out_schema = out_schema.append(pa.field(DAY_COL, pa.string()))
    for p in parts:  # partition values are plain strings on disk
        out_schema = out_schema.set(out_schema.get_field_index(p), pa.field(p, pa.string()))

    def prepared() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            n = batch.num_rows
            cols = {f.name: batch.column(f.name) for f in schema}
            cols[ROW_COL] = pa.array(np.arange(count[0], count[0] + n, dtype=np.int64))
            if DAY_COL in parts:
                cols[DAY_COL] = pc.strftime(batch.column("ts"), format="%Y-%m-%d")
            for p in parts:
                cols[p] = cols[p].cast(pa.string())
            count[0] += n
            yield pa.RecordBatch.from_arrays([cols[f.name] for f in out_schema],
                                             schema=out_schema)

    part_schema = pa.schema([(p, pa.string()) for p in parts])
    ds.write_dataset(prepared(), where, schema=out_schema, format="parquet",
                     basename_template="part-{i}.parquet",
                     partitioning=ds.partitioning(part_schema, flavor="hive"),
                     existing_data_behavior="overwrite_or_ignore",
                     # row groups of 128k rows: each open day partition buffers one
                     max_rows_per_group=1 << 17, min_rows_per_group=1 << 15)
    entry["rows"] = count[0]
    return entry


def _manifest(result: ScanResult, tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from logsleuth.result import SCHEMA_VERSION

    return {
        "store_version": STORE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "inputs": [_stats_json(s) for s in result.inputs],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "diagnostics": [_diag_json(d) for d in result.diagnostics],
        "findings": [f.to_json() for f in result.findings],
        "incident": None if result.incident is None else result.incident.to_json(),
        "written_zones": result.written_zones,  # the zone reports display (reports.clock)
        "tables": tables,
    }


def _diag_json(d: Diagnostic) -> dict[str, Any]:
    return {**d.to_json(), "note": d.note, "help": d.help}


def _diag_from(j: dict[str, Any]) -> Diagnostic:
    return Diagnostic(SourceLocation(j["path"], j["line"], j["column"]), j["code"], j["message"],
                      DiagLevel(j["level"]), j.get("note"), j.get("help"))


def _stats_json(s: Any) -> dict[str, Any]:
    return {**s.to_json(), "oversized_lines": s.oversized_lines,
            "first_ts_ms": s.first_ts_ms, "last_ts_ms": s.last_ts_ms,
            "unparsed_samples": [list(x) for x in s.unparsed_samples],
            "diagnostics": [_diag_json(d) for d in s.diagnostics], "notes": list(s.notes)}


def _stats_from(j: dict[str, Any]) -> Any:
    from logsleuth.engine.stats import InputStats

    return InputStats(
        path=j["path"], kind=j["kind"], layout=j["layout"], timezone=j["timezone"],
        wrapper=j.get("wrapper"),
        bytes=j["bytes"], lines=j["lines"], records=j["records"],
        unparsed_lines=j["unparsed_lines"], invalid_bytes=j["invalid_bytes"],
        oversized_lines=j["oversized_lines"], first_ts_ms=j["first_ts_ms"],
        last_ts_ms=j["last_ts_ms"],
        unparsed_samples=[(int(n), str(t)) for n, t in j["unparsed_samples"]],
        diagnostics=[_diag_from(d) for d in j["diagnostics"]], notes=list(j["notes"]))


# -- reading ------------------------------------------------------------------------------
def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The parsed manifest of a store; InputError when ``directory`` is not one."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError.at(str(directory), "not-a-store",
                            f"no {MANIFEST}: not a dataset written by to_parquet") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise InputError.at(str(path), "bad-manifest", f"unreadable manifest: {err}",
                            line=line, column=getattr(err, "colno", None)) from None
    version = manifest.get("store_version") if isinstance(manifest, dict) else None
    if version != STORE_VERSION:
        raise InputError.at(str(path), "store-version",
                            f"store version {version!r}; this logsleuth reads {STORE_VERSION}")
    return manifest


def open_store(directory: str | Path) -> ScanResult:
    """Reopen a saved scan: accounting and JSON at once, tables loaded on first use."""
    from logsleuth.result import ScanResult, SkippedInput

    root = Path(directory)
    m = read_manifest(root)
    return ScanResult(
        inputs=[_stats_from(s) for s in m["inputs"]],
        skipped=[SkippedInput(s["path"], s["reason"]) for s in m["skipped"]],
        diagnostics=[_diag_from(d) for d in m["diagnostics"]],
        tables=LazyTables(root, m["tables"]),  # type: ignore[arg-type]
        findings=[_finding_from(f) for f in m["findings"]],
        incident=None if m["incident"] is None else JsonView(m["incident"]),
        written_zones=dict(m.get("written_zones") or {}),  # absent in older stores
    )


def load_table(root: Path, name: str, entry: dict[str, Any]) -> pa.Table:
    """Read one table of a store back with its original schema and row order."""
    import pyarrow.dataset as ds

    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(entry["arrow_schema"])))
    where = root / name
    if entry["rows"] == 0 or not where.is_dir():
        return schema.empty_table()
    parts = entry["partitioning"]
    partitioning = (ds.partitioning(pa.schema([(p, pa.string()) for p in parts]), flavor="hive")
                    if parts else None)
    table = ds.dataset(where, format="parquet", partitioning=partitioning).to_table()
    if parts:
        table = table.sort_by(ROW_COL)
    return table.select(schema.names).cast(schema)


class LazyTables(MutableMapping[str, pa.Table]):
    """The tables of a store, each read from disk the first time it is asked for."""

    def __init__(self, root: Path, entries: dict[str, dict[str, Any]]) -> None:
        self._root = root
        self._entries = dict(entries)
        self._loaded: dict[str, pa.Table] = {}

    def __getitem__(self, name: str) -> pa.Table:
        if name not in self._loaded:
            if name not in self._entries:
                raise KeyError(name)
            self._loaded[name] = load_table(self._root, name, self._entries[name])
        return self._loaded[name]

    def __setitem__(self, name: str, table: pa.Table) -> None:
        self._loaded[name] = table
        self._entries.setdefault(name, {})

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LazyTables({self._root}, {sorted(self._entries)})"


class JsonView:
    """Read-only attribute access over saved JSON (the incident of a reopened store).

    ``view.leaks[0].per_event.amount`` reads like the live objects; ``to_json()``
    returns the document exactly as it was saved.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, key: str) -> Any:
        try:
            return _wrap(self._data[key])
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def __repr__(self) -> str:
        return f"JsonView({self._data!r})"


def _wrap(v: Any) -> Any:
    if isinstance(v, dict):
        return JsonView(v)
    if isinstance(v, list):
        return [_wrap(x) for x in v]
    return v


def _finding_from(j: dict[str, Any]) -> Any:
    """A Finding again when the JSON has exactly its fields, else a JsonView."""
    import dataclasses

    from logsleuth.model import Severity
    from logsleuth.rules.findings import Finding

    names = {f.name for f in dataclasses.fields(Finding)}
    if set(j) != names:
        return JsonView(j)
    return Finding(**{**j, "severity": Severity(j["severity"]), "tags": tuple(j["tags"])})


# -- SQL ----------------------------------------------------------------------------------
def connect(directory: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of the store."""
    import duckdb

    root = Path(directory)
    m = read_manifest(root)
    con = duckdb.connect()
    for name, entry in m["tables"].items():
        view = _quote(name)
        if entry["rows"] == 0 or not (root / name).is_dir():
            con.register(f"__empty_{name}", load_table(root, name, entry))
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {_quote('__empty_' + name)}")
            continue
        cols = ", ".join(_quote(c) for c in entry["columns"])
        glob = str(root / name / "**" / "*.parquet").replace("'", "''")
        hive = "true" if entry["partitioning"] else "false"
        con.execute(f"CREATE VIEW {view} AS SELECT {cols} FROM read_parquet('{glob}', "
                    f"hive_partitioning={hive}, hive_types_autocast=false)")
    return con


def query(directory: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over a store (tables are views by name) as an Arrow-backed DataFrame."""
    import pandas as pd

    return query_arrow(directory, sql).to_pandas(types_mapper=pd.ArrowDtype)


def query_arrow(directory: str | Path, sql: str) -> pa.Table:
    """Like ``query`` but the Arrow table (what the CLI formats)."""
    import duckdb

    con = connect(directory)
    try:
        rel = con.sql(sql)
        if rel is None:  # a statement without a result (CREATE, SET...)
            return pa.table({})
        return rel.to_arrow_table()
    except duckdb.Error as err:
        raise _query_error(sql, err) from None
    finally:
        con.close()


def _query_error(sql: str, err: Exception) -> QueryError:
    """One line, located at DuckDB's caret (``LINE n: ...`` then ``^``) when it gives one."""
    text = str(err)
    lines = text.split("\n")
    line = column = None
    for i, ln in enumerate(lines):
        if ln.startswith("LINE ") and ":" in ln and i + 1 < len(lines):
            head, _, _ = ln.partition(":")
            caret = lines[i + 1].find("^")
            if head[5:].strip().isdigit() and caret >= 0:
                line = int(head[5:])
                column = caret - len(head) - 2 + 1
                sql_line = sql.split("\n")[line - 1] if line <= sql.count("\n") + 1 else ""
                snippet = ln[len(head) + 2:]
                if snippet.startswith("...") or not sql_line.startswith(snippet[:20]):
                    column = None  # DuckDB shortened the line: the caret no longer maps
            break
    message = " ".join(x.strip() for x in lines[:2] if x.strip() and not x.startswith("LINE "))
    return QueryError(Diagnostic(SourceLocation("<sql>", line, column), "sql", message))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
