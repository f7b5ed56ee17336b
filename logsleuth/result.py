"""The typed result of a scan: what the CLI renders and notebooks explore."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from logsleuth.engine.stats import InputStats
from logsleuth.errors import Diagnostic
from logsleuth.model import RECORD_SCHEMA

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class SkippedInput:
    path: str
    reason: str


@dataclass(slots=True)
class ScanResult:
    """Inputs with their accounting, typed tables, findings and the incident."""

    inputs: list[InputStats]
    skipped: list[SkippedInput] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tables: dict[str, pa.Table] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)
    incident: Any | None = None
    baseline: Any | None = None  # BaselineDiff when scanned with a healthy baseline
    # records streamed to Parquet by the workers (scan(spill_dir=...)): (file, line delta)
    record_files: list[tuple[str, int]] = field(default_factory=list)
    exception_fingerprints: list[str] = field(default_factory=list)  # "outer > root" classes
    # offset (+08:00) each app log writes in its timestamps: the zone reports display
    written_zones: dict[str, str] = field(default_factory=dict)

    # -- tables as pandas (Arrow-backed) ----------------------------------------
    def iter_record_batches(self) -> Iterator[pa.RecordBatch]:
        """Records batch by batch: from memory, or streamed from the spilled files."""
        if "records" in self.tables or not self.record_files:
            yield from self.table("records").to_batches()
            return
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        for path, delta in self.record_files:
            for batch in pq.ParquetFile(path).iter_batches():
                if delta:
                    i = batch.schema.get_field_index("line")
                    batch = batch.set_column(i, "line", pc.add(batch.column(i), delta))
                yield batch

    def table(self, name: str) -> pa.Table:
        if name == "records" and name not in self.tables and self.record_files:
            self.tables[name] = pa.Table.from_batches(list(self.iter_record_batches()),
                                                      schema=RECORD_SCHEMA)
        t = self.tables.get(name)
        if t is None and name == "records":
            return RECORD_SCHEMA.empty_table()
        return t if t is not None else pa.table({})

    def frame(self, name: str) -> pd.DataFrame:
        import pandas as pd

        return self.table(name).to_pandas(types_mapper=pd.ArrowDtype)

    @property
    def records(self) -> pd.DataFrame:
        return self.frame("records")

    def to_parquet(self, directory: str | Path) -> Path:
        """Save as a Parquet dataset with a manifest; ``logsleuth.open`` reads it back."""
        from logsleuth import store

        return store.write(self, directory)

    def unread_app_logs(self) -> list[InputStats]:
        """App logs whose evidence was not read: lines but no record, or no layout and
        most lines unparsed (a pasted stack trace in a ticket is read; a log in an
        unknown layout, of which only the traces become records, is not)."""
        return [s for s in self.inputs if s.kind == "app-log" and s.lines
                and (not s.records or (s.layout is None and 2 * s.unparsed_lines > s.lines))]

    # -- the output contract ------------------------------------------------
    def totals(self) -> dict[str, int]:
        keys = ("bytes", "lines", "records", "unparsed_lines", "invalid_bytes")
        out = {k: sum(getattr(s, k) for s in self.inputs) for k in keys}
        out["inputs"] = len(self.inputs)
        out["skipped"] = len(self.skipped)
        out["diagnostics"] = len(self.diagnostics) + sum(len(s.diagnostics) for s in self.inputs)
        return out

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document (docs/json-output.md); stable for equal inputs."""
        diags = [d.to_json() for d in self.diagnostics]
        for s in self.inputs:
            diags.extend(d.to_json() for d in s.diagnostics)
        return {
            "schema_version": SCHEMA_VERSION,
            "inputs": [s.to_json() for s in self.inputs],
            "totals": self.totals(),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "diagnostics": diags,
            "findings": [f.to_json() for f in self.findings],
            "incident": None if self.incident is None else self.incident.to_json(),
            "baseline": None if self.baseline is None else self.baseline.to_json(),
        }
