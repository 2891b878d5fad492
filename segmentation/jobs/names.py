r"""File names as the OS has them, in JSON and on a terminal: every name, losslessly.

A POSIX file name is bytes; Python gives a name that is not valid UTF-8 as a
``str`` holding lone surrogates (``os.fsdecode``), which no UTF-8 text can hold.
:func:`display` turns any text into one printable line (bytes that are not
UTF-8 become ``\xff``, control characters ``\n``, ``\t``...);
:func:`path_to_json` gives a path's JSON fields: its display form, plus, only
when that form is not the path itself, the exact bytes in base64;
:func:`path_from_json` rebuilds the very same ``str`` from them.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char, f"\\x{ord(char):02x}")


def display(text: str) -> str:
    r"""Return ``text`` as one line of valid Unicode, for people: lossy, never raises.

    Undecodable bytes of a file name (lone surrogates) become ``\xNN``, other
    lone surrogates ``\udNNN``, control characters ``\n``, ``\t`` or ``\xNN``.
    """
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name can hold
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(_escape_control, text)


def fs_bytes(path: str) -> bytes:
    """Return the bytes of ``path`` as the OS takes them (``os.fsencode``; never raises)."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate outside the escaped range: no file has this name
        return path.encode("utf-8", "surrogatepass")


def is_plain(path: str) -> bool:
    """Whether ``path`` is its own display form (valid UTF-8, no control character)."""
    return display(path) == path


def path_to_json(path: str) -> tuple[str, str | None]:
    """Return ``(display form, base64 of the bytes or None)``; None when the form is exact."""
    if is_plain(path):
        return path, None
    return display(path), base64.b64encode(fs_bytes(path)).decode("ascii")


def path_from_json(text: object, b64: object = None) -> str:
    """Rebuild a path from :func:`path_to_json`'s fields; ValueError if they are malformed."""
    if b64 is None:
        if not isinstance(text, str):
            raise ValueError(f"a path must be a string, got {type(text).__name__}")
        return text
    if not isinstance(b64, str):
        raise ValueError(f"a path's bytes must be base64 text, got {type(b64).__name__}")
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"a path's bytes are not base64 ({exc})") from None
    return os.fsdecode(raw)
