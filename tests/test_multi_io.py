"""Several inputs and several outputs, as ``keras.Model.fit`` takes them, through a real search."""

from __future__ import annotations

import json
import os
import runpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import adamtune
from adamtune._errors import PreflightError
from adamtune.data import Data, Multi, prepare_data, resolve_reading
from adamtune.spaces import FloatRange, LearningRate, Space

N = 320
SPACE = Space(
    name="small",
    learning_rate=LearningRate(1e-3, 1e-2, reference_batch_size=32, rule="none"),
    batch_size=(32,),
    regularizer={"none": None, "l2": FloatRange(1e-5, 1e-3, log=True)},
    batch_norm=(False, True),
    scaling=("standard",),
    epochs=2,
)


def _data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(N, 5)).astype("float32")
    xb = (rng.normal(size=(N, 3)) * 50 + 100).astype("float32")  # far from unit scale
    ids = rng.integers(0, 20, size=(N, 4))
    head_a = (xa[:, 0] + (xb[:, 0] - 100) / 50 > 0).astype("int64")
    head_b = (xa[:, 1] * 2 + (xb[:, 1] - 100) / 50).astype("float32")
    return {"xa": xa, "xb": xb, "ids": ids, "head_a": head_a, "head_b": head_b}


def two_heads(hp: Any = None, *, compiled: bool = False, l2: float = 0.0) -> Any:
    """The functional API guide's shape: named inputs, two named heads."""
    import keras

    a = keras.Input((5,), name="a")
    b = keras.Input((3,), name="b")
    reg = keras.regularizers.L2(l2) if l2 else None
    h = keras.layers.Dense(16, activation="relu", kernel_regularizer=reg)(
        keras.layers.Concatenate()([a, b])
    )
    out_a = keras.layers.Dense(1, activation="sigmoid", name="head_a")(h)
    out_b = keras.layers.Dense(1, name="head_b")(h)
    model = keras.Model({"a": a, "b": b}, {"head_a": out_a, "head_b": out_b})
    if compiled:
        model.compile(
            optimizer="rmsprop",
            loss={"head_a": "binary_crossentropy", "head_b": "mae"},
            loss_weights={"head_a": 1.0, "head_b": 0.25},
            metrics={"head_a": ["accuracy"]},
        )
    return model


def two_inputs_one_output(hp: Any = None) -> Any:
    """A float input and a token-id input (Embedding), one classification head."""
    import keras

    a = keras.Input((5,), name="a")
    ids = keras.Input((4,), name="ids")
    e = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(ids))
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, e]))
    return keras.Model({"a": a, "ids": ids}, keras.layers.Dense(2, activation="softmax")(h))


def positional(hp: Any = None) -> Any:
    """Two positional inputs, two positional outputs (lists, no dicts)."""
    import keras

    a = keras.Input((5,))
    b = keras.Input((3,))
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b]))
    return keras.Model(
        [a, b], [keras.layers.Dense(1, activation="sigmoid")(h), keras.layers.Dense(1)(h)]
    )


def _search(model_fn: Any, data: Any, tmp_path: Path, **kwargs: Any) -> Any:
    kwargs = {"trials": 2, "epochs": 2, "space": SPACE, "seed": 0, "verbose": 0, **kwargs}
    return adamtune.search(model_fn, data, storage=f"sqlite:///{tmp_path}/s.db", **kwargs)


def test_two_heads_per_output_losses_and_an_objective_on_one_head(tmp_path: Path) -> None:
    d = _data()
    x = {"a": d["xa"], "b": d["xb"]}
    y = {"head_a": d["head_a"], "head_b": d["head_b"]}
    result = _search(two_heads, (x, y), tmp_path, objective="val_head_a_accuracy")
    assert result.meta["direction"] == "maximize"
    assert result.meta["data"]["outputs"] == [
        ["y['head_a']", [], "binary", 2],
        ["y['head_b']", [], "regression", None],
    ]
    loss = result.meta["loss"]
    assert loss["head_a"]["class_name"] == "BinaryCrossentropy"
    assert loss["head_b"]["class_name"] == "MeanSquaredError"
    assert result.meta["metrics"] == {"head_a": ["accuracy"], "head_b": ["mae"]}
    values = result.trials["value"].dropna()
    assert len(values) == 2 and ((values >= 0) & (values <= 1)).all()

    path = tmp_path / "tuned.json"
    result.export(path)
    cfg = adamtune.load_config(path)
    model = cfg.build(two_heads)
    model.compile(**cfg.compile_kwargs())
    history = model.fit(x, y, verbose=0, **cfg.fit_kwargs())
    assert {"head_a_accuracy", "head_b_mae", "head_a_loss", "head_b_loss"} <= set(history.history)


def test_loss_objective_is_the_weighted_sum_of_the_heads_without_the_penalty() -> None:
    from adamtune.training._outputs import output_loss_sum

    d = _data()
    model = two_heads(l2=1.0)
    model.compile(
        "adam", loss={"head_a": "binary_crossentropy", "head_b": "mse"},
        loss_weights={"head_a": 1.0, "head_b": 0.5},
    )  # fmt: skip
    x, y = {"a": d["xa"], "b": d["xb"]}, {"head_a": d["head_a"], "head_b": d["head_b"]}
    history = model.fit(
        x, y, epochs=1, verbose=0, validation_data=(x, y),
        callbacks=[output_loss_sum(("head_a", "head_b"), {"head_a": 1.0, "head_b": 0.5})],
    ).history  # fmt: skip
    for prefix in ("", "val_"):
        expected = history[f"{prefix}head_a_loss"][0] + 0.5 * history[f"{prefix}head_b_loss"][0]
        assert history[f"{prefix}data_loss"][0] == pytest.approx(expected, rel=1e-6)
    assert history["data_loss"][0] < history["loss"][0]  # the penalty is left out


def test_compiled_two_heads_keep_their_losses_weights_and_metrics(tmp_path: Path) -> None:
    d = _data()
    data = ({"a": d["xa"], "b": d["xb"]}, {"head_a": d["head_a"], "head_b": d["head_b"]})
    result = _search(lambda hp: two_heads(hp, compiled=True), data, tmp_path)
    assert "mean_absolute_error" in json.dumps(result.meta["loss"]["head_b"])
    assert result.meta["metrics"]["head_a"] == ["accuracy"]
    path = tmp_path / "tuned.json"
    result.export(path)
    stored = json.loads(path.read_text())
    assert stored["loss_weights"] == {"head_a": 1.0, "head_b": 0.25}
    kwargs = adamtune.load_config(path).compile_kwargs()
    assert kwargs["loss_weights"] == {"head_a": 1.0, "head_b": 0.25}
    assert type(kwargs["optimizer"]).__name__ in ("Adam", "AdamW")
    snippet = runpy.run_path(str(result.export(tmp_path / "tuned.py")))["compile_kwargs"]()
    assert snippet["loss_weights"] == {"head_a": 1.0, "head_b": 0.25}
    assert sorted(snippet["loss"]) == ["head_a", "head_b"]
    assert snippet["metrics"] == {"head_a": ["accuracy"], "head_b": []}
    model = two_heads()
    model.compile(**snippet)  # the snippet's kwargs compile the user's model as they are


def test_a_dict_of_inputs_scales_the_float_input_and_keeps_token_ids(tmp_path: Path) -> None:
    d = _data()
    data = ({"a": d["xa"], "ids": d["ids"]}, d["head_a"])
    result = _search(two_inputs_one_output, data, tmp_path)
    notes = " ".join(result.meta["notes"])
    assert "applies to the floating-point inputs x['a']" in notes
    assert "x['ids'] (integer) passed as given" in notes
    assert all("scaling only on x['a']" in c for c in result.trials["changes"])
    assert result.meta["data"]["inputs"] == [["x['a']", [5]], ["x['ids']", [4]]]

    prepared = prepare_data(data)
    assert isinstance(prepared, Multi)
    (a, ids), _ = prepared.scaled("standard")
    assert abs(float(a.mean())) < 0.1 and float(a.std()) == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(ids, prepared.inputs_train[1])  # ids untouched


def test_class_weight_works_with_several_inputs_and_one_output(tmp_path: Path) -> None:
    d = _data()
    data = ({"a": d["xa"], "ids": d["ids"]}, d["head_a"])
    result = _search(two_inputs_one_output, data, tmp_path, class_weight="balanced")
    assert result.meta["class_weight"] is not None


@pytest.mark.slow  # a KerasTuner study: about 10 s
def test_positional_lists_and_sample_weights(tmp_path: Path) -> None:
    d = _data()
    w = np.r_[np.ones(N // 2), np.full(N // 2, 2.0)].astype("float32")
    data = Data([d["xa"], d["xb"]], [d["head_a"], d["head_b"]], sample_weight=w)
    result = adamtune.search(
        positional, data, trials=2, epochs=2, space=SPACE, seed=0, verbose=0,
        strategy="kt-random", storage=str(tmp_path / "kt"),
    )  # fmt: skip
    assert result.meta["data"]["sample_weight"] is True
    assert result.meta["data"]["outputs"][0][0] == "y[0]"
    assert (result.trials["outcome"] != "crashed-error").all()


def _four(n: int = N) -> tuple[np.ndarray, ...]:
    """Arrays that read both ways: (x (n, 4), y (n, 1)) twice, or inputs (4,), (1,) and
    outputs (4,), (1,)."""
    rng = np.random.default_rng(1)
    a, c = rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 4)).astype("float32")
    b, d = a[:, :1] * 2, c[:, :1] - a[:, 1:2]
    return a, b, c, d


def four_two_in_two_out(hp: Any = None) -> Any:
    import keras

    a, b = keras.Input((4,)), keras.Input((1,))
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b]))
    return keras.Model([a, b], [keras.layers.Dense(4)(h), keras.layers.Dense(1)(h)])


def four_one_in_one_out(hp: Any = None) -> Any:
    import keras

    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])


def test_the_ambiguous_tuple_is_read_by_the_model() -> None:
    a, b, c, d = _four()
    data = ((a, b), (c, d))  # ((x_train, y_train), (x_val, y_val)), or ((x_a, x_b), (y_1, y_2))
    read, notes = resolve_reading(data, lambda: (2, 2))
    assert isinstance(read, Data) and len(read.x) == 2
    assert "the model has 2 inputs and 2 outputs" in notes[0]
    assert resolve_reading(data, lambda: (1, 1)) == (data, ())


@pytest.mark.slow  # two searches: about 15 s
def test_a_search_reads_the_ambiguous_tuple_by_its_model(tmp_path: Path) -> None:
    a, b, c, d = _four()
    data = ((a, b), (c, d))
    result = _search(four_two_in_two_out, data, tmp_path)
    assert any("read as 2 inputs" in n for n in result.meta["notes"])
    assert result.meta["data"]["n_train"] + result.meta["data"]["n_val"] == N
    result = _search(four_one_in_one_out, data, tmp_path / "split")
    assert result.meta["data"]["n_train"] == N and result.meta["data"]["x_shape"] == [4]


def test_a_true_ambiguity_is_refused_with_both_readings() -> None:
    a, b, c, d = _four()
    same = ((a, b), (c, d))
    with pytest.raises(ValueError, match=r"ambiguous.*\(x_train, y_train\), \(x_val, y_val\).*"
                       r"x=\[a, b\], y=\[c, d\].*has 3 input\(s\) and 1 output"):  # fmt: skip
        resolve_reading(same, lambda: (3, 1))
    with pytest.raises(ValueError, match="does not declare its inputs"):
        resolve_reading(same, lambda: None)


def test_shapes_alone_settle_a_tuple_without_building_the_model() -> None:
    d = _data()

    def never() -> Any:
        raise AssertionError("the model was built")

    uneven = ((d["xa"], d["xb"]), (d["head_a"][:100], d["head_b"][:100]))
    assert resolve_reading(uneven, never) == (uneven, ())  # only (train, val) fits
    other = ((d["xa"], d["xb"]), (d["head_a"], d["head_b"]))  # x shapes differ: only inputs fit
    read, notes = resolve_reading(other, never)
    assert isinstance(read, Data) and "read as 2 inputs" in notes[0]


def test_bad_structures_are_refused_with_what_to_pass(tmp_path: Path) -> None:
    d = _data()
    x = {"a": d["xa"], "b": d["xb"]}
    with pytest.raises(PreflightError, match=r"the model has 2 outputs but y is one array"):
        _search(two_heads, (x, d["head_a"]), tmp_path)
    with pytest.raises(PreflightError, match=r"y is keyed \['left', 'right'\].*named"):
        _search(two_heads, (x, {"left": d["head_a"], "right": d["head_b"]}), tmp_path)
    with pytest.raises(ValueError, match=r"same number of samples. Received: x\['a'\]: 320, "
                       r"x\['b'\]: 100"):  # fmt: skip
        prepare_data(({"a": d["xa"], "b": d["xb"][:100]}, d["head_a"]))
    with pytest.raises(ValueError, match="class weights apply to a model with one output"):
        _search(two_heads, (x, {"head_a": d["head_a"], "head_b": d["head_b"]}), tmp_path,
                class_weight="balanced")  # fmt: skip
    assert not (tmp_path / "s.db").exists()  # refused before anything was stored


def test_the_doctor_and_the_range_test_refuse_several_inputs_by_name() -> None:
    d = _data()
    data = ({"a": d["xa"], "b": d["xb"]}, {"head_a": d["head_a"], "head_b": d["head_b"]})
    with pytest.raises(TypeError, match=r"adamtune.diagnose takes a model with one input"):
        adamtune.diagnose(two_heads, data)
    with pytest.raises(TypeError, match=r"adamtune.lr_range_test takes a model with one input"):
        adamtune.lr_range_test(two_heads, data)
