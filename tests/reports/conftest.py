"""Findings from the built-in rule test logs, parsed with the rule tests' splitter."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from textparse import splitter_parser

from logsleuth.rules.api import find
from logsleuth.rules.findings import Finding
from logsleuth.rules.loader import load_rules
from logsleuth.rules.model import RuleInfo
from logsleuth.rules.testing import _strip

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rules() -> list[RuleInfo]:
    return [r.info for r in load_rules()]


@pytest.fixture(scope="session")
def findings() -> list[Finding]:
    records = []
    for log in sorted((REPO / "rules" / "netty").glob("*.test.log")):
        sections, _ = _strip(log.read_text())
        for sec in sections:
            recs = splitter_parser("\n".join(sec.lines) + "\n", str(log.relative_to(REPO)),
                                   sec.layout)
            records += [replace(r, line=sec.orig[r.line - 1]) for r in recs]
    return find(records, load_rules(only=["netty-out-of-direct-memory", "exception-in-encoder",
                                          "netty-unhandled-pipeline-exception"]))
