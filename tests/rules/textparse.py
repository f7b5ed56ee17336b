"""A minimal stand-in for ``logsleuth.api.parse_text`` used until the engine lands.

Splits log4j2/logback text into records at timestamped header lines and parses
Java stack traces (causes, suppressed, ``... N more``). Tests only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from logsleuth.model import Frame, Record, Throwable

HEADER = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{3})?(?:Z|[+-]\d{2}:?\d{2})?)\s+"
    r"(?P<rest>.*)$")
LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\b")
THREAD = re.compile(r"\[([^\]]+)\]")
LOGGER_MSG = re.compile(r"(?P<logger>[\w$.]+)\s+(?:-|:)\s(?P<msg>.*)$")
CLASS_LINE = re.compile(
    r"^(?:Caused by: |Suppressed: |Exception in thread \"[^\"]*\" )?"
    r"(?P<cls>[a-zA-Z_$][\w$]*(?:\.[\w$]+)+)(?::\s?(?P<msg>.*))?$")
AT_LINE = re.compile(r"^at (?:[\w.$@-]+/)?(?P<cm>[\w$.<>]+)\.(?P<m>[\w$<>]+)"
                     r"\((?P<loc>[^)]*)\)(?:\s*~?\[(?P<mod>[^\]]*)\])?")
MORE = re.compile(r"^\.\.\. (\d+) (?:more|common frames omitted)")


def _ts(s: str) -> int:
    s = s.replace(",", ".").replace(" ", "T")
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


class _T:
    def __init__(self, cls: str, msg: str | None, depth: int) -> None:
        self.cls, self.msg, self.depth = cls, msg, depth
        self.frames: list[Frame] = []
        self.omitted = 0
        self.cause: _T | None = None
        self.suppressed: list[_T] = []

    def freeze(self) -> Throwable:
        return Throwable(self.cls, self.msg, tuple(self.frames), self.omitted,
                         self.cause.freeze() if self.cause else None,
                         tuple(s.freeze() for s in self.suppressed))


def parse_throwable(lines: list[str]) -> Throwable | None:
    root: _T | None = None
    stack: list[_T] = []  # open throwables by indentation depth
    for raw in lines:
        lead = raw[: len(raw) - len(raw.lstrip())]
        depth = lead.count("\t") + (len(lead) - lead.count("\t")) // 4
        s = raw.strip()
        if root is None:
            m = CLASS_LINE.match(s)
            if m and not s.startswith(("Caused by", "Suppressed")):
                root = _T(m["cls"], m["msg"], 0)
                stack = [root]
            continue
        if (m := AT_LINE.match(s)) is not None:
            file, _, line = m["loc"].partition(":")
            stack[-1].frames.append(Frame(m["cm"], m["m"], file or None,
                                          int(line) if line.isdigit() else None, m["mod"]))
        elif (m := MORE.match(s)) is not None:
            stack[-1].omitted = int(m[1])
        elif s.startswith(("Caused by: ", "Suppressed: ")) and (m := CLASS_LINE.match(s)):
            t = _T(m["cls"], m["msg"], depth)
            if s.startswith("Suppressed"):
                while len(stack) > 1 and stack[-1].depth >= depth:
                    stack.pop()
                stack[-1].suppressed.append(t)
            else:
                while len(stack) > 1 and stack[-1].depth > depth:
                    stack.pop()
                stack[-1].cause = t
            stack.append(t)
    return root.freeze() if root else None


def parse_text(text: str, *, source: str = "<text>", layout: str | None = None) -> list[Record]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    starts = [i for i, ln in enumerate(lines) if HEADER.match(ln)]
    out: list[Record] = []
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        while end - 1 > i and not lines[end - 1].strip():
            end -= 1
        h = HEADER.match(lines[i])
        assert h is not None
        rest = h["rest"]
        level = LEVEL.search(rest)
        thread = THREAD.search(rest)
        after = rest[thread.end():] if thread else rest
        lm = LOGGER_MSG.search(after)
        message = lm["msg"] if lm else after.strip()
        body = lines[i + 1:end]
        # a throwable may also start on the header line's message
        thr = parse_throwable([message, *body])
        out.append(Record(source=source, line=i + 1, n_lines=end - i, ts_ms=_ts(h["ts"]),
                          level=level[1] if level else None,
                          thread=thread[1] if thread else None,
                          logger=lm["logger"] if lm else None, message=message,
                          text="\n".join(lines[i:end]), throwable=thr))
    return out


Parse = Callable[[str, str, str | None], list[Record]]


def splitter_parser(text: str, source: str, layout: str | None) -> list[Record]:
    return parse_text(text, source=source, layout=layout)


class _Engine:
    """The engine's ``logsleuth.api.parse_text``, through the runner's own seam."""

    def __call__(self, text: str, source: str, layout: str | None) -> list[Record]:
        from logsleuth.rules.testing import default_parse

        return default_parse(text, source, layout)

    def unavailable(self) -> str | None:
        """Why the engine cannot parse a known-good sample yet (None when it can)."""
        sample = "2024-03-11 14:02:17,123 ERROR [main] a.B - x\njava.lang.IllegalStateException\n"
        try:
            recs = self(sample, "<probe>", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5level [%t] %logger "
                        "- %msg%n")
        except Exception as exc:  # the engine is still being built: report why, do not hide
            return f"{type(exc).__name__}: {exc}"
        return None if len(recs) == 1 else f"probe parsed into {len(recs)} records"


engine_parser = _Engine()
