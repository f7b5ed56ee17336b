"""Rule engine: typed rules from YAML, a vectorised prefilter, findings, tests and lint."""

from logsleuth.rules.compile import CompiledRuleSet, RuleSet
from logsleuth.rules.findings import Finding, FindingAggregator, RuleMatch
from logsleuth.rules.loader import builtin_rules_dir, load_rule_file, load_rules
from logsleuth.rules.model import Rule, RuleInfo

__all__ = [
    "CompiledRuleSet",
    "Finding",
    "FindingAggregator",
    "Rule",
    "RuleInfo",
    "RuleMatch",
    "RuleSet",
    "builtin_rules_dir",
    "load_rule_file",
    "load_rules",
]
