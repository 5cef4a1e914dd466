"""Study names cannot steer a path: a name that would leave its folder is refused before anything
is created, from Python and from every CLI command that takes ``--study``."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
from conftest import cli_search_argv, run_adamtune
from hypothesis import given, settings
from hypothesis import strategies as st

import adamtune
from adamtune._studylog import log_path
from adamtune._util import check_study_name
from adamtune.cli import main
from adamtune.engine import KerasTunerStudy
from adamtune.params import AdamParams
from adamtune.result import TunedConfig
from adamtune.testing import conformance_data, conformance_model

ESCAPES = [
    pytest.param("../x", id="parent"),
    pytest.param("a/../../b", id="climb"),
    pytest.param("/etc/x", id="absolute"),
    pytest.param("a/b", id="slash"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("..\\..\\x", id="windows-parent"),
    pytest.param("C:x", id="drive"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\nb", id="newline"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param(".", id="dot"),
    pytest.param("..", id="dotdot"),
    pytest.param("...", id="dots"),
]
RULE = r"must be a plain name, used as a folder and file name: not empty, not only dots"


def _refusal(argument: str, name: str) -> str:
    shown = f"{re.escape(argument)}={re.escape(repr(name))}"
    return rf"`{re.escape(argument)}` {RULE}.* Received: {shown}\. Pick a name"


def _aimed_at(tmp_path: Path, name: str) -> str:
    """An absolute name aims at a spot inside tmp_path, so the test can look there."""
    return str(tmp_path / "escaped") if name.startswith("/") else name


def _everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _search(**options: Any) -> Any:
    return adamtune.search(
        conformance_model,
        conformance_data(),
        **{"space": "quick", "epochs": 1, "trials": 1, "verbose": 0, **options},
    )


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ESCAPES)
def test_check_study_name_refuses_names_that_leave_their_folder(name: str) -> None:
    with pytest.raises(ValueError, match=_refusal("study_name", name)):
        check_study_name(name)


@pytest.mark.parametrize(
    "name", ["digits", "digits-v2", "adamtune-build_model", ".hidden", "a..b", "résumé", "v1:v2"]
)
def test_check_study_name_keeps_plain_names(name: str) -> None:
    assert check_study_name(name) == name


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.text(
        st.one_of(st.sampled_from(list("./\\:\x00\n C")), st.characters(exclude_categories=())),
        max_size=12,
    )
)
def test_every_accepted_name_is_one_path_part_on_posix_and_windows(name: str) -> None:
    try:
        check_study_name(name)
    except ValueError:
        return
    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour("root") / name
        assert path.parent == flavour("root") and path.name == name, (flavour, path)
    assert name not in (".", "..")


@pytest.mark.parametrize("name", ["CON", "nul", "Com1.db", "LPT9", "aux .log", "conout$"])
def test_check_study_name_refuses_windows_device_names(name: str) -> None:
    # was accepted: on Windows `<storage>/NUL/` opens the null device, not a folder
    with pytest.raises(ValueError, match=r"not a Windows device name such as 'CON'.*Received"):
        check_study_name(name)


@pytest.mark.parametrize("name", ["console", "nul-study", "com10", "lpt", "aux_data", "my.con"])
def test_check_study_name_keeps_names_that_only_start_like_a_device(name: str) -> None:
    assert check_study_name(name) == name


def test_check_study_name_refuses_a_non_string() -> None:
    with pytest.raises(ValueError, match=r"`study_name` must be a plain name.* of type int"):
        check_study_name(42)


# -- Python: search() refuses before the pre-flight, storage or folder --------------------------


@pytest.mark.parametrize("name", ESCAPES)
def test_search_with_sqlite_refuses_before_anything_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the default storage would land here
    inside = tmp_path / "inside"
    bad = _aimed_at(tmp_path, name)
    with pytest.raises(ValueError, match=_refusal("study_name", bad)):
        _search(storage=f"sqlite:///{inside / 'study.db'}", study_name=bad)
    with pytest.raises(ValueError, match=_refusal("study_name", bad)):
        _search(study_name=bad)  # the default sqlite:///adamtune.db
    assert _everything(tmp_path) == []


@pytest.mark.parametrize("name", ESCAPES)
def test_search_with_a_kerastuner_folder_refuses_before_anything_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the default folder adamtune_kt would land here
    bad = _aimed_at(tmp_path, name)
    with pytest.raises(ValueError, match=_refusal("study_name", bad)):
        _search(storage=str(tmp_path / "inside" / "kt"), study_name=bad, strategy="kt-random")
    with pytest.raises(ValueError, match=_refusal("study_name", bad)):
        _search(study_name=bad, strategy="kt-random")
    assert _everything(tmp_path) == []


@pytest.mark.parametrize("name", ESCAPES)
def test_kerastuner_study_refuses_the_name_itself(tmp_path: Path, name: str) -> None:
    """The engine checks too: the folder is made there, whoever builds the study object."""
    bad = _aimed_at(tmp_path, name)
    with pytest.raises(ValueError, match=_refusal("study_name", bad)):
        KerasTunerStudy(None, tmp_path / "kt", bad, {"direction": "minimize"})
    assert _everything(tmp_path) == []


# -- the CLI: exit code 2 and the message, before the model is loaded or anything written ------


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize(
    "storage", ["sqlite", "kt-folder", "sqlite-2-workers"], ids=lambda s: str(s)
)
def test_cli_search_refuses_before_loading_or_storing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    storage: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = _aimed_at(tmp_path, name)
    extra = {
        "sqlite": ["--storage", f"sqlite:///{tmp_path / 'inside' / 's.db'}"],
        "kt-folder": ["--storage", str(tmp_path / "inside" / "kt"), "--strategy", "kt-random"],
        "sqlite-2-workers": [
            *("--storage", f"sqlite:///{tmp_path / 'inside' / 's.db'}", "--workers", "2")
        ],
    }[storage]
    # MODEL names a file that does not exist: the name is refused before MODEL is even loaded
    argv = [*cli_search_argv(None, 1, bad), *extra]
    argv[1] = f"{tmp_path / 'no_such_model.py'}:build_model"
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(r"^adamtune search: error: " + _refusal("--study", bad), err), err
    assert _everything(tmp_path) == []


@pytest.mark.slow  # a `python -m adamtune` process
def test_python_m_adamtune_search_refuses_a_climbing_study(tmp_path: Path) -> None:
    argv = cli_search_argv(f"sqlite:///{tmp_path / 's.db'}", 1, "../../escaped")
    done = run_adamtune(*argv, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert re.search(_refusal("--study", "../../escaped"), done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert _everything(tmp_path) == []
    assert not (tmp_path.parent.parent / "escaped").exists()


@pytest.mark.parametrize("command", ["status", "export", "report"])
def test_cli_reading_a_kerastuner_folder_refuses_a_climbing_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A study folder outside --storage is never read, even when one is there to be found."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "adamtune.json").write_text('{"adamtune": {}}')
    storage = tmp_path / "kt"
    storage.mkdir()
    output = {
        "export": ["-o", str(tmp_path / "t.json")],
        "report": ["-o", str(tmp_path / "r.html")],
    }
    argv = [command, "--storage", str(storage), "--study", "../outside", *output.get(command, [])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(rf"^adamtune {command}: error: " + _refusal("--study", "../outside"), err)
    assert _everything(tmp_path) == ["kt", "outside", "outside/adamtune.json"]


@pytest.mark.parametrize("name", ["../x", "a/b", "a\x00b", ".."])
def test_cli_worker_refuses_before_opening_the_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["worker", "--storage", url, "--study", name, "-q"]) == 2
    assert re.search(_refusal("--study", name), capsys.readouterr().err)
    assert _everything(tmp_path) == []


# -- what a study name becomes: a log file beside the storage, never elsewhere ------------------


@pytest.mark.parametrize("name", [*ESCAPES, pytest.param("x" * 40, id="plain")])
def test_log_path_stays_beside_its_storage(tmp_path: Path, name: str) -> None:
    """log_path maps any name to one safe file name (search() refuses these names first; this is
    the second wall)."""
    sqlite = log_path(f"sqlite:///{tmp_path / 'night.db'}", name)
    journal = log_path(f"journal:///{tmp_path / 'night.log'}", name)
    folder = log_path(str(tmp_path / "kt"), name)
    for path, parent in ((sqlite, tmp_path), (journal, tmp_path), (folder, tmp_path / "kt")):
        assert path is not None and path.parent == parent, path
        assert path.name.endswith(".log") and "\x00" not in path.name and "\n" not in path.name


def test_a_study_name_does_not_steer_an_export(tmp_path: Path) -> None:
    """An export lands where the caller says, an absolute path included, whatever the study's
    name (a config's study_name is data)."""
    config = TunedConfig(
        adam=AdamParams(learning_rate=1e-3, batch_size=32),
        epochs=2,
        optimizer={
            "class_name": "Adam",
            "config": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        },
        loss="mse",
        metrics=[],
        study_name=f"../../{tmp_path.name}-escaped/x",
    )
    target = (tmp_path / "out" / "tuned.json").absolute()
    for suffix in (".json", ".yaml", ".py"):
        assert config.export(target.with_suffix(suffix)) == target.with_suffix(suffix)
    assert _everything(tmp_path) == ["out", "out/tuned.json", "out/tuned.py", "out/tuned.yaml"]


def test_a_study_name_longer_than_a_file_name_may_be_is_refused() -> None:
    from adamtune._util import check_study_name

    assert check_study_name("d" * 200) == "d" * 200
    with pytest.raises(ValueError, match=r"at most 200 bytes in UTF-8.*Received: study_name='ddd"):
        check_study_name("d" * 201)
    with pytest.raises(ValueError, match="at most 200 bytes"):
        check_study_name("é" * 101)  # 202 bytes
