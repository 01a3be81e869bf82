"""Crash test: HIS flows (2201 → 2204 → 2207) from several threads against `yidi serve --workers 2` on PostgreSQL
while one worker is killed with SIGKILL. Clients retry what got no answer with the same msgid, as an HIS does.

Afterwards every acknowledged settlement exists exactly once; a settlement nobody saw acknowledged exists only
with its msgid in the message log (a retry gets its answer); a retry of any msgid gets the identical answer;
the accumulators and the personal accounts equal what the settlements say; and the supervisor replaced the
killed worker. Bounded: about 30 s on two cores, every wait has its own limit.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.bootstrap import prepare
from yidi.core.certno import checksum_char
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.money import to_fen
from yidi.core.principal import Audience, Principal
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.filing.service import SubmitRequest, submit
from yidi.gateway.client import GatewayClient, check
from yidi.gateway.transactions import READ_ONLY
from yidi.people.models import Insurance
from yidi.people.schemas import PersonIn
from yidi.people.service import add_person
from yidi.settlement.inputs import COUNT_KEYS
from yidi.settlement.models import Accumulator, MessageLog, Settlement, Visit

from ..conftest import PgDatabases
from .server_process import connections_held, free_port, healthy, start_server, stop_server, wait_for, worker_pids

pytestmark = pytest.mark.pg

HOSP, INSURED, TREATED = "H11010500001", "411100", "110000"  # 北京演示第一医院; 漯河 → 北京
THREADS, PERSONS, BALANCE = 4, 3, Decimal("5000.00")  # fewer persons than threads: accumulators are contended
CALL_LIMIT = 30.0  # seconds one call may keep being retried


def _persons(db: Database) -> list[tuple[str, str]]:
    """漯河 retirees (synthetic ID numbers) with an approved long-term filing to 北京, as bench/settle.py does."""
    now = dt.datetime.now(SHANGHAI)
    people = []
    with db.unit_of_work() as session:
        for n in range(PERSONS):
            first17 = f"411102{dt.date(1951, 2, 1) + dt.timedelta(days=n):%Y%m%d}{950 + n:03d}"
            psn_no, certno = f"41110095{n:012d}", first17 + checksum_char(first17)
            insurance = {"insutype": "310", "insuplc_admdvs": INSURED, "psn_type": "1201", "retiree": True,
                         "begndate": "2010-01-01", "balc": str(BALANCE)}  # fmt: skip
            person = PersonIn(psn_no=psn_no, psn_name=f"测崩{n}", certno=certno, insurances=[insurance])
            add_person(session, person, now)
            request = SubmitRequest(psn_no=psn_no, insutype="310", subtype=Subtype.RESETTLED_RETIREE,
                                    target_region=TREATED, begndate=now.date(), basis=Basis.COMMITMENT,
                                    channel=Channel.NATIONAL_APP)  # fmt: skip
            assert submit(session, Principal(Audience.PERSON, psn_no), request, now).status == "approved"
            people.append((psn_no, certno))
    return people


def _fee_items() -> list[tuple[str, Decimal, Decimal]]:
    """Three 北京 catalogue drugs without a price cap: (code, count, price), amounts in whole fen."""
    text = resources.files("yidi.catalog").joinpath(f"data/{TREATED}.csv").read_text(encoding="utf-8")
    drugs = [r for r in csv.DictReader(text.splitlines()) if r["med_chrgitm_type"] == "09" and not r["pric_uplmt_amt"]]
    return [(r["med_list_codg"], Decimal(5 + n), Decimal(f"{n + 3}.15")) for n, r in enumerate(drugs[:3])]


@dataclass
class Record:
    """What the HIS threads sent and what they were told."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # msgid → envelope (every one, answered or not)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # msgid → the answer received
    lost: int = 0  # attempts without an answer (connection reset, refused, …)
    retried: set[str] = field(default_factory=set)  # msgids sent again after an attempt without an answer
    busy: int = 0  # E_BUSY answers (retried)
    errors: list[str] = field(default_factory=list)


class His:
    """One HIS terminal: its own connection, flows in a loop until told to stop."""

    def __init__(self, base_url: str, record: Record, people: list[tuple[str, str]], n: int) -> None:
        self.client = GatewayClient(
            base_url,
            fixmedins_code=HOSP,
            key_id=f"{HOSP}-demo",
            key=f"demo-secret-{HOSP}",
            mdtrtarea_admvs=TREATED,
            timeout=10,
        )
        self.record, self.people, self.n = record, people, n

    def deliver(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send until answered; what got no answer goes again under the same msgid (the same envelope)."""
        envelope = self.client.envelope(infno, payload, INSURED)
        with self.record.lock:
            self.record.sent[envelope["msgid"]] = envelope
        deadline = time.monotonic() + CALL_LIMIT
        while True:
            try:
                answer = self.client.post(envelope)
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code < 500:
                    raise
                with self.record.lock:
                    self.record.lost += 1
                    self.record.retried.add(envelope["msgid"])
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            if "[E_BUSY]" in str(answer.get("err_msg") or ""):  # not stored: the same msgid may succeed
                with self.record.lock:
                    self.record.busy += 1
                time.sleep(0.05)
                continue
            check(infno, answer)  # any other refusal fails the test
            with self.record.lock:
                self.record.answered[envelope["msgid"]] = answer
            return answer

    def flow(self, k: int, items: list[tuple[str, Decimal, Decimal]]) -> None:
        psn_no, certno = self.people[(self.n + k) % len(self.people)]
        now = dt.datetime.now(SHANGHAI)
        t = now.strftime("%Y-%m-%d %H:%M:%S")
        # The person presents an ID card first: registering needs the identification (1101) at this institution.
        self.deliver("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
        reg = self.deliver("2201", {"data": {
            "psn_no": psn_no, "insutype": "310", "begntime": t, "med_type": "11", "mdtrt_cert_type": "02",
            "mdtrt_cert_no": certno, "ipt_otp_no": f"CR{self.n}{k:05d}{now:%H%M%S}", "dept_code": "D01",
            "caty": "A03"}})  # fmt: skip
        mdtrt_id = reg["output"]["data"]["mdtrt_id"]
        lines = [{"feedetl_sn": str(i), "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "1",
                  "med_list_codg": code, "fee_ocur_time": t, "det_item_fee_sumamt": str(cnt * pric),
                  "cnt": str(cnt), "pric": str(pric)} for i, (code, cnt, pric) in enumerate(items, 1)]  # fmt: skip
        self.deliver("2204", {"feedetail": lines})
        total = sum((cnt * pric for _, cnt, pric in items), Decimal("0.00"))
        self.deliver("2207", {"data": {
            "psn_no": psn_no, "mdtrt_id": mdtrt_id, "med_type": "11", "medfee_sumamt": str(total),
            "insutype": "310", "chrg_bchno": "1", "acct_used_flag": "1", "mdtrt_cert_type": "02",
            "psn_setlway": "01"}})  # fmt: skip

    def run(self, stop: threading.Event, items: list[tuple[str, Decimal, Decimal]]) -> None:
        k = 0
        try:
            while not stop.is_set():  # a flow in progress is finished: no visit is left half-way
                self.flow(k, items)
                k += 1
        except Exception as exc:  # reported by the test, with the thread's number
            with self.record.lock:
                self.record.errors.append(f"HIS {self.n}: {type(exc).__name__}: {exc}"[:500])


def _settled(record: Record) -> int:
    with record.lock:
        return sum(1 for m, a in record.answered.items() if record.sent[m]["infno"] == "2207" and a["infcode"] == 0)


def test_killing_a_worker_under_load_loses_and_doubles_nothing(pg_databases: PgDatabases, tmp_path: Path) -> None:
    started = time.monotonic()
    url = pg_databases.create()
    db = Database(url)
    try:
        prepare(db, demo_if_empty=True)  # the demo institutions and their keys; not production
        people = _persons(db)
    finally:
        db.dispose()
    items = _fee_items()
    port, log = free_port(), tmp_path / "server.log"
    server = start_server(url, port, log)
    record, stop = Record(), threading.Event()
    terminals = [His(f"http://127.0.0.1:{port}", record, people, n) for n in range(THREADS)]
    threads = [threading.Thread(target=h.run, args=(stop, items), name=f"his-{h.n}") for h in terminals]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: _settled(record) >= 6 or bool(record.errors), 30, "settlements under way", server)
        # The worker holding the most client connections: its clients surely lose something in flight.
        workers = worker_pids(server.pid)
        victim = max(workers, key=lambda pid: connections_held(pid, port))
        assert connections_held(victim, port) > 0
        os.kill(victim, signal.SIGKILL)
        settled_at_kill = _settled(record)
        wait_for(
            lambda: victim not in worker_pids(server.pid) and len(worker_pids(server.pid)) == 2,
            30,
            "the killed worker replaced",
            server,
        )
        wait_for(lambda: _settled(record) >= settled_at_kill + 6 or bool(record.errors), 20, "load goes on", server)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=CALL_LIMIT * 3 + 10)
    try:
        assert not record.errors, record.errors
        assert not any(t.is_alive() for t in threads)
        assert record.lost > 0, "the kill interrupted no client: the test did not test anything"
        assert server.poll() is None and len(worker_pids(server.pid)) == 2 and victim not in worker_pids(server.pid)
        assert healthy(port)
        assert "killed by signal SIGKILL; restarting in" in log.read_text()
        _check_replays(port, record)
        _check_database(url, record, people)
        retried = sum(1 for m in record.retried if record.sent[m]["infno"] == "2207")
        print(  # shown with -s: what this run went through
            f"crash test: {_settled(record)} settlements acknowledged, {record.lost} attempts without an answer, "
            f"{len(record.retried)} msgids sent again ({retried} of them 2207), {record.busy} busy answers"
        )
    finally:
        status = stop_server(server)
    assert status == 0, log.read_text()[-3000:]
    assert time.monotonic() - started < 90  # bounded (about 30 s on two shared cores)


def _check_replays(port: int, record: Record) -> None:
    """Every msgid answered once is answered identically when sent again (a retry after a lost answer); a query
    (1101) is not kept and is answered afresh."""
    client = GatewayClient(
        f"http://127.0.0.1:{port}",
        fixmedins_code=HOSP,
        key_id=f"{HOSP}-demo",
        key=f"demo-secret-{HOSP}",
        mdtrtarea_admvs=TREATED,
    )
    for msgid, answer in record.answered.items():
        if record.sent[msgid]["infno"] not in READ_ONLY:
            assert client.replay(record.sent[msgid]) == answer, msgid


def _check_database(url: str, record: Record, people: list[tuple[str, str]]) -> None:
    acknowledged = {
        m: a["output"]["setlinfo"]["setl_id"]
        for m, a in record.answered.items()
        if record.sent[m]["infno"] == "2207" and a["infcode"] == 0
    }
    registered = {m for m in record.answered if record.sent[m]["infno"] == "2201"}
    db = Database(url)
    try:
        with db.read_only() as s:
            _check_rows(s, record, people, acknowledged, registered)
    finally:
        db.dispose()


def _check_rows(
    s: Session, record: Record, people: list[tuple[str, str]], acknowledged: dict[str, str], registered: set[str]
) -> None:
    settlements = list(s.scalars(select(Settlement)))
    visits = list(s.scalars(select(Visit)))
    log_rows = {r.msgid: r for r in s.scalars(select(MessageLog).where(MessageLog.infno == "2207"))}
    accumulators = list(s.scalars(select(Accumulator)))
    balances = {i.psn_no: i.balc for i in s.scalars(select(Insurance))}
    by_msgid: dict[str, list[Settlement]] = defaultdict(list)
    by_visit: dict[str, list[Settlement]] = defaultdict(list)
    for row in settlements:
        by_msgid[row.msgid].append(row)
        by_visit[row.mdtrt_id].append(row)
        assert row.status == "settled" and row.reverses is None  # the flows never cancel
    # Every acknowledged settlement exists once: under its msgid, for its visit.
    for msgid, setl_id in acknowledged.items():
        assert [r.setl_id for r in by_msgid[msgid]] == [setl_id], msgid
    assert all(len(rows) == 1 for rows in by_visit.values()), "a visit settled twice"
    # None exists unacknowledged except as a replayable msgid (its answer kept in the message log).
    for row in settlements:
        if row.msgid not in acknowledged:
            assert row.msgid in record.sent, f"{row.setl_id}: a settlement nobody asked for"
            kept = log_rows.get(row.msgid)
            assert kept is not None and kept.infcode == 0, f"{row.setl_id}: no answer kept for {row.msgid}"
            assert kept.response["output"]["setlinfo"]["setl_id"] == row.setl_id
    # Visits: one per acknowledged 2201, none from a message that was not sent.
    created = [v.created_msgid for v in visits]
    assert len(created) == len(set(created)) and registered <= set(created) <= set(record.sent)
    # The accumulators are the sums of the settlements' increments, key by key (fen, or counts).
    expected: dict[tuple[str, str, int, str], int] = defaultdict(int)
    for row in settlements:
        for key, amount in row.increments.items():
            value = int(Decimal(amount)) if key in COUNT_KEYS else to_fen(Decimal(amount))
            expected[(row.psn_no, row.insutype, row.year, key)] += value
    actual = {(a.psn_no, a.insutype, a.year, a.key): a.value for a in accumulators}
    assert {k: v for k, v in actual.items() if v} == {k: v for k, v in expected.items() if v}
    # The personal accounts: the opening balance less what the settlements took from them.
    for psn_no, _ in people:
        paid = sum((r.acct_pay for r in settlements if r.psn_no == psn_no), Decimal("0.00"))
        assert balances[psn_no] == BALANCE - paid, psn_no
    assert len(acknowledged) >= 12  # six before the kill and six after, at least
