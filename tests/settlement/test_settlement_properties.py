"""Through the service: any sequence of settlements and cancellations leaves the accumulators equal to the
sum of the settlements in force, and cancelling everything restores every accumulator to zero."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal
from yidi.demo.service import load_demo
from yidi.filing import service as filing
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.gateway.client import MsgIdGenerator
from yidi.gateway.service import handle
from yidi.settlement.models import Accumulator, FeeRecord, MessageLog, Settlement, Visit

PSN, CERTNO, HOSP = "45060000000000000001", "450602195409299696", "H11010500001"
DRUGS = ["XC08CAA276A679591896000", "XA10BXA248A880381848000", "XZZ00000000000000000000"]


def _env(ids: MsgIdGenerator, infno: str, payload: dict[str, object]) -> dict[str, object]:
    return json.loads(
        json.dumps(
            {
                "infno": infno,
                "msgid": ids(),
                "mdtrtarea_admvs": "110000",
                "insuplc_admdvs": "450600",
                "recer_sys_code": "YBXT",
                "infver": "V1.0",
                "opter_type": "1",
                "opter": "1",
                "opter_name": "t",
                "inf_time": "2025-06-10 10:00:00",
                "fixmedins_code": HOSP,
                "input": payload,
            }
        )
    )


def _acc(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == PSN)) if a.value}


def _expected(db: Database) -> dict[str, int]:
    totals: dict[str, int] = {}
    with db.read_only() as s:
        for row in s.scalars(select(Settlement).where(Settlement.psn_no == PSN, Settlement.status == "settled")):
            for key, value in row.increments.items():
                amount = Decimal(value)
                totals[key] = totals.get(key, 0) + (int(amount) if key == "inpatient.stays" else int(amount * 100))
    return {k: v for k, v in totals.items() if v}


def test_accumulators_follow_settlements_and_cancellations(db: Database) -> None:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2025, 1, 1, tzinfo=SHANGHAI))
        filing.submit(
            s,
            Principal(Audience.PERSON, PSN),
            filing.SubmitRequest(
                PSN,
                "310",
                Subtype.RESETTLED_RETIREE,
                "110000",
                dt.date(2025, 6, 1),
                Basis.COMMITMENT,
                Channel.NATIONAL_APP,
            ),
            dt.datetime(2025, 6, 1, 9, tzinfo=SHANGHAI),
        )
    hospital = Principal(Audience.INSTITUTION, HOSP)
    ids = MsgIdGenerator(HOSP)
    # Registering needs the person identified (1101) at the institution today; the identification outlives the
    # examples (their tables are emptied, not the identifications).
    card = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}}
    assert handle(db, hospital, _env(ids, "1101", card))["infcode"] == 0

    @given(
        st.lists(
            st.tuples(st.sampled_from(["settle", "cancel"]), st.integers(1, 300_000), st.integers(0, 2)),
            min_size=1,
            max_size=8,
        )
    )
    # No health check suppressed: @given wraps an inner function (no function-scoped fixture is reused across
    # examples) and drawing a few small tuples is never slow; only the database work is, which is not measured.
    @settings(max_examples=12, deadline=None)
    def run(ops: list[tuple[str, int, int]]) -> None:
        with db.unit_of_work() as s:  # each example starts from an empty year
            for table in (Settlement, FeeRecord, Visit, Accumulator, MessageLog):
                s.execute(delete(table))
        settled: list[tuple[str, str]] = []
        for n, (op, cents, drug) in enumerate(ops):
            if op == "cancel" and settled:
                setl_id, mdtrt_id = settled.pop(0)
                out = handle(
                    db, hospital, _env(ids, "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": PSN}})
                )
                assert out["infcode"] == 0, out
            else:
                reg = handle(
                    db,
                    hospital,
                    _env(
                        ids,
                        "2201",
                        {
                            "data": {
                                "psn_no": PSN,
                                "insutype": "310",
                                "begntime": "2025-06-10 09:00:00",
                                "ipt_otp_no": f"P{n}",
                            }
                        },
                    ),
                )
                mdtrt_id = reg["output"]["data"]["mdtrt_id"]
                handle(
                    db,
                    hospital,
                    _env(
                        ids,
                        "2203",
                        {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": PSN, "med_type": "14", "dise_codg": "M03900"}},
                    ),
                )
                amount = f"{Decimal(cents) / 100:.2f}"
                handle(
                    db,
                    hospital,
                    _env(
                        ids,
                        "2204",
                        {
                            "feedetail": [
                                {
                                    "feedetl_sn": "1",
                                    "mdtrt_id": mdtrt_id,
                                    "psn_no": PSN,
                                    "med_list_codg": DRUGS[drug],
                                    "fee_ocur_time": "2025-06-10 09:10:00",
                                    "det_item_fee_sumamt": amount,
                                    "cnt": "1",
                                    "pric": amount,
                                }
                            ]
                        },
                    ),
                )
                out = handle(
                    db,
                    hospital,
                    _env(
                        ids,
                        "2207",
                        {
                            "data": {
                                "psn_no": PSN,
                                "mdtrt_id": mdtrt_id,
                                "med_type": "14",
                                "insutype": "310",
                                "medfee_sumamt": amount,
                            }
                        },
                    ),
                )
                assert out["infcode"] == 0, out
                info = out["output"]["setlinfo"]
                assert Decimal(info["fund_pay_sumamt"]) + Decimal(info["psn_part_amt"]) == Decimal(amount)
                settled.append((info["setl_id"], mdtrt_id))
            assert _acc(db) == _expected(db)
        for setl_id, mdtrt_id in settled:
            handle(db, hospital, _env(ids, "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": PSN}}))
        assert _acc(db) == {}

    run()
