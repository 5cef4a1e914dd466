"""A journal file shared by live workers: a peer torn mid-write, foreign records; no TensorFlow.

The peers are real processes. In the first test the peer is killed (SIGKILL) at a known point: it
holds the journal's lock and has written half a record, written by the test's own code in the
peer, not by Optuna's append, so the kill lands mid-record every time. The slow test kills a peer
at random moments while it appends large records through adamtune, the way a real worker dies.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from adamtune.engine import open_storage
from adamtune.engine._journal import JournalDamaged

optuna.logging.set_verbosity(optuna.logging.ERROR)

# The peer: opens the journal through adamtune, starts a trial of its own (a whole record), then
# takes the journal's lock and writes the first half of a record, and waits to be killed.
_TORN_PEER = """
import os, sys, time
import optuna
from adamtune.engine import open_storage

path = sys.argv[1]
storage = open_storage("journal:///" + path)
study = optuna.load_study(study_name="j", storage=storage)
study.ask().suggest_float("x", 0, 1)
record = b'{"op_code":8,"worker_id":"peer","trial_id":1,"user_attr":{"note":"half of this"}}\\n'
storage._backend._lock.acquire()
with open(path, "ab") as f:
    f.write(record[: len(record) // 2])
    f.flush()
    os.fsync(f.fileno())
print("torn", flush=True)
time.sleep(120)
"""

# The peer of the slow test: appends records of about 4 MB through adamtune until it is killed.
_BUSY_PEER = """
import sys
import optuna
from adamtune.engine import open_storage

storage = open_storage("journal:///" + sys.argv[1])
study = optuna.load_study(study_name="j", storage=storage)
trial = study.ask()
print("ready", flush=True)
big = "x" * (4 << 20)
for i in range(1000):
    trial.set_user_attr(f"big{i}", big)
"""


def _objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", 0, 1)


def _peer(script: str, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )


def _survivor(path: Path, reports: list[str]) -> optuna.Study:
    storage = open_storage(f"journal:///{path}", report=reports.append)
    return optuna.create_study(storage=storage, study_name="j", load_if_exists=True)


def test_a_live_worker_survives_a_peer_killed_mid_write_and_keeps_its_trials(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.log"
    reports: list[str] = []
    survivor = _survivor(path, reports)  # open before the peer tears its record, kept open
    survivor.optimize(_objective, n_trials=1)

    peer = _peer(_TORN_PEER, path)
    try:
        assert peer.stdout is not None and peer.stdout.readline().strip() == "torn"
    finally:
        peer.send_signal(signal.SIGKILL)
        peer.wait()
    torn = path.read_bytes()
    assert not torn.endswith(b"\n")  # half a record, after the peer's whole ones
    torn_line = torn.count(b"\n") + 1
    assert Path(f"{path}.lock").exists()  # the dead peer still "holds" the lock

    began = time.monotonic()
    survivor.optimize(_objective, n_trials=2)  # no AttributeError from a merged record
    assert time.monotonic() - began < 15  # the dead peer's lock is taken over, not waited out
    assert [t.state for t in survivor.trials if t.number != 1] == [TrialState.COMPLETE] * 3

    # Reported with the line it started on, and kept aside whole.
    (report,) = reports
    fragment = torn[torn.rindex(b"\n") + 1 :]
    assert f"last record was torn ({len(fragment)} bytes at line {torn_line}" in report, report
    (aside,) = tmp_path.glob("s.log.torn-*")
    assert aside.read_bytes() == fragment

    # The next open finds a clean file: nothing cut, every trial the survivor finished is there.
    again: list[str] = []
    reopened = optuna.load_study(
        study_name="j", storage=open_storage(f"journal:///{path}", report=again.append)
    )
    assert again == []
    states = {t.number: t.state for t in reopened.trials}
    assert states == {
        0: TrialState.COMPLETE,
        1: TrialState.RUNNING,  # the dead peer's trial (failed by the next stale-trial check)
        2: TrialState.COMPLETE,
        3: TrialState.COMPLETE,
    }
    assert all(json.loads(line) for line in path.read_bytes().splitlines())


@pytest.mark.slow  # a few rounds of kills, each with a 4 MB append in flight
def test_peers_killed_at_random_mid_append_never_cost_the_survivor_a_trial(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.log"
    reports: list[str] = []
    survivor = _survivor(path, reports)
    survivor.optimize(_objective, n_trials=1)
    rng = random.Random(18)
    torn_rounds = rounds = 0
    while torn_rounds < 3 and rounds < 20:  # a kill tears a record about every other round
        rounds += 1
        peer = _peer(_BUSY_PEER, path)
        try:
            assert peer.stdout is not None and peer.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.6))
        finally:
            peer.send_signal(signal.SIGKILL)
            peer.wait()
        torn_rounds += not path.read_bytes().endswith(b"\n")
        survivor.optimize(_objective, n_trials=1)
    mine = [t for t in survivor.trials if "x" in t.params]
    assert [t.state for t in mine] == [TrialState.COMPLETE] * (rounds + 1)
    assert torn_rounds >= 1
    assert len(reports) == torn_rounds  # every torn record cut off and said, no other damage
    reopened = optuna.load_study(study_name="j", storage=open_storage(f"journal:///{path}"))
    finished = [t.state for t in reopened.trials if "x" in t.params]
    assert finished == [TrialState.COMPLETE] * (rounds + 1)


def _lines_with(path: Path, line: bytes, at: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(at - 1, line)
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (b'{"op_code":99,"worker_id":"w"}\n', r"its op_code 99 is not one Optuna"),
        (b'{"worker_id":"w"}\n', r"its op_code None is not one Optuna"),
        (b'{"op_code":"4","worker_id":"w"}\n', r"its op_code '4' is not one Optuna"),
        (b"[4]\n", r"it is not a JSON object"),
    ],
    ids=["unknown-op", "no-op", "op-as-text", "not-an-object"],
)
def test_a_well_formed_record_optuna_cannot_replay_is_refused_by_line(
    tmp_path: Path, record: bytes, why: str
) -> None:
    path = tmp_path / "s.log"
    _survivor(path, []).optimize(_objective, n_trials=2)
    _lines_with(path, record, 3)
    before = path.read_bytes()
    with pytest.raises(JournalDamaged, match=rf"damaged at line 3 of \d+: {why}"):
        open_storage(f"journal:///{path}")
    with pytest.raises(JournalDamaged, match=rf"damaged at line 3 of \d+: {why}"):
        open_storage(f"journal:///{path}", readonly=True)  # as status, export and report do
    assert path.read_bytes() == before  # refused, never repaired or cut


def test_a_worker_with_the_journal_open_refuses_a_foreign_record_by_line(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    survivor = _survivor(path, [])
    survivor.optimize(_objective, n_trials=1)
    lines = len(path.read_bytes().splitlines())
    with path.open("ab") as f:  # a peer (another tool, a newer Optuna) writes what Optuna can't
        f.write(b'{"op_code":99,"worker_id":"w"}\n')
    with pytest.raises(JournalDamaged, match=rf"damaged at line {lines + 1}: its op_code 99"):
        survivor.optimize(_objective, n_trials=1)
