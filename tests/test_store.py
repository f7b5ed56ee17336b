"""The event store: a real scan saved with to_parquet, reopened, and queried with SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import logsleuth
from logsleuth import store
from logsleuth.errors import InputError
from logsleuth.result import ScanResult

START = datetime(2020, 4, 14, 23, 58, 0, tzinfo=UTC)
N = 120  # one record every 2 s: 60 on the 14th, 60 on the 15th
NPE = (
    "java.lang.NullPointerException: null\n"
    "\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:88) ~[push.jar:1.4.2]\n"
    "\tat io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:107)"
    " ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
)
OOM = (
    "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory"
    " (used: 1073741760, max: 1073741824)\n"
    "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)"
    " ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
    "\tat io.netty.buffer.PoolArena.allocate(PoolArena.java:147) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
)
STATUSES = [200, 200, 101, 502, 502, 502, 200, 503, 200, 502]


def level_of(i: int) -> str:
    if i % 30 == 29:
        return "ERROR"
    return "WARN" if i % 10 == 9 else "INFO"


def write_evidence(root: Path) -> Path:
    """An app log crossing midnight UTC (with NPE and OOM traces) and an nginx access log."""
    lines = []
    for i in range(N):
        t = START + timedelta(seconds=2 * i)
        ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{i % 1000:03d}"
        lvl = level_of(i)
        if lvl == "ERROR":
            trace = NPE if i < 60 else OOM
            lines.append(f"{ts} ERROR [nioEventLoopGroup-3-{i % 4}] com.example.push.PushService"
                         f" - Failed to push message id={i}\n{trace}")
        else:
            lines.append(f"{ts} {lvl:<5} [nioEventLoopGroup-3-{i % 4}] com.example.push.SessionHandler"
                         f" - Client disconnected: sessionId={i:016x}\n")
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.log").write_text("".join(lines), encoding="utf-8")
    access = [f'10.0.0.{k} - - [14/Apr/2020:23:59:{k:02d} +0000] "GET /ws/connect HTTP/1.1" '
              f'{s} 157 "-" "okhttp/4.9.3"\n' for k, s in enumerate(STATUSES)]
    (root / "access.log").write_text("".join(access), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScanResult, Path]:
    root = tmp_path_factory.mktemp("store")
    result = logsleuth.scan(write_evidence(root / "logs"), workers=1)
    out = result.to_parquet(root / "ds")
    return result, out


def test_scan_holds_what_was_written(scanned: tuple[ScanResult, Path]) -> None:
    result, _ = scanned
    assert result.tables["records"].num_rows == N
    assert result.tables["http_requests"].num_rows == len(STATUSES)


def test_records_are_partitioned_by_kind_and_day(scanned: tuple[ScanResult, Path]) -> None:
    _, out = scanned
    days = sorted(p.name for p in (out / "records" / "kind=app-log").iterdir())
    assert days == ["day=2020-04-14", "day=2020-04-15"]
    # small tables are a single unpartitioned file
    assert [p.name for p in (out / "http_requests").iterdir()] == ["part-0.parquet"]


def test_manifest_accounts_for_everything(scanned: tuple[ScanResult, Path]) -> None:
    result, out = scanned
    m = json.loads((out / "manifest.json").read_text())
    assert m["schema_version"] == result.to_json()["schema_version"]
    assert {k: v["rows"] for k, v in m["tables"].items()} == {
        k: t.num_rows for k, t in result.tables.items()}
    assert m["tables"]["records"]["partitioning"] == ["kind", "day"]
    assert sorted(i["path"] for i in m["inputs"]) == ["access.log", "app.log"]
    assert m["findings"] == [f.to_json() for f in result.findings]


def test_open_gives_the_same_frames_and_json(scanned: tuple[ScanResult, Path]) -> None:
    result, out = scanned
    back = logsleuth.open(out)
    assert sorted(back.tables) == sorted(result.tables)
    for name in result.tables:
        pd.testing.assert_frame_equal(back.frame(name), result.frame(name), check_exact=True)
        assert back.table(name).schema == result.table(name).schema, name
    assert back.table("records").schema.field("kind").type == pa.dictionary(pa.int8(), pa.string())
    assert back.to_json() == result.to_json()
    assert [type(f) for f in back.findings] == [type(f) for f in result.findings]
    assert [i.unparsed_samples for i in back.inputs] == [i.unparsed_samples for i in result.inputs]


def test_reopened_records_match_the_file(scanned: tuple[ScanResult, Path]) -> None:
    _, out = scanned
    rec = logsleuth.open(out).records
    assert rec["level"].astype(str).tolist() == [level_of(i) for i in range(N)]
    assert (rec["ts"].dt.day == 15).sum() == 60
    errors = rec[rec["level"] == "ERROR"]
    assert errors["exception"].astype(str).tolist() == (
        ["java.lang.NullPointerException"] * 2 + ["io.netty.util.internal.OutOfDirectMemoryError"] * 2)
    # an ERROR record spans its header and the three trace lines
    assert errors["n_lines"].tolist() == [4, 4, 4, 4]


def test_open_reads_tables_only_when_asked(scanned: tuple[ScanResult, Path],
                                           tmp_path: Path) -> None:
    _, out = scanned
    copy = tmp_path / "ds"
    logsleuth.open(out).to_parquet(copy)
    part = next((copy / "records").rglob("*.parquet"))
    part.write_bytes(b"not parquet")
    back = logsleuth.open(copy)  # no table is read yet
    assert back.table("http_requests").num_rows == len(STATUSES)
    with pytest.raises(pa.ArrowInvalid):
        back.table("records")


def test_a_reopened_store_can_be_saved_over_itself(scanned: tuple[ScanResult, Path],
                                                   tmp_path: Path) -> None:
    result, out = scanned
    copy = logsleuth.open(out).to_parquet(tmp_path / "ds")
    again = logsleuth.open(copy).to_parquet(copy)
    pd.testing.assert_frame_equal(logsleuth.open(again).records, result.records)
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary directories left


def test_refuses_to_overwrite_a_directory_that_is_not_a_store(
        scanned: tuple[ScanResult, Path], tmp_path: Path) -> None:
    result, _ = scanned
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError) as err:
        result.to_parquet(tmp_path)
    assert err.value.diagnostic.code == "store-exists"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_records_without_time_and_empty_tables_round_trip(
        scanned: tuple[ScanResult, Path], tmp_path: Path) -> None:
    result, _ = scanned
    rec = result.tables["records"]
    no_ts = pc.equal(rec["level"].cast(pa.string()), "WARN")
    ts = pc.if_else(no_ts, pa.scalar(None, rec.schema.field("ts").type), rec["ts"])
    tables = {"records": rec.set_column(rec.schema.get_field_index("ts"), "ts", ts),
              "locks": pa.schema([("source", pa.string()), ("ts", pa.timestamp("ms", "UTC"))])
              .empty_table()}
    out = ScanResult(inputs=result.inputs, tables=tables).to_parquet(tmp_path / "ds")
    back = logsleuth.open(out)
    pd.testing.assert_frame_equal(back.records, ScanResult(inputs=[], tables=tables).records)
    assert back.table("locks").schema == tables["locks"].schema
    n_warn = sum(level_of(i) == "WARN" for i in range(N))
    got = logsleuth.query(out, "SELECT count(*) AS n FROM records WHERE ts IS NULL")
    assert got["n"].tolist() == [n_warn]
    assert logsleuth.query(out, "SELECT count(*) AS n FROM locks")["n"].tolist() == [0]


def test_query_counts_by_reason(scanned: tuple[ScanResult, Path]) -> None:
    _, out = scanned
    got = logsleuth.query(out, "SELECT level, count(*) AS n FROM records GROUP BY 1 ORDER BY 1")
    expected = pd.Series([level_of(i) for i in range(N)]).value_counts()
    assert dict(zip(got["level"].astype(str), got["n"], strict=True)) == expected.to_dict()
    five = logsleuth.query(out, "SELECT status, count(*) AS n FROM http_requests "
                                "WHERE status >= 500 GROUP BY 1 ORDER BY 1")
    assert five.values.tolist() == [[502, STATUSES.count(502)], [503, 1]]
    day = logsleuth.query(out, "SELECT count(*) AS n FROM records "
                               "WHERE ts >= TIMESTAMPTZ '2020-04-15 00:00:00+00'")
    assert day["n"].tolist() == [60]


def test_query_joins_tables(scanned: tuple[ScanResult, Path]) -> None:
    _, out = scanned
    got = logsleuth.query(out, """
        SELECT h.status, count(*) AS n FROM http_requests h
        JOIN records r ON date_trunc('minute', r.ts) = date_trunc('minute', h.ts)
        WHERE r.level = 'ERROR' GROUP BY 1 ORDER BY 1""")
    # only the ERROR record at 23:59:58 shares the access log's minute (23:59)
    assert got.values.tolist() == [[s, STATUSES.count(s)] for s in sorted(set(STATUSES))]


def test_sql_errors_are_located(scanned: tuple[ScanResult, Path]) -> None:
    _, out = scanned
    with pytest.raises(store.QueryError) as err:
        logsleuth.query(out, "SELECT level\nFORM records")
    d = err.value.diagnostic
    assert (d.location.path, d.location.line, d.location.column) == ("<sql>", 2, 6)
    assert "\n" not in d.render()
    with pytest.raises(store.QueryError, match="nope"):
        logsleuth.query(out, "SELECT * FROM nope")


def test_query_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        logsleuth.query(tmp_path, "SELECT 1")
    assert err.value.diagnostic.code == "not-a-store"


def test_import_logsleuth_stays_light() -> None:
    code = ("import sys, logsleuth; heavy = {'pandas', 'pyarrow', 'duckdb'} & set(sys.modules); "
            "print(sorted(heavy)); assert callable(logsleuth.open)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_incident_round_trips_as_a_json_view(scanned: tuple[ScanResult, Path],
                                             tmp_path: Path) -> None:
    from logsleuth.timeline.incident import analyze_incident

    result, _ = scanned
    incident = analyze_incident(result.records, [f.to_json() for f in result.findings])
    assert incident.onset is not None  # the first OutOfDirectMemoryError
    with_incident = ScanResult(inputs=result.inputs, tables=dict(result.tables),
                               findings=result.findings, incident=incident)
    back = logsleuth.open(with_incident.to_parquet(tmp_path / "ds"))
    assert back.incident.to_json() == incident.to_json()
    assert back.to_json() == with_incident.to_json()
    # the first OOM is record 89 (after 89 records of 1 line and 2 NPE records of 4 lines)
    assert back.incident.onset_evidence.line == 1 + 89 + 3 * 2
    assert back.incident.onset_evidence.path == "app.log"
    with pytest.raises(AttributeError):
        _ = back.incident.no_such_field
