"""How big each system measurement is: the ``Plan`` of every suite, and the check of a suite's
name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from systems_stats import RSS_WARM_UP


@dataclass(frozen=True)
class Plan:
    """How big each measurement is for one suite."""

    overhead_trials: int
    overhead_epochs: int
    overhead_rounds: int  # each round: the search, the tf.data loop and the NumPy loop
    rss_warm_up: int  # trials before the measured ones (left out of the slope)
    rss_measured: int  # trials in the slope; a per-100 figure needs RSS_MIN_MEASURED
    rss_train: int  # training samples of the tiny RSS trials (validation: a quarter of that)
    parallel_trials: int
    parallel_epochs: int
    parallel_tile: int  # digits repeated this many times (with noise) so a trial lasts >= ~1 s
    parallel_rounds: int  # pairs of 1- and 2-worker runs, in ABBA order

    @property
    def rss_trials(self) -> int:
        return self.rss_warm_up + self.rss_measured


# Seconds on the 2-core benchmark VM with about one core taken by other work (30 Nov 2026): a
# 12 x 2-epoch search ~8 s, the tf.data loop over its configs ~7 s, the NumPy loop ~9 s (the
# quick overhead measurement, warm-up included: 57 s); a tiny RSS trial ~0.55 s (110 trials:
# 62 s); a CLI trial at tile 4 ~1-1.3 s with 1 worker (results/quick.json), each CLI run
# ~5-10 s of start-up on top (smoke: 5 s for 1 worker, 8 s for 2).
SUITES: dict[str, Plan] = {
    "smoke": Plan(
        overhead_trials=2,
        overhead_epochs=1,
        overhead_rounds=2,
        rss_warm_up=2,
        rss_measured=4,
        rss_train=128,
        parallel_trials=2,
        parallel_epochs=1,
        parallel_tile=1,
        parallel_rounds=1,
    ),
    # ~4.5 min: overhead ~1, RSS (110 trials) ~1, parallel (2 x 2 runs of 24 trials) ~2.5.
    "quick": Plan(
        overhead_trials=12,
        overhead_epochs=2,
        overhead_rounds=2,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=100,
        rss_train=256,
        parallel_trials=24,
        parallel_epochs=1,
        parallel_tile=4,
        parallel_rounds=2,
    ),
    # ~7.5 min (at most ~12 on a contended machine): overhead (4 rounds) ~3, RSS ~1, parallel
    # (2 x 2 runs of 48 trials) ~4.
    "standard": Plan(
        overhead_trials=20,
        overhead_epochs=2,
        overhead_rounds=4,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=100,
        rss_train=256,
        parallel_trials=48,
        parallel_epochs=1,
        parallel_tile=4,
        parallel_rounds=2,
    ),
    "full": Plan(
        overhead_trials=50,
        overhead_epochs=5,
        overhead_rounds=4,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=200,
        rss_train=256,
        parallel_trials=60,
        parallel_epochs=1,
        parallel_tile=8,
        parallel_rounds=3,
    ),
}


def check_suite(suite: Any) -> Plan:
    """The plan of ``suite``, or a ValueError naming the suites there are."""
    if not isinstance(suite, str) or suite not in SUITES:
        raise ValueError(
            f"`suite` must be one of {', '.join(SUITES)}. Received: {suite!r}. "
            "Pass one of those names (run.py's --suite)."
        )
    return SUITES[suite]
