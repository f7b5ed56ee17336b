"""JDK 8 ``-XX:+PrintGCDetails`` logs (Serial, Parallel, CMS, G1).

Lines look like ``<date>: <uptime>: [GC (cause) [Gen: a->b(c)] a->b(c), d secs]``
with either prefix optional. Generation sub-groups and ``[Times: ...]`` are innermost
bracket groups: removing them leaves the whole-heap figure and the total duration
as the last size and the last ``secs]`` on the line. G1 writes its heap figures on
an indented ``[Eden: ... Heap: ...]`` line after the event line; they are matched
with their own regex and given to the G1 pause just before them.
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
CMS_CONC_RE = re.compile(
    rf"\n{_PFX}\[CMS-concurrent-(?P<name>[a-z-]+): (?P<cpu>[\d.]+)/(?P<wall>[\d.]+) secs\]"
)
G1_HEAP_RE = re.compile(
    r"\n[ \t]+\[Eden: [^\n]*?Heap: (?P<b>[\d.]+)(?P<bu>[BKMG])\([\d.]+[BKMG]\)"
    r"->(?P<a>[\d.]+)(?P<au>[BKMG])\((?P<c>[\d.]+)(?P<cu>[BKMG])\)\]"
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
    r"(?:(?P<b>[\d.]+)(?P<bu>[BKMG])(?:\([\d.]+[BKMG]\))?->)?"
    r"(?P<a>[\d.]+)(?P<au>[BKMG])\((?P<c>[\d.]+)(?P<cu>[BKMG])\)"
)
_SECS = re.compile(r"([\d.]+) secs\]")
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


def parse_jdk8(text: str, rows: EventRows) -> None:
    """Append every JDK 8 GC event of ``text`` to ``rows``."""
    counter = LineCounter(text)
    g1_pending: list[tuple[int, int]] = []  # (text offset, row index) of G1 pauses w/o heap
    for ls, m in iter_line_matches(EVENT8_RE, text):
        rest = m["rest"].rstrip("\r")
        le = ls + len(m[0]) - 1  # the pattern spans the whole line after its newline
        got = _classify(m["full"] == "Full GC", rest)
        if got is None:
            continue
        kind, phase, cause, tail = got
        flat = _flatten(tail)
        if not _SECS.search(flat):  # CMS failure reports go on over the next line
            nxt = text.find("\n", le + 1)
            cont = text[le + 1: nxt if nxt >= 0 else len(text)].rstrip("\r")
            if cont[:1].isspace():
                tail += cont
                flat = _flatten(tail)
                if "concurrent mode failure" in cont:
                    kind, phase = "full", "Pause Full"
        heaps = list(_HEAP8.finditer(flat))
        secs = _SECS.findall(flat)
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
    counter = LineCounter(text)
    for ls, m in iter_line_matches(CMS_CONC_RE, text):
        wall = float(m["wall"]) * 1000.0
        rows.add(counter.line_at(ls), clock8(m["date"], m["up"]), None, "concurrent",
                 f"Concurrent {m['name']}", None, None, wall, None, None, None, False,
                 m[0][1:])


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
