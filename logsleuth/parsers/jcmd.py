"""Saved ``jcmd PID <command>`` output: facts about the JVM, kept beside its logs.

``jcmd`` prints the target's ``PID:`` on a line of its own, then the command's
answer. People save ``VM.uptime -date``, ``VM.flags``, ``VM.command_line``,
``VM.system_properties`` and ``GC.heap_info`` with the evidence (often several
appended to one file). Read as an app log, such a file gave a ``layout-uncertain``
warning and unparsed lines. Here each ``PID:`` section is recognised by its command's
known shape and counted as read; what it states is used where the evidence is
already read for it: the ceilings its flags state (``-XX:MaxDirectMemorySize``,
``-Xmx``/``MaxHeapSize``, ``MaxMetaspaceSize``) by ``timeline.ceilings.limits_from_heads``
through the built-in limit definitions, and the JVM start ``VM.uptime -date`` states
by ``engine.startanchor``. A section of another command is counted as unparsed.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from logsleuth.model import EvidenceResult, Kind

_PID = re.compile(r"^\d{1,10}:\s*$")
# the first line of each command's answer (jdk 11-21 HotSpot)
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("VM.uptime", re.compile(r"^(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[.\d]*[+-]\d{4}: )?"
                             r"\d+\.\d+ s\s*$")),
    ("VM.flags", re.compile(r"^-XX:[+-]?\w+(?:=\S*)?(?: -XX:[+-]?\w+(?:=\S*)?)*\s*$")),
    ("VM.command_line", re.compile(r"^VM Arguments:\s*$")),
    ("VM.system_properties", re.compile(r"^#\w{3} \w{3} [ \d]\d \d{2}:\d{2}:\d{2} \S+ \d{4}\s*$")),
    ("GC.heap_info", re.compile(r"^ \S[^\n]* heap\s+total \d+K, used \d+K")),
)


def command_of(first: str) -> str | None:
    """The jcmd command whose answer starts with ``first`` (None: not one known)."""
    return next((name for name, rx in SHAPES if rx.match(first)), None)


def sections(lines: list[str]) -> list[tuple[int, int, str | None]]:
    """(first line index, end index, command) of each ``PID:`` section; lines before
    the first header are a section of no command."""
    starts = [i for i, ln in enumerate(lines) if _PID.match(ln)]
    out: list[tuple[int, int, str | None]] = []
    if not starts or starts[0] > 0:
        out.append((0, starts[0] if starts else len(lines), None))
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        body = next((ln for ln in lines[s + 1:end] if ln.strip()), "")
        out.append((s, end, command_of(body)))
    return out


def sniff_jcmd(text: str) -> bool:
    """A ``PID:`` line first, and the answer of a known command after it."""
    lines = text.lstrip("\ufeff\r\n").splitlines()
    if not lines or not _PID.match(lines[0]):
        return False
    return all(cmd is not None for _, _, cmd in sections(lines))


def parse_jcmd(data: bytes, source: str, *,
               default_tz: str | tzinfo | None = None) -> EvidenceResult:
    """Every line of a known command's section is read; the facts are read elsewhere
    (see the module note), so no table of its own."""
    del default_tz  # VM.uptime -date states its offset
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    res = EvidenceResult(source=source, kind=Kind.JVM_INFO, lines=len(lines))
    seen: list[str] = []
    for start, end, cmd in sections(lines):
        if cmd is None:
            res.unparsed_lines += end - start
            res.unparsed_samples.extend((i + 1, lines[i]) for i in range(start, end)
                                        if len(res.unparsed_samples) < 5)
        else:
            res.parsed_lines += end - start
            seen.append(cmd)
    if seen:
        res.notes.append("jcmd output: " + ", ".join(dict.fromkeys(seen)))
    return res
