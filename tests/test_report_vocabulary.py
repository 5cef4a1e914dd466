"""The report speaks the export's vocabulary (issue 15, items 3-5): importance labels are the
exported config's names (or carry them), the importances come from the evaluator the report
names, best epochs are 1-based, an interrupted trial is not a crash, and writing a stored study's
report imports no TensorFlow."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

import adamtune
from adamtune.engine import META_KEY
from adamtune.report import _data, _figures
from adamtune.report._write import render_report
from adamtune.result import Result
from adamtune.testing import conformance_data, conformance_model


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small real search in the default space: base_learning_rate, every regularizer's
    strength, and the model_fn's own ``units``."""
    folder = tmp_path_factory.mktemp("vocabulary")
    storage = f"sqlite:///{folder}/v.db"
    result = adamtune.search(
        conformance_model,
        conformance_data(),
        space="default",
        epochs=2,
        trials=8,
        storage=storage,
        study_name="v",
        verbose=0,
        seed=3,
        first_trials=None,
    )
    return {"result": result, "storage": storage, "folder": folder}


def _section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{re.escape(key)}">(.*?)</section>', page, re.S)
    assert match is not None, f"no section {key!r}"
    return match.group(1)


def _export_keys(result: Result) -> set[str]:
    exported = result.best.to_dict()
    return set(exported["adam"]) | set(exported["user_params"]) | set(exported["fit"])


def _carries_export_name(label: str, keys: set[str]) -> bool:
    return label in keys or any(label.startswith(f"{key} (as ") for key in keys)


def test_every_importance_label_is_an_export_name(study: dict[str, Any]) -> None:
    result = study["result"]
    keys = _export_keys(result)
    with _figures.collect() as figures:
        page = render_report(result)
    section = _section(page, "importances")
    labels = [html.unescape(t) for t in re.findall(r"<tr><td><code>(.*?)</code></td>", section)]
    assert labels, section
    for label in labels:
        assert _carries_export_name(label, keys), (label, sorted(keys))
    # the search's own names show only beside the export's
    assert "learning_rate (as base_learning_rate)" in labels, labels
    assert "base_learning_rate" not in labels
    assert not any(re.fullmatch(r"(l1|l2|l1_l2|adamw)_strength", label) for label in labels)
    # the figure's bars carry the same labels
    bars = next(f for f in figures if "importances" in f.axes[0].get_title().lower())
    ticks = [t.get_text() for t in bars.axes[0].get_yticklabels()]
    assert sorted(ticks) == sorted(labels)
    # a single-valued parameter's note uses the export name too
    for note in re.findall(r'<p class="note">(.*?) took a single value', section):
        assert _carries_export_name(html.unescape(note), keys), note


def test_export_name_mapping() -> None:
    assert _data.export_name("base_learning_rate")[0] == "learning_rate"
    for kind in ("l1", "l2", "l1_l2", "adamw"):
        key, how = _data.export_name(f"{kind}_strength")
        assert key == "regularizer_strength" and how is not None and f"= {kind}" in how
    assert _data.export_name("units") == ("units", None)
    assert _data.importance_label("l2_strength") == "regularizer_strength (as l2_strength)"
    assert _data.importance_label("batch_size") == "batch_size"
    assert _data.importance_label("cosine_warmup") == "warmup (as cosine_warmup)"
    assert _data.importance_label("linear_decay_to") == "decay_to (as linear_decay_to)"
    assert _data.importance_label("clipping") == "global_clipnorm (as clipping)"
    assert _data.importance_label("schedule") == "schedule"
    exported = set(adamtune.params.AdamParams.__dataclass_fields__)
    for name in ("constant_warmup", "cosine_decay_to", "clipping", "global_clipnorm", "optimizer"):
        assert _data.export_name(name)[0] in exported, name


def test_importances_are_ped_anova_as_the_report_says(study: dict[str, Any]) -> None:
    from optuna.importance import PedAnovaImportanceEvaluator

    result = study["result"]
    found = _data.importances(result.study)
    names = list(found.values)
    expected = optuna.importance.get_param_importances(
        result.study, evaluator=PedAnovaImportanceEvaluator(), params=names
    )
    assert found.values == pytest.approx(dict(expected))
    assert _data.EVALUATOR == "PED-ANOVA"
    assert "with its PED-ANOVA evaluator" in _section(render_report(result), "importances")


def test_best_epochs_are_one_based(study: dict[str, Any]) -> None:
    """The stored attribute is 0-based (Keras's on_epoch_end index); the report shows 1-based,
    and the star sits on that epoch of the curve, whose x axis counts from 1."""
    result = study["result"]
    rows = _data.trial_rows(result.study, "val_loss")
    stored = {t.number: t.user_attrs.get("best_epoch") for t in result.study.trials}
    shown = [r for r in rows if r.best_epoch is not None]
    assert shown
    for row in shown:
        assert row.best_epoch == stored[row.number] + 1
    # a trial that ran to its end: its best epoch is where its curve is lowest (a run the guard
    # stopped stops counting at the guard)
    complete = [r for r in shown if r.state == "COMPLETE"]
    assert complete
    for row in complete:
        assert row.best_epoch == 1 + min(
            range(len(row.curves["val_loss"])), key=lambda i: row.curves["val_loss"][i]
        )
    top = _data.best_rows(rows, "minimize", 3)
    with _figures.collect() as figures:
        _figures.curves(top, "val_loss", "t")
    ax = figures[0].axes[0]
    stars = [c for c in ax.collections if c.get_offsets().shape[0] == 1]
    assert len(stars) == len(top)
    assert sorted(float(c.get_offsets()[0][0]) for c in stars) == sorted(
        float(r.best_epoch) for r in top if r.best_epoch is not None
    )
    curves = _section(render_report(result), "curves")
    assert "<th>best epoch</th>" in curves and "Epoch 1/N" in curves


def _interrupted_study() -> Result:
    meta = {
        "objective": "val_loss",
        "direction": "minimize",
        "epochs": 2,
        "loss": "mse",
        "metrics": [],
    }
    study = optuna.create_study(direction="minimize")
    study.set_user_attr(META_KEY, meta)
    dist = {"base_learning_rate": FloatDistribution(1e-5, 1e-1, log=True)}
    for i, (state, attrs) in enumerate(
        [
            (TrialState.FAIL, {"outcome": "interrupted", "error": "Interrupted: Ctrl-C"}),
            (TrialState.FAIL, {"outcome": "crashed-error", "error": "ValueError: boom"}),
            (TrialState.WAITING, {}),
        ]
    ):
        study.add_trial(
            create_trial(
                state=state,
                params={"base_learning_rate": 1e-3 * (i + 1)},
                distributions=dist,
                user_attrs=attrs,
            )
        )
    return Result(study, meta)


def test_an_interrupted_trial_is_not_a_crash() -> None:
    assert "interrupted" in _data.OUTCOME_TEXT
    assert "Ctrl-C or SIGTERM" in _data.OUTCOME_TEXT["interrupted"]
    assert "resumes" in _data.OUTCOME_TEXT["interrupted"]
    colour = _data.OUTCOME_COLORS["interrupted"]
    assert colour not in (_data.OUTCOME_COLORS["crashed-error"], _data.OUTCOME_COLORS["pruned"])
    result = _interrupted_study()
    counts = dict(_data.outcome_counts(_data.trial_rows(result.study, "val_loss")))
    assert counts["interrupted"] == 1 and counts["crashed-error"] == 1
    page = render_report(result)
    head = page.split('<section id="best">')[0]
    assert "fail 1" in head and "interrupted 1" in head, head
    outcomes = _section(page, "outcomes")
    assert "an outcome this version of the report does not know" not in outcomes
    wrong = outcomes.split("What went wrong")[1]
    assert "crashed-error" in wrong and "interrupted" not in wrong


def test_writing_a_stored_report_imports_no_tensorflow(study: dict[str, Any]) -> None:
    out = Path(study["folder"]) / "no-tf.html"
    code = textwrap.dedent(
        f"""
        import sys
        from adamtune.cli import main
        assert main(["report", "--storage", {study["storage"]!r}, "--study", "v",
                     "-o", {str(out)!r}]) == 0
        print("TF", "tensorflow" in sys.modules, "keras" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TF False False" in done.stdout, done.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
