"""Match conditions: one small class per YAML key, found through ``CONDITIONS``.

Each condition answers two questions: does a ``Record`` match (full check, run
only on prefilter candidates), and which literal needles must occur in the raw
record text for it to possibly match (``None``: cannot say, always evaluate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import ClassVar

import re2

from logsleuth.model import Frame, Record

Needles = frozenset[str] | None
MIN_NEEDLE = 3  # shorter literals would make nearly every record a candidate

LEVEL_ORDER = {"TRACE": 0, "FINEST": 0, "FINER": 0, "FINE": 1, "DEBUG": 1, "CONFIG": 1,
               "INFO": 2, "NOTICE": 2, "WARN": 3, "WARNING": 3, "ERROR": 4, "SEVERE": 4,
               "CRIT": 5, "FATAL": 5, "ALERT": 5, "EMERG": 5}

_GLOB_SPLIT = re2.compile(r"\*|\?|\[[^\]]*\]")
_REGEX_META = set(".^$*+?{}[]()|\\")


class ConditionError(ValueError):
    """A condition value that is well-formed YAML but cannot work (bad regex...)."""

    def __init__(self, message: str, subkey: str | None = None) -> None:
        super().__init__(message)
        self.subkey = subkey


def compile_regex(pattern: str, subkey: str = "regex") -> re2._Regexp:
    """RE2 only: linear time, so a user rule can never hang a scan."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise ConditionError(f"regex does not compile with RE2: {reason}", subkey) from None


def glob_literal(pattern: str) -> str:
    """The longest literal run of a glob: every match contains it."""
    parts = _GLOB_SPLIT.split(pattern)
    return max(parts, key=len) if parts else ""


def regex_literal(pattern: str) -> str:
    """A literal prefix every match must contain, or "" when none can be derived safely."""
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if pattern.startswith("(?"):
        return ""  # inline flags such as (?i) change what a literal means
    depth, i, escaped = 0, 0, False
    while i < len(pattern):  # a top-level alternation means no single prefix is required
        ch = pattern[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            close = pattern.find("]", i + 2)
            i = close if close > 0 else len(pattern)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return ""
        i += 1
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            lit, step = pattern[i + 1], 2
        elif ch in _REGEX_META:
            break
        else:
            lit, step = ch, 1
        nxt = pattern[i + step] if i + step < len(pattern) else ""
        if nxt in ("?", "*", "{"):
            break  # the literal is optional or repeated: stop before it
        out.append(lit)
        i += step
    return "".join(out)


def _needle(lit: str) -> Needles:
    return frozenset([lit]) if len(lit) >= MIN_NEEDLE else None


def _union(parts: Iterable[Needles]) -> Needles:
    out: set[str] = set()
    for p in parts:
        if p is None:
            return None
        out |= p
    return frozenset(out)


def as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class Condition:
    """Base of all conditions; subclasses declare ``key`` and implement the two checks."""

    key: ClassVar[str]

    def matches(self, rec: Record) -> bool:
        raise NotImplementedError

    def needles(self) -> Needles:
        return None


@dataclass(frozen=True, slots=True)
class TextMatch:
    """``contains`` (one literal or a list, any of them) and/or ``regex`` over one string."""

    contains: tuple[str, ...] = ()
    regex: re2._Regexp | None = None
    pattern: str | None = None

    @classmethod
    def parse(cls, value: object) -> TextMatch:
        if isinstance(value, str):
            return cls(contains=(value,))
        assert isinstance(value, dict)  # the schema guarantees str | mapping
        contains = tuple(as_list(value["contains"])) if "contains" in value else ()
        pattern = value.get("regex")
        rx = compile_regex(str(pattern)) if pattern is not None else None
        return cls(contains, rx, None if pattern is None else str(pattern))

    def test(self, s: str | None) -> bool:
        if s is None:
            return False
        if self.contains and not any(c in s for c in self.contains):
            return False
        return self.regex is None or self.regex.search(s) is not None

    def needles(self) -> Needles:
        if self.contains:
            return _union(_needle(c) for c in self.contains)
        return _needle(regex_literal(self.pattern or ""))


@dataclass(frozen=True, slots=True)
class MessageCond(Condition):
    key: ClassVar[str] = "message"
    text: TextMatch

    def matches(self, rec: Record) -> bool:
        return self.text.test(rec.message)

    def needles(self) -> Needles:
        return self.text.needles()


@dataclass(frozen=True, slots=True)
class TextCond(Condition):
    """The whole raw record, header and continuation lines."""

    key: ClassVar[str] = "text"
    text: TextMatch

    def matches(self, rec: Record) -> bool:
        return self.text.test(rec.text)

    def needles(self) -> Needles:
        return self.text.needles()


@dataclass(frozen=True, slots=True)
class ExceptionMessageCond(Condition):
    """The message of any throwable in the chain (causes and suppressed included)."""

    key: ClassVar[str] = "exception_message"
    text: TextMatch

    def matches(self, rec: Record) -> bool:
        return rec.throwable is not None and any(
            self.text.test(t.message) for t in rec.throwable.chain())

    def needles(self) -> Needles:
        return self.text.needles()


def _class_matcher(pattern: str) -> Callable[[str], bool]:
    if not any(c in pattern for c in "*?[") and "." not in pattern:
        return lambda cls: cls.rsplit(".", 1)[-1].split("$")[-1] == pattern  # simple name
    return lambda cls: fnmatchcase(cls, pattern)


@dataclass(frozen=True, slots=True)
class ExceptionCond(Condition):
    """A throwable class anywhere in the chain: a glob over the qualified name or a simple name."""

    key: ClassVar[str] = "exception"
    patterns: tuple[str, ...]

    def matches(self, rec: Record) -> bool:
        if rec.throwable is None:
            return False
        tests = [_class_matcher(p) for p in self.patterns]
        return any(t(x.cls) for x in rec.throwable.chain() for t in tests)

    def needles(self) -> Needles:
        return _union(_needle(glob_literal(p)) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class FrameCond(Condition):
    """A stack frame: ``cls.method`` glob, or separate class/method globs; ``top`` limits depth."""

    key: ClassVar[str] = "frame"
    qualified: str | None = None
    cls: str | None = None
    method: str | None = None
    top: int | None = None

    @classmethod
    def parse(cls, value: object) -> FrameCond:
        if isinstance(value, str):
            return cls(qualified=value)
        assert isinstance(value, dict)
        return cls(value.get("qualified"), value.get("class"), value.get("method"),
                   value.get("top"))

    def _frame_ok(self, f: Frame) -> bool:
        if self.qualified is not None and not fnmatchcase(f.qualified, self.qualified):
            return False
        if self.cls is not None and not fnmatchcase(f.cls, self.cls):
            return False
        return self.method is None or fnmatchcase(f.method, self.method)

    def matches(self, rec: Record) -> bool:
        if rec.throwable is None:
            return False
        for t in rec.throwable.chain():
            frames = t.frames if self.top is None else t.frames[: self.top]
            if any(self._frame_ok(f) for f in frames):
                return True
        return False

    def needles(self) -> Needles:
        lits = [glob_literal(p) for p in (self.qualified, self.cls, self.method) if p]
        return _needle(max(lits, key=len)) if lits else None


@dataclass(frozen=True, slots=True)
class GlobCond(Condition):
    """``logger`` / ``thread``: one glob or a list (any)."""

    key: ClassVar[str] = "logger"
    attr: str
    patterns: tuple[str, ...]

    def matches(self, rec: Record) -> bool:
        value = getattr(rec, self.attr)
        return value is not None and any(fnmatchcase(value, p) for p in self.patterns)

    def needles(self) -> Needles:
        # Layouts may abbreviate loggers (%c{1.}), so a literal is not guaranteed in the text.
        return None


@dataclass(frozen=True, slots=True)
class KindCond(Condition):
    key: ClassVar[str] = "kind"
    kinds: frozenset[str]

    def matches(self, rec: Record) -> bool:
        return str(rec.kind) in self.kinds


@dataclass(frozen=True, slots=True)
class LevelCond(Condition):
    key: ClassVar[str] = "level"
    levels: frozenset[str]

    def matches(self, rec: Record) -> bool:
        return rec.level is not None and rec.level.upper() in self.levels


@dataclass(frozen=True, slots=True)
class LevelAtLeastCond(Condition):
    key: ClassVar[str] = "level_at_least"
    rank: int

    def matches(self, rec: Record) -> bool:
        return rec.level is not None and LEVEL_ORDER.get(rec.level.upper(), -1) >= self.rank


FIELD_OPS = ("equals", "not_equals", "gt", "gte", "lt", "lte", "contains", "regex", "glob",
             "in", "exists")


def _num(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class FieldCond(Condition):
    """A test over ``Record.fields`` (GC pause_ms, thread state, HTTP status...)."""

    key: ClassVar[str] = "field"
    name: str
    op: str
    value: object
    regex: re2._Regexp | None = None

    def matches(self, rec: Record) -> bool:
        raw = rec.fields.get(self.name)
        if self.op == "exists":
            return (raw is not None) == bool(self.value)
        if raw is None:
            return False
        raw = str(raw)
        op, want = self.op, self.value
        if op in ("gt", "gte", "lt", "lte"):
            got = _num(raw)
            if got is None:
                return False
            w = float(want)  # type: ignore[arg-type]
            return {"gt": got > w, "gte": got >= w, "lt": got < w, "lte": got <= w}[op]
        if op == "equals":
            return raw == str(want) or (_num(raw) is not None and _num(raw) == _num(str(want)))
        if op == "not_equals":
            return raw != str(want)
        if op == "in":
            return raw in {str(v) for v in want}  # type: ignore[attr-defined]
        if op == "contains":
            return str(want) in raw
        if op == "glob":
            return fnmatchcase(raw, str(want))
        return self.regex is not None and self.regex.search(raw) is not None


@dataclass(frozen=True, slots=True)
class AllCond(Condition):
    key: ClassVar[str] = "all"
    children: tuple[Condition, ...]

    def matches(self, rec: Record) -> bool:
        return all(c.matches(rec) for c in self.children)

    def needles(self) -> Needles:
        # Any one child's needles suffice; prefer the child with the fewest, longest ones.
        options = [n for n in (c.needles() for c in self.children) if n is not None]
        if not options:
            return None
        return min(options, key=lambda n: (len(n), -min(len(x) for x in n)))


@dataclass(frozen=True, slots=True)
class AnyCond(Condition):
    key: ClassVar[str] = "any"
    children: tuple[Condition, ...]

    def matches(self, rec: Record) -> bool:
        return any(c.matches(rec) for c in self.children)

    def needles(self) -> Needles:
        return _union(c.needles() for c in self.children)


@dataclass(frozen=True, slots=True)
class NotCond(Condition):
    key: ClassVar[str] = "not"
    child: Condition

    def matches(self, rec: Record) -> bool:
        return not self.child.matches(rec)
