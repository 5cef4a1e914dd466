"""Packaging promises: a light import, spaces shipped in the wheel, no credentials in errors."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import adamtune

ROOT = Path(__file__).resolve().parents[1]


def test_import_adamtune_loads_no_tensorflow_keras_or_optuna() -> None:
    code = (
        "import sys, adamtune\n"
        "adamtune.spaces.available(); adamtune.load_space('default')\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'optuna', 'sklearn') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    for name in adamtune.__all__:
        assert getattr(adamtune, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = adamtune.nope  # type: ignore[attr-defined]


def test_the_wheel_ships_the_space_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("adamtune-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "search_spaces").glob("*.yaml")}
    assert shipped and {f"adamtune/search_spaces/{n}" for n in shipped} <= names
    assert "adamtune/py.typed" in names


def test_storage_passwords_never_reach_an_error_message() -> None:
    from adamtune.engine import mask_url, open_storage

    url = "postgresql://tuner:s3cr3t-pw@127.0.0.1:1/nowhere"
    assert mask_url(url) == "postgresql://tuner:***@127.0.0.1:1/nowhere"
    with pytest.raises(ValueError, match=r"cannot open storage postgresql://tuner:\*\*\*@") as info:
        open_storage(url)
    assert "s3cr3t" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_storage_that_is_not_a_url_is_refused() -> None:
    from adamtune.engine import open_storage

    with pytest.raises(ValueError, match=r"`storage` must be a storage URL such as .*adamtune.db"):
        open_storage("adamtune.db")


def test_mask_url_hides_passwords_that_contain_at_signs() -> None:
    from adamtune.engine import mask_url

    assert mask_url("postgresql://u:p@ss:w@rd@host:5432/db") == "postgresql://u:***@host:5432/db"
    assert mask_url("postgresql://u@host/db") == "postgresql://u@host/db"
    assert mask_url("sqlite:///adamtune.db") == "sqlite:///adamtune.db"
