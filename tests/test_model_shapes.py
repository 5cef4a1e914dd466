"""The model rewrite on every common model shape: where the regularizer and BatchNorm go (the
placement table), what the user configured is never overridden, every change is reported with the
user's layer names, the output activation is read from the graph, and integer regression targets."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import adamtune
from adamtune import PreflightError
from adamtune.data import Target, infer_target, prepare_data
from adamtune.params import HP, AdamParams, FixedSource
from adamtune.spaces import LearningRate, Space
from adamtune.training import (
    apply_choices,
    build_model,
    has_batch_norm,
    infer_loss,
    output_units_and_activation,
    placement_table,
    preflight,
    user_regularized_layers,
)
from adamtune.training._layers import PLACEMENT

L = keras.layers
L2 = keras.regularizers.L2(3e-4)
BN = "BatchNormalization"


def _hp(regularizer: str = "l2", strength: float = 3e-4, batch_norm: bool = True) -> HP:
    adam = AdamParams(
        learning_rate=1e-3,
        batch_size=32,
        regularizer=regularizer,
        regularizer_strength=strength,
        batch_norm=batch_norm,
    )
    return HP(adam, FixedSource({}))


def _count(model: Any, cls: str) -> int:
    """Layers of class ``cls`` in ``model``, nested models included."""
    found = 0
    for layer in model.layers:
        found += type(layer).__name__ == cls
        if isinstance(layer, keras.Model):
            found += _count(layer, cls)
    return found


def _types(model: Any) -> list[str]:
    return [type(layer).__name__ for layer in model.layers if not isinstance(layer, L.InputLayer)]


def _reg(layer: Any, key: str = "kernel_regularizer") -> dict[str, Any] | None:
    value = layer.get_config()[key]
    return None if value is None else value["config"]


def _space(**overrides: Any) -> Space:
    fields: dict[str, Any] = dict(
        name="t",
        learning_rate=LearningRate(1e-3, 1e-2),
        batch_size=(32,),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=("none",),
        epochs=1,
    )
    return Space(**{**fields, **overrides})


# -- the placement table, one model per row -----------------------------------------------------


def _head(x: Any, n: int = 3) -> Any:
    return L.Dense(n, activation="softmax", name="out")(L.Flatten(name="flat")(x))


def _dense() -> Any:
    x = keras.Input((6,))
    return keras.Model(x, _head(L.Dense(8, activation="relu", name="hidden")(x)))


def _conv(cls: Any) -> Callable[[], Any]:
    def build() -> Any:
        x = keras.Input((8, 8, 1))
        return keras.Model(x, _head(cls(4, 3, activation="relu", name="hidden")(x)))

    return build


def _depthwise() -> Any:
    x = keras.Input((8, 8, 1))
    return keras.Model(x, _head(L.DepthwiseConv2D(3, activation="relu", name="hidden")(x)))


def _recurrent(cls: Any) -> Callable[[], Any]:
    def build() -> Any:
        x = keras.Input((7,), dtype="int32")
        h = L.Embedding(20, 4, name="embedding")(x)
        return keras.Model(x, _head(cls(5, name="hidden")(h)))

    return build


def _bidirectional() -> Any:
    x = keras.Input((7, 3))
    return keras.Model(x, _head(L.Bidirectional(L.GRU(4), name="hidden")(x)))


def _conv_lstm() -> Any:
    x = keras.Input((4, 8, 1))
    return keras.Model(x, _head(L.ConvLSTM1D(2, 3, name="hidden")(x)))


def _attention() -> Any:
    x = keras.Input((5, 8))
    return keras.Model(x, _head(L.MultiHeadAttention(2, 4, name="hidden")(x, x)))


def _embedding() -> Any:
    x = keras.Input((7,), dtype="int32")
    return keras.Model(x, _head(L.Embedding(20, 4, name="hidden")(x)))


# family -> (model, sample input, weight config keys that get the regularizer)
ROWS: dict[str, tuple[Callable[[], Any], tuple[int, ...], tuple[str, ...]]] = {
    "Dense": (_dense, (6,), ("kernel_regularizer",)),
    "Conv1D/2D/3D (and Transpose)": (_conv(L.Conv2D), (8, 8, 1), ("kernel_regularizer",)),
    "SeparableConv1D/2D": (
        _conv(L.SeparableConv2D),
        (8, 8, 1),
        ("depthwise_regularizer", "pointwise_regularizer"),
    ),
    "DepthwiseConv1D/2D": (_depthwise, (8, 8, 1), ("depthwise_regularizer",)),
    "LSTM, GRU, SimpleRNN": (_recurrent(L.LSTM), (7,), ("kernel_regularizer",)),
    "Bidirectional(LSTM/GRU/SimpleRNN)": (_bidirectional, (7, 3), ()),
    "ConvLSTM1D/2D/3D": (_conv_lstm, (4, 8, 1), ("kernel_regularizer",)),
    "MultiHeadAttention": (_attention, (5, 8), ("kernel_regularizer",)),
    "Embedding": (_embedding, (7,), ()),
}


def test_the_table_is_the_rules_the_code_follows() -> None:
    table = placement_table()
    assert [row[0] for row in table[: len(PLACEMENT)]] == list(ROWS)  # every row has a test
    assert [row[0] for row in table[len(PLACEMENT) :]] == [
        "output layer (last weighted layer before the output)",
        "any other layer (Dropout, pooling, Flatten, normalization, Activation, custom)",
    ]
    for rule, row in zip(PLACEMENT, table, strict=False):
        assert (rule.family, rule.regularizer_text, rule.batch_norm_text) == row
        assert row[2].startswith("hidden layers") == rule.batch_norm
    assert all(isinstance(cell, str) and cell for row in table for cell in row)


def test_the_readme_table_matches_when_the_readme_has_one() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "| layer type | regularizer | BatchNorm |" in readme
    for family, regularizer, batch_norm in placement_table():
        assert f"| {family} | {regularizer} | {batch_norm} |" in readme


@pytest.mark.parametrize("family", list(ROWS))
def test_each_row_places_regularizer_and_batch_norm_as_the_table_says(family: str) -> None:
    model_fn, shape, keys = ROWS[family]
    rule = next(r for r in PLACEMENT if r.family == family)
    original = model_fn()
    before = original.get_layer("hidden").get_config()
    model, changes = apply_choices(original, L2, True)
    hidden, out = model.get_layer("hidden"), model.get_layer("out")
    for key in keys:
        assert _reg(hidden, key) == {"l2": pytest.approx(3e-4)}
    if family.startswith("Bidirectional"):  # both directions' input kernels, not the recurrent one
        for direction in (hidden.forward_layer, hidden.backward_layer):
            assert isinstance(direction.kernel_regularizer, keras.regularizers.L2)
            assert direction.recurrent_regularizer is None
    if "recurrent_regularizer" in before:
        assert hidden.get_config()["recurrent_regularizer"] is None
    assert _reg(out) == {"l2": pytest.approx(3e-4)}  # the output layer: regularizer, no BatchNorm
    assert _count(model, BN) == (1 if rule.batch_norm else 0)
    regularized = "out" if not rule.weights else "hidden, out"
    expected = [f"L2(0.0003) on {regularized}"]
    if rule.batch_norm:
        expected.append("BatchNorm after hidden")
        assert hidden.get_config()["activation"] == "linear"
        assert model.get_layer("hidden_activation").get_config()["activation"] == "relu"
    else:  # the layer's own math is untouched: every activation as the user wrote it
        after = hidden.get_config()
        for key in ("activation", "recurrent_activation"):
            assert after.get(key) == before.get(key)
        if family.startswith("Bidirectional"):
            assert after["layer"]["config"]["activation"] == before["layer"]["config"]["activation"]
    assert changes == expected
    assert model.inputs[0].dtype == original.inputs[0].dtype
    x = np.zeros((2, *shape), dtype="int32" if shape == (7,) else "float32")
    assert tuple(model(x).shape) == (2, 3)


@pytest.mark.parametrize(
    ("cls", "args", "shape", "batch_norm"),
    [
        (L.Conv1D, (4, 3), (8, 2), True),
        (L.Conv2DTranspose, (4, 3), (4, 4, 2), True),
        (L.SeparableConv1D, (4, 3), (8, 2), True),
        (L.DepthwiseConv1D, (3,), (8, 2), True),
        (L.SimpleRNN, (4,), (8, 2), False),
        (L.GRU, (4,), (8, 2), False),
    ],
)
def test_the_other_members_of_a_family_follow_its_row(
    cls: Any, args: tuple[int, ...], shape: tuple[int, ...], batch_norm: bool
) -> None:
    x = keras.Input(shape)
    user = keras.Model(x, _head(cls(*args, activation="relu", name="hidden")(x)))
    model, changes = apply_choices(user, L2, True)
    assert _count(model, BN) == int(batch_norm)
    assert changes == ["L2(0.0003) on hidden, out"] + (
        ["BatchNorm after hidden"] if batch_norm else []
    )
    assert model.get_layer("hidden").get_config()["activation"] == (
        "linear" if batch_norm else "relu"
    )
    assert tuple(model(np.zeros((2, *shape), "float32")).shape) == (2, 3)


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
def test_recurrent_cells_keep_their_activations_and_train(cls: Any) -> None:
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 30, size=(64, 10)).astype("int32")
    labels = (tokens[:, 0] > 15).astype("int64")

    def model_fn() -> Any:
        return keras.Sequential(
            [
                keras.Input((10,), dtype="int32", name="ids"),
                L.Embedding(30, 8, name="tokens"),
                cls(8, name="rnn"),
                L.Dense(8, activation="relu", name="hidden"),
                L.Dense(1, activation="sigmoid", name="out"),
            ]
        )

    original = model_fn().get_layer("rnn").get_config()
    hp = _hp()
    model = build_model(model_fn, hp)
    assert (model.inputs[0].dtype, model.inputs[0].name) == ("int32", "ids")  # ids stay ints
    rnn = model.get_layer("rnn").get_config()
    for key in ("activation", "recurrent_activation"):
        assert rnn.get(key) == original.get(key)
    assert rnn["kernel_regularizer"]["config"] == {"l2": pytest.approx(3e-4)}
    assert rnn["recurrent_regularizer"] is None
    assert model.get_layer("tokens").get_config()["embeddings_regularizer"] is None
    assert _types(model) == [
        "Embedding",
        type(model.get_layer("rnn")).__name__,
        "Dense",
        BN,
        "Activation",
        "Dense",
    ]
    assert hp.changes == ["L2(0.0003) on rnn, hidden, out", "BatchNorm after hidden"]
    model.compile("adam", "binary_crossentropy")
    history = model.fit(tokens, labels, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# -- what the user configured wins ------------------------------------------------------------


def _own_regularizer_model() -> Any:
    return keras.Sequential(
        [
            keras.Input((64,)),
            L.Dense(
                32, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3), name="a"
            ),
            L.Dense(16, activation="relu", name="b"),
            L.Dense(10, activation="softmax", name="c"),
        ]
    )


def test_a_layer_with_its_own_regularizer_keeps_it() -> None:
    user = _own_regularizer_model()
    assert user_regularized_layers(user) == ["a"]
    hp = _hp("l1", 1e-4, batch_norm=False)
    model = build_model(lambda: user, hp)
    assert (
        model.get_layer("a").get_config()["kernel_regularizer"]
        == user.get_layer("a").get_config()["kernel_regularizer"]
    )
    assert _reg(model.get_layer("a")) == {"l2": pytest.approx(1e-3)}
    for name in ("b", "c"):
        assert type(model.get_layer(name).kernel_regularizer) is keras.regularizers.L1
    assert hp.changes == ["L1(0.0001) on b, c", "kept the model's own regularizer on a"]


def test_own_regularizers_are_found_in_nested_models_and_wrappers() -> None:
    own = keras.regularizers.L1(1e-3)
    block = keras.Sequential(
        [keras.Input((7, 3)), L.Dense(3, kernel_regularizer=own, name="inner")], name="block"
    )
    x = keras.Input((7, 3))
    h = L.Bidirectional(L.LSTM(4, kernel_regularizer=own), name="bi")(block(x))
    user = keras.Model(x, L.Dense(2, activation="softmax", name="out")(h))
    assert user_regularized_layers(user) == ["inner", "bi"]
    model, changes = apply_choices(user, L2, True)
    assert changes == [
        "L2(0.0003) on out",
        "kept the model's own regularizer on inner, bi",
        "BatchNorm after inner",  # a kept regularizer does not exempt a layer from BatchNorm
    ]
    assert type(model.get_layer("bi").forward_layer.kernel_regularizer) is keras.regularizers.L1
    assert _types(model.get_layer("block")) == ["Dense", BN]  # linear: no Activation layer
    assert tuple(model(np.zeros((2, 7, 3), "float32")).shape) == (2, 2)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_regularizer_none_adds_no_regularizer(batch_norm: bool) -> None:
    user = _own_regularizer_model()
    hp = _hp("none", 0.0, batch_norm=batch_norm)
    model = build_model(lambda: user, hp)
    assert [_reg(model.get_layer(n)) for n in "abc"] == [{"l2": pytest.approx(1e-3)}, None, None]
    model(np.zeros((2, 64), "float32"))
    assert len(model.losses) == 1  # the user's own penalty, nothing from adamtune
    assert hp.changes == (["BatchNorm after a, b"] if batch_norm else [])
    assert (model is user) is not batch_norm


def test_l1_l2_is_described_with_both_strengths() -> None:
    _, changes = apply_choices(_dense(), keras.regularizers.L1L2(l1=1e-3, l2=1e-3), False)
    assert changes == ["L1L2(l1=0.001, l2=0.001) on hidden, out"]


def _nested_bn_model() -> Any:
    block = keras.Sequential(
        [keras.Input((6,)), L.Dense(8, name="inner"), L.BatchNormalization(), L.ReLU()],
        name="block",
    )
    x = keras.Input((6,))
    return keras.Model(x, L.Dense(3, activation="softmax", name="out")(block(x)))


@pytest.mark.parametrize("where", ["top", "nested"])
def test_a_model_with_its_own_batch_norm_gets_none_added(where: str) -> None:
    if where == "top":
        user = keras.Sequential(
            [
                keras.Input((6,)),
                L.Dense(8, activation="relu", name="h"),
                L.BatchNormalization(),
                L.Dense(8, activation="relu", name="h2"),
                L.Dense(3, activation="softmax"),
            ]
        )
    else:
        user = _nested_bn_model()
    assert has_batch_norm(user)
    assert _count(user, BN) == 1
    hp = _hp("none", 0.0, batch_norm=True)
    model = build_model(lambda: user, hp)
    assert model is user  # nothing else to do: the model is returned untouched
    assert hp.changes == ["BatchNorm: not added, the model has its own"]
    hp = _hp("l2", 3e-4, batch_norm=True)
    model = build_model(lambda: user, hp)
    assert _count(model, BN) == 1
    assert hp.changes[-1] == "BatchNorm: not added, the model has its own"
    assert len(hp.changes) == 2 and hp.changes[0].startswith("L2(0.0003) on ")


def test_has_batch_norm_is_false_on_a_plain_model() -> None:
    assert not has_batch_norm(_dense())
    assert user_regularized_layers(_dense()) == []


def test_nested_models_are_rewritten_inside_and_the_head_gets_no_batch_norm() -> None:
    block = keras.Sequential(
        [keras.Input((6,)), L.Dense(8, activation="relu", name="b1")], name="block"
    )
    head = keras.Sequential(
        [keras.Input((8,)), L.Dense(3, activation="softmax", name="logits")], name="head"
    )
    user = keras.Sequential([keras.Input((6,)), block, L.Dropout(0.1, name="drop"), head])
    model, changes = apply_choices(user, L2, True)
    assert changes == ["L2(0.0003) on b1, logits", "BatchNorm after b1"]
    assert _types(model.get_layer("block")) == ["Dense", BN, "Activation"]
    assert _types(model.get_layer("head")) == ["Dense"]
    assert _count(model, BN) == 1
    out = keras.ops.convert_to_numpy(model(np.ones((2, 6), "float32")))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_copies_keep_the_users_weights_and_frozen_layers() -> None:
    rng = np.random.default_rng(0)
    table = rng.normal(size=(30, 4)).astype("float32")
    x = keras.Input((7,), dtype="int32")
    pretrained = L.Embedding(30, 4, trainable=False, name="pretrained")
    h = L.GRU(5, name="gru")(pretrained(x))
    user = keras.Model(x, L.Dense(3, activation="softmax", name="out")(L.Dropout(0.2)(h)))
    pretrained.set_weights([table])
    model, _ = apply_choices(user, L2, False)
    assert model is not user
    copy = model.get_layer("pretrained")
    assert not copy.trainable
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(copy.embeddings), table)
    tokens = rng.integers(0, 30, size=(4, 7)).astype("int32")
    np.testing.assert_allclose(  # a new regularizer changes no weight: the same predictions
        keras.ops.convert_to_numpy(model(tokens)), keras.ops.convert_to_numpy(user(tokens))
    )


def test_changes_name_the_users_layers_even_with_keras_default_names() -> None:
    """Keras numbers default names per session (dense_7, ...): the changes show the user's."""
    x = keras.Input((6,))
    h = L.Dense(8, activation="relu")(x)
    h = L.Dense(8, activation="tanh")(h)
    user = keras.Model(x, L.Dense(3, activation="softmax")(h))
    names = [layer.name for layer in user.layers[1:]]
    model, changes = apply_choices(user, L2, True)
    assert changes == [
        f"L2(0.0003) on {', '.join(names)}",
        f"BatchNorm after {names[0]}, {names[1]}",
    ]
    rebuilt = [layer.name for layer in model.layers]
    assert all(name in rebuilt for name in names)
    assert f"{names[0]}_batch_norm" in rebuilt


def test_added_layer_names_never_collide_with_the_users() -> None:
    user = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(8, activation="relu", name="d"),
            L.Dropout(0.1, name="d_batch_norm"),
            L.Dense(3, activation="softmax", name="o"),
        ]
    )
    model, changes = apply_choices(user, None, True)
    assert changes == ["BatchNorm after d"]
    assert [layer.name for layer in model.layers] == [
        "d",
        "d_batch_norm_1",
        "d_activation",
        "d_batch_norm",
        "o",
    ]


def test_linear_hidden_layer_gets_batch_norm_without_an_activation_layer() -> None:
    user = keras.Sequential(
        [keras.Input((6,)), L.Dense(8, name="proj"), L.Dense(3, activation="softmax", name="o")]
    )
    model, changes = apply_choices(user, None, True)
    assert _types(model) == ["Dense", BN, "Dense"]
    assert changes == ["BatchNorm after proj"]


def test_batch_norm_on_an_8x8_digits_convnet_trains(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = digits
    images = (x / 16.0).reshape(-1, 8, 8, 1)[:256]

    def model_fn() -> Any:
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                L.Conv2D(8, 3, activation="relu", name="conv"),
                L.MaxPooling2D(name="pool"),
                L.Flatten(name="flat"),
                L.Dense(10, activation="softmax", name="out"),
            ]
        )

    hp = _hp()
    model = build_model(model_fn, hp)
    assert _types(model) == ["Conv2D", BN, "Activation", "MaxPooling2D", "Flatten", "Dense"]
    assert hp.changes == ["L2(0.0003) on conv, out", "BatchNorm after conv"]
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(images, y[:256], epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# -- the output activation, from the graph ------------------------------------------------------


def _softmax_then_dropout() -> Any:
    x = keras.Input((64,))
    h = L.Dense(32, activation="relu")(x)
    probs = L.Dense(10, activation="softmax")(h)
    return keras.Model(x, L.Dropout(0.3)(L.Reshape((10,))(probs)))


class SoftmaxThenDropout(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = L.Dense(32, activation="relu")
        self.probs = L.Dense(10, activation="softmax")
        self.drop = L.Dropout(0.3)

    def call(self, x: Any, training: bool = False) -> Any:
        return self.drop(self.probs(self.hidden(x)), training=training)


class Logits(keras.Model):
    """Subclassed, linear output, and a sigmoid layer elsewhere: still logits."""

    def __init__(self, units: int) -> None:
        super().__init__()
        self.gate = L.Dense(32, activation="sigmoid")
        self.out = L.Dense(units)

    def call(self, x: Any) -> Any:
        return self.out(self.gate(x) * 5.0 - 2.5)


class Sigmoid(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = L.Dense(16, activation="relu")
        self.out = L.Dense(1, activation="sigmoid")

    def call(self, x: Any) -> Any:
        return self.out(self.hidden(x))


@pytest.mark.parametrize(
    ("model_fn", "units", "activation"),
    [
        (_softmax_then_dropout, 10, "softmax"),
        (SoftmaxThenDropout, 10, "softmax"),
        (lambda: Logits(10), 10, None),
        (lambda: Logits(1), 1, None),
        (Sigmoid, 1, "sigmoid"),
    ],
    ids=["functional", "subclassed", "subclassed-logits", "subclassed-1-logit", "sigmoid"],
)
def test_output_activation_is_found_past_activation_free_layers(
    digits: tuple[np.ndarray, np.ndarray], model_fn: Any, units: int, activation: str | None
) -> None:
    x = digits[0][:32] / 16.0
    model = model_fn()
    shape = tuple(model(x[:2]).shape)
    assert output_units_and_activation(model, shape, x) == (units, activation)


def test_a_subclassed_model_without_samples_counts_as_logits() -> None:
    assert output_units_and_activation(SoftmaxThenDropout(), (2, 10)) == (10, None)


@pytest.mark.parametrize("model_fn", [_softmax_then_dropout, SoftmaxThenDropout])
def test_the_inferred_loss_on_predict_matches_evaluate(
    digits: tuple[np.ndarray, np.ndarray], model_fn: Any
) -> None:
    x, y = digits[0][:512] / 16.0, digits[1][:512]
    data = prepare_data((x, y))
    report = preflight(model_fn, _space(), data, "val_loss")
    loss = report.loss.build_loss()
    assert type(loss) is keras.losses.SparseCategoricalCrossentropy
    assert loss.get_config()["from_logits"] is False
    model = model_fn()
    model.compile(keras.optimizers.Adam(1e-2), loss)
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    evaluated = model.evaluate(x, y, verbose=0)
    predicted = model.predict(x, verbose=0)
    on_predict = float(loss(y, predicted))
    assert on_predict == pytest.approx(evaluated, rel=1e-3)
    assert on_predict < 1.0
    as_logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert float(as_logits(y, predicted)) > on_predict + 1.0  # what reading layers[-1] gave


# -- integer regression targets -----------------------------------------------------------------


@pytest.fixture(scope="module")
def prices() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's diabetes: an integer target 25..346 with 214 distinct values."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return (d.data * 10).astype("float32"), d.target.astype("int64")


def _linear() -> Any:
    return keras.Sequential(
        [keras.Input((10,)), L.Dense(16, activation="relu"), L.Dense(1, name="price")]
    )


def test_integer_amounts_are_a_regression_target(prices: tuple[np.ndarray, np.ndarray]) -> None:
    _, y = prices
    assert infer_target(y) == Target("regression", None, 1)
    assert infer_target(np.arange(40) % 20) == Target("multiclass", 20, 1)  # 20 values: classes
    assert infer_target(np.repeat(np.arange(30), 2)) == Target("multiclass", 30, 1)  # none once


def test_integer_amounts_train_with_mse_on_a_single_linear_unit(
    prices: tuple[np.ndarray, np.ndarray],
) -> None:
    data = prepare_data(prices)
    report = preflight(_linear, _space(), data, "val_loss")
    assert report.loss.loss["class_name"] == "MeanSquaredError"
    assert data.target.kind == "regression"
    assert data.y_train.dtype == np.float32 and data.y_val.dtype == np.float32


def _class_like(prices: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Integers every value of which occurs several times: read as classes until a model or loss
    says otherwise."""
    x, y = prices
    binned = (y // 20).astype("int64")
    assert np.bincount(binned)[np.unique(binned)].min() >= 2
    return x, binned


def test_class_like_integers_with_one_linear_unit_are_re_typed_as_regression(
    prices: tuple[np.ndarray, np.ndarray],
) -> None:
    data = prepare_data(_class_like(prices))
    assert data.target.kind == "multiclass"
    report = preflight(_linear, _space(), data, "val_loss")
    assert data.target == Target("regression", None, 1)
    assert report.loss.loss["class_name"] == "MeanSquaredError"


def test_search_with_loss_mse_on_integer_targets_is_a_regression(
    prices: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    result = adamtune.search(
        _linear,
        _class_like(prices),
        loss="mse",
        trials=1,
        space="quick",
        epochs=2,
        verbose=0,
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    assert result.meta["data"]["target"] == "regression"
    assert result.meta["data"]["n_classes"] is None
    assert result.meta["metrics"] == ["mae"]
    assert result.best.loss["config"] == "mean_squared_error"
    assert result.best.metrics == ["mae"]


def test_integer_amounts_with_a_classifier_are_an_ambiguity_error(
    prices: tuple[np.ndarray, np.ndarray],
) -> None:
    data = prepare_data(prices)

    def classifier() -> Any:
        return keras.Sequential([keras.Input((10,)), L.Dense(347, activation="softmax")])

    with pytest.raises(
        PreflightError,
        match=r"y holds 214 distinct integers \(\d+ seen once, minimum 25\), which adamtune reads "
        r"as a regression target, but the model outputs 347 units; for a regression, cast y to "
        r"float \(y\.astype\('float32'\)\) and end the model with Dense\(1\); for a "
        r"classification, encode the classes as 0\.\.K-1 with at least 2 samples each",
    ):
        preflight(classifier, _space(), data, "val_loss")
    with pytest.raises(
        PreflightError, match=r"but the loss sparse_categorical_crossentropy is for classes"
    ):
        preflight(_linear, _space(), data, "val_loss", loss="sparse_categorical_crossentropy")


def test_class_count_mismatch_says_how_to_train_a_regression() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(5, activation="softmax")])
    with pytest.raises(
        PreflightError,
        match=re.escape(
            "labels take 30 classes (0..29) but the model outputs 5 unit(s); end the model with "
            "Dense(30, activation='softmax'), or, if y is a regression target, cast it to float "
            "(y.astype('float32')) or pass loss='mse'"
        ),
    ):
        infer_loss(Target("multiclass", 30, 1), model)


def test_negative_integer_labels_say_how_to_train_a_regression() -> None:
    with pytest.raises(
        ValueError,
        match=r"minimum label of -1; re-encode them \(sklearn\.preprocessing\.LabelEncoder\), or, "
        r"if y is a regression target, cast it to float \(y\.astype\('float32'\)\)",
    ):
        infer_target(np.array([-1, 0, 1, 1]))
    many = np.arange(-10, 30)
    assert infer_target(many) == Target("regression", None, 1)  # 40 values, negatives: amounts


def test_the_doctor_settles_integer_targets_as_the_search_does(
    prices: tuple[np.ndarray, np.ndarray],
) -> None:
    from adamtune.doctor._labels import check_labels

    data = prepare_data(_class_like(prices))
    model = _linear()
    check = check_labels(data, model, tuple(model(data.x_train[:2]).shape), None)
    assert check.finding is None and not check.blocks
    assert check.spec is not None and check.spec.loss["class_name"] == "MeanSquaredError"
    assert data.target.kind == "regression"
    amounts = prepare_data(prices)
    wide = keras.Sequential([keras.Input((10,)), L.Dense(347, activation="softmax")])
    check = check_labels(amounts, wide, (2, 347), None)
    assert check.blocks and check.finding is not None
    assert "cast y to float (y.astype('float32'))" in check.finding.advice
