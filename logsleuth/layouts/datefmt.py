"""Java date patterns (SimpleDateFormat, DateTimeFormatter, log4j2 named formats) as RE2.

A ``TimestampFormat`` carries two regexes built from the same tokens: ``regex``
(no groups, embedded in a layout's ``ts`` group) and ``parts_regex`` (anchored,
one named group per calendar component) which the vectorised converter in
``epoch.py`` runs over the extracted ``ts`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Literal, NamedTuple

import pyarrow as pa

from logsleuth.errors import PatternError

# log4j2 ``FixedDateFormat.FixedFormat`` plus the DatePatternConverter keywords.
LOG4J2_NAMED: dict[str, str] = {
    "ABSOLUTE": "HH:mm:ss,SSS",
    "ABSOLUTE_MICROS": "HH:mm:ss,nnnnnn",
    "ABSOLUTE_NANOS": "HH:mm:ss,nnnnnnnnn",
    "ABSOLUTE_PERIOD": "HH:mm:ss.SSS",
    "COMPACT": "yyyyMMddHHmmssSSS",
    "DATE": "dd MMM yyyy HH:mm:ss,SSS",
    "DATE_PERIOD": "dd MMM yyyy HH:mm:ss.SSS",
    "DEFAULT": "yyyy-MM-dd HH:mm:ss,SSS",
    "DEFAULT_MICROS": "yyyy-MM-dd HH:mm:ss,nnnnnn",
    "DEFAULT_NANOS": "yyyy-MM-dd HH:mm:ss,nnnnnnnnn",
    "DEFAULT_PERIOD": "yyyy-MM-dd HH:mm:ss.SSS",
    "ISO8601_BASIC": "yyyyMMdd'T'HHmmss,SSS",
    "ISO8601_BASIC_PERIOD": "yyyyMMdd'T'HHmmss.SSS",
    "ISO8601": "yyyy-MM-dd'T'HH:mm:ss,SSS",
    "ISO8601_OFFSET_DATE_TIME_HH": "yyyy-MM-dd'T'HH:mm:ss,SSSX",
    "ISO8601_OFFSET_DATE_TIME_HHMM": "yyyy-MM-dd'T'HH:mm:ss,SSSXX",
    "ISO8601_OFFSET_DATE_TIME_HHCMM": "yyyy-MM-dd'T'HH:mm:ss,SSSXXX",
    "ISO8601_PERIOD": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "ISO8601_PERIOD_MICROS": "yyyy-MM-dd'T'HH:mm:ss.nnnnnn",
    "US_MONTH_DAY_YEAR2_TIME": "dd/MM/yy HH:mm:ss.SSS",
    "US_MONTH_DAY_YEAR4_TIME": "dd/MM/yyyy HH:mm:ss.SSS",
    "UNIX": "UNIX",
    "UNIX_MILLIS": "UNIX_MILLIS",
}
# logback (and log4j 1.x) spell ISO8601 with a space, not a 'T'.
LOGBACK_NAMED: dict[str, str] = {"ISO8601": "yyyy-MM-dd HH:mm:ss,SSS"}
DEFAULT_DATE = "yyyy-MM-dd HH:mm:ss,SSS"  # %d with no argument, both flavours

_OFFSET_PARTS = (
    r"(?:(?P<oz>Z|UTC|GMT|UT)|(?:GMT|UTC|UT)?(?P<osg>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)"
)
_OFFSET = r"(?:Z|UTC|GMT|UT|(?:GMT|UTC|UT)?[+-]\d{1,2}(?::?\d{2})?)"
_ZONE_ID = r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*"
_MONTH_NAME3 = r"[A-Za-z]{3}"
_MONTH_NAME = r"[A-Za-z]{3,9}\.?"
_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")


class EpochMs(NamedTuple):
    """Result of ``TimestampFormat.to_epoch_ms``: UTC epoch ms and the offset applied."""

    ms: pa.Int64Array
    offset_ms: pa.Int64Array  # UTC offset used per value (null where ``ms`` is null)


@dataclass(frozen=True, slots=True)
class TimestampFormat:
    """A compiled date pattern: regexes plus what the text says about its zone.

    ``has_zone`` is true when the text itself carries an offset or zone id;
    ``zone`` is the zone given in the layout (``%d{...}{UTC}``), if any. When
    neither is set the caller must supply ``default_tz`` or accept UTC and
    report "zone unknown".
    """

    pattern: str
    regex: str
    has_zone: bool
    parts_regex: str
    zone: str | None = None
    kind: Literal["civil", "unix_s", "unix_ms"] = "civil"
    has_year: bool = True
    has_date: bool = True

    @property
    def needs_base_date(self) -> bool:
        """True for patterns without a year (ABSOLUTE, ``HH:mm:ss``, ``MMM dd ...``)."""
        return self.kind == "civil" and not self.has_year

    def to_epoch_ms(
        self,
        values: pa.Array | pa.ChunkedArray,
        default_tz: tzinfo | None = None,
        *,
        base_date: date | None = None,
        rollover: bool = True,
    ) -> EpochMs:
        """Convert rendered timestamps to UTC epoch ms, vectorised; null where unparsable.

        ``default_tz`` applies to values without offset/zone (DST-correct via
        hour buckets); None means UTC. ``base_date`` is required when the
        pattern has no year: time-only patterns take its date (and, with
        ``rollover``, move to the next day whenever the clock goes back by more
        than 12 h), month/day patterns take its year.
        """
        from logsleuth.layouts.epoch import convert

        return convert(self, values, default_tz, base_date=base_date, rollover=rollover)


def _escape(text: str) -> str:
    """Escape literal text for RE2 (Python's re.escape emits escapes RE2 rejects)."""
    out = []
    for ch in text:
        if ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append(r"\n")
        elif ch == "\t":
            out.append(r"\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(rf"\x{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)


def regex_escape(text: str) -> str:
    """Public alias used by the layout compiler."""
    return _escape(text)


class _Builder:
    """Accumulates the plain and the component-group regex side by side."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.parts: list[str] = []
        self.groups: set[str] = set()
        self.last_literal: str | None = None

    def lit(self, text: str, plain: str | None = None) -> None:
        rx = plain if plain is not None else _escape(text)
        self.plain.append(rx)
        self.parts.append(rx)
        self.last_literal = text

    def field(self, group: str | None, rx: str, parts_rx: str | None = None) -> None:
        self.plain.append(rx)
        if group is None:
            self.parts.append(parts_rx or rx)
        elif group in self.groups:  # repeated component: match it, capture once
            self.parts.append(rx)
        else:
            self.groups.add(group)
            self.parts.append(f"(?P<{group}>{rx})" if parts_rx is None else parts_rx)
        self.last_literal = None


def _letter(b: _Builder, ch: str, n: int, pattern: str, col: int, lenient: bool) -> None:
    def bad(why: str) -> PatternError:
        return PatternError.at("<date pattern>", "LAYOUT003",
                               f"date pattern '{pattern}': {why}", 1, col + 1)

    if ch in "yu":
        if n == 2:
            b.field("y2", r"\d{2}")
        else:
            b.field("Y", r"\d{4}")
    elif ch in "ML":
        if n == 1:
            b.field("Mo", r"\d{1,2}")
        elif n == 2:
            b.field("Mo", r"\d{2}")
        elif n == 3:
            b.field("Mon", _MONTH_NAME3)
        else:
            b.field("Mon", _MONTH_NAME)
    elif ch in "dHkhKms":
        group = {"d": "D", "H": "H", "k": "k", "h": "h", "K": "K", "m": "Mi", "s": "S"}[ch]
        b.field(group, r"\d{1,2}" if n == 1 else r"\d{2}")
    elif ch in "Sn":
        if b.last_literal in (".", ","):  # accept either decimal separator
            b.plain[-1] = b.parts[-1] = "[.,]"
        b.field("F", r"\d{1,9}" if lenient else rf"\d{{{min(n, 9)}}}")
    elif ch == "a":
        b.field("AP", r"[AaPp]\.?[Mm]\.?")
    elif ch == "E":
        b.field(None, r"[A-Za-z]{3}" if n <= 3 else r"[A-Za-z]{3,9}")
    elif ch == "G":
        b.field(None, r"(?:AD|BC)")
    elif ch in "XxZO":
        b.field("off", _OFFSET, _OFFSET_PARTS)
    elif ch in "zV":
        if ch == "z" and n >= 4:
            raise bad("full zone names (zzzz) are not supported")
        b.field("zid", _ZONE_ID)
    else:
        raise bad(f"unsupported pattern letter '{ch}'")


def compile_date_pattern(
    pattern: str, *, zone: str | None = None, lenient: bool = False
) -> TimestampFormat:
    """Compile a java date pattern (already resolved from any named format).

    ``lenient`` lets fraction fields take 1 to 9 digits (for JSON timestamps).
    DateTimeFormatter optional sections ``[...]`` become optional groups.
    """
    if pattern in ("UNIX", "UNIX_MILLIS"):
        width = r"\d{1,10}" if pattern == "UNIX" else r"\d{1,13}"
        kind: Literal["unix_s", "unix_ms"] = "unix_s" if pattern == "UNIX" else "unix_ms"
        return TimestampFormat(pattern, width, False, f"^(?P<num>{width})$", zone, kind)
    b = _Builder()
    depth = 0
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is a literal quote
                b.lit("'")
                i += 2
                continue
            if end < 0:
                raise PatternError.at("<date pattern>", "LAYOUT003",
                                      f"date pattern '{pattern}': unterminated quote", 1, i + 1)
            text = pattern[i + 1 : end]
            b.lit(text, "[T ]" if text == "T" else None)
            i = end + 1
        elif ch == "[":
            b.plain.append("(?:")
            b.parts.append("(?:")
            b.last_literal = None
            depth += 1
            i += 1
        elif ch == "]" and depth:
            b.plain.append(")?")
            b.parts.append(")?")
            b.last_literal = None
            depth -= 1
            i += 1
        elif ch.isascii() and ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            _letter(b, ch, j - i, pattern, i, lenient)
            i = j
        else:
            b.lit(ch)
            i += 1
    if depth:
        raise PatternError.at("<date pattern>", "LAYOUT003",
                              f"date pattern '{pattern}': unbalanced '['", 1, n)
    g = b.groups
    if not g & {"H", "h", "k", "K"} and not g & {"D"}:
        raise PatternError.at("<date pattern>", "LAYOUT003",
                              f"date pattern '{pattern}': neither a date nor a time", 1, 1)
    return TimestampFormat(
        pattern=pattern,
        regex="".join(b.plain),
        has_zone=bool(g & {"off", "zid"}),
        parts_regex="^" + "".join(b.parts) + "$",
        zone=zone,
        has_year=bool(g & {"Y", "y2"}),
        has_date=bool(g & {"D"}),
    )


def resolve_named(spec: str, flavor: str) -> str:
    """Map a named format (ISO8601, ABSOLUTE, ...) to its java pattern; others pass through."""
    key = spec.strip()
    if flavor == "logback" and key in LOGBACK_NAMED:
        return LOGBACK_NAMED[key]
    return LOG4J2_NAMED.get(key, key)


ISO_LENIENT = "yyyy-MM-dd'T'HH:mm:ss[.SSS][XXX]"


def iso8601_lenient() -> TimestampFormat:
    """ISO-8601 with optional fraction (1-9 digits) and optional offset, for JSON layouts."""
    return compile_date_pattern(ISO_LENIENT, lenient=True)
