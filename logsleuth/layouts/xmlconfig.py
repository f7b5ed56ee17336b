"""Read PatternLayout strings out of log4j2.xml and logback.xml configurations.

Uses expat directly so every element keeps its line number (ElementTree drops
it), which lets errors point at ``file:line``. Properties defined in the file
(log4j2 ``<Properties>``, logback ``<property>``/``<variable>``) are resolved;
``${name:-default}`` falls back to its default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from logsleuth.errors import InputError, PatternError
from logsleuth.layouts.pattern import expand_properties

# What Spring Boot's logback defaults.xml defines (3.x shape) for configs that include it.
SPRING_BOOT_PATTERNS = {
    "CONSOLE_LOG_PATTERN": (
        "%clr(%d{${LOG_DATEFORMAT_PATTERN:-yyyy-MM-dd'T'HH:mm:ss.SSSXXX}}){faint} "
        "%clr(${LOG_LEVEL_PATTERN:-%5p}) %clr(${PID:- }){magenta} %clr(---){faint} "
        "%clr([%15.15t]){faint} %clr(%-40.40logger{39}){cyan} %clr(:){faint} "
        "%m%n${LOG_EXCEPTION_CONVERSION_WORD:-%wEx}"),
    "FILE_LOG_PATTERN": (
        "%d{${LOG_DATEFORMAT_PATTERN:-yyyy-MM-dd'T'HH:mm:ss.SSSXXX}} "
        "${LOG_LEVEL_PATTERN:-%5p} ${PID:- } --- [%t] %-40.40logger{39} : "
        "%m%n${LOG_EXCEPTION_CONVERSION_WORD:-%wEx}"),
}


@dataclass(slots=True)
class _El:
    tag: str
    attrs: dict[str, str]
    line: int
    text: str = ""
    children: list[_El] = field(default_factory=list)

    def iter(self) -> Iterator[_El]:
        yield self
        for c in self.children:
            yield from c.iter()

    def child(self, tag: str) -> _El | None:
        low = tag.lower()
        return next((c for c in self.children if c.tag.lower() == low), None)


def _read_xml(path: Path) -> _El:
    where = str(path)
    parser = expat.ParserCreate()
    stack: list[_El] = []
    root: list[_El] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = _El(tag.split(":")[-1], attrs, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.at(where, "LAYOUT010", f"cannot read config: {exc.strerror}") from None
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InputError.at(where, "LAYOUT010",
                            f"malformed XML: {expat.ErrorString(exc.code)}",
                            exc.lineno, exc.offset + 1) from None
    return root[0]


def _resolver(where: str, line: int) -> Callable[[str, int], str]:
    def missing(name: str, _col: int) -> str:
        raise PatternError.at(where, "LAYOUT004", f"unresolved property '${{{name}}}'", line)
    return missing


def _resolve(text: str, props: dict[str, str], where: str, line: int) -> str:
    return expand_properties(_protect(text), props, _resolver(where, line))


def _protect(text: str) -> str:
    """Escape ``${PID}``: a runtime value that compile_pattern maps to the pid field."""
    return text.replace("$${PID", "${PID").replace("${PID}", "$${PID}").replace(
        "${PID:", "$${PID:")


def _missing_pattern(where: str, el: _El, appender: str) -> PatternError:
    return PatternError.at(where, "LAYOUT011",
                           f"appender '{appender}': <{el.tag}> has no pattern", el.line)


def patterns_from_log4j2_xml(path: str | Path) -> list[tuple[str, str]]:
    """(appender name, resolved pattern) for each appender with a ``<PatternLayout>``."""
    path = Path(path)
    where = str(path)
    root = _read_xml(path)
    props: dict[str, str] = {}
    for el in root.iter():
        if el.tag.lower() == "properties":
            for p in el.children:
                if p.tag.lower() == "property" and "name" in p.attrs:
                    props[p.attrs["name"]] = _protect(p.attrs.get("value", p.text.strip()))
    out: list[tuple[str, str]] = []
    appenders = root.child("Appenders")
    for app in appenders.children if appenders is not None else []:
        name = app.attrs.get("name", app.tag)
        for lay in app.iter():
            is_pattern = lay.tag == "PatternLayout" or (
                lay.tag == "Layout" and lay.attrs.get("type") == "PatternLayout")
            if not is_pattern:
                continue
            pat = lay.attrs.get("pattern")
            if pat is None:
                sub = lay.child("Pattern")
                pat = sub.text.strip() if sub is not None else None
            if not pat:
                raise _missing_pattern(where, lay, name)
            out.append((name, _resolve(pat, props, where, lay.line)))
    return out


def patterns_from_logback_xml(path: str | Path) -> list[tuple[str, str]]:
    """(appender name, resolved pattern) for each appender with an encoder/layout pattern.

    Encoders and layouts of another kind (e.g. LogstashEncoder) are skipped.
    """
    path = Path(path)
    where = str(path)
    root = _read_xml(path)
    props: dict[str, str] = {}
    for el in root.iter():
        if el.tag in ("property", "variable") and "name" in el.attrs and "value" in el.attrs:
            props[el.attrs["name"]] = _protect(
                _resolve(el.attrs["value"], props, where, el.line))
    if any(e.tag == "include" and "springframework/boot" in e.attrs.get("resource", "")
           for e in root.iter()):
        for key, value in SPRING_BOOT_PATTERNS.items():
            props.setdefault(key, _protect(value))
    out: list[tuple[str, str]] = []
    for app in (e for e in root.iter() if e.tag == "appender"):
        name = app.attrs.get("name", "")
        for lay in app.children:
            if lay.tag not in ("encoder", "layout"):
                continue
            cls = lay.attrs.get("class", "")
            sub = lay.child("pattern")
            if sub is None and sub_layout(lay) is not None:
                sub = sub_layout(lay)
            if sub is None or not sub.text.strip():
                if cls and "Pattern" not in cls:
                    continue  # JSON or custom encoder: no pattern expected
                raise _missing_pattern(where, lay, name)
            out.append((name, _resolve(sub.text.strip(), props, where, sub.line)))
    return out


def sub_layout(encoder: _El) -> _El | None:
    """``<encoder><layout class="...PatternLayout"><pattern>`` nests one level deeper."""
    inner = encoder.child("layout")
    return inner.child("pattern") if inner is not None else None
