"""Study storages that survive parallel writers, dead workers and torn files.

* ``sqlite:///file.db`` (the default): Optuna's RDB storage, the file switched to WAL with a long
  busy timeout, so several local workers write without "database is locked".
* ``postgresql://...`` (and other SQLAlchemy URLs): Optuna's RDB storage, for many machines.
* ``journal:///file.log``: Optuna's journal file backend, checked for a torn last record first.

Every storage adamtune opens fails and retries the trials of dead workers, in two ways. A trial
whose process on this host is gone (``kill -9``, out-of-memory killer) is failed the next time any
worker looks. A trial whose worker stopped signalling (a machine lost, a frozen process) is failed
once its heartbeat is ``3 x heartbeat`` seconds old: Optuna's heartbeat for RDB storages, and
adamtune's own lease, recorded in the journal, for journal files.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote_plus

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, RDBStorage, _CachedStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import BaseJournalBackend, JournalStorage
from optuna.trial import FrozenTrial, TrialState

from adamtune._record import (  # WORKER_ATTR re-exported: one definition, in the record
    WORKER_ATTR,
    TrialRecord,
)
from adamtune.engine._journal import OwnedLock, SafeJournalBackend, check_journal, recover_journal
from adamtune.engine._process import is_dead

__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_STORAGE",
    "WORKER_ATTR",
    "check_storage",
    "is_shared",
    "local_file",
    "mask_url",
    "open_storage",
    "retry_trial",
    "write_attrs",
]

DEFAULT_STORAGE = "sqlite:///adamtune.db"
DEFAULT_HEARTBEAT = 30
_LEASE_ATTR = "adamtune:lease"
_MAX_RETRY = 3
_SCHEMES = "'sqlite:///adamtune.db', 'journal:///adamtune.log' or 'postgresql://user@host/db'"


# Query keys whose values are secrets, as any driver spells them: password, passwd, pwd,
# sslpassword, pass, secret, client_secret, token, auth_token, key, api_key, sslkey, credentials,
# signature. Masking a key that holds no secret (sslkey names a file) costs nothing.
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|credential|signature", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with the user-info password and every password-like query value replaced by
    ``***``."""
    # Up to the last "@": a password may hold "/" or an unescaped "@" (SQLAlchemy takes both).
    # A stray "@" later in the URL masks too much, never too little.
    url = re.sub(r"(://[^:/@]*:).*@(?=[^@]*$)", r"\1***@", url)
    base, mark, query = url.partition("?")
    if not mark:
        return url
    # The whole rest is the query ("#" included: SQLAlchemy does not split off a fragment).
    parts = re.split(r"([&;])", query)
    secret = False
    for i in range(0, len(parts), 2):
        name, eq, _ = parts[i].partition("=")
        if eq:
            secret = bool(_SECRET_KEY.search(unquote_plus(name)))
            if secret:
                parts[i] = f"{name}=***"
        elif secret and parts[i]:  # an unescaped "&" inside a secret value: still the value
            parts[i] = "***"
    return base + mark + "".join(parts)


def check_storage(url: Any) -> None:
    """Refuse anything that is neither a storage URL nor an Optuna storage, without opening it."""
    if url is None or isinstance(url, BaseStorage):
        return
    journal_without_file = (
        isinstance(url, str) and url.startswith("journal:") and local_file(url) is None
    )
    if not isinstance(url, str) or "://" not in url or journal_without_file:
        shown = mask_url(url) if isinstance(url, str) else repr(url)
        raise ValueError(
            f"`storage` must be a storage URL such as {_SCHEMES}, or an Optuna storage object. "
            f"Received: storage={shown}"
        )


def local_file(url: str | None) -> Path | None:
    """The file behind a ``sqlite:///`` or ``journal:///`` URL (None for servers and memory)."""
    url = url or DEFAULT_STORAGE
    for scheme in ("sqlite:///", "journal:///"):
        if url.startswith(scheme) and url[len(scheme) :] not in ("", ":memory:"):
            return Path(url[len(scheme) :].split("?")[0])
    return None


def _is_local_url(url: str) -> bool:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return scheme in ("sqlite", "journal") or scheme.startswith("sqlite+")


def is_shared(storage: Any) -> bool:
    """Whether ``storage`` may be written by others than this machine's user.

    Local: ``None`` (the default SQLite file), ``sqlite:///`` and ``journal:///`` URLs, Optuna's
    in-memory storage, an RDB storage on SQLite and a journal storage on a file. Shared: every
    other URL (``postgresql://``, ``mysql://``, ...) and every other storage object. A local file
    is as safe as its permissions: one on a network drive, or writable by others, counts as local.
    """
    from optuna.storages import InMemoryStorage
    from optuna.storages.journal import JournalFileBackend

    if storage is None:
        return False
    if isinstance(storage, str):
        return not _is_local_url(storage)
    if isinstance(storage, JournalStorage):
        return not isinstance(storage._backend, JournalFileBackend)
    if isinstance(getattr(storage, "_backend", None), RDBStorage):
        storage = storage._backend  # Optuna's cache around an RDB storage
    if isinstance(storage, RDBStorage):
        return not _is_local_url(str(storage.url))
    return not isinstance(storage, InMemoryStorage)


def retry_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue a failed trial's parameters again (up to 3 times), without its recorded attributes
    but for the mark of a repeat (``search(confirm=N)``): a retried repeat is still one."""
    from adamtune.engine._repeats import REPEAT_ATTR

    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if len(history) > _MAX_RETRY:
        return
    study.add_trial(
        optuna.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs={k: v for k, v in trial.user_attrs.items() if k == REPEAT_ATTR},
            system_attrs={"failed_trial": history[0], "retry_history": history},
        )
    )


class _Reclaim:
    """Adds the trials of dead local processes to the storage's stale trials, and labels every
    stale trial with why it is failed (while it can still be written)."""

    def _stale_ids(self, study_id: int) -> dict[int, str]:
        raise NotImplementedError

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        storage: Any = self
        stale = self._stale_ids(study_id)
        for trial in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            who = trial.user_attrs.get(WORKER_ATTR)
            if trial._trial_id not in stale and is_dead(who, trial.number):
                stale[trial._trial_id] = (
                    f"WorkerLost: worker process {who['pid']} on {who['host']} died mid-trial "
                    "(killed or crashed); the trial was failed and its parameters queued again"
                )
        for trial_id, why in list(stale.items()):
            try:
                record = TrialRecord(outcome="crashed-error", error=why).to_attrs()
                storage.set_trial_user_attrs(trial_id, record)
            except (UpdateFinishedTrialError, KeyError):  # another worker got there first
                del stale[trial_id]
        return list(stale)


class LeasedRDBStorage(_Reclaim, RDBStorage):
    """Optuna's RDB storage with its heartbeat, plus dead-local-process detection, and a trial's
    record written in one transaction (:meth:`set_trial_user_attrs`)."""

    def _stale_ids(self, study_id: int) -> dict[int, str]:
        grace = self.grace_period or 0
        return {
            trial_id: f"WorkerLost: no heartbeat for over {grace} s (machine or process lost); "
            "the trial was failed and its parameters queued again"
            for trial_id in RDBStorage._get_stale_trial_ids(self, study_id)
        }

    def set_trial_user_attrs(self, trial_id: int, attrs: Mapping[str, Any]) -> None:
        """Set several user attributes of a running trial in one transaction: all of them or none
        is stored, with one commit (Optuna's ``set_trial_user_attr`` commits each).

        The trial is looked up once and, on SQLite, PostgreSQL and MySQL, every key upserted by
        one statement, values JSON-encoded as Optuna encodes them: building a statement per key
        costs more than the commit saved. Other databases get Optuna's own write per key (look
        the key up, then insert or update it), in the same transaction. There, two writers racing
        to insert the same key clash on the unique key, which Optuna ignores; here the clash would
        drop the whole record, so the attributes are then written one by one, as Optuna writes
        them. An upsert cannot clash so: an integrity error there is raised, never ignored.
        """
        import sqlalchemy.exc
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        if not attrs:
            return
        upsert = self._upsert_user_attrs(trial_id, attrs)
        try:
            with _create_scoped_session(self.scoped_session) as session:
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
                self.check_trial_is_updatable(trial_id, cast(TrialState, trial.state))
                if upsert is not None:
                    session.execute(upsert)
                else:
                    for key, value in attrs.items():
                        self._set_trial_attr_without_commit(
                            session, models.TrialUserAttributeModel, trial_id, key, value
                        )
        except sqlalchemy.exc.IntegrityError:
            if upsert is not None:
                raise
            for key, value in attrs.items():
                self.set_trial_user_attr(trial_id, key, value)

    def _upsert_user_attrs(self, trial_id: int, attrs: Mapping[str, Any]) -> Any:
        """One INSERT of every attribute that overwrites the keys already there, in the dialect of
        Optuna's own upsert; None for a database Optuna has none for."""
        from optuna.storages._rdb import models

        model = models.TrialUserAttributeModel
        rows = [
            {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
            for key, value in attrs.items()
        ]
        name = self.engine.name
        if name == "postgresql" or (name == "sqlite" and sqlite3.sqlite_version_info >= (3, 24)):
            from sqlalchemy.dialects import postgresql
            from sqlalchemy.dialects import sqlite as sqlite_dialect

            insert = (postgresql if name == "postgresql" else sqlite_dialect).insert(model)
            stmt = insert.values(rows)
            return stmt.on_conflict_do_update(
                index_elements=[model.trial_id, model.key],
                set_={"value_json": stmt.excluded.value_json},
            )
        if name == "mysql":
            from sqlalchemy.dialects import mysql

            mysql_stmt = mysql.insert(model).values(rows)
            return mysql_stmt.on_duplicate_key_update(value_json=mysql_stmt.inserted.value_json)
        return None


class LeasedJournalStorage(_Reclaim, JournalStorage, BaseHeartbeat):
    """Optuna's journal storage with adamtune's lease: a running trial renews a timestamp in the
    journal every ``interval`` seconds and is stale after ``3 x interval`` without one."""

    def __init__(self, backend: BaseJournalBackend, interval: int) -> None:
        super().__init__(backend)
        self.interval = interval

    def record_heartbeat(self, trial_id: int) -> None:
        self.set_trial_system_attr(trial_id, _LEASE_ATTR, time.time())

    def set_trial_user_attrs(self, trial_id: int, attrs: Mapping[str, Any]) -> None:
        """Set several user attributes of a running trial in one append to the journal: one lock,
        one write, one fsync, and a failed write (a full disk) cut back whole, so all of them or
        none is stored. Optuna's ``set_trial_user_attr`` appends each on its own.

        The journal format holds one attribute per record (Optuna's replay asserts it), so the
        append is one ``SET_TRIAL_USER_ATTR`` record per key, each replayed as Optuna's own.
        A trial already finished (or unknown) is refused before anything is written.
        """
        from optuna.storages.journal._storage import (
            NOT_FOUND_MSG,
            UNUPDATABLE_MSG,
            JournalOperation,
        )

        if not attrs:
            return
        with self._thread_lock:
            self._sync_with_backend()
            trial = self._replay_result._trials.get(trial_id)
            if trial is None:
                raise KeyError(NOT_FOUND_MSG)
            if trial.state.is_finished():
                raise UpdateFinishedTrialError(UNUPDATABLE_MSG.format(trial_number=trial.number))
            worker_id = self._replay_result.worker_id
            self._backend.append_logs(
                [
                    {
                        "op_code": JournalOperation.SET_TRIAL_USER_ATTR,
                        "worker_id": worker_id,
                        "trial_id": trial_id,
                        "user_attr": {key: value},
                    }
                    for key, value in attrs.items()
                ]
            )
            self._replay_own_records()

    def _replay_own_records(self) -> None:
        """Read the journal up to its end. Replaying one of this worker's records for a trial
        another worker finished meanwhile raises (as for Optuna's one-record writes): the first
        such error is raised only after every record is replayed, or the next read would meet
        the rest of the batch and raise in an unrelated call."""
        first: Exception | None = None
        while True:
            read = self._replay_result.log_number_read
            try:
                self._sync_with_backend()  # each record is counted read before it is replayed
            except (KeyError, UpdateFinishedTrialError) as exc:
                if self._replay_result.log_number_read == read:
                    raise  # not a record's replay: nothing was read
                first = first or exc
                continue
            break
        if first is not None:
            raise first

    def _stale_ids(self, study_id: int) -> dict[int, str]:
        now = time.time()
        grace = 3 * self.interval
        stale = {}
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            start = trial.datetime_start.timestamp() if trial.datetime_start else now
            if now - float(trial.system_attrs.get(_LEASE_ATTR, start)) > grace:
                stale[trial._trial_id] = (
                    f"WorkerLost: lease not renewed for over {grace} s (machine or process lost); "
                    "the trial was failed and its parameters queued again"
                )
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.interval

    def get_heartbeat_stale_trial_callback(
        self,
    ) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        return retry_trial


def write_attrs(trial: optuna.Trial, attrs: Mapping[str, Any]) -> None:
    """Store ``attrs`` as ``trial``'s user attributes: in one storage operation (one transaction,
    one journal append) on a storage adamtune opened, so a crash leaves a trial's record whole or
    absent, at one commit instead of one per attribute. Any other storage (Optuna's in-memory
    one, a user's own object) gets them one by one, through ``trial.set_user_attr``."""
    storage = trial.storage
    # Optuna wraps an RDB storage in a cache of finished trials only; its set_trial_user_attr
    # passes straight to the RDB storage, so writing to that storage directly skips nothing.
    if type(storage) is _CachedStorage:
        storage = storage._backend
    if isinstance(storage, (LeasedRDBStorage, LeasedJournalStorage)):
        storage.set_trial_user_attrs(trial._trial_id, attrs)
        trial._cached_frozen_trial.user_attrs.update(attrs)  # as trial.set_user_attr keeps it
    else:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)


def _open_journal(
    path: Path, heartbeat: int, report: Callable[[str], None], readonly: bool
) -> BaseStorage:
    """The journal at ``path``, its torn last record cut off first (errors name the file).
    ``readonly``: an existing journal, checked but never created nor written."""
    try:
        if readonly:
            _must_exist(path, "journal")  # a ValueError, not caught below
            check_journal(path)
            backend = SafeJournalBackend(path, readonly=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = OwnedLock(str(path))
            lock.acquire()
            try:
                damage = recover_journal(path)
            finally:
                lock.release()
            if damage:
                report(damage)
            backend = SafeJournalBackend(path, report=report)
    except OSError as exc:
        raise ValueError(f"cannot open journal {path}: {exc.strerror or exc}") from None
    return LeasedJournalStorage(backend, heartbeat)


def _must_exist(path: Path, what: str) -> None:
    """Refuse to look at a storage file that is not there: looking must not create it."""
    if not path.is_file():
        where = "no such file" if not path.exists() else "not a file"
        raise ValueError(
            f"cannot open {what}: {where} {path} (looking at a study never creates its storage: "
            "check --storage; only `adamtune search` and `adamtune worker` create one)"
        )


def _use_wal(path: Path) -> None:
    """Switch a SQLite file to write-ahead logging (kept in the file): readers no longer block the
    writer, so several workers share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, timeout=60) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def open_storage(
    url: str | BaseStorage | None,
    *,
    heartbeat: int = DEFAULT_HEARTBEAT,
    report: Callable[[str], None] | None = None,
    readonly: bool = False,
) -> BaseStorage:
    """An Optuna storage for ``url`` (``sqlite:///adamtune.db`` by default), or the storage
    object itself. ``report`` receives what was repaired (a torn journal record cut off).

    ``readonly`` opens a storage to look at it (``status``, ``export``, ``report``): a SQLite or
    journal file that does not exist is refused naming its path, and nothing is created or
    repaired; a journal is never written.
    """
    check_storage(url)
    if isinstance(url, BaseStorage):
        return url
    url = url or DEFAULT_STORAGE
    file = local_file(url)
    if url.startswith("journal:///"):
        assert file is not None  # check_storage refused a journal URL without a file
        return _open_journal(file, heartbeat, report or _warn, readonly)
    if readonly and url.startswith("sqlite") and file is not None:
        _must_exist(file, f"storage {mask_url(url)}")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
    try:
        if url.startswith("sqlite") and file is not None and not readonly:
            _use_wal(file)
        return _open_rdb(url, kwargs, heartbeat)
    except Exception as exc:
        raise ValueError(
            f"cannot open storage {mask_url(url)}: {type(exc).__name__}: "
            f"{mask_url(str(exc).splitlines()[0] if str(exc) else '')}"
        ) from None


def _open_rdb(url: str, kwargs: dict[str, Any], heartbeat: int) -> BaseStorage:
    """Optuna's RDB storage with the heartbeat on. Workers that open a new database at the same
    moment race to create its tables; the loser waits and opens the tables the winner made."""
    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return LeasedRDBStorage(
                    url,
                    engine_kwargs=kwargs,
                    heartbeat_interval=heartbeat,
                    grace_period=3 * heartbeat,
                    heartbeat_stale_trial_callback=retry_trial,
                )
        except Exception as exc:
            text = str(exc).lower()
            racing = any(s in text for s in ("already exists", "unique constraint", "duplicate"))
            if not racing or attempt == 4:
                raise
            time.sleep(0.5 + attempt)
    raise AssertionError("unreachable")


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)
