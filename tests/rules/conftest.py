"""Shared fixtures: record parsers for rule tests and the built-in rules dir."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from textparse import Parse, engine_parser, splitter_parser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", params=["splitter", "engine"])
def parse(request: pytest.FixtureRequest) -> Parse:
    """Every rule test runs on the temporary splitter and on the engine's parse_text."""
    if request.param == "splitter":
        return splitter_parser
    problem = engine_parser.unavailable()
    if problem:
        pytest.skip(f"engine parse_text unavailable: {problem}")
    return engine_parser


@pytest.fixture(scope="session")
def builtin_dir() -> Path:
    return REPO / "rules"
