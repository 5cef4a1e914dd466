"""Applying a trial's regularizer and BatchNorm choices to a model a model_fn returned."""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["apply_choices", "is_rewritable", "make_regularizer"]


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


def is_rewritable(model: Any) -> bool:
    """True for Sequential and functional models, whose layers adamtune can rebuild."""
    import keras
    from keras.src.models.functional import Functional

    return isinstance(model, keras.Sequential | Functional)


def _has_kernel(config: dict[str, Any]) -> bool:
    return "kernel_regularizer" in config and "activation" in config


def _output_layers(model: Any) -> set[int]:
    """Ids of the layers between the model's outputs and the last kernel layer before each.

    A Dense followed by a separate ``Activation("softmax")`` is an output layer too: BatchNorm
    must not land on its logits.
    """
    import keras

    found: set[int] = set()
    if isinstance(model, keras.Sequential):
        for layer in reversed(model.layers):
            found.add(id(layer))
            if _has_kernel(layer.get_config()):
                break
        return found
    stack = [t._keras_history[0] for t in model.outputs]
    while stack:
        layer = stack.pop()
        if id(layer) in found:
            continue
        found.add(id(layer))
        if _has_kernel(layer.get_config()):
            continue
        for node in getattr(layer, "_inbound_nodes", []):
            stack.extend(t._keras_history[0] for t in node.input_tensors)
    return found


class _Rewriter:
    """Clones each layer with the regularizer set and, for hidden layers, a linear activation."""

    def __init__(self, model: Any, regularizer: Any, batch_norm: bool) -> None:
        self.regularizer = regularizer
        self.batch_norm = batch_norm
        self.outputs = _output_layers(model)
        self.activation_after: dict[int, Any] = {}

    def clone(self, layer: Any) -> Any:
        import keras

        config = layer.get_config()
        moved_activation = None
        if _has_kernel(config):
            if self.regularizer is not None:
                config["kernel_regularizer"] = keras.regularizers.serialize(self.regularizer)
            if self.batch_norm and id(layer) not in self.outputs:
                moved_activation = config["activation"]
                config["activation"] = "linear"
        new = layer.__class__.from_config(config)
        if moved_activation is not None:
            self.activation_after[id(new)] = moved_activation
        return new

    def extra_layers(self, layer: Any) -> list[Any]:
        """BatchNorm, then the original activation, after a hidden Dense/Conv layer."""
        import keras

        if id(layer) not in self.activation_after:
            return []
        return [
            keras.layers.BatchNormalization(),
            keras.layers.Activation(self.activation_after[id(layer)]),
        ]

    def call(self, layer: Any, *args: Any, **kwargs: Any) -> Any:
        out = layer(*args, **kwargs)
        for extra in self.extra_layers(layer):
            out = extra(out)
        return out


def apply_choices(model: Any, regularizer: Any, batch_norm: bool) -> Any:
    """A fresh copy of ``model`` with ``regularizer`` on every kernel and BatchNorm after each
    hidden Dense/Conv layer (before its activation). Returns ``model`` itself when nothing changes.
    """
    import keras

    if regularizer is None and not batch_norm:
        return model
    rewriter = _Rewriter(model, regularizer, batch_norm)
    if not isinstance(model, keras.Sequential):
        return keras.models.clone_model(
            model, clone_function=rewriter.clone, call_function=rewriter.call
        )
    layers: list[Any] = []
    with contextlib.suppress(AttributeError, ValueError):  # unbuilt: it builds on first call
        layers.append(keras.Input(shape=model.input_shape[1:]))
    for layer in model.layers:
        new = rewriter.clone(layer)
        layers.append(new)
        layers.extend(rewriter.extra_layers(new))
    return keras.Sequential(layers, name=model.name)
