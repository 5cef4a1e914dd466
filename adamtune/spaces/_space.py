"""The Adam search space as plain, immutable Python objects.

A space file and a :class:`Space` are the same thing: :func:`Space.from_dict` reads the mapping a
file holds and :meth:`Space.to_dict` writes it back, so ``Space.from_dict(s.to_dict()) == s``;
:meth:`Space.to_yaml` and :meth:`Space.to_toml` give a file's text, and
:func:`adamtune.spaces.save_space` writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adamtune.spaces._parts import (
    CLASS_WEIGHTS,
    OPTIMIZERS,
    REGULARIZERS,
    RULES,
    SCALERS,
    SCHEDULES,
    SCHEMA_VERSION,
    FloatRange,
    LearningRate,
)

__all__ = [
    "CLASS_WEIGHTS",
    "OPTIMIZERS",
    "REGULARIZERS",
    "RULES",
    "SCALERS",
    "SCHEDULES",
    "SCHEMA_VERSION",
    "FloatRange",
    "LearningRate",
    "Space",
]


@dataclass(frozen=True)
class Space:
    """What a search may try. Build one in code or load it with :func:`adamtune.load_space`.

    ``regularizer`` maps each allowed type to the range of its strength (``None`` for ``"none"``);
    the strength is conditional on the type. ``class_weight``, when given, searches whether to
    weight classes (``"none"``, ``"balanced"``); ``None`` (absent from a file) leaves it to
    ``search(class_weight=...)``. ``optimizer``, when given, chooses between Adam and Nesterov
    Adam (``"adam"``, ``"nadam"``); ``None`` is Adam. ``global_clipnorm``, when given, searches
    whether to clip the gradients' global norm and, if so, at what norm in that range (Keras'
    ``global_clipnorm``); ``clipnorm`` likewise clips each variable's gradient on its own (Keras'
    ``clipnorm``); with both, a trial clips one way or the other or not at all (Keras takes one);
    ``None`` for both never clips. ``schedule`` chooses how the learning rate runs
    over a trial's steps (``"constant"``, ``"cosine"``, ``"linear"``; ``None``: constant);
    ``warmup`` is the range of the share of a trial's steps spent rising from 0, drawn for the
    schedules in ``warmup_schedules`` (``None``: each of ``constant`` and ``cosine`` listed; Keras'
    linear decay has no warmup); ``None`` is no warmup. ``decay_to`` is the range of the fraction
    of the peak a decaying schedule ends at (``None``: 0). :meth:`schedule_ranges` says which of
    them a schedule draws.
    """

    name: str
    learning_rate: LearningRate
    batch_size: tuple[int, ...]
    regularizer: dict[str, FloatRange | None]
    batch_norm: tuple[bool, ...] = (False, True)
    scaling: tuple[str, ...] = SCALERS
    epochs: int = 20
    beta_1: FloatRange | None = None
    beta_2: FloatRange | None = None
    epsilon: FloatRange | None = None
    description: str = ""
    version: int = SCHEMA_VERSION
    class_weight: tuple[str, ...] | None = None
    optimizer: tuple[str, ...] | None = None
    global_clipnorm: FloatRange | None = None
    schedule: tuple[str, ...] | None = None
    warmup: FloatRange | None = None
    decay_to: FloatRange | None = None
    warmup_schedules: tuple[str, ...] | None = None
    clipnorm: FloatRange | None = None

    def __post_init__(self) -> None:
        # Lists from code compare equal to the tuples a file loads into.
        for key in ("batch_size", "batch_norm", "scaling"):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        for key in ("class_weight", "optimizer", "schedule", "warmup_schedules"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, tuple(getattr(self, key)))
        object.__setattr__(self, "regularizer", dict(self.regularizer))

    def to_dict(self) -> dict[str, Any]:
        """The mapping a space file holds, in the file's key order."""
        out: dict[str, Any] = {"version": self.version, "name": self.name}
        if self.description:
            out["description"] = self.description
        out["learning_rate"] = self.learning_rate.to_dict()
        out["batch_size"] = list(self.batch_size)
        out["regularizer"] = {
            kind: (None if rng is None else rng.to_dict()) for kind, rng in self.regularizer.items()
        }
        out["batch_norm"] = list(self.batch_norm)
        out["scaling"] = list(self.scaling)
        if self.class_weight is not None:
            out["class_weight"] = list(self.class_weight)
        for key in ("optimizer", "schedule"):
            if getattr(self, key) is not None:
                out[key] = list(getattr(self, key))
        out["epochs"] = self.epochs
        for key in (
            "beta_1",
            "beta_2",
            "epsilon",
            "global_clipnorm",
            "clipnorm",
            "warmup",
            "decay_to",
        ):
            rng = getattr(self, key)
            if rng is not None:
                out[key] = rng.to_dict()
        if self.warmup is not None and self.warmup_schedules is not None:
            out["warmup"]["schedules"] = list(self.warmup_schedules)
        return out

    def schedule_ranges(self, kind: str) -> dict[str, FloatRange]:
        """The ranges a trial on schedule ``kind`` draws, by name: ``warmup`` (where ``kind``
        warms up) and ``decay_to`` (where it decays); a trial records each as ``{kind}_{name}``."""
        warms = self.warmup_schedules or ("constant", "cosine")
        out: dict[str, FloatRange] = {}
        if self.warmup is not None and kind in warms:
            out["warmup"] = self.warmup
        if self.decay_to is not None and kind != "constant":
            out["decay_to"] = self.decay_to
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Space:
        """Validate ``data`` field by field; errors name ``source``, the field and what was allowed."""
        from adamtune.spaces._validate import space_fields

        return cls(**space_fields(data, source))

    def to_yaml(self) -> str:
        """The space as a YAML file's text; ``yaml.safe_load`` of it gives :meth:`to_dict`."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None))

    def to_toml(self) -> str:
        """The space as a TOML file's text; ``Space.from_dict(tomllib.loads(text)) == self``.

        TOML has no null, so the strength-less ``none`` regularizer is written as an empty table
        (``[regularizer.none]``, the same as ``none = {}``), which a space file may hold too.
        """
        import tomli_w

        data = self.to_dict()
        data["regularizer"] = {
            kind: ({} if rng is None else rng) for kind, rng in data["regularizer"].items()
        }
        return tomli_w.dumps(data)
