"""``ScanOptions``: one frozen carrier of a scan's configuration, from the CLI flags or
keywords down to the engines."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import logsleuth
from logsleuth import api
from logsleuth.cli import options as cli_options
from logsleuth.cli.app import run
from logsleuth.cli.check_cmd import run_check
from logsleuth.errors import PatternError
from logsleuth.options import ScanOptions

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "healthy"


def test_keywords_and_options_object_give_the_same_scan() -> None:
    by_keywords = logsleuth.scan(SAMPLE, tz="Europe/Paris", only=["nginx"], workers=1)
    opts = ScanOptions(tz="Europe/Paris", only=("nginx",), workers=1)
    by_object = logsleuth.scan(SAMPLE, opts)
    assert json.dumps(by_object.to_json()) == json.dumps(by_keywords.to_json())
    zones = {s.path: s.timezone for s in by_object.inputs}
    assert zones["push-server.log"] == "Europe/Paris"
    # a keyword overrides the object's field
    again = logsleuth.scan(SAMPLE, opts, tz="UTC")
    assert {s.path: s.timezone for s in again.inputs}["push-server.log"] == "UTC"


def test_unknown_keyword_names_the_fields_and_the_near_miss() -> None:
    with pytest.raises(TypeError, match=r"unknown scan option 'pattren' \(did you mean "
                                        r"'pattern'\?\); ScanOptions fields are: pattern,"):
        logsleuth.scan(SAMPLE, pattren="%d %m%n")
    with pytest.raises(TypeError, match="unknown scan options 'a', 'b'"):
        ScanOptions().with_overrides(a=1, b=2)
    with pytest.raises(TypeError, match="options must be a ScanOptions, not dict"):
        logsleuth.scan(SAMPLE, {"tz": "UTC"})  # type: ignore[arg-type]


def test_frozen_normalised_hashable_picklable() -> None:
    opts = ScanOptions(rules_dirs=["ops/rules"], kinds=["*.out=app-log"], baseline="healthy",
                       limits={"jvm_threads": 4000, "a": 1.0}, metrics=[Path("m.yaml")])
    assert opts.rules_dirs == ("ops/rules",) and opts.kinds == ("*.out=app-log",)
    assert opts.baseline == ("healthy",)  # one path, not its characters
    assert opts.limits == (("a", 1.0), ("jvm_threads", 4000))
    assert opts.stated_limits() == {"a": 1.0, "jvm_threads": 4000}
    assert ScanOptions(limits=["jvm_threads=4000", "x=2KiB"]).stated_limits() == {
        "jvm_threads": 4000.0, "x": 2048.0}
    assert hash(opts) == hash(pickle.loads(pickle.dumps(opts)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.tz = "UTC"  # type: ignore[misc]
    assert ScanOptions(workers=3).worker_count == 3 and ScanOptions().worker_count >= 1


def test_bad_engine_fails_when_the_options_are_made() -> None:
    with pytest.raises(PatternError, match="unknown engine 'spark'"):
        ScanOptions(engine="spark")


def test_the_engine_receives_the_options_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real = api.execute

    def spy(units: Any, options: Any, progress: Any = None) -> Any:
        seen.append(options)
        return real(units, options, progress)

    monkeypatch.setattr(api, "execute", spy)
    opts = ScanOptions(tz="UTC", workers=1, chunk_size=1 << 16, keep_records=False)
    logsleuth.scan(SAMPLE / "gc.log", opts)
    assert seen and seen[0].scan is opts
    assert (seen[0].chunk_size, seen[0].keep_records) == (1 << 16, False)


def _captured(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> ScanOptions:
    """Run the real CLI and return the ScanOptions it handed to api.scan."""
    got: list[ScanOptions] = []
    real = api.scan

    def spy(paths: Any, options: ScanOptions | None = None, **kw: Any) -> Any:
        assert options is not None
        got.append(options)
        return real(paths, options, **kw)

    monkeypatch.setattr(api, "scan", spy)
    assert run(argv) == 0
    assert len(got) == 1
    return got[0]


def test_scan_flags_build_one_options_object(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    opts = _captured(monkeypatch, [
        "scan", str(SAMPLE), "--tz", "Europe/Paris", "--date", "2026-11-26",
        "--kind", "*.out=app-log", "--only", "nginx", "--exclude", "jvm-gc-storm",
        "--limit", "jvm_threads=4000", "--no-analysis", "--workers", "1",
        "--jvm-start", "2026-11-26T10:00:00+01:00", "--html", str(tmp_path / "r.html"),
        "--no-progress", "-o", str(tmp_path / "out.txt")])
    assert opts == ScanOptions(
        tz="Europe/Paris", date="2026-11-26", kinds=("*.out=app-log",), only=("nginx",),
        exclude=("jvm-gc-storm",), limits=("jvm_threads=4000",), analysis=False, workers=1,
        jvm_start="2026-11-26T10:00:00+01:00", keep_records=False)
    assert (tmp_path / "r.html").stat().st_size > 0  # rendered by the CLI, in --display-tz


def test_check_flags_build_the_same_options(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    opts = _captured(monkeypatch, ["check", str(SAMPLE), "--tz", "UTC", "--only", "nginx",
                                   "--workers", "1", "--fail-on", "none",
                                   "-o", str(tmp_path / "out.txt")])
    assert opts == ScanOptions(tz="UTC", only=("nginx",), workers=1, keep_records=False)


def test_run_check_takes_options_or_keywords() -> None:
    a = run_check([str(SAMPLE)], ScanOptions(tz="UTC", workers=1), fail_on="none")
    b = run_check([str(SAMPLE)], tz="UTC", workers=1, fail_on="none")
    assert [f.to_json() for f in a.findings] == [f.to_json() for f in b.findings]
    assert a.inputs == b.inputs == 4
    with pytest.raises(TypeError, match="did you mean 'workers'"):
        run_check([str(SAMPLE)], worker=1)


def test_every_shared_flag_sets_a_field_and_no_flag_is_defined_twice() -> None:
    groups = (cli_options.READING, cli_options.RULES, cli_options.ANALYSIS,
              cli_options.RUNNING)
    flags = [f for g in groups for f in g]
    assert {f.field for f in flags} <= set(ScanOptions.fields())
    assert len({f.name for f in flags}) == len(flags)
