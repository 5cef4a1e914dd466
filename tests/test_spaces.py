"""Search spaces: the shipped files, round trips, and the catalogue of malformed spaces."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml

import adamtune
from adamtune.params import DefaultSource, FixedSource, sample_adam_params, scale_for_batch
from adamtune.spaces import FloatRange, LearningRate, Space, available, load_space, save_space

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SHIPPED = (
    "adamw",
    "betas",
    "default",
    "large-batch",
    "no-scaling",
    "quick",
    "schedules",
    "small-batch",
    "wide",
)
SPACES_DIR = Path(__file__).resolve().parents[1] / "search_spaces"


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
        "class_weight": ["none", "balanced"],
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


def _no_null(value: Any) -> Any:
    """``value`` with every None as an empty table: TOML has no null."""
    if isinstance(value, dict):
        return {k: {} if v is None else _no_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_null(v) for v in value]
    return value


def _dump_toml(tmp_path: Path, data: Any) -> Path:
    return _write(tmp_path, tomli_w.dumps(_no_null(data)), "space.toml")


# -- shipped spaces ---------------------------------------------------------------------------


def test_available_lists_the_shipped_spaces() -> None:
    assert available() == sorted(SHIPPED)


def test_each_shipped_name_is_one_file() -> None:
    files = sorted(p.name for p in SPACES_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".toml"))
    assert [Path(f).stem for f in files] == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_space_loads_and_round_trips(name: str, tmp_path: Path) -> None:
    space = load_space(name)
    assert isinstance(space, Space)
    assert space.name == name
    assert space.learning_rate.low < space.learning_rate.high
    assert all(size > 0 for size in space.batch_size)
    # to_dict / from_dict, and YAML and TOML text, give back the same space exactly.
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_dict(space.to_dict()).to_dict() == space.to_dict()
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space
    assert Space.from_dict(tomllib.loads(space.to_toml())) == space
    # and as files written by save_space, in each format.
    for suffix in (".yaml", ".yml", ".toml"):
        path = save_space(space, tmp_path / f"{name}{suffix}")
        reloaded = load_space(path)
        assert reloaded == space, suffix
        assert reloaded.to_dict() == space.to_dict(), suffix


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_space_has_a_one_line_description_and_a_comment_header(name: str) -> None:
    description = load_space(name).description
    assert description.strip() == description
    assert description and "\n" not in description and len(description) <= 200
    assert (SPACES_DIR / f"{name}.yaml").read_text(encoding="utf-8").startswith("# ")


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


def _code_space() -> Space:
    return Space(
        name="code",
        learning_rate=LearningRate(1e-5, 3e-2, reference_batch_size=64, rule="linear"),
        batch_size=(8, 128),
        regularizer={"none": None, "adamw": FloatRange(1e-5, 1e-1, log=True)},
        batch_norm=(True,),
        scaling=("robust",),
        epochs=3,
    )


def test_space_built_in_code_round_trips(tmp_path: Path) -> None:
    space = _code_space()
    assert Space.from_dict(space.to_dict()) == space
    assert load_space(_write(tmp_path, space.to_yaml())) == space
    assert load_space(_write(tmp_path, space.to_toml(), "space.toml")) == space


def test_full_space_round_trips_through_toml_file(tmp_path: Path) -> None:
    space = Space.from_dict(_valid())
    text = space.to_toml()
    assert "[regularizer.none]" in text  # TOML has no null: an empty table stands for it
    assert tomllib.loads(text)["regularizer"]["none"] == {}
    reloaded = load_space(_write(tmp_path, text, "space.toml"))
    assert reloaded == space
    assert reloaded.to_dict() == _valid()


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".toml"])
def test_save_space_writes_the_format_its_suffix_names(tmp_path: Path, suffix: str) -> None:
    space = _code_space()
    path = save_space(space, str(tmp_path / "sub" / f"mine{suffix}"))
    assert path == tmp_path / "sub" / f"mine{suffix}"
    text = path.read_text(encoding="utf-8")
    assert text == (space.to_toml() if suffix == ".toml" else space.to_yaml())
    loaded = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    assert Space.from_dict(loaded) == space
    assert load_space(path) == space
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_save_space_replaces_an_existing_file(tmp_path: Path) -> None:
    path = save_space(load_space("default"), tmp_path / "mine.toml")
    save_space(load_space("quick"), path)
    assert load_space(path) == load_space("quick")


@pytest.mark.parametrize("name", ["mine.json", "mine", "mine.YAML", "mine.yaml.bak"])
def test_save_space_refuses_other_suffixes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(
        ValueError,
        match=r"`path` must end in \.yaml, \.yml or \.toml \(the suffix picks the format\)\. "
        rf"Received: path='{re.escape(str(path))}'",
    ):
        save_space(load_space("quick"), path)
    assert not path.exists()


def test_save_space_refuses_what_is_not_a_space(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"`space` must be a Space\. Received: .* of type dict"):
        save_space(_valid(), tmp_path / "mine.yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`path` must be a path .* of type int"):
        save_space(load_space("quick"), 3)  # type: ignore[arg-type]


def test_save_space_checks_the_space_before_writing(tmp_path: Path) -> None:
    bad = Space(
        name="bad",
        learning_rate=LearningRate(1e-1, 1e-3),
        batch_size=(32,),
        regularizer={"none": None},
    )
    path = tmp_path / "bad.yaml"
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))} \(not written\): field `learning_rate`: "
        r"low must be <= high",
    ):
        save_space(bad, path)
    assert not path.exists()


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
    assert space.class_weight is None and "class_weight" not in space.to_dict()


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
        "duplicate-scaler",
        _set("scaling", ["standard", "none", "standard"]),
        r"`scaling`: lists 'standard' twice",
    ),
    (
        "unknown-key-in-range",
        _set("regularizer.l2", {"low": 1.0e-6, "high": 1.0e-3, "step": 2}),
        r"`regularizer\.l2`: unknown key\(s\) 'step'; allowed: low, high, log",
    ),
    (
        "log-epsilon-low-zero",
        _set("epsilon", {"low": 0.0, "high": 1.0e-6, "log": True}),
        r"`epsilon\.low`: must be > 0 for a log range\. Received: 0\.0",
    ),
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
    (
        "unknown-class-weight",
        _set("class_weight", ["none", "inverse"]),
        r"`class_weight\[1\]`: must be one of none, balanced .*Received: 'inverse' \(str\)",
    ),
    ("empty-class-weight", _set("class_weight", []), r"`class_weight`: must list at least one"),
    (
        "duplicate-class-weight",
        _set("class_weight", ["balanced", "balanced"]),
        r"`class_weight`: lists 'balanced' twice",
    ),
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


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [pytest.param(m, p, id=i) for i, m, p in MALFORMED],
)
def test_malformed_toml_space_file_names_file_and_field(
    tmp_path: Path, mutate: Mutation, pattern: str
) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    path = _dump_toml(tmp_path, data)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: field {pattern}"):
        load_space(path)


def test_the_catalogue_covers_every_rule_the_issue_names() -> None:
    ids = {i for i, _, _ in MALFORMED}
    for rule in (
        "unknown-top-level-key",
        "lr-low-above-high",
        "log-lr-low-zero",
        "empty-batch-size",
        "unknown-regularizer",
        "unknown-scaler",
        "duplicate-batch-size",
        "duplicate-scaler",
        "batch-size-float",
    ):
        assert rule in ids, rule


# -- duplicate keys ---------------------------------------------------------------------------

_YAML_DUPLICATES = [
    pytest.param(
        "version: 1\nname: a\nname: b\n",
        r"field `name`: is given twice in one mapping \(lines 2 and 3\)",
        id="top-level",
    ),
    pytest.param(
        "version: 1\nlearning_rate:\n  low: 1.0e-4\n  high: 1.0e-1\n  low: 1.0e-5\n",
        r"field `learning_rate\.low`: is given twice in one mapping \(lines 3 and 5\)",
        id="nested-block",
    ),
    pytest.param(
        "regularizer:\n  none: null\n  l2: {low: 1.0e-6, high: 1.0e-3, high: 1.0e-2}\n",
        r"field `regularizer\.l2\.high`: is given twice in one mapping \(line 3\)",
        id="nested-flow",
    ),
    pytest.param(
        "regularizer:\n  l2: {low: 1.0e-6, high: 1.0e-3}\n  none: null\n  'l2': {low: 1.0, high: 2.0}\n",
        r"field `regularizer\.l2`: is given twice in one mapping \(lines 2 and 4\)",
        id="duplicate-regularizer-quoted",
    ),
    pytest.param(
        "x:\n  - {a: 1}\n  - {b: 1, b: 2}\n",
        r"field `x\[1\]\.b`: is given twice in one mapping \(line 3\)",
        id="inside-a-list",
    ),
]


@pytest.mark.parametrize(("text", "pattern"), _YAML_DUPLICATES)
def test_yaml_duplicate_keys_are_refused_with_field_and_lines(
    tmp_path: Path, text: str, pattern: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}: {pattern}; YAML would silently keep"
    ):
        load_space(path)


def test_yaml_duplicate_key_in_a_full_space_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(_valid(), sort_keys=False) + "epochs: 50\n"
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=r": field `epochs`: is given twice in one mapping"):
        load_space(path)


def test_yaml_merge_keys_and_aliases_are_not_duplicates(tmp_path: Path) -> None:
    text = """\
version: 1
name: merged
batch_size: [32]
learning_rate: {low: 1.0e-4, high: 1.0e-1}
regularizer:
  l2: &range {low: 1.0e-6, high: 1.0e-3}
  l1:
    <<: *range
    low: 1.0e-7
  l1_l2: *range
"""
    space = load_space(_write(tmp_path, text))
    assert space.regularizer == {
        "l2": FloatRange(1.0e-6, 1.0e-3, log=True),
        "l1": FloatRange(1.0e-7, 1.0e-3, log=True),  # the key after the merge wins, as in YAML
        "l1_l2": FloatRange(1.0e-6, 1.0e-3, log=True),
    }


def test_recursive_yaml_anchor_ends(tmp_path: Path) -> None:
    # A self-referencing list is refused by the loader, by line, before any value is built
    # (tests/test_hostile_files.py has the config side).
    text = yaml.safe_dump(_valid(), sort_keys=False).replace("name: mine", "name: &n [a, *n]")
    path = _write(tmp_path, text)
    with pytest.raises(
        ValueError, match=r": line 2: holds an alias inside the very anchor it names \(a cycle\)"
    ):
        load_space(path)


_TOML_DUPLICATES = [
    pytest.param(
        'version = 1\nname = "a"\nname = "b"\n',
        r"Cannot overwrite a value \(at line 3, column \d+\)",
        id="top-level",
    ),
    pytest.param(
        "[learning_rate]\nlow = 1e-4\nlow = 1e-5\n",
        r"Cannot overwrite a value \(at line 3, column \d+\)",
        id="nested",
    ),
    pytest.param(
        "[learning_rate]\nlow = 1e-4\n[learning_rate]\nhigh = 1e-1\n",
        r"Cannot declare \('learning_rate',\) twice \(at line 3, column \d+\)",
        id="table-twice",
    ),
    pytest.param(
        "[regularizer]\nl2 = {low = 1e-6, low = 1e-3}\n",
        r"Duplicate inline table key 'low' \(at line 2, column \d+\)",
        id="inline-table",
    ),
]


@pytest.mark.parametrize(("text", "pattern"), _TOML_DUPLICATES)
def test_toml_duplicate_keys_are_refused_with_the_file_name(
    tmp_path: Path, text: str, pattern: str
) -> None:
    path = _write(tmp_path, text, "space.toml")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: not valid TOML: {pattern} "
        r"\(a key or table is given twice: keep one\)$",
    ):
        load_space(path)


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


def test_python_tag_text_in_toml_is_only_a_string(tmp_path: Path) -> None:
    # TOML has no tags: the text is a plain string, which the field's check then refuses.
    data = _valid()
    data["scaling"] = ["!!python/object/apply:os.system"]
    path = _dump_toml(tmp_path, data)
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: field `scaling\[0\]`: must be one of none, standard, "
        r"minmax, robust\. Received: '!!python/object/apply:os\.system'",
    ):
        load_space(path)


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
        ValueError,
        match=r"unknown space 'no_such_space'\. Shipped spaces: adamw, betas, default, "
        r"large-batch, no-scaling, quick, schedules, small-batch, wide; or pass a path",
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


# -- sampling the shipped spaces --------------------------------------------------------------


def _ends(space: Space, end: int, regularizer: str) -> dict[str, Any]:
    """Stored values at one end (0: low, 1: high) of every range of ``space``."""
    values: dict[str, Any] = {
        "batch_size": sorted(space.batch_size)[-end],
        "base_learning_rate": (space.learning_rate.low, space.learning_rate.high)[end],
        "regularizer": regularizer,
        "batch_norm": space.batch_norm[-end],
        "scaling": space.scaling[-end],
    }
    strength = space.regularizer[regularizer]
    if strength is not None:
        values[f"{regularizer}_strength"] = (strength.low, strength.high)[end]
    for key in ("beta_1", "beta_2", "epsilon"):
        rng = getattr(space, key)
        if rng is not None:
            values[key] = (rng.low, rng.high)[end]
    if space.optimizer is not None:
        values["optimizer"] = space.optimizer[-end]
    if space.global_clipnorm is not None:
        values["clipping"] = ("off", "on")[end]
        values["global_clipnorm"] = space.global_clipnorm.high
    kind = (space.schedule or ("constant",))[-end]
    values["schedule"] = kind
    for key, applies in (("warmup", kind != "linear"), ("decay_to", kind != "constant")):
        rng = getattr(space, key)
        if rng is not None and applies:
            values[f"{kind}_{key}"] = (rng.low, rng.high)[end]
    return values


def _check_inside(space: Space, params: Any) -> None:
    lr = space.learning_rate
    assert params.batch_size in space.batch_size
    assert lr.low <= params.base_learning_rate <= lr.high
    assert params.learning_rate == scale_for_batch(
        params.base_learning_rate, params.batch_size, lr.reference_batch_size, lr.rule
    )
    assert math.isfinite(params.learning_rate) and params.learning_rate > 0
    assert params.regularizer in space.regularizer
    strength = space.regularizer[params.regularizer]
    if strength is None:
        assert params.regularizer_strength == 0.0
    else:
        assert strength.low <= params.regularizer_strength <= strength.high
    assert params.batch_norm in space.batch_norm
    assert params.scaling in space.scaling
    assert 0.0 < params.beta_1 < 1.0 and 0.0 < params.beta_2 < 1.0 and params.epsilon > 0.0
    assert params.optimizer in (space.optimizer or ("adam",))
    clip = space.global_clipnorm
    assert params.global_clipnorm is None or (
        clip is not None and clip.low <= params.global_clipnorm <= clip.high
    )
    assert params.schedule in (space.schedule or ("constant",))
    for key in ("warmup", "decay_to"):
        rng = getattr(space, key)
        value = getattr(params, key)
        assert value == 0.0 or (rng is not None and rng.low <= value <= rng.high), key
    if params.batch_size == lr.reference_batch_size:
        for key in ("beta_1", "beta_2", "epsilon"):
            rng = getattr(space, key)
            if rng is not None:
                assert rng.low <= getattr(params, key) <= rng.high, key


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_space_samples_inside_its_ranges(name: str) -> None:
    space = load_space(name)
    middle = sample_adam_params(space, DefaultSource())
    _check_inside(space, middle)
    lr = space.learning_rate
    assert middle.base_learning_rate == pytest.approx(math.sqrt(lr.low * lr.high))
    for regularizer in space.regularizer:
        for end in (0, 1):
            values = _ends(space, end, regularizer)
            params = sample_adam_params(space, FixedSource(values))
            _check_inside(space, params)
            assert params.base_learning_rate == values["base_learning_rate"]
            assert params.regularizer == regularizer
            if len(space.batch_size) > 1:
                assert params.batch_size == values["batch_size"]


def test_betas_space_scales_betas_and_epsilon_off_the_reference_batch_size() -> None:
    space = load_space("betas")
    assert space.beta_1 is not None and space.beta_2 is not None and space.epsilon is not None
    ref = space.learning_rate.reference_batch_size
    assert space.learning_rate.rule == "sqrt"
    assert {ref // 2, ref, ref * 2} == set(space.batch_size)
    stored = {
        "base_learning_rate": 1.0e-3,
        "regularizer": "none",
        "batch_norm": False,
        "scaling": "none",
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1.0e-7,
    }
    at_ref = sample_adam_params(space, FixedSource({**stored, "batch_size": ref}))
    assert (at_ref.beta_1, at_ref.beta_2, at_ref.epsilon) == (0.9, 0.999, 1.0e-7)
    assert at_ref.learning_rate == 1.0e-3

    double = sample_adam_params(space, FixedSource({**stored, "batch_size": ref * 2}))
    assert double.beta_1 == pytest.approx(0.8)  # 1 - beta doubles
    assert double.beta_2 == pytest.approx(0.998)
    assert double.epsilon == pytest.approx(1.0e-7 / math.sqrt(2))
    assert double.learning_rate == pytest.approx(1.0e-3 * math.sqrt(2))

    half = sample_adam_params(space, FixedSource({**stored, "batch_size": ref // 2}))
    assert half.beta_1 == pytest.approx(0.95)
    assert half.beta_2 == pytest.approx(0.9995)
    assert half.epsilon == pytest.approx(1.0e-7 * math.sqrt(2))

    # at the far ends of the ranges, the scaled values are still valid Adam settings.
    low_end = sample_adam_params(space, FixedSource(_ends(space, 0, "none")))
    assert low_end.batch_size == ref // 2 and 0.8 < low_end.beta_1 < 1.0
    high_end = sample_adam_params(space, FixedSource(_ends(space, 1, "none")))
    assert high_end.batch_size == ref * 2
    assert high_end.beta_1 == pytest.approx(1 - 2 * (1 - space.beta_1.high))
    assert high_end.beta_2 == pytest.approx(1 - 2 * (1 - space.beta_2.high))


def test_spaces_without_betas_keep_the_keras_defaults() -> None:
    for name in SHIPPED:
        if name == "betas":
            continue
        params = sample_adam_params(load_space(name), DefaultSource())
        assert (params.beta_1, params.beta_2, params.epsilon) == (0.9, 0.999, 1e-7), name


def test_shipped_spaces_keep_to_their_purpose() -> None:
    wide = load_space("wide").learning_rate
    assert math.log10(wide.high / wide.low) == pytest.approx(6)
    assert set(load_space("adamw").regularizer) == {"none", "adamw"}
    assert max(load_space("small-batch").batch_size) <= 32
    large = load_space("large-batch")
    assert min(large.batch_size) >= 256 and large.learning_rate.rule == "sqrt"
    assert load_space("no-scaling").scaling == ("none",)
    assert load_space("default").beta_1 is None


def test_a_beta_range_the_sqrt_rule_would_push_past_one_is_refused() -> None:
    data = _valid()
    data["batch_size"] = [32, 512]
    data["learning_rate"] = {
        "low": 1.0e-4,
        "high": 1.0e-1,
        "reference_batch_size": 32,
        "rule": "sqrt",
    }
    data["beta_1"] = {"low": 0.8, "high": 0.99}
    with pytest.raises(ValueError, match=r"s\.yaml: field `beta_1`: low=0\.8 at batch size 512"):
        Space.from_dict(data, "s.yaml")
    data["learning_rate"]["rule"] = "linear"  # only the sqrt rule scales the betas
    assert Space.from_dict(data, "s.yaml").beta_1 is not None


def test_a_space_built_with_lists_equals_the_loaded_one() -> None:
    loaded = load_space("quick")
    built = Space(
        **{
            **loaded.__dict__,
            "batch_size": list(loaded.batch_size),
            "scaling": list(loaded.scaling),
        }
    )
    assert built == loaded
