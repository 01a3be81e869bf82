"""What the form tests share: reading a PDF back with poppler (pdftotext, pdffonts, pdftoppm), and the facts.

The settled stay (form 5) goes through the national interface. 漯河 employee 徐某甲 (demo 41110000000000000011, civil
servant, account balance 4,100.00) filed to 北京 on an undertaking; 北京演示第一医院 is level 3; shipped 411100 values
for 2025: first-stay deductible 800, ratio .80 below 50,000, civil-servant subsidy .50 of what the fund left.

    阿卡波糖 (甲类) 4 × 2,000.00 = 8,000.00; 瑞格列奈 (乙类, 10% first) 1,500.00; an item outside the catalogue 3,000.00
    total 12,500.00 = fully self-paid 3,000.00 + first self-pay 150.00 + eligible 9,350.00 (8,000 + 1,350)
    basic fund (9,350 − 800) × .80 = 6,840.00; subsidy (9,350 − 6,840) × .50 = 1,255.00; funds 8,095.00
    person 12,500 − 8,095 = 4,405.00: account 4,100.00 (its whole balance), cash 305.00

The approved claim (form 5 of a claim) is written straight into the tables, as the claims service would leave it:
王某甲 (41110000000000000001, 漯河 retiree), a stay at 北京演示第一医院, 20,000.00 = 1,000.00 + 200.00 + 300.00 +
18,500.00 eligible; deductible 700; fund (18,500 − 700) × .83 = 14,774.00; person 5,226.00 cash; 2,000.00 already
paid directly, so 12,774.00 payable.

docs/forms/make_samples.py prints the forms of these facts for the documentation.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.demo.service import demo_key_id, demo_secret
from yidi.reimbursement.models import Claim, ClaimVisit
from yidi.security.client import signed_headers
from yidi.settlement.service import MONEY_FIELDS

from ..gateway.test_gateway import (  # noqa: F401 (http is a fixture)
    ACARBOSE,
    NOT_IN_CATALOGUE,
    REPAGLINIDE,
    approved_filing,
    his,
    http,
    line,
)

XU, XU_CERTNO = "41110000000000000011", "411102197810109217"  # 徐某甲
WANG = "41110000000000000001"  # 王某甲
SUN = "11000000000000000001"  # 孙某乙, insured in 北京
CLAIM = "R41110020250701090000000000001"
DRAFT = "R41110020250702090000000000002"
SUBMITTED = "R41110020250703090000000000003"
UNBALANCED = "R41110020250704090000000000004"


# -- reading a PDF back -----------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install the Debian package poppler-utils")
    return path


def _pdf_file(data: bytes, tmp: Path, name: str) -> Path:
    assert data.startswith(b"%PDF-")
    target = tmp / name
    target.write_bytes(data)
    return target


def text_of(data: bytes, tmp: Path, name: str = "form.pdf") -> str:
    """The text in drawing order (-raw), runs of white space made one space."""
    path = _pdf_file(data, tmp, name)
    out = subprocess.run([_tool("pdftotext"), "-raw", str(path), "-"], capture_output=True, check=True, timeout=60)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


def assert_fonts_embedded(data: bytes, tmp: Path) -> None:
    path = _pdf_file(data, tmp, "fonts.pdf")
    out = subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, check=True, timeout=60)
    rows = out.stdout.decode().splitlines()[2:]
    assert rows, "the PDF names no font"
    for row in rows:  # name type encoding emb sub uni object ID
        assert row.split()[-5] == "yes", f"not embedded: {row}"


def assert_renders(data: bytes, tmp: Path) -> None:
    path = _pdf_file(data, tmp, "render.pdf")
    subprocess.run(
        [_tool("pdftoppm"), "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp / "page")],
        check=True,
        timeout=60,
    )
    pngs = list(tmp.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG") and pngs[0].stat().st_size > 2000


def amount_after(text: str, label: str) -> Decimal:
    m = re.search(re.escape(label) + r" (-?\d+\.\d{2})", text)
    assert m, f"{label} with an amount not found in: {text[:400]}"
    return Decimal(m.group(1))


def is_pdf(r: Any, filename: str) -> bytes:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert r.headers["cache-control"] == "no-store"
    return bytes(r.content)


# -- the facts --------------------------------------------------------------------------------------------------


@pytest.fixture
def settled(http: TestClient, db: Database) -> dict[str, str]:  # noqa: F811
    """徐某甲's stay in 北京, settled (see the module's docstring); its filing."""
    return settle_stay(http, db)


def settle_stay(http: TestClient, db: Database) -> dict[str, str]:  # noqa: F811
    filing_id = approved_filing(db, XU, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    region = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": XU_CERTNO}})["insuinfo"][0][
        "insuplc_admdvs"
    ]
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": XU,
                "insutype": "310",
                "begntime": "2025-06-05 08:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": XU_CERTNO,
                "med_type": "21",
                "ipt_no": "ZY2025031",
                "adm_dept_codg": "D13",
                "dise_codg": "E11.900",
            },
            "diseinfo": [],
        },
        region,
    )
    mdtrt_id = adm["result"]["mdtrt_id"]
    fees = [
        line(str(n), ACARBOSE, f"2025-06-0{5 + n} 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=XU)
        for n in range(4)
    ]
    fees.append(line("4", REPAGLINIDE, "2025-06-09 10:00:00", "1500.00", "500", "3.0", mdtrt_id=mdtrt_id, psn_no=XU))
    fees.append(
        line("5", NOT_IN_CATALOGUE, "2025-06-09 11:00:00", "3000.00", "1", "3000", mdtrt_id=mdtrt_id, psn_no=XU)
    )
    client.call("2301", {"feedetail": fees}, region)
    client.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": XU,
                "insutype": "310",
                "endtime": "2025-06-10 09:00:00",
                "dscg_way": "1",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "E11.900",
                    "diag_name": "2型糖尿病",
                    "maindiag_flag": "1",
                },
                {
                    "diag_type": "1",
                    "diag_srt_no": "2",
                    "diag_code": "I10.x00",
                    "diag_name": "高血压",
                    "maindiag_flag": "0",
                },
            ],
        },
        region,
    )
    setl = client.call(
        "2304",
        {
            "data": {
                "psn_no": XU,
                "mdtrt_id": mdtrt_id,
                "insutype": "310",
                "medfee_sumamt": "12500.00",
                "mdtrt_cert_type": "02",
                "mid_setl_flag": "0",
                "acct_used_flag": "1",
            }
        },
        region,
    )["setlinfo"]
    return {"setl_id": str(setl["setl_id"]), "filing_id": filing_id, "mdtrt_id": mdtrt_id}


def split_of(**amounts: str) -> dict[str, Any]:
    split: dict[str, Any] = dict.fromkeys(MONEY_FIELDS, "0.00")
    split.update(amounts)
    return split


STAY_SPLIT = split_of(
    medfee_sumamt="20000.00",
    fulamt_ownpay_amt="1000.00",
    overlmt_selfpay="200.00",
    preselfpay_amt="300.00",
    inscp_scp_amt="18500.00",
    act_pay_dedc="700.00",
    hifp_pay="14774.00",
    fund_pay_sumamt="14774.00",
    psn_part_amt="5226.00",
    psn_cash_pay="5226.00",
) | {
    "pool_prop_selfpay": "0.8300",
    "setldetail": [
        {
            "fund_pay_type": "310100",
            "fund_pay_type_name": "职工基本医疗保险统筹基金",
            "inscp_scp_amt": "18500.00",
            "crt_payb_lmt_amt": "0.00",
            "fund_payamt": "14774.00",
            "setl_proc_info": "起付线700.00，支付比例0.8300",
        }
    ],
}


def _claim(claim_id: str, status: str, split: dict[str, Any] | None, *, injury: bool = False) -> Claim:
    at = dt.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI)
    approved = split is not None
    claim = Claim(
        id=claim_id,
        psn_no=WANG,
        insutype="310",
        insured_region="411100",
        status=status,
        channel="online",
        created_at=at,
        submitted_at=at,
        submitted_by=WANG,
        decided_at=at + dt.timedelta(days=10) if approved else None,
        decided_by="reviewer.411100" if approved else None,
        payee_name="王某甲",
        bank_name="中国工商银行漯河分行",
        bank_account="6222020202020201234",
        medfee_sumamt=Decimal(split["medfee_sumamt"]) if approved else None,
        fund_pay_sumamt=Decimal("14774.00") if approved else None,
        paid_directly=Decimal("2000.00") if approved else None,
        payable=Decimal("12774.00") if approved else None,
    )
    claim.visits = [
        ClaimVisit(
            seq=1,
            fixmedins_code="H11010500001",
            institution_name="北京演示第一医院（三级综合）",
            institution_region="110000",
            institution_level="level_3",
            care="inpatient",
            med_type="21",
            begndate=dt.date(2025, 3, 2),
            enddate=dt.date(2025, 3, 12),
            diagnoses=[{"diag_code": "I63.900", "diag_name": "脑梗死", "maindiag_flag": "1"}],
            injury=injury,
            category="long_term" if approved else None,
            split=split,
            paid_directly=Decimal("2000.00") if approved else None,
        )
    ]
    return claim


@pytest.fixture
def claims(http: TestClient, db: Database) -> None:  # noqa: F811
    add_claims(db)


def add_claims(db: Database) -> None:
    with db.unit_of_work() as s:
        s.add(_claim(CLAIM, "approved", STAY_SPLIT))
        s.add(_claim(DRAFT, "draft", None, injury=True))
        s.add(_claim(SUBMITTED, "submitted", None))
        s.add(_claim(UNBALANCED, "approved", STAY_SPLIT | {"psn_cash_pay": "5225.99"}))


def institution_get(http: TestClient, path: str) -> Any:  # noqa: F811
    code = "H11010500001"
    return http.get(path, headers=signed_headers(demo_key_id(code), demo_secret(code), "GET", path))
