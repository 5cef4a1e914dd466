"""Several processes on one study in a real PostgreSQL database (the ``postgres_url`` fixture).

Every command runs as its own process, as on a cluster: the workers know only the storage URL and
the study name. The URL carries a password, which must never show in any output. The server is
$ADAMTUNE_TEST_POSTGRES, or a throwaway one started by tests/conftest.py.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest
from conftest import CHILD_ENV, DIGITS_EXAMPLE, cli_search_argv, run_adamtune

if TYPE_CHECKING:
    from conftest import PostgresServer

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 8
WORKERS = 2
ROUNDS, OPENERS = 3, 4  # the empty-database test: rounds, and workers started together in each
TIMEOUT = 300  # seconds for the whole run; it takes well under a minute on two cores
# One thread per process: three processes share a small machine without oversubscribing it.
ENV = CHILD_ENV
TRIAL_LINE = re.compile(r"^\[adamtune\] trial (\d+) ", re.MULTILINE)


def _password(url: str) -> str:
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    assert password, f"the fixture's URL must carry a password: {url!r}"
    return str(password)


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _search_cmd(url: str, study: str, trials: int) -> list[str]:
    return [sys.executable, "-m", "adamtune", *cli_search_argv(url, trials, study)]


def _adamtune(*args: str) -> subprocess.CompletedProcess[str]:
    return run_adamtune(*args, cwd=ROOT, timeout=120)


class Ran(NamedTuple):
    pid: int
    code: int
    out: str
    err: str


class Processes:
    """Commands started in the background, their output in files (a chatty process never blocks
    on a full pipe); ``finish`` waits for all of them, and kills any left at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.deadline = time.monotonic() + TIMEOUT

    def start(self, name: str, cmd: list[str]) -> None:
        out_file, err_file = self.folder / f"{name}.out", self.folder / f"{name}.err"
        with out_file.open("w") as out, err_file.open("w") as err:
            self.procs[name] = subprocess.Popen(
                cmd, stdout=out, stderr=err, text=True, env=ENV, cwd=ROOT
            )

    def results(self) -> dict[str, Ran]:
        return {
            name: Ran(
                proc.pid,
                -999 if proc.returncode is None else proc.returncode,
                (self.folder / f"{name}.out").read_text(),
                (self.folder / f"{name}.err").read_text(),
            )
            for name, proc in self.procs.items()
        }

    def finish(self) -> dict[str, Ran]:
        timed_out = []
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(1.0, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out.append(name)
        self.kill()
        results = self.results()
        assert not timed_out, f"still running after {TIMEOUT} s: {timed_out}\n{_show(results)}"
        return results

    def kill(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _worker_cmd(url: str, study: str, wait: str, *extra: str) -> list[str]:
    """A worker on a shared storage: it imports the code named here, not the code the study
    recorded (or it would need --trust-storage)."""
    cmd = [sys.executable, "-m", "adamtune", "worker", "--storage", url, "--study", study]
    code = ("--model", f"{DIGITS_EXAMPLE}:build_model", "--data", f"{DIGITS_EXAMPLE}:load_data")
    return [*cmd, "--wait", wait, *code, *extra]


def _show(results: dict[str, Ran]) -> str:
    return "\n".join(
        f"--- {name} (pid {r.pid}): exit {r.code}\nstdout:\n{r.out[-3000:]}\nstderr:\n{r.err[-3000:]}"
        for name, r in results.items()
    )


@pytest.mark.slow  # three processes on PostgreSQL: about 20 s
def test_a_search_and_two_workers_share_one_postgres_study(
    postgres_url: str, tmp_path: Path
) -> None:
    import optuna
    from optuna.trial import TrialState

    password = _password(postgres_url)
    study_name = "dist"
    procs = Processes(tmp_path)
    try:
        # The workers first, as a cluster job may start them: they wait for the study to appear.
        # No -q: each process then prints one line per trial it ran, which tells who ran what.
        for i in range(WORKERS):
            procs.start(f"worker{i}", _worker_cmd(postgres_url, study_name, "120"))
        procs.start("search", _search_cmd(postgres_url, study_name, TRIALS))
        results = procs.finish()
    finally:
        procs.kill()
    shown = _show(results)

    assert all(r.code == 0 for r in results.values()), shown
    for name, r in results.items():
        assert password not in r.out + r.err, f"{name} printed the password\n{shown}"
    assert "best val_loss=" in results["search"].out, shown

    study = optuna.load_study(study_name=study_name, storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(trials))), f"trial numbers not 0..n-1 once each: {numbers}"
    states = {t.number: t.state for t in trials}
    assert not [n for n, s in states.items() if s in (TrialState.RUNNING, TrialState.WAITING)], (
        f"trials left unfinished: {states}"
    )
    failed = {t.number: t.user_attrs.get("error") for t in trials if t.state == TrialState.FAIL}
    assert not failed, f"failed trials: {failed}"
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    # Every process checks the target after its own trial, so each extra one may overshoot by one.
    assert TRIALS <= len(finished) <= TRIALS + WORKERS, f"{len(finished)} finished: {states}"

    # Who ran what: each process's progress lines name the trials it finished.
    ran = {name: [int(n) for n in TRIAL_LINE.findall(r.err)] for name, r in results.items()}
    claimed = [n for numbers_ in ran.values() for n in numbers_]
    assert sorted(claimed) == sorted(t.number for t in finished), (
        f"every finished trial is reported by exactly one process: {ran}\n{shown}"
    )
    assert sum(1 for numbers_ in ran.values() if numbers_) >= 2, (
        f"only one process ran trials: {ran}\n{shown}"
    )
    # ...and each trial stored the pid of the process that reported it.
    pid_of = {n: results[name].pid for name, numbers_ in ran.items() for n in numbers_}
    stored = {t.number: (t.user_attrs.get("worker") or {}).get("pid") for t in finished}
    assert stored == pid_of, f"stored worker pids {stored}, processes {pid_of}"
    # ...and they ran at the same time: some two trials' [start, complete] intervals overlap.
    spans = sorted((t.datetime_start, t.datetime_complete) for t in finished)
    assert all(start is not None and end is not None for start, end in spans)
    assert any(later_start < end for (_, end), (later_start, _) in itertools.pairwise(spans)), (
        f"no two trials overlapped in time: {spans}"
    )


@pytest.mark.slow
def test_status_and_export_read_a_postgres_study_without_showing_the_password(
    postgres_url: str, tmp_path: Path
) -> None:
    password = _password(postgres_url)
    masked = _masked(postgres_url)
    assert password not in masked and "***" in masked

    search = _adamtune(*_search_cmd(postgres_url, "st", 2)[3:], "--seed", "0", "-q")
    assert search.returncode == 0, search.stderr
    assert password not in search.stdout + search.stderr

    status = _adamtune("status", "--storage", postgres_url, "--study", "st", "--json")
    assert status.returncode == 0, status.stderr
    assert password not in status.stdout + status.stderr
    info = json.loads(status.stdout)
    assert info["storage"] == masked
    assert info["study"] == "st"
    assert info["states"].get("COMPLETE", 0) + info["states"].get("PRUNED", 0) == 2
    assert info["running"] == [] and info["best"] is not None

    text = _adamtune("status", "--storage", postgres_url, "--study", "st")
    assert text.returncode == 0, text.stderr
    assert f"study st in {masked}:" in text.stdout
    assert password not in text.stdout + text.stderr

    out = tmp_path / "x.json"
    export = _adamtune("export", "--storage", postgres_url, "--study", "st", "-o", str(out))
    assert export.returncode == 0, export.stderr
    assert password not in export.stdout + export.stderr
    exported = json.loads(out.read_text())
    assert exported["study"] == "st" and exported["objective"] == "val_loss"
    assert exported["trial"] == info["best"]["trial"]
    assert exported["adam"]["batch_size"] == info["best"]["params"]["batch_size"]
    assert password not in out.read_text()

    # Errors name the storage too: a missing study, and a password the server refuses.
    missing = _adamtune("status", "--storage", postgres_url, "--study", "nope")
    assert missing.returncode == 2 and "no study 'nope'" in missing.stderr
    assert password not in missing.stdout + missing.stderr
    wrong = postgres_url.replace(f":{password}@", ":Wr0ng-pw@")
    refused = _adamtune("status", "--storage", wrong, "--study", "st")
    assert refused.returncode == 2, refused.stderr
    assert f"cannot open storage {_masked(wrong)}" in refused.stderr, refused.stderr
    assert "Wr0ng-pw" not in refused.stdout + refused.stderr


def test_the_plain_postgresql_url_of_the_help_text_opens(postgres_url: str) -> None:
    """``postgresql://user:pw@host/db``, the form ``--help`` and the errors show, with what the
    ``postgres`` extra installs (psycopg2): the storage opens, and says the study is missing."""
    plain = postgres_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    status = _adamtune("status", "--storage", plain, "--study", "none")
    assert status.returncode == 2, status.stderr
    assert "no study 'none' in this storage" in status.stderr, status.stderr
    assert _password(plain) not in status.stdout + status.stderr


@pytest.mark.slow  # several worker processes: about 45 s
def test_workers_started_together_on_an_empty_database_all_open_it(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Workers of a cluster job start at the same moment, often before the search: each must open
    the empty database (Optuna creates its tables on first open) and wait for the study, never
    die on another worker creating the same tables. Several rounds, each on a new database."""
    problems = []
    for round_ in range(ROUNDS):
        with postgres_server.database() as url:
            password = _password(url)
            procs = Processes(tmp_path)
            try:
                for i in range(OPENERS):
                    procs.start(f"r{round_}w{i}", _worker_cmd(url, "later", "1", "-q"))
                results = procs.finish()
            finally:
                procs.kill()
        for name, r in results.items():
            waited = "no adamtune study 'later' in " in r.err and "after waiting 1 s" in r.err
            waited = waited and "cudart_stub" not in r.err  # TensorFlow's notices kept off
            if r.code != 2 or not waited or password in r.out + r.err:
                problems.append(f"{name}: exit {r.code}: {r.err.strip()[-400:]}")
    assert not problems, (
        f"{len(problems)} of {ROUNDS * OPENERS} workers did not wait for the study:\n"
        + "\n".join(problems)
    )
