"""What a bug report needs first: versions and which native fast paths are active."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

# (distribution name, label); the distribution is what pip installed, so this is
# what a user reports, not what a module's __version__ claims.
_DISTRIBUTIONS = (
    ("pyarrow", "pyarrow"),
    ("pandas", "pandas"),
    ("numpy", "numpy"),
    ("google-re2", "re2"),
    ("hyperscan", "hyperscan"),
    ("ahocorasick-rs", "ahocorasick-rs"),
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def version() -> str:
    """logsleuth's installed version, or a note that this is an uninstalled checkout."""
    v = _version("logsleuth")
    return "unknown (not installed)" if v == "not installed" else v


def prefilter_engine() -> str:
    """The engine the rule prefilter really uses here (Hyperscan can be installed but
    refuse a CPU without its SIMD level, in which case Aho-Corasick or regex runs)."""
    from logsleuth.rules.needles import NeedleMatcher

    return NeedleMatcher(["OutOfDirectMemoryError"]).engine


def about() -> str:
    """The text ``logsleuth --version`` prints: paste it into a bug report."""
    lines = [f"logsleuth {version()}",
             f"python {platform.python_version()} ({sys.implementation.name}, "
             f"{platform.system()} {platform.machine()})"]
    lines += [f"{label} {_version(dist)}" for dist, label in _DISTRIBUTIONS]
    engine = prefilter_engine()
    active = "active" if engine == "hyperscan" else f"not active (using {engine})"
    lines.append(f"hyperscan prefilter: {active}")
    return "\n".join(lines)
