"""One tool of one results file against the best peer of another, paired by task and seed: an
ablation suite (such as ``confirm``) runs adamtune's variants only, and this reads its variant
against the peers the standard suite ran on the same tasks, seeds and budgets, with the suite's
own rule (``summary.paired``'s "best peer" rows: best mean for accuracy, best median for R^2; a
95% bootstrap interval).

    python benchmarks/cross_pair.py --tool-file results/confirm.json --tool adamtune-confirm \\
        --peers-file results/standard.json

``--against adamtune`` reads the tool against the peers file's ``adamtune`` instead (the
``ablation`` rows of a suite that did not run adamtune as it ships again, such as ``levers``).

The two files were run on different days: a peer's numbers are its own run's, and the verdict is
only as good as the peers' runs repeating (NOTES.md section 8 says which did).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import summary

__all__ = ["ablation_rows", "best_peer_rows", "main"]


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


def ablation_rows(tool_file: dict[str, Any], tool: str, peers_file: dict[str, Any]) -> list[Any]:
    """Per task of ``tool_file`` that ``peers_file`` also ran: ``tool``'s runs against
    ``peers_file``'s ``adamtune`` (an ablation suite that did not run adamtune as it ships again:
    its numbers repeat from a seed, NOTES.md section 13), at ``tool_file``'s checkpoints and on
    test. ``tool`` must be one of ``summary.ABLATIONS``."""
    if tool not in summary.ABLATIONS:
        raise ValueError(
            f"tool must be one of summary.ABLATIONS ({', '.join(summary.ABLATIONS)}); "
            f"received {tool!r}"
        )
    rows = []
    for task in sorted({r["task"] for r in tool_file["records"] if r["tool"] == tool}):
        mine = [r for r in tool_file["records"] if r["tool"] == tool and r["task"] == task]
        base = [r for r in peers_file["records"] if r["tool"] == "adamtune" and r["task"] == task]
        if not base:
            continue
        kind = peers_file["task_kinds"][task]
        for row in summary.paired(mine + base, kind, [], tool_file["checkpoints"]):
            if row["comparison"] == "ablation":
                rows.append({"task": task, **row})
    return rows


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tool-file", type=Path, required=True)
    parser.add_argument("--tool", required=True, help="the tool of --tool-file to compare")
    parser.add_argument("--peers-file", type=Path, required=True)
    parser.add_argument(
        "--against",
        choices=("best-peer", "adamtune"),
        default="best-peer",
        help="best-peer (default): the best of --peers-file's peers on each metric; adamtune: "
        "--peers-file's adamtune as it shipped (--tool must be an ablation)",
    )
    args = parser.parse_args()
    tool_file = json.loads(args.tool_file.read_text())
    if args.tool not in tool_file["tools"]:
        parser.error(f"--tool {args.tool!r} is not in {args.tool_file} (its tools: "
                     f"{', '.join(tool_file['tools'])})")  # fmt: skip
    if args.against == "adamtune" and args.tool not in summary.ABLATIONS:
        parser.error(
            f"--against adamtune: --tool must be an ablation ({', '.join(summary.ABLATIONS)})"
        )
    peers_file = json.loads(args.peers_file.read_text())
    pick = ablation_rows if args.against == "adamtune" else best_peer_rows
    rows = pick(tool_file, args.tool, peers_file)
    against = "adamtune" if args.against == "adamtune" else "best peer"
    print(f"| task | metric | {args.tool} | {against} | difference [95% CI] | verdict |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        low, high = r["low"], r["high"]
        print(
            f"| {r['task']} | {r['metric']} | {r['tool_value']:.3f} | {r['against']} "
            f"{r['against_value']:.3f} | {_cell(r['estimate'])} [{_cell(low)}, {_cell(high)}] "
            f"| {r['verdict']} |"
        )


if __name__ == "__main__":
    main()
