"""Argument checks for ``hp``'s spellings: pure functions, each naming the argument it rejects.

``where`` is how the message names the call, e.g. ``"hp.Int('units')"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = [
    "SAMPLINGS",
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
    "storable",
]

SAMPLINGS = ("linear", "log", "reverse_log")
_STORABLE = (bool, int, float, str)

N = TypeVar("N", int, float)


def is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def storable(value: Any) -> bool:
    return value is None or isinstance(value, _STORABLE)


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
    if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
        raise ValueError(f"{where}: `{arg}` must be a non-empty list. Received: {choices!r}")
    for item in choices:
        if not storable(item):
            raise TypeError(
                f"{where}: {arg} must be None, bool, int, float or str so a "
                f"study can store them. Received: {item!r} ({type(item).__name__})"
            )
    return list(choices)
