"""OpenJ9 / IBM J9 javacore files into the same tables as HotSpot thread dumps.

A javacore is a sequence of tagged lines (``NULL``, ``0SECTION``, ``1TIDATETIME``,
``3XMTHREADINFO``, ``4XESTACKTRACE``, ``1LKDEADLOCK`` ...): every tagged line is
javacore text and counts as parsed; only the few that say something about threads,
locks and time are read. Frames are written with ``/`` between packages
(``java/lang/Object.wait``) and are given back with dots, as HotSpot prints them.

Thread states are J9's codes mapped to ``java.lang.Thread.State`` (``R`` runnable,
``B`` blocked on a monitor, ``CW`` condition wait, ``P`` parked, ``S`` suspended,
``Z`` zombie); the code itself is kept as ``state_detail`` (``J9 CW``).

Deadlocks come from the ``1LKDEADLOCK`` section when the file has one. An excerpt
with only the THREADS section still shows a deadlock to a reader, as threads each
blocked on a monitor the next one owns: those cycles are reported too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from logsleuth.parsers.jstack import _emit, _Out, _Thread

_TAGGED = re.compile(r"^(?:NULL|\d[A-Z]{2}[A-Z0-9]*)(?:\s|$)")
_THREAD = re.compile(
    r'^3XMTHREADINFO\s+"(?P<name>.*)"\s+\(?(?:J9VMThread|TID):(?P<tid>0x[0-9A-Fa-f]+)'
    r"(?:.*?\bstate:(?P<state>[A-Z]+))?(?:.*?native ID:(?P<nid>0x[0-9A-Fa-f]+))?"
    r"(?:.*?\bprio=(?P<prio>\d+))?")
_JAVA_THREAD = re.compile(
    r"^3XMJAVALTHREAD\s+\(java/lang/Thread getId:(?P<no>0x[0-9A-Fa-f]+),"
    r" isDaemon:(?P<daemon>true|false)\)")
_NATIVE = re.compile(r"^3XMTHREADINFO1\s+\(native thread ID:(?P<nid>0x[0-9A-Fa-f]+)")
_CPU = re.compile(r"^3XMCPUTIME\s+CPU usage total: (?P<secs>[\d.]+) secs")
_BLOCK = re.compile(
    r"^3XMTHREADBLOCK\s+(?P<how>Blocked on|Waiting on|Parked on): (?P<cls>[^@\s]+)@"
    r'(?P<lock>0x[0-9A-Fa-f]+)(?: Owned by: (?:"(?P<owner>.*?)" \(|<unowned>))?')
_FRAME = re.compile(r"^4XESTACKTRACE\s+at (?P<frame>.*?)\s*$")
_ENTERED = re.compile(
    r"^5XESTACKTRACE\s+\(entered lock: (?P<cls>[^@\s]+)@(?P<lock>0x[0-9A-Fa-f]+)")
_DATE = re.compile(
    r"^1TIDATETIME(?P<utc>UTC)?\s+Date: (?P<d>\d{4}/\d\d/\d\d) at (?P<t>\d\d:\d\d:\d\d)"
    r"(?::(?P<ms>\d{3}))?")
_DL_START = re.compile(r"^1LKDEADLOCK\s")
_DL_THREAD = re.compile(r'^2LKDEADLOCKTHR\s+Thread "(?P<name>.*)" \(')
_DL_OBJECT = re.compile(r"^4LKDEADLOCKOBJ\s+(?P<cls>[^@\s]+)@(?P<lock>0x[0-9A-Fa-f]+)")

STATES = {"R": "RUNNABLE", "B": "BLOCKED", "CW": "WAITING", "P": "WAITING",
          "S": "WAITING", "Z": "TERMINATED"}
_REL = {"Blocked on": "waiting to lock", "Waiting on": "waiting on",
        "Parked on": "parking to wait for"}


def looks_like_javacore(head: str) -> bool:
    """Tagged javacore lines at the top of a file."""
    lines = [ln for ln in head.splitlines()[:20] if ln.strip()]
    return bool(lines) and sum(bool(_TAGGED.match(ln)) for ln in lines) >= max(1, len(lines) // 2)


def parse_javacore(out: _Out, lines: list[str], source: str, tz: tzinfo | None,
                   off: int) -> int:
    """Fill ``out`` from a javacore's lines; returns the number of dumps (0 or 1)."""
    ts: datetime | None = None
    threads: list[_Thread] = []
    cur: _Thread | None = None
    cycles: list[dict[str, object]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            out.parsed += 1
            continue
        if not _TAGGED.match(line):
            out.n_unparsed += 1
            if len(out.unparsed) < 10:
                out.unparsed.append((i + 1 + off, line))
            continue
        out.parsed += 1
        if line.startswith("3XMTHREADINFO ") or line.startswith("3XMTHREADINFO\t"):
            cur = _thread(line, i + 1 + off)
            if cur is not None:
                threads.append(cur)
        elif line.startswith("1TIDATETIME"):
            ts = _date(line, tz) if ts is None or line.startswith("1TIDATETIMEUTC") else ts
        elif _DL_START.match(line):
            cycles.append({"line": i + 1 + off, "threads": [], "locks": [], "text": [line]})
        elif line.startswith(("2LKDEADLOCK", "3LKDEADLOCK", "4LKDEADLOCK")) and cycles:
            _deadlock_line(cycles, line, i + 1 + off)
        elif cur is not None:
            _thread_line(cur, line)
    if not threads and not cycles:
        return 0
    if not cycles:
        cycles = _blocked_cycles(threads)
    for c in cycles:
        c.pop("closed", None)
        c.update(source=source, dump_index=0, ts=ts, text="\n".join(c["text"]))  # type: ignore[arg-type]
        out.deadlocks.append(c)
    _emit(out, threads, source, 0, ts)
    return 1


def _thread(line: str, line_no: int) -> _Thread | None:
    m = _THREAD.match(line)
    if m is None:  # "Anonymous native thread": no Java thread to report
        return None
    code = m["state"]
    t = _Thread(line=line_no, g={"name": m["name"], "tid": m["tid"], "nid": m["nid"],
                                 "prio": m["prio"], "status": f"state:{code}" if code else None})
    t.state = STATES.get(code or "")
    t.detail = f"J9 {code}" if code else None
    return t


def _thread_line(cur: _Thread, line: str) -> None:
    if (m := _FRAME.match(line)) is not None:
        cur.frames.append(_dotted(m["frame"]))
    elif (m := _ENTERED.match(line)) is not None:
        cur.lock_rel.append(("locked", m["lock"], _dotted(m["cls"])))
        if m["lock"] not in cur.held:
            cur.held.append(m["lock"])
    elif (m := _BLOCK.match(line)) is not None:
        rel = _REL[m["how"]]
        cur.lock_rel.append((rel, m["lock"], _dotted(m["cls"])))
        if rel == "waiting to lock":
            cur.blocked_on = m["lock"]
        else:
            cur.waiting_on = m["lock"]
        if m["owner"]:
            cur.extra["owner_of_" + m["lock"]] = m["owner"]
    elif (m := _JAVA_THREAD.match(line)) is not None:
        cur.g["no"] = str(int(m["no"], 16))
        cur.g["daemon"] = " daemon" if m["daemon"] == "true" else None
    elif (m := _NATIVE.match(line)) is not None and not cur.g.get("nid"):
        cur.g["nid"] = m["nid"]
    elif (m := _CPU.match(line)) is not None:
        cur.g["cpu"] = str(float(m["secs"]) * 1000.0)


def _dotted(frame: str) -> str:
    """``java/lang/Object.wait(Object.java:221)`` -> ``java.lang.Object.wait(...)``."""
    head, paren, tail = frame.partition("(")
    return head.replace("/", ".") + paren + tail


def _date(line: str, tz: tzinfo | None) -> datetime | None:
    m = _DATE.match(line)
    if m is None:
        return None
    ts = datetime.strptime(f"{m['d']} {m['t']}", "%Y/%m/%d %H:%M:%S")
    ts = ts.replace(microsecond=int(m["ms"] or 0) * 1000)
    return ts.replace(tzinfo=UTC if m["utc"] else tz)


def _deadlock_line(cycles: list[dict[str, object]], line: str, line_no: int) -> None:
    cyc = cycles[-1]
    thr: list[str] = cyc["threads"]  # type: ignore[assignment]
    if (m := _DL_THREAD.match(line)) is not None:
        if thr and m["name"] == thr[0] and cyc.get("closed") is None:
            cyc["closed"] = True  # the cycle is back at its first thread
        elif cyc.get("closed"):  # a second cycle in the same section
            cycles.append({"line": line_no, "threads": [m["name"]], "locks": [],
                           "text": [line]})
            return
        else:
            thr.append(m["name"])
    elif (m := _DL_OBJECT.match(line)) is not None and not cyc.get("closed"):
        cyc["locks"].append(m["lock"])  # type: ignore[union-attr]
    cyc["text"].append(line)  # type: ignore[union-attr]


def _blocked_cycles(threads: list[_Thread]) -> list[dict[str, object]]:
    """Cycles of threads each blocked on a monitor owned by the next one."""
    owner_of: dict[str, str] = {}
    for t in threads:
        owner_of.update({k[9:]: v for k, v in t.extra.items() if k.startswith("owner_of_")})
        owner_of.update({lock: str(t.g["name"]) for lock in t.held})
    waits = {str(t.g["name"]): (t.blocked_on, owner_of.get(t.blocked_on or ""))
             for t in threads if t.blocked_on}
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for t in threads:
        start = str(t.g["name"])
        path: list[str] = []
        node: str | None = start
        while node is not None and node in waits and node not in path and node not in seen:
            path.append(node)
            node = waits[node][1]
        seen.update(path)
        if node is not None and node in path:
            cyc = path[path.index(node):]
            line = next(x.line for x in threads if x.g["name"] == cyc[0])
            out.append({"line": line, "threads": cyc,
                        "locks": [waits[n][0] for n in cyc],
                        "text": " -> ".join(f'"{n}" waits for {waits[n][0]}' for n in cyc)
                        .split("\n")})
    return out
