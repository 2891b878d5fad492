"""The Chromium every test and benchmark drives: binary, flags, launch, renderer memory.

The binary and its flags are the headless benchmark page's
(:mod:`segmentation.evaluation.browser_runtime`), so every page the project opens runs in
the same browser. Playwright is a test dependency: it is imported when a browser is launched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from segmentation.evaluation.browser_runtime import CHROMIUM, CHROMIUM_ARGS
from widget.testing.cdp import renderers_rss

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "chromium", "missing_chromium", "renderer_rss"]


def missing_chromium() -> str | None:
    """Return why Chromium cannot be started (its path is missing), or None."""
    if CHROMIUM.is_file():
        return None
    return f"{CHROMIUM} is missing: run `bash scripts/setup.sh` (apt-get install chromium)"


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """Launch Debian's Chromium through Playwright with the project's flags (and ``extra_args``).

    Raises
    ------
    FileNotFoundError
        ``/usr/bin/chromium`` is missing.

    """
    from playwright.sync_api import sync_playwright  # a test dependency

    why = missing_chromium()
    if why:
        raise FileNotFoundError(why)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def renderer_rss(browser: Browser) -> int:
    """Sum of ``VmRSS`` (bytes) of a Playwright browser's renderer processes."""
    cdp = browser.new_browser_cdp_session()
    try:
        info = cdp.send("SystemInfo.getProcessInfo")
    finally:
        cdp.detach()
    return renderers_rss(info)
