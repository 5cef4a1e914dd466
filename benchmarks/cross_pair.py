"""One tool of one results file against the best peer of another, paired by task and seed: an
ablation suite (such as ``confirm``) runs adamtune's variants only, and this reads its variant
against the peers the standard suite ran on the same tasks, seeds and budgets, with the suite's
own rule (``summary.paired``'s "best peer" rows: best mean for accuracy, best median for R^2; a
95% bootstrap interval).

    python benchmarks/cross_pair.py --tool-file results/confirm.json --tool adamtune-confirm \\
        --peers-file results/standard.json

``--against adamtune`` reads the tool against the peers file's ``adamtune`` instead (the
``ablation`` rows of a suite that did not run adamtune as it ships again, such as ``levers``).
With ``--tool adamtune`` it reads one file's adamtune against another's: a rerun after a change
in adamtune itself against the run before it (``rerun`` rows).

The two files were run on different days: a peer's numbers are its own run's, and the verdict is
only as good as the peers' runs repeating (NOTES.md section 8 says which did).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import metrics
import summary

__all__ = ["ablation_rows", "best_peer_rows", "main", "merged", "rerun_rows"]

# What ``--tool adamtune --against adamtune`` calls the tool file's adamtune in its rows.
RERUN = "adamtune (rerun)"


def best_peer_rows(tool_file: dict[str, Any], tool: str, peers_file: dict[str, Any]) -> list[Any]:
    """Per task of ``tool_file`` that ``peers_file`` also ran: ``tool``'s runs (as "adamtune")
    against ``peers_file``'s peers, at ``tool_file``'s checkpoints and on test."""
    peers = [t for t in peers_file["tools"] if t != "adamtune"]
    rows = []
    for task in sorted({r["task"] for r in tool_file["records"] if r["tool"] == tool}):
        mine = [{**r, "tool": "adamtune"} for r in tool_file["records"] if r["tool"] == tool]
        mine = [r for r in mine if r["task"] == task]
        theirs = [r for r in peers_file["records"] if r["task"] == task and r["tool"] in peers]
        if not theirs:
            continue
        kind = peers_file["task_kinds"][task]
        for row in summary.paired(mine + theirs, kind, peers, tool_file["checkpoints"]):
            if row["comparison"] == "best peer":
                rows.append({"task": task, **row})
    return rows


def ablation_rows(
    tool_file: dict[str, Any], tool: str, peers_file: dict[str, Any], baseline: str = "adamtune"
) -> list[Any]:
    """Per task of ``tool_file`` that ``peers_file`` also ran: ``tool``'s runs against
    ``peers_file``'s ``adamtune`` (an ablation suite that did not run adamtune as it ships again:
    its numbers repeat from a seed, NOTES.md section 13), or against its ``baseline`` tool read
    as adamtune, at ``tool_file``'s checkpoints and on test. ``tool`` must be one of
    ``summary.ABLATIONS``."""
    if tool not in summary.ABLATIONS:
        raise ValueError(
            f"tool must be one of summary.ABLATIONS ({', '.join(summary.ABLATIONS)}); "
            f"received {tool!r}"
        )
    rows = []
    for task in sorted({r["task"] for r in tool_file["records"] if r["tool"] == tool}):
        mine = [r for r in tool_file["records"] if r["tool"] == tool and r["task"] == task]
        base = [
            {**r, "tool": "adamtune"}
            for r in peers_file["records"]
            if r["tool"] == baseline and r["task"] == task
        ]
        if not base:
            continue
        kind = peers_file["task_kinds"][task]
        for row in summary.paired(mine + base, kind, [], tool_file["checkpoints"]):
            if row["comparison"] == "ablation":
                rows.append({"task": task, **row})
    return rows


def rerun_rows(
    tool_file: dict[str, Any], peers_file: dict[str, Any], resamples: int = metrics.RESAMPLES
) -> list[dict[str, Any]]:
    """Per task both files ran: ``tool_file``'s adamtune (as :data:`RERUN`) against
    ``peers_file``'s, paired by seed, at ``tool_file``'s checkpoints and on test."""
    rows = []
    for task in sorted({r["task"] for r in tool_file["records"] if r["tool"] == "adamtune"}):
        by_tool = {
            RERUN: [
                r for r in tool_file["records"] if r["tool"] == "adamtune" and r["task"] == task
            ],
            "adamtune": [
                r for r in peers_file["records"] if r["tool"] == "adamtune" and r["task"] == task
            ],
        }
        if not by_tool["adamtune"]:
            continue
        kind = peers_file["task_kinds"][task]
        for metric in [str(c) for c in tool_file["checkpoints"]] + ["test"]:
            row = summary._compare(by_tool, RERUN, "adamtune", metric, kind, "rerun", resamples, 0)
            rows.append({"task": task, **row})
    return rows


def merged(paths: list[Path]) -> dict[str, Any]:
    """The results files as one: the first file's settings, every file's records, tools and
    task kinds (files of one suite's kind run on different tasks, such as ``levers`` and
    ``levers-design``)."""
    files = [json.loads(p.read_text()) for p in paths]
    out = dict(files[0])
    out["records"] = [r for f in files for r in f["records"]]
    out["tools"] = list(dict.fromkeys(t for f in files for t in f["tools"]))
    out["task_kinds"] = {k: v for f in files for k, v in f["task_kinds"].items()}
    return out


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--tool-file", type=Path, nargs="+", required=True, help="one results file, or several "
        "of one suite's kind run on other tasks (their records read as one)"
    )  # fmt: skip
    parser.add_argument("--tool", required=True, help="the tool of --tool-file to compare")
    parser.add_argument("--peers-file", type=Path, nargs="+", required=True)
    parser.add_argument(
        "--baseline",
        default="adamtune",
        help="with --against adamtune: the tool of --peers-file read as adamtune (default "
        "adamtune; another ablation to pair two ablations)",
    )
    parser.add_argument(
        "--against",
        choices=("best-peer", "adamtune"),
        default="best-peer",
        help="best-peer (default): the best of --peers-file's peers on each metric; adamtune: "
        "--peers-file's adamtune as it shipped (--tool must be an ablation, or adamtune for a "
        "rerun after a change in adamtune)",
    )
    args = parser.parse_args()
    tool_file = merged(args.tool_file)
    if args.tool not in tool_file["tools"]:
        parser.error(f"--tool {args.tool!r} is not in {args.tool_file} (its tools: "
                     f"{', '.join(tool_file['tools'])})")  # fmt: skip
    rerun = args.against == "adamtune" and args.tool == "adamtune"
    if args.against == "adamtune" and args.tool not in summary.ABLATIONS and not rerun:
        parser.error(
            f"--against adamtune: --tool must be adamtune (a rerun) or an ablation "
            f"({', '.join(summary.ABLATIONS)})"
        )
    peers_file = merged(args.peers_file)
    if rerun:
        rows = rerun_rows(tool_file, peers_file)
    elif args.against == "adamtune":
        rows = ablation_rows(tool_file, args.tool, peers_file, args.baseline)
    else:
        rows = best_peer_rows(tool_file, args.tool, peers_file)
    against = args.baseline if args.against == "adamtune" else "best peer"
    label = RERUN if rerun else args.tool
    print(f"| task | metric | {label} | {against} | difference [95% CI] | verdict |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        low, high = r["low"], r["high"]
        name = args.baseline if args.against == "adamtune" else r["against"]
        print(
            f"| {r['task']} | {r['metric']} | {r['tool_value']:.3f} | {name} "
            f"{r['against_value']:.3f} | {_cell(r['estimate'])} [{_cell(low)}, {_cell(high)}] "
            f"| {r['verdict']} |"
        )


if __name__ == "__main__":
    main()
