"""One job per output folder (and per manifest) at a time: advisory lock files.

:class:`JobLock` takes an exclusive ``flock`` on ``OUTDIR/.pixel-liberation.lock``
and on ``.<manifest name>.lock`` beside the manifest, without waiting: a second
job on the same folder or manifest stops at once with one line naming the
holder (``pid 1234 on host, since 14:02:11``). The kernel drops a lock when its
process ends, however it ends, so a killed job never leaves a stale lock; a
clean release deletes the files. Where the file system has no ``flock`` (or on
Windows) the job runs unlocked and says so.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from segmentation.errors import SegmentationError
from segmentation.jobs.names import display

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]

#: Lock file inside the output folder.
FOLDER_LOCK = ".pixel-liberation.lock"
#: errno values meaning "this file system cannot lock", not "someone holds it".
_NO_LOCKING = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class JobLockedError(SegmentationError):
    """Another job holds the output folder or the manifest; the message names its process."""


def lock_paths(out_dir: Path, manifest: Path) -> list[Path]:
    """Return a job's lock files: the output folder's, then the manifest's (beside it)."""
    return [out_dir / FOLDER_LOCK, manifest.parent / f".{manifest.name}.lock"]


def _locked_thing(path: Path) -> str:
    """Name what a lock file guards: ``output folder X`` or ``manifest Y``."""
    if path.name == FOLDER_LOCK:
        return f"output folder {display(str(path.parent))}"
    guarded = path.parent / path.name[1 : -len(".lock")]
    return f"manifest {display(str(guarded))}"


def _holder(fd: int) -> str:
    """Who holds the lock, as its file says (it may not have written it yet: retry a little)."""
    for _ in range(20):
        try:
            raw = os.pread(fd, 4096, 0)
            info = json.loads(raw.decode("utf-8")) if raw else None
        except (OSError, ValueError):
            info = None
        if isinstance(info, dict) and "pid" in info:
            since = info.get("since")
            when = time.strftime("%H:%M:%S", time.localtime(since)) if since else "?"
            return f"pid {info['pid']} on {info.get('host', '?')}, since {when}"
        time.sleep(0.025)
    return "a process that has not said who it is"


class JobLock:
    """Hold the lock files of one job; a context manager (``with JobLock(paths, log):``).

    Parameters
    ----------
    paths : sequence of Path
        Lock files (their folders must exist).
    log : callable, optional
        Told when a file system cannot lock (the job then runs unlocked).

    """

    def __init__(self, paths: Sequence[Path], log: Callable[[str], None] | None = None) -> None:
        self.paths = list(paths)
        self._log = log
        self._held: list[tuple[Path, int]] = []

    def _lock_one(self, path: Path) -> int | None:
        assert fcntl is not None
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                raise SegmentationError(
                    f"cannot lock {display(str(path))} ({exc.strerror or exc}); "
                    "the output folder must be writable"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise JobLockedError(
                    f"{_locked_thing(path)} is in use by another job ({holder}); "
                    "wait for it to end or choose another output folder or manifest"
                ) from None
            except OSError as exc:
                os.close(fd)
                if exc.errno in _NO_LOCKING:
                    if self._log is not None:
                        self._log(f"{display(str(path.parent))} cannot be locked: running unlocked")
                    return None
                raise
            try:  # the file may have been deleted by a holder releasing it: lock the new one
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            info = {"pid": os.getpid(), "host": socket.gethostname(), "since": int(time.time())}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
            return fd

    def acquire(self) -> None:
        """Take every lock now or raise :class:`JobLockedError` (releasing those taken)."""
        if fcntl is None:
            if self._log is not None:
                self._log("no file locking on this system: running unlocked")
            return
        try:
            for path in self.paths:
                fd = self._lock_one(path)
                if fd is not None:
                    self._held.append((path, fd))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Delete the lock files and drop the locks (idempotent)."""
        held, self._held = self._held, []
        for path, fd in reversed(held):
            try:
                path.unlink(missing_ok=True)  # while still held: no one else holds this file
            except OSError:
                pass
            os.close(fd)

    def __enter__(self) -> JobLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
