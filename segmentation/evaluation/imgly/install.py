"""Get ``@imgly/background-removal`` ready for a side-by-side benchmark in Chromium.

The benchmark compares the widget with imgly's browser library on the same
photo. The front end's ``js/package.json`` pins the library as a development
dependency, so ``npm ci`` (``scripts/setup.sh``) installs it from the lock into
``js/node_modules``; elsewhere this module installs it by name, on demand, into the
cache's npm folder (where :mod:`segmentation.models.npm_package` keeps the data
package). It bundles the library with esbuild into one classic script a local page
can load. Nothing here is needed by the widget itself.

Version pinning: imgly 1.4.5 is the release that reads the installed
``@imgly/background-removal-data@1.4.5`` (resources ``/models/small`` and
``/models/medium``, chunk field ``hash``, onnxruntime-web 1.17 wasm files in
the same ``dist/``). Later releases want other resource names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from segmentation.config import PROJECT_ROOT
from segmentation.errors import ModelNotFoundError
from segmentation.models.npm_package import find_package, install_command, npm_install
from segmentation.models.spec import IMGLY_PACKAGE as DATA_PACKAGE
from segmentation.models.spec import IMGLY_VERSION as DATA_VERSION

#: imgly's browser library, pinned to the release matching the data package.
LIBRARY_PACKAGE = "@imgly/background-removal"
LIBRARY_VERSION = "1.4.5"
#: imgly 1.4.5's ``model`` choices; ``medium`` (fp16 ISNet) is its default.
IMGLY_MODELS = ("medium", "small")
IMGLY_DEFAULT_MODEL = "medium"

#: The page script: exposes ``window.imglyBench.run`` timing one ``removeBackground`` call.
ENTRY_JS = """\
import { removeBackground } from "@imgly/background-removal";

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

// imgly memoizes its session with the first call's config (progress included),
// so the callback writes into whichever marks object the current call set.
let marks = {};
function progress(key, current) {
  if (key === "compute:inference") marks[current === 0 ? "start" : "end"] = performance.now();
}

async function run(arg) {
  marks = {};
  const config = { publicPath: arg.publicPath, model: arg.model, progress };
  const t0 = performance.now();
  const blob = await removeBackground(arg.image, config);
  const ms = performance.now() - t0;
  const compute = marks.end - marks.start;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return { ms, compute_ms: Number.isFinite(compute) ? compute : null, png: toBase64(bytes) };
}

if (typeof window !== "undefined" && typeof document !== "undefined") {
  window.imglyBench = { run };
}
"""


class ImglyUnavailableError(RuntimeError):
    """imgly's library, its data package or the bundler is missing and cannot be installed."""


def _ensure(package: str, version: str, install: bool) -> Path:
    found = find_package(package, version)
    if found is not None:
        return found
    if not install:
        raise ImglyUnavailableError(
            f"{package}@{version} is not installed; install it with "
            f"`{install_command(package, version)}`"
        )
    try:
        return npm_install(package, version)
    except ModelNotFoundError as exc:
        raise ImglyUnavailableError(
            f"could not install {package}@{version} from the npm registry ({exc}). "
            "This benchmark needs it only once: connect to the registry and rerun, or run "
            f"`{install_command(package, version)}` where the registry is reachable and copy "
            "that node_modules here (or point $PIXEL_LIBERATION_NODE_MODULES at it)"
        ) from exc


def ensure_imgly(install: bool = True) -> tuple[Path, Path]:
    """Return the folders of imgly's library and of its data package, installing them if needed.

    Parameters
    ----------
    install : bool
        Install a missing package with npm (into the cache's npm folder).

    Returns
    -------
    (Path, Path)
        ``@imgly/background-removal`` and ``@imgly/background-removal-data``.

    Raises
    ------
    ImglyUnavailableError
        A package is missing and could not be installed (the message says what to run).

    """
    library = _ensure(LIBRARY_PACKAGE, LIBRARY_VERSION, install)
    data = _ensure(DATA_PACKAGE, DATA_VERSION, install)
    if not (data / "dist" / "resources.json").is_file():
        raise ImglyUnavailableError(f"{data} has no dist/resources.json; reinstall {DATA_PACKAGE}")
    return library, data


def esbuild_path() -> Path:
    """Return the esbuild executable of the front end's ``js/node_modules``."""
    exe = PROJECT_ROOT / "js" / "node_modules" / ".bin" / "esbuild"
    if exe.is_file():
        return exe
    found = shutil.which("esbuild")
    if found:
        return Path(found)
    raise ImglyUnavailableError(f"esbuild is missing at {exe}: run `npm ci` in {exe.parents[2]}")


def node_modules_of(package_dir: Path) -> Path:
    """Return the ``node_modules`` folder that holds ``package_dir`` (scoped names included)."""
    for parent in package_dir.parents:
        if parent.name == "node_modules":
            return parent
    raise ValueError(f"{package_dir} is not inside a node_modules folder")


def bundle(library_dir: Path, out_dir: Path) -> Path:
    """Bundle :data:`ENTRY_JS` with imgly's library into ``out_dir/imgly-bench.js``.

    The output is a classic (IIFE) script, so onnxruntime-web finds its own URL
    through ``document.currentScript`` for its proxy worker, as in a page that
    loads a bundle with a ``<script>`` tag.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    entry = out_dir / "imgly-entry.mjs"
    entry.write_text(ENTRY_JS)
    out = out_dir / "imgly-bench.js"
    cmd = [str(esbuild_path()), str(entry), "--bundle", "--format=iife", "--platform=browser",
           "--minify", "--log-level=warning", f"--outfile={out}"]  # fmt: skip
    env = {**os.environ, "NODE_PATH": str(node_modules_of(library_dir))}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 or not out.is_file():
        raise ImglyUnavailableError(f"esbuild failed to bundle imgly: {proc.stderr.strip()[-800:]}")
    return out
