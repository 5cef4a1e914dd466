"""``adamtune dashboard``: a real optuna-dashboard server in a subprocess (no TensorFlow)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adamtune.cli._dashboard import _is_loopback

pytest.importorskip("optuna_dashboard")
optuna = pytest.importorskip("optuna")

STUDY = "dash"

# Until `dashboard` is wired into adamtune.cli.build_parser, run the real main() with a parser
# that has it added; once wired this shim is a no-op (and `python -m adamtune` is used anyway).
_SHIM = """
import argparse, sys
import adamtune.cli as cli
_build = cli.build_parser
def build_parser():
    parser = _build()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "dashboard" not in sub.choices:
        from adamtune.cli._dashboard import add_parser
        add_parser(sub)
    return parser
cli.build_parser = build_parser
sys.exit(cli.main(sys.argv[1:]))
"""


def _wired() -> bool:
    from adamtune.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return "dashboard" in sub.choices


def _command(*args: str) -> list[str]:
    """``adamtune dashboard ARGS`` as a command line for a fresh interpreter."""
    if _wired():
        return [sys.executable, "-m", "adamtune", "dashboard", *args]
    return [sys.executable, "-c", _SHIM, "dashboard", *args]


def _sigint_default() -> None:  # pragma: no cover - runs in the child before exec
    # A shell that starts pytest in the background ignores SIGINT, and the child would inherit
    # that; Python only turns SIGINT into KeyboardInterrupt when it starts with the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), capture_output=True, text=True, timeout=timeout, check=False
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same small study in a SQLite file (d.db) and in a journal file (d.log)."""
    folder = tmp_path_factory.mktemp("dash")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "d.log"))
    )
    for storage in (f"sqlite:///{folder / 'd.db'}", journal):
        study = optuna.create_study(storage=storage, study_name=STUDY)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    return folder


@pytest.fixture(scope="module")
def storage_url(study_dir: Path) -> str:
    return f"sqlite:///{study_dir / 'd.db'}"


@pytest.fixture(scope="module")
def journal_url(study_dir: Path) -> str:
    return f"journal:///{study_dir / 'd.log'}"


@contextmanager
def _server(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A running ``adamtune dashboard``; its stderr goes to a file. Killed on the way out."""
    err = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            _command(*args),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=_sigint_default if os.name == "posix" else None,
        )
    try:
        yield proc, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _get_studies(proc: subprocess.Popen[bytes], err: Path, port: int) -> dict[str, object]:
    """Poll ``/api/studies`` until it answers 200 (optuna-dashboard takes seconds to import)."""
    url = f"http://127.0.0.1:{port}/api/studies"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {err.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                assert response.status == 200
                body: dict[str, object] = json.loads(response.read())
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"no answer from {url}: {err.read_text()}")


def _names(body: dict[str, object]) -> list[str]:
    summaries = body["study_summaries"]
    assert isinstance(summaries, list)
    return [s["study_name"] for s in summaries]


def test_serves_the_study_on_loopback_and_stops_on_ctrl_c(storage_url: str, tmp_path: Path) -> None:
    port = _free_port()
    with _server(tmp_path, "--storage", storage_url, "--port", str(port)) as (proc, err):
        assert STUDY in _names(_get_studies(proc, err, port))
        if os.name == "posix":  # Ctrl-C takes main()'s KeyboardInterrupt path
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 130
    stderr = err.read_text()
    assert f"http://127.0.0.1:{port}/" in stderr
    assert storage_url in stderr
    assert "WARNING" not in stderr
    if os.name == "posix":
        assert "adamtune dashboard: interrupted" in stderr


# wsgiref's request handler catches every exception while it answers, KeyboardInterrupt
# included: this app presses Ctrl-C in the middle of its own answer.
_CTRL_C_MID_REQUEST = """
import os, signal, sys
from adamtune.cli._dashboard import _serve

def app(environ, start_response):
    os.kill(os.getpid(), signal.SIGINT)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

_serve(app, "127.0.0.1", int(sys.argv[1]))
print("stopped", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_a_ctrl_c_that_lands_while_a_request_is_answered_still_stops_the_server() -> None:
    # optuna_dashboard.run_server (bottle on wsgiref) logged this one and served on: the
    # dashboard test above then waited in vain when its Ctrl-C came just after its request.
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CTRL_C_MID_REQUEST, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_default,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            except urllib.error.HTTPError as exc:  # wsgiref answers 500: the app was interrupted
                assert exc.code == 500
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out == "stopped\n"
    assert "KeyboardInterrupt" in err  # wsgiref's log of the answer it could not finish


def test_non_loopback_host_warns(journal_url: str, tmp_path: Path) -> None:
    # Also the journal storage: open_storage gives optuna-dashboard a JournalStorage object.
    port = _free_port()
    args = ("--storage", journal_url, "--host", "0.0.0.0", "--port", str(port))
    with _server(tmp_path, *args) as (proc, err):
        assert STUDY in _names(_get_studies(proc, err, port))
    stderr = err.read_text()
    assert f"http://0.0.0.0:{port}/" in stderr
    assert "WARNING" in stderr
    assert "reachable from the network" in stderr
    assert "no authentication" in stderr
    assert "change or delete" in stderr
    assert "SSH tunnel" in stderr


def test_password_is_never_shown() -> None:
    done = _run("--storage", "postgresql://u:hunter2@127.0.0.1:1/x", "--port", str(_free_port()))
    assert done.returncode == 2, done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert "adamtune dashboard: error: cannot open storage postgresql://u:***@127.0.0.1:1/x" in (
        done.stderr
    )


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_bad_port(storage_url: str, port: str) -> None:
    done = _run("--storage", storage_url, "--port", port)
    assert done.returncode == 2
    assert f"--port must be between 1 and 65535. Received: --port={port}" in done.stderr


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_missing_study_file_is_not_created(tmp_path: Path, scheme: str) -> None:
    path = tmp_path / "typo" / "d.db"
    done = _run("--storage", f"{scheme}:///{path}", "--port", str(_free_port()))
    assert done.returncode == 2
    assert f"--storage must name an existing study file. Received: --storage={scheme}:///" in (
        done.stderr
    )
    assert not path.parent.exists()


def test_without_optuna_dashboard(storage_url: str) -> None:
    code = "import sys; sys.modules['optuna_dashboard'] = None\n" + _SHIM
    done = subprocess.run(
        [sys.executable, "-c", code, "dashboard", "--storage", storage_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "adamtune dashboard needs optuna-dashboard: pip install 'adamtune[dashboard]'" in (
        done.stderr
    )


def test_module_import_is_light() -> None:
    code = (
        "import sys, adamtune.cli._dashboard; "
        "print(sorted(m for m in ('optuna', 'optuna_dashboard') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
