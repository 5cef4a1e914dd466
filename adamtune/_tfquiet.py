"""TensorFlow's start-up notices, kept off a command's terminal.

Importing TensorFlow and listing its devices writes C++ log lines straight to file descriptor 2:
the oneDNN notice, "Could not find cuda drivers", the CPU instruction notice, absl's "All log
messages before absl::InitializeLog()" and, on a machine without a GPU, "failed call to cuInit".
None of them is something a user can act on, and Python cannot filter them (they bypass
``sys.stderr``). :func:`start_tensorflow` imports TensorFlow and lists its devices with descriptor
2 pointed at a temporary file, then writes back every line that is not one of those known notices:
a real error at start-up is still shown. ``TF_CPP_MIN_LOG_LEVEL`` is left alone (it would hide
real errors too, and it is the user's setting).

It also drops TensorFlow's Python warning that a function "triggered tf.function retracing":
each trial builds a new model, so its functions are traced anew by design. Where adamtune starts
TensorFlow, for the life of the process; where the caller imported it first (``import keras`` at
the top of a script does), for the length of ``search``, ``diagnose`` and ``lr_range_test`` only
(:func:`hides_retracing`): the caller's logger is as it was once they return.

``search``, ``diagnose`` and ``lr_range_test`` call :func:`start_quietly` first: when adamtune is
the one to import TensorFlow, its notices are sifted; when the caller imported it already, nothing
happens. ``$ADAMTUNE_TF_LOGS=1`` (the CLI's ``--tf-logs``) shows them all. Lines written to
descriptor 2 by other threads during the import are held back and written after it, not lost.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

__all__ = [
    "NOTICES",
    "TF_LOGS_ENV",
    "RetracingFilter",
    "hides_retracing",
    "is_notice",
    "retracing_hidden",
    "start_quietly",
    "start_tensorflow",
]

TF_LOGS_ENV = "ADAMTUNE_TF_LOGS"

# Lines TensorFlow prints on every start on a CPU machine, matched whole. C++ log lines look like
# "I0000 00:00:1796051521.423650   21505 port.cc:153] message".
_LOG = r"^[IWE]\d{4} [\d:. ]+\s+\d+ [\w.]+:\d+\] "
NOTICES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written"),
    re.compile(_LOG + r"oneDNN custom operations are on\."),
    re.compile(_LOG + r"Could not find cuda drivers on your machine, GPU will not be used\."),
    re.compile(_LOG + r"This TensorFlow binary is optimized to use available CPU instructions"),
    re.compile(
        r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate"
    ),
    re.compile(_LOG + r"Unable to register cu(DNN|FFT|BLAS) factory"),
    re.compile(_LOG + r"TF-TRT Warning: Could not find TensorRT"),
    re.compile(_LOG + r"computation placer already registered"),
)
# Only when no GPU was asked for: then a failed cuInit just means "no GPU here".
_NO_GPU = re.compile(_LOG + r"failed call to cuInit")


def is_notice(line: str, *, gpu_wanted: bool = False) -> bool:
    """Whether ``line`` is one of TensorFlow's start-up notices (kept off the terminal)."""
    text = line.rstrip("\r\n")
    if not gpu_wanted and _NO_GPU.match(text):
        return True
    return any(notice.match(text) for notice in NOTICES)


class RetracingFilter(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning; passes every other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _tf_logs_wanted() -> bool:
    return os.environ.get(TF_LOGS_ENV, "") not in ("", "0")


@contextlib.contextmanager
def retracing_hidden() -> Iterator[None]:
    """TensorFlow's retracing warning dropped inside, its logger's filter removed on the way out;
    nothing done with ``$ADAMTUNE_TF_LOGS=1``. For work that builds one model after another (a
    search's pre-flight, range test and trials; the doctor's probes), whoever imported
    TensorFlow."""
    if _tf_logs_wanted():
        yield
        return
    logger = logging.getLogger("tensorflow")
    hidden = RetracingFilter()
    logger.addFilter(hidden)
    try:
        yield
    finally:
        logger.removeFilter(hidden)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def hides_retracing(call: Callable[_P, _R]) -> Callable[_P, _R]:
    """``call`` run inside :func:`retracing_hidden`."""

    @functools.wraps(call)
    def hidden(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with retracing_hidden():
            return call(*args, **kwargs)

    return hidden


@contextlib.contextmanager
def _stderr_sifted(gpu_wanted: bool) -> Iterator[None]:
    """Descriptor 2 into a temporary file inside; its lines, minus the notices, written back."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                caught.seek(0)
                lines = caught.read().decode("utf-8", "replace").splitlines(keepends=True)
                kept = "".join(x for x in lines if not is_notice(x, gpu_wanted=gpu_wanted))
                if kept:
                    sys.stderr.write(kept)
                    sys.stderr.flush()
    finally:
        os.close(saved)


def start_tensorflow(*, gpu_wanted: bool = False) -> None:
    """Import TensorFlow and Keras and list the devices, with the start-up notices kept off
    standard error (see the module's docstring). Does nothing once TensorFlow is imported."""
    if "tensorflow" in sys.modules:
        return
    with _stderr_sifted(gpu_wanted):
        import keras  # noqa: F401  (its backend import is part of the start-up)
        import tensorflow as tf

        tf.config.list_physical_devices()
    logging.getLogger("tensorflow").addFilter(RetracingFilter())


def start_quietly() -> None:
    """:func:`start_tensorflow`, unless ``$ADAMTUNE_TF_LOGS=1`` asks for TensorFlow's own output.
    A failed cuInit is shown when GPUs were asked for (``CUDA_VISIBLE_DEVICES`` names some)."""
    if _tf_logs_wanted():
        return
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    start_tensorflow(gpu_wanted=devices.strip() not in ("", "-1"))
