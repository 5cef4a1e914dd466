"""The arrays in ``data``: the :class:`Data` and :class:`Target` types, converting a part to a
NumPy array and checking it (numbers, shape, finite), and reading what kind of labels ``y`` holds.

The bottom of ``adamtune.data``: NumPy only; every other module of the package builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Data", "Target", "check_x", "infer_target", "to_array"]

_FORMS = (
    "`data` must be (x, y), ((x_train, y_train), (x_val, y_val)) or adamtune.Data(x, y, ...), "
    "with NumPy arrays or pandas DataFrames/Series (x a list or dict of them for several inputs, "
    "y for several outputs); a tuple part may add sample weights as a third element, "
    "(x, y, sample_weight)"
)


@dataclass
class Data:
    """Training data, with an optional explicit validation set.

    Without ``x_val``/``y_val`` a seeded validation split of ``validation_split`` is made
    (stratified for classification); ``None`` uses the ``validation_split`` given to the search
    (0.2 by default). ``sample_weight`` (one weight per sample of ``x``, as in ``keras.Model.fit``)
    is split with the data; ``val_sample_weight`` weights an explicit validation set.

    ``validation`` is the validation set as ``keras.Model.fit(validation_data=...)`` takes it:
    ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)`` with arrays, or a
    ``tf.data.Dataset`` / ``keras.utils.PyDataset`` when ``x`` is one (``Data(train_ds,
    validation=val_ds)``: a dataset carries its labels, so ``y`` stays None).
    """

    x: Any
    y: Any = None
    x_val: Any = None
    y_val: Any = None
    validation_split: float | None = None
    sample_weight: Any = None
    val_sample_weight: Any = None
    validation: Any = None


@dataclass(frozen=True)
class Target:
    """What kind of labels ``y`` holds: ``binary``, ``multiclass``, ``onehot`` or ``regression``."""

    kind: str
    n_classes: int | None
    n_outputs: int

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"


def to_array(value: Any, name: str) -> np.ndarray:
    """``value`` (one of ``data``'s parts, called ``name`` in errors) as a NumPy array: an array
    as it is, a pandas object through ``to_numpy()``; anything else is a TypeError naming the
    forms ``data`` takes. The array's contents are not checked here (``prepare_data`` does)."""
    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__
    if module.startswith("pandas") and hasattr(value, "to_numpy"):
        return np.asarray(value.to_numpy())
    raise TypeError(f"{_FORMS}. Received {name} of type {type(value).__name__}")


def check_x(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` checked as data's inputs are: numbers, a feature axis, finite; else a TypeError or
    ValueError naming ``name``."""
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
