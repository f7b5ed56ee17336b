"""The typer application and the one edge where errors become exit codes."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import traceback

import typer

try:  # typer >= 0.24 bundles its own click; older releases use the click package
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_errors  # type: ignore[no-redef]

from logsleuth.engine.memory import prefer_compact_pool
from logsleuth.errors import ExitCode, LogsleuthError

app = typer.Typer(
    name="logsleuth",
    help="Log forensics for JVM services: read the evidence, say what happened.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_registered: list[bool] = []


def _print_version(value: bool) -> None:
    if value:
        from logsleuth.bugreport import about

        print(about())
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version,
        help="Print logsleuth's version, Python's and the native libraries', and exit."),
) -> None:
    """Log forensics for JVM services: read the evidence, say what happened."""


def build_app() -> typer.Typer:
    """Attach the command modules once (no work at import time)."""
    if not _registered:
        from logsleuth.cli import (
            check_cmd,
            layout_cmd,
            query_cmd,
            rules_cmd,
            scan_cmd,
            watch_cmd,
        )

        scan_cmd.register(app)
        query_cmd.register(app)
        check_cmd.register(app)
        rules_cmd.register(app)
        layout_cmd.register(app)
        watch_cmd.register(app)
        _registered.append(True)
    return app


def run(argv: list[str] | None = None) -> int:
    """Run the CLI in-process and return its ExitCode (tests call this)."""
    build_app()
    prefer_compact_pool()
    try:
        # without standalone mode click returns a command's typer.Exit code
        code = app(args=argv, standalone_mode=False, prog_name="logsleuth")
    except LogsleuthError as err:
        print(err.diagnostic.render(), file=sys.stderr)
        return ExitCode.USAGE
    except typer.Exit as ex:
        return int(ex.exit_code)
    except click_errors.ClickException as ex:
        ex.show()
        return ExitCode.USAGE
    except typer.Abort:
        return ExitCode.USAGE
    except Exception:  # a bug: keep the traceback
        traceback.print_exc()
        return ExitCode.INTERNAL
    return int(code) if isinstance(code, int) else ExitCode.OK


def main() -> None:
    """Console-script entry point."""
    code = run(sys.argv[1:])
    # Garbage collection at interpreter exit walked every object left (libraries,
    # the result) for 0.2 s after each scan. Frozen objects are skipped; atexit
    # handlers and finalizers (temporary directories) still run.
    gc.freeze()
    _exit(code)


def _exit(code: int) -> None:
    """Leave without the interpreter's teardown once the command's work is done.

    Tearing down ~900 modules and the objects they hold took 0.06-0.09 s of wall
    after each scan's output was written (256 MiB incident, paired runs: 0.085 s
    median from ``main``'s return to the process's end, 0.026 s with this). atexit
    handlers (and so ``weakref.finalize``: temporary directories) run first and the
    standard streams are flushed; what only ``__del__`` at teardown would do is
    skipped. Threads that are not daemons, a stream that cannot be flushed or an
    interpreter without ``atexit._run_exitfuncs`` take the ordinary exit.
    """
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is None or any(not t.daemon for t in threading.enumerate()
                                    if t is not threading.main_thread()):
        sys.exit(code)
    run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it
        sys.exit(code)
    os._exit(int(code))
