"""Writing and reading configs: JSON, YAML and a ``.py`` snippet built from values, never strings."""

from __future__ import annotations

import ast
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adamtune._util import atomic_write_text
from adamtune.result._validate import check_finite_fields
from adamtune.spaces import MAX_DEPTH, MAX_INT_DIGITS, SCALERS

if TYPE_CHECKING:  # only for hints: _config imports this module, so this one never imports it
    from adamtune.result._config import TunedConfig

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "config_text",
    "export_config",
    "read_mapping",
    "render_literal",
    "render_python",
]

# The suffixes an export may have, and the format each picks.
FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".py": "py"}
SUFFIXES = tuple(FORMATS)
# Fixed words for the snippet's header, by regularizer (AdamW's decay is in the optimizer).
_KERNEL_REGULARIZERS = {"l1": "L1", "l2": "L2", "l1_l2": "L1+L2"}

_SNIPPET_CODE = '''

def _loss(loss):
    """A loss from its config; one per output when keyed by output name."""
    if isinstance(loss, dict) and "class_name" not in loss:
        return {name: _loss(one) for name, one in loss.items()}
    return keras.losses.deserialize(loss) if isinstance(loss, dict) else loss


def compile_kwargs():
    """Keyword arguments for model.compile: a fresh optimizer, the loss and the metrics."""
    metrics = CONFIG["metrics"]
    kwargs = {
        # Copies: Keras puts the schedule it builds into the config it is given.
        "optimizer": keras.optimizers.deserialize(
            {**CONFIG["optimizer"], "config": dict(CONFIG["optimizer"]["config"])}
        ),
        "loss": _loss(CONFIG["loss"]),
        "metrics": dict(metrics) if isinstance(metrics, dict) else list(metrics),
    }
    if CONFIG.get("loss_weights") is not None:
        kwargs["loss_weights"] = CONFIG["loss_weights"]
    return kwargs


def fit_kwargs():
    """Keyword arguments for model.fit: batch_size, epochs and class_weight when tuned."""
    kwargs = dict(CONFIG["fit"])
    if "class_weight" in kwargs:
        kwargs["class_weight"] = dict(kwargs["class_weight"])  # [class, weight] pairs: int keys
    return kwargs


def _tuned():
    """CONFIG as an adamtune.TunedConfig, checked; build, scaler and preprocessing_layer use it."""
    try:
        import adamtune
    except ImportError as exc:
        raise ImportError(
            "build(), scaler() and preprocessing_layer() of this tuned config need adamtune "
            "(pip install adamtune): they apply the tuned input scaling, BatchNorm and "
            "regularizer. compile_kwargs() and fit_kwargs() need only keras"
        ) from exc
    return adamtune.TunedConfig.from_dict(CONFIG, "this tuned config")


def build(model_fn):
    """model_fn's model with the tuned BatchNorm and regularizer (and its own tuned values, when
    it takes hp), compiled with the tuned optimizer, loss and metrics. Needs adamtune."""
    cfg = _tuned()
    model = cfg.build(model_fn)
    model.compile(**cfg.compile_kwargs())
    return model


def scaler():
    """A fresh scikit-learn transformer for the tuned input scaling (identity if none): fit it on
    the training x, then transform every x the model sees. Needs adamtune."""
    cfg = _tuned()
    return cfg.scaler()


def preprocessing_layer(sample):
    """The tuned input scaling as a Keras layer fitted on sample (the training x, or a
    tf.data.Dataset of it), for ds.map or inside the model. Needs adamtune."""
    cfg = _tuned()
    return cfg.preprocessing_layer(sample)


if __name__ == "__main__":
    print(compile_kwargs())
    print(fit_kwargs())
'''


def _exportable_dict(config: TunedConfig) -> dict[str, Any]:
    """``config.to_dict()``, refused with the field named if it holds a NaN or an infinity."""
    data = config.to_dict()
    check_finite_fields(data)
    return data


def render_literal(value: Any, indent: int = 0) -> str:
    """Python source for a JSON-like value. Strings go through ``repr``; nothing else is allowed:
    a non-finite float would need a call (``float('nan')``), so it is refused."""
    pad = "    " * (indent + 1)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a .py literal holds finite numbers only. Received: {value!r}")
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = "".join(f"{pad}{render_literal(v, indent + 1)},\n" for v in value)
        return f"[\n{items}{'    ' * indent}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"config keys must be strings. Received: {key!r}")
        items = "".join(
            f"{pad}{key!r}: {render_literal(v, indent + 1)},\n" for key, v in value.items()
        )
        return f"{{\n{items}{'    ' * indent}}}"
    raise TypeError(f"cannot write a {type(value).__name__} into a config: {value!r}")


def render_python(config: TunedConfig) -> str:
    """A runnable module holding the config as one literal, plus fixed helper code: a header
    comment with the whole recipe, ``compile_kwargs()`` and ``fit_kwargs()`` (keras only), and
    ``build(model_fn)``, ``scaler()`` and ``preprocessing_layer(sample)``, which hand CONFIG to
    ``adamtune.TunedConfig.from_dict`` and raise an ImportError that says so without adamtune."""
    data = _exportable_dict(config)
    literal = render_literal(data)
    if ast.literal_eval(literal) != data:  # the literal must read back as exactly the values
        raise RuntimeError("internal error: the rendered config does not read back as written")
    header = "".join(f"{line}\n" for line in _header(config)) + "import keras\n\n"
    text = f"{header}CONFIG = {literal}\n{_SNIPPET_CODE}"
    ast.parse(text)
    return text


def _header(config: TunedConfig) -> list[str]:
    """The snippet's opening comment: the whole recipe first, then what compile_kwargs() alone
    would drop. Fixed text only, chosen by the config's values, never a string from it."""
    lines = [
        "# Generated by adamtune: tuned training settings. Train with ALL of them:",
        "#     from this_module import build, scaler, fit_kwargs   # build/scaler need adamtune",
        "#     scale = scaler().fit(x_train)      # the tuned input scaling, fitted on x_train",
        "#     model = build(model_fn)            # tuned BatchNorm/regularizer, compiled",
        "#     model.fit(scale.transform(x_train), y_train, **fit_kwargs())",
        "#     # and scale.transform() every x you evaluate or predict on",
    ]
    dropped = _dropped_by_compile_kwargs(config)
    if dropped:
        lines += [
            "# WARNING: model.compile(**compile_kwargs()) on your own model drops this config's",
            f"# tuned {_and(dropped)}: use build() and scaler().",
        ]
    else:
        lines.append("# This config tunes no input scaling, BatchNorm or kernel regularizer.")
    lines += [
        "# compile_kwargs() and fit_kwargs() need only keras; preprocessing_layer(x_train) gives",
        "# the scaling as a Keras layer (for tf.data). CONFIG holds every value.",
    ]
    for line in lines:  # one comment per line: nothing in a header line can end it
        if not line.startswith("#") or any(c in line for c in "\r\n"):
            raise RuntimeError(f"internal error: a header line that is not one comment: {line!r}")
    return lines


def _dropped_by_compile_kwargs(config: TunedConfig) -> list[str]:
    """What of ``config`` a user who only compiles their own model with compile_kwargs() loses,
    in fixed words."""
    adam = config.adam
    dropped = []
    if adam.scaling != "none":
        dropped.append(f"{_fixed(adam.scaling, SCALERS, 'input')} scaling")
    if adam.batch_norm:
        dropped.append("BatchNorm")
    if adam.regularizer not in ("none", "adamw"):  # AdamW's weight decay is in the optimizer
        kind = next((w for k, w in _KERNEL_REGULARIZERS.items() if k == adam.regularizer), None)
        dropped.append(f"{kind or 'kernel'} regularizer")
    if config.user_params:
        dropped.append("model_fn values (hp)")
    return dropped


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _fixed(value: str, allowed: tuple[str, ...], otherwise: str) -> str:
    """``value`` as the constant of ``allowed`` it equals, else ``otherwise``: a config's own
    string never reaches the snippet's text outside the CONFIG literal."""
    return next((choice for choice in allowed if choice == value), otherwise)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"`path` must end in {', '.join(SUFFIXES)} to pick the format. Received: {str(path)!r}"
        )
    return suffix


def config_text(config: TunedConfig, fmt: str) -> str:
    """The text of ``config`` in ``fmt`` (``json``, ``yaml`` or ``py``), as :func:`export_config`
    writes it; a NaN or infinity anywhere is refused."""
    if fmt == "json":
        return json.dumps(_exportable_dict(config), indent=2, allow_nan=False) + "\n"
    if fmt == "py":
        return render_python(config)
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(_exportable_dict(config), sort_keys=False))
    raise ValueError(f"`fmt` must be 'json', 'yaml' or 'py'. Received: fmt={fmt!r}")


def export_config(config: TunedConfig, path: str | os.PathLike[str]) -> Path:
    """Write ``config`` to ``path`` in the format its suffix names (atomic); a NaN or infinity
    anywhere is refused before anything is written."""
    target = Path(path)
    return atomic_write_text(target, config_text(config, FORMATS[_suffix(target)]))


def read_mapping(path: str | os.PathLike[str]) -> tuple[Any, str]:
    """The plain values of a JSON or YAML config written by :func:`export_config`, unchecked,
    and the file's name for messages; ``read_config`` checks them and makes the config."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"`path` must be a file path. Received: {path!r}")
    source = Path(path)
    suffix = _suffix(source)
    if suffix == ".py":
        raise ValueError(
            f"{source}: a .py export is code; import it (`from tuned import compile_kwargs`) "
            "instead. load_config reads the .json and .yaml exports"
        )
    if not source.is_file():
        raise FileNotFoundError(f"no config file at {str(source)!r}")
    text = source.read_text(encoding="utf-8")
    data = _read_json(text, source) if suffix == ".json" else _read_yaml(text, source)
    return data, str(source)


class _LongIntegerError(Exception):
    pass


def _json_int(text: str) -> int:
    """``json``'s integer reader, refusing what Python's int/str conversion limit would."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _LongIntegerError(len(text.lstrip("-")))
    return int(text)


def _read_json(text: str, source: Path) -> Any:
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON: {exc}") from None
    except _LongIntegerError as exc:
        raise ValueError(
            f"{source}: holds an integer of {exc.args[0]:,} digits; a config holds integers of "
            f"at most {MAX_INT_DIGITS} digits"
        ) from None
    except RecursionError:  # json nests arrays and objects recursively
        raise ValueError(
            f"{source}: nests far deeper than the {MAX_DEPTH} levels a config may hold"
        ) from None


def _read_yaml(text: str, source: Path) -> Any:
    import yaml

    from adamtune.spaces import BoundedSafeLoader, LimitError

    try:
        # BoundedSafeLoader is a yaml.SafeLoader: plain values only, never a Python object.
        return yaml.load(text, Loader=BoundedSafeLoader)
    except LimitError as exc:
        raise ValueError(
            f"{source}: line {exc.line}: {exc.problem}; a config is far smaller. Check that it "
            "is the file you meant"
        ) from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML (plain values only): {exc}") from None
