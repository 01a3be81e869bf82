"""Purchases at a designated pharmacy through the gateway: 2101 pre-settle, 2102 settle, 2103 cancel, 2601.

The purchases are checked to the fen against computations done by hand from the demo parameters (written out in
each test). The person: 王某甲 (41110000000000000001), an employee-insured retiree of 漯河 (411100), filed as a
resettled retiree to 北京 (110000) from 2025-06-01, account balance 3,250.40. The pharmacy: P11010500001
(北京演示大药房朝阳店, fixmedins_type 2, settlement level unrated, opened for pharmacy purchases from 2023-01-01).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.helpers import amounts_as_text
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.people.models import Insurance
from yidi.reference.models import InstitutionService
from yidi.settlement.models import Accumulator, FeeRecord, MessageLog, Settlement, Visit

from ..gateway.test_gateway import (  # noqa: F401  (http is a fixture)
    ACARBOSE,
    BJ_HOSP,
    NIFEDIPINE,
    REPAGLINIDE,
    approved_filing,
    his,
    http,
)

PHARMACY = "P11010500001"
PSN, CERTNO, HOME = "41110000000000000001", "411102195603129013", "411100"
VITAMIN_C = "XA11GAA143A977397761000"  # 丙类 in the 北京 catalogue
DAY = "2025-06-10"
MONEY = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "cvlserv_pay",
    "hifmi_pay",
    "hifob_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
)


def drug(sn: str, code: str, total: str, cnt: str, pric: str) -> dict[str, str]:
    return {
        "feedetl_sn": sn,
        "rxno": "",
        "rx_circ_flag": "0",
        "fee_ocur_time": f"{DAY} 10:00:00",
        "med_list_codg": code,
        "medins_list_codg": f"YP{sn}",
        "det_item_fee_sumamt": total,
        "cnt": cnt,
        "pric": pric,
        "bilg_dr_codg": "",
        "bilg_dr_name": "",
    }


# 阿卡波糖 甲类 100 × 2.30; 瑞格列奈 乙类 (10 % first self-pay) 50 × 3.00; 维生素C 丙类 2 × 12.50.
BASKET = [
    drug("1", ACARBOSE, "230.00", "100", "2.3"),
    drug("2", REPAGLINIDE, "150.00", "50", "3"),
    drug("3", VITAMIN_C, "25.00", "2", "12.5"),
]


def purchase(lines: list[dict[str, str]], total: str, *, disease: str = "", account: str = "1") -> dict[str, Any]:
    return {
        "druginfo": {
            "psn_no": PSN,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": CERTNO,
            "begntime": f"{DAY} 10:00:00",
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "insutype": "310",
            "med_type": "41",
            "acct_used_flag": account,
            "invono": "FP0001",
            "dise_codg": disease,
        },
        "drugdetail": lines,
    }


@pytest.fixture
def counter(http: TestClient, db: Database) -> GatewayClient:  # noqa: F811
    """The pharmacy's till, the person filed to 北京 and identified there (1101) today."""
    approved_filing(db, PSN, HOME, "110000", dt.date(2025, 6, 1))
    client = amounts_as_text(his(http, PHARMACY))
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    assert person["baseinfo"]["psn_no"] == PSN
    return client


def accumulators(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == PSN))}


def balance(db: Database) -> Decimal:
    with db.read_only() as s:
        insurance = s.scalar(select(Insurance).where(Insurance.psn_no == PSN, Insurance.insutype == "310"))
        assert insurance is not None
        return insurance.balc


def rows(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Visit, FeeRecord, Settlement, MessageLog)
        }


def money(setlinfo: dict[str, Any]) -> dict[str, str]:
    return {k: setlinfo[k] for k in MONEY}


def test_a_purchase_is_settled_by_the_insured_places_outpatient_rules_to_the_fen(
    counter: GatewayClient, db: Database
) -> None:
    """By hand, 漯河 employee outpatient parameters of 2025, retiree, at an unrated pharmacy:
    - catalogue of 北京: 阿卡波糖 甲类 230.00 eligible; 瑞格列奈 乙类 150.00 − 10 % = 15.00 first self-pay,
      135.00 eligible; 维生素C 丙类 25.00 fully self-paid. Total 405.00, eligible 365.00.
    - deductible (retiree, 2025): 100.00 → 265.00 above it.
    - ratio (retiree, unrated): 55 %; resettled retiree = long-term filing, cross-province: no cut.
      265.00 × 0.55 = 145.75 (outpatient cap 3,000, annual cap 300,000 untouched).
    - person: 405.00 − 145.75 = 259.25, from the account (3,250.40 → 2,991.15), cash 0.00."""
    before = rows(db)
    pre = counter.call("2101", purchase(BASKET, "405.00"), HOME)
    assert rows(db) == before  # 2101 keeps nothing: no visit, no line, no settlement, no message
    info = pre["setlinfo"]
    assert (info["setl_id"], info["med_type"]) == (None, "41")
    with db.read_only() as s:  # the pre-settlement's own id: required in setlinfo, and nothing kept under it
        assert info["mdtrt_id"] and s.get(Visit, info["mdtrt_id"]) is None
    assert money(info) == {
        "medfee_sumamt": "405.00",
        "fulamt_ownpay_amt": "25.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "15.00",
        "inscp_scp_amt": "365.00",
        "act_pay_dedc": "100.00",
        "hifp_pay": "145.75",
        "pool_prop_selfpay": "0.5500",
        "cvlserv_pay": "0.00",
        "hifmi_pay": "0.00",
        "hifob_pay": "0.00",
        "fund_pay_sumamt": "145.75",
        "psn_part_amt": "259.25",
        "acct_pay": "259.25",
        "psn_cash_pay": "0.00",
        "balc": "2991.15",
    }
    assert [(d["feedetl_sn"], d["inscp_scp_amt"], d["chrgitm_lv"]) for d in pre["detlcutinfo"]] == [
        ("1", "230.00", "01"),
        ("2", "135.00", "02"),
        ("3", "0.00", "03"),
    ]
    assert [d["fund_pay_type"] for d in pre["setldetail"]] == ["310100", "310200"]
    assert accumulators(db) == {} and balance(db) == Decimal("3250.40")

    out = counter.call("2102", purchase(BASKET, "405.00"), HOME)
    settled = out["setlinfo"]
    assert money(settled) == money(info)  # 2101 answered what 2102 settles
    assert settled["setl_id"] and settled["mdtrt_id"] and settled["clr_type"] == "11"
    assert out["setldetail"] == pre["setldetail"] and out["detlcutinfo"] == pre["detlcutinfo"]
    assert accumulators(db) == {"outpatient.deductible": 10000, "outpatient.fund": 14575, "basic.fund": 14575}
    assert balance(db) == Decimal("2991.15")
    with db.read_only() as s:
        visit = s.get(Visit, settled["mdtrt_id"])
        assert visit is not None and (visit.kind, visit.med_type, visit.status) == ("pharmacy", "41", "settled")
        kept = s.get(Settlement, settled["setl_id"])
        assert kept is not None and kept.invono == "FP0001"  # what the pharmacy says is kept, as for 2207
    # The same person's next purchase the same year: the deductible is used up, 55 % from the first fen.
    again = counter.call("2101", purchase([drug("1", ACARBOSE, "100.00", "40", "2.5")], "100.00"), HOME)["setlinfo"]
    assert (again["act_pay_dedc"], again["hifp_pay"], again["psn_part_amt"]) == ("0.00", "55.00", "45.00")


def test_2102_is_replayed_by_msgid_and_a_reused_msgid_is_refused(counter: GatewayClient, db: Database) -> None:
    envelope, first = counter.send("2102", purchase(BASKET, "405.00"), HOME)
    assert first["infcode"] == 0
    after = accumulators(db)
    for _ in range(2):
        assert counter.replay(envelope) == first
    assert accumulators(db) == after and rows(db)["settlement"] == 1
    other = purchase([drug("1", ACARBOSE, "100.00", "40", "2.5")], "100.00")
    reused = counter.post({**envelope, "input": other})
    assert reused["infcode"] == -1 and "E_MSGID_REUSED" in reused["err_msg"]
    assert accumulators(db) == after and rows(db)["settlement"] == 1


def test_the_cancel_restores_every_accumulator_and_the_account_and_ends_the_purchase(
    counter: GatewayClient, db: Database
) -> None:
    first = counter.call("2102", purchase(BASKET, "405.00"), HOME)["setlinfo"]
    after_first = accumulators(db)
    cancel = {"data": {"setl_id": first["setl_id"], "mdtrt_id": first["mdtrt_id"], "psn_no": PSN}}
    reversal = counter.call("2103", cancel, HOME)["setlinfo"]
    assert reversal["setl_id"] != first["setl_id"]
    assert (reversal["medfee_sumamt"], reversal["hifp_pay"], reversal["acct_pay"]) == ("-405.00", "-145.75", "-259.25")
    assert (reversal["psn_pay"], reversal["cash_payamt"]) == ("-259.25", "0.00")
    assert set(accumulators(db).values()) == {0} and balance(db) == Decimal("3250.40")
    with db.read_only() as s:
        visit = s.get(Visit, first["mdtrt_id"])
        assert visit is not None and visit.status == "cancelled"
        assert {f.status for f in visit.fees} == {"cancelled"}
        assert [x.status for x in s.scalars(select(Settlement).order_by(Settlement.setl_time))] == [
            "cancelled",
            "reversal",
        ]
    with pytest.raises(GatewayError, match="S_STATE"):
        counter.call("2103", cancel, HOME)
    # Bought again (a new purchase): the same amounts, the same accumulators.
    again = counter.call("2102", purchase(BASKET, "405.00"), HOME)["setlinfo"]
    assert money(again) == money(first) and accumulators(db) == after_first


def test_2601_reverses_a_one_sided_2102_and_refuses_a_late_one(counter: GatewayClient, db: Database) -> None:
    envelope, answer = counter.send("2102", purchase(BASKET, "405.00"), HOME)
    assert answer["infcode"] == 0
    out = counter.call("2601", {"data": {"psn_no": PSN, "omsgid": envelope["msgid"], "oinfno": "2102"}}, HOME)
    assert out["rslt"] == "reversed" and set(accumulators(db).values()) == {0}
    assert balance(db) == Decimal("3250.40")
    with db.read_only() as s:
        visit = s.get(Visit, answer["output"]["setlinfo"]["mdtrt_id"])
        assert visit is not None and visit.status == "cancelled"
    late = counter.envelope("2102", purchase(BASKET, "405.00"), HOME)
    reversed_first = counter.call("2601", {"data": {"psn_no": PSN, "omsgid": late["msgid"], "oinfno": "2102"}}, HOME)
    assert reversed_first["rslt"].startswith("nothing settled")
    refused = counter.post(late)
    assert refused["infcode"] == -1 and "2601" in refused["err_msg"]
    assert set(accumulators(db).values()) == {0}


def test_only_a_pharmacy_settles_purchases_and_a_pharmacy_opens_no_visit(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, HOME, "110000", dt.date(2025, 6, 1))
    hospital = amounts_as_text(his(http, BJ_HOSP))
    hospital.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    for infno, payload in [
        ("2101", purchase(BASKET, "405.00")),
        ("2102", purchase(BASKET, "405.00")),
        ("2103", {"data": {"setl_id": "S1", "psn_no": PSN}}),
    ]:
        with pytest.raises(GatewayError, match="S_INSTITUTION_TYPE") as err:
            hospital.call(infno, payload, HOME)
        assert "designated pharmacies only" in err.value.err_msg
    pharmacy = amounts_as_text(his(http, PHARMACY))
    pharmacy.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    register = {"psn_no": PSN, "insutype": "310", "begntime": f"{DAY} 09:00:00", "ipt_otp_no": "R1"}
    for infno, payload in [
        ("2201", {"data": register}),
        ("2401", {"mdtrtinfo": {**register, "med_type": "21", "ipt_no": "Z1"}, "diseinfo": []}),
        ("2207", {"data": {"mdtrt_id": "V1", "psn_no": PSN}}),
        ("2208", {"data": {"setl_id": "S1", "psn_no": PSN}}),
    ]:
        with pytest.raises(GatewayError, match="S_INSTITUTION_TYPE"):
            pharmacy.call(infno, payload, HOME)
    assert rows(db)["visit"] == 0


def test_a_pharmacy_not_opened_on_the_day_is_refused(counter: GatewayClient, db: Database) -> None:
    with db.unit_of_work() as s:
        service = s.scalar(select(InstitutionService).where(InstitutionService.fixmedins_code == PHARMACY))
        assert service is not None and service.service == "pharmacy"
        service.enddate = dt.date(2025, 5, 31)  # closed for cross-region purchases before the purchase
    for infno in ("2101", "2102"):
        with pytest.raises(GatewayError, match="S_REFUSED") as err:
            counter.call(infno, purchase(BASKET, "405.00"), HOME)
        assert "not opened for cross-region pharmacy" in err.value.err_msg
    assert rows(db)["settlement"] == 0 and accumulators(db) == {}


def test_a_purchase_needs_the_person_identified_at_the_pharmacy(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, HOME, "110000", dt.date(2025, 6, 1))
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):
        his(http, PHARMACY).call("2102", purchase(BASKET, "405.00"), HOME)


def test_the_total_is_confirmed_and_only_41_is_a_purchase(counter: GatewayClient, db: Database) -> None:
    with pytest.raises(GatewayError, match="S_MISMATCH"):
        counter.call("2102", purchase(BASKET, "380.00"), HOME)  # a line lost on the way
    missing = purchase(BASKET, "405.00")
    del missing["druginfo"]["medfee_sumamt"]
    with pytest.raises(GatewayError, match="medfee_sumamt"):
        counter.call("2102", missing, HOME)
    spaces = purchase(BASKET, "   ")  # blank is absent: the total is still unconfirmed
    with pytest.raises(GatewayError, match="medfee_sumamt"):
        counter.call("2102", spaces, HOME)
    outpatient = purchase(BASKET, "405.00")
    outpatient["druginfo"]["med_type"] = "11"
    with pytest.raises(GatewayError, match="med_type"):
        counter.call("2102", outpatient, HOME)
    with pytest.raises(GatewayError, match="drugdetail"):
        counter.call("2102", {"druginfo": purchase(BASKET, "405.00")["druginfo"]}, HOME)
    assert rows(db)["settlement"] == 0 and rows(db)["visit"] == 0


def test_an_id_number_inside_a_card_number_is_masked_at_rest(counter: GatewayClient, db: Database) -> None:
    """A social security card number with a prefix holds the ID number: masked in the settlement and in the message
    log alike (the free-text mask, bounded by non-alphanumerics, would not see it)."""
    card = purchase(BASKET, "405.00")
    card["druginfo"] |= {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A" + CERTNO}
    envelope, answer = counter.send("2102", card, HOME)
    assert answer["infcode"] == 0, answer["err_msg"]
    with db.read_only() as s:
        settled = s.get(Settlement, answer["output"]["setlinfo"]["setl_id"])
        logged = s.get(MessageLog, envelope["msgid"])
        assert settled is not None and logged is not None
        assert settled.mdtrt_cert_no == "A" + CERTNO[:6] + "********" + CERTNO[-4:]
        assert CERTNO not in json.dumps(logged.request) and CERTNO not in json.dumps(logged.response)
        assert logged.request["input"]["druginfo"]["mdtrt_cert_no"] == settled.mdtrt_cert_no


def test_chronic_drugs_are_settled_by_the_diseases_rules_where_the_pharmacy_is_opened_for_it(
    counter: GatewayClient, db: Database
) -> None:
    """By hand, 漯河 employee 门慢 M03900 (高血压) of 2025: no deductible, unrated 70 %, the person also qualified for
    M01600, so the two share the highest yearly cap (3,000). 硝苯地平 甲类 100 × 2.00 = 200.00 → 140.00 from the
    pooled fund, 60.00 from the person (account)."""
    basket = [drug("1", NIFEDIPINE, "200.00", "100", "2")]
    with pytest.raises(GatewayError, match="S_REFUSED") as err:  # the pharmacy is not opened for M03900
        counter.call("2101", purchase(basket, "200.00", disease="M03900"), HOME)
    assert "M03900" in err.value.err_msg and "claim at home" in err.value.err_msg
    with db.unit_of_work() as s:
        s.add(
            InstitutionService(
                fixmedins_code=PHARMACY, service="chronic", opsp_dise_code="M03900", begndate=dt.date(2023, 1, 1)
            )
        )
    info = counter.call("2102", purchase(basket, "200.00", disease="M03900"), HOME)["setlinfo"]
    assert (info["act_pay_dedc"], info["hifp_pay"], info["pool_prop_selfpay"]) == ("0.00", "140.00", "0.7000")
    assert (info["psn_part_amt"], info["acct_pay"], info["med_type"]) == ("60.00", "60.00", "41")
    assert accumulators(db) == {
        "chronic.M03900.fund": 14000,
        "chronic.M03900.fund.06": 14000,
        "chronic.all.fund": 14000,
        "basic.fund": 14000,
    }
    # A 门慢 disease the person is not qualified for is never settled as an ordinary purchase.
    with pytest.raises(GatewayError, match="S_REFUSED") as err:
        counter.call("2101", purchase(basket, "200.00", disease="M07803"), HOME)
    assert "no valid qualification for M07803" in err.value.err_msg


@pytest.fixture
def cancel_code(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("YIDI_PHARMACY_CANCEL_INFNO", "2104")
    reset_settings()
    yield "2104"
    monkeypatch.delenv("YIDI_PHARMACY_CANCEL_INFNO")
    reset_settings()


def test_the_cancel_code_is_a_setting(counter: GatewayClient, db: Database, cancel_code: str) -> None:
    first = counter.call("2102", purchase(BASKET, "405.00"), HOME)["setlinfo"]
    cancel = {"data": {"setl_id": first["setl_id"], "mdtrt_id": first["mdtrt_id"], "psn_no": PSN}}
    with pytest.raises(GatewayError, match="E_INFNO"):
        counter.call("2103", cancel, HOME)
    assert counter.call(cancel_code, cancel, HOME)["setlinfo"]["hifp_pay"] == "-145.75"
    assert set(accumulators(db).values()) == {0}


def test_where_the_insured_place_excludes_pharmacy_purchases_they_are_claimed_at_home(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    """北京 settles its insured's pharmacy purchases elsewhere only from 2024 (exclusions.pharmacy_purchase until
    then): 孙某乙's purchase at a 漯河 pharmacy in December 2023 is refused; in January 2024 it is settled by 北京's
    employee outpatient rules (the catalogue is 漯河's: 阿卡波糖 甲类). By hand: 1,000 × 2.30 = 2,300.00 eligible;
    retiree deductible 1,300.00; (2,300.00 − 1,300.00) × 80 % (retiree, every level) = 800.00 (as E8)."""
    approved_filing(db, "11000000000000000001", "110000", "411100", dt.date(2023, 10, 1))
    till = amounts_as_text(his(http, "P41110200001", "411100"))
    till.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110105195206069237"}})

    def bought(day: str) -> dict[str, Any]:
        line = {**drug("1", ACARBOSE, "2300.00", "1000", "2.3"), "fee_ocur_time": f"{day} 10:00:00"}
        payload = purchase([line], "2300.00", account="0")
        payload["druginfo"].update(
            psn_no="11000000000000000001", mdtrt_cert_no="110105195206069237", begntime=f"{day} 10:00:00"
        )
        return payload

    with pytest.raises(GatewayError, match="S_REFUSED") as err:
        till.call("2102", bought("2023-12-10"), "110000")
    assert "reimbursed at home" in err.value.err_msg
    info = till.call("2102", bought("2024-01-10"), "110000")["setlinfo"]
    assert (info["act_pay_dedc"], info["hifp_pay"], info["psn_cash_pay"]) == ("1300.00", "800.00", "1500.00")
