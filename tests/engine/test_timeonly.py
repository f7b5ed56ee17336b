"""Time-only layouts (``%d{HH:mm:ss.SSS}``): where the date comes from, and midnights.

The real evidence is logback's documented example pattern as a student's CloudSim
run wrote it (tests/data/public/timeonly/). Before this, its scan died with
``ValueError: date pattern 'HH:mm:ss.SSS' has no year`` (exit 3).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest

from logsleuth import api
from logsleuth.cli.app import run
from logsleuth.engine.local import make_units
from logsleuth.engine.timeonly import TimeOfDayClock, date_anchors, date_in_name
from logsleuth.layouts import compile_date_pattern, compile_pattern
from logsleuth.model import Kind

REAL = Path(__file__).parents[1] / "data/public/timeonly/cs441-hw3-input.log"
# what a person reads in the file: 81 lines, 75 of them start a record (the other
# six are banner lines and blank lines inside multi-line messages), 20:08:45.688
# to 20:30:23.993 on one day
LINES, RECORDS = 81, 75
FIRST_TOD, LAST_TOD = "20:08:45.688", "20:30:23.993"


def _utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def _place(tmp_path: Path, name: str, mtime: str | None = None) -> Path:
    target = tmp_path / name
    shutil.copyfile(REAL, target)
    if mtime is not None:
        t = _utc(mtime) / 1000
        os.utime(target, (t, t))
    return target


def _scan(paths: list[Path] | Path, **kw: object) -> api.ScanResult:  # type: ignore[name-defined]
    return api.scan(paths, workers=1, rules=False, analysis=False, **kw)


def _dates(result: object) -> tuple[list[str], list[str]]:
    diags = [d for d in result.diagnostics if d.code.startswith("time-only")]  # type: ignore[attr-defined]
    return [d.code for d in diags], [d.message for d in diags]


def test_real_time_only_log_scans_dated_by_its_modification_time(tmp_path: Path) -> None:
    _place(tmp_path, "cs441-hw3-input.log", mtime="2022-11-20T20:40:00")
    result = _scan(tmp_path)
    (stats,) = result.inputs
    assert (stats.lines, stats.records, stats.unparsed_lines) == (LINES, RECORDS, 0)
    assert stats.first_ts_ms == _utc(f"2022-11-20T{FIRST_TOD}")
    assert stats.last_ts_ms == _utc(f"2022-11-20T{LAST_TOD}")
    codes, messages = _dates(result)
    assert codes == ["time-only-date"]
    assert "modification time" in messages[0] and "2022-11-20" in messages[0]
    assert [d.level for d in result.diagnostics if d.code == "time-only-date"] == ["info"]


@pytest.mark.parametrize("name, day", [
    ("app-2022-11-19.log", "2022-11-19"),
    ("app.2022-11-19.0.log", "2022-11-19"),
    ("app_20221119.log", "2022-11-19"),
])
def test_date_in_the_file_name_wins_over_mtime(tmp_path: Path, name: str, day: str) -> None:
    _place(tmp_path, name, mtime="2022-11-25T10:00:00")
    result = _scan(tmp_path)
    assert result.inputs[0].first_ts_ms == _utc(f"{day}T{FIRST_TOD}")
    assert "file name" in _dates(result)[1][0]


def test_explicit_date_wins_over_everything(tmp_path: Path) -> None:
    _place(tmp_path, "app-2022-11-19.log", mtime="2022-11-25T10:00:00")
    result = _scan(tmp_path, date="2021-03-04")
    assert result.inputs[0].first_ts_ms == _utc(f"2021-03-04T{FIRST_TOD}")
    assert "--date" in _dates(result)[1][0]


def test_sibling_with_full_dates_gives_the_day(tmp_path: Path) -> None:
    _place(tmp_path, "console.log", mtime="2022-11-25T10:00:00")
    # nginx of the same host, 20:05-20:35 local (+01:00) on 18 Nov: the app log's
    # first time of day, 20:08:45, falls in it on that day only
    (tmp_path / "access.log").write_text("".join(
        f'10.0.0.{i} - - [18/Nov/2022:20:{5 + 10 * i:02d}:00 +0100] "GET /x HTTP/1.1" 200 12 '
        f'"-" "curl/7.1"\n' for i in range(4)))
    result = _scan(tmp_path)
    app = next(s for s in result.inputs if s.path == "console.log")
    assert app.first_ts_ms == _utc(f"2022-11-18T{FIRST_TOD}")
    assert "sibling" in _dates(result)[1][0] and "access.log" in _dates(result)[1][0]


def test_sibling_that_does_not_cover_the_time_of_day_is_not_used(tmp_path: Path) -> None:
    _place(tmp_path, "console.log", mtime="2022-11-25T21:00:00")
    (tmp_path / "access.log").write_text(
        '10.0.0.1 - - [18/Nov/2022:09:00:00 +0100] "GET /x HTTP/1.1" 200 12 "-" "curl/7.1"\n')
    result = _scan(tmp_path)
    app = next(s for s in result.inputs if s.path == "console.log")
    assert app.first_ts_ms == _utc(f"2022-11-25T{FIRST_TOD}")  # fell through to mtime


def test_midnight_rollover_carries_across_chunks() -> None:
    fmt = compile_date_pattern("HH:mm:ss.SSS")
    clock = TimeOfDayClock(fmt, date(2026, 11, 26), None)
    first = clock(pa.array(["23:59:58.000", "23:59:59.500"]))
    second = clock(pa.array(["00:00:01.000", "23:59:59.900", "00:00:02.000"]))
    assert first.to_pylist() == [_utc("2026-11-26T23:59:58"), _utc("2026-11-26T23:59:59.500")]
    # 23:59:59.900 logged just after 00:00:01 (an async appender) belongs to the 26th,
    # and must not push the next records to the 28th
    assert second.to_pylist() == [_utc("2026-11-27T00:00:01"), _utc("2026-11-26T23:59:59.900"),
                                  _utc("2026-11-27T00:00:02")]
    assert clock.days == 1


def test_dst_fall_back_hour_is_not_a_midnight() -> None:
    from zoneinfo import ZoneInfo

    fmt = compile_date_pattern("HH:mm:ss")
    clock = TimeOfDayClock(fmt, date(2026, 10, 25), ZoneInfo("Europe/Berlin"))
    got = clock(pa.array(["02:30:00", "02:59:00", "02:10:00", "03:30:00"])).to_pylist()
    assert clock.days == 0
    assert got[0] == _utc("2026-10-25T00:30:00")  # CEST, +02:00
    assert got[3] == _utc("2026-10-25T02:30:00")  # CET, +01:00


def test_mtime_dates_the_last_record_and_earlier_ones_go_back(tmp_path: Path) -> None:
    log = tmp_path / "night.log"
    log.write_text("23:59:58.000 [main] INFO  a.B - before\n"
                   "00:00:01.000 [main] INFO  a.B - after midnight\n"
                   "07:00:00.000 [main] INFO  a.B - morning\n")
    t = _utc("2026-11-27T08:00:00") / 1000
    os.utime(log, (t, t))
    result = _scan(tmp_path, pattern="%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n")
    (stats,) = result.inputs
    assert stats.first_ts_ms == _utc("2026-11-26T23:59:58")
    assert stats.last_ts_ms == _utc("2026-11-27T07:00:00")


def test_last_record_after_mtime_time_of_day_is_the_day_before(tmp_path: Path) -> None:
    log = tmp_path / "late.log"
    log.write_text("23:00:00.000 [main] INFO  a.B - one\n23:59:59.000 [main] INFO  a.B - two\n")
    t = _utc("2026-11-27T00:00:03") / 1000  # flushed and closed just after midnight
    os.utime(log, (t, t))
    result = _scan(tmp_path, pattern="%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n")
    assert result.inputs[0].first_ts_ms == _utc("2026-11-26T23:00:00")


def test_without_any_date_records_keep_no_timestamp_and_it_says_so() -> None:
    layout = compile_pattern("%d{HH:mm:ss.SSS} %msg%n")
    source = SimpleNamespace(path="x/console.log", mtime=None, splittable=False, size=0)
    planned = [SimpleNamespace(source=source, kind=Kind.APP_LOG, layout=layout,
                               head=b"10:00:00.000 hello\n")]
    diagnostics: list = []
    assert date_anchors(planned, None, None, diagnostics) == {}
    (d,) = diagnostics
    assert d.code == "time-only-undated" and "--date" in (d.help or "")


def test_date_in_name_ignores_impossible_dates() -> None:
    assert date_in_name("logs/app-2026-13-40.log") is None
    assert date_in_name("t.zip!logs/app-2026-11-26.log.gz") == date(2026, 11, 26)
    assert date_in_name("app.log.12345678901") is None


def test_time_only_inputs_are_not_split_between_workers() -> None:
    layout = compile_pattern("%d{HH:mm:ss.SSS} %msg%n")
    src = SimpleNamespace(path="big.log", fs_path="/nonexistent", size=10**9, splittable=True)
    planned = [SimpleNamespace(source=src, kind=Kind.APP_LOG, layout=layout, head=b"")]
    assert len(make_units(planned, 4)) == 1  # type: ignore[arg-type]


def test_cli_scan_of_the_real_file_exits_0_and_a_bad_date_exits_2(tmp_path: Path) -> None:
    _place(tmp_path, "cs441-hw3-input.log", mtime="2022-11-20T20:40:00")
    assert run(["scan", str(tmp_path), "--no-rules", "--no-analysis", "--workers", "1",
                "--no-progress"]) == 0
    assert run(["scan", str(tmp_path), "--date", "2022-02-30", "--no-progress"]) == 2


def test_parse_text_takes_a_date_for_time_only_layouts() -> None:
    text = "23:59:59.000 [main] INFO  a.B - x\n00:00:01.000 [main] INFO  a.B - y\n"
    records = api.parse_text(text, layout="%d{HH:mm:ss.SSS} [%t] %-5level %logger - %msg%n",
                             date="2026-11-26")
    assert [r.ts_ms for r in records] == [_utc("2026-11-26T23:59:59"),
                                          _utc("2026-11-27T00:00:01")]


def test_dated_app_log_sibling_gives_the_day_and_disagreeing_siblings_cancel(
        tmp_path: Path) -> None:
    _place(tmp_path, "console.log", mtime="2022-11-25T21:00:00")
    (tmp_path / "server.log").write_text("".join(
        f"2022-11-17 20:{m:02d}:00.000 INFO  [main] a.B - tick {m}\n" for m in range(0, 40, 5)))
    result = _scan(tmp_path)
    app = next(s for s in result.inputs if s.path == "console.log")
    assert app.first_ts_ms == _utc(f"2022-11-17T{FIRST_TOD}")
    assert "server.log" in _dates(result)[1][0]
    # an nginx log of another day: the siblings disagree, so neither is believed
    (tmp_path / "access.log").write_text(
        '10.0.0.1 - - [18/Nov/2022:20:05:00 +0000] "GET /x HTTP/1.1" 200 12 "-" "curl/7.1"\n'
        '10.0.0.1 - - [18/Nov/2022:20:35:00 +0000] "GET /x HTTP/1.1" 200 12 "-" "curl/7.1"\n')
    result = _scan(tmp_path)
    app = next(s for s in result.inputs if s.path == "console.log")
    assert app.first_ts_ms == _utc(f"2022-11-25T{FIRST_TOD}")
    assert "modification time" in _dates(result)[1][0]


EXPECTATIONS = Path(__file__).parents[1] / "data/public/expectations.yaml"
# layouts as our compiler spells them: JBoss's %s%E (message, then exception) is %m here
TIME_ONLY_PUBLIC = {
    "applogs/minecraft-1.10-latest.log": "[%d{HH:mm:ss}] [%t/%level]: %msg%n",
    "applogs/jboss-as-7.1-time-only-server.log": "%d{HH:mm:ss,SSS} %-5p [%c] (%t) %m%n",
    "applogs/jboss-eap-6-time-only-server.log": "%d{HH:mm:ss,SSS} %-5p [%c] (%t) %m%n",
}


@pytest.mark.parametrize("local", sorted(TIME_ONLY_PUBLIC))
def test_other_public_time_only_logs_are_dated(local: str) -> None:
    """The corpus's other time-only logs (JBoss, Minecraft), read with their layout and
    --date: every record dated on that day at the times the expectations file lists."""
    import re

    import yaml

    doc = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))
    expected = next(v[local] for v in doc.values() if isinstance(v, dict) and local in v)
    path = EXPECTATIONS.parent / local
    rx = re.compile(expected["record_start"])
    starts = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if rx.match(line))
    result = _scan(path, pattern=TIME_ONLY_PUBLIC[local], date="2016-12-01")
    (stats,) = result.inputs
    assert (stats.records, stats.unparsed_lines) == (starts, 0)
    assert stats.first_ts_ms == _utc(f"2016-12-01T{expected['first_tod']}")
    assert stats.last_ts_ms == _utc(f"2016-12-01T{expected['last_tod']}")
