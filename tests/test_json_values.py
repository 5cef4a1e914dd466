"""One ``jsonable`` (adamtune/_json.py) for the engines' records and settings and the doctor's
findings: it gives what the engines' strict version gave for everything they store, and what the
doctor's version gave for NumPy values and non-finite numbers anywhere."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np
import pytest

from adamtune._json import jsonable


def _old_engine_jsonable(value: Any) -> Any:
    """The engines' version before issue 16 (engine/_records.py), kept here as the reference."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _old_engine_jsonable(v) for k, v in value.items()}
    return json.loads(json.dumps(value))


META = {
    "direction": "minimize",
    "objective": "val_loss",
    "epochs": 10,
    "space": {"learning_rate": {"low": 1e-5, "high": 0.1, "log": True}, "batch_size": [32, 64]},
    "first_trials": [{"learning_rate": 0.001, "batch_size": 32}],
    "lr_range": {"suggested": (1e-4, 1e-2), "steps": 100},
    "notes": ["BatchNorm dropped: the model has its own"],
    "chance_loss": float("nan"),
    "worst": float("inf"),
    "class_weight": None,
    "flags": {"stream": False, 3: "int keys become text"},
}
RECORD = {
    "outcome": "diverged-nan",
    "reason": "loss is NaN at batch 3",
    "adam": {"learning_rate": 0.5, "batch_size": 64, "regularizer": "l2", "strength": 1e-4},
    "best_epoch": None,
    "epochs_run": 1,
    "seconds": 1.234,
    "last": {"loss": float("nan"), "val_loss": 2.5},
    "curves": {"loss": [2.3, "nan"], "val_loss": [2.5]},
    "changes": ["scaling dropped"],
}


@pytest.mark.parametrize("value", [META, RECORD, [1, 2.5, "x", None, True], "text", 3, None])
def test_what_the_engines_store_is_unchanged(value: Any) -> None:
    # byte for byte, as Optuna and the KerasTuner records write it
    assert json.dumps(jsonable(value)) == json.dumps(_old_engine_jsonable(value))
    # and as read back; the old version kept an int key of a nested dict an int until it was
    # written (where it became text), the new one makes it text at once, as stored
    assert jsonable(value) == json.loads(json.dumps(_old_engine_jsonable(value)))


def test_non_finite_numbers_become_text_anywhere_and_numpy_values_plain() -> None:
    got = jsonable(
        {"a": [1.0, float("nan"), float("-inf")], "b": np.float32(2.0), "c": np.int64(3)}
    )
    assert got == {"a": [1.0, "nan", "-inf"], "b": 2.0, "c": 3}
    assert type(got["b"]) is float and type(got["c"]) is int
    assert jsonable(np.array([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert jsonable(np.bool_(True)) is True
    json.dumps(got, allow_nan=False)  # strict JSON


def test_other_objects_become_their_text() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert jsonable({"x": Thing(), "y": (1, 2)}) == {"x": "a thing", "y": [1, 2]}


def test_the_doctor_and_the_engines_use_the_one_function() -> None:
    from adamtune.doctor import _findings
    from adamtune.engine import _records

    assert _findings.jsonable is jsonable and _records.jsonable is jsonable


def test_it_imports_no_numpy() -> None:
    import subprocess

    code = "import sys, adamtune._json; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
