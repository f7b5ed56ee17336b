"""Decide what an input file is from its first few KB, and map typed rows to Records.

Names lie (``app.log`` holding a GC log, ``dump.txt`` holding nginx lines), so
``classify`` reads content only; ``KindOverrides`` is how a user corrects it
(``--kind 'legacy/*.out=gc-log'``). Each kind is recognised by the share of
lines that fit its shape, so a few odd lines (a banner, a kill -3 dump inside a
console log) do not flip the answer.

Also home to two helpers shared by the structured parsers: ``resolve_tz`` and
``rows_to_records`` (typed table rows as kind-tagged ``Record`` objects for rules).
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from logsleuth.errors import PatternError
from logsleuth.model import Kind, Record

# A dump from its first line: HotSpot/SAP text (after a console prompt, a jcmd `<pid>:`
# line and a time), an OpenJ9 javacore (tagged lines), or a JDK 21 JSON dump.
_TD_TOP = re.compile(
    r'^(?:[^\n]{0,200}(?:jstack|jcmd)[^\n]*\n)?(?:\d+:\s*\n)?'
    r'(?:(?:Thread dump triggered at )?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s*\n)?'
    r'(?:Full thread dump |Thread Dump for PID \d+\s*\n'
    r'|"[^"\n]*" [^\n]*(?:tid=0x|cpu=[\d.]+ \[reset |Id=\d+ (?:in )?[A-Z_]+))'
    r'|^(?:NULL {3,}|0SECTION {3,}|1TI[A-Z]+ +|1LKDEADLOCK +|3XMTHREADINFO +)'
    r'|^\{\s*"threadDump"\s*:')
_NGINX_ACCESS = re.compile(  # an X-Forwarded-For chain may come before the address
    r'^(?:"[^"\n]*" |[^\s,"]+(?:, [^\s,]+)*(?:, | ))?'
    r'\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "', re.M)
_NGINX_ERROR = re.compile(
    r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[(?:debug|info|notice|warn|error|crit|alert|emerg)\] "
    r"\d+#\d+: ", re.M)
_GC = re.compile(
    r"^(?:\[[^\]\n]*\])+?\[gc[\w,\s]*\]"  # JDK 9+ unified logging: [..][info][gc,heap]
    r"|^(?:\S+: )*\[(?:GC|Full GC)[ (]"  # JDK 8: 2026-..: 1.234: [GC (Allocation Failure)
    r"|^(?:Java HotSpot|OpenJDK \d\d-Bit).*VM \(|^Memory: \d+k page|^CommandLine flags: ", re.M)
# An app-log record header: a date/time first (ISO, log4j default, syslog-ish) or a
# level first, or a JSON object line; plus the continuation lines of stack traces.
_APP = re.compile(
    r"^(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\[?\d{2}:\d{2}:\d{2}[.,]\d{3}"
    r"|\[?\d{2}/\w{3}/\d{4}[: ]\d{2}:|\w{3} \d{1,2}, \d{4} \d|\w{3} [ \d]\d \d{2}:\d{2}:\d{2}"
    r"|[^\n]{0,80}?\b(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)\b"
    r"|\{\s*\"|\s+at \S|\s+\.\.\. \d+ (?:more|common)|Caused by: |\S+(?:Exception|Error)\b)",
    re.M)

# Pretty-printed JSON events (log4j2 JsonLayout without ``compact``): lines of members
# and braces, with a time key and a level key among them (a JSON config file has not).
_JSON_LINE = re.compile(r'^\s*(?:"[^"\n]{1,100}"\s*:|[\[\]{},]+\s*$|\{\s*"|"[^\n]*"\s*,?\s*$)',
                        re.M)
_JSON_LOG_KEYS = (re.compile(r'"(?:@?timestamp|timeMillis|instant|time|ts)"\s*:'),
                  re.compile(r'"(?:level|severity|log\.level|loglevel)"\s*:'))


def _json_log(text: str, n: int) -> bool:
    return _share(_JSON_LINE, text, n) >= 0.8 and all(k.search(text) for k in _JSON_LOG_KEYS)


def _share(rx: re.Pattern[str], text: str, n: int) -> float:
    return len(rx.findall(text)) / n if n else 0.0


def _sniff_gc(head: bytes, text: str, n: int) -> bool:
    """Prefer the GC parser's own sniffer when that module exists."""
    try:
        gc = importlib.import_module("logsleuth.parsers.gc")
    except ImportError:
        gc = None
    sniff = getattr(gc, "sniff_gc_log", None)
    if callable(sniff):
        try:
            return bool(sniff(text))
        except TypeError:  # a bytes-based sniffer
            return bool(sniff(head))
    return _share(_GC, text, n) >= 0.3


# a record header that no GC log line has: a date (or time) first, not in brackets, then
# a blank (JDK 8's GC lines put a colon after theirs: "2026-...T03:10:00.100+0100: 5.1: [")
_APP_HEADER = re.compile(r"^(?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
                         r"(?:Z|[+-]\d\d:?\d\d)?[ \t]", re.M)


def _console(text: str) -> bool:
    """A console capture: the JVM's -Xlog lines between more app-log records than there
    are GC lines (a container's stdout); the app log is then the file's kind, and its GC
    lines are read from the records that carry them (engine.embeddedgc)."""
    records = len(_APP_HEADER.findall(text))
    return records >= 5 and records > len(_GC.findall(text))


def _without_dumps(text: str) -> str:
    """Drop kill -3 dumps printed into a console log: they say nothing about its kind."""
    if "Full thread dump " not in text:
        return text
    from logsleuth.parsers.jstack import find_dumps  # jstack imports this module

    lines = text.split("\n")
    for a, b in reversed(find_dumps(text)):
        del lines[a:b]
    return "\n".join(lines)


def classify(head: bytes, *, name: str = "") -> Kind:
    """The kind of a file from its first few KB (``name`` is only for diagnostics)."""
    del name  # content decides; the name is accepted so callers can pass it uniformly
    if not head:
        return Kind.UNKNOWN
    head = head.replace(b"\x00", b"")  # binary files were skipped by discovery already
    text = head.decode("utf-8", errors="replace")
    if "\n" in text and len(head) >= 4096:
        text = text[: text.rindex("\n")]  # drop a cut-off last line
    text = text.lstrip("\ufeff")
    if _TD_TOP.match(text.lstrip("\r\n")):
        return Kind.THREAD_DUMP
    text = _without_dumps(text)
    n = sum(1 for ln in text.splitlines() if ln.strip())
    if _share(_NGINX_ACCESS, text, n) >= 0.5:
        return Kind.NGINX_ACCESS
    if _share(_NGINX_ERROR, text, n) >= 0.5:
        return Kind.NGINX_ERROR
    if _sniff_gc(head, text, n) and not _console(text):
        return Kind.GC_LOG
    if _share(_APP, text, n) >= 0.5 or _json_log(text, n):
        return Kind.APP_LOG
    from logsleuth.parsers.traceshape import has_trace_evidence

    if has_trace_evidence(text):  # a pasted trace or LEAK report amid other text
        return Kind.APP_LOG
    return Kind.UNKNOWN


@dataclass(frozen=True, slots=True)
class KindOverrides:
    """``--kind GLOB=KIND`` rules; the first glob that matches a path wins.

    A glob containing ``/`` matches the whole path relative to the scan root,
    otherwise the file name only. Validated when parsed, so a typo fails the scan
    before any file is read.
    """

    rules: tuple[tuple[str, Kind], ...] = ()

    @classmethod
    def parse(cls, specs: Sequence[str], *, origin: str = "--kind") -> KindOverrides:
        """Parse option values; errors locate the option (line = its index, 1-based)."""
        rules: list[tuple[str, Kind]] = []
        valid = ", ".join(k.value for k in Kind)
        for i, spec in enumerate(specs, start=1):
            glob, eq, kind = spec.rpartition("=")
            if not eq or not glob.strip():
                raise PatternError.at(origin, "LS-KIND", f"expected GLOB=KIND, got {spec!r}",
                                      line=i, column=1)
            try:
                rules.append((glob.strip(), Kind(kind.strip().lower())))
            except ValueError:
                raise PatternError.at(origin, "LS-KIND",
                                      f"unknown kind {kind.strip()!r} (expected one of {valid})",
                                      line=i, column=len(glob) + 2) from None
        return cls(tuple(rules))

    def lookup(self, path: str) -> Kind | None:
        path = path.replace("\\", "/")
        base = path.rsplit("/", 1)[-1]
        for glob, kind in self.rules:
            if fnmatch.fnmatchcase(path if "/" in glob else base, glob):
                return kind
        return None


def resolve_tz(tz: str | tzinfo | None) -> tzinfo | None:
    """``"Europe/Berlin"``, ``"UTC"``, ``"+01:00"``/``"+0100"`` or a tzinfo; None stays None."""
    if tz is None or isinstance(tz, tzinfo):
        return tz
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", tz.strip())
    if m:
        sign = -1 if m[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(m[2]), minutes=int(m[3])))
    if tz.strip().upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise PatternError.at("--tz", "LS-TZ", f"unknown time zone {tz!r}") from None


def rows_to_records(table: pa.Table, *, kind: Kind, message: Callable[[Mapping[str, object]], str],
                    fields: Sequence[str], level: str | None = None,
                    thread: str | None = None) -> Iterator[Record]:
    """Rows of a typed table as ``Record`` objects a rules engine can match.

    ``fields`` columns become ``Record.fields`` as strings (numbers printed
    plainly, lists comma-joined, nulls left out). Per-row Python: filter the table
    first (e.g. 5xx requests, BLOCKED threads) when it is large.
    """
    for row in table.to_pylist():
        ts = row.get("ts")
        msg = message(row)
        yield Record(
            source=str(row["source"]), line=int(row.get("line") or 0), n_lines=1,
            ts_ms=_epoch_ms(ts), level=None if level is None else row.get(level),
            thread=None if thread is None else row.get(thread), logger=None,
            message=msg, text=msg, kind=kind,
            fields={c: _str(row[c]) for c in fields if row.get(c) is not None},
        )


def _epoch_ms(ts: object) -> int | None:
    if not isinstance(ts, datetime):
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1000)


def _str(v: object) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
