"""The benchmark's protocol, the same for every tool: the shared space, how a config trains, how a
run is scored, the NaN rule, the first trial every tool may take and how an export is retrained.

A config is a plain dict with ``learning_rate``, ``batch_size``, ``regularizer``, ``strength``,
``batch_norm``, ``scaling`` (and ``adamtune_config`` for adamtune, its exported ``TunedConfig``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from tasks import PeerHP, Splits, Task

__all__ = [
    "BATCHES",
    "DEFAULTS",
    "LR",
    "REGULARIZERS",
    "SCALERS",
    "STRENGTH",
    "Config",
    "apply_scaler",
    "best_value",
    "compile_config",
    "exported_epochs",
    "first_config",
    "flat",
    "make_scaler",
    "peer_callbacks",
    "peer_objective",
    "retrain_scores",
    "score_logs",
    "test_score",
    "train_config",
]

LR = (1e-5, 1.0)  # five decades
BATCHES = (16, 32, 64, 128, 256, 512)
STRENGTH = {"l1": (1e-6, 1e-2), "l2": (1e-6, 1e-2), "adamw": (1e-5, 1e-1)}
REGULARIZERS = ("none", "l1", "l2", "adamw")
SCALERS = ("none", "standard", "robust")

Config = dict[str, Any]

DEFAULTS: Config = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "regularizer": "none",
    "strength": 0.0,
    "batch_norm": False,
    "scaling": "none",
}


def make_scaler(name: str) -> Any:
    from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

    return {"none": FunctionTransformer(), "standard": StandardScaler(), "robust": RobustScaler()}[
        name
    ]


def peer_objective(task: Task) -> str:
    """What every peer ranks by: validation accuracy, or the UNPENALIZED validation MSE (the
    ``data_loss`` metric compiled in; Keras's ``val_loss`` adds the regularization penalty, which
    would make a heavily regularized trial look worse than it predicts). adamtune's
    ``objective="val_loss"`` means the same unpenalized loss."""
    return "val_accuracy" if task.kind == "classification" else "val_data_loss"


def peer_callbacks() -> list[Any]:
    """The same NaN rule for every peer's training runs: stop at the first non-finite batch loss
    (Keras's ``TerminateOnNaN``); the run's score is then its best finite epoch, if any."""
    import keras

    return [keras.callbacks.TerminateOnNaN()]


def best_value(task: Task, history: Any) -> float:
    """A run's objective for an Optuna script: the best finite epoch (NaN when there is none, so
    Optuna marks the trial failed)."""
    values = [v for v in history.history.get(peer_objective(task), []) if math.isfinite(v)]
    if not values:
        return math.nan
    return max(values) if task.kind == "classification" else min(values)


def _loss_and_metrics(task: Task) -> tuple[str, list[Any]]:
    import keras

    if task.kind == "classification":
        return "sparse_categorical_crossentropy", ["accuracy"]
    return "mse", [keras.metrics.MeanSquaredError(name="data_loss")]


def compile_config(task: Task, model: Any, cfg: Config) -> None:
    import keras

    if cfg["regularizer"] == "adamw":
        opt = keras.optimizers.AdamW(cfg["learning_rate"], weight_decay=cfg["strength"])
    else:
        opt = keras.optimizers.Adam(cfg["learning_rate"])
    loss, metrics = _loss_and_metrics(task)
    model.compile(optimizer=opt, loss=loss, metrics=metrics)


def train_config(
    task: Task,
    s: Splits,
    cfg: Config,
    epochs: int,
    seed: int,
    callbacks: list[Any] | None = None,
    initial_epoch: int = 0,
) -> tuple[Any, Any]:
    """A hand-written training run of ``cfg``: scale, build, compile, fit. Returns (model, history)."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    scaler = make_scaler(cfg["scaling"]).fit(flat(s.x_train))
    hp = PeerHP(cfg["regularizer"], cfg.get("strength", 0.0), bool(cfg["batch_norm"]))
    model = task.model_fn(hp)
    compile_config(task, model, cfg)
    history = model.fit(
        apply_scaler(scaler, s.x_train),
        s.y_train,
        batch_size=int(cfg["batch_size"]),
        epochs=epochs,
        validation_data=(apply_scaler(scaler, s.x_val), s.y_val),
        callbacks=callbacks or [],
        verbose=0,
    )
    return model, (history, scaler)


def flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def apply_scaler(scaler: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(scaler.transform(flat(x)), dtype="float32").reshape(x.shape)


def score_logs(task: Task, y_val: np.ndarray) -> Callable[[dict[str, Any]], float | None]:
    """Higher is better: validation accuracy, or validation R^2 (from the unpenalized MSE)."""
    var = float(np.var(y_val))

    def score(logs: dict[str, Any]) -> float | None:
        if task.kind == "classification":
            value = logs.get("val_accuracy")
            return None if value is None else float(value)
        mse = logs.get("val_data_loss", logs.get("val_loss"))
        return None if mse is None else 1.0 - float(mse) / var

    return score


def test_score(task: Task, model: Any, x_test: np.ndarray, y_test: np.ndarray) -> float:
    pred = np.asarray(model.predict(x_test, verbose=0, batch_size=512))
    if task.kind == "classification":
        return float(np.mean(pred.argmax(axis=1) == y_test))
    if not np.all(np.isfinite(pred)):
        return -math.inf
    return float(1.0 - np.mean((pred.ravel() - y_test) ** 2) / np.var(y_test))


def exported_epochs(task: Task, cfg: Config) -> int:
    """The epochs a tool's export trains for. adamtune exports its own (``fit_kwargs()``); the
    peers export hyperparameters only, so their configs retrain for the task's full epochs (what
    KerasTuner's and Optuna's guides do with the best hyperparameters)."""
    if "adamtune_config" in cfg:
        from adamtune.result import TunedConfig

        return int(TunedConfig.from_dict(cfg["adamtune_config"]).fit_kwargs()["epochs"])
    return task.epochs


def retrain_scores(task: Task, s: Splits, cfg: Config, seeds: list[int]) -> list[float]:
    """Train ``cfg`` from scratch once per seed on the training split and score the test split
    each time. adamtune's config goes through its own export (``load_config``-style build,
    compile, scaler and fit arguments); a peer's through the same hand-written run it searched
    with, for :func:`exported_epochs`."""
    return [_retrain(task, s, cfg, seed) for seed in seeds]


def _retrain(task: Task, s: Splits, cfg: Config, seed: int) -> float:
    import keras

    if "adamtune_config" in cfg:
        from adamtune.result import TunedConfig

        tuned = TunedConfig.from_dict(cfg["adamtune_config"])
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = tuned.build(task.model_fn)
        model.compile(**tuned.compile_kwargs())
        scaler = tuned.scaler().fit(s.x_train)
        model.fit(scaler.transform(s.x_train), s.y_train, verbose=0, **tuned.fit_kwargs())
        return test_score(task, model, scaler.transform(s.x_test), s.y_test)
    model, (_, scaler) = train_config(task, s, cfg, exported_epochs(task, cfg), seed)
    return test_score(task, model, apply_scaler(scaler, s.x_test), s.y_test)


def first_config(task: Task, s: Splits) -> Config:
    """adamtune's ``first_trials="auto"`` in the shared space, for every tool that wants it: Adam
    1e-3 at batch 32 (times the targets' RMS on a regression, adamtune's rule, clipped to the
    space), standardized inputs where the task allows scaling, no regularizer, no BatchNorm."""
    from adamtune._first import regression_lr_scale

    scale = regression_lr_scale(s.y_train, task.kind == "regression")
    return {
        **DEFAULTS,
        "learning_rate": min(max(1e-3 * scale, LR[0]), LR[1]),
        "scaling": "standard" if "standard" in task.scalings else task.scalings[0],
    }
