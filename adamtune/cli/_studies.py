"""``adamtune studies``: the studies in a storage, one line each. Reads only what is stored: no
TensorFlow, and nothing is created or written."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from adamtune.cli._where import is_folder, kt_meta, kt_study_names, storage_args

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


def _row(
    name: str,
    engine: str,
    meta: dict[str, Any] | None,
    states: Counter[str],
    values: list[tuple[int, float]],
    direction: str | None,
    last: datetime | None,
) -> dict[str, Any]:
    meta = meta or None
    return {
        "study": name,
        "adamtune": meta is not None,
        "engine": engine,
        "strategy": meta.get("strategy") if meta else None,
        "objective": meta.get("objective") if meta else None,
        "direction": direction,
        "trials": dict(sorted(states.items())),
        "best": _best(values, direction),
        "last_activity": _stamp(last),
    }


def _optuna_rows(storage: str) -> list[dict[str, Any]]:
    from optuna.trial import TrialState

    from adamtune.engine import META_KEY, open_storage

    the_storage = open_storage(storage, readonly=True)
    rows = []
    for frozen in sorted(the_storage.get_all_studies(), key=lambda s: s.study_name):
        meta = frozen.user_attrs.get(META_KEY)
        study_id = the_storage.get_study_id_from_name(frozen.study_name)
        trials = the_storage.get_all_trials(study_id, deepcopy=False)
        one = len(frozen.directions) == 1
        direction = (
            meta.get("direction") if meta else (frozen.direction.name.lower() if one else None)
        )
        values = [
            (t.number, t.values[0])
            for t in trials
            if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == 1
        ]
        times = [d for t in trials for d in (t.datetime_start, t.datetime_complete) if d]
        states = Counter(t.state.name for t in trials)
        rows.append(
            _row(
                frozen.study_name,
                "optuna",
                meta,
                states,
                values,
                direction,
                max(times, default=None),
            )
        )
    return rows


def _kerastuner_rows(folder: str) -> list[dict[str, Any]]:
    from adamtune.engine import KerasTunerStudy

    rows = []
    for name in kt_study_names(folder):
        meta = kt_meta(folder, name) or {}
        study = KerasTunerStudy(None, folder, name, meta)
        records = study.records()
        values = [
            (int(r["number"]), float(r["value"]))
            for r in records
            if r.get("state") == "COMPLETE" and r.get("value") is not None
        ]
        files = [*study.records_dir.glob("trial_*.json"), Path(folder) / name / "adamtune.json"]
        stamps = [f.stat().st_mtime for f in files if f.is_file()]
        last = datetime.fromtimestamp(max(stamps)) if stamps else None
        states = Counter(str(r.get("state")) for r in records)
        direction = meta.get("direction")
        rows.append(_row(name, "kerastuner", meta or None, states, values, direction, last))
    return rows


def study_rows(storage: str) -> list[dict[str, Any]]:
    """One dict per study in ``storage`` (resolved and existing), sorted by name."""
    return _kerastuner_rows(storage) if is_folder(storage) else _optuna_rows(storage)


def _cells(row: dict[str, Any]) -> list[str]:
    engine = row["engine"] + (f"/{row['strategy']}" if row["strategy"] else "")
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
