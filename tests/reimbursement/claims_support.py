"""A small factory of manual claims for tests: visits, lines and invoices as the API takes them, and a claim
drafted, submitted or approved in one call. Reusable by the payments, reviews and forms tests.

Amounts are text, as the API takes them; each line's amount is its count × price (so the tests state the count
and price and the amount follows, half up to the fen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.money import round_yuan
from yidi.core.principal import Audience, Principal, Role
from yidi.reimbursement import drafts, service

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)  # conftest.FROZEN_NOW: a Monday
LH_EMPLOYEE = "41110000000000000005"  # 漯河 employee, not retired, not a civil servant (陈某戊)
LH_EMPLOYEE_2 = "41110000000000000006"  # 漯河 employee, not retired (杨某己)
LH_RETIREE = "41110000000000000001"  # 漯河 retiree (王某甲)
BJ_HOSP = "H11010500001"  # 北京 level 3, networked
ACARBOSE = "XA10BFA331A740537984000"  # 甲类 in every demo catalogue
REPAGLINIDE = "XA10BXA248A880381848000"  # 乙类, first self-pay 10 %
NOT_IN_CATALOGUE = "001234567890123"  # a service code no demo catalogue has
PDF = b"%PDF-1.7 a scanned paper"
INPATIENT_PAPERS = ("invoice", "fee_list", "discharge_summary")  # 漯河's required materials for a stay
OUTPATIENT_PAPERS = ("invoice", "fee_list")

REVIEWER_LH = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({"411100"}))
CLEARING_LH = Principal(Audience.STAFF, "clearing.411100", frozenset({Role.CLEARING_OFFICER}), frozenset({"411100"}))
COUNTER_LH = Principal(Audience.STAFF, "counter.411100", frozenset(), frozenset({"411100"}))


def person(psn_no: str) -> Principal:
    return Principal(Audience.PERSON, psn_no)


def line(sn: str, code: str, when: str, cnt: str, pric: str, **extra: str) -> dict[str, str]:
    """A fee line; `when` a day (09:00 that day) or a date-time."""
    total = round_yuan(Decimal(cnt) * Decimal(pric))
    return {
        "feedetl_sn": sn,
        "med_list_codg": code,
        "medins_list_codg": f"HOSP-{code[:8]}",
        "fee_ocur_time": when if " " in when else f"{when} 09:00:00",
        "cnt": cnt,
        "pric": pric,
        "det_item_fee_sumamt": str(total),
        **extra,
    }


def total(lines: Iterable[Mapping[str, str]]) -> Decimal:
    return sum((Decimal(ln["det_item_fee_sumamt"]) for ln in lines), Decimal("0.00"))


def visit(
    begndate: str,
    enddate: str | None = None,
    *,
    lines: Sequence[Mapping[str, str]],
    fixmedins_code: str | None = BJ_HOSP,
    care: str = "outpatient",
    med_type: str | None = None,
    invono: str | None = None,
    invoices: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A visit at a networked institution (or, with fixmedins_code None, give institution_name, _region and
    _level in `extra`), with one invoice for the whole of its lines unless `invoices` says otherwise."""
    end = enddate or begndate
    number = invono or f"INV{begndate.replace('-', '')}"
    return {
        "fixmedins_code": fixmedins_code,
        "care": care,
        "med_type": med_type or {"outpatient": "11", "inpatient": "21", "chronic": "14", "pharmacy": "41"}[care],
        "begndate": begndate,
        "enddate": end,
        "diagnoses": [{"diag_code": "I10.x00", "diag_name": "高血压", "maindiag_flag": True}],
        "injury": False,
        "invoices": invoices
        if invoices is not None
        else [{"invono": number, "invoice_date": end, "amount": str(total(lines))}],
        "lines": list(lines),
        **extra,
    }


def outside(name: str, region: str, level: str) -> dict[str, Any]:
    """The institution fields of a hospital outside the network (typed in)."""
    return {"fixmedins_code": None, "institution_name": name, "institution_region": region, "institution_level": level}


def claim_body(visits: Sequence[Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"bank_name": "中国工商银行漯河分行", "bank_account": "6222020200112233445", "visits": list(visits), **extra}


def draft(
    db: Database,
    psn_no: str,
    visits: Sequence[Mapping[str, Any]],
    *,
    principal: Principal | None = None,
    now: dt.datetime = NOW,
    **extra: Any,
) -> str:
    with db.unit_of_work() as s:
        claim = drafts.create_claim(s, principal or person(psn_no), psn_no, claim_body(visits, **extra), now)
        return claim.id


def upload(db: Database, claim_id: str, kinds: Iterable[str], principal: Principal, now: dt.datetime = NOW) -> None:
    with db.unit_of_work() as s:
        for kind in kinds:
            drafts.add_material(s, principal, claim_id, kind, f"{kind}.pdf", PDF + kind.encode(), now)


def submitted(
    db: Database,
    psn_no: str,
    visits: Sequence[Mapping[str, Any]],
    kinds: Iterable[str] = OUTPATIENT_PAPERS,
    *,
    now: dt.datetime = NOW,
) -> str:
    claim_id = draft(db, psn_no, visits, now=now)
    upload(db, claim_id, kinds, person(psn_no), now)
    with db.unit_of_work() as s:
        service.submit(s, person(psn_no), claim_id, now)
    return claim_id


def approved(
    db: Database,
    psn_no: str,
    visits: Sequence[Mapping[str, Any]],
    kinds: Iterable[str] = OUTPATIENT_PAPERS,
    *,
    exclusions: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime = NOW,
) -> str:
    claim_id = submitted(db, psn_no, visits, kinds, now=now)
    with db.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, now)
        service.approve(s, REVIEWER_LH, claim_id, exclusions, now)
    return claim_id


class Hospital:
    """An HIS calling the national gateway in-process (`gateway.service.handle`, at the platform's clock)."""

    def __init__(self, db: Database, code: str = BJ_HOSP, region: str = "110000") -> None:
        from yidi.gateway.client import MsgIdGenerator

        self.db, self.code, self.region = db, code, region
        self.principal = Principal(Audience.INSTITUTION, code)
        self.msgids = MsgIdGenerator(code)

    def envelope(self, infno: str, payload: dict[str, Any], insuplc: str = "411100") -> dict[str, Any]:
        from yidi.core import clock

        return {
            "infno": infno,
            "msgid": self.msgids(),
            "mdtrtarea_admvs": self.region,
            "insuplc_admdvs": insuplc,
            "recer_sys_code": "YBXT",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "1",
            "opter_name": "收费员",
            "inf_time": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.code,
            "input": payload,
        }

    def call(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        from yidi.gateway.service import handle

        return handle(self.db, self.principal, self.envelope(infno, payload))

    def ok(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.call(infno, payload)
        assert answer["infcode"] == 0, answer["err_msg"]
        return dict(answer["output"])

    def outpatient_visit(self, psn_no: str, certno: str, day: str, lines: Sequence[Mapping[str, str]]) -> str:
        """1101, 2201 and 2204 of one outpatient visit; returns the mdtrt_id (settle it with `settle`)."""
        self.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
        reg = self.ok(
            "2201",
            {"data": {"psn_no": psn_no, "insutype": "310", "begntime": f"{day} 09:00:00", "ipt_otp_no": f"MZ{day}"}},
        )
        mdtrt_id = str(reg["data"]["mdtrt_id"])
        self.ok("2204", {"feedetail": [{**ln, "mdtrt_id": mdtrt_id, "psn_no": psn_no} for ln in lines]})
        return mdtrt_id

    def settle_envelope(self, psn_no: str, mdtrt_id: str, invono: str | None = None) -> dict[str, Any]:
        data = {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "med_type": "11", "insutype": "310", "acct_used_flag": "0"}
        return self.envelope("2207", {"data": {**data, **({"invono": invono} if invono else {})}})

    def settle(self, psn_no: str, mdtrt_id: str, invono: str | None = None) -> dict[str, Any]:
        """2207: the whole answer (infcode 0 or -1 with err_msg)."""
        from yidi.gateway.service import handle

        return handle(self.db, self.principal, self.settle_envelope(psn_no, mdtrt_id, invono))


def filed_to_beijing(db: Database, psn_no: str, begndate: dt.date, now: dt.datetime) -> str:
    """An other-temporary filing to 北京 (auto-approved: no proof to review); retroactive when begndate < now."""
    from yidi.filing import service as filing
    from yidi.filing.rules import Basis, Channel, Subtype

    with db.unit_of_work() as s:
        f = filing.submit(
            s,
            person(psn_no),
            filing.SubmitRequest(
                psn_no, "310", Subtype.OTHER_TEMPORARY, "110000", begndate, Basis.NONE, Channel.NATIONAL_APP
            ),
            now,
        )
        assert f.status == "approved"
        return f.id
