"""What readers take from a study's view (``adamtune.engine``'s ``_view``), and the one-way
imports it makes possible: Optuna stays inside ``engine/``, the report below ``result``."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest

from adamtune.engine import (
    IMPORTANCE_EVALUATOR,
    META_KEY,
    complete_trials,
    param_importances,
    state_of,
    study_summaries,
    trials_in,
)

PACKAGE = Path(__file__).resolve().parents[1] / "adamtune"


def _study(storage: Any = None, name: str = "v") -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=name)
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for i, state in enumerate(["COMPLETE", "PRUNED", "FAIL", "COMPLETE", "RUNNING"]):
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState[state],
                value=float(i) if state == "COMPLETE" else None,
                params={"x": i / 10},
                distributions=dist,
            )
        )
    return study


def test_states_are_names_and_filters_keep_trial_order() -> None:
    study = _study()
    assert [state_of(t) for t in study.trials] == [
        "COMPLETE",
        "PRUNED",
        "FAIL",
        "COMPLETE",
        "RUNNING",
    ]
    assert [t.number for t in complete_trials(study)] == [0, 3]
    assert [t.number for t in trials_in(study, "COMPLETE", "PRUNED", "FAIL")] == [0, 1, 2, 3]
    assert trials_in(study) == []


def test_param_importances_are_ped_anova_with_warnings_as_messages() -> None:
    study = optuna.create_study()
    dist = {
        "x": optuna.distributions.FloatDistribution(0.0, 1.0),
        "y": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    for i in range(12):
        x, y = i / 12, ((i * 7) % 12) / 12
        study.add_trial(
            optuna.trial.create_trial(value=x, params={"x": x, "y": y}, distributions=dist)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(), params=["x", "y"]
        )
    values, messages = param_importances(study, ["x", "y"])
    assert values == {k: float(v) for k, v in expected.items()}
    assert list(values) == list(expected)
    assert all(isinstance(m, str) for m in messages)
    assert IMPORTANCE_EVALUATOR == "PED-ANOVA"


def test_the_report_names_the_engines_evaluator() -> None:
    from adamtune.report import _data

    assert _data.EVALUATOR == IMPORTANCE_EVALUATOR


def test_study_summaries_list_every_study_of_an_optuna_storage(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    ours = _study(storage, "ours")
    ours.set_user_attr(META_KEY, {"direction": "minimize", "strategy": "tpe"})
    _study(storage, "theirs")
    summaries = study_summaries(storage)
    assert [s.name for s in summaries] == ["ours", "theirs"]
    first, second = summaries
    assert first.engine == second.engine == "optuna"
    assert first.meta == {"direction": "minimize", "strategy": "tpe"} and second.meta is None
    assert first.direction == second.direction == "minimize"
    assert dict(first.states) == {"COMPLETE": 2, "PRUNED": 1, "FAIL": 1, "RUNNING": 1}
    assert first.values == [(0, 0.0), (3, 3.0)]
    assert first.last_activity is not None


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_study_summaries_open_the_storage_once_for_all_its_studies(
    tmp_path: Path, scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``adamtune studies`` on a storage of several studies opens it once: a journal file is
    read once, not once per study (plus once to list them)."""
    import adamtune.engine._storage

    storage = f"{scheme}:///{tmp_path / ('s.db' if scheme == 'sqlite' else 's.log')}"
    the_storage = adamtune.engine._storage.open_storage(storage)
    for name in ("a", "b", "c"):
        _study(the_storage, name)
    opened: list[str] = []
    real = adamtune.engine._storage.open_storage

    def counting(url: object, **kwargs: object) -> object:
        if isinstance(url, str):
            opened.append(url)
        return real(url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(adamtune.engine._storage, "open_storage", counting)
    assert [s.name for s in study_summaries(storage)] == ["a", "b", "c"]
    assert opened == [storage]


def test_the_doctor_leaves_optunas_log_level_and_refuses_a_missing_study(
    tmp_path: Path,
) -> None:
    from adamtune.doctor import load_study

    storage = f"sqlite:///{tmp_path / 'd.db'}"
    _study(storage, "s")
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        view = load_study(storage, "s")
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        view.set_user_attr("k", 1)
        assert optuna.load_study(study_name="s", storage=storage).user_attrs["k"] == 1
        with pytest.raises(ValueError, match=r"no study 'absent' in this storage to attach"):
            load_study(storage, "absent")
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_report_never_imports_result_not_even_for_types() -> None:
    for path in sorted((PACKAGE / "report").glob("*.py")):
        hits = {m for m in _imported_modules(path) if m.startswith("adamtune.result")}
        assert not hits, f"{path.name} imports {hits}"


def test_readers_of_a_view_import_no_optuna() -> None:
    readers = [
        "_progress.py",
        "cli/_studies.py",
        "doctor/_doctor.py",
        "report/_data.py",
        "report/_write.py",
        "result/_result.py",
        "testing/_strategies.py",
    ]
    for name in readers:
        hits = {m for m in _imported_modules(PACKAGE / name) if m.split(".")[0] == "optuna"}
        assert not hits, f"{name} imports {hits}"
