"""Download a model file by URL with pooch, verified by its checksum.

pooch streams the body into a temporary file next to the destination, checks
its hash and only then moves it to the final name, so a failed, truncated or
tampered download never lands under the model's name. This module turns the
errors of pooch and requests into :class:`~segmentation.errors.ModelNotFoundError`
(could not fetch) and :class:`~segmentation.errors.ModelIntegrityError` (fetched
bytes are wrong), each with a message that says what to do.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from segmentation.config import OFFLINE_ENV, offline
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.models.spec import UrlSource

#: Seconds to wait for the server to connect or to send the next bytes.
TIMEOUT_S = 60.0
_CHUNK = 1 << 20


def known_hash(src: UrlSource) -> str:
    """Return the pooch ``known_hash`` of a source: sha256 if known, else md5."""
    if src.sha256:
        return f"sha256:{src.sha256}"
    if src.md5:
        return f"md5:{src.md5}"
    raise ModelIntegrityError(f"{src.url} has no checksum; refusing to download it unverified")


def manual_hint(src: UrlSource, dest: Path) -> str:
    """How to get the file by hand, appended to every error."""
    digest = f"sha256 {src.sha256}" if src.sha256 else f"md5 {src.md5}"
    return (
        f"to get it by hand, download {src.url} and save it as {dest} ({digest}), "
        "or register a file you already have with Registry.register_file(path, spec)"
    )


def download(src: UrlSource, dest: Path, *, progressbar: bool = True) -> Path:
    """Download ``src.url`` to ``dest`` unless ``dest`` already holds the verified file.

    Parameters
    ----------
    src : UrlSource
        URL and checksum (sha256, or md5 where only that is published).
    dest : Path
        Final path; its folder is created. A file already there with the right
        checksum is reused without any network access.
    progressbar : bool
        Show pooch's tqdm bar (when tqdm is installed).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    ModelNotFoundError
        The server answered with an HTTP error (404...) or could not be reached
        (offline, connection refused, timeout).
    ModelIntegrityError
        The body was cut short or its checksum does not match; nothing is left
        under ``dest``.

    """
    import pooch
    import requests

    expected = known_hash(src)
    hint = manual_hint(src, dest)
    if offline():
        alg, digest = expected.split(":")
        if dest.is_file() and pooch.file_hash(str(dest), alg=alg) == digest:
            return dest
        raise ModelNotFoundError(f"{src.url} not downloaded: ${OFFLINE_ENV} is set; {hint}")
    progressbar = progressbar and importlib.util.find_spec("tqdm") is not None
    downloader = pooch.HTTPDownloader(progressbar=progressbar, chunk_size=_CHUNK, timeout=TIMEOUT_S)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = pooch.retrieve(
            src.url,
            known_hash=expected,
            fname=dest.name,
            path=dest.parent,
            downloader=downloader,
            progressbar=progressbar,
        )
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ModelNotFoundError(f"{src.url} answered HTTP {status}; {hint}") from exc
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise ModelIntegrityError(
            f"the download of {src.url} was cut short ({exc.__class__.__name__}); "
            f"try again, or {hint}"
        ) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise ModelNotFoundError(
            f"cannot reach {src.url} (offline, or the server refused the connection: "
            f"{exc.__class__.__name__}); {hint}"
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise ModelNotFoundError(f"downloading {src.url} failed: {exc}; {hint}") from exc
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise ModelIntegrityError(
            f"{src.url} was downloaded but fails its checksum ({expected}); the file was "
            f"deleted. The release may have changed or the download was corrupted; {hint}"
        ) from exc
    got = Path(path)
    size = got.stat().st_size
    if src.size is not None and size != src.size:
        got.unlink(missing_ok=True)
        raise ModelIntegrityError(f"{src.url} has {size} bytes, expected {src.size}; {hint}")
    return got
