"""GitHub Actions workflow commands: one annotation per finding on its log line."""

from __future__ import annotations

from collections.abc import Sequence

from logsleuth.model import Severity
from logsleuth.rules.findings import Finding

COMMANDS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
            Severity.LOW: "notice", Severity.INFO: "notice"}


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        props = [f"file={_prop(str(f.example.get('path', '')))}"]
        if isinstance(f.example.get("line"), int):
            props.append(f"line={f.example['line']}")
        props.append(f"title={_prop(f'{f.rule}: {f.title}')}")
        msg = f"{f.count} occurrence(s) from {f.first_seen} to {f.last_seen}: {f.signature}"
        if f.advice:
            msg += f"\n{f.advice}"
        lines.append(f"::{COMMANDS[f.severity]} {','.join(props)}::{_data(msg)}")
    return "".join(line + "\n" for line in lines)
