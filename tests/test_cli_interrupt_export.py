"""A search stopped early (Ctrl-C, a streak of failures) still writes its best so far to -o; and
`adamtune export` prints to standard output without -o."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from conftest import signal_when

import adamtune
from adamtune.cli import main

optuna.logging.set_verbosity(optuna.logging.ERROR)

# Digits, Dense 16. With FIRST_OK = n, the trials after the first n raise in model_fn (the
# pre-flight's own build goes through): a streak of failures that stops the search.
MODEL_FILE = """
import sys

FIRST_OK = {first_ok}
TRIALS = []


def load_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype("float32") / 16.0, digits.target.astype("int64")


def _in_a_trial():
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "run_trial":
            return True
        frame = frame.f_back
    return False


def build_model():
    import keras

    if FIRST_OK is not None and _in_a_trial():
        TRIALS.append(1)
        if len(TRIALS) > FIRST_OK:
            raise RuntimeError("out of memory, say")
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
"""

BEST_SO_FAR = re.compile(
    r"adamtune search: wrote the best so far \(trial (\d+), val_loss ([0-9.e+-]+), (\d+) trials "
    r"finished\) to (\S+); run the same command to continue"
)


def _argv(folder: Path, first_ok: int | None, trials: int, epochs: int) -> list[str]:
    model = folder / f"m{first_ok}.py"
    model.write_text(MODEL_FILE.format(first_ok=first_ok))
    return [
        *("search", f"{model}:build_model", "--data", f"{model}:load_data", "--space", "quick"),
        *("--epochs", str(epochs), "--trials", str(trials), "--study", "s", "--seed", "0"),
        *("--storage", str(folder / "s.db"), "-o", str(folder / "out.json"), "-q"),
    ]


def test_a_streak_of_failures_writes_the_best_so_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(tmp_path, 1, 20, 1)) == 1
    err = capsys.readouterr().err
    assert "adamtune search: stopped: 5 trials failed in a row" in err, err
    found = BEST_SO_FAR.search(err)
    assert found is not None, err
    number, value, finished, path = found.groups()
    assert (int(number), int(finished), path) == (0, 1, str(tmp_path / "out.json"))
    config = adamtune.load_config(tmp_path / "out.json")
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 's.db'}")
    assert config.trial_number == 0 and float(value) == pytest.approx(study.best_value, rel=1e-5)


def test_nothing_finished_nothing_written_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(tmp_path, 0, 20, 1)) == 1
    err = capsys.readouterr().err
    assert f"no trial finished, so nothing was written to {tmp_path / 'out.json'}" in err, err
    assert not (tmp_path / "out.json").exists()


def test_a_bad_output_suffix_is_refused_before_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(tmp_path, None, 2, 1)
    argv[argv.index("-o") + 1] = str(tmp_path / "out.txt")
    assert main(argv) == 2
    assert "-o must end in .json, .yaml, .yml, .py" in capsys.readouterr().err
    assert not (tmp_path / "s.db").exists()


def test_ctrl_c_writes_the_best_so_far(tmp_path: Path) -> None:
    """A real `adamtune search` process, sent SIGINT once its first trial is complete."""
    storage = f"sqlite:///{tmp_path / 's.db'}"

    def one_complete(study: Any) -> bool:
        return any(t.state.name == "COMPLETE" for t in study.trials)

    argv = _argv(tmp_path, None, 200, 3)
    proc, err = signal_when(argv, storage, "s", tmp_path, one_complete, signal.SIGINT)
    assert proc.returncode == 130, err[-3000:]
    found = BEST_SO_FAR.search(err)
    assert found is not None, err[-3000:]
    study = optuna.load_study(study_name="s", storage=storage)
    assert int(found.group(1)) == study.best_trial.number
    assert int(found.group(3)) == sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    assert adamtune.load_config(tmp_path / "out.json").trial_number == study.best_trial.number
    assert "adamtune search: interrupted; run the same command to continue" in err


# -- export to standard output ------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    assert main(_argv(folder, None, 2, 1)) == 0
    return folder


def test_export_without_output_prints_the_config(
    two_trials: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(two_trials / "s.db")
    assert main(["export", "--storage", db]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((two_trials / "out.json").read_text())
    assert main(["export", "--storage", db, "--format", "yaml", "-o", "-"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == printed
    assert main(["export", "--storage", db, "--format", "py"]) == 0
    source = capsys.readouterr().out
    assert source.startswith("# Generated by adamtune") and "def compile_kwargs" in source
    compile(source, "tuned.py", "exec")


def test_export_infers_the_format_from_the_suffix_and_refuses_a_mismatch(
    two_trials: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(two_trials / "s.db")
    assert main(["export", "--storage", db, "-o", str(tmp_path / "t.yml")]) == 0
    assert yaml.safe_load((tmp_path / "t.yml").read_text())["study"] == "s"
    for fmt, output in (("json", "t.yml"), ("yaml", "t.json"), ("py", "t.json")):
        assert main(["export", "--storage", db, "--format", fmt, "-o", output]) == 2
        err = capsys.readouterr().err
        assert f"--format {fmt} does not match the suffix of -o '{output}'" in err, err
    assert main(["export", "--storage", db, "-o", str(tmp_path / "t.txt")]) == 2
    assert "-o must end in .json, .yaml, .yml, .py" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yml"]
