"""What bytes a simple regex can match, position by position.

The regex-free field extractor (``logsleuth.engine.fastfields``) needs two facts
about a layout's regexes: the per-position byte classes of a fixed-width part (a
timestamp such as ``\\d{4}-\\d{2}-\\d{2} ...``) and the set of bytes a variable
field can hold (to prove its delimiter cannot occur inside it). Both come from
Python's own regex parser; the layouts use only syntax that RE2 and Python read
alike. Anything unusual answers ``None`` and the caller keeps RE2. Classes follow
RE2 on binary input (Latin-1, ASCII ``\\d``/``\\s``/``\\w``).
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+: the parser behind ``re``
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - older interpreters keep the old names
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

ByteSet = frozenset[int]
ALL: ByteSet = frozenset(range(256))
_DIGIT = frozenset(range(48, 58))
_SPACE = frozenset(b"\t\n\f\r ")  # RE2's \s: no \v
_WORD = _DIGIT | frozenset(range(65, 91)) | frozenset(range(97, 123)) | {95}
_CATEGORY: dict[Any, ByteSet] = {
    _c.CATEGORY_DIGIT: _DIGIT, _c.CATEGORY_NOT_DIGIT: ALL - _DIGIT,
    _c.CATEGORY_SPACE: _SPACE, _c.CATEGORY_NOT_SPACE: ALL - _SPACE,
    _c.CATEGORY_WORD: _WORD, _c.CATEGORY_NOT_WORD: ALL - _WORD,
}


class _Unsupported(Exception):
    pass


def _parse(regex: str) -> Any:
    try:
        return _p.parse(regex)
    except (re.error, RecursionError, OverflowError):
        raise _Unsupported from None


def _char(op: Any, av: Any) -> ByteSet | None:
    """The bytes of a one-character item, or None when it is not one."""
    if op is _c.LITERAL:
        if av > 127:
            raise _Unsupported  # a UTF-8 character is several bytes
        return frozenset((av,))
    if op is _c.NOT_LITERAL:
        return ALL - {av}
    if op is _c.ANY:
        return ALL - {10}
    if op is _c.IN:
        out: set[int] = set()
        negate = False
        for iop, iav in av:
            if iop is _c.NEGATE:
                negate = True
            elif iop is _c.LITERAL:
                if iav > 127:
                    raise _Unsupported
                out.add(iav)
            elif iop is _c.RANGE:
                lo, hi = iav
                if hi > 127:
                    raise _Unsupported
                out.update(range(lo, hi + 1))
            elif iop is _c.CATEGORY and iav in _CATEGORY:
                out |= _CATEGORY[iav]
            else:
                raise _Unsupported
        return frozenset(ALL - out if negate else out)
    return None


def _fixed(items: Any) -> list[ByteSet]:
    """Per-position classes of a sequence that always matches the same length."""
    out: list[ByteSet] = []
    for op, av in items:
        one = _char(op, av)
        if one is not None:
            out.append(one)
        elif op is _c.SUBPATTERN:
            out.extend(_fixed(av[-1]))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] == av[1]:
            out.extend(_fixed(av[2]) * av[0])
        else:
            raise _Unsupported
    return out


def _alphabet(items: Any) -> set[int]:
    out: set[int] = set()
    for op, av in items:
        one = _char(op, av)
        if one is not None:
            out |= one
        elif op is _c.SUBPATTERN:
            out |= _alphabet(av[-1])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            out |= _alphabet(av[2])
        elif op is _c.BRANCH:
            for branch in av[1]:
                out |= _alphabet(branch)
        else:
            raise _Unsupported
    return out


def fixed_classes(regex: str) -> list[ByteSet] | None:
    """Classes per position when ``regex`` only matches strings of one length."""
    try:
        return _fixed(_parse(regex))
    except _Unsupported:
        return None


def alphabet(regex: str) -> ByteSet | None:
    """Every byte a match of ``regex`` can contain (None when unknown)."""
    try:
        return frozenset(_alphabet(_parse(regex)))
    except _Unsupported:
        return None


def leading_fixed(regex: str) -> list[ByteSet]:
    """Classes of the fixed-width start of an anchored regex: a necessary condition.

    Stops at the first item whose width varies; empty when ``regex`` is not
    anchored with ``^`` or starts with something unknown.
    """
    try:
        items = list(_parse(regex))
    except _Unsupported:
        return []
    if not items or items[0] != (_c.AT, _c.AT_BEGINNING):
        return []
    out: list[ByteSet] = []
    stack = items[:0:-1]  # remaining items, next one last
    while stack:
        op, av = stack.pop()
        if op is _c.SUBPATTERN:
            stack.extend(reversed(list(av[-1])))
            continue
        try:
            out.extend(_fixed([(op, av)]))
        except _Unsupported:
            break
    return out


def star_class(regex: str, *, lazy: bool = False) -> ByteSet | None:
    """The class C when ``regex`` is exactly ``C*`` (any string of C's bytes); with
    ``lazy``, exactly ``C*?`` (the shortest such string that lets the rest match)."""
    try:
        items = list(_parse(regex))
        while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
            items = list(items[0][1][-1])
        if len(items) != 1 or items[0][0] is not (_c.MIN_REPEAT if lazy else _c.MAX_REPEAT):
            return None
        lo, hi, sub = items[0][1]
        sub = list(sub)
        if lo != 0 or hi != _c.MAXREPEAT or len(sub) != 1:
            return None
        return _char(*sub[0])
    except _Unsupported:
        return None
