"""Third-party strategies from entry points run on the engine they declare (issue 16).

Each test installs a fake distribution: a ``*.dist-info`` folder with an ``entry_points.txt`` in
``tmp_path``, put on ``sys.path``, which ``importlib.metadata`` reads as it reads an installed one.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

import adamtune
from adamtune import strategies
from adamtune.strategies import _registry
from adamtune.testing import conformance_data, conformance_model

MODULE = "adamtune_plugin_engines"

PLUGIN = """
import keras_tuner
import optuna


def _objective(context):
    return keras_tuner.Objective(
        context.monitor, "min" if context.direction == "minimize" else "max"
    )


def kt_random(context):
    return keras_tuner.oracles.RandomSearchOracle(
        objective=_objective(context), max_trials=10**9, seed=context.seed
    )


kt_random.engine = "kerastuner"


def kt_undeclared(context):
    return kt_random(context)


def tpe(context):
    return optuna.samplers.TPESampler(seed=context.seed)


def tpe_declared(context):
    return optuna.samplers.TPESampler(seed=context.seed)


tpe_declared.engine = "optuna"


def odd_engine(context):
    return tpe(context)


odd_engine.engine = "sklearn"

NOT_CALLABLE = 3
"""

ENTRY_POINTS = {
    "demo-kt": "kt_random",
    "demo-kt-undeclared": "kt_undeclared",
    "demo-tpe": "tpe",
    "demo-tpe-declared": "tpe_declared",
    "demo-odd-engine": "odd_engine",
    "demo-not-callable": "NOT_CALLABLE",
}


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    dist = tmp_path / f"{MODULE}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {MODULE.replace('_', '-')}\nVersion: 0.1\n"
    )
    lines = "".join(f"{name} = {MODULE}:{obj}\n" for name, obj in ENTRY_POINTS.items())
    (dist / "entry_points.txt").write_text(f"[adamtune.strategies]\n{lines}")
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    try:
        yield tmp_path
    finally:
        for name in ENTRY_POINTS:
            _registry._REGISTRY.pop(name, None)
            _registry._DESCRIPTIONS.pop(name, None)
            _registry._ENGINES.pop(name, None)
        sys.modules.pop(MODULE, None)


def context() -> strategies.StrategyContext:
    return strategies.StrategyContext(adamtune.load_space("quick"), seed=3)


def test_listing_entry_points_imports_none_of_them(plugin: Path) -> None:
    names = strategies.available()
    assert set(ENTRY_POINTS) <= set(names)
    assert strategies.describe()["demo-kt"] == f"from {MODULE}:kt_random"
    assert MODULE not in sys.modules


def test_a_kerastuner_entry_point_declares_its_engine(plugin: Path) -> None:
    import keras_tuner

    assert strategies.engine_of("demo-kt") == "kerastuner"
    oracle = strategies.get("demo-kt", context())
    assert isinstance(oracle, keras_tuner.oracles.RandomSearchOracle)


def test_an_entry_point_without_engine_is_optuna_as_register_defaults(plugin: Path) -> None:
    assert strategies.engine_of("demo-tpe") == "optuna"
    assert strategies.engine_of("demo-tpe-declared") == "optuna"
    assert isinstance(strategies.get("demo-tpe", context()), optuna.samplers.TPESampler)


def test_an_oracle_from_an_undeclared_entry_point_is_refused_with_the_fix(plugin: Path) -> None:
    with pytest.raises(
        TypeError,
        match=r"strategy 'demo-kt-undeclared' is for the 'optuna' engine but returned a "
        r"kerastuner engine object \(RandomSearchOracle\); set `engine = 'kerastuner'` on the "
        r"object its entry point names",
    ):
        strategies.get("demo-kt-undeclared", context())


def test_an_unknown_declared_engine_is_refused(plugin: Path) -> None:
    with pytest.raises(
        ValueError,
        match=rf"entry point 'demo-odd-engine' \({MODULE}:odd_engine\) declares an `engine` that "
        r"must be one of optuna, kerastuner\. Received: engine='sklearn'",
    ):
        strategies.engine_of("demo-odd-engine")


def test_an_entry_point_that_names_no_callable_is_refused(plugin: Path) -> None:
    with pytest.raises(TypeError, match=r"must name a strategy factory.*Received: 3 of type int"):
        strategies.engine_of("demo-not-callable")


def test_a_registered_strategy_must_return_its_engines_object() -> None:
    strategies.register("x-kt-as-optuna", lambda ctx: strategies.get("kt-random", ctx))
    try:
        with pytest.raises(TypeError, match=r"register it with engine='kerastuner'"):
            strategies.get("x-kt-as-optuna", context())
    finally:
        for table in (_registry._REGISTRY, _registry._DESCRIPTIONS, _registry._ENGINES):
            table.pop("x-kt-as-optuna", None)


def test_a_search_runs_a_kerastuner_entry_point_on_kerastuner(plugin: Path) -> None:
    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space="quick",
        epochs=1,
        trials=1,
        strategy="demo-kt",
        storage=str(plugin / "kt"),
        study_name="plugin",
        seed=0,
        verbose=0,
    )
    assert type(result.oracle).__name__ == "RandomSearchOracle"
    assert (plugin / "kt" / "plugin").is_dir()  # a KerasTuner directory, not an Optuna database
    assert len(result.study.trials) == 1
