"""Model functions written for KerasTuner and Optuna run unchanged in adamtune.

KerasTuner's spellings (``hp.Int``, ``hp.Float``, ``hp.Choice``, ``hp.Boolean``, ``hp.Fixed``,
``hp.conditional_scope``, ``hp.get``, ``hp.values``) and Optuna's (``trial.suggest_*``) work on the
same ``hp``, with Optuna's and KerasTuner's strategies, and replay through ``cfg.build`` after
``load_config``. A model compiled in model_fn keeps its loss and metrics; its optimizer is replaced
by the trial's Adam, and a parameter that is only its learning rate is not searched.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from keras import layers

import adamtune
from adamtune.data import prepare_data
from adamtune.engine import KerasTunerSource
from adamtune.engine._optuna import OptunaSource
from adamtune.params import HP, AdamParams, DefaultSource, FixedSource
from adamtune.spaces import load_space
from adamtune.training import preflight

STRATEGIES = ["tpe", "kt-random"]
# A whole search-to-retraining run on KerasTuner's engine too; with -m slow (.ci/run runs both).
RETRAIN_STRATEGIES = ["tpe", pytest.param("kt-random", marks=pytest.mark.slow)]


# -- the model functions, as the other tools' guides write them --------------------------------


def build_model(hp: Any) -> Any:
    """KerasTuner's getting-started ``build_model``, for digits' 64 features and 10 classes."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(64,)))
    model.add(layers.Flatten())
    model.add(
        layers.Dense(
            # Tune number of units.
            units=hp.Int("units", min_value=32, max_value=512, step=32),
            # Tune the activation function to use.
            activation=hp.Choice("activation", ["relu", "tanh"]),
        )
    )
    # Tune whether to use dropout.
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add(layers.Dense(10, activation="softmax"))
    # Define the optimizer learning rate as a hyperparameter.
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def create_model(trial: Any, lr_name: str = "learning_rate_init") -> Any:
    """Optuna's Keras example ``create_model(trial)``, for digits; ``lr_name="learning_rate"`` is
    the example's own name for its learning rate."""
    n_layers = trial.suggest_int("n_layers", 1, 2)
    model = keras.Sequential()
    model.add(keras.Input(shape=(64,)))
    for i in range(n_layers):
        num_hidden = trial.suggest_int(f"n_units_l{i}", 16, 64, log=True)
        activation = trial.suggest_categorical(f"activation_l{i}", ["relu", "tanh"])
        model.add(layers.Dense(num_hidden, activation=activation))
        dropout = trial.suggest_float(f"dropout_l{i}", 0.0, 0.4, step=0.1)
        model.add(layers.Dropout(rate=dropout))
    model.add(layers.Dense(10, activation="softmax"))
    learning_rate = trial.suggest_float(lr_name, 1e-5, 1e-1, log=True)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(scope="module")
def onehot(digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x, y = digits
    return x, keras.utils.to_categorical(y, 10)


def _search(model_fn: Any, data: Any, tmp_path: Path, strategy: str, **kw: Any) -> Any:
    storage = f"sqlite:///{tmp_path / 's.db'}" if strategy == "tpe" else str(tmp_path / "kt")
    settings: dict[str, Any] = {
        "space": "quick",
        "epochs": 2,
        "trials": 3,
        "verbose": 0,
        "seed": 0,
        "storage": storage,
        "strategy": strategy,
    }
    return adamtune.search(model_fn, data, **{**settings, **kw})


def _finished(result: Any) -> list[Any]:
    return [t for t in result.study.trials if "adam" in t.user_attrs]


def _activations(model: Any) -> set[str]:
    """Every activation in the model (BatchNorm, when tuned in, moves one to its own layer)."""
    return {str(layer.get_config().get("activation")) for layer in model.layers}


def _replay_accuracy(cfg: Any, model_fn: Any, x: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    """The one-line use: build, compile, scale, fit (a few more epochs), then score held out."""
    keras.utils.set_random_seed(0)  # the weights and batch order: the score repeats on a machine
    model = cfg.build(model_fn)
    model.compile(**cfg.compile_kwargs())
    scaler = cfg.scaler().fit(x[:1400])
    fit = {**cfg.fit_kwargs(), "epochs": 8}
    model.fit(scaler.transform(x[:1400]), y[:1400], **fit, verbose=0)
    logs = model.evaluate(scaler.transform(x[1400:]), y[1400:], verbose=0, return_dict=True)
    return model, float(logs["accuracy"])


# -- KerasTuner's guide model, on both engines ------------------------------------------------


@pytest.mark.parametrize("strategy", RETRAIN_STRATEGIES)
def test_kerastuner_guide_model_runs_and_replays(
    onehot: tuple[np.ndarray, np.ndarray], tmp_path: Path, strategy: str
) -> None:
    x, y = onehot
    result = _search(build_model, (x, y), tmp_path, strategy)
    assert result.meta["loss"]["config"] == "categorical_crossentropy"  # the compiled loss
    assert result.meta["metrics"] == ["accuracy"]
    trials = _finished(result)
    assert len(trials) == 3
    for trial in trials:
        # "lr" is not a searched dimension: it answers with the trial's coupled learning rate
        assert "lr" not in trial.params and "lr" not in trial.distributions
        user, adam = trial.user_attrs["user_params"], trial.user_attrs["adam"]
        assert user["lr"] == pytest.approx(adam["learning_rate"])
        assert {"units", "activation", "dropout"} <= set(trial.params)
        assert user["units"] % 32 == 0 and isinstance(user["dropout"], bool)
        assert any(
            c.startswith("optimizer Adam compiled in model_fn replaced by the trial's Adam")
            for c in trial.user_attrs["changes"]
        )

    cfg = adamtune.load_config(result.export(tmp_path / "t.json"))
    assert cfg.user_params["lr"] == pytest.approx(cfg.adam.learning_rate)
    model, accuracy = _replay_accuracy(cfg, build_model, x, y)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    assert dense[0].units == cfg.user_params["units"]
    assert cfg.user_params["activation"] in _activations(model)
    assert any(isinstance(layer, layers.Dropout) for layer in model.layers) is bool(
        cfg.user_params["dropout"]
    )
    assert accuracy > 0.8


def test_preflight_notes_say_what_a_compiled_model_gives_and_loses(
    onehot: tuple[np.ndarray, np.ndarray],
) -> None:
    report = preflight(build_model, load_space("quick"), prepare_data(onehot), "val_loss")
    assert report.lr_params == frozenset({"lr"})
    assert "lr" not in report.user_params and "units" in report.user_params
    assert report.loss.loss["config"] == "categorical_crossentropy"
    assert report.loss.metrics == ["accuracy"]
    assert report.loss_weights is None
    assert len(report.notes) == 2
    first, second = report.notes
    assert "model_fn compiles its model: loss 'categorical_crossentropy' (kept)" in first
    assert "its optimizer Adam(learning_rate=0.001) is replaced in every trial" in first
    assert "not an Adam-family" not in first
    assert second.startswith("parameter 'lr' is only the compiled optimizer's learning rate")
    assert all("\n" not in note for note in report.notes)


@pytest.mark.parametrize("optimizer", ["SGD", "RMSprop"])
def test_a_non_adam_compiled_optimizer_is_named(
    digits: tuple[np.ndarray, np.ndarray], optimizer: str
) -> None:
    def model_fn(hp: Any) -> Any:
        model = keras.Sequential([keras.Input((64,)), layers.Dense(10, activation="softmax")])
        opt = getattr(keras.optimizers, optimizer)(learning_rate=0.05)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", loss_weights=2.0)
        return model

    report = preflight(model_fn, load_space("quick"), prepare_data(digits), "val_loss")
    assert f"its optimizer {optimizer}(learning_rate=0.05)" in report.notes[0]
    assert f"{optimizer} is not an Adam-family optimizer" in report.notes[0]
    assert report.lr_params == frozenset()  # a constant learning rate: no parameter of its own
    assert report.loss.metrics == ["accuracy"]  # none compiled: inferred
    assert report.loss_weights == 2.0
    assert any(n.startswith("loss_weights=2.0 from model.compile is kept") for n in report.notes)


def test_a_float_that_only_equals_the_learning_rate_is_still_searched(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    """The pre-flight's middle value of this log range is 1e-3, the compiled learning rate too:
    building again with the parameter moved shows the learning rate does not follow it."""

    def model_fn(hp: Any) -> Any:
        scale = hp.Float("init_scale", 1e-4, 1e-2, sampling="log")
        init = keras.initializers.RandomNormal(stddev=scale * 10)
        model = keras.Sequential(
            [keras.Input((64,)), layers.Dense(10, activation="softmax", kernel_initializer=init)]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        return model

    report = preflight(model_fn, load_space("quick"), prepare_data(digits), "val_loss")
    assert report.user_params["init_scale"] == pytest.approx(1e-3)
    assert report.lr_params == frozenset()
    assert not any("init_scale" in note for note in report.notes)


def test_compiled_metric_objects_are_kept_by_name_or_named_in_a_note() -> None:
    from adamtune.training._compiled import compiled_notes, compiled_settings

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy", keras.metrics.AUC(), keras.metrics.AUC(curve="PR")],
        weighted_metrics=["accuracy"],
    )
    compiled = compiled_settings(model)
    assert compiled.optimizer == "SGD" and compiled.learning_rate == pytest.approx(0.01)
    assert compiled.metrics == ["accuracy", "auc"]  # AUC() with its defaults has a name
    assert compiled.dropped_metrics == ["AUC"]  # AUC(curve="PR") has none
    spec = adamtune.training.LossSpec(compiled.loss, compiled.metrics)
    notes = compiled_notes(compiled, spec, frozenset(), metrics_given=False)
    assert "SGD is not an Adam-family optimizer" in notes[0]
    assert "compiled metric(s) AUC cannot be stored by name and are not used" in notes[1]
    assert notes[2] == "weighted_metrics from model.compile are not used by the search"


def test_search_loss_that_contradicts_the_compiled_loss_is_refused(
    onehot: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    with pytest.raises(
        ValueError,
        match=r"`loss`: model_fn compiles its model with loss 'categorical_crossentropy', but "
        r"search\(loss=\.\.\.\) asks for 'mean_squared_error'.*Received: loss='mse'",
    ):
        _search(build_model, onehot, tmp_path, "tpe", loss="mse")
    assert not (tmp_path / "s.db").exists()
    # the same loss, spelled as a Keras object, is no contradiction
    report = preflight(
        build_model,
        load_space("quick"),
        prepare_data(onehot),
        "val_loss",
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy", "mse"],
    )
    assert report.loss.metrics == ["accuracy", "mse"]
    assert "search(metrics=...) replaces the compiled metrics ['accuracy']" in report.notes


# -- Optuna's guide model, on both engines ----------------------------------------------------


@pytest.mark.parametrize("strategy", RETRAIN_STRATEGIES)
def test_optuna_create_model_runs_and_replays(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path, strategy: str
) -> None:
    x, y = digits
    result = _search(create_model, (x, y), tmp_path, strategy)
    assert result.meta["loss"]["config"] == "sparse_categorical_crossentropy"
    for trial in _finished(result):
        user = trial.user_attrs["user_params"]
        assert "learning_rate_init" not in trial.params
        assert user["learning_rate_init"] == pytest.approx(
            trial.user_attrs["adam"]["learning_rate"]
        )
        for i in range(user["n_layers"]):
            assert 16 <= user[f"n_units_l{i}"] <= 64
            assert user[f"activation_l{i}"] in ("relu", "tanh")
            assert round(user[f"dropout_l{i}"] * 10) == pytest.approx(user[f"dropout_l{i}"] * 10)
        assert any(
            "optimizer RMSprop compiled in model_fn" in c for c in trial.user_attrs["changes"]
        )

    cfg = adamtune.load_config(result.export(tmp_path / "t.yaml"))
    model, accuracy = _replay_accuracy(cfg, create_model, x, y)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    assert len(dense) == cfg.user_params["n_layers"] + 1
    assert [d.units for d in dense[:-1]] == [
        cfg.user_params[f"n_units_l{i}"] for i in range(cfg.user_params["n_layers"])
    ]
    assert accuracy > 0.8


def _create_model_verbatim(trial: Any) -> Any:
    return create_model(trial, lr_name="learning_rate")


@pytest.mark.parametrize("strategy", RETRAIN_STRATEGIES)
def test_optunas_example_with_its_own_learning_rate_name_runs_and_replays(
    digits: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    strategy: str,
) -> None:
    """Optuna's example names its float ``learning_rate``, adamtune's own parameter: each trial
    answers it with the trial's learning rate (said once), it is neither searched nor stored as
    the model_fn's own, and the exported config builds the model with the exported rate."""
    x, y = digits
    result = _search(_create_model_verbatim, (x, y), tmp_path, strategy, verbose=1)
    err = capsys.readouterr().err
    assert err.count("model_fn asks for a float 'learning_rate' of its own") == 1, err
    assert "model_fn's range for it is not used" in err
    for trial in _finished(result):
        assert "learning_rate" not in trial.user_attrs["user_params"]
        assert "n_layers" in trial.user_attrs["user_params"]
        assert (
            "model_fn's float 'learning_rate' answered with the trial's learning rate, not "
            "sampled from its own range" in trial.user_attrs["changes"]
        )
    cfg = adamtune.load_config(result.export(tmp_path / "t.json"))
    assert "learning_rate" not in cfg.user_params
    compiled: list[float] = []  # the rate model_fn compiles with, as the config builds it

    def recording(trial: Any) -> Any:
        model = _create_model_verbatim(trial)
        compiled.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        return model

    cfg.build(recording)
    assert compiled == [pytest.approx(cfg.adam.learning_rate, rel=1e-6)]
    _, accuracy = _replay_accuracy(cfg, _create_model_verbatim, x, y)
    assert accuracy > 0.8


def test_a_learning_rate_answered_inside_an_inactive_scope_is_none() -> None:
    hp = HP(AdamParams(learning_rate=3e-3, batch_size=32), DefaultSource())
    assert hp.suggest_float("learning_rate", 1e-5, 1e-1, log=True) == 3e-3
    hp.Choice("kind", ["a", "b"], default="a")
    with hp.conditional_scope("kind", ["b"]):
        assert hp.Float("learning_rate", 1e-4, 1e-2) is None
    assert hp.user_params == {"kind": "a"} and hp.answered_learning_rate


# -- conditional scopes -------------------------------------------------------------------------


def _scoped(hp: Any) -> Any:
    """Two model types; "extra" only for the wide one, "extra_act" only when extra is 24 or 32."""
    kind = hp.Choice("kind", ["narrow", "wide"])
    with hp.conditional_scope("kind", ["wide"]):
        extra = hp.Int("extra", 8, 32, step=8)
        with hp.conditional_scope("extra", [24, 32]):
            extra_act = hp.Choice("extra_act", ["relu", "tanh"])
    model = keras.Sequential([keras.Input((64,)), layers.Dense(16, activation="relu")])
    if kind == "wide":
        model.add(layers.Dense(extra, activation=extra_act or "relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def _hp(source: Any) -> HP:
    return HP(AdamParams(learning_rate=1e-3, batch_size=32), source)


def test_an_inactive_parameter_returns_none_and_is_not_kept() -> None:
    hp = _hp(FixedSource({"kind": "narrow"}))
    _scoped(hp)
    assert hp.values == {"kind": "narrow"} and hp.user_params == {"kind": "narrow"}
    assert "extra" not in hp
    with pytest.raises(ValueError, match=r"hp\.get\('extra'\): 'extra' is inactive in this trial"):
        hp.get("extra")
    with pytest.raises(KeyError, match=r"hp\.get\('nope'\): no parameter 'nope' was asked for"):
        hp["nope"]

    wide = _hp(FixedSource({"kind": "wide", "extra": 16}))  # nested scope inactive: extra 16
    _scoped(wide)
    assert wide.values == {"kind": "wide", "extra": 16}
    full = _hp(FixedSource({"kind": "wide", "extra": 32, "extra_act": "tanh"}))
    model = _scoped(full)
    assert full["extra_act"] == "tanh" and full.get("kind") == "wide"
    assert model.layers[1].units == 32 and model.layers[1].get_config()["activation"] == "tanh"


def _two_models(hp: Any) -> Any:
    """KerasTuner allows one name in two exclusive scopes: only one is ever active."""
    kind = hp.Choice("kind", ["mlp", "cnn"])
    with hp.conditional_scope("kind", ["mlp"]):
        mlp_units = hp.Int("units", 32, 64)
    with hp.conditional_scope("kind", ["cnn"]):
        cnn_units = hp.Int("units", 8, 16)
    return mlp_units if kind == "mlp" else cnn_units


def test_one_name_in_two_exclusive_scopes() -> None:
    import keras_tuner

    assert _two_models(_hp(FixedSource({"kind": "cnn", "units": 12}))) == 12
    hps = keras_tuner.HyperParameters()
    hp = _hp(KerasTunerSource(hps))
    assert _two_models(hp) == 32  # KerasTuner's defaults: the first kind, min_value
    assert hp.values == {"kind": "mlp", "units": 32}
    units = [p for p in hps.space if p.name == "units"]
    assert [(p.min_value, p.conditions[0].values) for p in units] == [(32, ["mlp"]), (8, ["cnn"])]


def test_conditional_scope_refuses_an_unknown_parent() -> None:
    hp = _hp(DefaultSource())
    hp.Int("units", 8, 16)
    unknown = r"hp\.conditional_scope\('kind'\): `parent_name` must name a parameter this "
    unknown += (
        r"model_fn asked for earlier in the same call\. Received: 'kind' \(asked so far: units\)"
    )
    with pytest.raises(ValueError, match=unknown), hp.conditional_scope("kind", ["wide"]):
        pass
    empty = r"`parent_values` must hold at least one value of the parent\. Received: \[\]"
    with pytest.raises(ValueError, match=empty), hp.conditional_scope("units", []):
        pass


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_inactive_parameters_are_not_searched_on_either_engine(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path, strategy: str
) -> None:
    result = _search(_scoped, digits, tmp_path, strategy, trials=4, epochs=1)
    trials = _finished(result)
    assert len(trials) == 4
    for trial in trials:
        user = trial.user_attrs["user_params"]
        assert ("extra" in user) is (user["kind"] == "wide")
        assert ("extra_act" in user) is (user.get("extra") in (24, 32))
        assert set(user) <= set(trial.params)  # what the engine stored is what was active
        assert set(trial.params) - set(user) <= set(trial.user_attrs["adam"]) | {
            f"{k}_strength" for k in ("l2", "adamw")
        }
    cfg = adamtune.load_config(result.export(tmp_path / "t.json"))
    cfg.build(_scoped)  # replays, inactive parameters included


# -- mixed-type choices on KerasTuner -----------------------------------------------------------


def _mixed(hp: Any) -> Any:
    rate = hp.Choice("rate", [0, 0.25, 0.5])
    act = hp.Choice("act", [None, "relu"])
    with hp.conditional_scope("act", ["relu"]):
        units = hp.Int("units", 8, 16, step=8)
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(units or 12, activation=act),
            layers.Dropout(rate),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_mixed_type_choices_run_on_kerastuner(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    result = _search(_mixed, digits, tmp_path, "kt-random", trials=4, epochs=1)
    for trial in _finished(result):
        user = trial.user_attrs["user_params"]
        assert user["rate"] in (0, 0.25, 0.5) and user["act"] in (None, "relu")
        assert ("units" in user) is (user["act"] == "relu")
    cfg = adamtune.load_config(result.export(tmp_path / "t.json"))
    model = cfg.build(_mixed)
    assert (cfg.user_params["act"] or "linear") in _activations(model)


def test_kerastuner_source_maps_mixed_choices_and_back() -> None:
    import keras_tuner

    hps = keras_tuner.HyperParameters()
    source = KerasTunerSource(hps)
    assert source.choice("rate", [0, 0.25, 0.5]) == 0 and isinstance(hps.values["rate"], float)
    assert source.choice("pool", [None, "max"]) is None
    assert hps.values["pool"] == "None"
    hps.values["pool"] = "'max'"
    hps.values["rate"] = 0.5
    fresh = KerasTunerSource(hps)
    assert fresh.choice("pool", [None, "max"]) == "max"
    assert fresh.choice("rate", [0, 0.25, 0.5]) == 0.5
    with fresh.scope("pool", ["max"]):
        assert fresh.int("size", 2, 4, 1, False) == 2  # active: KerasTuner's default
    with fresh.scope("pool", [None]):
        assert fresh.int("other", 2, 4, 1, False) is None  # inactive: KerasTuner answers None
    assert source.choice("same", [1, 1.0, True]) == 1  # repr texts when floats would collide
    assert hps.values["same"] == "1"


def test_kerastuner_source_passes_steps_sampling_and_defaults() -> None:
    import keras_tuner

    hps = keras_tuner.HyperParameters()
    source = KerasTunerSource(hps)
    assert source.float("f", 0.0, 1.0, False, step=0.25, default=0.5) == 0.5
    assert source.float("g", 1e-3, 1.0, True, reverse=True) == pytest.approx(1e-3)
    assert source.int("n", 2, 32, 1, True, reverse=True, default=8) == 8
    assert source.choice("c", [1, 2, 3], ordered=False, default=2) == 2
    by_name = {p.name: p for p in hps.space}
    assert by_name["f"].step == 0.25 and by_name["g"].sampling == "reverse_log"
    assert by_name["n"].sampling == "reverse_log" and by_name["c"].ordered is False


def test_optuna_source_steps_and_mirrors_reverse_log() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    source = OptunaSource(trial)
    value = source.float("f", 0.0, 1.0, False, step=0.25)
    assert value in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert trial.distributions["f"].step == 0.25
    mirrored = source.float("g", 1e-3, 1.0, True, reverse=True)
    assert mirrored == pytest.approx(1.0 + 1e-3 - trial.params["g"])
    n = source.int("n", 2, 32, 1, True, reverse=True)
    assert n == 34 - trial.params["n"]


# -- the spellings, one by one ------------------------------------------------------------------


def test_kerastuner_spellings_positional_and_keyword() -> None:
    hp = _hp(DefaultSource())
    assert hp.Int("a", 32, 512, 32) == 288  # the middle, on the step grid
    assert hp.Int(name="b", min_value=1, max_value=9, default=3) == 3  # default: pre-flight value
    assert hp.Int("c", 2, 32, step=2, sampling="log") == 2  # grid 2, 4, ..., 32: its first
    assert hp.Float("d", 0.0, 1.0, 0.25) == 0.5
    assert hp.Float("e", 1e-4, 1e-2, sampling="LOG") == pytest.approx(1e-3)
    assert hp.Float("f", 1e-3, 10.0, step=10, sampling="log", default=0.1) == pytest.approx(0.1)
    assert hp.Float("g", 1e-3, 1.0, sampling="reverse_log") == pytest.approx(1.001 - 1e-3**0.5)
    assert hp.Choice("h", ["x", "y"]) == "x"
    assert hp.Choice("i", [1, 2, 3], ordered=True, default=2) == 2
    assert hp.Boolean("j") is False and hp.Boolean("k", default=True) is True
    assert hp.Fixed("l", "same") == "same"
    assert hp.Int("m", 32.0, 64.0) == 48  # KerasTuner accepts integral floats
    with hp.conditional_scope("h", "x"):  # one value, not a list: as KerasTuner
        assert hp.Int("n", 1, 3, parent_name="j", parent_values=[True]) is None
    assert hp.get("a") == 288 and hp["l"] == "same" and "n" not in hp
    assert hp.get("batch_size") == 32  # the trial's Adam choices too
    assert set(hp.values) == set("abcdefghijklm")


def test_optuna_spellings() -> None:
    hp = _hp(DefaultSource())
    assert hp.suggest_int("a", 1, 9) == 5
    assert hp.suggest_int("b", 1, 9, step=4) == 5
    assert hp.suggest_int("c", 2, 32, log=True) == 8
    assert hp.suggest_float("d", 0.0, 0.4, step=0.1) == pytest.approx(0.2)
    assert hp.suggest_float("e", 1e-5, 1e-1, log=True) == pytest.approx(1e-3)
    assert hp.suggest_categorical("f", [None, "max", 3]) is None
    assert hp.user_params["f"] is None and "f" in hp


def test_asking_again_gives_the_same_value_or_a_clear_error() -> None:
    hp = _hp(FixedSource({"units": 64}))
    assert hp.Int("units", 32, 128) == 64
    assert hp.Int("units", 32, 128) == 64  # KerasTuner and Optuna answer a repeat the same
    with pytest.raises(
        ValueError,
        match=r"hp parameter 'units' was asked for twice in one model_fn call with different "
        r"settings\. Received: \('Int', 32, 256, .*\) after \('Int', 32, 128,",
    ):
        hp.Int("units", 32, 256)
    with pytest.raises(ValueError, match=r"hp parameter 'units' was asked for twice"):
        hp.int("units", 32, 128)  # adamtune's own spelling keeps refusing repeats


def test_reserved_names_are_refused_with_a_hint_for_learning_rate() -> None:
    """KerasTuner's old README asked ``hp.Choice('learning_rate', values=[1e-2, 1e-3, 1e-4])``:
    a choice is refused (only a float is answered with the trial's rate), and the hint says so."""
    with pytest.raises(
        ValueError,
        match=r"hp parameter name 'learning_rate' is used by adamtune itself.*asked for as a "
        r"float \(hp\.Float, hp\.float, trial\.suggest_float\) each trial answers it.*read "
        r"hp\.learning_rate.*for example 'lr'.*replaced by adamtune's coupled learning rate",
    ):
        _hp(DefaultSource()).Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    with pytest.raises(ValueError, match=r"hp parameter name 'learning_rate' is used by adamtune"):
        _hp(DefaultSource()).suggest_int("learning_rate", 1, 10)
    with pytest.raises(ValueError, match=r"hp parameter name 'batch_size' is used by adamtune"):
        _hp(DefaultSource()).suggest_categorical("batch_size", [16, 32])


def test_lr_params_answer_with_the_trials_learning_rate() -> None:
    hp = HP(AdamParams(learning_rate=3e-3, batch_size=32), FixedSource({}), lr_params={"lr"})
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 3e-3  # the source is never asked
    assert hp.suggest_float("lr", 1e-4, 1e-2, log=True) == 3e-3
    assert hp.user_params == {"lr": 3e-3}


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (
            lambda hp: hp.Int("n", 5, 2),
            ValueError,
            r"hp\.Int\('n'\): `min_value` must be <= `max_value`\. Received: min_value=5, "
            r"max_value=2",
        ),
        (
            lambda hp: hp.Int("n", 1.5, 4),
            TypeError,
            r"hp\.Int\('n'\): `min_value` must be an int\. Received: 1\.5",
        ),
        (
            lambda hp: hp.Int("n", 0, 8, sampling="log"),
            ValueError,
            r"hp\.Int\('n'\): sampling='log' needs `min_value` > 0\. Received: min_value=0",
        ),
        (
            lambda hp: hp.Int("n", 1, 8, sampling="cubic"),
            ValueError,
            r"hp\.Int\('n'\): `sampling` must be one of linear, log, reverse_log\. "
            r"Received: sampling='cubic'",
        ),
        (
            lambda hp: hp.Int("n", 1, 8, step=0),
            ValueError,
            r"hp\.Int\('n'\): `step` must be > 0\. Received: step=0",
        ),
        (
            lambda hp: hp.Int("n", 2, 32, step=1, sampling="log"),
            ValueError,
            r"hp\.Int\('n'\): with sampling='log', `step` is the ratio between values and must "
            r"be > 1 \(KerasTuner's rule\)\. Received: step=1",
        ),
        (
            lambda hp: hp.Int("n", 1, 8, default=9),
            ValueError,
            r"hp\.Int\('n'\): `default` must lie in \[min_value, max_value\] = \[1, 8\]\. "
            r"Received: default=9",
        ),
        (
            lambda hp: hp.Float("f", 0.0, math.nan),
            ValueError,
            r"hp\.Float\('f'\): `max_value` must be finite\. Received: nan",
        ),
        (
            lambda hp: hp.Float("f", "0", 1.0),
            TypeError,
            r"hp\.Float\('f'\): `min_value` must be a number\. Received: '0'",
        ),
        (
            lambda hp: hp.Float("f", 0.0, 1.0, step=-0.1),
            ValueError,
            r"hp\.Float\('f'\): `step` must be > 0\. Received: step=-0\.1",
        ),
        (
            lambda hp: hp.Choice("c", []),
            ValueError,
            r"hp\.Choice\('c'\): `values` must be a non-empty list\. Received: \[\]",
        ),
        (
            lambda hp: hp.Choice("c", ["a", [1]]),
            TypeError,
            r"hp\.Choice\('c'\): values must be None, bool, int, float or str so a study can "
            r"store them\. Received: \[1\] \(list\)",
        ),
        (
            lambda hp: hp.Choice("c", ["a", "b"], ordered=True),
            ValueError,
            r"hp\.Choice\('c'\): `ordered=True` needs numeric values \(KerasTuner's rule\)\. "
            r"Received: values=\['a', 'b'\]",
        ),
        (
            lambda hp: hp.Choice("c", ["a", "b"], default="z"),
            ValueError,
            r"hp\.Choice\('c'\): `default` must be one of `values`\. Received: default='z'",
        ),
        (
            lambda hp: hp.Boolean("b", default="yes"),
            TypeError,
            r"hp\.Boolean\('b'\): `default` must be True or False\. Received: 'yes'",
        ),
        (
            lambda hp: hp.Fixed("x", {"a": 1}),
            TypeError,
            r"hp\.Fixed\('x'\): `value` must be None, bool, int, float or str so a study can "
            r"store it\. Received: \{'a': 1\} \(dict\)",
        ),
        (
            lambda hp: hp.suggest_int("n", 1, 8, step=2, log=True),
            ValueError,
            r"suggest_int\('n'\): `step` and `log=True` cannot be used together \(Optuna's "
            r"rule\)\. Received: step=2, log=True",
        ),
        (
            lambda hp: hp.suggest_float("f", 1e-3, 1.0, step=0.1, log=True),
            ValueError,
            r"suggest_float\('f'\): `step` and `log=True` cannot be used together",
        ),
    ],
)
def test_bad_requests_are_refused_by_name(call: Any, error: type[Exception], pattern: str) -> None:
    hp = _hp(DefaultSource())
    with pytest.raises(error, match=pattern):
        call(hp)
    assert hp.user_params == {}  # a refused request is not recorded
