"""Nesterov Adam and gradient clipping in the space (issue 19, first part): a space file that
asks for them, a search whose trials train with them, and an export that carries them back into
training code through ``load_config`` alone."""

from __future__ import annotations

import copy
import json
import runpy
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml
from conftest import digits_mlp, fixed_space

import adamtune
from adamtune._record import TrialRecord
from adamtune.params import AdamParams
from adamtune.result import load_config
from adamtune.spaces import FloatRange, Space
from adamtune.training import make_optimizer

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FILE = {
    "version": 1,
    "name": "clipped",
    "learning_rate": {"low": 1e-4, "high": 1e-2},
    "batch_size": [32, 64],
    "regularizer": {"none": None, "adamw": {"low": 1e-5, "high": 1e-2}},
    "optimizer": ["adam", "nadam"],
    "global_clipnorm": {"low": 0.1, "high": 10.0},
}


def test_a_space_file_with_an_optimizer_choice_and_clipping_round_trips() -> None:
    space = Space.from_dict(FILE, "clipped.yaml")
    assert space.optimizer == ("adam", "nadam")
    assert space.global_clipnorm == FloatRange(0.1, 10.0, log=True)
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space
    assert Space.from_dict(tomllib.loads(space.to_toml())) == space
    plain = Space.from_dict(
        {k: v for k, v in FILE.items() if k not in ("optimizer", "global_clipnorm")}
    )
    assert plain.optimizer is None and plain.global_clipnorm is None
    assert "optimizer" not in plain.to_dict() and "global_clipnorm" not in plain.to_dict()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "optimizer",
            ["adamw"],
            r"`optimizer\[0\]`: must be one of adam, nadam \(AdamW is the regularizer `adamw`\)",
        ),
        ("optimizer", [], r"`optimizer`: must list at least one choice"),
        ("optimizer", "nadam", r"`optimizer`: must be a list of choices"),
        (
            "global_clipnorm",
            {"low": 0.0, "high": 1.0, "log": False},
            r"`global_clipnorm.low`: must be > 0",
        ),
        ("global_clipnorm", {"low": 2.0, "high": 1.0}, r"`global_clipnorm`: low must be <= high"),
        ("global_clipnorm", 1.0, r"`global_clipnorm`: must be a mapping"),
    ],
)
def test_a_bad_optimizer_or_clipping_field_is_refused_by_name(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^bad\.yaml: field " + message):
        Space.from_dict({**FILE, field: value}, "bad.yaml")


@pytest.mark.parametrize(
    ("adam", "cls", "decay"),
    [
        (AdamParams(1e-3, 32, optimizer="nadam", global_clipnorm=1.0), "Nadam", None),
        (AdamParams(1e-3, 32, "adamw", 1e-3, optimizer="nadam"), "Nadam", 1e-3),
        (AdamParams(1e-3, 32, "adamw", 1e-3), "AdamW", 1e-3),
        (AdamParams(1e-3, 32), "Adam", None),
    ],
)
def test_the_trials_optimizer_is_keras_own_with_its_clipping_and_decay(
    adam: AdamParams, cls: str, decay: float | None
) -> None:
    opt = make_optimizer(adam)
    assert type(opt).__name__ == cls
    assert opt.global_clipnorm == adam.global_clipnorm
    assert opt.weight_decay == decay


def test_first_trials_name_an_optimizer_and_a_clipnorm_only_where_the_space_searches_them(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    with pytest.raises(
        ValueError, match=r"first_trials\[0\]\['global_clipnorm'\]` must be None or 0.1 to 10"
    ):
        adamtune.search(
            digits_mlp,
            digits,
            space=Space.from_dict(FILE),
            trials=1,
            epochs=1,
            verbose=0,
            first_trials=[{"global_clipnorm": 50.0}],
        )
    with pytest.raises(
        ValueError,
        match=r"first_trials\[0\]\['optimizer'\]` must be 'adam': the space does not search it",
    ):
        adamtune.search(
            digits_mlp,
            digits,
            space="quick",
            trials=1,
            epochs=1,
            verbose=0,
            first_trials=[{"optimizer": "nadam"}],
        )


@pytest.mark.parametrize("strategy", ["tpe", "kt-random"])
def test_a_search_trains_with_nadam_and_clipping_and_the_export_carries_them(
    strategy: str, digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits
    space = fixed_space(
        lr=3e-3,
        batch=64,
        epochs=2,
        optimizer=("nadam",),
        global_clipnorm=FloatRange(0.5, 0.5, log=True),
    )
    # KerasTuner strategies take no first_trials; TPE's first trial is clipped on purpose.
    extra: dict[str, Any] = (
        {"first_trials": [{"global_clipnorm": 0.5}]} if strategy == "tpe" else {}
    )
    result = adamtune.search(
        digits_mlp,
        (x[:600], y[:600]),
        space=space,
        trials=4,
        epochs=2,
        verbose=0,
        strategy=strategy,
        seed=0,
        storage=str(tmp_path / "kt")
        if strategy == "kt-random"
        else f"sqlite:///{tmp_path / 's.db'}",
        **extra,
    )
    table = result.trials
    assert set(table["optimizer"]) == {"nadam"}
    assert table["global_clipnorm"].notna().any(), table
    assert table["global_clipnorm"].isna().any() or strategy == "tpe", table
    for trial in result.study.get_trials(deepcopy=False):
        record = TrialRecord.from_attrs(trial.user_attrs)
        assert record.optimizer is not None and record.adam is not None
        assert record.optimizer["class_name"] == "Nadam"
        assert record.optimizer["config"]["global_clipnorm"] == record.adam["global_clipnorm"]
    best = result.best
    for path in (tmp_path / "tuned.json", tmp_path / "tuned.yaml"):
        loaded = load_config(best.export(path))
        assert loaded.adam == best.adam
        opt = loaded.compile_kwargs()["optimizer"]
        assert type(opt).__name__ == "Nadam"
        assert opt.global_clipnorm == best.adam.global_clipnorm
    assert "Nadam" in repr(best)
    clip = "" if best.adam.global_clipnorm is None else ", global_clipnorm=0.5"
    assert f"  optimizer:      Nadam, learning_rate=0.003{clip}\n" in str(best)
    snippet = runpy.run_path(str(best.export(tmp_path / "tuned.py")))
    opt = snippet["compile_kwargs"]()["optimizer"]
    assert (type(opt).__name__, opt.global_clipnorm) == ("Nadam", best.adam.global_clipnorm)


def test_an_exported_config_whose_optimizer_contradicts_its_adam_choices_is_refused(
    tmp_path: Path,
) -> None:
    from adamtune.result import TunedConfig

    config = TunedConfig(
        adam=AdamParams(2e-3, 64, optimizer="nadam", global_clipnorm=1.0),
        epochs=3,
        optimizer=keras.optimizers.serialize(keras.optimizers.Nadam(2e-3, global_clipnorm=1.0)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    path = config.export(tmp_path / "tuned.json")
    assert load_config(path).compile_kwargs()["optimizer"].global_clipnorm == 1.0
    data = json.loads(path.read_text())
    both = copy.deepcopy(data)
    both["adam"]["clipnorm"] = 2.0
    path.write_text(json.dumps(both))
    with pytest.raises(
        ValueError, match=r"adam.clipnorm`?: must be null when adam.global_clipnorm is set"
    ):
        load_config(path)
    data["optimizer"]["config"]["global_clipnorm"] = None
    path.write_text(json.dumps(data))
    with pytest.raises(
        ValueError, match=r"optimizer.config.global_clipnorm`?: must equal adam's value 1.0"
    ):
        load_config(path)
    data["optimizer"]["class_name"] = "Adam"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"must be 'Nadam' for optimizer 'nadam'"):
        load_config(path)
    data["adam"]["optimizer"] = "sgd"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"adam.optimizer`?: must be one of adam, nadam"):
        load_config(path)


# -- per-variable clipping (Keras' clipnorm) -----------------------------------------------------

BOTH = {**FILE, "clipnorm": {"low": 0.5, "high": 5.0}}


def test_a_space_may_clip_each_variable_or_the_global_norm_and_round_trips() -> None:
    space = Space.from_dict(BOTH, "both.yaml")
    assert space.clipnorm == FloatRange(0.5, 5.0, log=True)
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space
    assert Space.from_dict(tomllib.loads(space.to_toml())) == space
    with pytest.raises(ValueError, match=r"^bad\.yaml: field `clipnorm.low`: must be > 0"):
        Space.from_dict({**FILE, "clipnorm": {"low": 0.0, "high": 1.0, "log": False}}, "bad.yaml")


def test_a_trial_clips_one_way_or_none_and_keras_gets_that_way() -> None:
    opt = make_optimizer(AdamParams(1e-3, 32, clipnorm=2.0))
    assert (opt.clipnorm, opt.global_clipnorm) == (2.0, None)
    config = keras.optimizers.serialize(opt)["config"]
    assert (config["clipnorm"], config["global_clipnorm"]) == (2.0, None)


def test_a_search_offering_both_clips_each_trial_one_way_and_the_export_carries_it(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits
    space = fixed_space(
        lr=3e-3,
        batch=64,
        epochs=1,
        global_clipnorm=FloatRange(0.5, 0.5, log=True),
        clipnorm=FloatRange(2.0, 2.0, log=True),
    )
    with pytest.raises(
        ValueError,
        match=r"first_trials\[0\]\['clipnorm'\]` must be None when global_clipnorm is given",
    ):
        adamtune.search(digits_mlp, (x, y), space=space, trials=1, epochs=1, verbose=0,
                        first_trials=[{"clipnorm": 2.0, "global_clipnorm": 0.5}])  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"first_trials\[0\]\['clipnorm'\]` must be None: the space does not search it",
    ):
        adamtune.search(digits_mlp, (x, y), space=Space.from_dict(FILE), trials=1, epochs=1,
                        verbose=0, first_trials=[{"clipnorm": 2.0}])  # fmt: skip
    result = adamtune.search(
        digits_mlp,
        (x[:600], y[:600]),
        space=space,
        trials=8,
        epochs=1,
        verbose=0,
        strategy="random",
        seed=1,
        first_trials=[{"clipnorm": 2.0}],
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    seen = set()
    for trial in result.study.get_trials(deepcopy=False):
        record = TrialRecord.from_attrs(trial.user_attrs)
        assert record.adam is not None and record.optimizer is not None
        clips = (record.adam["global_clipnorm"], record.adam["clipnorm"])
        assert None in clips, clips  # never both: Keras takes one
        config = record.optimizer["config"]
        assert (config["global_clipnorm"], config["clipnorm"]) == clips
        seen.add(trial.params["clipping"])
    assert seen == {"off", "on", "per_variable"}, seen
    assert result.study.trials[0].params["clipping"] == "per_variable"
    best = result.best
    loaded = load_config(best.export(tmp_path / "tuned.json"))
    assert loaded.adam == best.adam
    opt = loaded.compile_kwargs()["optimizer"]
    assert (opt.clipnorm, opt.global_clipnorm) == (best.adam.clipnorm, best.adam.global_clipnorm)
    if best.adam.clipnorm is not None:
        assert ", clipnorm=2\n" in str(best)
