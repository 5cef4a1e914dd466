"""Turning what the user passes as ``data`` into checked train/validation arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Data",
    "DataParts",
    "Prepared",
    "Target",
    "infer_target",
    "prepare_data",
    "to_array",
    "unpack",
]

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


@dataclass
class Prepared:
    """Checked float32 inputs and labels, split, with the target they describe, and the sample
    weights of each part (None when not given)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    target: Target
    w_train: np.ndarray | None = None
    w_val: np.ndarray | None = None

    counted_on = "the training split"  # what y_train is, for the class-weight note

    def fit_space(self, space: Any) -> tuple[Any, list[str], tuple[str, ...]]:
        """Arrays fit every space: ``space`` as it is, nothing to say (``Streamed`` drops a
        PyDataset's batch-size choice)."""
        return space, [], ()

    def fingerprint(self) -> dict[str, Any]:
        """Shapes and kind, stored with a study so a resume on other data is refused.

        Sample weights are recorded as ``sample_weight: true`` / ``val_sample_weight: true`` only
        when present, so a study made before weights existed resumes without them as before.
        """
        out: dict[str, Any] = {
            "x_shape": list(self.x_train.shape[1:]),
            "n_train": int(self.x_train.shape[0]),
            "n_val": int(self.x_val.shape[0]),
            "target": self.target.kind,
            "n_classes": self.target.n_classes,
        }
        if self.w_train is not None:
            out["sample_weight"] = True
        if self.w_val is not None:
            out["val_sample_weight"] = True
        return out


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


_to_array = to_array  # the old name, still imported by adamtune/data/_weights.py


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


@dataclass
class DataParts:
    """``data`` taken apart by :func:`unpack`: arrays as given, weights None when absent;
    ``split`` is the validation fraction a :class:`Data` asks for (0.0 with an explicit
    validation set, None when ``prepare_data``'s ``validation_split`` decides)."""

    x: Any
    y: Any
    x_val: Any = None
    y_val: Any = None
    split: float | None = None
    w: Any = None
    w_val: Any = None


def _pair_or_triple(part: Any, what: str) -> tuple[Any, Any, Any]:
    if len(part) not in (2, 3):
        raise TypeError(
            f"{_FORMS}. Received {what} of length {len(part)}; give (x, y) or (x, y, sample_weight)"
        )
    return part[0], part[1], part[2] if len(part) == 3 else None


def _refuse_stream(data: Any) -> None:
    """``prepare_data`` takes arrays: a stream here names the way in (``prepare_input``, as
    ``adamtune.search``, ``adamtune.diagnose`` and ``adamtune.lr_range_test`` use it)."""
    from adamtune.data._streams import is_stream

    parts = [data.x, data.validation] if isinstance(data, Data) else [data]
    if isinstance(data, tuple | list):
        parts = list(data)
    found = next((p for p in parts if is_stream(p)), None)
    if found is not None:
        raise TypeError(
            "prepare_data takes arrays; tf.data and PyDataset streams go through "
            f"adamtune.data.prepare_input. Received: {type(found).__name__}; pass streams to "
            "adamtune.search, adamtune.diagnose or adamtune.lr_range_test as (train_ds, val_ds)"
        )


def _validation_pair(data: Data) -> Data:
    """``Data(validation=(x_val, y_val[, w_val]))`` as the ``x_val``/``y_val`` fields."""
    given = data.validation
    if data.x_val is not None or data.y_val is not None or data.val_sample_weight is not None:
        raise ValueError(
            "adamtune.Data: give the validation set once, in `validation` or in x_val/y_val. "
            "Received: both"
        )
    if not isinstance(given, tuple | list) or len(given) not in (2, 3):
        raise TypeError(
            "adamtune.Data: `validation` must be (x_val, y_val) or (x_val, y_val, "
            "val_sample_weight) with arrays (a dataset only beside a dataset x). Received: "
            f"validation of type {type(given).__name__}"
        )
    w_val = given[2] if len(given) == 3 else None
    return Data(
        data.x, data.y, given[0], given[1], data.validation_split, data.sample_weight, w_val
    )


def unpack(data: Any) -> DataParts:
    """``data`` in array form (``(x, y)``, ``(x, y, w)``, ``((x, y), (x_val, y_val))`` or
    :class:`Data`) taken apart into :class:`DataParts`, as given: the checks of its form only
    (a TypeError or ValueError naming what is wrong); its arrays are checked by
    :func:`prepare_data`. A stream is refused: see ``adamtune.data.stream_parts``."""
    _refuse_stream(data)
    if isinstance(data, Data) and data.validation is not None:
        data = _validation_pair(data)
    if isinstance(data, Data):
        if data.y is None:
            raise ValueError(
                "adamtune.Data: `y` is needed with array x (only a dataset carries its own "
                "labels). Received: y=None"
            )
        if (data.x_val is None) != (data.y_val is None):
            raise ValueError("adamtune.Data: give both x_val and y_val, or neither")
        if data.val_sample_weight is not None and data.x_val is None:
            raise ValueError(
                "adamtune.Data: `val_sample_weight` weights an explicit validation set; give "
                "x_val and y_val with it, or drop it (a split carries `sample_weight` along)"
            )
        return DataParts(
            data.x, data.y, data.x_val, data.y_val, data.validation_split,
            data.sample_weight, data.val_sample_weight,
        )  # fmt: skip
    if isinstance(data, tuple | list) and len(data) in (2, 3):
        first, second = data[0], data[1]
        nested = isinstance(first, tuple | list) and isinstance(second, tuple | list)
        if nested and len(data) == 2:
            x, y, w = _pair_or_triple(first, "a training part")
            x_val, y_val, w_val = _pair_or_triple(second, "a validation part")
            return DataParts(x, y, x_val, y_val, 0.0, w, w_val)
        if not nested:  # split None: use prepare_data(validation_split=)
            return DataParts(first, second, w=data[2] if len(data) == 3 else None)
    raise TypeError(f"{_FORMS}. Received: {type(data).__name__}")


def _same_length(x: np.ndarray, y: np.ndarray, names: str) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{names} must have the same number of samples. Received {x.shape[0]} and {y.shape[0]}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{names} are empty")


def _weight(raw: Any, n: int, name: str) -> np.ndarray | None:
    from adamtune.data._weights import check_sample_weight

    return None if raw is None else check_sample_weight(raw, n, name)


def _validation_set(parts: DataParts, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    x_val = _check_x(to_array(parts.x_val, "x_val"), "x_val")
    y_val = _check_y(to_array(parts.y_val, "y_val"), "y_val")
    _same_length(x_val, y_val, "x_val and y_val")
    if x_val.shape[1:] != x.shape[1:]:
        raise ValueError(
            f"x_val must have the feature shape of x. Received {x_val.shape[1:]} and {x.shape[1:]}"
        )
    return x_val, y_val, _weight(parts.w_val, len(x_val), "val_sample_weight")


def _stratify(target: Target, y: np.ndarray, split: float) -> np.ndarray | None:
    """The labels a stratified split keeps the shares of (None for a regression)."""
    if not target.is_classification:
        return None
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
    return stratify


def prepare_data(data: Any, *, validation_split: float = 0.2, seed: int = 0) -> Any:
    """Check ``data`` and split it (seeded, stratified for classes) when no validation set is
    given; sample weights are checked (one per sample, finite, >= 0, not all zero) and split
    along with the samples they weight. Several inputs or outputs (``x`` or ``y`` a list, tuple
    or dict of arrays) give a :class:`~adamtune.data._multi.Multi`, else a :class:`Prepared`."""
    from adamtune.data._multi import is_structure, prepare_multi

    parts = unpack(data)
    if is_structure(parts.x) or is_structure(parts.y):
        return prepare_multi(parts, validation_split=validation_split, seed=seed)
    split = validation_split if parts.split is None else parts.split
    x, y = _check_x(to_array(parts.x, "x"), "x"), _check_y(to_array(parts.y, "y"), "y")
    _same_length(x, y, "x and y")
    w = _weight(parts.w, len(x), "sample_weight")
    target = infer_target(y)
    if parts.x_val is not None:
        x_val, y_val, w_val = _validation_set(parts, x)
        return Prepared(x, y, x_val, y_val, target, w, w_val)
    if not 0.0 < split < 1.0:
        raise ValueError(
            f"`validation_split` must be in (0, 1). Received: validation_split={split!r}"
        )
    from sklearn.model_selection import train_test_split

    arrays = (x, y) if w is None else (x, y, w)
    pieces = train_test_split(
        *arrays, test_size=split, random_state=seed, stratify=_stratify(target, y, split)
    )
    x_tr, x_va, y_tr, y_va = pieces[:4]
    w_tr, w_va = (pieces[4], pieces[5]) if w is not None else (None, None)
    for part, name in ((w_tr, "training"), (w_va, "validation")):
        if part is not None and not part.any():
            raise ValueError(
                f"`sample_weight` is zero on every sample of the seeded {name} split, so that "
                "split would count for nothing; give more samples a weight, or pass "
                "((x_train, y_train, w_train), (x_val, y_val, w_val))"
            )
    return Prepared(x_tr, y_tr, x_va, y_va, target, w_tr, w_va)
