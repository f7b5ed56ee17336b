"""logsleuth: log forensics for JVM services.

``scan``, ``ScanOptions``, ``parse_text``, ``open`` and ``query`` are imported on first use
(module ``__getattr__``), so ``import logsleuth`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ScanOptions", "about", "explain_layouts", "open", "parse_text", "query", "scan"]

_EXPORTS = {
    "about": ("logsleuth.bugreport", "about"),
    "scan": ("logsleuth.api", "scan"),
    "ScanOptions": ("logsleuth.options", "ScanOptions"),
    "parse_text": ("logsleuth.api", "parse_text"),
    "explain_layouts": ("logsleuth.api", "explain_layouts"),
    "open": ("logsleuth.store", "open_store"),
    "query": ("logsleuth.store", "query"),
}


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'logsleuth' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(target[0]), target[1])
