"""The examples run end to end, in-process, with a tiny budget, and print what they promise.

Each test imports a file from ``examples/`` with importlib, calls its ``main([...])`` with 3 trials
of 2 epochs in a temporary directory (so no study or config lands in the repo), and checks the
returned Result and the printed report against each other.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from adamtune.training._outcome import OUTCOMES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY = ["--trials", "3", "--epochs", "2"]
# Every label but the crashes and interrupts: the examples never crash nor are stopped.
TRIAL_OUTCOMES = set(OUTCOMES) - {"crashed-oom", "crashed-error", "interrupted"}


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module, once per session."""
    module_name = f"adamtune_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def finished(result: Any) -> int:
    """Trials that count toward the target: complete or pruned (including cut divergences)."""
    return int(result.trials["state"].isin(["COMPLETE", "PRUNED"]).sum())


def check_trials(result: Any) -> Any:
    """The study ran exactly the tiny budget, and no trial crashed."""
    trials = result.trials
    assert finished(result) == 3, trials[["number", "state", "outcome", "reason"]]
    assert set(trials["outcome"]) <= TRIAL_OUTCOMES, trials[["number", "outcome", "reason"]]
    assert sum(result.outcomes.values()) == len(trials)
    return trials


# -- digits.py ----------------------------------------------------------------------------------


def test_digits_example_uses_default_storage_and_exports(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import adamtune

    digits = load_example("digits")
    result = digits.main([*TINY, "--space", "quick"])  # no --storage: adamtune.db in the cwd

    assert isinstance(result, adamtune.Result)
    assert (in_tmp / "adamtune.db").is_file()
    check_trials(result)
    out = capsys.readouterr().out
    best = result.best
    assert str(result) in out and str(best) in out
    assert f"val_accuracy={best.value:.4g}" in out
    assert max(len(line) for line in out.splitlines()) < 100  # lines, not one dict
    cfg = adamtune.load_config(in_tmp / "tuned.json")
    assert cfg.adam == best.adam
    assert cfg.user_params == best.user_params and 32 <= cfg.user_params["units"] <= 256
    assert result.study.study_name == "digits-quick-2ep"
    assert "adamtune status --study digits-quick-2ep" in out


def test_digits_example_with_other_epochs_starts_its_own_study(in_tmp: Path) -> None:
    digits = load_example("digits")
    digits.main(["--trials", "1", "--epochs", "1", "--space", "quick"])
    # Same folder, other epochs: its own study, not a "created with different epochs" refusal.
    again = digits.main(["--trials", "1", "--epochs", "2", "--space", "quick", "-o", "b.yaml"])
    assert again.study.study_name == "digits-quick-2ep" and (in_tmp / "b.yaml").is_file()
    mine = digits.main(["--trials", "1", "--epochs", "1", "--space", "quick", "--study", "mine"])
    assert mine.study.study_name == "mine"


# -- recipe_lr_sweep.py -------------------------------------------------------------------------


def test_lr_sweep_space_varies_only_lr_and_batch_size() -> None:
    from adamtune.spaces import Space

    space = load_example("recipe_lr_sweep").make_space(8)
    assert Space.from_dict(space.to_dict()) == space  # what the study stores for a resume
    assert space.learning_rate.high / space.learning_rate.low >= 1e4  # several decades
    assert space.learning_rate.rule == "sqrt" and len(space.batch_size) > 1
    assert space.regularizer == {"none": None}
    assert space.batch_norm == (False,) and len(space.scaling) == 1


def test_lr_sweep_table_shows_cut_trials_without_a_value() -> None:
    import pandas as pd

    sweep = load_example("recipe_lr_sweep")
    trials = pd.DataFrame(
        [
            {"number": 0, "base_learning_rate": 0.5, "batch_size": 128, "learning_rate": 1.0,
             "value": -math.inf, "epochs_run": 1, "outcome": "diverged-blowup"},
            {"number": 1, "base_learning_rate": 1e-3, "batch_size": 32, "learning_rate": 1e-3,
             "value": 0.9712, "epochs_run": 8, "outcome": "ok"},
        ]
    )  # fmt: skip
    lines = sweep.sweep_table(trials).splitlines()
    assert "outcome" in lines[0]
    assert lines[1].split() == ["1", "1.00e-03", "32", "1.00e-03", "0.9712", "8", "ok"]
    assert lines[2].split() == ["0", "5.00e-01", "128", "1.00e+00", "-", "1", "diverged-blowup"]


def test_lr_sweep_example_runs_and_resumes(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import adamtune

    sweep = load_example("recipe_lr_sweep")
    argv = [*TINY, "--storage", f"sqlite:///{in_tmp}/s.db", "--study", "sweep"]
    result = sweep.main(argv)

    assert isinstance(result, adamtune.Result)
    trials = check_trials(result)
    # Only the learning rate and the batch size moved, coupled by the square-root rule.
    assert set(trials["regularizer"]) == {"none"}
    assert set(trials["batch_norm"]) == {False}
    assert set(trials["scaling"]) == {"standard"}
    for row in trials.itertuples():
        expected = row.base_learning_rate * math.sqrt(row.batch_size / 32)
        assert row.learning_rate == pytest.approx(expected)
        assert 1e-5 <= row.base_learning_rate <= 1.0

    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()
    assert table[0].split() == ["trial", "lr@32", "batch", "lr", "used", "val_acc", "epochs",
                                "outcome"]  # fmt: skip
    rows = {int(line.split()[0]): line.split() for line in table[1:] if line[:5].strip().isdigit()}
    assert table[-1].startswith("(val_acc:")
    assert sorted(rows) == sorted(trials["number"])
    for row in trials.itertuples():
        assert rows[row.number][1] == f"{row.base_learning_rate:.2e}"
        assert rows[row.number][2] == str(row.batch_size)
        assert rows[row.number][-1] == row.outcome
    assert f"outcomes: {dict(result.outcomes)}" in out
    if result.outcomes["ok"]:
        assert f"best val_accuracy {result.best.value:.4f}" in out

    # The same call again continues the study: the target is met, so nothing runs.
    capsys.readouterr()
    again = sweep.main(argv)
    assert len(again.trials) == len(trials)
    assert "nothing to run" in capsys.readouterr().err


# -- recipe_regularizer.py ----------------------------------------------------------------------


def test_regularizer_example_exports_loads_and_trains(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    import adamtune

    reg = load_example("recipe_regularizer")
    out_file = in_tmp / "tuned.yaml"
    argv = [*TINY, "--storage", f"sqlite:///{in_tmp}/s.db", "--out", str(out_file)]
    result = reg.main(argv)

    assert isinstance(result, adamtune.Result)
    trials = check_trials(result)
    assert set(trials["regularizer"]) <= {"l1", "l2", "l1_l2", "adamw"}
    assert (trials["regularizer_strength"] > 0).all()
    assert not (in_tmp / "adamtune.db").exists()  # --storage was honoured

    best = result.best
    out = capsys.readouterr().out
    # The per-type table: one row per type tried, with its trial count and completed count.
    for kind, group in trials.groupby("regularizer"):
        row = next(line.split() for line in out.splitlines() if line.startswith(f"{kind} "))
        assert row[1:3] == [str(len(group)), str(int((group["outcome"] == "ok").sum()))]
    assert (
        f"chosen: {best.adam.regularizer} at strength {best.adam.regularizer_strength:.3g}" in out
    )
    match = re.search(r"test accuracy (\d\.\d{4}) on (\d+) held-out digits", out)
    assert match, out
    assert int(match.group(2)) == 1797 - 2 * reg.N_TRAIN
    assert float(match.group(1)) > 0.2  # well above the 0.1 of guessing, even after 2 epochs

    # The exported file is what training code reads back, and it rebuilds the tuned model.
    cfg = adamtune.load_config(out_file)
    assert cfg.adam == best.adam and cfg.fit_kwargs()["batch_size"] == best.adam.batch_size
    model = cfg.build(reg.build_model)
    optimizer = cfg.compile_kwargs()["optimizer"]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 3
    if best.adam.regularizer == "adamw":
        assert isinstance(optimizer, keras.optimizers.AdamW)
        assert optimizer.weight_decay == pytest.approx(best.adam.regularizer_strength)
        assert all(layer.kernel_regularizer is None for layer in dense)
    else:
        assert not isinstance(optimizer, keras.optimizers.AdamW)
        assert all(layer.kernel_regularizer is not None for layer in dense)


# -- recipe_scaling_batchnorm.py ----------------------------------------------------------------


def test_scaling_batchnorm_example_groups_by_scaling(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import adamtune
    from adamtune.spaces import SCALERS

    example = load_example("recipe_scaling_batchnorm")
    x, _ = example.load_data()
    assert x.max() > 1e3  # the raw, unscaled features
    argv = [*TINY, "--storage", f"sqlite:///{in_tmp}/s.db", "--study", "scaling"]
    result = example.main(argv)

    assert isinstance(result, adamtune.Result)
    trials = check_trials(result)
    assert set(trials["scaling"]) <= set(SCALERS)
    assert set(trials["regularizer"]) == {"none"}

    out = capsys.readouterr().out
    assert "raw feature maxima span 0.0298 .. 4254" in out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("scaling"))
    groups = {}
    for line in lines[start + 1 :]:
        if not line or line.startswith(" ") or line.startswith("outcomes"):
            break
        groups[line.split()[0]] = line
    assert set(groups) == set(trials["scaling"])
    for scaling, group in trials.groupby("scaling"):
        fields = groups[scaling].split()
        assert int(fields[1]) == len(group)
        assert int(fields[2]) == int(group["batch_norm"].sum())
        done = group.loc[group["state"] == "COMPLETE", "value"]
        assert fields[3] == (f"{done.max():.4f}" if len(done) else "-")
        for outcome, count in group["outcome"].value_counts().items():
            assert f"{outcome} {count}" in groups[scaling]
    assert f"outcomes: {dict(result.outcomes)}" in out
