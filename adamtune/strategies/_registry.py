"""The strategy registry: a name, an engine object, or a third-party entry point -> a search engine.

A strategy is a factory ``factory(context) -> engine object``, where the engine object is an Optuna
sampler or a KerasTuner oracle, and the strategy says which engine runs it. ``get`` resolves a
name, or passes an engine object through, in one place; an unknown name lists the valid ones.

A third-party package adds strategies under the entry-point group ``adamtune.strategies``; the
object an entry point names is the factory, and its ``engine`` attribute says which engine it is
for (``"optuna"`` when it has none, as for :func:`register`)::

    # adamtune_plugin.py                 # pyproject.toml
    def make(context):                   # [project.entry-points."adamtune.strategies"]
        return keras_tuner.oracles...    # my-oracle = "adamtune_plugin:make"
    make.engine = "kerastuner"

An entry point is imported the first time its engine or its engine object is asked for, never
by :func:`available`; an engine object of another engine than the one declared is refused.
"""

from __future__ import annotations

import difflib
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
    grid holds them fixed there); ``monitor`` is the logged key scored, in ``direction``.
    """

    space: Space
    seed: int | None = None
    epochs: int = 20
    user_params: Mapping[str, Any] = field(default_factory=dict)
    monitor: str = "val_data_loss"
    direction: str = "minimize"


Factory = Callable[[StrategyContext], Any]
_REGISTRY: dict[str, Factory] = {}
_DESCRIPTIONS: dict[str, str] = {}
_ENGINES: dict[str, str] = {}
ENGINES = ("optuna", "kerastuner")
_entry_points_loaded = False


def register(
    name: str,
    factory: Factory,
    *,
    engine: str = "optuna",
    description: str = "",
    replace: bool = False,
) -> None:
    """Add a strategy under ``name``. ``factory(context)`` returns an engine object: an Optuna
    sampler for ``engine="optuna"``, a KerasTuner oracle for ``engine="kerastuner"``."""
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {', '.join(ENGINES)}. Received: {engine!r}")
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
    _ENGINES[name] = engine


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _REGISTRY:
            _REGISTRY[entry.name] = _EntryPointFactory(entry)
            _DESCRIPTIONS[entry.name] = f"from {entry.value}"
            _ENGINES.pop(entry.name, None)  # its engine is the entry point's: _engine_of_name


class _EntryPointFactory:
    """A third-party strategy's factory, imported from its entry point on first use."""

    def __init__(self, entry: metadata.EntryPoint) -> None:
        self.entry = entry
        self._factory: Factory | None = None

    def load(self) -> Factory:
        if self._factory is None:
            factory = self.entry.load()
            if not callable(factory):
                raise TypeError(
                    f"the entry point {self.entry.name!r} ({self.entry.value}) of the group "
                    f"{ENTRY_POINT_GROUP!r} must name a strategy factory, a callable taking a "
                    f"StrategyContext. Received: {factory!r} of type {type(factory).__name__}"
                )
            self._factory = factory
        return self._factory

    @property
    def engine(self) -> str:
        """The loaded factory's ``engine`` attribute, ``"optuna"`` when it has none."""
        engine = getattr(self.load(), "engine", "optuna")
        if engine not in ENGINES:
            raise ValueError(
                f"the entry point {self.entry.name!r} ({self.entry.value}) declares an `engine` "
                f"that must be one of {', '.join(ENGINES)}. Received: engine={engine!r}"
            )
        return str(engine)

    def __call__(self, context: StrategyContext) -> Any:
        return self.load()(context)


def _engine_of_name(name: str) -> str:
    """The engine of the registered strategy ``name``: as registered, or for an entry point, as
    the object it names declares (importing it on first use)."""
    factory = _REGISTRY[name]
    if isinstance(factory, _EntryPointFactory):
        return factory.engine
    return _ENGINES[name]


def available() -> list[str]:
    """Every registered strategy name: built-ins first, then third-party entry points."""
    _load_entry_points()
    return list(_REGISTRY)


def describe() -> dict[str, str]:
    """Each strategy name with its one-line description."""
    _load_entry_points()
    return dict(_DESCRIPTIONS)


def engine_of_object(value: Any) -> str | None:
    """``"optuna"`` for an Optuna sampler, ``"kerastuner"`` for a KerasTuner oracle, else None."""
    import optuna

    if isinstance(value, optuna.samplers.BaseSampler):
        return "optuna"
    if type(value).__module__.startswith("keras_tuner"):
        import keras_tuner

        if isinstance(value, keras_tuner.Oracle):
            return "kerastuner"
    return None


def is_engine_object(value: Any) -> bool:
    """Whether ``value`` is an engine object a search can drive directly."""
    return engine_of_object(value) is not None


def engine_of(strategy: Any) -> str:
    """Which engine runs ``strategy`` (a checked name or engine object)."""
    check(strategy)
    if isinstance(strategy, str):
        return _engine_of_name(strategy)
    return engine_of_object(strategy) or "optuna"


def check(strategy: Any) -> None:
    """Refuse an unknown strategy before any work: names are checked, objects are typed."""
    if isinstance(strategy, str):
        _load_entry_points()
        if strategy not in _REGISTRY:
            close = difflib.get_close_matches(strategy, list(_REGISTRY), n=1)
            raise ValueError(
                f"`strategy` must be one of {', '.join(_REGISTRY)}, or an Optuna sampler or "
                f"KerasTuner oracle instance. Received: strategy={strategy!r}"
                + (f"; did you mean {close[0]!r}?" if close else "")
            )
    elif not is_engine_object(strategy):
        raise TypeError(
            "`strategy` must be a strategy name, an optuna.samplers.BaseSampler or a "
            "keras_tuner.Oracle instance. "
            f"Received: {strategy!r} of type {type(strategy).__name__}"
        )


def get(strategy: Any, context: StrategyContext) -> Any:
    """The engine object for ``strategy``: a registered name's factory output, or the object."""
    check(strategy)
    if not isinstance(strategy, str):
        return strategy
    engine = _engine_of_name(strategy)
    made = _REGISTRY[strategy](context)
    kind = engine_of_object(made)
    if kind is None:
        raise TypeError(
            f"strategy {strategy!r} returned {made!r}, which is not an engine object "
            "(an optuna.samplers.BaseSampler or a keras_tuner.Oracle)"
        )
    if kind != engine:
        how = (
            f"set `engine = {kind!r}` on the object its entry point names"
            if isinstance(_REGISTRY[strategy], _EntryPointFactory)
            else f"register it with engine={kind!r}"
        )
        raise TypeError(
            f"strategy {strategy!r} is for the {engine!r} engine but returned a {kind} engine "
            f"object ({type(made).__name__}); {how}"
        )
    return made
