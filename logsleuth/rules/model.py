"""Typed rules built from YAML data by ``Rule.from_dict``.

``from_dict`` validates against the shipped JSON Schema, then builds condition
objects through the ``CONDITIONS`` registry. With ``collect_errors=True`` it
returns every located problem (the linter); otherwise the first one raises
``RuleError`` (a scan).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import re2

from logsleuth.errors import Diagnostic, RuleError
from logsleuth.model import Kind, Severity
from logsleuth.rules import conditions as c
from logsleuth.rules.yamlsrc import KeyPath, Marks

if TYPE_CHECKING:
    import jsonschema

_WINDOW_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


@cache
def rule_schema() -> dict[str, object]:
    """The rule JSON Schema shipped in the package (read once, never mutated)."""
    text = resources.files("logsleuth").joinpath("schemas/rule.schema.json").read_text("utf-8")
    return json.loads(text)


@dataclass(frozen=True, slots=True)
class Threshold:
    count: int
    window_s: float
    window: str  # as written, e.g. "5m"


@dataclass(frozen=True, slots=True)
class Extractor:
    """A named number captured from the message, e.g. ``used`` bytes of direct memory."""

    name: str
    regex: re2._Regexp
    unit: str = "none"
    source: str = "text"  # message | text | exception_message


@dataclass(frozen=True, slots=True)
class FingerprintOptions:
    frames: int = 3
    by: str = "auto"  # auto | exception | message | rule
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What findings and reports need of a rule: small, frozen and picklable."""

    id: str
    title: str
    severity: Severity
    description: str = ""
    advice: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    threshold: Threshold | None = None
    source: str = "<dict>"
    line: int = 1


@dataclass(frozen=True, slots=True)
class Rule:
    info: RuleInfo
    match: c.Condition
    extract: tuple[Extractor, ...] = ()
    fingerprint: FingerprintOptions = field(default_factory=FingerprintOptions)
    enabled: bool = True

    @property
    def id(self) -> str:
        return self.info.id

    @classmethod
    def from_dict(cls, data: object, *, source: str = "<dict>", marks: Marks | None = None,
                  collect_errors: bool = False, check_schema: bool = True
                  ) -> tuple[Rule | None, list[Diagnostic]]:
        """Build a rule; returns (rule or None, problems). Raises on the first problem
        unless ``collect_errors``. ``check_schema=False`` only for the package's own
        rules, which the test suite checks: the same rule, without jsonschema's cost."""
        b = _Builder(marks or Marks(source), collect_errors, check_schema)
        rule = b.rule(data)
        return (rule if not b.errors else None), b.errors


class _Builder:
    """Per-call state of one ``from_dict``: where we are and what went wrong."""

    def __init__(self, marks: Marks, collect: bool, check_schema: bool = True) -> None:
        self.marks = marks
        self.collect = collect
        self.check_schema = check_schema
        self.errors: list[Diagnostic] = []

    def error(self, where: KeyPath, code: str, message: str, *, key: bool = False,
              help: str | None = None) -> None:
        diag = Diagnostic(self.marks.at(where, key=key), code, message, help=help)
        if not self.collect:
            raise RuleError(diag)
        self.errors.append(diag)

    def schema_errors(self, data: object) -> None:
        import jsonschema  # only where a rule is checked: ~27 ms of imports

        validator = jsonschema.Draft202012Validator(rule_schema())
        for err in _leaf_errors(validator.iter_errors(data)):
            where: KeyPath = tuple(err.absolute_path)
            if err.validator == "additionalProperties" and isinstance(err.instance, dict):
                allowed = err.schema.get("properties", {})
                for k in err.instance:
                    if k not in allowed:
                        self.error((*where, k), "R010", f"unknown field {k!r}", key=True)
            elif err.validator == "required":
                self.error(where, "R011", f"missing required field: {err.message.split()[0]}")
            elif err.validator == "anyOf":
                self.error(where, "R012", f"invalid value at {_dotted(where)}: expected "
                           + _expected(err.schema))
            else:
                self.error(where, "R012", f"invalid value at {_dotted(where)}: {err.message}")

    def rule(self, data: object) -> Rule | None:
        if self.check_schema:
            self.schema_errors(data)
        if self.errors or not isinstance(data, dict):
            return None
        match = self.condition(data["match"], ("match",))
        threshold = None
        if "threshold" in data:
            t = data["threshold"]
            n, unit = _split_window(t["window"])
            threshold = Threshold(t["count"], n * _WINDOW_UNITS[unit], t["window"])
        extract = tuple(self.extractor(e, ("extract", i))
                        for i, e in enumerate(data.get("extract", [])))
        fp = data.get("fingerprint", {})
        info = RuleInfo(
            id=data["id"], title=data["title"], severity=Severity(data["severity"]),
            description=data.get("description", "").strip(),
            advice=data.get("advice", "").strip(), tags=tuple(data.get("tags", [])),
            references=tuple(data.get("references", [])), threshold=threshold,
            source=self.marks.path, line=self.marks.at(("id",)).line or 1)
        if self.errors or match is None:
            return None
        return Rule(info, match, tuple(e for e in extract if e is not None),
                    FingerprintOptions(fp.get("frames", 3), fp.get("by", "auto"),
                                       tuple(fp.get("fields", []))),
                    data.get("enabled", True))

    def extractor(self, e: dict[str, str], where: KeyPath) -> Extractor | None:
        try:
            rx = c.compile_regex(e["regex"])
        except c.ConditionError as exc:
            self.error((*where, "regex"), "R020", str(exc))
            return None
        if rx.groups != 1:
            self.error((*where, "regex"), "R021",
                       f"extract regex needs exactly one capture group, has {rx.groups}")
            return None
        return Extractor(e["name"], rx, e.get("unit", "none"), e.get("from", "text"))

    def condition(self, data: dict[str, object], where: KeyPath) -> c.Condition | None:
        if "field" not in data:
            for op in c.FIELD_OPS:
                if op in data:
                    self.error((*where, op), "R013", f"{op!r} needs a 'field' beside it",
                               key=True)
                    return None
        parts: list[c.Condition] = []
        for key, value in data.items():
            if key in c.FIELD_OPS:
                continue
            build = CONDITIONS[key]
            try:
                cond = build(value, data, (*where, key), self)
            except c.ConditionError as exc:
                sub = (*where, key, exc.subkey) if exc.subkey and isinstance(value, dict) \
                    else (*where, key)
                self.error(sub, "R020", str(exc))
                continue
            if cond is not None:
                parts.append(cond)
        if len(parts) != len([k for k in data if k not in c.FIELD_OPS]):
            return None
        return parts[0] if len(parts) == 1 else c.AllCond(tuple(parts))

    def children(self, value: object, where: KeyPath) -> tuple[c.Condition, ...] | None:
        assert isinstance(value, list)
        built = [self.condition(v, (*where, i)) for i, v in enumerate(value)]
        return None if any(b is None for b in built) else tuple(b for b in built if b)


def _leaf_errors(errors: Iterable[jsonschema.ValidationError]
                 ) -> list[jsonschema.ValidationError]:
    """Replace a failed ``anyOf`` by the errors of the alternative of the right type.

    ``message: {contain: x}`` should say "unknown field 'contain'", not "expected a
    string or a mapping".
    """
    out: list[jsonschema.ValidationError] = []
    for err in errors:
        inner = [e for e in err.context or () if e.validator != "type"]
        if err.validator == "anyOf" and inner:
            out += _leaf_errors(inner)
        else:
            out.append(err)
    return sorted(out, key=lambda e: list(map(str, e.absolute_path)))


def _split_window(w: str) -> tuple[int, str]:
    digits = w.rstrip("mshd")
    return int(digits), w[len(digits):]


def _dotted(where: KeyPath) -> str:
    return ".".join(str(p) for p in where) or "<root>"


def _expected(schema: Mapping[str, object]) -> str:
    kinds = []
    for alt in schema.get("anyOf", []):  # type: ignore[union-attr]
        t = alt.get("type") if isinstance(alt, dict) else None
        kinds.append({"string": "a string", "array": "a list of strings",
                      "object": "a mapping"}.get(str(t), str(t)))
    return " or ".join(kinds)


Build = Callable[[object, dict[str, object], KeyPath, _Builder], c.Condition | None]


def _text(cls: type[c.MessageCond] | type[c.TextCond] | type[c.ExceptionMessageCond]) -> Build:
    return lambda v, _d, _w, _b: cls(c.TextMatch.parse(v))


def _kind(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    kinds = c.as_list(v)
    valid = {str(k) for k in Kind}
    bad = [k for k in kinds if k not in valid]
    if bad:
        b.error(where, "R014", f"unknown kind {bad[0]!r}; expected one of {sorted(valid)}")
        return None
    return c.KindCond(frozenset(kinds))


def _level(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    levels = [x.upper() for x in c.as_list(v)]
    bad = [x for x in levels if x not in c.LEVEL_ORDER]
    if bad:
        b.error(where, "R014", f"unknown level {bad[0]!r}")
        return None
    return c.LevelCond(frozenset(levels))


def _level_at_least(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    rank = c.LEVEL_ORDER.get(str(v).upper())
    if rank is None:
        b.error(where, "R014", f"unknown level {v!r}")
        return None
    return c.LevelAtLeastCond(rank)


def _field(v: object, data: dict[str, object], where: KeyPath,
           b: _Builder) -> c.Condition | None:
    ops = [op for op in c.FIELD_OPS if op in data]
    if len(ops) != 1:
        b.error(where, "R013", f"'field' needs exactly one of {', '.join(c.FIELD_OPS)}; "
                f"got {len(ops)}")
        return None
    op = ops[0]
    rx = c.compile_regex(str(data[op]), op) if op == "regex" else None
    return c.FieldCond(str(v), op, data[op], rx)


def _all(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    kids = b.children(v, where)
    return None if kids is None else c.AllCond(kids)


def _any(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    kids = b.children(v, where)
    return None if kids is None else c.AnyCond(kids)


def _not(v: object, _d: object, where: KeyPath, b: _Builder) -> c.Condition | None:
    kid = b.condition(v, where)  # type: ignore[arg-type]
    return None if kid is None else c.NotCond(kid)


# The one registry from YAML condition keys to the classes that implement them.
CONDITIONS: dict[str, Build] = {
    "all": _all,
    "any": _any,
    "not": _not,
    "kind": _kind,
    "level": _level,
    "level_at_least": _level_at_least,
    "logger": lambda v, _d, _w, _b: c.GlobCond("logger", tuple(c.as_list(v))),
    "thread": lambda v, _d, _w, _b: c.GlobCond("thread", tuple(c.as_list(v))),
    "message": _text(c.MessageCond),
    "text": _text(c.TextCond),
    "exception_message": _text(c.ExceptionMessageCond),
    "exception": lambda v, _d, _w, _b: c.ExceptionCond(tuple(c.as_list(v))),
    "frame": lambda v, _d, _w, _b: c.FrameCond.parse(v),
    "field": _field,
}
