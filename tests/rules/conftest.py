"""Shared fixtures: the record parser used for rule tests and the built-in rules dir."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from logsleuth.model import Record

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def parse() -> Callable[[str, str], list[Record]]:
    """The engine's parse_text once it exists; the temporary splitter until then."""
    if importlib.util.find_spec("logsleuth.api") is not None:
        from logsleuth.api import parse_text
    else:
        from textparse import parse_text
    return lambda text, source: parse_text(text, source=source)


@pytest.fixture(scope="session")
def builtin_dir() -> Path:
    return REPO / "rules"
