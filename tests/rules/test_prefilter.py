"""The candidate mask never drops a record that evaluate() would match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from textparse import splitter_parser

from logsleuth.model import Record
from logsleuth.rules.compile import MASK_STRATEGIES, RuleSet
from logsleuth.rules.conditions import glob_literal, regex_literal
from logsleuth.rules.loader import load_rules
from logsleuth.rules.testing import _strip


def _records(builtin_dir: Path) -> list[Record]:
    out: list[Record] = []
    for log in sorted(builtin_dir.rglob("*.test.log")):
        sections, _ = _strip(log.read_text())
        for sec in sections:
            out += splitter_parser("\n".join(sec.lines) + "\n", str(log), sec.layout)
    return out


@pytest.mark.parametrize("strategy", MASK_STRATEGIES)
def test_mask_keeps_every_match_and_drops_noise(builtin_dir: Path, strategy: str) -> None:
    records = _records(builtin_dir)
    compiled = RuleSet.compile(load_rules(), strategy=strategy)
    assert compiled.always == ()  # every built-in rule has needles
    mask = compiled.candidate_mask(pa.array([r.text for r in records]))
    matched = np.array([bool(compiled.evaluate(r)) for r in records])
    assert len(records) > 40 and matched.sum() > 20
    assert not (matched & ~mask).any()  # no match is ever dropped
    assert (~mask).sum() > 0  # and the prefilter does drop something
    # The per-record path agrees with a brute-force evaluation that ignores needles.
    for r in records:
        brute = {c.id for c in compiled.rules if c.match.matches(r)}
        assert {m.rule.id for m in compiled.evaluate(r)} == brute


def test_rule_without_needle_is_always_evaluated() -> None:
    from logsleuth.rules.model import Rule

    rule, _ = Rule.from_dict({"id": "gc-long-pause", "title": "t", "severity": "low",
                              "match": {"kind": "gc-log", "field": "pause_ms", "gt": 500}})
    assert rule is not None
    compiled = RuleSet.compile([rule])
    assert compiled.always == ("gc-long-pause",)
    texts = pa.array(["a", "b", None])
    assert compiled.candidate_mask(texts).tolist() == [True, True, True]
    kinds = pa.array(["app-log", "gc-log", "gc-log"]).dictionary_encode()
    assert compiled.candidate_mask(texts, kinds).tolist() == [False, True, True]
    rec = Record("gc.log", 3, 1, None, None, None, None, "Pause Young", "Pause Young",
                 kind="gc-log", fields={"pause_ms": "812.5"})  # type: ignore[arg-type]
    assert [m.rule.id for m in compiled.evaluate(rec)] == ["gc-long-pause"]


@pytest.mark.parametrize(("regex", "literal"), [
    (r"failed to allocate \d+ byte", "failed to allocate "),
    (r"^LEAK: \w+", "LEAK: "),
    (r"Cannot reserve \d+ bytes", "Cannot reserve "),
    (r"colou?r", "colo"),  # the optional u and everything after it is dropped
    (r"a|b", ""),  # top-level alternation: no single required literal
    (r"(?i)leak", ""),  # case-insensitive: a literal would be wrong
    (r"\(used: \d+", "(used: "),
])
def test_regex_literal(regex: str, literal: str) -> None:
    assert regex_literal(regex) == literal


def test_glob_literal() -> None:
    assert glob_literal("*PlatformDependent.incrementMemoryCounter") == \
        "PlatformDependent.incrementMemoryCounter"
    assert glob_literal("*.encode*") == ".encode"
