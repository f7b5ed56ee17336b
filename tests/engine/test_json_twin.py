"""Text/JSON twin acceptance: real JVM runs, each read as text and as JSON.

``tests/data/twin`` holds two runs of one program (see its README). The log4j2 run
wrote at once a text file, JsonLayout with frames as objects, JsonLayout with the
trace as one string, and GELF; the logback run wrote a text file and
logstash-logback-encoder JSON. Whatever logsleuth derives from a record must not
depend on which layout wrote it: same records, same exception columns, same
findings with the same counts. JSON files are scanned with no flag at all (their
layout is detected); text files with their PatternLayout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logsleuth import api

TWIN = Path(__file__).resolve().parents[1] / "data" / "twin"
PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%t] %logger - %msg%n"
# JSON file -> the text file written by the same run
PAIRS = {"twin.json": "twin.log", "twin-string.json": "twin.log", "twin-gelf.json": "twin.log",
         "logback-twin.json": "logback-twin.log"}
COLUMNS = ("ts", "level", "thread", "logger", "message", "exception", "root_exception",
           "root_frame")
_HEAD = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ", re.M)


def _scan_text(name: str) -> api.ScanResult:
    return api.scan(TWIN / name, pattern=PATTERN, workers=1, analysis=False)


@pytest.fixture(scope="module", params=sorted(set(PAIRS.values())))
def text_file(request: pytest.FixtureRequest) -> tuple[str, api.ScanResult]:
    return request.param, _scan_text(request.param)


@pytest.fixture(scope="module", params=sorted(PAIRS))
def pair(request: pytest.FixtureRequest) -> tuple[api.ScanResult, api.ScanResult]:
    """(text scan, JSON scan) of one run."""
    return (_scan_text(PAIRS[request.param]),
            api.scan(TWIN / request.param, workers=1, analysis=False))


@pytest.fixture(scope="module")
def text_scan() -> api.ScanResult:
    return _scan_text("twin.log")


def _rows(result: api.ScanResult) -> list[tuple[object, ...]]:
    """Records as a sorted multiset: two threads log at once and each appender takes its
    own lock, so events of one millisecond can reach the two files in either order."""
    table = result.table("records")
    cols = [table.column(c).to_pylist() for c in COLUMNS]
    return sorted(zip(*cols, strict=True), key=lambda row: tuple(map(str, row)))


_JAR = re.compile(r"\s+~?\[[^\]\n]*\]$", re.M)  # log4j2's extended ``~[jar:version]``
_MODULE = re.compile(r"(?<=\tat )[\w.$-]+(?:@[\w.$-]+)?/{1,2}")  # JDK ``java.base/``


def _frames(stack: str) -> str:
    """A finding's stack as frames only: GELF's ``full_message`` is the JDK's own
    printStackTrace (module prefixes, no jar suffixes), the other files log4j2's."""
    return _MODULE.sub("", _JAR.sub("", stack))


def _findings(result: api.ScanResult) -> dict[tuple[str, str], tuple[object, ...]]:
    return {(f.rule, f.signature): (f.count, f.first_seen, f.last_seen, f.fingerprint,
                                    _frames(f.stack), f.extracted) for f in result.findings}


def test_expectations_hold_on_the_text_twin(text_file: tuple[str, api.ScanResult]) -> None:
    """What the raw text says, counted independently of logsleuth."""
    name, scan = text_file
    text = (TWIN / name).read_text(encoding="utf-8")
    records = len(_HEAD.findall(text))
    assert records == len((TWIN / name.replace(".log", ".json")).read_text().splitlines())
    assert scan.inputs[0].records == records
    assert scan.inputs[0].unparsed_lines == 0
    counts = {f.rule: 0 for f in scan.findings}
    for f in scan.findings:
        counts[f.rule] += f.count
    direct = len(re.findall(r"^Caused by: java\.lang\.OutOfMemoryError: Cannot reserve", text,
                            re.M))
    assert direct > 0 and counts["jdk-direct-buffer-oom"] == direct
    assert counts["netty-out-of-direct-memory"] == 1
    assert counts["netty-direct-memory-counter-frame"] == 1
    assert counts["jvm-heap-oom"] == 1
    assert counts["netty-unhandled-pipeline-exception"] == 1
    assert counts["exception-in-encoder"] >= direct


def test_json_records_equal_text_records(
        pair: tuple[api.ScanResult, api.ScanResult]) -> None:
    text_scan, json_scan = pair
    assert json_scan.inputs[0].unparsed_lines == 0
    text_rows, json_rows = _rows(text_scan), _rows(json_scan)
    assert len(json_rows) == len(text_rows) > 100
    for a, b in zip(text_rows, json_rows, strict=True):
        assert a == b
    # the exception columns are really exercised, down to a root frame in the JDK
    roots = {r[COLUMNS.index("root_exception")] for r in json_rows}
    assert {"java.lang.OutOfMemoryError", "java.lang.NumberFormatException",
            "io.netty.util.internal.OutOfDirectMemoryError"} <= roots
    frames = {r[COLUMNS.index("root_frame")] for r in json_rows}
    assert "java.nio.Bits.reserveMemory" in frames


def test_json_findings_equal_text_findings(
        pair: tuple[api.ScanResult, api.ScanResult]) -> None:
    text_scan, json_scan = pair
    text_f, json_f = _findings(text_scan), _findings(json_scan)
    assert set(json_f) == set(text_f)
    for key, value in text_f.items():
        assert json_f[key] == value, key
    assert text_scan.exception_fingerprints == json_scan.exception_fingerprints


def test_json_layout_is_detected_without_flags(
        pair: tuple[api.ScanResult, api.ScanResult]) -> None:
    json_scan = pair[1]
    layout = json_scan.inputs[0].layout
    assert layout is not None and ("json" in layout or "logstash" in layout)
    # instants (epoch numbers, ISO with offsets) need no zone, like the text's offsets
    assert json_scan.inputs[0].timezone == "from-log"


def test_inferred_json_layout_reused_as_pattern(text_scan: api.ScanResult) -> None:
    """The inferred layout, printed as inputs[].layout shows it, reads the twin alike."""
    from logsleuth.layouts import infer_json_layout

    lines = (TWIN / "twin.json").read_text(encoding="utf-8").splitlines()
    inferred = infer_json_layout(lines[:200])
    assert inferred is not None and inferred.name.startswith("inferred-json: ")
    again = api.scan(TWIN / "twin.json", pattern=inferred.name, workers=1, analysis=False)
    assert again.inputs[0].layout == "json: " + inferred.spec()
    assert _rows(again) == _rows(text_scan)
    assert _findings(again) == _findings(text_scan)


def test_bad_json_spec_is_a_located_error() -> None:
    from logsleuth.errors import PatternError

    with pytest.raises(PatternError, match="time=PATH"):
        api.scan(TWIN / "twin.json", pattern="json: level=level")


@pytest.mark.parametrize("name", ["twin.json", "pretty"])
def test_json_split_between_workers_equals_one_process(name: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte ranges must start on record starts, also for records spread over lines."""
    import json

    from logsleuth.engine import local

    monkeypatch.setattr(local, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(local, "PARALLEL_MIN_BYTES", 1)
    lines = (TWIN / "twin.json").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "app.json"
    if name == "pretty":  # log4j2 JsonLayout without compact: nested objects indented
        path.write_text("".join(json.dumps(json.loads(ln), indent=2) + "\n" for ln in lines))
    else:
        path.write_text("\n".join(lines) + "\n")
    one = api.scan(path, workers=1, analysis=False)
    two = api.scan(path, workers=2, analysis=False)
    assert one.inputs[0].records == len(lines) and one.inputs[0].unparsed_lines == 0
    assert (two.inputs[0].records, two.inputs[0].unparsed_lines) == (len(lines), 0)
    assert _rows(two) == _rows(one)
