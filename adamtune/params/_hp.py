"""``hp``: what a model_fn receives. The trial's Adam choices, and a way to ask for its own values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from adamtune.params._adam import RESERVED, AdamParams
from adamtune.params._sources import ParamSource

__all__ = ["HP"]


class HP:
    """One trial's parameters, the same object on every engine.

    Read the trial's Adam choices (``hp.learning_rate``, ``hp.batch_size``, ``hp.batch_norm``,
    ``hp.regularizer()``) and ask for your own, define-by-run::

        def build_model(hp):
            units = hp.int("units", 32, 256, log=True)
            reg = hp.regularizer()
            ...

    If a model_fn never reads ``hp.regularizer()`` or ``hp.batch_norm``, adamtune applies those
    choices to the returned model itself.
    """

    def __init__(self, adam: AdamParams, source: ParamSource) -> None:
        self._adam = adam
        self._source = source
        self._user: dict[str, Any] = {}
        self.used_regularizer = False
        self.used_batch_norm = False

    # -- the trial's Adam choices -------------------------------------------------------------
    @property
    def adam(self) -> AdamParams:
        return self._adam

    @property
    def learning_rate(self) -> float:
        return self._adam.learning_rate

    @property
    def batch_size(self) -> int:
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
        from adamtune.training._layers import make_regularizer

        return make_regularizer(self._adam.regularizer, self._adam.regularizer_strength)

    # -- the model_fn's own parameters ----------------------------------------------------------
    def int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        """An integer in [low, high], on a log scale when ``log``."""
        self._check_name(name)
        for arg, value in (("low", low), ("high", high), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"hp.int({name!r}): `{arg}` must be an int. Received: {value!r}")
        if low > high:
            raise ValueError(f"hp.int({name!r}): low must be <= high. Received: {low}, {high}")
        if log and low <= 0:
            raise ValueError(f"hp.int({name!r}): low must be > 0 with log=True. Received: {low}")
        if step <= 0:
            raise ValueError(f"hp.int({name!r}): step must be >= 1. Received: {step}")
        return self._remember(name, int(self._source.int(name, low, high, step, log)))

    def float(self, name: str, low: float, high: float, log: bool = False) -> float:
        """A float in [low, high], on a log scale when ``log``."""
        self._check_name(name)
        for arg, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(
                    f"hp.float({name!r}): `{arg}` must be a number. Received: {value!r}"
                )
            if not math.isfinite(value):
                raise ValueError(f"hp.float({name!r}): `{arg}` must be finite. Received: {value}")
        if low > high:
            raise ValueError(f"hp.float({name!r}): low must be <= high. Received: {low}, {high}")
        if log and low <= 0:
            raise ValueError(f"hp.float({name!r}): low must be > 0 with log=True. Received: {low}")
        return self._remember(name, float(self._source.float(name, float(low), float(high), log)))

    def choice(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` (None, bool, int, float or str values)."""
        self._check_name(name)
        if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
            raise ValueError(
                f"hp.choice({name!r}): `choices` must be a non-empty list. Received: {choices!r}"
            )
        for item in choices:
            if item is not None and not isinstance(item, bool | int | float | str):
                raise TypeError(
                    f"hp.choice({name!r}): choices must be None, bool, int, float or str so a "
                    f"study can store them. Received: {item!r} ({type(item).__name__})"
                )
        return self._remember(name, self._source.choice(name, list(choices)))

    @property
    def user_params(self) -> dict[str, Any]:
        """The values this model_fn asked for, by name."""
        return dict(self._user)

    @property
    def params(self) -> dict[str, Any]:
        """Every value of the trial: the Adam choices and the model_fn's own."""
        return {**self._adam.to_dict(), **self._user}

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"hp parameter names must be non-empty strings. Received: {name!r}")
        if name in RESERVED:
            raise ValueError(
                f"hp parameter name {name!r} is used by adamtune itself; pick another name "
                f"(reserved: {', '.join(sorted(RESERVED))})"
            )
        if name in self._user:
            raise ValueError(
                f"hp parameter {name!r} was asked for twice in one model_fn call; "
                "read it once and reuse the value"
            )

    def _remember(self, name: str, value: Any) -> Any:
        self._user[name] = value
        return value

    def __repr__(self) -> str:
        return f"HP({self.params!r})"
