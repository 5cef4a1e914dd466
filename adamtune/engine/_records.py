"""What every engine stores with a trial that crashed; a finished trial's record comes from its
objective (``TrialObjective.run(...).record()``), built where Keras is known."""

from __future__ import annotations

from typing import Any

from adamtune._json import jsonable
from adamtune._record import (
    ERROR_ATTR,
    INTERRUPTED_OUTCOME,
    OUTCOME_ATTR,
    RSS_ATTR,
    WORKER_ATTR,
    TrialRecord,
)

__all__ = [
    "ERROR_ATTR",
    "INTERRUPTED_OUTCOME",
    "OUTCOME_ATTR",
    "RSS_ATTR",
    "WORKER_ATTR",
    "TrialRecord",
    "error_attrs",
    "jsonable",
]


def error_attrs(exc: BaseException) -> dict[str, Any]:
    """Outcome (``crashed-oom`` or ``crashed-error``) and the error text of a crashed trial."""
    name = type(exc).__name__
    oom = name in ("ResourceExhaustedError", "MemoryError")
    record = TrialRecord(
        outcome="crashed-oom" if oom else "crashed-error",
        error=f"{name}: {str(exc).strip()[:2000]}",
    )
    return record.to_attrs()
