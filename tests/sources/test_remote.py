"""Inputs named by fsspec URLs scan exactly like the same files named by path."""

from __future__ import annotations

import json
from pathlib import Path

from logsleuth import api
from logsleuth.sources.discovery import discover
from logsleuth.sources.remote import is_url

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"


def test_is_url_needs_a_protocol_of_two_letters_or_more() -> None:
    assert is_url("s3://bucket/key") and is_url("file:///tmp/x") and is_url("gs://b/")
    assert not is_url("C://logs/app.log") and not is_url("logs/app.log")
    assert not is_url(Path("s3:/bucket"))  # a Path is never a URL: Path() ate a slash


def test_file_url_prefix_discovers_the_same_sources_as_the_directory() -> None:
    by_path = discover([SAMPLE])
    by_url = discover([SAMPLE.as_uri()])
    assert [s.path for s in by_url.sources] == [s.path for s in by_path.sources]
    assert [s.size for s in by_url.sources] == [s.size for s in by_path.sources]
    assert all(isinstance(s.fs_path, str) and s.fs_path.startswith("file://")
               for s in by_url.sources)
    assert by_url.diagnostics == by_path.diagnostics == []


def test_file_url_scan_gives_the_same_json(tmp_path: Path) -> None:
    local = api.scan(SAMPLE, keep_records=False)
    remote = api.scan(SAMPLE.as_uri(), keep_records=False)
    assert json.dumps(remote.to_json()) == json.dumps(local.to_json())


def test_missing_url_is_a_diagnostic(tmp_path: Path) -> None:
    out = discover([(tmp_path / "nothing.log").as_uri()])
    assert out.sources == []
    assert [d.code for d in out.diagnostics] == ["missing-path"]
