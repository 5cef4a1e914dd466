"""KerasTuner's three tuners as its documentation shows them (a ``HyperModel`` whose ``fit`` applies
the batch size and the scaler), on the shared space; optionally started from adamtune's first
trial (KerasTuner has no ``enqueue_trial``: the oracle's first random draw returns it)."""

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
    apply_scaler,
    compile_config,
    first_config,
    flat,
    make_scaler,
    peer_callbacks,
    peer_objective,
)
from tasks import PeerHP, Splits, Task

__all__ = ["kerastuner"]


def _kt_config(hp: Any, task: Task) -> Config:
    kind = hp.Choice("regularizer", list(REGULARIZERS))
    strength = 0.0
    for name, (lo, hi) in STRENGTH.items():
        with hp.conditional_scope("regularizer", [name]):
            value = hp.Float(f"{name}_strength", lo, hi, sampling="log")
            if kind == name:
                strength = value
    return {
        "learning_rate": hp.Float("learning_rate", LR[0], LR[1], sampling="log"),
        "batch_size": hp.Choice("batch_size", list(BATCHES)),
        "regularizer": kind,
        "strength": strength,
        "batch_norm": hp.Boolean("batch_norm"),
        "scaling": hp.Choice("scaling", list(task.scalings)),
    }


def _kt_start_with(oracle: Any, first: Config) -> None:
    """KerasTuner has no ``enqueue_trial``: the oracle's first random draw (the one RandomSearch,
    Hyperband's first bracket and BayesianOptimization's start-up all take) returns ``first``."""
    draw = oracle._random_values
    pending = [first]

    def random_values() -> Any:
        if pending:
            cfg = pending.pop()
            return {k: cfg[k] for k in ("learning_rate", "batch_size", "regularizer")} | {
                "batch_norm": bool(cfg["batch_norm"]),
                "scaling": cfg["scaling"],
            }
        return draw()

    oracle._random_values = random_values


def kt_seed(seed: int) -> int:
    """The oracle seed for benchmark seed ``seed``. KerasTuner draws a value for each
    hyperparameter from ``random.Random(state)`` and then adds 1 to ``state``, and takes a seed of
    0 as "none" (``seed or random.randint(1, 10000)``): passed as is, seed 0 drew differently on
    every run and seeds 2 and 3 (7 and 8) drew nearly the same trials, so ten seeds were not ten
    independent runs. A search here draws well under ``_STREAM`` values."""
    return 1 + seed * _STREAM


_STREAM = 100_000


def kerastuner(kind: str, first: bool = False) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import keras
        import keras_tuner as kt

        # KerasTuner seeds its draws, not the models it builds: without this, the weights (and so
        # every score) differed from run to run at the same seed. Once, as a script would.
        keras.utils.set_random_seed(seed)

        class HyperModel(kt.HyperModel):
            def build(self, hp: Any) -> Any:
                cfg = _kt_config(hp, task)
                model = task.model_fn(
                    PeerHP(cfg["regularizer"], cfg["strength"], bool(cfg["batch_norm"]))
                )
                compile_config(task, model, cfg)
                return model

            def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
                cfg = _kt_config(hp, task)
                scaler = make_scaler(cfg["scaling"]).fit(flat(s.x_train))
                return model.fit(
                    apply_scaler(scaler, s.x_train),
                    s.y_train,
                    batch_size=int(cfg["batch_size"]),
                    validation_data=(apply_scaler(scaler, s.x_val), s.y_val),
                    **kwargs,
                )

        direction = "max" if task.kind == "classification" else "min"
        common: dict[str, Any] = dict(
            objective=kt.Objective(peer_objective(task), direction),
            directory=str(workdir / "kt"),
            project_name=kind,
            overwrite=True,
            seed=kt_seed(seed),
        )
        if kind == "random":
            tuner: Any = kt.RandomSearch(HyperModel(), max_trials=100_000, **common)
        elif kind == "bayesian":
            tuner = kt.BayesianOptimization(HyperModel(), max_trials=100_000, **common)
        else:
            tuner = kt.Hyperband(
                HyperModel(), max_epochs=task.epochs, factor=3, hyperband_iterations=1000, **common
            )
        if first:
            _kt_start_with(tuner.oracle, first_config(task, s))
        epochs = {} if kind == "hyperband" else {"epochs": task.epochs}
        with contextlib.suppress(BudgetSpent):
            tuner.search(verbose=0, callbacks=peer_callbacks(), **epochs)
        best = tuner.oracle.get_best_trials(1)
        if not best:
            return dict(DEFAULTS)
        values = best[0].hyperparameters.values
        kind_ = values["regularizer"]
        return {
            "learning_rate": values["learning_rate"],
            "batch_size": values["batch_size"],
            "regularizer": kind_,
            "strength": values.get(f"{kind_}_strength", 0.0),
            "batch_norm": values["batch_norm"],
            "scaling": values["scaling"],
        }

    return run
