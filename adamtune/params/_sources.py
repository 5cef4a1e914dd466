"""Where parameter values come from: a search engine's trial, stored values, or pre-flight defaults.

A source has three methods, called in the order a model_fn asks for values. Each engine adapter
supplies one; nothing else in adamtune knows which engine runs.
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
    """

    def float(
        self, name: str, low: float, high: float, log: bool, condition: Condition = None
    ) -> float: ...

    def int(self, name: str, low: int, high: int, step: int, log: bool) -> int: ...

    def choice(self, name: str, choices: Sequence[Any]) -> Any: ...


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
        self, name: str, low: float, high: float, log: bool, condition: Condition = None
    ) -> float:
        return float(self._get(name))

    def int(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        return int(self._get(name))

    def choice(self, name: str, choices: Sequence[Any]) -> Any:
        return self._get(name)


class DefaultSource:
    """Middle-of-the-range values, used by the pre-flight check to build a model once."""

    def float(
        self, name: str, low: float, high: float, log: bool, condition: Condition = None
    ) -> float:
        if log:
            return float(math.exp((math.log(low) + math.log(high)) / 2))
        return (low + high) / 2

    def int(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        middle = math.sqrt(low * high) if log else (low + high) / 2
        return min(high, low + step * round((middle - low) / step))

    def choice(self, name: str, choices: Sequence[Any]) -> Any:
        return choices[0]
