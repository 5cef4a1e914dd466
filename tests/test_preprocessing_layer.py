"""``TunedConfig.preprocessing_layer``: the tuned scaler as a Keras layer, same numbers as
``cfg.scaler()``, in ``ds.map``, inside a saved and loaded model, and its input checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from adamtune.data import SAMPLE_SIZE
from adamtune.params import AdamParams
from adamtune.result import TunedConfig

SCALERS = ["standard", "minmax", "robust"]


def _config(scaling: str) -> TunedConfig:
    return TunedConfig(
        adam=AdamParams(learning_rate=1e-3, batch_size=32, scaling=scaling),
        epochs=2,
        optimizer=keras.optimizers.serialize(keras.optimizers.Adam(learning_rate=1e-3)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def _images(n: int = 300) -> np.ndarray:
    """Image-like x, (n, 6, 5, 3): each channel on its own scale, with outliers for robust."""
    rng = np.random.default_rng(0)
    x = rng.normal([10.0, -3.0, 200.0], [2.0, 0.5, 40.0], size=(n, 6, 5, 3))
    x[::37, 0, 0, :] *= 8.0
    return x.astype(np.float32)


def _same(layer: Any, scaling: str, fitted_on: np.ndarray, x: np.ndarray) -> None:
    expected = _config(scaling).scaler().fit(fitted_on).transform(x)
    got = keras.ops.convert_to_numpy(layer(x))
    assert got.shape == x.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scaling", SCALERS)
def test_layer_equals_the_scaler_per_feature(digits: Any, scaling: str) -> None:
    x, _ = digits
    layer = _config(scaling).preprocessing_layer(x)
    assert isinstance(layer, keras.layers.Normalization)
    _same(layer, scaling, x, x)


@pytest.mark.parametrize("scaling", SCALERS)
def test_layer_equals_the_scaler_per_channel_on_images(scaling: str) -> None:
    x = _images()
    _same(_config(scaling).preprocessing_layer(x), scaling, x, x)
    # an integer image (uint8) is fitted and scaled the same way, as float32 out
    pixels = np.random.default_rng(1).integers(0, 256, size=(50, 4, 4, 3)).astype(np.uint8)
    layer = _config(scaling).preprocessing_layer(pixels)
    _same(layer, scaling, pixels, pixels)
    assert keras.ops.convert_to_numpy(layer(pixels)).dtype == np.float32


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("form", ["x", "xy", "xyw"])
def test_a_dataset_sample_fits_on_its_first_samples(batched: bool, form: str) -> None:
    x = _images(SAMPLE_SIZE + 500)
    x[SAMPLE_SIZE:] += 1000.0  # after the sample: would move every channel's numbers if read
    y, w = np.arange(len(x)) % 3, np.ones(len(x), dtype=np.float32)
    element = {"x": x, "xy": (x, y), "xyw": (x, y, w)}[form]
    ds = tf.data.Dataset.from_tensor_slices(element)
    ds = ds.batch(100) if batched else ds
    layer = _config("standard").preprocessing_layer(ds.repeat())  # infinite: read bounded
    _same(layer, "standard", x[:SAMPLE_SIZE], x[:50])


@pytest.mark.parametrize("scaling", SCALERS)
def test_layer_works_inside_ds_map(digits: Any, scaling: str) -> None:
    x, y = digits
    layer = _config(scaling).preprocessing_layer(x)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).map(lambda a, b: (layer(a), b))
    xs, ys = zip(*ds.as_numpy_iterator(), strict=True)
    expected = _config(scaling).scaler().fit(x).transform(x)
    np.testing.assert_allclose(np.concatenate(xs), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.concatenate(ys), y)


@pytest.mark.parametrize("scaling", [*SCALERS, "none"])
def test_layer_survives_a_saved_and_loaded_model(tmp_path: Path, scaling: str) -> None:
    x = _images(120)
    layer = _config(scaling).preprocessing_layer(x)
    inputs = keras.Input(shape=x.shape[1:])
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(layer(inputs)))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    before = model.predict(x, verbose=0)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)
    scaled = keras.Model(loaded.inputs, loaded.layers[1].output).predict(x, verbose=0)
    if scaling == "none":
        np.testing.assert_array_equal(scaled, x)
    else:
        expected = _config(scaling).scaler().fit(x).transform(x)
        np.testing.assert_allclose(scaled, expected, rtol=1e-5, atol=1e-5)


def test_none_is_the_identity(digits: Any) -> None:
    x, _ = digits
    layer = _config("none").preprocessing_layer(x)
    assert type(layer) is keras.layers.Identity
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)


def test_py_snippet_header_tells_how_to_get_the_layer(tmp_path: Path, digits: Any) -> None:
    x, _ = digits
    config = _config("minmax")
    path = config.export(tmp_path / "tuned_layer.py")
    header = path.read_text().split("import keras")[0]
    assert "preprocessing_layer(x_train) gives\n# the scaling as a Keras layer" in header
    spec = importlib.util.spec_from_file_location("tuned_layer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _same(module.preprocessing_layer(x), "minmax", x, x)  # as the header says
    _same(TunedConfig.from_dict(module.CONFIG).preprocessing_layer(x), "minmax", x, x)


# -- bad input ----------------------------------------------------------------------------------


def _empty_dataset() -> Any:
    return tf.data.Dataset.from_tensor_slices(np.zeros((0, 4), dtype=np.float32))


@pytest.mark.parametrize("scaling", ["standard", "none"])  # checked whatever the tuned scaling
@pytest.mark.parametrize(
    ("sample", "error", "pattern"),
    [
        ([[1.0, 2.0]], TypeError, r"`sample` must be a NumPy array .* of type list"),
        (None, TypeError, r"`sample` must be a NumPy array .* type NoneType"),
        (np.array([["a", "b"]]), TypeError, r"`sample` must hold numbers. Received dtype <U1"),
        (
            np.arange(5.0),
            ValueError,
            r"`sample` must have a sample axis and at least one feature axis",
        ),
        (np.zeros((0, 4)), ValueError, r"`sample` must hold at least one sample .* \(0, 4\)"),
        (
            np.array([[1.0, np.nan], [2.0, 3.0]]),
            ValueError,
            r"`sample` contains 1 NaN or infinite value\(s\) \(first at index \(0, 1\)\)",
        ),
        (
            np.array([[1.0, 2.0], [np.inf, 3.0]]),
            ValueError,
            r"`sample` contains 1 NaN.*\(first at index \(1, 0\)\)",
        ),
    ],
    ids=["list", "none", "strings", "1-d", "empty", "nan", "inf"],
)
def test_bad_samples_are_refused(scaling: str, sample: Any, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        _config(scaling).preprocessing_layer(sample)


def test_bad_datasets_are_refused() -> None:
    config = _config("standard")
    with pytest.raises(ValueError, match=r"the `sample` dataset is empty"):
        config.preprocessing_layer(_empty_dataset())
    several = tf.data.Dataset.from_tensor_slices(({"a": np.zeros((4, 2))}, np.zeros(4)))
    with pytest.raises(TypeError, match=r"`sample` must yield x or \(x, y\[, sample_weight\]\)"):
        config.preprocessing_layer(several)
    nan = tf.data.Dataset.from_tensor_slices(np.array([[1.0, np.nan]] * 3)).batch(2)
    with pytest.raises(ValueError, match=r"`sample` contains 3 NaN"):
        config.preprocessing_layer(nan)


def test_a_feature_that_hardly_varies_is_refused_by_name() -> None:
    x = np.stack([np.linspace(0.0, 1.0, 50), np.linspace(0.0, 1e-9, 50)], axis=1)
    with pytest.raises(ValueError, match=r"divides channel\(s\) \[1\] of `sample` by less than"):
        _config("minmax").preprocessing_layer(x)


def test_a_channel_count_mismatch_is_refused_by_keras() -> None:
    layer = _config("standard").preprocessing_layer(_images(40))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[1,1,1,3\]"):
        layer(np.zeros((2, 6, 5, 4), dtype=np.float32))  # 4 channels to a layer fitted on 3
