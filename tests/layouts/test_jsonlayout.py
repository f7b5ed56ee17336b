"""JSON-lines parsing: one Arrow parse, bad lines reported by number."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from logsleuth.layouts import load_builtin_layouts, parse_json_lines

GOOD = '{"@timestamp":"2024-03-11T14:07:52.117Z","log.level":"ERROR","message":"m%d"}'


def _layout(name):
    return next(lay for lay in load_builtin_layouts() if lay.name == name)


def test_bad_lines_are_reported_and_rows_stay_aligned():
    lines = [GOOD % 0, "plain text", GOOD % 2, '{"message": "unterminated}', "",
             '{"@timestamp": 12, "log.level": ["list", "not", "string"]}', GOOD % 6,
             '{"a":1}{"b":2}']
    table = parse_json_lines(pa.array(lines))
    assert table.num_rows == len(lines)
    ok = table["_ok"].to_numpy()
    # line 5 parses alone but its log.level is a list, clashing with the string column
    assert np.flatnonzero(~ok).tolist() == [1, 3, 4, 5, 7]
    assert table["message"].to_pylist()[0] == "m0" and table["message"].to_pylist()[6] == "m6"
    assert table["message"].to_pylist()[1] is None


def test_ecs_extract_values():
    ecs = _layout("ecs")
    out = ecs.parse(pa.array([GOOD % 1, "oops"]))
    row = out.to_pylist()[0]
    expected = (datetime(2024, 3, 11, 14, 7, 52, 117000, tzinfo=UTC)
                - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000
    assert row["ts"] == int(expected) and row["level"] == "ERROR" and row["msg"] == "m1"
    assert out.to_pylist()[1]["_ok"] is False


def test_log4j2_jsonlayout_instant_and_time_millis():
    layout = _layout("log4j2-jsonlayout")
    lines = ['{"instant":{"epochSecond":1,"nanoOfSecond":999999999},"level":"INFO","message":"a"}',
             '{"timeMillis":1500,"level":"WARN","message":"b"}']
    assert layout.parse(pa.array(lines))["ts"].to_pylist() == [1999, 1500]


def test_logstash_error_class_from_stack_trace():
    layout = _layout("logback-logstash-encoder")
    line = ('{"@timestamp":"2024-03-11T15:07:52.117+01:00","message":"x","level":"ERROR",'
            '"stack_trace":"java.lang.IllegalStateException: bad\\n\\tat a.B.c(B.java:1)"}')
    row = layout.parse(pa.array([line])).to_pylist()[0]
    assert row["error_class"] == "java.lang.IllegalStateException"
    assert row["stack_trace"].startswith("java.lang.IllegalStateException: bad\n\tat ")


def test_many_lines_one_bad():
    lines = [GOOD % i for i in range(5000)]
    lines[3333] = "{broken"
    table = parse_json_lines(pa.array(lines))
    assert np.flatnonzero(~table["_ok"].to_numpy()).tolist() == [3333]
    assert table["message"][4999].as_py() == "m4999"
