"""Property tests of the wire protocol: whatever a view sends, the kernel stays consistent.

Hypothesis builds valid message streams (a view's hello, stages, a mask cut into
chunks sent in any order, failures) for both widgets, then mutates them: keys
dropped, values replaced by other JSON values or boundary numbers, types changed,
views swapped, buffers removed, emptied, doubled or replaced by non-binary objects,
messages duplicated or reordered. Each message goes to a real widget on the tiny
model through the handler ipywidgets calls. The properties:

- nothing escapes the handler, and every rejection is a deliberate protocol error
  (``error`` starts with "malformed message"), never an internal exception;
- a rejected message changes nothing but ``error`` (and may drop the partial mask
  it broke): every trait, the browser's and kernel's masks, the views told to run;
- whatever was accepted, the traits hold values in range and ``mask``,
  ``model_mask`` and ``cutout()`` agree;
- an unmutated stream always ends with exactly the mask it sent.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.models.registry import Registry
from segmentation.models.spec import ModelSpec
from tests import wire_messages as msgs
from tests.tinymodel import red_square_rgba
from tests.wire_messages import Message, deliver
from widget.batch.state import BatchTraits
from widget.batch.widget import BatchRemover
from widget.link.traits import LinkTraits
from widget.protocol import batch as bw
from widget.protocol import common
from widget.protocol import remover as rw
from widget.protocol.common import MAX_MASK_CHUNK, MAX_THREADS, WireError
from widget.remover.editing import MaskEditing
from widget.remover.run import MAX_MASKS_IN_FLIGHT
from widget.remover.state import EngineTraits
from widget.remover.widget import BackgroundRemover

W, H = 24, 16  # small enough that random chunks complete masks
BATCH_SIZES = [(24, 16), None, (12, 10)]  # image 1 cannot be read
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies
BOUNDARY_INTS = [-(2**64), -1, 0, 1, 2, 3, 64, 65, W * H, W * H + 1, 2**31, 2**53, 10**7, 2**70]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from(BOUNDARY_INTS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["wasm", "webgpu", "running", "loading", "hello", "", "no", "x" * 70])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
odd_buffers = st.sampled_from(
    [None, [], [b""], [b"\x01\x02", b"\x03"], [7], ["bytes"], [None], [[1, 2]], [10**9]]
)
TYPES = ["hello", "ack", "stage", "mask_begin", "mask_chunk", "failed"]
TYPES += ["pool", "img_start", "img_begin", "img_chunk", "img_failed", "launch"]
FIELDS = ["width", "height", "total", "seq", "offset", "index", "worker", "workers", "threads"]
FIELDS += ["checksum", "start", "end", "timings", "caps", "have", "blocker", "view", "type"]


def _numbers(content: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The numeric fields of a message (nested ``caps`` and ``timings`` too)."""
    out = []
    for obj in (content, content.get("caps"), content.get("timings")):
        if isinstance(obj, dict):
            num = (int, float)
            out += [
                (obj, k) for k, v in obj.items() if isinstance(v, num) and not isinstance(v, bool)
            ]
    return out


@st.composite
def nudged(draw: st.DrawFn, value: float) -> object:
    """A value near ``value``, at a boundary, of another numeric type, or a bool."""
    whole = int(value)
    return draw(
        st.integers(whole - 3, whole + 3)
        | st.sampled_from([-whole - 1, 2 * whole, whole + 0.5, float(whole), True, False])
        | st.sampled_from(BOUNDARY_INTS)
        | st.floats()
    )


MUTATIONS = ["drop", "replace", "nudge", "nudge", "nudge", "type", "view", "buffers", "caps"]
MUTATIONS += ["whole"]


@st.composite
def mutated(draw: st.DrawFn, message: Message) -> Message:
    """One mutation of ``message``: a field, a number, the type, the view, the buffers, the caps."""
    content = copy.deepcopy(message[0]) if isinstance(message[0], dict) else {}
    buffers = list(message[1]) if isinstance(message[1], list) else []
    how = draw(st.sampled_from(MUTATIONS))
    keys = sorted(content)
    numbers = _numbers(content)
    if how == "drop" and keys:
        del content[draw(st.sampled_from(keys))]
    elif how == "nudge" and numbers:
        obj, key = draw(st.sampled_from(numbers))
        obj[key] = draw(nudged(obj[key]))
    elif how == "type":
        content["type"] = draw(st.sampled_from(TYPES))
    elif how == "view":
        content["view"] = draw(st.sampled_from(["intruder", "", msgs.VIEW + "x", "v" * 65]))
    elif how == "buffers":
        buffers = draw(odd_buffers | st.lists(st.binary(max_size=2 * W * H), max_size=2))
    elif how == "caps" and isinstance(content.get("caps"), dict):
        key = draw(st.sampled_from([*common.BOOL_CAPS, "hardwareConcurrency", "webgpuAdapter"]))
        content["caps"][key] = draw(json_values)
    elif how == "whole":
        return draw(json_values), buffers  # not even an object, most of the time
    else:
        content[draw(st.sampled_from(sorted({*keys, *FIELDS})))] = draw(json_values)
    return content, buffers


def split(draw: st.DrawFn, data: bytes) -> list[tuple[int, bytes]]:
    """Cut ``data`` into 1..4 consecutive chunks: ``(offset, bytes)``."""
    cuts = draw(st.lists(st.integers(1, len(data) - 1), max_size=3, unique=True))
    bounds = [0, *sorted(cuts), len(data)]
    return [(a, data[a:b]) for a, b in itertools.pairwise(bounds)]


@st.composite
def remover_stream(draw: st.DrawFn, have: list[str]) -> tuple[list[Message], bytes]:
    """A valid stream of one view of a ``W`` x ``H`` image, and the mask it sends."""
    stream: list[Message] = [(msgs.hello(have=have), [])]
    if draw(st.booleans()):
        stream.append(({"type": "stage", "view": msgs.VIEW, "stage": "loading"}, []))
    stream.append((msgs.stage(threads=draw(st.integers(1, MAX_THREADS))), []))
    mask = draw(st.binary(min_size=W * H, max_size=W * H))
    chunks = split(draw, mask)
    order = draw(st.permutations(range(len(chunks))))
    begin = len(stream)
    stream.append((msgs.mask_begin(W, H, total=len(chunks)), []))
    for seq in order:
        offset, data = chunks[seq]
        stream.append((msgs.mask_chunk(seq, offset), [data]))
    if draw(st.booleans()):  # a failure, where a view can send one: not within a mask
        at = draw(st.sampled_from([*range(1, begin + 1), len(stream)]))
        stream.insert(at, (msgs.failed(), []))
    return stream, mask


@st.composite
def batch_stream(draw: st.DrawFn, have: list[str]) -> tuple[list[Message], dict[int, bytes]]:
    """A valid stream of the batch view, and the mask it sends per image index."""
    workers = draw(st.integers(1, 2))
    stream: list[Message] = [(msgs.hello(have=have), []), (msgs.pool(workers), [])]
    sent: dict[int, bytes] = {}
    for index in draw(st.permutations([0, 2])):
        size = BATCH_SIZES[index]
        assert size is not None
        w, h = size
        worker = draw(st.integers(0, workers - 1))
        stream.append((msgs.img_start(index, worker), []))
        if draw(st.integers(0, 3)) == 0:
            stream.append((msgs.img_failed(index), []))
            continue
        mask = draw(st.binary(min_size=w * h, max_size=w * h))
        chunks = split(draw, mask)
        stream.append((msgs.img_begin(index, w, h, total=len(chunks), worker=worker), []))
        for seq in draw(st.permutations(range(len(chunks)))):
            offset, data = chunks[seq]
            stream.append((msgs.img_chunk(index, seq, offset), [data]))
        sent[index] = mask
    return stream, sent


@st.composite
def mutate_stream(draw: st.DrawFn, stream: list[Message]) -> list[Message]:
    """``stream`` with 1..4 messages mutated, duplicated or moved."""
    out = list(stream)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(out) - 1))
        how = draw(st.integers(0, 3))
        if how == 0:
            out.insert(draw(st.integers(0, len(out))), out[i])  # duplicated
        elif how == 1:
            out.insert(draw(st.integers(0, len(out))), out.pop(i))  # moved
        else:
            out[i] = draw(mutated(out[i]))
    return out


# ---------------------------------------------------------------- widgets and snapshots
@pytest.fixture(scope="module")
def tiny(tiny_model_file: tuple[Path, ModelSpec]) -> tuple[ModelSpec, Registry]:
    _, spec = tiny_model_file
    registry = Registry()
    registry.register(spec)
    return registry.get(spec.name, spec.precision), registry


def new_remover(tiny: tuple[ModelSpec, Registry]) -> BackgroundRemover:
    spec, registry = tiny
    return BackgroundRemover(red_square_rgba(H, W, 4), spec, backend="browser", registry=registry)


def new_batch(tiny: tuple[ModelSpec, Registry]) -> BatchRemover:
    spec, registry = tiny
    images = [red_square_rgba(16, 24, 3), b"not an image", red_square_rgba(10, 12, 3)]
    return BatchRemover(images, spec, registry=registry, backend="browser")


def _traits(widget: Any, *owners: type) -> dict[str, Any]:
    names = sorted({n for owner in owners for n in owner.class_own_traits()} - {"error"})
    return {n: copy.deepcopy(getattr(widget, n)) for n in names}


def remover_state(w: BackgroundRemover) -> dict[str, Any]:
    """Everything a message could change, besides ``error`` and masks still arriving."""
    run = w._run
    browser = None if run.browser is None else (run.browser.mask.tobytes(), run.browser.checksum)
    return {
        "traits": _traits(w, LinkTraits, EngineTraits, MaskEditing),
        "browser": browser,
        "kernel": None if run.kernel is None else run.kernel.mask.tobytes(),
        "runners": set(run.runners),
        "senders": set(w._link._senders),
        "phase": run.phase,
    }


def batch_state(b: BatchRemover) -> dict[str, Any]:
    """Everything a message could change, besides ``error`` and masks still arriving."""
    records = [
        (
            None if r.browser is None else r.browser.tobytes(),
            None if r.kernel is None else r.kernel.tobytes(),
            r.checksum,
            r.error,
            r.fallback_reason,
            dict(r.timing),
        )
        for r in b._results.records
    ]
    return {
        "traits": _traits(b, LinkTraits, BatchTraits),
        "records": records,
        "runner": b._runner,
        "senders": set(b._link._senders),
    }


def check_remover(w: BackgroundRemover) -> None:
    """What must hold whatever the widget accepted."""
    assert w.error == "" or w.error.startswith("malformed message"), w.error
    assert w.threads == 0 or 1 <= w.threads <= MAX_THREADS
    assert isinstance(w.cross_origin_isolated, bool)
    assert w.execution_provider in ("", *common.EXECUTION_PROVIDERS)
    assert (
        len(w._run.pending) <= MAX_MASKS_IN_FLIGHT
        and w._run.pending.held_bytes <= len(w._run.pending) * W * H
    )
    assert all(isinstance(v, bool) for k, v in w.capabilities.items() if k in common.BOOL_CAPS)
    run = w._run
    if run.browser is not None:
        assert run.browser.mask.shape == (H, W)
        kept = run.current  # the first answer, or the browser's when it is identical
        assert kept is not None and w.backend_used == kept.source
        if run.first == "kernel" and w.parity != "identical":
            assert kept.source == "kernel" and w.parity.startswith("differs")
        np.testing.assert_array_equal(w.model_mask, kept.mask)
        np.testing.assert_array_equal(w.mask, w.model_mask)  # no edits were made
        np.testing.assert_array_equal(np.asarray(w.cutout(None))[..., 3], w.model_mask)


def check_batch(b: BatchRemover) -> None:
    """What must hold whatever the batch accepted."""
    assert b.error == "" or b.error.startswith("malformed message"), b.error
    assert 0 <= b.workers <= 2 and len(b.worker_activity) == b.workers
    assert b._results.pending_bytes <= max(1, b.workers) * 24 * 16
    for rec, size in zip(b._results.records, BATCH_SIZES, strict=True):
        if rec.browser is not None:
            assert size is not None and rec.browser.shape == (size[1], size[0])
            assert 1 <= rec.timing["threads"] <= MAX_THREADS
            assert 0 <= rec.timing["worker"] < b.workers


def run_stream(widget: Any, stream: list[Message], state: Any, check: Any) -> None:
    """Deliver ``stream``; after each message check the invariants and, if it was rejected
    or came from a view that was not asked to run, that nothing but ``error`` changed (a
    partial mask it broke may be dropped)."""
    for content, buffers in stream:
        widget.set_trait("error", "")
        before, pending = state(widget), _pending_keys(widget)
        deliver(widget, content, buffers)  # raises if anything escapes the handler
        if widget.error or _from_a_bystander(content, before):
            assert state(widget) == before, (content, widget.error)
            assert _pending_keys(widget) <= pending
        check(widget)


def _from_a_bystander(content: object, before: dict[str, Any]) -> bool:
    """Whether ``content`` reports a run from a view that was not asked to do one."""
    if not isinstance(content, dict) or content.get("type") in common.COMMON_TYPES:
        return False
    runners = before["runners"] if "runners" in before else {before["runner"]}
    return content.get("view") not in runners


def _pending_keys(widget: Any) -> set[Any]:
    pending = (
        widget._run.pending if isinstance(widget, BackgroundRemover) else widget._results._pending
    )
    return set(pending._masks)


# ---------------------------------------------------------------- parsers
@st.composite
def any_message(draw: st.DrawFn) -> Message:
    stream, _ = draw(remover_stream([]) if draw(st.booleans()) else batch_stream([]))
    message = draw(st.sampled_from(stream))
    return draw(mutated(message)) if draw(st.booleans()) else message


@settings(SETTINGS, max_examples=500)
@given(message=any_message())
def test_parsers_accept_checked_messages_or_raise_wire_error(message: Message) -> None:
    content, buffers = message
    for parse in (rw.parse_view_message, bw.parse_batch_message):
        try:
            msg = parse(content, buffers)
        except WireError as exc:
            assert str(exc) and len(str(exc)) < 400  # one line that names the problem
            continue
        for value in vars(msg).values():
            assert not isinstance(value, bool) or isinstance(msg, common.Hello)
            if isinstance(value, float):
                assert np.isfinite(value) and value >= 0
            if isinstance(value, int) and not isinstance(value, bool):
                assert 0 <= value <= common.MAX_SAFE_INTEGER
        if isinstance(msg, rw.MaskChunk | bw.ImageChunk):
            assert 1 <= len(msg.data) <= MAX_MASK_CHUNK and isinstance(msg.data, bytes)
        if isinstance(msg, rw.MaskBegin | bw.ImageBegin):
            assert 1 <= msg.threads <= MAX_THREADS and msg.width >= 1 and msg.height >= 1
            assert all(np.isfinite(v) and v >= 0 for v in msg.timings.values())
        if isinstance(msg, rw.Stage):
            assert msg.threads is None or 1 <= msg.threads <= MAX_THREADS
        if isinstance(msg, bw.PoolReady):
            assert 1 <= msg.workers <= bw.MAX_POOL_WORKERS
        if isinstance(msg, common.Hello):
            caps = msg.caps
            assert all(isinstance(caps[k], bool) for k in common.BOOL_CAPS if k in caps)


# ---------------------------------------------------------------- widgets
@SETTINGS
@given(data=st.data())
def test_remover_survives_mutated_streams(
    tiny: tuple[ModelSpec, Registry], data: st.DataObject
) -> None:
    w = new_remover(tiny)
    stream, _ = data.draw(remover_stream([w.assets["model"], w.assets["wasm"]]))
    run_stream(w, data.draw(mutate_stream(stream)), remover_state, check_remover)
    w.close()
    assert w._run.pending.held_bytes == 0


@SETTINGS
@given(data=st.data())
def test_remover_assembles_any_valid_stream(
    tiny: tuple[ModelSpec, Registry], data: st.DataObject
) -> None:
    w = new_remover(tiny)
    stream, mask = data.draw(remover_stream([w.assets["model"], w.assets["wasm"]]))
    run_stream(w, stream, remover_state, check_remover)
    assert w.error == ""
    kept = mask
    kinds = [content.get("type") for content, _ in stream]
    if "failed" in kinds[:-1]:  # a failure before the mask was whole
        # the kernel answered when the view failed: its later mask is compared, not swapped in
        assert w.first_source == "kernel" and w.parity
        kernel = w._run.kernel
        assert kernel is not None
        kept = mask if w.parity == "identical" else kernel.mask.tobytes()
    else:
        assert w.backend_used == "browser" and w.first_source == "browser"
    assert w.model_mask.tobytes() == kept and w.mask.tobytes() == kept
    assert w._run.pending.held_bytes == 0


@SETTINGS
@given(data=st.data())
def test_batch_survives_mutated_streams(
    tiny: tuple[ModelSpec, Registry], data: st.DataObject
) -> None:
    b = new_batch(tiny)
    stream, _ = data.draw(batch_stream([b.assets["model"], b.assets["wasm"]]))
    run_stream(b, data.draw(mutate_stream(stream)), batch_state, check_batch)
    b.close()
    assert b._results.pending_bytes == 0


@SETTINGS
@given(data=st.data())
def test_batch_assembles_any_valid_stream(
    tiny: tuple[ModelSpec, Registry], data: st.DataObject
) -> None:
    b = new_batch(tiny)
    stream, sent = data.draw(batch_stream([b.assets["model"], b.assets["wasm"]]))
    run_stream(b, stream, batch_state, check_batch)
    assert b.error == "" and b._results.pending_bytes == 0
    for index, mask in sent.items():
        rec = b._results.records[index]
        assert rec.browser is not None and rec.browser.tobytes() == mask
    assert b.backends == [
        "browser" if i in sent else ("" if i == 1 else "kernel") for i in range(3)
    ]


@settings(SETTINGS, max_examples=60)
@given(workers=st.integers(-3, 40) | st.sampled_from(BOUNDARY_INTS) | st.floats())
def test_pool_size_is_accepted_exactly_within_the_plan(
    tiny: tuple[ModelSpec, Registry], workers: object
) -> None:
    b = new_batch(tiny)  # two readable images, no worker count asked: the cap is 2
    deliver(b, msgs.hello(have=[b.assets["model"], b.assets["wasm"]]))
    deliver(b, {**msgs.pool(1), "workers": workers})
    ok = isinstance(workers, int) and not isinstance(workers, bool) and 1 <= workers <= 2
    assert (b.error == "") == ok, (workers, b.error)
    assert b.workers == (workers if ok else 0) and len(b.worker_activity) == b.workers


@settings(SETTINGS, max_examples=60)
@given(threads=st.integers(-3, 70) | st.sampled_from(BOUNDARY_INTS) | st.floats() | st.booleans())
def test_threads_are_accepted_exactly_in_range(
    tiny: tuple[ModelSpec, Registry], threads: object
) -> None:
    w = new_remover(tiny)
    deliver(w, msgs.hello(have=[w.assets["model"], w.assets["wasm"]]))
    deliver(w, msgs.stage(threads=threads))
    ok = isinstance(threads, int) and not isinstance(threads, bool) and 1 <= threads <= MAX_THREADS
    assert (w.error == "") == ok, (threads, w.error)
    assert w.threads == (threads if ok else 0)
