"""Settlement defects found while reading (issue: every settlement rule pinned by a test that knows the answer).
Each test failed on the code before its fix; the expected amounts are worked out by hand in the docstrings."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.core import clock
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.demo.service import demo_key_id, demo_secret
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.parameters.store import shipped_directory
from yidi.people.schemas import PersonIn
from yidi.people.service import add_person
from yidi.reference.models import InstitutionService, SettlementLevel
from yidi.reference.rules import CrossRegion, classify
from yidi.reference.schemas import InstitutionIn
from yidi.reference.service import add_institution, forget_institutions
from yidi.security.service import add_credential
from yidi.security.signing import Scheme

from .test_gateway import ACARBOSE, BJ_HOSP, approved_filing, his, http, line  # noqa: F401  (http is a fixture)

README = Path(__file__).resolve().parents[2] / "README.md"


def _day(days_ago: int) -> dt.date:
    return clock.now().date() - dt.timedelta(days=days_ago)


def _identify(client: GatewayClient, certno: str) -> dict[str, Any]:
    return client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})


def _admit(client: GatewayClient, psn_no: str, certno: str, region: str, day: dt.date, number: str) -> str:
    _identify(client, certno)
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": psn_no,
                "insutype": "310",
                "begntime": f"{day} 08:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": certno,
                "med_type": "21",
                "ipt_no": number,
            },
            "diseinfo": [],
        },
        region,
    )
    return str(adm["result"]["mdtrt_id"])


def _discharge(client: GatewayClient, psn_no: str, mdtrt_id: str, region: str) -> dt.datetime:
    # A couple of minutes ago: the discharge (the stay's service date) is never in the future.
    endtime = (clock.now() - dt.timedelta(minutes=2)).replace(microsecond=0, tzinfo=None)
    client.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": "310",
                "endtime": str(endtime),
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
        region,
    )
    return endtime


def _settle_input(psn_no: str, mdtrt_id: str, total: str, mid: str) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "medfee_sumamt": total,
            "mdtrt_cert_type": "02",
            "mid_setl_flag": mid,
            "acct_used_flag": "0",
        }
    }


def _cum(client: GatewayClient, psn_no: str, region: str, month: dt.date) -> dict[str, Decimal]:
    rows = client.call("5206", {"data": {"psn_no": psn_no, "cum_ym": month.strftime("%Y%m")}}, region)["cuminfo"]
    return {c["cum_type_name"]: c["cum"] for c in rows}


# -- 1. one classification: 仙桃 429004 → 潜江 429005 is in-province cross-region care -------------------------

XT_PSN, XT_CERTNO = "42900400000000000001", "429004196003159017"  # synthetic (sequence 901), insured in 仙桃
QJ_HOSP = "H42900500001"  # a 潜江 hospital, networked but opened for no cross-region service


@pytest.fixture
def xiantao(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """仙桃 policy (a copy of the 武汉 demo tree: in-province unfiled care settles directly, 20 % first self-pay)."""
    shutil.copytree(shipped_directory() / "regions" / "420100", tmp_path / "regions" / "429004")
    monkeypatch.setenv("YIDI_PARAMETER_DIRS", str(tmp_path))
    reset_settings()
    yield
    monkeypatch.delenv("YIDI_PARAMETER_DIRS")
    reset_settings()


def _xiantao_person_at_qianjiang(db: Database) -> None:
    now = clock.now()
    with db.unit_of_work() as s:
        add_institution(
            s,
            InstitutionIn(
                fixmedins_code=QJ_HOSP,
                fixmedins_name="潜江演示医院（二级综合）",
                fixmedins_type="1",
                pooling_region="429005",
                admdvs="429005",
                settlement_level=SettlementLevel.LEVEL_2,
            ),
        )
        s.flush()
        add_credential(s, QJ_HOSP, demo_key_id(QJ_HOSP), Scheme.HMAC_SHA256, demo_secret(QJ_HOSP), now)
        add_person(
            s,
            PersonIn.model_validate(
                {
                    "psn_no": XT_PSN,
                    "psn_name": "张某甲",
                    "certno": XT_CERTNO,
                    "insurances": [
                        {"insutype": "310", "insuplc_admdvs": "429004", "psn_type": "1101", "begndate": "2015-01-01"}
                    ],
                }
            ),
            now,
        )


def _qianjiang_visit(client: GatewayClient, number: str) -> dict[str, Any]:
    _identify(client, XT_CERTNO)
    day = _day(1)
    mdtrt_id = client.call(
        "2201",
        {
            "data": {
                "psn_no": XT_PSN,
                "insutype": "310",
                "begntime": f"{day} 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": XT_CERTNO,
                "ipt_otp_no": number,
            }
        },
        "429004",
    )["data"]["mdtrt_id"]
    fee = line("1", ACARBOSE, f"{day} 10:00:00", "100.00", "40", "2.5", mdtrt_id=mdtrt_id, psn_no=XT_PSN)
    client.call("2204", {"feedetail": [{**fee, "chrg_bchno": "1"}]}, "429004")
    return {
        "data": {
            "psn_no": XT_PSN,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "med_type": "11",
            "medfee_sumamt": "100.00",
            "chrg_bchno": "1",
            "acct_used_flag": "0",
        }
    }


def test_xiantao_to_qianjiang_needs_an_institution_opened_for_cross_region_care(
    http: TestClient,  # noqa: F811
    db: Database,
    xiantao: None,
) -> None:
    """The two province-administered counties share the prefix 4290 but are two pools: `classify` says in-province
    cross-region care, so settlement must check that the 潜江 hospital is opened for it (the old 4-digit prefix
    match called it local and settled)."""
    assert classify("429004", "429005") is CrossRegion.IN_PROVINCE
    _xiantao_person_at_qianjiang(db)
    client = his(http, QJ_HOSP, "429005")
    settle = _qianjiang_visit(client, "QJ1")
    for infno in ("2206", "2207"):
        with pytest.raises(GatewayError) as refused:
            client.call(infno, settle, "429004")
        message = refused.value.err_msg
        assert "S_REFUSED" in message and "not opened for cross-region outpatient" in message, message
    # Once the hospital is opened for cross-region outpatient care, the same visit settles.
    with db.unit_of_work() as s:
        s.add(InstitutionService(fixmedins_code=QJ_HOSP, service="outpatient", begndate=dt.date(2020, 1, 1)))
    forget_institutions(db.engine)
    settled = client.call("2207", settle, "429004")["setlinfo"]
    assert settled["medfee_sumamt"] == Decimal("100.00") and settled["setl_id"]


# -- 2. one stay is one case: a mid-stay settlement and the final one --------------------------------------------

LH_PSN, LH_CERTNO = "41110000000000000001", "411102195603129013"  # 漯河 employee retiree, filed to 北京


def test_a_mid_stay_settlement_and_the_final_one_are_one_stay_with_one_deductible(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    """漯河 retiree filed to 北京, level-3 hospital: first stay of the year, deductible 700, then 83 % (first band).

    Mid-stay (mid_setl_flag 1) on 500.00 eligible: deductible 500.00 (all of it), fund 0.00, person 500.00.
    Final on 3,000.00 eligible: the stay's remaining deductible 700 − 500 = 200.00,
    fund (3,000 − 200) × 0.83 = 2,324.00, person 676.00. The year counts one stay.
    (The old code counted a second stay and charged the later-stay deductible 450.00: fund 2,116.50.)
    The same stay settled once at discharge: deductible 700.00, fund (3,500 − 700) × 0.83 = 2,324.00, the same."""
    approved_filing(db, LH_PSN, "411100", "110000", _day(30))
    client = his(http)
    admitted = _day(6)
    mdtrt_id = _admit(client, LH_PSN, LH_CERTNO, "411100", admitted, "MID1")
    first = line(
        "1", ACARBOSE, f"{admitted + dt.timedelta(days=1)} 10:00:00", "500.00", "200", "2.5", mdtrt_id=mdtrt_id
    )
    client.call("2301", {"feedetail": [{**first, "psn_no": LH_PSN}]}, "411100")
    mid = _settle_input(LH_PSN, mdtrt_id, "500.00", "1")
    pre = client.call("2303", mid, "411100")["setlinfo"]
    assert (pre["act_pay_dedc"], pre["hifp_pay"], pre["psn_part_amt"]) == (
        Decimal("500.00"),
        Decimal("0.00"),
        Decimal("500.00"),
    )
    mid_setl = client.call("2304", mid, "411100")["setlinfo"]
    assert (mid_setl["act_pay_dedc"], mid_setl["hifp_pay"], mid_setl["psn_part_amt"]) == (
        Decimal("500.00"),
        Decimal("0.00"),
        Decimal("500.00"),
    )
    assert _cum(client, LH_PSN, "411100", clock.now().date())["inpatient.stays"] == Decimal("1")

    second = line(
        "2", ACARBOSE, f"{admitted + dt.timedelta(days=2)} 10:00:00", "3000.00", "1200", "2.5", mdtrt_id=mdtrt_id
    )
    client.call("2301", {"feedetail": [{**second, "psn_no": LH_PSN}]}, "411100")
    endtime = _discharge(client, LH_PSN, mdtrt_id, "411100")
    final = _settle_input(LH_PSN, mdtrt_id, "3000.00", "0")
    pre = client.call("2303", final, "411100")["setlinfo"]
    assert (pre["act_pay_dedc"], pre["hifp_pay"], pre["psn_part_amt"]) == (
        Decimal("200.00"),
        Decimal("2324.00"),
        Decimal("676.00"),
    )
    final_setl = client.call("2304", final, "411100")["setlinfo"]
    assert (final_setl["act_pay_dedc"], final_setl["hifp_pay"], final_setl["psn_part_amt"]) == (
        Decimal("200.00"),
        Decimal("2324.00"),
        Decimal("676.00"),
    )
    cum = _cum(client, LH_PSN, "411100", endtime.date())
    assert (cum["inpatient.stays"], cum["basic.fund"]) == (Decimal("1"), Decimal("2324.00"))

    # Cancelling goes backwards: the mid-stay settlement not while the final one stands.
    mid_cancel = {"data": {"mdtrt_id": mdtrt_id, "setl_id": mid_setl["setl_id"], "psn_no": LH_PSN}}
    with pytest.raises(GatewayError, match="S_STATE"):
        client.call("2305", mid_cancel, "411100")
    # The final one cancelled and settled again: still one stay, the same remaining deductible.
    client.call("2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": final_setl["setl_id"], "psn_no": LH_PSN}}, "411100")
    assert _cum(client, LH_PSN, "411100", endtime.date())["inpatient.stays"] == Decimal("1")
    again = client.call("2304", final, "411100")["setlinfo"]
    assert (again["act_pay_dedc"], again["hifp_pay"]) == (Decimal("200.00"), Decimal("2324.00"))
    # Both cancelled (last first), the stay settled once at discharge: the same fund payment.
    client.call("2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": again["setl_id"], "psn_no": LH_PSN}}, "411100")
    client.call("2305", mid_cancel, "411100")
    assert _cum(client, LH_PSN, "411100", endtime.date())["inpatient.stays"] == Decimal("0")
    whole = client.call("2304", _settle_input(LH_PSN, mdtrt_id, "3500.00", "0"), "411100")["setlinfo"]
    assert (whole["act_pay_dedc"], whole["hifp_pay"], whole["psn_part_amt"]) == (
        Decimal("700.00"),
        Decimal("2324.00"),
        Decimal("1176.00"),
    )
    assert _cum(client, LH_PSN, "411100", endtime.date())["inpatient.stays"] == Decimal("1")


# -- 3. pool_prop_selfpay rounds half up, as money does ----------------------------------------------------------

BJ_PSN, BJ_CERTNO = "11000000000000000003", "110102198803039276"  # 北京 employee, not retired: local care


def test_pool_prop_selfpay_rounds_half_up(http: TestClient, db: Database) -> None:  # noqa: F811
    """北京 employee at a 北京 level-3 hospital: first-stay deductible 1,300; bands 85 % to 30,000, 90 % above.
    Eligible 81,300.00 − 1,300.00 = base 80,000.00; fund 30,000 × 0.85 + 50,000 × 0.90 = 70,500.00;
    ratio 70,500 / 80,000 = 0.88125 exactly: half up 0.8813 (half-even, the old rounding, gave 0.8812)."""
    client = his(http)
    admitted = _day(3)
    mdtrt_id = _admit(client, BJ_PSN, BJ_CERTNO, "110000", admitted, "RND1")
    fee = line("1", ACARBOSE, f"{admitted} 10:00:00", "81300.00", "32520", "2.5", mdtrt_id=mdtrt_id, psn_no=BJ_PSN)
    client.call("2301", {"feedetail": [fee]}, "110000")
    _discharge(client, BJ_PSN, mdtrt_id, "110000")
    payload = _settle_input(BJ_PSN, mdtrt_id, "81300.00", "0")
    for infno in ("2303", "2304"):
        out = client.call(infno, payload, "110000")
        info = out["setlinfo"]
        assert (info["act_pay_dedc"], info["hifp_pay"], info["psn_part_amt"]) == (
            Decimal("1300.00"),
            Decimal("70500.00"),
            Decimal("10800.00"),
        )
        assert info["pool_prop_selfpay"] == Decimal("0.8813"), info["pool_prop_selfpay"]
        assert out["setldetail"][0]["setl_proc_info"].endswith("支付比例0.8813")


# -- 4. the funds yidi does not settle are always 0.00, and the README says so -----------------------------------

NOT_SETTLED = ("maf_pay", "oth_pay", "hifes_pay", "hosp_part_amt", "acct_mulaid_pay", "hifdm_pay")


def test_funds_yidi_does_not_settle_are_zero_and_documented(http: TestClient, db: Database) -> None:  # noqa: F811
    client = his(http)
    admitted = _day(3)
    mdtrt_id = _admit(client, BJ_PSN, BJ_CERTNO, "110000", admitted, "ZERO1")
    fee = line("1", ACARBOSE, f"{admitted} 10:00:00", "5000.00", "2000", "2.5", mdtrt_id=mdtrt_id, psn_no=BJ_PSN)
    client.call("2301", {"feedetail": [fee]}, "110000")
    _discharge(client, BJ_PSN, mdtrt_id, "110000")
    info = client.call("2304", _settle_input(BJ_PSN, mdtrt_id, "5000.00", "0"), "110000")["setlinfo"]
    assert {k: info[k] for k in NOT_SETTLED} == dict.fromkeys(NOT_SETTLED, Decimal("0.00"))
    section = README.read_text(encoding="utf-8").split("## Direct settlement and the gateway", 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    missing = [k for k in NOT_SETTLED if f"`{k}`" not in section]
    assert missing == [], f"README's gateway section does not name {missing} as never settled"
    assert "0.00" in section
