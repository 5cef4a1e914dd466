"""Several processes on one study: ``adamtune worker`` and ``adamtune search --workers N``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from adamtune.cli._targets import load_target

__all__ = ["cmd_worker", "spawn_workers", "split_threads"]


def split_threads(workers: int) -> dict[str, str]:
    """TensorFlow/OpenMP thread settings that share this machine's cores among ``workers``."""
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    return {
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": threads,
    }


def spawn_workers(
    count: int, storage: str, study: str, workers: int
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` ``adamtune worker`` processes that join ``study`` once it exists."""
    env = {**os.environ, **split_threads(workers)}
    cmd = [
        sys.executable,
        "-m",
        "adamtune",
        "worker",
        "--storage",
        storage,
        "--study",
        study,
        "--wait",
        "600",
        "-q",
    ]
    return [subprocess.Popen(cmd, env=env) for _ in range(count)]


def _wait_for_run(storage: str, study: str, wait: float) -> tuple[dict[str, Any], dict[str, Any]]:
    import optuna

    from adamtune._search import RUN_KEY
    from adamtune.engine import META_KEY, open_storage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    the_storage = open_storage(storage)
    deadline = time.monotonic() + wait
    while True:
        try:
            attrs = optuna.load_study(study_name=study, storage=the_storage).user_attrs
        except KeyError:
            attrs = {}
        if META_KEY in attrs and RUN_KEY in attrs:
            return attrs[META_KEY], attrs[RUN_KEY]
        if time.monotonic() >= deadline:
            raise ValueError(
                f"no adamtune study {study!r} in this storage"
                + (f" after waiting {wait:g} s" if wait else "")
                + "; start it with `adamtune search`, or pass --wait"
            )
        time.sleep(1.0)


def cmd_worker(args: argparse.Namespace) -> int:
    import adamtune
    from adamtune.spaces import Space

    if "://" not in args.storage:
        raise ValueError("workers join Optuna studies: `--storage` must be a storage URL")
    meta, run = _wait_for_run(args.storage, args.study, args.wait)
    targets = run.get("targets")
    if not targets:
        raise ValueError(
            f"study {args.study!r} was started from Python, not by `adamtune search`, so it holds "
            "no MODEL/--data targets for a worker to load; run the search from the CLI"
        )
    adamtune.search(
        load_target(targets["model"], "stored MODEL"),
        load_target(targets["data"], "stored --data")(),
        space=Space.from_dict(meta["space"], f"study {args.study!r}"),
        strategy=meta["strategy"],
        objective=meta["objective"],
        direction=meta["direction"],
        epochs=meta["epochs"],
        trials=run["trials"],
        storage=args.storage,
        study_name=args.study,
        loss=meta["loss"],
        metrics=meta["metrics"],
        seed=args.seed,
        verbose=0 if args.quiet else 2,
        record=run,
    )
    return 0
