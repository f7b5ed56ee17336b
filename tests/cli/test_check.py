"""``logsleuth check``: the real CLI in-process over log files written here.

The incident log holds two identical netty OutOfDirectMemoryError records
(lines 2 and 10); the header line of each says the exception reached the tail
of the pipeline, and the top frame is PlatformDependent.incrementMemoryCounter.
So three built-in rules fire, once per fingerprint, twice each:
netty-out-of-direct-memory (critical), netty-direct-memory-counter-frame (high)
and netty-unhandled-pipeline-exception (medium).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from logsleuth.cli.app import run
from logsleuth.errors import ExitCode
from logsleuth.rules.api import list_rules

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = Path(__file__).parent / "golden"

OOM_TRACE = """\
{ts} WARN  [nioEventLoopGroup-3-7] io.netty.channel.DefaultChannelPipeline - An exceptionCaught() event was fired, and it reached at the tail of the pipeline. It usually means the last handler in the pipeline did not handle the exception.
io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory (used: {used}, max: 2147483648)
\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754) ~[netty-common-4.1.48.Final.jar:4.1.48.Final]
\tat io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner(PlatformDependent.java:709) ~[netty-common-4.1.48.Final.jar:4.1.48.Final]
\tat io.netty.buffer.PoolArena$DirectArena.allocateDirect(PoolArena.java:755) ~[netty-buffer-4.1.48.Final.jar:4.1.48.Final]
\tat io.netty.buffer.PooledByteBufAllocator.newDirectBuffer(PooledByteBufAllocator.java:339) ~[netty-buffer-4.1.48.Final.jar:4.1.48.Final]
\tat java.lang.Thread.run(Thread.java:748) [?:1.8.0_252]
"""
HEAP_OOM = """\
{ts} ERROR [http-nio-8080-exec-4] com.acme.report.ReportServlet - export failed
java.lang.OutOfMemoryError: Java heap space
\tat java.util.Arrays.copyOf(Arrays.java:3236)
\tat com.acme.report.CsvExporter.export(CsvExporter.java:57)
"""


def info(ts: str, msg: str) -> str:
    return f"{ts} INFO  [main] com.acme.push.PushServer - {msg}\n"


def incident_text() -> str:
    return (info("2024-03-11 14:02:16,001", "started on port 8080")  # line 1
            + OOM_TRACE.format(ts="2024-03-11 14:02:17,123", used=2147483584)  # 2-8
            + info("2024-03-11 14:02:18,000", "clients: 5210")  # 9
            + OOM_TRACE.format(ts="2024-03-11 14:02:20,500", used=2147483600)  # 10-16
            + info("2024-03-11 14:02:21,000", "clients: 5190"))  # 17


def healthy_text() -> str:
    return "".join(info(f"2024-03-11 14:02:{s:02d},000", f"clients: {5000 + s}")
                   for s in range(20))


FIRED = {"netty-out-of-direct-memory": "critical", "netty-direct-memory-counter-frame": "high",
         "netty-unhandled-pipeline-exception": "medium"}


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "app.log").write_text(incident_text(), encoding="utf-8")
    return d


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    d = tmp_path / "healthy"
    d.mkdir()
    (d / "app.log").write_text(healthy_text(), encoding="utf-8")
    return d


def check(*args: str | Path) -> int:
    """Defaults first, so a test's own --tz wins (the last value of an option counts)."""
    return run(["check", "--tz", "UTC", "--workers", "1", *map(str, args)])


def out_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


# -- exit codes -------------------------------------------------------------

def test_healthy_log_exits_0(healthy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(healthy, "--fail-on", "info", "-f", "json") == ExitCode.OK
    assert out_json(capsys)["findings"] == []


@pytest.mark.parametrize(("fail_on", "code"), [
    ("critical", ExitCode.FINDINGS), ("high", ExitCode.FINDINGS),
    ("info", ExitCode.FINDINGS), ("none", ExitCode.OK)])
def test_incident_fails_at_or_above_fail_on(logs: Path, fail_on: str, code: ExitCode) -> None:
    assert check(logs, "--fail-on", fail_on) == code


@pytest.mark.parametrize(("fail_on", "code"), [
    ("info", ExitCode.FINDINGS), ("medium", ExitCode.FINDINGS), ("high", ExitCode.OK),
    ("critical", ExitCode.OK)])
def test_only_the_medium_rule_fails_at_medium_and_below(logs: Path, fail_on: str,
                                                        code: ExitCode) -> None:
    assert check(logs, "--only", "netty-unhandled-pipeline-exception",
                 "--fail-on", fail_on) == code


def test_exclude_by_tag_leaves_nothing_to_fail(logs: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # every rule that fires here is tagged netty
    assert check(logs, "--exclude", "netty", "--fail-on", "info", "-f", "json") == ExitCode.OK
    assert out_json(capsys)["findings"] == []


def test_default_fail_on_is_high(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, "--exclude", "netty-out-of-direct-memory",
                 "--exclude", "netty-direct-memory-counter-frame") == ExitCode.OK
    assert check(logs, "--exclude", "netty-out-of-direct-memory") == ExitCode.FINDINGS


@pytest.mark.parametrize("args", [["--fail-on", "severe"], ["--format", "xml"],
                                  ["--tz", "Mars/Olympus"], ["--kind", "no-equals-sign"]])
def test_bad_option_values_exit_2(logs: Path, args: list[str],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, *args) == ExitCode.USAGE
    assert capsys.readouterr().out == ""


def test_broken_rule_exits_2_with_its_location(logs: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text(
        "id: bad\ntitle: Bad\nseverity: high\nmatch:\n  message:\n    regex: '(unclosed'\n")
    assert check(logs, "--rules", rules) == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    m = re.fullmatch(r"(.+):(\d+):(\d+): error\[(\w+)\]: .+", err[0])
    assert m is not None, err
    assert Path(m[1]) == rules / "bad.yaml" and int(m[2]) == 6  # the regex's line


def test_missing_path_is_reported_but_the_scan_goes_on(
        logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.log"
    assert check(missing, logs, "-f", "json") == ExitCode.FINDINGS
    captured = capsys.readouterr()
    assert {f["rule"] for f in json.loads(captured.out)["findings"]} == set(FIRED)
    assert f"{missing}: error[missing-path]:" in captured.err


def test_no_readable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert check(tmp_path / "gone.log", empty) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "error[missing-path]" in err and "error[no-input]" in err


def test_no_input_writes_no_baseline(tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    assert check(tmp_path / "gone.log", "--write-baseline", base) == ExitCode.USAGE
    assert not base.exists()


# -- formats -------------------------------------------------------------------

def test_json_findings(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, "-f", "json") == ExitCode.FINDINGS
    found = {f["rule"]: f for f in out_json(capsys)["findings"]}
    assert {r: f["severity"] for r, f in found.items()} == FIRED
    for f in found.values():
        assert f["count"] == 2
        assert f["first_seen"] == "2024-03-11T14:02:17.123+00:00"
        assert f["last_seen"] == "2024-03-11T14:02:20.500+00:00"
        assert re.fullmatch(r"[0-9a-f]{8,}", f["fingerprint"])
        assert (f["example"]["path"], f["example"]["line"]) == ("app.log", 2)


def test_tz_shifts_the_times(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["check", str(logs), "-f", "json", "--tz", "Europe/Berlin", "--workers", "1"])
    assert code == ExitCode.FINDINGS
    f = out_json(capsys)["findings"][0]
    assert f["first_seen"] == "2024-03-11T13:02:17.123+00:00"  # CET is UTC+1 in March


def test_output_file(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert check(logs, "-f", "json", "-o", out) == ExitCode.FINDINGS
    assert capsys.readouterr().out == ""
    assert len(json.loads(out.read_text())["findings"]) == len(FIRED)


def test_sarif_is_valid_and_points_at_the_log_line(
        logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, "-f", "sarif", "--path-prefix", "evidence/logs") == ExitCode.FINDINGS
    doc = out_json(capsys)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    run_ = doc["runs"][0]
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} == {i.id for i in list_rules()}
    results = {r["ruleId"]: r for r in run_["results"]}
    assert set(results) == set(FIRED)
    for r in results.values():
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "evidence/logs/app.log"
        assert loc["region"]["startLine"] == 2
    assert results["netty-out-of-direct-memory"]["level"] == "error"
    assert results["netty-unhandled-pipeline-exception"]["level"] == "warning"


def test_junit_one_testcase_per_rule(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, "-f", "junit") == ExitCode.FINDINGS
    root = ET.fromstring(capsys.readouterr().out)
    cases = root.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == sorted(i.id for i in list_rules())
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == set(FIRED)
    assert {n: f.get("type") for n, f in failed.items()} == FIRED
    assert "app.log:2" in failed["netty-out-of-direct-memory"].text


def test_github_annotations(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs, "-f", "github", "--path-prefix", "logs") == ExitCode.FINDINGS
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FIRED)
    parsed = [re.match(r"::(\w+) file=([^,]+),line=(\d+),title=([^:%]+)", ln) for ln in lines]
    assert all(parsed), lines
    got = {m[4]: (m[1], m[2], int(m[3])) for m in parsed if m}
    assert got == {"netty-out-of-direct-memory": ("error", "logs/app.log", 2),
                   "netty-direct-memory-counter-frame": ("error", "logs/app.log", 2),
                   "netty-unhandled-pipeline-exception": ("warning", "logs/app.log", 2)}


def test_text_output_golden(logs: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert check(logs) == ExitCode.FINDINGS
    captured = capsys.readouterr()
    got = captured.out.replace(str(tmp_path), "<tmp>")
    assert got == (GOLDEN / "check.txt").read_text(encoding="utf-8")
    assert captured.err.splitlines()[-1].endswith(": FAIL")


# -- baseline ------------------------------------------------------------------

def test_baseline_round_trip(logs: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "baseline.json"
    assert check(logs, "--write-baseline", base) == ExitCode.OK
    entries = json.loads(base.read_text())["findings"]
    assert {e["rule"] for e in entries} == set(FIRED)
    capsys.readouterr()

    assert check(logs, "--baseline", base, "--fail-on", "info", "-f", "json") == ExitCode.OK
    assert out_json(capsys)["findings"] == []

    # the same failures again later on are still known
    with (logs / "app.log").open("a", encoding="utf-8") as fh:
        fh.write(OOM_TRACE.format(ts="2024-03-11 14:03:00,000", used=2147483640))
    assert check(logs, "--baseline", base, "--fail-on", "info") == ExitCode.OK
    capsys.readouterr()

    # a new kind of failure is not
    with (logs / "app.log").open("a", encoding="utf-8") as fh:
        fh.write(HEAP_OOM.format(ts="2024-03-11 14:04:00,000"))
    assert check(logs, "--baseline", base, "-f", "json") == ExitCode.FINDINGS
    new = out_json(capsys)["findings"]
    assert [(f["rule"], f["example"]["line"]) for f in new] == [("jvm-heap-oom", 25)]


def test_unreadable_baseline_exits_2(logs: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text("{not json")
    assert check(logs, "--baseline", bad) == ExitCode.USAGE
    assert re.fullmatch(rf"{re.escape(str(bad))}:1:2: error\[B002\]: .+\n",
                        capsys.readouterr().err)


def test_the_same_failure_in_another_file_stays_accepted(
        logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Fingerprints hold no path, count or time (docs/ci.md promises this)."""
    base = tmp_path / "baseline.json"
    assert check(logs, "--write-baseline", base) == ExitCode.OK
    (logs / "app-2.log").write_text(OOM_TRACE.format(ts="2024-03-12 09:00:00,000", used=1024))
    assert check(logs, "--baseline", base, "--fail-on", "info") == ExitCode.OK
    assert check(logs, "--fail-on", "info") == ExitCode.FINDINGS


# -- docs/ci.md ------------------------------------------------------------------

def test_ci_doc_examples_use_real_options_and_valid_yaml() -> None:
    import typer
    import yaml

    from logsleuth.cli.app import build_app

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text()
    group = typer.main.get_command(build_app())
    cmd = group.get_command(None, "check")  # type: ignore[attr-defined]
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    blocks = re.findall(r"```(\w+)\n(.*?)```", doc, re.S)
    jobs = [yaml.safe_load(body) for lang, body in blocks if lang == "yaml"]
    assert len(jobs) == 2  # the GitHub Actions workflow and the GitLab job
    text = " ".join(body for _, body in blocks).replace(">\n", " ")
    used = set(re.findall(r"(?<=\s)--[a-z-]+", " ".join(re.findall(
        r"logsleuth check[^\n]*(?:\n\s+--[^\n]*)*", text))))
    assert used and used <= known, used - known
    for code in ExitCode:
        assert f"| {code.value} | `{code.name}` |" in doc


# -- app logs that could not be read -----------------------------------------------

# classified as an app log (level words), but no timestamp shape logsleuth knows
UNREAD_LOG = "<11/26 10:15> INFO something happened\n<11/26 10:16> ERROR boom\n"


def test_unread_app_log_exits_2_unless_allowed(healthy: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (healthy / "odd.log").write_text(UNREAD_LOG, encoding="utf-8")
    assert check(healthy) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "odd.log: error[unread-input]:" in err
    assert "1 app log(s) unread: FAIL" in err
    assert check(healthy, "--allow-unread") == ExitCode.OK
    assert "odd.log: warning[unread-input]:" in capsys.readouterr().err


def test_readable_logs_are_not_unread(healthy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(healthy) == ExitCode.OK
    assert "unread" not in capsys.readouterr().err


def test_a_pasted_trace_is_read_but_a_log_in_an_unknown_layout_is_not(
        healthy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No layout either way; the ticket is mostly its trace, the log mostly unparsed lines."""
    (healthy / "ticket.txt").write_text(
        "Customer says the push server died:\n"
        "java.lang.OutOfMemoryError: Java heap space\n"
        "\tat java.util.Arrays.copyOf(Arrays.java:3236)\n"
        "\tat com.acme.report.CsvExporter.export(CsvExporter.java:57)\n", encoding="utf-8")
    # the trace is read: its OutOfMemoryError is a finding (exit 1 at the default --fail-on)
    assert check(healthy) == ExitCode.FINDINGS
    assert "unread" not in capsys.readouterr().err
    (healthy / "odd.log").write_text(UNREAD_LOG * 5 + "java.lang.IllegalStateException: x\n"
                                     "\tat c.e.App.main(App.java:1)\n", encoding="utf-8")
    assert check(healthy) == ExitCode.USAGE
    assert "odd.log: error[unread-input]:" in capsys.readouterr().err
