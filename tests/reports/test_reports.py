"""SARIF validates against the official schema; JUnit and GitHub output carry the findings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from logsleuth.errors import ExitCode, InputError
from logsleuth.reports.github import render_github
from logsleuth.reports.junit import render_junit
from logsleuth.reports.sarif import render_sarif
from logsleuth.rules.api import apply_baseline, exit_code_for, render_check
from logsleuth.rules.baseline import write_baseline
from logsleuth.rules.findings import Finding
from logsleuth.rules.model import RuleInfo

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


def test_sarif_is_valid_and_points_at_log_lines(findings: list[Finding],
                                                rules: list[RuleInfo]) -> None:
    doc = json.loads(render_sarif(findings, rules))
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    run = doc["runs"][0]
    driver_rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in driver_rules} == {r.id for r in rules}
    assert len(run["results"]) == len(findings) >= 3
    for res in run["results"]:
        rule = driver_rules[res["ruleIndex"]]
        assert rule["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("rules/netty/")
        assert loc["region"]["startLine"] >= 2  # annotation lines precede every record
    ooom = next(r for r in driver_rules if r["id"] == "netty-out-of-direct-memory")
    assert ooom["help"]["text"].startswith("Compare")
    assert ooom["defaultConfiguration"]["level"] == "error"


def test_junit_has_one_testcase_per_rule_failed_when_fired(findings: list[Finding],
                                                          rules: list[RuleInfo]) -> None:
    root = ET.fromstring(render_junit(findings, rules))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {r.id for r in rules}
    failed = {n for n, c in cases.items() if c.find("failure") is not None}
    assert failed == {"netty-out-of-direct-memory", "exception-in-encoder",
                      "netty-unhandled-pipeline-exception"}
    assert suite.get("failures") == "3" and suite.get("tests") == str(len(rules))


def test_github_annotations(findings: list[Finding]) -> None:
    lines = render_github(findings).splitlines()
    assert len(lines) == len(findings)
    for line, f in zip(lines, findings, strict=True):
        head, _, body = line.partition("::")[2].partition("::")
        level, _, props = head.partition(" ")
        assert level == ("error" if f.severity in ("critical", "high") else "warning")
        assert f"file={f.example['path']},line={f.example['line']}," in props
        assert "\n" not in body and "%0A" in body  # advice follows on an escaped new line


def test_render_check_formats_and_exit_codes(findings: list[Finding],
                                            rules: list[RuleInfo]) -> None:
    for fmt in ("text", "json", "sarif", "junit", "github"):
        assert render_check(findings, fmt, rules)
    assert json.loads(render_check(findings, "json"))["findings"][0]["rule"] == findings[0].rule
    with pytest.raises(ValueError, match="unknown format"):
        render_check(findings, "html")
    assert exit_code_for(findings, "critical") == ExitCode.FINDINGS
    assert exit_code_for([f for f in findings if f.severity != "critical"], "critical") \
        == ExitCode.OK
    assert exit_code_for(findings, "none") == ExitCode.OK


def test_baseline_round_trip(tmp_path: Path, findings: list[Finding]) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(findings[:2], path)
    assert apply_baseline(findings, path) == findings[2:]
    assert apply_baseline(findings, None) == findings
    path.write_text("{not json")
    with pytest.raises(InputError) as info:
        apply_baseline(findings, path)
    assert str(info.value) == f"{path}:1:2: error[B002]: baseline is not JSON: " \
                              "Expecting property name enclosed in double quotes"
