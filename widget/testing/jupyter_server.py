"""A throw-away JupyterLab server for browser tests and benchmarks.

Everything the server writes (config, runtime files, settings, workspaces, the
kernelspec) lives in one temporary directory, so tests never see a user's
JupyterLab state and leave nothing behind. The kernel is this interpreter
(``sys.executable``), i.e. the project's virtual environment.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

KERNEL_NAME = "pixel-liberation-test"
KERNEL_DISPLAY = "Python (pixel-liberation tests)"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_kernelspec(data_dir: Path) -> Path:
    """Write a kernelspec that runs ``sys.executable``; return its folder."""
    kdir = data_dir / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL_DISPLAY,
        "language": "python",
        "metadata": {"debugger": False},
    }
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return kdir


def write_quiet_settings(settings_dir: Path) -> None:
    """Silence JupyterLab's news and update toasts (they cover the notebook)."""
    target = settings_dir / "@jupyterlab" / "apputils-extension"
    target.mkdir(parents=True, exist_ok=True)
    quiet = {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}
    (target / "notification.jupyterlab-settings").write_text(json.dumps(quiet))


class JupyterServer:
    """A ``jupyter lab`` process serving ``root`` on a free port with a random token.

    ``isolated=True`` first runs ``python -m widget threads on`` in the server's
    private config dir, so its pages are cross-origin isolated (the default server
    is not: other tests rely on that).
    """

    def __init__(self, base: Path, isolated: bool = False) -> None:
        self.base = base
        self.isolated = isolated
        self.root = base / "root"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = base / "jupyter-server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment that confines every Jupyter directory to the temp folder."""
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.base / "config"),
            JUPYTER_RUNTIME_DIR=str(self.base / "runtime"),
            JUPYTER_DATA_DIR=str(self.base / "data"),
            JUPYTERLAB_SETTINGS_DIR=str(self.base / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base / "workspaces"),
            JUPYTER_PLATFORM_DIRS="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        # the kernel must import this checkout, whatever the cwd of the server
        project = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (project, env.get("PYTHONPATH")) if p)
        return env

    def start(self) -> JupyterServer:
        """Start the server and wait until ``/api/status`` answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_kernelspec(self.base / "data")
        write_quiet_settings(self.base / "settings")
        if self.isolated:
            subprocess.run(
                [sys.executable, "-m", "widget", "threads", "on"],
                env=self.env(), check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            f"--port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--allow-root", "--expose-app-in-browser",
            "--JupyterNotebookApp.expose_app_in_browser=True",
            "--ServerApp.terminals_enabled=False",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            cmd, cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer in {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def api(self, method: str, path: str) -> Any:
        """Call the REST API with the token; return decoded JSON (or None)."""
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every running kernel and session (between tests, and before stopping)."""
        try:
            for s in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{s['id']}")
            for k in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{k['id']}")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass

    def log_tail(self, n: int = 4000) -> str:
        """Return the end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """Stop kernels, then the server's whole process group (TERM, then KILL)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        self.shutdown_kernels()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
