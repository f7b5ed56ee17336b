"""docs/cli.md documents every command and option (regenerated in memory and compared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from logsleuth.cli.app import build_app, run
from logsleuth.cli.docs_cmd import render_app, render_markdown, walk
from logsleuth.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"
STALE = "docs/cli.md is out of date: run `python scripts/gen_cli_docs.py` and commit it"


def _tree(cmd: typer.main.TyperGroup | object, path: tuple[str, ...] = ("logsleuth",),
          parent: object = None) -> list[tuple[tuple[str, ...], list[str]]]:
    """Every (command path, option spellings) pair, walked independently of docs_cmd."""
    ctx = cmd.context_class(cmd, info_name=path[-1], parent=parent)  # type: ignore[attr-defined]
    opts = [o for p in cmd.get_params(ctx) if not p.hidden  # type: ignore[attr-defined]
            and p.param_type_name == "option" for o in (*p.opts, *p.secondary_opts)]
    out = [(path, opts)]
    for name in getattr(cmd, "list_commands", lambda _c: [])(ctx):
        sub = cmd.get_command(ctx, name)  # type: ignore[attr-defined]
        if not sub.hidden:
            out += _tree(sub, (*path, name), ctx)
    return out


def test_cli_md_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_app(), STALE


def test_every_command_and_option_is_in_cli_md() -> None:
    text = DOC.read_text(encoding="utf-8")
    tree = _tree(typer.main.get_command(build_app()))
    assert len(tree) >= 3  # the root, scan and query at least
    for path, opts in tree:
        assert f"## `{' '.join(path)}`" in text, f"{' '.join(path)} undocumented. {STALE}"
        for opt in opts:
            assert opt in text, f"{' '.join(path)} {opt} undocumented. {STALE}"
    for code in ExitCode:
        assert f"| {code.value} | `{code.name}` |" in text


def test_help_text_of_each_command_is_what_help_prints(capsys) -> None:
    text = DOC.read_text(encoding="utf-8")
    for path, _ in _tree(typer.main.get_command(build_app()))[1:]:
        assert run([*path[1:], "--help"]) == ExitCode.OK
        shown = " ".join(capsys.readouterr().out.split())
        section = text.split(f"## `{' '.join(path)}`", 1)[1].split("\n## ", 1)[0]
        summary = section.split("```", 2)[2].strip().split("\n\n", 1)[0]
        assert " ".join(summary.split()) in shown


def test_walker_documents_nested_groups_and_skips_hidden() -> None:
    app = typer.Typer(add_completion=False)
    rules = typer.Typer(help="Rule packs.")

    @app.command()
    def check(fail_on: Annotated[str, typer.Option(help="Exit 1 at or above this.")] = "high",
              ) -> None:
        """Scan and fail on findings."""

    @rules.command("list")
    def list_(tag: Annotated[str | None, typer.Option("--tag", "-t", help="Only this tag.")]
              = None) -> None:
        """List the rules."""

    @rules.command("lint")
    def lint(path: Annotated[Path, typer.Argument(help="Rule directory.")],
             secret: Annotated[bool, typer.Option(hidden=True)] = False) -> None:
        """Lint rule files."""

    @app.command(hidden=True)
    def internal() -> None:
        """Not for users."""

    app.add_typer(rules, name="rules")
    cmd = typer.main.get_command(app)
    paths = [d.path for d in walk(cmd, "tool")]
    assert paths == [("tool",), ("tool", "check"), ("tool", "rules"),
                     ("tool", "rules", "list"), ("tool", "rules", "lint")]
    md = render_markdown(cmd, "tool")
    assert "## `tool rules list`" in md and "`-t, --tag <str>` | Only this tag." in md
    assert "--fail-on" in md and "Rule directory." in md and "[`lint`](#tool-rules-lint)" in md
    assert "secret" not in md and "internal" not in md


def test_script_check_mode(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    out.write_text("# stale\n")
    check = [sys.executable, str(SCRIPT), "--check", "--output", str(out)]
    assert subprocess.run(check, capture_output=True).returncode == 1
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(out)], check=True,
                   capture_output=True)
    assert out.read_text() == render_app()
    assert subprocess.run(check, capture_output=True).returncode == 0
