"""Imported once by the benchmark's fork server (``run._pool``), so that each job's process starts
with the heavy libraries already in memory. Only imports: nothing here may start TensorFlow's
runtime (no op, no device query), or every forked job would share its thread pools."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The adamtune this checkout holds, whatever folder the benchmark was started from: the server's
# sys.path starts with its working directory, and a job imports adamtune's lazily loaded modules
# when it runs, so a run started from another checkout (say a git worktree run from the main
# one) mixed two trees' code while the other was edited (seen 2 Dec: jobs failed with
# AttributeError until the suite was run from the worktree's own folder).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Before TensorFlow is imported, as ``job.init_worker`` would set them: quiet, one thread each.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"

# The benchmark's own modules (ledger, protocol, tasks, tools) come in with ``job``.
import job
import keras
import keras_tuner
import optuna
import sklearn.preprocessing

import adamtune

__all__ = ["adamtune", "job", "keras", "keras_tuner", "optuna", "sklearn"]
