"""The widgets' front-end code: a tiny ``_esm`` loader plus the bundle, sent as a trait.

anywidget imports a widget's ``_esm`` from a new blob URL for every widget model, and
the browser keeps each module a page imported until the page closes: re-running a
widget cell kept one more ~0.4 MiB copy of ``widget.js`` per run. So every widget's
``_esm`` is ``static/loader.js`` (under 1 KiB, ``js/src/shared/bundle-loader.ts``) and
the real bundle travels in the synced traits ``_bundle`` (its text) and
``_bundle_sha256``: the loader imports each distinct bundle once per page. Both traits
are saved with the widget state, so a saved notebook still renders without a kernel.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import ClassVar

import traitlets as t
from ipywidgets import DOMWidget

from widget.transfer.assets import STATIC

#: The ``_esm`` of every widget class of this package.
LOADER = STATIC / "loader.js"


@dataclass(frozen=True)
class Bundle:
    """One built front-end bundle."""

    text: str
    sha256: str


@functools.cache
def _read(name: str, size: int, mtime_ns: int) -> Bundle:
    text = (STATIC / name).read_text(encoding="utf-8")
    return Bundle(text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_bundle(name: str) -> Bundle:
    """Return ``static/<name>`` and its sha256 (read again only when the file changed).

    Raises
    ------
    FileNotFoundError
        The front end is not built (``npm --prefix js run build``).

    """
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run npm --prefix js run build")
    stat = path.stat()
    return _read(name, stat.st_size, stat.st_mtime_ns)


class BundleTraits(DOMWidget):
    """Sends the class's front-end bundle to :data:`LOADER` in two synced traits.

    A subclass sets ``_esm = LOADER`` and ``_bundle_name`` (a file of ``widget/static``).
    """

    #: File in ``widget/static`` that this widget class renders with.
    _bundle_name: ClassVar[str]
    #: Text of the bundle (str, default: read from ``_bundle_name``).
    _bundle = t.Unicode("").tag(sync=True)
    #: sha256 of ``_bundle``'s UTF-8 bytes: the page imports each distinct value once
    #: (str, default: computed with ``_bundle``).
    _bundle_sha256 = t.Unicode("").tag(sync=True)

    @t.default("_bundle")
    def _default_bundle(self) -> str:
        return read_bundle(self._bundle_name).text

    @t.default("_bundle_sha256")
    def _default_bundle_sha256(self) -> str:
        return read_bundle(self._bundle_name).sha256
