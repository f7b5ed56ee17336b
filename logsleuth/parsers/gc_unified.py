"""JDK 9+ unified logging (``-Xlog:gc*``) for G1, Parallel, Serial, ZGC and Shenandoah.

Event lines are found with one regex over the whole text; it starts with the literal
``GC(`` so ``re`` skips ahead with a fast literal search instead of trying every
line. Python touches each event line once (its offset and three strings); the
decorations, sizes and durations of all events are then extracted together with
Arrow's RE2 kernels, and names are split into phase/cause/kind once per distinct name.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.parsers.gc_columns import Clocks, EventColumns, sizes_kb, to_number
from logsleuth.parsers.gc_common import (
    EventRows,
    LineCounter,
    line_start_matches,
    parse_decorations,
    size_kb,
)

# Greedy to the end of the line (a lazy name with optional tails is 3x slower);
# the lookbehinds keep only lines that end in a heap figure or a duration.
EVENT_RE = re.compile(
    r"(?P<msg>GC\((?P<id>\d+)\) (?P<name>(?:[YO]: )?(?:Pause|Concurrent|Garbage Collection"
    r"|Major Collection|Minor Collection|Young Generation|Old Generation|Phase \d"
    r"|Marking Phase|Summary Phase|Adjust Roots|Compaction Phase|Post Compact)[^\r\n]*))"
    r"(?:(?<=[BKMG%]\))|(?<=\dms)|(?<=\ds))\r?$",
    re.M,
)
_SIZE = r"\d+(?:\.\d+)?"
# Applied to all event names at once (RE2 via Arrow): name, heap figure, duration.
TAIL_RE = (
    rf"^(?P<name>.*?)(?: (?P<b>{_SIZE})(?P<bu>[BKMG])(?:\(\d+%\))?->(?P<a>{_SIZE})(?P<au>[BKMG])"
    rf"(?:\((?P<c>{_SIZE})(?P<cu>[BKMG])\)|\(\d+%\)))?(?: (?P<d>{_SIZE})(?P<du>ms|s))?$"
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
# ZGC names each OutOfMemoryError it throws, and the thread ("Out Of Memory (main)"); not
# gc,stats' counter row "Memory: Out Of Memory  0 / 0 ..."
ZGC_OOM_RE = re.compile(r"\] (?P<what>Out Of Memory) \((?P<thread>[^)\n]*)\)\r?$", re.M)
SHENANDOAH_TRIGGER_RE = re.compile(r"\] Trigger: (?P<why>[^\n]*?)\r?$", re.M)
USING_RE = re.compile(
    r"(?:^|\] )Using (G1|Parallel|Serial|The Z Garbage Collector|Shenandoah"
    r"|Concurrent Mark Sweep)\r?$",
    re.M,
)
_USING = {"The Z Garbage Collector": "ZGC", "Concurrent Mark Sweep": "CMS"}

# A line that is not GC logging: no decorations, or a last tag set that is not GC's.
# Two cheap scans: lines not led by a decoration (or led by a foreign tag set), then
# "][tags] " candidates anywhere, kept when everything before them is decorations.
# `os,cpu` is in the -Xlog:gc*,safepoint,os+cpu set GC tools ask for: the CPU line.
_GC_TAGS = (r"(?:gc|safepoint|metaspace|cds|heap|pagesize|trace|debug|info|warning|error"
            r"|os,cpu)")
_TAG_TOKEN = rf"(?!{_GC_TAGS}[\],\s])[a-z][a-z0-9_]*(?:,[a-z0-9_]+)*\s*\] "
BAD_START_RE = re.compile(rf"\n(?:(?=[^\[\s])|[ \t]+\S|\[{_TAG_TOKEN})")
FOREIGN_TAGS_RE = re.compile(rf"\]\[{_TAG_TOKEN}")
_DECORATIONS = re.compile(r"(?:\[[^\]\n]*\])+")


def bad_line_starts(text: str) -> list[int]:
    """Offsets of the lines of a decorated unified log that are not GC logging."""
    starts = line_start_matches(text, BAD_START_RE)
    for m in FOREIGN_TAGS_RE.finditer(text):
        ls = text.rfind("\n", 0, m.start()) + 1
        if _DECORATIONS.fullmatch(text, ls, m.start() + 1):
            starts.append(ls)
    return sorted(set(starts))


# Logs written with -Xlog:...::none carry no decorations: recognise the messages.
BARE_BAD_LINE_RE = re.compile(
    r"\n(?!GC\(\d+\) |Using |Safepoint |Total time for which|Application time:|Heap|Trigger:"
    r"|Allocation Stall|Relocation Stall|Version:|CPUs:|Memory:|Large Page|NUMA|Compressed"
    r"|Min |Initial |Max |Soft Max|Pre-touch|Parallel Workers|Concurrent |Periodic GC"
    r"|Alignments|CDS|Narrow klass|Uncommit|Runtime Workers|Address Space|Mode:|Heuristics"
    r"|Free:|Pacer|\s)(?=[^\n])"
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
    seen = set(phases[:500])
    if seen & {"Garbage Collection", "Major Collection", "Minor Collection"}:
        return "ZGC"
    if any(p.startswith(("Pause Init Mark", "Pause Final Update Refs")) for p in seen):
        return "Shenandoah"
    if seen & {"Pause Young (Normal)", "Pause Young (Concurrent Start)", "Concurrent Mark Cycle"}:
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


def _prefix(text: str, pos: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, pos) + 1
    return start, text[start:pos]


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of ascending text offsets (one count over the text)."""
    out, line, prev = [], 1, 0
    for pos in offsets:
        line += text.count("\n", prev, pos)
        prev = pos
        out.append(line)
    return out


def parse_unified(text: str) -> tuple[EventColumns, str | None]:
    """Every event of ``text`` as columns, and the collector the log names.

    Python touches each event line once (offsets and three strings); decorations,
    sizes, durations and name splitting are vectorised afterwards.
    """
    collector = detect_collector(text)
    line_starts: list[int] = []
    prefixes: list[str] = []
    ids: list[str] = []
    names: list[str] = []
    messages: list[str] = []
    rfind = text.rfind
    for m in EVENT_RE.finditer(text):
        msg, gc_id, name = m.group("msg", "id", "name")
        start = m.start()
        ls = rfind("\n", 0, start) + 1
        line_starts.append(ls)
        prefixes.append(text[ls:start])
        ids.append(gc_id)
        names.append(name)
        messages.append(msg)
    events = _columns(names, ids, messages, _line_numbers(text, line_starts),
                      Clocks.from_prefixes(pa.array(prefixes, pa.string())))
    if collector in (None, "ZGC"):
        _zgc_extras(text, events)
        stalls = _stalls(text)
        if stalls.line:
            events = events.concat(EventColumns.from_rows(stalls))
    if collector in (None, "Shenandoah"):
        _shenandoah_causes(text, events, line_starts)
    return events, collector


def _columns(names: list[str], ids: list[str], messages: list[str], lines: list[int],
             clocks: Clocks) -> EventColumns:
    tail = pc.extract_regex(pa.array(names, pa.string()), TAIL_RE)
    f = {k: pc.struct_field(tail, k) for k in ("name", "b", "bu", "a", "au", "c", "cu", "d", "du")}
    base = f["name"].dictionary_encode()
    split = [split_name(n) for n in base.dictionary.to_pylist()]
    phase, cause, kind = (pc.take(pa.array([t[i] for t in split], pa.string()), base.indices)
                          for i in range(3))
    dur = pc.multiply(to_number(f["d"]), pc.if_else(pc.equal(f["du"], "s"), 1000.0, 1.0))
    is_pause = pc.is_in(kind, value_set=pa.array(sorted(PAUSE_KINDS)))
    cols = {
        "line": pa.array(lines, pa.int64()),
        "gc_id": to_number(pa.array(ids, pa.string()), pa.int64()),
        "kind": kind, "phase": phase, "cause": cause,
        "pause_ms": pc.if_else(is_pause, dur, pa.scalar(None, pa.float64())),
        "duration_ms": dur,
        "heap_before_kb": sizes_kb(f["b"], f["bu"]),
        "heap_after_kb": sizes_kb(f["a"], f["au"]),
        "heap_capacity_kb": sizes_kb(f["c"], f["cu"]),
        "is_full": pc.equal(kind, "full"),
        "message": pa.array(messages, pa.string()),
    }
    return EventColumns(cols, clocks)


def _zgc_extras(text: str, events: EventColumns) -> None:
    """ZGC cycle summaries lack a duration (taken from their gc,start line) and a capacity."""
    starts: dict[int, float | None] = {}
    for m in CYCLE_START_RE.finditer(text):
        starts[int(m["id"])] = parse_decorations(_prefix(text, m.start())[1]).uptime_ms
    capacity = {int(m["id"]): size_kb(m["c"], m["cu"]) for m in ZGC_CAPACITY_RE.finditer(text)}
    cols = events.columns
    if capacity:
        keys = pa.array(list(capacity), pa.int64())
        looked_up = pc.take(pa.array(list(capacity.values()), pa.int64()),
                            pc.index_in(cols["gc_id"], value_set=keys))
        cols["heap_capacity_kb"] = pc.coalesce(cols["heap_capacity_kb"], looked_up)
    if not starts:
        return
    kinds = cols["kind"].to_pylist()
    durations = cols["duration_ms"].to_pylist()
    ids = cols["gc_id"].to_pylist()
    uptimes = events.clocks.uptime_ms.to_pylist()
    for i, kind in enumerate(kinds):
        begin = starts.get(ids[i]) if kind == "cycle" and durations[i] is None else None
        if begin is not None and uptimes[i] is not None:
            durations[i] = round(uptimes[i] - begin, 3)
    cols["duration_ms"] = pa.array(durations, pa.float64())


def _stalls(text: str) -> EventRows:
    """ZGC's allocation and relocation stalls, and the OutOfMemoryErrors it throws when a
    stalled allocation cannot be satisfied (kind ``oom``: the heap OOM, stated by the GC
    log, which is all the evidence has when the application could not log it)."""
    rows = EventRows()
    counter = LineCounter(text)
    found = [(m, "stall") for m in STALL_RE.finditer(text)]
    if "Out Of Memory (" in text:
        found += [(m, "oom") for m in ZGC_OOM_RE.finditer(text)]
        found.sort(key=lambda f: f[0].start())
    for m, kind in found:
        ls, prefix = _prefix(text, m.start() + 1)
        rows.add(counter.line_at(ls), parse_decorations(prefix), None,
                 kind, m["what"], None, None, float(m["d"]) if kind == "stall" else None,
                 None, None, None, False, text[m.start() + 2:m.end()].rstrip("\r"))
    return rows


def _shenandoah_causes(text: str, events: EventColumns, line_starts: list[int]) -> None:
    """Shenandoah names a cycle's reason on a ``Trigger:`` line before it."""
    triggers = [(m.start(), m["why"]) for m in SHENANDOAH_TRIGGER_RE.finditer(text)]
    if not triggers or not line_starts:
        return
    cols = events.columns
    n = len(line_starts)
    which = np.searchsorted(np.array([p for p, _ in triggers]), np.array(line_starts)) - 1
    why = pa.array([None] + [w for _, w in triggers], pa.string())
    trig = pc.take(why, pa.array(which + 1))
    kinds = cols["kind"].slice(0, n)
    use = pc.and_(pc.is_null(cols["cause"].slice(0, n)), pc.not_equal(kinds, "phase"))
    filled = pc.if_else(use, trig, cols["cause"].slice(0, n))
    cols["cause"] = pa.concat_arrays([filled, cols["cause"].slice(n)])
