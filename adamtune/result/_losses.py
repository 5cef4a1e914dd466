"""A config's loss and metrics as ``model.compile`` takes them: one, or one per output."""

from __future__ import annotations

from typing import Any

__all__ = ["check_metrics", "compile_loss", "copy_metrics", "per_output"]


def per_output(loss: Any) -> bool:
    """Whether ``loss`` is a dict of losses by output name (not one serialized loss)."""
    return isinstance(loss, dict) and "class_name" not in loss


def compile_loss(loss: Any) -> Any:
    """A Keras loss from its serialized config (a name stays a name); per output when a dict of
    them keyed by output name."""
    import keras

    if per_output(loss):
        return {name: compile_loss(one) for name, one in loss.items()}
    return keras.losses.deserialize(loss) if isinstance(loss, dict) else loss


def copy_metrics(metrics: Any) -> Any:
    """A fresh copy: a list of metric names, or a dict of such lists by output name."""
    if isinstance(metrics, dict):
        return {name: list(names) for name, names in metrics.items()}
    return list(metrics)


def check_metrics(metrics: Any) -> str | None:
    """What is wrong with ``metrics`` (a list of names, or a dict of such lists by output name),
    or None."""

    def names(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(m, str) for m in value)

    if names(metrics):
        return None
    if isinstance(metrics, dict) and all(
        isinstance(k, str) and names(v) for k, v in metrics.items()
    ):
        return None
    return (
        "must be a list of metric names, or a mapping of output names to such lists. "
        f"Received: {metrics!r}"
    )
