"""Ctrl-C and SIGTERM for long runs: the first closes the running trial cleanly, the second stops
at once. And a helper whose ``adamtune search`` parent died (``kill -9``, a lost terminal) closes
its running trial and stops the same way, instead of searching on unsupervised."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adamtune import _interrupt

__all__ = ["PARENT_ENV", "PARENT_GONE", "adopt_children", "handle_interrupts", "watch_parent"]

# The pid of the `adamtune search` that started a helper, set in the helper's environment: the
# helper (and the process an exec-restart makes of it) stops when that process is gone.
PARENT_ENV = "ADAMTUNE_PARENT_PID"
# What a helper receives when that parent is gone. Not SIGTERM: the kernel's parent-death signal
# and the pid watch may both fire, and the second must not count as a user's second Ctrl-C
# ("stop at once", the running trial left RUNNING). Not SIGHUP: `nohup` ignores it, and the
# ignored disposition is inherited by the helpers.
PARENT_GONE: signal.Signals = getattr(signal, "SIGUSR1", signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL = 1.0  # seconds between two looks at the parent's pid

_children: list[int] = []
_interrupted = False
_parent_lost = False
_parent: list[int] = []  # the pid watched
# See _unraisable: the signal whose handler raised the interrupt, the one to raise again, and
# the unraisable hook in place before.
_raising: list[int] = []
_again: list[int] = []
_hook_before: list[Any] = []
_in_hook: list[bool] = []


def adopt_children(pids: list[int]) -> None:
    """Worker processes this process started: signals are passed on to them."""
    _children.extend(pids)


def _pass_on(signum: int) -> None:
    for pid in _children:
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, signum)


def _raise(signum: int, reason: str) -> None:
    """Raise the interrupt now, or have it raised at the next safe point (not mid storage
    write)."""
    if _interrupt.request():
        _raising[:] = [signum]
        raise KeyboardInterrupt(reason)


def _raised_again(signum: int) -> bool:
    """True when this call of a handler is an interrupt raised again (see :func:`_unraisable`),
    not a new one: then it is raised, and nothing else is done or said."""
    if not _again:
        return False
    if _in_hook:  # still where exceptions are ignored: a moment later
        _send_later(signum)
        return True
    _again.clear()
    _raise(signum, f"signal {signum}")
    return True


def _send_later(signum: int) -> None:
    """Deliver ``signum`` to the main thread in a moment, from another thread: by then the main
    thread has left the code that ignored the interrupt."""

    def send() -> None:
        time.sleep(0.01)
        with contextlib.suppress(OSError, ValueError):
            main = threading.main_thread().ident
            if main is not None:
                signal.pthread_kill(main, signum)

    threading.Thread(target=send, name="adamtune-interrupt-again", daemon=True).start()


def _unraisable(hook: Any) -> None:
    """``sys.unraisablehook`` while the handlers are installed.

    A signal handler runs wherever the main thread is, and some places there ignore exceptions:
    a weakref callback or a ``__del__`` run by the garbage collector (TensorFlow and Keras keep
    many ``WeakKeyDictionary`` objects). The KeyboardInterrupt raised there was printed as
    "Exception ignored" and lost, and the search went on to its end as if never interrupted.
    Here it is raised again from ordinary code: the signal is sent once more a moment later, and
    its handler raises the interrupt without taking it for a second one.
    """
    if _raising and issubclass(hook.exc_type, KeyboardInterrupt):
        _in_hook.append(True)
        try:
            _again[:] = _raising
            _send_later(_raising[0])
        finally:
            _in_hook.pop()
        return
    (_hook_before[0] if _hook_before else sys.__unraisablehook__)(hook)


def _install_unraisable() -> Any:
    """Install :func:`_unraisable`; returns the hook in place before (to restore)."""
    before = sys.unraisablehook
    if before is not _unraisable:
        _hook_before[:] = [before]
        sys.unraisablehook = _unraisable
    return before


def _handler(signum: int, frame: Any) -> None:
    global _interrupted
    if _raised_again(signum):
        return
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
    _raise(signum, f"signal {signum}")


def _parent_gone(signum: int, frame: Any) -> None:
    """The parent died: close the running trial and stop, as the first Ctrl-C does; said once,
    however many times it is reported (the kernel's signal, the pid watch), and never taken for
    a second interrupt."""
    global _interrupted, _parent_lost
    if _raised_again(signum) or _parent_lost:
        return
    _parent_lost = True
    print(
        f"\n[adamtune] the process that started this worker (pid {_parent[-1] if _parent else '?'})"
        " is gone: closing the running trial and stopping",
        file=sys.stderr,
        flush=True,
    )
    if _interrupted:  # already closing the trial for a Ctrl-C or SIGTERM
        return
    _interrupted = True
    _pass_on(signal.SIGTERM)
    _raise(signum, "parent process gone")


def _set_parent_death_signal(signum: int) -> bool:
    """Linux: have the kernel send ``signum`` to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        args = [ctypes.c_ulong(n) for n in (int(signum), 0, 0, 0)]
        return int(libc.prctl(ctypes.c_int(PR_SET_PDEATHSIG), *args)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    """Wait for this process's parent pid to change (its parent died and it was re-parented),
    then report it to the main thread, where Python runs signal handlers."""
    while os.getppid() == parent:
        time.sleep(interval)
    with contextlib.suppress(OSError, ValueError):
        main = threading.main_thread().ident
        if main is not None:
            signal.pthread_kill(main, PARENT_GONE)


def watch_parent(
    parent: int | None = None, *, pdeathsig: bool = True, pid_watch: bool = True
) -> bool:
    """Stop this process cleanly, within a second or so, once ``parent`` (default: the pid in
    ``$ADAMTUNE_PARENT_PID``; nothing is watched without one) is no longer its parent.

    Call it first thing in the child (main thread). Two routes, either enough: the kernel's
    parent-death signal (Linux ``prctl(PR_SET_PDEATHSIG)``), and a thread watching
    ``getppid()`` (every OS, and the check for a parent that died before the signal was set).
    Both deliver :data:`PARENT_GONE`, whose handler closes the running trial like the first
    Ctrl-C and then stops; before a search runs it simply stops the process. ``pdeathsig`` and
    ``pid_watch`` turn a route off (tests check each alone). Returns True when a parent is
    watched.
    """
    if parent is None:
        given = os.environ.get(PARENT_ENV, "")
        if not given.isdigit():
            return False
        parent = int(given)
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("watch_parent() must be called from the main thread")
    _parent[:] = [parent]
    _install_unraisable()  # for the life of this process, as the handler
    signal.signal(PARENT_GONE, _parent_gone)
    if pdeathsig:
        _set_parent_death_signal(PARENT_GONE)
    if os.getppid() != parent:  # it died before the parent-death signal was set
        _parent_gone(PARENT_GONE, None)  # says so, and raises
        raise KeyboardInterrupt("parent process gone")
    if pid_watch:
        watcher = threading.Thread(
            target=_watch, args=(parent, WATCH_INTERVAL), name="adamtune-parent-watch", daemon=True
        )
        watcher.start()
    return True


@contextmanager
def handle_interrupts() -> Iterator[None]:
    """Install the handlers for the block (main thread only; elsewhere nothing changes)."""
    global _interrupted
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _parent_lost:  # a helper whose parent died does not start (or go on with) a search
        raise KeyboardInterrupt("parent process gone")
    _interrupted = False
    _interrupt.reset()
    _raising.clear()
    _again.clear()
    hook = _install_unraisable()
    before = signal.signal(signal.SIGINT, _handler), signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
        sys.unraisablehook = hook
        _children.clear()
        _interrupt.reset()
        _raising.clear()
        _again.clear()
