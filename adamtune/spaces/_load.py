"""Finding and reading space files: shipped names and user paths, with safe loaders only."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

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
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not valid TOML: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        where = "" if exc.problem_mark is None else f" at line {exc.problem_mark.line + 1}"
        raise ValueError(
            f"{source}: uses a YAML tag adamtune does not read{where} ({exc.problem}); "
            "space files hold plain values only (no !!python/... tags)"
        ) from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None


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
    raise ValueError(
        f"`space`: unknown space {text!r}. Shipped spaces: {', '.join(available())}; "
        "or pass a path to a .yaml/.toml file, or a Space object"
    )
