"""Ctrl-C and SIGTERM for long runs: the first closes the running trial cleanly, the second stops
at once."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adamtune import _interrupt

__all__ = ["adopt_children", "handle_interrupts"]

_children: list[int] = []
_interrupted = False


def adopt_children(pids: list[int]) -> None:
    """Worker processes this process started: signals are passed on to them."""
    _children.extend(pids)


def _pass_on(signum: int) -> None:
    for pid in _children:
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, signum)


def _handler(signum: int, frame: Any) -> None:
    global _interrupted
    if _interrupted:
        print(
            "\n[adamtune] second interrupt: stopping at once. The running trial stays RUNNING "
            "until the next run fails it and queues its parameters again",
            file=sys.stderr,
            flush=True,
        )
        _pass_on(signal.SIGKILL)
        os._exit(130)
    _interrupted = True
    _pass_on(signal.SIGTERM)  # workers run in their own session: Ctrl-C reaches only this one
    print(
        "\n[adamtune] interrupted: closing the running trial (press Ctrl-C again to stop at once)",
        file=sys.stderr,
        flush=True,
    )
    if _interrupt.request():  # else raised at the next safe point (not mid storage write)
        raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def handle_interrupts() -> Iterator[None]:
    """Install the handlers for the block (main thread only; elsewhere nothing changes)."""
    global _interrupted
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _interrupted = False
    _interrupt.reset()
    before = signal.signal(signal.SIGINT, _handler), signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
        _children.clear()
        _interrupt.reset()
