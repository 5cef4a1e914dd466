"""Optuna scripts as a competent user writes them, on the shared space: a sampler, a pruner and
``optuna_integration.KerasPruningCallback``; optionally with adamtune's first trial enqueued."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger import BudgetSpent
from protocol import (
    BATCHES,
    DEFAULTS,
    LR,
    REGULARIZERS,
    STRENGTH,
    Config,
    best_value,
    first_config,
    peer_callbacks,
    peer_objective,
    train_config,
)
from tasks import Splits, Task

__all__ = ["hyperband", "median", "no_pruning", "optuna_script", "qmc", "random", "tpe"]


def _suggest(trial: Any, task: Task, flat: bool) -> Config:
    """The shared space in Optuna's define-by-run style. ``flat``: the regularizer's strength is
    one unconditional coordinate (its position on a log scale within the chosen regularizer's
    range), as a quasi-random sampler needs (``QMCSampler`` assumes a space without conditions);
    otherwise each regularizer has its own conditional strength, as Optuna's guides write it."""
    kind = trial.suggest_categorical("regularizer", list(REGULARIZERS))
    if flat:
        where = trial.suggest_float("strength_position", 0.0, 1.0)
        lo, hi = STRENGTH.get(kind, (1.0, 1.0))
        strength = lo * (hi / lo) ** where if kind in STRENGTH else 0.0
    else:
        strength = (
            trial.suggest_float(f"{kind}_strength", *STRENGTH[kind], log=True)
            if kind in STRENGTH
            else 0.0
        )
    return {
        "learning_rate": trial.suggest_float("learning_rate", *LR, log=True),
        "batch_size": trial.suggest_categorical("batch_size", list(BATCHES)),
        "regularizer": kind,
        "strength": strength,
        "batch_norm": trial.suggest_categorical("batch_norm", [False, True]),
        "scaling": trial.suggest_categorical("scaling", list(task.scalings)),
    }


def _first_params(task: Task, s: Splits, flat: bool) -> dict[str, Any]:
    cfg = first_config(task, s)
    params = {k: cfg[k] for k in ("regularizer", "learning_rate", "batch_size", "batch_norm")}
    params["scaling"] = cfg["scaling"]
    return params | ({"strength_position": 0.5} if flat else {})


def optuna_script(
    sampler: Callable[[int], Any],
    pruner: Callable[[Task], Any],
    flat: bool = False,
    first: bool = False,
    lr_only: bool = False,
) -> Callable[..., Config]:
    """An Optuna script: ``sampler(seed)`` and ``pruner(task)`` over the full shared space (or the
    learning rate alone), Optuna's ``KerasPruningCallback`` on the objective when it prunes, and
    adamtune's first trial enqueued first when ``first``."""

    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import optuna
        from optuna_integration import KerasPruningCallback

        chosen = pruner(task)
        prunes = not isinstance(chosen, optuna.pruners.NopPruner)

        def objective(trial: optuna.Trial) -> float:
            if lr_only:
                lr = trial.suggest_float("learning_rate", *LR, log=True)
                cfg = {**DEFAULTS, "learning_rate": lr}
            else:
                cfg = _suggest(trial, task, flat)
            callbacks = peer_callbacks()
            if prunes:
                callbacks.append(KerasPruningCallback(trial, peer_objective(task)))
            trial.set_user_attr("config", cfg)
            _, (history, _) = train_config(task, s, cfg, task.epochs, seed, callbacks)
            return best_value(task, history)

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        direction = (
            optuna.study.StudyDirection.MAXIMIZE
            if task.kind == "classification"
            else optuna.study.StudyDirection.MINIMIZE
        )
        # Named: HyperbandPruner puts trials in brackets by a hash of the study's name, and an
        # unnamed study gets a random one, so the script would not repeat from its seed.
        study = optuna.create_study(
            study_name=f"{task.name}-seed{seed}",
            direction=direction,
            sampler=sampler(seed),
            pruner=chosen,
        )
        if first:
            start = _first_params(task, s, flat)
            study.enqueue_trial({"learning_rate": start["learning_rate"]} if lr_only else start)
        with contextlib.suppress(BudgetSpent):
            study.optimize(objective, n_trials=100_000)
        try:
            return dict(study.best_trial.user_attrs["config"])
        except ValueError:  # no trial completed
            return dict(DEFAULTS)

    return run


def tpe(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def qmc(seed: int) -> Any:
    import warnings

    import optuna

    # The Google tuning playbook's exploration sampler: scrambled Sobol points (Optuna marks the
    # sampler experimental; the warning would be printed once per job).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)


def random(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def hyperband(task: Task) -> Any:
    import optuna

    return optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=task.epochs, reduction_factor=3
    )


def median(task: Task) -> Any:
    import optuna

    return optuna.pruners.MedianPruner()


def no_pruning(task: Task) -> Any:
    import optuna

    return optuna.pruners.NopPruner()
