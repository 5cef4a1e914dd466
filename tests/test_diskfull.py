"""A study on a nearly full disk: a clear error naming the path, and a study that still loads.

The disk is a real one: a 6 MiB tmpfs mounted for the test (root only; `.ci/run` runs as root and
fails when a test is skipped), filled with a file until only a little room is left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import PG_ENV, PG_USER, cli_search_argv, tiny_study

import adamtune
from adamtune.engine._diskfull import disk_full

if TYPE_CHECKING:
    from conftest import PostgresServer


@contextlib.contextmanager
def _tmpfs(mount: Path, options: str = "") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (.ci/run runs as root)")
    mount.mkdir(exist_ok=True)
    size = f"size=6m{options}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with _tmpfs(tmp_path / "disk") as mount:
        yield mount


def _fill(disk: Path, leave: int) -> Path:
    """Take all but ``leave`` bytes of ``disk``'s free space with one file."""
    filler = disk / "filler.bin"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("wb") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


def test_full_disk_errors_are_recognised_through_their_wrappers() -> None:
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise RuntimeError("storage write failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert disk_full(Exception("(sqlite3.OperationalError) database or disk is full"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    # SQLite's plain "disk I/O error" counts only where the disk really has (almost) no room.
    io_error = Exception("(sqlite3.OperationalError) disk I/O error")
    assert not disk_full(io_error)
    assert not disk_full(io_error, Path("/tmp") / "study.db")
    assert not disk_full(ValueError("trials must be >= 1"))


@pytest.mark.parametrize("leave", [0, 48 * 1024], ids=["full", "nearly-full"])
def test_a_search_on_a_full_disk_stops_naming_the_path_and_the_study_still_loads(
    small_disk: Path, leave: int
) -> None:
    import optuna

    storage = f"sqlite:///{small_disk / 'study.db'}"
    tiny_study(storage, "s")  # one finished trial, written while there was room
    filler = _fill(small_disk, leave)
    if leave == 0:
        assert disk_full(Exception("disk I/O error"), small_disk / "study.db")
    with pytest.raises(adamtune.StorageFullError, match=rf"disk holding {small_disk}.* is full"):
        tiny_study(storage, "s", trials=30)
    filler.unlink()

    study = optuna.load_study(study_name="s", storage=storage)
    finished = [t for t in study.trials if t.state.is_finished()]
    assert finished and finished[0].state == optuna.trial.TrialState.COMPLETE
    # The same command resumes once there is room again, and reaches its target.
    result = tiny_study(storage, "s", trials=3)
    assert len([t for t in result.study.trials if t.state.is_finished()]) >= 3


@pytest.mark.slow  # two `python -m adamtune` processes
def test_the_cli_says_stopped_with_the_path(small_disk: Path) -> None:
    storage = f"sqlite:///{small_disk / 'study.db'}"
    argv = ["-m", "adamtune", *cli_search_argv(storage, 1, "cli", "-q")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    _fill(small_disk, 0)
    argv[argv.index("--trials") + 1] = "5"
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"adamtune search: stopped: the disk holding {small_disk}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("leave", [0, 6 * 1024, 48 * 1024], ids=["full", "a-page", "nearly-full"])
def test_a_journal_on_a_full_disk_stops_naming_the_path_and_the_study_still_loads(
    small_disk: Path, leave: int
) -> None:
    """The journal's append is cut back when the disk fills part way through a record: the file
    ends with a whole record, nothing is left for the next open to cut, and the study loads."""
    import optuna

    from adamtune.engine import open_storage

    path = small_disk / "study.log"
    storage = f"journal:///{path}"
    tiny_study(storage, "s")
    filler = _fill(small_disk, leave)
    with pytest.raises(adamtune.StorageFullError, match=rf"disk holding {path} is full"):
        tiny_study(storage, "s", trials=30)
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a torn record was left at the end of the journal"
    assert not list(small_disk.glob("study.log.torn-*"))
    assert not (small_disk / "study.log.lock").exists()

    # Loadable while the disk is still full: looking at a study writes nothing.
    study = optuna.load_study(study_name="s", storage=open_storage(storage, readonly=True))
    finished = [t for t in study.trials if t.state.is_finished()]
    assert finished and finished[0].state == optuna.trial.TrialState.COMPLETE
    filler.unlink()
    result = tiny_study(storage, "s", trials=3)
    assert len([t for t in result.study.trials if t.state.is_finished()]) >= 3
    assert path.read_bytes().startswith(data)  # resumed after the last whole record


@pytest.mark.slow  # a PostgreSQL database on a 6 MiB tablespace, filled
def test_a_search_on_postgresql_stops_when_the_server_disk_fills_and_the_study_loads(
    postgres_server: PostgresServer,
) -> None:
    """The server's tablespace is the small tmpfs: PostgreSQL reports "could not extend file":
    No space left on device (SQLSTATE 53100), its transaction rolls back, the study loads."""
    import pwd
    import uuid

    import optuna

    if os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} names a server whose disk this test cannot fill")
    entry = pwd.getpwnam("postgres")
    # Not under pytest's basetemp, whose 0700 root-owned parents lock the postgres user out.
    folder = Path(tempfile.mkdtemp(prefix="adamtune-full-", dir="/tmp"))
    owner = f",uid={entry.pw_uid},gid={entry.pw_gid},mode=0700"
    name = f"adamtune_full_{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        os.chmod(folder, 0o755)
        small_disk = stack.enter_context(_tmpfs(folder / "disk", owner))
        place = small_disk / "pg"
        place.mkdir()
        os.chown(place, entry.pw_uid, entry.pw_gid)
        postgres_server.execute(f"CREATE TABLESPACE {name} LOCATION '{place}'")
        stack.callback(
            postgres_server.execute,
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
            f"DROP TABLESPACE IF EXISTS {name}",
        )
        postgres_server.execute(f"CREATE DATABASE {name} OWNER {PG_USER} TABLESPACE {name}")
        url = postgres_server.url(name)
        tiny_study(url, "s")
        filler = _fill(small_disk, 0)
        with pytest.raises(adamtune.StorageFullError, match=r"database server .* disk full"):
            tiny_study(url, "s", trials=60)
        filler.unlink()
        study = optuna.load_study(study_name="s", storage=url)
        finished = [t for t in study.trials if t.state.is_finished()]
        assert finished and finished[0].state == optuna.trial.TrialState.COMPLETE
        result = tiny_study(url, "s", trials=len(finished) + 1)
        assert len([t for t in result.study.trials if t.state.is_finished()]) > len(finished)
        del study, result
