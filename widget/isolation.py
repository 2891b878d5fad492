"""Cross-origin isolation of Jupyter pages, opt-in: what gives onnxruntime-web its threads.

WebAssembly threads need a cross-origin isolated page, and Jupyter's pages are
not. A Jupyter server that sends the two headers below makes them isolated;
``python -m widget threads on`` adds them to ``jupyter_server_config.json`` of the
user's Jupyter config directory (``JUPYTER_CONFIG_DIR`` honoured; other settings
in it are kept), ``off`` removes them and ``status`` says whether they are there
and whether running servers send them (else: restart them).

A config file that is a symbolic link (a dotfiles repository, a managed
config) stays one: the file it points to is rewritten, atomically, and the edit
is refused with one line when that file or its folder cannot be written.
``status`` names a config file it cannot read or parse.

Nothing switches this on by itself (``pip install`` does not). With
``credentialless`` embedding, cross-origin images without CORS headers still load
(without cookies); Safari lacks it. Colab and VS Code pages cannot be isolated
this way: they keep one thread.
"""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_dir

from segmentation.files import atomic_path

CONFIG_NAME = "jupyter_server_config.json"
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "credentialless",
}
#: What the hint says threads bought, measured (ISNet static int8, 1024^2, 2-core machine).
MEASURED_GAIN = "2 threads ran IS-Net in 4.1-4.3 s instead of 6.3-6.4 s on one (2-core machine)"
THREADS_COMMAND = "python -m widget threads on"
#: How ``status`` starts when the config file cannot be read or parsed.
UNKNOWN = "threads: unknown"


class IsolationConfigError(Exception):
    """The config file cannot be read, written or removed (the message says where and why)."""


def config_path(config_dir: Path | None = None) -> Path:
    """Return the file ``threads on`` edits: ``<config dir>/jupyter_server_config.json``.

    Not a file of ``jupyter_server_config.d/``: Jupyter Server merges those only
    for ``jpserver_extensions`` (measured: headers set there were not sent).
    """
    base = Path(config_dir) if config_dir is not None else Path(jupyter_config_dir())
    return base / CONFIG_NAME


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet (writing will say why)
        return {}
    except OSError as exc:
        raise IsolationConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise IsolationConfigError(f"{path} is not valid JSON ({exc}); left untouched") from exc
    if not isinstance(data, dict):
        raise IsolationConfigError(f"{path} does not hold a JSON object; left untouched")
    return data


def _headers_of(data: dict[str, Any]) -> dict[str, Any]:
    server = data.get("ServerApp")
    settings = server.get("tornado_settings") if isinstance(server, dict) else None
    headers = settings.get("headers") if isinstance(settings, dict) else None
    return headers if isinstance(headers, dict) else {}


def _target(path: Path) -> Path:
    """Return the file to write for ``path``: itself, or the file its link(s) point to.

    Raises
    ------
    IsolationConfigError
        A link that loops, or that points into a folder that does not exist.

    """
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops on a loop
        raise IsolationConfigError(f"{path} is a symbolic link that loops; left untouched")
    if not target.parent.is_dir():
        raise IsolationConfigError(
            f"{path} links to {target}, whose folder does not exist; left untouched"
        )
    return target


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` (through its links) atomically, keeping the file's permissions."""
    target = _target(path)
    via = f" (the file {path} links to)" if target != path else ""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = None
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(data, indent=2) + "\n")
            if mode is not None:
                tmp.chmod(mode)
    except OSError as exc:
        raise IsolationConfigError(
            f"cannot write {target}{via}: {exc.strerror or exc} (set JUPYTER_CONFIG_DIR to a"
            " writable folder, or fix its permissions)"
        ) from exc


def switch_on(config_dir: Path | None = None) -> Path:
    """Add the two headers to the config file, keeping everything else in it; return it.

    The file is replaced atomically: a failure leaves the previous one as it was.
    A symbolic link stays one: the file it points to is written (and returned).

    Raises
    ------
    IsolationConfigError
        If the file is not a JSON object, or the folder cannot be created or written.

    """
    path = config_path(config_dir)
    data = _read(path)
    server = data.setdefault("ServerApp", {})
    if not isinstance(server, dict):
        raise IsolationConfigError(f"{path}: ServerApp is not an object; left untouched")
    settings = server.setdefault("tornado_settings", {})
    if not isinstance(settings, dict):
        raise IsolationConfigError(f"{path}: tornado_settings is not an object; left untouched")
    headers = settings.setdefault("headers", {})
    if not isinstance(headers, dict):
        raise IsolationConfigError(f"{path}: headers is not an object; left untouched")
    headers.update(HEADERS)
    _write(path, data)
    return _target(path)


def switch_off(config_dir: Path | None = None) -> bool:
    """Remove the two headers (and objects they leave empty); return whether they were there.

    A file left empty is removed; a symbolic link is kept (its file then holds ``{}``).

    Raises
    ------
    IsolationConfigError
        If the file cannot be read, rewritten or removed.

    """
    path = config_path(config_dir)
    data = _read(path)
    headers = _headers_of(data)
    ours = [k for k, v in HEADERS.items() if headers.get(k) == v]
    if not ours:
        return False
    for k in ours:
        del headers[k]
    settings = data["ServerApp"]["tornado_settings"]
    if not headers:
        del settings["headers"]
    if not settings:
        del data["ServerApp"]["tornado_settings"]
    if not data["ServerApp"]:
        del data["ServerApp"]
    if data or path.is_symlink():
        _write(path, data)
        return True
    try:
        path.unlink()
    except OSError as exc:
        raise IsolationConfigError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def is_on(config_dir: Path | None = None) -> bool:
    """Whether the config file sets both headers (False if it is unreadable)."""
    try:
        headers = _headers_of(_read(config_path(config_dir)))
    except IsolationConfigError:
        return False
    return all(headers.get(k) == v for k, v in HEADERS.items())


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
    """Return what ``threads status`` prints: the file's state, then each running server's.

    A config file that cannot be read or parsed gives ``threads: unknown`` and
    the reason, naming the file.
    """
    path = config_path(config_dir)
    try:
        headers = _headers_of(_read(path))
    except IsolationConfigError as exc:
        lines = [f"{UNKNOWN}: {exc}"]
        on = False
    else:
        on = all(headers.get(k) == v for k, v in HEADERS.items())
        lines = [f"threads: {'on' if on else 'off'} ({path})"]
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
