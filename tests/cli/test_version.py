"""`logsleuth --version` and `logsleuth.about()`: the first thing every bug report needs."""

from __future__ import annotations

import platform
from importlib import metadata

import logsleuth
from logsleuth.cli.app import run
from logsleuth.errors import ExitCode
from logsleuth.rules.needles import NeedleMatcher


def test_version_prints_about_and_exits_ok(capsys) -> None:
    assert run(["--version"]) == ExitCode.OK
    out = capsys.readouterr().out.strip()
    assert out == logsleuth.about()


def test_about_names_versions_that_pip_installed() -> None:
    lines = dict(line.split(" ", 1) for line in logsleuth.about().splitlines())
    try:
        assert lines["logsleuth"] == metadata.version("logsleuth")
    except metadata.PackageNotFoundError:
        assert lines["logsleuth"].startswith("unknown")
    assert lines["python"].startswith(platform.python_version() + " ")
    assert lines["pyarrow"] == metadata.version("pyarrow")
    assert lines["pandas"] == metadata.version("pandas")
    assert lines["re2"] == metadata.version("google-re2")
    assert "hyperscan" in lines


def test_about_reports_the_prefilter_engine_actually_used() -> None:
    engine = NeedleMatcher(["OutOfDirectMemoryError"]).engine
    last = logsleuth.about().splitlines()[-1]
    if engine == "hyperscan":
        assert last == "hyperscan prefilter: active"
    else:
        assert last == f"hyperscan prefilter: not active (using {engine})"
