"""The plain scikit-learn scaler for a scaling name: what ``FeatureScaler`` fits per channel and
``make_scaler`` hands back for ``"none"``. scikit-learn is imported when a scaler is made."""

from __future__ import annotations

from typing import Any

__all__ = ["base_scaler"]


def base_scaler(method: str) -> Any:
    """The plain scikit-learn scaler for ``method`` (2-D only); the identity for ``"none"``."""
    from sklearn import preprocessing

    factories = {
        "none": lambda: preprocessing.FunctionTransformer(),
        "standard": preprocessing.StandardScaler,
        "minmax": preprocessing.MinMaxScaler,
        "robust": preprocessing.RobustScaler,
    }
    if method not in factories:
        raise ValueError(
            f"`scaling` must be one of {', '.join(factories)}. Received: scaling={method!r}"
        )
    return factories[method]()
