"""Layout inference for text application logs, from a sample of lines.

Modelled on Elastic's ``find_structure``: every sample line is cut into
tokens (a timestamp from the catalogue in ``tstamp``, a level word, a
``[bracketed]`` or ``(parenthesised)`` group, a number, a name, a word) with
the separators between them. The record-start structure is the longest run of
token slots on which most timestamped lines agree; each agreed slot gets a
role (date, level, thread, logger, pid) and the result is written as an
ordinary PatternLayout string, compiled by ``compile_pattern`` onto the same
fast path as a built-in layout. ``Inference.evidence`` says why each piece
was chosen, so the user can read the guess and override it with ``--pattern``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from logsleuth.errors import PatternError
from logsleuth.layouts.compile import CompiledLayout, compile_pattern
from logsleuth.layouts.tstamp import Stamp, date_family, find_stamp, settle_order

if TYPE_CHECKING:
    from logsleuth.layouts.mixed import Other

LEVELS = frozenset(("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "SEVERE",
                    "CONFIG", "FINE", "FINER", "FINEST", "NOTICE", "CRITICAL"))
MAX_SLOTS = 8  # tokens looked at before the message
MAX_LINES = 240  # sample lines tokenised (spread over the sample); all are scored
AGREE = 0.8  # share of the lines still agreeing that a slot needs
ALWAYS = 0.98  # a trailing group present on fewer lines is optional
USABLE_TS_SHARE = 0.5  # of timestamped lines the layout must read to be used at all
USABLE_SHARE = 0.1  # of header-looking lines: fewer is text with a few dates, not a log
MIN_NAME_LINES = 2  # a bare name is a logger only on this many lines ("LEAK: ..." is not)
CONFIDENT_TS_SHARE = 0.8  # of timestamped lines, to be used without a warning
CONFIDENT_SHARE = 0.5  # of header-looking lines, to be used without a warning
MIN_RECORDS = 2
TS_SLOTS = 3  # the timestamp is among the first three tokens (Cassandra: level, thread, date)

# a pipe separates fields with or without spaces around it (`a | b`, `a|b`)
_SEP = re.compile(r"[ \t]*(?:(?:-{1,3}|:|;|>)[ \t]+|\|[ \t]*)?")
_WORD = re.compile(r"\S+")
# a logger or class name; Tomcat's servlet loggers carry brackets: o.a.c.c.C.[.[.[/].[x]
_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:[.$/#-](?:[\w$]+|\[[\w$/.-]*\]?))*(?:[@:#]\d+)?")
_STRONG_SEPS = (": ", " : ", " - ", " | ", "|", " |", "| ", " -- ", " --- ", "; ")
_THREAD_LEVEL = re.compile(r"(.+)/(?:" + "|".join(sorted(LEVELS)) + ")")  # Minecraft: main/INFO
_THREAD_AT = re.compile(r"(.+):[A-Za-z_$][\w$]*@\d+")  # ZooKeeper: thread:Class@line
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FILE_LINE = re.compile(r"[\w$-]+\.[A-Za-z]+:\d+|\?:\?")  # %F:%L, '?:?' when unknown
_CLASS_NAME = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*")  # o.e.n.Node, a.b.Foo$Bar
_TRAILING_LOGGER = re.compile(r" \((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*\)$")


@dataclass(frozen=True, slots=True)
class Tok:
    """One token of a line: its kind, its text (inside brackets: the content), its separator."""

    kind: str  # ts bts level blevel bracket paren int name field word
    text: str
    sep: str  # raw text between the previous token and this one
    stamp: Stamp | None = None


_LEVEL_WORDS = LEVELS | {w.lower() for w in LEVELS}


def _is_level(word: str) -> bool:
    return word in _LEVEL_WORDS


def _closing(line: str, pos: int, open_: str, close: str) -> int:
    depth = 0
    for i in range(pos, len(line)):
        if line[i] == open_:
            depth += 1
        elif line[i] == close:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _token(line: str, pos: int, sep: str, dated: bool) -> tuple[Tok, int] | None:
    stamp = find_stamp(line, pos) if dated else None
    if stamp is not None:
        return Tok("ts", line[pos:stamp.end], sep, stamp), stamp.end
    ch = line[pos]
    if ch in "[(":
        end = _closing(line, pos, ch, "]" if ch == "[" else ")")
        if end > 0:
            inner = line[pos + 1:end]
            if ch == "(":
                return Tok("paren", inner, sep), end + 1
            inner_stamp = find_stamp(line, pos + 1) if dated else None
            if inner_stamp is not None and inner_stamp.end == end:
                return Tok("bts", inner, sep, inner_stamp), end + 1
            kind = "blevel" if _is_level(inner.strip()) else "bracket"
            return Tok(kind, inner, sep), end + 1
    m = _WORD.match(line, pos)
    if m is None:
        return None
    word = m.group()
    end = m.end()
    if sep.strip() == "|":  # pipe-delimited: a field runs to the next " |" (may hold spaces)
        bar = line.find("|", pos)
        if bar > pos:
            word = line[pos:bar].rstrip()
            end = pos + len(word)
        if not _is_level(word) and not word.isdigit():
            return Tok("field", word, sep), end
    if len(word) > 1 and word[-1] in ":;":
        word, end = word[:-1], end - 1  # "Logger:" - the colon opens the separator
    if _is_level(word):
        kind = "level"
    elif word.isdigit():
        kind = "int"
    elif _NAME.fullmatch(word):
        kind = "name"
    else:
        kind = "word"
    return Tok(kind, word, sep), end


def tokens(line: str) -> list[Tok]:
    """The first ``MAX_SLOTS + 1`` tokens of a line with their separators."""
    out: list[Tok] = []
    pos = 0
    while pos < len(line) and len(out) <= MAX_SLOTS:
        sep_end = _SEP.match(line, pos).end()  # type: ignore[union-attr]
        if sep_end >= len(line):
            break
        got = _token(line, sep_end, line[pos:sep_end], len(out) < TS_SLOTS)
        if got is None:
            break
        out.append(got[0])
        pos = got[1]
    return out


_BLANKS = re.compile(r"[ \t]+")


@functools.lru_cache(maxsize=256)
def _norm(sep: str) -> str:
    return _BLANKS.sub(" ", sep)


def _sig(tok: Tok) -> tuple[str, str]:
    kind = tok.kind
    if tok.stamp is not None:
        kind += ":" + tok.stamp.shape
    return kind, _norm(tok.sep)


@dataclass(slots=True)
class _Slot:
    kind: str
    sep: str  # normalised separator before it
    toks: list[Tok]
    role: str = ""
    share: float = 1.0  # of the lines agreeing so far that have this slot
    optional: bool = False
    lead: str | None = None  # an optional group before the slot it precedes: the gap after it


@dataclass(frozen=True, slots=True)
class Inference:
    """An inferred layout (or None), how much of the sample it reads, and why."""

    layout: CompiledLayout | None
    pattern: str | None
    explained: int  # header-looking sample lines the layout reads
    header_lines: int  # header-looking sample lines
    timestamped: int  # sample lines starting with a catalogued timestamp
    evidence: tuple[str, ...] = field(default=())
    # further layouts inferred from the timestamped lines this one does not read, with
    # how many of the sample's header-looking lines each reads (see ``other_layouts``)
    others: tuple[Other, ...] = ()

    @property
    def share(self) -> float:
        return self.explained / self.header_lines if self.header_lines else 0.0

    @property
    def usable(self) -> bool:
        """Reads most timestamped lines: most records start where it says."""
        return (self.layout is not None and self.explained >= 1
                and self.explained >= USABLE_TS_SHARE * self.timestamped
                and self.explained >= USABLE_SHARE * self.header_lines)

    @property
    def mixed(self) -> bool:
        """Usable, and with the other layouts nearly every timestamped line is read."""
        return (self.usable and bool(self.others) and self.explained + sum(
            o.lines for o in self.others) >= CONFIDENT_TS_SHARE * self.timestamped)

    @property
    def confident(self) -> bool:
        """Usable, on more than one record, reading nearly every timestamped line and
        most header-looking lines."""
        return (self.usable and self.explained >= MIN_RECORDS
                and self.explained >= CONFIDENT_TS_SHARE * self.timestamped
                and self.share >= CONFIDENT_SHARE)


def _agreeing(alive: list[list[Tok]], k: int) -> tuple[tuple[str, str], list[list[Tok]]] | None:
    counts = Counter(_sig(t[k]) for t in alive if len(t) > k)
    if not counts:
        return None
    sig, n = counts.most_common(1)[0]
    if n < AGREE * len(alive):
        return None
    return sig, [t for t in alive if len(t) > k and _sig(t[k]) == sig]


def _share(toks: Sequence[Tok], test: object) -> float:
    return sum(1 for t in toks if test(t)) / max(len(toks), 1)  # type: ignore[operator]


def _slots(lines: list[list[Tok]]) -> tuple[list[_Slot], list[list[Tok]]]:
    """Agreed slots before the message, and the lines that agree with all of them."""
    from logsleuth.layouts.bracketrun import bracket_run

    alive = lines
    slots: list[_Slot] = []
    seen: set[str] = set()
    k = 0
    while k < MAX_SLOTS:
        run = bracket_run(alive, k)
        if run is not None:  # [app] [thread] [correlation], the outer two optional
            added, alive = run
            slots.extend(added)
            k += len(added)
            continue
        got = _agreeing(alive, k)
        if got is None:
            break
        (kind, sep), chosen = got
        base = kind.split(":")[0]
        if k == 0 and base in ("word", "name") and _dated_next(chosen):
            # one token before the date on every line (a source file or host name that
            # a collector or a concatenation put there): read as the context, not a word
            slots.append(_Slot("prefix", sep, [t[0] for t in chosen],
                               share=len(chosen) / len(alive)))
            alive = chosen
            k += 1
            continue
        if base == "word" or (base in ("ts", "bts") and "ts" in seen):
            break
        if base in ("level", "blevel") and "level" in seen:
            break
        toks = [t[k] for t in chosen]
        key = _kv_key(toks) if base == "field" else None
        if key is not None and key not in seen:
            # a pipe-delimited column 'sid=...' with one key on every line (empty when
            # unset): an MDC value printed after its name, not the message's first word
            seen.add(key)
            slots.append(_Slot("kv", sep, toks, role=key, share=len(chosen) / len(alive)))
            alive = chosen
            k += 1
            continue
        if base in ("name", "field"):
            if "name2" in seen or len(chosen) < MIN_NAME_LINES:  # at most a thread and a logger
                break
            after = Counter(_norm(t[k + 1].sep) if len(t) > k + 1 else "" for t in chosen)
            strong = sum(n for s, n in after.items() if s in _STRONG_SEPS)
            # log4j 1's '%c (%F:%L) - ': the caller's place in parentheses, then the gap
            strong += sum(1 for t in chosen if len(t) > k + 2 and t[k + 1].kind == "paren"
                          and _norm(t[k + 1].sep) == " " and _norm(t[k + 2].sep) in _STRONG_SEPS
                          and _FILE_LINE.fullmatch(t[k + 1].text))
            dotted = _share(toks, lambda t: "." in t.text)
            if strong < AGREE * len(chosen) and dotted < AGREE:
                break
            seen.add("name2" if "logger" in seen else "logger")
        seen.add({"bts": "ts", "blevel": "level"}.get(base, base))
        slots.append(_Slot(base, sep, toks, share=len(chosen) / len(alive)))
        alive = chosen
        k += 1
    if not any(s.kind in ("ts", "bts") for s in slots[:TS_SLOTS]):
        return [], alive
    last = slots[-1]
    # a trailing [group] some records lack (Elasticsearch's node name before it is known)
    last.optional = last.optional or (last.kind in ("bracket", "paren") and last.share < ALWAYS)
    return slots, alive


_KV = re.compile(r"([A-Za-z_][\w.-]*)=\S*")


def _kv_key(toks: Sequence[Tok]) -> str | None:
    """The key of a column written ``key=value`` on nearly every line, or None."""
    keys = Counter(m.group(1) if (m := _KV.fullmatch(t.text)) else None for t in toks)
    key, n = keys.most_common(1)[0] if keys else (None, 0)
    return key if key is not None and n >= ALWAYS * len(toks) else None


def _dated_next(lines: list[list[Tok]]) -> bool:
    """Most lines have a timestamp right after their first token."""
    return _share([t[1] if len(t) > 1 else Tok("", "", "") for t in lines],
                  lambda t: t.kind in ("ts", "bts")) >= AGREE


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _pad_widths(slots: list[_Slot], alive: list[list[Tok]], msg_seps: list[str]
                ) -> dict[int, tuple[str, int]]:
    """(``-`` left-justify or ``""`` right-justify, width) per slot whose separators vary."""
    pads: dict[int, tuple[str, int]] = {}
    for i in range(1, len(slots) + 1):
        raws = [t[i].sep for t in alive if len(t) > i] if i < len(slots) else msg_seps
        lead = [len(r) - len(r.lstrip(" \t")) for r in raws]
        if len({len(r) for r in raws}) <= 1 and max(lead, default=0) <= 1:
            continue
        prev = slots[i - 1]
        base = 1 if _norm(raws[0]).startswith(" ") else 0
        if prev.kind not in ("ts", "bts") and prev.role not in ("pid",):
            widths = [len(t.text) + n - base for t, n in zip(prev.toks, lead, strict=False)]
            if prev.kind in ("level", "name", "int", "field"):
                pads[i - 1] = ("-", min(widths))
                continue
        if i < len(slots) and slots[i].kind in ("level", "int", "name", "field"):
            widths = [len(t.text) + n - base for t, n in zip(slots[i].toks, lead, strict=False)]
            pads[i] = ("", max(widths) if widths else 0)
    return pads


def _roles(slots: list[_Slot]) -> list[str]:
    """Give each slot its role; a bare word no role is left for ends the slots there."""
    why: list[str] = []
    taken: set[str] = set()
    later_bracket = [any(s.kind == "bracket" for s in slots[i + 1:]) for i in range(len(slots))]
    later_paren = [any(s.kind == "paren" for s in slots[i + 1:]) for i in range(len(slots))]
    for i, s in enumerate(slots):
        values = [t.text.strip() for t in s.toks]
        eg = next((v for v in values if v), "")
        if s.kind == "kv":
            why.append(f"'{s.role}=' column in slot {i + 1} read as %X{{{s.role}}}, e.g. '{eg}'")
            taken.add(s.role)
            continue
        if s.role:  # an optional group of a bracket run: its own field
            why.append(f"optional {s.role} in brackets in slot {i + 1}, e.g. '{eg}' (on "
                       f"{_share(s.toks, lambda t: bool(t.text)):.0%} of lines)")
            taken.add(s.role)
            continue
        if s.kind == "prefix":
            s.role = "source"
            why.append(f"a source before the date in slot {i + 1} (read as %cn), e.g. '{eg}'")
        elif s.kind in ("ts", "bts"):
            s.role = "date"
        elif s.kind in ("level", "blevel"):
            s.role = "level"
            seen = sorted(set(values))[:6]
            why.append(f"level in slot {i + 1}: {'/'.join(seen)}")
        elif s.kind in ("name", "field"):
            # of two bare names the one shaped like a class is the logger, the other the thread
            others = [o for o in slots if o is not s and o.kind in ("name", "field")]
            mine = _share(s.toks, lambda t: "." in t.text or t.text[:1].isupper())
            theirs = max((_share(o.toks, lambda t: "." in t.text or t.text[:1].isupper())
                          for o in others), default=-1.0)
            first = not others or slots.index(others[0]) > i
            s.role = ("logger" if "logger" not in taken and (mine > theirs or (
                mine == theirs and not first)) else "thread")
            if s.role == "logger" and any(" " in t.text for t in s.toks):
                s.role = "thread" if "thread" not in taken else f"field{i + 1}"
            if s.role in taken:  # a bare word after both: the message's own start
                del slots[i:]  # (JBoss's 'JBAS016200: ...' message codes)
                break
            why.append(f"{s.role} in slot {i + 1}, e.g. '{eg}'")
        elif s.kind in ("bracket", "paren") and _share(
                s.toks, lambda t: bool(_FILE_LINE.fullmatch(t.text))) >= AGREE:
            s.role = "location"
            why.append(f"caller file:line in slot {i + 1}, e.g. '{eg}'")
        elif s.kind in ("bracket", "paren"):
            named = _share(s.toks, lambda t: bool(_CLASS_NAME.fullmatch(t.text.strip())))
            # JBoss/WildFly: [category] (thread)
            dotted = _share(s.toks, lambda t: "." in t.text and " " not in t.text.strip())
            padded = any(t.text != t.text.rstrip() for t in s.toks)
            if dotted >= AGREE and (later_paren[i] or padded):  # [%-25c], [%c] (%t)
                named = 1.0
            if named >= AGREE and "logger" not in taken:
                s.role = "logger"
            elif "thread" not in taken:
                s.role = "thread"
            else:
                s.role = f"field{i + 1}"
            what = s.role + (":Class@line" if s.role == "thread" and _share(
                s.toks, lambda t: bool(_THREAD_AT.fullmatch(t.text))) >= AGREE else "/level"
                if s.role == "thread" and _share(
                    s.toks, lambda t: bool(_THREAD_LEVEL.fullmatch(t.text))) >= AGREE else "")
            why.append(f"{what} in {'brackets' if s.kind == 'bracket' else 'parentheses'}"
                       f" in slot {i + 1}, e.g. '{eg}'"
                       + (f" (optional: on {s.share:.0%} of lines)" if s.optional else ""))
        elif s.kind == "int" and "relative" not in taken and _counts_up(s.toks):
            s.role = "relative"  # log4j2's %r: ms since the JVM started, never a pid
        elif s.kind == "int":
            pair = i + 1 < len(slots) and slots[i + 1].kind == "int"  # logcat: pid tid
            s.role = ("pid" if pair or later_bracket[i] or "thread" in taken or "tid" in taken
                      else "tid")
            why.append(f"number in slot {i + 1} read as {s.role}, e.g. '{eg}'")
        taken.add(s.role)
    return why


_CONV = {"level": "p", "thread": "t", "logger": "c", "pid": "pid", "tid": "tid",
         "source": "cn", "relative": "r"}


def _counts_up(toks: Sequence[Tok]) -> bool:
    """A number column that never goes down and takes several values, not one step at a
    time: a clock (log4j2's %r), where a pid is one value per JVM, a thread id jumps about
    and a sequence number (%sn) climbs by one a record."""
    vals = [int(t.text) for t in toks if t.text.isdigit()]
    steps = [b - a for a, b in itertools.pairwise(vals)]
    rises = sum(d > 0 for d in steps)  # a pid rises only at restarts: a few times
    return (len(vals) >= 5 and bool(steps) and min(steps) >= 0
            and rises >= max(3, len(steps) // 10) and any(d > 1 for d in steps))


def _exact(toks: Sequence[Tok], norm: str) -> str:
    """The separator as written when every line writes it alike, else its normal form."""
    raws = {t.sep for t in toks}
    return raws.pop() if len(raws) == 1 else norm


def _coloured(parts: list[str]) -> str:
    """Each field and each visible separator in ``%clr(...)``: ANSI colours around them are
    then read (and may be absent), as Spring Boot's coloured console writes them."""
    out = []
    for k, part in enumerate(parts):
        core = part.strip(" ")
        if not core or part.startswith("%m"):
            out.append(part)
        elif k % 2 == 0:  # a separator: colour its visible part
            lead = part[: len(part) - len(part.lstrip(" "))]
            out.append(f"{lead}%clr({core}){part[len(lead) + len(core):]}")
        else:
            out.append(f"%clr({part})")
    return "".join(out)


def _render(slots: list[_Slot], pads: dict[int, tuple[str, int]], msg_sep: str,
            msg_exact: str, trailing_logger: bool, colour: bool = False) -> str:
    out: list[str] = []  # separator, field, separator, field, ..., message
    level_seen = any(s.role == "level" for s in slots)
    for i, s in enumerate(slots):
        padded = pads.get(i, ("-", 0))[0] == "" or (i - 1, "-") in {
            (k, j) for k, (j, _) in pads.items()}
        out.append(_escape(s.sep if padded else _exact(s.toks, s.sep)))
        if s.role == "date":
            java = Counter(t.stamp.java for t in s.toks if t.stamp).most_common(1)[0][0]
            conv = f"%d{{{java}}}"
            out.append(f"[{conv}]" if s.kind == "bts" else conv)
            continue
        name = _CONV.get(s.role, f"X{{{s.role}}}")
        if s.kind == "kv":
            out.append(f"{_escape(s.role)}=%X{{{s.role}}}")
            continue
        if s.role == "location":
            out.append("[%F:%L]" if s.kind == "bracket" else "(%F:%L)")
            continue
        if s.kind in ("blevel", "bracket", "paren"):
            inner = [t.text for t in s.toks]
            right = any(v != v.rstrip() for v in inner)
            left = any(v != v.lstrip() for v in inner)
            width = max(len(v) for v in inner)
            mod = f"-{width}" if right else (str(width) if left else "")
            group = f"[%{mod}{name}]" if s.kind != "paren" else f"(%{mod}{name})"
            if s.role == "thread" and not mod and _share(
                    s.toks, lambda t: bool(_THREAD_AT.fullmatch(t.text))) >= AGREE:
                group = "[%t:%C{1}@%L]"
            elif s.role == "thread" and not mod and not level_seen and _share(
                    s.toks, lambda t: bool(_THREAD_LEVEL.fullmatch(t.text))) >= AGREE:
                group = "[%t/%p]"
            if s.optional and s.lead is not None:  # the gap after it goes inside
                group = f"%notEmpty{{{group}{_escape(s.lead)}}}"
            elif s.optional:  # its separator goes inside: absent together
                group = f"%notEmpty{{{out[-1]}{group}}}"
                out[-1] = ""
            out.append(group)
            continue
        just, width = pads.get(i, ("", 0))
        out.append(f"%{just}{width if width > 0 else ''}{name}" if width > 0 else f"%{name}")
    out.append(_escape(msg_sep if pads.get(len(slots) - 1, ("", 0))[0] == "-" else msg_exact))
    out.append("%m%notEmpty{ (%c)}%n" if trailing_logger else "%m%n")
    return _coloured(out) if colour else "".join(out)


def date_place(toks: Sequence[Tok]) -> tuple[int, str, str, str] | None:
    """Where a line's date is (slot, bare or bracketed) and in which format family: the
    dominant candidate is built from the lines of one place, and lines of another are
    another layout's (``other_layouts``), never averaged into a shape neither writes."""
    return next(((k, x.kind, x.stamp.shape, date_family(x.stamp.java))
                 for k, x in enumerate(toks[:TS_SLOTS]) if x.stamp), None)


def infer_layout(sample_lines: Sequence[str], *, name_prefix: str = "inferred: ",
                 _others: bool = True) -> Inference:
    """Infer a PatternLayout from header-looking ``sample_lines`` (continuations dropped)."""
    lines = [ln.rstrip("\r\n") for ln in sample_lines]
    lines = [ln for ln in lines if ln.strip()]
    every = lines  # in file order: the line after each (a two-line layout beside)
    ordered = lines[:2 * MAX_LINES]  # in file order, for a level on the next line
    lines = lines[::max(1, len(lines) // MAX_LINES)][:MAX_LINES]  # spread over the sample
    colour = any("\x1b[" in ln for ln in lines)
    raw = lines  # scored as they are; read without their colours
    if colour:
        lines = [_ANSI.sub("", ln) for ln in lines]
        ordered = [_ANSI.sub("", ln) for ln in ordered]
    toks = [tokens(ln) for ln in lines]
    stamped = [t for t in toks if any(x.kind in ("ts", "bts") for x in t[:TS_SLOTS])]
    if not stamped:
        return Inference(None, None, 0, len(lines), 0,
                         ("no line starts with a timestamp of a known shape",))
    def shape(t: list[Tok]) -> str:
        return next(x.stamp.shape for x in t[:TS_SLOTS] if x.stamp)

    shapes = Counter(shape(t) for t in stamped)
    top = Counter(date_place(t) for t in stamped).most_common(1)[0][0]
    slots, alive = _slots([t for t in stamped if date_place(t) == top])  # others: other_layouts
    evidence = [f"timestamps ({', '.join(f'{s}: {n}' for s, n in shapes.most_common(3))}) "
                f"on {len(stamped)} of {len(lines)} lines"]
    if not slots:
        return Inference(None, None, 0, len(lines), len(stamped),
                         (*evidence, "the timestamped lines agree on no common start"))
    ts_slot = next(s for s in slots if s.kind in ("ts", "bts"))
    java = Counter(t.stamp.java for t in ts_slot.toks if t.stamp).most_common(1)[0][0]
    if "{a}" in java:
        nums = [t.stamp.fields for t in ts_slot.toks if t.stamp and t.stamp.fields]
        settled, why = settle_order(java, nums)
        ts_slot.toks = [Tok(t.kind, t.text, t.sep, Stamp(t.stamp.shape, settled, t.stamp.end))
                        if t.stamp else t for t in ts_slot.toks]
        evidence.append(why)
    evidence.extend(_roles(slots))
    n = len(slots)
    msg_seps = [t[n].sep for t in alive if len(t) > n]
    msg_sep = Counter(_norm(s) for s in msg_seps).most_common(1)[0][0] if msg_seps else " "
    if msg_seps and sum(1 for s in msg_seps if _norm(s) == msg_sep) < AGREE * len(msg_seps):
        msg_sep = " " if all(s[:1] in " \t" for s in msg_seps) else ""
    trailing = ("logger" not in {s.role for s in slots}
                and _share([Tok("", ln, "") for ln in lines if ln],
                           lambda t: bool(_TRAILING_LOGGER.search(t.text))) >= 0.5)
    if trailing:
        evidence.append("logger in parentheses at the end of the line")
    pads = _pad_widths(slots, alive, msg_seps)
    exact = set(msg_seps)
    msg_exact = exact.pop() if len(exact) == 1 else msg_sep
    pattern = _render(slots, pads, msg_sep, msg_exact, trailing, colour)
    if colour:
        evidence.append("ANSI colours on some lines: every field may be coloured")
    two_line = _two_line(ordered, slots, alive)
    if two_line:
        pattern = pattern.removesuffix("%m%n") + "%M%n%p: %m%n"
        evidence.append(f"level and message on the next line ({two_line})")
    try:
        layout = compile_pattern(pattern, name=name_prefix + pattern,
                                 description="inferred from the file's own lines")
    except PatternError as exc:  # a bug here: say so rather than guess on
        return Inference(None, pattern, 0, len(lines), len(stamped),
                         (*evidence, f"the inferred pattern does not compile: {exc}"))
    if two_line:  # each record's two lines are read together
        lines = ordered
        stamped_n = sum(1 for ln in lines if _stamped(ln))
        explained = 2 * _explained(layout, [f"{a}\n{b}" for a, b in itertools.pairwise(lines)])
        stamped_n *= 2
    else:
        hits = header_hits(layout, raw)
        explained, stamped_n = sum(hits), len(stamped)
    evidence.append(f"'{pattern}' reads {explained} of {len(lines)} header-looking lines "
                    f"({stamped_n} timestamped{' or following one' if two_line else ''})")
    others: tuple[Other, ...] = ()
    if _others and not two_line:
        from logsleuth.layouts.mixed import other_layouts

        others, why = other_layouts(hits, raw, name_prefix=name_prefix, ordered=every)
        evidence.extend(why)
    return Inference(layout, pattern, explained, len(lines), stamped_n, tuple(evidence),
                     others)


_LEVEL_LINE = re.compile("(?:" + "|".join(sorted(LEVELS)) + "): ")


def _stamped(line: str) -> bool:
    return any(x.kind in ("ts", "bts") for x in tokens(_ANSI.sub("", line))[:TS_SLOTS])


def _two_line(ordered: list[str], slots: list[_Slot], alive: list[list[Tok]]) -> str:
    """java.util.logging's SimpleFormatter: ``date class method`` then ``LEVEL: message``.

    Needs no level among the date line's slots, one word (the method) after them,
    and a ``LEVEL: `` line after most date lines. Returns the evidence, or "".
    """
    if any(s.role == "level" for s in slots) or not any(s.role == "logger" for s in slots):
        return ""
    if sum(1 for t in alive if len(t) == len(slots) + 1) < AGREE * max(len(alive), 1):
        return ""
    dated = [i for i, ln in enumerate(ordered[:-1]) if _stamped(ln)]
    followed = sum(1 for i in dated if _LEVEL_LINE.match(ordered[i + 1]))
    if not dated or followed < AGREE * len(dated):
        return ""
    return f"{followed} of {len(dated)} date lines"


def header_hits(layout: CompiledLayout, lines: list[str]) -> list[bool]:
    """Per line: does the layout read it as a record's first line (the engine's test)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(lines, pa.string())
    hit = pc.and_(pc.match_substring_regex(arr, layout.header_regex),
                  pc.is_valid(pc.extract_regex(arr, layout.fields_regex)))
    return hit.to_pylist()


def _explained(layout: CompiledLayout, lines: list[str]) -> int:
    return sum(header_hits(layout, lines))
