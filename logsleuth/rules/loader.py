"""Find and load rule files: built-ins from package data plus user directories.

Built-ins are found by globbing (``<pack>/<rule-id>.yaml``), so adding a file is
enough. In an installed wheel they live in the ``logsleuth.builtin_rules``
package; in a source checkout, in the top-level ``rules/`` directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from logsleuth.errors import Diagnostic, RuleError, SourceLocation
from logsleuth.rules.model import Rule
from logsleuth.rules.yamlsrc import Marks, load_yaml

RULE_GLOB = "*.yaml"


def builtin_rules_dir() -> Path:
    """Where the built-in rule pack lives (installed package data, else the checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("logsleuth.builtin_rules")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "rules"


def rule_files(directory: Path) -> list[Path]:
    """Rule files under a directory (any depth), in a stable order."""
    return sorted(p for p in directory.rglob(RULE_GLOB) if p.is_file())


def read_rule(path: Path, *, collect_errors: bool = False
              ) -> tuple[Rule | None, list[Diagnostic], Marks]:
    """Load one rule keeping its YAML marks (for lint checks that point into the file)."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        diag = Diagnostic(SourceLocation(src, 1, 1), "R000", f"cannot read rule file: {exc}")
        if not collect_errors:
            raise RuleError(diag) from None
        return None, [diag], Marks(src)
    data, marks, errors = load_yaml(text, src)
    if errors and not collect_errors:
        raise RuleError(errors[0])
    if data is None:
        return None, errors, marks
    rule, more = Rule.from_dict(data, source=src, marks=marks, collect_errors=collect_errors)
    errors = errors + more
    return (rule if not errors else None), errors, marks


def load_rule_file(path: Path, *, collect_errors: bool = False, check_schema: bool = True
                   ) -> tuple[Rule | None, list[Diagnostic]]:
    """Load one rule; with ``collect_errors`` every problem is returned, else the first raises.

    ``check_schema=False``: the built-in pack, fixed per release and checked by the test
    suite (``rules lint`` and ``rules test`` over it), is not schema-checked per scan."""
    if collect_errors:
        rule, errors, _ = read_rule(path, collect_errors=True)
        return rule, errors
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        rule, errors, _ = read_rule(path)  # raises the located read error
        return rule, errors
    return _parsed_rule(text, str(path), check_schema), []


@lru_cache(maxsize=512)
def _parsed_rule(text: str, src: str, check_schema: bool = True) -> Rule:
    """A valid rule from its text, parsed once per process.

    Every unit of a scan builds its own rule collector, so without this each unit
    re-validated the whole pack (~10 ms of YAML and schema work per unit). Keyed by the
    text, an edited file is parsed afresh; a broken one raises and is not cached.
    """
    data, marks, errors = load_yaml(text, src)
    if errors:  # also every case where there is no data
        raise RuleError(errors[0])
    rule, more = Rule.from_dict(data, source=src, marks=marks, collect_errors=False,
                                check_schema=check_schema)
    if rule is None or more:
        raise RuleError(more[0])
    return rule


def _selected(rule: Rule, only: set[str] | None, exclude: set[str] | None) -> bool:
    names = {rule.id, *rule.info.tags}
    if only and not names & only:
        return False
    return not (exclude and names & exclude)


def load_rules(dirs: Iterable[str | Path] | None = None, *, only: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None, builtins: bool = True,
               check_builtins: bool = False) -> list[Rule]:
    """Load enabled rules from the built-in pack and ``dirs``; select by id or tag.

    Raises ``RuleError`` on the first broken rule, a duplicate id or an empty directory.
    Rules of ``dirs`` are schema-checked; the built-in pack only with ``check_builtins``.
    """
    pack = builtin_rules_dir()
    roots = ([pack] if builtins else []) + [Path(d) for d in dirs or ()]
    only_s = set(only) if only else None
    excl_s = set(exclude) if exclude else None
    seen: dict[str, Rule] = {}
    for root in roots:
        files = rule_files(root)
        if not files:
            raise RuleError.at(str(root), "R031", "no rule files (*.yaml) in directory")
        for path in files:
            rule, _ = load_rule_file(path, check_schema=check_builtins or root != pack)
            assert rule is not None  # load_rule_file raises otherwise
            if rule.id in seen:
                first = seen[rule.id].info
                raise RuleError.at(str(path), "R030", f"duplicate rule id {rule.id!r} "
                                   f"(first defined at {first.source}:{first.line})",
                                   rule.info.line, 1)
            seen[rule.id] = rule
    return [r for r in seen.values() if r.enabled and _selected(r, only_s, excl_s)]
