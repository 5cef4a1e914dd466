"""The tools compared, each used the way its documentation shows, on one shared space.

Every runner trains until the ledger's budget raises :class:`ledger.BudgetSpent` (or until it has
nothing left to try) and returns the configuration it would hand to training code: a plain dict
with ``learning_rate``, ``batch_size``, ``regularizer``, ``strength``, ``batch_norm``, ``scaling``
(and ``adamtune_config`` for adamtune, its exported ``TunedConfig`` as a dict).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ledger import BudgetSpent
from tasks import PeerHP, Splits, Task

__all__ = ["PEERS", "TOOLS", "retrain_score", "train_config"]

# The shared space.
LR = (1e-5, 1.0)  # five decades
BATCHES = (16, 32, 64, 128, 256, 512)
STRENGTH = {"l1": (1e-6, 1e-2), "l2": (1e-6, 1e-2), "adamw": (1e-5, 1e-1)}
REGULARIZERS = ("none", "l1", "l2", "adamw")
SCALERS = ("none", "standard", "robust")

Config = dict[str, Any]


def _scaler(name: str) -> Any:
    from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

    return {"none": FunctionTransformer(), "standard": StandardScaler(), "robust": RobustScaler()}[
        name
    ]


def _loss_and_metrics(task: Task) -> tuple[str, list[Any]]:
    import keras

    if task.kind == "classification":
        return "sparse_categorical_crossentropy", ["accuracy"]
    return "mse", [keras.metrics.MeanSquaredError(name="data_loss")]


def _compile(task: Task, model: Any, cfg: Config) -> None:
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
    scaler = _scaler(cfg["scaling"]).fit(_flat(s.x_train))
    hp = PeerHP(cfg["regularizer"], cfg.get("strength", 0.0), bool(cfg["batch_norm"]))
    model = task.model_fn(hp)
    _compile(task, model, cfg)
    history = model.fit(
        _apply(scaler, s.x_train),
        s.y_train,
        batch_size=int(cfg["batch_size"]),
        epochs=epochs,
        validation_data=(_apply(scaler, s.x_val), s.y_val),
        callbacks=callbacks or [],
        verbose=0,
    )
    return model, (history, scaler)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _apply(scaler: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(scaler.transform(_flat(x)), dtype="float32").reshape(x.shape)


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


def retrain_score(task: Task, s: Splits, cfg: Config, seed: int) -> float:
    """Train ``cfg`` from scratch with a fresh seed on the training split; score the test split.
    adamtune's config goes through its own export: ``load_config``-style build/compile/scaler."""
    import keras

    if "adamtune_config" in cfg:
        from adamtune.result import TunedConfig

        tuned = TunedConfig.from_dict(cfg["adamtune_config"])
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = tuned.build(task.model_fn)
        model.compile(**tuned.compile_kwargs())
        scaler = tuned.scaler().fit(_flat(s.x_train))
        model.fit(_apply(scaler, s.x_train), s.y_train, verbose=0, **tuned.fit_kwargs())
        return test_score(task, model, _apply(scaler, s.x_test), s.y_test)
    model, (_, scaler) = train_config(task, s, cfg, task.epochs, seed)
    return test_score(task, model, _apply(scaler, s.x_test), s.y_test)


# -- adamtune ----------------------------------------------------------------------------------


def _adamtune_space(task: Task) -> Any:
    from adamtune.spaces import FloatRange, LearningRate, Space

    return Space(
        name="benchmark",
        learning_rate=LearningRate(LR[0], LR[1], reference_batch_size=32, rule="sqrt"),
        batch_size=BATCHES,
        regularizer={
            "none": None,
            **{kind: FloatRange(lo, hi, log=True) for kind, (lo, hi) in STRENGTH.items()},
        },
        batch_norm=(False, True),
        scaling=SCALERS,
        epochs=task.epochs,
    )


def _adamtune(strategy: str, **options: Any) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import adamtune
        from adamtune.cli._commands import open_result

        kt = strategy.startswith("kt-")
        storage = str(workdir / "kt") if kt else f"sqlite:///{workdir / 'adamtune.db'}"
        with contextlib.suppress(BudgetSpent):
            adamtune.search(
                task.model_fn,
                ((s.x_train, s.y_train), (s.x_val, s.y_val)),
                space=_adamtune_space(task),
                strategy=strategy,
                objective=task.objective,
                trials=100_000,
                storage=storage,
                study_name="bench",
                seed=seed,
                verbose=0,
                **options,
            )
        best = open_result(storage, "bench").best
        adam = best.adam
        return {
            "learning_rate": adam.learning_rate,
            "batch_size": adam.batch_size,
            "regularizer": adam.regularizer,
            "strength": adam.regularizer_strength,
            "batch_norm": adam.batch_norm,
            "scaling": adam.scaling,
            "adamtune_config": best.to_dict(),
        }

    return run


# -- KerasTuner --------------------------------------------------------------------------------


def _kt_config(hp: Any) -> Config:
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
        "scaling": hp.Choice("scaling", list(SCALERS)),
    }


def _kt(kind: str) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import keras
        import keras_tuner as kt

        class HyperModel(kt.HyperModel):
            def build(self, hp: Any) -> Any:
                cfg = _kt_config(hp)
                model = task.model_fn(
                    PeerHP(cfg["regularizer"], cfg["strength"], bool(cfg["batch_norm"]))
                )
                _compile(task, model, cfg)
                return model

            def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
                cfg = _kt_config(hp)
                scaler = _scaler(cfg["scaling"]).fit(_flat(s.x_train))
                return model.fit(
                    _apply(scaler, s.x_train),
                    s.y_train,
                    batch_size=int(cfg["batch_size"]),
                    validation_data=(_apply(scaler, s.x_val), s.y_val),
                    **kwargs,
                )

        direction = "max" if task.kind == "classification" else "min"
        common: dict[str, Any] = dict(
            objective=kt.Objective(task.objective, direction),
            directory=str(workdir / "kt"),
            project_name=kind,
            overwrite=True,
            seed=seed,
        )
        if kind == "random":
            tuner: Any = kt.RandomSearch(HyperModel(), max_trials=100_000, **common)
        elif kind == "bayesian":
            tuner = kt.BayesianOptimization(HyperModel(), max_trials=100_000, **common)
        else:
            tuner = kt.Hyperband(
                HyperModel(), max_epochs=task.epochs, factor=3, hyperband_iterations=1000, **common
            )
        epochs = {} if kind == "hyperband" else {"epochs": task.epochs}
        with contextlib.suppress(BudgetSpent):
            tuner.search(verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()], **epochs)
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


# -- Optuna scripts ----------------------------------------------------------------------------


def _optuna_lr_only(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
    """What most users write: TPE + MedianPruner + the Keras pruning callback, learning rate only."""
    import optuna
    from optuna_integration import KerasPruningCallback

    def objective(trial: optuna.Trial) -> float:
        cfg = {**DEFAULTS, "learning_rate": trial.suggest_float("learning_rate", *LR, log=True)}
        _, (history, _) = train_config(
            task, s, cfg, task.epochs, seed, [KerasPruningCallback(trial, task.objective)]
        )
        values = history.history[task.objective]
        good = [v for v in values if math.isfinite(v)]
        if not good:
            return math.nan  # the trial fails; Optuna goes on
        return max(good) if task.kind == "classification" else min(good)

    return _optimize(
        task,
        objective,
        optuna.samplers.TPESampler(seed=seed),
        optuna.pruners.MedianPruner(),
        lambda p: {**DEFAULTS, **p},
    )


def _optuna_random(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
    import optuna

    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("regularizer", list(REGULARIZERS))
        cfg = {
            "learning_rate": trial.suggest_float("learning_rate", *LR, log=True),
            "batch_size": trial.suggest_categorical("batch_size", list(BATCHES)),
            "regularizer": kind,
            "strength": (
                trial.suggest_float(f"{kind}_strength", *STRENGTH[kind], log=True)
                if kind in STRENGTH
                else 0.0
            ),
            "batch_norm": trial.suggest_categorical("batch_norm", [False, True]),
            "scaling": trial.suggest_categorical("scaling", list(SCALERS)),
        }
        _, (history, _) = train_config(task, s, cfg, task.epochs, seed)
        values = [v for v in history.history[task.objective] if math.isfinite(v)]
        if not values:
            return math.nan
        return max(values) if task.kind == "classification" else min(values)

    def config(p: dict[str, Any]) -> Config:
        kind = p["regularizer"]
        return {
            **{k: v for k, v in p.items() if not k.endswith("_strength")},
            "strength": p.get(f"{kind}_strength", 0.0),
        }

    return _optimize(
        task,
        objective,
        optuna.samplers.RandomSampler(seed=seed),
        optuna.pruners.NopPruner(),
        config,
    )


def _optimize(
    task: Task,
    objective: Callable[[Any], float],
    sampler: Any,
    pruner: Any,
    config: Callable[[dict[str, Any]], Config],
) -> Config:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    direction = "maximize" if task.kind == "classification" else "minimize"
    study = optuna.create_study(direction=direction, sampler=sampler, pruner=pruner)
    with contextlib.suppress(BudgetSpent):
        study.optimize(objective, n_trials=100_000)
    try:
        return config(study.best_trial.params)
    except ValueError:  # no trial completed
        return dict(DEFAULTS)


# -- Keras defaults and the article's sweep ----------------------------------------------------

DEFAULTS: Config = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "regularizer": "none",
    "strength": 0.0,
    "batch_norm": False,
    "scaling": "none",
}


def _defaults(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
    with contextlib.suppress(BudgetSpent):
        train_config(task, s, DEFAULTS, task.epochs, seed)
    return dict(DEFAULTS)


def _manual_sweep(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
    """The reference article's loop: four learning rates a decade apart, everything else default."""
    best: tuple[float, Config] | None = None
    score = score_logs(task, s.y_val)
    for lr in (0.1, 0.01, 0.001, 0.0001):
        cfg = {**DEFAULTS, "learning_rate": lr}
        try:
            _, (history, _) = train_config(task, s, cfg, task.epochs, seed)
        except BudgetSpent:
            break
        logs = [
            {k: v[i] for k, v in history.history.items()}
            for i in range(len(history.history["loss"]))
        ]
        values = [v for v in (score(entry) for entry in logs) if v is not None and math.isfinite(v)]
        if values and (best is None or max(values) > best[0]):
            best = (max(values), cfg)
    return dict(DEFAULTS) if best is None else best[1]


TOOLS: dict[str, Callable[..., Config]] = {
    "adamtune": _adamtune("tpe"),
    "adamtune-kt-hyperband": _adamtune("kt-hyperband"),
    "kt-random": _kt("random"),
    "kt-hyperband": _kt("hyperband"),
    "kt-bayesian": _kt("bayesian"),
    "optuna-lr-tpe-median": _optuna_lr_only,
    "optuna-random": _optuna_random,
    "keras-defaults": _defaults,
    "manual-sweep": _manual_sweep,
}
PEERS = tuple(name for name in TOOLS if not name.startswith("adamtune"))
# Ablations, run by name (``--tools``), not part of a suite.
EXTRA: dict[str, Callable[..., Config]] = {
    "adamtune-no-first-trial": _adamtune("tpe", first_trials=None),
    "adamtune-lr-range": _adamtune("tpe", lr_range="auto"),
}
