"""``FeatureScaler``: a scikit-learn scaler over the last axis of an array of any rank.

Its own module because it subclasses scikit-learn's base classes: ``adamtune.data`` stays light
to import, and this loads with the first scaler made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from adamtune.data._base_scaler import base_scaler

__all__ = ["FeatureScaler"]


class FeatureScaler(TransformerMixin, BaseEstimator):
    """A scikit-learn scaler (``method``: standard, minmax, robust, none) over the last axis.

    ``fit``/``transform`` take an array of any rank >= 2 and return one of the same shape; the
    fitted scikit-learn scaler is ``scaler_`` (its ``mean_``, ``scale_``... are per channel).
    """

    def __init__(self, method: str = "standard") -> None:
        self.method = method

    def _rows(self, x: Any, *, fitting: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        array = np.asarray(x)
        if array.ndim < 2:
            raise ValueError(
                f"FeatureScaler: `x` must have a sample axis and a feature axis. Received shape "
                f"{array.shape}; for one feature, pass x.reshape(-1, 1)"
            )
        if not fitting:
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(self, "scaler_")
        if not fitting and array.shape[-1] != self.n_channels_:
            raise ValueError(
                f"FeatureScaler: `x` has {array.shape[-1]} channel(s) on its last axis, but the "
                f"scaler was fitted on {self.n_channels_}. Received shape {array.shape}"
            )
        return array.reshape(-1, array.shape[-1]), array.shape

    def fit(self, x: Any, y: Any = None) -> FeatureScaler:
        rows, _ = self._rows(x, fitting=True)
        self.scaler_ = base_scaler(self.method).fit(rows)
        self.n_channels_ = int(rows.shape[1])
        return self

    def transform(self, x: Any) -> np.ndarray:
        rows, shape = self._rows(x, fitting=False)
        return np.asarray(self.scaler_.transform(rows)).reshape(shape)

    def inverse_transform(self, x: Any) -> np.ndarray:
        rows, shape = self._rows(x, fitting=False)
        return np.asarray(self.scaler_.inverse_transform(rows)).reshape(shape)
