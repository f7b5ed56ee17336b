"""The built-in rule pack passes its own annotated test logs, and the runner can fail."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textparse import Parse

from logsleuth.rules.loader import load_rules
from logsleuth.rules.testing import test_rules as run_rule_tests

PACK_IDS = {"netty-out-of-direct-memory", "netty-direct-memory-counter-frame",
            "jdk-direct-buffer-oom", "netty-resource-leak", "jvm-heap-oom",
            "netty-unhandled-pipeline-exception", "exception-in-encoder"}


def test_builtin_pack_passes_its_tests(builtin_dir: Path, parse: Parse) -> None:
    report = run_rule_tests([builtin_dir], parse=parse)
    assert report.ok, report.render()
    assert not report.untested, report.untested
    for rid, res in report.results.items():
        assert res.positives >= 2 and res.negatives >= 1, rid


def test_builtin_pack_has_the_required_ids() -> None:
    ids = {r.id for r in load_rules(check_builtins=True)}
    assert ids >= PACK_IDS


def _plain(value: object) -> object:
    """A rule as nested tuples; a compiled regex as its pattern (RE2 objects compare by
    identity, and its compile cache may hand out a fresh one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,
                *((f.name, _plain(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "pattern") and hasattr(value, "search"):
        return ("regex", value.pattern)
    return value


def test_builtin_pack_loads_alike_schema_checked_or_not() -> None:
    """A scan loads the pack without its schema check (the tests here check it): every
    rule must come out the same either way."""
    unchecked, checked = load_rules(), load_rules(check_builtins=True)
    assert len(unchecked) >= len(PACK_IDS)
    assert [_plain(r) for r in unchecked] == [_plain(r) for r in checked]


def test_select_by_id_and_tag() -> None:
    assert {r.id for r in load_rules(only=["jvm-heap-oom"])} == {"jvm-heap-oom"}
    netty = {r.id for r in load_rules(only=["netty"])}
    assert "exception-in-encoder" in netty and "jvm-heap-oom" not in netty
    assert "jvm-heap-oom" not in {r.id for r in load_rules(exclude=["heap"])}


RULE = """\
id: my-rule
title: mine
severity: low
advice: fix it
match:
  message: {contains: "boom"}
"""

LOG = """\
# ruleid: my-rule
2024-03-11 14:00:00,000 ERROR [main] a.B - boom here
# ok: my-rule
2024-03-11 14:00:01,000 ERROR [main] a.B - boom again
# ruleid: my-rule
2024-03-11 14:00:02,000 ERROR [main] a.B - quiet
2024-03-11 14:00:03,000 ERROR [main] a.B - unannotated boom
# ruleid: no-such-rule
2024-03-11 14:00:04,000 ERROR [main] a.B - x
# todoruleid: my-rule
2024-03-11 14:00:05,000 ERROR [main] a.B - boom: a known miss that now matches
# ok: my-rule
"""


def test_runner_reports_misses_and_unexpected_at_original_lines(tmp_path: Path,
                                                                 parse: Parse) -> None:
    (tmp_path / "my-rule.yaml").write_text(RULE)
    (tmp_path / "my-rule.test.log").write_text(LOG)
    (tmp_path / "other.yaml").write_text(RULE.replace("my-rule", "other"))
    report = run_rule_tests([tmp_path], parse=parse)
    log = str(tmp_path / "my-rule.test.log")
    res = report.results["my-rule"]
    assert not report.ok
    assert [str(x) for x in res.missed] == [f"{log}:6:1"]
    assert [str(x) for x in res.unexpected] == [f"{log}:4:1", f"{log}:7:1"]
    assert [str(x) for x in res.todo_fixed] == [f"{log}:11:1"]
    codes = sorted((d.code, str(d.location)) for d in report.diagnostics)
    assert codes == [("T001", f"{log}:8:1"), ("T002", f"{log}:12:1")]
    assert report.untested == ["other"]
