"""Fingerprints: which matches are "the same problem".

Masking is its own named, ordered step (ids before hex before numbers) so the
same leak reported with different byte counts, thread ids or addresses lands in
one finding.
"""

from __future__ import annotations

import hashlib
import re

from logsleuth.model import Record
from logsleuth.rules.model import FingerprintOptions

MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("uuid", re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                        r"[0-9a-fA-F]{12}\b")),
    ("ip", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")),
    ("hex", re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")),
    ("number", re.compile(r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?")),
)
_FRAME_DIGITS = re.compile(r"\d+")


def mask(text: str) -> str:
    """Replace variable parts (ids, addresses, numbers) with ``<*>``."""
    for _name, rx in MASKS:
        text = rx.sub("<*>", text)
    return text


def fingerprint(rec: Record, opts: FingerprintOptions) -> tuple[str, str]:
    """(short stable hash, human-readable signature) of one matched record."""
    by = opts.by
    if by == "auto":
        by = "exception" if rec.throwable is not None else "message"
    parts: list[str] = []
    if by == "exception" and rec.throwable is not None:
        top, root = rec.throwable, rec.throwable.root_cause
        classes = [top.cls] if root is top else [top.cls, root.cls]
        frames = [_FRAME_DIGITS.sub("<*>", f.qualified) for f in root.frames[: opts.frames]]
        parts.append(" > ".join(classes) + (" @ " + " | ".join(frames) if frames else ""))
    elif by in ("message", "exception"):
        parts.append(mask(rec.message.strip()))
    for name in opts.fields:
        parts.append(f"{name}={rec.fields.get(name, '')}")
    signature = " ; ".join(parts)
    return hashlib.sha1(signature.encode()).hexdigest()[:16], signature
