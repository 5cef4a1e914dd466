"""The LR range test by default (``lr_range="auto"``): where it runs, where it steps aside and
says why, and what a resumed study keeps (issue 20: the levers suite's held-out tasks)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import mlp

import adamtune
from adamtune.cli import main

QUICK: dict[str, Any] = {"space": "quick", "epochs": 1, "verbose": 1}


def _notes(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    return [line.split("note: ", 1)[1] for line in err.splitlines() if "[adamtune] note: " in line]


def test_a_new_study_runs_the_range_test_by_default(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    result: Any = adamtune.search(
        lambda: mlp(64, 10), digits, trials=2, storage=f"sqlite:///{tmp_path / 'd.db'}", **QUICK
    )
    low, high = result.meta["lr_range"]["after"]
    assert result.meta["space"]["learning_rate"]["low"] == low
    assert all(low <= t.params["base_learning_rate"] <= high for t in result.study.trials)
    # first_trials="lr-range" by default: the first trial at the middle of the suggested range
    first = result.study.trials[0].params["base_learning_rate"]
    assert first == pytest.approx((low * high) ** 0.5)
    notes = _notes(capsys)
    assert any(n.startswith(f"first trial at learning rate {first:.2g}") for n in notes), notes
    assert any(n.startswith("LR range test (batch 32, scaling standard") for n in notes), notes
    assert any(n.startswith("LR range test") for n in result.meta["notes"])  # stored with it


def test_a_resumed_study_keeps_the_space_it_was_made_with(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """Made without the test, it resumes without it under the default; made with it, it keeps
    its narrowed range under lr_range=None: a note says so, and nothing is refused."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    model_fn = lambda: mlp(64, 10)  # noqa: E731
    plain: Any = adamtune.search(model_fn, digits, trials=1, storage=url, study_name="plain",
                                 lr_range=None, **QUICK)  # fmt: skip
    assert "lr_range" not in plain.meta
    assert not any("LR range" in n for n in _notes(capsys))
    again: Any = adamtune.search(model_fn, digits, trials=2, storage=url, study_name="plain",
                                 **QUICK)  # fmt: skip
    assert "lr_range" not in again.meta and len(again.study.trials) == 2
    assert again.meta["space"]["learning_rate"]["low"] == 1e-4  # quick's own range
    assert "study 'plain' was made without the LR range test; it resumes without it" in _notes(
        capsys
    )

    narrowed: Any = adamtune.search(model_fn, digits, trials=1, storage=url, study_name="nar",
                                    **QUICK)  # fmt: skip
    low, high = narrowed.meta["lr_range"]["after"]
    capsys.readouterr()
    kept: Any = adamtune.search(model_fn, digits, trials=2, storage=url, study_name="nar",
                                lr_range=None, **QUICK)  # fmt: skip
    assert kept.meta["lr_range"] == narrowed.meta["lr_range"] and len(kept.study.trials) == 2
    assert all(low <= t.params["base_learning_rate"] <= high for t in kept.study.trials)
    notes = _notes(capsys)
    assert any("'nar' was made with the LR range test: it keeps" in n for n in notes), notes
    assert not any(n.startswith("LR range test") for n in notes)  # not measured again


def test_a_kerastuner_strategy_searches_without_it_and_says_why(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    result: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=1, strategy="kt-random",
                                  storage=str(tmp_path / "kt"), **QUICK)  # fmt: skip
    assert "lr_range" not in result.meta
    assert (
        "the LR range test (lr_range='auto') did not run: strategy='kt-random' keeps its space "
        "in a KerasTuner oracle, which adamtune does not narrow; the learning rate is searched "
        "over the space's 0.0001..0.1"
    ) in _notes(capsys)


def test_a_stream_searches_without_it_and_says_why(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    import tensorflow as tf

    x, y = digits
    train = tf.data.Dataset.from_tensor_slices((x[:1400], y[:1400])).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x[1400:], y[1400:])).batch(32)
    url = f"sqlite:///{tmp_path / 's.db'}"
    result: Any = adamtune.search(lambda: mlp(64, 10), (train, val), trials=1, storage=url,
                                  study_name="s", **QUICK)  # fmt: skip
    assert "lr_range" not in result.meta and len(result.study.trials) == 1
    notes = _notes(capsys)
    assert any(
        n.startswith("the LR range test (lr_range='auto') did not run: the data is a tf.data "
                     "stream, and the test trains on arrays (run adamtune.lr_range_test(")
        for n in notes
    ), notes  # fmt: skip
    # resumed, it says nothing of the test: it could never have run on this study
    adamtune.search(lambda: mlp(64, 10), (train, val), trials=2, storage=url, study_name="s",
                    **QUICK)  # fmt: skip
    assert not any("LR range" in n for n in _notes(capsys))


def _two_inputs() -> Any:
    import keras

    left, right = keras.Input((32,), name="left"), keras.Input((32,), name="right")
    joined = keras.layers.Concatenate()([left, right])
    hidden = keras.layers.Dense(16, activation="relu")(joined)
    return keras.Model([left, right], keras.layers.Dense(10, activation="softmax")(hidden))


def test_several_inputs_search_without_it_and_say_why(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = digits
    data = ({"left": x[:, :32], "right": x[:, 32:]}, y)
    result: Any = adamtune.search(_two_inputs, data, trials=1,
                                  storage=f"sqlite:///{tmp_path / 'm.db'}", **QUICK)  # fmt: skip
    assert "lr_range" not in result.meta and len(result.study.trials) == 1
    assert (
        "the LR range test (lr_range='auto') did not run: the model has 2 input(s) and 1 "
        "output(s), and the test takes one of each; the learning rate is searched over the "
        "space's 0.0001..0.1"
    ) in _notes(capsys)


def test_a_first_trial_clipped_to_the_narrowed_range_is_said(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """The user's own first trial at the quick space's top learning rate (0.1, inside the space):
    the test narrows the range below it (digits diverges far below 0.1 at batch 32), and the
    note names the rate it is tried at instead."""
    result: Any = adamtune.search(
        lambda: mlp(64, 10), digits, trials=1, storage=f"sqlite:///{tmp_path / 'f.db'}",
        first_trials=[{"learning_rate": 0.1, "batch_size": 32}], **QUICK,
    )  # fmt: skip
    high = result.meta["lr_range"]["after"][1]
    assert high < 0.1
    tried = result.study.trials[0].params["base_learning_rate"]
    assert tried == pytest.approx(high)
    assert (
        f"first_trials[0]'s learning_rate 0.1 is outside the range the LR range test narrowed the "
        f"space to ({result.meta['lr_range']['after'][0]:.2g}..{high:.2g} at batch size 32): it "
        f"is tried at {high:.2g} (lr_range=None keeps it as given)"
    ) in _notes(capsys)


def test_first_trials_lr_range_starts_at_the_middle_of_the_suggested_range(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """``first_trials="lr-range"``: the textbook first trial at the geometric middle of the range
    the test suggested, said in a note; without the test it is the textbook start."""
    result: Any = adamtune.search(
        lambda: mlp(64, 10), digits, trials=1, storage=f"sqlite:///{tmp_path / 'm.db'}",
        first_trials="lr-range", **QUICK,
    )  # fmt: skip
    low, high = result.meta["lr_range"]["after"]
    middle = (low * high) ** 0.5
    first = result.study.trials[0].params
    assert first["base_learning_rate"] == pytest.approx(middle)
    assert (first["batch_size"], first["scaling"], first["batch_norm"]) == (32, "standard", False)
    assert (
        f"first trial at learning rate {middle:.2g} (batch size 32), the middle of the range the "
        "LR range test suggested (first_trials='auto' starts at the textbook rate)"
    ) in _notes(capsys)

    untested: Any = adamtune.search(
        lambda: mlp(64, 10), digits, trials=1, storage=f"sqlite:///{tmp_path / 'n.db'}",
        first_trials="lr-range", lr_range=None, **QUICK,
    )  # fmt: skip
    assert untested.study.trials[0].params["base_learning_rate"] == pytest.approx(1e-3)
    assert not any("first trial at" in n for n in _notes(capsys))
    with pytest.raises(TypeError, match=r"must be 'auto', 'lr-range', None or a list of dicts"):
        adamtune.search(
            lambda: mlp(64, 10), digits, storage=f"sqlite:///{tmp_path / 'r.db'}",
            first_trials="range", **QUICK,
        )  # fmt: skip
    assert not (tmp_path / "r.db").exists()


def _cli_meta(tmp_path: Path, name: str, *extra: str) -> dict[str, Any]:
    data = tmp_path / "data.py"
    data.write_text(
        "from sklearn.datasets import load_digits\n"
        "def load():\n    return load_digits(return_X_y=True)\n"
        "def model():\n"
        "    import keras\n"
        "    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, "
        "activation='relu'), keras.layers.Dense(10, activation='softmax')])\n"
    )
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    argv = ["search", f"{data}:model", "--data", f"{data}:load", "--space", "quick", "--trials",
            "1", "--epochs", "1", "--storage", url, "--study", name, "-q", *extra]  # fmt: skip
    assert main(argv) == 0
    import optuna

    study = optuna.load_study(study_name=name, storage=url)
    meta = study.user_attrs["adamtune"]
    assert isinstance(meta, dict)
    return json.loads(json.dumps(meta))


def test_the_cli_runs_it_by_default_and_lr_range_off_skips_it(tmp_path: Path) -> None:
    assert "lr_range" in _cli_meta(tmp_path, "on")
    assert "lr_range" not in _cli_meta(tmp_path, "off", "--lr-range", "off")
    with pytest.raises(SystemExit):
        main(["search", "m:model", "--lr-range", "yes"])


def test_a_pinned_rate_is_left_alone_and_a_range_outside_the_space_is_kept(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """The space's bounds are the caller's: a learning rate fixed by the space gets no test, and
    a suggestion that misses the space's range leaves it as it is, said with the numbers."""
    from conftest import fixed_space

    from adamtune.spaces import LearningRate

    url = f"sqlite:///{tmp_path / 'p.db'}"
    pinned: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=1, storage=url,
                                  study_name="pinned", space=fixed_space(epochs=1), verbose=1)  # fmt: skip
    assert "lr_range" not in pinned.meta
    assert (
        "the LR range test (lr_range='auto') did not run: the space fixes the learning rate at "
        "0.003; the learning rate is searched over the space's 0.003..0.003"
    ) in _notes(capsys)

    import dataclasses

    tiny = dataclasses.replace(
        fixed_space(epochs=1), learning_rate=LearningRate(1e-7, 1e-6, reference_batch_size=32)
    )
    kept: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=2, storage=url,
                                study_name="tiny", space=tiny, verbose=1)  # fmt: skip
    record = kept.meta["lr_range"]
    assert record["outside"] and record["after"] == record["before"] == [1e-7, 1e-6]
    assert record["suggested"][0] > 1e-6  # digits learns far above the space
    low, high = record["suggested"]
    said = re.escape(
        f"suggests {low:.2g}..{high:.2g}, outside the space's 1e-07..1e-06: the space is searched "
        "as it is; widen its learning rate to follow the test"
    )
    notes = _notes(capsys)
    assert any(re.fullmatch(rf"LR range test \(batch 32, scaling standard, \d+ steps\): {said}", n)
               for n in notes), notes  # fmt: skip
    assert all(1e-7 <= t.params["base_learning_rate"] <= 1e-6 for t in kept.study.trials)
    # the default first trial is not put in the middle of a range the test did not suggest: it
    # is the textbook start clipped to the space, and no note claims otherwise
    assert kept.study.trials[0].params["base_learning_rate"] == pytest.approx(1e-6)
    assert not any(n.startswith("first trial at") for n in notes), notes


def test_a_strategy_refused_after_the_range_test_leaves_no_storage_behind(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """The range test reads whether the study exists before the strategy is built for the
    narrowed space: a strategy that fails then must find no SQLite file made by that look."""
    from adamtune import strategies
    from adamtune.strategies import _registry

    strategies.register("x-broken-late", lambda ctx: "not a sampler", replace=True)
    try:
        with pytest.raises(TypeError, match=r"strategy 'x-broken-late' returned 'not a sampler'"):
            adamtune.search(lambda: mlp(64, 10), digits, trials=1, strategy="x-broken-late",
                            storage=f"sqlite:///{tmp_path / 'b.db'}", **QUICK)  # fmt: skip
    finally:
        _registry._REGISTRY.pop("x-broken-late")
        _registry._DESCRIPTIONS.pop("x-broken-late")
    assert not (tmp_path / "b.db").exists()
    assert list(tmp_path.iterdir()) == []  # no log either
