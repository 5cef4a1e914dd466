"""``adamtune report``: write a study's self-contained HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from adamtune.cli._where import storage_args

__all__ = ["add_parser", "cmd_report"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``adamtune report`` on the CLI's subparsers."""
    report = sub.add_parser(
        "report",
        help="write a study's report as one self-contained HTML file",
        description="Write one HTML file that needs nothing else to be viewed: the best config "
        "and its export snippet, the optimization history, parameter importances, the learning "
        "rate x batch size map, learning curves, outcome counts and the doctor's findings.",
    )
    storage_args(report)
    report.add_argument(
        "-o", "--output", required=True, metavar="FILE.html", help="the .html file to write"
    )
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of ``args.study`` in ``args.storage`` to ``args.output``."""
    from adamtune.cli._where import open_result
    from adamtune.report import check_matplotlib, write_report

    output = str(args.output)
    if Path(output).suffix.lower() != ".html":
        raise ValueError(f"-o must name an .html file. Received: -o {output!r}")
    try:
        check_matplotlib()
    except ImportError as exc:  # the CLI reports usage problems as ValueError: exit code 2
        raise ValueError(str(exc)) from None
    result = open_result(args.storage, args.study)
    print(f"wrote {write_report(result, output, storage=args.storage)}")
    return 0
