"""Errors that know where they come from.

Every input, format and rule problem carries a ``SourceLocation`` and renders
as one line ``path:line:col: error[CODE]: message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Process exit codes of the CLI; documented in docs/cli.md."""

    OK = 0
    FINDINGS = 1  # `check` only: findings at or above --fail-on
    USAGE = 2  # bad options, missing paths, broken rules or patterns
    INTERNAL = 3  # a bug: the traceback is printed


@dataclass(frozen=True, slots=True)
class SourceLocation:
    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class DiagLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # how the scan read an input (e.g. where a time-only log's date came from)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A located problem that did not stop the scan (or, for rules, that stops it)."""

    location: SourceLocation
    code: str
    message: str
    level: DiagLevel = DiagLevel.ERROR
    note: str | None = None
    help: str | None = None

    def render(self, verbose: bool = False) -> str:
        line = f"{self.location}: {self.level}[{self.code}]: {self.message}"
        if verbose:
            if self.note:
                line += f"\n  note: {self.note}"
            if self.help:
                line += f"\n  help: {self.help}"
        return line

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "code": self.code,
            "level": str(self.level),
            "message": self.message,
        }


class LogsleuthError(Exception):
    """An expected failure with a location; the CLI prints ``diagnostic.render()``."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.render())
        self.diagnostic = diagnostic

    @classmethod
    def at(cls, path: str, code: str, message: str, line: int | None = None,
           column: int | None = None) -> LogsleuthError:
        return cls(Diagnostic(SourceLocation(path, line, column), code, message))


class InputError(LogsleuthError):
    """Unreadable, corrupt or oversized input."""


class PatternError(LogsleuthError):
    """A layout pattern or date pattern that does not compile."""


class RuleError(LogsleuthError):
    """A rule file that does not load."""
