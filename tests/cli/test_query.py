"""``logsleuth query``: the real CLI in-process over a dataset saved by ``scan --parquet``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import logsleuth
from logsleuth.cli.app import run
from logsleuth.errors import ExitCode

N = 90  # records, one a second; every 9th is an ERROR with a trace


def write_log(path: Path) -> None:
    out = []
    for i in range(N):
        ts = f"2020-04-14 10:{i // 60:02d}:{i % 60:02d}.{i:03d}"
        if i % 9 == 8:
            out.append(f"{ts} ERROR [nioEventLoopGroup-3-1] com.example.push.PacketEncoder"
                       f" - encode failed, id={i}\njava.lang.NullPointerException: null\n"
                       "\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:88)\n")
        else:
            out.append(f"{ts} INFO  [main] com.example.push.Heartbeat - tick {i}\n")
    path.write_text("".join(out), encoding="utf-8")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("query")
    write_log(root / "app.log")
    code = run(["scan", str(root / "app.log"), "--parquet", str(root / "ds"),
                "--workers", "1", "--no-progress", "-o", str(root / "summary.txt")])
    assert code == ExitCode.OK
    return root / "ds"


SQL = "SELECT level, count(*) AS n, min(ts) AS first FROM records GROUP BY 1 ORDER BY 1"


def test_scan_parquet_writes_a_store(dataset: Path) -> None:
    back = logsleuth.open(dataset)
    assert back.table("records").num_rows == N


def test_csv_output(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["query", str(dataset), SQL, "--format", "csv"]) == ExitCode.OK
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["level"], int(r["n"])) for r in rows] == [("ERROR", N // 9), ("INFO", N - N // 9)]
    assert rows[0]["first"].startswith("2020-04-14T10:00:08.008")


def test_json_output_matches_the_python_api(dataset: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["query", str(dataset), SQL, "-f", "json"]) == ExitCode.OK
    rows = json.loads(capsys.readouterr().out)
    api = logsleuth.query(dataset, SQL)
    assert [r["n"] for r in rows] == api["n"].tolist()
    assert [r["first"] for r in rows] == [t.isoformat() for t in api["first"]]


def test_table_output_to_a_file(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.txt"
    sql = "SELECT line, exception FROM records WHERE exception IS NOT NULL ORDER BY line"
    assert run(["query", str(dataset), sql, "-o", str(out)]) == ExitCode.OK
    lines = out.read_text().splitlines()
    assert lines[0].split() == ["line", "exception"]
    assert set(lines[1]) <= {"-", " "}
    # every ERROR record is 3 lines; record i starts at 1 + i + 2 * (errors before it)
    starts = [1 + i + 2 * (i // 9) for i in range(N) if i % 9 == 8]
    assert [int(x.split()[0]) for x in lines[2:-1]] == starts
    assert lines[-1] == f"({len(starts)} rows)"


def test_bad_sql_is_one_line_and_exit_2(dataset: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["query", str(dataset), "SELECT level FROM recordz"]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("<sql>") and "error[sql]" in err and "recordz" in err


def test_not_a_dataset_and_bad_format_exit_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["query", str(tmp_path), "SELECT 1"]) == ExitCode.USAGE
    assert "error[not-a-store]" in capsys.readouterr().err
    assert run(["query", str(tmp_path), "SELECT 1", "-f", "xml"]) == ExitCode.USAGE
    assert "error[bad-format]" in capsys.readouterr().err


def test_scan_json_is_byte_identical_across_runs(capsys) -> None:
    """The output contract: the same input gives byte-identical JSON (workers too)."""
    from logsleuth.cli.app import run

    sample = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"
    outputs = []
    for workers in ("1", "2", "2"):
        assert run(["scan", str(sample), "--format", "json", "--workers", workers]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert '"onset": "2026-11-26T10:28:23.858' in outputs[0]
