"""Cross-origin isolation of Jupyter pages, opt-in: what gives onnxruntime-web its threads.

WebAssembly threads need a cross-origin isolated page, and Jupyter's pages are
not. A Jupyter server that sends the two headers below makes them isolated;
``python -m widget threads on`` writes them into a file of the user's Jupyter
config directory (``jupyter_server_config.d/``, which honours
``JUPYTER_CONFIG_DIR``), ``off`` removes that file and ``status`` says whether it
is there and whether running servers send the headers (else: restart them).

Nothing switches this on by itself (``pip install`` does not). With
``credentialless`` embedding, cross-origin images without CORS headers still load
(without cookies); Safari lacks it. Colab and VS Code pages cannot be isolated
this way: they keep one thread.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from jupyter_core.paths import jupyter_config_dir

from segmentation.files import atomic_path

CONFIG_NAME = "pixel-liberation-threads.json"
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "credentialless",
}
#: What the hint says threads bought, measured (ISNet static int8, 1024^2, 2-core machine).
MEASURED_GAIN = "2 threads ran IS-Net in 4.1-4.3 s instead of 6.3-6.4 s on one (2-core machine)"
THREADS_COMMAND = "python -m widget threads on"


class IsolationConfigError(Exception):
    """The config file cannot be written or removed (the message says where and why)."""


def config_path(config_dir: Path | None = None) -> Path:
    """Return the file ``threads on`` writes: ``<config dir>/jupyter_server_config.d/...``."""
    base = Path(config_dir) if config_dir is not None else Path(jupyter_config_dir())
    return base / "jupyter_server_config.d" / CONFIG_NAME


def config_content() -> dict[str, object]:
    """Return the JSON the file holds: the two headers as ``ServerApp.tornado_settings``."""
    return {"ServerApp": {"tornado_settings": {"headers": dict(HEADERS)}}}


def switch_on(config_dir: Path | None = None) -> Path:
    """Write the config file (atomically: a failure leaves nothing half-written); return it.

    Raises
    ------
    IsolationConfigError
        If the folder cannot be created or written.

    """
    path = config_path(config_dir)
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(config_content(), indent=2) + "\n")
    except OSError as exc:
        raise IsolationConfigError(
            f"cannot write {path}: {exc.strerror or exc} (set JUPYTER_CONFIG_DIR to a writable"
            " folder, or fix its permissions)"
        ) from exc
    return path


def switch_off(config_dir: Path | None = None) -> bool:
    """Remove the config file; return whether there was one.

    Raises
    ------
    IsolationConfigError
        If it exists and cannot be removed.

    """
    path = config_path(config_dir)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise IsolationConfigError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def is_on(config_dir: Path | None = None) -> bool:
    """Whether the config file exists and sets both headers."""
    path = config_path(config_dir)
    try:
        data = json.loads(path.read_text())
        headers = data["ServerApp"]["tornado_settings"]["headers"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(headers, dict) and all(headers.get(k) == v for k, v in HEADERS.items())


@dataclass(frozen=True)
class RunningServer:
    """A running Jupyter server and whether its pages are sent the isolation headers."""

    url: str
    isolated: bool | None  # None: it did not answer


def _server_isolated(url: str, token: str) -> bool | None:
    req = urllib.request.Request(
        url.rstrip("/") + "/api/status", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            got = {k: resp.headers.get(k) for k in HEADERS}
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None
    return all(got[k] == v for k, v in HEADERS.items())


def running_servers() -> list[RunningServer]:
    """Return the Jupyter servers of this user's runtime dir, each asked for its headers."""
    from jupyter_server.serverapp import list_running_servers

    out = []
    for info in list_running_servers():
        url = str(info.get("url", ""))
        out.append(RunningServer(url, _server_isolated(url, str(info.get("token", "")))))
    return out


def status_lines(config_dir: Path | None = None) -> list[str]:
    """Return what ``threads status`` prints: the file's state, then each running server's."""
    on = is_on(config_dir)
    path = config_path(config_dir)
    lines = [f"threads: {'on' if on else 'off'} ({path}{'' if on else ' absent'})"]
    servers = running_servers()
    for s in servers:
        if s.isolated is None:
            lines.append(f"  {s.url}: did not answer")
        elif s.isolated == on:
            lines.append(f"  {s.url}: {'isolated' if on else 'not isolated'}, up to date")
        else:
            lines.append(
                f"  {s.url}: {'isolated' if s.isolated else 'not isolated'}: restart it to apply"
            )
    if not servers:
        lines.append("  no running Jupyter server found")
    return lines


def restart_needed(config_dir: Path | None = None) -> bool:
    """Whether a running server disagrees with the config file (it must be restarted)."""
    on = is_on(config_dir)
    return any(s.isolated is not None and s.isolated != on for s in running_servers())


def hint(cross_origin_isolated: bool) -> str:
    """Return the view's one-line hint for a page that is not isolated (empty if it is)."""
    if cross_origin_isolated:
        return ""
    return (
        f"one WebAssembly thread: this page is not cross-origin isolated. `{THREADS_COMMAND}`"
        f" and a Jupyter restart give up to 4 ({MEASURED_GAIN})"
    )
