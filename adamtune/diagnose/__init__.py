"""Why Adam fails on a model: the LR range test and the doctor's findings.

Everything here is imported on first use, so ``import adamtune`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "LRRange": "adamtune.diagnose._lr_range",
    "lr_range_test": "adamtune.diagnose._lr_range",
    "Diagnosis": "adamtune.diagnose._doctor",
    "Finding": "adamtune.diagnose._doctor",
    "diagnose": "adamtune.diagnose._doctor",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'adamtune.diagnose' has no attribute {name!r}")
