"""Built-in KerasTuner strategies: each returns a configured oracle (never a Tuner)."""

from __future__ import annotations

from typing import Any

from adamtune.strategies._registry import StrategyContext

__all__ = ["BUILTINS", "oracle_seed"]

_UNBOUNDED = 10**9  # adamtune stops on its own target; the oracle must not stop first


def oracle_seed(seed: int | None) -> int | None:
    """The seed a KerasTuner oracle gets for the search's ``seed``.

    An oracle reads seed 0 as none (``seed or random.randint(1, 10000)``: a fresh draw each run)
    and seeds its n-th sample with ``seed + n``, so seeds 0, 1, 2 would share most of their draws.
    Each search seed is hashed to its own point in 1..2**31 - 1: it repeats, and seeds stay apart.
    """
    if seed is None:
        return None
    import numpy as np

    return int(np.random.SeedSequence(seed).generate_state(1)[0]) % (2**31 - 1) + 1


def _objective(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.Objective(
        context.monitor, "min" if context.direction == "minimize" else "max"
    )


def _random(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.RandomSearchOracle(
        objective=_objective(context), max_trials=_UNBOUNDED, seed=oracle_seed(context.seed)
    )


def _bayesian(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.BayesianOptimizationOracle(
        objective=_objective(context),
        max_trials=_UNBOUNDED,
        num_initial_points=4,
        seed=oracle_seed(context.seed),
    )


def _hyperband(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.HyperbandOracle(
        objective=_objective(context),
        max_epochs=context.epochs,
        factor=3,
        hyperband_iterations=_UNBOUNDED,
        seed=oracle_seed(context.seed),
    )


BUILTINS: dict[str, tuple[Any, str]] = {
    "kt-random": (_random, "KerasTuner's random search oracle"),
    "kt-bayesian": (_bayesian, "KerasTuner's Gaussian-process Bayesian optimization oracle"),
    "kt-hyperband": (
        _hyperband,
        "KerasTuner's Hyperband oracle: its own epoch budgets, each trained from scratch",
    ),
}
