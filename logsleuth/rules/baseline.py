"""Baselines: accept the findings you already know about, fail only on new ones.

A baseline is a small JSON file of (rule, fingerprint) pairs with the title and
count for humans; matching uses only rule + fingerprint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from logsleuth.errors import InputError
from logsleuth.rules.findings import Finding

BASELINE_VERSION = 1


def write_baseline(findings: Iterable[Finding], path: str | Path) -> None:
    entries = sorted(({"rule": f.rule, "fingerprint": f.fingerprint, "title": f.title,
                       "signature": f.signature, "count": f.count} for f in findings),
                     key=lambda e: (e["rule"], e["fingerprint"]))
    doc = {"version": BASELINE_VERSION, "findings": entries}
    Path(path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def load_baseline(path: str | Path) -> frozenset[tuple[str, str]]:
    """The (rule, fingerprint) pairs of a baseline file."""
    p = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError.at(p, "B001", f"cannot read baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError.at(p, "B002", f"baseline is not JSON: {exc.msg}", exc.lineno,
                            exc.colno) from None
    if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION \
            or not isinstance(doc.get("findings"), list):
        raise InputError.at(p, "B003", f"not a logsleuth baseline (version {BASELINE_VERSION})",
                            1, 1)
    try:
        return frozenset((str(e["rule"]), str(e["fingerprint"])) for e in doc["findings"])
    except (KeyError, TypeError):
        raise InputError.at(p, "B003", "baseline entry without rule and fingerprint", 1,
                            1) from None


def filter_new(findings: Iterable[Finding], baseline: frozenset[tuple[str, str]]
               ) -> list[Finding]:
    """Findings whose rule + fingerprint are not in the baseline."""
    return [f for f in findings if (f.rule, f.fingerprint) not in baseline]
