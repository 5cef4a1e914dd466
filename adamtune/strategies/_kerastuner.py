"""Built-in KerasTuner strategies: each returns a configured oracle (never a Tuner)."""

from __future__ import annotations

from typing import Any

from adamtune.strategies._registry import StrategyContext

__all__ = ["BUILTINS"]

_UNBOUNDED = 10**9  # adamtune stops on its own target; the oracle must not stop first


def _objective(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.Objective(
        context.monitor, "min" if context.direction == "minimize" else "max"
    )


def _random(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.RandomSearchOracle(
        objective=_objective(context), max_trials=_UNBOUNDED, seed=context.seed
    )


def _bayesian(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.BayesianOptimizationOracle(
        objective=_objective(context),
        max_trials=_UNBOUNDED,
        num_initial_points=4,
        seed=context.seed,
    )


def _hyperband(context: StrategyContext) -> Any:
    import keras_tuner

    return keras_tuner.oracles.HyperbandOracle(
        objective=_objective(context),
        max_epochs=context.epochs,
        factor=3,
        hyperband_iterations=_UNBOUNDED,
        seed=context.seed,
    )


BUILTINS: dict[str, tuple[Any, str]] = {
    "kt-random": (_random, "KerasTuner's random search oracle"),
    "kt-bayesian": (_bayesian, "KerasTuner's Gaussian-process Bayesian optimization oracle"),
    "kt-hyperband": (
        _hyperband,
        "KerasTuner's Hyperband oracle: its own epoch budgets, each trained from scratch",
    ),
}
