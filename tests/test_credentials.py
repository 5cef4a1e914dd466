"""A password in the storage URL never reaches anything adamtune prints, writes or stores.

The heavy test runs a real study on PostgreSQL (the ``postgres_server`` fixture of
tests/conftest.py) under a role whose password is plain, or holds ``/``, ``?``, an escaped ``@``
and an escaped ``%``, then greps every output for it, in every form it could take (as typed in the
URL, decoded, percent-encoded): the search's and a worker's stdout and stderr, the command line of
every process (what ``ps`` shows), ``status`` (text and JSON), ``export`` (.json, .yaml, .py),
``report`` (HTML, from the CLI and from Python), the dashboard's pages, every file written in the
working folder, the error messages of refused and failed connections, and every row of the study
database itself. The light tests check the error messages that need no server.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import CHILD_ENV, DIGITS_EXAMPLE, cli_search_argv, run_adamtune

from adamtune.cli import main

if TYPE_CHECKING:
    from conftest import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
STUDY = "cred"
SPECIAL_ROLE = "adamtune_special"
SPECIAL_PASSWORD = "pw-Zq7/w?x@y%z"  # "/" and "?" raw in the URL, "@" and "%" escaped
SPECIAL_IN_URL = "pw-Zq7/w?x%40y%25z"
# One thread per process, no TensorFlow chatter; the URL comes from $ADAMTUNE_STORAGE, so no
# command line of ours carries it (except the dashboard's, which has no such variable).
ENV = CHILD_ENV


def typed_password(url: str) -> str:
    """The password as written in ``url``: in ``?password=``, else after the user's ":"."""
    query = re.search(r"[?&]password=([^&]*)", url)
    if query:
        return query.group(1)
    return url.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1]


def secrets(url: str) -> list[str]:
    """Every form the password of ``url`` could be shown in: as typed, decoded, encoded."""
    typed = typed_password(url)
    assert typed, f"the URL must carry a password: {url!r}"
    password = urllib.parse.unquote(typed)
    return sorted({password, typed, urllib.parse.quote(password, safe="")})


def leaks(outputs: dict[str, str], forms: list[str]) -> list[str]:
    """``label: ...context...`` for every output holding one of ``forms``."""
    found = []
    for label, text in outputs.items():
        for form in forms:
            at = text.find(form)
            if at >= 0:
                found.append(f"{label}: ...{text[max(0, at - 60) : at + len(form) + 20]!r}...")
    return found


# --- without a server ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg2://u:{SPECIAL_IN_URL}@127.0.0.1:1/db",  # nothing listens on port 1
        "postgresql://u:s3cret-pw@127.0.0.1:1/db",
        "postgresql://u@127.0.0.1:1/db?password=s3cret-pw&sslmode=disable",
        "postgresql://u:s3cret-pw@127.0.0.1:notaport/db",
        "mysql://u:s3cret-pw@127.0.0.1:1/db",  # its driver is not installed: another error
    ],
)
def test_failed_connections_never_show_the_password(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for argv in (["status"], ["export", "-o", str(tmp_path / "never.json")]):
        assert main([*argv, "--storage", url, "--study", "s"]) == 2
        captured = capsys.readouterr()
        assert "cannot open storage " in captured.err, captured.err
        assert "***" in captured.err, captured.err
        assert not leaks({"stdout": captured.out, "stderr": captured.err}, secrets(url))


# (URL, masked): every password-like query key, any spelling, and the user-info password.
MASKED = [
    ("postgresql://u:pw@db:5432/x", "postgresql://u:***@db:5432/x"),
    (
        "postgresql://db/x?sslpassword=pw&sslmode=require",
        "postgresql://db/x?sslpassword=***&sslmode=require",
    ),
    ("mysql://u@db/x?passwd=pw&charset=utf8", "mysql://u@db/x?passwd=***&charset=utf8"),
    ("mssql+pyodbc://u@db/x?PWD=pw&driver=d", "mssql+pyodbc://u@db/x?PWD=***&driver=d"),
    ("postgresql://db/x?a=1&Password=pw", "postgresql://db/x?a=1&Password=***"),
    ("postgresql://db/x?pass=pw", "postgresql://db/x?pass=***"),
    ("db2://db/x?secret=pw;client_secret=pw", "db2://db/x?secret=***;client_secret=***"),
    (
        "snowflake://u@acct/db?token=pw&authenticator=oauth",
        "snowflake://u@acct/db?token=***&authenticator=oauth",
    ),
    ("bigquery://p/d?credentials_base64=pw", "bigquery://p/d?credentials_base64=***"),
    (
        "x://db/d?api_key=pw&access_key=pw&sslkey=/k.pem",
        "x://db/d?api_key=***&access_key=***&sslkey=***",
    ),
    ("x://db/d?pass%77ord=pw", "x://db/d?pass%77ord=***"),  # an escaped key name
    ("mysql://u@db/x?passwd=p&w&b=1", "mysql://u@db/x?passwd=***&***&b=1"),  # raw "&" in it
    ("postgresql://u:p@w@db/x?sslpassword=pw", "postgresql://u:***@db/x?sslpassword=***"),
    ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
    # Nothing secret: left alone.
    ("postgresql://u@db:5432/x?sslmode=require", "postgresql://u@db:5432/x?sslmode=require"),
    ("sqlite:///runs/a.db", "sqlite:///runs/a.db"),
    ("journal:///runs/a.log", "journal:///runs/a.log"),
]


@pytest.mark.parametrize(("url", "masked"), MASKED, ids=[u.split("?")[-1] for u, _ in MASKED])
def test_mask_url_hides_every_password_like_value(url: str, masked: str) -> None:
    from adamtune.engine import mask_url

    assert mask_url(url) == masked
    assert "pw" not in mask_url(url)


def test_the_workers_option_error_masks_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://u:{SPECIAL_IN_URL}@db/x"
    argv = cli_search_argv(url, 1, "s", "--workers", "2", "--strategy", "kt-random")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--workers shares one Optuna study" in err
    assert "--storage postgresql://u:***@db/x" in err
    assert not leaks({"stderr": err}, secrets(url))


def test_a_url_given_to_a_kerastuner_strategy_is_masked_in_the_error() -> None:
    import numpy as np

    import adamtune

    url = f"postgresql://u:{SPECIAL_IN_URL}@db/x"
    with pytest.raises(ValueError, match="KerasTuner strategies keep their study in a directory"):
        try:
            adamtune.search(
                lambda: None, (np.zeros((8, 2)), np.zeros(8)), strategy="kt-random", storage=url
            )
        except ValueError as exc:
            assert not leaks({"error": str(exc)}, secrets(url)), str(exc)
            raise


def test_the_study_log_masks_what_it_writes(tmp_path: Path) -> None:
    from adamtune._studylog import StudyLog, log_path

    url = f"postgresql://u:{SPECIAL_IN_URL}@db/x"
    assert log_path(url, STUDY) is None  # a server storage has no local folder: no log file
    log = StudyLog(tmp_path / "s.log")
    log(f"cannot open storage {url}: OperationalError", warning=True)
    log(f"resumed from postgresql://db/x?password={SPECIAL_IN_URL}")
    log.close()
    text = (tmp_path / "s.log").read_text()
    assert "cannot open storage postgresql://u:***@db/x" in text
    assert not leaks({"log": text}, secrets(url))


# --- a real study on PostgreSQL ------------------------------------------------------------------


@contextlib.contextmanager
def special_database(server: PostgresServer) -> Iterator[str]:
    """A database owned by a role whose password holds / ? @ %: its URL."""
    server.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{SPECIAL_ROLE}') THEN CREATE ROLE {SPECIAL_ROLE}; END IF; END $$",
        f"ALTER ROLE {SPECIAL_ROLE} LOGIN PASSWORD '{SPECIAL_PASSWORD}'",
    )
    name = f"adamtune_test_{uuid.uuid4().hex[:12]}"
    server.execute(f"CREATE DATABASE {name} OWNER {SPECIAL_ROLE}")
    try:
        yield (
            f"postgresql+psycopg2://{SPECIAL_ROLE}:{SPECIAL_IN_URL}@"
            f"{server.host}:{server.port}/{name}"
        )
    finally:
        server.execute(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"DROP ROLE IF EXISTS {SPECIAL_ROLE}"
        )


@pytest.fixture(params=["plain", "special"])
def password_url(request: pytest.FixtureRequest, postgres_server: PostgresServer) -> Iterator[str]:
    """The conftest database (password ``s3cret-pw``), or one whose password holds / ? @ %."""
    if request.param == "plain":
        with postgres_server.database() as url:
            yield url
    else:
        with special_database(postgres_server) as url:
            yield url


def _adamtune(
    cwd: Path, *args: str, storage: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = ENV if storage is None else {**ENV, "ADAMTUNE_STORAGE": storage}
    return run_adamtune(*args, cwd=cwd, env=env, timeout=timeout)


def _parent_of(pid: str) -> int | None:
    """The parent pid of ``pid`` (``/proc/PID/stat``: the field after the name, which may hold
    spaces and parentheses, so read from its last ``)``), or None when it is gone."""
    try:
        stat = (Path("/proc") / pid / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _cmdlines(root: int) -> dict[int, list[str]]:
    """The whole argv of every running process that mentions adamtune and descends from
    ``root`` (what ``ps`` would show of the processes this test started).

    Read from ``/proc/PID/cmdline`` (never cut, unlike ``ps`` at a terminal's width), split on its
    NUL separators so that a path with spaces stays one argument. Only ``root``'s descendants:
    under ``pytest -n 2`` the other test process runs adamtune commands of its own (one passes a
    password on its command line on purpose), and they are not this test's to judge.
    """
    pids = [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    parents = {int(pid): _parent_of(pid) for pid in pids}

    def descends(pid: int) -> bool:
        seen: set[int] = set()
        while pid not in seen and pid > 1:
            if pid == root:
                return True
            seen.add(pid)
            pid = parents.get(pid) or 0
        return False

    found = {}
    for pid in pids:
        if int(pid) == root or not descends(int(pid)):
            continue
        try:
            raw = (Path("/proc") / pid / "cmdline").read_bytes()
        except OSError:
            continue
        argv = [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]
        if any("adamtune" in part for part in argv):
            found[int(pid)] = argv
    return found


def _is_adamtune_worker(argv: list[str]) -> bool:
    """``python -m adamtune worker ...``: not merely a line holding " worker " and "adamtune".

    PostgreSQL renames its processes, and an autovacuum run on a test database shows as
    ``postgres: autovacuum worker adamtune_test_...``: a substring test counted it as a worker.
    """
    return any(argv[i : i + 3] == ["-m", "adamtune", "worker"] for i in range(len(argv)))


@contextlib.contextmanager
def watching_ps() -> Iterator[dict[int, list[str]]]:
    """Every adamtune command line of this process's descendants seen while the block runs,
    polled every 50 ms."""
    seen: dict[int, list[str]] = {}
    done = threading.Event()
    root = os.getpid()

    def poll() -> None:
        while not done.is_set():
            seen.update(_cmdlines(root))
            time.sleep(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dashboard_pages(url: str, folder: Path) -> dict[str, str]:
    """Start ``adamtune dashboard`` on the study; every page it serves about it, and its stderr."""
    port = _free_port()
    err_file = folder / "dashboard.err"
    base = f"http://127.0.0.1:{port}"
    pages: dict[str, str] = {}
    with err_file.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adamtune", "dashboard", "--storage", url, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=ENV,
            cwd=folder,
        )
    try:
        deadline = time.monotonic() + 60
        while "studies" not in pages:
            assert proc.poll() is None, err_file.read_text()
            assert time.monotonic() < deadline, err_file.read_text()
            try:
                with urllib.request.urlopen(f"{base}/api/studies", timeout=2) as answer:
                    pages["studies"] = answer.read().decode()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        study_id = json.loads(pages["studies"])["study_summaries"][0]["study_id"]
        for path in ("/", "/api/meta", f"/api/studies/{study_id}", f"/csv/{study_id}"):
            with urllib.request.urlopen(base + path, timeout=30) as answer:
                pages[path] = answer.read().decode(errors="replace")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    pages["stderr"] = err_file.read_text()
    return {f"dashboard {k}": v for k, v in pages.items()}


def _database_rows(server: PostgresServer, url: str) -> str:
    """Every row of every table of the study database, as text."""
    import psycopg2
    from sqlalchemy.engine import make_url

    conn = psycopg2.connect(**{**server.admin, "dbname": make_url(url).database})
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = [row[0] for row in cur.fetchall()]
            assert "trials" in tables, tables
            rows = []
            for table in tables:
                cur.execute(f'SELECT * FROM "{table}"')
                rows += [f"{table}: {row!r}" for row in cur.fetchall()]
    finally:
        conn.close()
    return "\n".join(rows)


def _files(folder: Path) -> dict[str, str]:
    return {
        f"file {path.relative_to(folder)}": path.read_bytes().decode("latin-1")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_nothing_adamtune_prints_writes_or_stores_holds_the_password(
    password_url: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    from adamtune._studylog import log_path
    from adamtune.cli._commands import open_result
    from adamtune.engine import mask_url
    from adamtune.report import write_report

    url = password_url
    forms = secrets(url)
    masked = mask_url(url)
    assert "***" in masked and not leaks({"masked": masked}, forms)
    out: dict[str, str] = {}

    def record(label: str, done: subprocess.CompletedProcess[str], code: int = 0) -> None:
        out[f"{label} stdout"], out[f"{label} stderr"] = done.stdout, done.stderr
        assert done.returncode == code, f"{label}: exit {done.returncode}\n{done.stderr[-3000:]}"

    # A search with a second worker process, progress lines on (not -q), the best config exported.
    argv = cli_search_argv(None, 3, STUDY, "--workers", "2", "--seed", "0", "-o", "tuned.json")
    with watching_ps() as seen:
        record("search", _adamtune(tmp_path, *argv, storage=url))
    workers = [argv for argv in seen.values() if _is_adamtune_worker(argv)]
    assert workers, f"no worker process seen: {seen}"
    # The helper imports the parent's targets, from its command line, not from the storage.
    model = f"{DIGITS_EXAMPLE}:build_model"
    assert all(argv[argv.index("--model") + 1] == model for argv in workers), workers
    out["ps"] = "\n".join(" ".join(argv) for argv in seen.values())
    assert "best val_loss=" in out["search stdout"]
    # A worker joining a study that has reached its target: it says so, and stops.
    record(
        "worker", _adamtune(tmp_path, "worker", "--study", STUDY, "--trust-storage", storage=url)
    )
    assert "nothing to run" in out["worker stderr"]

    study = ("--study", STUDY)
    record("status", _adamtune(tmp_path, "status", *study, storage=url))
    assert f"study {STUDY} in {masked}:" in out["status stdout"]
    record("status json", _adamtune(tmp_path, "status", *study, "--json", storage=url))
    assert json.loads(out["status json stdout"])["storage"] == masked
    for suffix in ("json", "yaml", "py"):
        record(
            f"export {suffix}",
            _adamtune(tmp_path, "export", *study, "-o", f"x.{suffix}", storage=url),
        )
    record("report", _adamtune(tmp_path, "report", *study, "-o", "report.html", storage=url))

    # From Python: the report finds the URL in the study itself, and masks it.
    result = open_result(url, STUDY)
    write_report(result, tmp_path / "api-report.html")
    assert "***@" in (tmp_path / "api-report.html").read_text()
    result.export(tmp_path / "api.py")
    out["repr"] = repr(result)

    # Errors: a wrong password, a refused strategy, a study that is not there, a kt-* --workers.
    typed = typed_password(url)
    wrong = url.replace(f":{typed}@", f":{typed}-x9@", 1)
    record("wrong password", _adamtune(tmp_path, "status", *study, storage=wrong), code=2)
    assert "cannot open storage " in out["wrong password stderr"]
    forms += secrets(wrong)
    record(
        "cmaes refused",
        _adamtune(tmp_path, *cli_search_argv(None, 1, "c", "--strategy", "cmaes"), storage=url),
        code=2,
    )
    assert "keeps the CMA-ES optimizer pickled" in out["cmaes refused stderr"]
    record(
        "missing study",
        _adamtune(
            tmp_path, "worker", "--study", "absent", "--wait", "0", "--trust-storage", storage=url
        ),
        code=2,
    )
    record("untrusted worker", _adamtune(tmp_path, "worker", "--study", STUDY, storage=url), code=2)
    assert "is shared, so the MODEL and --data targets" in out["untrusted worker stderr"]
    record(
        "kt workers",
        _adamtune(
            tmp_path,
            *cli_search_argv(None, 1, "k", "--workers", "2", "--strategy", "kt-random"),
            storage=url,
        ),
        code=2,
    )

    out.update(_dashboard_pages(url, tmp_path))
    # Everything written in the working folder: exports, reports, and no study log for a server.
    assert log_path(url, STUDY) is None
    files = _files(tmp_path)
    assert {"file tuned.json", "file x.py", "file report.html", "file api-report.html"} <= set(
        files
    ), sorted(files)
    assert not [name for name in files if name.endswith(".log")], sorted(files)
    out.update(files)
    out["database"] = _database_rows(postgres_server, url)
    assert DIGITS_EXAMPLE.name in out["database"]  # the rows really were read

    found = leaks(out, forms)
    assert not found, "the password leaked:\n" + "\n".join(found)


def test_the_secret_forms_cover_the_escaped_characters() -> None:
    url = f"postgresql+psycopg2://r:{SPECIAL_IN_URL}@h:5/d"
    assert secrets(url) == sorted({SPECIAL_PASSWORD, SPECIAL_IN_URL, "pw-Zq7%2Fw%3Fx%40y%25z"})
    assert leaks({"x": f"at {SPECIAL_PASSWORD}!"}, secrets(url))
    assert not leaks({"x": "postgresql+psycopg2://r:***@h:5/d"}, secrets(url))
