"""Reading a study and exporting its best config import neither TensorFlow nor Keras, and write
exactly what an export with them loaded writes (issue 15, item 4)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from conftest import mlp

import adamtune
from adamtune.params import AdamParams
from adamtune.result import Result, config_from_trial
from adamtune.training import make_optimizer

STUDY = "no-tf"
FORMATS = (".json", ".yaml", ".py")


@pytest.fixture(scope="module")
def study(digits: tuple[np.ndarray, np.ndarray], tmp_path_factory: Any) -> tuple[str, Path]:
    """A real finished study in SQLite, and its best config exported here, TensorFlow loaded."""
    folder = tmp_path_factory.mktemp("no_tf")
    storage = f"sqlite:///{folder / 'study.db'}"
    x, y = digits
    result = adamtune.search(
        lambda: mlp(64, 10),
        (x[:600], y[:600]),
        trials=2,
        epochs=2,
        storage=storage,
        study_name=STUDY,
        seed=0,
        verbose=0,
        # the default space's two kinds of trial: a warmup-cosine schedule and a constant rate
        first_trials=[{"schedule": "cosine", "warmup": 0.05, "decay_to": 0.1}, {}],
    )
    assert sorted(result.trials["schedule"]) == ["constant", "cosine"]
    for suffix in FORMATS:
        result.export(folder / f"with_tf{suffix}")
    return storage, folder


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _imported(importtime: str) -> set[str]:
    """Top-level packages named in ``python -X importtime``'s report."""
    names = set()
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_export_command_imports_no_tensorflow(study: tuple[str, Path]) -> None:
    storage, folder = study
    out = folder / "cli.json"
    command = ["-m", "adamtune", "export", "--storage", storage, "--study", STUDY, "-o", str(out)]
    done = _run(["-X", "importtime", *command], folder)
    imported = _imported(done.stderr)
    assert "optuna" in imported  # the report is read right: it did open the study
    assert not imported & {"tensorflow", "keras", "tf_keras"}, sorted(imported)
    assert out.read_text() == (folder / "with_tf.json").read_text()


_READ = """
import sys
from adamtune.cli._commands import open_result

result = open_result(sys.argv[1], sys.argv[2])
print(result)
print(result.summary())
best = result.best
print(best)
for suffix in (".json", ".yaml", ".py"):
    best.export(f"no_tf{suffix}")
from adamtune.result import config_from_trial
for trial in result.study.trials:  # a warmup-cosine schedule is checked without Keras too
    config_from_trial(trial, result.meta, sys.argv[2]).export(f"trial{trial.number}.json")
print("LOADED:", sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


def test_reading_printing_and_exporting_a_study_imports_no_tensorflow(
    study: tuple[str, Path],
) -> None:
    storage, folder = study
    done = _run(["-c", _READ, storage, STUDY], folder)
    assert done.stdout.splitlines()[-1] == "LOADED: []"
    exported = [json.loads((folder / f"trial{n}.json").read_text()) for n in (0, 1)]
    assert [e["adam"]["schedule"] for e in exported] == ["cosine", "constant"]
    assert f"Result of study '{STUDY}'" in done.stdout
    for suffix in FORMATS:
        ours = (folder / f"no_tf{suffix}").read_text()
        assert ours == (folder / f"with_tf{suffix}").read_text(), suffix


def _best(storage: str) -> tuple[Result, Any]:
    from adamtune.cli._commands import open_result

    result = open_result(storage, STUDY)
    return result, result.study.best_trial


def test_the_stored_optimizer_is_the_one_trained_with(study: tuple[str, Path]) -> None:
    result, _ = _best(study[0])
    for trial in result.study.trials:
        adam = AdamParams(**trial.user_attrs["adam"])
        expected = keras.optimizers.serialize(make_optimizer(adam))
        assert trial.user_attrs["optimizer"] == expected


def test_a_study_from_before_the_stored_optimizer_exports_the_same(
    study: tuple[str, Path],
) -> None:
    result, best = _best(study[0])
    old = copy.deepcopy(best)
    old.user_attrs = {k: v for k, v in best.user_attrs.items() if k != "optimizer"}
    config = config_from_trial(old, result.meta, STUDY)  # serialized again, with Keras
    assert config == result.best


def test_a_stored_optimizer_that_disagrees_with_adam_is_refused(study: tuple[str, Path]) -> None:
    result, _ = _best(study[0])
    for trial in result.study.trials:  # one on a constant rate, one on a warmup-cosine schedule
        optimizer = copy.deepcopy(trial.user_attrs["optimizer"])
        rate = optimizer["config"]["learning_rate"]
        if isinstance(rate, dict):
            rate["config"]["warmup_target"] *= 10
            where = (
                r"learning_rate\.config\.warmup_target`: must be .*, as adam's schedule gives it"
            )
        else:
            optimizer["config"]["learning_rate"] *= 10
            where = r"learning_rate`: must equal adam's value"
        tampered = copy.deepcopy(trial)
        tampered.user_attrs = {**trial.user_attrs, "optimizer": optimizer}
        with pytest.raises(
            ValueError,
            match=rf"^study '{STUDY}', trial {trial.number}: field `optimizer\.config\.{where}",
        ):
            config_from_trial(tampered, result.meta, STUDY)
