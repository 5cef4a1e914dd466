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
from adamtune.strategies._trust import TRUST_ENV, UNPICKLING, storage_trusted, unpickles

# The built-in Optuna strategy names, in the order the README lists them.
OPTUNA_BUILTINS = tuple(_optuna.BUILTINS)

__all__ = [
    "ENTRY_POINT_GROUP",
    "OPTUNA_BUILTINS",
    "TRUST_ENV",
    "UNPICKLING",
    "StrategyContext",
    "available",
    "check",
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
