"""The wheel is complete (Python packages and the built front end) and installs cleanly."""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "widget" / "static"


def _expected_version() -> str:
    text = (ROOT / "segmentation" / "_version.py").read_text()
    match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    assert match, "segmentation/_version.py defines no __version__"
    return match.group(1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel the way a user's ``pip`` would (isolated build, hatch hooks)."""
    assert (STATIC / "widget.js").is_file(), "front end not built: run `npm --prefix js run build`"
    out = tmp_path_factory.mktemp("wheelhouse")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--progress-bar", "off",
         "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = list(out.glob("pixel_liberation-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, got {wheels}"
    return wheels[0]


@pytest.mark.slow
def test_wheel_contains_packages_and_front_end(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert wheel.name.startswith(f"pixel_liberation-{_expected_version()}-")
    for pkg in ("segmentation", "widget"):
        sources = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / pkg).glob("*.py"))
        assert sources, f"no .py files in {pkg}/"
        missing = [s for s in sources if s not in names]
        assert not missing, f"wheel lacks {missing}"
    assert {"widget/static/widget.js", "widget/static/loader.js"} <= names
    static = sorted(p.relative_to(ROOT).as_posix() for p in STATIC.rglob("*") if p.is_file())
    missing_static = [s for s in static if s not in names]
    assert not missing_static, f"wheel lacks built front-end files {missing_static}"
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("widget/static/widget.js") == (STATIC / "widget.js").read_bytes()
        assert not [n for n in zf.namelist() if "node_modules" in n or n.startswith("tests/")]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
         "--progress-bar", "off", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"
    # Dependencies come from this venv (PYTHONPATH); the package itself must come from the wheel.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(site.getsitepackages()))
    probe = (
        "import json, importlib.resources as r, segmentation, widget\n"
        "js = r.files('widget') / 'static' / 'widget.js'\n"
        "print(json.dumps({'seg': segmentation.__file__, 'widget': widget.__file__,\n"
        "  'version': segmentation.__version__, 'wversion': widget.__version__,\n"
        "  'js_size': js.stat().st_size if js.is_file() else -1}))\n"
    )
    out = subprocess.run(
        [str(py), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, f"import failed in the fresh venv:\n{out.stderr}"
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["version"] == got["wversion"] == _expected_version()
    assert Path(got["seg"]).is_relative_to(venv), got["seg"]
    assert Path(got["widget"]).is_relative_to(venv), got["widget"]
    assert got["js_size"] == (STATIC / "widget.js").stat().st_size
    assert (venv / "bin" / "pixel-liberation").is_file(), "console script not installed"
