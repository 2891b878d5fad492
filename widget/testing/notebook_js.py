"""JavaScript snippets the harness evaluates in the JupyterLab page.

They reach the app through ``window.jupyterapp`` (``--expose-app-in-browser``)
and work in JupyterLab 4 and Notebook 7, where ``shell.currentWidget`` is the
open notebook panel.
"""

from __future__ import annotations

#: True once the notebook's kernel exists, is connected and idle. The toolbar's
#: indicator says "idle" before any kernel exists, so it is not used.
KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  return !!(k && w.context && w.context.isReady && k.connectionStatus === "connected"
            && k.status === "idle");
}"""

_WITH_TIMEOUT = """
const withTimeout = (p, ms, what) => Promise.race([
  p, new Promise((_, rej) => setTimeout(() => rej(new Error(what + " timed out")), ms))]);
"""

#: Run all cells through JupyterLab's command; resolves when every cell has run.
RUN_ALL = (
    "async (ms) => {"
    + _WITH_TIMEOUT
    + """
  const app = window.jupyterapp;
  await withTimeout(app.commands.execute("notebook:run-all-cells"), ms, "run all cells");
}"""
)

#: Make cell ``i`` the active one and give it the focus (command mode).
SELECT_CELL = """(i) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  nb.activeCellIndex = i;
  nb.mode = "command";
  nb.activeCell.node.scrollIntoView();
  nb.node.focus();
}"""

#: Run cell ``i`` through the ``notebook:run-cell`` command.
RUN_CELL = (
    "async ([i, ms]) => {"
    + _WITH_TIMEOUT
    + """
  const app = window.jupyterapp;
  app.shell.currentWidget.content.activeCellIndex = i;
  await withTimeout(app.commands.execute("notebook:run-cell"), ms, "run cell " + i);
}"""
)

#: Execution count of cell ``i`` (null while running or never run).
EXEC_COUNT = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.model.cells.get(i);
  return cell.executionCount ?? null;
}"""

#: nbformat outputs of cell ``i``.
CELL_OUTPUTS = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.model.cells.get(i);
  return cell.toJSON().outputs || [];
}"""

#: Execute code in the notebook's kernel outside any cell; collect streams, the
#: result's text/plain and the error, if any.
EXECUTE = (
    "async ([code, ms]) => {"
    + _WITH_TIMEOUT
    + """
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const out = { stdout: "", stderr: "", result: null, error: null };
  const future = kernel.requestExecute(
    { code, silent: false, store_history: false, allow_stdin: false, stop_on_error: true });
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type, c = msg.content;
    if (t === "stream") out[c.name === "stderr" ? "stderr" : "stdout"] += c.text;
    else if (t === "execute_result") out.result = (c.data || {})["text/plain"] ?? null;
    else if (t === "error") {
      out.error = { ename: c.ename, evalue: c.evalue, traceback: c.traceback };
    }
  };
  const reply = await withTimeout(future.done, ms, "kernel execute");
  if (reply.content.status === "error" && !out.error) {
    out.error = { ename: reply.content.ename, evalue: reply.content.evalue,
                  traceback: reply.content.traceback };
  }
  return out;
}"""
)
