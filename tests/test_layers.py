"""Building a trial's model: regularizers and BatchNorm applied, the optimizer, the inferred loss."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
from conftest import mlp

from adamtune import PreflightError
from adamtune.data import Target, prepare_data
from adamtune.params import HP, AdamParams, FixedSource
from adamtune.spaces import FloatRange, LearningRate, Space
from adamtune.training import (
    apply_choices,
    build_model,
    infer_loss,
    make_optimizer,
    make_regularizer,
    preflight,
)

N_IN, N_OUT = 6, 3


def _seq_with_input() -> Any:
    return mlp(N_IN, N_OUT, units=8)


def _seq_without_input() -> Any:
    return keras.Sequential(
        [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(N_OUT, activation="softmax")]
    )


def _functional() -> Any:
    inputs = keras.Input(shape=(N_IN,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(N_OUT, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


MODEL_FNS = {
    "sequential-input": _seq_with_input,
    "sequential-no-input": _seq_without_input,
    "functional": _functional,
}


class SubclassedMLP(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(N_OUT, activation="softmax")

    def call(self, x: Any) -> Any:
        return self.out(self.hidden(x))


def _hp(regularizer: str = "none", strength: float = 0.0, batch_norm: bool = False) -> HP:
    adam = AdamParams(
        learning_rate=1e-3,
        batch_size=32,
        regularizer=regularizer,
        regularizer_strength=strength,
        batch_norm=batch_norm,
    )
    return HP(adam, FixedSource({}))


def _x(n: int = 4) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, N_IN)).astype(np.float32)


def _body(model: Any) -> list[Any]:
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _dense(model: Any) -> list[Any]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


# -- regularizers -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", list(MODEL_FNS))
@pytest.mark.parametrize(
    ("kind", "cls", "expected"),
    [
        ("l1", keras.regularizers.L1, {"l1": 1e-3}),
        ("l2", keras.regularizers.L2, {"l2": 1e-3}),
        ("l1_l2", keras.regularizers.L1L2, {"l1": 1e-3, "l2": 1e-3}),
    ],
)
def test_regularizer_on_every_dense_kernel(
    form: str, kind: str, cls: type[Any], expected: dict[str, float]
) -> None:
    model = build_model(MODEL_FNS[form], _hp(kind, 1e-3))
    dense = _dense(model)
    assert len(dense) == 2
    for layer in dense:
        assert isinstance(layer.kernel_regularizer, cls)
        config = layer.kernel_regularizer.get_config()
        for key, value in expected.items():
            assert config[key] == pytest.approx(value)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    out = model(_x())
    assert tuple(out.shape) == (4, N_OUT)
    assert len(model.losses) == 2
    assert all(float(loss) > 0 for loss in model.losses)


@pytest.mark.parametrize("kind", ["none", "adamw"])
def test_no_layer_regularizer_for_none_and_adamw(kind: str) -> None:
    original = _seq_with_input()
    model = build_model(lambda: original, _hp(kind, 1e-2))
    assert model is original  # nothing to change: the model is returned as is
    assert all(layer.kernel_regularizer is None for layer in _dense(model))
    model(_x())
    assert model.losses == []


def test_make_regularizer_refuses_unknown_kind() -> None:
    with pytest.raises(
        ValueError, match=r"unknown regularizer 'l3'; allowed: none, l1, l2, l1_l2, adamw"
    ):
        make_regularizer("l3", 1e-3)


# -- BatchNorm --------------------------------------------------------------------------------


@pytest.mark.parametrize("form", list(MODEL_FNS))
def test_batch_norm_after_hidden_dense_not_after_output(form: str) -> None:
    model = build_model(MODEL_FNS[form], _hp(batch_norm=True))
    body = _body(model)
    assert [type(layer).__name__ for layer in body] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    hidden, _, activation, output = body
    # BatchNorm goes before the hidden layer's activation, which moves to its own layer
    assert hidden.get_config()["activation"] == "linear"
    assert activation.get_config()["activation"] == "relu"
    assert output.get_config()["activation"] == "softmax"
    assert all(layer.kernel_regularizer is None for layer in _dense(model))
    out = keras.ops.convert_to_numpy(model(_x()))
    assert out.shape == (4, N_OUT)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_batch_norm_and_regularizer_together_on_a_deeper_model() -> None:
    def model_fn() -> Any:
        return keras.Sequential(
            [
                keras.Input(shape=(N_IN,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dropout(0.1),
                keras.layers.Dense(8, activation="tanh"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    model = build_model(model_fn, _hp("l2", 1e-4, batch_norm=True))
    names = [type(layer).__name__ for layer in _body(model)]
    assert names == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dropout",
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    assert [
        layer.get_config()["activation"]
        for layer in _body(model)
        if type(layer).__name__ == "Activation"
    ] == [
        "relu",
        "tanh",
    ]
    assert all(
        isinstance(layer.kernel_regularizer, keras.regularizers.L2) for layer in _dense(model)
    )
    model(_x())
    assert len(model.losses) == 3


def test_batch_norm_after_hidden_conv() -> None:
    def model_fn() -> Any:
        return keras.Sequential(
            [
                keras.Input(shape=(8, 8, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )

    model = build_model(model_fn, _hp("l2", 1e-4, batch_norm=True))
    names = [type(layer).__name__ for layer in _body(model)]
    assert names == ["Conv2D", "BatchNormalization", "Activation", "Flatten", "Dense"]
    assert isinstance(_body(model)[0].kernel_regularizer, keras.regularizers.L2)
    assert tuple(model(np.zeros((2, 8, 8, 1), np.float32)).shape) == (2, 2)


def test_no_batch_norm_on_logits_before_a_separate_softmax_layer() -> None:
    def model_fn() -> Any:
        return keras.Sequential(
            [
                keras.Input(shape=(N_IN,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(N_OUT),
                keras.layers.Activation("softmax"),
            ]
        )

    model = build_model(model_fn, _hp(batch_norm=True))
    names = [type(layer).__name__ for layer in _body(model)]
    assert names.count("BatchNormalization") == 1


def test_no_batch_norm_on_functional_logits_before_a_softmax_layer() -> None:
    inputs = keras.Input(shape=(N_IN,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    logits = keras.layers.Dense(N_OUT)(hidden)
    model = keras.Model(inputs, keras.layers.Softmax()(logits))
    rebuilt = build_model(lambda: model, _hp(batch_norm=True))
    names = [type(layer).__name__ for layer in rebuilt.layers]
    assert names == ["InputLayer", "Dense", "BatchNormalization", "Activation", "Dense", "Softmax"]


def test_apply_choices_with_nothing_to_do_returns_the_model() -> None:
    model = _functional()
    assert apply_choices(model, None, False) == (model, [])


@pytest.mark.parametrize("form", list(MODEL_FNS))
def test_every_change_is_recorded_with_the_trial(form: str) -> None:
    built: list[Any] = []

    def model_fn() -> Any:
        built.append(MODEL_FNS[form]())
        return built[-1]

    hp = _hp("l2", 1e-3, batch_norm=True)
    build_model(model_fn, hp)
    hidden, output = [layer.name for layer in _dense(built[0])]
    assert hp.changes == [f"L2(0.001) on {hidden}, {output}", f"BatchNorm after {hidden}"]
    untouched = _hp("none", 0.0, batch_norm=False)
    assert build_model(model_fn, untouched) is built[-1]
    assert untouched.changes == []


# -- model_fn(hp) that applies the choices itself ----------------------------------------------


def test_model_fn_using_hp_is_not_rewritten() -> None:
    built: list[Any] = []

    def model_fn(hp: HP) -> Any:
        layers: list[Any] = [
            keras.Input(shape=(N_IN,)),
            keras.layers.Dense(8, activation="relu", kernel_regularizer=hp.regularizer()),
        ]
        if hp.batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Dense(N_OUT, activation="softmax"))  # no regularizer here
        built.append(keras.Sequential(layers))
        return built[-1]

    hp = _hp("l1", 1e-3, batch_norm=True)
    model = build_model(model_fn, hp)
    assert model is built[0]
    assert hp.used_regularizer and hp.used_batch_norm
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Dense", "BatchNormalization", "Dense"]
    first, _, last = model.layers
    assert isinstance(first.kernel_regularizer, keras.regularizers.L1)
    assert last.kernel_regularizer is None


def test_model_fn_placing_regularizer_only_still_gets_batch_norm() -> None:
    def model_fn(hp: HP) -> Any:
        return keras.Sequential(
            [
                keras.Input(shape=(N_IN,)),
                keras.layers.Dense(8, activation="relu", kernel_regularizer=hp.regularizer()),
                keras.layers.Dense(N_OUT, activation="softmax"),
            ]
        )

    model = build_model(model_fn, _hp("l2", 1e-3, batch_norm=True))
    body = _body(model)
    assert [type(layer).__name__ for layer in body] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    # the user's own placement of the regularizer is kept, not spread to every layer
    assert isinstance(body[0].kernel_regularizer, keras.regularizers.L2)
    assert body[3].kernel_regularizer is None


def test_model_fn_user_params_come_from_hp() -> None:
    def model_fn(hp: HP) -> Any:
        return mlp(N_IN, N_OUT, units=hp.int("units", 4, 64))

    hp = HP(AdamParams(learning_rate=1e-3, batch_size=32), FixedSource({"units": 24}))
    model = build_model(model_fn, hp)
    assert _dense(model)[0].units == 24
    assert hp.user_params == {"units": 24}


# -- what build_model refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "hp", [_hp("l2", 1e-3), _hp(batch_norm=True)], ids=["regularizer", "batch-norm"]
)
def test_subclassed_model_with_choices_to_apply_is_refused(hp: HP) -> None:
    with pytest.raises(
        TypeError,
        match=r"model_fn returned a subclassed model \(SubclassedMLP\).*use `hp\.regularizer\(\)` for "
        r"kernel_regularizer and `hp\.batch_norm`",
    ):
        build_model(SubclassedMLP, hp)


@pytest.mark.parametrize("kind", ["none", "adamw"])
def test_subclassed_model_without_choices_to_apply_is_accepted(kind: str) -> None:
    model = build_model(SubclassedMLP, _hp(kind, 1e-3))
    assert isinstance(model, SubclassedMLP)


@pytest.mark.parametrize("returned", [None, "model", keras.layers.Dense(2)])
def test_model_fn_must_return_a_keras_model(returned: Any) -> None:
    with pytest.raises(
        TypeError, match=r"model_fn must return an uncompiled keras\.Model\. It returned: "
    ):
        build_model(lambda: returned, _hp())


def test_model_fn_signature_is_checked() -> None:
    def two_args(hp: HP, other: int) -> Any:
        return None

    with pytest.raises(
        TypeError, match=r"`model_fn` must take no argument or one `hp` argument.*\['hp', 'other'\]"
    ):
        build_model(two_args, _hp())
    with pytest.raises(
        TypeError, match=r"`model_fn` must be a callable returning an uncompiled keras\.Model"
    ):
        build_model("not callable", _hp())  # type: ignore[arg-type]


# -- optimizer --------------------------------------------------------------------------------


def test_make_optimizer_adam() -> None:
    adam = AdamParams(learning_rate=3e-3, batch_size=32, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    opt = make_optimizer(adam)
    assert type(opt) is keras.optimizers.Adam
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(3e-3)
    assert (config["beta_1"], config["beta_2"], config["epsilon"]) == pytest.approx(
        (0.8, 0.99, 1e-6)
    )
    assert config["weight_decay"] is None


@pytest.mark.parametrize("kind", ["none", "l1", "l2", "l1_l2"])
def test_make_optimizer_is_plain_adam_for_layer_regularizers(kind: str) -> None:
    opt = make_optimizer(AdamParams(1e-3, 32, regularizer=kind, regularizer_strength=1e-3))
    assert type(opt) is keras.optimizers.Adam
    assert opt.get_config()["weight_decay"] is None


def test_make_optimizer_adamw_carries_weight_decay() -> None:
    opt = make_optimizer(AdamParams(2e-3, 64, regularizer="adamw", regularizer_strength=0.05))
    assert type(opt) is keras.optimizers.AdamW
    config = opt.get_config()
    assert config["weight_decay"] == pytest.approx(0.05)
    assert config["learning_rate"] == pytest.approx(2e-3)


# -- the inferred loss ------------------------------------------------------------------------


def _loss(spec: Any) -> Any:
    return spec.build_loss()


@pytest.mark.parametrize(
    ("target", "n_out", "activation", "cls", "logits"),
    [
        (
            Target("multiclass", 10, 1),
            10,
            "softmax",
            keras.losses.SparseCategoricalCrossentropy,
            False,
        ),
        (
            Target("multiclass", 10, 1),
            10,
            "linear",
            keras.losses.SparseCategoricalCrossentropy,
            True,
        ),
        (Target("binary", 2, 1), 1, "sigmoid", keras.losses.BinaryCrossentropy, False),
        (Target("binary", 2, 1), 1, "linear", keras.losses.BinaryCrossentropy, True),
        (Target("binary", 2, 1), 2, "softmax", keras.losses.SparseCategoricalCrossentropy, False),
        (Target("onehot", 4, 4), 4, "softmax", keras.losses.CategoricalCrossentropy, False),
        (Target("onehot", 4, 4), 4, "linear", keras.losses.CategoricalCrossentropy, True),
    ],
)
def test_infer_loss_for_classification(
    target: Target, n_out: int, activation: str, cls: type[Any], logits: bool
) -> None:
    spec = infer_loss(target, mlp(N_IN, n_out, activation=activation))
    loss = _loss(spec)
    assert type(loss) is cls
    assert loss.get_config()["from_logits"] is logits
    assert spec.metrics == ["accuracy"]


def test_infer_loss_for_regression() -> None:
    spec = infer_loss(Target("regression", None, 1), mlp(N_IN, 1, activation="linear"))
    assert type(_loss(spec)) is keras.losses.MeanSquaredError
    assert spec.metrics == ["mae"]
    two = infer_loss(Target("regression", None, 2), mlp(N_IN, 2, activation="linear"))
    assert type(_loss(two)) is keras.losses.MeanSquaredError


@pytest.mark.parametrize(
    "last",
    [keras.layers.Activation("softmax"), keras.layers.Softmax()],
    ids=["Activation", "Softmax"],
)
def test_infer_loss_sees_a_separate_softmax_layer(last: Any) -> None:
    model = keras.Sequential([keras.Input(shape=(N_IN,)), keras.layers.Dense(10), last])
    loss = _loss(infer_loss(Target("multiclass", 10, 1), model))
    assert loss.get_config()["from_logits"] is False


@pytest.mark.parametrize(
    ("target", "n_out", "pattern"),
    [
        (
            Target("multiclass", 10, 1),
            5,
            r"labels take 10 classes \(0\.\.9\) but the model outputs 5 unit\(s\); end the model with "
            r"Dense\(10, activation='softmax'\)",
        ),
        (Target("binary", 2, 1), 3, r"labels are binary \(0/1\) but the model outputs 3 units"),
        (
            Target("onehot", 4, 4),
            3,
            r"labels are one-hot over 4 classes but the model outputs 3 unit\(s\)",
        ),
        (
            Target("regression", None, 1),
            5,
            r"the regression target has 1 column\(s\) but the model outputs 5 unit\(s\)",
        ),
    ],
)
def test_infer_loss_mismatch_is_a_preflight_error(target: Target, n_out: int, pattern: str) -> None:
    with pytest.raises(PreflightError, match=pattern):
        infer_loss(target, mlp(N_IN, n_out))


def test_infer_loss_on_a_model_with_no_declared_output_shape() -> None:
    target = Target("multiclass", N_OUT, 1)
    with pytest.raises(
        PreflightError, match=r"the output shape of Sequential is not known until it is called"
    ):
        infer_loss(target, _seq_without_input())
    with pytest.raises(PreflightError, match=r"the output shape of SubclassedMLP is not known"):
        infer_loss(target, SubclassedMLP())
    spec = infer_loss(target, SubclassedMLP(), output_shape=(2, N_OUT))
    assert type(_loss(spec)) is keras.losses.SparseCategoricalCrossentropy
    with pytest.raises(PreflightError, match=r"labels take 3 classes .* outputs 2 unit"):
        infer_loss(target, _seq_without_input(), output_shape=(2, 2))


def test_preflight_builds_models_that_declare_no_output_shape() -> None:
    """A Sequential without keras.Input and a subclassed model go through the pre-flight."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, N_IN)).astype(np.float32)
    y = np.arange(60) % N_OUT
    data = prepare_data((x, y))
    space = Space(
        name="t",
        learning_rate=LearningRate(1e-4, 1e-2),
        batch_size=(32,),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=("none",),
        epochs=1,
    )
    for model_fn in (_seq_without_input, SubclassedMLP):
        report = preflight(model_fn, space, data, "val_loss")
        assert report.loss.loss["class_name"] == "SparseCategoricalCrossentropy"
    with_l2 = Space(**{**space.__dict__, "regularizer": {"l2": FloatRange(1e-5, 1e-3, log=True)}})
    with pytest.raises(TypeError, match=r"subclassed model"):
        preflight(SubclassedMLP, with_l2, data, "val_loss")
