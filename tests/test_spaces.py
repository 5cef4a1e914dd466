"""Search spaces: the shipped files, round trips, and the catalogue of malformed spaces."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import adamtune
from adamtune.spaces import FloatRange, LearningRate, Space, available, load_space


def _valid() -> dict[str, Any]:
    """A complete, valid space mapping (every optional field present)."""
    return {
        "version": 1,
        "name": "mine",
        "description": "a test space",
        "learning_rate": {
            "low": 1.0e-4,
            "high": 1.0e-1,
            "reference_batch_size": 32,
            "rule": "sqrt",
        },
        "batch_size": [32, 64],
        "regularizer": {"none": None, "l2": {"low": 1.0e-6, "high": 1.0e-3, "log": True}},
        "batch_norm": [False, True],
        "scaling": ["none", "standard"],
        "epochs": 5,
        "beta_1": {"low": 0.8, "high": 0.95, "log": False},
        "beta_2": {"low": 0.99, "high": 0.9999, "log": False},
        "epsilon": {"low": 1.0e-8, "high": 1.0e-6, "log": True},
    }


def _write(tmp_path: Path, text: str, name: str = "space.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _dump(tmp_path: Path, data: Any) -> Path:
    return _write(tmp_path, yaml.safe_dump(data, sort_keys=False))


# -- shipped spaces ---------------------------------------------------------------------------


def test_available_lists_the_shipped_spaces() -> None:
    names = available()
    assert names == sorted(names)
    assert {"default", "quick"} <= set(names)


@pytest.mark.parametrize("name", available())
def test_every_shipped_space_loads_and_round_trips(name: str) -> None:
    space = load_space(name)
    assert isinstance(space, Space)
    assert space.name == name
    assert space.learning_rate.low < space.learning_rate.high
    assert all(size > 0 for size in space.batch_size)
    # to_dict / from_dict, and YAML dump / reload, give back the same space exactly.
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_dict(space.to_dict()).to_dict() == space.to_dict()
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space


def test_lazy_public_names_match_the_subpackage() -> None:
    assert adamtune.load_space is load_space
    assert adamtune.Space is Space
    assert adamtune.spaces.available() == available()


def test_load_space_returns_a_space_object_unchanged() -> None:
    space = load_space("quick")
    assert load_space(space) is space


def test_default_space_values() -> None:
    space = load_space("default")
    assert space.learning_rate == LearningRate(1.0e-5, 1.0e-1, 32, "sqrt")
    assert space.batch_size == (16, 32, 64, 128, 256)
    assert space.regularizer["none"] is None
    assert space.regularizer["l2"] == FloatRange(1.0e-6, 1.0e-2, log=True)
    assert set(space.regularizer) == {"none", "l1", "l2", "l1_l2", "adamw"}
    assert space.beta_1 is None and space.epsilon is None


# -- round trips ------------------------------------------------------------------------------


def test_full_space_round_trips_through_dict_and_yaml_file(tmp_path: Path) -> None:
    space = Space.from_dict(_valid())
    assert space.beta_1 == FloatRange(0.8, 0.95, log=False)
    assert space.epsilon == FloatRange(1.0e-8, 1.0e-6, log=True)
    assert space.to_dict() == _valid()
    assert Space.from_dict(space.to_dict()) == space

    path = _write(tmp_path, space.to_yaml())
    reloaded = load_space(path)
    assert reloaded == space
    assert reloaded.to_dict() == space.to_dict()
    # also as a str path with the .yml suffix
    yml = _write(tmp_path, space.to_yaml(), "space.yml")
    assert load_space(str(yml)) == space


def test_space_built_in_code_round_trips(tmp_path: Path) -> None:
    space = Space(
        name="code",
        learning_rate=LearningRate(1e-5, 3e-2, reference_batch_size=64, rule="linear"),
        batch_size=(8, 128),
        regularizer={"none": None, "adamw": FloatRange(1e-5, 1e-1, log=True)},
        batch_norm=(True,),
        scaling=("robust",),
        epochs=3,
    )
    assert Space.from_dict(space.to_dict()) == space
    assert load_space(_write(tmp_path, space.to_yaml())) == space


def test_toml_space_loads(tmp_path: Path) -> None:
    text = """
version = 1
name = "toml"
batch_size = [32]
[learning_rate]
low = 1e-4
high = 1e-2
[regularizer]
none = {}
l2 = {low = 1e-6, high = 1e-3}
"""
    space = load_space(_write(tmp_path, text, "space.toml"))
    assert space.name == "toml"
    assert space.regularizer == {"none": None, "l2": FloatRange(1e-6, 1e-3, log=True)}
    assert space.learning_rate == LearningRate(1e-4, 1e-2)


def test_optional_fields_take_their_defaults() -> None:
    data = {k: v for k, v in _valid().items() if k in ("version", "name", "learning_rate")}
    data["batch_size"] = [32]
    data["regularizer"] = {"none": None}
    space = Space.from_dict(data)
    assert space.batch_norm == (False, True)
    assert space.scaling == ("none", "standard", "minmax", "robust")
    assert space.epochs == 20
    assert space.beta_1 is None and space.beta_2 is None and space.epsilon is None


# -- the malformed-space catalogue ------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _drop(key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del data[key]

    return mutate


MALFORMED: list[tuple[str, Mutation, str]] = [
    (
        "unknown-top-level-key",
        _set("learning_rte", 1),
        r"`<top level>`: unknown key\(s\) 'learning_rte'",
    ),
    (
        "unknown-key-in-learning-rate",
        _set("learning_rate.lr_max", 1.0),
        r"`learning_rate`: unknown key\(s\) 'lr_max'; allowed: low, high, reference_batch_size, rule",
    ),
    (
        "lr-low-above-high",
        _set("learning_rate.low", 1.0),
        r"`learning_rate`: low must be <= high\. Received: low=1\.0, high=0\.1",
    ),
    (
        "regularizer-low-above-high",
        _set("regularizer.l2", {"low": 1.0e-2, "high": 1.0e-3}),
        r"`regularizer\.l2`: low must be <= high",
    ),
    (
        "log-lr-low-zero",
        _set("learning_rate.low", 0.0),
        r"`learning_rate\.low`: must be > 0 for a log range\. Received: 0\.0",
    ),
    (
        "log-regularizer-low-negative",
        _set("regularizer.l2", {"low": -1.0, "high": 1.0e-3, "log": True}),
        r"`regularizer\.l2\.low`: must be > 0 for a log range\. Received: -1\.0",
    ),
    ("empty-batch-size", _set("batch_size", []), r"`batch_size`: must list at least one choice"),
    ("empty-scaling", _set("scaling", []), r"`scaling`: must list at least one choice"),
    ("empty-batch-norm", _set("batch_norm", []), r"`batch_norm`: must list at least one choice"),
    (
        "unknown-regularizer",
        _set("regularizer.l3", {"low": 1.0e-6, "high": 1.0e-3}),
        r"`regularizer`: unknown key\(s\) 'l3'; allowed: none, l1, l2, l1_l2, adamw",
    ),
    (
        "unknown-scaler",
        _set("scaling", ["none", "zscore"]),
        r"`scaling\[1\]`: must be one of none, standard, minmax, robust\. Received: 'zscore'",
    ),
    ("duplicate-batch-size", _set("batch_size", [32, 64, 32]), r"`batch_size`: lists 32 twice"),
    (
        "batch-size-zero",
        _set("batch_size", [0]),
        r"`batch_size\[0\]`: must be a positive integer\. Received: 0",
    ),
    (
        "batch-size-negative",
        _set("batch_size", [32, -1]),
        r"`batch_size\[1\]`: must be a positive integer\. Received: -1",
    ),
    (
        "batch-size-float",
        _set("batch_size", [3.5]),
        r"`batch_size\[0\]`: must be a positive integer\. Received: 3\.5 \(float\)",
    ),
    (
        "batch-size-string",
        _set("batch_size", ["32"]),
        r"`batch_size\[0\]`: must be a positive integer\. Received: '32' \(str\)",
    ),
    (
        "batch-size-bool",
        _set("batch_size", [True]),
        r"`batch_size\[0\]`: must be a positive integer",
    ),
    ("missing-learning-rate", _drop("learning_rate"), r"`learning_rate`: is required"),
    ("missing-regularizer", _drop("regularizer"), r"`regularizer`: is required"),
    ("missing-version", _drop("version"), r"`version`: is required"),
    ("wrong-version", _set("version", 2), r"`version`: must be 1\. Received: 2"),
    ("version-bool", _set("version", True), r"`version`: must be 1\. Received: True"),
    (
        "unknown-rule",
        _set("learning_rate.rule", "cubic"),
        r"`learning_rate\.rule`: must be one of none, linear, sqrt",
    ),
    (
        "none-with-range",
        _set("regularizer.none", {"low": 1.0}),
        r"`regularizer\.none`: takes no strength range",
    ),
    ("beta-1-at-one", _set("beta_1", {"low": 0.9, "high": 1.0}), r"`beta_1`: must lie in \[0, 1\)"),
    ("epochs-zero", _set("epochs", 0), r"`epochs`: must be a positive integer"),
    ("empty-name", _set("name", " "), r"`name`: must be a non-empty string"),
    (
        "batch-norm-not-bool",
        _set("batch_norm", ["yes"]),
        r"`batch_norm\[0\]`: must be true or false",
    ),
    ("lr-not-mapping", _set("learning_rate", 0.01), r"`learning_rate`: must be a mapping"),
]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [pytest.param(m, p, id=i) for i, m, p in MALFORMED],
)
def test_malformed_space_file_names_file_and_field(
    tmp_path: Path, mutate: Mutation, pattern: str
) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    path = _dump(tmp_path, data)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: field {pattern}"):
        load_space(path)


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [pytest.param(m, p, id=i) for i, m, p in MALFORMED],
)
def test_malformed_space_dict_names_source_and_field(mutate: Mutation, pattern: str) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    with pytest.raises(ValueError, match=rf"^my-source: field {pattern}"):
        Space.from_dict(data, "my-source")


def test_python_tag_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = yaml.safe_dump(_valid(), sort_keys=False).replace(
        "name: mine", f"name: !!python/object/apply:os.system ['touch {marker}']"
    )
    assert "!!python/object/apply:os.system" in text
    path = _write(tmp_path, text)
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: uses a YAML tag adamtune does not read at line 2 "
        r"\(.*python/object/apply:os\.system.*\); space files hold plain values only",
    ):
        load_space(path)
    assert not marker.exists()


def test_exponent_without_dot_hints_at_the_fix(tmp_path: Path) -> None:
    text = yaml.safe_dump(_valid(), sort_keys=False)
    text = re.sub(r"low: 0\.0001", "low: 1e-5", text, count=1)
    assert "low: 1e-5" in text
    path = _write(tmp_path, text)
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: field `learning_rate\.low`: must be a number\. "
        r"Received: '1e-5' \(YAML reads a number such as 1e-5 as text: write 1\.0e-5\)",
    ):
        load_space(path)


def test_quoted_number_hints_to_remove_quotes() -> None:
    data = _valid()
    data["learning_rate"]["high"] = "0.1"
    with pytest.raises(
        ValueError, match=r"`learning_rate\.high`: must be a number.*remove the quotes"
    ):
        Space.from_dict(data, "src")


def test_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "- 1\n- 2\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: a space must be a mapping"):
        load_space(path)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: [1\nname: x\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not valid YAML"):
        load_space(path)


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "version = = 1\n", "space.toml")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not valid TOML"):
        load_space(path)


def test_unknown_space_name_lists_shipped_names() -> None:
    with pytest.raises(
        ValueError, match=r"unknown space 'no_such_space'\. Shipped spaces: default, quick"
    ):
        load_space("no_such_space")


def test_missing_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(ValueError, match=rf"`space`: no space file at '{re.escape(str(path))}'"):
        load_space(path)


def test_wrong_suffix_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, yaml.safe_dump(_valid()), "space.json")
    with pytest.raises(
        ValueError,
        match=r"`space`: '.*space\.json' must end in \.yaml, \.yml or \.toml\. Received suffix: '\.json'",
    ):
        load_space(path)


@pytest.mark.parametrize("bad", [42, None, ["default"], {"name": "default"}])
def test_space_of_wrong_type_is_a_type_error(bad: Any) -> None:
    with pytest.raises(
        TypeError,
        match=rf"`space` must be a shipped space name, a path to a \.yaml/\.toml file, or a Space\. "
        rf"Received: .* of type {type(bad).__name__}",
    ):
        load_space(bad)


def test_version_must_be_the_integer_one() -> None:
    data = _valid()
    data["version"] = 1.0
    with pytest.raises(ValueError, match=r"`version`: must be 1\. Received: 1\.0"):
        Space.from_dict(data, "s.yaml")


def test_a_missing_file_with_any_suffix_is_reported_as_a_path() -> None:
    with pytest.raises(ValueError, match=r"no space file at 'missing\.json'"):
        adamtune.load_space("missing.json")
