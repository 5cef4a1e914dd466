"""search(lr_range="auto"): the LR range test narrows the learning rate once, stored for resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import mlp

import adamtune


def test_auto_lr_range_narrows_the_space_once_and_resumes_with_it(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    options: dict[str, Any] = dict(
        space="quick",
        epochs=2,
        storage=f"sqlite:///{tmp_path / 'n.db'}",
        study_name="n",
        lr_range="auto",
        verbose=1,
    )
    result: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=2, **options)
    record = result.meta["lr_range"]
    low, high = record["after"]
    assert record["before"] == [1e-4, 1e-1]
    assert 1e-4 <= low < high <= 1e-1 and [low, high] != record["before"]
    assert result.meta["space"]["learning_rate"]["low"] == low
    for trial in result.study.trials:
        assert low <= trial.params["base_learning_rate"] <= high
    assert "LR range test (batch 32, scaling standard): suggests" in capsys.readouterr().err

    again: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=3, **options)
    assert again.meta["lr_range"] == record  # reused from the study, not measured again
    assert "LR range test" not in capsys.readouterr().err
    assert len(again.study.trials) == 3


def test_lr_range_is_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"`lr_range` must be None or 'auto'.*Received: lr_range='on'"
    ):
        adamtune.search(
            lambda: None,
            (np.zeros((4, 2)), np.zeros(4)),
            lr_range="on",
            storage=f"sqlite:///{tmp_path / 'x.db'}",
        )
    assert not (tmp_path / "x.db").exists()
