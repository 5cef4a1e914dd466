"""The strategy registry, the built-in Optuna strategies, and the conformance suite on each."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import optuna
import pytest

import adamtune
from adamtune import strategies
from adamtune.spaces import FloatRange, LearningRate, Space
from adamtune.strategies import _registry
from adamtune.testing import check_strategy

BUILTIN = [
    "tpe",
    "random",
    "qmc",
    "gp",
    "cmaes",
    "grid",
    "kt-random",
    "kt-bayesian",
    "kt-hyperband",
]


def test_available_lists_the_builtins_with_descriptions() -> None:
    assert strategies.available()[: len(BUILTIN)] == BUILTIN
    assert all(strategies.describe()[name] for name in BUILTIN)


# One strategy of each engine in the quick run; every one in .ci/run's slow pass.
QUICK_CONFORMANCE = ("tpe",)  # the others (kt-random: 13 s) run in the slow pass, in CI too


@pytest.mark.parametrize(
    "name",
    [n if n in QUICK_CONFORMANCE else pytest.param(n, marks=pytest.mark.slow) for n in BUILTIN],
)
def test_every_builtin_strategy_passes_the_conformance_suite(name: str, tmp_path: Path) -> None:
    if name == "gp":  # .ci/run installs a CPU torch and fails on any skip
        pytest.importorskip(
            "torch", reason="the gp strategy needs torch: pip install 'adamtune[gp]'"
        )
    check_strategy(name, tmp_path)


@pytest.mark.slow
def test_an_optuna_sampler_instance_passes_the_conformance_suite(tmp_path: Path) -> None:
    check_strategy(optuna.samplers.RandomSampler(seed=1), tmp_path)


def test_unknown_strategy_lists_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`strategy` must be one of tpe, random, .*kt-hyperband"):
        adamtune.search(lambda: None, ([], []), strategy="annealing")
    with pytest.raises(TypeError, match=r"`strategy` must be a strategy name, an optuna"):
        strategies.check(42)


def test_register_refuses_duplicates_and_bad_factories() -> None:
    with pytest.raises(ValueError, match=r"strategy 'tpe' is already registered"):
        strategies.register("tpe", lambda ctx: None)
    with pytest.raises(TypeError, match=r"`factory` must be callable"):
        strategies.register("x-not-callable", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"non-empty strings without spaces"):
        strategies.register(" padded ", lambda ctx: None)


def test_a_registered_factory_must_return_an_engine_object() -> None:
    strategies.register("x-broken", lambda ctx: "not a sampler", replace=True)
    try:
        ctx = strategies.StrategyContext(adamtune.load_space("quick"))
        with pytest.raises(TypeError, match=r"strategy 'x-broken' returned 'not a sampler'"):
            strategies.get("x-broken", ctx)
    finally:
        _registry._REGISTRY.pop("x-broken")
        _registry._DESCRIPTIONS.pop("x-broken")


def test_third_party_strategies_register_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "adamtune_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: adamtune-plugin-demo\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[adamtune.strategies]\ndemo-random = adamtune_plugin_demo:make\n"
    )
    (tmp_path / "adamtune_plugin_demo.py").write_text(
        textwrap.dedent("""
        import optuna

        def make(context):
            return optuna.samplers.RandomSampler(seed=context.seed)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    try:
        assert "demo-random" in strategies.available()
        sampler = strategies.get(
            "demo-random", strategies.StrategyContext(adamtune.load_space("quick"), seed=3)
        )
        assert isinstance(sampler, optuna.samplers.RandomSampler)
    finally:
        _registry._REGISTRY.pop("demo-random", None)
        _registry._DESCRIPTIONS.pop("demo-random", None)
        sys.modules.pop("adamtune_plugin_demo", None)


def test_grid_is_every_decade_by_every_batch_size_with_the_rest_fixed() -> None:
    space = Space(
        name="g",
        learning_rate=LearningRate(1e-5, 1e-1),
        batch_size=(16, 64),
        regularizer={"l2": FloatRange(1e-6, 1e-2, log=True), "none": None},
        batch_norm=(True, False),
        scaling=("standard", "none"),
    )
    grid = strategies.grid_values(strategies.StrategyContext(space, user_params={"units": 91}))
    assert grid["base_learning_rate"] == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    assert grid["batch_size"] == [16, 64]
    assert grid["regularizer"] == ["l2"]
    assert grid["l2_strength"] == pytest.approx([1e-4])
    assert grid["batch_norm"] == [True] and grid["scaling"] == ["standard"]
    assert grid["units"] == [91]


def test_cmaes_without_its_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmaes", None)
    ctx = strategies.StrategyContext(adamtune.load_space("quick"))
    with pytest.raises(ImportError, match=r"pip install 'adamtune\[cmaes\]'"):
        strategies.get("cmaes", ctx)


def test_gp_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    ctx = strategies.StrategyContext(adamtune.load_space("quick"))
    with pytest.raises(ImportError, match=r"pip install 'adamtune\[gp\]'"):
        strategies.get("gp", ctx)


def test_the_strategy_is_recorded_with_the_study(tmp_path: Path) -> None:
    from adamtune.testing import conformance_data, conformance_model

    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space="quick",
        epochs=1,
        trials=1,
        strategy="random",
        verbose=0,
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    assert result.meta["strategy"] == "random"
    stored: Any = result.study.user_attrs["adamtune"]
    assert stored["strategy"] == "random"


OPTIMIZED_CHECK = """
from types import SimpleNamespace
from adamtune.testing._strategies import CONFORMANCE_SPACE, _inside

adam = {"base_learning_rate": 1e-3, "batch_size": 7, "batch_norm": False, "scaling": "none",
        "regularizer": "none"}
trial = SimpleNamespace(number=3, user_attrs={"adam": adam, "user_params": {"units": 8}},
                        params={})
try:
    _inside(trial, CONFORMANCE_SPACE)
except AssertionError as exc:
    print("caught:", exc)
else:
    print("passed vacuously")
"""


def test_conformance_checks_hold_under_python_dash_o() -> None:
    """`python -O` strips bare asserts; the checks raise AssertionError themselves."""
    import ast
    import subprocess

    import adamtune.testing._strategies as module

    tree = ast.parse(Path(module.__file__).read_text())
    assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    proc = subprocess.run(
        [sys.executable, "-O", "-c", OPTIMIZED_CHECK], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "caught: trial 3: batch " + str(
        {"base_learning_rate": 1e-3, "batch_size": 7, "batch_norm": False, "scaling": "none",
         "regularizer": "none"}
    ), proc.stderr[-2000:]  # fmt: skip


def test_subpackages_the_readme_uses_work_after_a_plain_import() -> None:
    code = (
        "import adamtune; print(sorted(adamtune.strategies.available())[:1]); "
        "print(adamtune.spaces.load_space('default').name); print(adamtune.testing.check_strategy)"
        "; print(adamtune.data.SAMPLE_SIZE)"
    )
    proc = subprocess_run(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[1] == "default" and lines[3] == "2048"
    light = subprocess_run("import sys, adamtune; print('tensorflow' in sys.modules)")
    assert light.stdout.strip() == "False"  # still light


def subprocess_run(code: str) -> Any:
    import subprocess

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
