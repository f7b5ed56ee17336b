"""A JSON-lines layout inferred from a sample: field roles from names and value shapes.

No list of known writers: every key path of the sampled objects is scored for each
role by its name (``@timestamp``, ``log.level``, ``logger_name``, ``_thread``...)
and by the shape of its values (ISO-8601 strings, epoch numbers in a plausible
range, ``{epochSecond, nanoOfSecond}``, level words, dotted class names, throwable
objects, traces as text or line arrays). The result is an ordinary ``JsonLayout``,
printable as a one-line spec (``JsonLayout.spec``) that ``layout_from_spec`` reads
back, so the guess can be seen, copied and overridden. Runs on a few hundred sample
lines in Python; the layout itself runs on the vectorised JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.errors import PatternError
from logsleuth.layouts.datefmt import iso8601_lenient
from logsleuth.layouts.jsonlayout import JsonLayout, TsSource, TsUnit
from logsleuth.layouts.jsonrecords import parse_json_records
from logsleuth.layouts.jsonthrown import is_throwable

MAX_SAMPLE = 400  # objects looked at
MIN_SHARE = 0.5  # a role's field must be in at least half the objects
_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "ERR", "FATAL",
                     "SEVERE", "FINE", "FINER", "FINEST", "CONFIG", "NOTICE", "CRITICAL",
                     "CRIT", "ALERT", "EMERG", "EMERGENCY", "VERBOSE", "PANIC"})
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
                  r"\s?(?:Z|[+-]\d{2}(?::?\d{2})?)?$")
_DOTTED = re.compile(r"^[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)+$")
_TRACE = re.compile(r"\n\s*at [\w$.<>/]+\(|^\s*at [\w$.<>/]+\(")
# epoch ranges accepted for numbers (2000-01-01 .. 2100-01-01)
_EPOCH_S = (946_684_800, 4_102_444_800)
_EPOCH_MS = (_EPOCH_S[0] * 1000, _EPOCH_S[1] * 1000)

# Name evidence: a key's letters, lower-cased (``log.level`` -> ``loglevel``).
_TIME_NAMES = ("timestamp", "time", "timemillis", "date", "datetime", "ts", "t", "instant",
               "eventtime", "logtime", "asctime", "when", "epoch")
_LEVEL_NAMES = ("level", "loglevel", "severity", "levelname", "lvl", "l", "priority",
                "severitytext")
_THREAD_NAMES = ("thread", "threadname", "processthreadname", "threadnameid")
_MESSAGE_NAMES = ("message", "msg", "shortmessage", "logmessage", "messagetext", "body",
                  "text", "mt", "m")
_TRACE_NAMES = ("stacktrace", "errorstacktrace", "exceptionstacktrace", "exception",
                "fullmessage", "throwable", "extendedstacktrace", "trace", "error")


def _letters(path: str) -> str:
    return re.sub(r"[^a-z]", "", path.lower())


def _last(path: str) -> str:
    return _letters(path.rsplit("/", 1)[-1].rsplit(".", 1)[-1])


@dataclass(slots=True)
class _Field:
    """What the sample shows of one key path."""

    path: str
    values: list[Any] = field(default_factory=list)

    def share(self, total: int) -> float:
        return len(self.values) / total if total else 0.0

    def strings(self) -> list[str]:
        return [v for v in self.values if isinstance(v, str)]

    def fraction(self, test: Any) -> float:
        return sum(1 for v in self.values if test(v)) / len(self.values) if self.values else 0.0


def _walk(obj: dict[str, Any], prefix: str, out: dict[str, _Field], depth: int) -> None:
    for key, value in obj.items():
        path = f"{prefix}/{key}" if prefix else key
        if (isinstance(value, dict) and not is_throwable(value) and depth < 4
                and "epochSecond" not in value):
            _walk(value, path, out, depth + 1)
            continue
        out.setdefault(path, _Field(path)).values.append(value)


def _objects(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Sampled objects: one per line, or decoded across lines when they span lines."""
    texts = list(lines)
    out: list[dict[str, Any]] = []
    for line in texts:
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
            if len(out) >= MAX_SAMPLE:
                return out
    return out if out else _spread_objects("\n".join(texts))


def _spread_objects(text: str) -> list[dict[str, Any]]:
    """Objects written over several lines (pretty-printed, in a ``[...]`` array or not)."""
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    pos = 0
    while len(out) < MAX_SAMPLE:
        pos = text.find("{", pos)
        if pos < 0:
            break
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:  # a cut or broken object: try from the next line
            nl = text.find("\n", pos)
            if nl < 0:
                break
            pos = nl + 1
            continue
        if isinstance(obj, dict):
            out.append(obj)
        pos = end
    return out


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _time_source(f: _Field) -> TsSource | None:
    """The timestamp reading of a field, when every value has one shape of time."""
    vals = f.values
    if all(isinstance(v, dict) for v in vals):
        if all(_is_number(v.get("epochSecond")) for v in vals):
            nanos = f"{f.path}/nanoOfSecond" if any("nanoOfSecond" in v for v in vals) else None
            return TsSource(f"{f.path}/epochSecond", "s", nanos)
        return None
    strings = f.strings()
    if strings and len(strings) == len(vals) and all(_ISO.match(s) for s in strings):
        ms = iso8601_lenient().to_epoch_ms(pa.array(strings[:50]), None).ms
        return TsSource(f.path, "iso") if ms.null_count == 0 else None
    timeish = _last(f.path) in _TIME_NAMES or any(
        w in _letters(f.path) for w in ("time", "date", "millis", "epoch"))
    if strings and len(strings) == len(vals) and all(s.isdigit() for s in strings):
        vals = [int(s) for s in strings]  # epoch numbers written as strings
    if not timeish or not all(_is_number(v) for v in vals):
        return None  # a bare number is a time only under a time-like name
    unit: TsUnit
    if all(_EPOCH_MS[0] <= v <= _EPOCH_MS[1] for v in vals):
        unit = "ms"
    elif all(_EPOCH_S[0] <= v <= _EPOCH_S[1] for v in vals):
        unit = "s"
    else:
        return None
    return TsSource(f.path, unit)


def _named(f: _Field, names: Sequence[str]) -> int:
    """Rank of a field's name in ``names`` (lower is better), len(names) when absent."""
    for candidates in (_letters(f.path), _last(f.path)):
        if candidates in names:
            return names.index(candidates)
    return len(names)


def _level_ok(f: _Field) -> str | None:
    """"text" when values are level words, "syslog" for 0-7 under a level name."""
    if f.fraction(lambda v: isinstance(v, str) and v.strip().upper() in _LEVELS) >= 0.9:
        return "text"
    if _named(f, _LEVEL_NAMES) < len(_LEVEL_NAMES) and f.fraction(
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 7) == 1.0:
        return "syslog"
    return None


@dataclass(frozen=True, slots=True)
class _Roles:
    time: tuple[TsSource, ...]
    level: tuple[str, ...]
    syslog: bool
    thread: tuple[str, ...]
    logger: tuple[str, ...]
    msg: tuple[str, ...]
    thrown: tuple[str, ...]
    traces: tuple[str, ...]


def _pick(fields: Sequence[_Field], total: int, names: Sequence[str],
          used: set[str], need_name: bool = True) -> list[_Field]:
    cands = [f for f in fields if f.path not in used and f.share(total) >= MIN_SHARE
             and f.fraction(lambda v: isinstance(v, str)) >= 0.9
             and (not need_name or _named(f, names) < len(names))]
    cands.sort(key=lambda f: (_named(f, names), -f.share(total), f.path.count("/")))
    return cands


def _roles(objs: list[dict[str, Any]]) -> _Roles:
    table: dict[str, _Field] = {}
    for obj in objs:
        _walk(obj, "", table, 0)
    fields = list(table.values())
    total = len(objs)
    used: set[str] = set()
    times = [(f, src) for f in fields if f.share(total) >= MIN_SHARE
             and (src := _time_source(f)) is not None]
    times.sort(key=lambda fs: (_named(fs[0], _TIME_NAMES), -fs[0].share(total)))
    used.update(f.path for f, _ in times)
    levels = [(f, kind) for f in fields if f.share(total) >= MIN_SHARE and f.path not in used
              and (kind := _level_ok(f)) is not None]
    levels.sort(key=lambda fk: (_named(fk[0], _LEVEL_NAMES), fk[1] != "text"))
    level = levels[:1]
    used.update(f.path for f, _ in level)
    threads = [f for f in _pick(fields, total, _THREAD_NAMES, used)][:1]
    threads += [f for f in _pick(fields, total, (), used, need_name=False)
                if "thread" in _last(f.path) and f not in threads][: 1 - len(threads)]
    used.update(f.path for f in threads)
    loggers = _loggers(fields, total, used)
    used.update(f.path for f in loggers)
    # a message that carries its trace stays the message (split when read)
    traces = [f for f in fields if _is_trace(f) and _named(f, _MESSAGE_NAMES) == len(
        _MESSAGE_NAMES)]
    used.update(f.path for f in traces)
    messages = _pick(fields, total, _MESSAGE_NAMES, used)
    if not messages:  # no message-like name: the wordiest remaining string field
        rest = _pick(fields, total, (), used, need_name=False)
        rest.sort(key=lambda f: -sum(len(s) for s in f.strings()) / max(len(f.values), 1))
        messages = rest[:1]
    thrown = [f.path for f in fields if any(is_throwable(v) for v in f.values)]
    return _Roles(
        time=tuple(src for _, src in times), level=tuple(f.path for f, _ in level),
        syslog=bool(level) and level[0][1] == "syslog",
        thread=tuple(f.path for f in threads), logger=tuple(f.path for f in loggers),
        msg=tuple(f.path for f in messages), thrown=tuple(thrown),
        traces=tuple(f.path for f in traces))


def _loggers(fields: Sequence[_Field], total: int, used: set[str]) -> list[_Field]:
    def named(f: _Field) -> bool:
        last = _last(f.path)
        return ("logger" in last and "fqcn" not in last) or last in (
            "component", "category", "logname")
    cands = [f for f in _pick(fields, total, (), used, need_name=False) if named(f)]
    if not cands:  # no logger-like name: mostly dotted class names, not all the same
        cands = [f for f in _pick(fields, total, (), used, need_name=False)
                 if f.fraction(lambda v: isinstance(v, str) and bool(_DOTTED.match(v))) >= 0.9
                 and len(set(f.strings())) > 1]
    cands.sort(key=lambda f: (-f.share(total), "logger" not in _last(f.path)))
    return cands[:1]


def _is_trace(f: _Field) -> bool:
    """Text or line arrays holding Java frames, or a trace-like name with text values."""
    def trace_like(v: object) -> bool:
        if isinstance(v, list):
            v = "\n".join(x for x in v if isinstance(x, str))
        return isinstance(v, str) and bool(_TRACE.search(v))
    if any(trace_like(v) for v in f.values):
        return True
    return _letters(f.path) in _TRACE_NAMES and f.fraction(
        lambda v: isinstance(v, str) or (isinstance(v, list) and all(
            isinstance(x, str) for x in v))) == 1.0


def infer_json_layout(lines: Iterable[str]) -> JsonLayout | None:
    """A layout for JSON-lines ``lines``, or None when no timestamp field is found."""
    objs = _objects(lines)
    if not objs:
        return None
    roles = _roles(objs)
    if not roles.time:
        return None
    layout = JsonLayout(
        name="inferred-json", description="inferred from the file's sample lines",
        timestamp=roles.time, level=roles.level, thread=roles.thread, logger=roles.logger,
        msg=roles.msg, stack_trace=roles.traces, thrown=roles.thrown,
        level_numbers="syslog" if roles.syslog else None, known_errors=True)
    return _named_by_spec(layout)


def _named_by_spec(layout: JsonLayout) -> JsonLayout:
    return replace(layout, name=f"inferred-json: {layout.spec()}")


def layout_from_spec(spec: str) -> JsonLayout:
    """Read back ``JsonLayout.spec()`` (with or without its ``inferred-json:`` prefix)."""
    text = spec.split(":", 1)[1] if spec.startswith(("inferred-json:", "json:")) else spec
    values: dict[str, Any] = {"timestamp": (), "known_errors": False}
    for token in text.split():
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"json layout spec: '{token}' is not role=path[,path...]")
        items = tuple(v for v in value.split(",") if v)
        if key == "time":
            values["timestamp"] = tuple(_ts_from_spec(v) for v in items)
        elif key == "levels":
            values["level_numbers"] = value if value == "syslog" else None
        elif key == "errors":
            values["known_errors"] = value == "known"
        elif key in _SPEC_ROLES:
            values[_SPEC_ROLES[key]] = items
        else:
            raise ValueError(f"json layout spec: unknown role '{key}'")
    if not values["timestamp"]:
        raise ValueError("json layout spec: time=PATH[:iso|ms|s] is required")
    layout = JsonLayout(name="json", description="JSON layout from a spec", **values)
    return replace(layout, name=f"json: {layout.spec()}")


JSON_SPEC_PREFIXES = ("json:", "inferred-json:")


def spec_layout(pattern: str) -> JsonLayout | None:
    """The JSON layout a ``--pattern 'json: time=... level=...'`` names; None for a
    PatternLayout. What ``inputs[].layout`` shows for an inferred JSON layout is
    accepted verbatim, so a guess can be pinned or corrected."""
    if not pattern.lstrip().startswith(JSON_SPEC_PREFIXES):
        return None
    try:
        return layout_from_spec(pattern.strip())
    except ValueError as exc:
        raise PatternError.at("--pattern", "LAYOUT030", str(exc)) from None


_SPEC_ROLES = {"level": "level", "thread": "thread", "logger": "logger", "msg": "msg",
               "error_class": "error_class", "error_message": "error_message",
               "trace": "stack_trace", "thrown": "thrown"}


def _ts_from_spec(item: str) -> TsSource:
    path, _, rest = item.partition(":")
    unit, _, nanos = rest.partition("+")
    if unit not in ("", "iso", "ms", "s"):
        raise ValueError(f"json layout spec: unknown time unit '{unit}' in '{item}'")
    return TsSource(path, unit or "iso", nanos or None)  # type: ignore[arg-type]


def json_candidates(lines: pa.Array | Sequence[str]) -> list[JsonLayout]:
    """The inferred layout, when most sample lines look like JSON (else nothing).

    Lines count as JSON when they open or close an object or array, or (continued
    records) begin with a quoted key or string. Detection scores the inferred
    layout beside the built-in ones; a built-in one that reads the lines as well
    keeps its familiar name.
    """
    texts = lines.to_pylist() if isinstance(lines, pa.Array) else list(lines)
    texts = [t for t in texts if t and t.strip()]
    jsonish = sum(1 for t in texts if t.lstrip()[:1] in ("{", "}", "[", "]", ",", '"'))
    if not texts or jsonish * 2 < len(texts):
        return []
    layout = infer_json_layout(texts)
    return [] if layout is None else [layout]


_LAST_PARSE: list[tuple[pa.Array, pa.Table]] = []  # one slot: the sample being scored


def _parsed(sample: pa.Array) -> pa.Table:
    """The sample parsed once for all the JSON layouts detection scores on it."""
    if not _LAST_PARSE or _LAST_PARSE[0][0] is not sample:
        _LAST_PARSE[:] = [(sample, parse_json_records(sample))]
    return _LAST_PARSE[0][1]


def json_matches(layout: JsonLayout, sample: pa.Array, counted: pa.Array) -> tuple[int, int]:
    """Detection score of a JSON layout: (counted lines inside records with a time and a
    message, fields filled in those records).

    Scored on the whole sample because a record may span lines (pretty-printed
    log4j2, Elasticsearch stack traces), whose indented lines detection does not count.
    """
    table = layout.read(sample, _parsed(sample))
    hit = pc.fill_null(pc.and_(pc.is_valid(table["ts"]), pc.is_valid(table["msg"])), False)
    hit_np = hit.to_numpy(zero_copy_only=False)
    span = table["_span"].to_numpy(zero_copy_only=False)
    covered = np.zeros(len(hit_np) + 1, dtype=np.int64)
    rows = np.flatnonzero(hit_np)
    np.add.at(covered, rows, 1)
    np.add.at(covered, rows + span[rows], -1)
    inside = np.cumsum(covered[:-1]) > 0
    count = int((inside & counted.to_numpy(zero_copy_only=False)).sum())
    filled = sum(pc.sum(pc.cast(pc.and_(hit, pc.is_valid(table[f])), pa.int64())).as_py()
                 or 0 for f in layout.fields)
    return count, filled
