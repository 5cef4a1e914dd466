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

__all__ = [
    "DEFAULTS",
    "EXTRA",
    "PEERS",
    "TOOLS",
    "exported_epochs",
    "first_config",
    "peer_objective",
    "retrain_scores",
    "train_config",
]

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
    return test_score(task, model, _apply(scaler, s.x_test), s.y_test)


def first_config(task: Task, s: Splits) -> Config:
    """adamtune's ``first_trials="auto"`` in the shared space, for every tool that wants it: Adam
    1e-3 at batch 32 (times the targets' RMS on a regression, adamtune's rule, clipped to the
    space), standardized inputs where the task allows scaling, no regularizer, no BatchNorm."""
    from adamtune._first import regression_lr_scale

    scale = regression_lr_scale(s.y_train, task.kind == "regression")
    return {
        **DEFAULTS,
        "learning_rate": min(max(1e-3 * scale, LR[0]), LR[1]),
        "scaling": "standard" if "standard" in _scalings(task) else _scalings(task)[0],
    }


def _scalings(task: Task) -> tuple[str, ...]:
    return task.scalings


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
        scaling=_scalings(task),
        epochs=task.epochs,
    )


def _adamtune(strategy: str, **options: Any) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import adamtune
        from adamtune.cli._where import open_result

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
        "scaling": hp.Choice("scaling", list(_scalings(task))),
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


def _kt(kind: str, first: bool = False) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import keras_tuner as kt

        class HyperModel(kt.HyperModel):
            def build(self, hp: Any) -> Any:
                cfg = _kt_config(hp, task)
                model = task.model_fn(
                    PeerHP(cfg["regularizer"], cfg["strength"], bool(cfg["batch_norm"]))
                )
                _compile(task, model, cfg)
                return model

            def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
                cfg = _kt_config(hp, task)
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
            objective=kt.Objective(peer_objective(task), direction),
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


# -- Optuna scripts ----------------------------------------------------------------------------


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
        "scaling": trial.suggest_categorical("scaling", list(_scalings(task))),
    }


def _first_params(task: Task, s: Splits, flat: bool) -> dict[str, Any]:
    cfg = first_config(task, s)
    params = {k: cfg[k] for k in ("regularizer", "learning_rate", "batch_size", "batch_norm")}
    params["scaling"] = cfg["scaling"]
    return params | ({"strength_position": 0.5} if flat else {})


def _optuna(
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
        study = optuna.create_study(direction=direction, sampler=sampler(seed), pruner=chosen)
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


def _tpe(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _qmc(seed: int) -> Any:
    import warnings

    import optuna

    # The Google tuning playbook's exploration sampler: scrambled Sobol points (Optuna marks the
    # sampler experimental; the warning would be printed once per job).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)


def _random(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _hyperband(task: Task) -> Any:
    import optuna

    return optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=task.epochs, reduction_factor=3
    )


def _median(task: Task) -> Any:
    import optuna

    return optuna.pruners.MedianPruner()


def _no_pruning(task: Task) -> Any:
    import optuna

    return optuna.pruners.NopPruner()


# -- Keras defaults, the first trial alone and the article's sweep -----------------------------

DEFAULTS: Config = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "regularizer": "none",
    "strength": 0.0,
    "batch_norm": False,
    "scaling": "none",
}


def _one_run(config: Callable[[Task, Splits], Config]) -> Callable[..., Config]:
    """A single training run of one fixed config, exported as it is (1 FRE)."""

    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        cfg = config(task, s)
        with contextlib.suppress(BudgetSpent):
            train_config(task, s, cfg, task.epochs, seed, peer_callbacks())
        return cfg

    return run


def _manual_sweep(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
    """The reference article's loop: four learning rates a decade apart, everything else default."""
    best: tuple[float, Config] | None = None
    score = score_logs(task, s.y_val)
    for lr in (0.1, 0.01, 0.001, 0.0001):
        cfg = {**DEFAULTS, "learning_rate": lr}
        try:
            _, (history, _) = train_config(task, s, cfg, task.epochs, seed, peer_callbacks())
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
    "first-trial-only": _one_run(first_config),
    "kt-random": _kt("random"),
    "kt-hyperband": _kt("hyperband"),
    "kt-bayesian": _kt("bayesian"),
    "optuna-tpe-hyperband": _optuna(_tpe, _hyperband),
    "optuna-qmc": _optuna(_qmc, _no_pruning, flat=True),
    "optuna-random": _optuna(_random, _no_pruning),
    "optuna-lr-only": _optuna(_tpe, _median, lr_only=True),
    "keras-defaults": _one_run(lambda task, s: dict(DEFAULTS)),
    "manual-sweep": _manual_sweep,
    # Peers given adamtune's first trial: "good start" apart from "good search".
    "kt-random+first": _kt("random", first=True),
    "kt-hyperband+first": _kt("hyperband", first=True),
    "optuna-tpe-hyperband+first": _optuna(_tpe, _hyperband, first=True),
    "optuna-qmc+first": _optuna(_qmc, _no_pruning, flat=True, first=True),
}
# Everything that is not adamtune's own search: the rows adamtune is compared against.
PEERS = tuple(name for name in TOOLS if not name.startswith("adamtune"))
# Ablations, run by name (``--tools``), not part of a suite.
EXTRA: dict[str, Callable[..., Config]] = {
    "adamtune-no-first-trial": _adamtune("tpe", first_trials=None),
    "adamtune-lr-range": _adamtune("tpe", lr_range="auto"),
}
