"""Throwables written as JSON, turned back into the Java trace text a text layout prints.

Why text: the text path already derives every exception column (outermost and root
class, root frame) and the parsed ``Throwable`` the rules see from the printed trace
(``parsers.stacktrace``). Rendering a JSON throwable in the exact form log4j2 and
``Throwable.printStackTrace`` use (``Caused by:``, tab-indented ``Suppressed:``,
``... N more``) makes the JSON twin of a record produce the same columns, the same
rule hits and the same fingerprints as its text twin through one parser, instead of
a second, JSON-only model of causes that could drift from the first.

Shapes read: log4j2 ``JsonLayout``/``JsonTemplateLayout`` throwables (``name``,
``message``/``localizedMessage``, ``extendedStackTrace`` or ``stackTrace`` as frame
objects or one string, ``cause``, ``suppressed``, ``commonElementCount``), Jackson's
``StackTraceElement`` (``className``/``methodName``/``fileName``/``lineNumber``), and
traces kept as an array of lines (Elasticsearch ``stacktrace``, ECS
``error.stack_trace`` with ``stackTraceAsArray``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_NAME_KEYS = ("name", "className", "class", "type", "exception_class")
_MESSAGE_KEYS = ("localizedMessage", "message", "exception_message")
_FRAMES_KEYS = ("extendedStackTrace", "stackTrace", "stack_trace", "stacktrace", "frames")
_MAX_DEPTH = 64  # a cause chain deeper than this is cut (cycles cannot occur in JSON)


def _first(obj: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def is_throwable(obj: object) -> bool:
    """An object shaped like a serialised throwable: a class name plus frames or a cause."""
    if not isinstance(obj, Mapping):
        return False
    name = _first(obj, _NAME_KEYS)
    return isinstance(name, str) and any(
        k in obj for k in (*_FRAMES_KEYS, "cause", "suppressed", "commonElementCount"))


def _location(frame: Mapping[str, Any]) -> str:
    line = _first(frame, ("line", "lineNumber"))
    file = _first(frame, ("file", "fileName"))
    if line == -2 or frame.get("nativeMethod") is True:
        return "Native Method"
    if file is None:
        return "Unknown Source"
    return f"{file}:{line}" if isinstance(line, int) and line >= 0 else str(file)


def _frame_line(frame: Mapping[str, Any]) -> str | None:
    cls = _first(frame, ("class", "className", "declaringClass"))
    method = _first(frame, ("method", "methodName"))
    if not isinstance(cls, str) or not isinstance(method, str):
        return None
    text = f"at {cls}.{method}({_location(frame)})"
    where, version = frame.get("location"), frame.get("version")
    if where is not None or version is not None:  # log4j2's extended ``~[jar:version]``
        tilde = "" if frame.get("exact") is True else "~"
        text += f" {tilde}[{where or '?'}:{version or '?'}]"
    return text


def _render(obj: Mapping[str, Any], indent: str, caption: str, out: list[str],
            depth: int) -> None:
    name = _first(obj, _NAME_KEYS)
    message = _first(obj, _MESSAGE_KEYS)
    frames = _first(obj, _FRAMES_KEYS)
    if isinstance(frames, str) and depth == 0:  # log4j2 stacktraceAsString: already text
        out.append(frames.rstrip("\n"))
        return
    header = str(name) if message is None else f"{name}: {message}"
    out.append(f"{indent}{caption}{header}")
    if isinstance(frames, list):
        for frame in frames:
            line = _frame_line(frame) if isinstance(frame, Mapping) else (
                frame.strip() if isinstance(frame, str) else None)
            if line:
                out.append(f"{indent}\t{line}")
    common = obj.get("commonElementCount")
    if isinstance(common, int) and common > 0:
        out.append(f"{indent}\t... {common} more")
    if depth >= _MAX_DEPTH:
        return
    for sup in obj.get("suppressed") or ():
        if isinstance(sup, Mapping):
            _render(sup, indent + "\t", "Suppressed: ", out, depth + 1)
    cause = obj.get("cause")
    if isinstance(cause, Mapping) and _first(cause, _NAME_KEYS) is not None:
        _render(cause, indent, "Caused by: ", out, depth + 1)


def render_throwable(obj: object) -> str | None:
    """The Java trace text of one serialised throwable, or None when it is not one."""
    if not is_throwable(obj):
        return None
    assert isinstance(obj, Mapping)
    out: list[str] = []
    _render(obj, "", "", out, 0)
    return "\n".join(out)


def thrown_texts(arr: pa.Array) -> pa.Array:
    """Trace text per row of a struct column of throwables (null where there is none).

    Arrow kernels render all rows at once (``jsonthrown_arrow``); a column whose
    types they do not handle falls back to Python for the rows holding a value.
    """
    from logsleuth.layouts.jsonthrown_arrow import render_column

    try:
        return render_column(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    rows = valid.nonzero()[0]
    out: list[str | None] = [None] * len(arr)
    if len(rows):
        for i, value in zip(rows.tolist(), arr.take(pa.array(rows)).to_pylist(), strict=True):
            out[i] = render_throwable(value)
    return pa.array(out, pa.string())


# A trace kept as an array of lines loses the indentation of its frames in some
# writers (Elasticsearch); these put back what the stack-trace parser keys on.
_UNINDENTED = ((r"(?m)^at ", "\tat "), (r"(?m)^\.\.\. (\d+) ", "\t... \\1 "))


def trace_text(arr: pa.Array) -> pa.Array | None:
    """A trace column as text: strings kept, arrays of lines joined; None for other types."""
    t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        if not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
            return None
        arr = pc.binary_join(arr, "\n")
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return None
    arr = pc.utf8_rtrim(pc.cast(arr, pa.string()), "\r\n")  # as a text record ends
    for pattern, repl in _UNINDENTED:
        arr = pc.replace_substring_regex(arr, pattern, repl)
    return arr
