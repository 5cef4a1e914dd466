"""KerasTuner's spelling of ``hp``: ``Int``, ``Float``, ``Choice``, ``Boolean``, ``Fixed``,
``conditional_scope``, ``get``, ``hp[name]``, ``name in hp`` and ``values``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from adamtune.params._hp_base import HPBase
from adamtune.params._hp_checks import (
    STORABLE_NOTE,
    check_choices,
    check_range,
    finite_float,
    integral,
    is_number,
    log_grid,
    number_or_none,
    received,
    storable,
)
from adamtune.params._sources import MissingParamError

__all__ = ["KerasTunerSpelling"]


class KerasTunerSpelling(HPBase):
    """KerasTuner's ``hp.*`` methods, so a KerasTuner ``build_model(hp)`` runs unchanged."""

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
        ``reverse_log``); ``default`` is the value the pre-flight builds with. Named
        ``learning_rate``: the trial's learning rate (``hp.learning_rate``), whatever the range.
        """
        where = f"hp.Int({name!r})"
        self._check_name(name, repeat=True)
        checked = check_range(where, integral, min_value, max_value, step, sampling, default)
        low, high, step, how, default = checked
        source = self._source

        def ask() -> Any:
            log, reverse = how != "linear", how == "reverse_log"
            value = source.int(name, low, high, step or 1, log, reverse=reverse, default=default)
            return number_or_none(value, int)

        with self._maybe_scope(parent_name, parent_values):
            return self._ask_range(name, "Int", checked, ask)

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
        ``reverse_log``); ``default`` is the value the pre-flight builds with. Named
        ``learning_rate``: the trial's learning rate (``hp.learning_rate``), whatever the range.
        """
        where = f"hp.Float({name!r})"
        self._check_name(name, repeat=True, is_float=True)
        checked = check_range(where, finite_float, min_value, max_value, step, sampling, default)
        low, high, step, how, default = checked
        source = self._source

        def ask() -> Any:
            log, reverse = how != "linear", how == "reverse_log"
            value = source.float(name, low, high, log, step=step, reverse=reverse, default=default)
            return number_or_none(value, float)

        with self._maybe_scope(parent_name, parent_values):
            return self._ask_range(name, "Float", checked, ask)

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
        choices = check_choices(where, "values", values)
        if ordered and not all(is_number(v) for v in choices):
            raise ValueError(
                f"{where}: `ordered=True` needs numeric values (KerasTuner's rule). Received: "
                f"values={choices!r}; pass ordered=False or leave it out"
            )
        if default is not None and not storable(default):
            raise TypeError(
                f"{where}: `default` must be None, bool, int, float or str. "
                f"Received: {received(default)}. {STORABLE_NOTE}"
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
        if not storable(value):
            raise TypeError(
                f"hp.Fixed({name!r}): `value` must be None, bool, int, float or str so a study "
                f"can store it. Received: {received(value)}. {STORABLE_NOTE}"
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

    # -- helpers --------------------------------------------------------------------------------
    def _ask_range(
        self, name: str, spelling: str, checked: tuple[Any, ...], ask: Callable[[], Any]
    ) -> Any:
        """Ask for an ``Int`` or ``Float`` checked by ``check_range``: with ``ask``, or from its
        grid for a log/reverse_log range with a step."""
        low, high, step, how, default = checked
        kind = int if spelling == "Int" else float
        if how != "linear" and step is not None:
            grid = [kind(v) for v in log_grid(low, high, step, how == "reverse_log")]
            ask = self._grid_ask(name, grid, default)
        return self._ask(name, (spelling, *checked), ask, is_float=kind is float)

    def _grid_ask(self, name: str, grid: list[Any], default: Any) -> Callable[[], Any]:
        """A log/reverse_log range with a step is KerasTuner's finite grid: an ordered choice."""
        source = self._source
        start = default if default in grid else None
        return lambda: source.choice(name, grid, ordered=True, default=start)

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
