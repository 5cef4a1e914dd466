"""The ``adamtune`` command line: search, status, export and spaces.

Exit codes: 0 done; 2 bad usage or input (nothing was stored); 1 the search stopped on an error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from adamtune.cli import _dashboard, _doctor, _lr_find, _report
from adamtune.cli._commands import cmd_export, cmd_search, cmd_spaces, cmd_status
from adamtune.cli._lifecycle import add_lifecycle_args
from adamtune.cli._targets import add_steps_per_epoch_arg, add_target_args
from adamtune.cli._workers import cmd_worker
from adamtune.strategies._trust import TRUST_ENV

__all__ = ["STORAGE_ENV", "TRUST_ENV", "build_parser", "main"]

STORAGE_ENV = "ADAMTUNE_STORAGE"


def _trust_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-storage",
        action="store_true",
        help="trust a shared storage (postgresql://, ...): allow the cmaes strategy (its sampler "
        "unpickles state from the study) and, for a worker, import the MODEL/--data targets the "
        f"study recorded; anyone who can write there can run code here; also ${TRUST_ENV}=1",
    )


@contextlib.contextmanager
def _trusting(args: argparse.Namespace) -> Iterator[None]:
    """With --trust-storage, ``$ADAMTUNE_TRUST_STORAGE=1`` for this command: the searches it runs,
    the workers it starts and a recycled process inherit the opt-in; restored after."""
    if not getattr(args, "trust_storage", False):
        yield
        return
    before = os.environ.get(TRUST_ENV)
    os.environ[TRUST_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TRUST_ENV, None)
        else:
            os.environ[TRUST_ENV] = before


def _study_args(parser: argparse.ArgumentParser) -> None:
    from_env = os.environ.get(STORAGE_ENV)
    parser.add_argument(
        "--storage",
        required=from_env is None,
        default=from_env,
        help="storage URL (sqlite:///adamtune.db, journal:///adamtune.log, postgresql://...) or a "
        f"KerasTuner study folder; default ${STORAGE_ENV}, which keeps a password off the "
        "command line",
    )
    parser.add_argument("--study", required=True, help="study name")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamtune", description="Find the Adam settings under which a Keras model trains well."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="run (or continue) a search")
    add_target_args(search)
    add_steps_per_epoch_arg(search)
    search.add_argument("--space", default="default", help="shipped space name or file")
    search.add_argument("--strategy", default="tpe", help="tpe, random, qmc, gp, cmaes, grid, kt-*")
    search.add_argument("--objective", default="val_loss")
    search.add_argument("--trials", type=int, default=20, help="total finished trials to reach")
    search.add_argument("--epochs", type=int, default=None)
    search.add_argument(
        "--storage",
        default=os.environ.get(STORAGE_ENV),
        help=f"default ${STORAGE_ENV}, else sqlite:///adamtune.db",
    )
    search.add_argument("--study", default=None, help="study name (default adamtune-<MODEL fn>)")
    search.add_argument("--seed", type=int, default=None)
    search.add_argument(
        "--class-weight",
        default=None,
        metavar="balanced|CLASS:WEIGHT,...",
        help="weight classes as fit(class_weight=...) does: 'balanced' (computed on the training "
        "split) or pairs such as 0:1,1:9",
    )
    search.add_argument("-o", "--out", default=None, help="export the best config here")
    search.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes on this machine sharing the study, TensorFlow's threads split between them",
    )
    search.add_argument(
        "--devices",
        default=None,
        help="GPU indices, e.g. 0,1,2,3: worker i sees only GPU i (CUDA_VISIBLE_DEVICES), "
        "memory growth on",
    )
    add_lifecycle_args(search)
    _trust_arg(search)
    search.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    search.set_defaults(func=cmd_search)

    worker = sub.add_parser("worker", help="join a study started by `adamtune search`")
    _study_args(worker)
    worker.add_argument("--seed", type=int, default=None, help="this worker's sampler seed")
    worker.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for the study to appear"
    )
    worker.add_argument("-q", "--quiet", action="store_true")
    worker.add_argument(
        "--model",
        default=None,
        help="file.py:function or module:function returning the model, as given to `adamtune "
        "search` (default: the one the study recorded; required on a shared storage unless "
        "--trust-storage)",
    )
    worker.add_argument("--data", default=None, help="the --data target, with --model")
    _trust_arg(worker)
    add_lifecycle_args(worker)
    worker.set_defaults(func=cmd_worker)

    status = sub.add_parser("status", help="trials by state, outcomes, best so far")
    _study_args(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    export = sub.add_parser("export", help="write the best config (.json, .yaml or .py)")
    _study_args(export)
    export.add_argument("--format", choices=("json", "yaml", "py"), default=None)
    export.add_argument("-o", "--output", required=True)
    export.set_defaults(func=cmd_export)

    spaces = sub.add_parser("spaces", help="list, show or validate search spaces")
    spaces.add_argument("action", nargs="?", choices=("list", "show", "validate"))
    spaces.add_argument("target", nargs="?", help="space name (show) or file (validate)")
    spaces.set_defaults(func=cmd_spaces)

    _dashboard.add_parser(sub)
    _doctor.add_parser(sub)
    _lr_find.add_parser(sub)
    _report.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Only a real `adamtune` process may replace itself (worker recycling); a caller's never.
    args.argv = sys.argv[1:] if argv is None else None
    from adamtune._errors import SearchAborted

    try:
        with _trusting(args):
            return int(args.func(args))
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"adamtune {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except SearchAborted as exc:
        print(f"adamtune {args.command}: stopped: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        resume = (
            "; run the same command to continue" if args.command in ("search", "worker") else ""
        )
        print(f"adamtune {args.command}: interrupted{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
