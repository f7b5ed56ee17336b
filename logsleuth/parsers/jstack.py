"""Thread dumps (jstack, ``jcmd Thread.print``, kill -3) into typed tables.

HotSpot has printed the same line grammar since JDK 6 with small additions
(``#N`` and ``os_prio`` in 8, ``cpu=``/``elapsed=`` in 11, ``[ostid]`` and a
decimal ``nid`` in 19+), so one per-line grammar with optional groups covers
JDK 8-21. Dumps are rare and small next to app logs: lines are parsed one by one
in Python, but dumps are located in big console logs with one regex pass.

Tables (``ts`` is the dump's timestamp line; null when the dump has none):

- ``thread_states``: one row per thread per dump. ``blocked_on_lock`` is the
  monitor a thread waits to *enter* (``waiting to lock`` / ``waiting to re-lock``);
  ``waiting_on_lock`` is what it waits *for* (``waiting on`` = Object.wait(),
  ``parking to wait for`` = LockSupport.park on an AQS lock or condition).
- ``locks``: aggregated, one row per (dump, lock object) that has an owner or any
  waiter: ``owner`` holds it (``- locked`` / ownable synchronizer, minus threads
  that released it inside wait()), ``waiters`` want to acquire it (blocked on a
  monitor, or parked on a lock that is not a ``ConditionObject``), ``wait_set``
  wait for a notify/signal on it (Object.wait(), Condition.await()).
- ``deadlocks``: one row per "Found one Java-level deadlock:" section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

import pyarrow as pa

from logsleuth.errors import Diagnostic
from logsleuth.model import EvidenceResult, Kind, Record
from logsleuth.parsers.classify import resolve_tz, rows_to_records

_BANNER = re.compile(r"^Full thread dump (?P<vm>.*?):?\s*$")
# SAP JVM writes `Thread dump triggered at <ts>` where HotSpot writes the bare time.
_TS = re.compile(r"^(?:Thread dump triggered at )?(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*$")
# The console prompt a dump was typed at, copied along with it (`C:\>jstack -l 1234`,
# `λ jstack 15256`, `$ sudo -u app jcmd 42 Thread.print`).
_PROMPT = re.compile(
    r"^[^\n\"]{0,200}?[>$#%\u03bb\u276f]\s*(?:sudo\s+(?:-u\s+\S+\s+)?)?(?:\S*[/\\])?"
    r"(?:jstack|jcmd)(?:\.exe)?\s[^\n]*$")
_PID = re.compile(r"^\d+:\s*$")
_HEADER = re.compile(
    r'^"(?P<name>.*)"(?: #(?P<no>\d+))?(?P<flag> daemon| virtual)?(?: \[(?P<ostid>\d+)\])?'
    r"(?P<daemon> daemon)?"
    r"(?: prio=(?P<prio>\d+))?(?: os_prio=(?P<os_prio>-?\d+))?(?: cpu=(?P<cpu>[\d.]+)ms)?"
    r"(?: elapsed=(?P<elapsed>[\d.]+)s)?(?: allocated=\S+)?(?: defined_classes=\d+)?"
    r" tid=(?P<tid>0x[0-9a-fA-F]+)(?: nid=(?P<nid>0x[0-9a-fA-F]+|\d+))?\s*(?P<status>.*?)\s*"
    r"(?:\[0x[0-9a-fA-F]+\])?\s*$"
)
# SAP JVM spreads a thread header over three lines: name and counters, i/o, ids and state.
_SAP_HEADER = re.compile(
    r'^"(?P<name>.*)" #(?P<no>\d+)(?P<daemon> daemon)? prio=(?P<prio>\d+)'
    r"(?: os_prio=(?P<os_prio>-?\d+))? cpu=(?P<cpu>[\d.]+) \[reset [\d.]+\] ms"
    r" elapsed=(?P<elapsed>[\d.]+) \[reset [\d.]+\] s\b.*$")
_SAP_IO = re.compile(r"^io= .*$")
_SAP_IDS = re.compile(
    r"^tid=(?P<tid>0x[0-9a-fA-F]+) nid=(?P<nid>0x[0-9a-fA-F]+)(?: / \d+)?\s+(?P<status>.*?)\s*"
    r"(?:\[_thread_\w+[^\]]*\])?\s*(?:\[0x[0-9a-fA-F]+\])?\s*$")
_STATE = re.compile(r"^\s+java\.lang\.Thread\.State: (?P<state>[A-Z_]+)(?: \((?P<detail>[^)]*)\))?")
_FRAME = re.compile(r"^\s+at (?P<frame>\S.*?)\s*$")
_LOCK = re.compile(
    r"^\s+- (?P<rel>locked|waiting to lock|waiting on|parking to wait for|eliminated(?: owner)?"
    r"|waiting to re-lock in wait\(\))\s+(?:<(?P<lock>0x[0-9a-fA-F]+)> \(a (?P<cls>.*)\)"
    r"|<no object reference available>)\s*$"
)
_OWNABLE_HDR = re.compile(r"^\s+Locked ownable synchronizers:\s*$")
_OWNABLE = re.compile(r"^\s+- (?:<(?P<lock>0x[0-9a-fA-F]+)> \(a (?P<cls>.*)\)|None)\s*$")
_THREAD_NOTE = re.compile(
    r"^\s+(?:No compile task|Compiling:.*|(?:Carrying|Mounted) virtual thread #\d+"
    r"|Locked synchronizers: count = \d+|Number of locked synchronizers = \d+)\s*$")
# jcmd Thread.dump_to_file -format=text (JDK 21+): `#22 "name" virtual`, frames without `at`.
_VHEADER = re.compile(r'^#(?P<no>\d+) "(?P<name>.*)"(?P<virtual> virtual)?\s*$')
_BARE_FRAME = re.compile(r"^\s+(?P<frame>[\w$./@<>-]+\(.*\))\s*$")
# java.lang.management.ThreadInfo.toString() lines, as JMX tools print a dump (Karaf,
# Jolokia, Eclipse Jifa's "Thread Dump for PID" export): `"name" Id=12 BLOCKED on lock=x
# owned by "y" Id=11` (some tools write `in STATE`), frames as `    at ...`.
_MX_HEADER = re.compile(
    r'^"(?P<name>.*)"(?P<daemon> daemon)?(?: prio=(?P<prio>\d+))? Id=(?P<no>\d+)(?: in)?'
    r" (?P<state>NEW|RUNNABLE|BLOCKED|WAITING|TIMED_WAITING|TERMINATED)"
    r"(?: on (?:lock=)?(?P<lock>\S+))?(?: owned by \"(?P<owner>.*)\" Id=\d+)?"
    r"(?: \(suspended\))?(?: \(in native\))?\s*$")
_MX_TOP = re.compile(
    r"^(?:Thread Dump for PID \d+|Taken on \(ISO/UTC\) (?P<iso>\S+)"
    r"|Thread Count: (?P<live>\d+)|Thread Peak Count: \d+|Deadlocked Threads: .*"
    r"|Thread Stack Traces:)\s*$")
_JNI = re.compile(r"^JNI global ref(?:erence)?s: \d+")
_SMR = re.compile(
    r"^(?:Threads class SMR info:|_\w+=.*|0x[0-9a-fA-F]+(?:, 0x[0-9a-fA-F]+)*,?|\})\s*$")
_DL_START = re.compile(r"^Found one Java-level deadlock:\s*$")
_DL_LINE = re.compile(
    r'^(?:=+|"(?P<who>.*)":|Java stack information for the threads listed above:'
    r"|\s+waiting to lock monitor 0x\w+ \(object (?P<obj>0x\w+), a .*\),?"
    r"|\s+waiting for ownable synchronizer (?P<own>0x\w+), \(a .*\),?"
    r'|\s+which is held by (?:"(?P<holder>.*)"|.*))\s*$'
)
_DL_END = re.compile(r"^Found (?P<n>\d+) deadlocks?\.\s*$")
_HEAP = re.compile(r"^Heap\s*$")
_HEAP_LINE = re.compile(r"^ {1,4}\S.*$")

_BANNER_TEXT = "Full thread dump "
_FIRST_HEADER_SCAN = re.compile(
    r'^(?:"[^\n]*" [^\n]*tid=0x|#\d+ "[^\n]*"\s*$|Thread Dump for PID \d+\s*$'
    r'|"[^\n]*" (?:daemon )?(?:prio=\d+ )?Id=\d+ (?:in )?[A-Z_]+)', re.M)

_TS_TYPE = pa.timestamp("ms", tz="UTC")
THREAD_STATES_SCHEMA = pa.schema([
    ("source", pa.string()), ("dump_index", pa.int32()), ("ts", _TS_TYPE), ("line", pa.int64()),
    ("thread", pa.string()), ("thread_no", pa.int64()), ("tid", pa.string()), ("nid", pa.int64()),
    ("daemon", pa.bool_()), ("priority", pa.int32()), ("cpu_ms", pa.float64()),
    ("elapsed_s", pa.float64()), ("status", pa.string()), ("state", pa.string()),
    ("state_detail", pa.string()), ("top_frame", pa.string()), ("frames", pa.list_(pa.string())),
    ("waiting_on_lock", pa.string()), ("blocked_on_lock", pa.string()),
    ("locks_held", pa.list_(pa.string())), ("virtual", pa.bool_()),
    ("carrying_virtual", pa.int64()),
])
LOCKS_SCHEMA = pa.schema([
    ("source", pa.string()), ("dump_index", pa.int32()), ("ts", _TS_TYPE), ("lock", pa.string()),
    ("lock_class", pa.string()), ("owner", pa.string()), ("owner_top_frame", pa.string()),
    ("waiters", pa.list_(pa.string())), ("wait_set", pa.list_(pa.string())),
    ("n_waiters", pa.int32()),
])
DEADLOCKS_SCHEMA = pa.schema([
    ("source", pa.string()), ("dump_index", pa.int32()), ("ts", _TS_TYPE), ("line", pa.int64()),
    ("threads", pa.list_(pa.string())), ("locks", pa.list_(pa.string())), ("text", pa.string()),
])


def _line_tag(line: str, in_heap: bool) -> str | None:
    """Which piece of dump grammar a line is, or None when it is not dump text."""
    if not line.strip():
        return "blank"
    if in_heap and _HEAP_LINE.match(line):
        return "heap"
    for tag, rx in _TAGGERS:
        if rx.match(line):
            return tag
    return None


_TAGGERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("frame", _FRAME), ("lock", _LOCK), ("state", _STATE), ("header", _HEADER),
    ("sap_header", _SAP_HEADER), ("sap_io", _SAP_IO), ("sap_ids", _SAP_IDS),
    ("vheader", _VHEADER), ("mx_header", _MX_HEADER), ("mx_top", _MX_TOP),
    ("bare_frame", _BARE_FRAME),
    ("ownable_hdr", _OWNABLE_HDR), ("ownable", _OWNABLE), ("note", _THREAD_NOTE),
    ("banner", _BANNER), ("jni", _JNI), ("smr", _SMR), ("dl_start", _DL_START),
    ("dl_end", _DL_END), ("dl", _DL_LINE), ("heap_start", _HEAP), ("ts", _TS),
    ("prompt", _PROMPT), ("pid", _PID),
)


def find_dumps(text: str) -> list[tuple[int, int]]:
    """Line ranges ``[start, end)`` of each dump, 0-based over ``\\n``-separated lines.

    A range starts at the dump's timestamp line (and a jcmd ``<pid>:`` line and the
    console prompt the command was typed at above it) when present, else at the
    ``Full thread dump`` banner, and ends after the
    last line that still fits the dump grammar (heap summary included), so an app
    log can carve kill -3 output out from between its own records. Only the dumps
    are walked line by line; the rest of a large console log is just searched.
    """
    out: list[tuple[int, int]] = []
    line_no, last = 0, 0
    for pos in _banners(text):
        line_no += text.count("\n", last, pos)
        last = pos
        if out and line_no < out[-1][1]:
            continue
        start, top = line_no, pos
        for above in (_TS, _PID, _PROMPT):  # each optional, in this order upwards
            prev = _prev_line(text, top)
            if prev is not None and above.match(text[prev:top - 1]):
                start, top = start - 1, prev
        if out and start < out[-1][1]:  # the lines above this banner (jcmd's "<pid>:", a
            out[-1] = (out[-1][0], start)  # stamp) are its own, not the walk of the last one
        nxt = text.find("\n", pos)
        out.append((start, line_no + 1 + (0 if nxt < 0 else _walk(text, nxt + 1))))
    return out


def _banners(text: str) -> Iterator[int]:
    """Offsets of ``Full thread dump`` at line starts (str.find is far faster than re here)."""
    pos = text.find(_BANNER_TEXT)
    while pos >= 0:
        if pos == 0 or text[pos - 1] == "\n":
            yield pos
        pos = text.find(_BANNER_TEXT, pos + 1)


def _prev_line(text: str, pos: int) -> int | None:
    """Start offset of the line before the one starting at ``pos`` (None at the top)."""
    return None if pos == 0 else text.rfind("\n", 0, pos - 1) + 1


def _walk(text: str, pos: int) -> int:
    """How many lines from offset ``pos`` still belong to the dump (trailing blanks excluded)."""
    n = kept = 0
    in_heap = False
    while pos < len(text):
        e = text.find("\n", pos)
        e = len(text) if e < 0 else e
        tag = _line_tag(text[pos:e].rstrip("\r"), in_heap)
        if tag is None or tag == "banner" or (tag == "ts" and text.startswith(
                "Full thread dump ", e + 1)):
            break
        in_heap = tag in ("heap_start", "heap") or (in_heap and tag == "blank")
        n += 1
        if tag != "blank":
            kept = n
        pos = e + 1
    return kept


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Trailing blanks carry nothing in a dump, and consoles pad every line with them.
    return [ln.rstrip() for ln in lines]


@dataclass(slots=True)
class _Thread:
    """One thread of a dump; ``g`` holds its header fields (regex group names)."""

    line: int
    g: dict[str, str | None]
    virtual: bool = False
    carrying: int | None = None
    state: str | None = None
    detail: str | None = None
    frames: list[str] = field(default_factory=list)
    waiting_on: str | None = None
    blocked_on: str | None = None
    held: list[str] = field(default_factory=list)
    lock_rel: list[tuple[str, str, str]] = field(default_factory=list)  # (rel, lock, cls)
    extra: dict[str, str] = field(default_factory=dict)  # groups of a SAP ids line


_HEADERS = {"header": _HEADER, "vheader": _VHEADER, "sap_header": _SAP_HEADER,
            "mx_header": _MX_HEADER}


@dataclass(slots=True)
class _Out:
    """Column lists for one parse call."""

    threads: list[dict[str, object]] = field(default_factory=list)
    stated: dict[int, int] = field(default_factory=dict)  # dump -> its own "Thread Count: N"
    locks: list[dict[str, object]] = field(default_factory=list)
    deadlocks: list[dict[str, object]] = field(default_factory=list)
    parsed: int = 0
    unparsed: list[tuple[int, str]] = field(default_factory=list)
    n_unparsed: int = 0


def parse_thread_dumps(data: bytes, source: str, *, default_tz: str | tzinfo | None = None,
                       line_offset: int = 0) -> EvidenceResult:
    """Parse every dump in ``data``; lines outside dumps count as unparsed.

    ``line_offset`` is added to reported line numbers (for a carved slice).
    Dump timestamps have no zone: they are read in ``default_tz``, else as UTC with
    ``timezone`` left None (unknown) and a note.
    """
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = _split_lines(text)
    tz = resolve_tz(default_tz)
    out = _Out()
    diagnostics: list[Diagnostic] = []
    head = text[:4096].lstrip()
    if looks_like_json_dump(head):
        n_dumps, diagnostics = parse_json_dump(out, text, lines, source, tz, line_offset)
    elif looks_like_javacore(head):
        n_dumps = parse_javacore(out, lines, source, tz, line_offset)
    else:
        n_dumps = _parse_text(out, text, lines, source, tz, line_offset)
    res = EvidenceResult(source=source, kind=Kind.THREAD_DUMP, lines=len(lines),
                         parsed_lines=out.parsed, unparsed_lines=out.n_unparsed,
                         unparsed_samples=out.unparsed,
                         timezone=None if tz is None else str(default_tz))
    res.diagnostics.extend(diagnostics)
    if tz is None and n_dumps:
        res.notes.append("dump timestamps have no zone and no default_tz: read as UTC")
    res.tables["thread_states"] = pa.Table.from_pylist(out.threads, THREAD_STATES_SCHEMA)
    res.tables["locks"] = pa.Table.from_pylist(out.locks, LOCKS_SCHEMA)
    res.tables["deadlocks"] = pa.Table.from_pylist(out.deadlocks, DEADLOCKS_SCHEMA)
    from logsleuth.parsers.jstack_analysis import thread_gauges  # the leak analysis' gauge

    gauges = thread_gauges(res.tables["thread_states"], out.stated)
    if gauges.num_rows:
        res.tables["metrics"] = gauges
    return res


def _parse_text(out: _Out, text: str, lines: list[str], source: str, tz: tzinfo | None,
                off: int) -> int:
    """HotSpot/SAP text dumps, alone or inside a console log; returns how many."""
    ranges = find_dumps(text)
    if not ranges:  # a dump cut before its banner: start at the first thread header
        m = _FIRST_HEADER_SCAN.search(text)
        if m is not None:
            b = text.count("\n", 0, m.start())
            ranges = [(b, b + _walk(text, m.start()))]
    prev = 0
    for idx, (a, b) in enumerate(ranges):
        _unparsed(out, lines, prev, a, off)
        _parse_dump(out, lines, a, b, idx, source, tz, off)
        prev = b
    _unparsed(out, lines, prev, len(lines), off)
    return len(ranges)


def _unparsed(out: _Out, lines: list[str], a: int, b: int, off: int) -> None:
    for i in range(a, b):
        if lines[i].strip():
            out.n_unparsed += 1
            if len(out.unparsed) < 10:
                out.unparsed.append((i + 1 + off, lines[i]))
        else:
            out.parsed += 1  # blank lines carry nothing to miss


def _parse_dump(out: _Out, lines: list[str], a: int, b: int, idx: int, source: str,
                tz: tzinfo | None, off: int) -> None:
    ts: datetime | None = None
    threads: list[_Thread] = []
    cur: _Thread | None = None
    in_deadlock = in_heap = ownable = dl_stacks = False
    dl: dict[str, object] | None = None
    for i in range(a, b):
        line = lines[i]
        tag = _line_tag(line, in_heap)
        in_heap = tag in ("heap_start", "heap") or (in_heap and tag == "blank")
        if tag is None:
            out.n_unparsed += 1
            if len(out.unparsed) < 10:
                out.unparsed.append((i + 1 + off, line))
            continue
        out.parsed += 1
        if tag == "ts" and ts is None:
            tm = _TS.match(line)
            assert tm is not None
            ts = datetime.strptime(tm["ts"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        elif tag == "dl_start":
            in_deadlock, dl_stacks, cur = True, False, None
            dl = {"line": i + 1 + off, "threads": [], "locks": [], "text": [line]}
            out.deadlocks.append(dl)
        elif in_deadlock and dl is not None:
            dl["text"].append(line)  # type: ignore[union-attr]
            m = _DL_LINE.match(line)
            dl_stacks = dl_stacks or line.startswith("Java stack information")
            if m is not None and m["who"] is not None and not dl_stacks:
                dl["threads"].append(m["who"])  # type: ignore[union-attr]
            if m is not None and (m["obj"] or m["own"]):
                dl["locks"].append(m["obj"] or m["own"])  # type: ignore[union-attr]
            if tag == "dl_end":
                in_deadlock = False
        elif tag == "mx_top":
            tm = _MX_TOP.match(line)
            assert tm is not None
            if tm["iso"] and ts is None:
                ts = datetime.fromisoformat(tm["iso"].replace("Z", "+00:00"))
            elif tm["live"]:  # a dump may keep fewer stacks than the JVM had threads
                out.stated[idx] = int(tm["live"])
        elif tag in ("header", "vheader", "sap_header", "mx_header"):
            hm = _HEADERS[tag].match(line)
            assert hm is not None
            cur = _Thread(line=i + 1 + off, g=hm.groupdict(),
                          virtual=bool(hm.groupdict().get("virtual")
                                       or hm.groupdict().get("flag") == " virtual"))
            if tag == "mx_header":  # the state and the lock are on the header line
                cur.state = hm["state"]
                if hm["state"] == "BLOCKED":
                    cur.blocked_on = hm["lock"]
                else:
                    cur.waiting_on = hm["lock"]
            threads.append(cur)
            ownable = False
        elif cur is None:
            continue
        elif tag == "sap_ids":
            im = _SAP_IDS.match(line)
            assert im is not None
            cur.extra = {k: v for k, v in im.groupdict().items() if v}
        elif tag == "state":
            sm = _STATE.match(line)
            assert sm is not None
            cur.state, cur.detail = sm["state"], sm["detail"]
        elif tag in ("frame", "bare_frame"):
            fm = (_FRAME if tag == "frame" else _BARE_FRAME).match(line)
            assert fm is not None
            cur.frames.append(fm["frame"])
        elif tag == "note" and "virtual thread #" in line:
            cur.carrying = int(line.rsplit("#", 1)[1])
        elif tag == "ownable_hdr":
            ownable = True
        elif tag == "lock" or (tag == "ownable" and ownable):
            _add_lock(cur, line, ownable)
    for d in out.deadlocks:
        if "dump_index" not in d:
            d.update(source=source, dump_index=idx, ts=ts, text="\n".join(d["text"]))  # type: ignore[arg-type]
    _emit(out, threads, source, idx, ts)


def _add_lock(cur: _Thread, line: str, ownable: bool) -> None:
    lm = (_OWNABLE if ownable else _LOCK).match(line)
    if lm is None or lm["lock"] is None:
        return
    rel = "ownable" if ownable else lm["rel"]
    cur.lock_rel.append((rel, lm["lock"], lm["cls"]))
    if rel in ("waiting to lock", "waiting to re-lock in wait()"):
        cur.blocked_on = cur.blocked_on or lm["lock"]
    elif rel in ("waiting on", "parking to wait for"):
        cur.waiting_on = cur.waiting_on or lm["lock"]
    elif (rel in ("locked", "ownable") and lm["lock"] != cur.waiting_on
          and lm["lock"] not in cur.held):
        cur.held.append(lm["lock"])


def _emit(out: _Out, threads: list[_Thread], source: str, idx: int, ts: datetime | None) -> None:
    locks: dict[str, dict[str, object]] = {}
    for t in threads:
        g = {**t.g, **t.extra}
        nid = g.get("nid") or g.get("ostid")
        out.threads.append({
            "source": source, "dump_index": idx, "ts": ts, "line": t.line, "thread": g["name"],
            "thread_no": _int(g.get("no")), "tid": g.get("tid"),
            "nid": None if nid is None else int(nid, 16) if nid.startswith("0x") else int(nid),
            "daemon": g.get("daemon") is not None or g.get("flag") == " daemon",
            "priority": _int(g.get("prio")),
            "cpu_ms": _float(g.get("cpu")), "elapsed_s": _float(g.get("elapsed")),
            "status": g.get("status") or None, "state": t.state, "state_detail": t.detail,
            "virtual": t.virtual, "carrying_virtual": t.carrying,
            "top_frame": t.frames[0] if t.frames else None, "frames": t.frames,
            "waiting_on_lock": t.waiting_on, "blocked_on_lock": t.blocked_on,
            "locks_held": t.held,
        })
        for rel, lock, cls in t.lock_rel:
            row = locks.setdefault(lock, {
                "source": source, "dump_index": idx, "ts": ts, "lock": lock, "lock_class": cls,
                "owner": None, "owner_top_frame": None, "waiters": [], "wait_set": []})
            name = str(g["name"])
            if rel in ("locked", "ownable") and lock in t.held:
                row["owner"] = name
                row["owner_top_frame"] = t.frames[0] if t.frames else None
            elif rel in ("waiting to lock", "waiting to re-lock in wait()") or (
                    rel == "parking to wait for" and not cls.endswith("ConditionObject")):
                _append_once(row["waiters"], name)
            elif rel in ("waiting on", "parking to wait for"):
                _append_once(row["wait_set"], name)
    for row in locks.values():
        row["n_waiters"] = len(row["waiters"])  # type: ignore[arg-type]
        if row["owner"] or row["waiters"] or row["wait_set"]:
            out.locks.append(row)


def _append_once(xs: object, x: str) -> None:
    assert isinstance(xs, list)
    if x not in xs:
        xs.append(x)


def _int(s: str | None) -> int | None:
    return None if s is None else int(s)


def _float(s: str | None) -> float | None:
    return None if s is None else float(s)


# ---------------------------------------------------------------- derived views


def thread_state_records(thread_states: pa.Table) -> Iterator[Record]:
    """Thread rows as ``Record(kind=THREAD_DUMP)`` for rules: ``thread`` is the thread
    name, ``message`` is ``"name" STATE at top_frame``; fields: state, state_detail,
    status, top_frame, blocked_on_lock, waiting_on_lock, locks_held, nid, dump_index,
    daemon, and ``frames`` (one frame per line, top first).

    ``text`` is the message followed by ``\tat <frame>`` lines, as in the dump, so
    ``text`` conditions and the prefilter's needles see the whole stack, not only the
    top frame: a thread waiting on a lock is usually parked a few frames above the
    code that asked for it. ``frame`` conditions stay about throwables: a thread
    merely running in ``encode()`` is not an exception thrown there.
    """
    def msg(r: object) -> str:
        assert isinstance(r, dict)
        return f'"{r["thread"]}" {r["state"] or r["status"] or ""} at {r["top_frame"] or "-"}'

    records = rows_to_records(
        thread_states, kind=Kind.THREAD_DUMP, message=msg, thread="thread",
        fields=("state", "state_detail", "status", "top_frame", "blocked_on_lock",
                "waiting_on_lock", "locks_held", "nid", "dump_index", "daemon"))
    stacks = thread_states.column("frames").to_pylist()
    for rec, frames in zip(records, stacks, strict=True):
        if not frames:
            yield rec
            continue
        yield replace(rec, text=rec.message + "".join("\n\tat " + f for f in frames),
                      n_lines=1 + len(frames), fields={**rec.fields, "frames": "\n".join(frames)})


def deadlock_records(deadlocks: pa.Table) -> Iterator[Record]:
    """Each "Found one Java-level deadlock:" section as ``Record(kind=THREAD_DUMP)``.

    ``message`` is ``Java-level deadlock: "A" -> "B" -> "A"`` (the threads in the
    order the JVM lists them, so the cycle reads like the dump), ``text`` is the
    whole section, ``thread`` the first thread; fields: threads and locks (one per
    line), n_threads, dump_index.
    """
    for row in deadlocks.to_pylist():
        names: list[str] = row["threads"] or []
        cycle = " -> ".join(f'"{n}"' for n in [*names, *names[:1]])
        msg = f"Java-level deadlock: {cycle}" if names else "Java-level deadlock"
        text = row["text"] or msg
        if "Java-level deadlock" not in text:  # a javacore says it in its own words
            text = f"{msg}\n{text}"
        ts = row["ts"]
        yield Record(
            source=str(row["source"]), line=int(row["line"] or 0),
            n_lines=text.count("\n") + 1,
            ts_ms=None if ts is None else int(ts.timestamp() * 1000), level=None,
            thread=names[0] if names else None, logger=None, message=msg, text=text,
            kind=Kind.THREAD_DUMP,
            fields={"threads": "\n".join(names), "locks": "\n".join(row["locks"] or []),
                    "n_threads": str(len(names)), "dump_index": str(row["dump_index"])})


# The other dump formats build on the pieces above (imported last: they import them).
from logsleuth.parsers.javacore import looks_like_javacore, parse_javacore  # noqa: E402
from logsleuth.parsers.jstack_json import looks_like_json_dump, parse_json_dump  # noqa: E402
