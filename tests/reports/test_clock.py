"""Instants are shown in the evidence's own zone; the JSON keeps its instants.

Expectations are fixed before any scan: the bundled sample writes +01:00 (its app
log has no zone; nginx and the GC log say +01:00), and a generated Shanghai service
fails at a known instant, 2026-11-26 03:28:23.858 UTC = 11:28:23.858 +08:00.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import logsleuth
from logsleuth.cli.app import run
from logsleuth.errors import PatternError
from logsleuth.reports.clock import display_zone, evidence_zone, parse_zone
from logsleuth.reports.console import summary
from logsleuth.reports.html import render_html

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "incident"
ONSET = datetime(2026, 11, 26, 3, 28, 23, 858000, tzinfo=UTC)  # the generated failure
SHANGHAI = timedelta(hours=8)
ODM = ("io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 1024 byte(s) of "
       "direct memory (used: 1048071, max: 1048576)\n"
       "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
       "(PlatformDependent.java:743)\n")


def shanghai_service(root: Path, *, offsets: bool, nginx: bool) -> Path:
    """Two minutes of a push server on a Shanghai host, failing at ONSET.

    ``offsets``: the app log writes ``+08:00`` after each time; else it writes wall
    clock only. ``nginx``: an access log beside it, which writes ``+0800``.
    """
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    start = ONSET - timedelta(seconds=90)
    for k in range(90 * 4):
        t = start + timedelta(milliseconds=250 * k)
        lines.append((t, "INFO", f"Client connected: sessionId={k:08x}"))
    for k in range(30):
        t = ONSET + timedelta(milliseconds=100 * k)
        lines.append((t, "ERROR", "Unhandled exception\n" + ODM.rstrip("\n")))
    lines.sort(key=lambda x: x[0])
    text = []
    for t, level, msg in lines:
        local = (t + SHANGHAI).replace(tzinfo=None)
        stamp = f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d}"
        text.append(f"{stamp}{'+08:00' if offsets else ''} {level:<5} [nioEventLoopGroup-3-1] "
                    f"com.example.push.PushHandler - {msg}")
    (root / "push-server.log").write_text("\n".join(text) + "\n")
    if nginx:
        access = []
        for k in range(120):
            local = (start + timedelta(seconds=k) + SHANGHAI).replace(tzinfo=None)
            status = 502 if start + timedelta(seconds=k) >= ONSET else 101
            access.append(f'127.0.0.1 - - [{local:%d/%b/%Y:%H:%M:%S} +0800] "GET /ws HTTP/1.1" '
                          f'{status} 30 "-" "push-client/1.0" 0.010 0.010')
        (root / "nginx").mkdir(exist_ok=True)
        (root / "nginx" / "access.log").write_text("\n".join(access) + "\n")
    return root


PATTERN_PLAIN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"
PATTERN_ZONED = "%d{yyyy-MM-dd HH:mm:ss.SSSXXX} %-5level [%t] %logger{36} - %msg%n"


@pytest.fixture(scope="module")
def sample() -> logsleuth.ScanResult:  # type: ignore[name-defined]
    return logsleuth.scan(SAMPLE, keep_records=False)


def test_sample_is_shown_in_its_own_zone(sample) -> None:
    zone = evidence_zone(sample)
    assert (zone.name, zone.source) == ("+01:00", "inferred from nginx/access.log")
    text = summary(sample)
    assert text.splitlines()[0] == "Times in +01:00 (inferred from nginx/access.log)."
    # the onset once with UTC beside it; other instants in the zone alone
    assert "At 2026-11-26 11:28:23.858 +01:00 (10:28:23.858 UTC) the service began" in text
    assert "until 2026-11-26 11:28:29.087)" in text
    assert text.split("Findings")[0].count("UTC") == 1  # stated once, beside the onset
    # the findings table: the first OOM at 11:28:23.858 on the logs' clock
    table = text.split("Findings")[1].split("Inputs")[0]
    assert "11:28:23.858" in table and "10:28" not in table and "+00:00" not in table


def test_display_tz_utc_shows_utc_and_names_the_logs_clock(sample) -> None:
    text = summary(sample, display_zone(sample, "utc"))
    assert text.startswith("Times in UTC (--display-tz utc).\nAt 2026-11-26 10:28:23.858 UTC "
                           "(11:28:23.858 +01:00 in the logs) the service began")


def test_html_report_speaks_the_zone(sample) -> None:
    page = render_html(sample)
    assert "times in +01:00 (inferred from nginx/access.log)" in page
    assert "<title>Incident report — onset 2026-11-26 11:28:23.858 +01:00 (10:28:23.858 UTC)" \
        in page
    figure = json.loads(re.search(r'id="timeline-figure">(.*?)</script>', page, re.S)[1])
    assert figure["layout"]["xaxis"]["title"]["text"] == "time (+01:00)"
    (onset,) = [s for s in figure["layout"]["shapes"] if s["name"] == "onset"]
    assert onset["x0"].startswith("2026-11-26T11:28:23.858")  # wall clock of +01:00
    # the embedded incident JSON keeps its instants
    incident = json.loads(re.search(r'id="incident-json">(.*?)</script>', page, re.S)[1])
    assert incident == sample.incident.to_json()


@pytest.mark.parametrize(("offsets", "nginx", "tz", "name", "source"), [
    (False, True, None, "+08:00", "inferred from nginx/access.log"),
    (True, False, None, "+08:00", "written in push-server.log"),
    (False, False, "Asia/Shanghai", "Asia/Shanghai", "--tz"),
])
def test_shanghai_service_is_shown_in_shanghai_time(tmp_path: Path, offsets: bool, nginx: bool,
                                                    tz: str | None, name: str,
                                                    source: str) -> None:
    root = shanghai_service(tmp_path / "ev", offsets=offsets, nginx=nginx)
    result = logsleuth.scan(root, pattern=PATTERN_ZONED if offsets else PATTERN_PLAIN, tz=tz,
                            workers=1)
    inc = result.incident.to_json()
    assert inc["onset"].startswith("2026-11-26T03:28:23.858")  # the instant, in UTC
    zone = evidence_zone(result)
    assert (zone.name, zone.source) == (name, source)
    text = summary(result)
    assert text.splitlines()[0] == f"Times in {name} ({source})."
    assert f"At 2026-11-26 11:28:23.858 {name} (03:28:23.858 UTC) the service" in text
    table = text.split("Findings")[1].split("Inputs")[0]
    assert "11:28:23.858" in table and "03:28" not in table  # on the Shanghai clock


def test_zone_less_app_log_read_as_utc_is_shown_as_written(tmp_path: Path) -> None:
    """No --tz and no sibling that lines up: the app log's wall clock was read as UTC,
    so UTC shows its times as the log writes them, whatever an unrelated log says."""
    root = shanghai_service(tmp_path / "ev", offsets=False, nginx=False)
    (root / "access.log").write_text(  # a day away: nothing lines up, nothing is inferred
        '127.0.0.1 - - [27/Nov/2026:09:00:00 +0800] "GET / HTTP/1.1" 200 1 "-" "x" 0.001 0.001\n')
    result = logsleuth.scan(root, pattern=PATTERN_PLAIN, workers=1)
    zone = evidence_zone(result)
    assert (zone.name, zone.source) == (
        "UTC", "the app logs carry no zone and none was given (--tz): read as UTC")
    assert "At 2026-11-26 11:28:23.858 UTC the service began" in summary(result)


def test_reopened_store_keeps_the_zone_the_logs_write(tmp_path: Path) -> None:
    root = shanghai_service(tmp_path / "ev", offsets=True, nginx=False)
    result = logsleuth.scan(root, pattern=PATTERN_ZONED, workers=1)
    assert result.written_zones == {"push-server.log": "+08:00"}
    again = logsleuth.open(result.to_parquet(tmp_path / "store"))
    assert summary(again) == summary(result)
    assert summary(again).startswith("Times in +08:00 (written in push-server.log).")


def test_onset_on_another_day_in_utc_shows_the_utc_date(tmp_path: Path) -> None:
    zone = display_zone(None, "+08:00")
    assert zone.with_utc("2026-11-26T17:00:00.000Z") == \
        "2026-11-27 01:00:00.000 +08:00 (2026-11-26 17:00:00.000 UTC)"


def test_cli_display_tz_leaves_json_byte_identical(tmp_path: Path) -> None:
    root = shanghai_service(tmp_path / "ev", offsets=False, nginx=True)
    outs = []
    for extra in ([], ["--display-tz", "utc"], ["--display-tz", "America/New_York"]):
        out = tmp_path / f"out{len(outs)}.json"
        assert run(["scan", str(root), "-f", "json", "--pattern", PATTERN_PLAIN, "--workers",
                    "1", "--no-progress", "-o", str(out), *extra]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    assert b'"onset": "2026-11-26T03:28:23.858' in outs[0]
    text = tmp_path / "out.txt"
    html = tmp_path / "r.html"
    assert run(["scan", str(root), "--pattern", PATTERN_PLAIN, "--workers", "1",
                "--no-progress", "-o", str(text), "--html", str(html),
                "--display-tz", "America/New_York"]) == 0
    shown = text.read_text()
    assert shown.startswith("Times in America/New_York (--display-tz).\n"
                            "At 2026-11-25 22:28:23.858 America/New_York "
                            "(2026-11-26 03:28:23.858 UTC)")
    assert "times in America/New_York (--display-tz)" in html.read_text()


def test_bad_display_tz_fails_before_the_scan(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "no-such-dir", "--display-tz", "Mars/Olympus"]) == 2
    assert "error[bad-timezone]: unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    with pytest.raises(PatternError):
        display_zone(None, "+25:00")


def test_zone_labels_as_the_inputs_write_them() -> None:
    assert parse_zone("+0100")[1] == parse_zone("UTC+01:00")[1] == "+01:00"
    assert parse_zone("+01:00 (inferred)")[1] == "+01:00"
    assert parse_zone("-05:30")[1] == "-05:30"
    assert parse_zone("+00:00")[1] == "UTC"
    assert parse_zone("from-log") is None and parse_zone("unknown") is None
    assert display_zone(None, "local").name  # this machine's zone, whatever it is


def test_check_text_is_on_the_evidence_clock(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = shanghai_service(tmp_path / "ev", offsets=False, nginx=True)
    base = ["check", str(root), "--pattern", PATTERN_PLAIN, "--workers", "1", "--fail-on",
            "none"]
    outs = {}
    for name, extra in (("text", []), ("utc", ["--display-tz", "utc"]),
                        ("json", ["-f", "json"]), ("json-utc", ["-f", "json", "--display-tz",
                                                                 "utc"])):
        assert run([*base, *extra]) == 0
        outs[name] = capsys.readouterr().out
    first_oom = ("CRITICAL netty-out-of-direct-memory x30 (peak 30/min) "
                 "2026-11-26T11:28:23.858+08:00 .. 2026-11-26T11:28:26.758+08:00")
    assert first_oom in outs["text"]
    assert "2026-11-26T03:28:23.858+00:00 .. 2026-11-26T03:28:26.758+00:00" in outs["utc"]
    assert outs["json"] == outs["json-utc"]  # machine formats keep their instants
    assert '"first_seen": "2026-11-26T03:28:23.858+00:00"' in outs["json"]
