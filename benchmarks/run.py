"""adamtune against KerasTuner, Optuna scripts and Keras defaults, side by side in one run.

    python benchmarks/run.py --suite quick --out benchmarks/results/quick.json

writes the JSON (records, per-task tables and the ``summary`` object), a markdown table beside it
(``.md``) and one PNG of incumbent curves per task (``<out stem>-plots/``). Jobs run in ``--jobs``
fresh processes (one TensorFlow thread each); every finished job is written to the JSON at once,
and running the same command again skips the jobs already there. The oracle grid is run once per
task and seed and cached in ``benchmarks/oracle.json``.
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
import summary
import tasks
import tools

HERE = Path(__file__).resolve().parent
ORACLE_CACHE = HERE / "oracle.json"


@dataclass(frozen=True)
class Suite:
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    budget_fre: float
    checkpoints: tuple[float, ...]
    tools: tuple[str, ...] = tuple(tools.TOOLS)


SUITES = {
    "smoke": Suite(
        ("breast-cancer",), (0,), 2, (1, 2), ("adamtune", "keras-defaults", "kt-random")
    ),
    "quick": Suite(("digits-badscale", "breast-cancer", "regression-1e4"), (0, 1, 2), 5, (2, 5)),
    "full": Suite(tuple(tasks.TASKS), tuple(range(10)), 50, (5, 10, 20, 50)),
}


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _pool(jobs: int) -> ProcessPoolExecutor:
    # A fresh process per job: no tool inherits another's graphs, threads or memory.
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
    )


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(path)  # a crash never leaves half a file


def ensure_oracle(suite: Suite, jobs: int) -> dict[str, dict[str, Any]]:
    cache = _load(ORACLE_CACHE)
    grid = len(job.oracle_configs())
    missing = [
        (t, s)
        for t in suite.tasks
        for s in suite.seeds
        if cache.get(t, {}).get(str(s), {}).get("grid_points") != grid
    ]
    if missing:
        _say(f"oracle grid ({grid} full runs each) for {len(missing)} task/seed pairs")
        with _pool(jobs) as pool:
            futures = {pool.submit(job.run_oracle, t, s): (t, s) for t, s in missing}
            for done, future in enumerate(as_completed(futures), 1):
                record = future.result()
                cache.setdefault(record["task"], {})[str(record["seed"])] = record
                _write(ORACLE_CACHE, cache)
                _say(f"oracle {done}/{len(missing)}: {record['task']} seed {record['seed']}")
    return {t: cache[t] for t in suite.tasks}


def run_jobs(suite: Suite, out: Path, jobs: int) -> list[dict[str, Any]]:
    data = _load(out)
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
            pool.submit(job.run_tool, t, s, tool, suite.budget_fre): (t, s, tool)
            for t, s, tool in todo
        }
        for n, future in enumerate(as_completed(futures), 1):
            record = future.result()
            records.append(record)
            _write(out, {"suite": "partial", "budget_fre": suite.budget_fre, "records": records})
            left = (time.perf_counter() - started) / n * (len(todo) - n)
            _say(
                f"{n}/{len(todo)} {record['tool']} on {record['task']} seed {record['seed']}: "
                f"{record['wall_seconds']:.0f} s, test {record['test_score']:.3f}"
                + (f", error {record['error']}" if record["error"] else "")
                + f" (about {left / 60:.0f} min left)"
            )
    return records


def _systems(suite_name: str, workdir: Path) -> dict[str, Any]:
    from systems import measure_systems

    return measure_systems(suite_name, workdir, log=_say)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--no-systems", action="store_true", help="skip overhead/RSS/workers")
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
        "--tools",
        help="comma-separated tools instead of the suite's (ablations: "
        + ", ".join(tools.EXTRA)
        + ")",
    )
    args = parser.parse_args(argv)
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
    # Set before any worker starts (spawned workers inherit it): TensorFlow's start-up chatter off.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    oracle = ensure_oracle(suite, args.jobs)
    reuse = args.report_only or args.systems_only
    previous = _load(args.out) if reuse else {}
    records = previous.get("records") or run_jobs(suite, args.out, args.jobs)
    systems: dict[str, Any] = previous.get("systems", {})
    if args.systems_only or not (args.no_systems or args.report_only):
        _say("systems: overhead over bare fit, RSS over 100 trials, 1 vs 2 workers")
        # A fresh folder: a study left by an earlier run would already be at its target.
        with _pool(1) as pool, tempfile.TemporaryDirectory(prefix="adamtune-systems-") as workdir:
            systems = pool.submit(_systems, args.suite, Path(workdir)).result()

    cap = suite.budget_fre
    tables = {
        t: summary.per_task(
            [r for r in records if r["task"] == t],
            oracle[t],
            tasks.get(t).kind,
            list(suite.tools),
            list(suite.checkpoints),
            cap,
        )
        for t in suite.tasks
    }
    result: dict[str, Any] = {
        "suite": args.suite,
        "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "seeds": list(suite.seeds),
        "budget_fre": suite.budget_fre,
        "checkpoints": list(suite.checkpoints),
        "jobs": args.jobs,
        "task_kinds": {t: tasks.get(t).kind for t in suite.tasks},
        "oracle": oracle,
        "tasks": tables,
        "systems": systems,
        "summary": summary.summarize(tables, [p for p in tools.PEERS if p in suite.tools], systems),
        "wall_minutes": (time.perf_counter() - started) / 60,
        "records": records,
    }
    if reuse:  # the run's own command and duration, not this rebuild's
        result["command"] = previous.get("command", result["command"])
        result["wall_minutes"] = previous.get("wall_minutes", result["wall_minutes"])
    result["verdicts"] = summary.verdicts(result["summary"])
    _write(args.out, result)
    args.out.with_suffix(".md").write_text(summary.markdown(result))
    plots = summary.plot(result, records, args.out.parent / f"{args.out.stem}-plots")
    _say(f"wrote {args.out}, {args.out.with_suffix('.md')} and {len(plots)} plots")
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
