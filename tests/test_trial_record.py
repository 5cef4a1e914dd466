"""TrialRecord: what a trial stores, typed, round-trips through the attributes studies hold.

The attributes come from a real search (one trial that trained, one whose model_fn raised), so
the layout checked is the one engines write, and the partial ones an interrupted trial or an
older adamtune stored are taken from them. A scan of the package keeps record attributes from
being read by string key again outside the record module.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import mlp

from adamtune import _record
from adamtune._record import RECORD_KEYS, RESULT_KEYS, TrialRecord
from adamtune.result import best_epoch
from adamtune.training._outcome import OUTCOMES

PACKAGE = Path(__file__).resolve().parents[1] / "adamtune"


@pytest.fixture(scope="module")
def stored(
    digits: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """The user attributes of a real search's trials: ``"ran"`` trained, ``"crashed"`` raised."""
    import adamtune

    calls = {"n": 0}

    def model_fn() -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # call 1 is the pre-flight, 2 the first trial
            raise RuntimeError("a model_fn that breaks")
        return mlp(64, 10, units=16)

    storage = f"sqlite:///{tmp_path_factory.mktemp('record') / 'study.db'}"
    result = adamtune.search(
        model_fn, digits, trials=2, epochs=1, storage=storage, verbose=0, seed=0
    )
    by_state = {t.state.name: dict(t.user_attrs) for t in result.study.trials}
    assert set(by_state) == {"COMPLETE", "FAIL"}, by_state
    return {"ran": by_state["COMPLETE"], "crashed": by_state["FAIL"]}


def _without(attrs: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in keys}


# --- the record itself ---------------------------------------------------------------------------


def test_every_field_is_a_stored_key_read_one_way() -> None:
    names = [f.name for f in dataclasses.fields(TrialRecord) if f.name != "keep_none"]
    assert list(RECORD_KEYS) == names
    assert set(_record._READ) == set(RECORD_KEYS)
    assert set(RECORD_KEYS) > RESULT_KEYS  # and more: error, rss_mb, worker
    constants = (_record.OUTCOME_ATTR, _record.ERROR_ATTR, _record.RSS_ATTR, _record.WORKER_ATTR)
    assert set(constants) <= set(RECORD_KEYS)


def test_a_trial_that_ran_stores_every_result_key_and_reads_back_typed(
    stored: dict[str, dict[str, Any]],
) -> None:
    attrs = stored["ran"]
    assert set(attrs) == RESULT_KEYS | {"rss_mb", "worker"}
    record = TrialRecord.from_attrs(attrs)
    assert record.to_attrs() == attrs
    assert TrialRecord.from_attrs(record.to_attrs()) == record
    assert record.outcome in OUTCOMES
    assert isinstance(record.adam, dict) and record.adam["batch_size"] > 0
    assert isinstance(record.optimizer, dict)
    assert isinstance(record.changes, tuple)
    assert record.epochs_run == 1
    assert record.best_epoch == 0  # stored 0-based, as every study so far holds it
    assert record.best_epoch_1based == 1 == best_epoch(attrs)
    assert isinstance(record.seconds, float) and isinstance(record.rss_mb, float)
    assert record.curves is not None and "loss" in record.curves
    assert record.error is None and not record.interrupted
    assert isinstance(record.worker, dict) and isinstance(record.worker["pid"], int)


def test_a_crashed_trial_round_trips_with_only_what_it_stored(
    stored: dict[str, dict[str, Any]],
) -> None:
    attrs = stored["crashed"]
    assert set(attrs) == {"outcome", "error", "rss_mb", "worker"}
    record = TrialRecord.from_attrs(attrs)
    assert record.to_attrs() == attrs
    assert record.outcome == "crashed-error"
    assert record.error == "RuntimeError: a model_fn that breaks"
    assert record.reason_or_error == record.error
    assert record.adam is None and record.best_epoch_1based is None and best_epoch(attrs) is None


@pytest.mark.parametrize(
    "drop",
    [
        ("optimizer",),  # before a trial stored its serialized optimizer
        ("optimizer", "curves", "last", "changes"),  # older still
        ("rss_mb", "worker"),  # a KerasTuner trial has no worker; an old one no memory
    ],
)
def test_an_old_trial_round_trips_without_gaining_keys(
    stored: dict[str, dict[str, Any]], drop: tuple[str, ...]
) -> None:
    attrs = _without(stored["ran"], *drop)
    record = TrialRecord.from_attrs(attrs)
    assert record.to_attrs() == attrs
    assert all(getattr(record, key) is None for key in drop)


def test_an_interrupted_or_empty_trial_round_trips(stored: dict[str, dict[str, Any]]) -> None:
    interrupted = {
        "worker": stored["crashed"]["worker"],
        "outcome": "interrupted",
        "error": "Interrupted: stopped mid-trial by Ctrl-C",
    }
    record = TrialRecord.from_attrs(interrupted)
    assert record.to_attrs() == interrupted and record.interrupted
    assert TrialRecord.from_attrs({}).to_attrs() == {}
    assert TrialRecord.from_attrs({}) == TrialRecord()


def test_a_stored_null_stays_a_stored_null() -> None:
    attrs = {"outcome": "pruned", "reason": None, "best_epoch": None, "epochs_run": 0}
    record = TrialRecord.from_attrs(attrs)
    assert record.to_attrs() == attrs
    assert record.reason is None and record.best_epoch_1based is None


def test_values_of_a_type_adamtune_never_writes_read_as_missing() -> None:
    record = TrialRecord.from_attrs(
        {"outcome": 3, "best_epoch": True, "adam": [1], "changes": "x", "seconds": "1", "other": 1}
    )
    assert record == TrialRecord()
    assert TrialRecord.from_attrs({"best_epoch": -1}).best_epoch_1based is None


def test_keep_none_must_name_record_attributes() -> None:
    with pytest.raises(ValueError, match=r"`keep_none` must name attributes .*\['epoch'\]"):
        TrialRecord(keep_none=frozenset({"epoch"}))


def test_the_record_is_public_and_reading_it_imports_no_optuna() -> None:
    import adamtune.engine
    import adamtune.result

    assert adamtune.result.TrialRecord is TrialRecord is adamtune.engine.TrialRecord
    code = (
        "import sys, adamtune.result; "
        "assert adamtune.result.TrialRecord.from_attrs({}).outcome is None; "
        "heavy = {'optuna', 'tensorflow', 'keras', 'pandas'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- nobody reads a record attribute by string key -----------------------------------------------

# Files allowed to read or write record attributes by string key: none left (issue 16 converted
# the search loop and the engines to TrialRecord fields and the constants of adamtune/_record.py).
NOT_YET_CONVERTED: frozenset[str] = frozenset()


def _attrs_name(node: ast.expr) -> bool:
    """Whether ``node`` is a mapping of attributes: ``attrs``, ``t.user_attrs``, ..."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return isinstance(name, str) and name.endswith("attrs")


def _record_key(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and node.value in RECORD_KEYS:
        return str(node.value)
    return None


def _string_key_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, key)`` of each ``attrs.get("key")``, ``attrs["key"]``,
    ``trial.set_user_attr("key", ...)`` or ``storage.set_trial_user_attr(id, "key", ...)`` of a
    record key in ``tree``."""
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and _attrs_name(node.value):
            key = _record_key(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            reads = node.func.attr == "get" and _attrs_name(node.func.value)
            if reads or node.func.attr == "set_user_attr":
                key = _record_key(node.args[0])
            elif node.func.attr == "set_trial_user_attr" and len(node.args) > 1:
                key = _record_key(node.args[1])
        if key is not None:
            found.append((node.lineno, key))
    return sorted(found)


def test_the_scan_finds_each_way_of_reading_by_string_key() -> None:
    code = (
        "a = t.user_attrs.get('outcome')\nb = attrs['adam']\n"
        "c = f\"{attrs.get('seconds', '-')}\"\nt.set_user_attr('error', 'x')\n"
        "d = study.user_attrs.get(META_KEY)\ne = other.get('outcome')\n"
        "storage.set_trial_user_attr(trial_id, 'outcome', 'crashed-error')\n"
    )
    assert _string_key_uses(ast.parse(code)) == [
        (1, "outcome"),
        (2, "adam"),
        (3, "seconds"),
        (4, "error"),
        (7, "outcome"),
    ]


def test_no_record_attribute_is_read_by_string_key_outside_the_record_module() -> None:
    uses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "_record.py" or name in NOT_YET_CONVERTED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses += [f"adamtune/{name}:{line}: {key!r}" for line, key in _string_key_uses(tree)]
    assert not uses, (
        "read TrialRecord.from_attrs(trial.user_attrs).<field> (and write through TrialRecord or "
        "the *_ATTR constants of adamtune/_record.py) instead of a string key:\n" + "\n".join(uses)
    )
