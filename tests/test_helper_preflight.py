"""A helper of ``adamtune search --workers N`` skips the pre-flight's training batch, which the
search that started it ran on the same machine with the same targets; every other caller, a
worker started by hand included, trains it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import mlp

from adamtune.cli._signals import PARENT_ENV
from adamtune.cli._workers import _preflight_for
from adamtune.data import prepare_data
from adamtune.spaces import load_space
from adamtune.training import batch_trained_by_parent, preflight


@pytest.fixture(scope="module")
def data() -> Any:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    return prepare_data((x, (x[:, 0] > 0).astype("int64")))


def _model() -> Any:
    return mlp(4, 2)


def test_the_batch_is_what_checks_the_objective_and_a_helper_does_not_train_it(data: Any) -> None:
    space = load_space("quick")
    # the batch's logs are where an objective the model does not log is found out
    with pytest.raises(ValueError, match=r"`objective` 'val_auc' is not logged by this model"):
        preflight(_model, space, data, "val_auc")
    with batch_trained_by_parent():
        report = preflight(_model, space, data, "val_auc")
    # the rest of the pre-flight still ran: the loss and the model's facts are there
    assert report.loss.loss["class_name"] == "SparseCategoricalCrossentropy"
    assert report.facts is not None
    # and the skip ends with the block
    with pytest.raises(ValueError, match="is not logged"):
        preflight(_model, space, data, "val_auc")


def test_only_a_process_started_by_a_local_search_skips_the_batch(data: Any) -> None:
    space = load_space("quick")
    with _preflight_for({PARENT_ENV: "4242"}):
        preflight(_model, space, data, "val_auc")  # no batch, so no objective check
    with _preflight_for({}), pytest.raises(ValueError, match="is not logged"):
        preflight(_model, space, data, "val_auc")  # `adamtune worker` by hand: all of it
