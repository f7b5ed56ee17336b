"""Numbers printed inside log messages (direct-memory gauges, pool sizes) as a ``metrics`` table.

A ``MetricDef`` is declarative: a literal ``contains`` needle, an RE2 regex whose
named groups hold the numbers, and the metric each group feeds. Built-ins live in
``metrics_builtin/*.yaml`` (found by glob, so adding a file is enough); every
definition carries samples, checked when a user's file loads and, for the built-ins
(fixed per release), by the test suite.

Units are normalised to a base unit per dimension: bytes (``B``; ``k``/``K``/
``KB``/``KiB`` all mean 1024, as JVM and netty tooling use them, likewise M and G)
and seconds (``s``; ns, us, ms, s, min, h). A unit the regex captures overrides
the definition's default; a value whose unit is not known for its dimension is
dropped. Other units (``count``) pass through unchanged.

Extraction is vectorised: ``match_substring`` on the needle picks the few
candidate messages, then ``extract_regex`` runs on those hits only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from logsleuth.errors import PatternError, RuleError
from logsleuth.yamlio import line_of, load_with_node

_BYTES = {"": 1, "b": 1, "byte": 1, "bytes": 1, **{
    f"{p}{s}": 1024 ** (i + 1) for i, p in enumerate("kmgt") for s in ("", "b", "ib")}}
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "secs": 1.0,
            "second": 1.0, "seconds": 1.0, "m": 60.0, "min": 60.0, "mins": 60.0, "h": 3600.0}

METRICS_SCHEMA = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("ts", pa.timestamp("ms", tz="UTC")),
    ("metric", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
    ("origin", pa.string()),  # gauge | error (read from a failure message) | limit (a ceiling)
    ("caps", pa.string()),  # for limits: comma-separated globs of the metrics it caps
])
ORIGINS = ("gauge", "error", "limit")

_NAME = r"^[a-z][a-z0-9_]*$"
DEF_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["metrics"], "additionalProperties": False,
    "properties": {"metrics": {"type": "array", "minItems": 1, "items": {
        "type": "object", "additionalProperties": False,
        "required": ["name", "description", "contains", "regex", "samples"],
        "properties": {
            "name": {"type": "string", "pattern": _NAME},
            "description": {"type": "string"},
            "contains": {"type": "string", "minLength": 1},
            "logger": {"type": "string"},
            "field": {"enum": ["message", "text"]},
            "origin": {"enum": ["gauge", "error"]},
            "regex": {"type": "string"},
            "unit": {"type": "string"},
            "values": {"type": "object", "minProperties": 1, "additionalProperties": {"oneOf": [
                {"type": "string", "pattern": _NAME},
                {"type": "object", "required": ["metric"], "additionalProperties": False,
                 "properties": {"metric": {"type": "string", "pattern": _NAME},
                                "unit": {"type": "string"},
                                "caps": {"type": "array", "minItems": 1,
                                         "items": {"type": "string"}}}}]}},
            "samples": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["message", "values"], "additionalProperties": False,
                "properties": {"message": {"type": "string"}, "logger": {"type": "string"},
                               "values": {"type": "object",
                                          "additionalProperties": {"type": "number"}}}}},
        }}}},
}


def unit_factor(unit: str | None, default_unit: str) -> tuple[float | None, str]:
    """(multiplier to the base unit, base unit) for ``unit`` in ``default_unit``'s dimension.

    The multiplier is None when ``unit`` is not a unit of that dimension.
    """
    dim = default_unit.strip().lower()
    u = (unit or default_unit).strip()
    ul = u.lower()
    if dim in _BYTES:
        return (float(_BYTES[ul]) if ul in _BYTES else None), "B"
    if dim in _SECONDS or default_unit.strip() == "µs":
        if ul == "m" and u == "M":
            return None, "s"
        return _SECONDS.get(ul), "s"
    return (1.0 if not unit or u == default_unit else None), default_unit


@dataclass(frozen=True, slots=True)
class ValueSpec:
    group: str  # regex group holding the number
    metric: str
    unit: str  # default unit for this value
    unit_group: str | None  # regex group holding its unit, if any
    caps: tuple[str, ...] = ()  # a ceiling: globs of the metrics this value caps


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One declarative extractor; ``where`` is ``path:line`` of its YAML entry."""

    name: str
    description: str
    contains: str
    regex: str
    values: tuple[ValueSpec, ...]
    logger: str | None = None
    where: str = "<memory>"
    field: str = "message"  # or "text": the whole record (an exception's own message)
    origin: str = "gauge"  # "error": values a failure message reports, not a monitor

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "<memory>",
                  line: int | None = None) -> MetricDef:
        """Build and check one definition (regex compiles in RE2, groups exist)."""
        unit = d.get("unit", "")
        try:
            groups = set(re.compile(d["regex"]).groupindex)
            pc.extract_regex(pa.array([""], pa.string()), d["regex"])  # RE2 must accept it
        except (re.error, pa.ArrowInvalid) as e:
            msg = f"metric {d['name']}: regex does not compile: {e}"
            raise PatternError.at(path, "LS-METRIC-REGEX", msg, line) from None
        raw = d.get("values") or {"value": d["name"]}
        specs = []
        for group, target in raw.items():
            metric, vunit, caps = (target, unit, ()) if isinstance(target, str) else (
                target["metric"], target.get("unit", unit), tuple(target.get("caps", ())))
            ug = "unit" if group == "value" else f"{group}_unit"
            if group not in groups:
                raise RuleError.at(path, "LS-METRIC-GROUP",
                                   f"metric {d['name']}: regex has no group (?P<{group}>...)",
                                   line)
            specs.append(ValueSpec(group, metric, vunit, ug if ug in groups else None, caps))
        return cls(d["name"], d["description"], d["contains"], d["regex"], tuple(specs),
                   d.get("logger"), f"{path}:{line}" if line else path,
                   d.get("field", "message"), d.get("origin", "gauge"))


def _glob_regex(glob: str) -> str:
    return "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                         for c in glob) + "$"


def extract_metrics(records: pa.Table, defs: Iterable[MetricDef]) -> pa.Table:
    """``metrics`` rows from a records table (columns source, line, ts, message[, logger,
    text]); definitions reading ``text`` fall back to the message when there is none.

    One search of a column finds the rows holding each definition's needle (the
    scan's prefilter, ``NeedleMatcher``: Hyperscan where installed); each definition
    then looks only at its rows. A ``match_substring`` per definition cost 2 % of the
    256 MiB ``incident`` scan's CPU (27 definitions over its 50,000 gauge lines).
    """
    parts: list[pa.Table] = []
    defs = list(defs)
    if not defs or records.num_rows == 0:
        return METRICS_SCHEMA.empty_table()
    needles = tuple(sorted({d.contains for d in defs}))
    found: dict[str, dict[str, np.ndarray]] = {}
    for d in defs:
        col = "text" if d.field == "text" and "text" in records.column_names else "message"
        if col not in found:
            found[col] = _needle_rows(records[col], needles)
        rows = found[col].get(d.contains)
        if rows is None:
            continue
        hit = np.zeros(records.num_rows, dtype=bool)
        hit[rows] = True
        mask = pa.array(hit)
        if d.logger and "logger" in records.column_names:
            mask = pc.and_(mask, pc.fill_null(
                pc.match_substring_regex(records["logger"], _glob_regex(d.logger)), False))
        if not pc.any(mask).as_py():
            continue
        hits = records.select(["source", "line", "ts", col]).filter(mask)
        m = pc.extract_regex(hits[col], d.regex)
        for v in d.values:
            parts.append(_values(hits, m, v, d.origin))
    if not parts:
        return METRICS_SCHEMA.empty_table()
    out = pa.concat_tables(parts)
    return out.sort_by([("source", "ascending"), ("line", "ascending")])


@lru_cache(maxsize=16)
def _matcher(needles: tuple[str, ...]) -> Any:
    from logsleuth.rules.needles import NeedleMatcher

    return NeedleMatcher(needles)


def _needle_rows(column: pa.ChunkedArray | pa.Array, needles: tuple[str, ...]
                 ) -> dict[str, np.ndarray]:
    """Rows (indices) of ``column`` holding each needle; null rows hold none."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    found = _matcher(needles).rows_by_needle(arr.cast(pa.large_binary()))
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        found = {k: r[valid[r]] for k, r in found.items()}
        found = {k: r for k, r in found.items() if len(r)}
    return found


def _values(hits: pa.Table, m: pa.ChunkedArray, v: ValueSpec, origin: str) -> pa.Table:
    raw = pc.struct_field(m, v.group)
    num = pc.cast(pc.if_else(pc.fill_null(pc.not_equal(raw, ""), False), raw,
                             pa.scalar(None, pa.string())), pa.float64())
    base = unit_factor(None, v.unit)[1]
    if v.unit_group is None:
        factor = unit_factor(None, v.unit)[0]
        value = pc.multiply(num, factor) if factor is not None else pc.multiply(num, np.nan)
    else:
        units = pc.fill_null(pc.struct_field(m, v.unit_group), "").combine_chunks()
        enc = units.dictionary_encode()
        factors = [unit_factor(u or None, v.unit)[0] for u in enc.dictionary.to_pylist()]
        table = pa.array([np.nan if f is None else f for f in factors], pa.float64())
        value = pc.multiply(num, pc.take(table, enc.indices))
    value = pc.if_else(pc.is_nan(value), pa.scalar(None, pa.float64()), value)
    keep = pc.is_valid(value)
    n = len(hits)
    t = pa.table({
        "source": pc.cast(hits["source"], pa.string()), "line": pc.cast(hits["line"], pa.int64()),
        "ts": pc.cast(hits["ts"], pa.timestamp("ms", tz="UTC")),
        "metric": pa.repeat(pa.scalar(v.metric), n), "value": value,
        "unit": pa.repeat(pa.scalar(base), n),
        "origin": pa.repeat(pa.scalar("limit" if v.caps else origin), n),
        "caps": pa.repeat(pa.scalar(",".join(v.caps) if v.caps else None, pa.string()), n)})
    t = t.filter(keep)
    return first_statements(t) if v.caps else t


def first_statements(t: pa.Table) -> pa.Table:
    """A ceiling stated again and again (the ``max:`` of every OOM in a flood) is kept
    once per file, metric and value: its first statement is where it was read. Rows
    that are not limits stay as they are, in their order."""
    if t.num_rows <= 1:
        return t
    limit = pc.equal(t["origin"], "limit").to_numpy(zero_copy_only=False)
    if limit.sum() <= 1:
        return t
    rows = np.flatnonzero(limit)
    lim = t.take(pa.array(rows))
    src = pc.dictionary_encode(lim["source"]).combine_chunks().indices.to_numpy()
    met = pc.dictionary_encode(lim["metric"]).combine_chunks().indices.to_numpy()
    val = lim["value"].to_numpy()
    first = np.unique(np.rec.fromarrays([src, met, val]), return_index=True)[1]
    keep = ~limit
    keep[rows[first]] = True
    return t.filter(pa.array(keep))


# ---------------------------------------------------------------- loading


def load_metric_text(text: str, path: str, *, check: bool = True) -> list[MetricDef]:
    """Definitions from YAML text; schema, regex and sample failures raise located errors.

    ``check=False`` (the package's own files, checked by the test suite) skips the
    schema and the samples: ~25 ms of CPU a scan. Regex errors still raise."""
    return list(_loaded_metric_text(text, path, check))


@lru_cache(maxsize=64)
def _loaded_metric_text(text: str, path: str, check: bool = True) -> tuple[MetricDef, ...]:
    """Parsed and checked once per process and text: every unit of a scan builds its own
    metric collector, which re-checked every built-in sample (~19 ms a unit) before.
    Definitions are frozen; a broken text raises and is not cached."""
    try:
        node, data = load_with_node(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RuleError.at(path, "LS-METRIC-YAML", f"not valid YAML: {e}",
                           None if mark is None else mark.line + 1) from None
    err = _schema_error(data) if check else None
    if err is not None:
        line = line_of(node, *err.absolute_path) if node is not None else None
        loc = "/".join(str(p) for p in err.absolute_path) or "<root>"
        raise RuleError.at(path, "LS-METRIC-SCHEMA", f"{loc}: {err.message}", line)
    defs = []
    for i, d in enumerate(data["metrics"]):
        md = MetricDef.from_dict(d, path=path, line=line_of(node, "metrics", i))
        for j, s in enumerate(d["samples"] if check else ()):
            _check_sample(md, s, path, line_of(node, "metrics", i, "samples", j))
        defs.append(md)
    return tuple(defs)


def _schema_error(data: Any) -> Any:
    import jsonschema  # only where a file is checked: ~27 ms of imports

    return next(iter(sorted(jsonschema.Draft202012Validator(DEF_SCHEMA).iter_errors(data),
                            key=lambda e: list(e.absolute_path).__len__())), None)


def _check_sample(md: MetricDef, sample: Mapping[str, Any], path: str, line: int) -> None:
    rec = pa.table({"source": [path], "line": [line], "ts": pa.array([None], pa.timestamp("ms")),
                    "message": [sample["message"]], "logger": [sample.get("logger")]})
    got = {r["metric"]: r["value"] for r in extract_metrics(rec, [md]).to_pylist()}
    want = {k: float(v) for k, v in sample["values"].items()}
    if set(got) != set(want) or any(abs(got[k] - want[k]) > 1e-9 * max(1.0, abs(want[k]))
                                    for k in want):
        raise RuleError.at(path, "LS-METRIC-SAMPLE",
                           f"metric {md.name}: sample gives {got}, expected {want}", line)


def load_metric_file(path: str | Path) -> list[MetricDef]:
    """A user's metric YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RuleError.at(str(path), "LS-METRIC-READ", f"cannot read: {e.strerror}") from None
    return load_metric_text(text, str(path))


def builtin_metric_defs(*, check: bool = False) -> list[MetricDef]:
    """Every ``metrics_builtin/*.yaml`` shipped in the package, in file-name order;
    ``check``: their schema and samples too, as the test suite does."""
    root = resources.files("logsleuth.parsers.metrics_builtin")
    files = sorted((f for f in root.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    out: list[MetricDef] = []
    for f in files:
        out.extend(load_metric_text(f.read_text(encoding="utf-8"), f"metrics_builtin/{f.name}",
                                    check=check))
    return out


def metric_defs(extra: Sequence[str | Path] = ()) -> list[MetricDef]:
    """Built-ins followed by user files."""
    defs = builtin_metric_defs()
    for p in extra:
        defs.extend(load_metric_file(p))
    return defs
