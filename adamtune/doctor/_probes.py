"""The doctor's training probe: the user's model, optimizer and batch size, trained for a few
epochs on the data as given, with gradients measured on one batch before the first step and at
checkpoints during training (:func:`checkpoint_steps`), each step's loss, and activations measured
on the validation split after the last."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adamtune.data import Prepared
from adamtune.training import LossSpec

__all__ = [
    "ACTIVATION_SAMPLES",
    "LayerGradient",
    "TrainingProbe",
    "checkpoint_steps",
    "kernel_layers",
    "run_probe",
]

# Activations and outputs are measured on at most this many validation samples: enough to find a
# unit that fires for no sample, cheap for any model the doctor's probes can afford to train.
ACTIVATION_SAMPLES = 512
# The loss before training is measured on up to this many training samples (one batch is too noisy:
# 3.1 against 2.7 on the whole split for the digits MLP).
START_SAMPLES = 1024


@dataclass(frozen=True)
class LayerGradient:
    """The data loss's gradient on one layer's kernel, at initialization, on one batch.

    ``signal`` divides the kernel gradient's RMS by the RMS of the layer's input: a Dense kernel's
    gradient is (input x backpropagated error), so this estimates the error reaching the layer
    without the input's scale (large raw inputs must not hide a vanishing signal, nor small ones
    fake one). ``None`` when the layer's input cannot be read (subclassed models).
    """

    layer: str
    grad_rms: float
    weight_rms: float
    input_rms: float | None
    signal: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "grad_rms": self.grad_rms,
            "weight_rms": self.weight_rms,
            "input_rms": self.input_rms,
            "signal": self.signal,
        }


@dataclass
class TrainingProbe:
    """What the training probe measured."""

    history: dict[str, list[float]]
    batch_losses: list[float]  # Keras' running epoch-mean loss after each step, all epochs
    start_data_loss: (
        float  # the data loss on the training split (up to 1024 samples), before any step
    )
    start_penalty: float  # the kernel regularizers' penalty before any step
    data_grad_norm: float
    penalty_grad_norm: float
    gradients: list[LayerGradient]
    kernel_weight_rms: float  # over every kernel, at initialization
    end_penalty: float
    dead_units: dict[str, float] = field(default_factory=dict)  # ReLU layer -> dead fraction
    output_spread: float | None = None  # relative spread of the outputs across samples
    top_class_share: float | None = None  # share of validation samples given the top class
    seconds: float = 0.0
    # Each step's own loss (data + penalty), recovered from Keras' running epoch mean.
    step_losses: list[float] = field(default_factory=list)
    # The data loss's gradient on the first batch, at step 0 and at each of checkpoint_steps():
    # its global norm over every trainable weight, and the norm on each kernel layer.
    grad_steps: list[int] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    layer_grad_norms: dict[str, list[float]] = field(default_factory=dict)

    @property
    def nonfinite_step(self) -> int | None:
        for i, value in enumerate(self.batch_losses):
            if not math.isfinite(value):
                return i + 1
        return None


def kernel_layers(model: Any) -> list[Any]:
    """The layers with a trainable kernel (Dense, Conv...), input to output."""
    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kernel = getattr(layer, "kernel", None)
        if (
            kernel is not None
            and getattr(kernel, "trainable", False)
            and int(np.prod(kernel.shape))
        ):
            found.append(layer)
    return found


def _rms(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    return float(np.sqrt(np.mean(array**2))) if array.size else 0.0


def _norm(values: list[Any]) -> float:
    return float(
        math.sqrt(sum(float(np.sum(np.asarray(v, dtype=np.float64) ** 2)) for v in values))
    )


def _inputs(model: Any) -> Any:
    """The model's symbolic inputs, unwrapped for a single input (as the model is called)."""
    inputs = model.inputs
    return inputs[0] if len(inputs) == 1 else inputs


def _layer_inputs(model: Any, layers: list[Any], x: np.ndarray) -> list[float | None]:
    """RMS of each layer's input on ``x``; ``None`` for all when the graph cannot be read."""
    import keras

    try:
        probe = keras.Model(_inputs(model), [layer.input for layer in layers])
        outputs = probe(x, training=False)
    except Exception:  # subclassed or nested models do not expose their layers' inputs
        return [None] * len(layers)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return [_rms(keras.ops.convert_to_numpy(o)) for o in outputs]


def _loss_object(spec: LossSpec) -> Any:
    """The loss as a callable returning the batch mean (a Keras loss function returns one value
    per sample; a Loss object already reduces)."""
    import keras

    built = spec.build_loss()
    fn = keras.losses.get(built) if isinstance(built, str) else built
    return lambda y, pred: keras.ops.mean(fn(y, pred))


def _penalty(model: Any) -> Any:
    import tensorflow as tf

    losses = model.losses
    return tf.add_n([tf.cast(v, tf.float32) for v in losses]) if losses else tf.constant(0.0)


def _start_loss(model: Any, loss_fn: Any, prepared: Prepared) -> float:
    """The data loss before any step, on up to START_SAMPLES training samples: one batch's loss
    is too noisy a start to measure progress against."""
    x, y = prepared.x_train[:START_SAMPLES], prepared.y_train[:START_SAMPLES]
    total = 0.0
    for begin in range(0, len(x), 256):
        chunk = slice(begin, begin + 256)
        total += float(loss_fn(y[chunk], model(x[chunk], training=False))) * len(x[chunk])
    return total / len(x)


def _gradients(model: Any, spec: LossSpec, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Data-loss and penalty gradients on the kernels, on one batch, before any step."""
    import tensorflow as tf

    layers = kernel_layers(model)
    kernels = [layer.kernel for layer in layers]
    loss_fn = _loss_object(spec)
    with tf.GradientTape(persistent=True) as tape:
        predictions = model(x, training=True)
        data_loss = loss_fn(y, predictions)
        penalty = _penalty(model)
    data_grads = tape.gradient(data_loss, kernels) if kernels else []
    penalty_grads = tape.gradient(penalty, kernels) if kernels and model.losses else []
    del tape
    data_grads = [
        np.zeros(k.shape) if g is None else g.numpy()
        for g, k in zip(data_grads, kernels, strict=True)
    ]
    penalty_grads = [g.numpy() for g in penalty_grads if g is not None]
    inputs = _layer_inputs(model, layers, x)
    gradients = []
    for layer, grad, kernel, input_rms in zip(layers, data_grads, kernels, inputs, strict=True):
        grad_rms = _rms(grad)
        scale = input_rms if input_rms else 1.0
        gradients.append(
            LayerGradient(layer.name, grad_rms, _rms(kernel.numpy()), input_rms, grad_rms / scale)
        )
    weights = np.concatenate([np.ravel(k.numpy()) for k in kernels]) if kernels else np.zeros(0)
    return {
        "start_penalty": float(penalty),
        "data_grad_norm": _norm(data_grads),
        "penalty_grad_norm": _norm(penalty_grads),
        "gradients": gradients,
        "kernel_weight_rms": _rms(weights),
    }


def _is_relu(layer: Any) -> bool:
    name = type(layer).__name__
    if name == "ReLU":
        return True
    try:
        activation = layer.get_config().get("activation")
    except Exception:
        return False
    return activation == "relu"


def _activations(model: Any, prepared: Prepared) -> dict[str, Any]:
    """Dead ReLU units, the outputs' spread across samples and the top class's share."""
    import keras

    x = prepared.x_val[:ACTIVATION_SAMPLES]
    relus = [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if _is_relu(layer)
    ]
    dead: dict[str, float] = {}
    try:
        if relus:
            probe = keras.Model(_inputs(model), [layer.output for layer in relus])
            outputs = probe.predict(x, batch_size=256, verbose=0)
            if not isinstance(outputs, list | tuple):
                outputs = [outputs]
            for layer, out in zip(relus, outputs, strict=True):
                units = np.asarray(out).reshape(-1, np.asarray(out).shape[-1])
                dead[layer.name] = float(np.mean(np.all(units <= 0.0, axis=0)))
    except Exception:  # subclassed models: no layer outputs to read
        dead = {}
    predictions = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)
    predictions = predictions.reshape(len(x), -1)
    spread = float(predictions.std(axis=0).mean())
    scale = float(np.abs(predictions.mean(axis=0)).mean()) + spread
    relative = spread / scale if scale > 0 else 0.0
    share = None
    if prepared.target.is_classification and np.isfinite(predictions).all():
        if predictions.shape[1] == 1:
            threshold = 0.5 if predictions.min() >= 0 and predictions.max() <= 1 else 0.0
            classes = (predictions[:, 0] > threshold).astype(np.int64)
        else:
            classes = predictions.argmax(axis=1)
        share = float(np.bincount(classes).max() / len(classes))
    return {
        "dead_units": dead,
        "output_spread": relative if math.isfinite(relative) else None,
        "top_class_share": share,
    }


def checkpoint_steps(steps_per_epoch: int, epochs: int) -> list[int]:
    """The steps after which the training probe measures the gradient again: 1, 2, 4, 8... (an
    early blow-up takes a handful of steps) and the end of every epoch."""
    total = steps_per_epoch * epochs
    doubling = [1 << k for k in range(total.bit_length()) if 1 << k <= total]
    ends = [steps_per_epoch * (e + 1) for e in range(epochs)]
    return sorted(set(doubling) | set(ends))


def _tracker(
    model: Any,
    spec: LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    probe: dict[str, Any],
    *,
    n_train: int,
    batch_size: int,
    checkpoints: set[int],
) -> Any:
    """A callback recording, after each step, Keras' running loss and the step's own loss, and at
    ``checkpoints`` the gradient on the fixed batch ``(x, y)``; stops on NaN/inf."""
    import keras
    import tensorflow as tf

    layers = kernel_layers(model)
    loss_fn = _loss_object(spec)

    def measure(step: int) -> None:
        with tf.GradientTape() as tape:
            data_loss = loss_fn(y, model(x, training=True))
        weights = model.trainable_weights
        grads = tape.gradient(data_loss, weights)
        by_weight = {  # an Embedding's gradient comes as IndexedSlices
            id(w): tf.convert_to_tensor(g)
            for w, g in zip(weights, grads, strict=True)
            if g is not None
        }
        probe["grad_steps"].append(step)
        probe["grad_norms"].append(_norm([g.numpy() for g in by_weight.values()]))
        for layer in layers:
            grad = by_weight.get(id(layer.kernel))
            value = 0.0 if grad is None else _norm([grad.numpy()])
            probe["layer_grad_norms"].setdefault(layer.name, []).append(value)

    class _Tracker(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.step = 0
            self.seen_sum = 0.0  # the epoch's running mean x the samples seen so far

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            measure(0)

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.seen_sum = 0.0

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.step += 1
            value = float((logs or {}).get("loss", math.nan))
            probe["batch_losses"].append(value)
            seen = min((batch + 1) * batch_size, n_train)
            size = seen - min(batch * batch_size, n_train)
            total = value * seen
            probe["step_losses"].append((total - self.seen_sum) / size if size else math.nan)
            self.seen_sum = total
            if not math.isfinite(value):
                self.model.stop_training = True
            elif self.step in checkpoints:
                measure(self.step)

    return _Tracker()


def run_probe(
    model: Any,
    spec: LossSpec,
    optimizer: Any,
    prepared: Prepared,
    *,
    batch_size: int,
    epochs: int,
) -> TrainingProbe:
    """Measure gradients on the first batch, train ``epochs`` epochs, measure activations."""
    import keras

    start = time.perf_counter()
    n = min(batch_size, len(prepared.x_train))
    grads = _gradients(model, spec, prepared.x_train[:n], prepared.y_train[:n])
    start_data_loss = _start_loss(model, _loss_object(spec), prepared)
    model.compile(
        optimizer=optimizer,
        loss=spec.build_loss(),
        metrics=spec.compile_metrics(),
        jit_compile=False,  # XLA's compile time would dwarf a few-epoch probe
    )
    steps_per_epoch = math.ceil(len(prepared.x_train) / batch_size)
    tracked: dict[str, Any] = {
        "batch_losses": [],
        "step_losses": [],
        "grad_steps": [],
        "grad_norms": [],
        "layer_grad_norms": {},
    }
    tracker = _tracker(
        model,
        spec,
        prepared.x_train[:n],
        prepared.y_train[:n],
        tracked,
        n_train=len(prepared.x_train),
        batch_size=batch_size,
        checkpoints=set(checkpoint_steps(steps_per_epoch, epochs)),
    )
    history = model.fit(
        prepared.x_train,
        prepared.y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(prepared.x_val, prepared.y_val),
        callbacks=[tracker],
        shuffle=True,
        verbose=0,
    )
    curves = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    finite_weights = all(
        np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.trainable_weights
    )
    activations: dict[str, Any] = {"dead_units": {}, "output_spread": None, "top_class_share": None}
    if finite_weights:
        activations = _activations(model, prepared)
    end_penalty = float(_penalty(model)) if finite_weights else math.nan
    return TrainingProbe(
        history=curves,
        start_data_loss=start_data_loss,
        end_penalty=end_penalty,
        seconds=time.perf_counter() - start,
        **grads,
        **activations,
        **tracked,
    )
