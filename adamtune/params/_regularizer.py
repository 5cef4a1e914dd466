"""The Keras kernel regularizer a trial's ``regularizer`` choice names.

It lives with the parameters (``hp.regularizer()`` builds it) and the layer that applies it to a
model (``adamtune.training``) takes it from here. Keras is imported on call, not at import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_regularizer"]


def make_regularizer(kind: str, strength: float) -> Any:
    """The Keras kernel regularizer for ``kind`` at ``strength``; ``None`` for none and AdamW."""
    import keras

    if kind in ("none", "adamw"):
        return None
    if kind == "l1":
        return keras.regularizers.L1(strength)
    if kind == "l2":
        return keras.regularizers.L2(strength)
    if kind == "l1_l2":
        return keras.regularizers.L1L2(l1=strength, l2=strength)
    raise ValueError(f"unknown regularizer {kind!r}; allowed: none, l1, l2, l1_l2, adamw")
