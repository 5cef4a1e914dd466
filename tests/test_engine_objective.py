"""The engines run any objective that fills in ``adamtune.engine.TrialObjective``: they never
build, compile or train a model themselves (DESIGN: "an engine adapter knows nothing of Keras
beyond calling the objective"). Here the objective is plain Python: a quadratic in the learning
rate, scored without Keras, so an Optuna study runs without Keras ever being imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_an_optuna_study_runs_a_plain_python_objective_without_keras(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import math, sys
        from dataclasses import dataclass, field
        from adamtune import spaces
        from adamtune.engine import StudyOptions, open_study, TrialRecord
        from adamtune.params import sample_adam_params

        @dataclass
        class Run:
            outcome: str
            value: float | None
            reason: str | None
            epochs_run: int
            history: dict = field(default_factory=dict)
            diverged: bool = False

            def record(self):
                return TrialRecord(outcome=self.outcome, epochs_run=self.epochs_run).to_attrs()

        class Quadratic:
            space = spaces.load_space("quick")
            direction = "minimize"
            epochs = 3
            chance_loss = None
            monitor = "val_data_loss"
            worst = math.inf

            def run(self, source, prune, number=0, epochs=None):
                adam = sample_adam_params(self.space, source)
                curve = []
                for epoch in range(epochs or self.epochs):
                    value = (math.log10(adam.learning_rate) + 3) ** 2 + 1.0 / (epoch + 1)
                    curve.append(value)
                    if prune(value, epoch):
                        return Run("pruned", min(curve), None, epoch + 1, {{self.monitor: curve}})
                return Run("ok", min(curve), None, len(curve), {{self.monitor: curve}})

            def probe(self, source, adam):
                pass

        import optuna
        options = StudyOptions(target=4, log=lambda message, warning=False: None)
        study = open_study(
            optuna.samplers.RandomSampler(seed=0), "sqlite:///{tmp_path / "q.db"}", "q",
            {{"direction": "minimize", "strategy": "random"}}, options, strategy="random",
        )
        study.open(Quadratic())
        study.run(4, None, [], lambda: False)
        assert study.finished() == 4, study.finished()
        outcomes = {{TrialRecord.from_attrs(t.user_attrs).outcome for t in study.view().trials}}
        assert outcomes <= {{"ok", "pruned"}}, outcomes
        heavy = {{"keras", "tensorflow"}} & set(sys.modules)
        assert not heavy, heavy
        print("ran", study.finished())
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran 4" in done.stdout
