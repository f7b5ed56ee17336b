"""JUnit XML for CI dashboards: one testcase per rule, failed when the rule fired."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from logsleuth.rules.findings import Finding
from logsleuth.rules.model import RuleInfo


def render_junit(findings: Sequence[Finding], rules: Sequence[RuleInfo]) -> str:
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    ids = sorted({r.id for r in rules} | set(by_rule))
    titles = {r.id: r.title for r in rules}
    suites = ET.Element("testsuites", name="logsleuth")
    suite = ET.SubElement(suites, "testsuite", name="logsleuth.rules", tests=str(len(ids)),
                          failures=str(sum(1 for i in ids if i in by_rule)), errors="0",
                          skipped="0")
    for rid in ids:
        case = ET.SubElement(suite, "testcase", classname="logsleuth.rules", name=rid)
        fired = by_rule.get(rid)
        if not fired:
            continue
        first = fired[0]
        total = sum(f.count for f in fired)
        fail = ET.SubElement(case, "failure", type=str(first.severity),
                             message=f"{titles.get(rid, first.title)}: {total} occurrence(s)")
        fail.text = "\n\n".join(
            f"{f.example.get('path')}:{f.example.get('line')}: {f.signature} "
            f"(x{f.count}, {f.first_seen} .. {f.last_seen})\n{f.advice}" for f in fired)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
