"""Structure numbers of a Python package, read from its source with ``ast`` (issue 16).

    python benchmarks/structure.py                     # the repo's adamtune/, as a markdown table
    python benchmarks/structure.py /work/main/adamtune # another checkout
    python benchmarks/structure.py --json              # the same numbers and lists as JSON
    python benchmarks/structure.py --with-tests        # also run the default test suite, timed

Standard library only; nothing of the package is imported. What is counted:

- **functions**: every ``def`` (methods and nested functions too, each on its own), from its
  ``def`` line to its last line, decorators left out; the largest one and how many are over
  :data:`LONG_FUNCTION` lines. **modules**: the lines of each ``.py`` file; the largest one.
- **engine-kind branches**: the string literals in :data:`ENGINE_LITERALS` used in a comparison
  (``==``, ``!=``, ``in``, ``not in``, also inside a tuple or list compared against), as an
  argument of ``.startswith``/``.endswith``, or as a ``case`` pattern, outside ``<root>/engine/``:
  the places that tell one engine (or a storage kind) from another by its name.
- **cross-package private imports**: an import of a private module (a dotted-name part starting
  with ``_``) from outside the package that holds it, unless every imported name is listed in that
  package's ``__init__.py`` ``__all__`` (re-exported, so public); and any imported ``_name`` from
  outside the package that defines it. The root's own private modules (``adamtune/_util.py``) are
  shared by its subpackages, so only an import from outside the root counts for them. One count
  per imported name. Imports under ``if TYPE_CHECKING:`` count here (they still reach inside).
- **import circles**: strongly connected components of more than one module in the graph whose
  edges are the ``import``/``from`` statements between the package's modules, at module level
  and inside functions alike (a function-level import is a dependency that only runs later).
  ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``; like
  grimp/import-linter, ``import a.b.c`` is an edge to ``a.b.c`` only, not to the parent packages
  Python initialises first (otherwise every package would be a circle with each submodule its
  ``__init__`` re-exports). Imports under ``if TYPE_CHECKING:`` never run and are left out.
- **upward imports**: imports (at module level or in functions; not under ``if TYPE_CHECKING:``)
  from a module to one of a higher layer in :data:`LAYERS`, the stack ``ARCHITECTURE.md`` draws
  (a layer imports only the layers below it, and never sideways into a layer at its own level
  unless it is the same package). A module whose layer is not listed is reported as unplaced.
- **Keras in engine/**: imports of ``keras``, ``tensorflow`` or ``<root>.training`` inside
  ``<root>/engine/`` (not under ``if TYPE_CHECKING:``), ``keras_tuner`` not included.
- **optuna outside engine/**: the files that import ``optuna`` (at any level) outside
  ``<root>/engine/``; and, since DESIGN.md puts samplers and oracles in ``strategies/``, the same
  list without ``<root>/strategies/``.
- **code lines of a function**: its lines without its docstring, beside its full length (a long
  user-facing docstring is documentation, not logic; both are shown).
- **tests** (``--with-tests`` only): the default ``pytest -q -p no:cacheprovider`` run of the
  repository holding the root, its test count and wall time.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LONG_FUNCTION = 60
ENGINE_LITERALS = ("kerastuner", "kt-", "://")
ENGINE_DIR = "engine"
STRATEGIES_DIR = "strategies"
# The layer of each top-level part of the package (its first dotted name below the root), lowest
# first, as ARCHITECTURE.md draws them; "" is the root's own ``__init__``.
LAYERS: dict[str, int] = {
    **dict.fromkeys(("_errors", "_interrupt", "_json", "_record", "_tfquiet", "_urls", "_util"), 0),
    "spaces": 1,
    "params": 2,
    "data": 3,
    "training": 4,
    "strategies": 5,
    "engine": 6,
    "report": 7,
    "result": 8,
    "doctor": 9,
    **dict.fromkeys(("_first", "_narrow", "_progress", "_studylog"), 10),
    "_search_args": 11,
    "_search": 12,
    "": 13,  # the lazy face: ``adamtune.search`` and friends, for the command line and users
    **dict.fromkeys(("cli", "testing"), 14),
    "__main__": 15,
}
_STR_METHODS = ("startswith", "endswith")


@dataclass(frozen=True)
class Module:
    """One ``.py`` file of the package: its dotted name, path, syntax tree and line count."""

    name: str
    path: Path
    tree: ast.Module
    lines: int
    is_package: bool

    @property
    def package(self) -> str:
        """The package the module belongs to: itself for an ``__init__``, else its parent."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Function:
    qualname: str
    path: str
    line: int
    lines: int
    code_lines: int = 0  # without the docstring


@dataclass(frozen=True)
class Site:
    """Something found at ``path:line``, with what was found there."""

    path: str
    line: int
    what: str


@dataclass(frozen=True)
class Import:
    """One imported module (and names) of one statement; ``target`` is a module of the package."""

    importer: str
    path: str
    line: int
    module: str  # the dotted module named in the statement, resolved if relative
    names: tuple[str, ...]  # the names of a ``from`` import; () for ``import a.b``
    in_function: bool
    type_checking: bool


@dataclass
class Structure:
    """Every number and list the script prints."""

    root: str
    modules: int
    functions: int
    median_function: float
    largest_function: Function | None
    largest_module: Site | None
    long_functions: list[Function] = field(default_factory=list)
    engine_branches: list[Site] = field(default_factory=list)
    private_imports: list[Site] = field(default_factory=list)
    circles: list[list[str]] = field(default_factory=list)
    upward_imports: list[Site] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    optuna_outside_engine: list[str] = field(default_factory=list)
    engine_keras: list[Site] = field(default_factory=list)
    largest_code: Function | None = None
    tests: dict[str, Any] | None = None


# -- reading the package -----------------------------------------------------------------------


def load_package(root: Path) -> dict[str, Module]:
    """Every ``.py`` file under ``root`` (a package folder), by dotted module name."""
    root = root.resolve()
    if not (root / "__init__.py").is_file():
        raise SystemExit(f"{root} is not a package folder (no __init__.py)")
    out: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if any(not p.isidentifier() for p in parts):
            continue  # not importable as a module (a folder with a dash, say)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        out[name] = Module(name, path, tree, len(text.splitlines()), is_package)
    return out


def _rel(module: Module, root: Path) -> str:
    return module.path.relative_to(root.resolve().parent).as_posix()


def _walk(
    node: ast.AST, in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node under ``node`` with whether it is inside a function and under TYPE_CHECKING."""
    for child in ast.iter_child_nodes(node):
        yield child, in_function, type_checking
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield stmt, in_function, True
                yield from _walk(stmt, in_function, True)
            for stmt in child.orelse:
                yield stmt, in_function, type_checking
                yield from _walk(stmt, in_function, type_checking)
            continue
        yield from _walk(child, inner, type_checking)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


# -- functions and modules ---------------------------------------------------------------------


def functions(modules: dict[str, Module], root: Path) -> list[Function]:
    """Every ``def`` of every module, with its qualified name and its length in lines."""
    out: list[Function] = []
    for module in modules.values():
        out.extend(_functions(module.tree, module.name, _rel(module, root)))
    return out


def _functions(node: ast.AST, prefix: str, path: str) -> Iterator[Function]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}.{child.name}"
            end = child.end_lineno or child.lineno
            lines = end - child.lineno + 1
            yield Function(name, path, child.lineno, lines, lines - _docstring_lines(child))
            yield from _functions(child, name, path)
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}.{child.name}", path)
        else:
            yield from _functions(child, prefix, path)


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


# -- engine-kind branches ----------------------------------------------------------------------


def engine_branches(
    modules: dict[str, Module], root: Path, literals: Sequence[str] = ENGINE_LITERALS
) -> list[Site]:
    """Each use of an engine-kind literal in a comparison, a startswith/endswith or a ``case``,
    outside the package's ``engine/`` folder."""
    engine = f"{root.resolve().name}.{ENGINE_DIR}"
    out: list[Site] = []
    for module in modules.values():
        if module.name == engine or module.name.startswith(engine + "."):
            continue
        for node in ast.walk(module.tree):
            for const in _compared_literals(node):
                if const.value in literals:
                    out.append(Site(_rel(module, root), const.lineno, repr(const.value)))
    return sorted(out, key=lambda s: (s.path, s.line))


def _compared_literals(node: ast.AST) -> Iterator[ast.Constant]:
    """The string constants ``node`` compares against, directly or in a tuple/list/set."""
    operands: list[ast.expr] = []
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _STR_METHODS
    ):
        operands = list(node.args)
    elif isinstance(node, ast.MatchValue):
        operands = [node.value]
    for operand in operands:
        items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
        for item in items:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                yield item


# -- imports -----------------------------------------------------------------------------------


def imports(modules: dict[str, Module], root: Path) -> list[Import]:
    """Every import statement of every module that names a module of the package."""
    top = root.resolve().name
    out: list[Import] = []
    for module in modules.values():
        for node, in_function, type_checking in _walk(module.tree):
            targets: list[tuple[str, tuple[str, ...]]]
            if isinstance(node, ast.Import):
                targets = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module)
                targets = [(base, tuple(alias.name for alias in node.names))]
            else:
                continue
            for name, names in targets:
                if name == top or name.startswith(top + "."):
                    out.append(
                        Import(
                            module.name,
                            _rel(module, root),
                            node.lineno,
                            name,
                            names,
                            in_function,
                            type_checking,
                        )
                    )
    return out


def _absolute(node: ast.ImportFrom, module: Module) -> str:
    if not node.level:
        return node.module or ""
    parts = module.package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _existing(name: str, modules: dict[str, Module]) -> str | None:
    """``name`` or its longest prefix that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(modules: dict[str, Module], root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, at module level or in functions; imports under
    ``if TYPE_CHECKING:`` are left out (they never run)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for imp in imports(modules, root):
        if imp.type_checking:
            continue
        targets = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in modules]
        if len(targets) < len(imp.names) or not imp.names:
            targets.append(imp.module)  # names defined in the module itself, or ``import a.b``
        for target in targets:
            found = _existing(target, modules)
            if found is not None and found != imp.importer:
                graph[imp.importer].add(found)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, largest first
    (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found, key=lambda c: (-len(c), c))


def _public_names(package: str, modules: dict[str, Module]) -> set[str]:
    """The names in ``package``'s ``__init__.py`` ``__all__`` (a literal list or tuple)."""
    module = modules.get(package)
    if module is None or not module.is_package:
        return set()
    for node in module.tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            try:
                names = ast.literal_eval(value)
            except ValueError:
                return set()
            return {v for v in names if isinstance(v, str)}
    return set()


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def private_imports(modules: dict[str, Module], root: Path) -> list[Site]:
    """Each name (or bare module) imported from another package's private module or under a
    private name, as ``path:line`` and what was imported."""
    out: list[Site] = []
    for imp in imports(modules, root):
        parts = imp.module.split(".")
        private_at = next((i for i, p in enumerate(parts) if _is_private(p)), None)
        # the package that holds the first private part, and whether the importer is outside it
        owner = ".".join(parts[:private_at]) if private_at is not None else None
        outside_owner = owner is not None and not _inside(imp.importer, owner)
        if not imp.names:
            if outside_owner:
                out.append(Site(imp.path, imp.line, f"import {imp.module}"))
            continue
        exported = _public_names(owner, modules) if owner is not None else set()
        source = _existing(imp.module, modules)
        for name in imp.names:
            submodule = f"{imp.module}.{name}"
            if _is_private(name):
                # a private name belongs to the package of the module it is defined in (or to
                # the package itself when it is a private submodule)
                home = (
                    imp.module
                    if submodule in modules or source is None
                    else modules[source].package
                )
                if not _inside(imp.importer, home):
                    out.append(Site(imp.path, imp.line, f"from {imp.module} import {name}"))
                    continue
            if outside_owner and name not in exported:
                out.append(Site(imp.path, imp.line, f"from {imp.module} import {name}"))
    return sorted(out, key=lambda s: (s.path, s.line, s.what))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layer_of(module: str, top: str) -> str:
    """The top-level part of the package ``module`` belongs to (``""`` for the root itself)."""
    rest = module[len(top) + 1 :] if module.startswith(top + ".") else ""
    return rest.split(".")[0]


def upward_imports(
    modules: dict[str, Module], root: Path, layers: dict[str, int] = LAYERS
) -> tuple[list[Site], list[str]]:
    """Each import of a higher layer (or of another part at the same layer), and the parts with
    no layer in ``layers``."""
    top = root.resolve().name
    out: list[Site] = []
    unplaced = sorted({p for m in modules if (p := layer_of(m, top)) not in layers})
    graph_edges = import_graph(modules, root)
    sites = {(i.importer, _existing(i.module, modules)): i for i in imports(modules, root)}
    for importer, targets in graph_edges.items():
        source = layer_of(importer, top)
        for target in sorted(targets):
            dest = layer_of(target, top)
            if source == dest or source not in layers or dest not in layers:
                continue
            if target == top and _dunders_only(importer, top, modules, root):
                continue  # ``from adamtune import __version__``: a fact, not a layer
            if layers[dest] >= layers[source]:
                imp = sites.get((importer, target)) or next(
                    (
                        i
                        for (a, _), i in sites.items()
                        if a == importer and _inside(target, i.module)
                    ),
                    None,
                )
                line = imp.line if imp is not None else 0
                path = imp.path if imp is not None else _rel(modules[importer], root)
                out.append(Site(path, line, f"{source or top} -> {dest or top} ({target})"))
    return sorted(out, key=lambda s: (s.path, s.line, s.what)), unplaced


def _dunders_only(importer: str, top: str, modules: dict[str, Module], root: Path) -> bool:
    """Whether every import of the root package by ``importer`` takes dunder names only."""
    found = [i for i in imports(modules, root) if i.importer == importer and i.module == top]
    return bool(found) and all(
        i.names and all(n.startswith("__") and n.endswith("__") for n in i.names) for i in found
    )


def engine_knowing_keras(modules: dict[str, Module], root: Path) -> list[Site]:
    """Imports of Keras, TensorFlow or the package's ``training`` inside ``engine/`` (DESIGN: an
    engine adapter knows nothing of Keras beyond calling the objective)."""
    top = root.resolve().name
    engine = f"{top}.{ENGINE_DIR}"
    banned = ("keras", "tensorflow", f"{top}.training")
    out: list[Site] = []
    for module in modules.values():
        if not _inside(module.name, engine):
            continue
        for node, _in_function, type_checking in _walk(module.tree):
            if type_checking:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [_absolute(node, module)]
            else:
                continue
            for name in names:
                if any(name == b or name.startswith(b + ".") for b in banned):
                    out.append(Site(_rel(module, root), node.lineno, name))
    return sorted(out, key=lambda s: (s.path, s.line))


def optuna_outside_engine(modules: dict[str, Module], root: Path) -> list[str]:
    """The files outside ``engine/`` that import ``optuna`` anywhere in them."""
    engine = f"{root.resolve().name}.{ENGINE_DIR}"
    out: list[str] = []
    for module in modules.values():
        if _inside(module.name, engine):
            continue
        for node in ast.walk(module.tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            if any(n == "optuna" or n.startswith("optuna.") for n in names):
                out.append(_rel(module, root))
                break
    return sorted(out)


# -- tests -------------------------------------------------------------------------------------

_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)")


def run_tests(repo: Path) -> dict[str, Any]:
    """The repository's default test run (``pytest -q -p no:cacheprovider``): counts and time."""
    env = {**os.environ, "PYTHONPATH": str(repo), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {
        kind.rstrip("s") if kind.startswith("error") else kind: int(n)
        for n, kind in _SUMMARY.findall(last)
    }
    ran = sum(v for k, v in counts.items() if k != "deselected")
    return {"tests": ran, "counts": counts, "seconds": round(seconds, 1), "summary": last}


# -- everything --------------------------------------------------------------------------------


def measure(root: Path, *, with_tests: bool = False) -> Structure:
    """Every number for the package folder ``root``."""
    modules = load_package(root)
    funcs = functions(modules, root)
    largest_module = max(modules.values(), key=lambda m: m.lines, default=None)
    upward, unplaced = upward_imports(modules, root)
    return Structure(
        root=str(root),
        modules=len(modules),
        functions=len(funcs),
        median_function=statistics.median(f.lines for f in funcs) if funcs else 0.0,
        largest_function=max(funcs, key=lambda f: f.lines, default=None),
        largest_module=None
        if largest_module is None
        else Site(_rel(largest_module, root), 1, f"{largest_module.lines} lines"),
        long_functions=sorted(
            (f for f in funcs if f.lines > LONG_FUNCTION), key=lambda f: -f.lines
        ),
        engine_branches=engine_branches(modules, root),
        private_imports=private_imports(modules, root),
        circles=circles(import_graph(modules, root)),
        upward_imports=upward,
        unplaced=unplaced,
        optuna_outside_engine=optuna_outside_engine(modules, root),
        engine_keras=engine_knowing_keras(modules, root),
        largest_code=max(funcs, key=lambda f: f.code_lines, default=None),
        tests=run_tests(root.resolve().parent) if with_tests else None,
    )


def to_markdown(s: Structure) -> str:
    """The numbers as a markdown table, then each list."""
    fn = s.largest_function
    rows = [
        ("modules / functions", f"{s.modules} / {s.functions}"),
        ("median function", f"{s.median_function:g} lines"),
        ("largest function", "-" if fn is None else f"`{fn.qualname}`: {fn.lines} lines"),
        (
            "largest function without its docstring",
            "-"
            if s.largest_code is None
            else f"`{s.largest_code.qualname}`: {s.largest_code.code_lines} lines",
        ),
        (
            "largest module",
            "-"
            if s.largest_module is None
            else f"`{s.largest_module.path}`: {s.largest_module.what}",
        ),
        (f"functions over {LONG_FUNCTION} lines", str(len(s.long_functions))),
        ("engine-kind branches outside engine/", str(len(s.engine_branches))),
        ("cross-package private imports", str(len(s.private_imports))),
        ("import circles (modules in them)", f"{len(s.circles)} ({sum(map(len, s.circles))})"),
        ("upward imports between layers", str(len(s.upward_imports))),
        ("Keras/TensorFlow/training imports in engine/", str(len(s.engine_keras))),
        ("files importing optuna outside engine/", str(len(s.optuna_outside_engine))),
        (
            "... outside engine/ and strategies/",
            str(len([p for p in s.optuna_outside_engine if f"/{STRATEGIES_DIR}/" not in p])),
        ),
    ]
    if s.tests is not None:
        rows.append(("tests (default run)", f"{s.tests['tests']} in {s.tests['seconds']} s"))
    lines = ["| measure | value |", "| --- | --- |", *(f"| {a} | {b} |" for a, b in rows), ""]
    lines += [f"### Functions over {LONG_FUNCTION} lines", ""]
    lines += [f"- `{f.qualname}` ({f.path}:{f.line}): {f.lines}" for f in s.long_functions]
    lines += ["", "### Engine-kind branches outside engine/", ""]
    lines += [f"- {x.path}:{x.line} {x.what}" for x in s.engine_branches]
    lines += ["", "### Cross-package private imports", ""]
    lines += [f"- {x.path}:{x.line} `{x.what}`" for x in s.private_imports]
    lines += ["", "### Import circles", ""]
    lines += [f"- {' <-> '.join(c)}" for c in s.circles]
    lines += ["", "### Upward imports between layers", ""]
    lines += [f"- {x.path}:{x.line} {x.what}" for x in s.upward_imports]
    lines += [f"- not in a layer: {p}" for p in s.unplaced]
    lines += ["", "### Keras, TensorFlow or training imported in engine/", ""]
    lines += [f"- {x.path}:{x.line} `{x.what}`" for x in s.engine_keras]
    lines += ["", "### Files importing optuna outside engine/", ""]
    lines += [f"- {p}" for p in s.optuna_outside_engine]
    if s.tests is not None:
        lines += ["", "### Tests", "", f"`{s.tests['summary']}`"]
    return "\n".join(lines) + "\n"


def to_json(s: Structure) -> str:
    data = asdict(s)
    data["counts"] = {
        "long_functions": len(s.long_functions),
        "engine_branches": len(s.engine_branches),
        "private_imports": len(s.private_imports),
        "circles": len(s.circles),
        "upward_imports": len(s.upward_imports),
        "engine_keras": len(s.engine_keras),
        "optuna_outside_engine": len(s.optuna_outside_engine),
    }
    return json.dumps(data, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "root",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "adamtune",
        help="the package folder to measure (default: the repo's adamtune/)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument(
        "--with-tests",
        action="store_true",
        help="also run the repository's default test suite and give its test count and time",
    )
    args = parser.parse_args(argv)
    structure = measure(args.root, with_tests=args.with_tests)
    print(to_json(structure) if args.json else to_markdown(structure), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
