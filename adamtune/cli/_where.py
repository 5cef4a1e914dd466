"""Where a command's study is: the ``--storage`` a user typed, and the study in it.

``--storage`` takes a storage URL, a KerasTuner folder, or a bare path to the file a URL would
name (``adamtune.db``, ``night.log``): :func:`resolve_storage` reads it once, for every command.
Without ``--storage``, every command uses ``$ADAMTUNE_STORAGE``, else ``sqlite:///adamtune.db``
(``adamtune search``'s default). Without ``--study``, the one adamtune study in the storage.
"""

from __future__ import annotations

import argparse
import difflib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adamtune._util import check_study_name

__all__ = [
    "STORAGE_ENV",
    "AmbiguousStudy",
    "check_storage_exists",
    "default_storage",
    "is_folder",
    "no_study_error",
    "open_result",
    "pick_study",
    "resolve_storage",
    "storage_args",
    "study_names",
    "suggest",
    "wait_for_study",
]

STORAGE_ENV = "ADAMTUNE_STORAGE"
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
JOURNAL_SUFFIXES = (".log", ".jsonl")
STORAGE_HELP = (
    "where the study is: a storage URL (sqlite:///adamtune.db, journal:///adamtune.log, "
    "postgresql://...), a path to its .db or .log file, or a KerasTuner study folder; default "
    f"${STORAGE_ENV} (which keeps a password off the command line), else sqlite:///adamtune.db"
)


def storage_args(parser: argparse.ArgumentParser, *, study: bool = True) -> None:
    """``--storage`` (and ``--study``) for a command that looks at or joins a stored study."""
    parser.add_argument("--storage", default=None, help=STORAGE_HELP)
    if study:
        parser.add_argument(
            "--study",
            default=None,
            help="study name; may be left out when the storage holds one adamtune study "
            "(`adamtune studies` lists them)",
        )


def suggest(name: str, names: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest of ``names`` to ``name``, or ``""``."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _header(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER))
    except OSError:
        return b""


def resolve_storage(text: str) -> str:
    """``--storage`` as a storage URL or a KerasTuner folder path.

    A URL (anything with ``://``) and an existing folder are returned as they are. A bare path to
    a file is read as the file it is: an existing SQLite database (by its 16-byte header), an
    empty or missing ``.db``/``.sqlite``/``.sqlite3`` file -> ``sqlite:///<absolute path>``; a
    ``.log``/``.jsonl`` file -> ``journal:///<absolute path>``. Any other missing path stays a
    (KerasTuner) folder path; any other existing file is refused.
    """
    from adamtune.engine import is_url

    if is_url(text):
        return text
    path = Path(text).expanduser()
    if path.is_dir():
        return text
    suffix = path.suffix.lower()
    absolute = path.absolute()
    if path.is_file():
        head = _header(path)
        if head == SQLITE_HEADER or (not head and suffix in SQLITE_SUFFIXES):
            return f"sqlite:///{absolute}"
        if suffix in JOURNAL_SUFFIXES:
            return f"journal:///{absolute}"
        raise ValueError(
            f"--storage names a file that is neither a SQLite database nor an Optuna journal "
            f"(.log, .jsonl). Received: --storage {text!r}. Point it at the study's .db or .log "
            "file, a storage URL such as sqlite:///adamtune.db, or a KerasTuner study folder"
        )
    if path.exists():  # a socket, a device: nothing a study lives in
        raise ValueError(
            f"--storage names neither a file nor a folder. Received: --storage {text!r}"
        )
    if suffix in SQLITE_SUFFIXES:
        return f"sqlite:///{absolute}"
    if suffix in JOURNAL_SUFFIXES:
        return f"journal:///{absolute}"
    return text


def is_folder(storage: str) -> bool:
    """Whether ``storage`` (resolved) is a study folder path (KerasTuner's) rather than a URL."""
    from adamtune.engine import engine_for

    return engine_for(storage=storage).folder


def check_storage_exists(storage: str, defaulted: bool) -> None:
    """Refuse to look at a storage that is not there, before anything would create it.

    ``defaulted``: no ``--storage`` nor ``$ADAMTUNE_STORAGE`` was given, so the message says
    which default was looked at and how to point at the study instead. A file named by a URL
    the user gave is left to :func:`adamtune.engine.open_storage`, which refuses it by its path.
    """
    from adamtune.engine import local_file

    path = Path(storage) if is_folder(storage) else local_file(storage)
    if path is None or path.exists():
        return
    where = path.absolute()
    if defaulted:
        raise ValueError(
            f"no study storage at {where}: --storage was not given and ${STORAGE_ENV} is not "
            f"set, so the default {storage} (in the current folder) was looked at, and looking "
            "never creates one. Point at your study with --storage (a path such as night.db, or "
            f"a URL such as sqlite:///night.db or postgresql://...) or set ${STORAGE_ENV}; "
            "`adamtune search` creates adamtune.db in the current folder by default"
        )
    if is_folder(storage):
        raise ValueError(
            f"no study storage at {where}: no such folder or file (--storage {storage}); looking "
            "at a study never creates its storage. Pass --storage a storage URL, the study's "
            ".db or .log file, or a KerasTuner study folder"
        )


def study_names(storage: str, *, readonly: bool = True) -> tuple[list[str], list[str]]:
    """The studies in ``storage`` (resolved, existing): adamtune's, and the others."""
    from adamtune.engine import stored_studies

    return stored_studies(storage, readonly=readonly)


def _listed(ours: list[str], others: list[str]) -> str:
    names = [*ours, *(f"{n} (not made by adamtune)" for n in others)]
    return ", ".join(names) if names else "none"


def no_study_error(study: str, storage: str, ours: list[str], others: list[str]) -> ValueError:
    """``no study 'X'`` in ``storage``, listing the studies there and the closest name."""
    from adamtune.engine import mask_url

    return ValueError(
        f"no study {study!r} in this storage ({mask_url(storage)})"
        f"{suggest(study, [*ours, *others]) or '.'} "
        f"It holds: {_listed(ours, others)}. Pass --study NAME (`adamtune studies` lists them)"
    )


class AmbiguousStudy(ValueError):
    """The storage holds several adamtune studies and ``--study`` was left out."""


def pick_study(storage: str, given: str | None) -> str:
    """``--study`` as given (checked), or the only adamtune study in ``storage``."""
    if given is not None:
        return check_study_name(given, "--study")
    from adamtune.engine import mask_url

    ours, others = study_names(storage)
    if len(ours) == 1:
        return ours[0]
    shown = mask_url(storage)
    if not ours:
        raise ValueError(
            f"no adamtune study in {shown} (it holds: {_listed(ours, others)}); check --storage, "
            "or start one with `adamtune search`"
        )
    raise AmbiguousStudy(
        f"--study is needed: {shown} holds {len(ours)} adamtune studies: {', '.join(ours)}. "
        "Pass --study NAME"
    )


def wait_for_study(storage: str, given: str | None, wait: float) -> str:
    """:func:`pick_study` for a worker, which may be started before its study exists: tried
    again for up to ``wait`` seconds while the storage holds no adamtune study yet."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return pick_study(storage, given)
        except AmbiguousStudy:
            raise
        except ValueError:  # no study yet, or no storage yet
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.25)


def default_storage() -> tuple[str, bool]:
    """``$ADAMTUNE_STORAGE``, else ``sqlite:///adamtune.db``, and whether it was the latter."""
    from adamtune.engine import DEFAULT_STORAGE

    from_env = os.environ.get(STORAGE_ENV)
    return (from_env, False) if from_env else (DEFAULT_STORAGE, True)


def open_result(storage: str, study: str | None) -> Any:
    """The Result of a stored study: an Optuna storage URL, or a KerasTuner folder; ``study``
    None picks the only adamtune study there."""
    from adamtune.cli._where import no_study_error, pick_study, study_names
    from adamtune.engine import NoStudy, open_existing
    from adamtune.result import Result

    name = pick_study(storage, study)
    try:
        # Looking at a study never creates nor repairs its storage: a missing file is refused.
        found = open_existing(storage, name)
    except NoStudy:
        raise no_study_error(name, storage, *study_names(storage)) from None
    if found.meta is None:
        raise ValueError(
            f"study {name!r} was not created by adamtune, so it holds no tuned config; "
            "`adamtune studies` lists the studies in this storage"
        )
    return Result(found.view(), found.meta)
