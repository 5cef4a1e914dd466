"""Small helpers shared by several modules: argument checks, durations and atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: float | int | str | None, name: str = "timeout") -> float | None:
    """Seconds from ``None``, a number of seconds, or a string such as ``"90s"``, ``"30m"``, ``"8h"``.

    Compound strings (``"1h30m"``) are accepted as a sum of parts.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be seconds or a string like '8h'. Received: {name}={value!r}"
        )
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value, name)
    else:
        raise TypeError(
            f"`{name}` must be seconds or a string like '8h'. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if not seconds > 0:
        raise ValueError(f"`{name}` must be positive. Received: {name}={value!r}")
    return seconds


def _parse_duration_text(text: str, name: str) -> float:
    parts = re.findall(r"\d+(?:\.\d+)?\s*[a-zA-Z]*", text)
    if not parts or "".join(parts).replace(" ", "") != text.replace(" ", ""):
        raise ValueError(
            f"`{name}` must be seconds or a duration such as '45s', '30m', '8h', '1h30m'. "
            f"Received: {name}={text!r}"
        )
    total = 0.0
    for part in parts:
        match = _DURATION.match(part)
        if match is None:
            raise ValueError(
                f"`{name}` has an unknown unit in {part.strip()!r}; use s, m, h or d. "
                f"Received: {name}={text!r}"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    return total


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` if it is a positive int, else raise an error that names ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} "
            f"of type {type(value).__name__}"
        )
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer (>= 1). Received: {name}={value!r}")
    return value


def check_choice(value: Any, name: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise list the allowed values."""
    options = list(allowed)
    if value not in options:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(o) for o in options)}. "
            f"Received: {name}={value!r}"
        )
    return str(value)


# Folder and file names are at most 255 bytes on common file systems; the log file adds a prefix
# (the storage file's stem) and a suffix.
MAX_STUDY_NAME = 200


# Names Windows gives to devices in every folder: `<storage>/NUL/` would be no folder at all.
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]]
)


def check_study_name(value: Any, name: str = "study_name") -> str:
    """Return ``value`` if it can name a study's folder and log file, else raise naming ``name``.

    A study name becomes a path part (a KerasTuner study's folder ``<storage>/<study_name>/``, the
    log file beside a storage), so it must stay one plain name inside that folder: no separator,
    drive or NUL that would steer the path elsewhere, refused before anything is created.
    """
    from pathlib import PureWindowsPath

    rule = (
        f"`{name}` must be a plain name, used as a folder and file name: not empty, not only dots, "
        f"at most {MAX_STUDY_NAME} bytes in UTF-8, and without '/', '\\', a drive such as 'C:', NUL "
        "or other control characters, and not a Windows device name such as 'CON' or 'NUL.db'"
    )
    if not isinstance(value, str):
        raise ValueError(f"{rule}. Received: {name}={value!r} of type {type(value).__name__}")
    unsafe = (
        not value.strip()
        or len(value.encode("utf-8", "surrogatepass")) > MAX_STUDY_NAME
        or set(value) <= {"."}
        or "/" in value
        or "\\" in value
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
        or PureWindowsPath(value).drive != ""
        or value.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES
    )
    if unsafe:
        raise ValueError(
            f"{rule}. Received: {name}={value!r}. Pick a name such as 'digits' or 'digits-v2'; "
            "say where the study is kept with `storage`"
        )
    return value


def _default_mode() -> int:
    """What ``open(path, "w")`` would give: 0o666 less the umask (mkstemp makes 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def seconds_until(clock: str, name: str = "until", now: float | None = None) -> float:
    """Seconds from ``now`` to the next local wall-clock time ``clock`` (``"07:00"``, 24-hour);
    tomorrow's when today's has passed."""
    import datetime as dt

    match = (
        re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", clock) if isinstance(clock, str) else None
    )
    if match is None:
        raise ValueError(
            f"`{name}` must be a 24-hour local time such as '07:00' or '23:30'. "
            f"Received: {name}={clock!r}"
        )
    start = dt.datetime.fromtimestamp(time.time() if now is None else now)
    end = start.replace(
        hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0
    )
    if end <= start:
        end += dt.timedelta(days=1)
    return (end - start).total_seconds()
