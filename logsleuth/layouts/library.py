"""Built-in layout library: one YAML file per layout, samples checked at load.

Files are found by globbing ``builtin/*.yaml`` in the package, so adding a file
is enough. Each file is validated against ``LAYOUT_SCHEMA``; every sample must
parse (header and fields regex, a convertible timestamp, and any ``expect``
values) or loading fails with an error located at the sample's line. The package's
own files are fixed per release and checked so by the test suite
(``tests/layouts/test_library.py``), not again by every scan: their checks cost
~35 ms of CPU per scan (an RE2 compile per sample), a user's file keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from logsleuth.errors import PatternError
from logsleuth.layouts.compile import CompiledLayout, compile_pattern
from logsleuth.layouts.jsonlayout import TEXT_FIELDS, JsonLayout, TsSource
from logsleuth.yamlio import line_of, load_with_node

Layout = CompiledLayout | JsonLayout

_PATHS = {"type": "array", "items": {"type": "string"}}
_SAMPLE = {"oneOf": [
    {"type": "string"},
    {"type": "object", "required": ["line"], "additionalProperties": False,
     "properties": {"line": {"type": "string"}, "expect": {"type": "object"}}},
]}
LAYOUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "description", "samples"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9.\-]*$"},
        "description": {"type": "string"},
        "kind": {"enum": ["pattern", "json"]},
        "flavor": {"enum": ["log4j2", "logback"]},
        "pattern": {"type": "string"},
        "fields": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "timestamp": {"type": "array", "items": {
                    "type": "object", "required": ["path"], "additionalProperties": False,
                    "properties": {"path": {"type": "string"},
                                   "unit": {"enum": ["iso", "ms", "s"]},
                                   "nanos": {"type": "string"}}}},
                **{f: _PATHS for f in (*TEXT_FIELDS, "thrown")},
                "level_numbers": {"enum": ["syslog"]},
                "known_errors": {"type": "boolean"},
            },
        },
        "samples": {"type": "array", "minItems": 2, "items": _SAMPLE},
        # offered only beside a file's dominant layout (``layouts.mixed``), not detected
        "beside_only": {"type": "boolean"},
    },
}


def _fail(where: str, line: int, code: str, msg: str) -> PatternError:
    return PatternError.at(where, code, msg, line)


def _check_pattern_sample(layout: CompiledLayout, text: str, expect: Mapping[str, Any]
                          ) -> str | None:
    """None when the sample parses as expected, else the reason."""
    arr = pa.array([text])
    if not pc.match_substring_regex(arr, layout.header_regex)[0].as_py():
        return "header regex does not match"
    got = pc.extract_regex(arr, layout.fields_regex)
    if not got.is_valid()[0].as_py():
        return "fields regex does not match"
    values = got[0].as_py()
    ts = layout.timestamp
    if ts is not None and "ts" in values:
        base = date(2000, 1, 1) if ts.needs_base_date else None
        if ts.to_epoch_ms(pa.array([values["ts"]]), base_date=base).ms[0].as_py() is None:
            return f"timestamp '{values['ts']}' does not convert"
    return _compare(values, expect)


def _compare(values: Mapping[str, Any], expect: Mapping[str, Any]) -> str | None:
    for key, want in expect.items():
        if values.get(key) != want:
            return f"expected {key}={want!r}, got {values.get(key)!r}"
    return None


def _check_json_sample(layout: JsonLayout, text: str, expect: Mapping[str, Any]) -> str | None:
    row = layout.parse(pa.array([text])).to_pylist()[0]
    if not row["_ok"]:
        return "not a JSON object line"
    if row["ts"] is None or row["msg"] is None:
        return "timestamp or message not found"
    return _compare(row, expect)


def _json_layout(data: Mapping[str, Any]) -> JsonLayout:
    fields = data.get("fields", {})
    ts = tuple(TsSource(t["path"], t.get("unit", "iso"), t.get("nanos"))
               for t in fields.get("timestamp", []))
    return JsonLayout(name=data["name"], description=data["description"], timestamp=ts,
                      **{f: tuple(fields.get(f, ())) for f in (*TEXT_FIELDS, "thrown")},
                      level_numbers=fields.get("level_numbers"),
                      known_errors=fields.get("known_errors", False))


def layout_from_yaml(text: str, where: str) -> Layout:
    """Build one layout from YAML text, validating schema and samples (errors located)."""
    return _layout_and_data(text, where)[0]


def _layout_and_data(text: str, where: str, *, check: bool = True
                     ) -> tuple[Layout, dict[str, Any]]:
    """``check``: schema and samples (False only for the package's own files)."""
    try:
        root, data = load_with_node(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _fail(where, mark.line + 1 if mark else 1, "LAYOUT020",
                    f"invalid YAML: {exc}") from None
    if root is None or not isinstance(data, dict):
        raise _fail(where, 1, "LAYOUT020", "a layout file must be a mapping")
    err = _schema_error(data) if check else None
    if err is not None:
        raise _fail(where, line_of(root, *err.absolute_path), "LAYOUT020",
                    f"schema: {err.message}")
    layout: Layout
    if data.get("kind", "pattern") == "json":
        layout = _json_layout(data)
    else:
        if "pattern" not in data:
            raise _fail(where, 1, "LAYOUT020", "schema: 'pattern' is required")
        line = line_of(root, "pattern")
        layout = compile_pattern(data["pattern"], flavor=data.get("flavor", "log4j2"),
                                 name=data["name"], where=where, line=line,
                                 description=data["description"])
    for i, sample in enumerate(data["samples"] if check else ()):
        text_, expect = (sample, {}) if isinstance(sample, str) else (
            sample["line"], sample.get("expect", {}))
        why = (_check_json_sample(layout, text_, expect) if isinstance(layout, JsonLayout)
               else _check_pattern_sample(layout, text_, expect))
        if why is not None:
            raise _fail(where, line_of(root, "samples", i), "LAYOUT021",
                        f"sample {i + 1} of layout '{data['name']}' does not parse: {why}")
    return layout, data


def _schema_error(data: dict[str, Any]) -> Any:
    import jsonschema  # only where a file is checked: ~27 ms of imports

    return next(iter(jsonschema.Draft202012Validator(LAYOUT_SCHEMA).iter_errors(data)), None)


def load_layouts(directory: Path) -> list[Layout]:
    """Load every ``*.yaml`` layout in ``directory`` (sorted by file name)."""
    return [layout_from_yaml(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(directory.glob("*.yaml"))]


def load_builtin_layouts(*, beside: bool = False, check: bool = False) -> list[Layout]:
    """All built-in layouts, freshly loaded (cache at the call site); ``check``: their
    schema and samples too, as the test suite does.

    ``beside``: also those offered only beside a file's dominant layout (``beside_only``:
    a shape known in full, such as java.util.logging's two-line SimpleFormatter, whose
    files alone are read by inference already and keep the layout they are shown with).
    """
    root = resources.files("logsleuth.layouts") / "builtin"
    out: list[Layout] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            layout, data = _layout_and_data(entry.read_text(encoding="utf-8"),
                                            f"logsleuth/layouts/builtin/{entry.name}",
                                            check=check)
            if beside or not data.get("beside_only", False):
                out.append(layout)
    return out
