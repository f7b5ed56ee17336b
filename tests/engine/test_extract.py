"""The one-pass extraction plan must give what the layout's own regex gives."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth.engine.applog import AppLogParser
from logsleuth.engine.extract import named_groups, one_pass_friendly, plan_extraction
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.layouts import CompiledLayout, load_builtin_layouts

TEXT_LAYOUTS = [lay for lay in load_builtin_layouts() if isinstance(lay, CompiledLayout)]


@pytest.mark.parametrize("layout", TEXT_LAYOUTS, ids=lambda lay: lay.name)
def test_engine_fields_equal_layout_regex(layout: CompiledLayout, layout_samples) -> None:
    lines = [s for s in layout_samples(layout.name) if "\n" not in s]
    ref = pc.extract_regex(pa.array(lines), layout.fields_regex)
    got: list[dict] = []

    def sink(cb) -> None:
        got.extend(cb.batch.to_pylist())

    stats = InputStats("x")
    parser = AppLogParser("x", layout, None, stats, sink)
    data = ("\n".join(lines) + "\n").encode()
    import io

    feed_stream(io.BytesIO(data), parser, chunk_size=1 << 16)
    assert stats.records == len(lines)
    for row, want in zip(got, ref.to_pylist(), strict=True):
        assert row["message"] == want["msg"]
        for col, group in (("thread", "thread"), ("logger", "logger")):
            if group in want:
                assert row[col] == want[group]
        if "level" in want:
            assert row["level"] == want["level"].strip()


def test_named_groups_skip_classes_and_escapes() -> None:
    rx = r"^(?P<a>[(\]]+)\((?:x)(?P<b>\d+)\)(?P<c>.*)"
    assert [g.name for g in named_groups(rx)] == ["a", "b", "c"]


def test_one_pass_rewrites_keep_meaning_for_single_char_delimiters() -> None:
    assert one_pass_friendly(r"\[(?P<t>.*?)\] x") == r"\[(?P<t>[^\]\n]*)\] x"
    assert one_pass_friendly(r"(?P<l>[A-Z]+) * \[") == r"(?P<l>[A-Z]+) +\["
    # a multi-character delimiter cannot become a class: left alone
    assert one_pass_friendly(r"(?P<t>.*?) : ") == r"(?P<t>.*?) : "


def test_plan_uses_one_pass_for_the_common_log4j2_layout() -> None:
    from logsleuth.layouts import compile_pattern

    lay = compile_pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n")
    plan = plan_extraction(lay.fields_regex)
    assert len(plan.passes) == 1
    assert plan.msg_from_prefix and plan.prefix_groups == ("ts", "level", "thread", "logger")


@pytest.mark.parametrize("values", [
    [b"INFO ", b"DEBUG", b"INFO ", None, b"WARN ", b"ERROR"],
    [b"WARN", b"WARN ", b"INFO ", b"WARN  ", b"INFO"],  # values that trim alike
    [],
])
def test_trimmed_levels_equal_encoding_the_trimmed_rows(values: list[bytes | None]) -> None:
    from logsleuth.engine.applog import trimmed_levels

    col = pa.array(values, pa.large_binary())
    want = pc.utf8_trim(col.cast(pa.large_string()), " ").cast(pa.string()).dictionary_encode()
    got = trimmed_levels(col)
    assert got.type == want.type
    assert got.dictionary.equals(want.dictionary)
    assert got.indices.equals(want.indices)


def test_trace_summaries_land_on_their_records_only() -> None:
    import io

    layout = next(lay for lay in TEXT_LAYOUTS if lay.name == "log4j2-file")
    lines = [
        "2020-04-14 00:00:00.252 INFO  [main] a.B - one line",
        "2020-04-14 00:00:00.253 ERROR [main] a.B - failed",
        "java.lang.IllegalStateException: boom",
        "\tat a.B.run(B.java:1)",
        "2020-04-14 00:00:00.254 INFO  [main] a.B - another line",
        "2020-04-14 00:00:00.255 WARN  [main] a.B - again",
        "java.io.IOException: gone",
        "\tat a.C.call(C.java:2)",
        "Caused by: java.net.SocketException: reset",
        "\tat a.D.read(D.java:3)",
    ]
    got: list[dict] = []
    parser = AppLogParser("x", layout, None, InputStats("x"), lambda cb: got.extend(
        cb.batch.to_pylist()))
    feed_stream(io.BytesIO(("\n".join(lines) + "\n").encode()), parser, chunk_size=1 << 16)
    assert [(r["exception"], r["root_exception"], r["root_frame"]) for r in got] == [
        (None, None, None),
        ("java.lang.IllegalStateException", "java.lang.IllegalStateException", "a.B.run"),
        (None, None, None),
        ("java.io.IOException", "java.net.SocketException", "a.D.read"),
    ]
