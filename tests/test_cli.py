"""The command line, run in-process through ``adamtune.cli.main``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_search_argv, signal_when, tiny_study

from adamtune.cli import main

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits.py"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    storage = f"sqlite:///{folder / 'c.db'}"
    extra = ("--seed", "0", "-o", str(folder / "t.json"), "-q")
    code = main(cli_search_argv(storage, 2, "d", *extra))
    assert code == 0
    return storage, folder


def test_search_exports_the_best_config(study: tuple[str, Path]) -> None:
    _, folder = study
    data = json.loads((folder / "t.json").read_text())
    assert data["study"] == "d" and data["objective"] == "val_loss"


def test_status_as_text_and_json(
    study: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    storage, _ = study
    assert main(["status", "--storage", storage, "--study", "d"]) == 0
    text = capsys.readouterr().out
    assert "study d in sqlite:///" in text and "best: " in text
    assert main(["status", "--storage", storage, "--study", "d", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert sum(info["states"].values()) == 2
    assert info["best"]["params"]["batch_size"] in (32, 64)
    best = info["best"]
    # The text names the best settings in words, on lines a terminal shows whole.
    assert f"best: val_loss={best['value']:.6g} (trial {best['trial']})" in text
    assert f"batch_size={best['adam']['batch_size']}" in text
    assert max(len(line) for line in text.splitlines()) < 100, text


def test_status_needs_no_tensorflow(study: tuple[str, Path]) -> None:
    storage, _ = study
    code = (
        "import sys; from adamtune.cli import main; "
        f"main(['status', '--storage', {storage!r}, '--study', 'd']); "
        "print('TF', 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("TF False")


def _export_py(storage: str, output: str) -> int:
    return main(["export", "--storage", storage, "--study", "d", "--format", "py", "-o", output])


def test_export_by_format(study: tuple[str, Path], tmp_path: Path) -> None:
    storage, _ = study
    assert _export_py(storage, str(tmp_path / "t.py")) == 0
    assert "def compile_kwargs" in (tmp_path / "t.py").read_text()


def test_errors_are_exit_code_2_with_a_message(
    study: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage, _ = study
    assert _export_py(storage, str(tmp_path / "t.json")) == 2
    assert "does not match the suffix" in capsys.readouterr().err
    assert main(["status", "--storage", storage, "--study", "nope"]) == 2
    assert "no study 'nope'" in capsys.readouterr().err
    assert main(["search", "nocolon", "--data", "x:y"]) == 2
    assert "MODEL must look like path/to/file.py:function" in capsys.readouterr().err
    assert main(["search", f"{DIGITS}:nothing", "--data", f"{DIGITS}:load_data"]) == 2
    assert (
        "has no function 'nothing'; it has: build_model, load_data, main" in capsys.readouterr().err
    )


def test_spaces_list_show_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces"]) == 0
    assert "quick" in capsys.readouterr().out
    assert main(["spaces", "show", "quick"]) == 0
    assert "name: quick" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: x\nlearning_rate: {low: 1.0, high: 0.1}\n"
        "batch_size: [32]\nregularizer: {none: null}\n"
    )
    assert main(["spaces", "validate", str(bad)]) == 2
    assert "low must be <= high" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    assert main(["spaces", "show", "default"]) == 0
    good.write_text(capsys.readouterr().out)
    assert main(["spaces", "validate", str(good)]) == 0
    assert "valid space 'default'" in capsys.readouterr().out


def test_the_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "adamtune", "--help"], capture_output=True, text=True, check=True
    )
    assert "search" in out.stdout and "status" in out.stdout


def _sigterm_when(
    argv: list[str], storage: str, study_name: str, cwd: Path, ready: Callable[[Any], bool]
) -> tuple[subprocess.Popen[str], str]:
    return signal_when(argv, storage, study_name, cwd, ready, signal.SIGTERM)


def _interrupted(trial: Any) -> bool:
    """A trial closed by a Ctrl-C or SIGTERM, as the README says: FAIL, with the error."""
    return trial.state.name == "FAIL" and trial.user_attrs["error"].startswith("Interrupted")


@pytest.mark.slow  # about 30 s
def test_sigterm_mid_trial_leaves_nothing_running_and_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 'night.db'}"
    # No pruner and a fixed seed, so a trial seen early stays mid-trial until the signal lands,
    # however loaded the machine (a CI run once found no trial left to close when it landed).
    argv = cli_search_argv(
        storage, 6, "night", "--epochs", "8", "--pruner", "none", "--seed", "0", "-q"
    )

    def ready(study: Any) -> bool:
        states = [t.state for t in study.trials]
        early = [
            t for t in study.trials if t.state.name == "RUNNING" and len(t.intermediate_values) < 3
        ]
        return any(s.is_finished() for s in states) and bool(early)

    proc, err = _sigterm_when(argv, storage, "night", tmp_path, ready)
    assert proc.returncode == 130
    assert "run the same command to continue" in err
    study = optuna.load_study(study_name="night", storage=storage)
    assert not [t for t in study.trials if t.state.name == "RUNNING"]
    (closed,) = [t for t in study.trials if t.state.name == "FAIL"]
    assert _interrupted(closed), closed.user_attrs
    # Its parameters wait (WAITING) to run first on resume; the finished trials stay as they are.
    (queued,) = [t for t in study.trials if t.state.name == "WAITING"]
    assert queued.params == closed.params
    before = {t.number: (t.state, t.value) for t in study.trials if t.state.is_finished()}
    before = {n: v for n, v in before.items() if n != closed.number}

    assert main(argv) == 0
    study = optuna.load_study(study_name="night", storage=storage)
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials) == 6
    assert all((study.trials[n].state, study.trials[n].value) == v for n, v in before.items())


@pytest.mark.slow  # a search and its helper, each mid-trial: about 30 s on two cores
def test_sigterm_reaches_the_workers_helpers_and_each_closes_its_trial(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 'w.db'}"
    argv = cli_search_argv(storage, 8, "w", "--epochs", "12", "--workers", "2", "-q")

    def both_early_in_a_trial(study: Any) -> bool:
        # The search and its helper each run a trial with most of its epochs still to go: both
        # are still mid-trial when the signal lands, however loaded the machine.
        pids = {
            t.user_attrs["worker"]["pid"]
            for t in study.trials
            if t.state.name == "RUNNING" and "worker" in t.user_attrs
            if len(t.intermediate_values) < 3
        }
        return len(pids) == 2

    proc, err = _sigterm_when(argv, storage, "w", tmp_path, both_early_in_a_trial)
    assert proc.returncode == 130, err[-3000:]
    assert "adamtune search: interrupted; run the same command to continue" in err
    assert "adamtune worker: interrupted; run the same command to continue" in err  # the helper
    assert "warning: worker process" not in err  # it ended as asked, not with an error
    study = optuna.load_study(study_name="w", storage=storage)
    assert "RUNNING" not in [t.state.name for t in study.trials]
    closed = [t for t in study.trials if t.state.name == "FAIL"]
    assert all(_interrupted(t) for t in closed), [t.user_attrs for t in closed]
    pids = {t.user_attrs["worker"]["pid"] for t in closed}
    assert proc.pid in pids, "the search's trial was not closed"
    assert len(pids) == 2, "the helper's trial was not closed"


def test_two_local_workers_share_a_sqlite_study(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(cli_search_argv(storage, 6, "w", "--workers", "2", "-q")) == 0
    study = optuna.load_study(study_name="w", storage=storage)
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") + states.count("PRUNED") >= 6
    assert "FAIL" not in states and "RUNNING" not in states
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))
    assert study.user_attrs["adamtune_run"]["targets"]["model"].endswith("digits.py:build_model")


def test_worker_errors_say_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    storage = f"sqlite:///{tmp_path / 'p.db'}"
    assert main(["worker", "--storage", storage, "--study", "absent"]) == 2
    assert "no adamtune study 'absent'" in capsys.readouterr().err
    tiny_study(storage, "py")
    assert main(["worker", "--storage", storage, "--study", "py"]) == 2
    assert "started from Python, not by `adamtune search`" in capsys.readouterr().err
    argv = ["search", "a.py:f", "--data", "a.py:g", "--workers", "2", "--strategy", "kt-random"]
    assert main(argv) == 2
    assert "--workers shares one Optuna study between processes" in capsys.readouterr().err
    assert main([*argv[:-2], "--devices", "0,x"]) == 2
    assert "--devices must list distinct GPU indices" in capsys.readouterr().err
    assert main([*argv[:-2], "--until", "25:00"]) == 2
    assert "`--until` must be a 24-hour local time" in capsys.readouterr().err
    assert main([*argv[:-2], "--recycle-after", "0"]) == 2
    assert "--recycle-after must be an integer >= 1" in capsys.readouterr().err
