"""benchmarks/retrain_epochs.py: a stored run's config retrained at its exported and at its full
epochs, with the paired difference (NOTES.md section 12)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def retrain_epochs(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("retrain_epochs", None)
    import retrain_epochs

    return retrain_epochs


def _record(seed: int, exported: int) -> dict[str, Any]:
    config = {
        "learning_rate": 3e-3,
        "batch_size": 64,
        "regularizer": "none",
        "strength": 0.0,
        "batch_norm": False,
        "scaling": "standard",
    }
    return {
        "task": "digits",
        "tool": "adamtune",
        "seed": seed,
        "config": config,
        "exported_epochs": exported,
        "retrain_seeds": [seed + 1000],
    }


def test_it_retrains_each_run_at_both_lengths_and_pairs_them(
    retrain_epochs: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "r.json"
    records = [_record(0, 1), _record(1, 6), {**_record(2, 1), "tool": "kt-random"}]
    results.write_text(json.dumps({"records": records}))
    out = tmp_path / "out.json"
    argv = ["--results", str(results), "--task", "digits", "--out", str(out)]
    assert retrain_epochs.main(argv) == 0
    kept = json.loads(out.read_text())
    first, second = kept["rows"]
    assert (first["seed"], first["exported"], sorted(first)) == (
        0,
        1,
        ["at_1", "at_6", "exported", "seed"],
    )
    assert sorted(second) == ["at_6", "exported", "seed"]  # exported the full 6: trained once
    assert all(0.0 <= s <= 1.0 for s in (*first["at_1"], *first["at_6"], *second["at_6"]))
    summary = kept["summary"]
    assert summary["runs"] == 2 and summary["cut_short"] == 1
    # one epoch of an MLP on digits against six: the full length scores higher
    assert first["at_6"][0] > first["at_1"][0]
    assert summary["difference"] == pytest.approx(
        (first["at_6"][0] - first["at_1"][0]) / 2, abs=1e-4
    )
    assert summary["higher_lower_same"] == [1, 0, 1]
    printed = capsys.readouterr().out.splitlines()
    assert json.loads(printed[-1])["cut_short"] == 1


def test_a_task_the_file_has_no_run_of_is_refused(
    retrain_epochs: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"records": [_record(0, 2)]}))
    with pytest.raises(SystemExit):
        retrain_epochs.main(["--results", str(results), "--task", "italy-gru"])
    assert "holds no run of adamtune on italy-gru" in capsys.readouterr().err
