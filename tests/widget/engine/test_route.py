"""The hybrid first answer: who answers first, why, and one mask whatever arrives later.

The prediction (:mod:`widget.engine.route`) is arithmetic on what a view reports; the widget's
side is driven here with the messages a view sends (the real browser runs in
``tests/e2e/test_engine_hybrid.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import wire_messages as msgs
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from tests.wire_messages import deliver, deliver_all
from widget.engine import route
from widget.protocol.common import Measured, WireError, measured_run, parse_common
from widget.remover.widget import BackgroundRemover

MB = 1_000_000
ISNET = route.Job("m" * 64, 45 * MB, "w" * 64, 14 * MB, 300_000, 2_000_000, (1024, 1024), "wasm")


def report(**kw: Any) -> route.BrowserReport:
    base: dict[str, Any] = {
        "have": frozenset(),
        "warm": None,
        "measured": (),
        "threads": 1,
        "webgpu": False,
        "device_memory_gb": None,
    }
    return route.BrowserReport(**{**base, **kw})


def measured(inference_ms: float, session_ms: float | None = 3000.0) -> Measured:
    return Measured(ISNET.model_sha, "wasm", 1, (1024, 1024), session_ms, inference_ms)


# ----------------------------------------------------------------------------- prediction
def test_a_cold_browser_gives_the_first_answer_to_the_kernel_and_says_why() -> None:
    r = route.choose(report(), ISNET, patience_s=1.0)
    assert r.first == "kernel"
    assert r.reason.startswith("the model takes ~8.1 s on 1 thread of WebAssembly here")
    assert r.prediction is not None and r.prediction.transfer_ms > 1000  # 59 MB to send


def test_cached_warm_and_fast_goes_to_the_browser() -> None:
    warm = report(
        have=frozenset({ISNET.model_sha, ISNET.wasm_sha}),
        warm=ISNET.model_sha,
        measured=(measured(600.0),),
    )
    r = route.choose(warm, ISNET, patience_s=1.0)
    assert r.first == "browser" and "measured" in r.reason
    assert r.prediction is not None and r.prediction.session_ms == 0


def test_the_browsers_own_measurement_decides_over_the_estimate() -> None:
    cached = frozenset({ISNET.model_sha, ISNET.wasm_sha})
    slow = route.choose(
        report(have=cached, warm=ISNET.model_sha, measured=(measured(8600.0),)), ISNET, 1.0
    )
    assert slow.first == "kernel" and "8.6 s" in slow.reason and "(measured)" in slow.reason
    # a measurement of another resolution does not count for this one
    other = Measured(ISNET.model_sha, "wasm", 1, (512, 512), None, 500.0)
    r = route.choose(report(have=cached, warm=ISNET.model_sha, measured=(other,)), ISNET, 1.0)
    assert r.prediction is not None and not r.prediction.measured


def test_patience_moves_the_line() -> None:
    cached = report(have=frozenset({ISNET.model_sha, ISNET.wasm_sha}), warm=ISNET.model_sha,
                    measured=(measured(8600.0),))  # fmt: skip
    assert route.choose(cached, ISNET, patience_s=1.0).first == "kernel"
    assert route.choose(cached, ISNET, patience_s=30.0).first == "browser"


def test_too_little_memory_for_a_session_goes_to_the_kernel() -> None:
    fast = report(have=frozenset({ISNET.model_sha, ISNET.wasm_sha}), warm=ISNET.model_sha,
                  measured=(measured(100.0),), device_memory_gb=0.5)  # fmt: skip
    r = route.choose(fast, ISNET, patience_s=1.0)
    assert r.first == "kernel" and "0.5 GB of memory" in r.reason


@given(
    st.floats(0, 1e6, allow_nan=False), st.floats(0, 1e6, allow_nan=False),
    st.integers(1, 64), st.booleans(), st.floats(0.001, 600),
)  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_the_prediction_is_finite_and_the_choice_follows_it(
    inference: float, session: float, threads: int, cached: bool, patience: float
) -> None:
    have = frozenset({ISNET.model_sha, ISNET.wasm_sha}) if cached else frozenset()
    rep = report(have=have, threads=threads, measured=(measured(inference, session),))
    r = route.choose(rep, ISNET, patience)
    assert r.prediction is not None and math.isfinite(r.prediction.total_ms)
    assert (r.first == "browser") == (r.prediction.total_ms <= patience * 1000)
    assert r.reason


# ----------------------------------------------------------------------------- the hello
def test_a_hello_carries_warm_perf_and_memory_checked() -> None:
    perf = [{"model": "a" * 64, "ep": "wasm", "threads": 1, "resolution": [1024, 1024],
             "session_ms": 3000, "inference_ms": 8600.5}]  # fmt: skip
    caps = {"deviceMemory": 8, "hardwareConcurrency": 2}
    h = parse_common(msgs.hello(warm="a" * 64, perf=perf, caps=caps), [])
    assert h.warm == "a" * 64 and h.measured[0].inference_ms == 8600.5  # type: ignore[union-attr]
    assert h.caps["deviceMemory"] == 8.0  # type: ignore[union-attr]
    for bad, needle in [
        ({**perf[0], "resolution": [1024]}, "resolution"),
        ({**perf[0], "inference_ms": -1}, "inference_ms"),
        ({**perf[0], "ep": "cuda"}, "'ep'"),
        ({**perf[0], "threads": 0}, "'threads'"),
    ]:
        with pytest.raises(WireError, match=needle):
            measured_run(bad)
    with pytest.raises(WireError, match="at most 32"):
        parse_common(msgs.hello(perf=perf * 33), [])
    with pytest.raises(WireError, match="deviceMemory"):
        parse_common(msgs.hello(caps={"deviceMemory": 1e9}), [])


KEYS = ["model", "ep", "threads", "resolution", "session_ms", "inference_ms"]
VALUES = st.one_of(
    st.none(), st.integers(-5, 5000), st.floats(), st.text(max_size=70),
    st.lists(st.integers(-1, 5000), max_size=3),
)  # fmt: skip


@given(st.dictionaries(st.sampled_from(KEYS), VALUES))
@settings(max_examples=300, deadline=None)
def test_any_perf_entry_parses_or_is_a_wire_error(raw: dict[str, Any]) -> None:
    try:
        m = measured_run(raw)
    except WireError:
        return
    assert 1 <= m.threads <= 64 and all(1 <= s <= 4096 for s in m.resolution)
    for t in (m.session_ms, m.inference_ms):
        assert t is None or (math.isfinite(t) and t >= 0)


# ----------------------------------------------------------------------------- the widget
def hybrid(tiny: TinyModel, **kw: Any) -> BackgroundRemover:
    w = BackgroundRemover(red_square_rgba(96, 128), tiny.spec, registry=tiny.registry, **kw)
    w._link.sender = lambda content, buffers: None
    return w


def test_bad_patience_and_backend_are_one_line_errors(tiny_model: TinyModel) -> None:
    for bad in (0, -1, math.nan, math.inf, 601, "1", True):
        with pytest.raises(ValueError, match="patience must") as err:
            hybrid(tiny_model, patience=bad)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="backend must be one of"):
        hybrid(tiny_model, backend="gpu")


def test_a_slow_browser_gets_the_kernels_mask_at_once_then_checks_it(tiny_model: TinyModel) -> None:
    w = hybrid(tiny_model, patience=0.001)  # nothing the browser does is that quick
    sent: list[dict[str, Any]] = []
    w._link.sender = lambda content, buffers: sent.append(content)
    deliver(w, msgs.hello())
    assert w.first_source == "kernel" and w.backend_used == "kernel" and w.parity == ""
    assert "patience is 0.001 s" in w.route_reason
    plan = next(m for m in sent if m["type"] == "plan")
    assert plan["run"] is True and plan["hybrid"] is True and plan["preview"] is None
    # the view's own run waits for the kernel's mask instead of sharing the cores with it
    assert plan["after_kernel_s"] > 0 and plan["patience_s"] is None
    results = [m for m in sent if m["type"] == "result"]
    assert results and results[0]["source"] == "kernel"  # drawn in the view at once
    kinds = [m["type"] for m in sent]
    assert kinds.index("result") < kinds.index("plan")  # behind no asset chunk on the wire
    kernel = np.array(w.mask)
    assert w._run.browser_running  # the browser goes on
    deliver_all(w, msgs.mask_messages(kernel, view=msgs.VIEW))
    assert w.parity == "identical" and w.backend_used == "browser"
    np.testing.assert_array_equal(w.mask, kernel)
    assert w.wait(browser=True).source == "browser"
    assert "identical" in w.status and w.status_info["kind"] == "done"


def test_a_fast_browser_answers_first_and_late_hands_over_to_the_kernel(
    tiny_model: TinyModel,
) -> None:
    w = hybrid(tiny_model, patience=600)
    sent: list[dict[str, Any]] = []
    w._link.sender = lambda content, buffers: sent.append(content)
    deliver(w, msgs.hello())
    plan = next(m for m in sent if m["type"] == "plan")
    assert plan["patience_s"] == 600 and w.first_source == "" and "after_kernel_s" not in plan
    deliver(w, {"type": "late", "view": msgs.VIEW})  # the view's patience ran out
    assert w.first_source == "kernel" and "within patience (600 s)" in w.route_reason
    assert any(m["type"] == "result" and m["source"] == "kernel" for m in sent)


def test_a_browser_that_fails_after_the_kernel_answered_leaves_one_mask_and_says_so(
    tiny_model: TinyModel,
) -> None:
    w = hybrid(tiny_model, patience=0.001)
    deliver(w, msgs.hello())
    first = np.array(w.mask)
    deliver(w, msgs.failed())
    assert not w._run.browser_running and w.backend_used == "kernel"
    np.testing.assert_array_equal(w.mask, first)
    assert "the browser's own run failed" in w.status and w.status_info["kind"] == "warn"
    assert w.wait(browser=True).source == "kernel"


def test_backend_browser_keeps_the_browser_path(tiny_model: TinyModel) -> None:
    w = hybrid(tiny_model, backend="browser", patience=0.001)
    sent: list[dict[str, Any]] = []
    w._link.sender = lambda content, buffers: sent.append(content)
    deliver(w, msgs.hello())
    plan = next(m for m in sent if m["type"] == "plan")
    assert plan["hybrid"] is False and plan["patience_s"] is None
    assert w.first_source == "" and not any(m["type"] == "result" for m in sent)


def test_a_browser_mask_one_level_apart_keeps_the_kernels_and_holds_one_array(
    tiny_model: TinyModel,
) -> None:
    w = hybrid(tiny_model, patience=0.001)
    deliver(w, msgs.hello())
    kernel = np.array(w.mask)
    browser = kernel.copy()
    flat = browser.reshape(-1)
    for i in (0, 7, 1000):  # the int8 model's float head may round a few pixels apart
        flat[i] = flat[i] + 1 if flat[i] < 255 else flat[i] - 1
    deliver_all(w, msgs.mask_messages(browser, view=msgs.VIEW))
    assert w.parity == "equal within 1 level on 3 pixels" and w.backend_used == "kernel"
    assert w.status_info["kind"] == "done"  # rounding is no warning
    np.testing.assert_array_equal(w.mask, kernel)
    np.testing.assert_array_equal(w.browser_mask, browser)
    assert w.compare()["differing_pixels"] == 3
    run = w._run
    assert run.browser is not None and run.kernel is not None
    assert run.browser.mask is run.kernel.mask  # one full mask held, plus the 3 pixels
