"""Optuna's own log lines kept off the terminal while adamtune talks to a study."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["quiet_optuna"]


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's logging at ERROR inside the block; its level before the block restored after."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)
