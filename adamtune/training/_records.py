"""The record a finished trial leaves: built here, where the trial's Keras optimizer is known, so
that the engines store it without knowing Keras and reading a study needs no Keras."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from adamtune._json import jsonable
from adamtune._record import RESULT_KEYS, TrialRecord

if TYPE_CHECKING:
    from adamtune.params import AdamParams
    from adamtune.training._trial import TrialResult

__all__ = ["curves", "optimizer_config", "result_attrs"]


def optimizer_config(adam: AdamParams) -> dict[str, Any]:
    """The Keras-serialized Adam/AdamW a trial with ``adam`` trains with (imports Keras)."""
    import keras

    from adamtune.training._build import make_optimizer

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
