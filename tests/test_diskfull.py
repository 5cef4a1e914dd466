"""A study on a nearly full disk: a clear error naming the path, and a study that still loads.

The disk is a real one: a 6 MiB tmpfs mounted for the test (root only; `.ci/run` runs as root and
fails when a test is skipped), filled with a file until only a little room is left.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli_search_argv, tiny_study

import adamtune
from adamtune.engine._diskfull import disk_full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (.ci/run runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


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
