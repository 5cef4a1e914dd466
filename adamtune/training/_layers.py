"""Applying a trial's regularizer and BatchNorm choices to a model a model_fn returned.

Where adamtune puts them is one table, :data:`PLACEMENT` (read it with :func:`placement_table`);
the code below follows that table and nothing else:

* **Dense, Conv1D/2D/3D (and transposed), SeparableConv, DepthwiseConv**: the regularizer on the
  kernel (a separable conv's depthwise and pointwise kernels, a depthwise conv's depthwise kernel);
  on a hidden layer, BatchNorm between the kernel and the activation (Ioffe & Szegedy 2015), the
  activation moving to its own ``Activation`` layer.
* **LSTM, GRU, SimpleRNN, Bidirectional wrappers of them, ConvLSTM1D/2D/3D**: the regularizer on
  the input kernel only. The recurrent kernel is left alone: a penalty on it shrinks the memory the
  layer carries from step to step, and practitioners regularize recurrent weights with
  ``recurrent_dropout`` rather than L1/L2. No BatchNorm, inside or around: the layer's
  ``activation`` / ``recurrent_activation`` are part of the cell's gating math (setting them to
  linear would change what the layer computes), batch statistics over padded, variable-length
  sequences are not stable, and the normalization used with recurrent and attention layers is
  LayerNormalization, a choice of architecture this search does not make for the user.
* **MultiHeadAttention**: the regularizer on its query/key/value/output projection kernels (its
  ``kernel_regularizer``); no BatchNorm (transformer blocks normalize per token with LayerNorm).
* **Embedding**: neither. Keras applies ``embeddings_regularizer`` to the whole table every step
  while only the rows of the tokens in the batch get a gradient from the data, so rare tokens are
  pulled to zero; and a lookup has no pre-activation for BatchNorm to normalize.
* **The output layer** (the last weighted layer before each model output, even when a separate
  ``Activation``/``Softmax``/``Dropout`` layer follows it): the regularizer of its type, BatchNorm
  never (it would land on the logits).
* **Every other layer** (Dropout, pooling, Flatten, Reshape, normalization, Activation, custom
  layers): untouched.

Two things the user configured always win: a layer that already has its own regularizer keeps it
(adamtune regularizes the others), and a model that already contains a ``BatchNormalization``
anywhere, nested models included, gets none added. :func:`apply_choices` returns, beside the new
model, every change it made as a short sentence naming the user's own layer names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adamtune.params import make_regularizer

__all__ = [
    "NOT_ADDED",
    "PLACEMENT",
    "Placement",
    "apply_choices",
    "describe_regularizer",
    "has_batch_norm",
    "is_rewritable",
    "make_regularizer",
    "placement_table",
    "user_regularized_layers",
    "walk_layers",
]


@dataclass(frozen=True)
class Placement:
    """Where the trial's regularizer and BatchNorm go on one family of layers.

    ``classes`` are ``keras.layers`` class names (subclasses match too); ``weights`` are the config
    keys that receive the regularizer (empty: none); ``batch_norm`` says whether a hidden layer of
    the family gets BatchNorm before its activation. ``regularizer_text`` and ``batch_norm_text``
    are the table's words, as the README shows them.
    """

    family: str
    classes: tuple[str, ...]
    weights: tuple[str, ...]
    batch_norm: bool
    regularizer_text: str
    batch_norm_text: str


_HIDDEN_BN = "hidden layers: after the kernel, before the activation"
_NO_BN = "never"
PLACEMENT: tuple[Placement, ...] = (
    Placement("Dense", ("Dense",), ("kernel_regularizer",), True, "kernel", _HIDDEN_BN),
    Placement(
        "Conv1D/2D/3D (and Transpose)",
        (
            "Conv1D",
            "Conv2D",
            "Conv3D",
            "Conv1DTranspose",
            "Conv2DTranspose",
            "Conv3DTranspose",
        ),
        ("kernel_regularizer",),
        True,
        "kernel",
        _HIDDEN_BN,
    ),
    Placement(
        "SeparableConv1D/2D",
        ("SeparableConv1D", "SeparableConv2D"),
        ("depthwise_regularizer", "pointwise_regularizer"),
        True,
        "depthwise and pointwise kernels",
        _HIDDEN_BN,
    ),
    Placement(
        "DepthwiseConv1D/2D",
        ("DepthwiseConv1D", "DepthwiseConv2D"),
        ("depthwise_regularizer",),
        True,
        "depthwise kernel",
        _HIDDEN_BN,
    ),
    Placement(
        "LSTM, GRU, SimpleRNN",
        ("LSTM", "GRU", "SimpleRNN"),
        ("kernel_regularizer",),
        False,
        "input kernel (not the recurrent kernel)",
        _NO_BN + " (the cell's activations are untouched)",
    ),
    Placement(
        "Bidirectional(LSTM/GRU/SimpleRNN)",
        ("Bidirectional",),
        ("kernel_regularizer",),
        False,
        "input kernel of both directions",
        _NO_BN + " (the cell's activations are untouched)",
    ),
    Placement(
        "ConvLSTM1D/2D/3D",
        ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"),
        ("kernel_regularizer",),
        False,
        "input kernel (not the recurrent kernel)",
        _NO_BN + " (the cell's activations are untouched)",
    ),
    Placement(
        "MultiHeadAttention",
        ("MultiHeadAttention",),
        ("kernel_regularizer",),
        False,
        "query/key/value/output kernels",
        _NO_BN,
    ),
    Placement("Embedding", ("Embedding",), (), False, "none", _NO_BN),
)
_OUTPUT_ROW = (
    "output layer (last weighted layer before the output)",
    "as its type above",
    _NO_BN,
)
_OTHER_ROW = (
    "any other layer (Dropout, pooling, Flatten, normalization, Activation, custom)",
    "none",
    "none added",
)


def placement_table() -> list[tuple[str, str, str]]:
    """Rows of (layer type, where the regularizer goes, where BatchNorm goes), as in the README."""
    rows = [(p.family, p.regularizer_text, p.batch_norm_text) for p in PLACEMENT]
    return [*rows, _OUTPUT_ROW, _OTHER_ROW]


def describe_regularizer(regularizer: Any) -> str:
    """``L2(0.0003)``, ``L1(1e-05)``, ``L1L2(l1=0.001, l2=0.001)``: a regularizer in a few words."""
    config = regularizer.get_config()
    name = type(regularizer).__name__
    if set(config) == {"l1", "l2"}:
        return f"{name}(l1={config['l1']:.3g}, l2={config['l2']:.3g})"
    if len(config) == 1:
        return f"{name}({next(iter(config.values())):.3g})"
    return name


def is_rewritable(model: Any) -> bool:
    """True for Sequential and functional models, whose layers adamtune can rebuild."""
    import keras
    from keras.src.models.functional import Functional

    return isinstance(model, keras.Sequential | Functional)


def placement_of(layer: Any) -> Placement | None:
    """The table's row for ``layer`` (the first whose classes it is an instance of), or None."""
    import keras

    for rule in PLACEMENT:
        classes = tuple(getattr(keras.layers, name) for name in rule.classes)
        if isinstance(layer, classes):
            return rule
    return None


def _sublayers(layer: Any) -> list[Any]:
    """The layers directly inside ``layer``: a nested model's, a wrapper's."""
    inner = getattr(layer, "layers", None)
    if isinstance(inner, list):
        return inner
    wrapped = [getattr(layer, name, None) for name in ("forward_layer", "backward_layer", "layer")]
    return [w for w in wrapped if w is not None and w is not layer]


def walk_layers(model: Any) -> Iterator[Any]:
    """Every layer of ``model``, nested models and wrapped layers included, depth first."""
    for layer in _sublayers(model):
        yield layer
        yield from walk_layers(layer)


def has_batch_norm(model: Any) -> bool:
    """Whether ``model`` already contains a ``BatchNormalization``, at any depth."""
    import keras

    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in walk_layers(model))


def _weight_configs(layer: Any, rule: Placement, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The config dicts holding ``rule.weights``: a Bidirectional's two directions, else its own."""
    if rule.family.startswith("Bidirectional"):
        inner = [config.get("layer"), config.get("backward_layer")]
        return [c["config"] for c in inner if isinstance(c, dict) and "config" in c]
    return [config]


def _own_regularizer(layer: Any, rule: Placement) -> bool:
    config = layer.get_config()
    return any(
        part.get(key) is not None
        for part in _weight_configs(layer, rule, config)
        for key in rule.weights
    )


def user_regularized_layers(model: Any) -> list[str]:
    """Names of the layers that carry their own regularizer where adamtune would put one."""
    names = []
    for layer in _sublayers(model):
        rule = placement_of(layer)
        if is_rewritable(layer):
            names += user_regularized_layers(layer)  # a nested model: look inside
        elif rule is not None and rule.weights and _own_regularizer(layer, rule):
            names.append(layer.name)
    return names


def _output_ids(model: Any) -> set[int]:
    """Ids of the layers from each output of ``model`` back to the last weighted layer before it.

    A Dense followed by a separate ``Activation("softmax")`` or a ``Dropout`` is an output layer
    too: BatchNorm must not land on its logits. A nested model at the end is followed inside.
    """
    import keras

    found: set[int] = set()

    def reach(layer: Any) -> bool:
        """Mark ``layer``; True when the walk stops at it (a weighted layer or a nested model)."""
        found.add(id(layer))
        if is_rewritable(layer):
            found.update(_output_ids(layer))
            return True
        return placement_of(layer) is not None

    if isinstance(model, keras.Sequential):
        for layer in reversed(model.layers):
            if reach(layer):
                break
        return found
    stack = [t._keras_history[0] for t in model.outputs]
    while stack:
        layer = stack.pop()
        if id(layer) in found or reach(layer):
            continue
        for node in getattr(layer, "_inbound_nodes", []):
            stack.extend(t._keras_history[0] for t in node.input_tensors)
    return found


def _is_linear(activation: Any) -> bool:
    return activation in (None, "linear")


class _Rewriter:
    """Clones each layer following :data:`PLACEMENT`, and remembers what it changed."""

    def __init__(self, model: Any, regularizer: Any, batch_norm: bool) -> None:
        self.regularizer = regularizer
        self.batch_norm = batch_norm
        self.outputs = _output_ids(model)
        self.activation_after: dict[int, tuple[str, Any]] = {}  # new layer -> (user name, act)
        self.taken = {layer.name for layer in walk_layers(model)}
        self.regularized: list[str] = []
        self.kept: list[str] = []
        self.normalized: list[str] = []
        self.clones: list[tuple[Any, Any]] = []  # (user's layer, its copy)

    def changes(self) -> list[str]:
        """The changes made, in words, with the user's layer names."""
        changes = []
        if self.regularized:
            changes.append(
                f"{describe_regularizer(self.regularizer)} on {', '.join(self.regularized)}"
            )
        if self.kept:
            changes.append(f"kept the model's own regularizer on {', '.join(self.kept)}")
        if self.normalized:
            changes.append(f"BatchNorm after {', '.join(self.normalized)}")
        return changes

    @property
    def changed(self) -> bool:
        return bool(self.regularized or self.normalized)

    def _regularize(self, layer: Any, rule: Placement, config: dict[str, Any]) -> None:
        import keras

        if self.regularizer is None or not rule.weights:
            return
        if _own_regularizer(layer, rule):
            self.kept.append(layer.name)
            return
        for part in _weight_configs(layer, rule, config):
            for key in rule.weights:
                part[key] = keras.regularizers.serialize(self.regularizer)
        self.regularized.append(layer.name)

    def clone(self, layer: Any) -> Any:
        """A fresh copy of ``layer`` with the trial's choices; a nested model is rewritten too."""
        if is_rewritable(layer):
            return self.rewrite(layer)
        config = layer.get_config()
        rule = placement_of(layer)
        if rule is not None:
            self._regularize(layer, rule, config)
        normalize = (
            rule is not None
            and self.batch_norm
            and rule.batch_norm
            and id(layer) not in self.outputs
        )
        moved = config.get("activation")
        if normalize:
            config["activation"] = "linear"
            self.normalized.append(layer.name)
        new = layer.__class__.from_config(config)
        self.clones.append((layer, new))
        if normalize:
            self.activation_after[id(new)] = (layer.name, moved)
        return new

    def copy_weights(self) -> None:
        """Give each copy its original's weights: a pre-trained or specially initialized layer
        stays as the user built it (a new regularizer or a moved activation changes no weight)."""
        for old, new in self.clones:
            weights = old.get_weights() if old.built else []
            if new.built and len(weights) == len(new.weights):
                new.set_weights(weights)

    def _name(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name

    def extra_layers(self, layer: Any) -> list[Any]:
        """BatchNorm, then the original activation (unless linear), after a hidden layer."""
        import keras

        if id(layer) not in self.activation_after:
            return []
        user_name, activation = self.activation_after[id(layer)]
        extra = [keras.layers.BatchNormalization(name=self._name(f"{user_name}_batch_norm"))]
        if not _is_linear(activation):
            name = self._name(f"{user_name}_activation")
            extra.append(keras.layers.Activation(activation, name=name))
        return extra

    def call(self, layer: Any, *args: Any, **kwargs: Any) -> Any:
        out = layer(*args, **kwargs)
        for extra in self.extra_layers(layer):
            out = extra(out)
        return out

    def rewrite(self, model: Any) -> Any:
        """A rebuilt copy of a Sequential or functional ``model``."""
        import keras

        if not isinstance(model, keras.Sequential):
            return keras.models.clone_model(
                model, clone_function=self.clone, call_function=self.call
            )
        layers: list[Any] = []
        with contextlib.suppress(AttributeError, ValueError):  # unbuilt: it builds on first call
            source = model.inputs[0]  # its shape, dtype (int32 token ids stay ints) and name
            layers.append(
                keras.Input(batch_shape=source.shape, dtype=source.dtype, name=source.name)
            )
        for layer in model.layers:
            new = self.clone(layer)
            layers.append(new)
            layers.extend(self.extra_layers(new))
        return keras.Sequential(layers, name=model.name)


NOT_ADDED = "BatchNorm: not added, the model has its own"


def apply_choices(model: Any, regularizer: Any, batch_norm: bool) -> tuple[Any, list[str]]:
    """``(new_model, changes)``: ``model`` with the trial's ``regularizer`` and BatchNorm placed
    as :data:`PLACEMENT` says, and each change in words (``"BatchNorm after dense, dense_1"``,
    ``"L2(0.0003) on dense, dense_1"``, ``"kept the model's own regularizer on dense_2"``).

    A layer with its own regularizer keeps it; a model with a ``BatchNormalization`` anywhere gets
    none (``"BatchNorm: not added, the model has its own"``). Every copied layer keeps its
    original's weights, ``trainable`` flag and name, and the inputs keep their dtype and name, so a
    pre-trained or frozen layer stays as the user built it. When nothing changes, ``model`` itself
    is returned, untouched.
    """
    notes: list[str] = []
    if batch_norm and has_batch_norm(model):
        batch_norm = False
        notes.append(NOT_ADDED)
    if regularizer is None and not batch_norm:
        return model, notes
    rewriter = _Rewriter(model, regularizer, batch_norm)
    new = rewriter.rewrite(model)
    rewriter.copy_weights()
    return (new if rewriter.changed else model), rewriter.changes() + notes
