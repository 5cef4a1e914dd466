"""A trial's record is written in one storage operation: one transaction on SQLite and
PostgreSQL, one append to a journal file, so a crash leaves it whole or absent.

Optuna writes a user attribute per call (a commit each); adamtune's storages take a whole record
at once (``set_trial_user_attrs``) and ``write_attrs`` falls back to Optuna's one-by-one writes
for any other storage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from conftest import mlp
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from adamtune._record import RECORD_KEYS, RESULT_KEYS, WORKER_ATTR, TrialRecord
from adamtune.engine import open_storage
from adamtune.engine._journal import SafeJournalBackend
from adamtune.engine._storage import LeasedJournalStorage, LeasedRDBStorage, write_attrs

optuna.logging.set_verbosity(optuna.logging.ERROR)
# Trials asked for by hand, not by Study.optimize, on storages with a heartbeat: Optuna warns.
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")

# A finished trial's stored record, 13 attributes: Objective._run writes all but `worker` at
# once when the trial ends (`worker` is set when it starts).
RECORD: dict[str, Any] = {
    "outcome": "ok",
    "reason": None,
    "adam": {"learning_rate": 0.003, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.003}},
    "user_params": {"units": 16},
    "changes": ["optimizer"],
    "best_epoch": 2,
    "epochs_run": 3,
    "seconds": 1.5,
    "last": {"loss": 0.25, "val_loss": 0.5},
    "curves": {"loss": [0.75, 0.5, 0.25], "val_loss": [1.0, "nan", 0.5]},
    "rss_mb": 812.5,
    WORKER_ATTR: {"host": "h", "pid": 1, "started": 0.0},
}


def test_the_record_is_thirteen_attributes() -> None:
    assert len(RECORD) == 13
    assert TrialRecord.from_attrs(RECORD).to_attrs() == RECORD  # each read back as written


def _url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    if kind == "journal":
        return f"journal:///{tmp_path / 'study.log'}"
    return str(request.getfixturevalue("postgres_url"))


RDB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ALL_KINDS = ["sqlite", "journal", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    """What adamtune's storages are asked to write: whole records (``batched``, as trial id and
    attributes), single attributes (``single``, keys), and journal appends (``appends``)."""
    seen: dict[str, list[Any]] = {"batched": [], "single": [], "appends": []}
    for cls in (LeasedRDBStorage, LeasedJournalStorage):
        batched, single = cls.set_trial_user_attrs, cls.set_trial_user_attr

        def spy_batched(self: Any, trial_id: int, attrs: Any, _f: Any = batched) -> None:
            seen["batched"].append((trial_id, dict(attrs)))
            _f(self, trial_id, attrs)

        def spy_single(self: Any, trial_id: int, key: str, value: Any, _f: Any = single) -> None:
            seen["single"].append(key)
            _f(self, trial_id, key, value)

        monkeypatch.setattr(cls, "set_trial_user_attrs", spy_batched)
        monkeypatch.setattr(cls, "set_trial_user_attr", spy_single)
    append = SafeJournalBackend.append_logs

    def spy_append(self: Any, logs: list[dict[str, Any]]) -> None:
        seen["appends"].append([dict(log) for log in logs])
        append(self, logs)

    monkeypatch.setattr(SafeJournalBackend, "append_logs", spy_append)
    yield seen


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_search_writes_each_record_at_once_and_stores_all_of_it(
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    digits: tuple[np.ndarray, np.ndarray],
    batches: dict[str, list[Any]],
) -> None:
    import adamtune

    url = _url(kind, tmp_path, request)
    x, y = digits
    adamtune.search(
        lambda: mlp(64, 10),
        (x[:400], y[:400]),
        space="quick",
        epochs=1,
        trials=2,
        storage=url,
        study_name="r",
        seed=0,
        verbose=0,
    )
    written = dict(batches["batched"])
    trials = optuna.load_study(study_name="r", storage=open_storage(url)).get_trials()
    assert len(trials) == 2 and sorted(written) == sorted(t._trial_id for t in trials)
    # Only the worker's mark, set when a trial starts, is written on its own.
    assert batches["single"] == [WORKER_ATTR] * 2
    for trial in trials:
        assert trial.state in (TrialState.COMPLETE, TrialState.PRUNED)
        record = written[trial._trial_id]
        assert set(record) == RESULT_KEYS | {"rss_mb"}
        stored = {k: v for k, v in trial.user_attrs.items() if k in RECORD_KEYS}
        assert set(stored) == set(record) | {WORKER_ATTR}
        assert {k: stored[k] for k in record} == json.loads(json.dumps(record))
        assert TrialRecord.from_attrs(trial.user_attrs).to_attrs() == stored
        if kind == "journal":  # the whole record is one append, one line per attribute
            ops = [
                [
                    log["user_attr"]
                    for log in logs
                    if log.get("trial_id") == trial._trial_id and "user_attr" in log
                ]
                for logs in batches["appends"]
            ]
            whole = [op for op in ops if len(op) > 1]
            assert len(whole) == 1 and {k for attr in whole[0] for k in attr} == set(record)


def _commits(storage: Any) -> list[int]:
    """A counter of the commits on ``storage``'s engine (an RDB storage, or Optuna's cache)."""
    import sqlalchemy

    engine = getattr(storage, "_backend", storage).engine
    count = [0]

    def commit(_conn: Any) -> None:
        count[0] += 1

    sqlalchemy.event.listen(engine, "commit", commit)
    return count


@pytest.mark.parametrize("kind", RDB_KINDS)
def test_a_record_is_one_commit_where_optuna_makes_one_per_attribute(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    storage = open_storage(_url(kind, tmp_path, request))
    study = optuna.create_study(storage=storage, study_name="c")
    assert type(study._storage) is optuna.storages._CachedStorage  # Optuna's wrapper
    count = _commits(study._storage)

    batched = study.ask()
    count[0] = 0
    write_attrs(batched, RECORD)
    assert count[0] == 1
    assert batched.user_attrs == RECORD  # the trial's own copy, as set_user_attr keeps it

    one_by_one = study.ask()
    count[0] = 0
    for key, value in RECORD.items():
        one_by_one.set_user_attr(key, value)
    assert count[0] == 13

    stored = {
        t.number: t.user_attrs for t in optuna.load_study(study_name="c", storage=storage).trials
    }
    assert stored[batched.number] == stored[one_by_one.number] == json.loads(json.dumps(RECORD))

    again = {**RECORD, "outcome": "pruned", "seconds": 2.5}  # keys already there: overwritten
    write_attrs(batched, again)
    assert study._storage.get_trial(batched._trial_id).user_attrs == json.loads(json.dumps(again))


def test_a_record_the_database_refuses_part_of_is_not_stored_at_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name="a")
    trial = study.ask()
    import sqlalchemy

    assert isinstance(storage, LeasedRDBStorage)
    with storage.engine.begin() as conn:  # a write that fails on the last attribute
        conn.execute(
            sqlalchemy.text(
                "CREATE TRIGGER refuse BEFORE INSERT ON trial_user_attributes "
                "WHEN NEW.key = 'worker' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    with pytest.raises(sqlalchemy.exc.IntegrityError, match="refused"):
        write_attrs(trial, RECORD)
    assert storage.get_trial(trial._trial_id).user_attrs == {}
    # Optuna's one-by-one writes store all but the refused attribute (it ignores the error).
    for key, value in RECORD.items():
        trial.set_user_attr(key, value)
    assert set(storage.get_trial(trial._trial_id).user_attrs) == set(RECORD) - {WORKER_ATTR}


def test_a_record_in_a_journal_is_one_append(tmp_path: Path, batches: dict[str, Any]) -> None:
    path = tmp_path / "study.log"
    storage = open_storage(f"journal:///{path}")
    study = optuna.create_study(storage=storage, study_name="j")
    trial = study.ask()
    batches["appends"].clear()
    write_attrs(trial, RECORD)
    assert len(batches["appends"]) == 1 and len(batches["appends"][0]) == 13
    assert trial.user_attrs == RECORD
    fresh = open_storage(f"journal:///{path}", readonly=True)
    assert fresh.get_trial(trial._trial_id).user_attrs == json.loads(json.dumps(RECORD))


def test_a_finished_trial_s_record_is_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "study.log"
    study = optuna.create_study(storage=open_storage(f"journal:///{path}"), study_name="j")
    trial = study.ask()
    study.tell(trial, 1.0)
    size = path.stat().st_size
    with pytest.raises(UpdateFinishedTrialError):
        write_attrs(trial, RECORD)
    assert path.stat().st_size == size


def test_a_journal_record_for_a_trial_finished_meanwhile_leaves_no_error_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker fails the trial between this worker's check and its append: the error is
    raised by this write, and no later read meets the rest of the record and raises again."""
    url = f"journal:///{tmp_path / 'study.log'}"
    mine, other = open_storage(url), open_storage(url)
    assert isinstance(mine, LeasedJournalStorage)
    study = optuna.create_study(storage=mine, study_name="j")
    trial = study.ask()
    append = mine._backend.append_logs

    def finished_first(logs: list[dict[str, Any]]) -> None:
        other.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        append(logs)

    monkeypatch.setattr(mine._backend, "append_logs", finished_first)
    with pytest.raises(UpdateFinishedTrialError):
        write_attrs(trial, RECORD)
    monkeypatch.undo()
    assert mine.get_trial(trial._trial_id).state == TrialState.FAIL  # reads go on, no raise
    assert mine.get_trial(trial._trial_id).user_attrs == {}
    assert study.ask().number == 1


def test_other_storages_get_the_attributes_one_by_one(tmp_path: Path) -> None:
    in_memory = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = in_memory.ask()
    write_attrs(trial, RECORD)
    assert trial.user_attrs == RECORD
    assert in_memory.trials[0].user_attrs == RECORD

    # A user's own RDB storage object is written as Optuna writes it: a commit per attribute.
    plain = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'plain.db'}")
    study = optuna.create_study(storage=open_storage(plain), study_name="p")
    count = _commits(study._storage)
    trial = study.ask()
    count[0] = 0
    write_attrs(trial, RECORD)
    assert count[0] == 13
    assert study.trials[0].user_attrs == json.loads(json.dumps(RECORD))
