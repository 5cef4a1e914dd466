"""Input scalers from scikit-learn, fitted on the training split only."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["make_scaler", "scale_split"]


def make_scaler(name: str) -> Any:
    """A fresh, unfitted scikit-learn transformer for ``name`` (identity for ``"none"``)."""
    from sklearn import preprocessing

    factories = {
        "none": lambda: preprocessing.FunctionTransformer(),
        "standard": preprocessing.StandardScaler,
        "minmax": preprocessing.MinMaxScaler,
        "robust": preprocessing.RobustScaler,
    }
    if name not in factories:
        raise ValueError(
            f"`scaling` must be one of {', '.join(factories)}. Received: scaling={name!r}"
        )
    return factories[name]()


def scale_split(name: str, x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit scaler ``name`` on ``x_train`` only and transform both; N-D inputs are flattened per row."""
    if name == "none":
        return x_train, x_val
    scaler = make_scaler(name)
    shape = x_train.shape[1:]
    train = scaler.fit_transform(x_train.reshape(len(x_train), -1))
    val = scaler.transform(x_val.reshape(len(x_val), -1))
    return (
        np.asarray(train, dtype=np.float32).reshape((-1, *shape)),
        np.asarray(val, dtype=np.float32).reshape((-1, *shape)),
    )
