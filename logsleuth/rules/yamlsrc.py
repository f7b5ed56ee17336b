"""YAML reading that keeps where every value came from.

Rules are plain data after loading, but every error must point at the line and
column of the offending key or value, so we compose the node graph ourselves
(``yaml.compose``) and turn it into data plus a ``Marks`` table keyed by the
path to each value. Duplicate keys are an error, not a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from logsleuth.errors import Diagnostic, SourceLocation
from logsleuth.yamlio import compose

# A path into the data: ("match", "all", 0, "message", "regex").
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Marks:
    """Line/column (1-based) of every value and every mapping key in one document."""

    path: str
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def at(self, where: KeyPath, *, key: bool = False) -> SourceLocation:
        """The location of ``where``, falling back to its nearest known parent."""
        table = self.keys if key else self.values
        probe = where
        while probe:
            if probe in table:
                line, col = table[probe]
                return SourceLocation(self.path, line, col)
            if probe in self.values:
                line, col = self.values[probe]
                return SourceLocation(self.path, line, col)
            probe = probe[:-1]
        line, col = self.values.get((), (1, 1))
        return SourceLocation(self.path, line, col)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _to_data(node: yaml.Node, where: KeyPath, marks: Marks, errors: list[Diagnostic],
             ctor: yaml.constructor.SafeConstructor) -> object:
    marks.values[where] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for knode, vnode in node.value:
            key = str(ctor.construct_object(knode))
            if key in out:
                line, col = _pos(knode)
                errors.append(Diagnostic(SourceLocation(marks.path, line, col), "R002",
                                         f"duplicate key {key!r}"))
                continue
            marks.keys[(*where, key)] = _pos(knode)
            out[key] = _to_data(vnode, (*where, key), marks, errors, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(v, (*where, i), marks, errors, ctor) for i, v in enumerate(node.value)]
    # Scalars: the safe constructor resolves ints, floats, bools and nulls.
    return ctor.construct_object(node)


def load_yaml(text: str, path: str) -> tuple[object, Marks, list[Diagnostic]]:
    """Parse one YAML document; returns data, marks and located problems."""
    marks = Marks(path)
    errors: list[Diagnostic] = []
    try:
        node = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = f"invalid YAML: {exc.problem or exc.context}"
        errors.append(Diagnostic(SourceLocation(path, line, col), "R001", msg))
        return None, marks, errors
    except yaml.YAMLError as exc:
        errors.append(Diagnostic(SourceLocation(path, 1, 1), "R001", f"invalid YAML: {exc}"))
        return None, marks, errors
    if node is None:
        errors.append(Diagnostic(SourceLocation(path, 1, 1), "R003", "empty rule file"))
        return None, marks, errors
    data = _to_data(node, (), marks, errors, yaml.constructor.SafeConstructor())
    return data, marks, errors
