"""JDK 9+ unified logging (``-Xlog:gc*``) for G1, Parallel, Serial, ZGC and Shenandoah.

Event lines are found with one regex over the whole text; it starts with the literal
``GC(`` so ``re`` skips ahead with a fast literal search instead of trying every
line. Only matched event lines (a few percent of a ``gc*`` log) reach Python code,
where their decorations are read and the name is split into phase and cause.
"""

from __future__ import annotations

import functools
import re

from logsleuth.parsers.gc_common import Clock, EventRows, LineCounter, parse_decorations, size_kb

# Greedy to the end of the line (a lazy name with optional tails is 3x slower);
# the lookbehinds keep only lines that end in a heap figure or a duration.
EVENT_RE = re.compile(
    r"GC\((?P<id>\d+)\) (?P<name>(?:[YO]: )?(?:Pause|Concurrent|Garbage Collection"
    r"|Major Collection|Minor Collection|Young Generation|Old Generation|Phase \d"
    r"|Marking Phase|Summary Phase|Adjust Roots|Compaction Phase|Post Compact)[^\r\n]*)"
    r"(?:(?<=[BKMG%]\))|(?<=\dms)|(?<=\ds))\r?$",
    re.M,
)
_SIZE = r"\d+(?:\.\d+)?"
HEAP_RE = re.compile(
    rf"(?P<b>{_SIZE})(?P<bu>[BKMG])(?:\(\d+%\))?->(?P<a>{_SIZE})(?P<au>[BKMG])"
    rf"(?:\((?P<c>{_SIZE})(?P<cu>[BKMG])\)|\(\d+%\))"
)
# ZGC prints the cycle summary without a duration: take it from the gc,start line.
CYCLE_START_RE = re.compile(
    r"GC\((?P<id>\d+)\) (?:Garbage Collection|Major Collection|Minor Collection) "
    r"\((?:[^()\n]|\([^()\n]*\))*\)\r?$",
    re.M,
)
ZGC_CAPACITY_RE = re.compile(
    r"GC\((?P<id>\d+)\)\s+Capacity:\s+(?:\d+[KMG] \(\s*\d+%\)\s+){3}(?P<c>\d+)(?P<cu>[KMG]) "
)
STALL_RE = re.compile(
    r"\] (?P<what>Allocation Stall|Relocation Stall) \((?P<thread>[^)\n]*)\) "
    r"(?P<d>\d+(?:\.\d+)?)ms\r?$",
    re.M,
)
SHENANDOAH_TRIGGER_RE = re.compile(r"\] Trigger: (?P<why>[^\n]*?)\r?$", re.M)
USING_RE = re.compile(
    r"(?:^|\] )Using (G1|Parallel|Serial|The Z Garbage Collector|Shenandoah"
    r"|Concurrent Mark Sweep)\r?$",
    re.M,
)
_USING = {"The Z Garbage Collector": "ZGC", "Concurrent Mark Sweep": "CMS"}

# A line that is not GC logging: no decorations, or a last tag set that is not GC's.
_GC_TAGS = r"(?:gc|safepoint|metaspace|cds|heap|pagesize|trace|debug|info|warning|error)"
BAD_LINE_RE = re.compile(
    r"\n(?:(?=[^\[\s])[^\n]*|[ \t]+\S[^\n]*"
    rf"|(?:\[[^\]\n]*\])*?\[(?!{_GC_TAGS}[\],\s])[a-z][a-z0-9_]*(?:,[a-z0-9_]+)*\s*\] [^\n]*)"
)
# Logs written with -Xlog:...::none carry no decorations: recognise the messages.
BARE_BAD_LINE_RE = re.compile(
    r"\n(?!GC\(\d+\) |Using |Safepoint |Total time for which|Application time:|Heap|Trigger:"
    r"|Allocation Stall|Relocation Stall|Version:|CPUs:|Memory:|Large Page|NUMA|Compressed"
    r"|Min |Initial |Max |Soft Max|Pre-touch|Parallel Workers|Concurrent |Periodic GC"
    r"|Alignments|CDS|Narrow klass|Uncommit|Runtime Workers|Address Space|Mode:|Heuristics"
    r"|Free:|Pacer|\s)[^\n]+"
)

_G1_YOUNG_TYPES = frozenset({"Normal", "Concurrent Start", "Prepare Mixed", "Mixed"})
_CAUSE_BASES = frozenset({
    "Pause Young", "Pause Full", "Pause Mixed", "Pause Initial Mark",
    "Garbage Collection", "Major Collection", "Minor Collection",
})
_CYCLES = ("Garbage Collection", "Major Collection", "Minor Collection",
           "Young Generation", "Old Generation")
PAUSE_KINDS = frozenset({"young", "mixed", "full", "degenerated", "remark", "cleanup",
                         "pause-other"})
_PAREN_RE = re.compile(r" \(((?:[^()]|\([^()]*\))*)\)")


def detect_collector(text: str) -> str | None:
    m = USING_RE.search(text, 0, min(len(text), 1 << 20))
    if m is None:
        return None
    return _USING.get(m.group(1), m.group(1))


def infer_collector(phases: list[str], text_head: str) -> str:
    """Fallback when the ``Using ...`` line was rotated away."""
    joined = "\n".join(phases[:200])
    if "Garbage Collection (" in joined or "Collection (" in joined:
        return "ZGC"
    if "Pause Init Mark" in joined or "Pause Final Update Refs" in joined:
        return "Shenandoah"
    if "Pause Young (Normal)" in joined or "Concurrent Mark Cycle" in joined:
        return "G1"
    for marker, name in (("PSYoungGen", "Parallel"), ("DefNew", "Serial"), ("ParNew", "CMS")):
        if marker in text_head:
            return name
    return "unknown"


@functools.lru_cache(maxsize=4096)
def split_name(name: str) -> tuple[str, str | None, str]:
    """``Pause Young (Normal) (G1 Evacuation Pause)`` -> phase, cause, kind."""
    cut = name.find(" (")
    base = name if cut < 0 else name[:cut]
    plain = base[3:] if base[:3] in ("Y: ", "O: ") else base
    phase, cause = name, None
    if plain in _CAUSE_BASES and cut >= 0:
        # [G1 young type] cause [extras such as JDK 21's (Evacuation Failure: ...)]
        parens = _PAREN_RE.findall(name, cut)
        kept = [parens.pop(0)] if parens and parens[0] in _G1_YOUNG_TYPES else []
        cause = parens.pop(0) if parens else None
        phase = "".join([base, *(f" ({p})" for p in kept + parens)])
    return phase, cause, _kind(plain, phase)


def _kind(plain: str, phase: str) -> str:
    if plain.startswith("Pause"):
        if plain in ("Pause Young", "Pause Initial Mark"):
            return "mixed" if "(Mixed)" in phase else "young"
        if plain == "Pause Mixed":
            return "mixed"
        if plain == "Pause Full":
            return "full"
        if plain.startswith("Pause Degenerated"):
            return "degenerated"
        if plain in ("Pause Remark", "Pause Final Mark", "Pause Mark End"):
            return "remark"
        if plain == "Pause Cleanup":
            return "cleanup"
        return "pause-other"
    if plain.startswith("Concurrent"):
        return "concurrent"
    if plain in _CYCLES:
        return "cycle"
    return "phase"


def split_tail(line: str) -> tuple[str, re.Match[str] | None, float | None]:
    """``Pause Full (System.gc()) 89M->41M(128M) 3.368ms`` -> name, heap match, ms."""
    name, _, last = line.rpartition(" ")
    dur = None
    if last.endswith("s") and last[0].isdigit():
        if last.endswith("ms"):
            dur = float(last[:-2])
        elif last[-2].isdigit():
            dur = float(last[:-1]) * 1000.0
        if dur is not None:
            line = name
            name, _, last = line.rpartition(" ")
    heap = HEAP_RE.fullmatch(last) if "->" in last else None
    return (name if heap else line), heap, dur


def _prefix(text: str, pos: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, pos) + 1
    return start, text[start:pos]


def parse_unified(text: str, rows: EventRows) -> str | None:
    """Append every event of ``text`` to ``rows``; return the collector named in the log."""
    collector = detect_collector(text)
    counter = LineCounter(text)
    starts: dict[int, Clock] = {}
    capacity: dict[int, int | None] = {}
    triggers: list[tuple[int, str]] = []
    # collector-specific side lines: each scan costs a pass over the text, skip if not needed
    if collector in (None, "ZGC"):
        for m in CYCLE_START_RE.finditer(text):
            starts[int(m["id"])] = parse_decorations(_prefix(text, m.start())[1])
        capacity = {int(m["id"]): size_kb(m["c"], m["cu"])
                    for m in ZGC_CAPACITY_RE.finditer(text)}
    if collector in (None, "Shenandoah"):
        triggers = [(m.start(), m["why"]) for m in SHENANDOAH_TRIGGER_RE.finditer(text)]
    t_idx, trigger = 0, None
    for m in EVENT_RE.finditer(text):
        ls, prefix = _prefix(text, m.start())
        clock = parse_decorations(prefix)
        gc_id = int(m["id"])
        name, heap, dur = split_tail(m["name"])
        phase, cause, kind = split_name(name)
        while t_idx < len(triggers) and triggers[t_idx][0] < ls:
            trigger = triggers[t_idx][1]
            t_idx += 1
        if cause is None and trigger is not None and kind != "phase":
            cause = trigger  # Shenandoah names its reason on a Trigger: line before the cycle
        if dur is None and kind == "cycle":
            begin = starts.get(gc_id)
            if begin and begin.uptime_ms is not None and clock.uptime_ms is not None:
                dur = round(clock.uptime_ms - begin.uptime_ms, 3)
        if heap is None:
            before = after = None
            cap = capacity.get(gc_id)
        else:
            before, after = size_kb(heap["b"], heap["bu"]), size_kb(heap["a"], heap["au"])
            cap = size_kb(heap["c"], heap["cu"]) if heap["c"] else capacity.get(gc_id)
        rows.add(counter.line_at(ls), clock, gc_id, kind, phase, cause,
                 dur if kind in PAUSE_KINDS else None, dur, before, after, cap,
                 kind == "full", text[m.start():m.end()].rstrip("\r"))
    if collector not in (None, "ZGC"):
        return collector
    counter = LineCounter(text)
    for m in STALL_RE.finditer(text):
        ls, prefix = _prefix(text, m.start() + 1)
        rows.add(counter.line_at(ls), parse_decorations(prefix), None,
                 "stall", m["what"], None, None, float(m["d"]), None, None, None, False,
                 text[m.start() + 2:m.end()].rstrip("\r"))
    return collector
