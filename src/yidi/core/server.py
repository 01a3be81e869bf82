"""Serving with several processes: each worker binds its own listening socket on the same port (SO_REUSEPORT).

`uvicorn --workers` shares one listening socket: a burst of keep-alive connections (a hospital's HIS terminals
connecting at once) mostly lands on whichever worker accepts first, and the others idle. With one socket per
worker, the kernel spreads new connections across the workers by their address hash. Where the platform has no
SO_REUSEPORT, uvicorn's own multi-process mode is used.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

APP_FACTORY = "yidi.app:serve_app"


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _stop_with_parent(parent: int) -> None:
    """Linux: this worker gets SIGTERM when the supervising process dies, even by SIGKILL (no orphans serving)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before that took effect
        sys.exit(1)


def _worker(host: str, port: int, parent: int) -> None:
    import uvicorn

    _stop_with_parent(parent)
    sock = _listening_socket(host, port)
    config = uvicorn.Config(APP_FACTORY, factory=True, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int) -> int:
    """Run `workers` server processes until SIGINT/SIGTERM; if one dies, stop the others (exit status 1)."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux/BSD
        import uvicorn

        uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, log_config=None)
        return 0
    # SO_REUSEPORT would let a second instance share the port silently: a socket without it cannot bind while
    # any other server listens there, so try one first.
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            print(f"cannot listen on {host}:{port}: {exc.strerror} / 端口不可用", file=sys.stderr)
            return 2
    context = multiprocessing.get_context("spawn")
    parent = os.getpid()
    processes = [
        context.Process(target=_worker, args=(host, port, parent), name=f"yidi-worker-{n}") for n in range(workers)
    ]
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        while not stopping and all(p.is_alive() for p in processes):
            time.sleep(0.2)
    finally:
        started = [p for p in processes if p.pid is not None]
        for process in started:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        deadline = time.monotonic() + 30
        for process in started:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in started:
            if process.is_alive():
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stopping:
        return 0
    failed = [p.name for p in processes if p.exitcode not in (0, None)]
    print(f"a server process stopped ({', '.join(failed) or 'unknown'}); stopping all", file=sys.stderr)
    return 1
