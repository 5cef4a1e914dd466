"""The benchmark's statistics on hand-made records (no TensorFlow): targets, survival curves and
their censored medians, paired comparisons by seed, blown-up R^2, the tables (``tables.py``) and
the plots (``plots.py``)."""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import metrics
import plots
import summary
import tables

INF = math.inf


def rec(
    seed: int,
    tool: str,
    scores: Sequence[float | None],
    test: list[float] | None = None,
    task: str = "t",
) -> dict[str, Any]:
    """One record: a fit of 1 FRE per score, in order; ``test`` its retraining scores."""
    out: dict[str, Any] = {
        "task": task,
        "seed": seed,
        "tool": tool,
        "full_run_examples": 100,
        "fits": [
            {"end": float(i + 1), "examples": 100, "batches": 10, "score": s, "diverged": False}
            for i, s in enumerate(scores)
        ],
        "wall_seconds": 1.0,
        "peak_rss_mb": 10.0,
        "error": None,
        "exported_epochs": 7,
    }
    test = test if test is not None else [scores[-1] if scores[-1] is not None else 0.0]
    out["test_scores"] = test
    out["test_score"] = sum(test) / len(test)
    return out


# --- targets -----------------------------------------------------------------------------------


def test_the_target_is_the_mean_of_the_oracles_top_k_grid_scores() -> None:
    oracle = {"score": 0.99, "scores": [0.9, 0.8, None, 0.7, 0.6, 0.5, 0.4, 0.99]}
    assert metrics.TOP_K == 5
    expected = (0.99 + 0.9 + 0.8 + 0.7 + 0.6) / 5  # None and the worst three left out
    assert metrics.target_for("classification", oracle) == pytest.approx(expected)
    assert metrics.target_for("regression", oracle) == pytest.approx(expected)
    # Fewer grid scores than k: their mean.
    assert metrics.target_for("regression", {"scores": [0.5, None, 0.7]}) == pytest.approx(0.6)


def test_a_tasks_target_is_averaged_over_the_seeds_that_have_one() -> None:
    oracle = {
        "0": {"scores": [0.9] * 5},
        "1": {"scores": [0.7] * 5},
        "2": {"scores": [None, None]},  # this seed's oracle scored nothing: no target
    }
    assert summary.target_mean(oracle, "classification") == pytest.approx(0.8)
    assert summary.target_mean({"2": {"scores": [None]}}, "classification") is None
    assert summary.target_mean({}, "regression") is None
    with pytest.raises(ValueError, match="kind must be one of"):
        summary.target_mean(oracle, "Classification")


def test_an_old_oracle_record_keeps_the_old_rule_and_bad_input_is_refused() -> None:
    assert metrics.target_for("classification", {"score": 0.97}) == pytest.approx(0.965)
    assert metrics.target_for("regression", {"score": 0.8, "scores": [None]}) == pytest.approx(
        0.792
    )
    with pytest.raises(ValueError, match=r"kind must be one of .*'classification'.*got 'ranking'"):
        metrics.target_for("ranking", {"score": 0.9})
    with pytest.raises(ValueError, match=r"oracle must be .*got \{'score': None\}.*run the oracle"):
        metrics.target_for("classification", {"score": None})


# --- survival and censored medians ---------------------------------------------------------------


def test_survival_counts_the_seeds_that_reached_the_target_by_each_budget() -> None:
    hits = [1.0, None, 3.0, None, 2.5]
    assert metrics.survival(hits, [0, 1, 2, 2.5, 3, 5]) == pytest.approx(
        [0.0, 0.2, 0.2, 0.4, 0.6, 0.6]
    )
    assert metrics.median_to_target(hits, cap=5) == 3.0  # the third of five: fraction 0.6
    assert metrics.median_to_target([1.0, None, None], cap=5) is None  # 1/3: censored
    assert metrics.median_to_target([1.0, 4.0], cap=5) == 1.0  # half of two is one
    assert metrics.median_to_target([6.0, 6.0], cap=5) is None  # past the cap: not reached
    with pytest.raises(ValueError, match="hits must hold one entry per run; got none"):
        metrics.survival([], [1.0])


def test_a_censored_median_is_shown_as_past_the_cap_never_as_a_mean_of_caps() -> None:
    oracle = {str(s): {"scores": [0.9] * 5} for s in range(3)}
    records = [rec(0, "a", [0.5, 0.95]), rec(1, "a", [0.5, 0.5]), rec(2, "a", [0.5, 0.5])]
    records += [rec(s, "b", [0.5, 0.5, 0.91]) for s in range(3)]
    table = summary.per_task(records, oracle, "classification", ["a", "b"], [1, 3], 5)
    a, b = table["a"]["fre_to_target"], table["b"]["fre_to_target"]
    assert a["median"] is None and a["censored"] is True and a["reached"] == 1 and a["n"] == 3
    assert a["hits"] == [2.0, None, None]
    assert b["median"] == 3.0 and b["censored"] is False and b["reached"] == 3
    grid, fraction = b["survival"]["grid"], b["survival"]["fraction"]
    assert grid[0] == 0 and grid[-1] == 5
    assert grid[59:61] == pytest.approx([2.95, 3.0]) and fraction[59:61] == [0.0, 1.0]
    result = _result({"t": table}, records, ["b"], "classification")
    assert "| a | " in result["md"] and "| > 5 (1/3) |" in result["md"]
    assert "| 3.00 (3/3) |" in result["md"]


# --- paired comparisons --------------------------------------------------------------------------

BASE = [0.80, 0.82, 0.78, 0.85, 0.81, 0.79, 0.83, 0.80, 0.84, 0.82]
NOISE = [0.004, -0.003, 0.002, -0.001, 0.003, -0.004, 0.001, -0.002, 0.0, 0.002]


def test_a_paired_comparison_says_ahead_behind_or_tie_from_its_interval() -> None:
    better = [x + 0.02 + e for x, e in zip(BASE, NOISE, strict=True)]
    ahead = metrics.paired(better, BASE, "classification")
    assert ahead["verdict"] == "ahead" and ahead["n"] == 10
    assert ahead["estimate"] == pytest.approx(0.02 + sum(NOISE) / 10)
    assert 0 < ahead["low"] < ahead["estimate"] < ahead["high"]
    assert ahead["p"] is not None and ahead["p"] < 0.01
    behind = metrics.paired(BASE, better, "classification")
    assert behind["verdict"] == "behind" and behind["high"] < 0
    same = [x + e for x, e in zip(BASE, NOISE, strict=True)]
    tie = metrics.paired(same, BASE, "classification")
    assert tie["verdict"] == "tie" and tie["low"] < 0 < tie["high"] and tie["p"] > 0.05
    # The interval is reproducible: a fixed bootstrap seed.
    assert metrics.paired(better, BASE, "classification") == ahead


def test_a_paired_comparison_needs_enough_pairs_and_reports_all_zero_differences() -> None:
    few = metrics.paired([0.9, 0.9, 0.9], [0.5, 0.5, 0.5], "classification")
    assert few["verdict"] == "too few" and few["p"] is None
    assert few["note"] == f"too few pairs for Wilcoxon (n=3 < {metrics.MIN_PAIRS})"
    zero = metrics.paired(BASE, BASE, "classification")
    assert zero["verdict"] == "tie" and zero["p"] is None
    assert zero["note"] == "all differences are zero" and zero["estimate"] == 0
    with pytest.raises(ValueError, match=r"a and b must hold one score per shared seed; got 2 and"):
        metrics.paired([0.1, 0.2], [0.1], "classification")
    with pytest.raises(ValueError, match=r"resamples must be an int >= 100; got 5"):
        metrics.paired(BASE, BASE, "regression", resamples=5)


def test_a_blown_up_r2_ranks_last_and_never_poisons_the_statistics() -> None:
    mine = [0.8 + e for e in NOISE]
    theirs = [0.7 + e for e in NOISE[:8]] + [-INF, -INF]
    out = metrics.paired(mine, theirs, "regression")
    assert out["statistic"] == "median" and out["verdict"] == "ahead"
    assert out["estimate"] == pytest.approx(0.1) and math.isfinite(out["low"])
    # Both blown up on the same seed: a tie (0), not NaN; blow-ups on both sides: no NaN.
    both = metrics.paired([-INF, *mine[1:]], [-INF, *theirs[1:]], "regression")
    assert both["n"] == 10 and both["estimate"] == pytest.approx(0.1)
    mixed = metrics.paired([-INF] + [0.8] * 7, [0.7, -INF] + [0.8] * 5 + [0.7], "regression")
    assert not any(isinstance(v, float) and math.isnan(v) for v in mixed.values())
    assert mixed["estimate"] == 0 and mixed["verdict"] == "tie"
    # Accuracy has no -inf: a non-finite pair is left out of the mean and counted.
    acc = metrics.paired([0.9] * 7 + [-INF], [0.8] * 8, "classification")
    assert acc["dropped"] == 1 and acc["n"] == 7 and acc["estimate"] == pytest.approx(0.1)
    # The table's R^2 cells: median and quartiles, the blown-up seeds counted.
    med, q1, q3 = metrics.median_iqr([0.5, -INF, 0.7, 0.6])
    assert (med, q1, q3) == (pytest.approx(0.55), -INF, pytest.approx(0.625))
    assert metrics.median_iqr([-INF, -INF, 0.7])[0] == -INF
    assert metrics.record_test_score({"test_scores": [0.7, -INF], "test_score": -INF}) == -INF
    assert metrics.record_test_score({"test_score": 0.4}) == 0.4  # an old record


def test_the_table_shows_r2_as_median_and_counts_blown_up_seeds() -> None:
    oracle = {str(s): {"scores": [0.9] * 5} for s in range(3)}
    records = [rec(s, "p", [0.5], test=[0.5, 0.7]) for s in range(2)]
    records.append(rec(2, "p", [0.6], test=[0.6, -INF]))
    table = summary.per_task(records, oracle, "regression", ["p"], [1], 2)
    test = table["p"]["test_score"]
    assert test["median"] == pytest.approx(0.6) and test["non_finite"] == 1
    assert test["q1"] == -INF and test["q3"] == pytest.approx(0.6)  # a quartile among blow-ups
    md = _result({"t": table}, records, ["p"], "regression")["md"]
    assert "| 0.600 [-inf, 0.600] (1 -inf) |" in md
    assert "nan" not in md.lower()


def test_pairs_separate_the_best_peer_a_good_start_and_a_good_search() -> None:
    records = []
    for s in range(8):
        e = NOISE[s]
        records += [
            rec(s, "adamtune", [0.90 + e, 0.95 + e], test=[0.93 + e]),
            rec(s, "first-trial-only", [0.90 + e], test=[0.90 + e]),
            rec(s, "kt-random", [0.80 + e, 0.96 + e], test=[0.91 + e]),
            rec(s, "kt-hyperband", [0.85 + e, 0.90 + e], test=[0.95 + e]),
            rec(s, "kt-hyperband+first", [0.89 + e, 0.90 + e], test=[0.94 + e]),
        ]
    peers = ["kt-random", "kt-hyperband", "kt-hyperband+first", "first-trial-only"]
    rows = summary.paired(records, "classification", peers, [1, 2])
    best = {r["metric"]: r for r in rows if r["comparison"] == "best peer"}
    # The best peer is chosen per metric: the first trial alone at 1 FRE, kt-random at 2, ...
    assert {m: r["against"] for m, r in best.items()} == {
        "1": "first-trial-only",
        "2": "kt-random",
        "test": "kt-hyperband",
    }
    assert best["1"]["verdict"] == "tie" and best["1"]["p"] is None  # identical by design
    assert best["2"]["verdict"] == "behind" and best["2"]["estimate"] == pytest.approx(-0.01)
    assert best["test"]["verdict"] == "behind" and best["test"]["against_value"] == pytest.approx(
        0.95 + sum(NOISE[:8]) / 8
    )
    start = [r for r in rows if r["comparison"] == "good start"]
    assert [(r["tool"], r["against"], r["metric"]) for r in start] == [
        ("kt-hyperband+first", "kt-hyperband", m) for m in ("1", "2", "test")
    ]
    assert start[0]["verdict"] == "ahead" and start[0]["estimate"] == pytest.approx(0.04)
    assert start[2]["verdict"] == "behind" and start[2]["estimate"] == pytest.approx(-0.01)
    search = [r for r in rows if r["comparison"] == "good search"]
    assert [(r["tool"], r["against"]) for r in search] == [("adamtune", "first-trial-only")] * 3
    assert search[1]["verdict"] == "ahead" and search[1]["estimate"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="kind must be one of"):
        summary.paired(records, "Classification", peers, [1])
    # no ablation ran: no ablation row
    assert not [r for r in rows if r["comparison"] == "ablation"]


def test_an_adamtune_ablation_is_paired_against_adamtune_not_ranked_as_a_peer() -> None:
    records = []
    for s in range(8):
        e = NOISE[s]
        records += [
            rec(s, "adamtune", [0.90 + e, 0.95 + e], test=[0.93 + e]),
            rec(s, "adamtune-schedules", [0.80 + e, 0.97 + e], test=[0.93 + e]),
            rec(s, "kt-random", [0.85 + e, 0.90 + e], test=[0.91 + e]),
        ]
    rows = summary.paired(records, "classification", ["kt-random"], [1, 2])
    assert {r["against"] for r in rows if r["comparison"] == "best peer"} == {"kt-random"}
    ablation = {r["metric"]: r for r in rows if r["comparison"] == "ablation"}
    assert {(r["tool"], r["against"]) for r in ablation.values()} == {
        ("adamtune-schedules", "adamtune")
    }
    assert ablation["1"]["verdict"] == "behind" and ablation["1"]["estimate"] == pytest.approx(-0.1)
    assert ablation["2"]["verdict"] == "ahead" and ablation["2"]["estimate"] == pytest.approx(0.02)
    assert ablation["test"]["verdict"] == "tie"


def test_adamtune_is_paired_with_qmc_given_twice_its_budget() -> None:
    """The tuning playbook's bar: adamtune at B against optuna-qmc at 2B, by seed, where the
    suite has a checkpoint at 2B; the summary counts the cells it is behind in."""
    records = []
    for s in range(8):
        e = NOISE[s]
        records += [
            # incumbents: adamtune 0.90 at 1 FRE, 0.95 at 2; QMC 0.88 at 2, 0.97 at 4
            rec(s, "adamtune", [0.90 + e, 0.95 + e, 0.95 + e, 0.95 + e], test=[0.93]),
            rec(s, "optuna-qmc", [0.80 + e, 0.88 + e, 0.95 + e, 0.97 + e], test=[0.93]),
        ]
    rows = summary.paired(records, "classification", ["optuna-qmc"], [1, 2, 4])
    twice = {r["metric"]: r for r in rows if r["comparison"] == "twice the budget"}
    assert set(twice) == {"1", "2"}, "none at 4 FRE (no 8), none on test"
    assert (twice["1"]["against"], twice["1"]["against_metric"]) == ("optuna-qmc", "2")
    assert twice["1"]["verdict"] == "ahead" and twice["1"]["estimate"] == pytest.approx(0.02)
    assert twice["2"]["verdict"] == "behind" and twice["2"]["estimate"] == pytest.approx(-0.02)
    oracle = {str(s): {"scores": [0.99] * 5} for s in range(8)}
    table = summary.per_task(
        records, oracle, "classification", ["adamtune", "optuna-qmc"], [1, 2, 4], 4
    )
    out = summary.summarize({"t": table}, ["optuna-qmc"], {}, paired_rows={"t": rows})
    assert out["cells_behind_qmc_at_2x_budget"] == 1
    assert out["notes"]["cells_behind_qmc_at_2x_budget"] == (
        "adamtune at B against optuna-qmc at 2B, paired by seed: ahead in 1, tie in 0, behind "
        "in 1 of 2 (task, B) cells; t at 2 FRE: behind"
    )
    assert summary.verdicts(out)["cells_behind_qmc_at_2x_budget"] == "MISSED (<= 0)"
    assert "optuna-qmc best @ 2 FRE" in tables.markdown(
        {
            "suite": "s", "seeds": list(range(8)), "budget_fre": 4, "jobs": 1,
            "wall_minutes": 1.0, "checkpoints": [1, 2, 4], "task_kinds": {"t": "classification"},
            "tasks": {"t": table}, "paired": {"t": rows}, "summary": out, "oracle": {"t": oracle},
        }
    )  # fmt: skip
    # no QMC in the suite: no rows, and the summary says it was not measured
    alone = summary.paired([r for r in records if r["tool"] == "adamtune"], "classification",
                           [], [1, 2, 4])  # fmt: skip
    assert not [r for r in alone if r["comparison"] == "twice the budget"]
    none = summary.summarize({"t": table}, ["optuna-qmc"], {}, paired_rows={"t": alone})
    assert none["cells_behind_qmc_at_2x_budget"] is None


# --- summary, markdown and plots -------------------------------------------------------------------


def _imports(module: Any) -> set[str]:
    """The top-level names of the modules a module's source imports, wherever in the file."""
    tree = ast.parse(Path(module.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    return {name.split(".")[0] for name in names}


def test_the_numbers_never_import_the_markdown_or_the_plots() -> None:
    assert not {"tables", "plots", "matplotlib"} & _imports(summary)
    assert "summary" in _imports(tables) and "summary" in _imports(plots)
    assert "plots" not in _imports(tables) and "tables" not in _imports(plots)
    moved = {"markdown", "plot", "TARGET_RULE", "INF_RULE", "_fmt", "_cell", "_colors", "_curve"}
    assert not moved & set(vars(summary)), "no aliases of the moved names stay in summary.py"
    assert tables.__all__ == ["INF_RULE", "TARGET_RULE", "markdown"]
    assert plots.__all__ == ["plot"]


def _result(
    per_task: dict[str, Any], records: list[dict[str, Any]], peers: list[str], kind: str
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "suite": "test",
        "seeds": sorted({r["seed"] for r in records}),
        "budget_fre": 5,
        "checkpoints": [1],
        "jobs": 1,
        "wall_minutes": 1.0,
        "task_kinds": {t: kind for t in per_task},
        "task_design": {t: "the RMS rule" for t in per_task},
        "task_about": {t: "A hand-made task." for t in per_task},
        "oracle": {t: {"0": {"scores": [0.9] * 5}} for t in per_task},
        "tasks": per_task,
        "paired": {
            t: summary.paired([r for r in records if r["task"] == t], kind, peers, [1])
            for t in per_task
        },
    }
    kinds = {t: kind for t in per_task}
    result["summary"] = summary.summarize(per_task, peers, {}, kinds)
    result["md"] = tables.markdown(result)
    return result


def test_the_summary_uses_medians_and_says_missed_when_adamtune_is_censored() -> None:
    oracle = {str(s): {"scores": [0.9] * 5} for s in range(4)}
    records = [rec(s, "adamtune", [0.5, 0.95]) for s in range(3)] + [rec(3, "adamtune", [0.5])]
    records += [rec(s, "peer", [0.5] * 3 + [0.95]) for s in range(4)]
    records += [rec(s, "never", [0.5] * 5) for s in range(4)]
    table = summary.per_task(
        records, oracle, "classification", ["adamtune", "peer", "never"], [1], 5
    )
    assert table["adamtune"]["fre_to_target"]["median"] == 2.0
    assert table["peer"]["fre_to_target"]["median"] == 4.0
    out = summary.summarize({"t": table}, ["peer", "never"], {})
    assert out["time_to_target_ratio_vs_best_peer"] == pytest.approx(0.5)
    assert out["full_run_equivalents_to_99pct_oracle"] == 2.0 and out["missed"] == []
    # adamtune censored where the peer reached it: no number, and the verdict says MISSED.
    late = [r for r in records if r["tool"] != "adamtune"]
    late += [rec(s, "adamtune", [0.5] * 5) for s in range(4)]
    slow = summary.per_task(late, oracle, "classification", ["adamtune", "peer"], [1], 5)
    missed = summary.summarize({"t": slow}, ["peer"], {})
    assert list(missed)[: len(summary.TARGETS)] == list(summary.TARGETS)
    assert missed["time_to_target_ratio_vs_best_peer"] is None
    assert (
        "adamtune's median is censored (> 5 FRE), peer's is 4.00"
        in missed["notes"]["time_to_target_ratio_vs_best_peer"]
    )
    verdicts = summary.verdicts(missed)
    assert verdicts["time_to_target_ratio_vs_best_peer"] == "MISSED (<= 0.5)"
    assert verdicts["full_run_equivalents_to_99pct_oracle"] == "censored (> the cap)"
    assert verdicts["overhead_ratio_vs_bare_fit"] == "not measured"


def test_the_test_gap_uses_medians_of_r2_and_a_blown_up_adamtune_is_missed() -> None:
    oracle = {str(s): {"scores": [0.9] * 5} for s in range(3)}
    tests = {"adamtune": [0.7, 0.7, -INF], "peer": [0.6, 0.8, 0.75]}
    records = [rec(s, t, [0.5], test=[v[s]]) for t, v in tests.items() for s in range(3)]
    table = summary.per_task(records, oracle, "regression", ["adamtune", "peer"], [1], 5)
    out = summary.summarize({"t": table}, ["peer"], {})  # the kind stored in the table's rows
    assert out["test_acc_gap_vs_best_peer"] == pytest.approx(0.7 - 0.75)  # medians, not means
    assert out["notes"]["test_acc_gap_vs_best_peer"] == "t: medians of R^2"
    tests["adamtune"] = [-INF, -INF, 0.7]
    records = [rec(s, t, [0.5], test=[v[s]]) for t, v in tests.items() for s in range(3)]
    table = summary.per_task(records, oracle, "regression", ["adamtune", "peer"], [1], 5)
    out = summary.summarize({"t": table}, ["peer"], {}, {"t": "regression"})
    assert out["test_acc_gap_vs_best_peer"] is None
    assert summary.verdicts(out)["test_acc_gap_vs_best_peer"] == "MISSED (>= -0.005)"


def test_the_markdown_has_the_verdict_tables_and_the_plots_are_written(tmp_path: Path) -> None:
    records = []
    for s in range(6):
        e = NOISE[s]
        records += [
            rec(s, "adamtune", [0.95 + e], test=[0.94 + e, 0.96 + e]),
            rec(s, "kt-random", [0.90 + e], test=[0.90 + e]),
            rec(s, "kt-random+first", [0.92 + e], test=[0.92 + e]),
        ]
    oracle = {str(s): {"scores": [0.93] * 5} for s in range(6)}
    tools = ["adamtune", "kt-random", "kt-random+first"]
    table = summary.per_task(records, oracle, "classification", tools, [1], 5)
    result = _result({"t": table}, records, ["kt-random", "kt-random+first"], "classification")
    md = result["md"]
    assert "### t: validation accuracy; target mean 0.900 (design task: the RMS rule)" in md
    assert "A hand-made task." in md and "top 5 validation scores" in md
    assert (
        "| task | metric | adamtune | best peer (name, value) | difference [95% CI] "
        "| Wilcoxon p | verdict |" in md
    )
    assert (
        "| t (design task) | best @ 1 FRE | 0.950 | kt-random+first, 0.920 | 0.030 [0.030, 0.030] |"
        in md
    )
    assert (
        "| t (design task) | test | 0.950 | kt-random+first, 0.920 | 0.030 [0.030, 0.030] |" in md
    )
    assert "| ahead |" in md and "| good start | best @ 1 FRE | kt-random+first, 0.920 |" in md
    assert "| 1.00 (6/6) |" in md and "| 7.0 |" in md  # median FRE to target, exported epochs
    paths = plots.plot(result, records, tmp_path / "plots")
    assert [p.name for p in paths] == ["t.png", "t-survival.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
