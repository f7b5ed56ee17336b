"""Records from text with no known layout: stack traces, LEAK reports, bare exceptions.

Evidence often holds a trace outside any log record: a stderr capture, a note, a
ticket, a console where the JVM printed before logging started. Such text is cut
into groups, each a leading line plus the lines that continue it (frames, causes,
``... N more``, LEAK sections, indented lines, a blank line before a ``Caused by``).
A group becomes a record when it holds trace evidence or opens with a throwable
header, a LEAK report or a line naming an exception; other lines are counted as
unparsed. Line shapes are classified with one Arrow regex pass each per chunk;
Python runs only per record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.model import Throwable
from logsleuth.parsers import traceshape as ts
from logsleuth.parsers.stacktrace import ThrowableCache

# strong continuation: a frame or a section a person reads as part of a trace
_STRONG = (
    r"^(?:\s*at [\w.$/<>-]+\(|\s*\.\.\. \d+ (?:more|common frames omitted)"
    r"|\s*(?:Caused by|Suppressed|Wrapped by): |Recent access records:|Created at:)"
)
_BLANK = r"^\s*$"
_HEAD_TS = (r"^\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
            r"(?:Z|[+-]\d{2}:?\d{2})?)")
_CAUSE_PREFIX = re.compile(r"^\s*(?:Caused by|Suppressed|Wrapped by): ")
_NAMED = re.compile(
    r"((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error)\b)(?::\s?(.*))?")
_FRAME_START = re.compile(r"(?:^|\n)[ \t]*at [\w$]")
_FRAME_AT = re.compile(r"(?m)^[ \t]*at ([\w.$/<>-]+)\(")
_UNINDENTED = re.compile(r"(?m)^(?=at [\w$]|\.\.\. \d+ )")
_CAUSE_LINE = re.compile(r"\n[ \t]*Caused by: ((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)")


def _match(lines: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(lines, pattern).to_numpy(zero_copy_only=False)


@dataclass(frozen=True, slots=True)
class Groups:
    """Records found in a chunk: first and end line (exclusive) of each, and unparsed lines."""

    heads: np.ndarray
    ends: np.ndarray
    unparsed: np.ndarray  # line indexes in no record
    end_line: int  # lines consumed (the rest continues in the next chunk)


def group_lines(lines: pa.Array, final: bool, *, every_line: bool = False) -> Groups:
    """Cut the lines of a chunk into records and unparsed lines (see module doc).

    ``every_line``: each non-blank line not continuing a trace is a record of its
    own (lines a container runtime or syslog delimited, each an event).
    """
    n = len(lines)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Groups(empty, empty, empty, 0)
    body = _match(lines, ts.BODY)
    blank = _match(lines, _BLANK)
    strong = _match(lines, _STRONG) | _match(lines, ts.LEAK_FRAME)
    opener = (_match(lines, ts.EXC_HEADER) | pc.match_substring_regex(
        lines, ts.LEAK_HEAD).to_numpy(zero_copy_only=False) | _match(lines, ts.BARE))
    # a blank line continues a group when the next non-blank line is a strong one
    idx = np.where(blank, n, np.arange(n))
    nxt = np.minimum.accumulate(idx[::-1])[::-1]
    ahead = nxt < n
    blank_cont = blank & ahead & strong[np.minimum(nxt, n - 1)]
    cont = (body & ~blank) | blank_cont
    cont[0] = False
    leaders = np.flatnonzero(~cont)
    ends = np.append(leaders[1:], n)
    evidence = np.add.reduceat(strong.astype(np.int64), leaders)
    is_record = (opener[leaders] | ((evidence > 0) & ~blank[leaders])
                 | (every_line & ~blank[leaders]))
    end_line = n
    if not final and is_record[-1]:
        end_line = int(leaders[-1])  # the last record may continue in the next chunk
        leaders, ends, is_record = leaders[:-1], ends[:-1], is_record[:-1]
    covered = np.zeros(end_line, dtype=bool)
    heads, rec_ends = leaders[is_record], ends[is_record]
    if len(heads):
        marks = np.zeros(end_line + 1, dtype=np.int64)
        np.add.at(marks, heads, 1)
        np.add.at(marks, rec_ends, -1)
        covered = np.cumsum(marks[:-1]) > 0
    return Groups(heads, rec_ends, np.flatnonzero(~covered), end_line)


def head_times(first_lines: pa.Array, default_tz: object) -> pa.Array:
    """Epoch ms of an ISO-like timestamp opening each record's first line (null if none)."""
    from logsleuth.layouts import iso8601_lenient

    found = pc.extract_regex(first_lines.cast(pa.large_string()), _HEAD_TS)
    return iso8601_lenient().to_epoch_ms(found.field("ts"), default_tz).ms  # type: ignore[arg-type]


def spans(buf: memoryview, starts: np.ndarray, heads: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The records' text as one ``large_binary`` array, gathered without a Python loop."""
    raw = np.frombuffer(buf, dtype=np.uint8)
    lo, hi = starts[heads], starts[ends]
    lengths = hi - lo
    offsets = np.zeros(len(heads) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    keep = np.zeros(len(raw) + 1, dtype=np.int32)
    keep[lo] += 1  # distinct indexes within each statement
    keep[hi] -= 1
    data = raw[np.cumsum(keep[:-1]) > 0]
    return pa.Array.from_buffers(pa.large_binary(), len(heads),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


_NAMED_RE2 = r"(?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error)\b"


def exception_arrays(texts: pa.Array, first_lines: pa.Array,
                     nlines: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Exception columns per record; Python runs only for records that may hold one."""
    n = len(texts)
    found: list[list[str | None]] = [[None] * n, [None] * n, [None] * n]
    named = pc.match_substring_regex(first_lines, _NAMED_RE2).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(named | (nlines > 1)).tolist():
        for col, value in zip(found, exception_columns(texts[i].as_py()), strict=True):
            col[i] = value
    return tuple(pa.array(col, pa.string()) for col in found)  # type: ignore[return-value]


def exception_columns(text: bytes) -> tuple[str | None, str | None, str | None]:
    """Outermost and root throwable class and the root's top frame of free text."""
    body = _CAUSE_PREFIX.sub("", text.decode("utf-8", "replace"), count=1)
    frame = _FRAME_START.search(body)
    if frame is None:
        named = _NAMED.search(body)
        return (named[1], named[1], None) if named else (None, None, None)
    named = _NAMED.search(body, 0, frame.start() + 1) or re.search(
        r"((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?::|\s*\n)", body[: frame.start() + 1])
    if named is None:
        return None, None, None
    outer = named[1]
    causes = _CAUSE_LINE.findall(body)
    return outer, causes[-1] if causes else outer, _root_frame(body)


def _root_frame(body: str) -> str | None:
    """``pkg.Class.method`` of the first frame after the last ``Caused by:`` (or the top)."""
    last = body.rfind("\nCaused by: ")
    # a root cause printed without frames: its nearest frames are the best place to look
    m = _FRAME_AT.search(body, max(last, 0)) or _FRAME_AT.search(body)
    return None if m is None else m[1].rsplit("/", 1)[-1]


def throwable(text: str, cache: ThrowableCache) -> Throwable | None:
    """The throwable of a free-text record: a pasted cause, a trace or a bare exception."""
    body = _UNINDENTED.sub("\t", _CAUSE_PREFIX.sub("", text, count=1))
    parsed = cache.parse(body)
    if parsed is not None:
        return parsed
    named = _NAMED.search(body.split("\n", 1)[0]) if _FRAME_START.search(body) is None else None
    if named is None:
        return None
    return Throwable(cls=named[1], message=named[2])
