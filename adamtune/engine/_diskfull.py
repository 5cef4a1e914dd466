"""Telling a full disk from other storage failures, and saying which disk.

SQLite reports a full disk as ``database or disk is full`` (``SQLITE_FULL``), file writes as
``OSError(ENOSPC)`` or ``EDQUOT``; SQLAlchemy and Optuna wrap both. A search that hits one stops with
:class:`~adamtune.StorageFullError` naming the storage's path and the free space, instead of a
driver's traceback: the finished trials are in the storage (SQLite and the journal write each
trial in one transaction or one record), so freeing space and running the same command resumes.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from adamtune._errors import StorageFullError

__all__ = ["disk_full", "storage_full_error"]

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_ALMOST_FULL = 1024 * 1024
_FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def disk_full(exc: BaseException, where: Path | None = None) -> bool:
    """Whether ``exc``, or an exception it was raised from or while handling, is a full disk.

    SQLite reports a write-ahead file it could not create as a plain ``disk I/O error``: that
    counts too when ``where`` (the storage's file) sits on a disk with less than 1 MiB free.
    """
    chain = _chain(exc)
    for current in chain:
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if any(text in str(current).lower() for text in _FULL_TEXTS):
            return True
    if where is not None and any("disk i/o error" in str(e).lower() for e in chain):
        free = _free_bytes(where.absolute())
        return free is not None and free < _ALMOST_FULL
    return False


def _free_bytes(path: Path) -> int | None:
    for folder in (path, *path.parents):
        if folder.exists():
            try:
                return shutil.disk_usage(folder).free
            except OSError:
                return None
    return None


def storage_full_error(
    exc: BaseException, where: Path | None, what: str
) -> StorageFullError | None:
    """The error to raise instead of ``exc`` when it is a full disk, else None.

    ``where`` is the storage's file or folder on this machine (None for a database server, whose
    disk is the server's); ``what`` names the storage for the message (a masked URL).
    """
    if not disk_full(exc, where):
        return None
    if where is None:
        place = f"the database server behind {what} reports its disk full"
    else:
        free = _free_bytes(where.absolute())
        left = "" if free is None else f" ({free:,} bytes free)"
        place = f"the disk holding {where} is full{left}"
    return StorageFullError(
        f"{place}: the search stopped. Finished trials are kept; free some space and run the "
        "same command to resume."
    )
