"""Data in: the accepted forms, the seeded stratified split, target inference, checks, scaling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import preprocessing
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import adamtune
from adamtune.data import Data, Target, infer_target, make_scaler, prepare_data, scale_split

FORMS = r"`data` must be \(x, y\), \(\(x_train, y_train\), \(x_val, y_val\)\) or adamtune\.Data"


def _toy(n: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float64")
    y = np.arange(n) % 3
    return x, y


# -- accepted forms ---------------------------------------------------------------------------


def test_tuple_x_y_is_split(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    prepared = prepare_data((x, y))
    assert len(prepared.x_train) + len(prepared.x_val) == len(x)
    assert len(prepared.x_val) == int(np.ceil(0.2 * len(x)))
    assert prepared.x_train.dtype == np.float32
    assert prepared.x_train.shape[1:] == (64,)
    assert prepared.target == Target("multiclass", 10, 1)
    assert prepared.fingerprint() == {
        "x_shape": [64],
        "n_train": len(prepared.x_train),
        "n_val": len(prepared.x_val),
        "target": "multiclass",
        "n_classes": 10,
    }


def test_list_pair_is_accepted_like_a_tuple() -> None:
    x, y = _toy()
    prepared = prepare_data([x, y])
    assert len(prepared.x_train) == 80


def test_nested_tuples_keep_the_given_validation_set() -> None:
    x, y = _toy()
    prepared = prepare_data(((x[:70], y[:70]), (x[70:], y[70:])))
    np.testing.assert_array_equal(prepared.x_train, x[:70].astype(np.float32))
    np.testing.assert_array_equal(prepared.x_val, x[70:].astype(np.float32))
    np.testing.assert_array_equal(prepared.y_val, y[70:])


def test_data_object_with_and_without_validation_set() -> None:
    x, y = _toy()
    assert adamtune.Data is Data
    split = prepare_data(Data(x, y, validation_split=0.3))
    assert (len(split.x_train), len(split.x_val)) == (70, 30)
    given = prepare_data(Data(x[:60], y[:60], x_val=x[60:], y_val=y[60:]))
    assert (len(given.x_train), len(given.x_val)) == (60, 40)
    with pytest.raises(ValueError, match=r"adamtune\.Data: give both x_val and y_val, or neither"):
        prepare_data(Data(x, y, x_val=x))


def test_pandas_frame_and_series() -> None:
    x, y = _toy()
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    series = pd.Series(y, name="label")
    prepared = prepare_data((frame, series), seed=3)
    reference = prepare_data((x, y), seed=3)
    np.testing.assert_array_equal(prepared.x_train, reference.x_train)
    np.testing.assert_array_equal(prepared.y_val, reference.y_val)
    assert prepared.target == Target("multiclass", 3, 1)


def test_column_vector_labels_are_flattened() -> None:
    x, y = _toy()
    prepared = prepare_data((x, y.reshape(-1, 1)))
    assert prepared.y_train.ndim == 1


# -- the split --------------------------------------------------------------------------------


def test_split_is_seeded(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    a = prepare_data((x, y), seed=7)
    b = prepare_data((x, y), seed=7)
    c = prepare_data((x, y), seed=8)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_val, c.y_val)


def test_split_is_stratified(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    # make the classes unbalanced so a non-stratified split would drift
    keep = (y != 9) | (np.arange(len(y)) % 6 == 0)
    x, y = x[keep], y[keep]
    prepared = prepare_data((x, y), validation_split=0.25, seed=1)
    full = np.bincount(y) / len(y)
    val = np.bincount(prepared.y_val, minlength=10) / len(prepared.y_val)
    train = np.bincount(prepared.y_train, minlength=10) / len(prepared.y_train)
    np.testing.assert_allclose(val, full, atol=0.01)
    np.testing.assert_allclose(train, full, atol=0.01)


def test_one_hot_labels_are_stratified_by_class() -> None:
    y = np.array([0] * 40 + [1] * 10)
    onehot = np.eye(2)[y]
    x = np.random.default_rng(0).normal(size=(50, 3))
    prepared = prepare_data((x, onehot), validation_split=0.2)
    assert prepared.target == Target("onehot", 2, 2)
    assert prepared.y_val.sum(axis=0).tolist() == [8, 2]


# -- infer_target -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.array([0, 1, 2, 1]), Target("multiclass", 3, 1)),
        (np.array([0, 1, 1, 0]), Target("binary", 2, 1)),
        (np.array([0, 0, 0]), Target("binary", 2, 1)),
        (np.array([True, False, True]), Target("binary", 2, 1)),
        (np.array([0.0, 1.0, 1.0]), Target("binary", 2, 1)),
        (np.eye(4)[[0, 1, 3, 2]], Target("onehot", 4, 4)),
        (np.eye(3, dtype=np.int64)[[0, 2]], Target("onehot", 3, 3)),
        (np.array([0.5, 1.7, -3.2]), Target("regression", None, 1)),
        (np.array([[0.5, 1.0], [1.0, 2.0]]), Target("regression", None, 2)),
        (np.array([[1.0, 1.0], [0.0, 1.0]]), Target("regression", None, 2)),  # rows do not sum to 1
    ],
)
def test_infer_target(y: np.ndarray, expected: Target) -> None:
    target = infer_target(y)
    assert target == expected
    assert target.is_classification == (expected.kind != "regression")


def test_negative_labels_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"class labels must be integers 0\.\.K-1\. Received a minimum label of -1"
    ):
        infer_target(np.array([-1, 0, 1]))
    x, _ = _toy(6)
    with pytest.raises(ValueError, match=r"minimum label of -2.*LabelEncoder"):
        prepare_data((x, np.array([0, 1, -2, 0, 1, 0])))


# -- checks -----------------------------------------------------------------------------------


def test_nan_in_x_names_count_and_first_index() -> None:
    x, y = _toy()
    x[5, 2] = np.nan
    x[9, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"`x` contains 2 NaN or infinite value\(s\) \(first at index \(5, 2\)\); impute or drop",
    ):
        prepare_data((x, y))


def test_nan_in_validation_x_names_x_val() -> None:
    x, y = _toy()
    x_val = x[:10].copy()
    x_val[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x_val` contains 1 NaN .*\(first at index \(3, 1\)\)"):
        prepare_data(((x, y), (x_val, y[:10])))


def test_nan_in_regression_labels() -> None:
    x, _ = _toy()
    y = np.linspace(0.0, 1.0, len(x)) + 0.5
    y[4] = np.nan
    with pytest.raises(
        ValueError, match=r"`y` contains 1 NaN or infinite value\(s\) \(first at index \(4,\)\)"
    ):
        prepare_data((x, y))


def test_length_mismatch() -> None:
    x, y = _toy()
    with pytest.raises(
        ValueError, match=r"x and y must have the same number of samples\. Received 100 and 99"
    ):
        prepare_data((x, y[:-1]))
    with pytest.raises(
        ValueError,
        match=r"x_val and y_val must have the same number of samples\. Received 10 and 9",
    ):
        prepare_data(((x, y), (x[:10], y[:9])))


def test_validation_feature_shape_mismatch() -> None:
    x, y = _toy()
    with pytest.raises(
        ValueError, match=r"x_val must have the feature shape of x\. Received \(3,\) and \(4,\)"
    ):
        prepare_data(((x, y), (x[:10, :3], y[:10])))


def test_string_labels_are_refused() -> None:
    x, _ = _toy(4)
    with pytest.raises(
        TypeError, match=r"`y` must hold numbers\. Received dtype <U3.*LabelEncoder"
    ):
        prepare_data((x, np.array(["cat", "dog", "cat", "dog"])))
    with pytest.raises(TypeError, match=r"`y` must hold numbers\. Received dtype object"):
        prepare_data((x, pd.Series(["cat", "dog", "cat", "dog"])))


def test_text_features_are_refused() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    with pytest.raises(
        TypeError, match=r"`x` must hold numbers\. Received dtype object.*OrdinalEncoder"
    ):
        prepare_data((frame, np.array([0, 1, 0, 1])))


def test_one_dimensional_x_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"`x` must have a sample axis and at least one feature axis\. Received shape \(10,\); "
        r"for one feature, pass x\.reshape\(-1, 1\)",
    ):
        prepare_data((np.arange(10.0), np.arange(10) % 2))


def test_list_instead_of_array_names_the_accepted_forms() -> None:
    x, y = _toy(10)
    with pytest.raises(TypeError, match=rf"{FORMS}.*Received x of type list"):
        prepare_data((x.tolist(), y))
    with pytest.raises(TypeError, match=rf"{FORMS}.*Received y of type list"):
        prepare_data((x, y.tolist()))


@pytest.mark.parametrize("data", [np.zeros((4, 2)), (np.zeros((4, 2)),), "data.csv", None])
def test_unknown_data_forms_name_the_accepted_forms(data: Any) -> None:
    with pytest.raises(TypeError, match=rf"{FORMS}.*Received: {type(data).__name__}"):
        prepare_data(data)


def test_nested_tuples_of_wrong_length() -> None:
    x, y = _toy(10)
    # a third element is the part's sample weights (tests/test_weights.py); a fourth is nothing
    with pytest.raises(TypeError, match=rf"{FORMS}.*Received a training part of length 4"):
        prepare_data(((x, y, y, y), (x, y)))
    with pytest.raises(TypeError, match=rf"{FORMS}.*Received a validation part of length 1"):
        prepare_data(((x, y), (x,)))


def test_empty_data_is_refused() -> None:
    with pytest.raises(ValueError, match=r"x and y are empty"):
        prepare_data((np.zeros((0, 3)), np.zeros(0, dtype=np.int64)))


def test_class_with_a_single_sample() -> None:
    x, _ = _toy(10)
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 2])
    with pytest.raises(
        ValueError,
        match=r"class\(es\) \[2\] have a single sample, so no stratified validation split can hold them",
    ):
        prepare_data((x, y))
    # an explicit validation set needs no split and is accepted
    prepared = prepare_data(((x, y), (x[:3], y[:3])))
    assert prepared.target == Target("multiclass", 3, 1)


@pytest.mark.parametrize("split", [0.0, 1.0, -0.1, 1.5])
def test_validation_split_out_of_range(split: float) -> None:
    x, y = _toy()
    with pytest.raises(
        ValueError,
        match=rf"`validation_split` must be in \(0, 1\)\. Received: validation_split={split!r}",
    ):
        prepare_data((x, y), validation_split=split)
    with pytest.raises(ValueError, match=r"`validation_split` must be in \(0, 1\)"):
        prepare_data(Data(x, y, validation_split=split))


# -- scaling ----------------------------------------------------------------------------------


def test_standard_scaler_is_fitted_on_the_training_split_only() -> None:
    rng = np.random.default_rng(0)
    x_train = rng.normal(loc=3.0, scale=2.0, size=(400, 5)).astype(np.float32)
    x_val = x_train[:100] + 10.0  # shifted: must stay shifted after scaling
    train, val = scale_split("standard", x_train, x_val)
    assert train.dtype == np.float32 and val.dtype == np.float32
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-4)
    # fitted on val the mean would be 0; fitted on train it is 10 / std(train) ~ 5
    assert np.all(val.mean(axis=0) > 3.0)
    expected = (x_val - x_train.mean(axis=0)) / x_train.std(axis=0)
    np.testing.assert_allclose(val, expected, rtol=1e-4, atol=1e-4)


def test_minmax_scaler_maps_train_to_unit_range_only() -> None:
    x_train = np.linspace(0.0, 10.0, 50, dtype=np.float32).reshape(25, 2)
    x_val = np.array([[20.0, -10.0]], dtype=np.float32)
    train, val = scale_split("minmax", x_train, x_val)
    assert train.min() == pytest.approx(0.0) and train.max() == pytest.approx(1.0)
    assert val[0, 0] > 1.0 and val[0, 1] < 0.0


def test_scaling_keeps_the_shape_of_image_inputs() -> None:
    rng = np.random.default_rng(1)
    x_train = rng.uniform(0, 255, size=(30, 4, 3)).astype(np.float32)
    x_val = rng.uniform(0, 255, size=(7, 4, 3)).astype(np.float32)
    for name in ("standard", "minmax", "robust"):
        train, val = scale_split(name, x_train, x_val)
        assert train.shape == (30, 4, 3) and val.shape == (7, 4, 3)
    train, _ = scale_split("standard", x_train, x_val)
    # per channel (the last axis), over every sample and position: not per pixel
    np.testing.assert_allclose(train.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(train.reshape(-1, 3).std(axis=0), 1.0, atol=1e-4)
    assert np.abs(train.mean(axis=0)).max() > 0.05  # single positions are not centred


def test_none_scaling_returns_the_inputs() -> None:
    x_train, x_val = np.ones((3, 2), np.float32), np.zeros((2, 2), np.float32)
    train, val = scale_split("none", x_train, x_val)
    assert train is x_train and val is x_val


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("none", preprocessing.FunctionTransformer),
        ("standard", preprocessing.StandardScaler),
        ("minmax", preprocessing.MinMaxScaler),
        ("robust", preprocessing.RobustScaler),
    ],
)
def test_make_scaler_gives_a_fresh_unfitted_transformer(name: str, cls: type[Any]) -> None:
    scaler = make_scaler(name)
    assert make_scaler(name) is not scaler
    x = np.arange(12.0).reshape(6, 2)
    if name == "none":
        assert type(scaler) is cls
        np.testing.assert_array_equal(scaler.fit_transform(x), x)
        return
    with pytest.raises(NotFittedError):
        check_is_fitted(scaler)
    out = scaler.fit_transform(x)  # scikit-learn's scaler inside, per feature on 2-D x
    assert type(scaler.scaler_) is cls
    np.testing.assert_allclose(out, cls().fit_transform(x))


def test_make_scaler_unknown_name() -> None:
    with pytest.raises(
        ValueError,
        match=r"`scaling` must be one of none, standard, minmax, robust\. Received: scaling='zscore'",
    ):
        make_scaler("zscore")
    with pytest.raises(ValueError, match=r"Received: scaling='zscore'"):
        scale_split("zscore", np.ones((3, 2)), np.ones((2, 2)))


def test_too_few_samples_for_a_stratified_split_is_explained() -> None:
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    y = np.repeat(np.arange(10), 2)
    with pytest.raises(
        ValueError, match=r"20 samples split 80%/20% leave fewer samples than the 10"
    ):
        prepare_data((x, y))


def test_data_without_its_own_split_uses_the_searchs_split() -> None:
    x = np.random.default_rng(0).normal(size=(100, 3)).astype("float32")
    y = np.arange(100) % 2
    assert len(prepare_data(Data(x, y), validation_split=0.3).x_val) == 30
    assert len(prepare_data(Data(x, y, validation_split=0.1), validation_split=0.3).x_val) == 10
