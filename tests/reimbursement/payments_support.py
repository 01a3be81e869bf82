"""Rows for payment tests: approved claims and decided reviews written straight into their tables (so that the
payment tests do not depend on the claims and reviews workflows), the principals who pay or may not, and readers of
the files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from yidi.core.clock import SHANGHAI
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.money import CENT
from yidi.core.principal import Audience, Principal, Role
from yidi.reimbursement.models import Claim, SettlementReview
from yidi.settlement.models import Settlement, Visit

LH = "411100"  # 漯河
BJ = "110000"
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
ACCOUNT = "6222021234567890123"

CLEARING = Principal(Audience.STAFF, "clearing.411100", frozenset({Role.CLEARING_OFFICER}), frozenset({LH}))
CLEARING_2 = Principal(Audience.STAFF, "clearing2.411100", frozenset({Role.CLEARING_OFFICER}), frozenset({LH}))
ADMIN = Principal(Audience.STAFF, "admin", frozenset({Role.ADMINISTRATOR}), frozenset({LH, BJ}))
REVIEWER = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({LH}))
CLEARING_BJ = Principal(Audience.STAFF, "clearing.110000", frozenset({Role.CLEARING_OFFICER}), frozenset({BJ}))


def person(psn_no: str) -> Principal:
    return Principal(Audience.PERSON, psn_no)


def lh(n: int) -> str:
    """The n-th 漯河 demo person (1–11)."""
    return f"4111000000000000{n:04d}"


def claim(
    session: Session,
    psn_no: str,
    payable: str,
    *,
    status: str = "approved",
    region: str = LH,
    payee: str = "王某甲",
    bank: str = "中国工商银行漯河分行",
    account: str = ACCOUNT,
) -> Claim:
    """A claim as the claims service leaves it once approved: the split's totals and where the money goes."""
    fund = Decimal(payable) + Decimal("10.00")
    row = Claim(
        id=new_platform_id(PlatformIdKind.CLAIM, region, NOW),
        psn_no=psn_no,
        insutype="310",
        insured_region=region,
        status=status,
        channel="online",
        created_at=NOW - dt.timedelta(days=20),
        submitted_at=NOW - dt.timedelta(days=20),
        submitted_by=psn_no,
        due_date_provisional=False,
        decided_at=NOW - dt.timedelta(days=1),
        decided_by="reviewer.411100",
        payee_name=payee,
        bank_name=bank,
        bank_account=account,
        medfee_sumamt=fund + Decimal("50.00"),
        fund_pay_sumamt=fund,
        paid_directly=Decimal("10.00"),
        payable=Decimal(payable),
        version=3,
    )
    session.add(row)
    session.flush()
    return row


def review(
    session: Session,
    psn_no: str,
    difference: str,
    *,
    outcome: str = "difference",
    status: str = "decided",
    region: str = LH,
    payee: str | None = "刘某丁",
    bank: str | None = "中国农业银行漯河分行",
    account: str | None = "6228480123456789012",
) -> SettlementReview:
    """A review of a direct settlement (a settled visit in 北京 written as rows) decided with a difference."""
    when = NOW - dt.timedelta(days=30)
    mdtrt_id = new_platform_id(PlatformIdKind.VISIT, BJ, when)
    visit = Visit(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        insutype="310",
        insuplc_admdvs=region,
        fixmedins_code="H11010500001",
        mdtrtarea_admvs=BJ,
        kind="inpatient",
        med_type="21",
        ipt_otp_no=f"T{mdtrt_id[-9:]}",
        begntime=when,
        status="settled",
        created_msgid="H11010500001202605020900000001",
    )
    zero = Decimal("0.00")
    money = dict.fromkeys(
        (
            "medfee_sumamt fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_scp_amt act_pay_dedc hifp_pay "
            "cvlserv_pay hifmi_pay hifob_pay maf_pay oth_pay fund_pay_sumamt psn_part_amt acct_pay psn_cash_pay balc"
        ).split(),
        zero,
    )
    settlement = Settlement(
        setl_id=new_platform_id(PlatformIdKind.SETTLEMENT, BJ, when),
        mdtrt_id=visit.mdtrt_id,
        psn_no=psn_no,
        insutype="310",
        fixmedins_code="H11010500001",
        insuplc_admdvs=region,
        mdtrtarea_admvs=BJ,
        med_type="21",
        setl_time=when,
        year=when.year,
        service_date=when.date(),
        status="settled",
        msgid="H11010500001202605020900000002",
        infno="2304",
        pool_prop_selfpay=Decimal("0.1000"),
        setldetail=[],
        increments={},
        category="filed",
        **money,
    )
    row = SettlementReview(
        id=new_platform_id(PlatformIdKind.CLAIM, region, NOW),
        setl_id=settlement.setl_id,
        psn_no=psn_no,
        insured_region=region,
        status=status,
        reason="住院天数计算有误 / stay days were wrong",
        submitted_at=NOW - dt.timedelta(days=10),
        submitted_by=psn_no,
        difference=Decimal(difference),
        outcome=outcome,
        decided_at=NOW - dt.timedelta(days=1),
        decided_by="reviewer.411100",
        payee_name=payee,
        bank_name=bank,
        bank_account=account,
        version=2,
    )
    session.add_all([visit])
    session.flush()
    session.add(settlement)
    session.flush()
    session.add(row)
    session.flush()
    return row


# -- reading the files back -------------------------------------------------------------------------------------


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a BOM first, so that Excel reads UTF-8"
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


def read_xlsx(content: bytes) -> Any:
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content)).active


def fen(value: object) -> Decimal:
    """A spreadsheet number as it reads back (a float) to the fen, through its shortest text: never binary noise."""
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    exact = Decimal(repr(value))
    assert exact == exact.quantize(CENT), f"{value} is not a whole number of fen"
    return exact.quantize(CENT)
