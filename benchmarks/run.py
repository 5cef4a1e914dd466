"""adamtune against KerasTuner, Optuna scripts and Keras defaults, side by side in one run.

    python benchmarks/run.py --suite standard --out benchmarks/results/standard.json

writes the JSON (records, per-task tables, paired comparisons and the ``summary`` object), a
markdown table beside it (``.md``, ``tables.py``) and two PNGs per task (``<out stem>-plots/``:
``<task>.png``, the best score so far against budget, and ``<task>-survival.png``, the share of
seeds at the target; ``plots.py``). Jobs run in ``--jobs`` fresh processes (one TensorFlow thread
each); every finished job is written to the JSON at once, and running the same command again skips
the jobs already there. The oracle grid is run once per task and seed and cached in
``benchmarks/oracle.json`` (a task file's beside ``--out``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import job
import machine
import summary
import tasks
import tools
from plots import plot
from tables import markdown

HERE = Path(__file__).resolve().parent
ORACLE_CACHE = HERE / "oracle.json"


@dataclass(frozen=True)
class Suite:
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    budget_fre: float
    checkpoints: tuple[float, ...]
    tools: tuple[str, ...] = tuple(tools.TOOLS)
    retrain_seeds: int = 3  # fresh retrainings of each exported config, each scored on test
    about: str = ""


# The strongest peers: what the standard suite (the README's tables) runs adamtune against.
STRONGEST = (
    "adamtune",
    "kt-hyperband",
    "kt-random",
    "optuna-tpe-hyperband",
    "optuna-qmc",
    "first-trial-only",
)
STANDARD_TASKS = (
    "mnist-cnn",
    "italy-gru",
    "tokens-embedding",
    "digits",
    "digits-badscale",
    "regression-1e4",
)
SUITES = {
    "smoke": Suite(
        ("digits",),
        (0,),
        2,
        (1, 2),
        ("adamtune", "keras-defaults", "kt-random"),
        retrain_seeds=1,
        about="proves the harness in about a minute",
    ),
    "quick": Suite(
        ("digits-badscale", "regression-1e4", "mnist-cnn", "italy-gru", "tokens-embedding"),
        (0,),
        3,
        (1, 3),
        retrain_seeds=1,
        about="every tool once on one task of each family (tabular, regression, CNN, GRU, "
        "Embedding): a smoke test of the harness, too few seeds for any claim",
    ),
    "standard": Suite(
        STANDARD_TASKS,
        tuple(range(10)),
        20,
        (5, 10, 20),
        STRONGEST,
        about="the README's tables: six tasks (three realistic, one well-scaled, two that adamtune's "
        "heuristics were designed on), 10 paired seeds, 20 FRE, the strongest peers",
    ),
    "schedules": Suite(
        ("transformer-postln",),
        tuple(range(6)),  # 6: the fewest pairs a verdict is given on (metrics.MIN_PAIRS)
        8,
        (4, 8),
        (
            "adamtune",
            "adamtune-schedules",
            "adamtune-default-schedule",
            "optuna-tpe-hyperband",
            "kt-hyperband",
            "keras-defaults",
        ),
        retrain_seeds=2,
        about="issue 19: a post-LN Transformer (the warmup case), adamtune with schedules, warmup, "
        "Nadam and clipping, and with the default space's schedule choice, against constant-rate "
        "adamtune and the strongest peers, 6 seeds",
    ),
    "default-schedule": Suite(
        STANDARD_TASKS,
        tuple(range(6)),
        20,
        (5, 10, 20),
        ("adamtune", "adamtune-default-schedule"),
        retrain_seeds=2,
        about="issue 19: what the default space's schedule choice (a constant rate, or a cosine "
        "decay after warmup) costs or gains on the standard suite's six tasks, against "
        "constant-rate adamtune, 6 paired seeds",
    ),
    "confirm": Suite(
        ("italy-gru", "digits"),
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune", "adamtune-confirm"),
        about="issue 20: each new best run once more with another seed and the best judged by "
        "its mean (search(confirm=1)), against adamtune as it ships, on the task whose exported "
        "configs retrained worst across seeds (italy-gru) and the one it trails at 5-20 FRE "
        "(digits), the standard suite's 10 paired seeds",
    ),
    "levers": Suite(
        ("mnist-cnn", "italy-gru", "tokens-embedding", "digits"),
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune-sha", "adamtune-lr-range"),
        about="issue 20: two levers, each alone, on the four held-out tasks: asynchronous "
        "successive halving from 1 epoch instead of Hyperband's brackets (adamtune-sha), the "
        "LR range test as a warm start, counted in the budget (adamtune-lr-range); "
        "cross_pair.py reads them against the standard suite's adamtune and peers, 10 seeds",
    ),
    "levers-design": Suite(
        ("digits-badscale", "regression-1e4"),
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune-lr-range", "adamtune-range-asha"),
        about="issue 20: the levers suite's LR range test on the two tasks adamtune's heuristics "
        "were designed on, and the range test with ASHA's rungs together (run on the four "
        "held-out tasks with --suite levers --tools adamtune-range-asha); cross_pair.py reads "
        "them against the standard suite's adamtune and peers, 10 seeds",
    ),
    "range-start": Suite(
        ("mnist-cnn", "italy-gru", "tokens-embedding", "digits"),
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune-range-start",),
        about="issue 20: the first trial at the middle of the LR range test's suggestion "
        "(first_trials='lr-range') instead of the textbook rate, on the four held-out tasks; "
        "cross_pair.py reads it against the standard suite's adamtune (the same search with "
        "the textbook start) and its peers, 10 seeds",
    ),
    "range-start-design": Suite(
        ("digits-badscale", "regression-1e4"),
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune-range-start",),
        about="issue 20: the range-start suite's first trial at the middle of the LR range test's "
        "suggestion on the two tasks adamtune's heuristics were designed on (the regression one "
        "replaces its targets' RMS rule), 10 seeds",
    ),
    "third-rung": Suite(
        STANDARD_TASKS,
        tuple(range(10)),
        20,
        (5, 10, 20),
        ("adamtune-third-rung",),
        about="issue 20: adamtune as it ships with a pruner rung a third into the first epoch "
        "(pruner='asha-third') on the standard suite's six tasks; cross_pair.py reads it against "
        "the standard suite's adamtune (the same search with asha) and its peers, 10 seeds",
    ),
    "full": Suite(
        tuple(tasks.TASKS),
        tuple(range(10)),
        50,
        (5, 10, 20, 50),
        about="every task and tool, 50 FRE: for a bigger machine",
    ),
}


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _start_fork_server() -> None:
    """Start the fork server with ``worker_preload`` imported. Python 3.11's server ignores this
    process's ``sys.path`` while it preloads (and skips a module it cannot import without a
    word), so this folder goes on its ``PYTHONPATH``, for its start only."""
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(["worker_preload"])
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), before) if p)
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def _pool(jobs: int, preloaded: bool = True) -> ProcessPoolExecutor:
    """A fresh process per job: no tool inherits another's graphs, threads or memory
    (``max_tasks_per_child`` is Python 3.11+, as the benchmark's environment is).

    ``preloaded``: each job's process is forked from a server that imported TensorFlow, Keras,
    Optuna, KerasTuner and adamtune once (``worker_preload``), before any of them ran anything;
    a spawned process imports them itself (6.0 s for the imports alone on the 2-core VM), outside
    every job's timing. Measured on digits, 3 pairs: ~4.3 s less per job, in-job walls unchanged.
    The standard suite's jobs took 113.9 min after this against 147.3 before (that second run
    also named the Optuna studies). The systems part keeps spawn."""
    context: multiprocessing.context.BaseContext = multiprocessing.get_context("spawn")
    if preloaded:
        context = multiprocessing.get_context("forkserver")
        _start_fork_server()
    return ProcessPoolExecutor(  # type: ignore[call-overload]
        max_workers=jobs, mp_context=context, max_tasks_per_child=1
    )


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(path)  # a crash never leaves half a file


def oracle_cache(out: Path, task_file: str | None) -> Path:
    """Built-in tasks share ``benchmarks/oracle.json``; a task file's go beside ``--out``."""
    return ORACLE_CACHE if task_file is None else out.with_name(out.stem + "-oracle.json")


def ensure_oracle(
    suite: Suite, jobs: int, cache_path: Path = ORACLE_CACHE, task_file: str | None = None
) -> dict[str, dict[str, Any]]:
    cache = _load(cache_path)

    def stale(task: str, seed: int) -> bool:
        """Not computed yet, by another grid, or for a task whose full run has changed."""
        found = cache.get(task, {}).get(str(seed), {})
        epochs = tasks.get(task, task_file).epochs
        return found.get("grid") != job.ORACLE_VERSION or found.get("epochs") != epochs

    missing = [(t, s) for t in suite.tasks for s in suite.seeds if stale(t, s)]
    if missing:
        runs = sum(job.oracle_size(tasks.get(t, task_file).scalings) for t, _ in missing)
        _say(
            f"oracle grid for {len(missing)} task/seed pairs (about {runs} full runs), cached "
            f"in {cache_path}"
        )
        started = time.perf_counter()
        with _pool(jobs) as pool:
            futures = {pool.submit(job.run_oracle, t, s, task_file): (t, s) for t, s in missing}
            for done, future in enumerate(as_completed(futures), 1):
                record = future.result()
                # Read again before writing: another run may have added pairs meanwhile.
                cache = _load(cache_path)
                cache.setdefault(record["task"], {})[str(record["seed"])] = record
                _write(cache_path, cache)
                left = (time.perf_counter() - started) / done * (len(missing) - done)
                _say(
                    f"oracle {done}/{len(missing)}: {record['task']} seed {record['seed']} "
                    f"({record['seconds']:.0f} s; about {left / 60:.0f} min left)"
                )
    # Only the suite's seeds: the cache may hold more (another suite's), which would move targets.
    return {t: {str(s): cache[t][str(s)] for s in suite.seeds} for t in suite.tasks}


def run_jobs(
    suite: Suite, out: Path, jobs: int, task_file: str | None = None
) -> tuple[list[dict[str, Any]], float]:
    """Every (task, seed, tool) job not yet in ``out``; returns the records and the minutes the
    jobs took, summed over every run that added to the file (a resumed suite counts them all)."""
    data = _load(out)
    before = float(data.get("jobs_minutes", 0.0))
    records: list[dict[str, Any]] = [
        r for r in data.get("records", []) if data.get("budget_fre") == suite.budget_fre
    ]
    done = {(r["task"], r["seed"], r["tool"]) for r in records}
    todo = [
        (t, s, tool)
        for s in suite.seeds
        for t in suite.tasks
        for tool in suite.tools
        if (t, s, tool) not in done
    ]
    if done:
        _say(f"{len(done)} jobs already in {out}; running the other {len(todo)}")
    started = time.perf_counter()
    with _pool(jobs) as pool:
        futures: dict[Future[dict[str, Any]], tuple[str, int, str]] = {
            pool.submit(
                job.run_tool, t, s, tool, suite.budget_fre, suite.retrain_seeds, task_file
            ): (t, s, tool)
            for t, s, tool in todo
        }
        for n, future in enumerate(as_completed(futures), 1):
            record = future.result()
            records.append(record)
            minutes = before + (time.perf_counter() - started) / 60
            _write(out, {**partial(data, suite.budget_fre, records), "jobs_minutes": minutes})
            left = (time.perf_counter() - started) / n * (len(todo) - n)
            _say(
                f"{n}/{len(todo)} {record['tool']} on {record['task']} seed {record['seed']}: "
                f"{record['wall_seconds']:.0f} s, test {record['test_score']:.3f}"
                + (f", error {record['error']}" if record["error"] else "")
                + f" (about {left / 60:.0f} min left)"
            )
    return records, before + (time.perf_counter() - started) / 60


def _systems(suite_name: str, workdir: Path) -> dict[str, Any]:
    from systems import measure_systems

    return measure_systems(suite_name, workdir, log=_say)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--no-systems", action="store_true", help="skip overhead/RSS/workers")
    parser.add_argument(
        "--task-file",
        type=Path,
        help="run the suite's seeds, budgets and tools on the tasks of this Python file (its "
        "TASKS: a list of benchmarks.tasks.Task) instead of the suite's own",
    )
    parser.add_argument(
        "--oracle-only",
        action="store_true",
        help="run (or finish) the oracle grid of the suite's tasks and seeds, then stop",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the tables, summary and plots from --out without running anything",
    )
    parser.add_argument(
        "--systems-only",
        action="store_true",
        help="measure the systems numbers again (on an idle machine) and rebuild from --out",
    )
    parser.add_argument(
        "--redo",
        help="comma-separated tools of the suite whose jobs in --out run again (after a fix to "
        "how that tool runs); the other jobs are kept, the systems numbers too with "
        "--no-systems (else measured again), and the file's `runs` lists every run that wrote it; "
        "a redo stopped midway resumes with the same command without --redo",
    )
    parser.add_argument(
        "--tools",
        help="comma-separated tools instead of the suite's (ablations: "
        + ", ".join(tools.EXTRA)
        + ")",
    )
    parser.add_argument(
        "--tasks",
        help="comma-separated tasks of the suite to run, instead of all of them (the suite's "
        "seeds, budget and tools otherwise)",
    )
    return parser


def _suite_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Suite:
    """The chosen suite, with ``--tools``, ``--task-file`` and ``--tasks`` applied (refused when
    unknown); rebuilding a file (``--report-only``, ``--systems-only``) without ``--tasks`` keeps
    the tasks it was run on."""
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    suite = SUITES[args.suite]
    if args.tools:
        chosen = tuple(t.strip() for t in args.tools.split(",") if t.strip())
        known = {**tools.TOOLS, **tools.EXTRA}
        unknown = [t for t in chosen if t not in known]
        if unknown or not chosen:
            parser.error(
                f"--tools: unknown {unknown or args.tools!r}; choose from {', '.join(known)}"
            )
        suite = dataclasses.replace(suite, tools=chosen)
    if args.task_file is not None:
        try:
            found = tasks.load_task_file(args.task_file)
        except (ValueError, TypeError) as exc:
            parser.error(f"--task-file: {exc}")
        suite = dataclasses.replace(suite, tasks=tuple(found))
    if args.tasks is not None:
        subset = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
        outside = [t for t in subset if t not in suite.tasks]
        if outside or not subset:
            parser.error(
                f"--tasks: {', '.join(outside) or repr(args.tasks)} not in the suite's tasks; "
                f"choose from {', '.join(suite.tasks)}"
            )
        suite = dataclasses.replace(suite, tasks=subset)
    elif args.report_only or args.systems_only:
        # a file run with --tasks is rebuilt on its own tasks, not with empty tables for the rest
        written = tuple(_load(args.out).get("tasks") or ())
        if written and set(written) < set(suite.tasks):
            suite = dataclasses.replace(suite, tasks=written)
    if args.redo is not None:
        redo = [t.strip() for t in args.redo.split(",") if t.strip()]
        if not redo or any(t not in suite.tools for t in redo):
            parser.error(
                f"--redo: {args.redo!r} is not a list of the suite's tools; choose from "
                f"{', '.join(suite.tools)}"
            )
        if args.report_only or args.systems_only:
            parser.error("--redo runs jobs: it cannot go with --report-only or --systems-only")
        if not _load(args.out).get("records"):
            parser.error(f"--redo: {args.out} holds no finished run to redo jobs of")
    return suite


def _calibrate(when: str) -> dict[str, Any]:
    """Time the machine (``machine.calibrate``) in a job's kind of process: one TensorFlow
    thread, the libraries preloaded."""
    _say(f"timing the machine {when} the jobs: " + ", ".join(machine.CALIBRATION_TASKS))
    with _pool(1) as pool:
        timed: dict[str, Any] = pool.submit(machine.calibrate).result()
    return timed


def drop_jobs(out: Path, redo: list[str]) -> dict[str, Any]:
    """Remove ``redo``'s records from ``out`` (so that the run after this does them again) and
    return the file as it was. Its ``jobs_minutes`` restarts at 0: the dropped jobs' time is no
    longer in it, and the earlier runs' times stay in ``runs``."""
    previous = _load(out)
    kept = [r for r in previous["records"] if r["tool"] not in redo]
    pending = {"tools": redo, "kept": len(kept)}  # a resume after a crash finishes this redo
    _write(
        out,
        {
            **previous,
            "records": kept,
            "jobs_minutes": 0.0,
            "runs": runs_of(previous),
            "redoing": pending,
        },
    )
    return previous


def partial(
    data: dict[str, Any], budget_fre: float, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """What ``out`` holds while jobs run: the records so far, and what a resumed run (the same
    command after a crash or a stop, without ``--redo``) needs from the file it started on: the
    earlier runs, the systems figures (a ``--no-systems`` run keeps them) and an unfinished
    redo."""
    kept: dict[str, Any] = {k: data[k] for k in ("runs", "systems", "redoing") if k in data}
    return {**kept, "suite": "partial", "budget_fre": budget_fre, "records": records}


def previous_of(out: Path, reuse: bool, redo: list[str]) -> dict[str, Any]:
    """The file this run builds on: ``out`` as it is (a rebuild, or a resumed run: its systems
    and runs carry over), or, for ``--redo``, as it was before ``redo``'s records were dropped."""
    return drop_jobs(out, redo) if redo and not reuse else _load(out)


def what_is_redone(
    previous: dict[str, Any], reuse: bool, redo: list[str]
) -> tuple[list[str], int, bool]:
    """The tools this run redoes, how many of the file's records were there before its jobs,
    and whether it resumes a redo that stopped: a resumed redo is written down as that redo,
    with every job it ran across the stop."""
    pending = None if (reuse or redo) else previous.get("redoing")
    if pending is not None:
        return list(pending["tools"]), int(pending["kept"]), True
    kept = [r for r in previous.get("records", []) if r["tool"] not in redo]
    return redo, len(kept), False


def runs_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every run that wrote a suite's file (a file older than ``runs``: its one run)."""
    if "runs" in data:
        return list(data["runs"])
    if not data.get("command"):
        return []
    return [
        {
            "command": data["command"],
            "wall_minutes": data.get("wall_minutes"),
            "jobs_minutes": data.get("jobs_minutes"),
            "jobs": len(data.get("records", [])),
            "redo": [],
        }
    ]


def _tables(
    suite: Suite, records: list[dict[str, Any]], oracle: dict[str, Any], kinds: dict[str, str]
) -> dict[str, Any]:
    return {
        t: summary.per_task(
            [r for r in records if r["task"] == t],
            oracle[t],
            kinds[t],
            list(suite.tools),
            list(suite.checkpoints),
            suite.budget_fre,
        )
        for t in suite.tasks
    }


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    suite = _suite_of(args, parser)
    task_file = None if args.task_file is None else str(args.task_file.resolve())
    chosen = {t: tasks.get(t, task_file) for t in suite.tasks}
    # Set before any worker starts (spawned workers inherit it): TensorFlow's start-up chatter off.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    oracle = ensure_oracle(suite, args.jobs, oracle_cache(args.out, task_file), task_file)
    if args.oracle_only:
        _say(f"oracle ready for {len(suite.tasks)} tasks x {len(suite.seeds)} seeds")
        return 0
    reuse = args.report_only or args.systems_only
    redo = [] if args.redo is None else [t.strip() for t in args.redo.split(",") if t.strip()]
    previous = previous_of(args.out, reuse, redo)
    history = runs_of(previous)
    redone, done_before, resumed = what_is_redone(previous, reuse, redo)
    if reuse:
        records, jobs_minutes = previous["records"], float(previous.get("jobs_minutes", 0.0))
    else:
        speed = _calibrate("before")
        records, jobs_minutes = run_jobs(suite, args.out, args.jobs, task_file)
        speed = {**machine.describe(), "before": speed, "after": _calibrate("after")}
    systems: dict[str, Any] = previous.get("systems", {})
    if args.systems_only or not (args.no_systems or args.report_only):
        _say("systems: overhead over bare fit, RSS over 100 trials, 1 vs 2 workers")
        # A fresh folder: a study left by an earlier run would already be at its target.
        with (
            _pool(1, preloaded=False) as pool,
            tempfile.TemporaryDirectory(prefix="adamtune-systems-") as workdir,
        ):
            systems = pool.submit(_systems, args.suite, Path(workdir)).result()

    kinds = {t: task.kind for t, task in chosen.items()}
    tables = _tables(suite, records, oracle, kinds)
    peers = [p for p in tools.PEERS if p in suite.tools]
    paired = {
        t: summary.paired(
            [r for r in records if r["task"] == t], kinds[t], peers, list(suite.checkpoints)
        )
        for t in suite.tasks
    }
    result: dict[str, Any] = {
        "suite": args.suite,
        "about": suite.about,
        "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "task_file": task_file,
        "seeds": list(suite.seeds),
        "budget_fre": suite.budget_fre,
        "checkpoints": list(suite.checkpoints),
        "retrain_seeds": suite.retrain_seeds,
        "tools": list(suite.tools),
        "jobs": args.jobs,
        "task_kinds": kinds,
        "task_design": {t: task.design for t, task in chosen.items()},
        "task_about": {t: task.about for t, task in chosen.items()},
        "oracle": oracle,
        "tasks": tables,
        "systems": systems,
        "paired": paired,
        "summary": summary.summarize(tables, peers, systems, kinds, paired),
        "wall_minutes": (time.perf_counter() - started) / 60,
        "jobs_minutes": jobs_minutes,
        "records": records,
    }
    if reuse:  # the run's own command and duration, not this rebuild's
        result["command"] = previous.get("command", result["command"])
        result["wall_minutes"] = previous.get("wall_minutes", result["wall_minutes"])
        result["runs"] = history
    else:
        this = {
            "command": result["command"],
            "wall_minutes": result["wall_minutes"],
            "jobs_minutes": jobs_minutes,
            "jobs": len(records) - done_before,
            "redo": redone,
            **({"resumed": True} if resumed else {}),
            "machine": speed,
        }
        result["runs"] = [*history, this]
    result["verdicts"] = summary.verdicts(result["summary"])
    _write(args.out, result)
    args.out.with_suffix(".md").write_text(markdown(result))
    plots = plot(result, records, args.out.parent / f"{args.out.stem}-plots")
    _say(f"wrote {args.out}, {args.out.with_suffix('.md')} and {len(plots)} plots")
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
