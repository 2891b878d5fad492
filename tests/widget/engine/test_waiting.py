"""``wait()`` and reading masks while a browser works; the comm pump in a real ipykernel.

Browser-side (a real JupyterLab run top to bottom) is tests/e2e/test_toolbar_theme.py; here
the widgets are driven with the messages a view sends, and :class:`CommPump` runs in a
real kernel started with jupyter_client, fed real comm messages while a cell blocks.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np
import pytest
from jupyter_client.manager import start_new_kernel

from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from widget.batch.widget import BatchRemover
from widget.engine.comm_pump import current_pump
from widget.engine.kernel_twin import run_twin
from widget.engine.waiting import wait_for_browser
from widget.remover.widget import BackgroundRemover

HELLO: dict[str, Any] = {"type": "hello", "view": "v", "have": [], "caps": {}}


def test_remover_wait_without_a_kernel_returns_the_kernel_mask_at_once(
    tiny_model: TinyModel,
) -> None:
    w = BackgroundRemover(red_square_rgba(), tiny_model.spec, registry=tiny_model.registry)
    t = time.monotonic()
    res = w.wait(timeout=30)
    assert time.monotonic() - t < 10  # no attach window outside a kernel: the twin only
    assert res.source == "kernel" and "not running in a Jupyter kernel" in res.reason
    assert w.backend_used == "kernel" and w.fallback_reason == res.reason
    expected, _ = run_twin(tiny_model.spec, tiny_model.registry, w.image)
    np.testing.assert_array_equal(w.model_mask, expected)
    assert tuple(
        BackgroundRemover(red_square_rgba(), tiny_model.spec, backend="kernel").wait()
    ) == (
        "kernel",
        "backend='kernel' was requested",
    )


def test_remover_read_while_browser_runs_waits_instead_of_racing(tiny_model: TinyModel) -> None:
    w = BackgroundRemover(
        red_square_rgba(), tiny_model.spec, backend="browser", registry=tiny_model.registry
    )
    w._link.receive(w, HELLO, [])  # a view attached and runs the model
    assert w._run.browser_running and w.backend_used == ""
    # outside a kernel the wait cannot hear the view: it says so and the twin answers
    mask = w.model_mask
    assert w.backend_used == "kernel" and "not running in a Jupyter kernel" in w.fallback_reason
    assert mask.shape == (96, 128)


def test_batch_masks_while_browser_runs_are_none_until_wait(tiny_model: TinyModel) -> None:
    imgs: list[Any] = [red_square_rgba(), b"garbage", red_square_rgba(80, 60, 10)]
    b = BatchRemover(imgs, tiny_model.spec, registry=tiny_model.registry, backend="browser")
    b._link.receive(b, HELLO, [])
    assert b.status == "sending assets to the browser"
    # reading masks starts no kernel inference while the browser works
    assert b.masks == [None, None, None]
    assert b.backends == ["", "", ""] and b.status == "sending assets to the browser"
    res = b.wait(timeout=5)
    assert res.source == "kernel" and "not running in a Jupyter kernel" in res.reason
    masks = b.masks
    assert masks[0] is not None and masks[1] is None and masks[2] is not None
    assert b.backends == ["kernel", "", "kernel"] and b.status.startswith("done: 3 / 3")


def test_wait_checks_its_timeout() -> None:
    with pytest.raises(ValueError, match="timeout must be a positive"):
        wait_for_browser(lambda: False, lambda: False, displayed=True, timeout=0)
    assert current_pump() is None  # pytest is no kernel


CELL_REGISTER = """
got = []
def _target(comm, msg):
    got.append(msg["content"]["data"])
    comm.on_msg(lambda m: got.append(m["content"]["data"]))
get_ipython().kernel.comm_manager.register_target("pl-test", _target)
"""

CELL_BLOCK = """
import time
from widget.engine.comm_pump import current_pump
pump = current_pump()
t0 = time.monotonic()
while len(got) < 3 and time.monotonic() - t0 < 60:
    if not pump.pump():
        time.sleep(0.01)
print("blocked cell saw", len(got), "dispatched", pump.dispatched, "deferred", pump.deferred)
"""


def _output_of(kc: Any, msg_id: str, timeout: float = 60) -> str:
    text = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return text
    raise AssertionError(f"no idle status for {msg_id}")


def test_comm_pump_delivers_comm_messages_to_a_blocked_cell_in_a_real_kernel() -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        # the kernel must be this venv's python (the test imports it the same way)
        kc.execute_interactive(f"import sys; assert sys.executable == {sys.executable!r}")
        kc.execute_interactive(CELL_REGISTER)
        blocked = kc.execute(CELL_BLOCK)
        # wait until the blocking cell is running, then talk to it like a widget view would
        while True:
            msg = kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == blocked and msg["msg_type"] == "execute_input":
                break
        after = kc.execute("n_after = len(got)")
        last = kc.execute("print('next cells ran in order after', n_after)")
        comm_id = "c0ffee"
        kc.shell_channel.send(
            kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "pl-test", "data": 1})
        )
        for n in (2, 3):
            kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": n}))
        out = _output_of(kc, blocked)
        assert "blocked cell saw 3 dispatched 3" in out, out
        assert "deferred 2" in out, out  # the next cells' execute_requests, run afterwards
        _output_of(kc, after)
        assert "next cells ran in order after 3" in _output_of(kc, last)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
