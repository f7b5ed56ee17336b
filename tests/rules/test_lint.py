"""lint_rules: every bad input kind reported once, at its exact file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsleuth.errors import RuleError
from logsleuth.rules.lint import lint_rules
from logsleuth.rules.loader import load_rules

GOOD = """\
id: {id}
title: t
severity: low
advice: a
match:
  message: {{contains: "boom"}}
"""


def _lint(tmp_path: Path, name: str, text: str) -> list[str]:
    (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / f"{name}.test.log").write_text("")
    return [d.render() for d in lint_rules([tmp_path]) if d.code[0] != "W"]


def test_builtin_rules_lint_clean(builtin_dir: Path) -> None:
    assert [d.render() for d in lint_rules([builtin_dir])] == []


@pytest.mark.parametrize(("text", "expected"), [
    # invalid YAML: the flow sequence opened on line 2 is never closed
    ("id: x\nmatch: [a, b\n", "{p}:3:1: error[R001]: invalid YAML: expected ',' or ']', "
                              "but got '<stream end>'"),
    # duplicate key: the second `title` (line 3, column 1)
    (GOOD.format(id="x").replace("severity", "title: again\nseverity"),
     "{p}:3:1: error[R002]: duplicate key 'title'"),
    # unknown field at the top level and inside a condition (the key's position)
    (GOOD.format(id="x") + "severty: high\n", "{p}:7:1: error[R010]: unknown field 'severty'"),
    (GOOD.format(id="x").replace("contains", "contain"),
     "{p}:6:13: error[R010]: unknown field 'contain'"),
    # missing required field: reported at the mapping (1:1)
    ("id: x\ntitle: t\nmatch:\n  message: boom\n",
     "{p}:1:1: error[R011]: missing required field: 'severity'"),
    # bad enum value: at the value
    (GOOD.format(id="x").replace("severity: low", "severity: urgent"),
     "{p}:3:11: error[R012]: invalid value at severity: 'urgent' is not one of "
     "['info', 'low', 'medium', 'high', 'critical']"),
    # regex that RE2 rejects (backreference): at the regex value
    (GOOD.format(id="x").replace('{contains: "boom"}', "{regex: '(a)\\1'}"),
     "{p}:6:20: error[R020]: regex does not compile with RE2: invalid escape sequence: \\1"),
    # a field operator without a field: at the operator key
    (GOOD.format(id="x").replace('message: {contains: "boom"}', "gt: 5"),
     "{p}:6:3: error[R013]: 'gt' needs a 'field' beside it"),
    # unknown record kind: at the value
    (GOOD.format(id="x").replace('message: {contains: "boom"}', "kind: gc"),
     "{p}:6:9: error[R014]: unknown kind 'gc'; expected one of ['app-log', 'gc-log', "
     "'jvm-info', 'nginx-access', 'nginx-error', 'thread-dump', 'unknown']"),
    # id that does not match the file name
    (GOOD.format(id="other"), "{p}:1:5: error[R032]: rule id 'other' does not match file "
                              "name 'x.yaml'"),
])
def test_lint_locates_each_problem(tmp_path: Path, text: str, expected: str) -> None:
    p = str(tmp_path / "x.yaml")
    assert _lint(tmp_path, "x", text) == [expected.format(p=p)]


def test_duplicate_ids_and_empty_dirs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "a" / "dup.yaml").write_text(GOOD.format(id="dup"))
    (tmp_path / "b" / "dup.yaml").write_text("\n" + GOOD.format(id="dup"))
    diags = [d.render() for d in lint_rules([tmp_path / "a", tmp_path / "b",
                                             tmp_path / "empty"])]
    first, second = tmp_path / "a" / "dup.yaml", tmp_path / "b" / "dup.yaml"
    assert f"{second}:2:5: error[R030]: duplicate rule id 'dup' (first defined at " \
           f"{first}:1:5)" in diags
    assert f"{tmp_path / 'empty'}: error[R031]: no rule files (*.yaml) in directory" in diags
    with pytest.raises(RuleError, match="R030"):
        load_rules([tmp_path / "a", tmp_path / "b"], builtins=False)


def test_warnings_for_rules_that_run_on_every_record(tmp_path: Path) -> None:
    (tmp_path / "lvl.yaml").write_text(GOOD.format(id="lvl").replace(
        'message: {contains: "boom"}', "level: ERROR").replace("advice: a\n", ""))
    diags = {(d.code, str(d.location)) for d in lint_rules([tmp_path])}
    p = tmp_path / "lvl.yaml"
    assert diags == {("W101", f"{p}:4:1"), ("W102", f"{p}:1:5"), ("W103", f"{p}:1:5")}


def test_scan_loading_fails_on_first_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(GOOD.format(id="x").replace("contains", "contain"))
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtins=False)
    assert str(info.value) == f"{tmp_path / 'x.yaml'}:6:13: error[R010]: unknown field 'contain'"
