"""What every engine stores with a trial: the same attributes, whichever engine ran it."""

from __future__ import annotations

import json
import math
from typing import Any

from adamtune._record import (
    ERROR_ATTR,
    INTERRUPTED_OUTCOME,
    OUTCOME_ATTR,
    RESULT_KEYS,
    RSS_ATTR,
    WORKER_ATTR,
    TrialRecord,
)
from adamtune.params import AdamParams
from adamtune.training import TrialResult

__all__ = [
    "ERROR_ATTR",
    "INTERRUPTED_OUTCOME",
    "OUTCOME_ATTR",
    "RSS_ATTR",
    "WORKER_ATTR",
    "TrialRecord",
    "curves",
    "error_attrs",
    "jsonable",
    "optimizer_config",
    "result_attrs",
]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types; non-finite floats become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return json.loads(json.dumps(value))


def optimizer_config(adam: AdamParams) -> dict[str, Any]:
    """The Keras-serialized Adam/AdamW a trial with ``adam`` trains with (imports Keras)."""
    import keras

    from adamtune.training import make_optimizer

    return dict(keras.optimizers.serialize(make_optimizer(adam)))


def result_attrs(result: TrialResult) -> dict[str, Any]:
    """Outcome, reason, parameters, timings and last logged values of a finished trial.

    ``best_epoch`` is stored 0-based (the index Keras passes to ``on_epoch_end``), as in every
    study written so far; read it with :func:`adamtune.result.best_epoch`, which gives it 1-based.
    ``optimizer`` is the Keras-serialized optimizer the trial trained with, written here where
    Keras is loaded anyway, so that reading a study and exporting its best config need no Keras.
    """
    record = TrialRecord(
        outcome=result.outcome,
        reason=result.reason,
        adam=result.hp.adam.to_dict(),
        optimizer=optimizer_config(result.hp.adam),
        user_params=result.hp.user_params,
        changes=tuple(result.hp.changes),
        best_epoch=result.best_epoch,
        epochs_run=result.epochs_run,
        seconds=round(result.seconds, 3),
        last={k: v[-1] for k, v in result.history.items() if v},
        curves=curves(result.history),
        keep_none=RESULT_KEYS,
    )
    return jsonable(record.to_attrs())


def curves(history: dict[str, list[float]]) -> dict[str, list[float | str]]:
    """Per-epoch values of every logged metric, 6 significant digits; non-finite as text."""
    return {
        key: [float(f"{v:.6g}") if math.isfinite(v) else str(v) for v in values]
        for key, values in history.items()
    }


def error_attrs(exc: BaseException) -> dict[str, Any]:
    """Outcome (``crashed-oom`` or ``crashed-error``) and the error text of a crashed trial."""
    name = type(exc).__name__
    oom = name in ("ResourceExhaustedError", "MemoryError")
    record = TrialRecord(
        outcome="crashed-oom" if oom else "crashed-error",
        error=f"{name}: {str(exc).strip()[:2000]}",
    )
    return record.to_attrs()
