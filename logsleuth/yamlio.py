"""YAML parsed once, with node marks, by libyaml when PyYAML was built with it.

Layouts, metric definitions and rules are loaded on every scan; the pure-Python
parser took 80 ms of the scan's serial start-up for the built-in layouts alone
(each file was also parsed twice: once for marks, once for data).
"""

from __future__ import annotations

from typing import Any

import yaml

LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str) -> yaml.Node | None:
    """The node tree (with line marks) of one YAML document.

    On a syntax error the pure-Python parser runs again, so the message (and the
    golden files that show it) do not depend on whether libyaml is present.
    """
    try:
        return yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError:
        if LOADER is yaml.SafeLoader:
            raise
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_with_node(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the data it builds, from one parse."""
    node = compose(text)
    if node is None:
        return None, None
    return node, yaml.constructor.SafeConstructor().construct_document(node)


def line_of(node: yaml.Node, *path: str | int) -> int:
    """1-based line of the node at ``path`` (the nearest existing parent otherwise)."""
    for key in path:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        if nxt is None:
            break
        node = nxt
    return node.start_mark.line + 1
