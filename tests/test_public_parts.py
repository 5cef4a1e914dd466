"""Packages meet through their public faces: the doctor imports no private name of another package.

A private cross-package import is ``from adamtune.<pkg>._mod import name`` (or ``import
adamtune.<pkg>._mod``, or ``from adamtune.<pkg> import _mod``) in a module outside ``<pkg>``, where
the name starts with an underscore or is not in ``adamtune.<pkg>.__all__``: a name the package does
not offer. Imports inside functions count too. The doctor must have none; the package-wide count is
printed (``pytest -s``) to follow it down.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "adamtune"


def _subpackage(path: Path) -> str:
    """``"doctor"`` for ``adamtune/doctor/_doctor.py``; ``""`` for a top-level module."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def _exported(package: str) -> set[str]:
    module = importlib.import_module(f"adamtune.{package}")
    return set(getattr(module, "__all__", ()))


def _private_imports(path: Path) -> Iterator[str]:
    """``"<file>:<line>: <module> <name>"`` for each private name ``path`` takes from another
    package."""
    home = _subpackage(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        found: list[tuple[str, str]] = []  # (module path, name taken)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found = [(alias.name, "") for alias in node.names]
        for module, name in found:
            parts = module.split(".")
            if parts[0] != "adamtune" or len(parts) < 2 or parts[1] == home:
                continue
            package = parts[1]
            if not (PACKAGE / package / "__init__.py").exists():
                continue  # a top-level module such as adamtune._util: not a package's face
            if len(parts) == 2:  # from adamtune.<pkg> import name
                private = name.startswith("_")
            else:  # from adamtune.<pkg>._mod import name / import adamtune.<pkg>._mod
                private = any(p.startswith("_") for p in parts[2:]) and (
                    not name or name.startswith("_") or name not in _exported(package)
                )
            if private:
                where = path.relative_to(PACKAGE.parent)
                yield f"{where}:{node.lineno}: {module} {name}".rstrip()


def private_imports(under: Path = PACKAGE) -> list[str]:
    return [hit for path in sorted(under.rglob("*.py")) for hit in _private_imports(path)]


def test_the_doctor_imports_no_private_name_of_another_package() -> None:
    assert private_imports(PACKAGE / "doctor") == []


def test_count_private_imports_across_the_package() -> None:
    hits = private_imports()
    print(f"\nprivate cross-package imports in adamtune/: {len(hits)}")
    for hit in hits:
        print(f"  {hit}")
    assert all(":" in hit for hit in hits)
