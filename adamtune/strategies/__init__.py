"""How to search: a registry of strategies, by name, object, or third-party entry point.

``adamtune.strategies.available()`` lists the names; ``register(name, factory)`` adds one;
packages add theirs under the entry-point group ``adamtune.strategies``.
"""

from adamtune.strategies import _optuna  # noqa: F401  (registers the built-ins)
from adamtune.strategies._optuna import grid_values
from adamtune.strategies._registry import (
    ENTRY_POINT_GROUP,
    StrategyContext,
    available,
    check,
    describe,
    get,
    register,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "StrategyContext",
    "available",
    "check",
    "describe",
    "get",
    "grid_values",
    "register",
]
