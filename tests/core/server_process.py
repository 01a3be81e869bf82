"""Helpers for tests that run `yidi serve --workers N` as a real process and look at its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

YIDI = str(Path(sys.executable).parent / "yidi")  # the installed console script


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, port: int, log: Path, workers: int = 2, **env: str) -> subprocess.Popen[bytes]:
    """`yidi serve --workers N --no-demo` on `url`, stderr (the JSON log) into `log`; waits until it answers."""
    command = [YIDI, "serve", "--workers", str(workers), "--port", str(port), "--no-demo"]
    with log.open("wb") as out:  # the child keeps its own descriptor
        server = subprocess.Popen(
            command, env={**os.environ, "YIDI_DATABASE_URL": url, **env}, stdout=subprocess.DEVNULL, stderr=out
        )
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        if healthy(port) and len(worker_pids(server.pid)) == workers:
            return server
        time.sleep(0.3)
    stop_server(server)
    raise AssertionError(f"server not answering after 45 s:\n{log.read_text()[-3000:]}")


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def worker_pids(supervisor: int) -> set[int]:
    """The live server processes started by `supervisor` (multiprocessing's spawn children, not its tracker)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # state ppid …
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(stat[1]) == supervisor and stat[0] != "Z" and b"spawn_main" in cmdline:
            pids.add(int(entry.name))
    return pids


def connections_held(pid: int, port: int) -> int:
    """Established TCP connections to `port` whose socket `pid` holds (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()  # sl local_address rem_address st … inode(9)
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def wait_for(
    condition: Callable[[], bool], seconds: float, what: str, server: subprocess.Popen[bytes] | None = None
) -> None:
    """Until `condition` holds; fails at once when `server` (if given) has exited meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if server is not None and server.poll() is not None:
            raise AssertionError(f"the server exited ({server.returncode}) while waiting for: {what}")
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:g} s: {what}")


def stop_server(server: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an operator (or systemd) stops it; the exit status."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            return server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise
    return server.returncode
