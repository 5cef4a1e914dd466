"""``adamtune lr-find``: the learning-rate range test from the command line.

    adamtune lr-find examples/digits.py:build_model --data examples/digits.py:load_data \\
        --scaling standard --plot lr.png
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from adamtune.cli._targets import add_target_args, load_model_and_data

__all__ = ["add_parser", "cmd_lr_find", "summary"]

_SCALERS = ("none", "standard", "minmax", "robust")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``adamtune lr-find`` on the CLI's subparsers."""
    find = sub.add_parser(
        "lr-find",
        help="sweep Adam's learning rate over one short run and suggest a range",
        description="The learning-rate range test (Smith 2017, fastai's lr_find): train the "
        "model once for up to --steps batches with the learning rate rising geometrically from "
        "--min-lr to --max-lr, stop when the loss blows up, and suggest the learning rates to "
        "search: high = the learning rate at the lowest loss / 3, low = high / 10.",
    )
    add_target_args(find)
    find.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    find.add_argument("--min-lr", type=float, default=1e-7, help="first learning rate (1e-7)")
    find.add_argument("--max-lr", type=float, default=10.0, help="last learning rate (10)")
    find.add_argument("--steps", type=int, default=100, help="training steps, >= 10 (100)")
    find.add_argument(
        "--scaling",
        choices=_SCALERS,
        default="none",
        help="input scaling, fitted on the training split (default none)",
    )
    find.add_argument("--space", default="default", help="space whose middle values build MODEL")
    find.add_argument("--seed", type=int, default=0, help="weights and batch order (default 0)")
    find.add_argument(
        "-o",
        "--output",
        "--plot",
        dest="plot",
        metavar="FILE.png",
        default=None,
        help="write the curve here (a PNG; --plot is the same option)",
    )
    find.add_argument("--json", action="store_true", help="print the full result as JSON")
    find.set_defaults(func=cmd_lr_find)


def summary(result: Any) -> str:
    """A few readable lines about an :class:`~adamtune.doctor.LRRange`."""
    low, high = result.suggested
    lines = [
        f"suggested learning rate range: {low:.3g} .. {high:.3g}",
        f"lowest loss at lr={result.min_loss_lr:.3g}",
        f"steps run: {result.steps} (lr {result.lrs[0]:.3g} .. {result.lrs[-1]:.3g}, "
        f"batch size {result.batch_size}, loss {result.loss})",
        ("stopped early: " if result.stopped_early else "ran to the end: ") + result.reason,
    ]
    if result.data_note is not None:
        lines.append(f"data: {result.data_note}")
    tail = result.lrs[-max(1, result.steps // 20) :]
    if not result.stopped_early and result.min_loss_lr >= tail[0]:
        lines.append("the loss was still falling at --max-lr; raise --max-lr to see where it ends")
    from adamtune.doctor import centered_average

    curve = centered_average(result.losses)
    if curve.size and curve[0] > 0 and float(curve.min()) >= 0.9 * float(curve[0]):
        lines.append(
            "the loss hardly fell anywhere: check the data and the loss, or try --scaling standard"
        )
    return "\n".join(lines)


def cmd_lr_find(args: argparse.Namespace) -> int:
    from adamtune.doctor import lr_range_test

    if args.plot is not None and not str(args.plot).lower().endswith(".png"):
        raise ValueError(f"--plot must name a .png file. Received: --plot {args.plot}")
    model_fn, data = load_model_and_data(args)
    result = lr_range_test(
        model_fn,
        data,
        batch_size=args.batch_size,
        min_lr=args.min_lr,
        max_lr=args.max_lr,
        steps=args.steps,
        scaling=args.scaling,
        seed=args.seed,
        space=args.space,
    )
    written = result.plot(args.plot) if args.plot is not None else None
    if args.json:
        out = result.to_dict()
        if written is not None:
            out["plot"] = str(written)
        print(json.dumps(out, allow_nan=False, indent=2))
    else:
        print(summary(result))
        if written is not None:
            print(f"wrote {written}")
    return 0
