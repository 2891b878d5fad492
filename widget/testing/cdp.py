"""Chromium driven over a bare DevTools connection, with no domain enabled.

Playwright enables several DevTools domains (Network, Runtime, ...) on every
page it drives and mirrors its websocket frames; with that instrumentation the
renderer of ``python -m widget.bench memory`` climbed faster than a tab without it
(see that script's ``--driver``). :class:`CdpBrowser`
starts ``/usr/bin/chromium`` itself and :class:`CdpPage` enables no domain: it
sends ``Runtime.evaluate``, ``Page.navigate``/``bringToFront``/``close``,
``Emulation.setFocusEmulationEnabled`` and ``HeapProfiler.collectGarbage``, so
what the renderer holds is what a user's tab would hold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import websocket

#: Flags Playwright passes too, so that a hidden page's timers are not throttled.
NO_THROTTLING = [
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]


def renderers_rss(process_info: dict[str, Any]) -> int:
    """Sum of ``VmRSS`` (bytes) of the renderers in a ``SystemInfo.getProcessInfo`` result."""
    total = 0
    for proc in process_info["processInfo"]:
        if proc["type"] != "renderer":
            continue
        for line in Path(f"/proc/{proc['id']}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    if total == 0:
        raise RuntimeError(f"found no renderer process: {process_info}")
    return total


class CdpError(RuntimeError):
    """A DevTools command failed, or the page's code threw."""


class CdpPage:
    """One page target; the subset of Playwright's ``Page`` that :class:`Notebook` uses.

    Parameters
    ----------
    ws_url : str
        The target's ``webSocketDebuggerUrl``.

    """

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client, a test dependency (jupyter_server needs it too)

        self._ws: websocket.WebSocket = websocket.create_connection(
            ws_url, timeout=600, suppress_origin=True
        )
        self._next = 0

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command and return its result (events, none expected, are dropped)."""
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == self._next:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error'].get('message')}")
                result: dict[str, Any] = msg.get("result", {})
                return result

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        """Call the function ``expression`` with ``arg`` (JSON), await it, return its value."""
        call = f"({expression})({json.dumps(arg)})"
        res = self.send(
            "Runtime.evaluate",
            {"expression": call, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in res:
            details = res["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"page code threw: {text}")
        return res.get("result", {}).get("value")

    def wait_for_function(self, expression: str, timeout: float = 30_000) -> None:
        """Poll the function ``expression`` until it returns truthy (``timeout`` in ms)."""
        deadline = time.monotonic() + timeout / 1000
        last = "it returned false"
        while True:
            try:
                if self.evaluate(expression):
                    return
            except CdpError as err:  # the page may still be loading (no window.jupyterapp yet)
                last = str(err)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{expression[:60]!r} not true in {timeout / 1000:.0f} s; last: {last}"
                )
            time.sleep(0.2)

    def goto(self, url: str, wait_until: str = "domcontentloaded") -> None:
        """Navigate; the caller waits for what it needs with :meth:`wait_for_function`."""
        self.send("Page.navigate", {"url": url})

    def collect_garbage(self) -> None:
        """Full garbage collection of the page's JS heap."""
        self.send("HeapProfiler.collectGarbage")

    def close(self, close_tab: bool = False) -> None:
        """Close the DevTools connection, and first the tab itself if ``close_tab``."""
        import websocket

        if close_tab:
            try:
                self.send("Page.close")
            except websocket.WebSocketException:
                pass  # the tab went, taking the connection before the reply
        self._ws.close()


class CdpBrowser:
    """A headless ``chromium`` process with a DevTools port and a private profile.

    Parameters
    ----------
    executable : Path
        The browser binary.
    args : sequence of str
        Extra command-line flags.

    """

    def __init__(self, executable: Path, args: Sequence[str]) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="pl-cdp-"))
        cmd = [
            str(executable), "--headless", "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}", *NO_THROTTLING, *args, "about:blank",
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            self.port = self._wait_port()
        except RuntimeError:
            self.close()
            raise

    def _wait_port(self, timeout_s: float = 30) -> int:
        marker = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited early with {self._proc.returncode}")
            lines = marker.read_text().splitlines() if marker.exists() else []
            if lines and lines[0].isdigit():
                return int(lines[0])
            time.sleep(0.1)
        raise RuntimeError(f"chromium wrote no DevTools port in {timeout_s} s")

    def new_page(self, domains: Sequence[str] = ()) -> CdpPage:
        """Open a blank tab and connect to it.

        Parameters
        ----------
        domains : sequence of str
            DevTools domains to enable on it (for example ``["Network"]``, to measure
            what that instrumentation alone keeps in the renderer); none by default.

        """
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            target = json.load(resp)
        page = CdpPage(target["webSocketDebuggerUrl"])
        # a headless tab has no focus, and JupyterLab's ``shell.currentWidget`` follows it
        page.send("Emulation.setFocusEmulationEnabled", {"enabled": True})
        page.send("Page.bringToFront")
        for domain in domains:
            page.send(f"{domain}.enable")
        return page

    def renderer_rss(self) -> int:
        """Sum of ``VmRSS`` (bytes) of this browser's renderer processes.

        The pids come from the browser target's ``SystemInfo.getProcessInfo`` (a
        browser-level command: no page is instrumented by it).
        """
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=10) as r:
            browser_ws = json.load(r)["webSocketDebuggerUrl"]
        conn = CdpPage(browser_ws)
        try:
            info = conn.send("SystemInfo.getProcessInfo")
        finally:
            conn.close()
        return renderers_rss(info)

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)
