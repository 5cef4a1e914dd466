"""Helpers whose `adamtune search` parent died: they stop, their running trial closed (issue 18).

Real processes, killed with SIGKILL: nothing is mocked. The helpers run in their own session, so
nothing but their own watch can stop them once the parent is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from conftest import CHILD_ENV, cli_search_argv, run_adamtune

from adamtune.engine import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)

GONE = "is gone: closing the running trial and stopping"


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped yet has stopped: it does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


# A child that watches the process that started it, and a parent that starts it and waits to be
# killed. The child writes what happened to its stdout (a file: its parent is gone by then).
CHILD = """
import sys, time
from adamtune.cli._signals import handle_interrupts, watch_parent
parent, pdeathsig, pid_watch = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"
try:
    watch_parent(parent, pdeathsig=pdeathsig, pid_watch=pid_watch)
    print("watching", flush=True)
    with handle_interrupts():
        time.sleep(60)
    print("not stopped", flush=True)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""
PARENT = """
import os, subprocess, sys, time
out = open(sys.argv[1], "w")
child = subprocess.Popen(
    [sys.executable, "-c", os.environ["CHILD"], str(os.getpid()), *sys.argv[2:]],
    stdout=out, stderr=out, start_new_session=True,
)
print(child.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize(
    ("pdeathsig", "pid_watch"),
    [(True, False), (False, True), (True, True)],
    ids=["parent-death-signal", "pid-watch", "both"],
)
def test_a_watching_child_stops_within_seconds_of_its_parents_kill_9(
    tmp_path: Path, pdeathsig: bool, pid_watch: bool
) -> None:
    if pdeathsig and not pid_watch and not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    out = tmp_path / "child.out"
    flags = ["1" if pdeathsig else "0", "1" if pid_watch else "0"]
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(out), *flags],
        stdout=subprocess.PIPE,
        text=True,
        env={**CHILD_ENV, "CHILD": CHILD},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 30
        while "watching" not in (out.read_text() if out.exists() else ""):
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        killed = time.monotonic()
        assert wait_until_gone([child], 10) == [], "the child outlived its parent"
        assert time.monotonic() - killed < 5
    finally:
        kill_all([child])
        parent.kill()
    text = out.read_text()
    assert text.count(GONE) == 1, text  # said once, though both routes may report it
    assert text.splitlines()[-1] == "stopped", text


def test_a_helper_whose_parent_died_before_it_looked_stops_at_once(tmp_path: Path) -> None:
    # The race the pid check after prctl closes: the parent died between starting the helper and
    # the helper asking for the parent-death signal. The helper's parent is this test, not the
    # pid it was told: as if that one had died already.
    storage = f"sqlite:///{tmp_path / 'r.db'}"
    env = {**CHILD_ENV, "ADAMTUNE_PARENT_PID": str(os.getppid())}
    started = time.monotonic()
    done = run_adamtune(
        *("worker", "--storage", storage, "--study", "none", "--wait", "600"),
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 130, done.stderr[-2000:]
    assert GONE in done.stderr
    assert time.monotonic() - started < 60  # not the 600 s --wait for a study


@pytest.mark.slow  # two searches with a helper each: about 60 s on two cores
def test_kill_9_of_the_parent_stops_its_helpers_and_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    argv = cli_search_argv(storage, 6, "orphans", "--epochs", "4", "--workers", "3", "-q")
    err = tmp_path / "first.err"
    with err.open("w") as sink:  # a file, not a pipe: a helper that lives on would keep it open
        parent = subprocess.Popen(
            [sys.executable, "-m", "adamtune", *argv],
            cwd=tmp_path,
            env=CHILD_ENV,
            stdout=sink,
            stderr=sink,
        )
    the_storage = open_storage(storage)
    helpers: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while True:  # until a helper runs a trial
            assert parent.poll() is None, err.read_text()[-3000:]
            assert time.monotonic() < deadline, "no helper started a trial in time"
            helpers = children_of(parent.pid)
            try:
                trials = optuna.load_study(study_name="orphans", storage=the_storage).trials
            except KeyError:
                trials = []
            running = [
                t.user_attrs["worker"]["pid"]
                for t in trials
                if t.state.name == "RUNNING" and "worker" in t.user_attrs
            ]
            if set(running) & set(helpers):
                break
            time.sleep(0.2)
        assert len(helpers) == 2
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        left = wait_until_gone(helpers, 10)
        assert left == [], f"helpers {left} outlived their parent: {err.read_text()[-3000:]}"
    finally:
        kill_all(helpers)
        parent.kill()
    assert err.read_text().count(GONE) == 2
    study = optuna.load_study(study_name="orphans", storage=the_storage)
    by_helpers = [t for t in study.trials if t.user_attrs.get("worker", {}).get("pid") in helpers]
    assert by_helpers, "the helpers ran no trial"
    assert "RUNNING" not in [t.state.name for t in by_helpers], "a helper left a trial RUNNING"
    closed = [t for t in by_helpers if t.state.name == "FAIL"]
    assert closed and all(t.user_attrs["error"].startswith("Interrupted") for t in closed)

    done = run_adamtune(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    states = [t.state.name for t in optuna.load_study(study_name="orphans", storage=storage).trials]
    assert "RUNNING" not in states and "WAITING" not in states
    assert states.count("COMPLETE") + states.count("PRUNED") >= 6
