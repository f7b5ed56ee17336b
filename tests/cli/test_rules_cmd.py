"""``logsleuth rules list|test|lint``: the real CLI in-process over rule dirs written here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from logsleuth.cli.app import run
from logsleuth.errors import ExitCode
from logsleuth.rules.api import lint_rules, list_rules

GOLDEN = Path(__file__).parent / "golden"
LAYOUT = "# layout: %d{yyyy-MM-dd HH:mm:ss,SSS} %-5level [%t] %logger - %msg%n\n"

HEARTBEAT = """\
id: acme-heartbeat-missed
title: Push server missed a heartbeat
severity: low
tags: [acme, liveness]
advice: Look for a blocked event loop in the thread dumps.
match:
  message:
    contains: "heartbeat missed"
"""

HEARTBEAT_TEST = LAYOUT + """\
# ruleid: acme-heartbeat-missed
2024-03-11 14:02:16,001 WARN  [main] com.acme.push.Heartbeat - heartbeat missed for 3000 ms
# ok: acme-heartbeat-missed
2024-03-11 14:02:17,001 INFO  [main] com.acme.push.Heartbeat - heartbeat ok
"""

# lines 3, 6 and 8 are wrong: a missed positive, an unexpected match, an unknown rule
FAILING_TEST = LAYOUT + """\
# ruleid: acme-heartbeat-missed
2024-03-11 14:02:17,001 INFO  [main] com.acme.push.Heartbeat - heartbeat ok
# a comment line the runner strips
2024-03-11 14:02:18,001 WARN  [main] com.acme.push.Heartbeat - heartbeat missed for 9000 ms
# ruleid: no-such-rule
2024-03-11 14:02:19,001 INFO  [main] com.acme.push.Heartbeat - heartbeat ok
"""

# One problem of each kind, each at a line and column a reader can check:
BROKEN = {
    # R020 at 7:12: the regex value after "regex: " starts in column 12
    "bad-regex.yaml": "id: bad-regex\ntitle: Bad regex\nseverity: high\nadvice: none\n"
                      "match:\n  message:\n    regex: '(unclosed'\n",
    # R010 at 4:1 (unknown field) and R012 at 3:11 (severity value)
    "typo.yaml": "id: typo\ntitle: Typo\nseverity: urgent\nadvise: restart\n"
                 "match:\n  message:\n    contains: heartbeat missed\n",
    # R032 at 1:5 (id value), plus W102 (no advice) and W103 (no test) at the same place
    "renamed.yaml": "id: other-name\ntitle: Renamed\nseverity: low\n"
                    "match:\n  message:\n    contains: heartbeat missed\n",
    # R001 invalid YAML: an unclosed flow sequence, found at the end of the text (3:1)
    "yaml.yaml": "id: yaml\ntitle: [unclosed\n",
}


@pytest.fixture
def good_rules(tmp_path: Path) -> Path:
    d = tmp_path / "good"
    d.mkdir()
    (d / "acme-heartbeat-missed.yaml").write_text(HEARTBEAT)
    (d / "acme-heartbeat-missed.test.log").write_text(HEARTBEAT_TEST)
    return d


@pytest.fixture
def broken_rules(tmp_path: Path) -> Path:
    d = tmp_path / "broken"
    d.mkdir()
    for name, text in BROKEN.items():
        (d / name).write_text(text)
    return d


# -- list ---------------------------------------------------------------------

def test_list_json_is_the_api_list(good_rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "list", "--rules", str(good_rules), "-f", "json"]) == ExitCode.OK
    got = json.loads(capsys.readouterr().out)["rules"]
    assert [r["id"] for r in got] == [i.id for i in list_rules([good_rules])]
    mine = next(r for r in got if r["id"] == "acme-heartbeat-missed")
    assert (mine["severity"], mine["tags"], mine["line"]) == ("low", ["acme", "liveness"], 1)
    assert Path(mine["source"]) == good_rules / "acme-heartbeat-missed.yaml"


def test_list_text_has_one_row_per_rule(good_rules: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "list", "--rules", str(good_rules), "--only", "acme"]) == ExitCode.OK
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["ID", "SEVERITY", "TAGS", "TITLE"]
    assert [r.split()[:3] for r in rows[1:]] == [["acme-heartbeat-missed", "low",
                                                  "acme,liveness"]]


def test_list_builtins_and_bad_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "list", "-f", "json"]) == ExitCode.OK
    ids = [r["id"] for r in json.loads(capsys.readouterr().out)["rules"]]
    assert "netty-out-of-direct-memory" in ids and ids == sorted(ids)
    assert run(["rules", "list", "-f", "yaml"]) == ExitCode.USAGE


def test_list_with_a_broken_dir_exits_2(broken_rules: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "list", "--rules", str(broken_rules)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert re.fullmatch(r"\S+:\d+:\d+: error\[R\d+\]: .+\n", err), err


# -- test ---------------------------------------------------------------------

def test_passing_rule_tests_exit_0(good_rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "test", str(good_rules)]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("ok   acme-heartbeat-missed: 1 positive, 1 negative")


def test_builtin_rule_tests_pass() -> None:
    assert run(["rules", "test"]) == ExitCode.OK


def test_failing_rule_tests_exit_1_at_each_line(good_rules: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    log = good_rules / "acme-heartbeat-missed.test.log"
    log.write_text(FAILING_TEST)
    assert run(["rules", "test", str(good_rules)]) == ExitCode.FINDINGS
    out = capsys.readouterr().out
    located = set(re.findall(rf"{re.escape(str(log))}:(\d+):\d+: ([\w ]+)", out))
    # record lines 3 (missed) and 5 (unexpected); annotation line 6 names no rule
    assert ("3", "missed") in located and ("5", "unexpected") in located
    assert ("6", "error") in located and "no-such-rule" in out


# -- lint ---------------------------------------------------------------------

def test_lint_builtins_has_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "lint"]) == ExitCode.OK
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("0 error(s), ") and not any("error[" in ln for ln in out)


def test_lint_warnings_only_exit_0(good_rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (good_rules / "acme-heartbeat-missed.test.log").unlink()
    assert run(["rules", "lint", str(good_rules)]) == ExitCode.OK
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{good_rules / 'acme-heartbeat-missed.yaml'}:1:")
    assert "warning[W103]" in out[0] and out[-1] == "0 error(s), 1 warning(s)"


def test_lint_broken_dir_lists_every_problem(broken_rules: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "lint", str(broken_rules)]) == ExitCode.FINDINGS
    lines = capsys.readouterr().out.splitlines()
    problems = lint_rules([broken_rules])
    assert lines[:-1] == [d.render() for d in problems]
    codes = {(Path(d.location.path).name, d.code) for d in problems}
    assert {("bad-regex.yaml", "R020"), ("typo.yaml", "R010"), ("typo.yaml", "R012"),
            ("renamed.yaml", "R032"), ("yaml.yaml", "R001")} <= codes


def test_lint_broken_dir_golden(broken_rules: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "lint", str(broken_rules)]) == ExitCode.FINDINGS
    got = capsys.readouterr().out.replace(str(tmp_path), "<tmp>")
    assert got == (GOLDEN / "rules-lint-broken.txt").read_text(encoding="utf-8")


def test_lint_missing_dir_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "lint", str(tmp_path / "nope")]) == ExitCode.FINDINGS
    assert "error[R033]" in capsys.readouterr().out
