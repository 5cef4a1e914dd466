"""Several processes on one study: ``adamtune worker`` and ``adamtune search --workers N``."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from adamtune._util import check_study_name
from adamtune.cli._targets import load_target

__all__ = ["cmd_worker", "parse_devices", "spawn_workers", "split_threads", "worker_env"]

HELPERS_ENV = "ADAMTUNE_HELPER_PIDS"
# Kept alive: a Popen object that is garbage-collected gets its process reaped by the subprocess
# module, and its exit code would be lost to `wait_for`.
_spawned: list[subprocess.Popen[bytes]] = []


def split_threads(workers: int) -> dict[str, str]:
    """TensorFlow/OpenMP thread settings that share this machine's cores among ``workers``."""
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    return {
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": threads,
    }


def parse_devices(text: str | None) -> list[str] | None:
    """``"0,1,3"`` -> ``["0", "1", "3"]``: GPU indices as ``CUDA_VISIBLE_DEVICES`` takes them."""
    if text is None:
        return None
    devices = [part.strip() for part in text.split(",")]
    if not devices or not all(d.isdigit() for d in devices) or len(set(devices)) != len(devices):
        raise ValueError(
            "--devices must list distinct GPU indices separated by commas, such as 0,1,2,3. "
            f"Received: --devices {text!r}"
        )
    return devices


def worker_env(index: int, workers: int, devices: list[str] | None) -> dict[str, str]:
    """The environment of local worker ``index`` of ``workers``: its share of the CPU threads and,
    with ``devices``, one GPU of its own (round robin when there are more workers than GPUs),
    with TensorFlow's memory growth on so workers sharing a GPU do not each claim all of it."""
    env = split_threads(workers)
    if devices:
        env["CUDA_VISIBLE_DEVICES"] = devices[index % len(devices)]
        env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    return env


def spawn_workers(args: argparse.Namespace, storage: str, study: str) -> list[int]:
    """Start ``--workers - 1`` ``adamtune worker`` processes that join ``study`` once it exists.

    Each runs in its own session, so a Ctrl-C in the terminal reaches only the parent, which
    passes one SIGTERM on to each. Each knows this process's pid (``$ADAMTUNE_PARENT_PID``) and
    stops, its running trial closed, within a second or so of this process dying, ``kill -9``
    included (see :func:`adamtune.cli._signals.watch_parent`): no helper searches on
    unsupervised beside the set the next ``adamtune search`` starts.
    """
    from adamtune.cli._signals import PARENT_ENV

    devices = parse_devices(args.devices)
    cmd = [  # the storage URL goes in the environment: `ps` shows command lines to everyone
        *(sys.executable, "-m", "adamtune", "worker", "--study", study),
        *("--model", args.model, "--data", args.data),  # this process's, never the storage's
        *("--wait", "600", "--heartbeat", str(args.heartbeat), "-q"),
        *("--recycle-after", str(args.recycle_after), "--recycle-rss", str(args.recycle_rss)),
    ]
    extra = {"ADAMTUNE_STORAGE": storage, PARENT_ENV: str(os.getpid())}
    if args.deadline is not None:
        extra["ADAMTUNE_DEADLINE"] = str(args.deadline)
    started = [
        subprocess.Popen(
            cmd,
            env={**os.environ, **worker_env(index, args.workers, devices), **extra},
            start_new_session=True,
        )
        for index in range(1, args.workers)
    ]
    _spawned.extend(started)
    return [proc.pid for proc in started]


def wait_for(pids: list[int]) -> None:
    """Wait for worker processes started by this process (or by the program it replaced), and
    say which of them failed."""
    for pid in pids:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # already reaped
            continue
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 130, -15):
            print(
                f"[adamtune] warning: worker process {pid} exited with code {code}; "
                "see its messages above",
                file=sys.stderr,
            )


def _wait_for_run(storage: str, study: str, wait: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The study's settings and its last search's record (trials target, MODEL and --data)."""
    from adamtune.cli._where import study_names, suggest
    from adamtune.engine import mask_url, wait_for_record

    stored = wait_for_record(storage, study, wait)
    if stored is not None:
        return stored
    names = study_names(storage, readonly=False)[0]
    raise ValueError(
        f"no adamtune study {study!r} in {mask_url(storage)}"
        + (f" after waiting {wait:g} s" if wait else "")
        + (suggest(study, names) or ".")
        + f" It holds: {', '.join(names) or 'no adamtune study'}. Start the study with "
        "`adamtune search`, or pass --wait SECONDS to wait for it"
    )


def _missing_storage(storage: str, study: str | None) -> None:
    """A worker that may not wait refuses a storage file that is not there: joining a study
    never creates its storage (``adamtune search`` does)."""
    from adamtune.engine import local_file

    path = local_file(storage)
    if path is not None and not path.exists():
        what = "adamtune study" + (f" {study!r}" if study is not None else "")
        raise ValueError(
            f"no {what}: there is no study storage at {path.absolute()} (no such file). Point "
            "--storage at the study's storage, start the study with `adamtune search`, or pass "
            "--wait SECONDS to wait for it"
        )


def _check_targets(args: argparse.Namespace) -> None:
    """The code a worker imports comes from its own command line, or from a storage it trusts.

    A study started by ``adamtune search`` records its MODEL and --data targets, so a worker can
    join with the storage and the study name alone. On a shared storage whoever can write to it
    would choose what the worker imports: there the targets must be given, or the storage trusted
    (``--trust-storage``, ``$ADAMTUNE_TRUST_STORAGE=1``). Checked before anything is opened.
    """
    from adamtune.engine import is_shared, mask_url
    from adamtune.strategies import storage_trusted

    if (args.model is None) != (args.data is None):
        raise ValueError(
            "`adamtune worker` takes --model and --data together (the MODEL and --data given to "
            f"`adamtune search`). Received: --model {args.model} --data {args.data}"
        )
    if args.model is None and is_shared(args.storage) and not storage_trusted():
        raise ValueError(
            f"the study's storage {mask_url(args.storage)} is shared, so the MODEL and --data "
            "targets recorded in it name code that anyone who can write to it chose; a worker "
            "imports them only from a storage it trusts. Pass --model and --data (the ones given "
            "to `adamtune search`), or --trust-storage"
        )


def _stored_class_weight(meta: dict[str, Any]) -> Any:
    """The ``search(class_weight=...)`` the study was started with (None when its space searches
    the weighting, or when it has none)."""
    from adamtune.data import ClassWeighting, class_weight_from_pairs

    stored = meta.get("class_weight")
    if not stored:
        return None
    weighting = ClassWeighting(stored["setting"], class_weight_from_pairs(stored["weights"]))
    return weighting.search_arg()


def _load_targets(args: argparse.Namespace, run: dict[str, Any]) -> tuple[Any, Any]:
    """The model_fn and data: from --model and --data, else from the targets the study's
    search recorded."""
    if args.model is not None:
        return load_target(args.model, "--model"), load_target(args.data, "--data")()
    targets = run.get("targets")
    if not targets:
        raise ValueError(
            f"study {args.study!r} was started from Python, not by `adamtune search`, so it "
            "holds no MODEL/--data targets for a worker to load; pass --model and --data, or "
            "run the search from the CLI"
        )
    return load_target(targets["model"], "stored MODEL"), load_target(
        targets["data"], "stored --data"
    )()


def _check_worker_args(args: argparse.Namespace) -> None:
    """Everything `adamtune worker` can refuse before it opens the storage."""
    from adamtune.cli._lifecycle import check_lifecycle
    from adamtune.engine import engine_for

    if not engine_for(storage=args.storage).parallel:
        raise ValueError(
            "workers join Optuna studies: --storage must be a storage URL or a path to its .db "
            f"or .log file, not a (KerasTuner) folder. Received: --storage {args.storage}"
        )
    if args.study is not None:
        check_study_name(args.study, "--study")  # search() would refuse it after the wait
    _check_targets(args)  # before the storage is opened
    check_lifecycle(args)
    if not args.wait:
        _missing_storage(args.storage, args.study)


def _preflight_for(environ: Mapping[str, str]) -> AbstractContextManager[None]:
    """A helper of ``adamtune search --workers N`` (it knows its parent's pid) skips the
    pre-flight's training batch, which that search ran on this machine with the same targets
    (:func:`adamtune.training.batch_trained_by_parent`); any other worker runs all of it."""
    from adamtune.cli._signals import PARENT_ENV
    from adamtune.training import batch_trained_by_parent

    return batch_trained_by_parent() if environ.get(PARENT_ENV) else contextlib.nullcontext()


def cmd_worker(args: argparse.Namespace) -> int:
    import adamtune
    from adamtune._studylog import StudyLog, log_path
    from adamtune.cli._lifecycle import run_recycled
    from adamtune.cli._signals import handle_interrupts, watch_parent
    from adamtune.cli._where import wait_for_study
    from adamtune.spaces import Space

    watch_parent()  # a helper of `adamtune search --workers N`: stop when that process is gone
    _check_worker_args(args)
    args.study = wait_for_study(args.storage, args.study, args.wait)
    # TensorFlow takes seconds to import: done while the study is still being created (the
    # parent's pre-flight), not after, so this worker's first trial starts that much sooner;
    # its start-up notices kept off the terminal (--tf-logs shows them).
    from adamtune._tfquiet import start_quietly

    start_quietly()

    meta, run = _wait_for_run(args.storage, args.study, args.wait)
    model_fn, data = _load_targets(args, run)
    space = Space.from_dict(meta["space"], f"study {args.study!r}")

    def search(seconds: float | None) -> Any:
        with _preflight_for(os.environ):
            return adamtune.search(
                model_fn,
                data,
                space=space,
                strategy=meta["strategy"],
                objective=meta["objective"],
                direction=meta["direction"],
                epochs=meta["epochs"],
                trials=run["trials"],
                timeout=seconds,
                storage=args.storage,
                study_name=args.study,
                loss=meta["loss"],
                metrics=meta["metrics"],
                seed=args.seed,
                verbose=0 if args.quiet else 2,
                record=run,
                heartbeat=args.heartbeat,
                class_weight=_stored_class_weight(meta),
                # A stream's epoch length is part of the study's data fingerprint: the same here.
                steps_per_epoch=meta.get("data", {}).get("steps_per_epoch"),
                confirm=meta.get("confirm", 0),  # the second runs of a new best, as the study asks
                # pruner=None: the pruner the study was made with, by name (engine.choose_pruner;
                # one made with a pruner object is said in a note, and pruned with the default)
                # the study's space is narrowed already, or was made without the test: said by
                # the process that created it, not again by every worker
                lr_range="auto" if "lr_range" in meta else None,
            )

    log = StudyLog(log_path(args.storage, args.study))
    try:
        with handle_interrupts():
            run_recycled(args, search, log)
    finally:
        log.close()
    return 0
