"""``logsleuth layout``: the layout each input is read with, and the inference's evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsleuth import api
from logsleuth.cli.app import run

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public" / "applogs"


def test_explains_an_inferred_layout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["layout", str(PUBLIC / "loghub-hdfs-datanode.log")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loghub-hdfs-datanode.log: inferred: %d{yyMMdd HHmmss} %tid %p %c: %m%n\n")
    assert "  - number in slot 2 read as tid, e.g. '148'\n" in out
    assert "reads 40 of 40 header-looking lines" in out


def test_api_names_the_builtin_and_still_shows_the_inference(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"2024-03-11 14:07:5{i}.117 INFO  [main] c.e.c.ChatServer - tick {i}\n"
                           for i in range(5)), encoding="utf-8")
    (got,) = api.explain_layouts(log)
    assert got.layout == "log4j2-file" and got.note is None
    assert got.inferred == "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n"
    assert got.share == 1.0


def test_unreadable_layout_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "odd.log"
    log.write_text("<11/26 10:15> INFO something happened\n", encoding="utf-8")
    assert run(["layout", str(log)]) == 0
    out = capsys.readouterr().out
    assert "odd.log: no layout\n" in out
    assert "warning: no layout fits (no line starts with a timestamp of a known shape)" in out
