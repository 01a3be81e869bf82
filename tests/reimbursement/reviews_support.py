"""Shared set-up of the review tests: the demo loaded, a filing, an outpatient visit settled through the gateway's
own entry point (`gateway.service.handle`, as the HIS would call it), a cancellation, the accumulators."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal, Role
from yidi.demo.service import load_demo
from yidi.filing import service as filing
from yidi.filing.rules import Basis, Channel, Status, Subtype
from yidi.gateway.client import MsgIdGenerator
from yidi.gateway.service import handle
from yidi.reimbursement import payments
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.payment_rules import ResultRow
from yidi.settlement.models import Accumulator
from yidi.settlement.service import MONEY_FIELDS

# 漯河 (411100) employee, not retired, account balance 2,300.00; no 门慢 qualification.
PSN, CERTNO = "41110000000000000005", "411102198505059094"
OTHER_PSN = "41110000000000000006"  # another 漯河 employee
HOSP, HOSP_REGION = "H11010500001", "110000"  # 北京, 医保结算等级 level_3
ACARBOSE = "XA10BFA331A740537984000"  # 北京 catalogue: 甲类
VITAMIN_C = "XA11GAA143A977397761000"  # 北京 catalogue: 丙类
REPAGLINIDE = "XA10BXA248A880381848000"  # 北京 catalogue: 乙类, first self-pay 10 %

REVIEWER = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({"411100"}))
CLERK = Principal(Audience.STAFF, "clearing.411100", frozenset({Role.CLEARING_OFFICER}), frozenset({"411100"}))
BEIJING_REVIEWER = Principal(Audience.STAFF, "reviewer.110000", frozenset({Role.REVIEWER}), frozenset({"110000"}))
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)  # a Monday; 20 working days later is 2026-06-30


def person(psn_no: str = PSN) -> Principal:
    return Principal(Audience.PERSON, psn_no)


def load(db: Database) -> None:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2025, 1, 1, tzinfo=SHANGHAI))


def file(db: Database, psn_no: str, subtype: Subtype, begndate: dt.date, region: str = "411100") -> str:
    """An approved filing to 北京 from `begndate`."""
    basis = Basis.NONE if subtype in (Subtype.OTHER_TEMPORARY, Subtype.EMERGENCY) else Basis.COMMITMENT
    now = dt.datetime.combine(begndate, dt.time(9), SHANGHAI)
    with db.unit_of_work() as s:
        f = filing.submit(
            s,
            Principal(Audience.PERSON, psn_no),
            filing.SubmitRequest(psn_no, "310", subtype, HOSP_REGION, begndate, basis, Channel.NATIONAL_APP),
            now,
        )
        if f.status != Status.APPROVED:
            reviewer = Principal(Audience.STAFF, "t", frozenset({Role.REVIEWER}), frozenset({region}))
            filing.decide_review(s, reviewer, f.id, "approve", None, now)
        return f.id


class Hospital:
    """The HIS of one institution calling the gateway in process."""

    def __init__(self, db: Database, code: str = HOSP, region: str = HOSP_REGION) -> None:
        self.db, self.code, self.region = db, code, region
        self.principal = Principal(Audience.INSTITUTION, code)
        self.msgids = MsgIdGenerator(code)

    def call(self, infno: str, payload: dict[str, Any], insuplc: str = "411100") -> dict[str, Any]:
        envelope = {
            "infno": infno,
            "msgid": self.msgids(),
            "mdtrtarea_admvs": self.region,
            "insuplc_admdvs": insuplc,
            "recer_sys_code": "YBXT",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "1",
            "opter_name": "t",
            "inf_time": "2025-03-10 10:00:00",
            "fixmedins_code": self.code,
            "input": payload,
        }
        return handle(self.db, self.principal, json.loads(json.dumps(envelope)))

    def ok(self, infno: str, payload: dict[str, Any], insuplc: str = "411100") -> dict[str, Any]:
        answer = self.call(infno, payload, insuplc)
        assert answer["infcode"] == 0, answer["err_msg"]
        output: dict[str, Any] = answer["output"]
        return output

    def outpatient(
        self,
        psn_no: str,
        certno: str,
        day: str,
        lines: list[tuple[str, str, str, str]],
        number: str,
        *,
        acct: str = "0",
        insuplc: str = "411100",
    ) -> dict[str, Any]:
        """Identify, register, upload `lines` (code, total, count, price) and settle (2207): the setlinfo."""
        self.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}}, insuplc)
        reg = self.ok(
            "2201",
            {"data": {"psn_no": psn_no, "insutype": "310", "begntime": f"{day} 09:00:00", "ipt_otp_no": number}},
            insuplc,
        )
        mdtrt_id = reg["data"]["mdtrt_id"]
        feedetail = [
            {
                "feedetl_sn": str(n),
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_list_codg": code,
                "fee_ocur_time": f"{day} 09:10:00",
                "det_item_fee_sumamt": total,
                "cnt": cnt,
                "pric": pric,
            }
            for n, (code, total, cnt, pric) in enumerate(lines, 1)
        ]
        self.ok("2204", {"feedetail": feedetail}, insuplc)
        total = str(sum((Decimal(line[1]) for line in lines), Decimal(0)))
        settled = self.ok(
            "2207",
            {
                "data": {
                    "psn_no": psn_no,
                    "mdtrt_id": mdtrt_id,
                    "med_type": "11",
                    "insutype": "310",
                    "medfee_sumamt": total,
                    "acct_used_flag": acct,
                }
            },
            insuplc,
        )
        info: dict[str, Any] = settled["setlinfo"]
        # Amounts as Decimal, to compare with the hand-worked values (the in-process answer keeps them as text).
        return {k: Decimal(v) if k in MONEY_FIELDS or k == "balc" else v for k, v in info.items()}

    def inpatient(
        self,
        psn_no: str,
        certno: str,
        admitted: str,
        discharged: str,
        lines: list[tuple[str, str, str, str]],
        number: str,
    ) -> dict[str, Any]:
        """Identify, admit (2401), upload `lines` on the admission day (2301), discharge (2402) and settle the
        whole stay with the personal account (2304): the setlinfo."""
        self.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
        mdtrtinfo = {
            "psn_no": psn_no,
            "insutype": "310",
            "begntime": f"{admitted} 08:00:00",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": certno,
            "med_type": "21",
            "ipt_no": number,
            "adm_dept_codg": "D12",
            "dise_codg": "I10.x00",
        }
        mdtrt_id = self.ok("2401", {"mdtrtinfo": mdtrtinfo, "diseinfo": []})["result"]["mdtrt_id"]
        feedetail = [
            {
                "feedetl_sn": str(n),
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_list_codg": code,
                "fee_ocur_time": f"{admitted} 10:00:00",
                "det_item_fee_sumamt": total,
                "cnt": cnt,
                "pric": pric,
            }
            for n, (code, total, cnt, pric) in enumerate(lines, 1)
        ]
        self.ok("2301", {"feedetail": feedetail})
        dscginfo = {
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "insutype": "310",
            "endtime": f"{discharged} 09:00:00",
            "dscg_way": "1",
        }
        self.ok("2402", {"dscginfo": dscginfo, "diseinfo": []})
        total = str(sum((Decimal(line[1]) for line in lines), Decimal(0)))
        data = {
            "psn_no": psn_no,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "medfee_sumamt": total,
            "mdtrt_cert_type": "02",
            "mid_setl_flag": "0",
            "acct_used_flag": "1",
        }
        info: dict[str, Any] = self.ok("2304", {"data": data})["setlinfo"]
        return {k: Decimal(v) if k in MONEY_FIELDS or k == "balc" else v for k, v in info.items()}

    def cancel(self, info: dict[str, Any], insuplc: str = "411100") -> dict[str, Any]:
        """2208 of a settlement: the whole answer (infcode 0, or -1 and err_msg)."""
        return self.call(
            "2208",
            {"data": {"setl_id": info["setl_id"], "mdtrt_id": info["mdtrt_id"], "psn_no": info["psn_no"]}},
            insuplc,
        )


# The bill of most tests: 甲类 1,000.00 and 丙类 100.00, at a level-3 hospital in 北京 on 2025-03-10.
BILL = [(ACARBOSE, "1000.00", "400", "2.5"), (VITAMIN_C, "100.00", "100", "1")]


def accumulators(db: Database, psn_no: str = PSN) -> dict[str, int]:
    """The person's accumulators (fen; counts as counts), zeros left out."""
    with db.read_only() as s:
        rows = s.scalars(select(Accumulator).where(Accumulator.psn_no == psn_no))
        return {a.key: a.value for a in rows if a.value}


def pay(db: Database, review_id: str, serial: str, when: dt.datetime = NOW) -> SettlementReview:
    """Pay a decided difference as the agency does: a payment batch of the region, the bank's result recorded paid
    (the review's cash part is the batch's only transfer of it)."""
    with db.unit_of_work() as s:
        batch = payments.create_batch(s, CLERK, "411100", when, f"pay-{review_id[-12:]}-{serial}"[:40]).batch
        item = next(i for i in batch.items if i.source_id == review_id)
        row = ResultRow(1, item_id=str(item.id), result="paid", bank_serial=serial, paid_on=when.date().isoformat())
        payments.record_results(s, CLERK, batch.id, [row], when)
        s.flush()
        review = s.get(SettlementReview, review_id)
        assert review is not None
        s.expunge(review)
        return review
