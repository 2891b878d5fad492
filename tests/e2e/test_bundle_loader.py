"""Each widget bundle is imported once per page, however many widgets use it.

anywidget imports a widget's ``_esm`` from a new blob URL for every widget model,
and the page keeps every module it imported. The widgets' ``_esm`` is a small
loader (``widget/static/loader.js``); the bundle arrives in the ``_bundle`` trait
and the loader imports it once per sha256. Counted with the DevTools
``Debugger.scriptParsed`` events, which list every script the page compiled.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from tests.e2e.test_engine_browser import tiny_cells
from widget.testing.notebook import Notebook
from widget.testing.widgets import wait_result
from widget.transfer.bundle import read_bundle


def parsed_script_lengths(nb: Notebook) -> list[int]:
    """Lengths of every ``blob:`` script the page has compiled (Debugger domain)."""
    page = nb.page
    cdp = page.context.new_cdp_session(page)
    scripts: list[dict[str, object]] = []
    cdp.on("Debugger.scriptParsed", lambda event: scripts.append(event))
    cdp.send("Debugger.enable")  # reports the scripts already parsed, then returns
    page.wait_for_timeout(500)
    cdp.send("Debugger.disable")
    cdp.detach()
    return [int(str(s["length"])) for s in scripts if str(s.get("url", "")).startswith("blob:")]


def test_three_widgets_import_widget_js_once(notebook: NotebookFactory, tmp_path: Path) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w1", "w2", "w3"]))
    nb.run_all()
    for name in ("w1", "w2", "w3"):
        assert wait_result(nb, name)["backend_used"] == "browser"
    bundle = read_bundle("widget.js")
    assert nb.kernel_eval("[w._bundle_sha256 for w in (w1, w2, w3)]") == [bundle.sha256] * 3
    registry = nb.page.evaluate(
        "() => [...(globalThis.__pixel_liberation_bundles ?? new Map()).keys()]"
    )
    assert registry == [bundle.sha256]
    # the page compiled widget.js once (3 times before the loader), the loader 3 times
    big = [n for n in parsed_script_lengths(nb) if n > 100_000]
    assert len(big) == 1, big
    assert abs(big[0] - len(bundle.text)) < 1_000, (big, len(bundle.text))
