"""How to search: a registry of strategies, by name, object, or third-party entry point.

``adamtune.strategies.available()`` lists the names; ``register(name, factory)`` adds one;
packages add theirs under the entry-point group ``adamtune.strategies``.
"""

from adamtune.strategies import _kerastuner, _optuna
from adamtune.strategies._optuna import grid_values
from adamtune.strategies._registry import (
    ENTRY_POINT_GROUP,
    StrategyContext,
    available,
    check,
    describe,
    engine_of,
    get,
    register,
)
from adamtune.strategies._trust import TRUST_ENV, check_trusted, storage_trusted, unpickles

__all__ = [
    "ENTRY_POINT_GROUP",
    "TRUST_ENV",
    "StrategyContext",
    "available",
    "check",
    "check_trusted",
    "describe",
    "engine_of",
    "get",
    "grid_values",
    "register",
    "storage_trusted",
    "unpickles",
]

for _engine, _builtins in (("optuna", _optuna.BUILTINS), ("kerastuner", _kerastuner.BUILTINS)):
    for _name, (_factory, _description) in _builtins.items():
        register(_name, _factory, engine=_engine, description=_description)
