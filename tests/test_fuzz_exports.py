"""Property tests: hostile names and values go out through every export format and come back as
exactly the same data, never as code; NaN and infinities are refused with the field named."""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

# Every .py export imports keras; importing it here first keeps TensorFlow's change of the
# recursion limit out of hypothesis's examples.
import keras  # noqa: F401
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adamtune.params import RESERVED, AdamParams
from adamtune.result import TunedConfig, load_config, render_python

# -- hostile inputs ---------------------------------------------------------------------------

PIECES = [
    *("'", '"', "'''", '"""', "\\", "\\'", '\\"', "\\\\", "\\n", "\\x00", "\\u2028"),
    *("\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"),
    *("\u2028", "\u2029", "\ufeff", "\U0001f600", "é"),  # surrogates: refused, tested below
    *("__import__('os')", "__import__('os').system('touch INJECTED')", "exec(", "eval(", "#"),
    *("__builtins__", "().__class__.__bases__[0].__subclasses__()", "{", "}", "[", "]", ","),
    *(": ", "- ", "? ", "!!python/object/apply:os.system ['touch INJECTED']", "&a", "*a", "%"),
    *("@", "`", "|", ">", "---", "...", "~", "null", "true", "yes", "no", "on", "1e3", "0x10"),
    *(".nan", ".inf", "NaN", "Infinity", "-Infinity", "1_000", " ", "  ", "/", "../", "${HOME}"),
]

_pieces = st.sampled_from(PIECES)
# Every character but surrogates, which are not text: a config holding one is refused (below).
_any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_short = st.lists(st.one_of(_pieces, _any_text), max_size=8).map("".join)


def _repeat(piece: str, size: int) -> str:
    piece = piece or "'''"
    return (piece * (size // len(piece) + 1))[:size]


_long = st.builds(_repeat, _short, st.integers(10_000, 10_050))
hostile_text = st.one_of(_short, _pieces, _long)
hostile_key = st.one_of(_short.filter(bool), _pieces)  # a parameter name is never empty
finite = st.floats(allow_nan=False, allow_infinity=False)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), finite, hostile_text)
nested = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(hostile_key, inner, max_size=3)
    ),
    max_leaves=6,
)

ADAM = AdamParams(learning_rate=2e-3, batch_size=64, regularizer="l2", regularizer_strength=1e-4)
# Keras's serialized Adam for ADAM, cut to the keys load_config checks against it.
OPTIMIZER: dict[str, Any] = {
    "module": "keras.optimizers",
    "class_name": "Adam",
    "config": {"learning_rate": 2e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "registered_name": None,
}


def _plain(**overrides: Any) -> TunedConfig:
    fields: dict[str, Any] = {
        "adam": ADAM,
        "epochs": 3,
        "optimizer": OPTIMIZER,
        "loss": "mse",
        "metrics": ["mae"],
        "study_name": "s",
    }
    return TunedConfig(**{**fields, **overrides})


# load_config takes only losses and metrics Keras knows (in its safe mode): the hostile text goes
# into what Keras stores as is (a loss's name, output names) and into every free-text field.
LOSS_NAMES = ["mse", "mae", "huber", "categorical_crossentropy", "binary_crossentropy", "Huber"]
METRIC_NAMES = ["mae", "mse", "accuracy", "acc", "AUC", "binary_accuracy", "Precision"]
_output_key = hostile_key.filter(lambda k: k != "class_name")
one_loss = st.one_of(
    st.sampled_from(LOSS_NAMES),
    st.fixed_dictionaries(
        {
            "module": st.just("keras.losses"),
            "class_name": st.just("Huber"),
            "config": st.fixed_dictionaries(
                {"name": hostile_text, "reduction": st.just("sum_over_batch_size"), "delta": finite}
            ),
            "registered_name": st.none(),
        }
    ),
)
losses = st.one_of(one_loss, st.dictionaries(_output_key, one_loss, min_size=1, max_size=3))
metric_lists = st.lists(st.sampled_from(METRIC_NAMES), max_size=3)
metrics = st.one_of(metric_lists, st.dictionaries(_output_key, metric_lists, max_size=3))
user_key = hostile_key.filter(lambda k: k not in RESERVED)


@st.composite
def configs(draw: st.DrawFn, values: st.SearchStrategy[Any] = nested) -> TunedConfig:
    """A valid TunedConfig whose every free-text field and user value is hostile."""
    loss = draw(losses)
    class_weight = draw(
        st.one_of(
            st.none(),
            st.dictionaries(st.integers(0, 2**31), st.floats(0, 1e300), min_size=1, max_size=4),
        )
    )
    mode = draw(st.sampled_from(["balanced", "custom"])) if class_weight else "none"
    return TunedConfig(
        adam=replace(ADAM, class_weight=mode),
        class_weight=class_weight,
        epochs=draw(st.integers(1, 10_000)),
        optimizer=OPTIMIZER,
        loss=loss,
        metrics=draw(metrics),
        user_params=draw(st.dictionaries(user_key, values, max_size=4)),
        objective=draw(hostile_text.filter(bool)),
        value=draw(st.one_of(st.none(), finite)),
        study_name=draw(st.one_of(st.none(), hostile_text.filter(bool))),
        trial_number=draw(st.one_of(st.none(), st.integers(0, 2**40))),
    )


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@contextmanager
def _folder() -> Iterator[Path]:
    """A fresh folder per example (pytest's tmp_path is one folder per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="adamtune-fuzz-") as name:
        yield Path(name)


def _import(path: Path) -> Any:
    """Import a .py export the documented way: as a module of its own."""
    name = f"tuned_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _strict_json(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"non-standard JSON token {token} written")

    return json.loads(text, parse_constant=refuse)


# -- the .py snippet holds one literal and fixed code -----------------------------------------

SNIPPET_NODES = {
    *(ast.Module, ast.Import, ast.alias, ast.Assign, ast.Name, ast.Load, ast.Store),
    *(ast.Constant, ast.Dict, ast.List, ast.UnaryOp, ast.USub, ast.FunctionDef),
    *(ast.arguments, ast.Expr, ast.If, ast.Call, ast.Attribute, ast.Subscript),
    *(ast.Return, ast.Compare, ast.Eq, ast.In),
    # the per-output loss helper: a dict comprehension over the loss dict, a conditional
    *(ast.arg, ast.BoolOp, ast.And, ast.NotIn, ast.IsNot, ast.DictComp, ast.comprehension),
    *(ast.IfExp, ast.Store, ast.Tuple),
    # build/scaler/preprocessing_layer: adamtune imported inside _tuned(), or a clear ImportError
    *(ast.Try, ast.ExceptHandler, ast.Raise, ast.keyword),
}
LITERAL_NODES = {ast.Constant, ast.Dict, ast.List, ast.UnaryOp, ast.USub, ast.Load}
SNIPPET_CALLS = {
    *("isinstance", "dict", "list", "print", "compile_kwargs", "fit_kwargs", "_loss"),
    *("loss.items", "CONFIG.get"),
    *("keras.losses.deserialize", "keras.optimizers.deserialize"),
    *("ImportError", "_tuned", "adamtune.TunedConfig.from_dict", "model.compile"),
    *("cfg.build", "cfg.compile_kwargs", "cfg.scaler", "cfg.preprocessing_layer"),
}
SNIPPET_NAMES = {
    *("CONFIG", "keras", "loss", "kwargs", "__name__", "_loss", "name", "one", "metrics"),
    *("isinstance", "dict", "list", "print", "compile_kwargs", "fit_kwargs"),
    *("ImportError", "exc", "adamtune", "_tuned", "cfg", "model", "model_fn", "sample"),
}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise AssertionError(f"a call of something other than a name: {ast.dump(node)[:200]}")


def _check_snippet_tree(text: str) -> ast.expr:
    """Walk the whole module against the allow-lists; return the CONFIG literal."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        assert type(node) in SNIPPET_NODES, f"unexpected {type(node).__name__} node"
        if isinstance(node, ast.Name):
            assert node.id in SNIPPET_NAMES, f"unexpected name {node.id!r}"
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), f"attribute {node.attr!r}"
        if isinstance(node, ast.Call):
            assert _dotted(node.func) in SNIPPET_CALLS, f"call of {_dotted(node.func)!r}"
        if isinstance(node, ast.Import):
            assert [alias.name for alias in node.names] in (["keras"], ["adamtune"])
            assert node.names[0].asname is None
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
    assert len(imports) == 2 and tree.body[0] is imports[0]
    assert [alias.name for alias in imports[0].names] == ["keras"]
    # the only other import: `import adamtune`, inside _tuned()'s try
    tuned = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_tuned"]
    assert len(tuned) == 1 and isinstance(tuned[0].body[1], ast.Try)
    assert tuned[0].body[1].body == [imports[1]]
    assigns = [node for node in tree.body if isinstance(node, ast.Assign)]
    assert len(assigns) == 1 and isinstance(assigns[0].targets[0], ast.Name)
    assert assigns[0].targets[0].id == "CONFIG"
    literal = assigns[0].value
    for node in ast.walk(literal):
        assert type(node) in LITERAL_NODES, f"{type(node).__name__} inside the CONFIG literal"
        if isinstance(node, ast.UnaryOp):
            assert isinstance(node.operand, ast.Constant)
            assert isinstance(node.operand.value, int | float)
    return literal


TAMPERED = [
    pytest.param("__import__('os').system('true')", id="dunder-import"),
    pytest.param("import os", id="second-import"),
    pytest.param("from os import system", id="from-import"),
    pytest.param("eval('1')", id="eval"),
    pytest.param("exec('x = 1')", id="exec"),
    pytest.param("CONFIG.__class__", id="dunder-attribute"),
    pytest.param("keras._tf_keras", id="private-attribute"),
    pytest.param("getattr(keras, 'x')", id="getattr"),
    pytest.param("(lambda: 0)()", id="lambda"),
]


@pytest.mark.parametrize("line", TAMPERED)
def test_the_allow_list_catches_added_code(line: str) -> None:
    """The properties are only as good as the checker: code added to a snippet is caught."""
    text = render_python(_plain())
    with pytest.raises(AssertionError):
        _check_snippet_tree(f"{text}\n{line}\n")


@pytest.mark.parametrize(
    "value", ["__import__('os')", "print", "keras.losses", "[x for x in ()]", "1 + 1", "f'{1}'"]
)
def test_the_allow_list_catches_code_inside_the_literal(value: str) -> None:
    text = render_python(_plain()).replace("CONFIG = {", f"CONFIG = {{'x': {value},", 1)
    with pytest.raises(AssertionError):
        _check_snippet_tree(text)


@FUZZ
@given(configs())
def test_py_snippet_is_one_literal_and_fixed_code(config: TunedConfig) -> None:
    text = render_python(config)
    literal = _check_snippet_tree(text)
    assert ast.literal_eval(literal) == config.to_dict()


@settings(FUZZ, max_examples=60)
@given(configs())
def test_py_snippet_imports_back_as_exactly_the_config(config: TunedConfig) -> None:
    with _folder() as folder:
        path = config.export(folder / "tuned.py")
        module = _import(path)
        assert sorted(p.name for p in folder.iterdir() if p.name != "__pycache__") == ["tuned.py"]
    assert config.to_dict() == module.CONFIG
    assert TunedConfig.from_dict(module.CONFIG) == config
    assert module.fit_kwargs() == config.fit_kwargs()


# -- JSON is strict, YAML is plain, and both load back exactly --------------------------------


@FUZZ
@given(configs())
def test_json_is_strict_and_loads_back_exactly(config: TunedConfig) -> None:
    with _folder() as folder:
        path = config.export(folder / "tuned.json")
        text = path.read_text(encoding="utf-8")
        assert _strict_json(text) == config.to_dict()
        assert load_config(path) == config


@FUZZ
@given(configs())
def test_yaml_safe_loads_back_exactly(config: TunedConfig) -> None:
    with _folder() as folder:
        path = config.export(folder / "tuned.yaml")
        text = path.read_text(encoding="utf-8")
        assert yaml.safe_load(text) == config.to_dict()
        assert load_config(path) == config


# -- NaN and infinities are refused, by name, before anything is written ----------------------


@st.composite
def non_finite_configs(draw: st.DrawFn) -> tuple[TunedConfig, str]:
    """A config with one NaN/inf planted where a float may stand, and that field's name."""
    bad = draw(non_finite)
    config = draw(configs(st.one_of(scalar, st.lists(scalar, max_size=2))))
    where = draw(st.sampled_from(["value", "user", "user_list", "adam", "loss"]))
    if where == "value":
        return replace(config, value=bad), "value"
    if where == "adam":
        adam = AdamParams(**{**ADAM.to_dict(), "beta_2": bad})
        return replace(config, adam=adam), "adam.beta_2"
    if where == "loss":
        loss = {"class_name": "Huber", "config": {"delta": bad}}
        return replace(config, loss=loss), "loss.config.delta"
    key = draw(user_key)
    value = [1.0, bad] if where == "user_list" else bad
    user = {**config.user_params, key: value}
    field = f"user_params.{key}" if key.isidentifier() else f"user_params[{key!r}]"
    return replace(config, user_params=user), (f"{field}[1]" if where == "user_list" else field)


@settings(FUZZ, max_examples=100)
@given(non_finite_configs(), st.sampled_from([".json", ".yaml", ".yml", ".py"]))
def test_non_finite_numbers_are_refused_by_field(
    planted: tuple[TunedConfig, str], suffix: str
) -> None:
    config, field = planted
    with _folder() as folder:
        with pytest.raises(ValueError, match=rf"cannot export field `{re.escape(field)}`"):
            config.export(folder / f"tuned{suffix}")
        assert list(folder.iterdir()) == []


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".py"])
@pytest.mark.parametrize("text", ["\ud800", "a\udfff", "\ud800\udfff"])
def test_text_with_a_surrogate_is_refused_by_field(tmp_path: Path, suffix: str, text: str) -> None:
    # was: the .json export of "\ud800\udfff" read back as "\U000103ff", another string
    config = _plain(user_params={"tag": text})
    code = f"U\\+{ord(text[-1] if text.startswith('a') else text[0]):04X}"
    with pytest.raises(ValueError, match=rf"cannot export field `user_params.tag`: .*{code}"):
        config.export(tmp_path / f"tuned{suffix}")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"<dict>: field `user_params.tag`: .*surrogate"):
        TunedConfig.from_dict({**config.to_dict(), "user_params": {"tag": text}})


# -- plain regression tests: each failed before the exporter refused non-finite numbers ---------


def test_json_export_names_the_non_finite_field(tmp_path: Path) -> None:
    # was: "Out of range float values are not JSON compliant: nan", naming no field
    config = _plain(user_params={"clip": math.nan})
    with pytest.raises(
        ValueError,
        match=r"cannot export field `user_params\.clip`: configs hold finite numbers only "
        r"\(JSON has no NaN or Infinity\)\. Received: user_params\.clip=nan\. Replace it",
    ):
        config.export(tmp_path / "tuned.json")
    assert list(tmp_path.iterdir()) == []


def test_yaml_export_refuses_an_infinite_value_load_config_would_refuse(tmp_path: Path) -> None:
    # was: written as `value: .inf`, which load_config then refused ("must be a finite number")
    with pytest.raises(ValueError, match=r"cannot export field `value`: .* Received: value=inf"):
        _plain(value=math.inf).export(tmp_path / "tuned.yaml")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("suffix", "text", "field", "shown"),
    [
        (".json", '"clip": NaN', r"user_params\.clip", "nan"),
        (".json", '"clip": -Infinity', r"user_params\.clip", "-inf"),
        (".yaml", "clip: .nan", r"user_params\.clip", "nan"),
        (".yaml", "clip: [1.0, .inf]", r"user_params\.clip\[1\]", "inf"),
    ],
)
def test_load_config_refuses_hand_written_non_finite_tokens(
    tmp_path: Path, suffix: str, text: str, field: str, shown: str
) -> None:
    # was: JSON's NaN/Infinity and YAML's .nan/.inf in user_params loaded without a word, so a
    # hand-edited config held a value no export could write back
    path = _plain(user_params={"clip": 1.0}).export(tmp_path / f"tuned{suffix}")
    written = path.read_text(encoding="utf-8")
    hand_edited = (
        written.replace('"clip": 1.0', text)
        if suffix == ".json"
        else written.replace("clip: 1.0", text)
    )
    assert hand_edited != written
    path.write_text(hand_edited, encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=rf"tuned{re.escape(suffix)}: field `{field}`: configs hold finite numbers only .*"
        rf"Received: {field}={re.escape(shown)}\.",
    ):
        load_config(path)


def test_from_dict_refuses_a_non_finite_value_anywhere() -> None:
    # was accepted: a mapping no export could write back became a TunedConfig
    data = _plain(user_params={"clip": [1.0, 2.0]}).to_dict()
    data["user_params"]["clip"][1] = -math.inf
    with pytest.raises(
        ValueError,
        match=r"^<dict>: field `user_params\.clip\[1\]`: configs hold finite numbers only .*"
        r"Received: user_params\.clip\[1\]=-inf\.",
    ):
        TunedConfig.from_dict(data)


def test_py_export_names_the_non_finite_field(tmp_path: Path) -> None:
    # was: "malformed node or string on line 37: <ast.Call ...>" from the internal read-back check
    config = _plain(user_params={"max norm": -math.inf})
    with pytest.raises(
        ValueError, match=r"cannot export field `user_params\['max norm'\]`: .*=-inf\."
    ):
        config.export(tmp_path / "tuned.py")
    with pytest.raises(ValueError, match=r"cannot export field `user_params\['max norm'\]`"):
        render_python(config)
    assert list(tmp_path.iterdir()) == []


def test_finite_extremes_round_trip_in_every_format(tmp_path: Path) -> None:
    extremes = [sys.float_info.max, -sys.float_info.max, 5e-324, -0.0, 1e16, 1e-05]
    config = _plain(user_params={"x": extremes}, value=-sys.float_info.max)
    for suffix in (".json", ".yaml"):
        assert load_config(config.export(tmp_path / f"t{suffix}")) == config
    assert config.to_dict() == _import(config.export(tmp_path / "t.py")).CONFIG
