"""JDK 8 ``-XX:+PrintGCDetails`` logs (Serial, Parallel, CMS, G1).

Lines look like ``<date>: <uptime>: [GC (cause) [Gen: a->b(c)] a->b(c), d secs]``
with either prefix optional. Generation sub-groups and ``[Times: ...]`` are innermost
bracket groups: removing them leaves the whole-heap figure and the total duration
as the last size and the last ``secs]`` on the line. G1 writes its heap figures on
an indented ``[Eden: ... Heap: ...]`` line after the event line; they are matched
with their own regex and given to the G1 pause just before them.

An event is not always one line. ``-XX:+PrintTenuringDistribution`` and
``-XX:+PrintAdaptiveSizePolicy`` write their lines into the middle of a pause, and
CMS failures go on over the next lines, so an event whose brackets are still open
takes the following lines until they close (``Desired survivor size ...``,
``- age 1: ...``, ``[G1Ergonomics ...]``, ``, 0.0059972 secs]``). Those lines
count as parsed. Another thread may also print a date stamp or a whole concurrent
phase into the middle of an event; stamps are dropped before the event is read and
``[CMS-concurrent-...]`` phases are found wherever they sit.
"""

from __future__ import annotations

import bisect
import re

from logsleuth.parsers.gc_common import (
    TIME_RE,
    Clock,
    EventRows,
    LineCounter,
    iter_line_matches,
    size_kb,
)

_PFX = rf"(?:(?P<date>{TIME_RE}): )?(?:(?P<up>\d+\.\d+): )?(?:#\d+: )?"
# Led by a literal newline, not ^ with re.M: re then only tries line starts (4x faster).
EVENT8_RE = re.compile(rf"\n{_PFX}\[(?P<full>Full GC|GC)(?P<rest>[^\n]*)")
# Anywhere in a line: CMS phases are also printed into the middle of a pause.
CMS_CONC_RE = re.compile(
    r"\[CMS-concurrent-(?P<name>[a-z-]+): (?P<cpu>\d+(?:\.\d+)?)/(?P<wall>\d+(?:\.\d+)?) secs\]"
)
# The clock printed just before a mid-line phase, read backwards from its bracket.
_CLOCK_BEFORE = re.compile(rf"(?:(?P<date>{TIME_RE}): )?(?:(?P<up>\d+\.\d+): )?(?:#\d+: )?$")
# Date/uptime stamps another thread wrote into the middle of an event's text.
_STAMP = re.compile(rf"{TIME_RE}: (?:\d+\.\d+: )?|(?<![\d.])\d+\.\d+: (?=\[)")
_MAX_CONT = 60  # lines an open event may take; beyond that it was cut short
G1_HEAP_RE = re.compile(
    r"\n[ \t]+\[Eden: [^\n]*?Heap: (?P<b>\d+(?:\.\d+)?)(?P<bu>[BKMG])\(\d+(?:\.\d+)?[BKMG]\)"
    r"->(?P<a>\d+(?:\.\d+)?)(?P<au>[BKMG])\((?P<c>\d+(?:\.\d+)?)(?P<cu>[BKMG])\)\]"
)
PREFIX8_RE = re.compile(rf"^{_PFX}")
BAD_LINE8_RE = re.compile(
    rf"\n(?!{TIME_RE}: |\d+\.\d+: |#\d+: |\[|\s|\{{Heap|Heap|\}}|Java HotSpot|OpenJDK"
    r"|Memory: |CommandLine flags: |Total time for which|Application time:"
    r"|(?:Desired survivor size|- age ))(?=[^\n])"
)

_LEAD_PARENS = re.compile(r"\s*\(((?:[^()]|\([^()]*\))*)\)")
_INNER_GROUP = re.compile(r"\[[^\[\]]*\]")
_HEAP8 = re.compile(
    r"(?:(?P<b>\d+(?:\.\d+)?)(?P<bu>[BKMG])(?:\(\d+(?:\.\d+)?[BKMG]\))?->)?"
    r"(?P<a>\d+(?:\.\d+)?)(?P<au>[BKMG])\((?P<c>\d+(?:\.\d+)?)(?P<cu>[BKMG])\)"
)
_SECS = re.compile(r"(\d+(?:\.\d+)?) secs\]")
_BARE_SECS = re.compile(r"^\s*(\d+(?:\.\d+)?)\]")  # `concurrent-root-region-scan-end, 0.19]`
_G1_FLAGS = frozenset({"young", "mixed", "initial-mark", "to-space exhausted",
                       "to-space overflow"})


_FLAGS = (("UseG1GC", "G1"), ("UseConcMarkSweepGC", "CMS"), ("UseParallelOldGC", "Parallel"),
          ("UseParallelGC", "Parallel"), ("UseSerialGC", "Serial"))
_MARKERS = (("[GC pause", "G1"), ("garbage-first heap", "G1"), ("ParNew", "CMS"),
            ("CMS", "CMS"), ("PSYoungGen", "Parallel"), ("ParOldGen", "Parallel"),
            ("PSOldGen", "Parallel"), ("DefNew", "Serial"), ("Tenured", "Serial"))


def detect_collector8(head: str) -> str:
    """The collector from ``CommandLine flags: -XX:+Use...`` or else from generation names."""
    flags = next((ln for ln in head.splitlines() if ln.startswith("CommandLine flags:")), "")
    for marker, name in _FLAGS:
        if f"+{marker}" in flags:
            return name
    return next((name for marker, name in _MARKERS if marker in head), "unknown")


def clock8(date: str | None, up: str | None) -> Clock:
    return Clock(time=date, uptime_ms=float(up) * 1000.0 if up else None)


def _classify(full: bool, rest: str) -> tuple[str, str, str | None, str] | None:
    """Return kind, phase, cause and the remaining text; None for ``-start`` lines."""
    if full:
        parens = _lead(rest)
        return "full", "Pause Full", (parens[0][0] if parens else None), _tail(rest, parens)
    if rest.startswith(" concurrent-"):
        name, _, after = rest[12:].partition(",")
        if not name.endswith("-end"):
            return None  # -start / -abort markers carry no duration
        return "concurrent", f"Concurrent {name[:-4]}", None, after
    for word, kind, phase in ((" remark", "remark", "Pause Remark"),
                              (" cleanup", "cleanup", "Pause Cleanup")):
        if rest.startswith(word):
            return kind, phase, None, rest[len(word):]
    g1 = rest.startswith(" pause")
    if g1:
        rest = rest[6:]
    parens = _lead(rest)
    names = [p for p, _ in parens]
    tail = _tail(rest, parens)
    if g1:
        flags = [p for p in names if p in _G1_FLAGS]
        cause = next((p for p in names if p not in _G1_FLAGS), None)
        if "mixed" in flags:
            return "mixed", "Pause Young (Mixed)", cause, tail
        sub = "Concurrent Start" if "initial-mark" in flags else "Normal"
        return "young", f"Pause Young ({sub})", cause, tail
    if names and names[0] == "CMS Initial Mark":
        return "pause-other", "Pause Initial Mark", None, tail
    if names and names[0] == "CMS Final Remark":
        return "remark", "Pause Remark", None, tail
    return "young", "Pause Young", (names[0] if names else None), tail


def _lead(rest: str) -> list[tuple[str, int]]:
    out, pos = [], 0
    while (m := _LEAD_PARENS.match(rest, pos)) is not None:
        out.append((m.group(1), m.end()))
        pos = m.end()
    return out


def _tail(rest: str, parens: list[tuple[str, int]]) -> str:
    return rest[parens[-1][1]:] if parens else rest


def parse_jdk8(text: str, rows: EventRows) -> list[int]:
    """Append every JDK 8 GC event of ``text`` to ``rows``.

    Returns the start offsets of the lines that continued an event (they are part
    of it, not unparsed).
    """
    counter = LineCounter(text)
    g1_pending: list[tuple[int, int]] = []  # (text offset, row index) of G1 pauses w/o heap
    consumed: list[int] = []
    for ls, m in iter_line_matches(EVENT8_RE, text):
        rest = m["rest"].rstrip("\r")
        le = ls + len(m[0]) - 1  # the pattern spans the whole line after its newline
        if _depth(rest) > -1:  # `[GC` still open: the event goes on over the next lines
            rest, used = _continuation(text, le, rest)
            consumed.extend(used)
        got = _classify(m["full"] == "Full GC", _STAMP.sub("", rest))
        if got is None:
            continue
        kind, phase, cause, tail = got
        if "concurrent mode failure" in tail:  # CMS gave up: the pause became a full GC
            kind, phase, cause = "full", "Pause Full", cause or "concurrent mode failure"
        flat = _flatten(tail)
        heaps = list(_HEAP8.finditer(flat))
        secs = _SECS.findall(flat) or (_BARE_SECS.findall(flat) if kind == "concurrent" else [])
        if not secs:
            continue  # cut short: every complete JDK 8 event ends in ", <d> secs]"
        dur = float(secs[-1]) * 1000.0
        h = heaps[-1] if heaps else None
        idx = len(rows.line)
        rows.add(counter.line_at(ls), clock8(m["date"], m["up"]), None, kind, phase,
                 cause, None if kind == "concurrent" else dur, dur,
                 size_kb(h["b"], h["bu"]) if h else None, size_kb(h["a"], h["au"]) if h else None,
                 size_kb(h["c"], h["cu"]) if h else None, kind == "full",
                 text[ls:le].rstrip("\r"))
        if h is None and phase.startswith("Pause Young ("):
            g1_pending.append((ls, idx))
    _attach_g1_heaps(text, rows, g1_pending)
    _cms_phases(text, rows)
    return consumed


def _depth(rest: str) -> int:
    """Brackets still open after ``[GC``/``[Full GC`` + ``rest`` (the event's own is -1)."""
    return rest.count("[") - rest.count("]")


def _continuation(text: str, le: int, rest: str) -> tuple[str, list[int]]:
    """Join the lines after an open event until its brackets close.

    Lines that are events of their own (another thread's concurrent phase) are
    left to be read as such and skipped here.
    """
    used: list[int] = []
    depth = _depth(rest)
    pos = le + 1
    for _ in range(_MAX_CONT):
        if depth < 0 or pos >= len(text):
            break
        nxt = text.find("\n", pos)
        nxt = len(text) if nxt < 0 else nxt
        line = text[pos:nxt].rstrip("\r")
        if not line.strip():
            break
        if EVENT8_RE.match("\n" + line) is None:
            rest += line
            depth += _depth(line)
            used.append(pos)
        pos = nxt + 1
    return rest, used


def _cms_phases(text: str, rows: EventRows) -> None:
    counter = LineCounter(text)
    for m in CMS_CONC_RE.finditer(text):
        ls = text.rfind("\n", 0, m.start()) + 1
        before = _CLOCK_BEFORE.search(text, max(ls, m.start() - 64), m.start())
        assert before is not None  # both groups are optional: it always matches
        wall = float(m["wall"]) * 1000.0
        rows.add(counter.line_at(ls), clock8(before["date"], before["up"]), None, "concurrent",
                 f"Concurrent {m['name']}", None, None, wall, None, None, None, False,
                 text[before.start():m.end()])


def _flatten(tail: str) -> str:
    """Remove generation groups, nested timestamps' groups and ``[Times: ...]``."""
    while True:
        stripped = _INNER_GROUP.sub("", tail)
        if stripped == tail:
            return tail
        tail = stripped


def _attach_g1_heaps(text: str, rows: EventRows, pending: list[tuple[int, int]]) -> None:
    if not pending:
        return
    offsets = [p for p, _ in pending]
    for m in G1_HEAP_RE.finditer(text):
        k = bisect.bisect_left(offsets, m.start()) - 1
        if k < 0:
            continue
        i = pending[k][1]
        if rows.after[i] is None:
            rows.before[i] = size_kb(m["b"], m["bu"])
            rows.after[i] = size_kb(m["a"], m["au"])
            rows.capacity[i] = size_kb(m["c"], m["cu"])
