"""DivergenceGuard: real Keras fits that blow up, go NaN, sit at chance level, or train well."""

from __future__ import annotations

import math
import re
from typing import Any

import keras
import numpy as np
import pytest
from conftest import mlp
from sklearn.preprocessing import StandardScaler

import adamtune
from adamtune.data import infer_target
from adamtune.training import chance_loss

BLOWUP_REASON = r"^loss rose from \d[\d.e+-]* to \d[\d.e+-]* \(over 10x its start\) in \d+ batches$"
NAN_REASON = r"^loss became (nan|inf|-inf) at epoch 1, batch \d+$"


@pytest.fixture(scope="module")
def scaled_digits(digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x, y = digits
    return StandardScaler().fit_transform(x).astype(np.float32), y


def _fit(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    guard: Any,
    *,
    lr: float,
    loss: Any = "sparse_categorical_crossentropy",
    epochs: int = 3,
    **kwargs: Any,
) -> dict[str, list[float]]:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss=loss)
    history = model.fit(x, y, batch_size=32, epochs=epochs, callbacks=[guard], verbose=0, **kwargs)
    return history.history


def test_guard_is_a_keras_callback() -> None:
    assert issubclass(adamtune.DivergenceGuard, keras.callbacks.Callback)


@pytest.mark.parametrize("lr", [10.0, 1e3])
def test_huge_learning_rate_on_unscaled_digits_is_stopped_in_the_first_epoch(
    digits: tuple[np.ndarray, np.ndarray], lr: float
) -> None:
    x, y = digits  # pixel values 0..16, unscaled
    keras.utils.set_random_seed(0)
    guard = adamtune.DivergenceGuard()
    history = _fit(mlp(64, 10), x, y, guard, lr=lr)
    assert guard.outcome in ("diverged-blowup", "diverged-nan")
    assert re.search(
        BLOWUP_REASON if guard.outcome == "diverged-blowup" else NAN_REASON, guard.reason or ""
    )
    assert guard.stopped_epoch == 0
    steps = math.ceil(len(x) / 32)
    assert guard.stopped_batch is not None and guard.stopped_batch < steps // 2
    assert len(history["loss"]) == 1  # fit stopped; epochs 2 and 3 never ran


def test_huge_learning_rate_on_unscaled_breast_cancer(
    cancer: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = cancer  # features from ~3e-2 to ~4e3
    keras.utils.set_random_seed(0)
    guard = adamtune.DivergenceGuard()
    history = _fit(
        mlp(30, 1, activation="sigmoid"), x, y, guard, lr=10.0, loss="binary_crossentropy"
    )
    assert guard.outcome in ("diverged-blowup", "diverged-nan")
    assert guard.stopped_epoch == 0
    assert len(history["loss"]) == 1
    assert guard.first_loss is not None and guard.last_loss is not None
    if guard.outcome == "diverged-blowup":
        assert guard.last_loss > 10 * guard.first_loss
        assert re.search(BLOWUP_REASON, guard.reason or "")


def _regression(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A float target the MLP can fit: the sum of the first three features."""
    return x, x[:, :3].sum(axis=1).astype(np.float32)


def test_nan_in_a_target_is_diverged_nan_at_its_batch(
    scaled_digits: tuple[np.ndarray, np.ndarray],
) -> None:
    # The NaN goes in the target, not in x: the loss then subtracts it from the prediction, which
    # every CPU honours. A NaN in x need not reach the loss at all: with oneDNN on some Xeons a
    # fused Dense+ReLU maps NaN to a finite number, and the guard, which reads only the loss, sees
    # nothing. NaN in x is the data check's job (test_search's nan_x case, test_data).
    x, y = _regression(scaled_digits[0][:320])
    y = y.copy()
    y[70] = np.nan  # in the third batch of 32 when not shuffled
    guard = adamtune.DivergenceGuard()
    history = _fit(mlp(64, 1, activation="linear"), x, y, guard, lr=1e-3, loss="mse", shuffle=False)
    assert guard.outcome == "diverged-nan"
    assert guard.reason == "loss became nan at epoch 1, batch 3"
    assert (guard.stopped_epoch, guard.stopped_batch) == (0, 2)
    assert len(history["loss"]) == 1


def test_nan_loss_is_diverged_nan(scaled_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = scaled_digits

    def bad_loss(y_true: Any, y_pred: Any) -> Any:
        return keras.ops.mean(keras.ops.log(y_pred - 2.0))  # softmax output < 2: log of negative

    guard = adamtune.DivergenceGuard()
    _fit(mlp(64, 10), x[:128], y[:128], guard, lr=1e-3, loss=bad_loss)
    assert guard.outcome == "diverged-nan"
    assert re.search(NAN_REASON, guard.reason or "")
    assert (guard.stopped_epoch, guard.stopped_batch) == (0, 0)


def test_nan_validation_loss_is_diverged_nan(scaled_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = _regression(scaled_digits[0][:320])
    y_val = y[:64].copy()
    y_val[5] = np.nan  # in the target: a route to a NaN loss that no fused kernel can swallow
    guard = adamtune.DivergenceGuard()
    history = _fit(
        mlp(64, 1, activation="linear"),
        x,
        y,
        guard,
        lr=1e-3,
        loss="mse",
        validation_data=(x[:64], y_val),
    )
    assert guard.outcome == "diverged-nan"
    assert guard.reason == "val_loss became nan at epoch 1"
    assert guard.stopped_epoch == 0 and guard.stopped_batch is None
    assert len(history["loss"]) == 1


def _constant_model() -> Any:
    """Zero last-layer kernel: softmax of the bias only, a constant prediction."""
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros"),
        ]
    )


def _chance(y: np.ndarray) -> float:
    value = chance_loss(
        infer_target(y), y, keras.losses.serialize(keras.losses.SparseCategoricalCrossentropy())
    )
    assert value is not None
    return value


def test_constant_output_collapses_to_chance(scaled_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = scaled_digits
    x, y = x[:640], y[:640]
    level = _chance(y)
    assert level == pytest.approx(math.log(10), rel=1e-3)
    guard = adamtune.DivergenceGuard(chance_loss=level)
    history = _fit(_constant_model(), x, y, guard, lr=0.0)  # lr 0: the output stays uniform
    assert guard.outcome == "collapsed-to-chance"
    assert re.fullmatch(
        r"loss 2\.30\d* after 2 epochs is .*chance level 2\.30\d* \(a constant prediction\)",
        guard.reason or "",
    )
    assert guard.stopped_epoch == 1  # checked from warmup_epochs=2 on, then stopped
    assert len(history["loss"]) == 2


def test_chance_check_waits_for_warmup(scaled_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = scaled_digits
    guard = adamtune.DivergenceGuard(chance_loss=_chance(y), warmup_epochs=3, warmup_batches=0)
    history = _fit(_constant_model(), x[:320], y[:320], guard, lr=0.0, epochs=2)
    assert guard.outcome is None
    assert len(history["loss"]) == 2


def test_healthy_run_stays_silent(scaled_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = scaled_digits
    keras.utils.set_random_seed(0)
    guard = adamtune.DivergenceGuard(chance_loss=math.log(10))
    history = _fit(mlp(64, 10), x, y, guard, lr=1e-3, validation_split=0.2)
    assert guard.outcome is None
    assert guard.reason is None
    assert guard.stopped_epoch is None and guard.stopped_batch is None
    assert len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert guard.first_loss is not None and guard.last_loss is not None
    assert guard.last_loss < guard.first_loss


def test_guard_resets_between_fits(
    digits: tuple[np.ndarray, np.ndarray], scaled_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = digits
    guard = adamtune.DivergenceGuard()
    keras.utils.set_random_seed(0)
    _fit(mlp(64, 10), x, y, guard, lr=1e3, epochs=1)
    assert guard.outcome is not None
    xs, ys = scaled_digits
    _fit(mlp(64, 10), xs[:320], ys[:320], guard, lr=1e-3, epochs=1)
    assert guard.outcome is None and guard.reason is None


# -- the thresholds, driven batch by batch ---------------------------------------------------


def _feed(guard: Any, losses: list[float]) -> None:
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    for batch, loss in enumerate(losses):
        guard.on_train_batch_end(batch, {"loss": loss})


def test_blowup_waits_for_min_batches() -> None:
    early = adamtune.DivergenceGuard(min_batches=5)
    _feed(early, [1.0, 50.0, 50.0, 50.0, 50.0])
    assert early.outcome is None
    guard = adamtune.DivergenceGuard(min_batches=3)
    _feed(guard, [1.0, 50.0, 50.0, 50.0, 50.0])
    assert guard.outcome == "diverged-blowup"
    assert guard.reason == "loss rose from 1 to 50 (over 10x its start) in 4 batches"
    assert guard.stopped_batch == 3


def test_blowup_factor_is_respected() -> None:
    guard = adamtune.DivergenceGuard(blowup_factor=100.0, min_batches=1)
    _feed(guard, [1.0, 50.0, 99.0])
    assert guard.outcome is None
    _feed(guard, [1.0, 50.0, 101.0])
    assert guard.outcome == "diverged-blowup"
    assert "over 100x its start" in (guard.reason or "")


def _epochs(guard: Any, losses: list[float], batches_per_epoch: int = 10) -> None:
    guard.on_train_begin()
    for epoch, loss in enumerate(losses):
        guard.on_epoch_begin(epoch)
        for batch in range(batches_per_epoch):
            guard.on_train_batch_end(batch, {"loss": loss})
        guard.on_epoch_end(epoch, {"loss": loss})
        if guard.outcome is not None:
            return


NO_BATCH_WARMUP: dict[str, Any] = {"warmup_epochs": 1, "warmup_batches": 0}


def test_chance_tolerance() -> None:
    below = adamtune.DivergenceGuard(chance_loss=2.0, chance_tolerance=0.1, **NO_BATCH_WARMUP)
    _epochs(below, [1.79, 1.79, 1.79])  # flat, but below 2.0 * (1 - 0.1)
    assert below.outcome is None
    at = adamtune.DivergenceGuard(chance_loss=2.0, chance_tolerance=0.1, **NO_BATCH_WARMUP)
    _epochs(at, [1.81, 1.81, 1.81])
    assert at.outcome == "collapsed-to-chance"
    assert at.stopped_epoch == 1


def test_a_run_at_chance_whose_loss_still_falls_is_left_alone() -> None:
    guard = adamtune.DivergenceGuard(chance_loss=2.3, chance_tolerance=0.1, **NO_BATCH_WARMUP)
    _epochs(guard, [2.30, 2.25, 2.20])  # each epoch ~2% lower: slow, not collapsed
    assert guard.outcome is None
    _epochs(guard, [2.30, 2.25, 2.249])  # then flat
    assert guard.outcome == "collapsed-to-chance"
    assert guard.stopped_epoch == 2


def test_chance_check_waits_for_warmup_batches() -> None:
    guard = adamtune.DivergenceGuard(chance_loss=2.3, warmup_epochs=1, warmup_batches=30)
    _epochs(guard, [2.4, 2.4, 2.4], batches_per_epoch=10)
    assert guard.outcome == "collapsed-to-chance"
    assert guard.stopped_epoch == 2  # 30 batches have run only at the end of the third epoch


# -- constructor ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"blowup_factor": 1.0}, r"`blowup_factor` must be > 1\. Received: blowup_factor=1\.0"),
        ({"blowup_factor": 0.5}, r"`blowup_factor` must be > 1"),
        ({"min_batches": 0}, r"`min_batches` must be >= 1\. Received: min_batches=0"),
        ({"chance_loss": 0.0}, r"`chance_loss` must be > 0\. Received: chance_loss=0\.0"),
        ({"chance_loss": -1.0}, r"`chance_loss` must be > 0"),
        (
            {"chance_tolerance": 1.0},
            r"`chance_tolerance` must be in \[0, 1\)\. Received: chance_tolerance=1\.0",
        ),
        ({"chance_tolerance": -0.1}, r"`chance_tolerance` must be in \[0, 1\)"),
        ({"warmup_epochs": 0}, r"`warmup_epochs` must be >= 1\. Received: warmup_epochs=0"),
        ({"warmup_batches": -1}, r"`warmup_batches` must be >= 0\. Received: warmup_batches=-1"),
        (
            {"min_improvement": 1.0},
            r"`min_improvement` must be in \[0, 1\)\. Received: min_improvement=1\.0",
        ),
        ({"min_improvement": -0.5}, r"`min_improvement` must be in \[0, 1\)"),
    ],
)
def test_constructor_refuses_bad_arguments(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        adamtune.DivergenceGuard(**kwargs)


def test_get_config_round_trips() -> None:
    guard = adamtune.DivergenceGuard(
        blowup_factor=5.0,
        min_batches=2,
        chance_loss=0.69,
        chance_tolerance=0.05,
        warmup_epochs=3,
        warmup_batches=7,
        min_improvement=0.05,
        monitor="data_loss",
    )
    config = guard.get_config()
    assert config == {
        "blowup_factor": 5.0,
        "min_batches": 2,
        "chance_loss": 0.69,
        "chance_tolerance": 0.05,
        "warmup_epochs": 3,
        "warmup_batches": 7,
        "min_improvement": 0.05,
        "monitor": "data_loss",
    }
    assert adamtune.DivergenceGuard(**config).get_config() == config


def test_a_monitor_missing_from_the_logs_is_an_error_not_a_fallback(digits: Any) -> None:
    x, y = digits
    model = mlp(64, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    guard = adamtune.DivergenceGuard(chance_loss=math.log(10), monitor="data_loss")
    with pytest.raises(KeyError, match=r"monitor 'data_loss' is not in the epoch's logs"):
        model.fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[guard])


def test_the_chance_check_reads_the_unpenalized_loss_when_told(digits: Any) -> None:
    """A heavy L1 penalty keeps Keras's `loss` above ln 10 while the model learns."""
    import keras

    x, y = digits
    x = x / 16.0
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(
                64, activation="relu", kernel_regularizer=keras.regularizers.L1(1e-2)
            ),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    data_loss = keras.metrics.MeanMetricWrapper(
        keras.losses.sparse_categorical_crossentropy, name="data_loss"
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=[data_loss],
    )
    keras.utils.set_random_seed(0)
    guard = adamtune.DivergenceGuard(chance_loss=math.log(10), monitor="data_loss")
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[guard])
    assert history.history["loss"][-1] > math.log(10) * 0.98  # the penalty alone is above chance
    assert history.history["data_loss"][-1] < math.log(10) * 0.7  # while the model learns
    assert guard.outcome is None
