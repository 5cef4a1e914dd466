"""What a command prints besides its own output: no TensorFlow start-up notices, a progress display
that never goes blank."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_search_argv

from adamtune._progress import Progress, bar_fits
from adamtune._tfquiet import TF_LOGS_ENV, is_notice

ROOT = Path(__file__).resolve().parent.parent
# Lines this machine's TensorFlow prints at import and on listing devices (recorded 2026-11-30).
START_UP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796051521.423650   21505 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796051521.424043   21505 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "I0000 00:00:1796051521.470989   21505 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.",
]
CUINIT = (
    "E0000 00:00:1796051524.236785   21505 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)"
)


@pytest.mark.parametrize("line", START_UP)
def test_the_start_up_notices_are_recognised(line: str) -> None:
    assert is_notice(line)
    assert is_notice(line + "\n", gpu_wanted=True)


def test_a_failed_cuinit_is_hidden_only_when_no_gpu_was_asked_for() -> None:
    assert is_notice(CUINIT)
    assert not is_notice(CUINIT, gpu_wanted=True)


@pytest.mark.parametrize(
    "line",
    [
        "E0000 00:00:1796051524.236785   21505 op_kernel.cc:1830] OP_REQUIRES failed: OOM",
        "W0000 00:00:1796051524.236785   21505 allocator.cc:12] Allocation exceeds 10% of memory",
        "Traceback (most recent call last):",
        "oneDNN custom operations are on.",  # not a C++ log line: somebody's own text
    ],
)
def test_real_messages_are_not_notices(line: str) -> None:
    assert not is_notice(line)


def _tf_stderr(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_start_tensorflow_keeps_the_notices_off_and_everything_else_on() -> None:
    err = _tf_stderr(
        "import os, sys, logging\n"
        "from adamtune._tfquiet import start_tensorflow\n"
        "start_tensorflow()\n"
        "os.write(2, b'E0000 00:00:1.0   1 real.cc:1] a real error after start-up\\n')\n"
        "import tensorflow as tf\n"
        "tf.get_logger().warning('5 out of the last 5 calls to f triggered tf.function retracing')\n"
        "tf.get_logger().warning('a real TensorFlow warning')\n"
    )
    assert "oneDNN" not in err and "cuInit" not in err and "absl::InitializeLog" not in err, err
    assert "a real error after start-up" in err
    assert "a real TensorFlow warning" in err and "retracing" not in err


# A caller that imported TensorFlow first (as `import keras` at a script's top does), whose
# model function logs a retracing warning and a real one on each build (pre-flight, range test,
# trials), then logs both again after the search.
_IMPORTED_FIRST = """
import logging, tempfile
import tensorflow as tf
import adamtune
from adamtune.testing import conformance_data, conformance_model

def model(hp):
    tf.get_logger().warning("7 out of the last 7 calls to f triggered tf.function retracing")
    tf.get_logger().warning("a real warning inside")
    return conformance_model(hp)

with tempfile.TemporaryDirectory() as where:
    adamtune.search(model, conformance_data(), space="quick", epochs=1, trials=2, verbose=0,
                    storage=f"sqlite:///{where}/s.db")
print("filters after:", logging.getLogger("tensorflow").filters)
tf.get_logger().warning("8 out of the last 8 calls to f triggered tf.function retracing")
tf.get_logger().warning("a real warning after")
"""


def test_a_search_hides_retracing_from_a_caller_who_imported_tensorflow_first() -> None:
    """Where the caller started TensorFlow, the warning is dropped for the search's length only:
    the other warnings still show, and the caller's logger is as it was afterwards."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_FIRST], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "filters after: []" in done.stdout
    assert done.stderr.count("a real warning inside") >= 3, done.stderr[-3000:]  # every build
    assert "7 out of the last 7" not in done.stderr
    assert "8 out of the last 8 calls to f triggered tf.function retracing" in done.stderr
    assert "a real warning after" in done.stderr


def test_tf_logs_shows_the_retracing_warning_during_a_search() -> None:
    env = {**os.environ, TF_LOGS_ENV: "1"}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_FIRST], capture_output=True, text=True, timeout=600,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "7 out of the last 7 calls to f triggered tf.function retracing" in done.stderr


def test_without_it_the_notices_are_there() -> None:
    # The test above can fail: the same import, unsifted, prints them on this machine.
    err = _tf_stderr("import tensorflow as tf\ntf.config.list_physical_devices()\n")
    assert any(is_notice(line) for line in err.splitlines()), err


@contextlib.contextmanager
def _pty_stream(columns: int) -> Iterator[Any]:
    """The terminal side of a pseudo-terminal that reports ``columns`` columns."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        with os.fdopen(child, "w") as stream:
            yield stream
    finally:
        os.close(parent)


def test_a_zero_column_terminal_gets_lines_not_a_blank_bar() -> None:
    with _pty_stream(0) as narrow, _pty_stream(120) as wide:
        assert narrow.isatty() and not bar_fits(narrow)
        assert bar_fits(wide)
        assert (
            Progress(target=3, done=0, objective="val_loss", verbose=1, stream=narrow).bar is None
        )
        bar = Progress(target=3, done=0, objective="val_loss", verbose=1, stream=wide)
        assert bar.bar is not None
        bar.close()


# As examples/digits.py does: keras imported in the model function, so adamtune starts TensorFlow.
SEARCH = """
import adamtune
from sklearn.datasets import load_digits
d = load_digits()
def build():
    import keras
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
adamtune.search(build, (d.data.astype("float32"), d.target), trials=1, epochs=1,
                storage="sqlite:///{db}", space="quick", verbose=0)
"""


def _stderr_of(argv: list[str], tf_logs: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", TF_LOGS_ENV)}
    if tf_logs is not None:
        env[TF_LOGS_ENV] = tf_logs
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_a_python_search_keeps_tensorflows_notices_off(tmp_path: Path) -> None:
    err = _stderr_of([sys.executable, "-c", SEARCH.format(db=tmp_path / "q.db")])
    assert not [line for line in err.splitlines() if is_notice(line)], err
    assert "oneDNN" not in err and "cuInit" not in err


@pytest.mark.parametrize(
    "shown",
    [False, pytest.param(True, marks=pytest.mark.slow)],  # CI runs both
)
def test_the_cli_shows_tensorflows_notices_only_with_tf_logs(tmp_path: Path, shown: bool) -> None:
    argv = cli_search_argv(f"sqlite:///{tmp_path / 'q.db'}", 1, "q", "--epochs", "1", "-q")
    err = _stderr_of([sys.executable, "-m", "adamtune", *argv, *(["--tf-logs"] if shown else [])])
    notices = [line for line in err.splitlines() if is_notice(line)]
    assert bool(notices) == shown, err


@pytest.mark.slow  # one more search in a fresh process; CI runs it in the slow pass
def test_the_env_setting_shows_them_for_a_python_search_too(tmp_path: Path) -> None:
    err = _stderr_of([sys.executable, "-c", SEARCH.format(db=tmp_path / "q.db")], tf_logs="1")
    assert [line for line in err.splitlines() if is_notice(line)], err
