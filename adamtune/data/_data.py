"""Turning what the user passes as ``data`` into checked train/validation arrays, or, for a
stream form, a checked :class:`~adamtune.data.Streamed` (:func:`prepare_input`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune.data._arrays import (
    Data,
    Target,
    _check_y,
    check_x,
    infer_target,
    to_array,
)
from adamtune.data._multi import is_structure, prepare_multi
from adamtune.data._parts import DataParts, _same_length, _stratify, _weight, unpack
from adamtune.data._stream_read import stream_parts
from adamtune.data._streams import prepare_stream

__all__ = [
    "Data",
    "DataParts",
    "Prepared",
    "Target",
    "infer_target",
    "prepare_data",
    "prepare_input",
    "to_array",
    "unpack",
]


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


def _validation_set(parts: DataParts, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    x_val = check_x(to_array(parts.x_val, "x_val"), "x_val")
    y_val = _check_y(to_array(parts.y_val, "y_val"), "y_val")
    _same_length(x_val, y_val, "x_val and y_val")
    if x_val.shape[1:] != x.shape[1:]:
        raise ValueError(
            f"x_val must have the feature shape of x. Received {x_val.shape[1:]} and {x.shape[1:]}"
        )
    return x_val, y_val, _weight(parts.w_val, len(x_val), "val_sample_weight")


def prepare_data(data: Any, *, validation_split: float = 0.2, seed: int = 0) -> Any:
    """Check ``data`` and split it (seeded, stratified for classes) when no validation set is
    given; sample weights are checked (one per sample, finite, >= 0, not all zero) and split
    along with the samples they weight. Several inputs or outputs (``x`` or ``y`` a list, tuple
    or dict of arrays) give a :class:`~adamtune.data._multi.Multi`, else a :class:`Prepared`."""
    parts = unpack(data)
    if is_structure(parts.x) or is_structure(parts.y):
        return prepare_multi(parts, validation_split=validation_split, seed=seed)
    split = validation_split if parts.split is None else parts.split
    x, y = check_x(to_array(parts.x, "x"), "x"), _check_y(to_array(parts.y, "y"), "y")
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


def prepare_input(
    data: Any, *, validation_split: float = 0.2, seed: int = 0, steps_per_epoch: int | None = None
) -> Any:
    """``data`` checked: a :class:`Streamed` for a stream form, a ``Prepared`` for arrays."""
    parts = stream_parts(data)
    if parts is None:
        if steps_per_epoch is not None:
            raise ValueError(
                "`steps_per_epoch` sets the length of an epoch of a tf.data or PyDataset stream; "
                "with arrays an epoch is one pass. Received: steps_per_epoch="
                f"{steps_per_epoch} with array data; drop it"
            )
        return prepare_data(data, validation_split=validation_split, seed=seed)
    return prepare_stream(parts[0], parts[1], steps_per_epoch)
