"""The doctor's stability findings: ``warmup-needed`` (a run that fails early at a learning rate
that trains once warmed up to) and ``exploding-gradients`` (the gradient norm grows by orders of
magnitude, or the loss spikes), each backed by a remedy probe (the same run warmed up, or
clipped) and a healthy twin that stays silent; and the optimizer the doctor reads: a schedule's
peak, not its first step's rate.

The verdict rules run on constructed probes (fast); the diagnoses train real Keras models (slow).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import digits_mlp
from test_examples import load_example

from adamtune.doctor import Diagnosis, diagnose
from adamtune.doctor._findings import Finding
from adamtune.doctor._optimizer import resolve_optimizer
from adamtune.doctor._probes import TrainingProbe, checkpoint_steps
from adamtune.doctor._remedies import run_remedies
from adamtune.doctor._stability import (
    CURE_GAIN,
    GRAD_GROWTH,
    SPIKE_WINDOW,
    Remedy,
    early_failure,
    exploding,
    exploding_finding,
    symptomatic,
    warmup_finding,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

Arrays = tuple[np.ndarray, np.ndarray]


def probe(
    *,
    losses: list[float] | None = None,
    data_loss: list[float] | None = None,
    norms: list[float] | None = None,
    start: float = 2.3,
    val_accuracy: list[float] | None = None,
) -> TrainingProbe:
    """A training probe as run_probe returns it: the running loss is the step losses' mean."""
    steps = losses or [2.3 - 0.01 * i for i in range(60)]
    running = [float(np.mean(steps[: i + 1])) for i in range(len(steps))]
    norms = norms or [1.0, 0.8, 0.6]
    history: dict[str, list[float]] = {"data_loss": data_loss or [1.5, 1.0, 0.8]}
    if val_accuracy is not None:
        history["val_accuracy"] = val_accuracy
    return TrainingProbe(
        history=history,
        batch_losses=running,
        start_data_loss=start,
        start_penalty=0.0,
        data_grad_norm=norms[0],
        penalty_grad_norm=0.0,
        gradients=[],
        kernel_weight_rms=0.1,
        end_penalty=0.0,
        step_losses=list(steps),
        grad_steps=[0, *[1 << k for k in range(len(norms) - 1)]],
        grad_norms=list(norms),
        layer_grad_norms={"dense": list(norms), "dense_1": [n / 2 for n in norms]},
    )


# --- the rules, on constructed probes ----------------------------------------------------------


def test_gradients_are_measured_at_doubling_steps_and_each_epochs_end() -> None:
    assert checkpoint_steps(10, 3) == [1, 2, 4, 8, 10, 16, 20, 30]
    assert checkpoint_steps(1, 1) == [1]


def test_a_healthy_run_shows_no_early_failure_and_no_explosion() -> None:
    healthy = probe()
    assert early_failure(healthy, chance=2.3, steps_per_epoch=20) is None
    assert exploding(healthy) is None


def test_early_failure_blow_up_rise_and_chance() -> None:
    blown = probe(losses=[2.3, 2.3, 50.0, 80.0] + [2.0] * 40)
    assert "in the first epoch" in (early_failure(blown, 2.3, 20) or "")
    # the same blow-up after the first epoch is not warmup's to cure
    late = probe(losses=[2.3] * 30 + [2000.0] + [2.0] * 10, data_loss=[1.5, 1.0])
    assert early_failure(late, 2.3, steps_per_epoch=20) is None
    rose = probe(losses=[2.3, 3.5, 2.2, 2.1] + [2.0] * 40)
    assert "rose from 2.3 to 2.9 by step 2" in (early_failure(rose, 2.3, 20) or "")
    stuck = probe(data_loss=[2.25, 2.0, 1.9])  # 1.9 > 0.8 x 2.3
    assert "still 1.9 after 3 epoch(s), against 2.3 at chance" in (
        early_failure(stuck, 2.3, 20) or ""
    )
    assert early_failure(stuck, chance=None, steps_per_epoch=20) is None
    # a slow first epoch (its mean holds the untrained steps) that then learns is no failure
    assert early_failure(probe(data_loss=[2.3, 1.3, 0.8]), 2.3, 20) is None


def test_gradient_growth_and_loss_spikes() -> None:
    grown = exploding(probe(norms=[1.0, 3.0, 25.0]))
    assert grown is not None and grown["grew"] and not grown["spikes"]
    assert grown["growth"]["growth"] == pytest.approx(25.0) and grown["growth"]["peak_step"] == 2
    assert grown["growth"]["layer"] == "dense"
    assert exploding(probe(norms=[1.0, GRAD_GROWTH * 0.9])) is None
    calm = [1.0 - 0.01 * i for i in range(40)]
    spiked = [*calm[:30], 6.0, *calm[31:]]  # over 5x the median (~0.8) and the start (1.0)
    found = exploding(probe(losses=spiked))
    assert found is not None and [s["step"] for s in found["spikes"]] == [31]
    # a hard batch late in a run: 5x its recent median, but below where training started
    small = [0.1] * 30 + [0.6] + [0.1] * 9
    assert exploding(probe(losses=[2.3, *small])) is None
    assert len(calm) > SPIKE_WINDOW


def _remedy(end: float, change: str = "the learning rate warmed up", value: float = 45) -> Remedy:
    return Remedy(change, value, probe(data_loss=[1.5, end], val_accuracy=[0.5, 0.9]))


def test_a_remedy_counts_only_when_it_trains_clearly_better() -> None:
    failing = probe(data_loss=[2.3, 2.2], val_accuracy=[0.1, 0.2])
    why = "the loss rose"
    better = (1 - CURE_GAIN) * 2.2 - 0.01
    found = warmup_finding(failing, why, _remedy(better), lr=0.03, warm=45)
    assert found is not None and found.severity == "error"
    assert "at a constant lr 0.03 the loss rose" in found.evidence.lower()
    assert "validation accuracy 0.90 against 0.20" in found.evidence
    assert "warmup_target=0.03, warmup_steps=45" in found.advice
    assert found.data["remedy"]["cured"] is True
    # within noise of the failing run: no finding
    assert warmup_finding(failing, why, _remedy(2.0), lr=0.03, warm=45) is None
    # a remedy probe that raised is no cure
    broken = Remedy("warmup", 45, None, "RuntimeError: boom")
    assert warmup_finding(failing, why, broken, lr=0.03, warm=45) is None
    # a failing run that ended NaN: any run that trains is better
    nan = probe(data_loss=[math.nan])
    assert warmup_finding(nan, why, _remedy(1.0), lr=0.03, warm=45) is not None


def test_exploding_gradients_advice_follows_the_clipping_probe() -> None:
    failing = probe(norms=[1.0, 30.0, 40.0], data_loss=[2.0, 1.9])
    evidence = exploding(failing)
    assert evidence is not None
    cured = exploding_finding(failing, evidence, _remedy(1.0, "global_clipnorm=2.5", 2.5), False)
    assert cured.severity == "warning"
    assert "grew from 1 at initialization to 40 at step 2 (40x)" in cured.evidence
    assert "global_clipnorm=2.5)" in cured.advice
    useless = exploding_finding(failing, evidence, _remedy(1.8, "global_clipnorm=2.5", 2.5), True)
    assert useless.severity == "info"  # growth alone, no spike, no blow-up, no cure
    assert "clipping did not steady this run" in useless.advice
    assert "warm it up (see warmup-needed)" in useless.advice
    already = exploding_finding(failing, evidence, None, False, clips=True)
    assert "already clips" in already.advice and already.data["remedy"] is None
    # growth without a spike or a blow-up: no clipping probe ran, nothing to fix yet
    assert not symptomatic(failing, evidence)
    calm = exploding_finding(failing, evidence, None, False)
    assert calm.severity == "info" and "neither spiked nor blew up" in calm.evidence
    assert "nothing to fix while the loss falls" in calm.advice


# --- the optimizer the doctor reads ------------------------------------------------------------


def test_a_warmup_schedules_peak_is_the_probed_learning_rate() -> None:
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=100, alpha=0.1, warmup_target=0.02, warmup_steps=10
    )
    read = resolve_optimizer(keras.optimizers.Adam(schedule))
    assert read.lr == pytest.approx(0.02) and read.schedule == "CosineDecay"
    assert not read.clips
    constant = resolve_optimizer({"learning_rate": 3e-3, "global_clipnorm": 1.0})
    assert constant.lr == pytest.approx(3e-3) and constant.schedule is None and constant.clips
    warmed = constant.warmed_up(5)
    assert float(warmed.learning_rate) == 0.0  # step 0 of the warmup
    assert warmed.global_clipnorm == 1.0  # everything else kept
    clipped = resolve_optimizer(None).clipped(2.5)
    assert clipped.global_clipnorm == 2.5 and float(clipped.learning_rate) == pytest.approx(1e-3)


# --- real diagnoses ----------------------------------------------------------------------------


def test_warmup_does_not_excuse_a_rate_far_past_the_lr_range() -> None:
    """A warmed-up run that beats the failing one is a cure only near the LR range test's range:
    10x past its top, lr-too-high stays and warmup-needed is a note beside it."""
    failing = probe(losses=[2.3, 30.0, *([25.0] * 58)], data_loss=[2.3, 2.2])
    warmed = probe(data_loss=[1.2, 0.95])
    opt = resolve_optimizer({"learning_rate": 0.5})

    def found(top: float) -> dict[str, Finding]:
        high = Finding("lr-too-high", "error", "e", "a", {"lr": 0.5, "suggested": [top / 10, top]})
        done = run_remedies(
            failing, [high], opt, chance=2.3, steps_per_epoch=45, epochs=3, train=lambda o: warmed
        )
        assert done.ran.startswith("ran: warmup")
        return {f.code: f for f in done.findings}

    far = found(0.0087)  # the KerasTuner guide's MLP on digits at lr 0.5
    assert far["lr-too-high"].severity == "error"
    assert far["warmup-needed"].severity == "info"
    assert "the rate is 57x the top of the LR range test's range" in far["warmup-needed"].evidence
    assert far["warmup-needed"].advice.startswith("lower the learning rate first")
    near = found(0.05)  # exactly LR_FAR x: warmup is the fix
    assert "lr-too-high" not in near and near["warmup-needed"].severity == "error"
    assert near["warmup-needed"].evidence.endswith("trains when it is reached gradually.")


@pytest.fixture(scope="module")
def digits_std() -> Arrays:
    data: Arrays = load_example("doctor_warmup").load_data()
    return data


def wide_mlp() -> Any:
    """examples/doctor_warmup.py's model: two 1024-unit ReLU layers. At lr 0.03 Adam's first
    steps, ~lr on every weight of a wide layer at once, blow the loss up ~10x in a few steps;
    warmed up, the same rate trains."""
    return load_example("doctor_warmup").build_model()


@pytest.fixture(scope="module")
def wide() -> Diagnosis:
    """``python examples/doctor_warmup.py``: the diagnosis the README quotes, from a process of
    its own with TensorFlow's default threads, as the README runs it. The verdict depends on the
    thread count: with ``TF_NUM_INTRAOP_THREADS=1`` (what an in-process ``adamtune search
    --workers 2`` left in the test worker's environment) the constant-rate run ends at data loss
    0.838, not 2.02, and the doctor says lr-too-high instead of warmup-needed."""
    threads = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in threads}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "doctor_warmup.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    return Diagnosis(
        findings=tuple(
            Finding(f["code"], f["severity"], f["evidence"], f["advice"], f["data"])
            for f in found["findings"]
        ),
        lr_range=None,
        curves=found["curves"],
        setup=found["setup"],
        probes=found["probes"],
    )


@pytest.mark.slow  # three 5-epoch trainings of a 1.1M-parameter MLP: ~20 s
def test_warmup_needed_on_a_wide_mlp(wide: Diagnosis) -> None:
    finding = wide["warmup-needed"]
    assert finding.severity == "error", wide.table()
    assert finding.data["remedy"]["cured"] is True
    assert finding.data["remedy"]["end_data_loss"] <= 0.8 * finding.data["remedy"][
        "failing_end_data_loss"
    ] or math.isnan(finding.data["remedy"]["failing_end_data_loss"])
    assert "warmed up from 0 over the first 45 steps" in finding.evidence
    assert "in the first epoch" in finding.evidence
    assert "warmup_target=0.03, warmup_steps=45" in finding.advice
    # the rate trains once reached gradually: it is not reported as too high
    assert "lr-too-high" not in wide, wide.table()
    assert wide.probes["remedies"].startswith("ran: warmup")


@pytest.mark.slow
def test_exploding_gradients_on_a_wide_mlp(wide: Diagnosis) -> None:
    finding = wide["exploding-gradients"]
    assert finding.data["grew"] and finding.data["growth"]["growth"] > GRAD_GROWTH
    assert finding.data["remedy"]["change"].startswith("global_clipnorm=")
    assert "clipping" in wide.probes["remedies"]
    if finding.data["remedy"]["cured"]:
        assert "clip the gradients' global norm" in finding.advice
    else:
        assert "see warmup-needed" in finding.advice


@pytest.mark.slow  # the healthy twins: ~15 s
def test_the_twins_stay_silent(digits_std: Arrays) -> None:
    import keras

    # the same wide MLP and peak rate, warmed up by the user: no warmup probe, no warmup advice
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=180, alpha=1.0, warmup_target=0.03, warmup_steps=45
    )
    warmed = diagnose(
        wide_mlp,
        digits_std,
        optimizer=keras.optimizers.serialize(keras.optimizers.Adam(schedule)),
        lr_range=False,
    )
    assert warmed.setup["learning_rate"] == pytest.approx(0.03)
    assert "warmup-needed" not in warmed and "warmup" not in warmed.probes["remedies"]
    assert "lr-too-high" not in warmed, warmed.table()
    # the guide's digits MLP at Keras' default rate: nothing to remedy
    healthy = diagnose(digits_mlp, digits_std, lr_range=False)
    assert healthy.probes["remedies"] == "not needed"
    assert not {"warmup-needed", "exploding-gradients"} & set(healthy.codes), healthy.table()


# --- a user's model: the Keras example "Text classification with Transformer" ---------------
# (keras.io/examples/nlp/text_classification_with_transformer: its TransformerBlock and
# TokenAndPositionEmbedding as published, two blocks, on sequences whose label is their most
# frequent symbol)


def _keras_example_transformer() -> Any:
    import keras
    from keras import layers, ops

    class TransformerBlock(layers.Layer):  # type: ignore[misc]
        def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, rate: float = 0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs: Any) -> Any:
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):  # type: ignore[misc]
        def __init__(self, maxlen: int, vocab_size: int, embed_dim: int):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x: Any) -> Any:
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    inputs = layers.Input(shape=(24,))
    x = TokenAndPositionEmbedding(24, 9, 32)(inputs)
    for _ in range(2):
        x = TransformerBlock(32, 2, 32)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(8, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def _majority() -> Arrays:
    rng = np.random.default_rng(23)
    x = rng.integers(1, 9, size=(2000, 24))
    counts = np.stack([(x == s).sum(axis=1) for s in range(1, 9)], axis=1)
    return x.astype("int32"), counts.argmax(axis=1).astype("int64")


@pytest.mark.slow  # two 5-epoch trainings of a small Transformer: ~40 s
def test_warmup_needed_on_the_keras_transformer_example() -> None:
    import keras

    diagnosis = diagnose(
        _keras_example_transformer,
        _majority(),
        optimizer=keras.optimizers.Adam(1e-2),
        lr_range=False,
    )
    finding = diagnosis["warmup-needed"]
    assert finding.severity == "error", diagnosis.table()
    assert "at chance level" in finding.evidence or "in the first epoch" in finding.evidence
    assert finding.data["remedy"]["cured"] is True
    # the model that sat at chance: its advice points at the warmup, not at a lower lr
    if "collapsed-to-chance" in diagnosis:
        assert "see warmup-needed" in diagnosis["collapsed-to-chance"].advice
    assert "lr-too-high" not in diagnosis


def test_the_probe_recovers_each_steps_loss_and_measures_the_gradient_at_its_checkpoints(
    digits: Arrays,
) -> None:
    """A real 2-epoch probe: the step losses, weighted by batch size, average to Keras' epoch loss
    (so a spike is read from the step, not from a smoothed mean); the gradient is measured at
    step 0 and at each checkpoint."""
    import keras

    from adamtune.data import prepare_data
    from adamtune.doctor._probes import run_probe
    from adamtune.training import LossSpec

    x, y = digits
    prepared = prepare_data((x / 16.0, y), seed=0)
    keras.utils.set_random_seed(0)
    spec = LossSpec("sparse_categorical_crossentropy", ["accuracy"])
    found = run_probe(
        digits_mlp(), spec, keras.optimizers.Adam(1e-3), prepared, batch_size=100, epochs=2
    )
    n = len(prepared.x_train)
    per_epoch = math.ceil(n / 100)
    sizes = [min(100, n - 100 * i) for i in range(per_epoch)]
    for epoch in range(2):
        steps = found.step_losses[epoch * per_epoch : (epoch + 1) * per_epoch]
        mean = sum(s * w for s, w in zip(steps, sizes, strict=True)) / n
        assert mean == pytest.approx(found.history["loss"][epoch], rel=1e-4)
    assert found.grad_steps == [0, *checkpoint_steps(per_epoch, 2)]
    assert len(found.grad_norms) == len(found.grad_steps)
    assert len(found.layer_grad_norms) == 2  # the two Dense kernels
    assert all(len(v) == len(found.grad_steps) for v in found.layer_grad_norms.values())
    assert found.grad_norms[-1] < found.grad_norms[0]  # a healthy run's gradient shrinks


def _kerastuner_guide_model(hp: Any) -> Any:
    """KerasTuner's "Getting started" build_model(hp), as published (it compiles with 'adam';
    the doctor trains with the optimizer it is given)."""
    import keras
    from keras import layers

    model = keras.Sequential()
    model.add(layers.Flatten())
    model.add(
        layers.Dense(
            # Define the hyperparameter.
            units=hp.Int("units", min_value=32, max_value=512, step=32),
            activation="relu",
        )
    )
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.mark.slow  # the LR range test and three 3-epoch trainings of a small MLP: ~30 s
def test_the_kerastuner_guide_model_at_a_huge_rate_is_told_to_lower_it_not_to_warm_up(
    digits: Arrays,
) -> None:
    import keras

    x, y = digits
    onehot = keras.utils.to_categorical(y, 10)
    found = diagnose(
        _kerastuner_guide_model,
        (x / 16.0, onehot),
        optimizer=keras.optimizers.Adam(0.5),
        epochs=3,
    )
    assert found["lr-too-high"].severity == "error"
    assert found["warmup-needed"].severity == "info", found.table()
    assert found["warmup-needed"].advice.startswith("lower the learning rate first")
    top = found.lr_range[1] if found.lr_range else None
    assert top is not None and 10 * top < 0.5
