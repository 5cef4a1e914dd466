"""Every shipped space runs a real (one-trial, one-epoch) search and exports a config that loads."""

from __future__ import annotations

from pathlib import Path

import pytest

import adamtune
from adamtune.testing import conformance_data, conformance_model


@pytest.mark.parametrize("name", adamtune.spaces.available())
def test_every_shipped_space_runs_and_exports(name: str, tmp_path: Path) -> None:
    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space=name,
        epochs=1,
        trials=1,
        storage=f"sqlite:///{tmp_path / 's.db'}",
        seed=0,
        verbose=0,
        pruner="none",
    )
    (trial,) = result.study.trials
    assert trial.state.name in ("COMPLETE", "PRUNED"), trial.user_attrs
    space = adamtune.load_space(name)
    assert trial.user_attrs["adam"]["batch_size"] in space.batch_size
    if trial.state.name == "COMPLETE":
        cfg = adamtune.load_config(result.export(tmp_path / "tuned.yaml"))
        assert cfg.to_dict() == result.best.to_dict()
