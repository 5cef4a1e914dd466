"""What adamtune trusts and what it does not: no unpickling, no eval, CMA-ES refused on shared
storage without an opt-in, and no server but the dashboard (on 127.0.0.1 by default).

The first tests read adamtune's source or call the checks directly: no Keras training. The last
ones (``slow``) run real one-trial CMA-ES searches: on a local SQLite file, and on PostgreSQL with
the opt-in.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import adamtune
from adamtune import strategies
from adamtune.cli import build_parser
from adamtune.engine import check_trusted
from adamtune.engine._storage import is_shared
from adamtune.strategies import TRUST_ENV, unpickles

PACKAGE = Path(adamtune.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
UNREACHABLE_PG = "postgresql://u:hunter2@127.0.0.1:{port}/db"


@pytest.fixture(autouse=True)
def _no_trust_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRUST_ENV, raising=False)


def _calls(tree: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    """Every call in ``tree`` with its dotted name (``yaml.load``, ``eval``, ``x.bind``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts = []
            func: ast.expr = node.func
            while isinstance(func, ast.Attribute):
                parts.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                parts.append(func.id)
            yield ".".join(reversed(parts)), node


def _imports(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Every imported module (and ``module.name`` of a from-import) with its statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, node
            yield from ((f"{node.module}.{alias.name}", node) for alias in node.names)


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"


def _parsed() -> Iterator[tuple[Path, ast.AST]]:
    assert len(SOURCES) > 50, SOURCES  # the scan really reads the package
    for path in SOURCES:
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


# --- nothing adamtune reads is turned into code --------------------------------------------------

_UNPICKLERS = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}
_UNPICKLERS |= {"jsonpickle"}
# Imported by name, these would escape the call check below.
_YAML_UNSAFE = {f"yaml.{n}" for n in ("load", "load_all", "unsafe_load", "full_load", "Loader")}
_YAML_UNSAFE |= {"yaml.UnsafeLoader", "yaml.FullLoader", "yaml.unsafe_load_all"}
_CODE_CALLS = {"eval", "exec", "compile", "__import__", "yaml.unsafe_load", "yaml.full_load"}
_CODE_CALLS |= {"yaml.unsafe_load_all", "yaml.full_load_all", "torch.load", "pickle.loads"}


def test_the_package_never_unpickles_or_evaluates_what_it_reads() -> None:
    found = []
    for path, tree in _parsed():
        for module, statement in _imports(tree):
            if module.split(".")[0] in _UNPICKLERS or module in _YAML_UNSAFE:
                found.append(f"{_where(path, statement)} imports {module}")
        for name, call in _calls(tree):
            keywords = {k.arg: k.value for k in call.keywords}
            if name in _CODE_CALLS:
                found.append(f"{_where(path, call)} calls {name}")
            elif name in ("yaml.load", "yaml.load_all"):
                loader = keywords.get("Loader")
                loader_name = ast.unparse(loader) if loader is not None else ""
                if not loader_name.endswith("SafeLoader"):
                    found.append(f"{_where(path, call)} calls {name} with Loader={loader_name}")
            for key in ("allow_pickle", "safe_mode"):
                value = keywords.get(key)
                if isinstance(value, ast.Constant) and value.value is (key == "allow_pickle"):
                    found.append(f"{_where(path, call)} passes {key}={value.value}")
    assert not found, "\n".join(found)


def test_space_files_are_read_with_a_safe_loader() -> None:
    import yaml

    from adamtune.spaces._yaml import StrictSafeLoader

    assert issubclass(StrictSafeLoader, yaml.SafeLoader)


def test_cmaes_really_unpickles_from_the_study_in_this_optuna() -> None:
    """The reason for the refusal below: if Optuna stops doing this, the refusal can go."""
    import inspect

    import optuna

    source = inspect.getsource(optuna.samplers.CmaEsSampler)
    assert "pickle.loads" in source
    assert "system_attrs" in source


# --- which storage is shared ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        (None, False),
        ("sqlite:///adamtune.db", False),
        ("sqlite:////abs/path/study.db", False),
        ("sqlite:///:memory:", False),
        ("SQLite+pysqlite:///x.db", False),
        ("journal:///adamtune.log", False),
        ("postgresql://u:p@db/x", True),
        ("postgresql+psycopg2://u:p@127.0.0.1:5432/x", True),
        ("mysql://u:p@db/x", True),
        ("mysql+pymysql://db/x", True),
        ("mssql+pyodbc://db/x", True),
        ("oracle://db/x", True),
        ("redis://localhost:6379", True),
        ("sqlitex://db/x", True),
    ],
)
def test_urls_other_than_local_sqlite_and_journal_files_are_shared(
    url: str | None, shared: bool
) -> None:
    assert is_shared(url) is shared


class ListBackend:
    """A journal backend in a list: stands for a server-backed journal (Redis and the like)."""

    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        return self.logs[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.logs.extend(logs)


def _list_journal() -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import BaseJournalBackend

    backend = type("Backend", (ListBackend, BaseJournalBackend), {})()
    return JournalStorage(backend)


def test_storage_objects_are_shared_unless_a_local_file_or_memory(tmp_path: Path) -> None:
    import optuna
    from optuna.storages import InMemoryStorage, JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    assert not is_shared(InMemoryStorage())
    assert not is_shared(RDBStorage(f"sqlite:///{tmp_path / 'a.db'}"))
    assert not is_shared(optuna.storages.get_storage(f"sqlite:///{tmp_path / 'b.db'}"))  # cached
    assert not is_shared(JournalStorage(JournalFileBackend(str(tmp_path / "c.log"))))
    assert is_shared(_list_journal())
    assert is_shared(object())


# --- CMA-ES on a shared storage: refused before anything is opened -------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port that accepts connections: a connection attempt to it would show."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.3)
        yield sock


def _assert_never_connected(sock: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        conn, _ = sock.accept()
        conn.close()


def _never_built() -> Any:
    raise AssertionError("the refusal must come before the pre-flight builds a model")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)).astype("float32"), rng.integers(0, 2, 40)


REFUSAL = (
    r"`strategy`='cmaes' keeps the CMA-ES optimizer pickled in the study storage and unpickles "
    r"it for every trial, so anyone who can write to a shared storage could run code in every "
    r"worker; .*Use one of tpe, random, qmc, gp, grid \(or kt-\*\), or, if you trust everyone "
    r"who can write to this storage, opt in with trust_storage=True \(CLI: --trust-storage, or "
    r"ADAMTUNE_TRUST_STORAGE=1\)\. Received: strategy='cmaes', storage="
)


def test_cmaes_on_postgresql_is_refused_before_connecting(listener: socket.socket) -> None:
    url = UNREACHABLE_PG.format(port=listener.getsockname()[1])
    start = time.monotonic()
    with pytest.raises(ValueError, match=REFUSAL) as caught:
        adamtune.search(_never_built, _data(), strategy="cmaes", storage=url, verbose=0)
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert message.endswith(f"storage={url.replace('hunter2', '***')}")
    assert "hunter2" not in message
    _assert_never_connected(listener)


def test_a_cmaes_sampler_object_and_mysql_are_refused_too(listener: socket.socket) -> None:
    import optuna

    url = f"mysql+pymysql://u:hunter2@127.0.0.1:{listener.getsockname()[1]}/db"
    sampler = optuna.samplers.CmaEsSampler(seed=0)
    with pytest.raises(ValueError, match=r"`strategy`='CmaEsSampler' keeps the CMA-ES") as caught:
        adamtune.search(_never_built, _data(), strategy=sampler, storage=url, verbose=0)
    assert "Received: strategy='CmaEsSampler', storage=mysql+pymysql://u:***@127" in str(
        caught.value
    )
    _assert_never_connected(listener)


def test_nothing_is_stored_in_a_refused_shared_storage() -> None:
    journal = _list_journal()
    with pytest.raises(ValueError, match=r"storage=a JournalStorage object$"):
        adamtune.search(_never_built, _data(), strategy="cmaes", storage=journal, verbose=0)
    assert journal._backend.logs == []
    assert journal.get_all_studies() == []


def test_the_refusal_needs_no_tensorflow(tmp_path: Path) -> None:
    """In a fresh interpreter: the refusal comes before Keras or TensorFlow are imported."""
    code = (
        "import sys, numpy as np, adamtune\n"
        "def build(): raise AssertionError\n"
        "try:\n"
        "    adamtune.search(build, (np.zeros((8, 2)), np.zeros(8)), strategy='cmaes',\n"
        "                    storage='postgresql://u:pw@127.0.0.1:1/db', verbose=0)\n"
        "except ValueError as exc:\n"
        "    print('refused' if 'pickled' in str(exc) else exc)\n"
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != TRUST_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.stdout.split() == ["refused", "[]"], done.stdout + done.stderr


@pytest.mark.parametrize("storage", [None, "sqlite:///study.db", "journal:///study.log"])
def test_cmaes_on_a_local_file_needs_no_opt_in(storage: str | None) -> None:
    check_trusted("cmaes", storage)


@pytest.mark.parametrize("strategy", ["tpe", "random", "qmc", "gp", "grid", "kt-random"])
def test_other_strategies_on_shared_storage_need_no_opt_in(strategy: str) -> None:
    assert not unpickles(strategy)
    check_trusted(strategy, "postgresql://u:p@db/x")


def test_the_opt_in_by_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import optuna

    url = "postgresql://u:p@db/x"
    check_trusted("cmaes", url, trust_storage=True)
    check_trusted(optuna.samplers.CmaEsSampler(), url, trust_storage=True)
    monkeypatch.setenv(TRUST_ENV, "1")
    check_trusted("cmaes", url)
    monkeypatch.setenv(TRUST_ENV, "0")
    with pytest.raises(ValueError, match=REFUSAL):
        check_trusted("cmaes", url)
    monkeypatch.setenv(TRUST_ENV, "yes")
    with pytest.raises(ValueError, match=r"ADAMTUNE_TRUST_STORAGE must be 1 .* or 0\. Received: "):
        check_trusted("cmaes", url)
    monkeypatch.delenv(TRUST_ENV)
    with pytest.raises(TypeError, match=r"`trust_storage` must be True or False\. Received: "):
        check_trusted("cmaes", url, trust_storage="yes")  # type: ignore[arg-type]


def test_the_opt_in_lets_the_search_go_on(listener: socket.socket) -> None:
    """With the opt-in the check passes and the search goes on, to the data check here (which
    fails on purpose, before TensorFlow or a connection)."""
    url = UNREACHABLE_PG.format(port=listener.getsockname()[1])
    mismatched = (np.zeros((8, 2), "float32"), np.zeros(5))
    with pytest.raises(ValueError) as caught:
        adamtune.search(
            _never_built, mismatched, strategy="cmaes", storage=url, trust_storage=True, verbose=0
        )
    assert "pickled" not in str(caught.value)
    _assert_never_connected(listener)


@pytest.mark.parametrize("command", ["search", "worker"])
def test_the_cli_flag_sets_the_opt_in_for_the_command_only(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    from adamtune import cli

    seen: list[str | None] = []

    def fake(args: argparse.Namespace) -> int:
        seen.append(os.environ.get(TRUST_ENV))  # what the search and spawned workers inherit
        return 0

    monkeypatch.setattr(cli, f"cmd_{command}", fake)
    argv = {"search": ["search", "m.py:f", "--data", "m.py:d"], "worker": ["worker"]}[command]
    argv = [*argv, "--storage", "postgresql://db/x", "--study", "s"]
    assert cli.main(argv) == 0
    assert cli.main([*argv, "--trust-storage"]) == 0
    assert seen == [None, "1"]
    assert TRUST_ENV not in os.environ


def test_the_cli_refuses_cmaes_on_postgresql_with_exit_2(
    capsys: pytest.CaptureFixture[str], listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import cli_search_argv

    from adamtune import cli

    for key in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(key, raising=False)  # the command sets them: restored after the test
    url = UNREACHABLE_PG.format(port=listener.getsockname()[1])
    code = cli.main(cli_search_argv(url, 1, "refused", "--strategy", "cmaes"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "adamtune search: error: `strategy`='cmaes' keeps the CMA-ES optimizer pickled" in err
    assert "--trust-storage" in err and "hunter2" not in err
    _assert_never_connected(listener)


def test_the_strategy_description_says_so() -> None:
    assert "shared storage needs trust_storage=True" in strategies.describe()["cmaes"]


# --- servers ------------------------------------------------------------------------------------

_SERVER_CALLS = {"run_server", "serve_forever", "make_server", "add_insecure_port", "bind"}
_SERVER_CALLS |= {"listen", "HTTPServer", "ThreadingHTTPServer", "TCPServer", "create_server"}
_SERVER_MODULES = {"http.server", "socketserver", "wsgiref", "grpc", "bottle", "flask", "uvicorn"}
_SERVER_MODULES |= {"aiohttp", "tornado", "optuna_dashboard", "tensorboard"}
# KerasTuner's tuners start a gRPC oracle server when $KERASTUNER_ORACLE_IP is set: adamtune
# drives the oracle itself and must never build one.
_KT_TUNERS = {"Tuner", "RandomSearch", "BayesianOptimization", "Hyperband", "GridSearch"}
_KT_TUNERS |= {"SklearnTuner"}


def test_the_dashboard_is_the_only_server_adamtune_starts() -> None:
    allowed = PACKAGE / "cli" / "_dashboard.py"
    found = []
    for path, tree in _parsed():
        if path == allowed:
            continue
        for module, statement in _imports(tree):
            if any(module == m or module.startswith(f"{m}.") for m in _SERVER_MODULES):
                found.append(f"{_where(path, statement)} imports {module}")
        for name, call in _calls(tree):
            last = name.split(".")[-1]
            if last in _SERVER_CALLS and not name.startswith(("subprocess.", "asyncio.")):
                found.append(f"{_where(path, call)} calls {name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in _KT_TUNERS
                and ast.unparse(node.value).split(".")[0] == "keras_tuner"
            ):
                found.append(f"{_where(path, node)} uses {ast.unparse(node)}")
    assert not found, "\n".join(found)


def test_the_dashboard_listens_on_its_host_option_which_defaults_to_loopback() -> None:
    tree = ast.parse((PACKAGE / "cli" / "_dashboard.py").read_text(encoding="utf-8"))
    # cmd_dashboard hands --host to _serve, the one place a server socket is made.
    (serve,) = [call for name, call in _calls(tree) if name == "_serve"]
    assert [ast.unparse(a) for a in serve.args] == ["app", "host", "port"]
    (made,) = [call for name, call in _calls(tree) if name.endswith("make_server")]
    assert ast.unparse(made.args[0]) == "host.strip('[]')"
    assert not [name for name, _ in _calls(tree) if name.endswith(("run_server", ".run"))]
    args = build_parser().parse_args(["dashboard", "--storage", "sqlite:///x.db"])
    assert args.host == "127.0.0.1"


# --- real CMA-ES searches (slow) -----------------------------------------------------------------


@pytest.mark.slow
def test_cmaes_still_runs_on_a_local_sqlite_file(tmp_path: Path) -> None:
    from conftest import tiny_study

    result = tiny_study(f"sqlite:///{tmp_path / 'c.db'}", "cmaes-local", strategy="cmaes")
    assert result.meta["strategy"] == "cmaes"
    assert len(result.study.trials) == 1


@pytest.mark.slow
def test_cmaes_on_postgresql_with_the_cli_opt_in(postgres_url: str, tmp_path: Path) -> None:
    """``--trust-storage`` lets a real CMA-ES search (and the worker it starts) run on
    PostgreSQL; without it, exit 2 and nothing stored."""
    from conftest import CHILD_ENV, cli_search_argv, run_adamtune

    env = {**CHILD_ENV, "ADAMTUNE_STORAGE": postgres_url}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        argv = cli_search_argv(None, 1, "cm", "--strategy", "cmaes", "-q", *extra)
        return run_adamtune(*argv, cwd=tmp_path, env=env)

    refused = run()
    assert refused.returncode == 2, refused.stderr
    assert "keeps the CMA-ES optimizer pickled" in refused.stderr
    assert _tables(postgres_url) == []  # never connected: Optuna did not even create its tables
    ran = run("--trust-storage", "--workers", "2")  # the worker it starts inherits the opt-in
    assert ran.returncode == 0, ran.stderr
    assert "exited with code" not in ran.stderr, ran.stderr
    status = run_adamtune("status", "--study", "cm", "--json", cwd=tmp_path, env=env, timeout=120)
    states = json.loads(status.stdout)["states"]
    assert set(states) <= {"COMPLETE", "PRUNED"}, status.stdout + status.stderr
    assert states.get("COMPLETE", 0) >= 1, states


def _tables(url: str) -> list[str]:
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = psycopg2.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def test_a_worker_imports_only_code_it_was_given_from_a_shared_storage(
    capsys: pytest.CaptureFixture[str], listener: socket.socket, tmp_path: Path
) -> None:
    from adamtune import cli

    url = UNREACHABLE_PG.format(port=listener.getsockname()[1])
    base = ["worker", "--storage", url, "--study", "s", "--wait", "0"]
    assert cli.main(base) == 2
    err = capsys.readouterr().err
    assert "is shared, so the MODEL and --data targets recorded in it" in err
    assert "Pass --model and --data" in err and "hunter2" not in err
    _assert_never_connected(listener)  # refused before the storage is opened
    assert cli.main([*base, "--model", "m.py:f"]) == 2
    assert "takes --model and --data together" in capsys.readouterr().err
    # Given the code, or trusting the storage, it goes on to open the storage: here a closed port,
    # which refuses at once.
    closed = ["worker", "--storage", UNREACHABLE_PG.format(port=1), "--study", "s", "--wait", "0"]
    given = [*closed, "--model", "m.py:f", "--data", "m.py:d"]
    for argv in (given, [*closed, "--trust-storage"]):
        assert cli.main(argv) == 2
        assert "is shared" not in capsys.readouterr().err
    # A local file needs neither: it is as private as its permissions.
    local = f"sqlite:///{tmp_path / 's.db'}"
    assert cli.main(["worker", "--storage", local, "--study", "absent", "--wait", "0"]) == 2
    assert "no adamtune study 'absent'" in capsys.readouterr().err
