"""``adamtune dashboard``: serve optuna-dashboard for a study storage.

optuna-dashboard is optional (``pip install 'adamtune[dashboard]'``) and is imported only when the
command runs, so ``import adamtune`` stays light.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import signal
import socket
import sys
from types import FrameType
from typing import Any

__all__ = ["add_parser", "cmd_dashboard"]

_MISSING = "adamtune dashboard needs optuna-dashboard: pip install 'adamtune[dashboard]'"
_UNSAFE = (
    "the dashboard has no authentication: anyone who can reach it can change or delete "
    "studies and trials"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``adamtune dashboard`` on the CLI's subparsers."""
    dashboard = sub.add_parser(
        "dashboard",
        help="browse a study storage in optuna-dashboard (no authentication)",
        description="Serve optuna-dashboard for an Optuna study storage. Its write endpoints "
        "(rename, delete, tell, notes) have no authentication: anyone who can reach the "
        "address can change or delete studies. Keep the default --host 127.0.0.1 and reach a "
        "remote machine through an SSH tunnel. Needs: pip install 'adamtune[dashboard]'.",
    )
    dashboard.add_argument(
        "--storage",
        default=None,
        help="study storage URL (sqlite:///adamtune.db, journal:///adamtune.log, postgresql://...) "
        "or the path to its .db or .log file; default $ADAMTUNE_STORAGE, else "
        "sqlite:///adamtune.db",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1). Anything but loopback exposes "
        "unauthenticated write endpoints to the network",
    )
    dashboard.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    dashboard.set_defaults(func=cmd_dashboard)


def _dashboard_installed() -> bool:
    try:
        return importlib.util.find_spec("optuna_dashboard") is not None
    except (ImportError, ValueError):  # ValueError: blocked via sys.modules["optuna_dashboard"]
        return False


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # another host name: it may resolve to any interface
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def _check_file(url: str, shown: str) -> None:
    """Refuse a ``sqlite:///`` or ``journal:///`` URL whose file does not exist: opening it would
    create an empty study file there, and the dashboard would show nothing instead of pointing
    at the typo."""
    from adamtune.engine import local_file

    path = local_file(url)
    if path is not None and not path.exists():
        raise ValueError(
            f"--storage must name an existing study file. Received: --storage={shown} "
            f"(no file at {path.resolve()})"
        )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve optuna-dashboard for ``args.storage`` until interrupted (Ctrl-C)."""
    host: str = args.host
    port: int = args.port
    if not 1 <= port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535. Received: --port={port}")
    if not _dashboard_installed():
        raise ValueError(_MISSING)
    from adamtune.engine import mask_url, open_storage

    # Open the storage before importing optuna-dashboard, which takes seconds (it pulls in
    # scikit-learn for parameter importances): a wrong URL fails at once.
    shown_storage = mask_url(args.storage)
    _check_file(args.storage, shown_storage)
    storage = open_storage(args.storage)
    try:
        import optuna_dashboard
    except ImportError:
        raise ValueError(_MISSING) from None

    url = _server_url(host, port)
    print(f"adamtune dashboard: serving {url} for storage {shown_storage}", file=sys.stderr)
    if not _is_loopback(host):
        print(
            f"adamtune dashboard: WARNING: --host {host} makes the dashboard reachable from the "
            f"network, and {_UNSAFE} in {shown_storage}. To view a remote study, keep the "
            f"default --host 127.0.0.1 and use an SSH tunnel instead: "
            f"ssh -N -L {port}:127.0.0.1:{port} USER@SERVER, then open "
            f"http://127.0.0.1:{port}/",
            file=sys.stderr,
        )
    print("adamtune dashboard: press Ctrl-C to stop", file=sys.stderr)
    app = optuna_dashboard.wsgi(storage)
    try:
        _serve(app, host, port)
    except OSError as exc:  # address in use, unknown host, no permission
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"cannot listen on {url}: {reason}") from None
    # The server only stops on Ctrl-C: end the command the way every other Ctrl-C does.
    raise KeyboardInterrupt


def _serve(app: Any, host: str, port: int) -> None:
    """Serve the WSGI ``app`` on ``host:port`` until Ctrl-C.

    Not ``optuna_dashboard.run_server``: it serves with ``bottle.run`` on wsgiref, whose request
    handler catches every exception while it answers, KeyboardInterrupt included, logs it and
    serves on, so a Ctrl-C that lands mid-request was lost (seen as a test that waited in vain
    on a loaded machine). Here the SIGINT handler also leaves a flag the loop reads between
    requests."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(WSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        timeout = 0.5  # handle_request returns this often without a request: the flag is read

    class Handler(WSGIRequestHandler):
        def address_string(self) -> str:  # no reverse DNS lookup per logged request
            return str(self.client_address[0])

    stopped: list[int] = []

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        raise KeyboardInterrupt

    # A process started with SIGINT ignored (a shell's background job) keeps ignoring it.
    watch = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, on_sigint) if watch else None
    try:
        with make_server(host.strip("[]"), port, app, Server, Handler) as server:
            while not stopped:
                server.handle_request()
    finally:
        if watch:
            signal.signal(signal.SIGINT, previous)
