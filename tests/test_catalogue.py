"""A catalogue of hostile and malformed inputs, across the Python API, the CLI and space files.

Every entry must fail with a ``ValueError``/``TypeError`` (or a documented subclass such as
``PreflightError``) whose message names the argument or field, and before anything is stored: the
study storage it was pointed at is compared before and after, trial by trial, and no file appears
beside it.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import cli_search_argv, tiny_study

import adamtune
from adamtune.cli import main as cli_main
from adamtune.testing import conformance_data, conformance_model

STUDY = "catalogue"


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[str, Path], Any]  # (storage URL, a scratch folder) -> raise
    error: type[Exception]
    match: str


def _search(storage: str, **changes: Any) -> Any:
    settings: dict[str, Any] = {
        "space": "quick",
        "epochs": 1,
        "trials": 2,
        "verbose": 0,
        "storage": storage,
        "study_name": STUDY,
    }
    model_fn = changes.pop("model_fn", conformance_model)
    data = changes.pop("data", conformance_data())
    return adamtune.search(model_fn, data, **{**settings, **changes})


def _with(**changes: Any) -> Callable[[str, Path], Any]:
    return lambda storage, _: _search(storage, **changes)


def _space_file(text: str, suffix: str = ".yaml") -> Callable[[str, Path], Any]:
    def run(storage: str, scratch: Path) -> Any:
        path = scratch / f"space{suffix}"
        path.write_text(text, encoding="utf-8")
        return _search(storage, space=str(path))

    return run


_GOOD_SPACE = """\
version: 1
name: mine
learning_rate: {{low: {low}, high: {high}, reference_batch_size: 32, rule: sqrt}}
batch_size: [32, 64]
regularizer: {{none: null}}
batch_norm: [false]
scaling: [standard]
epochs: 2
"""


def _x_y(x: Any, y: Any) -> Callable[[str, Path], Any]:
    return _with(data=(x, y))


X, Y = conformance_data()


def _returns(value: Any) -> Callable[..., Any]:
    return lambda hp: value


def _compiled(hp: Any) -> Any:
    """A model compiled in model_fn is accepted (its loss is kept, its optimizer replaced); a
    search(loss=...) that contradicts the compiled loss is not."""
    model = conformance_model(hp)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _narrow_output(hp: Any) -> Any:
    import keras

    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])


def _raises(hp: Any) -> Any:
    raise RuntimeError("my model code is broken")


def _two_args(a: Any, b: Any) -> Any:
    return None


def _cli(*argv: str) -> Callable[[str, Path], Any]:
    """Run the CLI in this process; its error line (exit code 2) is raised as a ValueError."""

    def run(storage: str, scratch: Path) -> Any:
        args = [a.replace("STORAGE", storage) for a in argv]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = cli_main(args)
            except SystemExit as exc:  # argparse's own refusals
                code = int(exc.code or 0)
        if code != 2:
            raise AssertionError(f"exit code {code}, not 2; stderr: {err.getvalue()}")
        raise ValueError(err.getvalue())

    return run


_SEARCH = (*cli_search_argv("STORAGE", 2, STUDY), "-q")

CASES = [
    # -- the Python API: the model function ----------------------------------------------------
    Case("model_fn not callable", _with(model_fn=3), TypeError, "model_fn"),
    Case("model_fn takes two arguments", _with(model_fn=_two_args), TypeError, "model_fn"),
    Case("model_fn returns None", _with(model_fn=_returns(None)), TypeError, "None"),
    Case("model_fn returns a string", _with(model_fn=_returns("m")), TypeError, "keras.Model"),
    Case(
        "model_fn compiles a loss search(loss=) contradicts",
        _with(model_fn=_compiled, loss="categorical_crossentropy"),
        ValueError,
        r"`loss`: model_fn compiles its model with loss 'sparse_categorical_crossentropy', but "
        r"search\(loss=\.\.\.\) asks for 'categorical_crossentropy'",
    ),
    Case("model_fn output too narrow", _with(model_fn=_narrow_output), ValueError, "3 classes"),
    Case("model_fn raises", _with(model_fn=_raises), ValueError, "my model code is broken"),
    # -- the Python API: data ------------------------------------------------------------------
    Case("data is a string", _with(data="digits.csv"), TypeError, "`data`"),
    Case("data is a 4-tuple", _with(data=(X, Y, Y, Y)), TypeError, "`data`"),
    Case(
        "sample weights are negative",
        _with(data=(X, Y, np.where(np.arange(300) == 4, -1.0, 1.0))),
        ValueError,
        "sample_weight",
    ),
    Case("lengths differ", _x_y(X, Y[:-5]), ValueError, "300.*295|295.*300"),
    Case("empty data", _x_y(X[:0], Y[:0]), ValueError, "empty|no samples|0 samples"),
    Case("NaN in x", _x_y(np.where(np.arange(300)[:, None] == 7, np.nan, X), Y), ValueError, "NaN"),
    Case(
        "inf in y",
        _x_y(X, np.where(np.arange(300) == 3, np.inf, Y.astype(float))),
        ValueError,
        "inf|finite",
    ),
    Case(
        "string labels",
        _x_y(X, np.array(["a", "b", "c"] * 100)),
        (TypeError, ValueError),
        "label|`y`",
    ),
    Case(
        "object x",
        _x_y(np.array([{"a": 1}] * 300, dtype=object), Y),
        (TypeError, ValueError),
        "`x`|numeric|number",
    ),
    Case("validation_split 1.5", _with(validation_split=1.5), ValueError, "validation_split"),
    # -- the Python API: budgets and names -----------------------------------------------------
    Case("trials 0", _with(trials=0), ValueError, "trials"),
    Case("trials negative", _with(trials=-3), ValueError, "trials"),
    Case("trials 2.5", _with(trials=2.5), TypeError, "trials"),
    Case("trials True", _with(trials=True), TypeError, "trials"),
    Case("epochs 0", _with(epochs=0), ValueError, "epochs"),
    Case("timeout negative", _with(timeout=-5), ValueError, "timeout"),
    Case("timeout nan", _with(timeout=math.nan), ValueError, "timeout"),
    Case("timeout gibberish", _with(timeout="soon"), ValueError, "timeout"),
    Case("max_failures 0", _with(max_failures=0), ValueError, "max_failures"),
    Case("heartbeat 0", _with(heartbeat=0), ValueError, "heartbeat"),
    Case("verbose 3", _with(verbose=3), ValueError, "verbose"),
    Case("seed a string", _with(seed="42"), TypeError, "seed"),
    Case("unknown strategy", _with(strategy="bogus"), ValueError, "strategy"),
    Case("unknown pruner", _with(pruner="bogus"), ValueError, "pruner"),
    Case("objective without direction", _with(objective="my_score"), ValueError, "direction"),
    Case("direction sideways", _with(direction="sideways"), ValueError, "direction"),
    Case("metrics a string", _with(metrics="accuracy"), TypeError, "metrics"),
    Case("unknown space name", _with(space="no-such-space"), ValueError, "unknown space"),
    Case("space of the wrong type", _with(space=42), TypeError, "`space`"),
    Case("first_trials a string", _with(first_trials="yes"), TypeError, "first_trials"),
    # -- space files ---------------------------------------------------------------------------
    Case(
        "NaN bound",
        _space_file(_GOOD_SPACE.format(low=".nan", high=0.1)),
        ValueError,
        "learning_rate",
    ),
    Case(
        "inf bound",
        _space_file(_GOOD_SPACE.format(low=1e-4, high=".inf")),
        ValueError,
        "learning_rate",
    ),
    Case(
        "low above high",
        _space_file(_GOOD_SPACE.format(low=0.1, high=1e-4)),
        ValueError,
        "learning_rate",
    ),
    Case(
        "python tag",
        _space_file("learning_rate: !!python/object/apply:os.system ['id']\n"),
        ValueError,
        "python/object",
    ),
    Case(
        "duplicate key",
        _space_file(_GOOD_SPACE.format(low=1e-4, high=0.1) + "epochs: 3\n"),
        ValueError,
        "epochs.*twice|twice.*epochs|duplicate",
    ),
    Case(
        "unknown key",
        _space_file(_GOOD_SPACE.format(low=1e-4, high=0.1) + "optimiser: sgd\n"),
        ValueError,
        "optimiser",
    ),
    Case(
        "a 10 MB space file", _space_file("# pad\n" * (10 * 1024 * 1024 // 6)), ValueError, "bytes"
    ),
    Case("not a mapping", _space_file("- 1\n- 2\n"), ValueError, "mapping|space"),
    Case("bad TOML", _space_file("learning_rate = [", ".toml"), ValueError, "TOML|toml"),
    Case("wrong suffix", _space_file("{}", ".json"), ValueError, ".yaml"),
    # -- the CLI -------------------------------------------------------------------------------
    Case(
        "CLI MODEL without a function",
        _cli("search", "TARGET", "--data", "TARGET:load_data"),
        ValueError,
        "MODEL",
    ),
    Case("CLI --trials 0", _cli(*_SEARCH, "--trials", "0"), ValueError, "trials"),
    Case("CLI --timeout gibberish", _cli(*_SEARCH, "--timeout", "soon"), ValueError, "timeout"),
    Case("CLI --workers 0", _cli(*_SEARCH, "--workers", "0"), ValueError, "workers"),
    Case(
        "CLI --space missing file",
        _cli(*_SEARCH, "--space", "nope/space.yaml"),
        ValueError,
        "space",
    ),
    Case("CLI --until gibberish", _cli(*_SEARCH, "--until", "25:99"), ValueError, "until"),
]


def _snapshot(storage: str, folder: Path) -> tuple[Any, ...]:
    """Every study and trial the storage holds, and the files beside it (SQLite's own
    write-ahead files aside)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    studies = []
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = [
            (t.number, t.state.name, t.params, t.values, t.user_attrs, t.intermediate_values)
            for t in study.get_trials(deepcopy=False)
        ]
        studies.append((summary.study_name, study.user_attrs, repr(trials)))
    files = sorted(
        p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm", "-journal"))
    )
    return repr(studies), tuple(files)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A storage that already holds a one-trial study of the same name (a resume would use it)."""
    folder = tmp_path_factory.mktemp("catalogue")
    storage = f"sqlite:///{folder / 'study.db'}"
    tiny_study(storage, STUDY)
    return storage, folder


def test_the_catalogue_is_long_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    # The README says how many: the number must be this catalogue's.
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert f"`tests/test_catalogue.py` ({len(CASES)} malformed inputs" in readme


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_by_name_before_anything_is_stored(
    case: Case, populated: tuple[str, Path], tmp_path: Path
) -> None:
    storage, folder = populated
    before = _snapshot(storage, folder)
    with pytest.raises(case.error, match=case.match):
        case.run(storage, tmp_path)
    assert _snapshot(storage, folder) == before
