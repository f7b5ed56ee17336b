"""PatternLayout string -> RE2 regexes for the vectorised parser.

``fields_regex`` extracts named groups from the first line of a record;
``header_regex`` is its cheap prefix used to find record starts. Both are
built from the same rendered top-level pieces, so a line the fields regex
matches is always matched by the header regex.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal as TLiteral

import re2

from logsleuth.errors import PatternError
from logsleuth.layouts.datefmt import (
    DEFAULT_DATE,
    TimestampFormat,
    compile_date_pattern,
    regex_escape,
    resolve_named,
)
from logsleuth.layouts.epoch import zone_from_name
from logsleuth.layouts.pattern import Conv, Literal, Node, expand_properties, parse

Flavor = TLiteral["log4j2", "logback"]
LINE_BREAK = r"\r?\n"  # joins a two-line layout's lines in its fields regex
ANSI = r"(?:\x1b\[[0-9;]*m)*"
# content regex of value-like conversions; None means free text (lazy, or greedy when last)
_CONTENT: dict[str, str | None] = {
    "level": r"[A-Za-z]+",
    "logger": r"[^\s\x1b]*",
    "class": r"[^\s(:@\x1b]*",  # a class name holds no ':' or '@' (ZooKeeper's %t:%C@%L)
    "method": r"[^\s(\x1b]*",
    "file": r"[^\s:()]*",
    "line": r"(?:\d+|\?)",
    "pid": r"\d+",
    "seq": r"\d+",
    "relative": r"\d+",
    "uuid": r"[0-9a-fA-F-]+",
    "nano": r"-?\d+",
    "tid": r"\d+",
    "tprio": r"\d+",
    "context": r"[^\s\x1b]*",
    "thread": None,
    "msg": None,
    "mdc": None,
    "marker": None,
    "ndc": None,
    "property": None,
    "map": None,
    "kvp": None,
}
_GROUP = {"level": "level", "logger": "logger", "class": "cls", "method": "method",
          "file": "file", "line": "lineno", "pid": "pid", "thread": "thread", "msg": "msg",
          "relative": "relative", "tid": "thread"}  # a thread id is what names the thread
_SILENT = {"throwable"}  # render nothing on the first line
_LOCATION = (r"{cls}\.{method}\({file}(?::{lineno})?\)")


@dataclass(frozen=True, slots=True)
class CompiledLayout:
    """A PatternLayout compiled for ``pyarrow.compute`` (RE2) matching.

    Group names in ``fields_regex``: ts, level, thread, logger, cls, method,
    file, lineno, pid, relative (``%r``), mdc (plain ``%X``), mdc_<key>
    (``%X{key}``, non-word characters of the key turned into ``_``) and msg.
    """

    name: str
    pattern: str
    flavor: Flavor
    fields_regex: str
    header_regex: str
    timestamp: TimestampFormat | None
    fields: tuple[str, ...]
    description: str = ""
    mdc_keys: tuple[tuple[str, str], ...] = ()  # (group name, MDC key) pairs
    # further layouts of the same file (a console capture): a line this one does not
    # read but one of them does starts its own record, read by that layout
    others: tuple[CompiledLayout, ...] = ()


OTHERS_SEP = " + "  # between the layouts of a mixed file in its name


def with_others(primary: CompiledLayout, others: Sequence[CompiledLayout]) -> CompiledLayout:
    """``primary`` with ``others`` beside it, named after them all (``inputs[].layout``)."""
    if not others:
        return primary
    name = OTHERS_SEP.join([primary.name, *(o.name for o in others)])
    return dataclasses.replace(primary, name=name, others=tuple(others))


INFERRED = "inferred: "  # how an inferred layout's name starts


def compile_layouts(text: str, *, flavor: Flavor = "log4j2") -> CompiledLayout:
    """A ``--pattern``: one PatternLayout, or what ``inputs[].layout`` shows for a file
    of several layouts (``A + B``, each part with or without ``inferred: ``, or a
    built-in's name) when every part compiles and prints a date; otherwise the whole
    text is one pattern."""
    parts = text.split(OTHERS_SEP)
    if len(parts) > 1:
        from logsleuth.layouts.mixed import known_layouts  # built-ins are shown by name

        named = {lay.name: lay for lay in known_layouts()}
        try:
            compiled = [named.get(p) or compile_pattern(p.removeprefix(INFERRED), flavor=flavor)
                        for p in parts]
        except PatternError:
            compiled = []
        if compiled and all(c.timestamp is not None for c in compiled):
            return with_others(compiled[0], compiled[1:])
    return compile_pattern(text, flavor=flavor)


class _Renderer:
    """Renders nodes to regex text; holds only the state of one compile call."""

    def __init__(self, flavor: Flavor, where: str, pattern: str, line: int, base_col: int,
                 greedy_id: int | None) -> None:
        self.flavor = flavor
        self.where, self.pattern, self.line, self.base_col = where, pattern, line, base_col
        self.greedy_id = greedy_id
        self.groups: list[str] = []
        self.mdc_keys: dict[str, str] = {}
        self.timestamp: TimestampFormat | None = None

    def err(self, node: Conv, msg: str, code: str = "LAYOUT001") -> PatternError:
        return PatternError.at(self.where, code, f"{msg} in pattern '{self.pattern}'",
                               self.line, self.base_col + node.col + 1)

    def group(self, name: str, rx: str, capture: bool) -> str:
        if not capture or name in self.groups:
            return f"(?:{rx})"
        self.groups.append(name)
        return f"(?P<{name}>{rx})"

    def nodes(self, nodes: list[Node], capture: bool) -> str:
        return "".join(self.node(nd, capture) for nd in nodes)

    def node(self, nd: Node, capture: bool) -> str:
        if isinstance(nd, Literal):
            return regex_escape(nd.text)
        kind = nd.name
        if kind in _SILENT or kind == "newline":
            return ""
        if kind == "color":
            return ANSI + self.nodes(nd.sub or [], capture) + ANSI
        if kind in ("passthrough", "replace"):
            return self.nodes(nd.sub or [], capture)
        if kind == "notempty":
            return f"(?:{self.nodes(nd.sub or [], capture)})?"
        if kind == "equals":
            subst = regex_escape(nd.options[1]) if len(nd.options) > 1 else ""
            return f"(?:{self.nodes(nd.sub or [], capture)}|{subst})"
        if kind == "optbracket":
            return r"(?:\[[^\]]*\] )?"
        if kind == "date":
            return self.pad(nd, self.group("ts", self.date(nd), capture))
        if kind == "location":
            parts = {k: self.group(k, rx, capture) for k, rx in (
                ("cls", r"[^\s(]+?"), ("method", r"[^.\s(]+"), ("file", r"[^\s:()]*"),
                ("lineno", r"\d+"))}
            return self.pad(nd, _LOCATION.format(**parts))
        if kind == "pid" and nd.options == ["spring"]:
            return self.group("pid", r"\d*", capture) + " ?"
        content = _CONTENT.get(kind, "")
        if content == "":
            raise self.err(nd, f"unsupported conversion '%{nd.raw}'")
        if content is None:
            content = ".*" if id(nd) == self.greedy_id else ".*?"
        name = _GROUP.get(kind)
        if kind == "mdc":
            key = nd.options[0].strip() if nd.options else ""
            if key and "," not in key:
                name = "mdc_" + re.sub(r"\W", "_", key)
                self.mdc_keys[name] = key
            else:
                name = "mdc"
                if self.flavor == "log4j2":  # log4j2 prints the whole map as {k=v, ...}
                    content = r"\{[^}]*\}"
        return self.pad(nd, self.group(name, content, capture) if name else f"(?:{content})")

    def pad(self, nd: Conv, rx: str) -> str:
        if not nd.min_width:
            return rx
        return rx + " *" if nd.left else " *" + rx

    def date(self, nd: Conv) -> str:
        opts = [o.strip() for o in nd.options]
        if self.flavor == "logback" and len(opts) == 1:
            opts = _split_logback_date(opts[0])
        spec = opts[0].strip('"') if opts and opts[0] else DEFAULT_DATE
        zone = opts[1].strip() if len(opts) > 1 and opts[1].strip() else None
        if zone is not None and zone_from_name(zone) is None:
            raise self.err(nd, f"unknown time zone '{zone}'", "LAYOUT003")
        try:
            ts = compile_date_pattern(resolve_named(spec, self.flavor), zone=zone)
        except PatternError as exc:
            raise self.err(nd, exc.diagnostic.message, "LAYOUT003") from None
        if self.timestamp is None:
            self.timestamp = ts
        return ts.regex


def _split_logback_date(opt: str) -> list[str]:
    """logback: ``%d{pattern, zone}``; a comma inside quotes belongs to the pattern."""
    if opt.startswith('"'):
        end = opt.find('"', 1)
        rest = opt[end + 1:].lstrip().lstrip(",") if end > 0 else ""
        return [opt[1:end] if end > 0 else opt[1:], rest.strip()]
    head, sep, tail = opt.rpartition(",")
    if sep and zone_from_name(tail.strip()) is not None:
        return [head, tail.strip()]
    return [opt]  # e.g. "HH:mm:ss,SSS": logback would misread it, we keep the comma


def _flatten(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for nd in nodes:
        if isinstance(nd, Conv) and nd.sub is not None:
            out.extend(_flatten(nd.sub))
        else:
            out.append(nd)
    return out


def _first_line(nodes: list[Node]) -> list[Node]:
    """Top-level nodes before the first ``%n`` (what the header line shows)."""
    for i, nd in enumerate(nodes):
        if isinstance(nd, Conv) and nd.name == "newline":
            return nodes[:i]
        if isinstance(nd, Literal) and "\n" in nd.text:
            return [*nodes[:i], Literal(nd.text.split("\n", 1)[0], nd.col)]
    return nodes


def _second_line(nodes: list[Node]) -> list[Node]:
    """What a layout prints on a record's second line, when fields are there.

    java.util.logging's SimpleFormatter puts the level and message under the date
    line (``%d %C %M%n%p: %m%n``); a throwable alone after ``%n`` is no such line.
    """
    for i, nd in enumerate(nodes):
        if isinstance(nd, Conv) and nd.name == "newline":
            rest = _first_line(nodes[i + 1:])
            break
        if isinstance(nd, Literal) and "\n" in nd.text:
            tail = nd.text.split("\n", 1)[1]
            rest = _first_line([Literal(tail, nd.col), *nodes[i + 1:]])
            break
    else:
        return []
    convs = [x for x in _flatten(rest) if isinstance(x, Conv) and _substantive(x)]
    return rest if convs else []


def _substantive(nd: Node) -> bool:
    if isinstance(nd, Literal):
        return bool(nd.text)
    return nd.name not in _SILENT and nd.name != "newline"


def _distinctive(nd: Node) -> bool:
    """Top-level pieces worth keeping in the header regex."""
    leaves = _flatten([nd])
    return any(isinstance(x, Conv) and x.name in ("date", "level", "pid", "seq", "relative")
               for x in leaves) or any(isinstance(x, Literal) and x.text.strip()
                                       for x in leaves)


def compile_pattern(
    pattern: str,
    *,
    flavor: Flavor = "log4j2",
    name: str | None = None,
    properties: Mapping[str, str] | None = None,
    where: str | None = None,
    line: int = 1,
    column: int = 1,
    description: str = "",
) -> CompiledLayout:
    """Compile a PatternLayout string; raises PatternError located at the bad token.

    ``properties`` resolves ``${name}`` references (``${name:-default}`` falls
    back to its default; Spring Boot's ``${PID}`` becomes the pid field).
    ``where``/``line``/``column`` locate the pattern text in its file.
    """
    loc = where or name or "<pattern>"
    props = {"PID": "%pid{spring}", **(properties or {})}

    def missing(prop: str, col: int) -> str:
        raise PatternError.at(loc, "LAYOUT004",
                              f"unresolved property '${{{prop}}}' in pattern '{pattern}'",
                              line, column + col)

    text = expand_properties(pattern, props, missing)
    parsed = parse(text, where=loc, line=line, base_col=column - 1)
    tree = _first_line(parsed)
    second = _second_line(parsed)
    leaves = [x for x in _flatten(tree + second) if _substantive(x)]
    last = leaves[-1] if leaves else None
    greedy = id(last) if isinstance(last, Conv) and _CONTENT.get(last.name, "") is None else None
    r = _Renderer(flavor, loc, text, line, column - 1, greedy)
    pieces = [r.node(nd, capture=True) for nd in tree]
    if second:  # the fields regex reads the record's first two lines
        pieces += [LINE_BREAK, *(r.node(nd, capture=True) for nd in second)]
    end = "" if greedy is not None else "(?m:$)"
    fields_regex = "^" + "".join(pieces) + end
    h = _Renderer(flavor, loc, text, line, column - 1, greedy)
    header = [h.node(nd, capture=False) for nd in tree]
    keep = 0
    wanted = sum(1 for nd in tree if _distinctive(nd))
    seen = 0
    for i, nd in enumerate(tree):
        if _distinctive(nd):
            seen += 1
            keep = i + 1
            if seen >= min(4, wanted):
                break
    header_regex = "^" + "".join(header[:keep])
    for rx in (fields_regex, header_regex):
        try:
            re2.compile(rx)
        except re2.error as exc:  # a bug in the renderer, or exotic literal text
            raise PatternError.at(loc, "LAYOUT005",
                                  f"pattern '{pattern}' gives an invalid regex: {exc}",
                                  line, column) from None
    return CompiledLayout(
        name=name or pattern,
        pattern=pattern,
        flavor=flavor,
        fields_regex=fields_regex,
        header_regex=header_regex,
        timestamp=r.timestamp,
        fields=tuple(r.groups),
        description=description,
        mdc_keys=tuple(r.mdc_keys.items()),
    )
