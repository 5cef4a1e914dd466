"""``hp``: what a model_fn receives. The trial's Adam choices, and a way to ask for its own values.

Three spellings work on the same object, so model functions written for other tools run unchanged:
adamtune's (``hp.int``, ``hp.float``, ``hp.choice``), KerasTuner's (``hp.Int``, ``hp.Float``,
``hp.Choice``, ``hp.Boolean``, ``hp.Fixed``, ``hp.conditional_scope``, ``hp.get``, ``hp.values``)
and Optuna's (``trial.suggest_int``, ``trial.suggest_float``, ``trial.suggest_categorical``).
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from adamtune.params._adam import RESERVED, AdamParams
from adamtune.params._sources import MissingParamError, ParamSource

__all__ = ["HP"]

_SAMPLINGS = ("linear", "log", "reverse_log")
_STORABLE = (bool, builtins.int, builtins.float, str)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, builtins.int | builtins.float)


def _storable(value: Any) -> bool:
    return value is None or isinstance(value, _STORABLE)


def _log_grid(
    low: builtins.float, high: builtins.float, step: builtins.float, reverse: bool
) -> list[builtins.float]:
    """KerasTuner's values for a log (or reverse_log) range with a step: ``low * step**i``."""
    count = builtins.int(math.log(high / low, step) + 1e-8) + 1
    return [high + low - low * step**i if reverse else low * step**i for i in range(count)]


class HP:
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
        self._adam = adam
        self._source = source
        self._lr_params = frozenset(lr_params)
        self._user: dict[str, Any] = {}
        self._requests: dict[str, tuple[Any, ...]] = {}  # how each active value was asked for
        self._inactive: set[str] = set()
        self._scopes: list[bool] = []  # whether each open conditional_scope is active
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
        from adamtune.training._layers import make_regularizer

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
            lambda: self._number(self._source.int(name, low, high, step, log), builtins.int),
        )

    def float(
        self, name: str, low: builtins.float, high: builtins.float, log: bool = False
    ) -> builtins.float:
        """A float in [low, high], on a log scale when ``log``."""
        self._check_name(name)
        self._check_bounds(f"hp.float({name!r})", ("low", low), ("high", high))
        if low > high:
            raise ValueError(f"hp.float({name!r}): low must be <= high. Received: {low}, {high}")
        if log and low <= 0:
            raise ValueError(f"hp.float({name!r}): low must be > 0 with log=True. Received: {low}")
        lo, hi = builtins.float(low), builtins.float(high)
        return self._ask(
            name,
            ("float", lo, hi, log),
            lambda: self._number(self._source.float(name, lo, hi, log), builtins.float),
            is_float=True,
        )

    def choice(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` (None, bool, int, float or str values; they may mix types)."""
        self._check_name(name)
        values = self._check_choices(f"hp.choice({name!r})", "choices", choices)
        return self._ask(
            name,
            ("choice", tuple(values)),
            lambda: self._source.choice(name, values),
        )

    # -- KerasTuner's spelling ------------------------------------------------------------------
    def Int(
        self,
        name: str,
        min_value: Any,
        max_value: Any,
        step: Any = None,
        sampling: str | None = "linear",
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """KerasTuner's ``hp.Int``: an integer in [min_value, max_value] (both included).

        ``step`` is the distance between values (``linear``) or their ratio (``log``,
        ``reverse_log``); ``default`` is the value the pre-flight builds with.
        """
        where = f"hp.Int({name!r})"
        self._check_name(name, repeat=True)
        low = self._integral(where, "min_value", min_value)
        high = self._integral(where, "max_value", max_value)
        how = self._check_sampling(where, sampling, low, high)
        if step is not None:
            step = self._integral(where, "step", step)
            self._check_step(where, step, how)
        if default is not None:
            default = self._integral(where, "default", default)
            self._check_default_in_range(where, default, low, high)
        request = ("Int", low, high, step, how, default)
        with self._maybe_scope(parent_name, parent_values):
            if how != "linear" and step is not None:
                grid = [builtins.int(v) for v in _log_grid(low, high, step, how == "reverse_log")]
                return self._ask(name, request, self._grid_ask(name, grid, default))
            source = self._source
            return self._ask(
                name,
                request,
                lambda: self._number(
                    source.int(
                        name,
                        low,
                        high,
                        step or 1,
                        how != "linear",
                        reverse=how == "reverse_log",
                        default=default,
                    ),
                    builtins.int,
                ),
            )

    def Float(
        self,
        name: str,
        min_value: Any,
        max_value: Any,
        step: Any = None,
        sampling: str | None = "linear",
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """KerasTuner's ``hp.Float``: a float in [min_value, max_value].

        ``step`` is the distance between values (``linear``) or their ratio (``log``,
        ``reverse_log``); ``default`` is the value the pre-flight builds with.
        """
        where = f"hp.Float({name!r})"
        self._check_name(name, repeat=True)
        self._check_bounds(where, ("min_value", min_value), ("max_value", max_value))
        low, high = builtins.float(min_value), builtins.float(max_value)
        how = self._check_sampling(where, sampling, low, high)
        if step is not None:
            self._check_bounds(where, ("step", step))
            step = builtins.float(step)
            self._check_step(where, step, how)
        if default is not None:
            self._check_bounds(where, ("default", default))
            default = builtins.float(default)
            self._check_default_in_range(where, default, low, high)
        request = ("Float", low, high, step, how, default)
        with self._maybe_scope(parent_name, parent_values):
            if how != "linear" and step is not None:
                grid = _log_grid(low, high, step, how == "reverse_log")
                ask = self._grid_ask(name, grid, default)
                return self._ask(name, request, ask, is_float=True)
            return self._ask(
                name,
                request,
                self._float_ask(name, low, high, step, how, default),
                is_float=True,
            )

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """KerasTuner's ``hp.Choice``: one of ``values`` (None, bool, int, float, str; unlike
        KerasTuner, types may mix). ``ordered`` says numeric values have an order (KerasTuner
        uses it); ``default`` is the value the pre-flight builds with."""
        where = f"hp.Choice({name!r})"
        self._check_name(name, repeat=True)
        choices = self._check_choices(where, "values", values)
        if ordered and not all(_is_number(v) for v in choices):
            raise ValueError(
                f"{where}: `ordered=True` needs numeric values (KerasTuner's rule). Received: "
                f"values={choices!r}; pass ordered=False or leave it out"
            )
        if default is not None and default not in choices:
            raise ValueError(
                f"{where}: `default` must be one of `values`. Received: default={default!r}, "
                f"values={choices!r}"
            )
        request = ("Choice", tuple(choices), ordered, default)
        source = self._source
        with self._maybe_scope(parent_name, parent_values):
            return self._ask(
                name,
                request,
                lambda: source.choice(name, choices, ordered=ordered, default=default),
            )

    def Boolean(
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """KerasTuner's ``hp.Boolean``: True or False (``default`` False)."""
        if not isinstance(default, bool):
            raise TypeError(
                f"hp.Boolean({name!r}): `default` must be True or False. Received: {default!r}"
            )
        self._check_name(name, repeat=True)
        source = self._source
        with self._maybe_scope(parent_name, parent_values):
            return self._ask(
                name,
                ("Boolean", default),
                lambda: bool(source.choice(name, [False, True], default=default)),
            )

    def Fixed(
        self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None
    ) -> Any:
        """KerasTuner's ``hp.Fixed``: ``value`` itself, stored with the trial, never searched."""
        self._check_name(name, repeat=True)
        if not _storable(value):
            raise TypeError(
                f"hp.Fixed({name!r}): `value` must be None, bool, int, float or str so a study "
                f"can store it. Received: {value!r} ({type(value).__name__})"
            )
        source = self._source
        with self._maybe_scope(parent_name, parent_values):
            return self._ask(name, ("Fixed", value), lambda: source.choice(name, [value]))

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """KerasTuner's ``hp.conditional_scope``: parameters asked for inside are active only
        when ``parent_name`` took one of ``parent_values``. The code inside always runs; an
        inactive parameter returns ``None``, is not searched and not stored. Scopes nest."""
        values = self._check_parent(parent_name, parent_values)
        active = (
            all(self._scopes)
            and parent_name in self._user
            and any(self._user[parent_name] == v for v in values)
        )
        scope = getattr(self._source, "scope", None)
        engine_scope = scope(parent_name, values) if scope is not None else contextlib.nullcontext()
        self._scopes.append(active)
        try:
            with engine_scope:
                yield
        finally:
            self._scopes.pop()

    def get(self, name: str) -> Any:
        """The value of a parameter asked for earlier in this call, or of an Adam choice."""
        if name in self._user:
            return self._user[name]
        if name in self._inactive:
            raise ValueError(
                f"hp.get({name!r}): {name!r} is inactive in this trial (the parent of its "
                "conditional_scope took another value), so it has no value. Read it inside its "
                "scope only when the parent is active"
            )
        adam = self._adam.to_dict()
        if name in adam:
            return adam[name]
        asked = ", ".join(sorted(self._user)) or "none"
        raise MissingParamError(
            f"hp.get({name!r}): no parameter {name!r} was asked for so far in this model_fn "
            f"call (asked: {asked}). Ask for it first, e.g. hp.Int({name!r}, ...)"
        )

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._user

    @property
    def values(self) -> dict[str, Any]:
        """KerasTuner's ``hp.values``: the active values asked for so far, by name."""
        return dict(self._user)

    # -- Optuna's spelling ----------------------------------------------------------------------
    def suggest_int(
        self,
        name: str,
        low: builtins.int,
        high: builtins.int,
        *,
        step: builtins.int = 1,
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
        low: builtins.float,
        high: builtins.float,
        *,
        step: builtins.float | None = None,
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

    # -- what was asked -------------------------------------------------------------------------
    @property
    def user_params(self) -> dict[str, Any]:
        """The values this model_fn asked for, by name (inactive parameters are not here)."""
        return dict(self._user)

    @property
    def params(self) -> dict[str, Any]:
        """Every value of the trial: the Adam choices and the model_fn's own."""
        return {**self._adam.to_dict(), **self._user}

    # -- helpers --------------------------------------------------------------------------------
    def _ask(
        self,
        name: str,
        request: tuple[Any, ...],
        ask: Callable[[], Any],
        *,
        is_float: bool = False,
    ) -> Any:
        """The value for ``name``: remembered, ``None`` when inactive, the trial's learning rate
        for an ``lr_params`` float, else asked from the source and remembered."""
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

    def _float_ask(
        self,
        name: str,
        low: builtins.float,
        high: builtins.float,
        step: builtins.float | None,
        how: str,
        default: builtins.float | None,
    ) -> Callable[[], Any]:
        source = self._source

        def ask() -> Any:
            value = source.float(
                name,
                low,
                high,
                how != "linear",
                step=step,
                reverse=how == "reverse_log",
                default=default,
            )
            return self._number(value, builtins.float)

        return ask

    def _grid_ask(self, name: str, grid: list[Any], default: Any) -> Callable[[], Any]:
        """A log/reverse_log range with a step is KerasTuner's finite grid: an ordered choice."""
        source = self._source
        start = default if default in grid else None
        return lambda: source.choice(name, grid, ordered=True, default=start)

    @staticmethod
    def _number(value: Any, kind: type) -> Any:
        return None if value is None else kind(value)

    @contextlib.contextmanager
    def _maybe_scope(self, parent_name: str | None, parent_values: Any) -> Iterator[None]:
        if parent_name is None:
            yield
            return
        with self.conditional_scope(parent_name, parent_values):
            yield

    def _check_parent(self, parent_name: Any, parent_values: Any) -> list[Any]:
        where = f"hp.conditional_scope({parent_name!r})"
        if parent_name not in self._user and parent_name not in self._inactive:
            asked = ", ".join(sorted(self._user | dict.fromkeys(self._inactive))) or "none"
            raise ValueError(
                f"{where}: `parent_name` must name a parameter this model_fn asked for earlier "
                f"in the same call. Received: {parent_name!r} (asked so far: {asked}); ask for "
                "the parent (e.g. hp.Choice) before opening its scope"
            )
        values = (
            list(parent_values)
            if isinstance(parent_values, list | tuple | set | frozenset)
            else [parent_values]
        )
        if not values:
            raise ValueError(
                f"{where}: `parent_values` must hold at least one value of the parent. "
                f"Received: {parent_values!r}"
            )
        return values

    @staticmethod
    def _check_bounds(where: str, *pairs: tuple[str, Any]) -> None:
        for arg, value in pairs:
            if not _is_number(value):
                raise TypeError(f"{where}: `{arg}` must be a number. Received: {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{where}: `{arg}` must be finite. Received: {value}")

    @staticmethod
    def _integral(where: str, arg: str, value: Any) -> builtins.int:
        """An int, or a float with an integer value (KerasTuner accepts 32.0)."""
        if _is_number(value) and math.isfinite(value) and builtins.int(value) == value:
            return builtins.int(value)
        raise TypeError(f"{where}: `{arg}` must be an int. Received: {value!r}")

    @staticmethod
    def _check_sampling(
        where: str, sampling: str | None, low: builtins.float, high: builtins.float
    ) -> str:
        how = "linear" if sampling is None else sampling
        if not isinstance(how, str) or how.lower() not in _SAMPLINGS:
            raise ValueError(
                f"{where}: `sampling` must be one of {', '.join(_SAMPLINGS)}. "
                f"Received: sampling={sampling!r}"
            )
        how = how.lower()
        if low > high:
            raise ValueError(
                f"{where}: `min_value` must be <= `max_value`. "
                f"Received: min_value={low}, max_value={high}"
            )
        if how != "linear" and low <= 0:
            raise ValueError(
                f"{where}: sampling={how!r} needs `min_value` > 0. Received: min_value={low}; "
                "use sampling='linear' or a positive min_value"
            )
        return how

    @staticmethod
    def _check_step(where: str, step: builtins.float, how: str) -> None:
        if how == "linear" and step <= 0:
            raise ValueError(f"{where}: `step` must be > 0. Received: step={step}")
        if how != "linear" and step <= 1:
            raise ValueError(
                f"{where}: with sampling={how!r}, `step` is the ratio between values and must be "
                f"> 1 (KerasTuner's rule). Received: step={step}"
            )

    @staticmethod
    def _check_default_in_range(
        where: str, default: builtins.float, low: builtins.float, high: builtins.float
    ) -> None:
        if not low <= default <= high:
            raise ValueError(
                f"{where}: `default` must lie in [min_value, max_value] = [{low}, {high}]. "
                f"Received: default={default}"
            )

    @staticmethod
    def _check_choices(where: str, arg: str, choices: Any) -> list[Any]:
        if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
            raise ValueError(f"{where}: `{arg}` must be a non-empty list. Received: {choices!r}")
        for item in choices:
            if not _storable(item):
                raise TypeError(
                    f"{where}: {arg} must be None, bool, int, float or str so a "
                    f"study can store them. Received: {item!r} ({type(item).__name__})"
                )
        return list(choices)

    def _check_name(self, name: str, *, repeat: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"hp parameter names must be non-empty strings. Received: {name!r}")
        if name in RESERVED:
            hint = (
                " It is the trial's Adam learning rate (read it as hp.learning_rate); a float of "
                "your own used only as a compiled optimizer's learning rate (for example 'lr') is "
                "replaced by adamtune's coupled learning rate, not searched."
                if name == "learning_rate"
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

    def __repr__(self) -> str:
        return f"HP({self.params!r})"
