"""Inputs of every shape: images and sequences scaled per channel, token ids never scaled, and a
changed model refused instead of resumed. Real searches on small models, then the README's
training-code steps (export, load_config, scaler, build, fit) on the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import adamtune
from adamtune.data import make_scaler, scale_split
from adamtune.data._feature_scaler import FeatureScaler

# A whole search-to-retraining run on KerasTuner's engine too; with -m slow (.ci/run runs both).
RETRAIN_STRATEGIES = ["tpe", pytest.param("kt-random", marks=pytest.mark.slow)]

# -- the scaler: per feature on 2-D, per channel (last axis) on N-D ---------------------------


def test_an_image_batch_is_scaled_per_channel_in_its_shape() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal([1.0, 50.0, -3.0], [0.5, 20.0, 4.0], size=(30, 8, 8, 3)).astype(np.float32)
    scaler = make_scaler("standard").fit(x)
    out = scaler.transform(x)
    assert out.shape == x.shape
    per_channel = out.reshape(-1, 3)
    np.testing.assert_allclose(per_channel.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(per_channel.std(axis=0), 1.0, atol=1e-3)
    assert scaler.scaler_.mean_.shape == (3,)  # one mean per channel, not per pixel
    np.testing.assert_allclose(scaler.inverse_transform(out), x, rtol=1e-4, atol=1e-3)


def test_a_sequence_batch_is_scaled_per_feature_over_time() -> None:
    x = np.random.default_rng(1).uniform(0, [10.0, 1000.0], size=(12, 7, 2))
    out = make_scaler("minmax").fit(x).transform(x)
    assert out.shape == (12, 7, 2)
    assert out.reshape(-1, 2).min(axis=0).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(out.reshape(-1, 2).max(axis=0), [1.0, 1.0])


def test_a_2d_array_is_scaled_exactly_as_scikit_learn_does() -> None:
    x = np.random.default_rng(2).normal(5, 3, size=(50, 4))
    np.testing.assert_array_equal(
        make_scaler("standard").fit_transform(x), StandardScaler().fit_transform(x)
    )


def test_the_search_scales_as_the_exported_scaler_does() -> None:
    x = np.random.default_rng(3).normal(2.0, 3.0, size=(40, 6, 6, 2)).astype(np.float32)
    train, val = scale_split("robust", x[:30], x[30:])
    scaler = make_scaler("robust").fit(x[:30])
    np.testing.assert_allclose(train, scaler.transform(x[:30]), rtol=1e-6)
    np.testing.assert_allclose(val, scaler.transform(x[30:]), rtol=1e-6)


def test_scaler_errors_name_the_problem() -> None:
    with pytest.raises(
        ValueError, match=r"`scaling` must be one of none, standard, minmax, robust"
    ):
        make_scaler("zscore")
    scaler = FeatureScaler("standard")
    with pytest.raises(ValueError, match=r"must have a sample axis and a feature axis"):
        scaler.fit(np.zeros(5))
    scaler.fit(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"has 3 channel\(s\) on its last axis, but the scaler "):
        scaler.transform(np.zeros((4, 2, 3)))


# -- a CNN on digit images: search, export, load, scale, build, retrain ------------------------


@pytest.fixture(scope="module")
def images(digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x, y = digits
    return x.reshape(-1, 8, 8, 1), y


def small_cnn() -> Any:
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _space(**fields: Any) -> Any:
    base = adamtune.load_space("quick").to_dict()
    base.update({"name": "inputs-test", "epochs": 3, **fields})
    return adamtune.Space.from_dict(base)


@pytest.mark.parametrize("strategy", RETRAIN_STRATEGIES)
def test_a_cnn_goes_from_search_to_retraining_as_the_readme_shows(
    images: tuple[np.ndarray, np.ndarray], tmp_path: Path, strategy: str
) -> None:
    x, y = images
    space = _space(scaling=["standard"], batch_norm=[False], regularizer={"none": None})
    storage = str(tmp_path / "kt") if strategy.startswith("kt-") else f"sqlite:///{tmp_path}/s.db"
    result = adamtune.search(
        small_cnn, (x, y), space=space, trials=2, strategy=strategy, storage=storage,
        seed=0, verbose=0,
    )  # fmt: skip
    cfg = adamtune.load_config(result.export(tmp_path / "tuned.yaml"))
    assert cfg.adam.scaling == "standard"
    x_train, x_test, y_train, y_test = x[:1400], x[1400:], y[:1400], y[1400:]
    scaler = cfg.scaler().fit(x_train)  # the user's 4-D array, as it is
    x_train_s, x_test_s = scaler.transform(x_train), scaler.transform(x_test)
    assert x_train_s.shape == x_train.shape and x_test_s.shape == x_test.shape
    keras.utils.set_random_seed(0)
    model = cfg.build(small_cnn)
    model.compile(**cfg.compile_kwargs())
    model.fit(x_train_s, y_train, **{**cfg.fit_kwargs(), "epochs": 8}, verbose=0)
    _, accuracy = model.evaluate(x_test_s, y_test, verbose=0)
    assert accuracy > 0.85


# -- token ids: never scaled, and said so ------------------------------------------------------


def token_data(n: int = 600, length: int = 12, vocab: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of token ids; the class is whether token 7 appears."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, vocab, size=(n, length))
    y = (x == 7).any(axis=1).astype("int64")
    return x, y


def embedding_lstm() -> Any:
    return keras.Sequential(
        [
            keras.Input(shape=(12,)),
            keras.layers.Embedding(40, 8, name="tokens"),
            keras.layers.LSTM(8),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def embedding_gru_functional() -> Any:
    inputs = keras.Input(shape=(12,), dtype="int32")
    h = keras.layers.Embedding(40, 8, name="words")(inputs)
    h = keras.layers.GRU(8)(h)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))


@pytest.mark.parametrize(
    ("model_fn", "layer"), [(embedding_lstm, "tokens"), (embedding_gru_functional, "words")]
)
def test_token_ids_are_never_scaled_and_the_user_is_told_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model_fn: Any, layer: str
) -> None:
    x, y = token_data()
    space = _space(scaling=["standard", "robust"], epochs=2)
    result = adamtune.search(
        model_fn, (x, y), space=space, trials=3, storage=f"sqlite:///{tmp_path}/s.db", verbose=1
    )
    err = capsys.readouterr().err
    note = (
        "input scaling dropped from the space (standard, robust -> none): x holds token ids "
        f"read by Embedding {layer}"
    )
    assert err.count(note) == 1, err
    table = result.trials
    assert set(table["scaling"]) == {"none"}  # the first (textbook) trial too
    change = f"scaling dropped: x holds token ids (Embedding {layer})"
    assert all(change in row for row in table["changes"]), table["changes"].tolist()
    assert result.best.adam.scaling == "none"
    assert change in result.best.changes
    assert result.meta["space"]["scaling"] == ["none"]
    # ... and where the user looks: `adamtune status` and the report's best-config section
    from adamtune.cli._commands import status_dict

    assert change in status_dict(result, f"sqlite:///{tmp_path}/s.db")["best"]["changes"]
    page = result.report(tmp_path / "report.html").read_text()
    assert "What adamtune changed in the model" in page and change in page


@pytest.mark.parametrize("strategy", RETRAIN_STRATEGIES)
def test_an_rnn_goes_from_search_to_retraining_as_the_readme_shows(
    tmp_path: Path, strategy: str
) -> None:
    x, y = token_data(n=900)
    storage = str(tmp_path / "kt") if strategy.startswith("kt-") else f"sqlite:///{tmp_path}/s.db"
    result = adamtune.search(
        embedding_lstm, (x[:700], y[:700]), space=_space(epochs=2), trials=2,
        strategy=strategy, storage=storage, seed=0, verbose=0,
    )  # fmt: skip
    cfg = adamtune.load_config(result.export(tmp_path / "tuned.json"))
    assert cfg.adam.scaling == "none"
    assert "scaling dropped: x holds token ids (Embedding tokens)" in cfg.changes
    scaler = cfg.scaler().fit(x[:700])  # the identity: token ids go in as they are
    np.testing.assert_array_equal(scaler.transform(x[700:]), x[700:])
    keras.utils.set_random_seed(0)
    model = cfg.build(embedding_lstm)
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert (lstm.activation.__name__, lstm.recurrent_activation.__name__) == ("tanh", "sigmoid")
    model.compile(**cfg.compile_kwargs())
    model.fit(x[:700], y[:700], **{**cfg.fit_kwargs(), "epochs": 15}, verbose=0)
    _, accuracy = model.evaluate(x[700:], y[700:], verbose=0)
    assert accuracy > 0.8  # is token 7 in the sequence: about 0.73 of them hold none


def test_integer_features_without_an_embedding_are_still_scaled(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 500, size=(300, 5))  # counts, fed to a Dense: scaling them is right
    y = (x[:, 0] > 250).astype("int64")

    def dense() -> Any:
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")])

    result = adamtune.search(
        dense, (x, y), space=_space(scaling=["standard"], epochs=1), trials=1,
        storage=f"sqlite:///{tmp_path}/s.db", verbose=0,
    )  # fmt: skip
    assert set(result.trials["scaling"]) == {"standard"}
    assert not any("scaling dropped" in row for row in result.trials["changes"])


# -- a different model under the same study name is refused ----------------------------------


def build_model() -> Any:
    return keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)]
    )


def test_a_changed_model_does_not_resume_an_old_study(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    global build_model
    x, y = digits
    storage = f"sqlite:///{tmp_path}/s.db"
    space = _space(epochs=1)
    first = adamtune.search(build_model, (x, y), space=space, trials=1, storage=storage, verbose=0)
    assert first.study.study_name == "adamtune-build_model"
    original = build_model

    def build_model() -> Any:  # the same name, another architecture
        return keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(10),
            ]
        )

    try:
        with pytest.raises(
            adamtune.StudyMismatchError,
            match=r"(?s)study 'adamtune-build_model' was created for a different model.*"
            r"model\.layers: stored \['Dense', 'Dense'\], now \['Dense', 'Dense', 'Dense'\].*"
            r"model\.parameters: stored 1210, now 3466",
        ):
            adamtune.search(build_model, (x, y), space=space, trials=2, storage=storage, verbose=0)
        # the same model again resumes
        build_model = original
        again = adamtune.search(
            build_model, (x, y), space=space, trials=2, storage=storage, verbose=0
        )
        assert sum(again.outcomes.values()) == 2
    finally:
        build_model = original


# -- a model with its own BatchNorm and its own L2: kept, and the search says so ---------------


def own_bn_and_l2() -> Any:
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                32, activation="relu", name="mine", kernel_regularizer=keras.regularizers.L2(1e-3)
            ),
            keras.layers.BatchNormalization(name="my_bn"),
            keras.layers.Dense(16, activation="relu", name="plain"),
            keras.layers.Dense(10, activation="softmax", name="out"),
        ]
    )


def test_the_users_own_batch_norm_and_l2_are_kept_and_said(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = digits
    space = _space(epochs=1, regularizer={"l2": {"low": 1e-5, "high": 1e-4}})
    result = adamtune.search(
        own_bn_and_l2, (x, y), space=space, trials=3, storage=f"sqlite:///{tmp_path}/s.db",
        first_trials=None, seed=0, verbose=1,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("BatchNorm dropped from the space (batch_norm -> false)") == 1, err
    table = result.trials
    assert set(table["batch_norm"]) == {False}
    for row in table["changes"]:
        assert "BatchNorm not added: the model has its own" in row
        assert "L2(" in row and " on plain, out" in row  # not on the user's own "mine"
    model = result.best.build(own_bn_and_l2)
    batch_norms = [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]
    assert [la.name for la in batch_norms] == ["my_bn"]  # one, the user's: none added
    assert model.get_layer("mine").kernel_regularizer.get_config() == {"l2": pytest.approx(1e-3)}
    tuned = model.get_layer("plain").kernel_regularizer.get_config()["l2"]
    assert tuned == pytest.approx(result.best.adam.regularizer_strength)
