"""Whether the machine is idle before a timed run: the load average and the cores' busy share
from /proc/stat, and the warning recorded when it is not idle."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from systems_stats import busy_share, rounded

IDLE_BUSY_PER_CORE = 0.5  # above this, before a timed run, the machine was not idle
IDLE_SAMPLE_S = 2.0


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _cpu_ticks() -> list[int] | None:
    """/proc/stat's ``cpu`` line (all cores): user nice system idle iowait irq softirq steal."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    return [int(v) for v in fields[1:9]]


def idle_check(sample_s: float = IDLE_SAMPLE_S) -> dict[str, Any]:
    """How busy the machine is now: the load average, and the cores' busy share over
    ``sample_s`` seconds from /proc/stat (the 1-minute load average where that is missing)."""
    cores = os.cpu_count() or 1
    load = load_average()
    before = _cpu_ticks()
    time.sleep(sample_s)
    after = _cpu_ticks()
    if before is not None and after is not None and after != before:
        busy, source = busy_share(before, after) * cores, f"/proc/stat over {sample_s:g} s"
    elif load is not None:
        busy, source = load[0], "1-minute load average"
    else:
        busy, source = None, "unavailable"
    per_core = None if busy is None else busy / cores
    return {
        "load_average": load,
        "busy_cores": rounded(busy, 2),
        "busy_per_core": rounded(per_core, 3),
        "source": source,
        "idle": per_core is None or per_core <= IDLE_BUSY_PER_CORE,
    }


def wait_for_idle(tries: int = 3) -> dict[str, Any]:
    """Up to ``tries`` idle checks (2 s each) until one finds the machine idle; the last one."""
    check = idle_check()
    for _ in range(tries - 1):
        if check["idle"]:
            break
        check = idle_check()
    return check


def warn_if_busy(
    check: dict[str, Any], before: str, warnings: list[str], log: Callable[[str], None]
) -> None:
    if check["idle"]:
        return
    message = (
        f"machine not idle before {before}: {check['busy_cores']} busy cores of "
        f"{os.cpu_count()} ({check['source']}), load average {check['load_average']}; "
        "other work skews these timings"
    )
    warnings.append(message)
    log(f"warning: {message}")
