# Shared shell helpers for scripts/setup.sh, scripts/test.sh and .ci/run (sourced, not run).

PL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PL_VENV="${PL_VENV:-$PL_ROOT/.venv}"
PL_PY="$PL_VENV/bin/python"

# Section headers with wall-clock timings: `section NAME` starts one, `section_end` closes it.
_pl_section_name=""
_pl_section_start=0
section() {
    section_end
    _pl_section_name="$1"
    _pl_section_start=$(date +%s)
    printf '\n\033[1m==== %s ====\033[0m  (%s)\n' "$1" "$(date -u +%H:%M:%S)"
}
section_end() {
    if [ -n "$_pl_section_name" ]; then
        printf '\033[1m---- %s: %ss\033[0m\n' "$_pl_section_name" "$(($(date +%s) - _pl_section_start))"
        _pl_section_name=""
    fi
}

die() {
    printf '\033[31mERROR: %s\033[0m\n' "$*" >&2
    exit 1
}

# `retry N DELAY cmd...`: run cmd up to N times, DELAY seconds apart (dpkg lock, flaky mirrors).
retry() {
    local n="$1" delay="$2" i
    shift 2
    for ((i = 1; i <= n; i++)); do
        "$@" && return 0
        [ "$i" -lt "$n" ] && { echo "  (attempt $i/$n failed; retrying in ${delay}s)"; sleep "$delay"; }
    done
    return 1
}
