"""Turning what the user passes as ``data`` into checked train/validation arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Data", "Prepared", "Target", "infer_target", "prepare_data"]

_FORMS = (
    "`data` must be (x, y), ((x_train, y_train), (x_val, y_val)) or adamtune.Data(x, y, ...), "
    "with NumPy arrays or pandas DataFrames/Series"
)


@dataclass
class Data:
    """Training data, with an optional explicit validation set.

    Without ``x_val``/``y_val`` a seeded validation split of ``validation_split`` is made
    (stratified for classification); ``None`` uses the ``validation_split`` given to the search
    (0.2 by default).
    """

    x: Any
    y: Any
    x_val: Any = None
    y_val: Any = None
    validation_split: float | None = None


@dataclass(frozen=True)
class Target:
    """What kind of labels ``y`` holds: ``binary``, ``multiclass``, ``onehot`` or ``regression``."""

    kind: str
    n_classes: int | None
    n_outputs: int

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"


@dataclass
class Prepared:
    """Checked float32 inputs and labels, split, with the target they describe."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    target: Target

    def fingerprint(self) -> dict[str, Any]:
        """Shapes and kind, stored with a study so a resume on other data is refused."""
        return {
            "x_shape": list(self.x_train.shape[1:]),
            "n_train": int(self.x_train.shape[0]),
            "n_val": int(self.x_val.shape[0]),
            "target": self.target.kind,
            "n_classes": self.target.n_classes,
        }


def _to_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__
    if module.startswith("pandas") and hasattr(value, "to_numpy"):
        return np.asarray(value.to_numpy())
    raise TypeError(f"{_FORMS}. Received {name} of type {type(value).__name__}")


def _check_x(x: np.ndarray, name: str) -> np.ndarray:
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(
            f"`{name}` must hold numbers. Received dtype {x.dtype}; encode text or categorical "
            "columns as numbers first (for example with sklearn.preprocessing.OrdinalEncoder)"
        )
    if x.ndim < 2:
        raise ValueError(
            f"`{name}` must have a sample axis and at least one feature axis. Received shape "
            f"{x.shape}; for one feature, pass {name}.reshape(-1, 1)"
        )
    x = x.astype(np.float32, copy=False)
    _check_finite(x, name)
    return x


def _check_finite(array: np.ndarray, name: str) -> None:
    """Refuse NaN/inf here: the divergence guard cannot promise to see them (see its docstring)."""
    bad = ~np.isfinite(array)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"`{name}` contains {int(bad.sum())} NaN or infinite value(s) (first at index "
            f"{tuple(int(i) for i in first)}); impute or drop them before searching"
        )


def _check_y(y: np.ndarray, name: str) -> np.ndarray:
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(
            f"`{name}` must hold numbers. Received dtype {y.dtype}; encode class labels as "
            "integers 0..K-1 (sklearn.preprocessing.LabelEncoder)"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise ValueError(f"`{name}` must be 1-D labels or a 2-D target. Received shape {y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        _check_finite(y, name)
    return y


# More distinct integer values than this, with one of them seen only once, are not class ids a
# stratified split can hold: prices, counts, years. Such a y is read as a regression target.
_MANY_VALUES = 20


def _integer_values_are_amounts(y: np.ndarray) -> bool:
    """Integer ``y`` with many distinct values, some negative or seen once: amounts, not classes.

    Class ids come from an encoder (0..K-1) with several samples per class; a column of integer
    prices has hundreds of values, most seen once. The pre-flight checks this guess against the
    model's output and the loss (:func:`adamtune.training.infer_loss_and_target`).
    """
    values, counts = np.unique(y, return_counts=True)
    return len(values) > _MANY_VALUES and (bool(values[0] < 0) or bool((counts == 1).any()))


def infer_target(y: np.ndarray) -> Target:
    """Classify labels: integer or bool classes, one-hot rows, or a regression target.

    Integer ``y`` is class ids 0..K-1, unless it has more than 20 distinct values with some
    negative or seen only once (integer prices, counts): that is a regression target. The
    pre-flight settles the rest from the model's output and the loss: integer labels with a
    single linear output unit, or a regression loss such as ``loss="mse"``, are a regression too.
    """
    if y.ndim == 2:
        values = np.unique(y)
        if set(values.tolist()) <= {0, 1} and np.all(y.sum(axis=1) == 1):
            return Target("onehot", int(y.shape[1]), int(y.shape[1]))
        return Target("regression", None, int(y.shape[1]))
    if y.dtype == bool or np.issubdtype(y.dtype, np.integer):
        if y.dtype != bool and _integer_values_are_amounts(y):
            return Target("regression", None, 1)
        if y.min() < 0:
            raise ValueError(
                f"class labels must be integers 0..K-1. Received a minimum label of {y.min()}; "
                "re-encode them (sklearn.preprocessing.LabelEncoder), or, if y is a regression "
                "target, cast it to float (y.astype('float32'))"
            )
        n = int(y.max()) + 1
        return Target("binary" if n <= 2 else "multiclass", max(n, 2), 1)
    if set(np.unique(y).tolist()) <= {0.0, 1.0}:
        return Target("binary", 2, 1)
    return Target("regression", None, 1)


def _unpack(data: Any) -> tuple[Any, Any, Any, Any, float | None]:
    if isinstance(data, Data):
        if (data.x_val is None) != (data.y_val is None):
            raise ValueError("adamtune.Data: give both x_val and y_val, or neither")
        return data.x, data.y, data.x_val, data.y_val, data.validation_split
    if isinstance(data, tuple | list) and len(data) == 2:
        first, second = data
        if isinstance(first, tuple | list) and isinstance(second, tuple | list):
            if len(first) != 2 or len(second) != 2:
                raise TypeError(
                    f"{_FORMS}. Received nested tuples of lengths {len(first)}, {len(second)}"
                )
            return first[0], first[1], second[0], second[1], 0.0
        return first, second, None, None, None  # None: use prepare_data(validation_split=)
    raise TypeError(f"{_FORMS}. Received: {type(data).__name__}")


def _same_length(x: np.ndarray, y: np.ndarray, names: str) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{names} must have the same number of samples. Received {x.shape[0]} and {y.shape[0]}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{names} are empty")


def prepare_data(data: Any, *, validation_split: float = 0.2, seed: int = 0) -> Prepared:
    """Check ``data`` and split it (seeded, stratified for classes) when no validation set is given."""
    x_raw, y_raw, xv_raw, yv_raw, split = _unpack(data)
    if split is None:
        split = validation_split
    x, y = _check_x(_to_array(x_raw, "x"), "x"), _check_y(_to_array(y_raw, "y"), "y")
    _same_length(x, y, "x and y")
    target = infer_target(y)
    if xv_raw is not None:
        x_val = _check_x(_to_array(xv_raw, "x_val"), "x_val")
        y_val = _check_y(_to_array(yv_raw, "y_val"), "y_val")
        _same_length(x_val, y_val, "x_val and y_val")
        if x_val.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"x_val must have the feature shape of x. Received {x_val.shape[1:]} and "
                f"{x.shape[1:]}"
            )
        return Prepared(x, y, x_val, y_val, target)
    if not 0.0 < split < 1.0:
        raise ValueError(
            f"`validation_split` must be in (0, 1). Received: validation_split={split!r}"
        )
    from sklearn.model_selection import train_test_split

    stratify = None
    if target.is_classification:
        stratify = y if y.ndim == 1 else y.argmax(axis=1)
        counts = np.bincount(stratify.astype(np.int64))
        rare = [int(c) for c in np.flatnonzero((counts > 0) & (counts < 2))]
        if rare:
            raise ValueError(
                f"class(es) {rare} have a single sample, so no stratified validation split can "
                "hold them; add samples or pass ((x_train, y_train), (x_val, y_val))"
            )
        n_val, n_classes = math.ceil(split * len(y)), int(np.count_nonzero(counts))
        if n_val < n_classes or len(y) - n_val < n_classes:
            raise ValueError(
                f"{len(y)} samples split {1 - split:.0%}/{split:.0%} leave fewer samples than the "
                f"{n_classes} classes in one part, so a stratified split is impossible; add data "
                "or pass ((x_train, y_train), (x_val, y_val))"
            )
    x_tr, x_va, y_tr, y_va = train_test_split(
        x, y, test_size=split, random_state=seed, stratify=stratify
    )
    return Prepared(x_tr, y_tr, x_va, y_va, target)
