"""Built-in Optuna strategies: each turns a space into a configured Optuna sampler."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from adamtune.strategies._registry import StrategyContext

__all__ = ["BUILTINS", "grid_values"]


@contextmanager
def _quiet_experimental() -> Iterator[None]:
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _tpe(context: StrategyContext) -> Any:
    from adamtune.strategies._bounded import BoundedTPESampler

    with _quiet_experimental():
        return BoundedTPESampler(
            multivariate=True, group=True, seed=context.seed, n_startup_trials=8
        )


def _random(context: StrategyContext) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=context.seed)


def _qmc(context: StrategyContext) -> Any:
    import optuna

    with _quiet_experimental():
        return optuna.samplers.QMCSampler(
            qmc_type="sobol",
            scramble=True,
            seed=context.seed,
            independent_sampler=optuna.samplers.RandomSampler(seed=context.seed),
            warn_independent_sampling=False,
            warn_asynchronous_seeding=False,
        )


def _cmaes(context: StrategyContext) -> Any:
    import optuna

    try:
        import cmaes  # noqa: F401
    except ImportError:
        raise ImportError(
            "the 'cmaes' strategy needs the cmaes package: pip install 'adamtune[cmaes]'"
        ) from None
    return optuna.samplers.CmaEsSampler(
        seed=context.seed,
        n_startup_trials=4,
        warn_independent_sampling=False,
        independent_sampler=optuna.samplers.RandomSampler(seed=context.seed),
    )


def _gp(context: StrategyContext) -> Any:
    import optuna

    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise ImportError(
            "the 'gp' strategy needs torch and scipy: pip install 'adamtune[gp]' (on a CPU-only "
            "machine, install a CPU build of torch first)"
        ) from None
    with _quiet_experimental():
        return optuna.samplers.GPSampler(
            seed=context.seed,
            n_startup_trials=4,
            warn_independent_sampling=False,
            independent_sampler=optuna.samplers.RandomSampler(seed=context.seed),
        )


def _decades(low: float, high: float) -> list[float]:
    """Every power of ten in [low, high]; the two ends when the range holds none or one."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    values = [float(10.0**k) for k in range(first, last + 1)]
    return values if len(values) >= 2 else sorted({low, high, *values})


def _middle(low: float, high: float, log: bool) -> float:
    return math.sqrt(low * high) if log else (low + high) / 2


def grid_values(context: StrategyContext) -> dict[str, list[Any]]:
    """The grid: every learning-rate decade x every batch size (x each ``class_weight`` choice a
    space searches); the rest held at one value.

    The regularizer, BatchNorm, scaling, optimizer and schedule take the space's first choice,
    gradient clipping is off, a warmup or a schedule's end its range's low end, a strength or an
    Adam constant its range's middle, and the model_fn's own
    parameters their pre-flight values.
    """
    space = context.space
    grid: dict[str, list[Any]] = {
        "batch_size": list(space.batch_size),
        "base_learning_rate": _decades(space.learning_rate.low, space.learning_rate.high),
    }
    kind = next(iter(space.regularizer))
    grid["regularizer"] = [kind]
    strength = space.regularizer[kind]
    if strength is not None:
        grid[f"{kind}_strength"] = [_middle(strength.low, strength.high, strength.log)]
    grid["batch_norm"] = [space.batch_norm[0]]
    grid["scaling"] = [space.scaling[0]]
    if space.class_weight is not None and len(space.class_weight) > 1:
        grid["class_weight"] = list(space.class_weight)  # whether to weight: both, each point
    if space.optimizer is not None and len(space.optimizer) > 1:
        grid["optimizer"] = [space.optimizer[0]]
    if space.global_clipnorm is not None or space.clipnorm is not None:
        grid["clipping"] = ["off"]
    kind = (space.schedule or ("constant",))[0]
    if space.schedule is not None and len(space.schedule) > 1:
        grid["schedule"] = [kind]
    for key, rng in space.schedule_ranges(kind).items():
        grid[f"{kind}_{key}"] = [rng.low]
    for key in ("beta_1", "beta_2", "epsilon"):
        rng = getattr(space, key)
        if rng is not None:
            grid[key] = [_middle(rng.low, rng.high, rng.log)]
    for name, value in context.user_params.items():
        grid[name] = [value]
    return grid


def _grid(context: StrategyContext) -> Any:
    import optuna

    return optuna.samplers.GridSampler(grid_values(context), seed=context.seed)


BUILTINS: dict[str, tuple[Callable[[StrategyContext], Any], str]] = {
    "tpe": (
        _tpe,
        "multivariate TPE, grouped per regularizer type (the default); past 225 trials it models "
        "the best 25 and the latest 200",
    ),
    "random": (_random, "uniform random sampling: a baseline, and fine for under ~10 trials"),
    "qmc": (_qmc, "scrambled Sobol points: even coverage of the space for small budgets"),
    "gp": (_gp, "Gaussian-process Bayesian optimization (pip install 'adamtune[gp]')"),
    "cmaes": (
        _cmaes,
        "CMA-ES on the numeric parameters (pip install 'adamtune[cmaes]'); unpickles its state "
        "from the study, so a shared storage needs trust_storage=True",
    ),
    "grid": (_grid, "every learning-rate decade x every batch size, the rest held fixed"),
}
