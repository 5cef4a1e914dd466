"""The ``adamtune`` command line: search, worker, status, studies, export, spaces, report, ...

Exit codes: 0 done; 2 bad usage or input (nothing was stored); 1 the search stopped on an error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from adamtune._tfquiet import TF_LOGS_ENV
from adamtune.cli import _dashboard, _doctor, _lr_find, _report, _studies
from adamtune.cli._commands import cmd_export, cmd_search, cmd_spaces, cmd_status
from adamtune.cli._lifecycle import add_lifecycle_args
from adamtune.cli._targets import add_steps_per_epoch_arg, add_target_args
from adamtune.cli._where import STORAGE_ENV, storage_args
from adamtune.cli._workers import cmd_worker
from adamtune.strategies._trust import TRUST_ENV

__all__ = ["STORAGE_ENV", "TRUST_ENV", "build_parser", "main"]


def _trust_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-storage",
        action="store_true",
        help="trust a shared storage (postgresql://, ...): allow the cmaes strategy (its sampler "
        "unpickles state from the study) and, for a worker, import the MODEL/--data targets the "
        f"study recorded; anyone who can write there can run code here; also ${TRUST_ENV}=1",
    )


_FLAG_ENV = {"trust_storage": TRUST_ENV, "tf_logs": TF_LOGS_ENV}


@contextlib.contextmanager
def _flags_in_env(args: argparse.Namespace) -> Iterator[None]:
    """``--trust-storage`` (``$ADAMTUNE_TRUST_STORAGE=1``) and ``--tf-logs``
    (``$ADAMTUNE_TF_LOGS=1``) for this command: the searches it runs, the workers it starts and a
    recycled process inherit them; restored after."""
    given = [env for flag, env in _FLAG_ENV.items() if getattr(args, flag, False)]
    before = {env: os.environ.get(env) for env in given}
    os.environ.update(dict.fromkeys(given, "1"))
    try:
        yield
    finally:
        for env, value in before.items():
            if value is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = value


def _tf_logs_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tf-logs",
        action="store_true",
        help="show TensorFlow's start-up notices (oneDNN, CPU instructions, no CUDA driver), "
        f"kept off the terminal by default; also ${TF_LOGS_ENV}=1",
    )


def _spaces_parser(sub: argparse._SubParsersAction) -> None:
    spaces = sub.add_parser(
        "spaces",
        help="list, show or validate search spaces",
        description="Search spaces: what a search may try (learning rate, batch size, "
        "regularizer,\nBatchNorm, input scaling, ...). adamtune ships some; a space file of your "
        "own\n(.yaml or .toml) works wherever a name does (`adamtune search --space FILE`).",
        epilog="actions:\n"
        "  list            the shipped spaces, one line each (the default)\n"
        "  show NAME       print a shipped space (or a space file) as YAML: a start for your own\n"
        "  validate FILE   check a space file field by field; exit code 2 names what is wrong\n\n"
        "example: adamtune spaces show default > my_space.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    spaces.add_argument(
        "action",
        nargs="?",
        choices=("list", "show", "validate"),
        help="list (default), show or validate; see below",
    )
    spaces.add_argument("target", nargs="?", help="space name (show) or file (show, validate)")
    spaces.set_defaults(func=cmd_spaces)


def _search_parser(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser(
        "search",
        help="run (or continue) a search",
        description="Search the Adam settings under which MODEL trains well on --data. The "
        "study is stored as it goes: run the same command again to continue it.",
    )
    add_target_args(search)
    add_steps_per_epoch_arg(search)
    _search_plan_args(search)
    _search_study_args(search)
    _search_output_args(search)
    add_lifecycle_args(search)
    _trust_arg(search)
    search.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    search.set_defaults(func=cmd_search)


def _search_plan_args(search: argparse.ArgumentParser) -> None:
    """What ``adamtune search`` tries: the space, the strategy, the objective and how long."""
    search.add_argument("--space", default="default", help="shipped space name or file")
    search.add_argument(
        "--strategy",
        default="tpe",
        help="tpe (default), random, qmc, gp, cmaes, grid, or kt-random, kt-bayesian, "
        "kt-hyperband (KerasTuner, stored in a folder)",
    )
    search.add_argument(
        "--objective",
        default="val_loss",
        help="the metric to optimize, as Keras logs it (default val_loss; val_accuracy, ...)",
    )
    search.add_argument("--trials", type=int, default=20, help="total finished trials to reach")
    search.add_argument(
        "--epochs", type=int, default=None, help="epochs per trial (default: the space's)"
    )
    search.add_argument(
        "--pruner",
        choices=("hyperband", "asha", "asha-third", "sha", "median", "none"),
        default=None,
        help="how trials are cut early, Optuna strategies (default: asha, which compares "
        "trials after epochs 1, 3, 9, for a new study; the study's own on a resume; asha-third "
        "also compares them a third into epoch 1); adamtune worker reads it from the study",
    )
    search.add_argument(
        "--lr-range",
        choices=("auto", "off"),
        default="auto",
        help="auto (default): a new study first runs the LR range test (up to 100 batches) and "
        "searches the learning rate over the range it suggests, stored with the study; off: "
        "the space's range as it is. A resumed study keeps what it was made with",
    )
    search.add_argument(
        "--confirm",
        type=int,
        default=0,
        metavar="N",
        help="run each new best N more times with other seeds and judge bests by their mean "
        "(default 0; 1 keeps a config that won by one lucky seed from being exported)",
    )


def _search_study_args(search: argparse.ArgumentParser) -> None:
    """Where ``adamtune search`` stores its study, under which name and seed, and class weights."""
    search.add_argument(
        "--storage",
        default=None,
        help="a storage URL (sqlite:///adamtune.db, journal:///adamtune.log, postgresql://...), "
        "a path to a .db or .log file, or a folder for kt-* strategies; default "
        f"${STORAGE_ENV}, else sqlite:///adamtune.db (kt-*: the folder adamtune_kt)",
    )
    search.add_argument("--study", default=None, help="study name (default adamtune-<MODEL fn>)")
    search.add_argument(
        "--seed", type=int, default=None, help="seed of the sampler and of the trials' weights"
    )
    search.add_argument(
        "--class-weight",
        default=None,
        metavar="balanced|CLASS:WEIGHT,...",
        help="weight classes as fit(class_weight=...) does: 'balanced' (computed on the training "
        "split) or pairs such as 0:1,1:9",
    )


def _search_output_args(search: argparse.ArgumentParser) -> None:
    """Where ``adamtune search`` writes the best config, and the processes and GPUs it uses."""
    search.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="export the best config here (.json, .yaml or .py); also written with the best so "
        "far when the search is interrupted or stopped",
    )
    search.add_argument("--out", dest="output", help=argparse.SUPPRESS)  # its name until 0.x
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


def _worker_parser(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser(
        "worker",
        help="join a study started by `adamtune search`",
        description="Run trials of a study that `adamtune search` started, from this process: "
        "more processes or machines search the same study.",
    )
    storage_args(worker)
    worker.add_argument("--seed", type=int, default=None, help="this worker's sampler seed")
    worker.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for the study to appear"
    )
    worker.add_argument("-q", "--quiet", action="store_true", help="no progress output")
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


def _looking_parsers(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser(
        "status",
        help="trials by state, outcomes, best so far",
        description="One study's trials by state, their outcomes and failures, the running "
        "trials and the best so far. Reads the storage only: no TensorFlow.",
    )
    storage_args(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    export = sub.add_parser(
        "export",
        help="print or write the best config (.json, .yaml or .py)",
        description="The best trial's config, as `adamtune.load_config` reads it: printed "
        "(JSON unless --format says otherwise), or written to -o in the format its suffix names.",
    )
    storage_args(export)
    export.add_argument(
        "--format",
        choices=("json", "yaml", "py"),
        default=None,
        help="json, yaml or py; default: from the -o suffix, else json",
    )
    export.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="write the config here (.json, .yaml, .yml or .py); default (or -): standard output",
    )
    export.set_defaults(func=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamtune", description="Find the Adam settings under which a Keras model trains well."
    )
    sub = parser.add_subparsers(dest="command", required=True, help="the command to run")
    _search_parser(sub)
    _worker_parser(sub)
    _looking_parsers(sub)
    _studies.add_parser(sub)
    _spaces_parser(sub)
    _dashboard.add_parser(sub)
    _doctor.add_parser(sub)
    _lr_find.add_parser(sub)
    _report.add_parser(sub)
    for command in ("search", "worker", "doctor", "lr-find"):  # the ones that start TensorFlow
        _tf_logs_arg(sub.choices[command])
    return parser


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _check_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A mistyped command is refused with the closest one (argparse before 3.14 only lists
    them)."""
    from adamtune.cli._where import suggest

    for token in argv:
        if token in ("-h", "--help") or not token.startswith("-"):
            names = _command_names(parser)
            if token.startswith("-") or token in names:
                return
            parser.error(
                f"unknown command {token!r}{suggest(token, names) or '.'} The commands are: "
                f"{', '.join(names)}"
            )


# Commands that only look at a study: they never create a storage.
_LOOKING = ("status", "export", "report", "studies", "dashboard")


def _locate(args: argparse.Namespace) -> None:
    """``args.storage`` as a URL or folder (see :mod:`adamtune.cli._where`), from --storage,
    else ``$ADAMTUNE_STORAGE``, else the default; ``args.storage_from`` says which."""
    if "storage" not in vars(args):
        return
    from adamtune.cli._where import check_storage_exists, default_storage, resolve_storage

    given, args.storage_from = args.storage, "option"
    if given is None and args.command != "doctor":  # the doctor stores only when asked to
        given, args.storage_from = os.environ.get(STORAGE_ENV) or None, "env"
    if given is None:
        args.storage_from = "default"
        if args.command in ("search", "doctor"):  # search: the default depends on --strategy
            return
        given = default_storage()[0]
    args.storage = resolve_storage(given)
    defaulted = args.storage_from == "default"
    # A worker may wait for its storage to appear, when told to; never for a default.
    if args.command in _LOOKING or (args.command == "worker" and defaulted):
        check_storage_exists(args.storage, defaulted=defaulted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _check_command(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    # Only a real `adamtune` process may replace itself (worker recycling); a caller's never.
    args.argv = sys.argv[1:] if argv is None else None
    from adamtune._errors import SearchAborted

    try:
        with _flags_in_env(args):
            _locate(args)
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
