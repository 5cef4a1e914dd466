"""The CLI's commands. Each takes parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from adamtune._util import check_study_name
from adamtune.cli._targets import load_model_and_data

__all__ = [
    "cmd_export",
    "cmd_search",
    "cmd_spaces",
    "cmd_status",
    "open_result",
    "parse_class_weight",
]


def cmd_search(args: argparse.Namespace) -> int:
    from adamtune._search import _default_study_name
    from adamtune._studylog import StudyLog, log_path
    from adamtune.cli._lifecycle import check_lifecycle, run_recycled
    from adamtune.cli._signals import adopt_children, handle_interrupts
    from adamtune.cli._workers import (
        HELPERS_ENV,
        parse_devices,
        spawn_workers,
        wait_for,
        worker_env,
    )
    from adamtune.engine import DEFAULT_STORAGE, open_storage

    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1. Received: {args.workers}")
    if args.study is not None:  # before --workers > 1 creates the storage and starts workers
        check_study_name(args.study, "--study")
    kerastuner = args.strategy.startswith("kt-")
    if args.workers > 1 and (kerastuner or (args.storage and "://" not in args.storage)):
        from adamtune.engine import mask_url

        raise ValueError(
            "--workers shares one Optuna study between processes: use an Optuna strategy "
            "(not kt-*) and a storage URL (sqlite:///, journal:///, postgresql://). Received: "
            f"--strategy {args.strategy} --storage {mask_url(str(args.storage))}"
        )
    check_lifecycle(args)
    # This process is worker 0: its threads and device are set before TensorFlow loads.
    os.environ.update(worker_env(0, args.workers, parse_devices(args.devices)))
    model_fn, data = load_model_and_data(args)
    study_name = args.study or _default_study_name(model_fn)
    storage = args.storage or (None if kerastuner else DEFAULT_STORAGE)
    log = StudyLog(log_path(storage, study_name, kerastuner=kerastuner))

    def search(seconds: float | None) -> Any:
        return _search_here(args, model_fn, data, study_name, storage, seconds)

    with handle_interrupts():
        # A restarted search (see _lifecycle) adopts the workers its first image started.
        inherited = os.environ.get(HELPERS_ENV)
        if inherited is not None:
            helpers = [int(pid) for pid in inherited.split(",") if pid]
        elif args.workers > 1:
            open_storage(storage, heartbeat=args.heartbeat)  # its tables exist before workers
            helpers = spawn_workers(args, storage or DEFAULT_STORAGE, study_name)
        else:
            helpers = []
        adopt_children(helpers)
        try:
            result = run_recycled(args, search, log, {HELPERS_ENV: ",".join(map(str, helpers))})
        finally:
            wait_for(helpers)
            log.close()
    if args.out:
        print(f"wrote {result.export(args.out)}")
    best = result.best
    print(f"best {best.objective}={best.value:.6g} (trial {best.trial_number}): {best.params}")
    return 0


def _search_here(
    args: argparse.Namespace,
    model_fn: Any,
    data: Any,
    study_name: str,
    storage: str | None,
    seconds: float | None,
) -> Any:
    import adamtune

    return adamtune.search(
        model_fn,
        data,
        space=args.space,
        strategy=args.strategy,
        objective=args.objective,
        trials=args.trials,
        timeout=seconds,
        epochs=args.epochs,
        storage=storage,
        study_name=study_name,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
        record={"targets": {"model": args.model, "data": args.data}},
        heartbeat=args.heartbeat,
        class_weight=parse_class_weight(args.class_weight),
        steps_per_epoch=args.steps_per_epoch,
    )


def parse_class_weight(text: str | None) -> Any:
    """``--class-weight``: None, ``"balanced"``, or ``"0:1,1:9"`` as ``{0: 1.0, 1: 9.0}``."""
    if text is None or text == "balanced":
        return text
    weights: dict[int, float] = {}
    try:
        for pair in text.split(","):
            key, value = pair.split(":")
            weights[int(key)] = float(value)
    except ValueError:
        raise ValueError(
            "--class-weight must be 'balanced' or CLASS:WEIGHT pairs separated by commas, such "
            f"as 0:1,1:9. Received: --class-weight {text!r}"
        ) from None
    return weights


def open_result(storage: str, study: str) -> Any:
    """The Result of a stored study: an Optuna storage URL, or a KerasTuner folder."""
    from adamtune.engine import META_KEY, KerasTunerStudy, open_storage
    from adamtune.result import Result

    if "://" not in storage:
        folder = Path(storage) / check_study_name(study, "--study")
        meta_file = folder / "adamtune.json"
        if not meta_file.is_file():
            raise ValueError(f"no adamtune study {study!r} in folder {storage!r}")
        meta = json.loads(meta_file.read_text())[META_KEY]
        return Result(KerasTunerStudy(None, storage, study, meta).view(), meta)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # Looking at a study never creates nor repairs its storage: a missing file is refused.
    the_storage = open_storage(storage, readonly=True)
    try:
        loaded = optuna.load_study(study_name=study, storage=the_storage)
    except KeyError:
        raise ValueError(f"no study {study!r} in this storage") from None
    meta = loaded.user_attrs.get(META_KEY)
    if meta is None:
        raise ValueError(f"study {study!r} was not created by adamtune")
    return Result(loaded, meta)


def _worker_name(who: Any) -> str | None:
    return f"{who.get('host')}:{who.get('pid')}" if isinstance(who, dict) else None


def status_dict(result: Any, storage: str) -> dict[str, Any]:
    from adamtune.engine import mask_url

    trials = result.study.trials
    states = Counter(t.state.name for t in trials)
    running = [
        {
            "number": t.number,
            "since": t.datetime_start.isoformat() if t.datetime_start else None,
            "worker": _worker_name(t.user_attrs.get("worker")),
        }
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
            "changes": list(attrs.get("changes") or []),
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
        print(f"running: trial {r['number']} since {r['since']} on {r['worker'] or '?'}")
    best = info["best"]
    print(
        "best: none yet"
        if best is None
        else f"best: {best['value']:.6g} (trial {best['trial']}) {best['params']}"
    )
    for change in (best or {}).get("changes", []):
        print(f"  adamtune changed: {change}")
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
