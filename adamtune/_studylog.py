"""The per-study log file kept beside a local storage: what every worker did, one line each.

``sqlite:///night.db`` with study ``digits`` logs to ``night.digits.log`` in the same folder; a
KerasTuner study ``digits`` in folder ``adamtune_kt`` logs to ``adamtune_kt/digits.log``. Server
storages (PostgreSQL) have no local folder and no log file. Storage URLs are masked before they
are written.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

from adamtune._record import TrialRecord

__all__ = ["StudyLog", "log_path"]


def log_path(storage: Any, study_name: str) -> Path | None:
    """Where the study's log file goes, or None when the storage has no local folder.

    ``storage`` as the study's engine holds it (None: ``sqlite:///adamtune.db``; a KerasTuner
    study's folder given, not defaulted): the engine it names says where its log goes.
    """
    from adamtune.engine import engine_for

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", study_name).strip("._") or "study"
    return engine_for(storage=storage).log_file(storage, safe)


class StudyLog:
    """Appends timestamped lines to the study's log file (or does nothing without one)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._logger: logging.Logger | None = None
        self._handler: logging.Handler | None = None

    def _open(self, path: Path) -> logging.Logger | None:
        """The file is created at the first line, so a search refused early leaves nothing."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:  # a log must never stop a search
            self.path = None
            logging.getLogger("adamtune").warning("cannot write study log %s: %s", path, exc)
            return None
        self._handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s {socket.gethostname()}:{os.getpid()} %(levelname)s %(message)s"
            )
        )
        self._logger = logging.Logger(f"adamtune.study.{path}")
        self._logger.addHandler(self._handler)
        return self._logger

    def __call__(self, message: str, *, warning: bool = False) -> None:
        from adamtune.engine import mask_url

        if self.path is None:
            return
        logger = self._logger or self._open(self.path)
        if logger is not None:
            logger.log(logging.WARNING if warning else logging.INFO, mask_url(message))

    def trial(self, study: Any, trial: Any) -> None:
        """An engine callback: one line per finished trial."""
        record = TrialRecord.from_attrs(trial.user_attrs)
        value = "" if trial.value is None else f" value={trial.value:.6g}"
        detail = (record.reason_or_error or "").strip()
        detail = detail.splitlines()[0] if detail else ""
        self(
            f"trial {trial.number} {trial.state.name.lower()} "
            f"outcome={_or_dash(record.outcome)}{value} seconds={_or_dash(record.seconds)} "
            f"rss_mb={_or_dash(record.rss_mb)}{f' ({detail})' if detail else ''}",
            warning=trial.state.name == "FAIL",
        )

    def close(self) -> None:
        if self._handler is not None and self._logger is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
            self._handler = None


def _or_dash(value: object) -> object:
    """``value`` for a log line; ``-`` for an attribute the trial did not store."""
    return "-" if value is None else value
