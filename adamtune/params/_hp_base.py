"""What every spelling of ``hp`` shares: the trial's source, the values asked for so far, ``_ask``.

:class:`HP` and its spelling mixins (KerasTuner's, Optuna's) all build on :class:`HPBase`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from adamtune.params._adam import RESERVED, AdamParams
from adamtune.params._hp_checks import received
from adamtune.params._sources import ParamSource

__all__ = ["HPBase"]

_LEARNING_RATE = "learning_rate"


class HPBase:
    """The machinery behind every ``hp.*`` call: check a name, then :meth:`_ask` for its value."""

    def __init__(
        self, adam: AdamParams, source: ParamSource, *, lr_params: Collection[str] = ()
    ) -> None:
        self._adam = adam
        self._source = source
        self._lr_params = frozenset(lr_params)
        self._user: dict[str, Any] = {}
        self._requests: dict[str, tuple[Any, ...]] = {}  # how each active value was asked for
        self._inactive: set[str] = set()
        self._scopes: list[bool] = []  # whether each open conditional_scope is active
        # model_fn asked for a float named learning_rate (Optuna's own Keras example does):
        # answered with the trial's learning rate, said by the pre-flight
        self.answered_learning_rate = False

    def _ask(
        self,
        name: str,
        request: tuple[Any, ...],
        ask: Callable[[], Any],
        *,
        is_float: bool = False,
    ) -> Any:
        """The value for ``name``: remembered, ``None`` when inactive, the trial's learning rate
        for an ``lr_params`` float, else asked from the source and remembered. A float named
        ``learning_rate`` is the trial's learning rate, never asked nor remembered: it is
        adamtune's own parameter (``hp.learning_rate``), stored and exported as such."""
        if is_float and name == _LEARNING_RATE:
            self.answered_learning_rate = True
            return self._adam.learning_rate if all(self._scopes) else None
        if not all(self._scopes):  # an inactive scope: the same name may be active elsewhere
            if hasattr(self._source, "scope"):
                ask()  # KerasTuner registers the conditional parameter; it answers None
            if name not in self._user:
                self._inactive.add(name)
            return None
        if name in self._user:  # a repeat, as KerasTuner and Optuna allow: the same value
            self._check_repeat(name, request)
            return self._user[name]
        value = self._adam.learning_rate if is_float and name in self._lr_params else ask()
        self._user[name] = value
        self._requests[name] = request
        return value

    def _check_name(self, name: str, *, repeat: bool = False, is_float: bool = False) -> None:
        if type(name) is not str or not name:  # a str subclass would bring its own __repr__
            raise TypeError(
                "hp parameter names must be non-empty strings (exactly str, not a subclass). "
                f"Received: {received(name)}"
            )
        if name in RESERVED and not (is_float and name == _LEARNING_RATE):
            hint = (
                " It is the trial's Adam learning rate: asked for as a float (hp.Float, hp.float, "
                "trial.suggest_float) each trial answers it with that rate, or read "
                "hp.learning_rate; a float of your own used only as a compiled optimizer's "
                "learning rate (for example 'lr') is replaced by adamtune's coupled learning "
                "rate, not searched."
                if name == _LEARNING_RATE
                else ""
            )
            raise ValueError(
                f"hp parameter name {name!r} is used by adamtune itself; pick another name "
                f"(reserved: {', '.join(sorted(RESERVED))}).{hint}"
            )
        if name in self._user and not repeat:
            raise ValueError(
                f"hp parameter {name!r} was asked for twice in one model_fn call; "
                "read it once and reuse the value"
            )

    def _check_repeat(self, name: str, request: tuple[Any, ...]) -> None:
        first = self._requests.get(name)
        if first is not None and first != request:
            raise ValueError(
                f"hp parameter {name!r} was asked for twice in one model_fn call with different "
                f"settings. Received: {request!r} after {first!r}; give each parameter its own "
                "name"
            )
