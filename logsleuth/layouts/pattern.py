"""Tokenizer for log4j2 / logback PatternLayout strings.

Produces a small tree: literals and conversions (with format modifier, brace
options and, for composite conversions, a sub-pattern). Columns are 0-based
offsets into the original pattern so errors can point at the bad token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from logsleuth.errors import PatternError

_MODIFIER = re.compile(r"(-?)(\d*)(?:\.(-?)(\d+))?")
_NAME = re.compile(r"[A-Za-z]+")


@dataclass(slots=True)
class Literal:
    text: str
    col: int


@dataclass(slots=True)
class Conv:
    """One ``%[-min.max]name(sub){opt}{opt}`` conversion."""

    name: str  # canonical name, see CANONICAL
    raw: str  # the name as written
    col: int
    left: bool = False  # '-': pad on the right (left-justify)
    min_width: int | None = None
    max_width: int | None = None
    options: list[str] = field(default_factory=list)
    sub: list[Node] | None = None


Node = Literal | Conv

# written name -> canonical name
CANONICAL: dict[str, str] = {}
for _canon, _names in {
    "date": "d date",
    "thread": "t thread tn threadName",
    "level": "p level le",
    "logger": "c logger lo",
    "class": "C class",
    "method": "M method",
    "line": "L line",
    "file": "F file",
    "location": "l location caller",
    "mdc": "X mdc MDC",
    "pid": "pid processId",
    "msg": "m msg message",
    "newline": "n",
    "throwable": ("ex exception throwable xEx xException xThrowable extendedThrowable rEx "
                  "rException rThrowable rootException wEx wex nopex nopexception"),
    "seq": "sn sequenceNumber",
    "relative": "r relative",
    "marker": "marker markerSimpleName",
    "ndc": "x NDC",
    "uuid": "u uuid",
    "nano": "N nano",
    "tid": "T tid threadId",
    "tprio": "tp threadPriority",
    "context": "cn contextName",
    "property": "property",
    "map": "K map MAP",
    "kvp": "kvp",
    "color": ("highlight style clr black red green yellow blue magenta cyan white gray "
              "boldRed boldGreen boldYellow boldBlue boldMagenta boldCyan boldWhite"),
    "passthrough": "enc encode maxLen maxLength",
    "notempty": "notEmpty varsNotEmpty variablesNotEmpty",
    "equals": "equals equalsIgnoreCase",
    "replace": "replace",
    "optbracket": "esb applicationName correlationId",
}.items():
    for _n in _names.split():
        CANONICAL[_n] = _canon

# Conversions whose first argument is a sub-pattern.
COMPOSITE = {"color", "passthrough", "notempty", "equals", "replace"}


def _error(where: str, pattern: str, col: int, msg: str, line: int = 1,
           base_col: int = 0) -> PatternError:
    return PatternError.at(where, "LAYOUT001", f"{msg} in pattern '{pattern}'", line,
                           base_col + col + 1)


def _balanced(text: str, start: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at ``start`` (backslash escapes skipped)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def expand_properties(pattern: str, props: Mapping[str, str],
                      on_missing: Callable[[str, int], str]) -> str:
    """Replace ``${name}`` / ``${name:-default}``; ``on_missing(name, col)`` decides the rest.

    ``$${...}`` (log4j2 escape) stays as ``${...}`` text.
    """
    out: list[str] = []
    i = 0
    for _ in range(10_000):
        j = pattern.find("${", i)
        if j < 0:
            break
        if j > 0 and pattern[j - 1] == "$":
            out.append(pattern[i:j - 1] + "${")
            i = j + 2
            continue
        end = _balanced(pattern, j + 1, "{", "}")
        if end < 0:
            break
        out.append(pattern[i:j])
        body = pattern[j + 2:end]
        name, sep, default = body.partition(":-")
        if name in props:
            out.append(expand_properties(props[name], props, on_missing))
        elif sep:
            out.append(expand_properties(default, props, on_missing))
        else:
            out.append(on_missing(name, j))
        i = end + 1
    out.append(pattern[i:])
    return "".join(out)


def parse(pattern: str, *, where: str = "<pattern>", line: int = 1, base_col: int = 0,
          _offset: int = 0, _full: str | None = None) -> list[Node]:
    """Parse a PatternLayout string into nodes; raises PatternError with the token column."""
    full = _full if _full is not None else pattern
    nodes: list[Node] = []
    text: list[str] = []
    text_col = 0
    i, n = 0, len(pattern)

    def flush() -> None:
        if text:
            nodes.append(Literal("".join(text), _offset + text_col))
            text.clear()

    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n and pattern[i + 1] in "()%{}":
            if not text:
                text_col = i
            text.append(pattern[i + 1])
            i += 2
            continue
        if ch != "%":
            if not text:
                text_col = i
            text.append(ch)
            i += 1
            continue
        if i + 1 < n and pattern[i + 1] == "%":
            if not text:
                text_col = i
            text.append("%")
            i += 2
            continue
        flush()
        col = i
        m = _MODIFIER.match(pattern, i + 1)
        assert m is not None  # the modifier regex matches the empty string
        j = m.end()
        nm = _NAME.match(pattern, j)
        if nm is None:
            raise _error(where, full, _offset + col, "expected a conversion name after '%'",
                         line, base_col)
        word = nm.group()
        name = word
        while name and name not in CANONICAL:  # log4j2: longest known prefix wins
            name = name[:-1]
        if not name:
            raise _error(where, full, _offset + col, f"unknown conversion '%{word}'",
                         line, base_col)
        j += len(name)
        conv = Conv(CANONICAL[name], name, _offset + col, left=m.group(1) == "-",
                    min_width=int(m.group(2)) if m.group(2) else None,
                    max_width=int(m.group(4)) if m.group(4) else None)
        if (j < n and pattern[j] == "(" and len(name) == len(word)
                and CANONICAL[name] in COMPOSITE | {"optbracket"}):
            end = _balanced(pattern, j, "(", ")")
            if end < 0:
                raise _error(where, full, _offset + j, "unbalanced '('", line, base_col)
            conv.sub = parse(pattern[j + 1:end], where=where, line=line, base_col=base_col,
                             _offset=_offset + j + 1, _full=full)
            j = end + 1
        while j < n and pattern[j] == "{" and len(name) == len(word):
            end = _balanced(pattern, j, "{", "}")
            if end < 0:
                raise _error(where, full, _offset + j, "unbalanced '{'", line, base_col)
            conv.options.append(pattern[j + 1:end])
            j = end + 1
        if conv.name in COMPOSITE and conv.sub is None:
            if not conv.options:
                raise _error(where, full, conv.col, f"'%{name}' needs a sub-pattern",
                             line, base_col)
            first = conv.options.pop(0)
            conv.sub = parse(first, where=where, line=line, base_col=base_col,
                             _offset=_offset + pattern.index("{", col) + 1, _full=full)
        nodes.append(conv)
        i = j
    flush()
    return nodes
