#!/usr/bin/env bash
# Re-resolve the locked development environment and write it to constraints.txt.
#
#   bash scripts/lock.sh
#
# pyproject.toml keeps the library's own dependency ranges loose (what users get);
# constraints.txt pins every package that scripts/setup.sh installs for development, tests
# and notebooks (pip, the build backend and the [dev] extra, transitively), so CI and every
# new clone resolve the same versions. This script resolves `.[dev]` afresh in a throw-away
# virtual environment, ignoring the current lock, and writes the result. Review the diff, run
# `bash scripts/setup.sh && bash scripts/test.sh`, then commit constraints.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PL_ROOT"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
section "fresh resolution of .[dev] in $tmp/venv"
python3 -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
"$py" -m pip install -q --upgrade pip
# The build backend is pinned too: setup.sh installs it into the venv and builds without isolation.
"$py" -m pip install -q --progress-bar off hatchling hatch-jupyter-builder editables
# A copy without the front-end build hook's npm step: only the dependency list matters here.
"$py" -m pip install -q --progress-bar off --no-build-isolation -e ".[dev]"

section "write constraints.txt"
{
    echo "# Locked development environment: every package scripts/setup.sh installs."
    echo "# Made by 'bash scripts/lock.sh' on $(date -u +%Y-%m-%d) with CPython $("$py" -c 'import platform; print(platform.python_version())') on $(uname -s) $(uname -m)."
    echo "# Do not edit by hand; pyproject.toml keeps the ranges users get."
    "$py" -m pip freeze --all --exclude-editable | grep -v -i -E '^(pixel-liberation|setuptools|wheel)==' | LC_ALL=C sort -f
} >"$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt
section_end
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages pinned"
git --no-pager diff --stat -- constraints.txt 2>/dev/null || true
