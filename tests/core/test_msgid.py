"""msgids from the HIS client: unique per institution however many clients and threads a process runs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.core.ids import parse_msgid
from yidi.gateway.client import GatewayClient, MsgIdGenerator

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)


def test_independent_generators_of_one_institution_never_repeat_a_msgid() -> None:
    # 200 generators (say, one per client) asking for 100 msgids each in the same second: 20,000 msgids, more
    # than the 10,000 sequences of one second, so independent counters must collide and a shared one must
    # move on to the next second.
    code = "H11000000701"
    generators = [MsgIdGenerator(code) for _ in range(200)]
    ids = [g(NOW) for _ in range(100) for g in generators]
    assert len(set(ids)) == len(ids) == 20_000
    parsed = [parse_msgid(i) for i in ids]  # every one valid for the national format
    assert {p.fixmedins_code for p in parsed} == {code}
    assert {p.sent_at for p in parsed} == {NOW.replace(tzinfo=None), NOW.replace(tzinfo=None) + dt.timedelta(seconds=1)}


def test_clients_on_many_threads_never_repeat_a_msgid() -> None:
    code = "H11000000702"
    out: list[list[str]] = [[] for _ in range(8)]

    def run(n: int) -> None:
        client = GatewayClient("http://unused", fixmedins_code=code, key_id="k", key="s", mdtrtarea_admvs="110000")
        out[n] = [client.msgids(NOW) for _ in range(2_000)] + [client.envelope("1101", {})["msgid"] for _ in range(50)]
        client.http.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for chunk in out for i in chunk]
    assert len(ids) == 8 * 2_050 and len(set(ids)) == len(ids)


def test_timestamps_never_go_back_so_a_clock_set_back_cannot_repeat_a_msgid() -> None:
    g = MsgIdGenerator("H11000000703")
    first = g(NOW)
    earlier = g(NOW - dt.timedelta(seconds=30))  # NTP stepped the clock back
    assert parse_msgid(earlier).sent_at == parse_msgid(first).sent_at and earlier != first
    later = g(NOW + dt.timedelta(seconds=5))
    assert parse_msgid(later).sent_at == (NOW + dt.timedelta(seconds=5)).replace(tzinfo=None)


def test_terminals_of_one_institution_take_disjoint_sequences() -> None:
    # Two processes (or machines) of one hospital cannot share memory: each takes its own terminal number.
    code = "H11000000704"
    a = MsgIdGenerator(code, terminal=0, terminals=2)
    b = MsgIdGenerator(code, terminal=1, terminals=2)
    ids_a = {a(NOW) for _ in range(5_000)}
    ids_b = {b(NOW) for _ in range(5_000)}
    assert len(ids_a) == len(ids_b) == 5_000 and not ids_a & ids_b
    assert {parse_msgid(i).sequence % 2 for i in ids_a} == {0} and {parse_msgid(i).sequence % 2 for i in ids_b} == {1}
    assert {parse_msgid(i).sent_at for i in ids_a} == {NOW.replace(tzinfo=None)}  # 5,000 fit in one second


@pytest.mark.parametrize(
    ("code", "terminal", "terminals"),
    [("H1101", 0, 1), ("H11000000705", 2, 2), ("H11000000705", 0, 0), ("H11000000705", 0, 10_001)],
)
def test_bad_generator_settings_are_refused(code: str, terminal: int, terminals: int) -> None:
    with pytest.raises(YidiError) as err:
        MsgIdGenerator(code, terminal=terminal, terminals=terminals)
    assert err.value.code == "E_IDENTIFIER"
