"""``jsonthrown.render_throwable`` over whole Arrow columns, for exception floods.

An incident log is often a flood of one exception: rendering each record's
throwable in Python cost ~75 us a record. Here every level of the throwable type
(frames, ``suppressed`` lists, the ``cause`` chain, which Arrow types as nested
structs) is rendered with Arrow kernels for all rows at once, recursing over the
*type*, not the rows. The output is the same text, byte for byte (a test checks
it against the Python renderer on the real twin run).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.layouts.jsonthrown import _FRAMES_KEYS, _MESSAGE_KEYS, _NAME_KEYS

_MAX_DEPTH = 64


def _field(arr: pa.StructArray, names: tuple[str, ...]) -> pa.Array | None:
    """First of ``names`` present in the struct type, as a column with the parent's nulls."""
    for name in names:
        if arr.type.get_field_index(name) >= 0:
            child = pc.struct_field(arr, name)
            if pa.types.is_null(child.type):
                continue
            return child
    return None


def _text(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None or pa.types.is_null(arr.type):
        return pa.nulls(n, pa.string())
    return pc.cast(arr, pa.string())


def _coalesced(arr: pa.StructArray, names: tuple[str, ...]) -> pa.Array:
    out = pa.nulls(len(arr), pa.string())
    for name in names:
        if arr.type.get_field_index(name) >= 0:
            child = pc.struct_field(arr, name)
            if not pa.types.is_null(child.type) and not pa.types.is_struct(child.type):
                out = pc.coalesce(out, pc.cast(child, pa.string()))
    return out


def _joined(parts: list[pa.Array], sep: str) -> pa.Array:
    """Non-null parts joined by ``sep`` per row, null when the first part is null.

    (``binary_join_element_wise``'s own null skipping drops rows when a separator
    is given as a scalar (pyarrow 26), so the skipping is spelled out.)
    """
    acc = parts[0]
    for part in parts[1:]:
        both = pc.binary_join_element_wise(acc, part, sep)
        acc = pc.if_else(pc.is_valid(part), both, acc)
    return acc


def _frames(frames: pa.StructArray) -> pa.Array:
    """``at cls.method(File.java:12) ~[jar:version]`` per frame object."""
    n = len(frames)
    cls = _coalesced(frames, ("class", "className", "declaringClass"))
    method = _coalesced(frames, ("method", "methodName"))
    file = _coalesced(frames, ("file", "fileName"))
    line = _field(frames, ("line", "lineNumber"))
    line = pa.nulls(n, pa.int64()) if line is None else pc.cast(line, pa.int64())
    native = pc.fill_null(pc.equal(line, -2), False)
    if frames.type.get_field_index("nativeMethod") >= 0:
        flag = pc.struct_field(frames, "nativeMethod")
        if pa.types.is_boolean(flag.type):
            native = pc.or_(native, pc.fill_null(flag, False))
    with_line = pc.binary_join_element_wise(file, pc.cast(line, pa.string()), ":")
    loc = pc.if_else(pc.fill_null(pc.greater_equal(line, 0), False), with_line, file)
    loc = pc.if_else(native, "Native Method", pc.fill_null(loc, "Unknown Source"))
    text = pc.binary_join_element_wise("at ", cls, ".", method, "(", loc, ")", "")
    where = _coalesced(frames, ("location",))
    version = _coalesced(frames, ("version",))
    exact = _field(frames, ("exact",))
    exact = (pa.array([False] * n) if exact is None or not pa.types.is_boolean(exact.type)
             else pc.fill_null(exact, False))
    ext = pc.binary_join_element_wise(
        pc.if_else(exact, " [", " ~["), pc.fill_null(where, "?"), ":",
        pc.fill_null(version, "?"), "]", "")
    has_ext = pc.or_(pc.is_valid(where), pc.is_valid(version))
    ext = pc.if_else(has_ext, ext, "")
    ok = pc.and_(pc.is_valid(cls), pc.is_valid(method))
    return pc.if_else(ok, pc.binary_join_element_wise(text, ext, ""), None)


def _per_row(lists: pa.Array, items: pa.Array, sep: str) -> pa.Array:
    """Join rendered list items back per row (null for null or empty lists)."""
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    kind = pa.LargeListArray if pa.types.is_large_list(lists.type) else pa.ListArray
    regrouped = kind.from_arrays(offsets, items, mask=pc.is_null(lists))
    joined = pc.binary_join(regrouped, sep)
    return pc.if_else(pc.fill_null(pc.equal(joined, ""), True), None, joined)


def _flat(lists: pa.Array) -> pa.Array:
    values = lists.values
    start, end = lists.offsets[0].as_py(), lists.offsets[-1].as_py()
    return values.slice(start, end - start)


def render_column(arr: pa.StructArray, indent: str = "", caption: str = "",
                  depth: int = 0) -> pa.Array:
    """Trace text per row of a struct column (null where a row holds no throwable)."""
    n = len(arr)
    name = _coalesced(arr, _NAME_KEYS)
    message = _coalesced(arr, _MESSAGE_KEYS)
    header = _joined([pc.binary_join_element_wise(indent + caption, name, ""), message], ": ")
    frames = _field(arr, _FRAMES_KEYS)
    parts = [header]
    as_string = None
    has_more = pa.array([False] * n)
    if frames is not None and (pa.types.is_list(frames.type)
                               or pa.types.is_large_list(frames.type)):
        has_more = pc.is_valid(frames)
        items = _flat(frames)
        if pa.types.is_struct(items.type):
            lines = _frames(items)
        elif pa.types.is_string(items.type):
            lines = pc.utf8_trim_whitespace(items)
        else:
            lines = pa.nulls(len(items), pa.string())
        lines = pc.binary_join_element_wise(indent + "\t", lines, "")
        parts.append(_per_row(frames, lines, "\n"))
    elif frames is not None and pa.types.is_string(frames.type) and depth == 0:
        as_string = pc.utf8_rtrim(frames, "\n")
    common = _field(arr, ("commonElementCount",))
    if common is not None and pa.types.is_integer(common.type):
        more = pc.binary_join_element_wise(indent + "\t... ", pc.cast(common, pa.string()),
                                           " more", "")
        parts.append(pc.if_else(pc.fill_null(pc.greater(common, 0), False), more, None))
        has_more = pc.or_(has_more, pc.is_valid(common))
    if depth < _MAX_DEPTH:
        sup = _field(arr, ("suppressed",))
        if sup is not None and pa.types.is_list(sup.type) and pa.types.is_struct(
                sup.type.value_type):
            has_more = pc.or_(has_more, pc.is_valid(sup))
            rendered = render_column(_flat(sup), indent + "\t", "Suppressed: ", depth + 1)
            parts.append(_per_row(sup, rendered, "\n"))
        cause = _field(arr, ("cause",))
        if cause is not None and pa.types.is_struct(cause.type):
            has_more = pc.or_(has_more, pc.is_valid(cause))
            parts.append(render_column(cause, indent, "Caused by: ", depth + 1))
    text = _joined(parts, "\n")
    # at the top, a throwable is a class name plus frames, a cause, suppressed or a
    # common count; nested ones need only their name (as ``jsonthrown._render``)
    shaped = pc.fill_null(has_more, False) if depth == 0 else pa.array([True] * n)
    text = pc.if_else(pc.and_(pc.is_valid(header), shaped), text, None)
    if as_string is not None:
        text = pc.if_else(pc.and_(pc.is_valid(name), pc.is_valid(as_string)), as_string, text)
    return text
