"""``--state FILE``: the watcher's whole analysis, so a restart reads nothing twice.

The file is a zip of ``state.json`` (format version, the options it was made with,
file offsets and identities, what was said, per-stream positions and accounting,
the collectors' small values) and one Arrow IPC stream per table (template and
exception counts per time bucket, finding minutes, warning/error rows, gauge rows,
evidence tables, held bytes). No raw records and no pickle: what is kept is what
the analysis keeps, aggregated and bounded (``watch.retention``), and a newer
logsleuth refuses a state of another version instead of misreading it.

Written atomically: a temporary file in the same folder, fsync, rename, so a crash
leaves either the old state or the new one, never a torn one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from logsleuth.engine.snapshot import Snapshot, dump_collectors, load_collectors
from logsleuth.engine.stats import InputStats
from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.model import Kind
from logsleuth.watch.follow import Chunk

STATE_VERSION = 3  # 1: offsets only (the analysis was rebuilt by reading again)
# 3: the jvmconsole collector (GC lines and heap-dump notices inside a console's records);
# a state without it cannot continue: that collector would have missed what was read


# -- the file ------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """numpy scalars and dates as JSON values."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_state(path: str, snap: Snapshot) -> int:
    """Write ``snap`` to ``path`` atomically; its size in bytes."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".logsleuth-state-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as z:
                z.writestr("state.json", json.dumps(snap.meta, default=_plain))
                for name, table in snap.tables.items():
                    sink = io.BytesIO()
                    with pa.ipc.new_stream(sink, table.schema, options=_ipc_options()) as w:
                        w.write_table(table)
                    z.writestr(f"tables/{name}.arrow", sink.getvalue())
            raw.flush()
            os.fsync(raw.fileno())
            size = raw.tell()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def _ipc_options() -> pa.ipc.IpcWriteOptions:
    """zstd, one buffer after another: Arrow's default hands every buffer to its thread
    pool, ~600 thread wakeups for a 1 MB state and thousands for a large one (the
    burst an idle watcher showed once its last record settled), for no time saved on
    buffers this small (the same 0.02 CPU s either way)."""
    codec = "zstd" if pa.Codec.is_available("zstd") else None
    return pa.ipc.IpcWriteOptions(compression=codec, use_threads=False)


def read_state(path: str) -> Snapshot:
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("state.json"))
        tables = {}
        for name in z.namelist():
            if name.startswith("tables/") and name.endswith(".arrow"):
                with pa.ipc.open_stream(z.read(name)) as r:
                    tables[name[len("tables/"):-len(".arrow")]] = r.read_all()
    return Snapshot(meta, tables)


# -- accounting ------------------------------------------------------------------------
def _diag_json(d: Diagnostic) -> dict[str, Any]:
    loc = d.location
    return {"path": loc.path, "line": loc.line, "column": loc.column, "code": d.code,
            "message": d.message, "level": str(d.level), "note": d.note, "help": d.help}


def _diag(d: dict[str, Any]) -> Diagnostic:
    return Diagnostic(SourceLocation(d["path"], d["line"], d["column"]), d["code"],
                      d["message"], DiagLevel(d["level"]), d["note"], d["help"])


def _stats_json(s: InputStats) -> dict[str, Any]:
    return {"path": s.path, "kind": s.kind, "layout": s.layout, "wrapper": s.wrapper,
            "timezone": s.timezone, "bytes": s.bytes, "lines": s.lines, "records": s.records,
            "unparsed_lines": s.unparsed_lines, "invalid_bytes": s.invalid_bytes,
            "oversized_lines": s.oversized_lines, "first_ts_ms": s.first_ts_ms,
            "last_ts_ms": s.last_ts_ms, "unparsed_samples": s.unparsed_samples,
            "diagnostics": [_diag_json(d) for d in s.diagnostics], "notes": s.notes}


def _stats(d: dict[str, Any]) -> InputStats:
    return InputStats(**{**d, "unparsed_samples": [(int(a), str(b)) for a, b in
                                                   d["unparsed_samples"]],
                         "diagnostics": [_diag(x) for x in d["diagnostics"]]})


def _clock(parser: Any) -> Any:
    """The time-of-day clock of an app-log parser, if it reads a time-only layout."""
    from logsleuth.engine.timeonly import TimeOfDayClock

    while parser is not None and not isinstance(getattr(parser, "ts_converter", None),
                                                TimeOfDayClock):
        parser = getattr(parser, "inner", None)
    return None if parser is None else parser.ts_converter


def _bytes_table(rows: list[tuple[str, bytes, bytes]]) -> pa.Table:
    return pa.table({"key": pa.array([r[0] for r in rows], pa.string()),
                     "carry": pa.array([r[1] for r in rows], pa.binary()),
                     "head": pa.array([r[2] for r in rows], pa.binary())})


def _bytes_of(snap: Snapshot, name: str) -> dict[str, tuple[bytes, bytes]]:
    t = snap.tables.get(name)
    if t is None:
        return {}
    return {k: (c, h) for k, c, h in zip(t["key"].to_pylist(), t["carry"].to_pylist(),
                                         t["head"].to_pylist(), strict=True)}


# -- the running analysis ----------------------------------------------------------------
def dump_analysis(run: Any, snap: Snapshot) -> None:
    """Everything ``load_analysis`` needs to continue ``run`` (a ``RunningAnalysis``)."""
    streams, blobs = [], []
    for key, s in run.streams.items():
        clock = _clock(s.parser)
        streams.append({
            "key": key, "display": s.display, "kind": str(s.kind), "line": s.line,
            "stats": _stats_json(s.stats), "fs_path": s.fs_path,
            "base_date": None if s.base_date is None else s.base_date.isoformat(),
            "clock": None if clock is None else [clock.days, clock.last_local],
            "evidence": s.parser.to_json() if s.evidence else None})
        blobs.append((key, s.carry, s.head))
    pending = [(key, c.data, b"") for key, (c, _) in run._unplanned.items()]
    snap.meta["analysis"] = {
        "streams": streams,
        "unplanned": [{"key": k, "display": c.display, "first_line": c.first_line,
                       "final": c.final, "fs_path": c.fs_path}
                      for k, (c, _) in run._unplanned.items()],
        "retired": [_stats_json(s) for s in run.retired.values()],
        "heads": [{"display": h.source.path, "kind": str(h.kind)} for h in run._heads.values()],
        "evidence_ms": run.evidence_ms, "records_read": run.records_read,
        "diagnostics": [_diag_json(d) for d in run.diagnostics],
        "evidence_tables": sorted(run.evidence_tables), "retention": run.retention.to_json()}
    snap.tables["streams.bytes"] = _bytes_table(blobs)
    snap.tables["unplanned.bytes"] = _bytes_table(pending)
    snap.tables["heads.bytes"] = _bytes_table([(h.source.path, b"", h.head)
                                               for h in run._heads.values()])
    for name, parts in run.evidence_tables.items():
        snap.put_table(f"evidence.{name}", parts)
    dump_collectors(run.running, snap)


def load_analysis(run: Any, snap: Snapshot) -> None:
    """Continue ``run`` (fresh, built with the same options) from ``dump_analysis``."""
    from logsleuth.sources.values import Source
    from logsleuth.watch.state import _Head

    meta = snap.meta["analysis"]
    run.running = load_collectors(run.names, run.config, snap)
    blobs = _bytes_of(snap, "streams.bytes")
    # planned together, as they were first: a file that took its family's layout
    # takes it again (planned alone, a near-empty current file fell back to its own guess)
    chunks = [Chunk(d["key"], d["display"], blobs[d["key"]][1], 1, fs_path=d["fs_path"])
              for d in meta["streams"]]
    dated = [None if d["base_date"] is None else dt.date.fromisoformat(d["base_date"])
             for d in meta["streams"]]
    planned = run._plan_many(chunks, dated) if chunks else []
    for d, s in zip(meta["streams"], planned, strict=True):
        carry, head = blobs[d["key"]]
        s.stats, s.line, s.carry, s.head = _stats(d["stats"]), int(d["line"]), carry, head
        if s.evidence:
            s.parser.stats = s.stats
            s.parser.restore(d["evidence"])
        elif s.parser is not None:
            _rebind_stats(s.parser, s.stats)
        clock = _clock(s.parser)
        if clock is not None and d["clock"] is not None:
            clock.days, clock.last_local = d["clock"]
        run.streams[d["key"]] = s
    pending = _bytes_of(snap, "unplanned.bytes")
    run._unplanned = {u["key"]: (Chunk(u["key"], u["display"], pending[u["key"]][0],
                                       u["first_line"], final=u["final"],
                                       fs_path=u["fs_path"]), 0.0)
                      for u in meta["unplanned"]}
    run.retired = {d["path"]: _stats(d) for d in meta["retired"]}
    heads = _bytes_of(snap, "heads.bytes")
    run._heads = {h["display"]: _Head(Kind(h["kind"]), heads[h["display"]][1],
                                      Source(h["display"], Path(h["display"])))
                  for h in meta["heads"]}
    run.evidence_ms = meta["evidence_ms"]
    run.records_read = {k: int(v) for k, v in meta["records_read"].items()}
    run.diagnostics = [_diag(d) for d in meta["diagnostics"]]  # planning them again added some
    run.evidence_tables = {name: snap.table(f"evidence.{name}")
                           for name in meta["evidence_tables"]}
    run.retention.restore(meta["retention"])


def _rebind_stats(parser: Any, stats: InputStats) -> None:
    """The restored accounting is the one the stream's parsers count into."""
    while parser is not None:
        if hasattr(parser, "stats"):
            parser.stats = stats
        parser = getattr(parser, "inner", None)
