"""Sample and class weights: the meaning keras.Model.fit gives them, through search and export."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import cli_search_argv, fixed_space, imbalanced

import adamtune
from adamtune.spaces import Space, load_space

N_FEATURES = 10


def _model() -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(N_FEATURES,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def _space(lr: float = 3e-3, batch: int = 64, epochs: int = 8, **extra: Any) -> Space:
    return fixed_space(lr, batch, epochs, **extra)  # type: ignore[no-any-return]


def _imbalanced(n: int = 3000, class_sep: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    return imbalanced(n, class_sep, N_FEATURES)


def _search(data: Any, storage: str, **options: Any) -> Any:
    settings: dict[str, Any] = dict(
        space=_space(), trials=1, study_name="w", seed=0, verbose=0, first_trials=None
    )
    return adamtune.search(_model, data, storage=storage, **{**settings, **options})


def _db(storage: str) -> Path:
    return Path(storage.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def imbalanced_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Any]:
    """The same fixed-settings trial without and with balanced class weights; the held-out set
    is the validation set, which Keras never class-weights, so val_recall is the minority recall."""
    x, y = _imbalanced()
    data = ((x[:2000], y[:2000]), (x[2000:], y[2000:]))
    folder = tmp_path_factory.mktemp("imbalanced")
    return {
        cw: _search(data, f"sqlite:///{folder / f'{cw}.db'}", class_weight=cw, metrics=["recall"])
        for cw in (None, "balanced")
    }


def _last(result: Any, key: str) -> float:
    return float(result.study.trials[0].user_attrs["curves"][key][-1])


def test_balanced_class_weight_raises_the_minority_recall(imbalanced_runs: dict[Any, Any]) -> None:
    plain, balanced = (
        _last(imbalanced_runs[None], "val_recall"),
        _last(imbalanced_runs["balanced"], "val_recall"),
    )
    # measured: 0.0 without weights (the model learns the 95% prior), 0.62 with them
    assert balanced >= plain + 0.3, (plain, balanced)
    _, y = _imbalanced()
    expected = {0: 2000 / (2 * np.sum(y[:2000] == 0)), 1: 2000 / (2 * np.sum(y[:2000] == 1))}
    weights = imbalanced_runs["balanced"].best.fit_kwargs()["class_weight"]
    assert weights == pytest.approx(expected)  # computed on the training split only
    assert imbalanced_runs[None].best.fit_kwargs() == {"batch_size": 64, "epochs": 8}
    assert imbalanced_runs["balanced"].best.adam.class_weight == "balanced"


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"tuned_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exported_class_weight_round_trips_and_trains(
    imbalanced_runs: dict[Any, Any], tmp_path: Path
) -> None:
    best = imbalanced_runs["balanced"].best
    want = best.fit_kwargs()
    assert all(type(k) is int and type(v) is float for k, v in want["class_weight"].items())
    for suffix in (".json", ".yaml"):
        loaded = adamtune.load_config(best.export(tmp_path / f"tuned{suffix}"))
        assert loaded == best
        assert loaded.fit_kwargs() == want
    module = _import(best.export(tmp_path / "tuned.py"))
    assert module.fit_kwargs() == want
    assert all(type(k) is int for k in module.fit_kwargs()["class_weight"])

    x, y = _imbalanced(300)
    model = best.build(_model)
    model.compile(**best.compile_kwargs())
    history = model.fit(x, y, verbose=0, **{**module.fit_kwargs(), "epochs": 1})
    assert math.isfinite(history.history["loss"][-1])


def test_a_dict_class_weight_is_exported_as_given(tmp_path: Path) -> None:
    x, y = _imbalanced(600, class_sep=1.5)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    result = _search((x, y), storage, class_weight={1: 4}, space=_space(epochs=1))
    assert result.best.fit_kwargs()["class_weight"] == {1: 4.0}
    assert result.best.adam.class_weight == "custom"
    again = adamtune.load_config(result.export(tmp_path / "t.yaml"))
    assert again.fit_kwargs()["class_weight"] == {1: 4.0}


# -- sample weights ---------------------------------------------------------------------------


def _full_batch_run(data: Any, storage: str) -> dict[str, list[float]]:
    """One full-batch trial (batch 512 > every training set here, no scaling fitted on the data):
    each epoch is one Adam step on the whole set, whatever order the feed shuffles it in."""
    space = dataclasses.replace(_space(lr=1e-2, batch=512, epochs=15), scaling=("none",))
    result = _search(data, storage, space=space)
    curves: dict[str, list[float]] = result.study.trials[0].user_attrs["curves"]
    return curves


@pytest.mark.slow  # two trainings compared: about 15 s; CI runs it in the slow pass
def test_zero_sample_weights_train_as_the_other_half_alone(tmp_path: Path) -> None:
    """Weights 0 on half the training set give the trial the other half's curves: the weighted
    mean loss of the full set is the loss of the kept half, and Adam's step does not depend on
    the gradient's scale. Training on all of it (weights ignored: the flipped labels learned)
    gives far other curves."""
    x, y = _imbalanced(600, class_sep=1.0)
    x_train, y_train, val = x[:400], y[:400].copy(), (x[400:], y[400:])
    y_train[200:] = 1 - y_train[200:]  # the weightless half lies: learned from, it would show
    keep = np.zeros(400, dtype="float32")
    keep[:200] = 1.0
    runs = {
        name: _full_batch_run(data, f"sqlite:///{tmp_path / f'{name}.db'}")
        for name, data in {
            "weighted": ((x_train, y_train, keep), val),
            "half": ((x_train[:200], y_train[:200]), val),
            "all": ((x_train, y_train), val),
        }.items()
    }
    for key in ("data_loss", "val_data_loss"):
        assert runs["weighted"][key] == pytest.approx(runs["half"][key], rel=2e-3), key
    gap = max(
        abs(a - b) / abs(b)
        for a, b in zip(runs["all"]["val_data_loss"], runs["half"]["val_data_loss"], strict=True)
    )
    assert gap > 0.2, "the control: training on every sample must give other curves"


@pytest.mark.slow  # two searches compared: about 9 s; CI runs it in the slow pass
def test_validation_sample_weights_weight_the_validation_loss(tmp_path: Path) -> None:
    """A validation set whose second half weighs 0 scores as its first half alone."""
    x, y = _imbalanced(600, class_sep=1.0)
    train = (x[:400], y[:400])
    w_val = np.r_[np.ones(100), np.zeros(100)].astype("float32")
    weighted = _full_batch_run((train, (x[400:], y[400:], w_val)), f"sqlite:///{tmp_path}/a.db")
    first = _full_batch_run((train, (x[400:500], y[400:500])), f"sqlite:///{tmp_path}/b.db")
    assert weighted["val_data_loss"] == pytest.approx(first["val_data_loss"], rel=2e-3)


def test_the_seeded_split_carries_the_weights_along() -> None:
    from adamtune.data import prepare_data

    x, y = _imbalanced(500)
    w = np.arange(500, dtype="float32") + 1.0  # weight i+1 marks sample i
    x[:, 0] = w  # so does the first feature
    plain = prepare_data((x, y))
    weighted = prepare_data(adamtune.Data(x, y, sample_weight=w))
    assert np.array_equal(plain.x_train, weighted.x_train)  # the same split as without weights
    assert weighted.w_train is not None and weighted.w_val is not None
    assert np.array_equal(weighted.w_train, weighted.x_train[:, 0])
    assert np.array_equal(weighted.w_val, weighted.x_val[:, 0])
    assert weighted.fingerprint()["sample_weight"] is True
    assert "sample_weight" not in plain.fingerprint()  # studies made before weights resume


# -- a searched class weighting ---------------------------------------------------------------


def test_a_space_can_search_whether_to_weight(tmp_path: Path) -> None:
    space = _space(epochs=2, class_weight=["none", "balanced"])
    x, y = _imbalanced(1000)
    result = _search(
        (x, y), f"sqlite:///{tmp_path / 's.db'}", space=space, trials=2, strategy="grid"
    )
    modes = {t.user_attrs["adam"]["class_weight"] for t in result.study.trials}
    assert modes == {"none", "balanced"}
    assert result.meta["class_weight"]["setting"] == "searched"
    best = result.best
    assert ("class_weight" in best.fit_kwargs()) == (best.adam.class_weight == "balanced")
    text = space.to_yaml()
    assert "class_weight: [none, balanced]" in text
    assert load_space(_write(tmp_path / "s.yaml", text)) == space
    assert load_space(_write(tmp_path / "s.toml", space.to_toml())) == space


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- every error before anything is stored ----------------------------------------------------


def _regression() -> tuple[np.ndarray, np.ndarray]:
    x, _ = _imbalanced(300)
    return x, (x[:, 0] * 2.0 + 0.5).astype("float32")


def _with_weights(w: Any) -> Any:
    x, y = _imbalanced(300)
    return (x, y, w)


ERRORS = [
    pytest.param(
        {"class_weight": "balance"},
        None,
        r"`class_weight` must be None, 'balanced' or a dict .* Received: class_weight='balance'",
        id="unknown-string",
    ),
    pytest.param(
        {"class_weight": [1.0, 9.0]},
        None,
        r"`class_weight` must be None, 'balanced' or a dict .* Received: class_weight=\[1\.0",
        id="a-list",
    ),
    pytest.param(
        {"class_weight": {0: 1.0, 1: -2.0}},
        None,
        r"weights must be finite and >= 0\. Received: class_weight\[1\]=-2\.0",
        id="negative-weight",
    ),
    pytest.param(
        {"class_weight": {0: 1.0, 1: math.nan}},
        None,
        r"weights must be finite and >= 0\. Received: class_weight\[1\]=nan",
        id="nan-weight",
    ),
    pytest.param(
        {"class_weight": {"1": 9.0}},
        None,
        r"keys must be integer class ids 0\.\.K-1\. Received key '1' \(str\) \(a string key from "
        r"JSON: convert it with int\(\)\)",
        id="string-key",
    ),
    pytest.param(
        {"class_weight": {0: 1.0, 7: 2.0}},
        None,
        r"`class_weight` keys must be classes of y \(0\.\.1\)\. Received: .* key\(s\) \[7\]",
        id="unknown-class",
    ),
    pytest.param(
        {"class_weight": "balanced"},
        _regression(),
        r"class weights need class labels, and y is a regression target\. Received: "
        r"class_weight='balanced'",
        id="regression",
    ),
    pytest.param(
        {"class_weight": "balanced"},
        _with_weights(np.ones(300)),
        r"class weights cannot be combined with sample weights \(keras\.Model\.fit refuses the "
        r"pair too\)\. Received: class_weight='balanced'",
        id="with-sample-weights",
    ),
    pytest.param(
        {"space": _space(class_weight=["none", "balanced"])},
        _with_weights(np.ones(300)),
        r"Received: the space's class_weight field \['none', 'balanced'\] and a sample_weight",
        id="searched-with-sample-weights",
    ),
    pytest.param(
        {"class_weight": "balanced", "space": _space(class_weight=["none", "balanced"])},
        None,
        r"`class_weight` is given twice: search\(class_weight='balanced'\) and the space's "
        r"`class_weight` field \['none', 'balanced'\]",
        id="twice",
    ),
    pytest.param(
        {"space": _space(class_weight=["balanced"])},
        _regression(),
        r"y is a regression target\. Received: the space's class_weight field \['balanced'\]",
        id="searched-regression",
    ),
    pytest.param(
        {},
        _with_weights(np.ones(299)),
        r"`sample_weight` must hold one weight per sample: shape \(300,\)\. Received shape "
        r"\(299,\)",
        id="weight-length",
    ),
    pytest.param(
        {},
        _with_weights(np.r_[np.ones(299), -1.0]),
        r"`sample_weight` must be finite and >= 0\. Received: sample_weight\[299\]=-1\.0",
        id="weight-negative",
    ),
    pytest.param(
        {},
        _with_weights(np.r_[math.inf, np.ones(299)]),
        r"`sample_weight` must be finite and >= 0\. Received: sample_weight\[0\]=inf",
        id="weight-infinite",
    ),
    pytest.param(
        {},
        _with_weights(np.zeros(300)),
        r"`sample_weight` must not be all zero: .* Received: 300 zero weights",
        id="weight-all-zero",
    ),
    pytest.param(
        {},
        adamtune.Data(*_imbalanced(300), val_sample_weight=np.ones(300)),
        r"`val_sample_weight` weights an explicit validation set; give x_val and y_val",
        id="val-weight-without-validation",
    ),
    pytest.param(
        {},
        ((_imbalanced(300)), (*_imbalanced(100), np.ones(99))),
        r"`val_sample_weight` must hold one weight per sample: shape \(100,\)",
        id="val-weight-length",
    ),
]


@pytest.mark.parametrize(("options", "data", "pattern"), ERRORS)
def test_weight_errors_are_raised_before_anything_is_stored(
    options: dict[str, Any], data: Any, pattern: str, tmp_path: Path
) -> None:
    storage = f"sqlite:///{tmp_path / 'never.db'}"
    with pytest.raises((ValueError, TypeError), match=pattern):
        _search(_imbalanced(300) if data is None else data, storage, **options)
    assert not _db(storage).exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (["none", "weighted"], r"field `class_weight\[1\]`: must be one of none, balanced"),
        ([None, "balanced"], r"field `class_weight\[0\]`: .*write none, not null"),
        ([], r"field `class_weight`: must list at least one choice"),
        ("balanced", r"field `class_weight`: must be a list of choices"),
    ],
)
def test_a_space_file_with_a_bad_class_weight_names_the_field(
    value: Any, pattern: str, tmp_path: Path
) -> None:
    data = _space().to_dict()
    data["class_weight"] = value
    import yaml

    path = _write(tmp_path / "bad.yaml", yaml.safe_dump(data))
    with pytest.raises(ValueError, match=rf"bad\.yaml: {pattern}"):
        load_space(path)


# -- resuming ---------------------------------------------------------------------------------


@pytest.mark.slow  # two searches: about 15 s; CI runs it in the slow pass
def test_a_resume_with_other_weights_is_refused(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    x, y = _imbalanced(600, class_sep=1.5)
    quick = {"space": _space(epochs=1)}
    _search((x, y), storage, class_weight="balanced", **quick)
    with pytest.raises(adamtune.StudyMismatchError, match=r"class_weight: stored \{'setting'"):
        _search((x, y), storage, trials=2, **quick)
    with pytest.raises(adamtune.StudyMismatchError, match=r"class_weight\.setting: stored"):
        _search((x, y), storage, trials=2, class_weight={1: 3.0}, **quick)
    with pytest.raises(
        adamtune.StudyMismatchError, match=r"data\.sample_weight: absent in the stored study"
    ):
        _search((x, y, np.ones(600)), storage, trials=2, **quick)
    assert (
        len(_search((x, y), storage, class_weight="balanced", trials=2, **quick).study.trials) == 2
    )


# -- the command line -------------------------------------------------------------------------


@pytest.mark.slow  # a CLI search with a worker: about 9 s; CI runs it in the slow pass
def test_cli_class_weight_reaches_the_search_and_its_workers(tmp_path: Path) -> None:
    import optuna

    from adamtune.cli import main
    from adamtune.cli._commands import parse_class_weight

    assert parse_class_weight("0:1,1:9") == {0: 1.0, 1: 9.0}
    with pytest.raises(ValueError, match=r"--class-weight must be 'balanced' or CLASS:WEIGHT"):
        parse_class_weight("heavy")
    storage = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(cli_search_argv(storage, 1, "cw", "--class-weight", "balanced", "-q")) == 0
    meta = optuna.load_study(study_name="cw", storage=storage).user_attrs["adamtune"]
    assert meta["class_weight"]["setting"] == "balanced"
    assert [k for k, _ in meta["class_weight"]["weights"]] == list(range(10))
    # a worker re-runs the stored settings: with another class_weight it would be refused (exit 2)
    assert main(["worker", "--storage", storage, "--study", "cw", "-q"]) == 0
    assert main(cli_search_argv(storage, 1, "cw", "-q")) == 2  # the same study, unweighted


def test_the_doctor_names_the_search_option() -> None:
    from adamtune.data import prepare_data
    from adamtune.doctor._data_checks import check_class_balance

    finding = check_class_balance(prepare_data(_imbalanced(500)))
    assert finding is not None and 'search(class_weight="balanced")' in finding.advice
