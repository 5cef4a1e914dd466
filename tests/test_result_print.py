"""A Result and a TunedConfig print as short readable text; best_epoch is 1-based everywhere
a user sees it (issue 15, items 2 and 3). On a real finished study."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pytest
from conftest import mlp

import adamtune
from adamtune.result import Result, best_epoch

STUDY = "digits-" + "long-name-" * 9  # a long name: printed lines are still cut under 100
SHOWN = STUDY[:37] + "..."  # as printed


@pytest.fixture(scope="module")
def result(digits: tuple[np.ndarray, np.ndarray], tmp_path_factory: Any) -> Result:
    storage = f"sqlite:///{tmp_path_factory.mktemp('printed') / 'study.db'}"
    x, y = digits
    return adamtune.search(
        lambda: mlp(64, 10),
        (x[:600], y[:600]),
        trials=3,
        epochs=3,
        storage=storage,
        study_name=STUDY,
        seed=1,
        verbose=0,
        first_trials=None,
    )


def _short(text: str) -> list[str]:
    lines = text.splitlines()
    assert all(len(line) < 100 for line in lines), max(lines, key=len)
    return lines


def test_result_prints_a_short_summary(result: Result) -> None:
    text = repr(result)
    assert str(result) == text
    lines = _short(text)
    assert 4 <= len(lines) <= 8
    best = result.study.best_trial
    adam = best.user_attrs["adam"]
    assert lines[0].startswith(f"Result of study '{STUDY[:47]}...'")
    assert lines[0].endswith(": val_loss (minimize)")
    assert f"best: val_loss={best.value:.4g} at trial {best.number}, epoch " in text
    assert f"learning_rate={adam['learning_rate']:.4g}" in text
    assert f"batch_size={adam['batch_size']}" in text
    counts = [f"{name} {n}" for name, n in result.outcomes.most_common()]  # most first
    assert f"trials: 3 finished ({', '.join(counts)})" in text, (counts, text)
    assert ".summary()" in text


def _rows(summary: str) -> list[list[str]]:
    """The table's rows (not its heading, nor a wrapped continuation line), split in cells."""
    return [line.split() for line in summary.splitlines()[2:] if re.match(r"^ *\d+ ", line)]


def test_summary_is_the_top_trials_sorted_by_the_objective(result: Result) -> None:
    summary = result.summary()
    assert print(result.summary()) is None  # printable as it is
    lines = _short(summary)
    assert lines[0] == f"Top 3 of 3 finished trials by val_loss (minimize), study '{SHOWN}'"
    assert lines[1].split() == [
        "trial",
        "value",
        "outcome",
        "learning_rate",
        "batch_size",
        "best_epoch",
        "other",
    ]
    rows = _rows(summary)
    table = result.trials.sort_values("value")
    assert [int(r[0]) for r in rows] == table["number"].tolist()
    for row, (_, want) in zip(rows, table.iterrows(), strict=True):
        assert row[1] == f"{want['value']:.4g}"
        assert row[2] == want["outcome"]
        assert row[3] == f"{want['learning_rate']:.4g}"
        assert row[4] == str(want["batch_size"])
        assert row[5] == str(want["best_epoch"])
    assert [int(r[0]) for r in _rows(result.summary(top=1))] == table["number"].tolist()[:1]
    assert result.summary(top=1).startswith("Top 1 of 3 finished trials")


@pytest.mark.parametrize(
    ("top", "error", "pattern"),
    [
        (0, ValueError, r"`top` must be a positive int.*Received: top=0; pass e\.g\. top=10"),
        (-2, ValueError, r"Received: top=-2"),
        ("3", TypeError, r"`top` must be a positive int.*Received: top=3 of type str"),
        (2.0, TypeError, r"Received: top=2\.0 of type float"),
        (True, TypeError, r"Received: top=True of type bool"),
    ],
)
def test_summary_refuses_a_bad_top(result: Result, top: Any, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        result.summary(top=top)


def test_best_config_prints_as_a_readable_block(result: Result) -> None:
    best = result.best
    lines = _short(str(best))
    assert 9 <= len(lines) <= 16
    text = "\n".join(lines)
    want = f"TunedConfig of study '{SHOWN}', trial {best.trial_number}: val_loss={best.value:.4g}"
    assert lines[0] == want
    assert f"learning_rate={best.adam.learning_rate:.4g}" in text
    for label in ("batch_size:", "epochs:", "input scaling:", "BatchNorm:", "regularizer:"):
        assert re.search(rf"^  {label} +\S", text, re.M), label
    assert re.search(r"^  class weight: +none$", text, re.M)
    assert re.search(rf"^  epochs: +{best.epochs}$", text, re.M)
    assert re.search(rf"^  input scaling: +{best.adam.scaling}$", text, re.M)
    assert "beta_1" not in text and "epsilon" not in text  # Adam's defaults: not shown
    if best.changes:
        assert best.changes[0][:20] in text

    tuned_betas = dataclasses.replace(
        best, adam=dataclasses.replace(best.adam, beta_1=0.8, epsilon=1e-5)
    )
    assert re.search(r"^  optimizer: .*beta_1=0\.8, epsilon=1e-05", str(tuned_betas), re.M)

    short = repr(best)
    # one line naming each choice adamtune made (a regularizer, scaling and a warmup-cosine
    # schedule, as the default space may give, come to ~200 characters)
    assert "\n" not in short and len(short) < 250
    assert short.startswith(f"TunedConfig(study='{SHOWN}', trial={best.trial_number}, ")
    assert f"epochs={best.epochs}" in short
    assert "optimizer" not in short  # not the 1 KB dataclass repr


def test_best_epoch_is_one_based_wherever_it_shows(result: Result) -> None:
    trials = result.trials.set_index("number")
    for trial in result.study.trials:
        values = trial.intermediate_values  # the objective after each epoch, keyed 0-based
        first_best = min(values, key=lambda step: (values[step], step))
        assert best_epoch(trial.user_attrs) == first_best + 1
        assert trials.loc[trial.number, "best_epoch"] == first_best + 1
        assert 1 <= first_best + 1 <= trial.user_attrs["epochs_run"]
    best = result.study.best_trial
    # 3-epoch trials are too short to tell noise from the curve: the export trains to the best epoch
    assert result.best.epochs == best_epoch(best.user_attrs)


@pytest.mark.parametrize(
    ("attrs", "want"),
    [
        ({"best_epoch": 0}, 1),
        ({"best_epoch": 4}, 5),
        ({"best_epoch": None}, None),
        ({}, None),
        ({"best_epoch": True}, None),
        ({"best_epoch": -1}, None),
        ({"best_epoch": "3"}, None),
    ],
)
def test_best_epoch_reads_the_stored_zero_based_index(attrs: dict[str, Any], want: Any) -> None:
    assert best_epoch(attrs) == want
