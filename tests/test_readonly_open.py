"""Looking at a study (status, export, report) never creates its storage; no TensorFlow here."""

from __future__ import annotations

import os
from pathlib import Path

import optuna
import pytest

from adamtune.cli import main
from adamtune.engine import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)

COMMANDS = {
    "status": ["status"],
    "status-json": ["status", "--json"],
    "export": ["export", "-o", "tuned.json"],
    "report": ["report", "-o", "r.html"],
}


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_looking_at_a_missing_storage_refuses_naming_it_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scheme: str,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # -o files and relative storage paths land here
    relative = Path("sub") / "dir" / ("s.db" if scheme == "sqlite" else "s.log")
    for path in (relative, tmp_path / "abs" / relative.name):
        url = f"{scheme}:///{path}"
        code = main([*COMMANDS[command], "--storage", url, "--study", "nosuch"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"no such file {path}" in err, err
        assert "never creates its storage" in err
        assert "Traceback" not in err
        assert not path.exists() and not path.parent.exists(), f"{command} created {path}"
    assert sorted(os.listdir(tmp_path)) == []  # no folder, database, journal, lock or output


def test_a_folder_where_the_file_should_be_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "s.db").mkdir()
    with pytest.raises(ValueError, match=r"not a file .*s\.db"):
        open_storage(f"sqlite:///{tmp_path / 's.db'}", readonly=True)


def test_a_journal_opened_to_look_is_never_written_nor_repaired(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    study = optuna.create_study(storage=open_storage(f"journal:///{path}"), study_name="j")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    torn = path.read_bytes() + b'{"op_code":5,"worker_id":"w","tri'  # a writer mid-record
    path.write_bytes(torn)
    seen = optuna.load_study(
        study_name="j", storage=open_storage(f"journal:///{path}", readonly=True)
    )
    assert len(seen.trials) == 2
    with pytest.raises(ValueError, match="opened read-only"):
        seen.set_user_attr("k", 1)
    assert path.read_bytes() == torn  # the torn tail is the next writer's to cut, not a reader's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.log"]


def test_an_existing_study_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for url in (f"sqlite:///{tmp_path / 's.db'}", f"journal:///{tmp_path / 's.log'}"):
        optuna.create_study(storage=open_storage(url), study_name="plain")
        # Not an adamtune study: the storage opens, the study is refused by name.
        assert main(["status", "--storage", url, "--study", "plain"]) == 2
        assert "was not created by adamtune" in capsys.readouterr().err
