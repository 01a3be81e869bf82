"""Where one settlement's work goes, without HTTP: CPU and SQL statements per call, in one process.

    .venv/bin/python bench/profile_settle.py [--iterations 150] [--cprofile out.prof]

Creates `yidi_profile` on PostgreSQL (the same data as bench/settle.py), then runs 2201 → 2204 (10 lines) → 2207
through `gateway.service.handle_signed` — the function the HTTP endpoint calls, signature and nonce included —
and prints, per transaction, the CPU time of this process and the statements sent. The first 10 iterations
warm up and are not counted. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

from settle import HOSP, INSURED, KEY_ID, SECRET, TREATED, admin, fee_items, load
from sqlalchemy import event

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway import service
from yidi.gateway.client import PATH, GatewayClient, MsgIdGenerator, check
from yidi.security.access import SignedRequest
from yidi.security.client import signed_headers
from yidi.security.signing import SignedHeaders

DB = "yidi_profile"
HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")


class Profiler:
    def __init__(self, db: Database) -> None:
        self.db, self.statements = db, 0
        self.per: dict[str, list[float]] = {}  # infno -> [calls, cpu seconds, statements]
        self.envelopes = GatewayClient("http://unused", fixmedins_code=HOSP, key_id=KEY_ID, key=SECRET,
                                       mdtrtarea_admvs=TREATED, fixmedins_name="bench")  # fmt: skip
        self.envelopes.http.close()
        self.envelopes.msgids = MsgIdGenerator(HOSP)
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.statements += 1

    def call(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(self.envelopes.envelope(infno, payload, INSURED), ensure_ascii=False).encode()
        signed = signed_headers(KEY_ID, SECRET, "POST", PATH, raw)
        request = SignedRequest(SignedHeaders(*(signed[h] for h in HEADERS)), "POST", PATH, raw)
        before, started = self.statements, time.process_time()
        answer = service.handle_signed(self.db, request, json.loads(raw, parse_float=str))
        json.dumps(answer, ensure_ascii=False)  # as the endpoint does
        totals = self.per.setdefault(infno, [0, 0.0, 0])
        totals[0] += 1
        totals[1] += time.process_time() - started
        totals[2] += self.statements - before
        check(infno, answer)
        return answer.get("output") or {}

    def iteration(self, n: int, person: tuple[str, str], items: list[tuple[str, Decimal, Decimal]]) -> None:
        psn_no, certno = person
        t = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        reg = self.call("2201", {"data": {
            "psn_no": psn_no, "insutype": "310", "begntime": t, "med_type": "11", "mdtrt_cert_type": "02",
            "mdtrt_cert_no": certno, "ipt_otp_no": f"PF{time.time_ns()}{n}", "dept_code": "D01",
            "caty": "A03"}})  # fmt: skip
        mdtrt_id = reg["data"]["mdtrt_id"]
        lines = [{"feedetl_sn": str(k), "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "1",
                  "med_list_codg": code, "fee_ocur_time": t, "det_item_fee_sumamt": str(cnt * pric),
                  "cnt": str(cnt), "pric": str(pric)} for k, (code, cnt, pric) in enumerate(items, 1)]  # fmt: skip
        self.call("2204", {"feedetail": lines})
        total = sum((cnt * pric for _, cnt, pric in items), Decimal("0.00"))
        self.call("2207", {"data": {
            "psn_no": psn_no, "mdtrt_id": mdtrt_id, "med_type": "11", "medfee_sumamt": str(total), "insutype": "310",
            "chrg_bchno": "1", "acct_used_flag": "1", "mdtrt_cert_type": "02", "psn_setlway": "01"}})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--cprofile", help="write cProfile data (CPU time) of the counted iterations here")
    parser.add_argument("--pghost", default="127.0.0.1")
    parser.add_argument("--pgport", type=int, default=5432)
    parser.add_argument("--pguser", default="postgres")
    args = parser.parse_args()
    admin(args, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", f"CREATE DATABASE {DB}")
    url = f"postgresql+psycopg://{args.pguser}@{args.pghost}:{args.pgport}/{DB}"
    db = None
    try:
        people = load(url, args.persons)
        db = Database(url)
        profiler, items = Profiler(db), fee_items()
        for _, certno in people:  # registering needs the person identified (1101) at the institution today
            profiler.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
        profiler.per.clear()
        for n in range(10):
            profiler.iteration(n, people[n % len(people)], items)
        profiler.per.clear()
        profile = cProfile.Profile(time.process_time) if args.cprofile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        for n in range(args.iterations):
            profiler.iteration(n, people[n % len(people)], items)
        if profile:
            profile.disable()
            profile.dump_stats(args.cprofile)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{args.iterations} iterations: wall {wall / args.iterations * 1000:.1f} ms, "
              f"CPU {cpu / args.iterations * 1000:.1f} ms per 2201→2204→2207")  # fmt: skip
        for infno, (calls, seconds, statements) in profiler.per.items():
            print(f"  {infno}: CPU {seconds / calls * 1000:.2f} ms, {statements / calls:.1f} statements per call")
    finally:
        if db is not None:
            db.dispose()
        admin(args, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
