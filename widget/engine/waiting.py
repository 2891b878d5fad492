"""``wait()`` of the widgets: block a cell until the browser view answered.

:func:`wait_for_browser` polls a widget's condition while :class:`~widget.engine.comm_pump.CommPump`
processes the view's messages, and decides when no browser will answer: not in a
Jupyter kernel, the widget never displayed, no view said ``hello`` within the
attach window (nbconvert, nbval, papermill without a browser, a closed tab), or the
timeout passed. The widget then computes the kernel's result and says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from ipywidgets import Widget

from widget.engine.comm_pump import CommPump, current_pump

#: Seconds wait() gives a displayed widget's first view to say hello when no widget front end
#: (JupyterLab's widget manager opens ``jupyter.widget.control``) ever connected to the kernel.
NO_FRONTEND_ATTACH_S = 2.0
#: The same when a widget front end is connected: the view may render a moment after display.
ATTACH_S = 30.0
POLL_S = 0.02


class WaitResult(NamedTuple):
    """What :meth:`BackgroundRemover.wait` / :meth:`BatchRemover.wait` returned."""

    source: str
    """``"browser"`` (the view computed the result), ``"kernel"`` (the kernel twin did) or,
    for a batch, ``"mixed"`` (some images each)."""
    reason: str
    """Why the kernel computed (part of) the result; empty when the browser did it all."""


def frontend_connected() -> bool:
    """Whether a Jupyter widget front end (JupyterLab, Notebook 7) opened its control comm."""
    return getattr(Widget, "_control_comm", None) is not None


class DisplayTracking:
    """Mixin (before the widget base): remembers whether the widget was ever displayed."""

    _displayed = False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._displayed = True
        return cast(Any, super())._repr_mimebundle_(**kwargs)


def wait_for_browser(
    done: Callable[[], bool],
    attached: Callable[[], bool],
    *,
    displayed: bool,
    timeout: float,
    attach_s: float | None = None,
    pump: CommPump | None = None,
) -> str:
    """Process the views' messages until ``done()``; return "" or why no browser will answer.

    Parameters
    ----------
    done : callable
        True once the widget has its answer (the browser's, or a fallback it already took).
    attached : callable
        True once a view of the widget said hello.
    displayed : bool
        Whether the widget was displayed (else no view can ever attach).
    timeout : float
        Most seconds to wait for ``done()``.
    attach_s : float, optional
        Seconds to wait for a first view; default :data:`ATTACH_S` when a widget front end is
        connected to the kernel, else :data:`NO_FRONTEND_ATTACH_S`.
    pump : CommPump, optional
        Default: :func:`~widget.engine.comm_pump.current_pump`.

    Returns
    -------
    str
        ``""`` when ``done()`` became true, else the reason to use the kernel instead.

    """
    if timeout <= 0 or timeout != timeout:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if done():
        return ""
    pump = pump or current_pump()
    if pump is None:
        return "not running in a Jupyter kernel: no browser view can answer"
    if not displayed:
        return "the widget was not displayed: no browser view can answer"
    if attach_s is None:
        attach_s = ATTACH_S if frontend_connected() else NO_FRONTEND_ATTACH_S
    start = time.monotonic()
    while True:
        if not pump.pump():
            time.sleep(POLL_S)
        if done():
            return ""
        elapsed = time.monotonic() - start
        if not attached() and elapsed > attach_s:
            return (
                f"no browser view attached within {attach_s:g} s"
                " (no browser: nbconvert, nbval, papermill; or the tab is closed)"
            )
        if elapsed > timeout:
            return f"the browser did not answer within {timeout:g} s"
