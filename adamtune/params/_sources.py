"""Where parameter values come from: a search engine's trial, stored values, or pre-flight defaults.

A source has three methods, called in the order a model_fn asks for values. Each engine adapter
supplies one; nothing else in adamtune knows which engine runs. The keyword-only arguments carry
what some engines use and others ignore (a float's ``step``, KerasTuner's ``reverse_log``
sampling, a ``default``, a choice's ``ordered``). A source may also offer ``scope(parent,
values)``, a context manager for KerasTuner's conditional scopes: with it, :class:`HP` asks the
source for an inactive parameter too, so the engine learns the parameter is conditional (it must
answer ``None`` then).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

Condition = tuple[str, Any] | None

__all__ = ["Condition", "DefaultSource", "FixedSource", "MissingParamError", "ParamSource"]


class ParamSource(Protocol):
    """Gives a value for a named parameter. ``name`` is unique within a trial.

    ``condition`` = (parent, value) says the parameter exists only when ``parent`` took ``value``
    (the regularizer strength); engines with conditional scopes use it, others ignore it.
    ``reverse`` is KerasTuner's ``reverse_log`` sampling (dense near ``high``; only with ``log``).
    """

    def float(
        self,
        name: str,
        low: float,
        high: float,
        log: bool,
        condition: Condition = None,
        *,
        step: float | None = None,
        reverse: bool = False,
        default: float | None = None,
    ) -> float: ...

    def int(
        self,
        name: str,
        low: int,
        high: int,
        step: int,
        log: bool,
        *,
        reverse: bool = False,
        default: int | None = None,
    ) -> int: ...

    def choice(
        self,
        name: str,
        choices: Sequence[Any],
        *,
        ordered: bool | None = None,
        default: Any = None,
    ) -> Any: ...


class MissingParamError(KeyError):
    """A model_fn asked for a parameter the stored values do not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FixedSource:
    """Values stored by a finished trial; a name the trial never saw is an error."""

    def __init__(self, values: Mapping[str, Any], *, what: str = "the tuned config") -> None:
        self._values = dict(values)
        self._what = what

    def _get(self, name: str) -> Any:
        if name not in self._values:
            known = ", ".join(sorted(self._values)) or "none"
            raise MissingParamError(
                f"model_fn asked for parameter {name!r}, which {self._what} does not hold "
                f"(it holds: {known}). Was the model_fn changed after the search?"
            )
        return self._values[name]

    def float(
        self,
        name: str,
        low: float,
        high: float,
        log: bool,
        condition: Condition = None,
        **_: Any,
    ) -> float:
        return float(self._get(name))

    def int(self, name: str, low: int, high: int, step: int, log: bool, **_: Any) -> int:
        return int(self._get(name))

    def choice(self, name: str, choices: Sequence[Any], **_: Any) -> Any:
        return self._get(name)


def _snap(value: float, low: float, high: float, step: float | None) -> float:
    """``value`` moved to the nearest point of the grid ``low, low + step, ...`` (not above high)."""
    if not step:
        return value
    return min(high, low + step * round((value - low) / step))


class DefaultSource:
    """Middle-of-the-range values (or the model_fn's own ``default=``), used by the pre-flight
    check to build a model once."""

    def float(
        self,
        name: str,
        low: float,
        high: float,
        log: bool,
        condition: Condition = None,
        *,
        step: float | None = None,
        reverse: bool = False,
        default: float | None = None,
    ) -> float:
        if default is not None:
            return float(default)
        if log:
            middle = float(math.exp((math.log(low) + math.log(high)) / 2))
            return low + high - middle if reverse else middle
        return _snap((low + high) / 2, low, high, step)

    def int(
        self,
        name: str,
        low: int,
        high: int,
        step: int,
        log: bool,
        *,
        reverse: bool = False,
        default: int | None = None,
    ) -> int:
        if default is not None:
            return int(default)
        middle = math.sqrt(low * high) if log else (low + high) / 2
        if log and reverse:
            middle = low + high - middle
        return min(high, low + step * round((middle - low) / step))

    def choice(
        self, name: str, choices: Sequence[Any], *, ordered: bool | None = None, default: Any = None
    ) -> Any:
        return default if default is not None and default in choices else choices[0]
