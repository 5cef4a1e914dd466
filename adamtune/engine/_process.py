"""Who runs a trial, whether that process still lives, and how much memory it holds."""

from __future__ import annotations

import os
import resource
import socket
import sys
from typing import Any

__all__ = ["is_dead", "rss_mb", "worker_identity"]


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name, or None if there is no such process
    (or no /proc on this system)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def worker_identity(trial_number: int) -> dict[str, Any]:
    """What a running trial records about its process: host, pid and the pid's start time (so a
    reused pid is not mistaken for the original process)."""
    return {
        "trial": trial_number,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": _start_ticks(os.getpid()),
    }


def is_dead(identity: Any, trial_number: int) -> bool:
    """True when ``identity`` names a process on this host that no longer runs. Processes on
    other hosts are never judged here: the heartbeat (or the lease) covers them."""
    if not isinstance(identity, dict) or identity.get("trial") != trial_number:
        return False
    if identity.get("host") != socket.gethostname() or not isinstance(identity.get("pid"), int):
        return False
    pid = identity["pid"]
    fields = _proc_stat(pid)
    if fields is None:
        if sys.platform.startswith("linux"):
            return True
        try:  # no /proc: ask the kernel
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    start = identity.get("start")
    return start is not None and len(fields) > 19 and int(fields[19]) != start


def rss_mb() -> float:
    """This process's resident memory now, in MiB (its peak where /proc is missing)."""
    fields = _proc_stat(os.getpid())
    if fields is not None and len(fields) > 21:
        return round(int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
