"""benchmarks/stream_overhead.py: one search per data form prints one JSON line of trial seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import stream_overhead

KEYS = {
    "form",
    "trials",
    "epochs",
    "batch_size",
    "learning_rate",
    "scaling",
    "seed",
    "threads",
    "trial_seconds",
    "per_trial_seconds",
    "mean_trial_seconds",
    "total_trial_seconds",
    "search_seconds",
    "epochs_run",
    "outcomes",
    "best_val_loss",
}


@pytest.mark.slow  # a benchmark run per form; CI runs it in the slow pass
@pytest.mark.parametrize("form", stream_overhead.FORMS)
def test_one_run_prints_one_json_line_of_positive_trial_seconds(
    form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stream_overhead.main([f"--form={form}", "--trials=1", "--epochs=1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line: dict[str, Any] = json.loads(lines[0])
    assert set(line) == KEYS
    assert (line["form"], line["trials"], line["epochs"]) == (form, 1, 1)
    assert len(line["trial_seconds"]) == 1 and line["trial_seconds"][0] > 0
    assert line["per_trial_seconds"] == line["total_trial_seconds"] == line["trial_seconds"][0]
    # the trial's own time, not the search's pre-flight or the process's start-up
    assert 0 < line["total_trial_seconds"] < line["search_seconds"]
    assert line["epochs_run"] == [1]


def test_paired_modes_are_refused_together() -> None:
    with pytest.raises(SystemExit):
        stream_overhead.main(["--repeat=1", "--interleave=1"])
