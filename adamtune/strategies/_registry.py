"""The strategy registry: a name, an engine object, or a third-party entry point -> a search engine.

A strategy is a factory ``factory(context) -> engine object``, where the engine object is an Optuna
sampler (more engines plug in the same way). ``get`` resolves a name, or passes an engine object
through, in one place; an unknown name lists the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from adamtune.spaces import Space

__all__ = ["ENTRY_POINT_GROUP", "StrategyContext", "available", "get", "register"]

ENTRY_POINT_GROUP = "adamtune.strategies"


@dataclass(frozen=True)
class StrategyContext:
    """What a strategy factory may use to build its engine object.

    ``user_params`` holds the values the pre-flight gave the model_fn's own ``hp.*`` calls (a
    grid holds them fixed there).
    """

    space: Space
    seed: int | None = None
    epochs: int = 20
    user_params: Mapping[str, Any] = field(default_factory=dict)


Factory = Callable[[StrategyContext], Any]
_REGISTRY: dict[str, Factory] = {}
_DESCRIPTIONS: dict[str, str] = {}
_entry_points_loaded = False


def register(name: str, factory: Factory, *, description: str = "", replace: bool = False) -> None:
    """Add a strategy under ``name``. ``factory(context)`` returns an engine object."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"strategy names are non-empty strings without spaces. Received: {name!r}")
    if not callable(factory):
        raise TypeError(f"`factory` must be callable. Received: {factory!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"strategy {name!r} is already registered; pass replace=True to override it"
        )
    _REGISTRY[name] = factory
    _DESCRIPTIONS[name] = description


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _REGISTRY:
            register(entry.name, _lazy_entry_point(entry), description=f"from {entry.value}")


def _lazy_entry_point(entry: metadata.EntryPoint) -> Factory:
    def factory(context: StrategyContext) -> Any:
        return entry.load()(context)

    return factory


def available() -> list[str]:
    """Every registered strategy name: built-ins first, then third-party entry points."""
    _load_entry_points()
    return list(_REGISTRY)


def describe() -> dict[str, str]:
    """Each strategy name with its one-line description."""
    _load_entry_points()
    return dict(_DESCRIPTIONS)


def is_engine_object(value: Any) -> bool:
    """Whether ``value`` is an engine object a search can drive directly."""
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is a dependency
        return False
    return isinstance(value, optuna.samplers.BaseSampler)


def check(strategy: Any) -> None:
    """Refuse an unknown strategy before any work: names are checked, objects are typed."""
    if isinstance(strategy, str):
        _load_entry_points()
        if strategy not in _REGISTRY:
            raise ValueError(
                f"`strategy` must be one of {', '.join(_REGISTRY)}, or an Optuna sampler "
                f"instance. Received: strategy={strategy!r}"
            )
    elif not is_engine_object(strategy):
        raise TypeError(
            "`strategy` must be a strategy name or an optuna.samplers.BaseSampler instance. "
            f"Received: {strategy!r} of type {type(strategy).__name__}"
        )


def get(strategy: Any, context: StrategyContext) -> Any:
    """The engine object for ``strategy``: a registered name's factory output, or the object."""
    check(strategy)
    if not isinstance(strategy, str):
        return strategy
    made = _REGISTRY[strategy](context)
    if not is_engine_object(made):
        raise TypeError(
            f"strategy {strategy!r} returned {made!r}, which is not an engine object "
            "(an optuna.samplers.BaseSampler)"
        )
    return made
