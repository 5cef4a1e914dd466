"""benchmarks/structure.py counts what it says, on a small package written for the test."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import structure

LONG_BODY = "\n".join(f"    x{i} = {i}" for i in range(structure.LONG_FUNCTION))

FILES = {
    "__init__.py": "",
    "_util.py": "def helper() -> None: ...\n",
    "a/__init__.py": 'from pkg.a._impl import public\n\n__all__ = ["public"]\n',
    # 2 + 60 + 1 = 63 lines; a function-level import of pkg.b closes a circle with b._mod
    "a/_impl.py": f"""\
from pkg._util import helper


def long() -> None:
    \"\"\"Long.\"\"\"
{LONG_BODY}
    return None


def public() -> None:
    from pkg.b import thing

    thing()


def _hidden() -> None: ...


def exactly_sixty() -> None:
{LONG_BODY[: LONG_BODY.rindex(chr(10))]}
""",
    "b/__init__.py": 'from pkg.b._mod import thing\n\n__all__ = ["thing"]\n',
    "b/_mod.py": """\
import pkg.a._impl
from pkg.a._impl import _hidden, public


def thing() -> None:
    public()
    _hidden()
""",
    "b/_other.py": "from . import _mod\nfrom ._mod import thing\n",
    "c.py": """\
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pkg.d import D


class C:
    def branch(self, kind: str, url: str) -> int:
        import optuna.samplers

        register("kerastuner")  # a call, not a comparison: not counted
        if kind == "kerastuner" or url.startswith(("kt-", "x")):
            return 1
        if "://" in url or kind in ("kerastuner", "optuna"):
            return 2
        match kind:
            case "kerastuner":
                return 3
        return 0
""",
    "d.py": "from pkg.c import C\n\nD = C\n",
    "engine/__init__.py": """\
import optuna


def kind(value: str) -> bool:
    import keras_tuner  # the KerasTuner engine's own: allowed
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        import keras  # never runs: not counted
    from pkg.a import public  # noqa
    import tensorflow as tf

    return value == "kerastuner"
""",
}


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_functions_and_the_largest_module(pkg: Path) -> None:
    s = structure.measure(pkg)
    assert s.modules == 10
    assert s.largest_function is not None
    assert (s.largest_function.qualname, s.largest_function.lines) == ("pkg.a._impl.long", 63)
    # exactly_sixty is 60 lines: not over
    assert [f.qualname for f in s.long_functions] == ["pkg.a._impl.long"]
    names = {f.qualname for f in structure.functions(structure.load_package(pkg), pkg)}
    assert "pkg.c.C.branch" in names and "pkg.a._impl.exactly_sixty" in names
    assert s.largest_module is not None and s.largest_module.path == "pkg/a/_impl.py"


def test_engine_branches_outside_engine_only(pkg: Path) -> None:
    s = structure.measure(pkg)
    assert [(b.path, b.line, b.what) for b in s.engine_branches] == [
        ("pkg/c.py", 12, "'kerastuner'"),
        ("pkg/c.py", 12, "'kt-'"),
        ("pkg/c.py", 14, "'://'"),
        ("pkg/c.py", 14, "'kerastuner'"),
        ("pkg/c.py", 17, "'kerastuner'"),
    ]


def test_private_imports_across_packages(pkg: Path) -> None:
    s = structure.measure(pkg)
    # public is re-exported by pkg/a/__init__.py; _util is the root's, shared by its packages;
    # b/_other.py imports inside its own package
    assert [(p.path, p.what) for p in s.private_imports] == [
        ("pkg/b/_mod.py", "import pkg.a._impl"),
        ("pkg/b/_mod.py", "from pkg.a._impl import _hidden"),
    ]


def test_circles_count_function_level_imports_but_not_type_checking(pkg: Path) -> None:
    modules = structure.load_package(pkg)
    graph = structure.import_graph(modules, pkg)
    assert graph["pkg.b._other"] == {"pkg.b._mod"}  # relative imports resolved
    assert "pkg.d" not in graph["pkg.c"]  # under TYPE_CHECKING
    assert structure.circles(graph) == [["pkg.a._impl", "pkg.b", "pkg.b._mod"]]
    # without the function-level import there is no circle
    graph["pkg.a._impl"].discard("pkg.b")
    assert structure.circles(graph) == []


def test_optuna_importers_outside_engine(pkg: Path) -> None:
    assert structure.measure(pkg).optuna_outside_engine == ["pkg/c.py"]


def test_markdown_and_json(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert structure.main([str(pkg), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {
        "long_functions": 1,
        "engine_branches": 5,
        "private_imports": 2,
        "circles": 1,
        "upward_imports": 0,  # pkg's parts are not adamtune's layers: all unplaced
        "engine_keras": 1,
        "optuna_outside_engine": 1,
    }
    assert data["tests"] is None
    structure.main([str(pkg)])
    text = capsys.readouterr().out
    assert "| import circles (modules in them) | 1 (3) |" in text
    assert "- pkg.a._impl <-> pkg.b <-> pkg.b._mod" in text


def test_with_tests_counts_and_times_the_default_run(pkg: Path) -> None:
    tests = pkg.parent / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(
        textwrap.dedent("""
        import pytest

        def test_a(): pass
        def test_b(): pass
        @pytest.mark.skip
        def test_c(): pass
        """)
    )
    out = structure.run_tests(pkg.parent)
    assert out["tests"] == 3
    assert out["counts"] == {"passed": 2, "skipped": 1}
    assert out["seconds"] > 0


def test_not_a_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"not a package folder"):
        structure.load_package(tmp_path)


def test_adamtune_result_report_and_spaces_are_in_no_import_circle() -> None:
    root = Path(__file__).resolve().parents[1] / "adamtune"
    modules = structure.load_package(root)
    joined = [
        c
        for c in structure.circles(structure.import_graph(modules, root))
        if any(m.startswith(("adamtune.result", "adamtune.report", "adamtune.spaces")) for m in c)
    ]
    assert joined == []


def test_upward_imports_follow_the_layer_table(pkg: Path) -> None:
    modules = structure.load_package(pkg)
    layers = {"_util": 0, "a": 1, "b": 2, "c": 3, "d": 4, "engine": 5}
    upward, unplaced = structure.upward_imports(modules, pkg, layers)
    # a's public() imports pkg.b from inside a function: a (1) -> b (2) is upward; b -> a, d -> c,
    # engine -> a go down; c -> d is under TYPE_CHECKING; the root's __init__ has no layer here
    assert [(u.path, u.what) for u in upward] == [("pkg/a/_impl.py", "a -> b (pkg.b)")]
    assert unplaced == [""]  # the root's own __init__
    # the same part at two layers' distance the other way round is fine
    upward, _ = structure.upward_imports(modules, pkg, {**layers, "a": 3, "b": 2})
    assert [(u.path, u.what) for u in upward] == [("pkg/b/_mod.py", "b -> a (pkg.a._impl)")]


def test_engine_imports_of_keras_and_training(pkg: Path) -> None:
    found = structure.measure(pkg).engine_keras
    assert [(x.path, x.what) for x in found] == [("pkg/engine/__init__.py", "tensorflow")]


def test_code_lines_leave_the_docstring_out(pkg: Path) -> None:
    s = structure.measure(pkg)
    assert s.largest_code is not None
    assert (s.largest_code.qualname, s.largest_code.lines, s.largest_code.code_lines) == (
        "pkg.a._impl.long",
        63,
        62,
    )


def test_adamtune_keeps_the_one_way_rule() -> None:
    """ARCHITECTURE.md's rule, as issue 16 left it: every part of adamtune has a layer and imports
    only those below it; no import circle; no private name reached across packages; the engines
    know no Keras (they call the objective they are handed); Optuna is read only in engine/ and
    strategies/ (which builds its samplers)."""
    root = Path(__file__).resolve().parents[1] / "adamtune"
    s = structure.measure(root)
    assert s.unplaced == []
    assert [f"{x.path}:{x.line} {x.what}" for x in s.upward_imports] == []
    assert s.circles == []
    assert [f"{x.path}:{x.line} {x.what}" for x in s.private_imports] == []
    assert [f"{x.path}:{x.line} {x.what}" for x in s.engine_keras] == []
    assert [p for p in s.optuna_outside_engine if "/strategies/" not in p] == []
