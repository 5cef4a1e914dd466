"""Why Adam fails on a model: the LR range test and the doctor's findings
(``adamtune.diagnose``, ``adamtune.lr_range_test``).

Everything here is imported on first use, so ``import adamtune`` stays light.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

if typing.TYPE_CHECKING:
    from adamtune.doctor._doctor import Diagnosis as Diagnosis
    from adamtune.doctor._doctor import Finding as Finding
    from adamtune.doctor._doctor import diagnose as diagnose
    from adamtune.doctor._doctor import load_study as load_study
    from adamtune.doctor._lr_range import LRRange as LRRange
    from adamtune.doctor._lr_range import centered_average as centered_average
    from adamtune.doctor._lr_range import lr_range_test as lr_range_test
    from adamtune.doctor._lr_range import suggest_range as suggest_range

_LAZY = {
    "LRRange": "adamtune.doctor._lr_range",
    "centered_average": "adamtune.doctor._lr_range",
    "lr_range_test": "adamtune.doctor._lr_range",
    "suggest_range": "adamtune.doctor._lr_range",
    "Diagnosis": "adamtune.doctor._doctor",
    "Finding": "adamtune.doctor._doctor",
    "diagnose": "adamtune.doctor._doctor",
    "load_study": "adamtune.doctor._doctor",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'adamtune.doctor' has no attribute {name!r}")
