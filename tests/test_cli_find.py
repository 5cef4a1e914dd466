"""Finding the study the morning after: default storage, bare file paths, `--study` left out,
`adamtune studies`, names that are nearly right, and looking without TensorFlow."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from conftest import CHILD_ENV, tiny_study

from adamtune.cli import main
from adamtune.cli._where import resolve_storage
from adamtune.engine import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)

MODEL_FILE = """
def load_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype("float32") / 16.0, digits.target.astype("int64")


def build_model():
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder holding ``adamtune.db`` with study ``digits`` (2 trials, 1 epoch, Dense 16), made
    by `adamtune search` with a bare file path as --storage; and what the search printed."""
    folder = tmp_path_factory.mktemp("find")
    (folder / "m.py").write_text(MODEL_FILE)
    argv = [
        *("search", f"{folder / 'm.py'}:build_model", "--data", f"{folder / 'm.py'}:load_data"),
        *("--space", "quick", "--epochs", "1", "--trials", "2", "--study", "digits", "--seed", "0"),
        *("--storage", str(folder / "adamtune.db"), "-o", str(folder / "tuned.json"), "-q"),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return folder, out.getvalue()


def _copy_db(source: Path, target: Path) -> None:
    """A copy of a SQLite study file, its write-ahead log included."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder, no $ADAMTUNE_STORAGE."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADAMTUNE_STORAGE", raising=False)
    return tmp_path


# -- one function reads --storage ---------------------------------------------------------------


def test_resolve_storage_reads_a_bare_path_as_the_file_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite:///x.db", "journal:///x.log", "postgresql://u:pw@h/db"):
        assert resolve_storage(url) == url
    (tmp_path / "kt").mkdir()
    assert resolve_storage("kt") == "kt"  # an existing folder: KerasTuner's
    assert resolve_storage("not_yet") == "not_yet"  # a missing path without a storage suffix
    for name in ("new.db", "new.sqlite", "new.sqlite3", "sub/new.DB"):
        assert resolve_storage(name) == f"sqlite:///{tmp_path / name}"
    for name in ("new.log", "new.jsonl"):
        assert resolve_storage(name) == f"journal:///{tmp_path / name}"
    # An existing file is read by its header, whatever its name.
    with contextlib.closing(sqlite3.connect(tmp_path / "night.data")) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert resolve_storage("night.data") == f"sqlite:///{tmp_path / 'night.data'}"
    (tmp_path / "empty.db").touch()  # what sqlite3 leaves before its first table
    assert resolve_storage("empty.db") == f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.create_study(storage=open_storage(f"journal:///{tmp_path / 'j.log'}"), study_name="j")
    assert resolve_storage(str(tmp_path / "j.log")) == f"journal:///{tmp_path / 'j.log'}"
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(ValueError, match=r"neither a SQLite database nor an Optuna journal.*notes"):
        resolve_storage("notes.db")
    # The URL a bare path becomes opens that very file.
    assert open_storage(resolve_storage("night.data")) is not None


def test_every_looking_command_takes_the_bare_file_path(
    stored: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = stored
    monkeypatch.chdir(folder)
    assert main(["status", "--storage", "adamtune.db", "--study", "digits"]) == 0
    assert f"study digits in sqlite:///{folder / 'adamtune.db'}" in capsys.readouterr().out
    assert main(["studies", "--storage", "adamtune.db"]) == 0
    assert "digits" in capsys.readouterr().out


# -- the default storage, and --study left out ---------------------------------------------------


def test_without_storage_nor_study_the_commands_find_the_one_study(
    stored: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = stored
    monkeypatch.delenv("ADAMTUNE_STORAGE", raising=False)
    monkeypatch.chdir(folder)  # sqlite:///adamtune.db, the search's default
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["study"] == "digits"
    monkeypatch.chdir(folder.parent)
    monkeypatch.setenv("ADAMTUNE_STORAGE", str(folder / "adamtune.db"))  # a bare path there too
    assert main(["export", "-o", str(folder / "again.json")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert json.loads((folder / "again.json").read_text())["study"] == "digits"


@pytest.mark.parametrize("command", ["status", "export", "report", "studies", "worker"])
def test_a_missing_default_storage_is_named_and_never_created(
    nowhere: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = {"report": ["report", "-o", "r.html"]}.get(command, [command])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"no study storage at {nowhere / 'adamtune.db'}" in err, err
    assert "--storage" in err and "$ADAMTUNE_STORAGE" in err
    assert sorted(os.listdir(nowhere)) == []


def test_study_left_out_with_several_or_none_lists_them(
    stored: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = stored
    url = f"sqlite:///{tmp_path / 'two.db'}"
    _copy_db(folder / "adamtune.db", tmp_path / "two.db")
    optuna.copy_study(
        from_study_name="digits", from_storage=url, to_storage=url, to_study_name="digits-v2"
    )
    optuna.create_study(storage=url, study_name="plain")  # not adamtune's
    for command in (["status"], ["export"], ["worker", "--wait", "0"]):
        assert main([*command, "--storage", url]) == 2
        err = capsys.readouterr().err
        assert "--study is needed" in err and "2 adamtune studies: digits, digits-v2" in err, err
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.create_study(storage=open_storage(empty), study_name="plain")
    assert main(["status", "--storage", empty]) == 2
    assert "no adamtune study in" in (err := capsys.readouterr().err), err
    assert "plain (not made by adamtune)" in err


def test_no_study_x_lists_the_studies_and_suggests_the_closest(
    stored: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = stored
    for command in ("status", "export", "worker"):
        assert main([command, "--storage", str(folder / "adamtune.db"), "--study", "digit"]) == 2
        err = capsys.readouterr().err
        assert "no adamtune study 'digit'" in err or "no study 'digit'" in err, err
        assert "did you mean 'digits'?" in err and "It holds: digits" in err


# -- adamtune studies ----------------------------------------------------------------------------


def test_studies_lists_name_engine_trials_best_and_last_activity(
    stored: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = stored
    db = tmp_path / "s.db"
    _copy_db(folder / "adamtune.db", db)
    optuna.create_study(storage=f"sqlite:///{db}", study_name="plain").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=1
    )
    assert main(["studies", "--storage", str(db), "--json"]) == 0
    rows = {row["study"]: row for row in json.loads(capsys.readouterr().out)["studies"]}
    digits = rows["digits"]
    assert digits["adamtune"] and (digits["engine"], digits["strategy"]) == ("optuna", "tpe")
    assert digits["pruner"] == "asha"  # the default, stored by name
    assert (digits["objective"], digits["direction"]) == ("val_loss", "minimize")
    assert digits["trials"] == {"COMPLETE": 2}
    study = optuna.load_study(study_name="digits", storage=f"sqlite:///{db}")
    assert digits["best"] == {"value": study.best_value, "trial": study.best_trial.number}
    last = max(t.datetime_complete for t in study.trials)
    assert digits["last_activity"] == last.isoformat(sep=" ", timespec="seconds")
    assert not rows["plain"]["adamtune"] and rows["plain"]["trials"] == {"COMPLETE": 1}
    assert main(["studies", "--storage", str(db)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"2 studies in sqlite:///{db}")
    assert "optuna/tpe+asha" in text and "val_loss" in text and "(minimize, trial" in text
    assert "optuna (not adamtune)" in text
    # a study made before asha was the default stored no pruner: it resumes with hyperband
    meta = dict(study.user_attrs["adamtune"])
    del meta["pruner"]
    study.set_user_attr("adamtune", meta)
    assert main(["studies", "--storage", str(db), "--json"]) == 0
    rows = {row["study"]: row for row in json.loads(capsys.readouterr().out)["studies"]}
    assert rows["digits"]["pruner"] == "hyperband" and rows["plain"]["pruner"] is None


def test_studies_and_status_read_a_kerastuner_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kt"
    tiny_study(str(folder), "ktstudy", strategy="kt-random")
    assert main(["studies", "--storage", str(folder), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["studies"]
    assert (row["study"], row["engine"], row["strategy"]) == ("ktstudy", "kerastuner", "kt-random")
    assert row["pruner"] is None  # KerasTuner strategies do not take one
    assert row["trials"] == {"COMPLETE": 1} and row["best"]["trial"] == 0
    assert row["last_activity"] is not None
    assert main(["status", "--storage", str(folder)]) == 0  # the only study, picked
    assert "study ktstudy in" in capsys.readouterr().out
    assert main(["status", "--storage", str(folder), "--study", "kt-study"]) == 2
    assert "did you mean 'ktstudy'?" in capsys.readouterr().err


# -- looking needs no TensorFlow -----------------------------------------------------------------

_PROBE = (
    "import sys; from adamtune.cli import main; rc = main(sys.argv[1:]); "
    "print('RC', rc, 'TF', 'tensorflow' in sys.modules)"
)


def _tf_after(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=CHILD_ENV,
        timeout=120,
        check=False,
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["studies"]])
def test_status_and_studies_never_import_tensorflow(
    stored: tuple[Path, str], command: list[str]
) -> None:
    folder, _ = stored
    assert _tf_after(*command, "--storage", str(folder / "adamtune.db")) == "RC 0 TF False"


def test_export_never_imports_tensorflow(stored: tuple[Path, str]) -> None:
    folder, _ = stored
    assert _tf_after("export", "--storage", str(folder / "adamtune.db")) == "RC 0 TF False"


# -- the end of a search says where things went --------------------------------------------------


def test_search_ends_saying_where_the_study_log_and_export_went(stored: tuple[Path, str]) -> None:
    folder, printed = stored
    lines = printed.splitlines()
    assert lines[0] == f"wrote {folder / 'tuned.json'}"
    assert lines[1].startswith("best val_loss=")
    url = f"sqlite:///{folder / 'adamtune.db'}"
    assert lines[2] == f"study 'digits' in {url}, log {folder / 'adamtune.digits.log'}"
    assert lines[3] == (
        f"look at it: adamtune status --storage {url} --study digits; "
        f"adamtune report --storage {url} --study digits -o digits.html"
    )
    assert len(lines) == 4
