"""Class weights with tf.data and PyDataset streams, and the doctor on a stream's first samples.

``model.fit(train_ds, validation_data=val_ds, class_weight=...)`` is
``adamtune.search(model_fn, (train_ds, val_ds), class_weight=...)``: each training batch gets its
labels' class weights, validation none; ``"balanced"`` comes from the bounded training sample.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import fixed_space, imbalanced, mlp

import adamtune
from adamtune.data import SAMPLE_SIZE
from adamtune.spaces import Space

N_FEATURES = 10
N_TRAIN = 4000  # more than SAMPLE_SIZE: "balanced" sees the first 2048 only


def _model() -> Any:
    return mlp(N_FEATURES, 1, activation="sigmoid")


def _space(epochs: int = 8, **extra: Any) -> Space:
    return fixed_space(epochs=epochs, **extra)  # type: ignore[no-any-return]


def _imbalanced(n: int = 3000, class_sep: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    return imbalanced(n, class_sep, N_FEATURES)


def _arrays(
    n: int = 5000, class_sep: float = 0.6, n_train: int = N_TRAIN
) -> tuple[np.ndarray, ...]:
    x, y = _imbalanced(n, class_sep=class_sep)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _tf_streams(x: Any, y: Any, x_val: Any, y_val: Any, w: Any = None) -> tuple[Any, Any]:
    import tensorflow as tf

    train = (x, y) if w is None else (x, y, w)
    return (
        tf.data.Dataset.from_tensor_slices(train).batch(64),
        tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(256),
    )


def _py_dataset(x: Any, y: Any, w: Any = None, batch: int = 64) -> Any:
    import keras

    class Batches(keras.utils.PyDataset):
        def __len__(self) -> int:
            return -(-len(x) // batch)

        def __getitem__(self, i: int) -> Any:
            part = slice(i * batch, (i + 1) * batch)
            return (x[part], y[part]) if w is None else (x[part], y[part], w[part])

    return Batches()


def _search(data: Any, storage: str, **options: Any) -> Any:
    settings: dict[str, Any] = dict(
        space=_space(), trials=1, study_name="w", seed=0, verbose=0, first_trials=None
    )
    return adamtune.search(_model, data, storage=storage, **{**settings, **options})


def _curves(result: Any, number: int = 0) -> dict[str, list[float]]:
    curves: dict[str, list[float]] = result.study.trials[number].user_attrs["curves"]
    return curves


def _db(storage: str) -> Path:
    return Path(storage.removeprefix("sqlite:///"))


# -- class weights on a stream ------------------------------------------------------------------


def test_balanced_class_weight_on_a_stream_raises_the_minority_recall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """95/5 classes, a fixed 8-epoch trial; validation (never class-weighted) is the held-out
    set, so val_recall is the minority recall. Measured: 0.0 without weights (the model learns
    the 95% prior), 0.85 with them."""
    x, y, x_val, y_val = _arrays()
    runs = {
        cw: _search(
            _tf_streams(x, y, x_val, y_val),
            f"sqlite:///{tmp_path / f'{cw}.db'}",
            class_weight=cw,
            metrics=["recall"],
            verbose=1,
        )
        for cw in (None, "balanced")
    }
    plain = _curves(runs[None])["val_recall"][-1]
    balanced = _curves(runs["balanced"])["val_recall"][-1]
    assert balanced >= plain + 0.3, (plain, balanced)
    first = y[:SAMPLE_SIZE]  # from the bounded sample, not from all 4000 training labels
    expected = {c: SAMPLE_SIZE / (2 * np.sum(first == c)) for c in (0, 1)}
    weights = runs["balanced"].best.fit_kwargs()["class_weight"]
    assert weights == pytest.approx(expected)
    assert weights != pytest.approx({c: N_TRAIN / (2 * np.sum(y == c)) for c in (0, 1)})
    assert runs["balanced"].meta["class_weight"]["setting"] == "balanced"
    said = capsys.readouterr().err
    note = "class_weight='balanced' is computed from the class counts of the first 2048 samples"
    assert said.count(note) == 1, said
    counts = f"{{0: {int(np.sum(first == 0))}, 1: {int(np.sum(first == 1))}}}"
    assert counts in said
    assert "computed on the first 2048 samples of the training stream with sklearn" in said
    assert "computed on the training split" not in said  # no stream has one


@pytest.mark.slow  # two trainings per kind, compared; CI runs it in the slow pass
@pytest.mark.parametrize("kind", ["tf.data", "PyDataset"])
def test_a_dict_class_weight_trains_as_the_same_weights_yielded_by_the_stream(
    tmp_path: Path, kind: str
) -> None:
    """class_weight={0: 1, 1: 9} on a stream gives the curves of the stream yielding those
    weights as its third element: training loss and validation loss alike (validation is
    weighted by neither)."""
    x, y, x_val, y_val = _arrays(1600, class_sep=1.0, n_train=1200)
    w = np.where(y == 1, 9.0, 1.0).astype("float32")
    space = dataclasses.replace(_space(epochs=3), scaling=("none",))
    if kind == "tf.data":
        by_class, by_sample = _tf_streams(x, y, x_val, y_val), _tf_streams(x, y, x_val, y_val, w)
    else:
        val = _py_dataset(x_val, y_val, batch=256)
        by_class, by_sample = (_py_dataset(x, y), val), (_py_dataset(x, y, w), val)
    a = _search(by_class, f"sqlite:///{tmp_path}/a.db", space=space, class_weight={0: 1, 1: 9})
    b = _search(by_sample, f"sqlite:///{tmp_path}/b.db", space=space)
    assert a.best.adam.class_weight == "custom"
    ca, cb = _curves(a), _curves(b)
    for key in ("loss", "data_loss", "val_loss"):
        assert ca[key] == pytest.approx(cb[key], rel=1e-5), key
    plain = _search(by_class, f"sqlite:///{tmp_path}/c.db", space=space)
    assert _curves(plain)["loss"][0] != pytest.approx(ca["loss"][0], rel=1e-2)  # the control


def test_the_feed_weights_training_batches_by_label_and_validation_never() -> None:
    """Keras's lookup per batch: the rounded label of a (n, 1) column, the argmax of a one-hot
    row; a class left out of the mapping weighs 1.0."""
    import tensorflow as tf

    from adamtune.data import prepare_input

    x = np.random.default_rng(0).normal(size=(300, N_FEATURES)).astype("float32")
    labels = np.arange(300) % 3
    weights = {0: 2.0, 2: 5.0}
    want = np.array([2.0, 1.0, 5.0], dtype="float32")[labels]
    for y in (labels[:, None].astype("int64"), np.eye(3, dtype="float32")[labels]):
        train = tf.data.Dataset.from_tensor_slices((x, y)).batch(50)
        val = tf.data.Dataset.from_tensor_slices((x[:100], y[:100]))
        feed = prepare_input((train, val)).feed(64, "none", weights)
        # one epoch of each: the feed repeats a stream of known length (one iterator per trial)
        batches = list(feed["x"].take(feed["steps_per_epoch"]).as_numpy_iterator())
        assert all(len(b) == 3 for b in batches)
        assert np.concatenate([b[2] for b in batches]) == pytest.approx(want)
        val = feed["validation_data"].take(feed["validation_steps"])
        assert all(len(b) == 2 for b in val.as_numpy_iterator())


def test_a_space_searches_class_weight_with_a_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y, x_val, y_val = _arrays(1600, n_train=1200)
    space = _space(epochs=2, class_weight=["none", "balanced"])
    result = _search(
        _tf_streams(x, y, x_val, y_val),
        f"sqlite:///{tmp_path / 's.db'}",
        space=space,
        trials=2,
        strategy="grid",
        verbose=1,
    )
    from adamtune.result._result import config_from_trial

    assert sorted(result.trials["class_weight"]) == ["balanced", "none"]
    assert result.meta["class_weight"]["setting"] == "searched"
    for trial in result.study.trials:
        fit = config_from_trial(trial, result.meta, "w").fit_kwargs()
        weighted = trial.user_attrs["adam"]["class_weight"] == "balanced"
        assert ("class_weight" in fit) is weighted
        assert fit.get("class_weight", {0: 0, 1: 0}).keys() == {0, 1}
    said = capsys.readouterr().err
    assert said.count("computed from the class counts of the first 1200 samples") == 1, said


def _regression_streams() -> tuple[Any, Any]:
    x, _, x_val, _ = _arrays(5000)
    return _tf_streams(x, x[:, 0] * 2.0 + 0.5, x_val, x_val[:, 0] * 2.0 + 0.5)


STREAM_ERRORS = [
    pytest.param(
        {"class_weight": "balanced"},
        "regression",
        r"class weights need class labels, and y is a regression target\. Received: "
        r"class_weight='balanced'",
        id="regression",
    ),
    pytest.param(
        {"class_weight": {0: 1.0, 1: 9.0}},
        "weighted",
        r"class weights cannot be combined with sample weights \(keras\.Model\.fit refuses the "
        r"pair too\)\. Received: class_weight=\{0: 1\.0, 1: 9\.0\}",
        id="with-the-streams-sample-weights",
    ),
    pytest.param(
        {"class_weight": "balanced"},
        "sorted",
        r"its first 2048 samples hold one class only \(0\)\. Received: class_weight='balanced'; "
        r"shuffle the stream",
        id="one-class-in-the-sample",
    ),
    pytest.param(
        {"space": _space(class_weight=["none", "balanced"])},
        "sorted",
        r"hold one class only \(0\)\. Received: the space's class_weight field "
        r"\['none', 'balanced'\]",
        id="searched-one-class-in-the-sample",
    ),
    pytest.param(
        {"class_weight": {0: 1.0, 5: 2.0}},
        "plain",
        r"`class_weight` keys must be classes of y \(0\.\.1\)\. Received: .* key\(s\) \[5\]",
        id="unknown-class",
    ),
]


@pytest.mark.parametrize(("options", "data", "match"), STREAM_ERRORS)
def test_stream_class_weight_errors_before_anything_is_stored(
    tmp_path: Path, options: dict[str, Any], data: str, match: str
) -> None:
    x, y, x_val, y_val = _arrays()
    streams = {
        "plain": lambda: _tf_streams(x, y, x_val, y_val),
        "weighted": lambda: _tf_streams(x, y, x_val, y_val, np.ones(len(y), "float32")),
        "sorted": lambda: _tf_streams(x[np.argsort(y)], np.sort(y), x_val, y_val),
        "regression": _regression_streams,
    }
    storage = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(ValueError, match=match):
        _search(streams[data](), storage, **options)
    assert not _db(storage).exists()


# -- the doctor and the LR range test on a stream's first samples -------------------------------


def _digits_streams(digits: Any, n_train: int = 1400) -> tuple[Any, Any]:
    x, y = digits
    x = ((x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)).astype("float32")
    return _tf_streams(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def _digits_mlp() -> Any:
    return mlp(64, 10)


@pytest.mark.slow  # a whole diagnosis: about 7 s; CI runs it in the slow pass
def test_diagnose_runs_on_a_streams_first_samples_and_says_so(digits: Any) -> None:
    diagnosis = adamtune.diagnose(_digits_mlp, _digits_streams(digits), epochs=2)
    # raw pixels for 2 epochs end near chance level: a warmup remedy probe may run, or not
    assert {k: v for k, v in diagnosis.probes.items() if k != "remedies"} == {
        "data": "ran",
        "labels": "ran",
        "lr_range": "ran",
        "training": "ran",
    }
    assert diagnosis.setup["n_train"] == 1400 and diagnosis.setup["n_val"] == 397
    finding = diagnosis["stream-sample"]
    assert finding.severity == "info"
    assert (
        "used the first 1400 samples of the training stream (all of it) and the first 397 of "
        "the validation stream (all of it)" in finding.evidence
    )
    assert diagnosis.setup["stream_sample"]["sample_size"] == SAMPLE_SIZE
    assert "the first samples of the streams" in diagnosis.table()
    assert diagnosis.ok, diagnosis.table()  # standardized digits: a healthy setup
    assert diagnosis.lr_range is not None


def test_diagnose_reports_nan_in_a_streams_sample_as_a_finding(digits: Any) -> None:
    import tensorflow as tf

    x, y = digits
    x = x.copy()
    x[3, 5] = np.nan
    train = tf.data.Dataset.from_tensor_slices((x[:1400], y[:1400])).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x[1400:], y[1400:]))
    diagnosis = adamtune.diagnose(_digits_mlp, (train, val), epochs=1, lr_range=False)
    assert diagnosis["nonfinite-data"].severity == "error"
    assert "stream-sample" in diagnosis


def test_lr_range_test_runs_on_the_first_samples_of_a_long_stream() -> None:
    from adamtune.cli._lr_find import summary

    x, y, x_val, y_val = _arrays(class_sep=1.0)
    result = adamtune.lr_range_test(_model, _tf_streams(x, y, x_val, y_val), steps=30)
    assert result.stream_sample == SAMPLE_SIZE
    assert json.loads(json.dumps(result.to_dict()))["stream_sample"] == SAMPLE_SIZE
    assert (
        "data: ran on the first 2048 samples of the training stream (at most 2048 are read), "
        "not the whole stream" in summary(result)
    )
    low, high = result.suggested
    assert 0 < low < high


TARGETS = """
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras


def build_model():
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def load_data():
    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x[:1400], d.target[:1400])).batch(32)
    return train, tf.data.Dataset.from_tensor_slices((x[1400:], d.target[1400:])).batch(64)
"""


@pytest.mark.slow  # two CLI runs: about 7 s; CI runs it in the slow pass
def test_cli_doctor_and_lr_find_take_a_data_function_returning_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from adamtune.cli import main

    targets = tmp_path / "stream_targets.py"
    targets.write_text(TARGETS)
    model, data = f"{targets}:build_model", f"{targets}:load_data"
    assert main(["doctor", model, "--data", data, "--epochs", "1", "--no-lr-range", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "stream-sample" in report["codes"]
    assert report["setup"]["stream_sample"]["n_train"] == 1400
    assert main(["lr-find", model, "--data", data, "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "data: ran on the first 1400 samples of the training stream (all of it" in out
