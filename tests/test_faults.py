"""Fault tests: real `adamtune` processes killed, interrupted and restarted mid-trial."""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import CHILD_ENV, cli_search_argv, run_adamtune

import adamtune
from adamtune.engine import open_storage

ENV = CHILD_ENV
optuna.logging.set_verbosity(optuna.logging.ERROR)


def search_argv(storage: str | None, trials: int, *extra: str) -> list[str]:
    return cli_search_argv(storage, trials, "night", *extra)


def start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "adamtune", *argv],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@functools.cache
def _storage(url: str) -> optuna.storages.BaseStorage:
    return open_storage(url)


def load(storage: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name="night", storage=_storage(storage))
    except KeyError:
        return None


def wait_for(
    proc: subprocess.Popen[str], storage: str, ready: Callable[[optuna.Study], bool]
) -> optuna.Study:
    """Poll the study until ``ready`` holds while ``proc`` still runs."""
    deadline = time.monotonic() + 240
    while True:
        assert proc.poll() is None, f"the search ended early: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the study never reached the awaited state"
        study = load(storage)
        if study is not None and ready(study):
            return study
        time.sleep(0.2)


def running_after(finished: int) -> Callable[[optuna.Study], bool]:
    """A trial is mid-run (its worker recorded) once ``finished`` trials have finished."""

    def ready(study: optuna.Study) -> bool:
        trials = study.get_trials(deepcopy=False)
        done = sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
        return done >= finished and any(
            t.state.name == "RUNNING" and "worker" in t.user_attrs for t in trials
        )

    return ready


def snapshot(study: optuna.Study) -> dict[int, Any]:
    return {
        t.number: (t.state, t.value, t.params, t.intermediate_values)
        for t in study.trials
        if t.state.name in ("COMPLETE", "PRUNED")
    }


def kill_twice_then_finish(storage: str, argv: list[str], cwd: Path) -> optuna.Study:
    """Start, kill -9 mid-trial, start again, kill -9 again, then run the same command."""
    before: dict[int, Any] = {}
    for finished in (0, 1):
        proc = start(argv, cwd)
        try:
            study = wait_for(proc, storage, running_after(finished))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        before = snapshot(study)
    assert sum(t.state.name == "RUNNING" for t in load(storage).trials) >= 1  # type: ignore[union-attr]
    done = run_adamtune(*argv, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    study = load(storage)
    assert study is not None
    after = snapshot(study)
    assert all(after[n] == v for n, v in before.items()), "a finished trial changed"
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states and "WAITING" not in states
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == 4
    lost = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(lost) == 2
    assert all(t.user_attrs["error"].startswith("WorkerLost: worker process") for t in lost)
    retried = {t.system_attrs.get("failed_trial") for t in study.trials}
    assert {t.number for t in lost} <= retried, "a lost trial's parameters were not run again"
    return study


@pytest.mark.slow  # two kills and a resume: about 45 s
def test_kill_9_twice_on_the_default_storage_then_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    argv = search_argv(None, 4, "-o", "tuned.json")
    study = kill_twice_then_finish(f"sqlite:///{tmp_path / 'adamtune.db'}", argv, tmp_path)
    config = adamtune.load_config(tmp_path / "tuned.json")
    assert config.compile_kwargs()["optimizer"] is not None
    best = study.best_trial
    assert config.fit_kwargs()["batch_size"] == best.user_attrs["adam"]["batch_size"]
    log = (tmp_path / "adamtune.night.log").read_text()
    assert log.count("WorkerLost: worker process") == 2
    assert "rss_mb=" in log and log.count("search started") == 3


@pytest.mark.slow
def test_kill_9_twice_on_a_journal_file_then_the_same_command_finishes(tmp_path: Path) -> None:
    storage = f"journal:///{tmp_path / 'night.log'}"
    kill_twice_then_finish(storage, search_argv(storage, 4), tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_twice_on_postgresql_then_the_same_command_finishes(
    tmp_path: Path, postgres_url: str
) -> None:
    argv = search_argv(postgres_url, 4, "-o", "tuned.yaml")
    kill_twice_then_finish(postgres_url, argv, tmp_path)
    assert adamtune.load_config(tmp_path / "tuned.yaml").fit_kwargs()["batch_size"] > 0


def test_ctrl_c_mid_trial_closes_the_trial_and_the_same_command_finishes(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    argv = search_argv(storage, 4)
    proc = start(argv, tmp_path)
    try:
        wait_for(proc, storage, running_after(0))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "closing the running trial (press Ctrl-C again to stop at once)" in err
    assert "run the same command to continue" in err
    study = load(storage)
    assert study is not None
    (closed,) = [t for t in study.trials if t.state.name == "FAIL"]
    assert closed.user_attrs["error"].startswith("Interrupted")
    assert closed.user_attrs["outcome"] == "interrupted"  # not a crash
    assert "RUNNING" not in [t.state.name for t in study.trials]
    # Its parameters wait to run first on resume.
    (queued,) = [t for t in study.trials if t.state.name == "WAITING"]
    assert queued.system_attrs["failed_trial"] == closed.number

    done = run_adamtune(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    trials = load(storage).trials  # type: ignore[union-attr]
    states = [t.state.name for t in trials]
    assert states.count("COMPLETE") + states.count("PRUNED") == 4 and "RUNNING" not in states
    # The parameters the closed trial had drawn run again (a Ctrl-C that lands while the trial
    # draws its parameters leaves the rest to the sampler).
    rerun = trials[queued.number].params
    assert closed.params and rerun.items() >= closed.params.items(), (rerun, closed.params)
    assert trials[queued.number].state.name in ("COMPLETE", "PRUNED")
    status = run_adamtune("status", "--storage", storage, "--study", "night", cwd=tmp_path)
    assert "interrupted 1" in status.stdout and "crashed-error" not in status.stdout


SECOND_CTRL_C = """
import os, signal, time
from adamtune.cli._signals import handle_interrupts
with handle_interrupts():
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        print("first: closing", flush=True)
        os.kill(os.getpid(), signal.SIGINT)  # while the first is still being handled
        time.sleep(5)
        print("not reached", flush=True)
"""


def test_a_second_ctrl_c_while_the_first_is_handled_stops_at_once() -> None:
    # Two signals sent back to back merge into one before Python sees them, so the second is
    # sent from inside the first one's clean-up, where a user's second Ctrl-C lands.
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SECOND_CTRL_C], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 130
    assert proc.stdout == "first: closing\n"
    assert "second interrupt: stopping at once" in proc.stderr
    assert time.monotonic() - started < 5


DEFERRED_CTRL_C = """
import os, signal
from adamtune import _interrupt
from adamtune.cli._signals import handle_interrupts
with handle_interrupts():
    try:
        with _interrupt.protected():  # a storage write in progress
            os.kill(os.getpid(), signal.SIGINT)
            print("write finished", flush=True)
            with _interrupt.interruptible():
                print("not reached: a trial may not start after Ctrl-C", flush=True)
    except KeyboardInterrupt:
        print("raised after the write", flush=True)
with handle_interrupts():  # a new run
    with _interrupt.protected():
        with _interrupt.interruptible():  # training: raised at once
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                print("raised mid-training", flush=True)
    print("pending:", _interrupt.pending(), flush=True)  # raised once, not again later
with handle_interrupts():
    with _interrupt.protected():
        try:
            with _interrupt.interruptible():
                with _interrupt.protected():  # a pruning report mid-training
                    os.kill(os.getpid(), signal.SIGINT)
                    print("report stored", flush=True)
                print("not reached: training stops after the report", flush=True)
        except KeyboardInterrupt:
            print("raised after the report", flush=True)
with handle_interrupts():
    try:
        with _interrupt.interruptible():
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:  # as TensorFlow does mid-trace: another error comes out
                raise ValueError("None values not supported.")
    except KeyboardInterrupt as exc:
        print("raised as an interrupt:", repr(exc.__cause__), flush=True)
    try:
        with _interrupt.interruptible():
            raise ValueError("a real crash")
    except ValueError:
        print("a crash with no interrupt stays a crash", flush=True)
"""


def test_ctrl_c_during_a_storage_write_waits_for_the_write_then_stops() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEFERRED_CTRL_C], capture_output=True, text=True, timeout=30
    )
    assert proc.stdout.splitlines() == [
        "write finished",
        "raised after the write",
        "raised mid-training",
        "pending: False",
        "report stored",
        "raised after the report",
        "raised as an interrupt: ValueError('None values not supported.')",
        "a crash with no interrupt stays a crash",
    ], proc.stderr


SWALLOWED = """
import gc, os, signal, sys, time, weakref
from adamtune.cli._signals import handle_interrupts

class Cached:
    pass

def forget(ref):  # a weakref callback, as TensorFlow's caches run them: exceptions are ignored
    os.kill(os.getpid(), int(sys.argv[1]))
    for _ in range(1000):  # the handler runs here, and its KeyboardInterrupt is printed and lost
        pass

with handle_interrupts():
    try:
        kept = Cached()
        ref = weakref.ref(kept, forget)
        del kept
        for _ in range(50):
            time.sleep(0.1)
        print("went on", flush=True)
    except KeyboardInterrupt:
        print("stopped", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_an_interrupt_that_lands_where_python_ignores_exceptions_still_stops(
    signum: signal.Signals,
) -> None:
    # Found by the --workers SIGTERM test: the search went on to its end, exit code 0, after
    # "Exception ignored in: <function WeakKeyDictionary.__init__.<locals>.remove>".
    proc = subprocess.run(
        [sys.executable, "-c", SWALLOWED, str(int(signum))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "stopped\n", proc.stderr
    assert "closing the running trial" in proc.stderr
    assert "second interrupt" not in proc.stderr and "Exception ignored" not in proc.stderr


@pytest.mark.slow
def test_a_worker_replaces_itself_after_n_trials_and_keeps_its_place(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'r.db'}"
    proc = start(search_argv(storage, 5, "--recycle-after", "2", "--timeout", "20m"), tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert err.count("restarting this worker after 2 trials (RSS") == 2
    study = load(storage)
    assert study is not None
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in study.trials] == [True] * 5
    assert all(t.user_attrs["rss_mb"] > 50 for t in study.trials)
    log = (tmp_path / "r.night.log").read_text().splitlines()
    pids = {line.split()[2] for line in log}
    assert len(pids) == 1, "exec keeps the pid: the same worker carried on"
    assert sum("restarting this worker" in line for line in log) == 2
    assert "best val_loss=" in out


@pytest.mark.slow
def test_four_local_workers_share_the_default_storage_without_lock_errors(
    tmp_path: Path,
) -> None:
    argv = search_argv(None, 12, "--workers", "4", "-q")
    done = run_adamtune(*argv, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "locked" not in done.stderr.lower()
    study = load(f"sqlite:///{tmp_path / 'adamtune.db'}")
    assert study is not None
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(len(numbers)))
    states = [t.state.name for t in study.trials]
    assert set(states) <= {"COMPLETE", "PRUNED"}
    assert 12 <= len(states) <= 15  # each other worker may finish one trial past the target
    assert len({t.user_attrs["worker"]["pid"] for t in study.trials}) >= 2
    assert "warning" not in done.stderr
    log = (tmp_path / "adamtune.night.log").read_text()
    assert log.count("search started") == 4, "a worker did not join"
    assert log.count(" trial ") >= 12 and "WARNING" not in log


@pytest.mark.slow
def test_kill_9_of_a_kerastuner_study_then_the_same_command_reruns_the_lost_trial(
    tmp_path: Path,
) -> None:
    """KerasTuner's oracle hands the trial a killed process was running out again."""
    import json

    argv = search_argv("kt", 3, "--strategy", "kt-random", "-q")
    project = tmp_path / "kt" / "night"
    proc = start(argv, tmp_path)
    try:
        deadline = time.monotonic() + 240
        while not list(project.glob("trial_*")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        # Into the first trial (building or training it): not longer, since a trial of this tiny
        # model can finish within a second now that trials are fast.
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not list((project / "adamtune_trials").glob("*.json"))
    done = run_adamtune(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [
        json.loads(p.read_text()) for p in sorted((project / "adamtune_trials").glob("*.json"))
    ]
    assert [r["number"] for r in records] == [0, 1, 2]
    # Every trial finished: trained to the end, or stopped by the divergence guard (kt-random
    # samples learning rates up to 0.1; the guard stopped 1 of 36 such trials in a trial run).
    for r in records:
        assert r["state"] in ("COMPLETE", "PRUNED"), r
        assert r["state"] == "COMPLETE" or r["attrs"]["outcome"].startswith("diverged"), r
    assert records[0]["kt_trial_id"] == "0000000000"  # the killed trial, run again
    oracle = json.loads((project / "oracle.json").read_text())
    assert not oracle["ongoing_trials"]


# Two searches opening one fresh study must queue its first trial once. Left alone, which one
# looks first is a matter of milliseconds, so each process here holds its queuing of a trial
# until the other one has decided too: it queues one as well, or it runs a trial of its own.
# Nothing else is changed: the real CLI in two real processes.
RACE = """
import os, sys, time
from pathlib import Path
import optuna
from optuna.trial import TrialState
from adamtune.cli import main

arrived = Path(sys.argv[1])
add_trial = optuna.Study.add_trial

def held(self, trial):
    if trial.state == TrialState.WAITING:
        (arrived / str(os.getpid())).touch()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(arrived.iterdir())) < 2:
            if self.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                break
            time.sleep(0.05)
    return add_trial(self, trial)

optuna.Study.add_trial = held
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow  # two searches side by side: about 40 s on two cores
def test_two_searches_started_together_on_a_new_study_queue_its_first_trial_once(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'race.db'}"
    argv = search_argv(storage, 3, "--strategy", "tpe", "--epochs", "1", "-q")
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(arrived), *argv],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        errors = [proc.communicate(timeout=600)[1] for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0], [e[-2000:] for e in errors]
    study = load(storage)
    assert study is not None
    first = [t for t in study.trials if "fixed_params" in t.system_attrs]
    assert len(first) == 1, [(t.number, t.state.name, t.params) for t in first]
    (textbook,) = first
    assert textbook.state.name in ("COMPLETE", "PRUNED")
    assert textbook.params["batch_size"] == 32 and textbook.params["regularizer"] == "none"
    assert "WAITING" not in [t.state.name for t in study.trials]
