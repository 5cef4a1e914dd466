"""Checking a journal file before Optuna replays it.

A crash or a full disk can leave the last record half written. Optuna then appends after the
fragment, and every later load fails on the merged line. Here a torn *last* record is cut off and
kept in a side file, with a report of what was cut; damage anywhere else is refused, never merged.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

__all__ = ["JournalDamaged", "recover_journal"]


class JournalDamaged(ValueError):
    """A journal file is damaged before its last record: adamtune will not guess."""


def _bad(line: bytes) -> bool:
    try:
        return not isinstance(json.loads(line), dict)
    except ValueError:
        return True


def recover_journal(path: Path) -> str | None:
    """Cut a torn last record from the journal at ``path``; return a report of it, or None.

    Call with the journal's write lock held. Raises :class:`JournalDamaged` when a record other
    than the last is unreadable.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data:
        return None
    lines = data.split(b"\n")
    # A complete file ends with a newline, leaving an empty final piece.
    tail = lines.pop()
    if not tail and lines and _bad(lines[-1]):
        tail = lines.pop() + b"\n"
    for number, line in enumerate(lines, start=1):
        if _bad(line):
            raise JournalDamaged(
                f"journal {path} is damaged at line {number} of {len(lines) + bool(tail)}, before "
                "its last record, so it is not a torn write that can be cut off safely. adamtune "
                f"leaves it untouched: restore a backup, or keep lines 1-{number - 1} by hand "
                f"(head -n {number - 1}) into a new file and point --storage at it"
            )
    if not tail:
        return None
    keep = len(data) - len(tail)
    aside = path.with_name(f"{path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    aside.write_bytes(tail)
    with open(path, "r+b") as f:
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return (
        f"journal {path}: its last record was torn ({len(tail)} bytes, a write cut short by a "
        f"crash or a full disk); it was cut off and kept in {aside}. The study goes on from the "
        f"{len(lines)} complete records; the trial that record belonged to is failed and retried"
    )
