"""Argument checks for ``hp``'s spellings: pure functions, each naming the argument it rejects.

``where`` is how the message names the call, e.g. ``"hp.Int('units')"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = [
    "SAMPLINGS",
    "STORABLE_NOTE",
    "check_bounds",
    "check_choices",
    "check_default_in_range",
    "check_range",
    "check_sampling",
    "check_step",
    "finite_float",
    "integral",
    "is_number",
    "log_grid",
    "number_or_none",
    "received",
    "storable",
]

SAMPLINGS = ("linear", "log", "reverse_log")
# Exactly these types, not subclasses: a subclass can carry its own __repr__, __eq__ or __hash__,
# which a study's storage and the exported .py snippet (built with repr) would run or misread.
_STORABLE = (bool, int, float, str)
STORABLE_NOTE = (
    "Only values of exactly these types are stored (a subclass is not): convert it, for example "
    "with str(value) or float(value)"
)

N = TypeVar("N", int, float)


def is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def storable(value: Any) -> bool:
    """Whether a study can store ``value`` and give it back as it was: None, or exactly a bool,
    int, float or str (no subclass)."""
    return value is None or type(value) in _STORABLE


def received(value: Any) -> str:
    """``value`` and its type for an error message, as ``[1] (list)``. The value is shown only
    when builtin types' own ``repr`` shows it; otherwise only its type is named (``a value of type
    S (a subclass of str)``), so no user-defined ``__repr__`` runs."""
    name = type(value).__name__
    if _plain_repr(value, 3):
        text = repr(value)
        return f"{text[:200]}... ({name})" if len(text) > 200 else f"{text} ({name})"
    base = next((t.__name__ for t in _STORABLE if isinstance(value, t)), None)
    return f"a value of type {name} ({name if base is None else 'a subclass of ' + base})"


def _plain_repr(value: Any, depth: int) -> bool:
    """Whether ``repr(value)`` runs only builtin code: builtin scalars and small containers of
    them (an int short enough for Python to write out)."""
    if value is None or type(value) in (bool, float, str, bytes):
        return True
    if type(value) is int:
        return value.bit_length() < 10_000
    if depth == 0 or type(value) not in (list, tuple, set, frozenset, dict) or len(value) > 20:
        return False
    items = [x for pair in value.items() for x in pair] if type(value) is dict else list(value)
    return all(_plain_repr(item, depth - 1) for item in items)


def number_or_none(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


def log_grid(low: float, high: float, step: float, reverse: bool) -> list[float]:
    """KerasTuner's values for a log (or reverse_log) range with a step: ``low * step**i``."""
    count = int(math.log(high / low, step) + 1e-8) + 1
    return [high + low - low * step**i if reverse else low * step**i for i in range(count)]


def check_bounds(where: str, *pairs: tuple[str, Any]) -> None:
    for arg, value in pairs:
        if not is_number(value):
            raise TypeError(f"{where}: `{arg}` must be a number. Received: {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}: `{arg}` must be finite. Received: {value}")


def finite_float(where: str, arg: str, value: Any) -> float:
    """A finite number, as a float."""
    check_bounds(where, (arg, value))
    return float(value)


def integral(where: str, arg: str, value: Any) -> int:
    """An int, or a float with an integer value (KerasTuner accepts 32.0)."""
    if is_number(value) and math.isfinite(value) and int(value) == value:
        return int(value)
    raise TypeError(f"{where}: `{arg}` must be an int. Received: {value!r}")


def check_sampling(where: str, sampling: str | None, low: float, high: float) -> str:
    how = "linear" if sampling is None else sampling
    if not isinstance(how, str) or how.lower() not in SAMPLINGS:
        raise ValueError(
            f"{where}: `sampling` must be one of {', '.join(SAMPLINGS)}. "
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


def check_step(where: str, step: float, how: str) -> None:
    if how == "linear" and step <= 0:
        raise ValueError(f"{where}: `step` must be > 0. Received: step={step}")
    if how != "linear" and step <= 1:
        raise ValueError(
            f"{where}: with sampling={how!r}, `step` is the ratio between values and must be "
            f"> 1 (KerasTuner's rule). Received: step={step}"
        )


def check_default_in_range(where: str, default: float, low: float, high: float) -> None:
    if not low <= default <= high:
        raise ValueError(
            f"{where}: `default` must lie in [min_value, max_value] = [{low}, {high}]. "
            f"Received: default={default}"
        )


def check_range(
    where: str,
    number: Callable[[str, str, Any], N],
    min_value: Any,
    max_value: Any,
    step: Any,
    sampling: str | None,
    default: Any,
) -> tuple[N, N, N | None, str, N | None]:
    """KerasTuner's ``Int``/``Float`` arguments, each checked and converted by ``number``
    (:func:`integral` or :func:`finite_float`): ``(low, high, step, how, default)``, where
    ``how`` is the sampling in lower case."""
    low = number(where, "min_value", min_value)
    high = number(where, "max_value", max_value)
    how = check_sampling(where, sampling, low, high)
    if step is not None:
        step = number(where, "step", step)
        check_step(where, step, how)
    if default is not None:
        default = number(where, "default", default)
        check_default_in_range(where, default, low, high)
    return low, high, step, how, default


def check_choices(where: str, arg: str, choices: Any) -> list[Any]:
    """``choices`` as a list, each item :func:`storable`; a TypeError names the first that is not
    by its position and type, never calling its ``repr``."""
    if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
        raise ValueError(
            f"{where}: `{arg}` must be a non-empty list. Received: {_shown_choices(choices)}"
        )
    for index, item in enumerate(choices):
        if not storable(item):
            raise TypeError(
                f"{where}: {arg} must be None, bool, int, float or str so a study can store "
                f"them. Received: {received(item)} at {arg}[{index}]. {STORABLE_NOTE}"
            )
    return list(choices)


def _shown_choices(choices: Any) -> str:
    return repr(choices) if _plain_repr(choices, 3) else received(choices)
