"""Optuna's spelling of ``hp``: ``suggest_int``, ``suggest_float``, ``suggest_categorical``.

Each is a translation to KerasTuner's spelling, after Optuna's own argument rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adamtune.params._hp_kerastuner import KerasTunerSpelling

__all__ = ["OptunaSpelling"]


class OptunaSpelling(KerasTunerSpelling):
    """Optuna's ``trial.suggest_*`` methods, so an Optuna objective's model code runs unchanged."""

    def suggest_int(
        self,
        name: str,
        low: int,
        high: int,
        *,
        step: int = 1,
        log: bool = False,
    ) -> Any:
        """Optuna's ``trial.suggest_int``: an integer in [low, high]."""
        where = f"suggest_int({name!r})"
        if log and step != 1:
            raise ValueError(
                f"{where}: `step` and `log=True` cannot be used together (Optuna's rule). "
                f"Received: step={step!r}, log=True; drop one of them"
            )
        if log:
            return self.Int(name, low, high, sampling="log")
        return self.Int(name, low, high, step=step)

    def suggest_float(
        self,
        name: str,
        low: float,
        high: float,
        *,
        step: float | None = None,
        log: bool = False,
    ) -> Any:
        """Optuna's ``trial.suggest_float``: a float in [low, high]; ``step`` for a grid."""
        if log and step is not None:
            raise ValueError(
                f"suggest_float({name!r}): `step` and `log=True` cannot be used together "
                f"(Optuna's rule). Received: step={step!r}, log=True; drop one of them"
            )
        return self.Float(name, low, high, step=step, sampling="log" if log else "linear")

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """Optuna's ``trial.suggest_categorical``: one of ``choices``."""
        return self.Choice(name, choices, ordered=False)
