"""Loading ``path/to/file.py:function`` or ``package.module:function`` targets for the CLI."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "add_steps_per_epoch_arg",
    "add_target_args",
    "load_model_and_data",
    "load_target",
    "positive_int",
]


def _module_from_file(path: Path) -> Any:
    name = f"adamtune_user_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load Python file {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    spec.loader.exec_module(module)
    return module


def load_target(target: str, what: str) -> Callable[..., Any]:
    """The callable named by ``target`` (``file.py:func`` or ``pkg.module:func``)."""
    if not isinstance(target, str) or target.count(":") != 1 or target.endswith(":"):
        raise ValueError(
            f"{what} must look like path/to/file.py:function or package.module:function. "
            f"Received: {target!r}"
        )
    source, attr = target.split(":")
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{what}: no Python file at {source!r}")
        module = _module_from_file(path)
    else:
        try:
            module = importlib.import_module(source)
        except ModuleNotFoundError as exc:
            raise ValueError(f"{what}: cannot import module {source!r} ({exc})") from None
    func = getattr(module, attr, None)
    if not callable(func):
        found = sorted(
            n
            for n, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module.__name__ and not n.startswith("_")
        )
        raise ValueError(
            f"{what}: {source!r} has no function {attr!r}; it has: {', '.join(found) or 'none'}"
        )
    return func


def add_target_args(parser: argparse.ArgumentParser) -> None:
    """MODEL and --data, as every command that trains takes them."""
    parser.add_argument("model", metavar="MODEL", help="path/to/file.py:build_model or pkg.mod:fn")
    parser.add_argument("--data", required=True, help="a function returning the data, same form")


def positive_int(text: str) -> int:
    """An argparse ``type``: ``text`` as an integer >= 1, or a usage error that says so."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1). Received: {text!r}")
    return value


def add_steps_per_epoch_arg(parser: argparse.ArgumentParser) -> None:
    """``--steps-per-epoch N``: ``search(steps_per_epoch=N)``, for a --data stream."""
    parser.add_argument(
        "--steps-per-epoch",
        type=positive_int,
        default=None,
        metavar="N",
        help="the length of an epoch when --data returns a tf.data or PyDataset training stream "
        "of unknown or infinite length (needed then; refused with arrays): N of a PyDataset's "
        "batches, or N x 32 samples of a tf.data stream, whatever the trial's batch size",
    )


def load_model_and_data(args: argparse.Namespace) -> tuple[Callable[..., Any], Any]:
    """The model function named by MODEL, and the data the --data function returns."""
    return load_target(args.model, "MODEL"), load_target(args.data, "--data")()
