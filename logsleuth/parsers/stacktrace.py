"""Structural parsing of Java stack traces as log4j2, logback and the JDK print them.

Floods repeat one trace with a varying message, so parsing is split: the
frames-and-causes tail of a trace is parsed once and cached by its text, and
only the leading ``Class: message`` lines are parsed per record.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from logsleuth.model import Frame, Throwable

# `at pkg.Cls.method(File.java:12) ~[jar:ver]`, JDK 9+ `at java.base/pkg.Cls.m(...)`,
# `at app//pkg.Cls.m(...)`, and `(Native Method)` / `(Unknown Source)`.
_FRAME = re.compile(
    r"^\s+at (?:[\w.$-]+(?:@[\w.$-]+)?/{1,2})?(?P<cls>[\w.$/<>]+)\.(?P<method>[\w$<>-]+)"
    r"\((?P<loc>[^)]*)\)(?:\s*~?\[(?P<module>[^\]]*)\])?\s*$"
)
_MORE = re.compile(r"^\s+\.\.\. (?P<n>\d+) (?:more|common frames omitted)\s*$")
_CAUSED = re.compile(r"^\s*(?P<kw>Caused by|Suppressed|Wrapped by): (?P<rest>.*)$")
# A throwable header: a dotted Java class name, optionally `: message`.
_HEADER = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" )?(?P<cls>(?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)"
    r"(?::\s?(?P<msg>.*))?$"
)
_LOC = re.compile(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?$")


@dataclass(frozen=True, slots=True)
class _Node:
    """A throwable under construction: header known, children appended."""

    cls: str
    message: str | None
    indent: int


def parse_frame(line: str) -> Frame | None:
    m = _FRAME.match(line)
    if m is None:
        return None
    loc = m["loc"]
    file: str | None = None
    lineno: int | None = None
    if loc and loc not in ("Native Method", "Unknown Source"):
        lm = _LOC.match(loc)
        if lm:
            file = lm["file"]
            lineno = int(lm["line"]) if lm["line"] else None
    return Frame(m["cls"], m["method"], file, lineno, m["module"])


def looks_like_header(line: str) -> bool:
    return _HEADER.match(line.strip()) is not None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip("\t "))


def parse_throwable(text: str) -> Throwable | None:
    """Parse the continuation lines of a record (or any text holding one trace).

    Returns None when the text holds no ``Class: message`` line followed by frames.
    Message lines between the header and the first frame are joined to the message.
    """
    lines = text.split("\n")
    start = None
    for i, line in enumerate(lines):
        if _HEADER.match(line.strip()) and i + 1 < len(lines):
            # a header counts only if frames follow (possibly after message lines)
            for nxt in lines[i + 1 : i + 40]:
                if _FRAME.match(nxt) or _CAUSED.match(nxt):
                    start = i
                    break
                if _MORE.match(nxt):
                    break
            if start is not None:
                break
    if start is None:
        return None
    return _build(lines[start:])


def _build(lines: list[str]) -> Throwable:
    # Each entry: [cls, message parts, frames, omitted, cause, suppressed, indent, parent kw]
    stack: list[dict] = []
    root: dict | None = None
    current: dict | None = None

    def new(cls: str, msg: str | None, indent: int) -> dict:
        return {"cls": cls, "msg": [msg] if msg is not None else [], "frames": [],
                "omitted": 0, "cause": None, "suppressed": [], "indent": indent}

    for raw in lines:
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        fm = _FRAME.match(line)
        if fm is not None and current is not None:
            fr = parse_frame(line)
            if fr is not None:
                current["frames"].append(fr)
            continue
        mm = _MORE.match(line)
        if mm is not None and current is not None:
            current["omitted"] = int(mm["n"])
            continue
        cm = _CAUSED.match(line)
        if cm is not None and current is not None:
            hm = _HEADER.match(cm["rest"].strip())
            cls, msg = (hm["cls"], hm["msg"]) if hm else (cm["rest"].strip(), None)
            ind = _indent(line)
            node = new(cls, msg, ind)
            if cm["kw"] == "Suppressed":
                # attach to the nearest open throwable indented less than this line
                while stack and stack[-1]["indent"] >= ind:
                    stack.pop()
                parent = stack[-1] if stack else current
                parent["suppressed"].append(node)
            else:
                # a cause belongs to the throwable at the same indentation level
                while stack and stack[-1]["indent"] > ind:
                    stack.pop()
                parent = stack[-1] if stack else current
                while parent["cause"] is not None:
                    parent = parent["cause"]
                parent["cause"] = node
            stack.append(node)
            current = node
            continue
        if current is None:
            hm = _HEADER.match(line.strip())
            if hm is None:
                continue
            root = new(hm["cls"], hm["msg"], _indent(line))
            current = root
            stack.append(root)
            continue
        if not current["frames"]:
            current["msg"].append(line)  # multi-line message before the first frame
    assert root is not None
    return _freeze(root)


def _freeze(node: dict) -> Throwable:
    msg = "\n".join(node["msg"]) if node["msg"] else None
    return Throwable(
        cls=node["cls"],
        message=msg,
        frames=tuple(node["frames"]),
        omitted=node["omitted"],
        cause=_freeze(node["cause"]) if node["cause"] is not None else None,
        suppressed=tuple(_freeze(s) for s in node["suppressed"]),
    )


_FIRST_FRAME = re.compile(r"\n[ \t]+at ")


class ThrowableCache:
    """Parse many records' traces cheaply: the tail after the first frame is cached.

    Bounded (LRU) so a scan of millions of distinct traces keeps flat memory.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._tails: OrderedDict[str, Throwable | None] = OrderedDict()
        self._max = max_entries

    def parse(self, continuation: str) -> Throwable | None:
        m = _FIRST_FRAME.search(continuation)
        if m is None:
            # the JVM omits traces of hot exceptions (OmitStackTraceInFastThrow)
            bare = _BARE.match(continuation.split("\n", 1)[0].rstrip("\r"))
            return None if bare is None else Throwable(cls=bare[1], message=bare[2])
        head, tail = continuation[: m.start()], continuation[m.start() :]
        hm = None
        head_lines = head.split("\n")
        for i, hl in enumerate(head_lines):
            hm = _HEADER.match(hl.strip())
            if hm:
                msg_lines = [hm["msg"]] if hm["msg"] is not None else []
                msg_lines += head_lines[i + 1 :]
                break
        if hm is None:
            return None
        cached = self._tails.get(tail)
        if cached is None and tail not in self._tails:
            cached = _build(("X.Placeholder" + tail).split("\n"))
            self._tails[tail] = cached
            if len(self._tails) > self._max:
                self._tails.popitem(last=False)
        else:
            self._tails.move_to_end(tail)
        if cached is None:
            return None
        return Throwable(
            cls=hm["cls"],
            message="\n".join(msg_lines) if msg_lines else None,
            frames=cached.frames,
            omitted=cached.omitted,
            cause=cached.cause,
            suppressed=cached.suppressed,
        )


# Servlet containers print the trace's header indented (JULI: `SEVERE ...\n javax.X: m`).
_HEADER_BYTES = re.compile(
    rb"^[ \t]*(?:Exception in thread \"[^\"\n]*\" )?"
    rb"((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?::|\r?$)",
    re.M,
)
_BARE_BYTES = re.compile(
    rb"((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable))(?::[^\n]*)?\r?(?:\n|$)"
)
_BARE = re.compile(
    r"^((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable))(?::\s?(.*))?$"
)
_CAUSE_BYTES = re.compile(rb"\nCaused by: ((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)")
# A throwable named in a record's first line, when its frames follow without a header:
# the JVM's `Exception in thread "main" java.lang.X: m` behind a log header, or a
# framework's `Failed to start service x: org.y.StartException in service ...`.
_NAMED_BYTES = re.compile(
    rb"(?:Exception in thread \"[^\"\n]*\" ((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?=:|\s|$))"
    rb"|(?<![\w$.])((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable))"
    rb"(?=:|\s|$)"
)
_FIRST_CAUSE_BYTES = re.compile(
    rb"(?:^|\n)[ \t]*Caused by: ((?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*)")


def root_frame(continuation: bytes) -> str | None:
    """``pkg.Class.method`` of the first frame of the deepest ``Caused by:`` (or the top).

    Plain byte searches: this runs for every record of a stack-trace flood.
    """
    last = continuation.rfind(b"\nCaused by: ")
    at = continuation.find(b"\tat ", max(last, 0))
    if at < 0:
        at = continuation.find(b"    at ", max(last, 0))
        if at < 0:
            return None
    start = continuation.find(b"at ", at) + 3
    end = continuation.find(b"(", start)
    eol = continuation.find(b"\n", start)
    if end < 0 or (0 <= eol < end):
        return None
    name = continuation[start:end]
    slash = name.rfind(b"/")  # JDK 9+ "java.base/java.lang.Thread.run", "app//a.B.c"
    return name[slash + 1 :].decode("ascii", "replace")


def trace_summary(data: bytes | bytearray, a: int,
                  b: int) -> tuple[str, str, str | None] | None:
    """``exception_classes`` and ``root_frame`` of ``data[a:b]`` in one pass, no copy.

    Only the common shape (frames under a header line): None means "use the two
    functions on a copy". ``a`` must start a line of ``data``. The same searches as
    theirs, bounded to the slice, sharing the search for the last ``Caused by:``.
    """
    first_frame = data.find(b"\tat ", a, b)
    if first_frame < 0:
        first_frame = data.find(b"    at ", a, b)
        if first_frame < 0:
            return None
    m = _HEADER_BYTES.search(data, a, first_frame)
    if m is None:
        return None
    cls = m.group(1).decode("ascii", "replace")
    root = cls
    last = data.rfind(b"\nCaused by: ", a, b)
    if last >= 0:
        cm = _CAUSE_BYTES.match(data, last, b)
        if cm is not None:
            root = cm.group(1).decode("ascii", "replace")
    at = data.find(b"\tat ", max(last, a), b)
    if at < 0:
        at = data.find(b"    at ", max(last, a), b)
        if at < 0:
            return cls, root, None
    start = data.find(b"at ", at, b) + 3
    end = data.find(b"(", start, b)
    eol = data.find(b"\n", start, b)
    if end < 0 or (0 <= eol < end):
        return cls, root, None
    name = data[start:end]
    return cls, root, name[name.rfind(b"/") + 1 :].decode("ascii", "replace")


def exception_classes(continuation: bytes,
                      first_line: bytes = b"") -> tuple[str | None, str | None]:
    """Outermost and root throwable class of a record's continuation lines, cheaply.

    The vectorised path needs only these two columns for every trace in a flood;
    the full structure is parsed lazily for the records a rule looks at. When the
    frames follow no header line, the record's ``first_line`` may name the throwable
    (an uncaught exception behind a log header), else its first ``Caused by:`` does.
    """
    first_frame = continuation.find(b"\tat ")
    if first_frame < 0:
        first_frame = continuation.find(b"    at ")
        if first_frame < 0:  # a JIT-omitted trace: a bare "java.lang.NullPointerException"
            bare = _BARE_BYTES.match(continuation)
            if bare is None:
                return None, None
            cls = bare.group(1).decode("ascii", "replace")
            return cls, cls
    m = _HEADER_BYTES.search(continuation, 0, first_frame)
    if m is not None:
        cls = m.group(1).decode("ascii", "replace")
    else:
        named = _NAMED_BYTES.search(first_line)
        if named is None:
            named = _FIRST_CAUSE_BYTES.search(continuation)
            if named is None:
                return None, None
        cls = (named.group(1) or named.group(2)).decode("ascii", "replace")
    root = cls
    last = continuation.rfind(b"\nCaused by: ")
    if last >= 0:
        cm = _CAUSE_BYTES.match(continuation, last)
        if cm is not None:
            root = cm.group(1).decode("ascii", "replace")
    return cls, root
