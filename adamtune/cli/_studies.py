"""``adamtune studies``: the studies in a storage, one line each. Reads only what is stored: no
TensorFlow, and nothing is created or written."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adamtune.cli._where import storage_args

if TYPE_CHECKING:
    from adamtune.engine import StudySummary

__all__ = ["add_parser", "cmd_studies", "study_rows"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``adamtune studies`` on the CLI's subparsers."""
    studies = sub.add_parser(
        "studies",
        help="list the studies in a storage: trials by state, best value, last activity",
        description="List the studies in a storage (an Optuna storage URL or file, or a "
        "KerasTuner folder): each one's engine and strategy, its trials by state, its best value "
        "with the objective and direction, and when a trial last started or finished.",
    )
    storage_args(studies, study=False)
    studies.add_argument("--json", action="store_true", help="machine-readable output")
    studies.set_defaults(func=cmd_studies)


def _stamp(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat(sep=" ", timespec="seconds")


def _best(values: list[tuple[int, float]], direction: str | None) -> dict[str, Any] | None:
    if not values or direction not in ("minimize", "maximize"):
        return None
    pick = min if direction == "minimize" else max
    number, value = pick(values, key=lambda pair: pair[1])
    return {"value": value, "trial": number}


def _pruner(engine: str, meta: dict[str, Any] | None) -> str | None:
    """The pruner an adamtune Optuna study resumes with: stored by name (a pruner object as
    ``<ClassName>``), or, stored by a study made before ``asha`` was the default, none, which
    is hyperband (``engine.UNSTORED_PRUNER``); None for other studies."""
    if meta is None or engine != "optuna":
        return None
    from adamtune.engine import UNSTORED_PRUNER

    return str(meta.get("pruner", UNSTORED_PRUNER))


def _row(summary: StudySummary) -> dict[str, Any]:
    meta = summary.meta or None
    return {
        "study": summary.name,
        "adamtune": meta is not None,
        "engine": summary.engine,
        "strategy": meta.get("strategy") if meta else None,
        "pruner": _pruner(summary.engine, meta),
        "objective": meta.get("objective") if meta else None,
        "direction": summary.direction,
        "trials": dict(sorted(summary.states.items())),
        "best": _best(summary.values, summary.direction),
        "last_activity": _stamp(summary.last_activity),
    }


def study_rows(storage: str) -> list[dict[str, Any]]:
    """One dict per study in ``storage`` (resolved and existing), sorted by name."""
    from adamtune.engine import study_summaries

    return [_row(summary) for summary in study_summaries(storage)]


def _cells(row: dict[str, Any]) -> list[str]:
    engine = row["engine"] + (f"/{row['strategy']}" if row["strategy"] else "")
    engine += f"+{row['pruner'].strip('<>')}" if row["pruner"] else ""
    if not row["adamtune"]:
        engine += " (not adamtune)"
    trials = ", ".join(f"{n} {state.lower()}" for state, n in row["trials"].items()) or "none"
    best = row["best"]
    if best is None:
        shown = "-"
    else:
        objective = f"{row['objective']} " if row["objective"] else ""
        shown = f"{objective}{best['value']:.6g} ({row['direction']}, trial {best['trial']})"
    return [row["study"], engine, trials, shown, row["last_activity"] or "-"]


def cmd_studies(args: argparse.Namespace) -> int:
    from adamtune.engine import mask_url

    rows = study_rows(args.storage)
    shown = mask_url(args.storage)
    if args.json:
        print(json.dumps({"storage": shown, "studies": rows}, indent=2))
        return 0
    if not rows:
        print(f"no studies in {shown}")
        return 0
    print(f"{len(rows)} {'study' if len(rows) == 1 else 'studies'} in {shown}")
    table = [["STUDY", "ENGINE/STRATEGY", "TRIALS", "BEST", "LAST ACTIVITY"]]
    table += [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0
