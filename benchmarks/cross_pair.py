"""One tool of one results file against the best peer of another, paired by task and seed: an
ablation suite (such as ``confirm``) runs adamtune's variants only, and this reads its variant
against the peers the standard suite ran on the same tasks, seeds and budgets, with the suite's
own rule (``summary.paired``'s "best peer" rows: best mean for accuracy, best median for R^2; a
95% bootstrap interval).

    python benchmarks/cross_pair.py --tool-file results/confirm.json --tool adamtune-confirm \\
        --peers-file results/standard.json

The two files were run on different days: a peer's numbers are its own run's, and the verdict is
only as good as the peers' runs repeating (NOTES.md section 8 says which did).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import summary

__all__ = ["best_peer_rows", "main"]


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


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tool-file", type=Path, required=True)
    parser.add_argument("--tool", required=True, help="the tool of --tool-file to compare")
    parser.add_argument("--peers-file", type=Path, required=True)
    args = parser.parse_args()
    tool_file = json.loads(args.tool_file.read_text())
    if args.tool not in tool_file["tools"]:
        parser.error(f"--tool {args.tool!r} is not in {args.tool_file} (its tools: "
                     f"{', '.join(tool_file['tools'])})")  # fmt: skip
    rows = best_peer_rows(tool_file, args.tool, json.loads(args.peers_file.read_text()))
    print(f"| task | metric | {args.tool} | best peer | difference [95% CI] | verdict |")
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
