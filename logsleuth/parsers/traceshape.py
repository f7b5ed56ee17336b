"""Line shapes of Java stack traces and netty LEAK reports, wherever they appear.

One place for the regexes that recognise a trace in text nobody formatted for us
(stderr captures, pasted notes, lines whose prefix a wrapper removed): the kind
sniffer, the free-text grouper and the wrapper detector all use them. Patterns
are RE2-compatible strings (run by Arrow over whole chunks) with ``re`` twins for
samples.
"""

from __future__ import annotations

import re

_CLASS = r"(?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*"

# A frame: `at pkg.Cls.m(File.java:1)` after any indentation (or none, once a
# prefix such as `content: ` is gone), and LEAK-report frames without `at`.
FRAME = r"^\s*at (?:[\w.$-]+(?:@[\w.$-]+)?/{1,2})?[\w.$/<>]+\.[\w$<>-]+\([^)]*\)"
_LOCATION = r"\((?:[\w$.-]+\.(?:java|kt|scala|groovy|clj):\d+|Unknown Source|Native Method)\)"
LEAK_FRAME = r"^\s+(?:[\w.$-]+/{1,2})?[\w$<>]+(?:\.[\w$<>-]+)+" + _LOCATION + r"\s*$"
# Lines that continue a trace or a LEAK report once one has started.
BODY = (
    r"^(?:\s*at \S|\s*\.\.\. \d+ (?:more|common frames omitted)"
    r"|\s*(?:Caused by|Suppressed|Wrapped by): "
    r"|Recent access records:|Created at:|#\d+:\s*$|\s+Hint: "
    r"|Assembly (?:trace|site) from producer|Error has been observed"
    r"|\s+\S)"
)
# A line that opens a record on its own: a throwable header (optionally as a pasted
# cause, or `Exception in thread "x"`), or a netty leak report.
EXC_HEADER = (
    r'^(?:Exception in thread "[^"]*" |(?:Caused by|Suppressed): )?' + _CLASS
    + r"(?:Exception|Error|Throwable)(?::.*)?\s*$"
)
LEAK_HEAD = r"LEAK: \S+ was not called before it's garbage-collected"
# An exception named anywhere in a line: `... nested exception is a.b.FooException: x`.
BARE = r"(?:^|[\s\"'(\[=])" + _CLASS + r"(?:Exception|Error)(?:: \S|\s*$)"

TRACE_EVIDENCE_RE = re.compile(
    "|".join(f"(?:{p})" for p in (r"^\s*at [\w.$/]+\.[\w$<>-]+\([^)\n]*\)", LEAK_HEAD,
                                   r"^\s*Caused by: " + _CLASS, EXC_HEADER)),
    re.M)


def has_trace_evidence(text: str) -> bool:
    """True when ``text`` holds a frame, a cause, a throwable header or a LEAK report."""
    return TRACE_EVIDENCE_RE.search(text) is not None
