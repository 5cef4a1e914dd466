"""The KerasTuner engine: a killed study resumes, changed settings are refused, storage is a folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import adamtune
from adamtune.testing import conformance_data, conformance_model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import adamtune
from adamtune.testing import conformance_data, conformance_model
adamtune.search(conformance_model, conformance_data(), space="quick", epochs=2, trials=5,
                strategy="kt-random", storage=sys.argv[1], study_name="night", seed=0, verbose=0)
"""


def _records(storage: Path) -> dict[str, dict[str, object]]:
    folder = storage / "night" / "adamtune_trials"
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("trial_*.json"))}


@pytest.mark.slow
def test_a_killed_kerastuner_study_resumes_to_its_target(tmp_path: Path) -> None:
    storage = tmp_path / "kt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(storage)], env=env)
    deadline = time.monotonic() + 240
    try:
        while len(_records(storage) if storage.exists() else {}) < 2:
            assert proc.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = _records(storage)
    assert 2 <= len(before) < 5

    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space="quick",
        epochs=2,
        trials=5,
        strategy="kt-random",
        storage=str(storage),
        study_name="night",
        seed=0,
        verbose=0,
    )
    after = _records(storage)
    assert [t.number for t in result.study.trials] == list(range(len(after)))
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in result.study.trials) == 5
    assert all(after[name] == record for name, record in before.items())
    assert result.oracle is not None and not result.oracle.ongoing_trials
    ids = [record["kt_trial_id"] for record in after.values()]
    assert len(set(ids)) == len(ids), "a finished KerasTuner trial was run twice"


def test_a_changed_space_is_refused_for_a_kerastuner_study(tmp_path: Path) -> None:
    opts = dict(
        strategy="kt-random", storage=str(tmp_path / "kt"), study_name="s", verbose=0, epochs=1
    )
    adamtune.search(conformance_model, conformance_data(), space="quick", trials=1, **opts)
    with pytest.raises(adamtune.StudyMismatchError, match=r"space\.name: stored 'quick', now"):
        adamtune.search(conformance_model, conformance_data(), space="default", trials=2, **opts)


def test_kerastuner_storage_is_a_folder_and_pruners_are_refused(tmp_path: Path) -> None:
    data = conformance_data()
    with pytest.raises(ValueError, match=r"`storage` must be a folder path"):
        adamtune.search(
            conformance_model, data, strategy="kt-random", storage=f"sqlite:///{tmp_path / 'x.db'}"
        )
    with pytest.raises(ValueError, match=r"`pruner` applies to Optuna strategies"):
        adamtune.search(
            conformance_model,
            data,
            strategy="kt-hyperband",
            pruner="median",
            storage=str(tmp_path / "kt"),
        )
    assert not (tmp_path / "kt").exists() and not (tmp_path / "x.db").exists()


def test_an_oracle_instance_can_be_passed_directly(tmp_path: Path) -> None:
    import keras_tuner

    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_data_loss", "min"), max_trials=100, seed=1
    )
    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space="quick",
        epochs=1,
        trials=2,
        strategy=oracle,
        storage=str(tmp_path / "kt"),
        verbose=0,
    )
    assert result.oracle is oracle
    assert len(result.study.trials) == 2
    assert result.meta["strategy"] == "RandomSearchOracle"


def test_an_oracle_scoring_another_key_is_refused_before_any_work(tmp_path: Path) -> None:
    import keras_tuner

    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_loss", "min"), max_trials=10
    )
    with pytest.raises(ValueError, match=r"reports 'val_data_loss'; build it with keras_tuner"):
        adamtune.search(
            conformance_model,
            conformance_data(),
            space="quick",
            epochs=1,
            trials=1,
            strategy=oracle,
            storage=str(tmp_path / "kt"),
            verbose=0,
        )
    assert not (tmp_path / "kt").exists()


def test_a_finished_kerastuner_trial_is_not_run_again_on_resume(tmp_path: Path) -> None:
    """KerasTuner 1.4 saves its oracle before dropping the ended trial from ``ongoing_trials``."""
    opts = dict(
        space="quick",
        epochs=1,
        strategy="kt-random",
        storage=str(tmp_path / "kt"),
        study_name="r",
        verbose=0,
    )
    adamtune.search(conformance_model, conformance_data(), trials=1, **opts)
    oracle = json.loads((tmp_path / "kt" / "r" / "oracle.json").read_text())
    assert not oracle["ongoing_trials"]
    adamtune.search(conformance_model, conformance_data(), trials=2, **opts)
    folder = tmp_path / "kt" / "r" / "adamtune_trials"
    ids = [json.loads(p.read_text())["kt_trial_id"] for p in sorted(folder.glob("trial_*.json"))]
    assert ids == ["0000000000", "0000000001"]


@pytest.mark.parametrize("strategy", ["kt-random", "kt-bayesian", "kt-hyperband"])
def test_a_search_seed_gives_the_oracle_draws_that_repeat_and_differ_from_the_next_seed(
    strategy: str,
) -> None:
    """KerasTuner reads seed 0 as none and seeds draw n with seed + n: adamtune spreads seeds."""
    import keras_tuner

    from adamtune import strategies

    def draws(seed: int | None) -> list[float]:
        context = strategies.StrategyContext(adamtune.load_space("quick"), seed=seed)
        oracle = strategies.get(strategy, context)
        assert oracle.seed >= 1
        hps = keras_tuner.HyperParameters()
        hps.Float("lr", 1e-5, 1e-1, sampling="log")
        hp = hps.space[0]
        return [hp.random_sample(oracle.seed + n) for n in range(20)]

    assert draws(0) == draws(0)
    assert not set(draws(0)) & set(draws(1))
    assert draws(None) != draws(None)
