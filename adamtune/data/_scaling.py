"""Input scalers from scikit-learn, fitted on the training split only, per feature (channel).

A 2-D ``x`` (samples, features) is scaled column by column, as scikit-learn does. An N-D ``x``
(images ``(n, h, w, c)``, sequences ``(n, t, f)``) is scaled per channel, the last axis: one mean
and spread per colour channel or per sequence feature, over every sample and position. The same
transformer is used in the search and handed back by ``TunedConfig.scaler()``, so training code
gets exactly the scaling the tuned trial had, on its array as it is, in its shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adamtune.data._base_scaler import base_scaler

__all__ = ["base_scaler", "make_scaler", "scale_split"]


def make_scaler(name: str) -> Any:
    """A fresh, unfitted transformer for ``name``: per feature on 2-D ``x``, per channel (last
    axis) on N-D ``x``; the identity for ``"none"``."""
    scaler = base_scaler(name)  # an unknown name is refused now, not at fit time
    if name == "none":
        return scaler
    from adamtune.data._feature_scaler import FeatureScaler

    return FeatureScaler(name)


def scale_split(name: str, x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit scaler ``name`` on ``x_train`` only and transform both, in their shapes, as float32."""
    if name == "none":
        return x_train, x_val
    scaler = make_scaler(name).fit(x_train)
    return (
        np.asarray(scaler.transform(x_train), dtype=np.float32),
        np.asarray(scaler.transform(x_val), dtype=np.float32),
    )
