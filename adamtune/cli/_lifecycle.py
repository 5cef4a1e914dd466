"""A long-running CLI process: its deadline, and restarting itself when TensorFlow's memory grows.

TensorFlow keeps memory across trials even after ``clear_session()``. A worker therefore replaces
itself (``exec``, same pid, same arguments) after ``--recycle-after`` trials or once its resident
memory grew by ``--recycle-rss`` MiB since its first trial. The study's trial target is a total,
so the new process carries on where the old one stopped; the deadline travels with it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from adamtune._util import parse_duration, seconds_until

__all__ = [
    "DEADLINE_ENV",
    "Recycler",
    "add_lifecycle_args",
    "check_lifecycle",
    "deadline",
    "run_recycled",
]

DEADLINE_ENV = "ADAMTUNE_DEADLINE"


def add_lifecycle_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", default=None, help="stop starting trials after: 45m, 8h, ...")
    parser.add_argument(
        "--until", default=None, help="stop starting trials at this local time (24h, e.g. 07:00)"
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=30,
        help="seconds between a running trial's signs of life; a trial silent for 3x this long "
        "(machine lost) is failed and retried (default 30)",
    )
    parser.add_argument(
        "--recycle-after",
        type=int,
        default=100,
        metavar="N",
        help="restart this process after N trials to release TensorFlow's memory (default 100)",
    )
    parser.add_argument(
        "--recycle-rss",
        type=float,
        default=512.0,
        metavar="MB",
        help="... or once its memory grew by MB since its first trial (default 512)",
    )


def check_lifecycle(args: argparse.Namespace) -> None:
    """Check the lifecycle options and fix the deadline (``args.deadline``) before any work."""
    Recycler(args.recycle_after, args.recycle_rss)
    if args.heartbeat < 1:
        raise ValueError(f"--heartbeat must be at least 1 second. Received: {args.heartbeat}")
    args.deadline = deadline(args)


def deadline(args: argparse.Namespace) -> float | None:
    """When to stop starting trials (epoch seconds), from --timeout and --until, or the deadline a
    restarted process inherited."""
    inherited = os.environ.get(DEADLINE_ENV)
    if inherited:
        return float(inherited)
    limits = []
    if args.timeout is not None:
        limits.append(parse_duration(args.timeout, "--timeout") or 0.0)
    if args.until is not None:
        limits.append(seconds_until(args.until, "--until"))
    return time.time() + min(limits) if limits else None


class Recycler:
    """A per-trial hook that asks for a restart after ``max_trials`` trials or ``max_growth_mb``
    of memory growth since the first trial; every trial's RSS is also stored by the engine."""

    def __init__(self, max_trials: int, max_growth_mb: float) -> None:
        if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
            raise ValueError(f"--recycle-after must be an integer >= 1. Received: {max_trials!r}")
        if not max_growth_mb > 0:
            raise ValueError(
                f"--recycle-rss must be a positive MiB figure. Received: {max_growth_mb!r}"
            )
        self.max_trials = max_trials
        self.max_growth_mb = max_growth_mb
        self.trials = 0
        self.base: float | None = None
        self.due = False
        self.reason = ""

    def __call__(self, study: Any, trial: Any) -> None:
        from adamtune.engine import rss_mb

        self.trials += 1
        rss = rss_mb()
        if self.base is None:
            self.base = rss
        if self.trials >= self.max_trials:
            self.reason = f"{self.trials} trials (RSS {rss:.0f} MiB)"
        elif rss - self.base > self.max_growth_mb:
            self.reason = f"its memory grew by {rss - self.base:.0f} MiB to {rss:.0f} MiB"
        else:
            return
        self.due = True
        # Optuna: end the loop after this trial (KerasTuner's loop asks `due` instead).
        with contextlib.suppress(RuntimeError):
            study.stop()


def restart(argv: list[str], env: dict[str, str]) -> NoReturn:
    """Replace this process by a fresh ``adamtune`` with the same arguments."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "adamtune", *argv], {**os.environ, **env})


def run_recycled(
    args: argparse.Namespace,
    run: Callable[[float | None], Any],
    say: Callable[[str], None],
    env: dict[str, str] | None = None,
) -> Any:
    """Call ``run(seconds_left)`` under a :class:`Recycler`; restart the process when it is due.

    In-process callers (``adamtune.cli.main([...])`` from Python, tests) cannot be replaced: for
    them the loop simply runs again in the same process.
    """
    from adamtune._search import run_hooks

    limit = args.deadline
    while True:
        recycler = Recycler(args.recycle_after, args.recycle_rss)
        left = None if limit is None else max(limit - time.time(), 0.001)
        with run_hooks(recycler):
            outcome = run(left)
        if not recycler.due or (limit is not None and time.time() >= limit):
            return outcome
        message = f"restarting this worker after {recycler.reason} to release TensorFlow's memory"
        print(f"[adamtune] {message}", file=sys.stderr, flush=True)
        say(message)
        if getattr(args, "argv", None) is not None:
            restart(args.argv, {**(env or {}), **({DEADLINE_ENV: str(limit)} if limit else {})})
