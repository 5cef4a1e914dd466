"""Exceptions raised by adamtune.

Two families, as in KerasTuner's ``errors.py``: a trial that fails (an exception in user code, out
of memory) is stored as failed with its error and the study goes on, whatever the exception; a
:class:`SearchAborted` ends the search. Everything else adamtune raises on bad input is a plain
``ValueError`` or ``TypeError`` raised before any work is stored.
"""

from __future__ import annotations

__all__ = [
    "PreflightError",
    "SearchAborted",
    "StorageFullError",
    "StudyMismatchError",
]


class PreflightError(ValueError):
    """The model or the data cannot train at all; raised before any trial is stored."""


class StudyMismatchError(ValueError):
    """An existing study was created with a different space, objective or budget."""


class SearchAborted(RuntimeError):
    """The search cannot go on (for example, too many trials failed in a row)."""


class StorageFullError(SearchAborted):
    """The disk holding the study is full; the finished trials are kept and the search resumes
    with the same command once there is room."""
