"""Where things live on disk; every path can be overridden by an environment variable."""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Environment variable naming the model cache directory.
CACHE_ENV = "PIXEL_LIBERATION_CACHE"
#: Environment variable naming a ``node_modules`` folder that holds the npm data package.
NODE_MODULES_ENV = "PIXEL_LIBERATION_NODE_MODULES"
#: Environment variable naming the folder of benchmark datasets.
DATASETS_ENV = "PIXEL_LIBERATION_DATASETS"
#: Environment variable that, set to 1/true/yes, forbids any network fetch (URL or npm).
OFFLINE_ENV = "PIXEL_LIBERATION_OFFLINE"
#: Environment variable naming the folder of the built front end (``bench.js``, the wasm).
FRONT_END_ENV = "PIXEL_LIBERATION_FRONT_END"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Model cache: ``$PIXEL_LIBERATION_CACHE``, else ``~/.cache/pixel-liberation``."""
    env = os.environ.get(CACHE_ENV)
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "pixel-liberation"
    return base


#: Characters a cached file's name keeps; any other becomes ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9._+@-]")
#: Longest part of a cached file's name taken from a model's name or precision.
MAX_NAME_PART = 100


def safe_name(text: str) -> str:
    """Return ``text`` usable as part of one file name anywhere: no separator, no leading dot.

    Characters other than letters, digits and ``._+@-`` become ``_``; names of
    the built-in catalog and of its variants (``fp32@512``) come out unchanged.
    """
    name = _UNSAFE.sub("_", text).lstrip(".")[:MAX_NAME_PART]
    return name or "_"


def cache_file(folder: str, name: str) -> Path:
    """Return ``<cache>/<folder>/<name>``, refusing any ``name`` that would leave that folder.

    Raises
    ------
    ValueError
        ``name`` is empty, ``.``/``..`` or holds a path separator or NUL.

    """
    base = cache_dir() / folder
    seps = {os.sep, os.altsep or os.sep, "\x00"}
    if name in ("", ".", "..") or any(s in name for s in seps) or (base / name).parent != base:
        raise ValueError(f"{name!r} is not a file name inside the cache folder {base}")
    return base / name


def node_modules_dirs() -> list[Path]:
    """Folders searched for npm packages, most specific first."""
    dirs: list[Path] = []
    env = os.environ.get(NODE_MODULES_ENV)
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(PROJECT_ROOT / "js" / "node_modules")
    dirs.append(Path.cwd() / "node_modules")
    dirs.append(cache_dir() / "npm" / "node_modules")
    default = Path.home() / ".cache" / "pixel-liberation" / "npm" / "node_modules"
    if default not in dirs:
        dirs.append(default)  # a package installed before $PIXEL_LIBERATION_CACHE was set
    return dirs


def datasets_dir() -> Path:
    """Benchmark datasets: ``$PIXEL_LIBERATION_DATASETS``, else ``../shared/datasets``."""
    env = os.environ.get(DATASETS_ENV)
    if env:
        return Path(env).expanduser()
    return PROJECT_ROOT.parent / "shared" / "datasets"


def front_end_dir() -> Path:
    """Built front end: ``$PIXEL_LIBERATION_FRONT_END``, else ``widget/static`` of the install.

    ``npm run build`` in ``js/`` writes the bundles there and the wheel ships them there. This
    is a folder of files, named like the other paths here; nothing in :mod:`segmentation`
    imports or looks up the ``widget`` package, which sits above it.
    """
    env = os.environ.get(FRONT_END_ENV)
    if env:
        return Path(env).expanduser()
    return PROJECT_ROOT / "widget" / "static"


def offline() -> bool:
    """Whether ``$PIXEL_LIBERATION_OFFLINE`` forbids downloads and npm installs."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
