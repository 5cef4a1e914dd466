"""Every argument of :func:`adamtune.search`, checked before any work: nothing is stored, and
TensorFlow is not started, when one is wrong."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adamtune._util import check_choice, check_positive_int, check_study_name, parse_duration

if TYPE_CHECKING:
    from adamtune.engine import Engine
    from adamtune.spaces import Space

__all__ = ["CheckedArgs", "check_arguments", "default_study_name", "resolve_direction"]

_MAXIMIZE = ("accuracy", "auc", "precision", "recall", "f1", "r2")
_MINIMIZE = ("loss", "error", "mae", "mse", "rmse", "crossentropy", "hinge")


def resolve_direction(objective: str, direction: str | None) -> str:
    """``minimize`` or ``maximize`` for ``objective``; an unknown metric needs ``direction``."""
    if not isinstance(objective, str) or not objective:
        raise TypeError(
            f"`objective` must be a logged metric name such as 'val_loss'. "
            f"Received: objective={objective!r}"
        )
    if direction is not None:
        return check_choice(direction, "direction", ("minimize", "maximize"))
    name = objective.lower()
    if any(word in name for word in _MINIMIZE):
        return "minimize"
    if any(word in name for word in _MAXIMIZE):
        return "maximize"
    raise ValueError(
        f"cannot tell whether to minimize or maximize `objective`={objective!r}; "
        "pass direction='minimize' or direction='maximize'"
    )


def default_study_name(model_fn: Callable[..., Any]) -> str:
    """``adamtune-<model_fn's name>``, made safe for a file name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", getattr(model_fn, "__name__", "model"))
    return f"adamtune-{name.strip('_') or 'model'}"


@dataclasses.dataclass(frozen=True)
class CheckedArgs:
    """What checking the arguments worked out: the timeout in seconds, the direction, the
    space, the epochs per trial, the strategy's engine and the ``pruner`` argument, checked (the
    engine's :meth:`~adamtune.engine.Engine.study_pruner` chooses the pruner from it and the
    study's stored settings)."""

    seconds: float | None
    direction: str
    space: Space
    epochs: int
    engine: Engine
    pruner: Any


def _check_numbers(epochs: Any, max_failures: Any, heartbeat: Any, steps_per_epoch: Any) -> None:
    check_positive_int(epochs, "epochs", allow_none=True)
    check_positive_int(max_failures, "max_failures")
    check_positive_int(heartbeat, "heartbeat")
    check_positive_int(steps_per_epoch, "steps_per_epoch", allow_none=True)


def _check_plain(verbose: Any, seed: Any, study_name: Any, metrics: Any, lr_range: Any) -> None:
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}")
    if seed is not None and not 0 <= seed < 2**32:
        raise ValueError(
            "`seed` must be between 0 and 2**32 - 1 (the samplers' and Keras' range), or None "
            f"for a fresh one. Received: seed={seed!r}"
        )
    if study_name is not None:
        check_study_name(study_name)  # it names folders and files: nothing may escape them
    if metrics is not None and (
        isinstance(metrics, str)
        or not isinstance(metrics, list | tuple)
        or not all(isinstance(m, str) for m in metrics)
    ):
        raise TypeError(
            "`metrics` must be None or a list of metric names, such as ['accuracy']. "
            f"Received: metrics={metrics!r}"
        )


def _check_lr_range(lr_range: Any) -> None:
    if lr_range not in (None, "auto"):
        raise ValueError(
            "`lr_range` must be None or 'auto' (run the LR range test and narrow the space's "
            f"learning rate before the study starts). Received: lr_range={lr_range!r}"
        )


def _check_confirm(confirm: Any, engine: Engine, strategy: Any) -> None:
    if isinstance(confirm, bool) or not isinstance(confirm, int):
        raise TypeError(
            "`confirm` must be an int: how many more runs each new best gets (0: none, 1: judge "
            f"a best by the mean of two runs). Received: confirm={confirm!r}"
        )
    if not 0 <= confirm <= 5:
        raise ValueError(
            "`confirm` must be between 0 and 5 (each new best runs that many more times; 1 is "
            f"usually enough). Received: confirm={confirm!r}"
        )
    if confirm and not engine.repeats:
        raise ValueError(
            "`confirm` runs a new best again in an Optuna study; KerasTuner strategies run each "
            f"set of values once. Received: confirm={confirm!r} with strategy={strategy!r}; use "
            "strategy='tpe' (or another Optuna strategy), or confirm=0"
        )


def check_arguments(
    model_fn: Callable[..., Any],
    *,
    space: Any,
    objective: str,
    direction: str | None,
    trials: int,
    timeout: float | str | None,
    epochs: int | None,
    storage: Any,
    study_name: str | None,
    seed: int | None,
    strategy: Any,
    pruner: Any,
    metrics: list[str] | None,
    max_failures: int,
    verbose: int,
    heartbeat: int,
    lr_range: str | None,
    first_trials: Any,
    trust_storage: bool,
    steps_per_epoch: int | None,
    confirm: int = 0,
) -> CheckedArgs:
    """Check every argument of :func:`adamtune.search` (in the order it always has been)."""
    from adamtune._first import first_trial_params
    from adamtune.engine import engine_for
    from adamtune.spaces import load_space
    from adamtune.training import takes_hp

    takes_hp(model_fn)
    check_positive_int(trials, "trials")
    seconds = parse_duration(timeout)
    _check_numbers(epochs, max_failures, heartbeat, steps_per_epoch)
    _check_plain(verbose, seed, study_name, metrics, lr_range)
    the_direction = resolve_direction(objective, direction)
    _check_lr_range(lr_range)
    the_space = load_space(space)
    n_epochs = epochs or the_space.epochs
    engine = engine_for(strategy)
    first_trial_params(first_trials, the_space)  # checked now; enqueued once the study exists
    _check_confirm(confirm, engine, strategy)
    the_pruner = engine.check_arguments(
        strategy,
        storage,
        pruner=pruner,
        first_trials=first_trials,
        trust_storage=trust_storage,
        epochs=n_epochs,
    )
    return CheckedArgs(seconds, the_direction, the_space, n_epochs, engine, the_pruner)
