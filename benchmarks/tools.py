"""The tools compared, each used the way its documentation shows, on one shared space
(``protocol.py``): adamtune, KerasTuner (``peers_kerastuner.py``), Optuna scripts
(``peers_optuna.py``), Keras defaults, adamtune's first trial alone and the reference article's
sweep.

Every runner trains until the ledger's budget raises :class:`ledger.BudgetSpent` (or until it has
nothing left to try) and returns the configuration it would hand to training code (a config dict,
see ``protocol.py``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger import BudgetSpent
from peers_kerastuner import kerastuner
from peers_optuna import hyperband, median, no_pruning, optuna_script, qmc, random, tpe
from protocol import (
    BATCHES,
    DEFAULTS,
    LR,
    STRENGTH,
    Config,
    first_config,
    peer_callbacks,
    score_logs,
    train_config,
)
from tasks import Splits, Task

__all__ = ["EXTRA", "PEERS", "TOOLS"]

# -- adamtune ----------------------------------------------------------------------------------


def _adam_fields(variant: str) -> dict[str, Any]:
    """How Adam runs over a trial in adamtune's space, by ``variant``: ``constant`` (the shared
    space's constant rate), ``default`` (the shipped default space's schedule fields: a constant
    rate or a cosine decay after warmup) or ``schedules`` (search_spaces/schedules.yaml's
    fields: Adam or Nadam, a constant, cosine or linear schedule with warmup, global-norm
    clipping)."""
    from adamtune import load_space
    from adamtune.spaces import FloatRange

    if variant == "constant":
        return {}
    if variant == "default":
        shipped = load_space("default")
        keys = ("schedule", "warmup", "warmup_schedules", "decay_to")
        return {key: getattr(shipped, key) for key in keys}
    return {
        "optimizer": ("adam", "nadam"),
        "schedule": ("constant", "cosine", "linear"),
        "warmup": FloatRange(0.0, 0.2),
        "decay_to": FloatRange(0.0, 0.1),
        "global_clipnorm": FloatRange(0.1, 10.0, log=True),
    }


def _adamtune_space(task: Task, variant: str = "constant") -> Any:
    """The shared space as an adamtune Space, with Adam run over a trial as ``variant`` says
    (:func:`_adam_fields`)."""
    from adamtune.spaces import FloatRange, LearningRate, Space

    extra = _adam_fields(variant)
    return Space(
        name="benchmark" if variant == "constant" else f"benchmark-{variant}",
        learning_rate=LearningRate(LR[0], LR[1], reference_batch_size=32, rule="sqrt"),
        batch_size=BATCHES,
        regularizer={
            "none": None,
            **{kind: FloatRange(lo, hi, log=True) for kind, (lo, hi) in STRENGTH.items()},
        },
        batch_norm=(False, True),
        scaling=task.scalings,
        epochs=task.epochs,
        **extra,
    )


def _adamtune(strategy: str, variant: str = "constant", **options: Any) -> Callable[..., Config]:
    def run(task: Task, s: Splits, seed: int, workdir: Path) -> Config:
        import adamtune
        from adamtune.cli._where import open_result

        kt = strategy.startswith("kt-")
        storage = str(workdir / "kt") if kt else f"sqlite:///{workdir / 'adamtune.db'}"
        with contextlib.suppress(BudgetSpent):
            adamtune.search(
                task.model_fn,
                ((s.x_train, s.y_train), (s.x_val, s.y_val)),
                space=_adamtune_space(task, variant),
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
            # how Adam ran over the best trial: the run's record keeps these (job.py drops the
            # full export below for size), so a schedules search says what it exported
            "optimizer": adam.optimizer,
            "schedule": adam.schedule,
            "warmup": adam.warmup,
            "decay_to": adam.decay_to,
            "global_clipnorm": adam.global_clipnorm,
            "adamtune_config": best.to_dict(),
        }

    return run


# -- Keras defaults, the first trial alone and the article's sweep -----------------------------


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
    "kt-random": kerastuner("random"),
    "kt-hyperband": kerastuner("hyperband"),
    "kt-bayesian": kerastuner("bayesian"),
    "optuna-tpe-hyperband": optuna_script(tpe, hyperband),
    "optuna-qmc": optuna_script(qmc, no_pruning, flat=True),
    "optuna-random": optuna_script(random, no_pruning),
    "optuna-lr-only": optuna_script(tpe, median, lr_only=True),
    "keras-defaults": _one_run(lambda task, s: dict(DEFAULTS)),
    "manual-sweep": _manual_sweep,
    # Peers given adamtune's first trial: "good start" apart from "good search".
    "kt-random+first": kerastuner("random", first=True),
    "kt-hyperband+first": kerastuner("hyperband", first=True),
    "optuna-tpe-hyperband+first": optuna_script(tpe, hyperband, first=True),
    "optuna-qmc+first": optuna_script(qmc, no_pruning, flat=True, first=True),
}
# Everything that is not adamtune's own search: the rows adamtune is compared against.
PEERS = tuple(name for name in TOOLS if not name.startswith("adamtune"))
# Ablations, run by name (``--tools``), not part of a suite.
EXTRA: dict[str, Callable[..., Config]] = {
    # adamtune without the LR range test before the study and with Hyperband: adamtune as it
    # shipped until the levers suites (results/levers*.json) made lr_range="auto" and then
    # pruner="asha" the defaults; the standard suite's "adamtune" rows up to 2 Dec were measured so
    "adamtune-no-lr-range": _adamtune("tpe", lr_range=None, pruner="hyperband"),
    # The ablations below were measured before those changes, on adamtune without the range test
    # and with Hyperband: pinned to both so their recorded rows reproduce.
    "adamtune-no-first-trial": _adamtune(
        "tpe", first_trials=None, lr_range=None, pruner="hyperband"
    ),
    "adamtune-schedules": _adamtune("tpe", variant="schedules", lr_range=None, pruner="hyperband"),
    "adamtune-default-schedule": _adamtune(
        "tpe", variant="default", lr_range=None, pruner="hyperband"
    ),
    # the range test asked for by name (levers suite, when it was not the default yet)
    "adamtune-lr-range": _adamtune("tpe", lr_range="auto", pruner="hyperband", first_trials="auto"),
    # each new best run once more with another seed, the best judged by its mean (issue 20)
    "adamtune-confirm": _adamtune("tpe", confirm=1, lr_range=None, pruner="hyperband"),
    # asynchronous successive halving with rungs after epochs 1, 3, 9, a third promoted, instead
    # of Hyperband's brackets (pruner="asha"; the levers suite ran it at 48ae485 through the same
    # pruner defined here, before it moved into adamtune/engine/_pruners.py)
    "adamtune-sha": _adamtune("tpe", pruner="asha", lr_range=None),
    # the two levers of section 14 together: the range test's warm start, then ASHA's rungs (the
    # defaults since section 15: the same search as "adamtune" now, named as it was measured)
    "adamtune-range-asha": _adamtune("tpe", lr_range="auto", pruner="asha", first_trials="auto"),
    # the first trial at the middle of the range the LR range test suggested, not the textbook
    # 1e-3 clipped to it (first_trials="lr-range"; NOTES.md section 21), with both defaults: the
    # default since section 21, so the same search as "adamtune" now, named as it was measured
    "adamtune-range-start": _adamtune("tpe", first_trials="lr-range"),
    # adamtune with the textbook first trial (first_trials="auto", the default until section 21):
    # what the standard suite's "adamtune" rows measured
    "adamtune-textbook-start": _adamtune("tpe", first_trials="auto"),
    # adamtune as it ships with a rung a third into the first epoch below asha's (pruner=
    # "asha-third"; NOTES.md section 23)
    "adamtune-third-rung": _adamtune("tpe", pruner="asha-third"),
    # adamtune as it ships with no pruner: every trial runs all its epochs (NOTES.md section 24,
    # whether the first rung's cuts are what keeps BatchNorm out of regression-1e4's exports)
    "adamtune-no-pruner": _adamtune("tpe", pruner="none"),
}
