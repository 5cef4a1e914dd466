"""The LR range test builds and checks its model once, through ``adamtune.training.check_model``,
and, given data a search prepared and the loss its pre-flight settled, prepares and checks nothing
a second time (issue 16: it used to repeat the pre-flight's steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import mlp

import adamtune


class _Counts:
    """Counts calls of model_fn and of the public steps the LR range test may repeat (as the layers
    above ``training`` and ``data`` call them: through the packages' public names)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import adamtune.data
        import adamtune.training

        self.calls = {"model_fn": 0, "check_model": 0, "prepare_data": 0, "labels_checked": 0}
        self.calls["prepare_input"] = 0
        check_model = adamtune.training.check_model
        prepare_data = adamtune.data.prepare_data
        prepare_input = adamtune.data.prepare_input

        def counted_check(*args: Any, **kwargs: Any) -> Any:
            self.calls["check_model"] += 1
            self.calls["labels_checked"] += kwargs.get("labels", True)
            return check_model(*args, **kwargs)

        def counted_prepare(*args: Any, **kwargs: Any) -> Any:
            self.calls["prepare_data"] += 1
            return prepare_data(*args, **kwargs)

        def counted_input(*args: Any, **kwargs: Any) -> Any:
            self.calls["prepare_input"] += 1
            return prepare_input(*args, **kwargs)

        monkeypatch.setattr(adamtune.training, "check_model", counted_check)
        monkeypatch.setattr(adamtune.data, "prepare_input", counted_input)
        monkeypatch.setattr(adamtune.data, "prepare_data", counted_prepare)

    def model_fn(self, unbuilt: bool = False) -> Any:
        import keras

        self.calls["model_fn"] += 1
        if unbuilt:  # no keras.Input: the check's call on two samples builds it
            return keras.Sequential(
                [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10, "softmax")]
            )
        return mlp(64, 10)


def _prepared(digits: tuple[np.ndarray, np.ndarray]) -> Any:
    from adamtune.data import prepare_data

    return prepare_data(digits, seed=0)


def _settled_loss(prepared: Any) -> Any:
    import keras

    from adamtune.spaces import load_space
    from adamtune.training import check_model

    try:
        check = check_model(lambda: mlp(64, 10), load_space("quick"), prepared, probe=True)
    finally:
        keras.backend.clear_session()
    return check.loss


@pytest.mark.parametrize("unbuilt", [False, True])
def test_given_prepared_data_and_a_settled_loss_the_model_is_built_once_and_nothing_redone(
    digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch, unbuilt: bool
) -> None:
    """One model_fn call, one check_model (with labels=False: the loss is settled), no data
    preparation: everything else was done by the caller."""
    prepared = _prepared(digits)
    loss = _settled_loss(prepared)
    counts = _Counts(monkeypatch)
    found = adamtune.lr_range_test(
        lambda: counts.model_fn(unbuilt), prepared, steps=20, space="quick", checked=loss
    )
    assert found.steps == 20
    assert counts.calls == {
        "model_fn": 1,
        "check_model": 1,
        "prepare_data": 0,
        "labels_checked": 0,
        "prepare_input": 0,
    }


def test_on_raw_data_the_model_is_built_and_checked_once(
    digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw data: prepared once, the model built once and checked once, labels included."""
    counts = _Counts(monkeypatch)
    found = adamtune.lr_range_test(counts.model_fn, digits, steps=20, space="quick")
    assert found.steps == 20
    assert counts.calls == {
        "model_fn": 1,
        "check_model": 1,
        "prepare_data": 1,
        "labels_checked": 1,
        "prepare_input": 0,
    }


def test_search_with_lr_range_auto_builds_the_model_once_per_use(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """search(lr_range="auto", trials=2) calls model_fn 2 + 2 = 4 times, and no fewer can do:
    the pre-flight builds one model and trains it a batch (so it cannot be the sweep's); the LR
    range test needs its own, freshly seeded (its numbers must not depend on the pre-flight's
    batch); each of the 2 trials builds its own (fresh weights for its parameters).

    The data is prepared once (the search's ``prepare_input``; the range test takes the result
    as it is) and the range test builds and calls its model through the public ``check_model``
    once, with ``labels=False``: the pre-flight settled the loss (its own check, inside
    ``training``, is counted in tests/test_narrow.py)."""
    counts = _Counts(monkeypatch)
    result: Any = adamtune.search(
        counts.model_fn,
        digits,
        trials=2,
        epochs=1,
        space="quick",
        storage=f"sqlite:///{tmp_path / 'b.db'}",
        study_name="b",
        lr_range="auto",
        verbose=0,
    )
    assert "lr_range" in result.meta
    assert len(result.study.trials) == 2
    assert counts.calls == {
        "model_fn": 2 + 2,
        "check_model": 1,
        "prepare_data": 0,
        "labels_checked": 0,
        "prepare_input": 1,
    }
