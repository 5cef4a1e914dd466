"""search(lr_range="auto"): the LR range test narrows the learning rate once, stored for resumes."""

from __future__ import annotations

import re
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
    assert re.search(
        r"note: LR range test \(batch 32, scaling standard, \d+ steps\): suggests .*; the "
        r"learning rate is searched in .* instead of 0\.0001\.\.0\.1",
        capsys.readouterr().err,
    )

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


def test_auto_lr_range_prepares_and_checks_once(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With lr_range="auto", the LR range test takes the search's prepared data and the loss its
    pre-flight settled: the data is prepared once and the model checked once (before: twice
    each). model_fn is called three times, as before: the pre-flight's model, the test's own
    (seeded, untouched by the pre-flight's batch) and the one trial's."""
    import adamtune.data
    import adamtune.data._data
    import adamtune.training._check

    calls = {"model_fn": 0, "prepare_data": 0, "resolve_loss_spec": 0}

    def counted(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    prepare = counted("prepare_data", adamtune.data._data.prepare_data)
    monkeypatch.setattr(adamtune.data._data, "prepare_data", prepare)
    monkeypatch.setattr(adamtune.data, "prepare_data", prepare)
    resolve = counted("resolve_loss_spec", adamtune.training._check.resolve_loss_spec)
    monkeypatch.setattr(adamtune.training._check, "resolve_loss_spec", resolve)

    def model_fn() -> Any:
        calls["model_fn"] += 1
        return mlp(64, 10)

    result: Any = adamtune.search(
        model_fn,
        digits,
        trials=1,
        epochs=1,
        space="quick",
        storage=f"sqlite:///{tmp_path / 'c.db'}",
        study_name="c",
        lr_range="auto",
        verbose=0,
    )
    assert "lr_range" in result.meta
    assert calls == {"model_fn": 3, "prepare_data": 1, "resolve_loss_spec": 1}


def test_auto_lr_range_opens_the_storage_once(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings a resume would hold are read through the engine (``stored_settings``), and
    the storage opened for it is the one the study runs on: the URL is opened once per call
    (before issue 16's change: twice, once to look and once to run), on a new study and on a
    resumed one alike."""
    import adamtune.engine._storage

    opened: list[Any] = []
    real = adamtune.engine._storage.open_storage

    def counting(url: Any, **kwargs: Any) -> Any:
        if isinstance(url, str):
            opened.append(url)
        return real(url, **kwargs)

    monkeypatch.setattr(adamtune.engine._storage, "open_storage", counting)
    url = f"sqlite:///{tmp_path / 'o.db'}"
    options: dict[str, Any] = dict(
        epochs=1, space="quick", storage=url, study_name="o", lr_range="auto", verbose=0
    )
    adamtune.search(lambda: mlp(64, 10), digits, trials=1, **options)
    assert opened == [url]
    opened.clear()
    again: Any = adamtune.search(lambda: mlp(64, 10), digits, trials=2, **options)
    assert opened == [url]
    assert len(again.study.trials) == 2
