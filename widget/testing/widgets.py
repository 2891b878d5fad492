"""Wait for a widget in a driven notebook: poll its state in the kernel until it is done.

The kernel, not the page, says when a widget has its answer: cells after a widget cell run
before the browser has answered, so a test or benchmark polls the widget's traits with
:meth:`~widget.testing.notebook.Notebook.kernel_eval`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from widget.testing.notebook import Notebook


def wait_result(nb: Notebook, var: str = "w", timeout_s: float = 120) -> dict[str, Any]:
    """Wait until ``BackgroundRemover`` ``var`` has its mask and no view still computes one.

    With ``backend="auto"`` the kernel may answer first while the browser computes its own
    mask: this waits for the browser's too (``parity``). Returns the widget's state
    (``backend_used``, ``error``, ``status``, ``fallback_reason``, ``first_source``,
    ``parity``, ``settled``); returns at once on an error.

    Raises
    ------
    AssertionError
        No mask and no error after ``timeout_s``.

    """
    expr = (
        f"{{'backend_used': {var}.backend_used, 'error': {var}.error, 'status': {var}.status,"
        f" 'fallback_reason': {var}.fallback_reason, 'first_source': {var}.first_source,"
        f" 'parity': {var}.parity, 'settled': not {var}._run.browser_running}}"
    )
    # read under the widget's lock: the view's messages may be handled on a subshell's thread
    code = f"import json as _json\nwith {var}._link.lock:\n    print(_json.dumps({expr}))"
    deadline = time.monotonic() + timeout_s
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = json.loads(nb.execute(code).stdout.strip().splitlines()[-1])
        if (state["backend_used"] and state["settled"]) or state["error"]:
            return state
        time.sleep(0.5)
    raise AssertionError(f"widget {var} produced no mask in {timeout_s} s; last state {state}")


def wait_done(nb: Notebook, var: str, timeout_s: float = 180) -> dict[str, Any]:
    """Wait until ``BatchRemover`` ``var`` has every mask (or an error); return its counts.

    Raises
    ------
    AssertionError
        Not done after ``timeout_s``; the message has the batch's status line.

    """
    expr = f"{{'done': {var}.done, 'total': {var}.total, 'error': {var}.error}}"
    deadline = time.monotonic() + timeout_s
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = nb.kernel_eval(expr)
        if state["error"] or state["done"] == state["total"]:
            return state
        time.sleep(0.5)
    status = nb.kernel_eval(f"{var}.status")
    raise AssertionError(f"batch {var} did not finish in {timeout_s} s: {state}, {status!r}")
