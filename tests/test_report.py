"""The HTML report: every section from a real study, escaping, no network, empty and failed-only
studies, the per-epoch curves and their fallback, importances' notes, and ``adamtune report``."""

from __future__ import annotations

import argparse
import base64
import html
import math
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

import adamtune
from adamtune.cli import _report, main
from adamtune.engine import META_KEY
from adamtune.report import _data as report_data
from adamtune.report import write_report
from adamtune.report._write import render_report
from adamtune.result import Result, render_python
from adamtune.testing import conformance_data, conformance_model

SECTION_IDS = ("best", "history", "importances", "lr-batch", "curves", "outcomes", "diagnosis")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert(1)</script>"
# A space whose learning rates make every trial on the conformance data blow up.
HOT_SPACE = """\
version: 1
name: hot
description: Learning rates far too high, so that trials diverge.
learning_rate:
  low: 1.0
  high: 10.0
batch_size: [32, 64]
regularizer:
  none: null
batch_norm: [false]
scaling: [none]
epochs: 2
"""
LOSS = {
    "module": "keras.losses",
    "class_name": "SparseCategoricalCrossentropy",
    "config": {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "ignore_class": None,
    },
    "registered_name": None,
}
META = {
    "objective": "val_loss",
    "direction": "minimize",
    "epochs": 6,
    "loss": LOSS,
    "metrics": ["accuracy"],
}
FINDINGS = [
    {
        "code": "lr-too-high",
        "severity": "error",
        "evidence": "loss rose 10x within 4 batches at lr >= 0.3",
        "advice": "keep the learning rate below 0.1",
    },
    {
        "code": "unscaled-inputs",
        "severity": "warning",
        "evidence": {"feature_scale_ratio": 1000.0},
        "advice": "use scaling: standard",
    },
    {"code": "ok-batch", "severity": "info", "evidence": "", "advice": "nothing to change"},
]


# --- studies ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real quick search (6 trials, 2 epochs) and a study whose learning rates diverge."""
    folder = tmp_path_factory.mktemp("report")
    storage = f"sqlite:///{folder}/r.db"
    data = conformance_data()
    quick = adamtune.search(
        conformance_model,
        data,
        space="quick",
        epochs=2,
        trials=6,
        storage=storage,
        study_name="r",
        verbose=0,
        seed=0,
    )
    (folder / "hot.yaml").write_text(HOT_SPACE)
    hot = adamtune.search(
        conformance_model,
        data,
        space=adamtune.load_space(folder / "hot.yaml"),
        epochs=2,
        trials=1,
        storage=storage,
        study_name="hot",
        verbose=0,
        seed=0,
    )
    return {"folder": folder, "storage": storage, "quick": quick, "hot": hot}


@pytest.fixture(scope="module")
def quick_html(real: dict[str, Any]) -> str:
    path = write_report(real["quick"], real["folder"] / "r.html", storage=real["storage"])
    return path.read_text(encoding="utf-8")


def _curve(start: float, end: float, epochs: int) -> list[float]:
    return [end + (start - end) * math.exp(-0.7 * e) for e in range(epochs)]


def _plan(i: int, lr: float) -> tuple[str, TrialState]:
    """Which way synthetic trial ``i`` at learning rate ``lr`` ends."""
    if i == 7:
        return "crashed-oom", TrialState.FAIL
    if i == 11:
        return "", TrialState.FAIL  # a failed trial that stored no outcome: crashed-error
    if i == 15:
        return "interrupted", TrialState.FAIL  # closed by Ctrl-C: Optuna's FAIL, not a crash
    if lr > 0.5:
        return ("diverged-nan" if i % 2 else "diverged-blowup"), TrialState.PRUNED
    if lr > 0.2:
        return "collapsed-to-chance", TrialState.PRUNED
    if lr < 3e-5:
        return "too-slow", TrialState.COMPLETE
    if i % 5 == 4:
        return "pruned", TrialState.PRUNED
    if i % 7 == 3:
        return "overfit", TrialState.COMPLETE
    return "ok", TrialState.COMPLETE


def _series(outcome: str, lr: float, epochs: int) -> tuple[list[Any], list[Any], float | None]:
    """Validation and training curves as stored (non-finite values as text), and the value."""
    gap = abs(math.log10(lr) - math.log10(3e-3))
    end = 0.35 + 0.25 * gap
    if outcome == "diverged-nan":
        return [1.4, 9.5, "nan"], [1.3, 12.0, "nan"], math.inf
    if outcome == "diverged-blowup":
        return [1.5, 4.2e4], [1.4, 7.1e4], math.inf
    if outcome == "collapsed-to-chance":
        return [1.1, 1.0986, 1.0986], [1.1, 1.0987, 1.0986], 1.0986
    if outcome == "too-slow":
        return [1.1, 1.09, 1.085, 1.08, 1.078, 1.075], [1.1] * 6, 1.075
    val = _curve(1.2, end, epochs)
    train = [v * 0.93 for v in val]
    if outcome == "overfit":
        val = [*val[:3], val[2] * 1.1, val[2] * 1.2, val[2] * 1.35]
        train = [v * 0.8 for v in _curve(1.2, end * 0.5, epochs)]
    if outcome == "pruned":
        val, train = val[:2], train[:2]
    return val, train, min(val)


def _synthetic_trial(i: int, rng: np.random.Generator) -> Any:
    from adamtune.params import AdamParams

    lr = float(10 ** rng.uniform(-5.0, 0.6))
    batch = int(rng.choice([16, 32, 64, 128]))
    units = int(rng.integers(4, 65))
    outcome, state = _plan(i, lr)
    params = {"base_learning_rate": lr, "batch_size": batch, "units": units}
    distributions = {
        "base_learning_rate": FloatDistribution(1e-5, 10.0, log=True),
        "batch_size": CategoricalDistribution([16, 32, 64, 128]),
        "units": IntDistribution(4, 64),
    }
    if state == TrialState.FAIL:
        attrs: dict[str, Any] = {"error": "ValueError: model_fn failed"}
        if outcome:
            error = (
                "Interrupted: stopped mid-trial by Ctrl-C"
                if outcome == "interrupted"
                else "ResourceExhaustedError: OOM when allocating"
            )
            attrs = {"outcome": outcome, "error": error}
        return create_trial(
            state=state, params=params, distributions=distributions, user_attrs=attrs
        )
    val, train, value = _series(outcome, lr, 6)
    attrs = {
        "outcome": outcome,
        "reason": f"{outcome}: synthetic" if outcome not in ("ok", "pruned") else None,
        "adam": AdamParams(learning_rate=lr, batch_size=batch, base_learning_rate=lr).to_dict(),
        "user_params": {"units": units},
    }
    if i >= 4:  # the first trials predate per-epoch curves: only intermediate values
        attrs["curves"] = {"val_loss": val, "loss": train}
    reported = {e: float(v) for e, v in enumerate(val) if math.isfinite(float(v))}
    return create_trial(
        state=state,
        value=value,
        params=params,
        distributions=distributions,
        user_attrs=attrs,
        intermediate_values=reported,
    )


def synthetic_study(storage: str | None, name: str, *, diagnosis: bool = True) -> Result:
    """A study (in ``storage``, else in memory) with every outcome, curves (some only as
    intermediate values) and the doctor's findings; no training, so it costs a fraction of a
    second."""
    study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
    study.set_user_attr(META_KEY, META)
    if diagnosis:
        study.set_user_attr("adamtune_diagnosis", {"findings": FINDINGS})
    rng = np.random.default_rng(0)
    for i in range(28):
        study.add_trial(_synthetic_trial(i, rng))
    return Result(study, META)


def _empty_result(storage: str, name: str) -> Result:
    study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
    study.set_user_attr(META_KEY, META)
    return Result(study, META)


# --- helpers ---------------------------------------------------------------------------------


def _section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{re.escape(key)}">(.*?)</section>', page, re.S)
    assert match is not None, f"no section {key!r} in the report"
    return match.group(1)


def _pngs(text: str) -> list[bytes]:
    return [
        base64.b64decode(b64, validate=True)
        for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    ]


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment: tags dropped, entities decoded, spaces squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- a real study ----------------------------------------------------------------------------


def test_every_section_from_a_real_study(real: dict[str, Any], quick_html: str) -> None:
    result = real["quick"]
    page = quick_html
    for key in SECTION_IDS:
        _section(page, key)
    head = _text(page.split('<section id="best">')[0])
    assert "adamtune report: r" in head
    assert real["storage"] in head
    assert "val_loss (minimize)" in head
    states = {t.state.name.lower() for t in result.study.trials}
    assert all(f"{s} " in head for s in states), head
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", head), head

    best = _section(page, "best")
    trial = result.study.best_trial
    assert f"trial {trial.number}" in _text(best)
    assert f"{trial.value:.6g}" in _text(best)
    assert html.escape(render_python(result.best)) in best  # the export snippet, escaped
    assert "base_learning_rate" in best and "units" in best

    assert "<img" in _section(page, "history")
    assert "<img" in _section(page, "lr-batch")
    assert "<img" in _section(page, "importances") or "note" in _section(page, "importances")
    curves = _section(page, "curves")
    assert "<img" in curves.split("Diverged trials")[0]
    outcomes = _text(_section(page, "outcomes"))
    for outcome in report_data.OUTCOMES:
        assert outcome in outcomes
    diagnosis = _text(_section(page, "diagnosis"))
    assert "No diagnosis was run" in diagnosis and "adamtune doctor" in diagnosis


def test_figures_are_embedded_pngs(quick_html: str) -> None:
    pngs = _pngs(quick_html)
    assert len(pngs) >= 4  # history, importances, map, curves, outcomes
    assert len(pngs) == quick_html.count("<img ")
    for png in pngs:
        assert png.startswith(PNG_MAGIC)
        width, height = _png_size(png)
        assert width > 100 and height > 100


def test_needs_no_network(quick_html: str) -> None:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", quick_html, re.I)
    assert refs, "expected the section links and images"
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs), refs
    assert not re.search(r"https?://", quick_html)
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "@import", "url("):
        assert tag not in quick_html.lower()


def test_diverged_study_has_curves_and_no_best(real: dict[str, Any]) -> None:
    result = real["hot"]
    outcomes = [t.user_attrs.get("outcome") for t in result.study.trials]
    assert any(o in report_data.DIVERGED for o in outcomes), outcomes
    page = render_report(result, storage=real["storage"])
    assert "no best config yet" in _text(_section(page, "best"))
    assert "Parameter importances need at least 2" in _text(_section(page, "importances"))
    diverged = _section(page, "curves").split("Diverged trials")[1]
    assert "<img" in diverged and "No trial diverged" not in diverged
    for trial in result.study.trials:
        if trial.user_attrs.get("reason"):
            assert html.escape(trial.user_attrs["reason"]) in page


# --- escaping, storage, atomic writes --------------------------------------------------------


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    result = synthetic_study(None, HOSTILE, diagnosis=False)
    study = result.study
    study.set_user_attr(
        "adamtune_diagnosis",
        {
            "findings": [
                {
                    "code": "<b>bold</b>",
                    "severity": "<i>warning</i>",
                    "evidence": "<script>alert(3)</script>",
                    "advice": 'lower & "slower"',
                }
            ]
        },
    )
    study.add_trial(
        create_trial(
            state=TrialState.FAIL,
            params={"act": "<img src=x onerror=alert(2)>"},
            distributions={"act": CategoricalDistribution(["<img src=x onerror=alert(2)>"])},
            user_attrs={"error": "ValueError: <img src=x onerror=alert(2)>"},
        )
    )
    path = write_report(result, tmp_path / "h.html", storage="sqlite:///h.db")
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and "<b>bold" not in page and "<i>warning" not in page
    assert html.escape(HOSTILE) in page  # the name is shown, as text
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert "lower &amp; &quot;slower&quot;" in page
    assert f"<title>adamtune report: {html.escape(HOSTILE)}</title>" in page


def test_storage_password_is_masked(tmp_path: Path) -> None:
    result = _empty_result(f"sqlite:///{tmp_path}/m.db", "m")
    page = render_report(result, storage="postgresql://user:s3cret-pw@db.example:5432/studies")
    assert "s3cret-pw" not in page
    assert "postgresql://user:***@db.example:5432/studies" in page


def test_write_is_atomic_and_needs_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _empty_result(f"sqlite:///{tmp_path}/a.db", "a")
    target = tmp_path / "out" / "a.html"
    assert write_report(result, target) == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.html"]  # no temp file left
    before = target.read_text(encoding="utf-8")

    from adamtune.report import _write

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(_write, "render_report", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(result, target)
    assert target.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.html"]
    with pytest.raises(ValueError, match=r"`path` must end in \.html"):
        write_report(result, tmp_path / "a.txt")


# --- empty and failed studies ----------------------------------------------------------------


def test_empty_study(tmp_path: Path) -> None:
    result = _empty_result(f"sqlite:///{tmp_path}/e.db", "empty")
    page = write_report(result, tmp_path / "e.html").read_text(encoding="utf-8")
    for key in SECTION_IDS:
        _section(page, key)
    assert "<img" not in page
    assert "0 in all: none" in _text(page)
    assert "no best config yet" in _text(_section(page, "best"))
    assert "no trials yet" in _text(_section(page, "history"))
    assert "has 0" in _text(_section(page, "importances"))
    assert "No trial recorded a learning rate" in _text(_section(page, "lr-batch"))
    assert "No trial completed yet" in _text(_section(page, "curves"))
    assert "no trials yet" in _text(_section(page, "outcomes"))
    assert "storage not recorded" not in page  # read from the study: its sqlite URL
    assert f"sqlite:///{tmp_path}/e.db" in page


def test_study_with_only_failed_trials(tmp_path: Path) -> None:
    result = _empty_result(f"sqlite:///{tmp_path}/f.db", "failed")
    result.study.add_trial(
        create_trial(
            state=TrialState.FAIL,
            params={"batch_size": 32},
            distributions={"batch_size": CategoricalDistribution([32, 64])},
        )
    )
    result.study.add_trial(
        create_trial(
            state=TrialState.FAIL,
            user_attrs={"outcome": "crashed-oom", "error": "ResourceExhaustedError: OOM"},
        )
    )
    page = render_report(result)
    counts = dict(report_data.outcome_counts(report_data.trial_rows(result.study, "val_loss")))
    assert counts["crashed-error"] == 1 and counts["crashed-oom"] == 1 and counts["ok"] == 0
    assert "no best config yet" in _text(_section(page, "best"))
    assert "No trial has a finite objective value" in _text(_section(page, "history"))
    outcomes = _section(page, "outcomes")
    assert "<img" in outcomes and "ResourceExhaustedError: OOM" in outcomes
    assert "no reason stored" in outcomes
    assert len(_pngs(page)) == 1


# --- the parts ------------------------------------------------------------------------------


def test_synthetic_study_fills_every_section(tmp_path: Path) -> None:
    result = synthetic_study(None, "s")
    page = render_report(result)
    rows = report_data.trial_rows(result.study, "val_loss")
    assert {r.outcome for r in rows} >= set(report_data.OUTCOMES)
    assert len(_pngs(page)) == 6  # history, importances, map, best and diverged curves, outcomes
    diagnosis = _section(page, "diagnosis")
    assert 'class="sev error"' in diagnosis and 'class="sev warning"' in diagnosis
    assert "lr-too-high" in diagnosis and "feature_scale_ratio" in html.unescape(diagnosis)
    assert "no stored per-epoch curves" in _text(_section(page, "curves"))
    assert "storage not recorded" in _text(page.split('<section id="best">')[0])  # in memory
    assert "adamtune export --storage URL --study s -o tuned.py" in _text(_section(page, "best"))


def test_a_best_trial_no_export_can_hold_gets_a_note_not_an_error() -> None:
    # was: render_report raised the exporter's ValueError, so no page at all for such a study
    result = synthetic_study(None, "s", diagnosis=False)
    best = result.study.best_trial
    attrs = {**best.user_attrs, "user_params": {"units": 8, "clip": math.inf}}
    result.study.add_trial(
        create_trial(
            state=TrialState.COMPLETE,
            value=float(best.value) / 2,
            params=best.params,
            distributions=best.distributions,
            user_attrs=attrs,
        )
    )
    section = _text(_section(render_report(result), "best"))
    assert f"trial {len(result.study.trials) - 1}" in section  # the new best, shown
    assert "The export snippet could not be made: ValueError: cannot export field " in section
    assert "user_params.clip" in section and "Export snippet" not in section


def test_curves_parse_text_values_and_fall_back_to_intermediate_values() -> None:
    assert report_data.parse_curve([1, 0.5, "nan", "inf", "-inf", None, "x"])[:2] == [1.0, 0.5]
    parsed = report_data.parse_curve(["nan", "inf", "-inf"])
    assert math.isnan(parsed[0]) and parsed[1] == math.inf and parsed[2] == -math.inf
    study = optuna.create_study()
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            value=math.inf,
            user_attrs={"curves": {"val_loss": [1.2, "inf"], "loss": [1.0, "nan"]}},
            intermediate_values={0: 1.2},
        )
    )
    study.add_trial(create_trial(value=0.5, intermediate_values={0: 0.9, 2: 0.5}))
    with_curves, fallback = report_data.trial_rows(study, "val_loss")
    assert with_curves.curves_source == "curves" and with_curves.curves["val_loss"][0] == 1.2
    assert with_curves.curves["val_loss"][1] == math.inf and with_curves.nonfinite_value
    assert fallback.curves_source == "intermediate"
    curve = fallback.curves["val_loss"]
    assert curve[0] == 0.9 and math.isnan(curve[1]) and curve[2] == 0.5
    from adamtune.report import _figures

    for rows in ([with_curves], [fallback]):
        uri = _figures.curves(rows, "val_loss", "t")
        assert uri is not None and base64.b64decode(uri.split(",", 1)[1]).startswith(PNG_MAGIC)


def test_importances_notes_instead_of_errors() -> None:
    study = optuna.create_study()
    dists = {"x": FloatDistribution(0.0, 1.0), "c": CategoricalDistribution(["a", "b"])}
    study.add_trial(create_trial(value=1.0, params={"x": 0.1, "c": "a"}, distributions=dists))
    few = report_data.importances(study)
    assert few.values == {} and "at least 2 completed trials" in few.notes[0]
    for i, x in enumerate((0.2, 0.5, 0.7, 0.9)):
        study.add_trial(create_trial(value=x + i, params={"x": x, "c": "a"}, distributions=dists))
    found = report_data.importances(study)
    assert set(found.values) == {"x"}
    assert any(n.startswith("c took a single value ('a')") for n in found.notes), found.notes
    assert any("treat these numbers as rough" in n for n in found.notes)


def test_malformed_diagnosis_gets_a_note() -> None:
    study = optuna.create_study()
    study.set_user_attr("adamtune_diagnosis", {"summary": "no findings key"})
    diag = report_data.diagnosis(study)
    assert diag.present and diag.findings == [] and "no list of findings" in (diag.note or "")
    study.set_user_attr("adamtune_diagnosis", {"findings": []})
    assert report_data.diagnosis(study).findings == []


# --- the command -----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adamtune")
    _report.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_report(
    real: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.html"
    args = _parser().parse_args(
        ["report", "--storage", real["storage"], "--study", "r", "-o", str(out)]
    )
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    page = out.read_text(encoding="utf-8")
    assert all(f'<section id="{k}">' in page for k in SECTION_IDS)
    assert len(_pngs(page)) >= 4

    bad = _parser().parse_args(
        ["report", "--storage", real["storage"], "--study", "r", "-o", str(tmp_path / "r.pdf")]
    )
    with pytest.raises(ValueError, match=r"-o must name an \.html file"):
        bad.func(bad)
    missing = _parser().parse_args(
        ["report", "--storage", real["storage"], "--study", "nope", "-o", str(out)]
    )
    with pytest.raises(ValueError, match="no study 'nope'"):
        missing.func(missing)


def test_cli_report_needs_its_arguments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("ADAMTUNE_STORAGE", raising=False)
    monkeypatch.chdir(tmp_path)
    # Without --storage: the default, sqlite:///adamtune.db, named when it is not there.
    assert main(["report", "--study", "r", "-o", "r.html"]) == 2
    assert f"no study storage at {tmp_path / 'adamtune.db'}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit):
        _parser().parse_args(["report", "--storage", "sqlite:///x.db", "--study", "r"])
    assert "-o/--output" in capsys.readouterr().err


def test_missing_matplotlib_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = f"sqlite:///{tmp_path}/n.db"
    result = _empty_result(storage, "n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        write_report(result, tmp_path / "n.html")
    args = _parser().parse_args(
        ["report", "--storage", storage, "--study", "n", "-o", str(tmp_path / "n.html")]
    )
    with pytest.raises(ValueError, match="pip install matplotlib"):
        args.func(args)
    assert not (tmp_path / "n.html").exists()


def test_import_is_light() -> None:
    code = (
        "import sys, adamtune.report, adamtune.cli._report\n"
        "heavy = ('matplotlib', 'optuna', 'tensorflow', 'keras')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_result_report_writes_the_same_page(real: dict[str, Any]) -> None:
    path = real["hot"].report(real["folder"] / "hot.html")
    page = path.read_text(encoding="utf-8")
    assert "diverged-blowup" in page and "hot" in page
    with pytest.raises(ValueError, match=r"\.html"):
        real["hot"].report(real["folder"] / "hot.txt")
