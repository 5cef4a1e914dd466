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
from adamtune.cli._where import open_result

__all__ = [
    "cmd_export",
    "cmd_search",
    "cmd_spaces",
    "cmd_status",
    "open_result",
    "parse_class_weight",
]


def cmd_search(args: argparse.Namespace) -> int:
    from adamtune._errors import SearchAborted
    from adamtune._search_args import default_study_name
    from adamtune.cli._finish import save_best_so_far, where_it_went
    from adamtune.cli._workers import parse_devices, worker_env
    from adamtune.engine import engine_for

    _check_search_args(args)
    # This process is worker 0: its threads and device are set before TensorFlow loads.
    os.environ.update(worker_env(0, args.workers, parse_devices(args.devices)))
    storage = engine_for(args.strategy).default_storage(args.storage)
    study_name: str | None = args.study
    try:
        model_fn, data = load_model_and_data(args)
        study_name = args.study or default_study_name(model_fn)
        result = _run_search(args, model_fn, data, study_name, storage)
    except (KeyboardInterrupt, SearchAborted):
        if args.output:  # the night's work is not lost with the last trial
            save_best_so_far(args.output, storage, study_name)
        raise
    if args.output:
        print(f"wrote {result.export(args.output)}")
    best, judged = result.best, result.judged
    how = f"trial {best.trial_number}"
    if judged is not None and judged.repeated:  # --confirm: the mean of its runs
        how = "mean of " + ", ".join(f"trial {n}: {v:.6g}" for n, v in judged.runs)
    print(f"best {best.objective}={best.value:.6g} ({how}): {best.params}")
    for line in where_it_went(args, storage, study_name):
        print(line)
    return 0


def _check_search_args(args: argparse.Namespace) -> None:
    """Everything `adamtune search` can refuse before it loads anything."""
    from adamtune.cli._finish import check_output
    from adamtune.cli._lifecycle import check_lifecycle
    from adamtune.cli._where import is_folder
    from adamtune.engine import engine_for, mask_url

    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1. Received: {args.workers}")
    if args.study is not None:  # before --workers > 1 creates the storage and starts workers
        check_study_name(args.study, "--study")
    engine = engine_for(args.strategy)
    if not engine.folder and args.storage and is_folder(args.storage):
        raise ValueError(
            f"--storage for the {args.strategy} strategy (Optuna) must be a storage URL, or a "
            "path to a SQLite (.db, .sqlite, .sqlite3) or journal (.log, .jsonl) file; a folder "
            f"holds KerasTuner studies (--strategy kt-*). Received: --storage {args.storage}"
        )
    if args.workers > 1 and not engine.parallel:
        raise ValueError(
            "--workers shares one Optuna study between processes: use an Optuna strategy "
            "(not kt-*) and a storage URL (sqlite:///, journal:///, postgresql://). Received: "
            f"--strategy {args.strategy} --storage {mask_url(str(args.storage))}"
        )
    check_output(args.output)  # before the night, not after it
    check_lifecycle(args)


def _run_search(
    args: argparse.Namespace,
    model_fn: Any,
    data: Any,
    study_name: str,
    storage: str,
) -> Any:
    """The search, with this machine's helper workers, under the Ctrl-C handlers."""
    from adamtune._studylog import StudyLog, log_path
    from adamtune.cli._lifecycle import run_recycled
    from adamtune.cli._signals import adopt_children, handle_interrupts
    from adamtune.cli._workers import HELPERS_ENV, spawn_workers, wait_for
    from adamtune.engine import open_storage

    log = StudyLog(log_path(storage, study_name))

    def search(seconds: float | None) -> Any:
        return _search_here(args, model_fn, data, study_name, storage, seconds)

    with handle_interrupts():
        # A restarted search (see _lifecycle) adopts the workers its first image started.
        inherited = os.environ.get(HELPERS_ENV)
        if inherited is not None:
            helpers = [int(pid) for pid in inherited.split(",") if pid]
        elif args.workers > 1:
            open_storage(storage, heartbeat=args.heartbeat)  # its tables exist before workers
            helpers = spawn_workers(args, storage, study_name)
        else:
            helpers = []
        adopt_children(helpers)
        try:
            return run_recycled(args, search, log, {HELPERS_ENV: ",".join(map(str, helpers))})
        finally:
            wait_for(helpers)
            log.close()


def _search_here(
    args: argparse.Namespace,
    model_fn: Any,
    data: Any,
    study_name: str,
    storage: str,
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
        confirm=args.confirm,
        pruner=args.pruner,
        lr_range=None if args.lr_range == "off" else args.lr_range,
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


def _worker_name(who: Any) -> str | None:
    return f"{who.get('host')}:{who.get('pid')}" if isinstance(who, dict) else None


def status_dict(result: Any, storage: str) -> dict[str, Any]:
    from adamtune.engine import mask_url
    from adamtune.result import TrialRecord

    trials = result.study.trials
    records = [(t, TrialRecord.from_attrs(t.user_attrs)) for t in trials]
    states = Counter(t.state.name for t in trials)
    running = [
        {
            "number": t.number,
            "since": t.datetime_start.isoformat() if t.datetime_start else None,
            "worker": _worker_name(record.worker),
        }
        for t, record in records
        if t.state.name == "RUNNING"
    ]
    failures = Counter(  # an interrupted trial is not a failure: its outcome says it
        (record.error or "").split(":")[0]
        for t, record in records
        if t.state.name == "FAIL" and not record.interrupted
    )
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best: dict[str, Any] | None = None
    judged = result.judged if complete else None
    if judged is not None:  # read from the stored attributes: status needs no TensorFlow
        top = judged.trial
        stored = TrialRecord.from_attrs(top.user_attrs)
        best = {
            "value": judged.value,
            "trial": top.number,
            "runs": [list(run) for run in judged.runs],
            "params": {**(stored.adam or {}), **(stored.user_params or {})},
            "adam": dict(stored.adam or {}),
            "user_params": dict(stored.user_params or {}),
            "changes": list(stored.changes or ()),
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
    from adamtune.result import adam_words, number, user_words, wrapped

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
    if best is None:
        print("best: none yet")
        return 0
    adam = best["adam"]
    words = [
        f"learning_rate={number(adam.get('learning_rate'))}",
        f"batch_size={number(adam.get('batch_size'))}",
        *adam_words(adam),
        *user_words(best["user_params"]),
    ]
    runs = best["runs"]
    how = f"trial {best['trial']}"
    if len(runs) > 1:
        how = "mean of " + ", ".join(f"trial {n}: {v:.6g}" for n, v in runs)
    print(f"best: {info['objective']}={best['value']:.6g} ({how})")
    for line in wrapped("  settings: ", ", ".join(words)):
        print(line)
    for change in best["changes"]:
        for line in wrapped("  adamtune changed: ", change):
            print(line)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from adamtune.cli._finish import check_output, config_text

    output = None if args.output in (None, "-") else str(args.output)
    fmt = args.format
    if output is not None:
        check_output(output)
        suffix = Path(output).suffix.lower().lstrip(".")
        if fmt is not None and suffix not in ((fmt, "yml") if fmt == "yaml" else (fmt,)):
            raise ValueError(
                f"--format {fmt} does not match the suffix of -o {output!r}: the suffix picks the "
                f"format. Use -o {Path(output).stem}.{fmt}, or leave out --format. Received: "
                f"--format {fmt} -o {output}"
            )
    result = open_result(args.storage, args.study)
    if output is None:  # standard output: the config alone, for a pipe or a redirect
        sys.stdout.write(config_text(result.best, fmt or "json"))
        return 0
    print(f"wrote {result.export(output)}")
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
