"""Log layouts: PatternLayout compiler, timestamp parsing, built-in library, detection.

Typical use by the scan engine, per chunk::

    layout = detect_layout(first_lines, candidates=layouts).layout
    starts = pc.match_substring_regex(lines, layout.header_regex)
    parts = pc.extract_regex(records, layout.fields_regex)
    ts = layout.timestamp.to_epoch_ms(pc.struct_field(parts, "ts"), default_tz).ms
"""

from logsleuth.layouts.compile import CompiledLayout, Flavor, compile_layouts, compile_pattern
from logsleuth.layouts.datefmt import (
    EpochMs,
    TimestampFormat,
    compile_date_pattern,
    iso8601_lenient,
)
from logsleuth.layouts.detect import Detection, detect_layout
from logsleuth.layouts.epoch import days_from_civil, zone_from_name
from logsleuth.layouts.jsoninfer import infer_json_layout, spec_layout
from logsleuth.layouts.jsonlayout import JsonLayout, TsSource, parse_json_lines
from logsleuth.layouts.library import (
    Layout,
    layout_from_yaml,
    load_builtin_layouts,
    load_layouts,
)
from logsleuth.layouts.xmlconfig import patterns_from_log4j2_xml, patterns_from_logback_xml

__all__ = [
    "CompiledLayout",
    "Detection",
    "EpochMs",
    "Flavor",
    "JsonLayout",
    "Layout",
    "TimestampFormat",
    "TsSource",
    "compile_date_pattern",
    "compile_layouts",
    "compile_pattern",
    "days_from_civil",
    "detect_layout",
    "infer_json_layout",
    "iso8601_lenient",
    "layout_from_yaml",
    "load_builtin_layouts",
    "load_layouts",
    "parse_json_lines",
    "patterns_from_log4j2_xml",
    "patterns_from_logback_xml",
    "spec_layout",
    "zone_from_name",
]
