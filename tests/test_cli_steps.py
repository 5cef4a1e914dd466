"""``adamtune search --steps-per-epoch N``: an infinite tf.data training stream from the CLI, and
``adamtune worker`` joining that study with the same epoch length."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DIGITS_EXAMPLE

from adamtune.cli import main

# A --data module: a tiny Dense model, and an infinite (repeated) training dataset.
STREAM_MODULE = """
import keras
import numpy as np
import tensorflow as tf


def build_model():
    return keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def load_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    train = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).repeat()
    val = tf.data.Dataset.from_tensor_slices((x[64:], y[64:]))
    return train, val
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "streams_cli.py"
    path.write_text(STREAM_MODULE)
    return path


def _argv(module: Path, storage: str, *extra: str) -> list[str]:
    return [
        *("search", f"{module}:build_model", "--data", f"{module}:load_data"),
        *("--space", "quick", "--trials", "2", "--epochs", "1", "--storage", storage),
        *("--study", "s", "--seed", "0", "-q", *extra),
    ]


def test_steps_per_epoch_runs_an_infinite_stream_and_a_worker_rereads_it(
    module: Path, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from adamtune.cli._commands import open_result

    assert main(_argv(module, storage, "--steps-per-epoch", "3")) == 0, capsys.readouterr().err
    result = open_result(storage, "s")
    assert result.meta["data"]["steps_per_epoch"] == 3
    assert result.meta["data"]["cardinality"] == -1  # the infinite stream, as given
    assert len(result.trials) == 2
    # A worker joining the study takes the stored epoch length: without it the same stream would
    # be refused ("`steps_per_epoch` is needed"); the target is reached, so it only checks.
    capsys.readouterr()
    code = main(["worker", "--storage", storage, "--study", "s", "-q"])
    assert code == 0, capsys.readouterr().err


def test_an_infinite_stream_without_steps_per_epoch_is_refused(
    module: Path, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(module, storage)) == 2
    err = capsys.readouterr().err
    assert "adamtune search: error: `steps_per_epoch` is needed" in err
    assert not Path(storage.removeprefix("sqlite:///")).exists()  # refused before any storage


def test_steps_per_epoch_with_arrays_is_refused(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(DIGITS_EXAMPLE, storage, "--steps-per-epoch", "3")
    assert main(argv) == 2
    assert "`steps_per_epoch` sets the length of an epoch" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_a_non_positive_steps_per_epoch_is_a_usage_error(
    module: Path, storage: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(_argv(module, storage, "--steps-per-epoch", value))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        f"argument --steps-per-epoch: must be a positive integer (>= 1). Received: {value!r}" in err
    )
