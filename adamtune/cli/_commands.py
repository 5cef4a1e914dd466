"""The CLI's commands. Each takes parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from adamtune.cli._targets import load_target

__all__ = ["cmd_export", "cmd_search", "cmd_spaces", "cmd_status", "open_result"]


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a scheduler, ``kill``) ends the run like Ctrl-C: the running trial is closed as
    failed, never left RUNNING, and the same command continues the study."""

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM stops at once
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def cmd_search(args: argparse.Namespace) -> int:
    from adamtune._search import _default_study_name
    from adamtune.cli._workers import spawn_workers, split_threads

    _sigterm_as_interrupt()
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1. Received: {args.workers}")
    if args.workers > 1:
        if args.storage is None or "://" not in args.storage or args.strategy.startswith("kt-"):
            raise ValueError(
                "--workers needs an Optuna storage URL shared by every process, such as "
                "--storage sqlite:///adamtune.db or postgresql://..., and an Optuna strategy"
            )
        os.environ.update(split_threads(args.workers))  # before TensorFlow loads
    model_fn = load_target(args.model, "MODEL")
    data = load_target(args.data, "--data")()
    study_name = args.study or _default_study_name(model_fn)
    helpers = (
        spawn_workers(args.workers - 1, args.storage, study_name, args.workers)
        if args.workers > 1
        else []
    )
    try:
        return _search_here(args, model_fn, data, study_name)
    finally:
        for proc in helpers:
            proc.wait()


def _search_here(args: argparse.Namespace, model_fn: Any, data: Any, study_name: str) -> int:
    import adamtune

    result = adamtune.search(
        model_fn,
        data,
        space=args.space,
        strategy=args.strategy,
        objective=args.objective,
        trials=args.trials,
        timeout=args.timeout,
        epochs=args.epochs,
        storage=args.storage,
        study_name=study_name,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
        record={"targets": {"model": args.model, "data": args.data}},
    )
    if args.out:
        path = result.export(args.out)
        print(f"wrote {path}")
    best = result.best
    print(f"best {best.objective}={best.value:.6g} (trial {best.trial_number}): {best.params}")
    return 0


def open_result(storage: str, study: str) -> Any:
    """The Result of a stored study: an Optuna storage URL, or a KerasTuner folder."""
    from adamtune.engine import META_KEY, KerasTunerStudy, open_storage
    from adamtune.result import Result

    if "://" not in storage:
        folder = Path(storage) / study
        meta_file = folder / "adamtune.json"
        if not meta_file.is_file():
            raise ValueError(f"no adamtune study {study!r} in folder {storage!r}")
        meta = json.loads(meta_file.read_text())[META_KEY]
        return Result(KerasTunerStudy(None, storage, study, meta).view(), meta)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        loaded = optuna.load_study(study_name=study, storage=open_storage(storage))
    except KeyError:
        raise ValueError(f"no study {study!r} in this storage") from None
    meta = loaded.user_attrs.get(META_KEY)
    if meta is None:
        raise ValueError(f"study {study!r} was not created by adamtune")
    return Result(loaded, meta)


def status_dict(result: Any, storage: str) -> dict[str, Any]:
    from adamtune.engine import mask_url

    trials = result.study.trials
    states = Counter(t.state.name for t in trials)
    running = [
        {"number": t.number, "since": t.datetime_start.isoformat() if t.datetime_start else None}
        for t in trials
        if t.state.name == "RUNNING"
    ]
    failures = Counter(
        str(t.user_attrs.get("error", "")).split(":")[0] for t in trials if t.state.name == "FAIL"
    )
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best: dict[str, Any] | None = None
    if complete:  # read from the stored attributes: status needs no TensorFlow
        top = result.study.best_trial
        attrs = top.user_attrs
        best = {
            "value": top.value,
            "trial": top.number,
            "params": {**attrs.get("adam", {}), **attrs.get("user_params", {})},
        }
    return {
        "study": result.study.study_name,
        "storage": mask_url(storage),
        "objective": result.meta["objective"],
        "direction": result.meta["direction"],
        "states": dict(states),
        "outcomes": dict(result.outcomes),
        "failures": dict(failures),
        "running": running,
        "best": best,
    }


def cmd_status(args: argparse.Namespace) -> int:
    info = status_dict(open_result(args.storage, args.study), args.storage)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"study {info['study']} in {info['storage']}: {info['objective']} ({info['direction']})")
    print("trials: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(info["states"].items())))
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(info["outcomes"].items())))
    for error, n in info["failures"].items():
        print(f"failed: {n} x {error}")
    for r in info["running"]:
        print(f"running: trial {r['number']} since {r['since']}")
    best = info["best"]
    print(
        "best: none yet"
        if best is None
        else f"best: {best['value']:.6g} (trial {best['trial']}) {best['params']}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    result = open_result(args.storage, args.study)
    out = Path(args.output)
    if args.format and out.suffix.lower().lstrip(".") not in (args.format, "yml"):
        raise ValueError(
            f"--format {args.format} does not match the suffix of -o {args.output!r}; "
            f"use -o tuned.{args.format}"
        )
    print(f"wrote {result.export(out)}")
    return 0


def cmd_spaces(args: argparse.Namespace) -> int:
    import adamtune
    from adamtune.spaces import available

    if args.action in (None, "list"):
        for name in available():
            space = adamtune.load_space(name)
            print(f"{name:12s} {space.description}")
        return 0
    if not args.target:
        raise ValueError(f"`adamtune spaces {args.action}` needs a space name or file")
    space = adamtune.load_space(args.target)
    if args.action == "show":
        sys.stdout.write(space.to_yaml())
    else:
        print(f"{args.target}: valid space {space.name!r}")
    return 0
