"""Escaping for the two places log text lands in the page: HTML and <script> JSON.

Log lines are attacker-controlled (a client picks its own user agent, URL and
websocket payload), so nothing from a log reaches the page unescaped.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

# Characters that could end a <script> element, open a comment/CDATA, or (U+2028/2029)
# end a JavaScript string in older engines; JSON allows their \u escapes everywhere.
_SCRIPT_UNSAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def esc(value: object) -> str:
    """HTML text and attribute values (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON safe to place between ``<script type="application/json">`` tags."""
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False, default=_default)
    return text.translate(_SCRIPT_UNSAFE)


def plot_text(value: object, limit: int = 300) -> str:
    """Text plotly renders as pseudo-HTML (hover, legend, annotations): escape it.

    Plotly decodes entities back for display, so the text reads as written.
    """
    s = "" if value is None else str(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=True)


def _finite(v: Any) -> Any:
    """NaN and infinities become null (JSON has no spelling for them)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def _default(o: object) -> object:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)
