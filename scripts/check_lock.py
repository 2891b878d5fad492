"""Check that the running environment holds exactly the versions a lock file pins.

Usage::

    .venv/bin/python scripts/check_lock.py constraints.txt

Exit 0 when every pinned package that is installed has the pinned version and every
pinned package is installed; else print one line per difference and exit 1.
``scripts/setup.sh`` runs it after installing, and before trusting an earlier install.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)")


def canonical(name: str) -> str:
    """Return the normalised form of a distribution name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """Return ``{canonical name: version}`` of every ``name==version`` line in ``path``."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _PIN.match(line)
        if m is None:
            raise SystemExit(f"{path}:{number}: not a 'name==version' pin: {line!r}")
        pins[canonical(m["name"])] = m["version"]
    return pins


def differences(pins: dict[str, str]) -> list[str]:
    """One line per pinned package that is missing or has another version."""
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    out = []
    for name, want in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            out.append(f"{name}: pinned {want}, not installed")
        elif have != want:
            out.append(f"{name}: pinned {want}, installed {have}")
    return out


def main(argv: list[str]) -> int:
    """Compare the environment with the lock named by ``argv[0]``; 0 when they agree."""
    if len(argv) != 1:
        print("usage: check_lock.py LOCKFILE", file=sys.stderr)
        return 2
    lock = Path(argv[0])
    if not lock.is_file():
        print(f"check_lock: {lock} not found", file=sys.stderr)
        return 2
    diff = differences(read_pins(lock))
    for line in diff:
        print(f"check_lock: {line}", file=sys.stderr)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
