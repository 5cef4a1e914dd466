"""``data`` taken apart (:func:`unpack`), and the checks one-input and several-input data share:
lengths, sample weights and the labels a stratified split keeps the shares of."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune.data._arrays import _FORMS, Data, Target
from adamtune.data._stream_read import is_stream
from adamtune.data._weights import check_sample_weight

__all__ = ["DataParts", "unpack"]


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
    return None if raw is None else check_sample_weight(raw, n, name)


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
