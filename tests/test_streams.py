"""tf.data and PyDataset as ``data``: re-batched, scaled on a bounded sample, never read whole."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import mlp

import adamtune
from adamtune import StudyMismatchError

N_TRAIN = 1400


def _split(digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    x, y = digits
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def _datasets(digits: Any, batch: int | None = 64) -> tuple[Any, Any]:
    import tensorflow as tf

    x, y, x_val, y_val = _split(digits)
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(N_TRAIN, seed=0)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    if batch is not None:
        train, val = train.batch(batch), val.batch(batch)
    return train, val


def build_model() -> Any:
    return mlp(64, 10, units=32)


def _file(storage: str) -> Path:
    return Path(storage.removeprefix("sqlite:///"))


def _search(data: Any, storage: str, **options: Any) -> Any:
    options = {"trials": 2, "epochs": 3, "seed": 0, "verbose": 0, **options}
    return adamtune.search(build_model, data, storage=storage, **options)


@pytest.mark.parametrize("batch", [64, None], ids=["batched", "unbatched"])
def test_tf_data_search_export_and_train(
    digits: Any, storage: str, tmp_path: Path, batch: int | None, capsys: Any
) -> None:
    train, val = _datasets(digits, batch)
    result = _search((train, val), storage, verbose=1, pruner="none")
    assert result.meta["data"]["stream"] == "tf.data"
    assert result.meta["data"]["batched"] is (batch is not None)
    said = capsys.readouterr().err
    assert ("unbatched and re-batched" in said) is (batch is not None)
    rebatched = "training dataset re-batched at the trial's batch size"
    assert all((rebatched in row) is (batch is not None) for row in result.trials["changes"])
    assert "fitted on the first 1400 samples of the training stream" in said
    result.export(tmp_path / "tuned.json")
    cfg = adamtune.load_config(tmp_path / "tuned.json")
    model = cfg.build(build_model)
    x, y, x_val, y_val = _split(digits)  # the user's own pipeline, scaled by the exported scaler
    batch_size = cfg.fit_kwargs()["batch_size"]
    # 10 epochs, more than the search's 3: a schedule is spread over this run's steps
    model.compile(**cfg.compile_kwargs(total_steps=10 * math.ceil(len(x) / batch_size)))
    import tensorflow as tf

    scaler = cfg.scaler().fit(x)
    own = tf.data.Dataset.from_tensor_slices((scaler.transform(x), y)).shuffle(N_TRAIN, seed=0)
    model.fit(own.batch(batch_size), epochs=10, verbose=0, shuffle=False)
    _, accuracy = model.evaluate(scaler.transform(x_val), y_val, verbose=0)
    assert accuracy > 0.85, (cfg.adam, accuracy)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # a re-batched stream's 1st epoch
def test_a_trial_batches_the_stream_at_its_own_size(digits: Any) -> None:
    import keras

    from adamtune.data import prepare_input

    train, val = _datasets(digits, batch=100)
    streamed = prepare_input((train, val))
    feed = streamed.feed(16, "standard")
    seen: list[int] = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            seen.append(batch)

    model = build_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(**feed, epochs=1, verbose=0, callbacks=[Batches()])
    assert len(seen) == math.ceil(N_TRAIN / 16)  # not the dataset's own 100
    x, _ = next(iter(feed["x"]))
    assert x.shape == (16, 64)
    assert abs(float(np.mean(x))) < 0.5  # standardized by the sample's scaler


def _pydataset(x: np.ndarray, y: np.ndarray, size: int = 50) -> Any:
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()

        def __len__(self) -> int:
            return math.ceil(len(x) / size)

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            return x[i * size : (i + 1) * size], y[i * size : (i + 1) * size]

    return Batches()


def test_pydataset_keeps_its_batch_size_and_says_so(digits: Any, storage: str, capsys: Any) -> None:
    x, y, x_val, y_val = _split(digits)
    data = adamtune.Data(_pydataset(x, y), validation=_pydataset(x_val, y_val))
    result = _search(data, storage, verbose=1, epochs=2)
    assert set(result.trials["batch_size"]) == {50}
    assert result.meta["space"]["batch_size"] == [50]
    assert "batch size dropped from the space (16, 32, 64, 128, 256 -> 50)" in (
        capsys.readouterr().err
    )
    assert result.outcomes.get("ok", 0) + result.outcomes.get("pruned", 0) == 2


def test_infinite_stream_needs_steps_per_epoch(digits: Any, storage: str) -> None:
    train, val = _datasets(digits)
    with pytest.raises(ValueError, match=r"`steps_per_epoch` is needed: the training tf.data is "):
        _search((train.repeat(), val), storage)
    assert not _file(storage).exists()
    result = _search((train.repeat(), val), storage, trials=1, epochs=1, steps_per_epoch=20)
    assert result.meta["data"]["steps_per_epoch"] == 20
    assert result.meta["data"]["cardinality"] == -1


def test_nan_in_the_first_batch_is_refused_before_storage(digits: Any, storage: str) -> None:
    import tensorflow as tf

    x, y, x_val, y_val = _split(digits)
    x = x.copy()
    x[3, 5] = np.nan
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    with pytest.raises(ValueError, match=r"`x` of the training stream must be finite.*\(3, 5\)"):
        _search((train, val), storage)
    assert not _file(storage).exists()


def test_a_stream_that_raises_mid_epoch_crashes_that_trial(digits: Any, storage: str) -> None:
    import tensorflow as tf

    x, y, x_val, y_val = _split(digits)
    calls = {"n": 0}

    def count(index: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == N_TRAIN + 700:  # the second pass (the first is the sample), once
            raise RuntimeError("disk went away")
        return index

    def pulled(i: Any, xi: Any, yi: Any) -> Any:
        i = tf.py_function(count, [i], tf.int64)
        return xi, yi

    indexed = tf.data.Dataset.from_tensor_slices((np.arange(N_TRAIN), x, y))
    train = indexed.map(pulled).batch(64)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    result = _search((train, val), storage, trials=1, epochs=1, first_trials=None)
    import optuna

    failed = [t for t in result.study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) == 1
    assert failed[0].user_attrs["outcome"] == "crashed-error"
    assert "disk went away" in failed[0].user_attrs["error"]
    assert result.outcomes["crashed-error"] == 1


def test_resume_with_a_differently_shaped_stream_is_refused(digits: Any, storage: str) -> None:
    import tensorflow as tf

    x, y, x_val, y_val = _split(digits)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    _search((train, val), storage, trials=1, epochs=1, study_name="s")
    column = tf.data.Dataset.from_tensor_slices((x, y[:, None])).batch(64)  # y as (n, 1)
    with pytest.raises(StudyMismatchError, match=r"data\.y_shape: stored \[\], now \[1\]"):
        _search((column, val), storage, trials=2, epochs=1, study_name="s")


def test_stream_forms_refused_with_what_to_pass(digits: Any, storage: str) -> None:
    train, val = _datasets(digits)
    with pytest.raises(ValueError, match=r"needs a validation set.*Received: no validation data"):
        _search(train, storage)
    with pytest.raises(ValueError, match=r"adamtune.Data: a dataset carries.*Received: y"):
        _search(adamtune.Data(train, digits[1], validation=val), storage)
    with pytest.raises(TypeError, match=r"Python generator.*from_generator"):
        _search(((a, b) for a, b in zip(*digits, strict=True)), storage)
    with pytest.raises(TypeError, match=r"must be \(train_ds, val_ds\). Received: a tuple of len"):
        _search((train, val, val), storage)
    with pytest.raises(TypeError, match=r"a validation dataset goes with a training dataset"):
        _search(adamtune.Data(*digits, validation=val), storage)
    with pytest.raises(ValueError, match=r"`steps_per_epoch` sets the length.*Received"):
        _search(digits, storage, steps_per_epoch=5)
    from adamtune.data import prepare_data  # streams go through prepare_input

    with pytest.raises(TypeError, match=r"prepare_data takes arrays.*Received: _BatchDataset"):
        prepare_data((train, val))
    with pytest.raises(ValueError, match=r"needs a validation set.*Received: no validation data"):
        adamtune.diagnose(build_model, train)  # the doctor reads a stream as a search does
    assert not _file(storage).exists()


def test_array_validation_field(digits: Any, storage: str) -> None:
    from adamtune.data import prepare_data

    x, y, x_val, y_val = _split(digits)
    prepared = prepare_data(adamtune.Data(x, y, validation=(x_val, y_val)))
    assert len(prepared.x_val) == len(x_val)
    with pytest.raises(ValueError, match=r"give the validation set once.*Received: both"):
        prepare_data(adamtune.Data(x, y, x_val, y_val, validation=(x_val, y_val)))


def test_stream_sample_weights_and_spec(digits: Any) -> None:
    import tensorflow as tf

    from adamtune.data import prepare_input

    x, y, x_val, y_val = _split(digits)
    w = np.where(np.arange(N_TRAIN) % 2 == 0, 1.0, 0.0).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    streamed = prepare_input(adamtune.Data(train, validation=val))
    assert streamed.w_train is not None and streamed.w_train.sum() == N_TRAIN // 2
    assert streamed.fingerprint() == {
        "stream": "tf.data",
        "val_stream": "tf.data",
        "x_shape": [64],
        "x_dtype": "float32",
        "y_shape": [],
        "y_dtype": "int64",
        "batched": True,
        "cardinality": math.ceil(N_TRAIN / 32),
        "val_cardinality": len(x_val),
        "target": "multiclass",
        "n_classes": 10,
        "sample_weight": True,
    }
    x_batch, _, w_batch = next(iter(streamed.feed(64, "none")["x"]))
    assert x_batch.shape == (64, 64) and w_batch.shape == (64,)


def test_a_finite_stream_keeps_one_iterator_per_trial(digits: Any) -> None:
    """Keras makes two iterators per epoch of a stream given without step counts (about 0.2 s of a
    10-epoch trial here): a stream of known length is repeated with its steps counted instead,
    one epoch still being one pass."""
    import tensorflow as tf

    from adamtune.data import prepare_input

    x, y = digits
    train = tf.data.Dataset.from_tensor_slices((x[:1000], y[:1000]))
    val = tf.data.Dataset.from_tensor_slices((x[1000:1300], y[1000:1300]))
    for given in (train, train.batch(32)):  # known length; re-batched (length from the sample)
        feed = prepare_input((given, val)).feed(64, "standard")
        assert feed["steps_per_epoch"] == 16 and feed["validation_steps"] == 2  # ceil(1000/64)
        assert int(feed["x"].cardinality()) == -1  # repeated: one iterator for the whole trial
        one_epoch = list(feed["x"].take(16).as_numpy_iterator())
        assert sum(len(b[0]) for b in one_epoch) == 1000  # one epoch is one pass
