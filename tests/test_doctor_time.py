"""benchmarks/doctor_time.py: the doctor's wall time on the healthy digits setup, out of the unit
tests (a timed assertion there failed under load) and into the benchmark."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import doctor_time


def test_one_diagnosis_prints_one_json_line_of_what_it_took_and_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert doctor_time.main(["--once", "--epochs=1", "--no-lr-range"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line: dict[str, Any] = json.loads(lines[0])
    assert line["seconds"] > 0
    assert (line["epochs"], line["lr_range"], line["ok"]) == (1, False, True)
    assert line["probes"]["training"] == "ran" and line["probes"]["lr_range"] == "skipped"


def test_the_summary_judges_the_median_against_the_target() -> None:
    runs = [{"seconds": s, "ok": True} for s in (5.0, 30.0, 6.0)]
    summary = doctor_time.summarize(runs)
    assert summary == {
        "runs": 3,
        "median_seconds": 6.0,
        "fastest_seconds": 5.0,
        "slowest_seconds": 30.0,
        "target_seconds": doctor_time.TARGET_SECONDS,
        "met": True,
        "all_ok": True,
    }
    assert doctor_time.summarize([{"seconds": 25.0, "ok": False}])["met"] is False
    with pytest.raises(ValueError, match="no runs to summarize"):
        doctor_time.summarize([])


@pytest.mark.parametrize("argv", [["--repeat=0"], ["--once", "--epochs=0"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        doctor_time.main(argv)
