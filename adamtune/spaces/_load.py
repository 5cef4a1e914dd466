"""Space files: finding shipped names, reading user paths with safe loaders only, and writing."""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Any

from adamtune._util import atomic_write_text
from adamtune.spaces._limits import MAX_DEPTH, MAX_INT_DIGITS
from adamtune.spaces._space import Space

_SUFFIXES = (".yaml", ".yml", ".toml")


def _shipped_dir() -> Any:
    return resources.files("adamtune.search_spaces")


def available() -> list[str]:
    """Names of the spaces shipped in ``search_spaces/``, sorted."""
    names = {
        Path(entry.name).stem
        for entry in _shipped_dir().iterdir()
        if Path(entry.name).suffix in _SUFFIXES
    }
    return sorted(names)


def _read_text_mapping(text: str, suffix: str, source: str) -> Any:
    if suffix == ".toml":
        return _read_toml(text, source)
    return _read_yaml(text, source)


def _read_toml(text: str, source: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # TOML refuses a key or table given twice; its message does not say that is the fix.
        hint = (
            " (a key or table is given twice: keep one)"
            if any(word in str(exc) for word in ("overwrite", "twice", "Duplicate"))
            else ""
        )
        raise ValueError(f"{source}: not valid TOML: {exc}{hint}") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ValueError(
            f"{source}: nests far deeper than the {MAX_DEPTH} levels a space file may hold"
        ) from None
    except ValueError as exc:  # Python's int/str conversion limit (4300 digits), raised inside
        raise ValueError(
            f"{source}: holds a number tomllib cannot read ({exc}); a space file holds integers "
            f"of at most {MAX_INT_DIGITS} digits"
        ) from None


def _read_yaml(text: str, source: str) -> Any:
    import yaml

    from adamtune.spaces._yaml import DuplicateKeyError, LimitError, StrictSafeLoader

    try:
        # StrictSafeLoader is a yaml.SafeLoader: plain values only, never a Python object.
        return yaml.load(text, Loader=StrictSafeLoader)
    except LimitError as exc:
        raise ValueError(
            f"{source}: line {exc.line}: {exc.problem}; a space file is far smaller. Check that "
            "it is the file you meant"
        ) from None
    except DuplicateKeyError as exc:
        lines = (
            f"line {exc.line}"
            if exc.first_line == exc.line
            else f"lines {exc.first_line} and {exc.line}"
        )
        raise ValueError(
            f"{source}: field `{exc.field}`: is given twice in one mapping ({lines}); "
            "YAML would silently keep only the last, so remove one"
        ) from None
    except yaml.constructor.ConstructorError as exc:
        where = "" if exc.problem_mark is None else f" at line {exc.problem_mark.line + 1}"
        raise ValueError(
            f"{source}: uses a YAML tag adamtune does not read{where} ({exc.problem}); "
            "space files hold plain values only (no !!python/... tags)"
        ) from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None


# A space file is a few dozen lines; a huge one is a mistake. (A small one can still be an attack
# on the parser: YAML aliases expand a small file into a huge tree, and deep nesting or a huge
# integer break Python's limits. _limits.py bounds those, in the YAML loader and in the validator.)
MAX_SPACE_BYTES = 256 * 1024


def load_space(space: str | os.PathLike[str] | Space) -> Space:
    """A :class:`Space` from a shipped name (``"default"``), a file path, or a Space (returned as is)."""
    if isinstance(space, Space):
        return space
    if not isinstance(space, str | os.PathLike):
        raise TypeError(
            "`space` must be a shipped space name, a path to a .yaml/.toml file, or a Space. "
            f"Received: {space!r} of type {type(space).__name__}"
        )
    text = os.fspath(space)
    path = Path(text)
    if path.suffix or os.sep in text or path.exists():
        if not path.is_file():
            raise ValueError(f"`space`: no space file at {text!r}")
        if path.suffix not in _SUFFIXES:
            raise ValueError(
                f"`space`: {text!r} must end in .yaml, .yml or .toml. Received suffix: {path.suffix!r}"
            )
        size = path.stat().st_size
        if size > MAX_SPACE_BYTES:
            raise ValueError(
                f"`space`: {text!r} is {size:,} bytes; a space file is at most "
                f"{MAX_SPACE_BYTES:,} bytes (the shipped ones are under 2 kB). Check that it is "
                "the file you meant"
            )
        return Space.from_dict(
            _read_text_mapping(path.read_text(encoding="utf-8"), path.suffix, str(path)), str(path)
        )
    for suffix in _SUFFIXES:
        entry = _shipped_dir() / f"{text}{suffix}"
        if entry.is_file():
            source = f"search_spaces/{text}{suffix}"
            return Space.from_dict(
                _read_text_mapping(entry.read_text("utf-8"), suffix, source), source
            )
    close = difflib.get_close_matches(text, available(), n=1)
    raise ValueError(
        f"`space`: unknown space {text!r}"
        + (f"; did you mean {close[0]!r}?" if close else ".")
        + f" Shipped spaces: {', '.join(available())}; "
        "or pass a path to a .yaml/.toml file, or a Space object"
    )


def save_space(space: Space, path: str | os.PathLike[str]) -> Path:
    """Write ``space`` to ``path``, as YAML for .yaml/.yml or TOML for .toml, atomically.

    The space is checked first, as :func:`load_space` would check the file, so nothing invalid is
    written; the file loads back with the same :meth:`Space.to_dict` (and equal to ``space`` when
    its choices are tuples, as in a loaded Space). Returns the path written.
    """
    if not isinstance(space, Space):
        raise TypeError(
            f"`space` must be a Space. Received: {space!r} of type {type(space).__name__}"
        )
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            "`path` must be a path ending in .yaml, .yml or .toml. "
            f"Received: path={path!r} of type {type(path).__name__}"
        )
    target = Path(path)
    if target.suffix not in _SUFFIXES:
        raise ValueError(
            "`path` must end in .yaml, .yml or .toml (the suffix picks the format). "
            f"Received: path={os.fspath(path)!r}"
        )
    Space.from_dict(space.to_dict(), f"{target} (not written)")
    text = space.to_toml() if target.suffix == ".toml" else space.to_yaml()
    return atomic_write_text(target, text)
