"""If the browser cannot run the model the kernel does; bad front-end messages are contained."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from tests.e2e.test_engine_browser import tiny_cells
from widget.testing.widgets import wait_result

# Sends a raw comm_msg on the notebook's kernel connection, as a buggy or hostile front end
# could: the widget's custom-message channel with contents that break the protocol.
SEND_RAW = """async ([commId, contents]) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  for (const content of contents) {
    const msg = {
      header: { msg_id: crypto.randomUUID(), username: "test", session: kernel.clientId,
                msg_type: "comm_msg", version: "5.3", date: new Date().toISOString() },
      parent_header: {}, metadata: {}, channel: "shell", buffers: [],
      content: { comm_id: commId, data: { method: "custom", content } },
    };
    kernel.sendShellMessage(msg, false, true);
  }
}"""


def test_no_webassembly_falls_back_to_kernel(notebook: NotebookFactory, tmp_path: Path) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w"]), open=False)
    nb.page.add_init_script("delete globalThis.WebAssembly")
    nb.open()
    assert nb.page.evaluate("() => typeof WebAssembly") == "undefined"
    nb.run_all()
    state = wait_result(nb)
    assert state["backend_used"] == "kernel", state
    assert "WebAssembly is not available" in state["fallback_reason"]
    assert state["status"].startswith("done in the kernel (")
    assert "; the browser could not run it: WebAssembly is not available" in state["status"]
    info = nb.kernel_eval(
        "{'wasm': w.capabilities.get('wasm'), 'sent': w.bytes_sent, 'sum': int(w.mask.sum()),"
        " 'twin': int(w._kernel_answer().mask.sum()), 'match': w.pixels_match,"
        " 'kind': w.status_info['kind']}"
    )
    assert info["wasm"] is False
    assert info["sent"]["model"] == 0 and info["sent"]["wasm"] == 0  # not sent in vain
    assert info["sum"] == info["twin"] > 0
    assert info["match"] is None  # no browser mask to compare
    assert info["kind"] == "warn"  # drawn as a warning, from the data, not the words
    # the view shows the kernel's mask and says why
    nb.page.locator(".pl-root[data-result='full']").wait_for(state="attached", timeout=30_000)
    status = nb.page.locator(".pl-status").first.inner_text()
    assert "the browser could not run it: WebAssembly is not available" in status
    assert nb.page.locator(".pl-status[data-kind='warn']").count() == 1


def test_forced_kernel_backend(notebook: NotebookFactory, tmp_path: Path) -> None:
    cells = tiny_cells(tmp_path, [])
    cells.append("w = widget.BackgroundRemover(img, spec, backend='kernel')\nw")
    nb = notebook(cells)
    nb.run_all()
    state = wait_result(nb)
    assert state["backend_used"] == "kernel"
    assert re.fullmatch(r"done in the kernel \(\d+\.\d s\)", state["status"]), state
    assert nb.kernel_eval("w.bytes_sent['wasm']") == 0


def test_malformed_messages_set_error_and_kernel_survives(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w"]))
    nb.run_all()
    assert wait_result(nb)["backend_used"] == "browser"
    comm_id = nb.kernel_eval("w.model_id")
    bad = [
        {"type": "mask_begin", "view": "v", "width": "wide"},
        "not an object",
        {"type": "mask_chunk", "view": "v", "seq": 0, "offset": 0},
        {"type": "self-destruct", "view": "v"},
        {"type": "hello", "view": "v", "have": [1, 2], "caps": {}},
    ]
    errors = []
    for content in bad:
        nb.execute("w.set_trait('error', '')")
        nb.page.evaluate(SEND_RAW, [comm_id, [content]])
        for _ in range(40):
            err = nb.kernel_eval("w.error")
            if err:
                break
        errors.append(err)
    assert all(e.startswith("malformed message from the front end") for e in errors), errors
    assert "'width'" in errors[0] and "unknown message type 'self-destruct'" in errors[3]
    # the kernel and the widget still work
    assert nb.kernel_eval("6 * 7") == 42
    assert nb.kernel_eval("w.backend_used") == "browser"
    assert nb.kernel_eval("int(w.mask.sum()) > 0") is True


def test_browser_timeout_falls_back(notebook: NotebookFactory, tmp_path: Path) -> None:
    cells = tiny_cells(tmp_path, [])
    cells.append("w = widget.BackgroundRemover(img, spec, backend='browser', timeout_s=0.001)\nw")
    cells.append("w2 = widget.BackgroundRemover(img, spec, backend='browser')\nw2")
    nb = notebook(cells)
    nb.run_cell(0)
    nb.run_cell(1)
    state = wait_result(nb)
    assert state["backend_used"] == "kernel", state
    assert state["fallback_reason"].startswith("run: worker 'run' timed out"), state
    assert nb.kernel_eval("int(w.mask.sum()) > 0") is True
    # the timed-out worker was terminated; the next widget gets a fresh one
    nb.run_cell(2)
    assert wait_result(nb, "w2")["backend_used"] == "browser"
