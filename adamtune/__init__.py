"""adamtune: find the Adam settings under which a Keras model trains well.

    result = adamtune.search(build_model, (x, y), trials=50)
    result.export("tuned.json")
    cfg = adamtune.load_config("tuned.json")

``import adamtune`` is light: TensorFlow, Keras and Optuna load only when a search, a guard or a
config needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "HP",
    "Data",
    "Diagnosis",
    "DivergenceGuard",
    "PreflightError",
    "Result",
    "SearchAborted",
    "Space",
    "StorageFullError",
    "StudyMismatchError",
    "TunedConfig",
    "__version__",
    "diagnose",
    "load_config",
    "load_space",
    "lr_range_test",
    "search",
    "spaces",
]

_LAZY = {
    "HP": "adamtune.params",
    "Data": "adamtune.data",
    "Diagnosis": "adamtune.doctor",
    "DivergenceGuard": "adamtune.training._guard",
    "PreflightError": "adamtune._errors",
    "Result": "adamtune.result",
    "SearchAborted": "adamtune._errors",
    "StorageFullError": "adamtune._errors",
    "Space": "adamtune.spaces",
    "StudyMismatchError": "adamtune._errors",
    "TunedConfig": "adamtune.result",
    "load_config": "adamtune.result",
    "load_space": "adamtune.spaces",
    "diagnose": "adamtune.doctor",
    "lr_range_test": "adamtune.doctor",
    "search": "adamtune._search",
}

if TYPE_CHECKING:
    from adamtune import spaces
    from adamtune._errors import (
        PreflightError,
        SearchAborted,
        StorageFullError,
        StudyMismatchError,
    )
    from adamtune._search import search
    from adamtune.data import Data
    from adamtune.doctor import Diagnosis, diagnose, lr_range_test
    from adamtune.params import HP
    from adamtune.result import Result, TunedConfig, load_config
    from adamtune.spaces import Space, load_space
    from adamtune.training._guard import DivergenceGuard


# Subpackages reachable as ``adamtune.X`` after a plain ``import adamtune`` (the README uses
# ``adamtune.strategies.available()``, ``adamtune.data.SAMPLE_SIZE``): imported on first use.
_SUBPACKAGES = frozenset(
    {"data", "doctor", "engine", "params", "result", "spaces", "strategies", "testing", "training"}
)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"adamtune.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'adamtune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
