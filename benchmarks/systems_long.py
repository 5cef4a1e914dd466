"""Does a long study slow down? One ``adamtune search`` CLI study of many 1-epoch trials of the
systems MLP on digits (the default space and strategy), then, per window of trials, the rate at
which trials finished and the mean time inside a trial (start to end, as the storage recorded
them).

    python benchmarks/systems_long.py [--trials 400] [--workers 2] [--window 100] [--keep DIR]

Issue 20 measured 94 -> 70 trials a minute between trials 0-100 and 300-400 (1.26 -> 1.63 s inside
a trial) with 2 workers, and guessed that the sampler's or the storage's cost grows with the study.
On an idle machine this script found no decline by window, and what grows is TensorFlow's time
within a worker process between restarts (NOTES.md section 11).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from systems_setup import SEED, SUBPROCESS_ENV, TARGET_TEMPLATE

__all__ = ["main", "run_study", "windows"]

STUDY = "long"


def run_study(workdir: Path, trials: int, workers: int, extra: list[str]) -> tuple[str, float]:
    """Run the study to ``trials`` finished trials; its storage URL and the command's wall."""
    target = workdir / "long_target.py"
    target.write_text(TARGET_TEMPLATE.format(tile=1))
    storage = f"sqlite:///{workdir / 'long.db'}"
    command = [
        *(sys.executable, "-m", "adamtune", "search", f"{target}:build_model"),
        *("--data", f"{target}:load_data", "--storage", storage, "--study", STUDY),
        *("--trials", str(trials), "--epochs", "1", "--seed", str(SEED)),
        *("--workers", str(workers), "-q", *extra),
    ]
    env = {**os.environ, **SUBPROCESS_ENV}
    env.pop("ADAMTUNE_STORAGE", None)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return storage, wall


def windows(storage: str, size: int) -> list[dict[str, Any]]:
    """Per window of ``size`` trials (by number): finished trials per minute over the window's
    span of end times, and the mean and median seconds inside a trial."""
    import optuna

    study = optuna.load_study(study_name=STUDY, storage=storage)
    trials = sorted(
        (t for t in study.get_trials(deepcopy=False) if t.datetime_complete is not None),
        key=lambda t: t.number,
    )
    rows = []
    for lo in range(0, len(trials), size):
        chunk = trials[lo : lo + size]
        if len(chunk) < 2:
            break
        ends = sorted(t.datetime_complete.timestamp() for t in chunk)  # type: ignore[union-attr]
        inside = [
            (t.datetime_complete - t.datetime_start).total_seconds()  # type: ignore[operator]
            for t in chunk
        ]
        span = ends[-1] - ends[0]
        rows.append(
            {
                "trials": f"{chunk[0].number}-{chunk[-1].number}",
                "per_minute": round(60 * (len(chunk) - 1) / span, 1) if span > 0 else None,
                "inside_seconds": round(statistics.mean(inside), 3),
                "inside_median": round(statistics.median(inside), 3),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep its storage")
    parser.add_argument("extra", nargs="*", help="more `adamtune search` options, after --")
    args = parser.parse_args(argv)
    if args.trials < 2 * args.window:
        parser.error(f"--trials must be at least twice --window; got {args.trials}, {args.window}")
    with tempfile.TemporaryDirectory(prefix="adamtune-long-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        storage, wall = run_study(workdir, args.trials, args.workers, args.extra)
        rows = windows(storage, args.window)
    print(f"{args.trials} trials, {args.workers} workers: {wall / 60:.1f} min")
    print("| trials | finished per minute | mean s inside a trial | median |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['trials']} | {row['per_minute']} | {row['inside_seconds']} | "
            f"{row['inside_median']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
