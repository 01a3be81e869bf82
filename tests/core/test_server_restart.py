"""`yidi serve --workers N`: a dead worker is restarted with back-off; only repeated crashes stop the server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from .server_process import free_port, healthy, start_server, stop_server, wait_for, worker_pids


def test_restart_policy_backs_off_and_gives_up_on_repeated_crashes() -> None:
    from yidi.core.server import RestartPolicy

    policy = RestartPolicy(max_crashes=3, window_seconds=60, first_delay=0.5)
    assert [policy.crashed(t) for t in (0.0, 1.0, 2.0)] == [0.5, 1.0, 2.0]  # doubling per recent crash
    assert policy.crashed(3.0) is None  # a fourth within 60 s: stop
    calm = RestartPolicy(max_crashes=3, window_seconds=60, first_delay=0.5)
    assert [calm.crashed(t) for t in (0.0, 100.0, 200.0, 300.0)] == [0.5] * 4  # crashes far apart never stop it
    capped = RestartPolicy(max_crashes=100, window_seconds=1000, first_delay=1)
    assert max(capped.crashed(float(t)) or 0 for t in range(20)) == 30  # the back-off never exceeds 30 s


def test_describe_exit_names_the_signal() -> None:
    from yidi.core.server import describe_exit

    assert describe_exit(-9) == "killed by signal SIGKILL"
    assert describe_exit(1) == "exited with status 1"


@pytest.mark.pg
def test_a_killed_worker_is_restarted_while_the_other_serves(pg_url: str, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    server = start_server(pg_url, port, log)
    try:
        before = worker_pids(server.pid)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in worker_pids(server.pid), 10, "the killed worker is gone")
        assert server.poll() is None, log.read_text()[-3000:]  # the supervisor goes on
        assert (before - {victim}) <= worker_pids(server.pid)  # and so does the other worker …
        assert healthy(port)  # … which answers meanwhile
        wait_for(lambda: len(worker_pids(server.pid)) == 2, 30, "a new worker in place of the killed one", server)
        wait_for(lambda: healthy(port), 30, "the server answers")
        text = log.read_text()
        assert "killed by signal SIGKILL; restarting in" in text and '"level": "WARNING"' in text
    finally:
        status = stop_server(server)
    assert status == 0, log.read_text()[-3000:]  # SIGTERM still stops everything cleanly
    assert worker_pids(server.pid) == set()


@pytest.mark.pg
def test_repeated_crashes_stop_the_server(pg_url: str, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    # One crash within the window is restarted, the second stops everything.
    server = start_server(pg_url, port, log, YIDI_WORKER_MAX_CRASHES="1", YIDI_WORKER_RESTART_DELAY_SECONDS="0.1")
    try:
        first = min(worker_pids(server.pid))
        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: first not in worker_pids(server.pid) and len(worker_pids(server.pid)) == 2,
            30,
            "the first crash restarted",
            server,
        )
        assert server.poll() is None
        remaining = worker_pids(server.pid)
        os.kill(min(remaining), signal.SIGKILL)
        status = server.wait(timeout=40)
    finally:
        if server.poll() is None:
            stop_server(server)
    assert status == 1, log.read_text()[-3000:]
    assert "crashes within 60 s; stopping all" in log.read_text()
    for pid in remaining:  # the other worker was stopped with the supervisor
        wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or _zombie(pid), 10, f"worker {pid} stopped")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
