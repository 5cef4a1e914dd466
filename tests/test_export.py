"""TunedConfig out and back in: JSON, YAML and .py exports, load_config, and what training code uses."""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml
from conftest import mlp
from sklearn import preprocessing
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import adamtune
from adamtune.params import HP, AdamParams
from adamtune.result import TunedConfig, load_config


def _config(**overrides: Any) -> TunedConfig:
    fields: dict[str, Any] = {
        "adam": AdamParams(
            learning_rate=2e-3,
            batch_size=64,
            regularizer="l2",
            regularizer_strength=1e-4,
            batch_norm=True,
            scaling="standard",
            base_learning_rate=1.4142e-3,
        ),
        "epochs": 7,
        "optimizer": keras.optimizers.serialize(
            keras.optimizers.Adam(learning_rate=2e-3, name="adam")
        ),
        "loss": keras.losses.serialize(keras.losses.SparseCategoricalCrossentropy()),
        "metrics": ["accuracy"],
        "user_params": {"units": 24, "act": "relu", "dropout": 0.125, "deep": True, "opt": None},
        "objective": "val_loss",
        "value": 0.25,
        "study_name": "digits",
        "trial_number": 3,
        "changes": ["BatchNorm after dense", "L2(0.0003) on dense, dense_1"],
    }
    fields.update(overrides)
    return TunedConfig(**fields)


def _adamw_config() -> TunedConfig:
    return _config(
        adam=AdamParams(
            learning_rate=1e-3, batch_size=32, regularizer="adamw", regularizer_strength=0.01
        ),
        optimizer=keras.optimizers.serialize(
            keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01, name="adamw")
        ),
    )


def _run_snippet(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _import_snippet(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- JSON and YAML round trips ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
@pytest.mark.parametrize("make", [_config, _adamw_config], ids=["adam", "adamw"])
def test_export_and_load_round_trip_exactly(tmp_path: Path, suffix: str, make: Any) -> None:
    config = make()
    path = config.export(tmp_path / f"tuned{suffix}")
    assert path == tmp_path / f"tuned{suffix}"
    loaded = load_config(path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded == config
    # exporting what was loaded writes the same file again
    again = loaded.export(tmp_path / f"again{suffix}")
    assert again.read_text() == path.read_text()


def test_exported_json_is_plain_values(tmp_path: Path) -> None:
    path = _config().export(tmp_path / "tuned.json")
    data = json.loads(path.read_text())
    assert data["format"] == 1
    assert data["fit"] == {"batch_size": 64, "epochs": 7}
    assert data["adam"]["learning_rate"] == 2e-3
    assert data["optimizer"]["class_name"] == "Adam"
    assert adamtune.load_config is load_config


def test_config_with_string_loss_and_no_study(tmp_path: Path) -> None:
    config = _config(loss="mse", metrics=["mae"], value=None, study_name=None, trial_number=None)
    loaded = load_config(config.export(tmp_path / "tuned.yaml"))
    assert loaded == config
    assert loaded.compile_kwargs()["loss"] == "mse"


# -- what training code uses ------------------------------------------------------------------


def test_compile_kwargs_gives_a_fresh_adam() -> None:
    config = _config()
    before = copy.deepcopy(config.to_dict())
    kwargs = config.compile_kwargs()
    assert set(kwargs) == {"optimizer", "loss", "metrics"}
    optimizer = kwargs["optimizer"]
    assert type(optimizer) is keras.optimizers.Adam
    assert optimizer.get_config()["learning_rate"] == pytest.approx(config.adam.learning_rate)
    assert type(kwargs["loss"]) is keras.losses.SparseCategoricalCrossentropy
    assert kwargs["metrics"] == ["accuracy"]
    second = config.compile_kwargs()
    assert second["optimizer"] is not optimizer  # one optimizer per model
    kwargs["metrics"].append("mutated")
    assert config.metrics == ["accuracy"]
    assert config.to_dict() == before  # deserializing did not change the config


def test_compile_kwargs_gives_adamw_with_weight_decay() -> None:
    optimizer = _adamw_config().compile_kwargs()["optimizer"]
    assert type(optimizer) is keras.optimizers.AdamW
    config = optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(1e-3)
    assert config["weight_decay"] == pytest.approx(0.01)


def test_fit_kwargs() -> None:
    assert _config().fit_kwargs() == {"batch_size": 64, "epochs": 7}


def test_params_hold_adam_epochs_and_user_values() -> None:
    params = _config().params
    assert params["learning_rate"] == 2e-3 and params["epochs"] == 7 and params["units"] == 24


@pytest.mark.parametrize(
    ("scaling", "cls"),
    [
        ("standard", preprocessing.StandardScaler),
        ("minmax", preprocessing.MinMaxScaler),
        ("robust", preprocessing.RobustScaler),
        ("none", preprocessing.FunctionTransformer),
    ],
)
def test_scaler_is_fresh_and_unfitted(scaling: str, cls: type[Any]) -> None:
    from adamtune.data._feature_scaler import FeatureScaler

    config = _config(adam=AdamParams(learning_rate=1e-3, batch_size=32, scaling=scaling))
    scaler = config.scaler()
    assert config.scaler() is not scaler
    if scaling == "none":
        assert type(scaler) is cls
        return
    # scikit-learn's scaler, applied per feature (per channel on N-D arrays) by FeatureScaler
    assert type(scaler) is FeatureScaler and scaler.method == scaling
    with pytest.raises(NotFittedError):
        check_is_fitted(scaler)
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(40, 5)).astype(np.float32)
    assert type(scaler.fit(x).scaler_) is cls
    np.testing.assert_allclose(scaler.transform(x), cls().fit_transform(x), rtol=1e-5, atol=1e-6)


def test_build_applies_the_tuned_regularizer_and_batch_norm() -> None:
    model = _config().build(lambda: mlp(8, 3))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 2
    for layer in dense:
        assert isinstance(layer.kernel_regularizer, keras.regularizers.L2)
        assert layer.kernel_regularizer.get_config()["l2"] == pytest.approx(1e-4)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) == 1


def test_build_replays_user_params_and_trains(tmp_path: Path) -> None:
    def build_model(hp: HP) -> Any:
        return mlp(
            8, 3, activation=hp.choice("act", ["tanh", "relu"]), units=hp.int("units", 4, 64)
        )

    config = load_config(_config().export(tmp_path / "tuned.json"))
    model = config.build(build_model)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense[0].units == 24
    assert dense[-1].get_config()["activation"] == "relu"
    # the one-line use from the design: compile, scale, fit
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 8)).astype(np.float32), np.arange(64) % 3
    model.compile(**config.compile_kwargs())
    scaler = config.scaler().fit(x)
    history = model.fit(scaler.transform(x), y, **{**config.fit_kwargs(), "epochs": 1}, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(2e-3)


def test_build_with_a_changed_model_fn_names_the_missing_parameter() -> None:
    def build_model(hp: HP) -> Any:
        return mlp(8, 3, units=hp.int("width", 4, 64))

    with pytest.raises(KeyError, match=r"parameter 'width', which this tuned config does not hold"):
        _config().build(build_model)


# -- the .py snippet --------------------------------------------------------------------------


def test_py_snippet_runs_on_its_own_and_matches(tmp_path: Path) -> None:
    config = _config()
    path = config.export(tmp_path / "tuned_cfg.py")
    done = _run_snippet(path)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert ast.literal_eval(lines[-1]) == config.fit_kwargs()
    assert "Adam" in lines[0]

    module = _import_snippet(path, "tuned_cfg")
    assert config.to_dict() == module.CONFIG
    assert module.fit_kwargs() == config.fit_kwargs()
    theirs, ours = module.compile_kwargs(), config.compile_kwargs()
    assert type(theirs["optimizer"]) is type(ours["optimizer"])
    assert theirs["optimizer"].get_config() == ours["optimizer"].get_config()
    assert type(theirs["loss"]) is type(ours["loss"])
    assert theirs["loss"].get_config() == ours["loss"].get_config()
    assert theirs["metrics"] == ours["metrics"]


def test_load_config_refuses_py_exports(tmp_path: Path) -> None:
    path = _config().export(tmp_path / "tuned.py")
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: a \.py export is code; import it"
    ):
        load_config(path)


# -- nothing written can become code ----------------------------------------------------------


def _evil(marker: Path) -> str:
    return (
        f"x'\"\"\"'''\n__import__('os').system('touch {marker}')\n"
        f"\"\"\"; __import__('os').system('touch {marker}'); '''\\ \t\x00\u2028é #"
    )


def _evil_config(marker: Path) -> TunedConfig:
    evil = _evil(marker)
    return _config(
        study_name=evil,
        objective=evil,
        user_params={evil: evil, "list": [evil, 1, None], "nested": {evil: [evil]}, "units": 8},
    )


def test_py_snippet_injection_stays_data(tmp_path: Path) -> None:
    marker = tmp_path / "INJECTED"
    config = _evil_config(marker)
    path = config.export(tmp_path / "evil_cfg.py")
    text = path.read_text()
    tree = ast.parse(text)
    # top level: `import keras`, `CONFIG = <literal>`, the seven helpers and the __main__ block
    kinds = [type(node).__name__ for node in tree.body]
    assert kinds == ["Import", "Assign", *["FunctionDef"] * 7, "If"]
    assign = tree.body[1]
    assert isinstance(assign, ast.Assign)
    assert [t.id for t in assign.targets if isinstance(t, ast.Name)] == ["CONFIG"]
    assert ast.literal_eval(assign.value) == config.to_dict()
    assert not any(isinstance(node, ast.Call) for node in ast.walk(assign.value))

    runpy.run_path(str(path), run_name="__main__")  # run it in this process
    module = _import_snippet(path, "evil_cfg")  # and import it
    assert module.CONFIG["study"] == _evil(marker)
    done = _run_snippet(path)  # and run it on its own
    assert done.returncode == 0, done.stderr[-2000:]
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_injection_round_trips_as_data_in_json_and_yaml(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "INJECTED"
    config = _evil_config(marker)
    loaded = load_config(config.export(tmp_path / f"evil{suffix}"))
    assert loaded.to_dict() == config.to_dict()
    assert loaded.study_name == _evil(marker)
    assert not marker.exists()


def test_yaml_config_with_python_tag_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "INJECTED"
    text = _config().export(tmp_path / "tuned.yaml").read_text()
    text = text.replace(
        "study: digits", f"study: !!python/object/apply:os.system ['touch {marker}']"
    )
    assert "!!python/object/apply" in text
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: not valid YAML \(plain values only\)"
    ):
        load_config(path)
    assert not marker.exists()


# -- load_config errors -----------------------------------------------------------------------


def _write_json(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(data))
    return path


def _mutated(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(_config().to_dict())
    change(data)
    return data


BAD_CONFIGS: list[tuple[str, Any, str]] = [
    (
        "unknown-top-level-key",
        lambda d: d.update(extra=1),
        r"field `<top level>`: unknown key\(s\) \['extra'\]; allowed: format",
    ),
    ("missing-loss", lambda d: d.pop("loss"), r"field `loss`: is required"),
    ("missing-adam", lambda d: d.pop("adam"), r"field `adam`: is required"),
    (
        "missing-lr",
        lambda d: d["adam"].pop("learning_rate"),
        r"field `adam\.learning_rate`: is required",
    ),
    ("wrong-format", lambda d: d.update(format=2), r"field `format`: must be 1\. Received: 2"),
    ("missing-format", lambda d: d.pop("format"), r"field `format`: must be 1\. Received: None"),
    (
        "batch-size-zero",
        lambda d: d["adam"].update(batch_size=0),
        r"field `adam\.batch_size`: must be a positive integer\. Received: 0",
    ),
    (
        "batch-size-string",
        lambda d: d["adam"].update(batch_size="64"),
        r"field `adam\.batch_size`: must be a positive integer\. Received: '64'",
    ),
    (
        "batch-size-float",
        lambda d: d["adam"].update(batch_size=64.0),
        r"field `adam\.batch_size`: must be a positive integer\. Received: 64\.0",
    ),
    (
        "fit-batch-mismatch",
        lambda d: d["fit"].update(batch_size=32),
        r"field `fit\.batch_size`: must equal adam\.batch_size \(64\)\. Received: 32",
    ),
    (
        "epochs-zero",
        lambda d: d["fit"].update(epochs=0),
        r"field `fit\.epochs`: must be a positive integer\. Received: 0",
    ),
    (
        "optimizer-sgd",
        lambda d: d["optimizer"].update(class_name="SGD"),
        r"field `optimizer`: must be a Keras-serialized Adam, AdamW or Nadam config\. Received: \{",
    ),
    (
        "optimizer-string",
        lambda d: d.update(optimizer="adam"),
        r"field `optimizer`: must be a Keras-serialized Adam, AdamW or Nadam config\. Received: 'adam'",
    ),
    (
        "adam-unknown-key",
        lambda d: d["adam"].update(momentum=0.9),
        r"field `adam`: unknown key\(s\) \['momentum'\]",
    ),
    (
        "adam-bad-regularizer",
        lambda d: d["adam"].update(regularizer="l3"),
        r"field `adam\.regularizer`: must be one of none, l1, l2, l1_l2, adamw",
    ),
    (
        "adam-bad-scaling",
        lambda d: d["adam"].update(scaling="zscore"),
        r"field `adam\.scaling`: must be one of none, standard, minmax, robust",
    ),
    (
        "adam-negative-lr",
        lambda d: d["adam"].update(learning_rate=-1.0),
        r"field `adam\.learning_rate`: must be > 0\. Received: -1\.0",
    ),
    (
        "adam-lr-string",
        lambda d: d["adam"].update(learning_rate="1e-3"),
        r"field `adam\.learning_rate`: must be a finite number",
    ),
    (
        "adam-batch-norm-string",
        lambda d: d["adam"].update(batch_norm="yes"),
        r"field `adam\.batch_norm`: must be true or false",
    ),
    (
        "metrics-not-list",
        lambda d: d.update(metrics="accuracy"),
        r"field `metrics`: must be a list of metric names",
    ),
    (
        "user-params-not-mapping",
        lambda d: d.update(user_params=[1]),
        r"field `user_params`: must be a mapping",
    ),
    (
        "changes-not-strings",
        lambda d: d.update(changes=[1]),
        r"field `changes`: must be a list of strings\. Received: \[1\]",
    ),
    (
        "value-nan",
        lambda d: d.update(value=float("nan")),
        r"field `value`: configs hold finite numbers only .*Received: value=nan\.",
    ),
]


@pytest.mark.parametrize(
    ("change", "pattern"), [pytest.param(c, p, id=i) for i, c, p in BAD_CONFIGS]
)
def test_load_config_refuses_bad_fields(tmp_path: Path, change: Any, pattern: str) -> None:
    path = _write_json(tmp_path, _mutated(change))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: {pattern}"):
        load_config(path)


def test_load_config_refuses_a_non_mapping(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [1, 2])
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: an adamtune config must be a mapping"
    ):
        load_config(path)


def test_load_config_refuses_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text('{"format": 1,')
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not valid JSON: "):
        load_config(path)


def test_load_config_refuses_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("format: [1\nadam: {")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not valid YAML"):
        load_config(path)


def test_load_config_refuses_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "tuned.txt"
    path.write_text("{}")
    with pytest.raises(
        ValueError,
        match=r"`path` must end in \.json, \.yaml, \.yml, \.py to pick the format\. Received: '.*tuned\.txt'",
    ):
        load_config(path)


def test_load_config_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError, match=rf"no config file at '{re.escape(str(path))}'"):
        load_config(path)


def test_load_config_path_of_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"`path` must be a file path\. Received: 42"):
        load_config(42)  # type: ignore[arg-type]


def test_export_refuses_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"`path` must end in \.json, \.yaml, \.yml, \.py.*tuned\.toml"
    ):
        _config().export(tmp_path / "tuned.toml")
    assert list(tmp_path.iterdir()) == []


# -- atomic writes ----------------------------------------------------------------------------


def test_export_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    config = _config()
    for suffix in (".json", ".yaml", ".py"):
        config.export(tmp_path / f"tuned{suffix}")
    # overwrite in place
    _adamw_config().export(tmp_path / "tuned.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuned.json", "tuned.py", "tuned.yaml"]
    assert load_config(tmp_path / "tuned.json") == _adamw_config()


def test_failed_export_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "tuned.json"
    target.mkdir()  # os.replace onto a directory fails after the temp file is written
    with pytest.raises(OSError):
        _config().export(target)
    assert [p.name for p in tmp_path.iterdir()] == ["tuned.json"]
    assert target.is_dir() and list(target.iterdir()) == []


def test_export_creates_missing_directories(tmp_path: Path) -> None:
    path = _config().export(tmp_path / "a" / "b" / "tuned.yaml")
    assert yaml.safe_load(path.read_text())["study"] == "digits"
    assert [p.name for p in path.parent.iterdir()] == ["tuned.yaml"]


def test_load_config_refuses_an_optimizer_that_disagrees_with_adam(tmp_path: Path) -> None:
    data = _config().to_dict()
    data["optimizer"]["config"]["learning_rate"] = 0.5
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"`optimizer\.config\.learning_rate`: must equal adam's"):
        load_config(path)
    data = _config().to_dict()
    data["adam"]["regularizer"] = "adamw"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"`optimizer\.class_name`: must be 'AdamW'"):
        load_config(path)


def test_an_export_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = _config().export(tmp_path / "tuned.json")
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)  # an existing file keeps its mode
        _config().export(path)
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)
