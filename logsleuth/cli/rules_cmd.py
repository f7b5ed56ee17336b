"""``logsleuth rules list|test|lint``: inspect, test and lint rule packs.

Each subcommand calls one function of ``logsleuth.rules.api`` and prints what
it returns; without a directory, ``test`` and ``lint`` work on the built-in pack.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from logsleuth.errors import DiagLevel, ExitCode

if TYPE_CHECKING:
    from logsleuth.rules.model import RuleInfo


def register(app: typer.Typer) -> None:
    """Attach the ``rules`` group (built here, not at import time)."""
    group = typer.Typer(name="rules", help="List, test and lint rule packs.",
                        no_args_is_help=True, add_completion=False)
    group.command("list")(list_)
    group.command("test")(test)
    group.command("lint")(lint)
    app.add_typer(group, name="rules")


def _dirs(dirs: Sequence[Path] | None) -> list[Path]:
    from logsleuth.rules.loader import builtin_rules_dir

    return list(dirs) if dirs else [builtin_rules_dir()]


def list_(
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", help="Directory of extra rules (repeatable).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        help="Only rules with this id or tag (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        help="Leave out rules with this id or tag (repeatable).")] = None,
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="Output: text or json.")] = "text",
) -> None:
    """List the enabled rules: the built-in pack plus --rules directories."""
    from logsleuth.rules.api import list_rules

    if format not in ("text", "json"):
        raise typer.BadParameter(f"'{format}' is not text or json", param_hint="--format")
    infos = list_rules(rules or (), only=only or None, exclude=exclude or None)
    if format == "json":
        doc = {"rules": [rule_json(i) for i in infos]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(rules_table(infos))


def rule_json(info: RuleInfo) -> dict[str, object]:
    t = info.threshold
    return {"id": info.id, "title": info.title, "severity": str(info.severity),
            "tags": list(info.tags), "description": info.description, "advice": info.advice,
            "references": list(info.references),
            "threshold": None if t is None else {"count": t.count, "window": t.window},
            "source": info.source, "line": info.line}


def rules_table(infos: Sequence[RuleInfo]) -> str:
    """Aligned plain columns: greppable, stable, no terminal width guessing."""
    rows = [("ID", "SEVERITY", "TAGS", "TITLE")]
    rows += [(i.id, str(i.severity), ",".join(i.tags) or "-", i.title) for i in infos]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return "".join(f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}".rstrip() + "\n"
                   for a, b, c, d in rows)


def test(
    dirs: Annotated[list[Path] | None, typer.Argument(
        help="Rule directories (default: the built-in pack).")] = None,
) -> None:
    """Run the rule tests (<rule-id>.test.log beside each rule); exit 1 on any failure."""
    from logsleuth.rules.api import test_rules

    report = test_rules(_dirs(dirs))
    text = report.render()
    sys.stdout.write(text + ("\n" if text else ""))
    if not report.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))


def lint(
    dirs: Annotated[list[Path] | None, typer.Argument(
        help="Rule directories (default: the built-in pack).")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show each problem's note and help.")] = False,
) -> None:
    """Check rule files; every problem at file:line:col, exit 1 when any is an error."""
    from logsleuth.rules.api import lint_rules

    problems = lint_rules(_dirs(dirs))
    for d in problems:
        print(d.render(verbose=verbose))
    errors = sum(1 for d in problems if d.level == DiagLevel.ERROR)
    print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    if errors:
        raise typer.Exit(int(ExitCode.FINDINGS))
