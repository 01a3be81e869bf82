"""Serving with several processes: each worker binds its own listening socket on the same port (SO_REUSEPORT).

`uvicorn --workers` shares one listening socket: a burst of keep-alive connections (a hospital's HIS terminals
connecting at once) mostly lands on whichever worker accepts first, and the others idle. With one socket per
worker, the kernel spreads new connections across the workers by their address hash. Where the platform has no
SO_REUSEPORT, uvicorn's own multi-process mode is used.

A worker that dies unexpectedly (a crash, an out-of-memory kill, kill -9) is restarted after a back-off while
the others go on serving; only repeated crashes stop the server, since then restarting is not helping (see
`RestartPolicy`). A worker that refuses to start (exit status 2: unsafe settings, demo data in production) is
not restarted: the same checks would refuse again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

APP_FACTORY = "yidi.app:serve_app"
REFUSED = 2  # a worker's exit status when its start-up checks refuse (yidi.app.serve_app)
MAX_RESTART_DELAY = 30.0

log = logging.getLogger("yidi.server")


@dataclass
class RestartPolicy:
    """Up to `max_crashes` unexpected worker exits within `window_seconds` are restarted, the first after
    `first_delay` seconds, each further one recent crash later after twice as long (30 s at most); one more
    crash within the window stops the server (exit status 1)."""

    max_crashes: int = 5
    window_seconds: float = 60.0
    first_delay: float = 0.5
    crashes: deque[float] = field(default_factory=deque)

    @classmethod
    def from_settings(cls) -> RestartPolicy:
        from yidi.core.config import get_settings

        s = get_settings()
        return cls(s.worker_max_crashes, s.worker_crash_window_seconds, s.worker_restart_delay_seconds)

    def crashed(self, now: float) -> float | None:
        """Count a crash at `now` (monotonic seconds): the delay before restarting, or None to stop everything."""
        self.crashes.append(now)
        while self.crashes[0] <= now - self.window_seconds:
            self.crashes.popleft()
        if len(self.crashes) > self.max_crashes:
            return None
        return min(MAX_RESTART_DELAY, self.first_delay * float(2 ** (len(self.crashes) - 1)))


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


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


def serve(host: str, port: int, workers: int, policy: RestartPolicy | None = None) -> int:
    """Run `workers` server processes until SIGINT/SIGTERM (exit status 0), restarting any that dies as
    `policy` allows (from settings by default); 1 when crashes repeat, 2 when a worker refuses to start."""
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
    policy = policy or RestartPolicy.from_settings()
    context = multiprocessing.get_context("spawn")
    parent = os.getpid()

    slots: list[BaseProcess | None] = [None] * workers
    started: list[BaseProcess] = []  # every process ever started, to stop and reap at the end

    def start(n: int) -> None:
        process = context.Process(target=_worker, args=(host, port, parent), name=f"yidi-worker-{n}")
        started.append(process)
        process.start()
        slots[n] = process
        log.info("server process started", extra={"worker": process.name, "pid": process.pid})

    restart_at: dict[int, float] = {}
    stopping, status = False, 0

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for n in range(workers):
            start(n)
        while not stopping:
            now = time.monotonic()
            for n, process in enumerate(slots):
                if process is None or process.is_alive() or stopping:
                    continue
                slots[n], how = None, describe_exit(process.exitcode)
                started.remove(process)  # reaped by is_alive(): nothing left to stop
                if process.exitcode == REFUSED:
                    print(f"{process.name} refused to start ({how}); stopping all / 拒绝启动", file=sys.stderr)
                    stopping, status = True, REFUSED
                    break
                delay = policy.crashed(now)
                if delay is None:
                    print(
                        f"{process.name} (pid {process.pid}) {how}: more than {policy.max_crashes} crashes within "
                        f"{policy.window_seconds:g} s; stopping all / 工作进程反复崩溃，全部停止",
                        file=sys.stderr,
                    )
                    stopping, status = True, 1
                    break
                log.warning(
                    "server process %s (pid %s) %s; restarting in %.1f s",
                    process.name,
                    process.pid,
                    how,
                    delay,
                    extra={"worker": process.name, "exitcode": process.exitcode, "restart_in_seconds": delay},
                )
                restart_at[n] = now + delay
            for n, due in list(restart_at.items()):
                if not stopping and time.monotonic() >= due:
                    del restart_at[n]
                    start(n)
            if not stopping:
                time.sleep(0.2)
    finally:
        started = [p for p in started if p.pid is not None]  # a start that failed has nothing to stop
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
    return status
