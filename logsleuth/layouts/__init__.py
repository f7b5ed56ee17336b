"""Log layouts: PatternLayout compiler, timestamp parsing, built-in library, detection."""

from logsleuth.layouts.compile import CompiledLayout, Flavor, compile_pattern
from logsleuth.layouts.datefmt import EpochMs, TimestampFormat, compile_date_pattern

__all__ = [
    "CompiledLayout",
    "EpochMs",
    "Flavor",
    "TimestampFormat",
    "compile_date_pattern",
    "compile_pattern",
]
