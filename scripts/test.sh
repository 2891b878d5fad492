#!/usr/bin/env bash
# Quick start, step 2 of 2: the whole test-suite. Run scripts/setup.sh first.
#
#   bash scripts/test.sh                 # everything: lint, typecheck, JS tests, pytest, notebooks
#   bash scripts/test.sh -m "not browser and not isnet"   # extra args go to `pytest tests`
#
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
# Nothing is skipped: a missing Chromium, venv or front-end build is a failure, and so is a
# pytest run that collects no tests (exit code 5). Notebooks (nbval) run only without extra args.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PL_ROOT"
t0=$(date +%s)
failed=()

step() { # step NAME cmd... : run, record failure (pytest's "no tests collected" included)
    local name="$1" rc
    shift
    section "$name"
    echo "+ $*"
    "$@"
    rc=$?
    if [ "$rc" -eq 5 ] && [[ "$*" == *pytest* ]]; then
        echo "pytest collected no tests (exit 5): that is a failure here"
    fi
    if [ "$rc" -ne 0 ]; then
        failed+=("$name (exit $rc)")
        printf '\033[31m%s FAILED (exit %s)\033[0m\n' "$name" "$rc"
    fi
    return 0
}

section "preflight"
missing=()
[ -x "$PL_PY" ] || missing+=("$PL_VENV (python venv)")
[ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium")
[ -d js/node_modules ] || missing+=("js/node_modules")
[ -s widget/static/widget.js ] || missing+=("widget/static/widget.js (front-end build)")
if [ "${#missing[@]}" -gt 0 ]; then
    printf '  missing: %s\n' "${missing[@]}"
    die "run 'bash scripts/setup.sh' first"
fi
echo "venv $("$PL_PY" --version), $(/usr/bin/chromium --version 2>/dev/null)"

# The bundle under test must match js/src (esbuild takes seconds; setup.sh did the npm ci).
step "front-end build" npm --prefix js run --silent build

step "ruff check" "$PL_VENV/bin/ruff" check .
step "ruff format --check" "$PL_VENV/bin/ruff" format --check .
# mypy reads its settings (files, strictness) from pyproject.toml
step "mypy" "$PL_VENV/bin/mypy"

# Every npm script named typecheck* and the JS unit tests (`npm test`) when they exist.
mapfile -t npm_scripts < <(node -e '
  const s = require("./js/package.json").scripts || {};
  for (const k of Object.keys(s)) if (k.startsWith("typecheck")) console.log(k);
  if (s.test) console.log("test");')
for s in "${npm_scripts[@]}"; do
    step "npm run $s" npm --prefix js run --silent "$s"
done

step "pytest tests" "$PL_PY" -m pytest tests --durations=15 "$@"

shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ "$#" -eq 0 ] && [ "${#notebooks[@]}" -gt 0 ]; then
    nbargs=(--nbval --nbval-current-env notebooks/)
    [ -f notebooks/sanitize.cfg ] && nbargs+=(--nbval-sanitize-with notebooks/sanitize.cfg)
    step "notebooks (nbval)" "$PL_PY" -m pytest "${nbargs[@]}"
elif [ "$#" -gt 0 ]; then
    section "notebooks (nbval)"
    echo "not run: extra pytest arguments were given"
fi

section_end
echo
if [ "${#failed[@]}" -gt 0 ]; then
    printf '\033[31mFAILED after %ss:\033[0m\n' "$(($(date +%s) - t0))"
    printf '  - %s\n' "${failed[@]}"
    exit 1
fi
echo "all tests passed in $(($(date +%s) - t0))s"
