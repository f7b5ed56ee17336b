#!/usr/bin/env bash
# Install everything the test suite needs and run it against a NON-editable install.
# This is the README's test command and exactly what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real: headless Chromium for the HTML report,
# lnav and ripgrep for the benchmark harness's same-run comparisons.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v lnav >/dev/null 2>&1 || need+=(lnav)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing ${need[*]} (run as root or install them); browser tests will fail" >&2
  fi
fi

# A clean virtual environment with the package installed as a wheel would be.
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet ".[test]"

# Run from the venv's pytest so the checkout's logsleuth/ does not shadow the install.
exec .venv/bin/pytest --import-mode=importlib -q "$@"
