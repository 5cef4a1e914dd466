"""The .py export carries the whole tuned config: retraining from the snippet alone matches
load_config(.json/.yaml), and its header's recipe is the one that works (issue 15, item 1)."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from adamtune.params import AdamParams
from adamtune.result import TunedConfig, load_config, render_python

EPOCHS = 20
SEED = 0


@pytest.fixture(scope="module")
def wine() -> tuple[np.ndarray, ...]:
    """Wine, raw: features from ~0.1 (hue) to ~1700 (proline), the unscaled-input case."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    x, y = load_wine(return_X_y=True)
    parts = train_test_split(
        x.astype("float32"), y.astype("int64"), test_size=0.3, stratify=y, random_state=0
    )
    return tuple(parts)


def _tuned_config() -> TunedConfig:
    """A checked config with every part compile_kwargs() alone cannot carry: standard scaling,
    BatchNorm and an L2 kernel regularizer."""
    optimizer = keras.optimizers.Adam(learning_rate=3e-3, name="adamtune_adam")
    return TunedConfig.from_dict(
        {
            "format": 1,
            "objective": "val_loss",
            "adam": {
                "learning_rate": 3e-3,
                "batch_size": 16,
                "regularizer": "l2",
                "regularizer_strength": 1e-4,
                "batch_norm": True,
                "scaling": "standard",
            },
            "fit": {"batch_size": 16, "epochs": EPOCHS},
            "optimizer": keras.optimizers.serialize(optimizer),
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        }
    )


def model_fn() -> Any:
    return keras.Sequential(
        [
            keras.Input(shape=(13,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def _import_snippet(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train(
    build: Any, scaler: Any, fit_kwargs: dict[str, Any], data: tuple[np.ndarray, ...]
) -> tuple[float, np.ndarray]:
    """Held-out accuracy and predictions of a model trained from one seed, as a user would."""
    x_train, x_test, y_train, y_test = data
    keras.utils.set_random_seed(SEED)
    model = build()
    scale = scaler().fit(x_train)
    model.fit(scale.transform(x_train), y_train, verbose=0, **fit_kwargs)
    probs = model.predict_on_batch(scale.transform(x_test))
    return float(np.mean(np.argmax(probs, axis=-1) == y_test)), np.asarray(probs)


def test_snippet_alone_retrains_as_load_config_does(
    tmp_path: Path, wine: tuple[np.ndarray, ...]
) -> None:
    config = _tuned_config()
    snippet = _import_snippet(config.export(tmp_path / "tuned_wine.py"))
    from_py = _train(lambda: snippet.build(model_fn), snippet.scaler, snippet.fit_kwargs(), wine)

    for suffix in (".json", ".yaml"):
        cfg = load_config(config.export(tmp_path / f"tuned{suffix}"))

        def build(cfg: TunedConfig = cfg) -> Any:
            model = cfg.build(model_fn)
            model.compile(**cfg.compile_kwargs())
            return model

        from_file = _train(build, cfg.scaler, cfg.fit_kwargs(), wine)
        assert from_file[0] == pytest.approx(from_py[0], abs=1e-9), suffix
        np.testing.assert_allclose(from_file[1], from_py[1], rtol=1e-5, atol=1e-6)
    assert from_py[0] >= 0.9

    # The old header's recipe: compile_kwargs() on the user's own model, raw x. Scaling,
    # BatchNorm and L2 are lost, and it shows on held-out data.
    def own_model() -> Any:
        model = model_fn()
        model.compile(**snippet.compile_kwargs())
        return model

    def no_scaling() -> Any:
        from sklearn.preprocessing import FunctionTransformer

        return FunctionTransformer()

    old_way = _train(own_model, no_scaling, snippet.fit_kwargs(), wine)
    assert old_way[0] <= from_py[0] - 0.1, (old_way[0], from_py[0])


def test_snippet_build_applies_and_compiles_what_the_config_says(tmp_path: Path) -> None:
    snippet = _import_snippet(_tuned_config().export(tmp_path / "tuned_build.py"))
    model = snippet.build(model_fn)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("BatchNormalization") >= 1, kinds
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer in dense:
        regularizer = layer.kernel_regularizer
        assert isinstance(regularizer, keras.regularizers.L2), layer.name
        assert regularizer.l2 == pytest.approx(1e-4)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-3)
    assert model.loss == "sparse_categorical_crossentropy"
    assert type(snippet.scaler()).__name__ == type(_tuned_config().scaler()).__name__
    layer = snippet.preprocessing_layer(np.arange(12, dtype="float64").reshape(4, 3))
    assert isinstance(layer, keras.layers.Normalization)


def test_header_gives_the_whole_recipe_and_names_what_compile_kwargs_drops() -> None:
    text = render_python(_tuned_config())
    header = text[: text.index("import keras")].splitlines()
    assert all(line.startswith("#") and len(line) < 100 for line in header)
    first = "\n".join(header[:6])
    for step in ("scaler().fit(x_train)", "build(model_fn)", "**fit_kwargs()", "adamtune"):
        assert step in first, step
    warning = " ".join(header)
    assert "WARNING: model.compile(**compile_kwargs())" in warning
    assert "standard scaling, BatchNorm and L2 regularizer" in warning

    plain = dataclasses.replace(_tuned_config(), adam=AdamParams(3e-3, 16))
    plain_header = render_python(plain).split("import keras")[0]
    assert "WARNING" not in plain_header
    assert "tunes no input scaling, BatchNorm or kernel regularizer" in plain_header


def test_header_holds_fixed_words_only_whatever_the_values(tmp_path: Path) -> None:
    """A config built in code with a hostile choice string: the header stays fixed comments,
    the string lives only inside the CONFIG literal, and nothing runs."""
    marker = tmp_path / "INJECTED"
    evil = f"x\n__import__('os').system('touch {marker}')\n#"
    config = TunedConfig(
        adam=AdamParams(3e-3, 16, regularizer=evil, scaling=evil, regularizer_strength=0.1),
        epochs=2,
        optimizer={"class_name": "Adam", "config": {}},
        loss="mse",
        metrics=[],
        user_params={"units": 4},
    )
    text = render_python(config)
    tree = ast.parse(text)
    literal = next(n for n in tree.body if isinstance(n, ast.Assign)).value
    assert ast.literal_eval(literal)["adam"]["scaling"] == evil
    header = text[: text.index("import keras")].splitlines()
    assert all(line.startswith("#") for line in header)
    assert "input scaling, kernel regularizer and model_fn values (hp)" in " ".join(header)
    assert "__import__" not in text.replace(repr(evil), "")
    path = tmp_path / "evil_header.py"
    path.write_text(text)
    _import_snippet(path)
    assert not marker.exists()


_NO_ADAMTUNE = """
import importlib.util, sys
sys.modules["adamtune"] = None  # adamtune is not importable here
spec = importlib.util.spec_from_file_location("tuned_alone", sys.argv[1])
snippet = importlib.util.module_from_spec(spec)
spec.loader.exec_module(snippet)
print("compile_kwargs:", type(snippet.compile_kwargs()["optimizer"]).__name__)
print("fit_kwargs:", snippet.fit_kwargs())
for name, call in [
    ("build", lambda: snippet.build(lambda: None)),
    ("scaler", snippet.scaler),
    ("preprocessing_layer", lambda: snippet.preprocessing_layer([[1.0]])),
]:
    try:
        call()
    except ImportError as exc:
        print(f"{name}: ImportError: {exc}")
"""


def test_snippet_without_adamtune_says_what_needs_it(tmp_path: Path) -> None:
    path = _tuned_config().export(tmp_path / "tuned_alone.py")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(
        [sys.executable, "-c", _NO_ADAMTUNE, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    assert "compile_kwargs: Adam" in out
    assert f"fit_kwargs: {{'batch_size': 16, 'epochs': {EPOCHS}}}" in out
    for name in ("build", "scaler", "preprocessing_layer"):
        line = next((line for line in out if line.startswith(f"{name}: ")), "")
        assert line.startswith(f"{name}: ImportError: build(), scaler() and preprocessing_layer()")
        assert "need adamtune (pip install adamtune)" in line
        assert "compile_kwargs() and fit_kwargs() need only keras" in line
