"""JSON-lines layouts (log4j2 JsonLayout / JsonTemplateLayout, logstash encoder, ECS).

Records are parsed by ``jsonrecords`` (one Arrow parse per chunk, multi-line
records regrouped); ``JsonLayout.extract`` maps the parsed columns onto the
record fields; throwables become Java trace text (``jsonthrown``) so the text
path's stack-trace parser derives the exception columns for both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.layouts.datefmt import iso8601_lenient
from logsleuth.layouts.jsonrecords import parse_json_lines as parse_json_lines
from logsleuth.layouts.jsonrecords import parse_json_records
from logsleuth.layouts.jsonthrown import thrown_texts, trace_text

TsUnit = Literal["iso", "ms", "s"]
_OBJECT_LINE = r"^\s*\{.*\}\s*$"
_ERROR_CLASS = r"^(?P<cls>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)(?::|\s|$)"
TEXT_FIELDS = ("level", "thread", "logger", "msg", "error_class", "error_message",
               "stack_trace")
# Where writers commonly keep a throwable; read when a layout sets ``known_errors``,
# because a file's first lines (the sample inference sees) often hold none.
KNOWN_THROWN = ("thrown", "exception", "error")
KNOWN_TRACES = ("stack_trace", "stacktrace", "stackTrace", "error.stack_trace",
                "error/stack_trace", "exception/stacktrace", "exception/stack_trace",
                "thrown/extendedStackTrace", "exception", "full_message", "throwable")
KNOWN_CLASSES = ("error.type", "error/type", "exception/exception_class")
KNOWN_MESSAGES = ("error.message", "error/message", "exception/exception_message")
# syslog severities (GELF ``level``) by number
SYSLOG_LEVELS = ("EMERG", "ALERT", "CRIT", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")


@dataclass(frozen=True, slots=True)
class TsSource:
    """Where a JSON layout keeps its timestamp: ``path`` (``a/b`` nests) and unit."""

    path: str
    unit: TsUnit = "iso"
    nanos: str | None = None  # e.g. instant/nanoOfSecond next to instant/epochSecond


@dataclass(frozen=True, slots=True)
class JsonLayout:
    """Field mapping of a JSON-lines layout; each field lists candidate paths, first wins.

    Paths use ``/`` for nesting; dots are part of key names (ECS writes flat
    ``"log.level"`` keys).
    """

    name: str
    description: str
    timestamp: tuple[TsSource, ...]
    level: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()
    logger: tuple[str, ...] = ()
    msg: tuple[str, ...] = ()
    error_class: tuple[str, ...] = ()
    error_message: tuple[str, ...] = ()
    stack_trace: tuple[str, ...] = ()
    thrown: tuple[str, ...] = ()  # throwable objects (log4j2 ``thrown`` with causes...)
    level_numbers: Literal["syslog"] | None = None  # numeric levels are syslog severities
    known_errors: bool = False  # also read the usual throwable fields (KNOWN_*)
    header_regex: str = r"^(?:, ?)?\{"  # record starts, where workers split a file

    @property
    def zoned(self) -> bool:
        """True when every time source is an epoch number (an instant, no zone needed)."""
        return bool(self.timestamp) and all(t.unit != "iso" for t in self.timestamp)

    @property
    def fields(self) -> tuple[str, ...]:
        traced = bool(self.stack_trace or self.thrown or self.known_errors)
        derived = {"error_class", "stack_trace"} if traced else set()
        return ("ts", *(f for f in TEXT_FIELDS if getattr(self, f) or f in derived))

    def spec(self) -> str:
        """One line naming every field's paths, readable by ``jsoninfer.layout_from_spec``."""
        times = ",".join(f"{t.path}:{t.unit}" + (f"+{t.nanos}" if t.nanos else "")
                         for t in self.timestamp)
        parts = [f"time={times}"]
        for role, name in (("level", "level"), ("thread", "thread"), ("logger", "logger"),
                           ("msg", "msg"), ("error_class", "error_class"),
                           ("error_message", "error_message"), ("trace", "stack_trace"),
                           ("thrown", "thrown")):
            if getattr(self, name):
                parts.append(f"{role}={','.join(getattr(self, name))}")
        if self.level_numbers:
            parts.append(f"levels={self.level_numbers}")
        if self.known_errors:
            parts.append("errors=known")
        return " ".join(parts)

    def paths(self, field: str) -> tuple[str, ...]:
        """Candidate paths of a text field, with the known ones when ``known_errors``."""
        own: tuple[str, ...] = getattr(self, field)
        if not self.known_errors:
            return own
        extra = {"thrown": KNOWN_THROWN, "stack_trace": KNOWN_TRACES,
                 "error_class": KNOWN_CLASSES, "error_message": KNOWN_MESSAGES}.get(field, ())
        return own + tuple(p for p in extra if p not in own)

    def parse(self, lines: pa.Array | pa.ChunkedArray,
              default_tz: tzinfo | None = None) -> pa.Table:
        """Parse and map in one go: see ``parse_json_records`` and ``extract``."""
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        return self.read(lines, parse_json_records(lines), default_tz)

    def read(self, lines: pa.Array, raw: pa.Table,
             default_tz: tzinfo | None = None) -> pa.Table:
        """``parse`` for lines already parsed by ``parse_json_records`` (detection
        scores several layouts on one parse)."""
        return self._rescue(lines, self.extract(raw, default_tz), default_tz)

    def _rescue(self, lines: pa.Array, table: pa.Table,
                default_tz: tzinfo | None) -> pa.Table:
        """Object lines Arrow could not type, read again with only this layout's paths.

        Arrow rejects a list mixing strings and objects (Logstash's ``logEvent``), or
        a field whose type changes between lines; the fields a record needs rarely do.
        Python runs for these lines only.
        """
        ok = table["_ok"].to_numpy(zero_copy_only=False)
        cont = table["_cont"].to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(~ok & ~cont)
        if len(rows) == 0:
            return table
        shaped = pc.fill_null(pc.match_substring_regex(
            pc.cast(lines.take(pa.array(rows)), pa.string()), _OBJECT_LINE), False)
        rows = rows[shaped.to_numpy(zero_copy_only=False)]
        if len(rows) == 0:
            return table
        wanted = self._all_paths()
        kept: list[int] = []
        projected: list[str] = []
        for i, text in zip(rows.tolist(), lines.take(pa.array(rows)).to_pylist(), strict=True):
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                kept.append(i)
                projected.append(json.dumps(_project(obj, wanted)))
        if not kept:
            return table
        again = self.extract(parse_json_records(pa.array(projected, pa.string())), default_tz)
        index = np.arange(table.num_rows, dtype=np.int64)
        index[np.array(kept)] = table.num_rows + np.arange(len(kept))
        both = pa.concat_tables([table, again.cast(table.schema)]).combine_chunks()
        return both.take(pa.array(index))

    def _all_paths(self) -> list[str]:
        out = [p for t in self.timestamp for p in (t.path, t.nanos) if p]
        for f in (*TEXT_FIELDS, "thrown"):
            out.extend(self.paths(f))
        return out

    def extract(self, raw: pa.Table, default_tz: tzinfo | None = None) -> pa.Table:
        """Map a ``parse_json_lines`` table to ts (epoch ms), level, thread, logger, msg,
        error_class, error_message, stack_trace, plus ``_ok`` (a record starts on the line),
        ``_span`` (its lines), ``_cont`` (the line continues a multi-line record) and
        ``_zoned`` (its time is an instant: epoch, or ISO text with an offset)."""
        n = raw.num_rows
        ts = pa.nulls(n, pa.int64())
        zoned = pa.array(np.zeros(n, dtype=bool))
        for src in self.timestamp:
            col = _ts_column(raw, src, default_tz)
            if col is not None:
                fresh = pc.and_(pc.is_null(ts), pc.is_valid(col))
                zoned = pc.if_else(fresh, _zone_written(raw, src), zoned)
                ts = pc.coalesce(ts, col)
        cols: dict[str, pa.Array] = {"ts": ts}
        for f in TEXT_FIELDS:
            out = pa.nulls(n, pa.string())
            read = trace_text if f == "stack_trace" else _text
            for path in self.paths(f):
                arr = _path(raw, path)
                text = None if arr is None or pa.types.is_null(arr.type) else read(arr)
                if text is not None:
                    out = pc.coalesce(out, text)
            cols[f] = out
        if self.level_numbers == "syslog":
            cols["level"] = _syslog_level(raw, self.level, cols["level"])
        cols["stack_trace"] = self._traces(raw, cols)
        cols["msg"], cols["stack_trace"] = _trace_in_message(cols["msg"], cols["stack_trace"])
        if "stack_trace" in self.fields:
            first = pc.extract_regex(pc.fill_null(cols["stack_trace"], ""), _ERROR_CLASS)
            cols["error_class"] = pc.coalesce(cols["error_class"], pc.struct_field(first, "cls"))
        for name in ("_ok", "_span", "_cont"):
            cols[name] = _column(raw, name)
        cols["_zoned"] = zoned
        return pa.table(cols)

    def _traces(self, raw: pa.Table, cols: dict[str, pa.Array]) -> pa.Array:
        """Trace text per row: throwable objects first, then trace strings or line arrays.

        A trace equal to the message is no trace (GELF repeats ``short_message`` in
        ``full_message`` when there is nothing more to say).
        """
        out = pa.nulls(raw.num_rows, pa.string())
        for path in self.paths("thrown"):
            arr = _path(raw, path)
            if arr is not None and pa.types.is_struct(arr.type):
                out = pc.coalesce(out, thrown_texts(arr))
        out = pc.coalesce(out, cols["stack_trace"])
        same = pc.fill_null(pc.equal(out, cols["msg"]), False)
        return pc.if_else(same, pa.nulls(raw.num_rows, pa.string()), out)


def _project(obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """The parts of ``obj`` on ``paths`` (``a/b`` nests), nothing else."""
    out: dict[str, Any] = {}
    for path in paths:
        *parents, leaf = path.split("/")
        src: Any = obj
        dst = out
        for key in parents:
            src = src.get(key) if isinstance(src, dict) else None
            if not isinstance(src, dict):
                break
            dst = dst.setdefault(key, {})
        else:
            if isinstance(src, dict) and leaf in src:
                dst[leaf] = src[leaf]
    return out


def _column(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _path(table: pa.Table, path: str) -> pa.Array | None:
    head, *rest = path.split("/")
    if head not in table.column_names:
        return None
    arr = _column(table, head)
    for key in rest:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(key) < 0:
            return None
        arr = pc.struct_field(arr, key)
    return arr


def _text(arr: pa.Array | None) -> pa.Array | None:
    if arr is None or pa.types.is_null(arr.type):
        return None
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return pc.cast(arr, pa.string())
    return None  # structs / lists (e.g. JsonLayout's extendedStackTrace) are not text


_TRACE_LINE = r"\n\s*(?:at [\w$.<>/]+\(|Caused by: )"


def _trace_in_message(msg: pa.Array, stack: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A message carrying its own stack trace (``%m%n%ex`` in a JSON template) splits as a
    text record does: the first line is the message, the rest the trace."""
    inside = pc.and_(pc.is_null(stack),
                     pc.fill_null(pc.match_substring_regex(msg, _TRACE_LINE), False))
    if not pc.any(inside).as_py():
        return msg, stack
    parts = pc.split_pattern(pc.fill_null(msg, ""), "\n", max_splits=1)
    head = pc.list_element(parts, 0)
    tail = pc.list_element(pc.if_else(pc.greater(pc.list_value_length(parts), 1), parts,
                                      pa.scalar(["", ""], parts.type)), 1)
    return pc.if_else(inside, head, msg), pc.if_else(inside, tail, stack)


def _syslog_level(raw: pa.Table, paths: tuple[str, ...], level: pa.Array) -> pa.Array:
    """Numeric syslog severities (GELF) as level names; names already text stay."""
    names = pa.array(SYSLOG_LEVELS)
    for path in paths:
        arr = _path(raw, path)
        if arr is not None and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
            num = pc.cast(arr, pa.int64(), safe=False)
            inside = pc.and_(pc.greater_equal(num, 0), pc.less(num, len(SYSLOG_LEVELS)))
            mapped = names.take(pc.if_else(inside, num, pa.scalar(None, pa.int64())))
            level = pc.if_else(pc.fill_null(inside, False), mapped, level)
    return level


_OFFSET = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"


def _zone_written(raw: pa.Table, src: TsSource) -> pa.Array:
    """Per row: the time is an instant (an epoch number, or ISO text with an offset)."""
    if src.unit != "iso":
        return pa.array(np.ones(raw.num_rows, dtype=bool))
    arr = _path(raw, src.path)
    if arr is None or not pa.types.is_string(arr.type):
        return pa.array(np.zeros(raw.num_rows, dtype=bool))
    return pc.fill_null(pc.match_substring_regex(arr, _OFFSET), False)


def _ts_column(raw: pa.Table, src: TsSource, default_tz: tzinfo | None) -> pa.Array | None:
    arr = _path(raw, src.path)
    if arr is None:
        return None
    if src.unit == "iso":
        if not pa.types.is_string(arr.type):
            return None
        return iso8601_lenient().to_epoch_ms(arr, default_tz).ms
    if pa.types.is_floating(arr.type):  # GELF: seconds with a fraction
        scale = 1000.0 if src.unit == "s" else 1.0
        return pc.cast(pc.round(pc.multiply(arr, scale)), pa.int64(), safe=False)
    num = pc.cast(arr, pa.int64(), safe=False) if not pa.types.is_string(arr.type) else (
        pc.cast(pc.if_else(pc.match_substring_regex(arr, r"^\d+$"), arr, None), pa.int64()))
    if src.unit == "ms":
        return num
    ms = pc.multiply(num, 1000)
    nanos = _path(raw, src.nanos) if src.nanos else None
    if nanos is not None:
        ms = pc.add(ms, pc.fill_null(pc.divide(pc.cast(nanos, pa.int64()), 1_000_000), 0))
    return ms
