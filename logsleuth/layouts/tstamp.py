"""A catalogue of timestamp shapes for layout inference, each with its matching regex.

Like Elastic's ``find_structure``, every shape is tried where a record could
begin; the one found on most lines wins. A match also yields the exact Java
date pattern of that line (fraction width and separator, ``T``, offset form),
so the inferred layout says ``%d{yyyy-MM-dd'T'HH:mm:ss,SSSXXX}`` rather than
a family name. Shapes whose field order is ambiguous (``17/06/09``) are
settled by the values of the whole sample in ``settle_order``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FRAC = r"(?:(?P<fs>[.,])(?P<f>\d{1,9}))?"
_OFF = r"(?P<off>Z|[+-]\d{2}(?::?\d{2})?)?"


@dataclass(frozen=True, slots=True)
class Stamp:
    """One timestamp found in a line: its shape, Java pattern, span and numeric fields."""

    shape: str
    java: str
    end: int  # offset just after it
    fields: tuple[int, ...] = ()  # the numbers ``settle_order`` needs (ambiguous shapes)


def _frac(m: re.Match[str]) -> str:
    if m.group("f") is None:
        return ""
    return m.group("fs") + "S" * len(m.group("f"))


def _off(m: re.Match[str]) -> str:
    off = m.group("off")
    if not off:
        return ""
    return "X" if off == "Z" or len(off) == 3 else ("XXX" if ":" in off else "XX")


def _iso(m: re.Match[str]) -> str | None:
    ds, t = m.group("ds"), m.group("t")
    if not _valid(int(m.group("mo")), int(m.group("d")), int(m.group("h"))):
        return None
    return (f"yyyy{ds}MM{ds}dd{chr(39) + 'T' + chr(39) if t == 'T' else ' '}HH:mm:ss"
            f"{_frac(m)}{_off(m)}")


def _compact(m: re.Match[str]) -> str | None:
    y = m.group("y")
    if not _valid(int(m.group("mo")), int(m.group("d")), int(m.group("h")),
                  int(m.group("mi")), int(m.group("s"))):
        return None
    sep = "'T'" if m.group("t") == "T" else m.group("t")
    return f"{'y' * len(y)}MMdd{sep}HHmmss{_frac(m)}"


def _dashed(m: re.Match[str]) -> str | None:
    """``20171223-22:15:29:606``: a compact date, then a colon time (millis may follow a
    colon, as in HealthApp's or some C++ loggers' ``HH:mm:ss:SSS``)."""
    if not _valid(int(m.group("mo")), int(m.group("d")), int(m.group("h"))):
        return None
    sep = "'T'" if m.group("t") == "T" else m.group("t")
    return f"yyyyMMdd{sep}HH:mm:ss{_frac(m)}"


def _short(m: re.Match[str]) -> str | None:
    """``17/06/09 20:10:40``: the field order is settled later over all lines."""
    if int(m.group("h")) > 23:
        return None
    ds = m.group("ds")
    y4 = len(m.group("c")) == 4
    return f"{{a}}{ds}{{b}}{ds}{'yyyy' if y4 else '{c}'} HH:mm:ss{_frac(m)}"


def _named(m: re.Match[str]) -> str | None:
    if m.group("mon").lower() not in _MONTHS or not _valid(1, int(m.group("d")),
                                                            int(m.group("h"))):
        return None
    ds = m.group("ds")
    return f"dd{ds}MMM{ds}yyyy HH:mm:ss{_frac(m)}"


def _jul(m: re.Match[str]) -> str | None:
    """java.util.logging SimpleFormatter: ``Nov 26, 2026 1:15:30 PM``."""
    if m.group("mon").lower() not in _MONTHS or int(m.group("h")) > 12:
        return None
    d = "dd" if len(m.group("d")) == 2 else "d"
    h = "hh" if len(m.group("h")) == 2 and m.group("h")[0] == "0" else "h"
    return f"MMM {d}, yyyy {h}:mm:ss a"


def _monthday(m: re.Match[str]) -> str | None:
    """Android logcat's ``03-17 16:13:38.811``: no year (the scan dates it)."""
    if not _valid(int(m.group("mo")), int(m.group("d")), int(m.group("h"))):
        return None
    return f"MM-dd HH:mm:ss{_frac(m)}"


def _syslog(m: re.Match[str]) -> str | None:
    """``Dec 14 06:41:08``: no year (the scan dates it)."""
    if m.group("mon").lower() not in _MONTHS or not _valid(1, int(m.group("d")),
                                                            int(m.group("h"))):
        return None
    return f"MMM dd HH:mm:ss{_frac(m)}"


def _time(m: re.Match[str]) -> str | None:
    """A time of day alone (``%d{HH:mm:ss,SSS}``, ``[%d{HH:mm:ss}]``): the scan dates it."""
    if int(m.group("h")) > 23:
        return None
    return f"HH:mm:ss{_frac(m)}"


def _epoch(m: re.Match[str]) -> str | None:
    digits = m.group("n")
    if len(digits) == 13 and digits[0] == "1":
        return "UNIX_MILLIS"  # 2001-09 to 2033
    return None


def _valid(mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> bool:
    return 1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60


# (shape, regex, java pattern of a match or None when the values do not fit)
_SHAPES: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    ("iso", re.compile(r"(?P<y>\d{4})(?P<ds>[-/.])(?P<mo>\d{2})(?P=ds)(?P<d>\d{2})(?P<t>[T ])"
                       r"(?P<h>\d{2}):\d{2}:\d{2}" + _FRAC + _OFF + r"(?![\d:])"), _iso),
    ("compact", re.compile(r"(?P<y>\d{4}|\d{2})(?P<mo>\d{2})(?P<d>\d{2})(?P<t>[T ])"
                           r"(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})" + _FRAC + r"(?![\d:])"),
     _compact),
    ("dashed", re.compile(r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?P<t>[-T ])"
                          r"(?P<h>\d{2}):\d{2}:\d{2}(?:(?P<fs>[.,:])(?P<f>\d{3}))?(?![\d:])"),
     _dashed),
    ("short", re.compile(r"(?P<a>\d{2})(?P<ds>[-/.])(?P<b>\d{2})(?P=ds)(?P<c>\d{4}|\d{2}) "
                         r"(?P<h>\d{2}):\d{2}:\d{2}" + _FRAC + r"(?![\d:])"), _short),
    ("named", re.compile(r"(?P<d>\d{2})(?P<ds>[- ])(?P<mon>[A-Za-z]{3})(?P=ds)\d{4} "
                         r"(?P<h>\d{2}):\d{2}:\d{2}" + _FRAC + r"(?![\d:])"), _named),
    ("jul", re.compile(r"(?P<mon>[A-Z][a-z]{2}) (?P<d>\d{1,2}), \d{4} (?P<h>\d{1,2}):\d{2}:\d{2} "
                       r"[AP]M(?!\w)"), _jul),
    ("epoch", re.compile(r"(?P<n>\d{13})(?![\d.:])"), _epoch),
    # no year: dated by the scan (engine.timeonly), so they come last
    ("monthday", re.compile(r"(?P<mo>\d{2})-(?P<d>\d{2}) (?P<h>\d{2}):\d{2}:\d{2}" + _FRAC
                            + r"(?![\d:])"), _monthday),
    ("syslog", re.compile(r"(?P<mon>[A-Z][a-z]{2}) (?P<d>\d{2}) (?P<h>\d{2}):\d{2}:\d{2}"
                          + _FRAC + r"(?![\d:])"), _syslog),
    ("time", re.compile(r"(?P<h>\d{2}):\d{2}:\d{2}" + _FRAC + r"(?![\d:])"), _time),
)


_RUN = re.compile(r"([A-Za-z])\1+")


def date_family(java: str) -> str:
    """The date format a layout writes, whatever the widths of its fields on one line.

    Two families at the same place in a file are two layouts (a build tool's
    ``[...10.882688Z] [BUILD]`` lines before Elasticsearch's ``[...15,025][INFO ]``
    records): pooled, they yield a candidate neither writes. Widths alone do not tell
    layouts apart: ``Instant.toString`` drops a fraction's trailing zeros, ``XXX``
    writes ``Z`` at UTC, java.util.logging writes ``Dec 8`` and ``Dec 18``. The
    separators, the ``T`` and whether a fraction or an offset is written do.
    """
    return _RUN.sub(r"\1", java)


def find_stamp(line: str, pos: int) -> Stamp | None:
    """The timestamp starting exactly at ``pos``, if any shape of the catalogue fits."""
    if pos >= len(line) or not line[pos].isalnum():
        return None
    for shape, rx, java in _SHAPES:
        m = rx.match(line, pos)
        if m is None:
            continue
        pattern = java(m)
        if pattern is None:
            continue
        nums: tuple[int, ...] = ()
        if shape == "short":
            nums = (int(m.group("a")), int(m.group("b")), int(m.group("c")))
        return Stamp(shape, pattern, m.end(), nums)
    return None


# field orders for "short" dates, most usual first (Spark/Hadoop write yy/MM/dd)
_ORDERS_YY = (("yy", "MM", "dd"), ("dd", "MM", "yy"), ("MM", "dd", "yy"))
_ORDERS_YYYY = (("dd", "MM"), ("MM", "dd"))
_LIMIT = {"MM": 12, "dd": 31, "yy": 99}


def settle_order(java: str, samples: Sequence[tuple[int, ...]]) -> tuple[str, str]:
    """Fill ``{a}/{b}/{c}`` with the first field order every sample value fits; and why."""
    if "{a}" not in java:
        return java, ""
    four = "{c}" not in java
    orders: Sequence[tuple[str, ...]] = _ORDERS_YYYY if four else _ORDERS_YY
    fits = [order for order in orders
            if all(all(1 <= v <= _LIMIT[f] or (f == "yy" and v == 0)
                       for f, v in zip(order, nums, strict=False)) for nums in samples)]
    order = fits[0] if fits else orders[0]
    why = f"date fields read as {'/'.join(order)}"
    if len(fits) > 1:
        why += f" (the values also fit {', '.join('/'.join(o) for o in fits[1:])})"
    elif not fits:
        why += " (some values are out of range)"
    return java.format(**dict(zip("abc", order, strict=False))), why
