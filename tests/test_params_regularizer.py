"""The regularizer a trial's choice names is built in ``params`` (below ``training``): ``hp`` builds
it without reaching up into ``training``, and ``adamtune.training.make_regularizer`` is the same
function, still public."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import adamtune.params
import adamtune.training
from adamtune.params import HP, AdamParams, DefaultSource

PARAMS = Path(adamtune.params.__file__).resolve().parent


def test_make_regularizer_is_public_in_params_and_the_same_in_training() -> None:
    assert "make_regularizer" in adamtune.params.__all__
    assert "make_regularizer" in adamtune.training.__all__
    assert adamtune.training.make_regularizer is adamtune.params.make_regularizer


def test_params_imports_nothing_from_the_layers_above_it() -> None:
    above = ("data", "training", "strategies", "engine", "result", "report", "doctor", "cli")
    found = []
    for path in sorted(PARAMS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [
                f"{path.name}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[:2] in (["adamtune", pkg] for pkg in above)
            ]
    assert found == []


def test_importing_params_loads_no_keras() -> None:
    code = "import sys, adamtune.params; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kind", "name"), [("l1", "L1"), ("l2", "L2"), ("l1_l2", "L1L2"), ("none", None)]
)
def test_hp_regularizer_builds_the_trials_choice(kind: str, name: str | None) -> None:
    adam = AdamParams(
        learning_rate=1e-3,
        batch_size=32,
        base_learning_rate=1e-3,
        regularizer=kind,
        regularizer_strength=1e-4,
    )
    hp = HP(adam, DefaultSource())
    built = hp.regularizer()
    assert hp.used_regularizer
    assert (None if built is None else type(built).__name__) == name
