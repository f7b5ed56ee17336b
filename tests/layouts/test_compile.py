"""PatternLayout conversions: each one compiled and checked on a real-shaped line."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import re2

from logsleuth.errors import PatternError
from logsleuth.layouts import compile_pattern

CASES = [
    # (pattern, flavor, line, expected subset of fields)
    ("%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n", "log4j2",
     "14:02:11.873 [main] INFO  com.example.App - Started in 1.2 s",
     {"ts": "14:02:11.873", "thread": "main", "level": "INFO", "logger": "com.example.App",
      "msg": "Started in 1.2 s"}),
    ("%date{yyyy-MM-dd HH:mm:ss} %thread %le %lo %message", "logback",
     "2024-03-11 14:02:11 main WARN c.e.App low disk",
     {"ts": "2024-03-11 14:02:11", "thread": "main", "level": "WARN", "logger": "c.e.App",
      "msg": "low disk"}),
    ("%d %tn %5p %c{1.} %m%n", "log4j2", "2024-03-11 14:02:11,873 worker-1  INFO o.a.Foo x",
     {"ts": "2024-03-11 14:02:11,873", "thread": "worker-1", "level": "INFO",
      "logger": "o.a.Foo", "msg": "x"}),
    ("%d [%threadName] %-5p %c{1} - %m%n", "log4j2",
     "2024-03-11 14:02:11,873 [RMI TCP Connection(2)-10.0.0.1] DEBUG Foo - y",
     {"thread": "RMI TCP Connection(2)-10.0.0.1", "level": "DEBUG", "logger": "Foo"}),
    ("%-5level %C.%M(%F:%L) - %m%n", "log4j2",
     "ERROR com.example.codec.FrameEncoder.encode(FrameEncoder.java:57) - NPE",
     {"level": "ERROR", "cls": "com.example.codec.FrameEncoder", "method": "encode",
      "file": "FrameEncoder.java", "lineno": "57", "msg": "NPE"}),
    ("%p %class %method %file %line %m", "logback", "INFO a.b.C run C.java 12 go",
     {"cls": "a.b.C", "method": "run", "file": "C.java", "lineno": "12", "msg": "go"}),
    ("%d{ISO8601} %-5p %l - %m%n", "log4j2",
     "2024-03-11T14:02:11,873 INFO  com.example.Foo.lambda$run$0(Foo.java:42) - ok",
     {"cls": "com.example.Foo", "method": "lambda$run$0", "file": "Foo.java", "lineno": "42"}),
    ("%d [%X{traceId}] [%mdc{user.id}] %X %m%n", "log4j2",
     "2024-03-11 14:02:11,873 [abc123] [u-7] {traceId=abc123, user.id=u-7} hello",
     {"mdc_traceId": "abc123", "mdc_user_id": "u-7", "mdc": "{traceId=abc123, user.id=u-7}",
      "msg": "hello"}),
    ("%d %pid %processId [%t] %m%n", "log4j2", "2024-03-11 14:02:11,873 4242 4242 [main] hi",
     {"pid": "4242", "thread": "main", "msg": "hi"}),
    ("%d %-5p %m%ex%n", "log4j2", "2024-03-11 14:02:11,873 ERROR boom",
     {"level": "ERROR", "msg": "boom"}),
    ("%d %p %m%n%throwable", "log4j2", "2024-03-11 14:02:11,873 ERROR boom",
     {"msg": "boom"}),
    ("%d %p %m%n%xEx%rEx%wEx", "log4j2", "2024-03-11 14:02:11,873 ERROR boom",
     {"msg": "boom"}),
    ("%highlight{%d [%t] %-5level}{FATAL=red} %style{%logger}{cyan}: %msg%n", "log4j2",
     "\x1b[32m2024-03-11 14:02:11,873 [main] INFO \x1b[m \x1b[36mcom.example.App\x1b[m: hi",
     {"level": "INFO", "logger": "com.example.App", "msg": "hi"}),
    ("%highlight{%d [%t] %-5level}{FATAL=red} %style{%logger}{cyan}: %msg%n", "log4j2",
     "2024-03-11 14:02:11,873 [main] INFO  com.example.App: plain, no colour",
     {"level": "INFO", "logger": "com.example.App"}),
    ("%d %highlight(%-5level) %cyan(%logger{15}) %green([%thread]) %m%n", "logback",
     "2024-03-11 14:02:11,873 \x1b[34mINFO \x1b[0;39m \x1b[36mc.e.App\x1b[0;39m "
     "\x1b[32m[main]\x1b[0;39m hi",
     {"level": "INFO", "logger": "c.e.App", "thread": "main", "msg": "hi"}),
    ("%clr(%d{HH:mm:ss.SSS}){faint} %clr(%5p) %m%n", "logback",
     "\x1b[2m14:02:11.873\x1b[0;39m \x1b[32m INFO\x1b[0;39m hi",
     {"ts": "14:02:11.873", "level": "INFO", "msg": "hi"}),
    ("%sn %sequenceNumber %r %relative %-5p %m%n", "log4j2", "17 17 1200 1200 INFO  hi",
     {"relative": "1200", "level": "INFO", "msg": "hi"}),
    ("%d %marker %-5p %m%n", "log4j2", "2024-03-11 14:02:11,873 AUDIT INFO  login",
     {"level": "INFO", "msg": "login"}),
    ("%d %equals{[%marker]}{[]}{}%-5p %m%n", "log4j2", "2024-03-11 14:02:11,873 INFO  x",
     {"level": "INFO", "msg": "x"}),
    ("%d %equals{[%marker]}{[]}{}%-5p %m%n", "log4j2",
     "2024-03-11 14:02:11,873 [SQL]INFO  x", {"level": "INFO", "msg": "x"}),
    ("%d %-5p %replace{%m}{[\\r\\n]+}{ }%n", "log4j2", "2024-03-11 14:02:11,873 WARN  a b",
     {"level": "WARN", "msg": "a b"}),
    ("%d %-5p %replace(%msg){'\\s+', ' '}%n", "logback", "2024-03-11 14:02:11,873 WARN  a b",
     {"level": "WARN", "msg": "a b"}),
    ("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%-20.30t] %-20.-30c %.-10m%n", "log4j2",
     "2024-03-11 14:02:11.873 INFO  [main                ] com.example.App      hello",
     {"thread": "main", "logger": "com.example.App", "msg": "hello"}),
    ("100%% [%p] (%c) {%t} $ ^ | ? * + . %m%n", "log4j2",
     "100% [INFO] (a.B) {main} $ ^ | ? * + . text",
     {"level": "INFO", "logger": "a.B", "thread": "main", "msg": "text"}),
    ("%d %-5p %enc{%m}{JSON}%n", "log4j2", "2024-03-11 14:02:11,873 INFO  a\\nb",
     {"msg": "a\\nb"}),
    ("%d %-5p %notEmpty{[%X{req}] }%m%n", "log4j2", "2024-03-11 14:02:11,873 INFO  hi",
     {"msg": "hi"}),
    ("%d %-5p %maxLen{%m}{10}%n", "log4j2", "2024-03-11 14:02:11,873 INFO  0123456789",
     {"msg": "0123456789"}),
    ("%d %u %N %T %tp %cn %-5p %m%n", "logback",
     "2024-03-11 14:02:11,873 0f8fad5b-d9cb-469f-a165-70867728950e 123456 31 5 default INFO  x",
     {"level": "INFO", "msg": "x"}),
    ("%d %p %c %x - %m%n", "log4j2", "2024-03-11 14:02:11,873 INFO a.B ndc-1 - x",
     {"logger": "a.B", "msg": "x"}),
]


@pytest.mark.parametrize(("pattern", "flavor", "line", "expected"), CASES)
def test_conversion_parses_line(parse, pattern, flavor, line, expected):
    layout = compile_pattern(pattern, flavor=flavor)
    got = parse(layout, line)
    assert got is not None, (layout.fields_regex, line)
    assert {k: got.get(k) for k in expected} == expected


def test_fields_lists_groups_in_order():
    layout = compile_pattern("%d [%t] %-5p %c [%X{traceId}] %pid - %m%n")
    assert layout.fields == ("ts", "thread", "level", "logger", "mdc_traceId", "pid", "msg")
    assert dict(layout.mdc_keys) == {"mdc_traceId": "traceId"}


def test_repeated_field_captured_once(parse):
    layout = compile_pattern("%C %l %m%n")
    got = parse(layout, "a.B a.B.run(B.java:3) hi")
    assert got is not None and got["cls"] == "a.B" and got["lineno"] == "3"
    assert layout.fields.count("cls") == 1


def test_header_regex_is_a_cheap_prefix():
    layout = compile_pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c{1.} - %m%n")
    assert layout.header_regex.startswith("^")
    assert "msg" not in layout.header_regex and "(?P<" not in layout.header_regex
    assert layout.fields_regex.startswith("^")
    assert len(layout.header_regex) < len(layout.fields_regex)


LINES = [
    "2024-03-11 14:02:11.873 INFO  [main] c.e.App - hi",
    "2024-03-11 14:02:11.873 ERROR [nioEventLoopGroup-3-1] c.e.App - x - y",
    "2024-03-11 14:02:11.873 INFO  [main] c.e.App - ",
    "2024-03-11 14:02:11.873 INFO  [] c.e.App - empty thread",
]


def test_header_matches_whatever_fields_match():
    layout = compile_pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c{1.} - %m%n")
    arr = pa.array([*LINES, "garbage", "\tat a.b(C.java:1)", "2024-03-11 nope"])
    fields = pc.is_valid(pc.extract_regex(arr, layout.fields_regex)).to_pylist()
    header = pc.match_substring_regex(arr, layout.header_regex).to_pylist()
    assert fields == [True] * 4 + [False] * 3
    assert all(h for h, f in zip(header, fields, strict=True) if f)
    assert header[4:] == [False, False, False]


@pytest.mark.parametrize("pattern", [c[0] for c in CASES])
def test_regexes_are_re2_and_stay_on_first_line(pattern):
    layout = compile_pattern(pattern)
    re2.compile(layout.fields_regex)
    re2.compile(layout.header_regex)
    records = pa.array(["2024-03-11 14:02:11,873 INFO  first\nsecond line [x] - y\n\tat z"])
    got = pc.extract_regex(records, layout.fields_regex)
    for value in (got[0].as_py() or {}).values():
        assert "\n" not in value


def test_message_stops_at_newline_in_record():
    layout = compile_pattern("%d %-5p [%t] %c - %m%n")
    rec = pa.array(["2024-03-11 14:02:11,873 ERROR [main] a.B - boom\njava.lang.NPE: x\n\tat a"])
    got = pc.extract_regex(rec, layout.fields_regex)[0].as_py()
    assert got["msg"] == "boom"


def test_spring_boot_pid_property_and_defaults(parse):
    pattern = ("%d{${LOG_DATEFORMAT_PATTERN:-yyyy-MM-dd HH:mm:ss.SSS}} ${LOG_LEVEL_PATTERN:-%5p} "
               "${PID:- } --- [%t] %-40.40logger{39} : %m%n")
    layout = compile_pattern(pattern, flavor="logback")
    got = parse(layout, "2019-03-05 10:57:51.112  INFO 45469 --- [main] o.a.c.StandardEngine"
                        "                     : Starting")
    assert got is not None and got["pid"] == "45469" and got["level"] == "INFO"
    no_pid = parse(layout, "2019-03-05 10:57:51.112  INFO   --- [main] a.B : Starting")
    assert no_pid is not None and no_pid["pid"] == ""


def test_properties_argument_resolves(parse):
    layout = compile_pattern("${P} %m%n", properties={"P": "%d{HH:mm:ss} %p"})
    assert parse(layout, "10:00:00 INFO hi") == {"ts": "10:00:00", "level": "INFO", "msg": "hi"}


def test_date_timezone_argument():
    layout = compile_pattern("%d{yyyy-MM-dd HH:mm:ss}{Europe/Paris} %m%n")
    assert layout.timestamp is not None and layout.timestamp.zone == "Europe/Paris"
    lb = compile_pattern("%d{HH:mm:ss.SSS, UTC} %m%n", flavor="logback")
    assert lb.timestamp is not None and lb.timestamp.zone == "UTC"
    assert lb.timestamp.pattern == "HH:mm:ss.SSS"
    quoted = compile_pattern('%d{"HH:mm:ss,SSS", Asia/Tokyo} %m%n', flavor="logback")
    assert quoted.timestamp is not None
    assert (quoted.timestamp.pattern, quoted.timestamp.zone) == ("HH:mm:ss,SSS", "Asia/Tokyo")


@pytest.mark.parametrize(("pattern", "column", "token"), [
    ("%d [%t] %bogus %m%n", 9, "%bogus"),
    ("%d %-5q %m", 4, "%q"),
    ("%d{yyyy-MM-dd} %p %-", 19, "'%'"),
])
def test_unknown_conversion_is_located(pattern, column, token):
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern, name="app.yaml")
    diag = info.value.diagnostic
    assert (diag.location.path, diag.location.line, diag.location.column) == (
        "app.yaml", 1, column)
    assert pattern in diag.message and diag.code == "LAYOUT001"
    assert info.value.diagnostic.render().startswith(f"app.yaml:1:{column}: error[LAYOUT001]")
    assert token in diag.message or "expected a conversion name" in diag.message


def test_pattern_error_offsets_by_file_position():
    with pytest.raises(PatternError) as info:
        compile_pattern("%d %zzz", where="conf/log4j2.xml", line=12, column=30)
    loc = info.value.diagnostic.location
    assert (loc.path, loc.line, loc.column) == ("conf/log4j2.xml", 12, 33)


@pytest.mark.parametrize(("pattern", "code"), [
    ("%d{yyyy-MM-dd QQ} %m", "LAYOUT003"),
    ("%d{HH:mm}{Mars/Olympus} %m", "LAYOUT003"),
    ("%d %m ${UNDEFINED}", "LAYOUT004"),
    ("%d %highlight{%p %m", "LAYOUT001"),
])
def test_bad_patterns_raise(pattern, code):
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    assert info.value.diagnostic.code == code
