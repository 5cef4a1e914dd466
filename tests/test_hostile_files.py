"""Hostile config and space files, hostile mappings and hostile hp values (issue 18, item 2).

Each test failed before its fix: a YAML alias bomb walked for minutes, deep nesting leaked a
RecursionError, a 5000-digit integer leaked Python's "Exceeds the limit (4300 digits)", fields of
any type and size were accepted (``loss: {"module": "os", "class_name": "system"}`` came back from
``compile_kwargs()`` as ``'system'``), and an ``hp.choice`` value with its own ``__repr__`` ended
in "malformed node or string" or "internal error" when exported.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import adamtune
from adamtune.params import HP, AdamParams, DefaultSource
from adamtune.result import TunedConfig, load_config
from adamtune.spaces import load_space

ADAM = AdamParams(learning_rate=2e-3, batch_size=64)
OPTIMIZER: dict[str, Any] = {
    "module": "keras.optimizers",
    "class_name": "Adam",
    "config": {"learning_rate": 2e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "registered_name": None,
}


def _config(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "adam": ADAM,
        "epochs": 3,
        "optimizer": OPTIMIZER,
        "loss": "mse",
        "metrics": ["mae"],
        "study_name": "s",
        "trial_number": 4,
    }
    return copy.deepcopy(TunedConfig(**{**fields, **overrides}).to_dict())  # tests edit it


def _space_text() -> str:
    return (
        "version: 1\nname: tiny\n"
        "learning_rate: {low: 1.0e-4, high: 1.0e-2}\n"
        "batch_size: [32, 64]\n"
        "regularizer: {none: null}\n"
    )


def _named(path: Path) -> str:
    return rf"^{re.escape(str(path))}: "


# -- 1. YAML aliases ("billion laughs") are refused at once, in configs and in space files -------

_LAUGHS = "".join(
    f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else ', '.join(['1'] * 10)}]\n"
    for i in range(8)
)  # l7 stands for 10**8 values, in under 1 kB


def test_a_yaml_alias_bomb_in_a_config_is_refused_at_once(tmp_path: Path) -> None:
    # was: accepted by yaml.safe_load, then check_finite_fields walked 10**8 values (83 s here)
    text = yaml.safe_dump(_config(), sort_keys=False).replace("user_params: {}\n", "")
    path = tmp_path / "bomb.yaml"
    path.write_text(f"{text}user_params:\n{_LAUGHS}", encoding="utf-8")
    assert path.stat().st_size < 1500
    start = time.monotonic()
    with pytest.raises(
        ValueError,
        match=_named(path) + r"line \d+: expands to more than 200,000 values through its aliases",
    ):
        load_config(path)
    assert time.monotonic() - start < 2.0


def test_a_yaml_alias_bomb_in_a_space_file_is_refused_at_once(tmp_path: Path) -> None:
    # was: the validator compared and printed the expanded lists
    path = tmp_path / "bomb.yaml"
    path.write_text(f"anchors:\n{_LAUGHS}" + _space_text().replace("[32, 64]", "*l7"))
    start = time.monotonic()
    with pytest.raises(ValueError, match=_named(path) + r"line \d+: expands to more than 2,000"):
        load_space(path)
    assert time.monotonic() - start < 2.0


def test_merge_keys_cannot_multiply_a_document_either(tmp_path: Path) -> None:
    levels = ["  m0: &m0 {" + ", ".join(f"k{j}: 1" for j in range(10)) + "}\n"]
    levels += [f"  m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}\n" for i in range(1, 8)]
    text = yaml.safe_dump(_config(), sort_keys=False).replace("user_params: {}\n", "")
    path = tmp_path / "merge.yaml"
    path.write_text(f"{text}user_params:\n{''.join(levels)}")
    start = time.monotonic()
    with pytest.raises(ValueError, match=_named(path) + r"line \d+: expands to more than"):
        load_config(path)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("loader", ["config", "space"])
def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path, loader: str) -> None:
    # was: a list that holds itself; the config's walk ended in a RecursionError
    path = tmp_path / "cycle.yaml"
    if loader == "config":
        text = yaml.safe_dump(_config(), sort_keys=False)
        path.write_text(text.replace("user_params: {}", "user_params: {x: &a [1, *a]}"))
        with pytest.raises(ValueError, match=_named(path) + r"line \d+: .*\(a cycle\)"):
            load_config(path)
    else:
        path.write_text(_space_text().replace("[32, 64]", "&a [32, *a]"))
        with pytest.raises(ValueError, match=_named(path) + r"line \d+: .*\(a cycle\)"):
            load_space(path)


def test_a_mapping_that_holds_itself_is_refused_by_from_dict() -> None:
    data = _config()
    data["user_params"] = {"x": []}
    data["user_params"]["x"].append(data["user_params"]["x"])
    with pytest.raises(ValueError, match=r"^<dict>: field `user_params\.x(\[0\])+`: nests deeper"):
        TunedConfig.from_dict(data)


# -- 2. every field of the config schema is checked -----------------------------------------------


def _set(*path: Any, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        target = data
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _both_batch_sizes(data: dict[str, Any]) -> None:
    data["adam"]["batch_size"] = 10**30
    data["fit"]["batch_size"] = 10**30


FIELDS = [
    ("batch-size-huge", _both_batch_sizes, r"field `adam\.batch_size`: must be at most 2147483647"),
    ("epochs-huge", _set("fit", "epochs", value=10**30), r"field `fit\.epochs`: must be at most"),
    ("loss-number", _set("loss", value=42), r"field `loss`: must be a Keras loss.* Received: 42"),
    (
        "loss-os-system",
        _set("loss", value={"module": "os", "class_name": "system"}),
        r"field `loss\.module`: names the module 'os'.* Nothing named in a config file is imported",
    ),
    ("study-mapping", _set("study", value={"a": [1]}), r"field `study`: must be a study name"),
    ("trial-text", _set("trial", value="x"), r"field `trial`: must be a trial number"),
    ("trial-negative", _set("trial", value=-1), r"field `trial`: must be a trial number"),
    (
        "loss-unknown-name",
        _set("loss", value="no_such_loss"),
        r"field `loss`: is not a Keras loss name",
    ),
    (
        "loss-not-a-loss",
        _set("loss", value={"module": "keras.metrics", "class_name": "Mean", "config": {}}),
        r"field `loss`: does not deserialize to a Keras loss \(Keras gave back a str\)",
    ),
    (
        "loss-bad-config",
        _set("loss", value={"module": "keras.losses", "class_name": "Huber", "config": {"x": 1}}),
        r"field `loss`: does not deserialize in Keras' safe mode",
    ),
    (
        "loss-per-output-bad",
        _set("loss", value={"out_a": "mse", "out b": 7}),
        r"field `loss\['out b'\]`: must be a Keras loss",
    ),
    ("loss-per-output-empty", _set("loss", value={}), r"field `loss`: must name at least one"),
    (
        "metric-unknown",
        _set("metrics", value=["mae", "no_such_metric"]),
        r"field `metrics\[1\]`: is not a Keras metric name",
    ),
    (
        "metric-per-output-unknown",
        _set("metrics", value={"out_a": ["mae"], "out_b": ["nope"]}),
        r"field `metrics\.out_b\[0\]`: is not a Keras metric name",
    ),
    ("objective-number", _set("objective", value=3), r"field `objective`: must be a logged"),
    ("objective-empty", _set("objective", value=""), r"field `objective`: must be a logged"),
    ("format-true", _set("format", value=True), r"field `format`: must be 1"),
    ("beta-one", _set("adam", "beta_2", value=1.0), r"field `adam\.beta_2`: must be in \(0, 1\)"),
    (
        "strength-negative",
        _set("adam", "regularizer_strength", value=-1e-3),
        r"field `adam\.regularizer_strength`: must be >= 0",
    ),
    (
        "user-params-reserved",
        _set("user_params", value={"learning_rate": 0.1}),
        r"field `user_params\.learning_rate`: is a name adamtune uses itself",
    ),
    ("changes-text", _set("changes", value="BatchNorm"), r"field `changes`: must be a list"),
    (
        "loss-weights-keys",
        _set("loss_weights", value={"": 1.0}),
        r"field `loss_weights`: must be numbers",
    ),
    (
        "optimizer-module",
        _set("optimizer", "registered_name", value="x>Adam"),
        r"field `optimizer\.registered_name`: must be null",
    ),
    (
        "optimizer-config",
        _set("optimizer", "config", "no_such_argument", value=1),
        r"field `optimizer`: does not deserialize in Keras' safe mode",
    ),
]


@pytest.mark.parametrize(("change", "pattern"), [pytest.param(c, p, id=i) for i, c, p in FIELDS])
def test_every_field_is_checked_and_named(tmp_path: Path, change: Any, pattern: str) -> None:
    data = _config()
    change(data)
    with pytest.raises(ValueError, match=r"^<dict>: " + pattern):
        TunedConfig.from_dict(data)
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=_named(path) + pattern):
        load_config(path)


@pytest.mark.parametrize("value", [{"a": {1: 2}}, {"a": (1, 2)}, {"a": {"b": object()}}])
def test_user_params_hold_plain_values_only(value: Any) -> None:
    # a mapping (not a file) may hold what no export writes back as it was
    with pytest.raises(
        ValueError, match=r"^<dict>: field `user_params\.units\.a(\.b)?`: must be a plain"
    ):
        TunedConfig.from_dict(_config(user_params={"units": value}))


def test_compile_kwargs_never_hands_back_what_keras_could_not_resolve() -> None:
    # was: TunedConfig.from_dict accepted it and compile_kwargs() gave back the string 'system'
    data = _config(loss={"module": "keras.losses", "class_name": "system"})
    with pytest.raises(ValueError, match=r"field `loss`: does not deserialize to a Keras loss"):
        TunedConfig.from_dict(data)


def test_no_module_named_in_a_config_is_imported(tmp_path: Path, monkeypatch: Any) -> None:
    marker = tmp_path / "IMPORTED"
    (tmp_path / "adamtune_evil_mod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class Boom:\n    def __init__(self, **kw):\n        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for loss in (
        {"module": "adamtune_evil_mod", "class_name": "Boom", "config": {}},
        {"module": "adamtune_evil_mod", "class_name": "Boom", "registered_name": "evil>Boom"},
        {"out": {"module": "adamtune_evil_mod", "class_name": "Boom", "config": {}}},
    ):
        with pytest.raises(ValueError, match=r"field `loss(\.out)?\.module`: names the module"):
            TunedConfig.from_dict(_config(loss=loss))
    assert not marker.exists()
    assert "adamtune_evil_mod" not in sys.modules


def test_losses_deserialize_in_safe_mode_even_after_unsafe_mode_was_enabled() -> None:
    import keras
    from keras.src.backend.common import global_state

    fn = keras.saving.serialize_keras_object(lambda y_true, y_pred: y_pred)
    assert fn["class_name"] == "__lambda__"
    loss = {
        "module": "keras.losses",
        "class_name": "LossFunctionWrapper",
        "config": {"fn": fn, "name": "mine", "reduction": "sum_over_batch_size"},
        "registered_name": None,
    }
    before = global_state.get_global_attribute("safe_mode_saving")
    keras.config.enable_unsafe_deserialization()
    try:
        with pytest.raises(
            ValueError, match=r"field `loss`: does not deserialize in Keras' safe mode .*lambda"
        ):
            TunedConfig.from_dict(_config(loss=loss))
    finally:
        global_state.set_global_attribute("safe_mode_saving", before)


def test_valid_per_output_losses_metrics_and_weights_still_load(tmp_path: Path) -> None:
    import keras

    huber = keras.losses.serialize(keras.losses.Huber(delta=2.0, name="my huber"))
    config = TunedConfig.from_dict(
        _config(
            loss={"out_a": "mse", "out b": huber},
            metrics={"out_a": ["mae", "acc"], "out b": ["AUC"]},
            loss_weights={"out_a": 1.0, "out b": 0.5},
            user_params={"units": 32, "sizes": [1, 2.5, None, "x"], "nested": {"a": [True]}},
        )
    )
    for suffix in (".json", ".yaml"):
        loaded = load_config(config.export(tmp_path / f"t{suffix}"))
        assert loaded == config
        kwargs = loaded.compile_kwargs()
        assert isinstance(kwargs["loss"]["out b"], keras.losses.Huber)
        assert kwargs["loss_weights"] == {"out_a": 1.0, "out b": 0.5}


def test_a_registered_loss_of_ones_own_loads(tmp_path: Path) -> None:
    import keras

    @keras.saving.register_keras_serializable(package="adamtune_hostile_test")
    class Doubled(keras.losses.MeanSquaredError):
        pass

    config = TunedConfig.from_dict(_config(loss=keras.losses.serialize(Doubled())))
    assert config.loss["module"] not in ("keras", "builtins")
    loaded = load_config(config.export(tmp_path / "t.json"))
    assert type(loaded.compile_kwargs()["loss"]) is Doubled


# -- 3. deep nesting and huge integers are the usual named refusal --------------------------------


def _hand_edited(tmp_path: Path, suffix: str, value_text: str) -> Path:
    path = tmp_path / f"cfg{suffix}"
    data = _config(user_params={"x": 1})
    if suffix == ".json":
        text = json.dumps(data).replace('"x": 1', f'"x": {value_text}')
    else:
        text = yaml.safe_dump(data, sort_keys=False).replace("x: 1", f"x: {value_text}")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_config_nested_100_000_deep_is_refused_by_name(tmp_path: Path, suffix: str) -> None:
    # was: RecursionError from json / PyYAML's composer
    path = _hand_edited(tmp_path, suffix, "[" * 100_000 + "]" * 100_000)
    start = time.monotonic()
    with pytest.raises(ValueError, match=_named(path) + r"(line \d+: )?nests .*deeper than .*50"):
        load_config(path)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_config_nested_60_deep_names_the_field_or_line(tmp_path: Path, suffix: str) -> None:
    path = _hand_edited(tmp_path, suffix, "[" * 60 + "]" * 60)
    with pytest.raises(ValueError, match=_named(path) + r".*nests deeper than 50 levels"):
        load_config(path)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_5000_digit_integer_in_a_config_is_refused_by_name(tmp_path: Path, suffix: str) -> None:
    # was: ValueError: Exceeds the limit (4300 digits) for integer string conversion, no file
    path = _hand_edited(tmp_path, suffix, "9" * 5000)
    with pytest.raises(ValueError, match=_named(path) + r".*integer of 5,000 digits"):
        load_config(path)


def test_a_huge_integer_in_a_mapping_is_refused_by_field() -> None:
    with pytest.raises(ValueError, match=r"^<dict>: field `user_params\.x`: is an integer of more"):
        TunedConfig.from_dict(_config(user_params={"x": -(10**5000)}))


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".yaml", "batch_size: " + "[" * 100_000 + "]" * 100_000),
        (".toml", "batch_size = " + "[" * 100_000 + "]" * 100_000),
        (".yaml", "batch_size: [" + "9" * 5000 + "]"),
        (".toml", "batch_size = [" + "9" * 5000 + "]"),
    ],
    ids=["yaml-deep", "toml-deep", "yaml-digits", "toml-digits"],
)
def test_space_files_refuse_deep_nesting_and_huge_integers_by_name(
    tmp_path: Path, suffix: str, text: str
) -> None:
    # was: RecursionError, or "Exceeds the limit (4300 digits)" naming no file
    path = tmp_path / f"space{suffix}"
    path.write_text(text + "\n", encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(ValueError, match=_named(path) + r".*(nests|digits)"):
        load_space(path)
    assert time.monotonic() - start < 2.0


def test_a_space_mapping_with_a_huge_integer_names_the_field() -> None:
    from adamtune.spaces import Space

    data = yaml.safe_load(_space_text())
    data["batch_size"] = [32, 10**200]
    with pytest.raises(ValueError, match=r"^<dict>: field `batch_size\[1\]`: is an integer of"):
        Space.from_dict(data)


# -- 4. the keras lower bound carries the published safe-mode fixes -------------------------------


def test_the_keras_lower_bound_has_the_safe_mode_fixes() -> None:
    from packaging.requirements import Requirement
    from packaging.version import Version

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    (keras_req,) = [Requirement(d) for d in deps if Requirement(d).name == "keras"]
    floors = [Version(s.version) for s in keras_req.specifier if s.operator == ">="]
    # 3.11.0 fixed CVE-2025-8747 and CVE-2025-9906 (safe_mode bypassed from inside a config),
    # after 3.8/3.9 fixed CVE-2025-1550 (any module imported from a config)
    assert floors and min(floors) >= Version("3.11.0")
    assert not keras_req.specifier.contains("3.10.0")


# -- 5. hp values with their own __repr__ are refused by name, before the study starts -------------


class _Tripwire(Exception):
    pass


class HostileStr(str):
    def __repr__(self) -> str:
        raise _Tripwire("a hostile __repr__ ran")


class TupleFloat(float):
    def __repr__(self) -> str:  # what made the .py export's read-back check fail
        return "(1, 2)"


def _hp() -> HP:
    return HP(ADAM, DefaultSource())


@pytest.mark.parametrize(
    ("call", "where", "kind"),
    [
        (lambda hp: hp.choice("act", ["relu", HostileStr("tanh")]), r"hp\.choice\('act'\)", "str"),
        (lambda hp: hp.choice("rate", [TupleFloat(0.5)]), r"hp\.choice\('rate'\)", "float"),
        (lambda hp: hp.Choice("act", [HostileStr("x")]), r"hp\.Choice\('act'\)", "str"),
        (lambda hp: hp.suggest_categorical("a", [TupleFloat(1)]), r"hp\.Choice\('a'\)", "float"),
        (lambda hp: hp.Fixed("act", HostileStr("x")), r"hp\.Fixed\('act'\)", "str"),
        (
            lambda hp: hp.Choice("act", ["x"], default=HostileStr("x")),
            r"hp\.Choice\('act'\): `default`",
            "str",
        ),
    ],
    ids=["choice-str", "choice-float", "Choice-str", "suggest-float", "Fixed-str", "default-str"],
)
def test_hp_refuses_subclass_values_by_name_without_their_repr(
    call: Any, where: str, kind: str
) -> None:
    # was: "malformed node or string on line 60" (str) or "RuntimeError: internal error" (the
    # float whose repr is a tuple) when the config was exported as .py
    hp = _hp()
    with pytest.raises(
        TypeError,
        match=rf"^{where}.* must be None, bool, int, float or str.*Received: a value of type "
        rf"\w+ \(a subclass of {kind}\).*exactly these types",
    ):
        call(hp)
    assert hp.user_params == {}


def test_hp_refuses_a_subclass_name_without_its_repr() -> None:
    with pytest.raises(TypeError, match=r"names must be non-empty strings .*HostileStr"):
        _hp().int(HostileStr("units"), 1, 8)


def test_search_refuses_a_hostile_choice_before_any_trial(tmp_path: Path) -> None:
    import keras

    def model_fn(hp: Any) -> Any:
        act = hp.choice("act", ["relu", HostileStr("tanh")])
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation=act)])

    x, y = np.zeros((32, 4), "float32"), np.zeros((32, 1), "float32")
    storage = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(adamtune.PreflightError, match=r"hp\.choice\('act'\).*a subclass of str"):
        adamtune.search(model_fn, (x, y), trials=2, storage=storage, study_name="h", verbose=0)
    import optuna

    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    trials = [] if "h" not in names else optuna.load_study(study_name="h", storage=storage).trials
    assert trials == []


def test_the_plain_hp_values_still_work() -> None:
    hp = _hp()
    assert hp.choice("a", [None, True, 1, 2.5, "x"]) is None
    assert hp.Fixed("b", "y") == "y"
    assert copy.copy(hp.user_params) == {"a": None, "b": "y"}
