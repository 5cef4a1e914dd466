"""Learning-rate schedules in the space (issue 19): warmup, cosine and linear decay, built from
Keras' own schedules over each trial's real step count, recorded, exported and loaded back."""

from __future__ import annotations

import json
import math
import runpy
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml
from conftest import digits_mlp, fixed_space

import adamtune
from adamtune.params import AdamParams, learning_rate_schedule
from adamtune.result import load_config
from adamtune.spaces import FloatRange, Space

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FILE = {
    "version": 1,
    "name": "scheduled",
    "learning_rate": {"low": 1e-4, "high": 1e-2},
    "batch_size": [32, 64],
    "regularizer": {"none": None},
    "schedule": ["constant", "cosine", "linear"],
    "warmup": {"low": 0.0, "high": 0.1},
    "decay_to": {"low": 0.0, "high": 0.2},
}


def test_a_space_file_with_schedules_round_trips() -> None:
    space = Space.from_dict(FILE, "scheduled.yaml")
    assert space.schedule == ("constant", "cosine", "linear")
    assert space.warmup == FloatRange(0.0, 0.1, log=False)
    assert space.decay_to == FloatRange(0.0, 0.2, log=False)
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space
    assert Space.from_dict(tomllib.loads(space.to_toml())) == space


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schedule": ["step"]}, r"`schedule\[0\]`: must be one of constant, cosine, linear"),
        ({"warmup": {"low": 0.0, "high": 0.8}}, r"`warmup`: must lie in \[0, 0.5\]"),
        ({"decay_to": {"low": -0.1, "high": 0.1}}, r"`decay_to`: must lie in \[0, 1\]"),
        (
            {"schedule": ["linear"]},
            r"`warmup`: applies to the constant and cosine schedules \(Keras' linear decay has "
            r"no warmup\); the space's schedule lists \['linear'\]",
        ),
        (
            {"schedule": ["constant"]},
            r"`decay_to`: is where a cosine or linear schedule ends; the space's schedule lists",
        ),
    ],
)
def test_a_bad_schedule_field_is_refused_by_name(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"^bad\.yaml: field " + message):
        Space.from_dict({**FILE, **changes}, "bad.yaml")


@pytest.mark.parametrize(
    ("schedules", "message"),
    [
        (["linear"], r"`warmup.schedules\[0\]`: must be a schedule the space lists that can warm "
         r"up: one of \['constant', 'cosine'\] \(Keras' linear decay has no warmup\)\. "
         r"Received: 'linear'"),
        (["step"], r"`warmup.schedules\[0\]`: .* Received: 'step'"),
        ([], r"`warmup.schedules`: must list at least one choice"),
        ("cosine", r"`warmup.schedules`: must be a list of choices"),
    ],
)  # fmt: skip
def test_warmup_names_only_schedules_the_space_lists_that_can_warm_up(
    schedules: Any, message: str
) -> None:
    bad = {**FILE, "warmup": {"low": 0.0, "high": 0.1, "schedules": schedules}}
    with pytest.raises(ValueError, match=r"^bad\.yaml: field " + message):
        Space.from_dict(bad, "bad.yaml")
    only_cosine = {**FILE, "schedule": ["constant", "linear"], "warmup": {**FILE["warmup"],
                   "schedules": ["cosine"]}}  # fmt: skip
    with pytest.raises(ValueError, match=r"one of \['constant'\] .* Received: 'cosine'"):
        Space.from_dict(only_cosine, "bad.yaml")


def test_the_default_space_is_constant_or_cosine_with_warmup_and_only_cosine_warms_up() -> None:
    """The shipped default: a constant rate (no warmup drawn) or a cosine decay after a warmup;
    the choice round-trips through every file form."""
    space = adamtune.load_space("default")
    assert space.schedule == ("constant", "cosine")
    assert space.warmup_schedules == ("cosine",)
    assert space.schedule_ranges("constant") == {}
    assert space.schedule_ranges("cosine") == {
        "warmup": FloatRange(0.0, 0.1),
        "decay_to": FloatRange(0.0, 0.1),
    }
    assert space.to_dict()["warmup"] == {"low": 0.0, "high": 0.1, "log": False,
                                         "schedules": ["cosine"]}  # fmt: skip
    assert Space.from_dict(yaml.safe_load(space.to_yaml())) == space
    assert Space.from_dict(tomllib.loads(space.to_toml())) == space
    # Without `schedules`, warmup stays with each schedule that can warm up.
    every = Space.from_dict(FILE)
    assert (every.warmup_schedules, set(every.schedule_ranges("constant"))) == (None, {"warmup"})
    assert set(every.schedule_ranges("linear")) == {"decay_to"}


def _at(schedule: Any, step: int) -> float:
    return float(schedule(step))


def test_the_schedules_rise_over_the_warmup_then_hold_or_fall_to_their_end() -> None:
    peak = 1e-2
    cosine = learning_rate_schedule(
        AdamParams(peak, 32, schedule="cosine", warmup=0.1, decay_to=0.1, decay_steps=100)
    )
    assert type(cosine).__name__ == "CosineDecay"
    assert _at(cosine, 0) == 0.0
    assert _at(cosine, 5) == pytest.approx(peak / 2)
    assert _at(cosine, 10) == pytest.approx(peak)
    assert _at(cosine, 55) == pytest.approx(peak * (0.1 + 0.9 * 0.5), rel=1e-5)
    assert _at(cosine, 100) == pytest.approx(peak * 0.1)
    held = learning_rate_schedule(AdamParams(peak, 32, warmup=0.2, decay_steps=50))
    assert [_at(held, s) for s in (0, 5, 10, 30, 50)] == pytest.approx(
        [0, peak / 2, peak, peak, peak]
    )
    linear = learning_rate_schedule(
        AdamParams(peak, 32, schedule="linear", decay_to=0.0, decay_steps=40)
    )
    assert type(linear).__name__ == "PolynomialDecay"
    assert [_at(linear, s) for s in (0, 20, 40)] == pytest.approx([peak, peak / 2, 0.0])
    assert learning_rate_schedule(AdamParams(peak, 32)) == peak  # constant: a plain number
    with pytest.raises(
        ValueError, match=r"a cosine schedule with warmup 0 needs the trial's number"
    ):
        learning_rate_schedule(AdamParams(peak, 32, schedule="cosine"))


def test_a_search_trains_on_a_schedule_over_its_steps_and_the_export_carries_it(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits
    space = fixed_space(
        lr=3e-3,
        batch=64,
        epochs=3,
        schedule=("cosine",),
        warmup=FloatRange(0.1, 0.1),
        decay_to=FloatRange(0.05, 0.05),
    )
    result = adamtune.search(
        digits_mlp,
        (x[:600], y[:600]),
        space=space,
        trials=2,
        epochs=3,
        verbose=0,
        seed=0,
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    best = result.best
    steps = math.ceil(480 / 64)  # 600 samples, 20% held out for validation
    assert (best.adam.schedule, best.adam.warmup, best.adam.decay_to) == ("cosine", 0.1, 0.05)
    assert best.adam.decay_steps == 3 * steps  # every epoch of the trial, at its batch size
    assert "cosine to 0.05x, 10% warmup" in repr(best)
    assert "  schedule:       cosine to 0.05x, 10% warmup (2 warmup steps of 24)" in str(best)
    for path in (tmp_path / "tuned.json", tmp_path / "tuned.yaml"):
        loaded = load_config(best.export(path))
        assert loaded.adam == best.adam
        schedule = loaded.compile_kwargs()["optimizer"].get_config()["learning_rate"]
        assert schedule["class_name"] == "CosineDecay"
        assert schedule["config"] == learning_rate_schedule(best.adam).get_config()
    page = result.report(tmp_path / "report.html").read_text()
    assert "<h3>Learning rate over the trial's steps</h3><img" in page.replace("&#x27;", "'")
    snippet = runpy.run_path(str(best.export(tmp_path / "tuned.py")))
    for _ in range(2):  # the snippet's config is not consumed by building an optimizer from it
        made = snippet["compile_kwargs"]()["optimizer"].get_config()["learning_rate"]
        assert made["config"]["warmup_steps"] == round(0.1 * 3 * steps)

    data = json.loads((tmp_path / "tuned.json").read_text())
    data["optimizer"]["config"]["learning_rate"]["config"]["decay_steps"] += 1
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(
        ValueError, match=r"learning_rate.config.decay_steps`: must be \d+, as adam"
    ):
        load_config(tmp_path / "bad.json")
    data = json.loads((tmp_path / "tuned.json").read_text())
    del data["adam"]["decay_steps"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"`adam.decay_steps`: is required by a cosine schedule"):
        load_config(tmp_path / "bad.json")


def test_first_trials_may_start_on_a_schedule_the_space_searches(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits

    def start(space: Any, first: dict[str, Any], **options: Any) -> Any:
        return adamtune.search(
            digits_mlp, (x[:300], y[:300]), space=space, trials=1, epochs=2, verbose=0,
            first_trials=[first], **options,
        )  # fmt: skip

    with pytest.raises(ValueError, match=r"first_trials\[0\]\['warmup'\]` must be 0 to 0.1"):
        start(Space.from_dict(FILE), {"schedule": "cosine", "warmup": 0.3})
    with pytest.raises(
        ValueError, match=r"first_trials\[0\]\['schedule'\]` must be one of \['constant'\]"
    ):
        start("quick", {"schedule": "cosine"})
    storage = f"sqlite:///{tmp_path / 's.db'}"
    result = start(Space.from_dict(FILE), {"schedule": "linear", "decay_to": 0.1}, storage=storage)
    table = result.trials
    assert (table["schedule"][0], table["decay_to"][0]) == ("linear", 0.1)


def test_a_default_search_draws_warmup_only_for_cosine_trials(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    """On the default space a constant trial never warms up and a cosine one carries its own
    warmup and end; a first trial asking a constant rate to warm up is refused by name."""
    x, y = digits
    data = (x[:300], y[:300])
    with pytest.raises(
        ValueError,
        match=r"first_trials\[0\]\['warmup'\]` must be left out: the space does not search it "
        r"for constant",
    ):
        adamtune.search(digits_mlp, data, trials=1, epochs=1, verbose=0,
                        first_trials=[{"schedule": "constant", "warmup": 0.05}])  # fmt: skip
    result = adamtune.search(
        digits_mlp, data, trials=8, epochs=1, verbose=0, strategy="random", seed=3
    )
    table = result.trials
    kinds = list(table["schedule"])
    assert set(kinds) == {"constant", "cosine"}, kinds
    for kind, warmup in zip(kinds, table["warmup"], strict=True):
        assert (warmup == 0.0) if kind == "constant" else 0.0 <= warmup <= 0.1
    params = [set(t.params) for t in result.study.trials]
    assert not any("constant_warmup" in p for p in params)
    assert any("cosine_warmup" in p and "cosine_decay_to" in p for p in params)


def _unknown_length_stream(n: int = 3000) -> tuple[Any, Any]:
    """A batched tf.data stream whose length tf.data cannot know (a filter), longer than the
    sample adamtune reads, and a validation stream."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 64)).astype("float32")
    y = rng.integers(0, 10, n).astype("int64")
    train = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(64)
    val = tf.data.Dataset.from_tensor_slices((x[:200], y[:200])).batch(64)
    return train, val


def test_a_schedule_on_a_stream_spans_the_steps_its_epochs_have(tmp_path: Path) -> None:
    """A stream of unknown length already needs steps_per_epoch (refused before anything is
    stored); given it, the schedule spans those steps, re-counted at the trial's batch size."""
    train, val = _unknown_length_stream()
    space = fixed_space(lr=3e-3, batch=64, epochs=2, schedule=("cosine",))
    db = tmp_path / "s.db"
    options: dict[str, Any] = dict(
        space=space, trials=1, epochs=2, verbose=0, storage=f"sqlite:///{db}"
    )
    with pytest.raises(ValueError, match=r"`steps_per_epoch` is needed"):
        adamtune.search(digits_mlp, (train, val), **options)
    assert not db.exists()
    result = adamtune.search(digits_mlp, (train, val), steps_per_epoch=20, **options)
    assert result.best.adam.decay_steps == 2 * math.ceil(20 * 32 / 64)  # steps at batch 32


def test_building_the_optimizer_leaves_the_config_it_came_from_as_it_was(tmp_path: Path) -> None:
    """Keras builds a schedule inside the config dict it deserializes, in place: compile_kwargs()
    and the doctor must not turn a config's (or a user's) dict into objects."""
    from adamtune.result import TunedConfig
    from adamtune.training import make_optimizer

    adam = AdamParams(1e-3, 32, schedule="cosine", decay_to=0.1, decay_steps=50)
    config = TunedConfig(
        adam=adam,
        epochs=2,
        optimizer=keras.optimizers.serialize(make_optimizer(adam)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    config.compile_kwargs()
    config.compile_kwargs()
    again = load_config(config.export(tmp_path / "again.json"))
    assert again.optimizer == config.optimizer
    user = keras.optimizers.serialize(
        keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.01, 10))
    )
    before = json.dumps(user)
    from adamtune.doctor._optimizer import resolve_optimizer

    resolve_optimizer(user).build()
    assert json.dumps(user) == before


def test_training_longer_rebuilds_the_same_schedule_over_more_steps() -> None:
    """What the README says to do when training past the search's epochs."""
    import dataclasses

    from adamtune.training import make_optimizer

    adam = AdamParams(1e-2, 32, schedule="cosine", warmup=0.1, decay_to=0.1, decay_steps=100)
    longer = make_optimizer(dataclasses.replace(adam, decay_steps=1000))
    schedule = keras.optimizers.schedules.deserialize(longer.get_config()["learning_rate"])
    assert [float(schedule(s)) for s in (100, 1000)] == pytest.approx([1e-2, 1e-3])


def test_compile_kwargs_spreads_the_schedule_over_the_steps_you_will_train() -> None:
    """compile_kwargs(total_steps=...): the same schedule over a longer run (warmup 10% of it,
    the peak there, the end at 0.1x); None keeps the trial's; a constant rate is left alone."""
    from adamtune.result import TunedConfig
    from adamtune.training import make_optimizer

    def config(adam: AdamParams) -> TunedConfig:
        return TunedConfig(
            adam=adam,
            epochs=3,
            optimizer=keras.optimizers.serialize(make_optimizer(adam)),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    cfg = config(AdamParams(1e-2, 32, schedule="cosine", warmup=0.1, decay_to=0.1, decay_steps=100))

    def rates(optimizer: Any, steps: tuple[int, ...]) -> list[float]:
        schedule = keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
        return [float(schedule(s)) for s in steps]

    as_trial = cfg.compile_kwargs()["optimizer"]
    assert rates(as_trial, (10, 100, 500)) == pytest.approx([1e-2, 1e-3, 1e-3])
    longer = cfg.compile_kwargs(total_steps=1000)["optimizer"]
    assert rates(longer, (50, 100, 1000)) == pytest.approx([5e-3, 1e-2, 1e-3])
    assert cfg.adam.decay_steps == 100  # the config itself is unchanged
    flat = config(AdamParams(3e-3, 32)).compile_kwargs(total_steps=1000)["optimizer"]
    assert float(flat.get_config()["learning_rate"]) == pytest.approx(3e-3)
    with pytest.raises(ValueError, match=r"`total_steps` must be a positive integer .*=0"):
        cfg.compile_kwargs(total_steps=0)
    with pytest.raises(TypeError, match=r"`total_steps` must be a positive integer.* float"):
        cfg.compile_kwargs(total_steps=10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ["random", "kt-hyperband"])
def test_the_schedules_space_runs_every_trial_on_the_optimizer_it_records(
    strategy: str, digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    from adamtune._record import TrialRecord
    from adamtune.params import schedule_config

    x, y = digits
    storage = (
        str(tmp_path / "kt") if strategy.startswith("kt") else f"sqlite:///{tmp_path / 's.db'}"
    )
    result = adamtune.search(
        digits_mlp,
        (x[:600], y[:600]),
        space="schedules",
        trials=6,
        epochs=2,
        verbose=0,
        seed=1,
        strategy=strategy,
        storage=storage,
    )
    assert not {"crashed-error", "crashed-oom"} & set(result.outcomes), result.trials
    seen = set()
    for trial in result.study.get_trials(deepcopy=False):
        record = TrialRecord.from_attrs(trial.user_attrs)
        if record.adam is None or record.optimizer is None:
            continue
        adam = AdamParams(**record.adam)
        seen.add(adam.schedule)
        want = (
            "Nadam"
            if adam.optimizer == "nadam"
            else "AdamW"
            if adam.regularizer == "adamw"
            else "Adam"
        )
        assert record.optimizer["class_name"] == want
        lr = record.optimizer["config"]["learning_rate"]
        spec = schedule_config(adam)  # Keras' class and arguments, known without Keras
        assert (lr["class_name"] if isinstance(lr, dict) else None) == (spec and spec[0])
        if spec is not None:
            assert {k: lr["config"][k] for k in spec[1]} == pytest.approx(spec[1])
        assert adam.decay_steps is None or adam.decay_steps == 2 * math.ceil(480 / adam.batch_size)
    assert len(seen) >= 2, seen


@pytest.mark.parametrize(
    "adam",
    [
        AdamParams(1e-2, 32, schedule="cosine", warmup=0.1, decay_to=0.1, decay_steps=97),
        AdamParams(3e-3, 32, schedule="cosine", decay_to=0.0, decay_steps=50),
        AdamParams(1e-3, 32, warmup=0.25, decay_steps=40),
        AdamParams(1e-2, 32, schedule="linear", decay_to=0.05, decay_steps=60),
        AdamParams(1e-2, 32),
    ],
)
def test_the_report_draws_the_schedule_keras_trains_with(adam: AdamParams) -> None:
    """schedule_values (no Keras: the report reads a study without TensorFlow) gives Keras'
    schedule's value at every step, and past the end."""
    from adamtune.params import schedule_values

    steps = list(range(0, (adam.decay_steps or 10) + 5))
    made = learning_rate_schedule(adam)
    keras_values = [float(made(s)) if callable(made) else made for s in steps]
    assert schedule_values(adam, steps) == pytest.approx(keras_values, rel=1e-5, abs=1e-12)
