"""``adamtune doctor``: why does Adam fail on my model? Cheap probes of the present setup.

    adamtune doctor examples/digits.py:build_model --data examples/digits.py:load_data --lr 1e-2

prints a table of findings, worst first (``--json`` for machine-readable output). The exit code is
0 whether or not the doctor found problems: findings are a report, not a failure (read ``ok`` or
``codes`` in the JSON to act on them). Bad arguments exit with 2, as every adamtune command.
"""

from __future__ import annotations

import argparse
import math
import sys

from adamtune.cli._targets import add_target_args

__all__ = ["add_parser", "cmd_doctor"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``adamtune doctor`` on the CLI's subparsers."""
    doctor = sub.add_parser(
        "doctor",
        help="why does Adam fail on my model? data checks, an LR range test and a short training",
        description="Probe the present setup cheaply: data checks, an LR range test, and a few "
        "epochs with the given learning rate and batch size on the data as given; print findings "
        "worst first, each with its evidence and a fix. Exit code 0 whether or not problems "
        "are found.",
    )
    add_target_args(doctor)
    doctor.add_argument(
        "--lr", type=float, default=None, help="probe Adam with this learning rate (default 1e-3)"
    )
    doctor.add_argument("--batch-size", type=int, default=32, help="batch size to probe (32)")
    doctor.add_argument("--epochs", type=int, default=5, help="epochs of the training probe (5)")
    doctor.add_argument("--space", default="default", help="space for model_fn(hp)'s own values")
    doctor.add_argument(
        "--seed", type=int, default=0, help="seeds the probes' weights and batch order (default 0)"
    )
    doctor.add_argument(
        "--no-lr-range", action="store_true", help="skip the LR range test (~100 steps)"
    )
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.add_argument(
        "--storage",
        default=None,
        help="with --study: store the diagnosis with that study, where `adamtune report` shows it",
    )
    doctor.add_argument("--study", default=None, help="an existing study (see --storage)")
    doctor.set_defaults(func=cmd_doctor)


def _optimizer(lr: float | None) -> object:
    if lr is None:
        return None
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"--lr must be a positive, finite learning rate. Received: {lr!r}")
    return {"learning_rate": lr}  # Adam keyword arguments


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run the doctor and print its table (or JSON). Returns 0 whatever it found."""
    from adamtune.cli._targets import load_model_and_data
    from adamtune.doctor import diagnose, load_study

    optimizer = _optimizer(args.lr)
    if (args.storage is None) != (args.study is None):
        raise ValueError("--storage and --study go together: the study to attach the diagnosis to")
    if args.storage is not None:
        load_study(args.storage, args.study)  # it must exist before the probes run
    model_fn, data = load_model_and_data(args)
    diagnosis = diagnose(
        model_fn,
        data,
        optimizer=optimizer,
        batch_size=args.batch_size,
        epochs=args.epochs,
        space=args.space,
        seed=args.seed,
        lr_range=not args.no_lr_range,
    )
    if args.json:
        print(diagnosis.to_json())
    else:
        print(diagnosis.table())
    if args.storage is not None:
        diagnosis.attach(args.storage, args.study)
        print(f"stored with study {args.study!r}: `adamtune report` shows it", file=sys.stderr)
    return 0
