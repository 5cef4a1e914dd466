"""A trial leaves no custom gradient behind in TensorFlow's gradient registry (issue 20: RSS grew
~2 MB a trial because each trial's train step registered Keras's all-reduce gradient there, with
the step's whole graph in its closure), and models with their own custom gradients still train
trial after trial: one defined at import (a gradient-reversal layer, as in domain-adaptation
tutorials) and one inside a module-level ``tf.function``, whose trace outlives a trial."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import adamtune
from adamtune.training._state import custom_gradients, forget_custom_gradients

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


@tf.custom_gradient
def reverse_gradient(x: Any) -> Any:
    def grad(dy: Any) -> Any:
        return -0.5 * dy

    return tf.identity(x), grad


@tf.function
def clipped_square(x: Any) -> Any:
    @tf.custom_gradient
    def inner(v: Any) -> Any:
        def grad(dy: Any) -> Any:
            return tf.clip_by_value(2.0 * v * dy, -1.0, 1.0)

        return tf.square(v), grad

    return inner(x)


class ReverseGradient(keras.layers.Layer):
    def call(self, x: Any) -> Any:
        return reverse_gradient(x)


class ClippedSquare(keras.layers.Layer):
    def call(self, x: Any) -> Any:
        return clipped_square(x)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def _model(layer: type[keras.layers.Layer]) -> Any:
    return keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(16, activation="relu"),
            layer(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def _search(storage: str, trials: int, model_fn: Any = None) -> Any:
    return adamtune.search(
        model_fn or (lambda: _model(keras.layers.Identity)), _data(), space="quick", epochs=1,
        trials=trials, storage=storage, study_name="grads", seed=0, verbose=0,
    )  # fmt: skip


def test_trials_leave_no_custom_gradient_in_the_registry(storage: str) -> None:
    before = custom_gradients()
    _search(storage, 1)
    after_one = custom_gradients()
    _search(storage, 6)  # 5 more trials in the same study
    after_six = custom_gradients()
    # each call leaves only what runs once per call (the pre-flight's batch), never a trial's
    assert len(after_six - after_one) == len(after_one - before) <= 2
    assert before <= after_six  # what was registered before the search is kept


def test_forget_drops_only_what_was_registered_since(storage: str) -> None:
    before = custom_gradients()

    @tf.function
    def traced(x: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = reverse_gradient(x)
        return tape.gradient(y, x)

    assert float(traced(tf.constant(2.0))) == -0.5  # traced: one registered
    new = custom_gradients() - before
    assert len(new) == 1
    assert forget_custom_gradients(before) == 1
    assert custom_gradients() == before


@pytest.mark.parametrize("layer", [ReverseGradient, ClippedSquare])
def test_a_model_with_its_own_custom_gradient_trains_in_every_trial(
    storage: str, layer: type[keras.layers.Layer]
) -> None:
    result = _search(storage, 4, lambda: _model(layer))
    outcomes = result.trials["outcome"].tolist()
    assert len(outcomes) == 4
    assert not any(str(o).startswith("crashed") for o in outcomes), result.trials[["reason"]]


def test_the_doctor_and_the_lr_range_test_leave_no_custom_gradient(storage: str) -> None:
    """Their probes train as trials do (one train step each): the registry is the same after."""
    before = custom_gradients()
    swept = adamtune.lr_range_test(lambda: _model(keras.layers.Identity), _data(), steps=30)
    assert swept.lrs  # it ran
    assert custom_gradients() == before
    found = adamtune.diagnose(lambda: _model(keras.layers.Identity), _data(), epochs=2)
    assert found.probes  # it ran its probes
    assert custom_gradients() == before


def test_a_model_with_its_own_custom_gradient_is_diagnosed_then_searched(storage: str) -> None:
    """The doctor drops what its probes registered, including a user's ``tf.function``'s custom
    gradient traced in a probe: the search after it still trains that model."""
    found = adamtune.diagnose(lambda: _model(ClippedSquare), _data(), epochs=2, lr_range=False)
    assert found.probes.get("training") == "ran", found.probes
    result = _search(storage, 3, lambda: _model(ClippedSquare))
    outcomes = result.trials["outcome"].tolist()
    assert len(outcomes) == 3
    assert not any(str(o).startswith("crashed") for o in outcomes), result.trials[["reason"]]
