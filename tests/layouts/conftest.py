"""Helpers shared by the layout tests."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth.layouts import CompiledLayout


def parse_line(layout: CompiledLayout, line: str) -> dict[str, str] | None:
    """Fields of one line via the same Arrow kernels the scan engine uses."""
    arr = pa.array([line])
    if not pc.match_substring_regex(arr, layout.header_regex)[0].as_py():
        return None
    got = pc.extract_regex(arr, layout.fields_regex)
    return got[0].as_py() if got.is_valid()[0].as_py() else None


@pytest.fixture
def parse():
    return parse_line
