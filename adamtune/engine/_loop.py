"""The search loop around a :class:`~adamtune.engine.Study`: the failure streak, the hooks, the
interrupt check; and Optuna's ``optimize`` call, as Optuna's ``study/_optimize.py`` beside
``study.py``. The engine-agnostic driver is :func:`run_study`; :func:`optimize` is what an Optuna
study's ``run`` hands its trials to.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from adamtune import _interrupt
from adamtune._errors import SearchAborted
from adamtune._record import TrialRecord

if TYPE_CHECKING:
    import optuna

    from adamtune.engine._optuna import Objective
    from adamtune.engine._study import Callback, Study

__all__ = ["FailureStreak", "hooks_due", "optimize", "run_hooks", "run_study"]

# Extra per-trial callbacks for searches started inside ``run_hooks`` (the CLI's worker
# recycling). A hook is called as ``hook(study, trial)``; its ``due`` attribute, when true, stops
# the search after the current trial.
_HOOKS: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("hooks", default=())


@contextlib.contextmanager
def run_hooks(*hooks: Any) -> Iterator[None]:
    """Add ``hooks`` to every search started inside the block."""
    token = _HOOKS.set(_HOOKS.get() + hooks)
    try:
        yield
    finally:
        _HOOKS.reset(token)


def hooks_due() -> bool:
    """Whether a hook asked the search to stop after the current trial."""
    return any(getattr(hook, "due", False) for hook in _HOOKS.get())


class FailureStreak:
    """Counts failed trials in a row (a per-trial callback), remembering their errors; the loop
    stops once ``limit`` is reached (:attr:`tripped`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.errors: list[str] = []

    def __call__(self, study: Any, trial: Any) -> None:
        from optuna.trial import TrialState

        if trial.state != TrialState.FAIL:
            self.errors.clear()
            return
        error = TrialRecord.from_attrs(trial.user_attrs).error or "unknown error"
        self.errors.append(f"trial {trial.number}: {error}")

    @property
    def tripped(self) -> bool:
        return len(self.errors) >= self.limit

    def raise_if_tripped(self) -> None:
        if self.tripped:
            listed = "\n  ".join(self.errors)
            raise SearchAborted(
                f"{self.limit} trials failed in a row, so the search stopped:\n  {listed}\n"
                "Fix the error (model_fn, data or memory), then run the same call again to continue"
            )


def run_study(
    study: Study,
    target: int,
    timeout: float | None,
    max_failures: int,
    callbacks: list[Callback],
) -> None:
    """Run ``study`` to ``target`` finished trials; ``callbacks`` see every trial, after the
    failure streak and before the hooks. Raises :class:`~adamtune.SearchAborted` after
    ``max_failures`` failed trials in a row. A Ctrl-C is deferred while a trial is stored."""
    streak = FailureStreak(max_failures)
    with _interrupt.protected():
        study.run(
            target,
            timeout,
            [streak, *callbacks, *_HOOKS.get(), _interrupt.check],
            lambda: streak.tripped or hooks_due(),
        )
    streak.raise_if_tripped()


def optimize(
    study: optuna.Study,
    objective: Objective,
    target: int,
    timeout: float | None,
    callbacks: list[Callback],
    should_stop: Callable[[], bool],
) -> None:
    """Optuna's ``optimize`` until ``target`` finished trials, the timeout or ``should_stop()``;
    a full disk met while storing a trial is raised as itself."""
    from optuna.study import MaxTrialsCallback

    from adamtune.engine._optuna import FINISHED
    from adamtune.engine._quiet import quiet_optuna

    def stop_when_asked(live: optuna.Study, _trial: Any) -> None:
        if should_stop():
            live.stop()

    with quiet_optuna():
        study.optimize(
            objective,
            timeout=timeout,
            catch=(Exception,),
            callbacks=[
                objective.stop_if_full,  # first: a full disk ends the search, said as such
                MaxTrialsCallback(target, states=FINISHED),
                *callbacks,
                stop_when_asked,
            ],
        )
    if objective.full:  # search() turns it into StorageFullError naming the storage
        raise objective.full[0]
