"""A validation pass inside the first epoch (``asha-third``'s rung): where it falls, and that the
epoch Keras logs is the same with it as without it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import mlp

from adamtune.training._feed import make_feed
from adamtune.training._midepoch import mid_epoch_marks, value_mid_epoch


def test_a_third_falls_on_whole_batches_and_never_on_the_first_or_the_last() -> None:
    assert mid_epoch_marks(9, (1 / 3,)) == {3: 1 / 3}
    assert mid_epoch_marks(10, (1 / 3,)) == {3: 1 / 3}
    assert mid_epoch_marks(3, (1 / 3,)) == {1: 1 / 3}
    assert mid_epoch_marks(2, (1 / 3,)) == {}  # a third of two batches is none
    assert mid_epoch_marks(None, (1 / 3,)) == {}  # a stream of unknown length
    assert mid_epoch_marks(30, ()) == {}  # a pruner with no rung inside the epoch
    with pytest.raises(ValueError, match=r"strictly between 0 and 1; got 1.0"):
        mid_epoch_marks(9, (1.0,))


def _fit_one_epoch(data: tuple[Any, ...], at_batch: int | None) -> tuple[dict[str, Any], Any]:
    """One seeded epoch of the digits MLP; at ``at_batch`` (1-based) a validation pass."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    x_tr, y_tr, x_va, y_va = data
    feed = make_feed(x_tr, y_tr, x_va, y_va, batch_size=32)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    seen: dict[str, Any] = {}

    class _Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if at_batch is not None and batch + 1 == at_batch:
                seen["val_loss"] = value_mid_epoch(self.model, feed, "val_loss")
                seen["val_accuracy"] = value_mid_epoch(self.model, feed, "val_accuracy")
                seen["absent"] = value_mid_epoch(self.model, feed, "val_data_loss")

    history = model.fit(**feed, epochs=1, verbose=0, callbacks=[_Probe()])
    return seen, history.history


def test_the_pass_measures_the_model_then_and_leaves_the_epochs_logs_as_they_were(
    digits: Any,
) -> None:
    x, y = digits
    x = x / 16.0
    data = (x[:640], y[:640], x[640:900], y[640:900])  # 20 batches a training epoch
    seen, with_pass = _fit_one_epoch(data, at_batch=6)
    _, without = _fit_one_epoch(data, at_batch=None)
    # The epoch's training loss and accuracy are the running means over its 20 batches alone:
    # evaluate reset and refilled the same metric variables, and they were put back.
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert with_pass[key] == pytest.approx(without[key], rel=1e-5), key
    # A third in, the model is worse than at the epoch's end, and says so on validation.
    assert np.isfinite(seen["val_loss"]) and seen["val_loss"] > with_pass["val_loss"][0]
    assert 0.0 <= seen["val_accuracy"] < with_pass["val_accuracy"][0]
    assert seen["absent"] is None  # a key evaluate does not log: no value, no error
