"""Serving with several processes: each worker binds its own listening socket on the same port (SO_REUSEPORT).

`uvicorn --workers` shares one listening socket: a burst of keep-alive connections (a hospital's HIS terminals
connecting at once) mostly lands on whichever worker accepts first, and the others idle. With one socket per
worker, the kernel spreads new connections across the workers by their address hash. Where the platform has no
SO_REUSEPORT, uvicorn's own multi-process mode is used.
"""

from __future__ import annotations

import multiprocessing
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


def _worker(host: str, port: int) -> None:
    import uvicorn

    sock = _listening_socket(host, port)
    config = uvicorn.Config(APP_FACTORY, factory=True, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int) -> int:
    """Run `workers` server processes until SIGINT/SIGTERM; if one dies, stop the others (exit status 1)."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux/BSD
        import uvicorn

        uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, log_config=None)
        return 0
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port), name=f"yidi-worker-{n}") for n in range(workers)]
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
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        for process in processes:
            process.join(timeout=30)
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
