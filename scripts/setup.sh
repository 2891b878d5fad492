#!/usr/bin/env bash
# Quick start, step 1 of 2: install everything, fetch the default model, run the demo.
#
#   bash scripts/setup.sh
#
# Idempotent: a second run only checks. Needs Python >= 3.10, Node >= 18 with npm,
# and root (or sudo) for `apt-get install chromium` when /usr/bin/chromium is missing.
# SKIP_DEMO=1 skips the demo; PL_VENV=/path picks another virtual environment.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PL_ROOT"
t0=$(date +%s)

section "tools"
command -v python3 >/dev/null || die "python3 not found (need Python >= 3.10)"
python3 -c 'import sys; assert sys.version_info >= (3, 10), sys.version' ||
    die "Python >= 3.10 is needed, found $(python3 --version)"
command -v node >/dev/null || die "node not found (need Node >= 18 with npm)"
command -v npm >/dev/null || die "npm not found"
echo "python3 $(python3 -c 'import platform; print(platform.python_version())'), node $(node --version), npm $(npm --version)"

section "chromium (apt)"
if [ -x /usr/bin/chromium ]; then
    echo "/usr/bin/chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "/usr/bin/chromium is missing and we are not root: apt-get install chromium"
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-o DPkg::Lock::Timeout=300 -y --no-install-recommends)
    retry 5 15 $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q || die "apt-get update failed"
    retry 5 15 $SUDO apt-get install "${apt_opts[@]}" chromium fonts-liberation fonts-dejavu-core ||
        die "apt-get install chromium failed"
    [ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is missing"
    /usr/bin/chromium --version || true
fi

section "python venv"
if [ ! -x "$PL_PY" ]; then
    python3 -m venv "$PL_VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
# pip itself comes from the lock too (a newer pip may resolve differently)
"$PL_PY" -m pip install -q --progress-bar off -c constraints.txt pip
"$PL_PY" --version

section "front end (npm ci + build into widget/static/)"
# package-lock.json newer than the installed tree (or no tree): install exactly the lock.
if [ ! -f js/node_modules/.package-lock.json ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
    retry 3 10 npm --prefix js ci --no-audit --no-fund || die "npm ci in js/ failed"
else
    echo "js/node_modules is up to date with package-lock.json"
fi
# Always rebuild (esbuild takes seconds): pip's build hook skips when widget.js already exists.
npm --prefix js run build
[ -s widget/static/widget.js ] || die "npm run build did not produce widget/static/widget.js"
ls -l widget/static/

section "pip install -e .[dev] (versions from constraints.txt)"
# constraints.txt pins every package of the development environment (scripts/lock.sh makes it);
# the build backend is installed from it too and the project is built without isolation, so
# nothing pip resolves here depends on the day or the machine.
stamp="$PL_VENV/.pixel-liberation-setup"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16) $("$PL_PY" -c 'import sys; print(sys.version)' | head -1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PL_PY" scripts/check_lock.py constraints.txt; then
    echo "already installed (pyproject.toml and constraints.txt unchanged, versions match the lock)"
else
    retry 2 10 "$PL_PY" -m pip install -q --progress-bar off -c constraints.txt \
        hatchling hatch-jupyter-builder editables || die "pip install of the build backend failed"
    retry 2 10 "$PL_PY" -m pip install -q --progress-bar off --no-build-isolation \
        -c constraints.txt -e ".[dev]" || die "pip install -e .[dev] failed"
    "$PL_PY" scripts/check_lock.py constraints.txt || die "installed versions differ from constraints.txt"
    echo "$want" >"$stamp"
fi
"$PL_PY" -c 'import segmentation, widget; print("segmentation", segmentation.__version__, "from", segmentation.__file__)'

section "default models (python -m segmentation fetch)"
"$PL_PY" -m segmentation fetch

section "demo (python -m segmentation demo)"
if [ "${SKIP_DEMO:-0}" = 1 ]; then
    echo "SKIP_DEMO=1: demo skipped"
else
    "$PL_PY" -m segmentation demo
fi

section_end
echo
echo "setup done in $(($(date +%s) - t0))s. Next: bash scripts/test.sh"
