"""Journal files that survive torn writes, dead lock holders and foreign records.

Optuna's journal backend appends after whatever the file ends with: after a record torn by a
worker killed mid-write (or stopped by a full disk), the next append is merged into the fragment,
every reader skips the merged line, and the writer that made it fails inside Optuna (its trial is
lost). Here:

* every append is written whole under the journal's lock: a torn record a dead or failed writer
  left at the end is cut off first (kept in a side file and reported, with its line number), and
  an append that fails part way (a full disk) is cut back before the error is raised, so a
  record is never merged into another;
* the lock file names the process holding it: a lock left by a process of this host that is gone
  (``kill -9`` mid-write) is taken over at once, not after Optuna's 30 s grace;
* every complete line a worker reads is checked: not JSON, not an object, or an ``op_code`` Optuna
  does not know is refused as :class:`JournalDamaged` naming the line, never replayed;
* a journal opened to be looked at (``status``, ``export``, ``report``) is never created nor
  written.

Damage anywhere but the last record is refused with the line, never merged nor guessed at.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import BaseJournalFileLock
from optuna.storages.journal._storage import JournalOperation

from adamtune.engine._process import is_dead, worker_identity

__all__ = [
    "JournalDamaged",
    "OwnedLock",
    "SafeJournalBackend",
    "check_journal",
    "parse_record",
    "recover_journal",
]

_OP_CODES = frozenset(int(op) for op in JournalOperation)
# A lock whose holder cannot be judged (another host, Optuna's own empty lock file) is taken over
# after this many seconds without change, as Optuna does.
_GRACE = 30
_LOCK_OWNER_TRIAL = -1  # worker_identity() needs a trial number: the lock is nobody's trial
_CHUNK = 1 << 16
NOT_JSON = "it is not JSON"


class JournalDamaged(ValueError):
    """A journal file holds a record adamtune will not replay: it names the line."""


def parse_record(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One complete journal line (without its newline): the record, or what is wrong with it."""
    try:
        record = json.loads(line)
    except ValueError:  # also UnicodeDecodeError
        return None, NOT_JSON
    if not isinstance(record, dict):
        return None, "it is not a JSON object"
    op = record.get("op_code")
    if isinstance(op, bool) or not isinstance(op, int) or op not in _OP_CODES:
        return None, f"its op_code {op!r} is not one Optuna {_optuna_version()} knows"
    return record, None


def _optuna_version() -> str:
    import optuna

    return optuna.__version__


def _not_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return True
    return False


def _damaged(path: Path | str, number: int, total: int | None, why: str) -> JournalDamaged:
    keep = f"lines 1-{number - 1} by hand (head -n {number - 1})" if number > 1 else "nothing"
    of = "" if total is None else f" of {total}"
    return JournalDamaged(
        f"journal {path} is damaged at line {number}{of}: {why}. It is not a torn last "
        "record that can be cut off safely, so adamtune leaves it untouched: restore a backup, "
        f"or keep {keep} into a new file and point --storage at it"
    )


def check_journal(path: Path) -> None:
    """Raise :class:`JournalDamaged` for any damaged line of the journal at ``path`` except a torn
    last record (no newline, or not JSON): that one readers skip and the next writer cuts off.
    Reads only: for opening a journal to look at it."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()
    if not tail and lines and _not_json(lines[-1]):
        lines.pop()  # a last record of garbage: cut off by the next writer, skipped until then
    total = len(lines) + bool(tail)
    for number, line in enumerate(lines, start=1):
        _, why = parse_record(line)
        if why is not None:
            raise _damaged(path, number, total, why)


def recover_journal(path: Path) -> str | None:
    """Cut a torn last record from the journal at ``path``; return a report of it, or None.

    Call with the journal's write lock held. Raises :class:`JournalDamaged` when a record other
    than a torn last one is unreadable (or names an unknown ``op_code``).
    """
    try:
        check_journal(path)
    except FileNotFoundError:
        return None
    with open(path, "r+b", buffering=0) as f:
        return _cut_torn_tail(f, path)


def _last_line_start(f: Any, size: int) -> int:
    """Offset of the last line of the file ``f`` (of ``size`` bytes) that ends with a newline
    if the file does, else of its unterminated tail."""
    end = size - 1 if size and _byte_at(f, size - 1) == b"\n" else size
    pos = end
    while pos > 0:
        start = max(0, pos - _CHUNK)
        f.seek(start)
        chunk = f.read(pos - start)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        pos = start
    return 0


def _byte_at(f: Any, offset: int) -> bytes:
    f.seek(offset)
    return bytes(f.read(1))


def _cut_torn_tail(f: Any, path: Path | str, *, garbage: bool = True) -> str | None:
    """With the lock held: cut off a last record that no reader could replay (no newline: a write
    cut short; with ``garbage``, also a last line that is not JSON), keep it in a side file, and
    say what was cut. None if clean."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if not size or (not garbage and _byte_at(f, size - 1) == b"\n"):
        return None
    start = _last_line_start(f, size)
    f.seek(start)
    tail = f.read(size - start)
    if tail.endswith(b"\n") and not _not_json(tail[:-1]):
        return None
    number = _line_number_at(f, start)
    path = Path(path)
    aside = path.with_name(
        f"{path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    try:
        aside.write_bytes(tail)
    except OSError:  # a full disk: nothing half kept, and the journal left as it was
        aside.unlink(missing_ok=True)
        raise
    os.ftruncate(f.fileno(), start)
    os.fsync(f.fileno())
    return (
        f"journal {path}: its last record was torn ({len(tail)} bytes at line {number}, a write "
        f"cut short by a crash, a kill or a full disk); it was cut off and kept in {aside}. The "
        f"study goes on from the {number - 1} complete records before it; the trial that record "
        "belonged to is failed and retried"
    )


def _line_number_at(f: Any, offset: int) -> int:
    """1-based number of the line starting at byte ``offset``."""
    f.seek(0)
    count, read = 1, 0
    while read < offset:
        chunk = f.read(min(_CHUNK, offset - read))
        if not chunk:
            break
        count += chunk.count(b"\n")
        read += len(chunk)
    return count


class OwnedLock(BaseJournalFileLock):
    """Optuna's ``O_EXCL`` lock file (the same file name, so it excludes Optuna's own lock too),
    holding the identity of its process: a lock left by a dead process of this host is taken
    over at once. Any other stale lock is taken over after 30 s without change, as Optuna does.
    Takeovers are serialized with ``flock`` where there is one, so two waiters cannot both take
    the lock of the same dead holder."""

    def __init__(self, path: str) -> None:
        self._lock_file = path + ".lock"
        self._break_file = path + ".lock-takeover"

    def _identity(self) -> bytes:
        return json.dumps(worker_identity(_LOCK_OWNER_TRIAL)).encode()

    def acquire(self) -> bool:
        sleep = 0.001
        seen: tuple[bytes, float] | None = None
        since = time.monotonic()
        while True:
            try:
                fd = os.open(self._lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            else:
                try:
                    os.write(fd, self._identity())
                except OSError:
                    pass  # a full disk: the lock is held all the same, its holder unnamed
                finally:
                    os.close(fd)
                return True
            state = self._state()
            if state is None:  # released meanwhile
                continue
            if state != seen:
                seen, since = state, time.monotonic()
            stale = self._holder_dead(state[0]) or time.monotonic() - since > _GRACE
            if stale and self._take_over(state):
                sleep = 0.001
                continue
            time.sleep(sleep)
            sleep = min(sleep * 2, 0.25)

    def _state(self) -> tuple[bytes, float] | None:
        try:
            with open(self._lock_file, "rb") as f:
                return f.read(4096), os.fstat(f.fileno()).st_mtime
        except FileNotFoundError:
            return None

    @staticmethod
    def _holder_dead(content: bytes) -> bool:
        try:
            owner = json.loads(content)
        except ValueError:
            return False  # Optuna's empty lock file, or one being written: judged by its age
        return is_dead(owner, _LOCK_OWNER_TRIAL)

    def _take_over(self, state: tuple[bytes, float]) -> bool:
        """Remove the lock file if it still is the one seen as ``state``."""
        with _exclusive(self._break_file):
            if self._state() != state:
                return False
            self._remove()
        return True

    def _remove(self) -> None:
        aside = f"{self._lock_file}{uuid.uuid4().hex}.rename"
        try:
            os.rename(self._lock_file, aside)
        except FileNotFoundError:
            return
        os.unlink(aside)

    def release(self) -> None:
        try:
            self._remove()
        except OSError as exc:
            raise RuntimeError(
                f"could not release the journal lock {self._lock_file}: {exc}"
            ) from exc


@contextlib.contextmanager
def _exclusive(path: str) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): takeovers are as racy as Optuna's
        yield
        return
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


class SafeJournalBackend(JournalFileBackend):
    """Optuna's journal file backend with whole appends and checked reads (see the module).

    ``report`` receives what a writer cut off; ``readonly`` opens an existing file only and
    refuses every write.
    """

    def __init__(
        self,
        path: Path,
        *,
        report: Callable[[str], None] | None = None,
        readonly: bool = False,
    ) -> None:
        self._path = path
        self._report = report
        self._readonly = readonly
        if readonly:
            if not path.is_file():
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
            self._file_path = str(path)
            self._lock = OwnedLock(str(path))
            self._log_number_offset = {0: 0}
        else:
            super().__init__(str(path), lock_obj=OwnedLock(str(path)))

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        with open(self._file_path, "rb") as f:
            # Only what was in the file when reading began: a writer may be appending.
            remaining = os.fstat(f.fileno()).st_size
            start = 0
            if log_number_from in self._log_number_offset:
                f.seek(self._log_number_offset[log_number_from])
                start = log_number_from
                remaining -= self._log_number_offset[log_number_from]
            pending: JournalDamaged | None = None
            for number, line in enumerate(f, start=start):
                remaining -= len(line)
                if remaining < 0 or not line.endswith(b"\n"):
                    break  # a record being written, or torn: the next writer cuts it off
                if pending is not None:
                    raise pending  # damage with records after it
                record, why = parse_record(line[:-1])
                if why == NOT_JSON:
                    # Garbage as the very last line is a torn write the next writer cuts off.
                    pending = _damaged(self._path, number + 1, None, why)
                    continue
                if record is None:
                    raise _damaged(self._path, number + 1, None, str(why))
                self._log_number_offset.setdefault(
                    number + 1, self._log_number_offset[number] + len(line)
                )
                if number >= log_number_from:
                    yield record

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if self._readonly:
            raise ValueError(f"journal {self._path} was opened read-only")
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        self._lock.acquire()
        try:
            with open(self._file_path, "r+b", buffering=0) as f:
                # Only an unterminated tail: a complete line of garbage (a machine crash) is
                # cut at the next open, and refused by readers once records follow it.
                cut = _cut_torn_tail(f, self._path, garbage=False)
                if cut is not None and self._report is not None:
                    self._report(cut)
                size = f.seek(0, os.SEEK_END)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[f.write(view) or 0 :]
                    os.fsync(f.fileno())
                except BaseException:
                    # A full disk (or a signal) cut the write short: no fragment stays behind.
                    with contextlib.suppress(OSError):
                        os.ftruncate(f.fileno(), size)
                    raise
        finally:
            self._lock.release()
