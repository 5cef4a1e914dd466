"""``hp``: what a model_fn receives. The trial's Adam choices, and a way to ask for its own values.

Three spellings work on the same object, so model functions written for other tools run unchanged:
adamtune's (``hp.int``, ``hp.float``, ``hp.choice``), KerasTuner's (``hp.Int``, ``hp.Float``,
``hp.Choice``, ``hp.Boolean``, ``hp.Fixed``, ``hp.conditional_scope``, ``hp.get``, ``hp.values``)
and Optuna's (``trial.suggest_int``, ``trial.suggest_float``, ``trial.suggest_categorical``).
KerasTuner's spelling lives in ``_hp_kerastuner.py``, Optuna's in ``_hp_optuna.py``, the machinery
they share in ``_hp_base.py`` and the argument checks in ``_hp_checks.py``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from typing import Any

from adamtune.params._adam import AdamParams
from adamtune.params._hp_checks import check_bounds, check_choices, number_or_none
from adamtune.params._hp_kerastuner import KerasTunerSpelling
from adamtune.params._hp_optuna import OptunaSpelling
from adamtune.params._regularizer import make_regularizer
from adamtune.params._sources import ParamSource

__all__ = ["HP"]


# OptunaSpelling translates to KerasTunerSpelling, and both build on HPBase (_hp_base.py).
class HP(OptunaSpelling, KerasTunerSpelling):
    """One trial's parameters, the same object on every engine.

    Read the trial's Adam choices (``hp.learning_rate``, ``hp.batch_size``, ``hp.batch_norm``,
    ``hp.regularizer()``) and ask for your own, define-by-run, in any of three spellings::

        def build_model(hp):
            units = hp.int("units", 32, 256, log=True)           # adamtune
            act = hp.Choice("activation", ["relu", "tanh"])      # KerasTuner
            rate = hp.suggest_float("dropout", 0.0, 0.5)         # Optuna
            ...

    If a model_fn never reads ``hp.regularizer()`` or ``hp.batch_norm``, adamtune applies those
    choices to the returned model itself.

    Inside ``with hp.conditional_scope(parent, values):`` the code always runs, as in KerasTuner;
    a parameter asked for while the parent took another value is *inactive*: it returns ``None``
    (KerasTuner's behaviour), is not searched and not stored.

    ``lr_params`` names float parameters whose only use is the learning rate of an optimizer the
    model_fn compiles (found by the pre-flight): they are not searched, and answer with this
    trial's coupled learning rate, ``hp.learning_rate``.
    """

    def __init__(
        self, adam: AdamParams, source: ParamSource, *, lr_params: Collection[str] = ()
    ) -> None:
        super().__init__(adam, source, lr_params=lr_params)
        self.used_regularizer = False
        self.used_batch_norm = False
        # What adamtune changed in the model_fn's model for this trial, in words ("BatchNorm after
        # dense_1"): stored with the trial, shown in Result.trials, the export and the report.
        self.changes: list[str] = []

    def record_change(self, text: str) -> None:
        """Note one change adamtune made to the user's model, loss or data for this trial."""
        if text not in self.changes:
            self.changes.append(text)

    # -- the trial's Adam choices -------------------------------------------------------------
    @property
    def adam(self) -> AdamParams:
        return self._adam

    @property
    def learning_rate(self) -> builtins.float:
        return self._adam.learning_rate

    @property
    def batch_size(self) -> builtins.int:
        return self._adam.batch_size

    @property
    def scaling(self) -> str:
        return self._adam.scaling

    @property
    def batch_norm(self) -> bool:
        """Whether this trial uses BatchNorm. Reading it means: "my model_fn places BatchNorm"."""
        self.used_batch_norm = True
        return self._adam.batch_norm

    def regularizer(self) -> Any:
        """The trial's kernel regularizer (a ``keras.regularizers.Regularizer``) or ``None``.

        Calling it means: "my model_fn attaches the regularizer". For ``adamw`` it returns ``None``:
        decoupled weight decay lives in the optimizer, not in the layers.
        """
        self.used_regularizer = True
        return make_regularizer(self._adam.regularizer, self._adam.regularizer_strength)

    # -- adamtune's spelling ------------------------------------------------------------------
    def int(
        self,
        name: str,
        low: builtins.int,
        high: builtins.int,
        step: builtins.int = 1,
        log: bool = False,
    ) -> builtins.int:
        """An integer in [low, high], on a log scale when ``log``."""
        self._check_name(name)
        for arg, value in (("low", low), ("high", high), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, builtins.int):
                raise TypeError(f"hp.int({name!r}): `{arg}` must be an int. Received: {value!r}")
        if low > high:
            raise ValueError(f"hp.int({name!r}): low must be <= high. Received: {low}, {high}")
        if log and low <= 0:
            raise ValueError(f"hp.int({name!r}): low must be > 0 with log=True. Received: {low}")
        if step <= 0:
            raise ValueError(f"hp.int({name!r}): step must be >= 1. Received: {step}")
        return self._ask(
            name,
            ("int", low, high, step, log),
            lambda: number_or_none(self._source.int(name, low, high, step, log), builtins.int),
        )

    def float(
        self, name: str, low: builtins.float, high: builtins.float, log: bool = False
    ) -> builtins.float:
        """A float in [low, high], on a log scale when ``log``. Named ``learning_rate``: the
        trial's learning rate (``hp.learning_rate``), whatever the range."""
        self._check_name(name, is_float=True)
        check_bounds(f"hp.float({name!r})", ("low", low), ("high", high))
        if low > high:
            raise ValueError(f"hp.float({name!r}): low must be <= high. Received: {low}, {high}")
        if log and low <= 0:
            raise ValueError(f"hp.float({name!r}): low must be > 0 with log=True. Received: {low}")
        lo, hi = builtins.float(low), builtins.float(high)
        return self._ask(
            name,
            ("float", lo, hi, log),
            lambda: number_or_none(self._source.float(name, lo, hi, log), builtins.float),
            is_float=True,
        )

    def choice(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` (None, bool, int, float or str values; they may mix types)."""
        self._check_name(name)
        values = check_choices(f"hp.choice({name!r})", "choices", choices)
        return self._ask(
            name,
            ("choice", tuple(values)),
            lambda: self._source.choice(name, values),
        )

    # -- what was asked -------------------------------------------------------------------------
    @property
    def user_params(self) -> dict[str, Any]:
        """The values this model_fn asked for, by name (inactive parameters are not here)."""
        return dict(self._user)

    @property
    def params(self) -> dict[str, Any]:
        """Every value of the trial: the Adam choices and the model_fn's own."""
        return {**self._adam.to_dict(), **self._user}

    def __repr__(self) -> str:
        return f"HP({self.params!r})"
