"""Storages that survive crashes: journal repair, leases, dead workers, WAL; no TensorFlow here."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import DIGITS_EXAMPLE
from optuna.trial import TrialState

from adamtune._util import seconds_until
from adamtune.cli._lifecycle import Recycler
from adamtune.cli._workers import parse_devices, worker_env
from adamtune.engine import local_file, mask_url, open_storage
from adamtune.engine._journal import JournalDamaged, recover_journal
from adamtune.engine._process import is_dead, rss_mb, worker_identity

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _fail_stale(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _journal_study(path: Path, n: int = 3) -> None:
    study = optuna.create_study(storage=open_storage(f"journal:///{path}"), study_name="j")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)


def test_a_torn_last_record_is_cut_off_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    _journal_study(path)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"op_code": 5, "worker_id": "a-1", "trial_id": 0, "para')
    with pytest.warns(UserWarning, match=r"last record was torn \(\d+ bytes.*kept in .*torn-"):
        storage = open_storage(f"journal:///{path}")
    assert path.read_bytes() == whole
    (aside,) = tmp_path.glob("s.log.torn-*")
    assert aside.read_bytes().startswith(b'{"op_code": 5')
    study = optuna.load_study(study_name="j", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # appends cleanly again
    again = optuna.load_study(study_name="j", storage=open_storage(f"journal:///{path}"))
    assert [t.state for t in again.trials] == [TrialState.COMPLETE] * 4


def test_a_last_record_of_garbage_with_a_newline_is_also_cut(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    _journal_study(path, 1)
    whole = path.read_bytes()
    path.write_bytes(whole + b"\x00\x00\x00\n")
    report = recover_journal(path)
    assert report is not None and "4 bytes" in report
    assert path.read_bytes() == whole
    assert recover_journal(path) is None  # a clean file is left alone


def test_damage_before_the_last_record_is_refused_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    _journal_study(path)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:10]
    path.write_bytes(b"\n".join(lines))
    before = path.read_bytes()
    with pytest.raises(JournalDamaged, match=r"damaged at line 3 of \d+.*head -n 2"):
        open_storage(f"journal:///{path}")
    assert path.read_bytes() == before


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_a_trial_of_a_dead_local_process_is_failed_and_queued_again(
    tmp_path: Path, scheme: str
) -> None:
    url = f"{scheme}:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=open_storage(url), study_name="d")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    orphan = study.ask()
    orphan.suggest_float("x", 0, 1)
    alive = study.ask()
    alive.suggest_float("x", 0, 1)
    dead = {**worker_identity(orphan.number), "pid": _dead_pid()}
    orphan.set_user_attr("worker", dead)
    alive.set_user_attr("worker", worker_identity(alive.number))  # this very process
    study = optuna.load_study(study_name="d", storage=open_storage(url))
    _fail_stale(study)
    states = {t.number: t for t in study.trials}
    assert states[orphan.number].state == TrialState.FAIL
    assert (
        states[orphan.number]
        .user_attrs["error"]
        .startswith(f"WorkerLost: worker process {dead['pid']} on")
    )
    assert states[alive.number].state == TrialState.RUNNING
    (retry,) = [t for t in study.trials if t.state == TrialState.WAITING]
    assert retry.params == states[orphan.number].params
    assert "worker" not in retry.user_attrs and retry.system_attrs["failed_trial"] == 1


def test_a_trial_identity_for_another_trial_number_or_host_is_never_judged_dead() -> None:
    me = worker_identity(4)
    assert not is_dead(me, 4)
    assert not is_dead({**me, "pid": _dead_pid()}, 5)  # copied onto a retried trial
    assert not is_dead({**me, "pid": _dead_pid(), "host": "elsewhere"}, 4)
    assert is_dead({**me, "pid": _dead_pid()}, 4)
    assert is_dead({**me, "start": me["start"] + 1}, 4)  # the pid was reused
    assert not is_dead(None, 4)


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_a_silent_trial_is_failed_after_three_heartbeats(tmp_path: Path, scheme: str) -> None:
    """A worker on a lost machine: no process to look at, only its silence."""
    url = f"{scheme}:///{tmp_path / 's.db'}"
    storage = open_storage(url, heartbeat=1)
    study = optuna.create_study(storage=storage, study_name="h")
    lost = study.ask()
    lost.suggest_float("x", 0, 1)
    lost.set_user_attr("worker", {**worker_identity(lost.number), "host": "lost-machine"})
    storage.record_heartbeat(lost._trial_id)  # type: ignore[attr-defined]
    _fail_stale(study)
    assert study.trials[0].state == TrialState.RUNNING  # still within its grace period
    time.sleep(4.2)
    _fail_stale(study)
    assert study.trials[0].state == TrialState.FAIL
    assert "WorkerLost: " in study.trials[0].user_attrs["error"]
    assert "for over 3 s" in study.trials[0].user_attrs["error"]
    assert study.trials[1].state == TrialState.WAITING


def test_sqlite_files_are_switched_to_wal(tmp_path: Path) -> None:
    open_storage(f"sqlite:///{tmp_path / 'w.db'}")
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_storage_urls_are_checked_and_passwords_masked() -> None:
    assert mask_url("postgresql://me:p%40ss:w0rd@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert mask_url("postgresql://me:pa/ss@db/x") == "postgresql://me:***@db/x"
    assert (
        mask_url("postgresql://db/x?a=1&password=pw&b=2")
        == "postgresql://db/x?a=1&password=***&b=2"
    )
    assert local_file("journal:///runs/a.log") == Path("runs/a.log")
    assert local_file("postgresql://me@db/x") is None
    with pytest.raises(ValueError, match=r"storage URL such as .*journal:///.*Received: "):
        open_storage("journal://")
    with pytest.raises(ValueError, match=r"cannot open storage postgresql://u:\*\*\*@127"):
        open_storage("postgresql://u:hunter2@127.0.0.1:1/x")


def test_until_counts_to_the_next_wall_clock_time() -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 25, 22, 30).timestamp()
    assert seconds_until("07:00", now=now) == 8.5 * 3600
    assert seconds_until("23:00", now=now) == 1800
    assert seconds_until("22:30", now=now) == 24 * 3600
    for bad in ("7", "24:00", "07:60", "7pm", 700):
        with pytest.raises(ValueError, match=r"`until` must be a 24-hour local time"):
            seconds_until(bad)  # type: ignore[arg-type]


def test_each_worker_gets_its_own_gpu_and_a_share_of_the_threads() -> None:
    assert parse_devices("0, 1,3") == ["0", "1", "3"]
    for bad in ("", "0,,1", "a", "0,0", "-1"):
        with pytest.raises(ValueError, match="--devices must list distinct GPU indices"):
            parse_devices(bad)
    envs = [worker_env(i, 4, ["0", "1"]) for i in range(4)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "0", "1"]
    assert all(e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in envs)
    assert "CUDA_VISIBLE_DEVICES" not in worker_env(0, 2, None)


def _environ_after_exec(pid: int, timeout: float = 30.0) -> dict[str, str]:
    """``pid``'s environment once the kernel has finished setting up its new program.

    ``Popen`` returns when the child's close-on-exec pipe closes, which the kernel does early in
    ``execve``, before it records where the new program's arguments and environment lie: read in
    that window, ``/proc/PID/cmdline`` and ``/proc/PID/environ`` are empty (a CI run read no
    ``CUDA_VISIBLE_DEVICES`` there). Wait until the command line names the worker.
    """
    give_up = time.monotonic() + timeout
    while b"worker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < give_up, f"process {pid} never showed its command line"
        time.sleep(0.01)
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_spawned_workers_really_run_with_their_device_and_threads(tmp_path: Path) -> None:
    """Read each started worker's environment from /proc, as the kernel sees it."""
    import argparse

    from adamtune.cli._workers import spawn_workers

    args = argparse.Namespace(
        model=f"{DIGITS_EXAMPLE}:build_model",  # passed on: a worker imports only what it is given
        data=f"{DIGITS_EXAMPLE}:load_data",
        workers=3,
        devices="2,5",
        heartbeat=30,
        recycle_after=100,
        recycle_rss=512.0,
        deadline=None,
    )
    url = f"sqlite:///{tmp_path / 'none.db'}"
    pids = spawn_workers(args, url, "absent")
    try:
        seen = []
        for pid in pids:
            env = _environ_after_exec(pid)
            seen.append((env["CUDA_VISIBLE_DEVICES"], env["TF_NUM_INTRAOP_THREADS"]))
            assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
            assert env["ADAMTUNE_STORAGE"] == url  # not on the command line, which `ps` shows
            assert url.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        threads = str(max(1, (os.cpu_count() or 1) // 3))
        assert seen == [("5", threads), ("2", threads)]  # worker 0 is the parent, on GPU 2
    finally:
        for pid in pids:
            os.kill(pid, 9)
            os.waitpid(pid, 0)


class _Study:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_the_recycler_asks_for_a_restart_after_n_trials_or_memory_growth() -> None:
    study: Any = _Study()
    by_count = Recycler(2, 10_000)
    by_count(study, None)
    assert not by_count.due
    by_count(study, None)
    assert by_count.due and study.stopped and by_count.reason.startswith("2 trials (RSS")
    by_growth = Recycler(1000, 1.0)
    by_growth(_Study(), None)
    hog = bytearray(64 * 2**20)  # 64 MiB, touched so it is resident
    hog[::4096] = b"x" * len(hog[::4096])
    by_growth(_Study(), None)
    assert by_growth.due and "memory grew by" in by_growth.reason
    assert rss_mb() > 64
    with pytest.raises(ValueError, match="--recycle-rss must be a positive MiB figure"):
        Recycler(5, 0)


def test_a_journal_that_cannot_be_created_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match=r"cannot open journal .*file/s\.log: File exists"):
        open_storage(f"journal:///{tmp_path / 'file' / 's.log'}")
