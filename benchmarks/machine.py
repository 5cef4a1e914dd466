"""How fast the machine was when a suite ran: the CPU, and full runs of two tasks timed before and
after the jobs (``task_timing.time_task``: seed 0's splits, Adam 1e-3, batch 32, one TensorFlow
thread, the median of 3 after a warm-up run).

Suite times and per-FRE walls compare across runs only through this: the same code and the same
jobs took 119 min on one day and would have taken about twice that on another machine the next
(NOTES.md section 8). Two timings, before and after, show whether the speed held during the run.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

__all__ = ["CALIBRATION_TASKS", "calibrate", "describe", "line"]

# A dense MLP and a small CNN: the two kinds of work the standard suite spends most of its time on.
CALIBRATION_TASKS = ("digits", "mnist-cnn")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """The machine, in the words a reader needs to compare two runs' times (no TensorFlow
    import: the versions come from the installed packages' metadata)."""
    from importlib.metadata import version

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": version("tensorflow"),
    }


def calibrate(repeats: int = 3) -> dict[str, Any]:
    """Seconds of one full run of each of :data:`CALIBRATION_TASKS` on this machine now, with
    the load average when it started (a busy machine shows there)."""
    import task_timing
    import tasks

    load = [round(v, 2) for v in os.getloadavg()]
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    timed = {}
    for name in CALIBRATION_TASKS:
        timing = task_timing.time_task(tasks.get(name), repeats)
        timed[name] = {
            "seconds": round(timing.seconds, 3),
            "cpu_seconds": round(timing.cpu_seconds, 3),
        }
    return {"at": started, "loadavg": load, "tasks": timed}


def line(machine: dict[str, Any]) -> str:
    """One sentence for the tables from a run's ``machine`` (:func:`describe` with ``before``
    and ``after``, each a :func:`calibrate`): the CPU and each task's seconds per full run."""
    parts = []
    for when in ("before", "after"):
        found = machine.get(when)
        if found:
            runs = ", ".join(f"{t} {v['seconds']:.2f} s" for t, v in found["tasks"].items())
            parts.append(f"{when} the jobs {runs} (load {found['loadavg'][0]:.2f})")
    where = f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"
    timed = "; ".join(parts) if parts else "not timed"
    return f"Machine: {where}; one full run (task_timing.py): {timed}."
