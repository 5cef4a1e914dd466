"""Where a Ctrl-C may land. Training may be interrupted at any point; the storage writes around a
trial (asking for it, telling its result) must not be torn in half, or the study is left with a
half-made trial. The CLI's signal handler asks :func:`request`; a deferred interrupt is raised at
the next safe point: when a trial starts training, when a trial has been stored, or when the
search loop ends. Zones nest: storage work made while a trial trains (a pruning report, a parameter
suggestion) is protected again, and an interrupt that lands in it is raised as soon as it is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["check", "interruptible", "pending", "protected", "request", "reset"]

_zones: list[str] = []  # innermost last: "protected" (storage work) or "open" (training)
_pending = [False]
_raised = [0]  # interrupts raised at once (in an open zone), counted


def _open() -> bool:
    return not _zones or _zones[-1] == "open"


def request() -> bool:
    """Record an interrupt; True when the caller may raise it right now (then it is not pending:
    it is raised once)."""
    now = _open()
    _pending[0] = not now
    _raised[0] += now
    return now


def pending() -> bool:
    return _pending[0]


def reset() -> None:
    _zones.clear()
    _pending[0] = False


def check(*_: Any) -> None:
    """Raise a deferred interrupt (also usable as an engine callback)."""
    if _pending[0]:
        _pending[0] = False  # raised once; it propagates from here
        raise KeyboardInterrupt("interrupted")


@contextlib.contextmanager
def protected() -> Iterator[None]:
    """Storage work inside: interrupts wait until it is done. Then a deferred one is raised, unless
    the enclosing work is storage work too (the outer block raises it)."""
    _zones.append("protected")
    try:
        yield
    finally:
        _zones.pop()
    if _open():
        check()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Training inside: interrupts are raised at once (a deferred one on entry). Storage work
    inside it (a pruning report) is protected again.

    A KeyboardInterrupt raised inside TensorFlow (a ``tf.data`` function being traced, a
    ``py_function``) can come out as another error ("None values not supported"); an error that
    ends the block after an interrupt was raised in it is the interrupt, so it is raised as one
    and the search stops as asked, not a crashed trial and a search that goes on.
    """
    check()
    _zones.append("open")
    before = _raised[0]
    try:
        yield
    except Exception as exc:
        if _raised[0] != before:
            raise KeyboardInterrupt("interrupted") from exc
        raise
    finally:
        _zones.pop()
