"""Fifty settlements of one person at once: the deductible is applied once and no cap is exceeded."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import select

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal
from yidi.demo.service import load_demo
from yidi.filing import service as filing
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.gateway.client import MsgIdGenerator
from yidi.gateway.service import handle
from yidi.settlement.models import Accumulator, Settlement

PSN, HOSP, DRUG = "41110000000000000005", "H11010500001", "XA10BFA331A740537984000"
N = 50


def _envelope(msgids: MsgIdGenerator, infno: str, payload: dict[str, object]) -> dict[str, object]:
    return json.loads(
        json.dumps(
            {
                "infno": infno,
                "msgid": msgids(),
                "mdtrtarea_admvs": "110000",
                "insuplc_admdvs": "411100",
                "recer_sys_code": "YBXT",
                "infver": "V1.0",
                "opter_type": "1",
                "opter": "1",
                "opter_name": "t",
                "inf_time": "2025-03-10 10:00:00",
                "fixmedins_code": HOSP,
                "input": payload,
            }
        )
    )


def test_fifty_concurrent_settlements_of_one_person(db: Database) -> None:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2025, 1, 1, tzinfo=SHANGHAI))
        filing.submit(
            s,
            Principal(Audience.PERSON, PSN),
            filing.SubmitRequest(
                PSN, "310", Subtype.OTHER_TEMPORARY, "110000", dt.date(2025, 3, 3), Basis.NONE, Channel.NATIONAL_APP
            ),
            dt.datetime(2025, 3, 3, 9, tzinfo=SHANGHAI),
        )
    hospital = Principal(Audience.INSTITUTION, HOSP)
    msgids = MsgIdGenerator(HOSP)
    # The person presents an ID card first: registering needs the identification (1101) at this institution.
    card = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "411102198505059094"}}
    assert handle(db, hospital, _envelope(msgids, "1101", card))["infcode"] == 0
    visits = []
    for n in range(N):
        reg = handle(
            db,
            hospital,
            _envelope(
                msgids,
                "2201",
                {"data": {"psn_no": PSN, "insutype": "310", "begntime": "2025-03-10 09:00:00", "ipt_otp_no": f"C{n}"}},
            ),
        )
        mdtrt_id = reg["output"]["data"]["mdtrt_id"]
        fee = handle(
            db,
            hospital,
            _envelope(
                msgids,
                "2204",
                {
                    "feedetail": [
                        {
                            "feedetl_sn": "1",
                            "mdtrt_id": mdtrt_id,
                            "psn_no": PSN,
                            "med_list_codg": DRUG,
                            "fee_ocur_time": "2025-03-10 09:10:00",
                            "det_item_fee_sumamt": "1000.00",
                            "cnt": "400",
                            "pric": "2.5",
                        }
                    ]
                },
            ),
        )
        assert fee["infcode"] == 0, fee
        visits.append(mdtrt_id)
    settle = [
        _envelope(
            msgids,
            "2207",
            {
                "data": {
                    "psn_no": PSN,
                    "mdtrt_id": v,
                    "med_type": "11",
                    "insutype": "310",
                    "medfee_sumamt": "1000.00",
                    "acct_used_flag": "0",
                }
            },
        )
        for v in visits
    ]
    with ThreadPoolExecutor(max_workers=N) as pool:
        answers = list(pool.map(lambda env: handle(db, hospital, env), settle))
    assert [a["infcode"] for a in answers] == [0] * N, [a["err_msg"] for a in answers if a["infcode"]]
    infos = [a["output"]["setlinfo"] for a in answers]
    deductible = sum(Decimal(i["act_pay_dedc"]) for i in infos)
    fund = sum(Decimal(i["hifp_pay"]) for i in infos)
    assert deductible == Decimal("150.00")  # 漯河 2025 employee outpatient deductible, applied once
    assert fund == Decimal("3000.00")  # the outpatient yearly cap, reached and never exceeded
    assert all(Decimal(i["psn_part_amt"]) + Decimal(i["fund_pay_sumamt"]) == Decimal("1000.00") for i in infos)
    with db.read_only() as s:
        acc = {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == PSN))}
        assert acc["outpatient.deductible"] == 15000 and acc["outpatient.fund"] == 300000
        assert len(s.scalars(select(Settlement.setl_id)).all()) == N
