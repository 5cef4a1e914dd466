"""Where a Ctrl-C may land. Training may be interrupted at any point; the storage writes around a
trial (asking for it, telling its result) must not be torn in half, or the study is left with a
half-made trial. The CLI's signal handler asks :func:`request`; a deferred interrupt is raised at
the next safe point: when a trial starts training, when a trial has been stored, or when the
search loop ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["check", "interruptible", "pending", "protected", "request", "reset"]

_state = {"protected": 0, "open": 0, "pending": False}


def request() -> bool:
    """Record an interrupt; True when it may be raised right now."""
    _state["pending"] = True
    return not _state["protected"] or bool(_state["open"])


def pending() -> bool:
    return bool(_state["pending"])


def reset() -> None:
    _state.update(protected=0, open=0, pending=False)


def check(*_: Any) -> None:
    """Raise a deferred interrupt (also usable as an engine callback)."""
    if _state["pending"]:
        _state["pending"] = False  # raised once; it propagates from here
        raise KeyboardInterrupt("interrupted")


@contextlib.contextmanager
def protected() -> Iterator[None]:
    """Storage work inside: interrupts wait for the next safe point, then are raised."""
    _state["protected"] += 1
    try:
        yield
    finally:
        _state["protected"] -= 1
    check()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Training inside: interrupts are raised at once (a deferred one on entry)."""
    check()
    _state["open"] += 1
    try:
        yield
    finally:
        _state["open"] -= 1
