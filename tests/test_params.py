"""Trial parameters: batch-size coupling, sampling from a space, and ``hp``."""

from __future__ import annotations

import math
from typing import Any

import pytest

import adamtune
from adamtune.params import (
    HP,
    RESERVED,
    AdamParams,
    DefaultSource,
    FixedSource,
    sample_adam_params,
    scale_for_batch,
)
from adamtune.spaces import FloatRange, LearningRate, Space, load_space

# -- scale_for_batch --------------------------------------------------------------------------


def test_sqrt_rule_doubles_lr_for_four_times_the_batch() -> None:
    assert scale_for_batch(1e-3, 128, 32, "sqrt") == pytest.approx(2e-3)
    assert scale_for_batch(1e-3, 8, 32, "sqrt") == pytest.approx(5e-4)


def test_linear_rule_scales_lr_by_the_batch_ratio() -> None:
    assert scale_for_batch(1e-3, 128, 32, "linear") == pytest.approx(4e-3)
    assert scale_for_batch(1e-3, 16, 32, "linear") == pytest.approx(5e-4)


@pytest.mark.parametrize("kind", ["learning_rate", "beta_1", "beta_2", "epsilon"])
def test_none_rule_and_reference_batch_leave_values_unchanged(kind: str) -> None:
    assert scale_for_batch(0.123, 128, 32, "none", kind=kind) == 0.123
    assert scale_for_batch(0.123, 32, 32, "sqrt", kind=kind) == 0.123
    assert scale_for_batch(0.123, 32, 32, "linear", kind=kind) == 0.123


def test_sqrt_rule_scales_betas_and_epsilon() -> None:
    # k = 4: (1 - beta) grows by k, epsilon shrinks by sqrt(k).
    assert scale_for_batch(0.9, 128, 32, "sqrt", kind="beta_1") == pytest.approx(0.6)
    assert scale_for_batch(0.999, 128, 32, "sqrt", kind="beta_2") == pytest.approx(0.996)
    assert scale_for_batch(1e-7, 128, 32, "sqrt", kind="epsilon") == pytest.approx(5e-8)
    # k = 1/4: betas move towards 1, epsilon grows.
    assert scale_for_batch(0.9, 8, 32, "sqrt", kind="beta_1") == pytest.approx(0.975)
    assert scale_for_batch(1e-7, 8, 32, "sqrt", kind="epsilon") == pytest.approx(2e-7)


def test_sqrt_rule_keeps_beta_inside_zero_one() -> None:
    # (1 - 0.5) * 64 would push beta far below 0; it is capped at 1 - 0.999.
    beta = scale_for_batch(0.5, 2048, 32, "sqrt", kind="beta_1")
    assert beta == pytest.approx(0.001)
    assert 0 < beta < 1


def test_linear_rule_leaves_betas_and_epsilon_alone() -> None:
    assert scale_for_batch(0.9, 128, 32, "linear", kind="beta_1") == 0.9
    assert scale_for_batch(1e-7, 128, 32, "linear", kind="epsilon") == 1e-7


def test_scale_for_batch_refuses_unknown_rule_and_kind() -> None:
    with pytest.raises(
        ValueError, match=r"`rule` must be one of none, linear, sqrt\. Received: rule='cubic'"
    ):
        scale_for_batch(1e-3, 128, 32, "cubic")
    with pytest.raises(ValueError, match=r"`kind` must be one of .*Received: kind='momentum'"):
        scale_for_batch(0.9, 128, 32, "sqrt", kind="momentum")
    # also when the value would not change, so a typo cannot hide behind k == 1
    with pytest.raises(ValueError, match=r"kind='beta1'"):
        scale_for_batch(0.9, 32, 32, "sqrt", kind="beta1")


# -- sample_adam_params -----------------------------------------------------------------------


def _space(**overrides: Any) -> Space:
    fields: dict[str, Any] = {
        "name": "t",
        "learning_rate": LearningRate(1e-4, 1e-2, reference_batch_size=32, rule="sqrt"),
        "batch_size": (128,),
        "regularizer": {"l2": FloatRange(1e-6, 1e-2, log=True)},
        "batch_norm": (True,),
        "scaling": ("standard",),
    }
    fields.update(overrides)
    return Space(**fields)


def test_default_source_takes_the_middle_and_couples_lr_to_batch() -> None:
    params = sample_adam_params(_space(), DefaultSource())
    assert params.batch_size == 128
    assert params.base_learning_rate == pytest.approx(1e-3)  # geometric middle of 1e-4..1e-2
    assert params.learning_rate == pytest.approx(2e-3)  # sqrt(128 / 32) = 2
    assert params.regularizer == "l2"
    assert params.regularizer_strength == pytest.approx(1e-4)
    assert params.batch_norm is True
    assert params.scaling == "standard"
    assert (params.beta_1, params.beta_2, params.epsilon) == (0.9, 0.999, 1e-7)


def test_default_source_on_the_quick_space() -> None:
    params = sample_adam_params(load_space("quick"), DefaultSource())
    # first choice of each list; the reference batch size, so no scaling
    assert params.batch_size == 32
    assert params.regularizer == "none"
    assert params.regularizer_strength == 0.0
    assert params.batch_norm is False
    assert params.scaling == "none"
    assert params.learning_rate == params.base_learning_rate
    assert params.learning_rate == pytest.approx(math.sqrt(1e-4 * 1e-1))


def test_sampled_adam_constants_are_scaled_under_sqrt() -> None:
    space = _space(
        beta_1=FloatRange(0.9, 0.9),
        beta_2=FloatRange(0.999, 0.999),
        epsilon=FloatRange(1e-7, 1e-7, log=True),
    )
    params = sample_adam_params(space, DefaultSource())
    assert params.beta_1 == pytest.approx(0.6)
    assert params.beta_2 == pytest.approx(0.996)
    assert params.epsilon == pytest.approx(5e-8)


def test_linear_rule_in_the_space_is_used() -> None:
    space = _space(learning_rate=LearningRate(1e-4, 1e-2, reference_batch_size=32, rule="linear"))
    assert sample_adam_params(space, DefaultSource()).learning_rate == pytest.approx(4e-3)


def test_fixed_source_reproduces_a_stored_trial() -> None:
    space = load_space("default")
    values = {
        "batch_size": 128,
        "base_learning_rate": 1e-3,
        "regularizer": "adamw",
        "adamw_strength": 0.01,
        "batch_norm": True,
        "scaling": "robust",
        "schedule": "constant",  # the default space's choice (a constant rate draws no more)
    }
    params = sample_adam_params(space, FixedSource(values))
    assert params.learning_rate == pytest.approx(2e-3)
    assert params == AdamParams(
        learning_rate=params.learning_rate,
        batch_size=128,
        regularizer="adamw",
        regularizer_strength=0.01,
        batch_norm=True,
        scaling="robust",
        base_learning_rate=1e-3,
    )


def test_fixed_source_missing_name_says_what_it_holds() -> None:
    source = FixedSource({"units": 32, "dropout": 0.1}, what="trial 7")
    with pytest.raises(
        KeyError,
        match=r"model_fn asked for parameter 'layers', which trial 7 does not hold "
        r"\(it holds: dropout, units\)\. Was the model_fn changed after the search\?",
    ):
        source.int("layers", 1, 3, 1, False)
    with pytest.raises(KeyError, match=r"\(it holds: none\)"):
        FixedSource({}).float("lr", 0.1, 1.0, False)


def test_fixed_source_missing_space_parameter_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"parameter 'batch_size', which the tuned config"):
        sample_adam_params(load_space("default"), FixedSource({"base_learning_rate": 1e-3}))


# -- HP ---------------------------------------------------------------------------------------


def _hp(source: Any = None, **adam: Any) -> HP:
    fields: dict[str, Any] = {"learning_rate": 1e-3, "batch_size": 32}
    fields.update(adam)
    return HP(AdamParams(**fields), source if source is not None else DefaultSource())


def test_hp_exposes_the_trial_choices() -> None:
    hp = _hp(batch_size=64, scaling="minmax", batch_norm=True)
    assert adamtune.HP is HP
    assert hp.learning_rate == 1e-3
    assert hp.batch_size == 64
    assert hp.scaling == "minmax"
    assert hp.used_batch_norm is False
    assert hp.batch_norm is True
    assert hp.used_batch_norm is True


def test_hp_regularizer_marks_it_used_and_returns_keras_objects() -> None:
    import keras

    hp = _hp(regularizer="l2", regularizer_strength=1e-3)
    assert hp.used_regularizer is False
    reg = hp.regularizer()
    assert hp.used_regularizer is True
    assert isinstance(reg, keras.regularizers.L2)
    assert reg.get_config()["l2"] == pytest.approx(1e-3)
    assert _hp(regularizer="adamw", regularizer_strength=1e-3).regularizer() is None
    assert _hp(regularizer="none").regularizer() is None


def test_hp_records_user_params() -> None:
    hp = _hp()
    assert hp.int("units", 8, 64) == 36  # the middle of the range
    assert hp.float("dropout", 0.0, 0.5) == pytest.approx(0.25)
    assert hp.float("l_rate_head", 1e-4, 1e-2, log=True) == pytest.approx(1e-3)
    assert hp.choice("act", ["relu", "tanh"]) == "relu"
    assert hp.user_params == {
        "units": 36,
        "dropout": pytest.approx(0.25),
        "l_rate_head": pytest.approx(1e-3),
        "act": "relu",
    }
    params = hp.params
    assert params["units"] == 36 and params["learning_rate"] == 1e-3 and params["batch_size"] == 32
    assert "units" in repr(hp)


def test_hp_with_fixed_source_replays_values() -> None:
    hp = _hp(FixedSource({"units": 48, "act": "tanh"}))
    assert hp.int("units", 8, 64) == 48
    assert hp.choice("act", ["relu", "tanh"]) == "tanh"
    assert hp.user_params == {"units": 48, "act": "tanh"}


@pytest.mark.parametrize("name", sorted(RESERVED - {"learning_rate"}))
def test_hp_refuses_reserved_names(name: str) -> None:
    with pytest.raises(ValueError, match=rf"hp parameter name '{name}' is used by adamtune itself"):
        _hp().float(name, 0.1, 1.0)


def test_a_float_named_learning_rate_is_the_trials_learning_rate() -> None:
    hp = _hp()
    assert hp.float("learning_rate", 0.1, 1.0) == hp.learning_rate  # not in its range: the trial's
    assert hp.user_params == {} and hp.answered_learning_rate
    with pytest.raises(ValueError, match=r"hp parameter name 'learning_rate' is used by adamtune"):
        hp.int("learning_rate", 1, 10)
    with pytest.raises(ValueError, match=r"hp parameter name 'learning_rate' is used by adamtune"):
        hp.choice("learning_rate", [0.1, 0.01])


def test_hp_refuses_asking_twice() -> None:
    hp = _hp()
    hp.int("units", 8, 64)
    with pytest.raises(ValueError, match=r"hp parameter 'units' was asked for twice"):
        hp.int("units", 8, 64)
    with pytest.raises(ValueError, match=r"asked for twice"):
        hp.choice("units", [1, 2])


@pytest.mark.parametrize("name", ["", None, 3])
def test_hp_refuses_bad_names(name: Any) -> None:
    with pytest.raises(TypeError, match=r"hp parameter names must be non-empty strings"):
        _hp().int(name, 1, 2)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (
            lambda hp: hp.int("n", 5, 2),
            ValueError,
            r"hp\.int\('n'\): low must be <= high\. Received: 5, 2",
        ),
        (
            lambda hp: hp.int("n", 0, 8, log=True),
            ValueError,
            r"hp\.int\('n'\): low must be > 0 with log=True",
        ),
        (lambda hp: hp.int("n", 1, 8, step=0), ValueError, r"hp\.int\('n'\): step must be >= 1"),
        (
            lambda hp: hp.int("n", 1.0, 8),
            TypeError,
            r"hp\.int\('n'\): `low` must be an int\. Received: 1\.0",
        ),
        (lambda hp: hp.int("n", 1, True), TypeError, r"hp\.int\('n'\): `high` must be an int"),
        (lambda hp: hp.float("f", 1.0, 0.5), ValueError, r"hp\.float\('f'\): low must be <= high"),
        (
            lambda hp: hp.float("f", 0.0, 1.0, log=True),
            ValueError,
            r"hp\.float\('f'\): low must be > 0 with log=True",
        ),
        (
            lambda hp: hp.float("f", 0.0, math.inf),
            ValueError,
            r"hp\.float\('f'\): `high` must be finite",
        ),
        (
            lambda hp: hp.float("f", "0", 1.0),
            TypeError,
            r"hp\.float\('f'\): `low` must be a number",
        ),
        (
            lambda hp: hp.choice("c", []),
            ValueError,
            r"hp\.choice\('c'\): `choices` must be a non-empty list",
        ),
        (
            lambda hp: hp.choice("c", "abc"),
            ValueError,
            r"hp\.choice\('c'\): `choices` must be a non-empty list",
        ),
    ],
)
def test_hp_refuses_bad_ranges(call: Any, error: type[Exception], pattern: str) -> None:
    hp = _hp()
    with pytest.raises(error, match=pattern):
        call(hp)
    assert hp.user_params == {}  # a refused request is not recorded


@pytest.mark.parametrize("bad", [[1, 2], (1,), {"a": 1}, object(), b"bytes"])
def test_hp_choice_refuses_values_a_study_cannot_store(bad: Any) -> None:
    with pytest.raises(
        TypeError,
        match=rf"hp\.choice\('c'\): choices must be None, bool, int, float or str so a study can "
        rf"store them\. Received: .* \({type(bad).__name__}\)",
    ):
        _hp().choice("c", ["ok", bad])


def test_hp_choice_accepts_storable_values() -> None:
    assert _hp().choice("c", [None, True, 1, 2.5, "x"]) is None


def test_default_source_picks_the_middle_on_the_step_grid() -> None:
    from adamtune.params import DefaultSource

    source = DefaultSource()
    assert source.int("a", 8, 64, 1, False) == 36
    assert source.int("b", 32, 256, 1, True) == 91  # geometric middle
    assert source.int("c", 0, 10, 4, False) == 4  # on the grid 0, 4, 8
