"""Execute the notebooks in place, so they are committed with their outputs.

Usage: ``python scripts/run_notebooks.py [NOTEBOOK...]`` (default: every notebook in
``notebooks/``). Each runs with ``notebooks/`` as its working directory, as Jupyter
runs it; figures come out as PNGs when kaleido and Chromium are installed
(``logsleuth.reports.notebook.static_figures``). ``tests/test_notebook.py`` checks the
committed outputs against a fresh run and their size against ``SIZE_BUDGET``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SIZE_BUDGET = 1_500_000  # bytes for all committed notebooks together


def execute(path: Path, cwd: Path = NOTEBOOKS, timeout: int = 300) -> object:
    """Run ``path`` top to bottom in a fresh kernel and return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    args = ap.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        nb = execute(path)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    total = sum(p.stat().st_size for p in NOTEBOOKS.glob("*.ipynb"))
    print(f"total {total:,} bytes (budget {SIZE_BUDGET:,})")
    return 0 if total <= SIZE_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
