"""Sample and class weights, with the meaning ``keras.Model.fit`` gives them.

A sample weight multiplies a sample's loss in training (and in validation, where the validation
set has its own). A class weight is a per-sample weight looked up from the label, as Keras's
``fit(class_weight=...)`` does (``keras/src/trainers/data_adapters/data_adapter_utils.py``,
``class_weight_to_sample_weights``: the argmax of a one-hot row, the rounded label otherwise, 1.0
for a class the mapping leaves out); it applies to training only. Keras refuses the two together,
and so does adamtune. ``"balanced"`` is scikit-learn's ``compute_class_weight("balanced", ...)``
on the training split only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune.data._arrays import to_array

__all__ = [
    "CLASS_WEIGHT_MODES",
    "ClassWeighting",
    "check_class_weight_arg",
    "check_sample_weight",
    "class_sample_weights",
    "class_weight_from_pairs",
    "class_weight_pairs",
    "resolve_class_weight",
]

# What a trial records: a space searches "none"/"balanced"; "custom" is a dict given to search().
CLASS_WEIGHT_MODES = ("none", "balanced", "custom")

_FORMS = "`class_weight` must be None, 'balanced' or a dict {class: weight} as in keras.Model.fit"


@dataclass(frozen=True)
class ClassWeighting:
    """How a search weights classes. ``setting`` is ``"balanced"`` or ``"custom"`` (fixed by
    ``search(class_weight=...)``) or ``"searched"`` (the space chooses none or balanced);
    ``weights`` the numbers of the weighted choice, computed once on the training split."""

    setting: str
    weights: dict[int, float]
    counted_on: str = "the training split"

    @property
    def fixed_mode(self) -> str:
        """The mode every trial uses when the space does not search it."""
        return "none" if self.setting == "searched" else self.setting

    def for_mode(self, mode: str) -> dict[int, float] | None:
        return None if mode == "none" else self.weights

    def to_meta(self) -> dict[str, Any]:
        """JSON-safe (int keys would become strings): stored with the study and compared."""
        return {"setting": self.setting, "weights": class_weight_pairs(self.weights)}

    def search_arg(self) -> Any:
        """The ``search(class_weight=...)`` that makes this weighting again (for workers)."""
        return {"balanced": "balanced", "custom": dict(self.weights)}.get(self.setting)

    def note(self) -> str:
        shown = ", ".join(f"{k}: {v:.4g}" for k, v in self.weights.items())
        if self.setting == "custom":
            return f"class_weight {{{shown}}} weights the training loss (classes left out: 1.0)"
        how = "in trials that choose it (the space searches class_weight)"
        return (
            f"class_weight='balanced' is {{{shown}}}, computed on {self.counted_on} with "
            f"sklearn's compute_class_weight; it weights the training loss "
            f"{how if self.setting == 'searched' else 'in every trial'}, not validation"
        )


def class_weight_pairs(weights: dict[int, float]) -> list[list[Any]]:
    """``{0: 1.0, 1: 9.0}`` as ``[[0, 1.0], [1, 9.0]]``: JSON keys are strings, pairs keep ints."""
    return [[int(k), float(v)] for k, v in sorted(weights.items())]


def class_weight_from_pairs(pairs: Any) -> dict[int, float]:
    return {int(k): float(v) for k, v in pairs}


def _labels(y: np.ndarray) -> np.ndarray:
    """Class ids as Keras reads them for class weights: argmax of one-hot rows, else rounded."""
    if y.ndim > 1 and y.shape[-1] != 1:
        return np.asarray(np.argmax(y, axis=-1), dtype=np.int64)
    return np.round(np.reshape(y, (len(y),))).astype(np.int64)


def class_sample_weights(y: np.ndarray, weights: dict[int, float]) -> np.ndarray:
    """Keras's ``class_weight_to_sample_weights``: each sample's class weight (1.0 if absent)."""
    labels = _labels(y)
    table = np.ones(max([*weights, int(labels.max(initial=0))]) + 1, dtype=np.float32)
    for k, v in weights.items():
        table[k] = v
    return table[labels]


def check_sample_weight(weight: Any, n: int, name: str) -> np.ndarray:
    """A 1-D float32 array of ``n`` finite weights >= 0, not all zero; errors name ``name``."""
    array = to_array(weight, name)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"`{name}` must hold numbers. Received dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(
            f"`{name}` must hold one weight per sample: shape ({n},). Received shape "
            f"{array.shape}; pass a 1-D array as long as the data it weights"
        )
    array = array.astype(np.float32)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`{name}` must be finite and >= 0. Received: {name}[{first}]={float(array[first])!r} "
            f"({int(bad.sum())} such value(s)); drop those samples or fix their weights"
        )
    if not array.any():
        raise ValueError(
            f"`{name}` must not be all zero: nothing would be learned or measured. "
            f"Received: {n} zero weights"
        )
    return array


def _check_weight_value(key: Any, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(
            f"{_FORMS}; each weight must be a number. Received: class_weight[{key!r}]={value!r}"
        )
    if not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(
            "`class_weight` weights must be finite and >= 0. Received: "
            f"class_weight[{key!r}]={value!r}; give each class a weight such as 1.0 or 9.0"
        )
    return float(value)


def _check_key(key: Any) -> int:
    if isinstance(key, bool) or not isinstance(key, int | np.integer):
        hint = " (a string key from JSON: convert it with int())" if isinstance(key, str) else ""
        raise TypeError(
            f"{_FORMS}; its keys must be integer class ids 0..K-1. Received key {key!r} "
            f"({type(key).__name__}){hint}"
        )
    return int(key)


def _checked_dict(class_weight: dict[Any, Any]) -> dict[int, float]:
    if not class_weight:
        raise ValueError(f"{_FORMS}, with at least one class. Received: class_weight={{}}")
    return {_check_key(k): _check_weight_value(k, v) for k, v in class_weight.items()}


def check_class_weight_arg(class_weight: Any, searched: Any, has_sample_weight: bool) -> Any:
    """The ``search(class_weight=...)`` argument checked against the space's ``class_weight``
    choices (``searched``, None when absent) and the presence of sample weights, before any model
    is built: None, ``"balanced"`` or a dict of int keys to finite weights >= 0 (plain types)."""
    if isinstance(class_weight, str) and class_weight != "balanced":
        raise ValueError(f"{_FORMS}. Received: class_weight={class_weight!r}")
    if isinstance(class_weight, dict):
        class_weight = _checked_dict(class_weight)
    elif class_weight is not None and not isinstance(class_weight, str):
        raise TypeError(f"{_FORMS}. Received: class_weight={class_weight!r}")
    if class_weight is not None and searched is not None:
        raise ValueError(
            f"`class_weight` is given twice: search(class_weight={class_weight!r}) and the space's "
            f"`class_weight` field {list(searched)}, which searches it. Drop one: remove the "
            "space's field to fix the weighting, or pass class_weight=None to search it"
        )
    searches = searched is not None and tuple(searched) != ("none",)
    if has_sample_weight and (class_weight is not None or searches):
        what = (
            f"class_weight={class_weight!r}"
            if class_weight is not None
            else f"the space's class_weight field {list(searched)}"
        )
        raise ValueError(
            "class weights cannot be combined with sample weights (keras.Model.fit refuses the "
            f"pair too). Received: {what} and a sample_weight; multiply the class weights into "
            "your sample weights instead, or drop one"
        )
    return class_weight


def _balanced(labels: np.ndarray) -> dict[int, float]:
    from sklearn.utils.class_weight import compute_class_weight

    classes = np.unique(labels)
    values = compute_class_weight("balanced", classes=classes, y=labels)
    return {int(c): float(v) for c, v in zip(classes, values, strict=True)}


def resolve_class_weight(
    class_weight: Any,
    searched: Any,
    target: Any,
    y_train: np.ndarray,
    counted_on: str = "the training split",
) -> ClassWeighting | None:
    """The search's class weighting, checked against the settled target and the training labels.

    ``class_weight`` is the search argument as :func:`check_class_weight_arg` returned it,
    ``searched`` the space's choices (None when the space does not search it). ``"balanced"`` is
    computed on ``y_train``, the training split only; ``counted_on`` says what that is (a
    stream's first samples) in the note.
    """
    if class_weight is None and (searched is None or tuple(searched) == ("none",)):
        return None
    what = (
        f"class_weight={class_weight!r}"
        if class_weight is not None
        else f"the space's class_weight field {list(searched)}"
    )
    if not target.is_classification:
        raise ValueError(
            f"class weights need class labels, and y is a regression target. Received: {what}; "
            "drop it (to weight a regression's samples, pass sample weights with the data)"
        )
    if isinstance(class_weight, dict):
        n = int(target.n_classes or 0)
        unknown = sorted(k for k in class_weight if not 0 <= k < n)
        if unknown:
            raise ValueError(
                f"`class_weight` keys must be classes of y (0..{n - 1}). Received: {what}, whose "
                f"key(s) {unknown} are no class of y; remove them or re-encode y"
            )
        return ClassWeighting("custom", dict(sorted(class_weight.items())))
    setting = "balanced" if class_weight == "balanced" else "searched"
    return ClassWeighting(setting, _balanced(_labels(y_train)), counted_on)
