"""Shared test set-up: quiet TensorFlow, one thread each, small real data sets, PostgreSQL."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Each test's changes to ``os.environ`` undone after it. ``adamtune search`` run in-process
    (``main(["search", ...])``) sets its worker-0 threads (``TF_NUM_INTRAOP_THREADS=1`` with
    two workers) for the rest of the process, as the CLI process should; left there, it reached
    every later test's subprocesses in the same xdist worker."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype("float32"), d.target.astype("int64")


@pytest.fixture(scope="session")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer: features span ~3e-2 to ~4e3, the unscaled-input case."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return d.data.astype("float32"), d.target.astype("int64")


def fixed_space(lr: float = 3e-3, batch: int = 64, epochs: int = 8, **extra: Any) -> Any:
    """One point: every trial trains with the same settings, so only the data's weighting differs."""
    from adamtune.spaces import LearningRate, Space

    return Space(
        name="fixed",
        learning_rate=LearningRate(lr, lr, reference_batch_size=32, rule="none"),
        batch_size=(batch,),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=("standard",),
        epochs=epochs,
        **extra,
    )


def imbalanced(
    n: int = 3000, class_sep: float = 0.6, n_features: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """95/5 binary classes, the minority (class 1) hard to tell apart at a small class_sep."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=n,
        n_features=n_features,
        n_informative=4,
        weights=[0.95, 0.05],
        flip_y=0,
        class_sep=class_sep,
        random_state=0,
    )
    return x.astype("float32"), y.astype("int64")


def mlp(n_in: int, n_out: int, activation: str = "softmax", units: int = 16) -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(n_in,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(n_out, activation=activation),
        ]
    )


def digits_mlp() -> Any:
    """The KerasTuner guide's classifier (a Dense hidden layer, a softmax), for 8x8 digits."""
    return mlp(64, 10, units=32)


@pytest.fixture
def storage(tmp_path: Any) -> str:
    """A fresh SQLite study file per test."""
    return f"sqlite:///{tmp_path / 'study.db'}"


# --- PostgreSQL ------------------------------------------------------------------------------
# `postgres_url` gives each test a fresh database on a real PostgreSQL server: the one named by
# ADAMTUNE_TEST_POSTGRES (an admin URL such as postgresql://postgres:pw@db-host:5432/postgres),
# else a throwaway cluster started here from Debian's binaries (apt-get install postgresql).

PG_ENV = "ADAMTUNE_TEST_POSTGRES"
PG_USER = "adamtune_test"
PG_PASSWORD = "s3cret-pw"  # tests check this string never shows in any output
PG_HOW = (
    "install the PostgreSQL server (`apt-get install postgresql`) or set "
    f"{PG_ENV}=postgresql://ADMIN:PASSWORD@HOST:PORT/postgres to use an existing server"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres: runs against a real PostgreSQL server (the postgres_url fixture; "
        f"{PG_ENV} or local PostgreSQL binaries)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # every test that uses the server carries the marker, declared or not
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


class PostgresServer:
    """A PostgreSQL server the tests may create databases on, and the role that owns them."""

    def __init__(self, host: str, port: int, admin: dict[str, Any]) -> None:
        self.host = host
        self.port = port
        self.admin = admin  # psycopg2.connect() keyword arguments of a superuser

    def execute(self, *statements: str) -> None:
        import psycopg2

        conn = psycopg2.connect(**self.admin)
        try:
            conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()

    def ensure_role(self) -> None:
        import psycopg2

        conn = psycopg2.connect(**self.admin)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (PG_USER,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(f"{verb} ROLE {PG_USER} LOGIN PASSWORD %s", (PG_PASSWORD,))
        finally:
            conn.close()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://{PG_USER}:{PG_PASSWORD}@{self.host}:{self.port}/{database}"

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database owned by the tests' role, dropped after: its URL."""
        name = f"adamtune_test_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name} OWNER {PG_USER}")
        try:
            yield self.url(name)
        finally:
            # FORCE: the test's own SQLAlchemy pools (optuna.load_study) still hold connections.
            self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _pg_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []

    def version(path: Path) -> tuple[int, ...]:
        parts = path.parent.name.split(".")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (0,)

    candidates += sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=version,
        reverse=True,
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _external_server(admin_url: str) -> PostgresServer:
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    host = url.host or "127.0.0.1"
    port = url.port or 5432
    admin = {
        "host": host,
        "port": port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database or "postgres",
        "connect_timeout": 10,
    }
    return PostgresServer(host, port, {k: v for k, v in admin.items() if v is not None})


@contextlib.contextmanager
def _throwaway_server() -> Iterator[PostgresServer]:
    """initdb a cluster in a temporary folder, serve it on 127.0.0.1, stop and delete it after."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip(f"no PostgreSQL binaries (initdb, pg_ctl) found: {PG_HOW}")
    prefix: list[str] = []
    owner: tuple[int, int] | None = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        import pwd

        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip(
                f"running as root and there is no 'postgres' user to run the server: {PG_HOW}"
            )
        prefix = ["runuser", "-u", "postgres", "--"]
        owner = (entry.pw_uid, entry.pw_gid)
    # Not under pytest's basetemp (nor $TMPDIR, as root): 0700 root-owned parents would lock
    # the postgres user out. A short path, too: the server's socket goes in this folder.
    folder = Path(tempfile.mkdtemp(prefix="adamtune-pg-", dir="/tmp" if owner else None))
    data, log = folder / "data", folder / "server.log"
    if owner is not None:
        os.chown(folder, *owner)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, *args], cwd=folder, capture_output=True, text=True, timeout=120
        )

    started = False
    try:
        init = run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "--username=postgres",
            "--auth-local=trust",  # the admin connects over the socket in `folder`
            "--auth-host=scram-sha-256",  # the tests' role connects over TCP with its password
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        for _attempt in range(5):  # another process may take the free port before the server
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            pg_ctl = str(bindir / "pg_ctl")
            start = run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
            if start.returncode == 0:
                started = True
                break
            server_log = log.read_text(errors="replace") if log.exists() else ""
            if "could not bind" not in server_log and "in use" not in server_log:
                break
        if not started:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(
                f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{server_log}"
            )
        admin = {"host": str(folder), "port": port, "user": "postgres", "dbname": "postgres"}
        yield PostgresServer("127.0.0.1", port, admin)
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for the whole session ($ADAMTUNE_TEST_POSTGRES, or our own)."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("psycopg2 is not installed: pip install -e '.[dev]' (psycopg2-binary)")
    admin_url = os.environ.get(PG_ENV)
    running: contextlib.AbstractContextManager[PostgresServer] = (
        contextlib.nullcontext(_external_server(admin_url)) if admin_url else _throwaway_server()
    )
    with running as server:
        server.ensure_role()
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database for this test, as a SQLAlchemy URL with the role's password:
    ``postgresql+psycopg2://adamtune_test:s3cret-pw@127.0.0.1:PORT/adamtune_test_<hex>``."""
    with postgres_server.database() as url:
        yield url


DIGITS_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits.py"

# The environment of a `python -m adamtune` child: TensorFlow quiet and on one thread, and no
# storage or trust opt-in inherited from the shell that runs the tests.
CHILD_ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
for _inherited in ("ADAMTUNE_STORAGE", "ADAMTUNE_TRUST_STORAGE"):
    CHILD_ENV.pop(_inherited, None)


def run_adamtune(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m adamtune ARGS`` in ``cwd``, its output captured as text (``env``: CHILD_ENV)."""
    return subprocess.run(
        [sys.executable, "-m", "adamtune", *args],
        capture_output=True,
        text=True,
        env=CHILD_ENV if env is None else env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def cli_search_argv(storage: str | None, trials: int, study: str, *extra: str) -> list[str]:
    """``adamtune search`` arguments for the digits example: quick space, 2 epochs per trial."""
    argv = [
        *("search", f"{DIGITS_EXAMPLE}:build_model", "--data", f"{DIGITS_EXAMPLE}:load_data"),
        *("--space", "quick", "--epochs", "2", "--trials", str(trials), "--study", study),
        *extra,
    ]
    return argv if storage is None else [*argv, "--storage", storage]


def tiny_study(storage: str, study: str, **options: Any) -> Any:
    """A one-trial study made from Python (not by the CLI), on the conformance model and data."""
    import adamtune
    from adamtune.testing import conformance_data, conformance_model

    settings: dict[str, Any] = {"space": "quick", "epochs": 1, "trials": 1, "verbose": 0, **options}
    return adamtune.search(
        conformance_model, conformance_data(), storage=storage, study_name=study, **settings
    )


def signal_when(
    argv: list[str],
    storage: str,
    study_name: str,
    cwd: Path,
    ready: Callable[[Any], bool],
    signum: int,
) -> tuple[subprocess.Popen[str], str]:
    """Start ``adamtune ARGV``, send it ``signum`` once its study is ``ready``: the process, and
    its standard error (its helpers' too)."""
    import time

    import optuna

    proc = subprocess.Popen(
        [sys.executable, "-m", "adamtune", *argv],
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=CHILD_ENV,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, "the search ended before it could be stopped"
            assert time.monotonic() < deadline, "the study never reached the awaited state"
            try:
                study = optuna.load_study(study_name=study_name, storage=storage)
            except KeyError:
                study = None
            if study is not None and ready(study):
                break
            time.sleep(0.2)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return proc, err
