"""What the HIS says about the care is kept: the visit's departments, doctors, beds, discharge and maternity fields
(2201/2203/2401/2403/2402), the diagnoses' details, each fee line's prescription, order and approval (2204/2301),
and the settlement's way, invoice, certificate (masked) and claimed amounts (2207/2304). Over-long values are
refused by field name, "" is absent, and psn_setlway 02 (by fixed amount) is refused with its reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.helpers import amounts_as_text
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.settlement import care
from yidi.settlement.models import FeeRecord, Settlement, Visit, VisitDiagnosis

from ..gateway.test_gateway import ACARBOSE, approved_filing, his, http  # noqa: F401  (http is a fixture)

BJ_CERTNO = "110105195206069237"  # 北京 employee retiree, outpatient on 2021-06-01 (E8)
LH_PSN, LH_CERTNO = "41110000000000000001", "411102195603129013"  # 漯河 retiree filed to 北京, stays in June 2025
MASKED_BJ = BJ_CERTNO[:6] + "********" + BJ_CERTNO[-4:]

FEE_FIELDS = {
    "dise_codg": "",
    "rxno": "RX20210601-7",
    "rx_circ_flag": "0",
    "sin_dos_dscr": "50mg",
    "used_frqu_dscr": "tid",
    "prd_days": 7.5,
    "medc_way_dscr": "口服",
    "bilg_dept_codg": "D01",
    "bilg_dept_name": "内分泌科",
    "bilg_dr_codg": "D110105000001",
    "bilg_dr_name": "张医生",
    "acord_dept_codg": "P01",
    "acord_dept_name": "门诊药房",
    "orders_dr_code": "P110105000009",
    "orders_dr_name": "李药师",
    "hosp_appr_flag": "1",
    "tcmdrug_used_way": "",
    "etip_flag": "0",
    "etip_hosp_code": "",
    "dscg_tkdrug_flag": "0",
    "matn_fee_flag": "0",
}


def _outpatient(client: GatewayClient, number: str, **register: Any) -> tuple[str, str, str]:
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": BJ_CERTNO}})
    psn_no, region = person["baseinfo"]["psn_no"], person["insuinfo"][0]["insuplc_admdvs"]
    data = {"psn_no": psn_no, "insutype": "310", "begntime": "2021-06-01 09:00:00", "ipt_otp_no": number}
    mdtrt_id = client.call("2201", {"data": {**data, **register}}, region)["data"]["mdtrt_id"]
    return psn_no, region, mdtrt_id


def _line(mdtrt_id: str, psn_no: str, **extra: Any) -> dict[str, Any]:
    return {
        "feedetl_sn": "1",
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "fee_ocur_time": "2021-06-01 10:00:00",
        "med_list_codg": ACARBOSE,
        "det_item_fee_sumamt": "2300.00",
        "cnt": "1000",
        "pric": "2.3",
        **extra,
    }


def _settle_input(psn_no: str, mdtrt_id: str, **extra: Any) -> dict[str, Any]:
    return {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "insutype": "310", "med_type": "11", **extra}}


def test_an_outpatient_visit_keeps_department_doctor_diagnoses_lines_and_invoice(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    client = amounts_as_text(his(http))
    doctor = {"dept_code": "D01", "dept_name": "内分泌科", "atddr_no": "D110105000001", "dr_name": "张医生"}
    psn_no, region, mdtrt_id = _outpatient(client, "K1", **doctor, caty="A03")
    client.call(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": "11",
                "main_cond_dscr": "口干多饮三月",
                "dise_name": "",
                "dept_name": "",  # blank: the department registered stays
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "maindiag_flag": "1",
                    "diag_srt_no": 1,
                    "diag_code": "E11.900",
                    "diag_name": "2型糖尿病",
                    "diag_dept": "内分泌科",
                    "dise_dor_no": "D110105000001",
                    "dise_dor_name": "张医生",
                    "diag_time": "2021-06-01T01:05:00Z",
                    "adm_cond": "",
                    "vali_flag": "1",
                }
            ],
        },
        region,
    )
    client.call("2204", {"feedetail": [_line(mdtrt_id, psn_no, **FEE_FIELDS)]}, region)
    claimed = {"fulamt_ownpay_amt": 0, "overlmt_selfpay": "0.00", "preselfpay_amt": 0, "inscp_scp_amt": 2300.0}
    kept = {"psn_setlway": "01", "invono": "INV2021060100007", "mdtrt_cert_type": "02", "mdtrt_cert_no": BJ_CERTNO}
    info = client.call("2207", _settle_input(psn_no, mdtrt_id, **kept, **claimed, acct_used_flag="0"), region)
    with db.read_only() as s:
        visit = s.get(Visit, mdtrt_id)
        assert visit is not None
        assert (visit.dept_code, visit.dept_name, visit.atddr_no, visit.dr_name, visit.caty) == (
            "D01",
            "内分泌科",
            "D110105000001",
            "张医生",
            "A03",
        )
        assert (visit.main_cond_dscr, visit.dise_name) == ("口干多饮三月", None)
        diagnosis = s.scalar(select(VisitDiagnosis).where(VisitDiagnosis.mdtrt_id == mdtrt_id))
        assert diagnosis is not None
        assert (diagnosis.maindiag_flag, diagnosis.diag_dept, diagnosis.dise_dor_no, diagnosis.dise_dor_name) == (
            "1",
            "内分泌科",
            "D110105000001",
            "张医生",
        )
        assert (diagnosis.diag_srt_no, diagnosis.diag_time, diagnosis.adm_cond) == ("1", "2021-06-01 09:05:00", None)
        fee = s.scalar(select(FeeRecord).where(FeeRecord.mdtrt_id == mdtrt_id))
        assert fee is not None
        expected_line = {k: (Decimal(str(v)) if k == "prd_days" else v or None) for k, v in FEE_FIELDS.items()}
        assert {k: getattr(fee, k) for k in FEE_FIELDS} == expected_line
        settlement = s.get(Settlement, info["setlinfo"]["setl_id"])
        assert settlement is not None
        assert (settlement.psn_setlway, settlement.invono, settlement.mdtrt_cert_type) == ("01", kept["invono"], "02")
        assert settlement.mdtrt_cert_no == MASKED_BJ  # never the ID number in clear
        assert (settlement.acct_used_flag, settlement.mid_setl_flag) == ("0", "0")
        assert (settlement.his_fulamt_ownpay_amt, settlement.his_inscp_scp_amt) == (Decimal("0.00"), Decimal("2300.00"))
        assert settlement.his_preselfpay_amt == Decimal("0.00") and settlement.his_overlmt_selfpay == Decimal("0.00")


def test_an_inpatient_stay_keeps_admission_changes_discharge_and_orders(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    approved_filing(db, LH_PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = amounts_as_text(his(http))
    region = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": LH_CERTNO}})["insuinfo"][0][
        "insuplc_admdvs"
    ]
    admission = {
        "psn_no": LH_PSN,
        "insutype": "310",
        "begntime": "2025-06-05 08:00:00",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": LH_CERTNO,
        "med_type": "21",
        "ipt_no": "ZY2025K1",
        "medrcdno": "MR77",
        "atddr_no": "D110105000021",
        "chfpdr_name": "王医生",
        "adm_diag_dscr": "头痛待查",
        "adm_dept_codg": "D12",
        "adm_dept_name": "心内科",
        "adm_bed": "12-3",
        "dscg_maindiag_code": "I10.x00",
        "dscg_maindiag_name": "高血压",
        "main_cond_dscr": "血压控制不佳",
        "dise_codg": "",
        "oprn_oprt_code": "",
        "matn_type": "",
        "geso_val": "",
        "coner_name": "联系人",  # not kept: personal data the care does not need
        "tel": "13800000000",
    }
    mdtrt_id = client.call("2401", {"mdtrtinfo": admission, "diseinfo": []}, region)["result"]["mdtrt_id"]
    change = {"mdtrt_id": mdtrt_id, "psn_no": LH_PSN, "begntime": "2025-06-05T00:00:00Z", "adm_bed": "12-5"}
    client.call("2403", {"adminfo": {**change, "chfpdr_name": "", "med_type": "21"}, "diseinfo": ""}, region)
    order = {"drord_no": "DO-1", "med_type": "21", "memo": "长期医嘱", "hosp_appr_flag": "1"}
    line = {**_line(mdtrt_id, LH_PSN, **order), "fee_ocur_time": "2025-06-06 10:00:00"}
    client.call("2301", {"feedetail": [line]}, region)
    discharge = {
        "mdtrt_id": mdtrt_id,
        "psn_no": LH_PSN,
        "insutype": "310",
        "endtime": "2025-06-10T01:00:00Z",
        "dscg_dept_codg": "D12",
        "dscg_dept_name": "心内科",
        "dscg_bed": "12-5",
        "dscg_way": "1",
        "die_date": "",
        "cop_flag": "0",
        "oprn_oprt_code": "00.6601",
        "oprn_oprt_name": "经皮冠状动脉腔内血管成形术",
        "fetus_cnt": "",
    }
    client.call("2402", {"dscginfo": discharge, "diseinfo": []}, region)
    with db.read_only() as s:
        visit = s.get(Visit, mdtrt_id)
        assert visit is not None
        assert (visit.dept_code, visit.dept_name, visit.atddr_no, visit.dr_name) == (
            "D12",
            "心内科",
            "D110105000021",
            "王医生",  # chfpdr_name "" in 2403: kept
        )
        assert (visit.adm_bed, visit.medrcdno, visit.adm_diag_dscr) == ("12-5", "MR77", "头痛待查")
        assert (visit.dscg_maindiag_code, visit.dscg_maindiag_name, visit.main_cond_dscr) == (
            "I10.x00",
            "高血压",
            "血压控制不佳",
        )
        assert (visit.dscg_dept_codg, visit.dscg_dept_name, visit.dscg_bed, visit.dscg_way) == (
            "D12",
            "心内科",
            "12-5",
            "1",
        )
        assert (visit.die_date, visit.cop_flag, visit.oprn_oprt_code, visit.fetus_cnt) == (None, "0", "00.6601", None)
        assert visit.endtime is not None and visit.endtime.hour == 9
        assert not hasattr(visit, "tel") and not hasattr(visit, "coner_name")
        fee = s.scalar(select(FeeRecord).where(FeeRecord.mdtrt_id == mdtrt_id))
        assert fee is not None
        assert (fee.drord_no, fee.med_type, fee.memo, fee.hosp_appr_flag) == ("DO-1", "21", "长期医嘱", "1")
    client.call("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": LH_PSN}}, region)
    with db.read_only() as s:
        visit = s.get(Visit, mdtrt_id)
        assert visit is not None and visit.endtime is None
        assert (visit.dscg_dept_codg, visit.dscg_bed, visit.dscg_way, visit.cop_flag) == (None,) * 4
        assert visit.oprn_oprt_code == "00.6601" and visit.adm_bed == "12-5"  # not the discharge's own
    client.call("2402", {"dscginfo": {**discharge, "dscg_way": "5", "die_date": "2025-06-10"}}, region)
    info = client.call(
        "2304",
        {
            "data": {
                "psn_no": LH_PSN,
                "mdtrt_id": mdtrt_id,
                "insutype": "310",
                "medfee_sumamt": "2300.00",
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": "A12345678",
                "mid_setl_flag": 0,
                "acct_used_flag": 1,
                "invono": "ZY-INV-1",
                "psn_setlway": "01",
            }
        },
        region,
    )["setlinfo"]
    with db.read_only() as s:
        visit = s.get(Visit, mdtrt_id)
        settlement = s.get(Settlement, info["setl_id"])
        assert visit is not None and settlement is not None
        assert (visit.dscg_way, visit.die_date) == ("5", dt.date(2025, 6, 10))
        kept = (settlement.mdtrt_cert_type, settlement.mdtrt_cert_no, settlement.invono)
        assert kept == ("03", "A12345678", "ZY-INV-1")
        assert (settlement.acct_used_flag, settlement.mid_setl_flag, settlement.psn_setlway) == ("1", "0", "01")
        assert settlement.acct_pay > 0  # the account flag sent as the JSON number 1 was honoured


@pytest.mark.parametrize(
    ("infno", "field", "problem"),
    [
        ("2201", "dept_name", "longer than 100"),
        ("2201", "caty", "longer than 6"),
        ("2203", "main_cond_dscr", "longer than 1000"),
        ("2203", "diseinfo[0].diag_dept", "longer than 50"),
        ("2203", "geso_val", "0 to 99"),
        ("2204", "feedetail[0].bilg_dr_name", "longer than 50"),
        ("2204", "feedetail[0].rxno", "longer than 30"),
        ("2204", "feedetail[0].prd_days", "0 to 99.99"),
        ("2207", "invono", "longer than 20"),
        ("2207", "mdtrt_cert_no", "longer than 50"),
        ("2207", "acct_used_flag", "must be 0 or 1"),
    ],
)
def test_a_value_outside_the_specification_is_refused_by_field_name(
    http: TestClient,  # noqa: F811
    db: Database,
    infno: str,
    field: str,
    problem: str,
) -> None:
    client = amounts_as_text(his(http))
    psn_no, region, mdtrt_id = _outpatient(client, "L1")
    long_values = {"longer than": lambda n: "字" * (int(n) + 1), "0 to": lambda _: "100", "must be": lambda _: "Y"}
    kind = next(k for k in long_values if problem.startswith(k))
    bad = long_values[kind](problem.rsplit(" ", 1)[-1])
    name = field.rsplit(".", 1)[-1]
    payload: dict[str, Any]
    if infno == "2201":
        payload = {"data": {"psn_no": psn_no, "insutype": "310", "begntime": "2021-06-01 09:00:00", "ipt_otp_no": "L2"}}
        payload["data"][name] = bad
    elif infno == "2203":
        diagnosis = {"diag_type": "1", "diag_code": "E11.900", "diag_name": "2型糖尿病"}
        node = {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "11"}
        (diagnosis if field.startswith("diseinfo") else node)[name] = bad
        payload = {"mdtrtinfo": node, "diseinfo": [diagnosis]}
    elif infno == "2204":
        payload = {"feedetail": [_line(mdtrt_id, psn_no, **{name: bad})]}
    else:
        client.call("2204", {"feedetail": [_line(mdtrt_id, psn_no)]}, region)
        payload = _settle_input(psn_no, mdtrt_id, mdtrt_cert_type="02", **{name: bad})
    with pytest.raises(GatewayError) as caught:
        client.call(infno, payload, region)
    message = caught.value.answer["err_msg"]
    assert f"{field} " in message and problem in message, message
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == 0


def test_psn_setlway_02_is_refused_with_its_reason_and_01_or_blank_settles_by_item(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    client = amounts_as_text(his(http))
    psn_no, region, mdtrt_id = _outpatient(client, "W1")
    client.call("2204", {"feedetail": [_line(mdtrt_id, psn_no)]}, region)
    for infno in ("2206", "2207"):
        with pytest.raises(GatewayError) as caught:
            client.call(infno, _settle_input(psn_no, mdtrt_id, psn_setlway="02"), region)
        message = caught.value.answer["err_msg"]
        assert "S_REFUSED" in message and "psn_setlway 02" in message and "按定额结算" in message, message
        assert "fixed amount" in message
        with pytest.raises(GatewayError, match="psn_setlway must be 01 or 02"):
            client.call(infno, _settle_input(psn_no, mdtrt_id, psn_setlway="03"), region)
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == 0
    pre = client.call("2206", _settle_input(psn_no, mdtrt_id, psn_setlway=""), region)["setlinfo"]
    info = client.call("2207", _settle_input(psn_no, mdtrt_id, psn_setlway="01"), region)["setlinfo"]
    assert pre["hifp_pay"] == info["hifp_pay"] == "800.00"  # E8, by item
    cancel = {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}
    reversal = client.call("2208", {"data": cancel}, region)["setlinfo"]
    with db.read_only() as s:
        ways = {r.setl_id: r.psn_setlway for r in s.scalars(select(Settlement))}
    assert ways == {info["setl_id"]: "01", reversal["setl_id"]: "01"}


@pytest.mark.parametrize(
    ("cert_type", "number", "kept"),
    [
        ("02", BJ_CERTNO, MASKED_BJ),
        ("02", "110105195206069", "110105*****6069"),  # not a valid ID number, masked all the same
        ("03", "A12345678", "A12345678"),  # a social security card number
        ("03", f"SB{BJ_CERTNO}", f"SB{MASKED_BJ}"),  # an ID number inside another number
        ("03", "4111021956031290", "4111021956031290"),  # 16 digits: no ID number
        ("03", BJ_CERTNO, MASKED_BJ),  # a card numbered by the ID number
        ("", BJ_CERTNO, MASKED_BJ),
        ("01", "t" * 600, None),  # an e-voucher token: a credential, not kept
        ("02", "", None),
    ],
)
def test_the_certificate_is_kept_without_an_id_number_in_clear(cert_type: str, number: str, kept: str | None) -> None:
    fields = care.settlement({"mdtrt_cert_type": cert_type, "mdtrt_cert_no": number})
    assert fields["mdtrt_cert_no"] == kept and fields["mdtrt_cert_type"] == (cert_type or None)


def test_the_settlement_fields_blank_are_absent_and_bad_ones_refused() -> None:
    blanks = dict.fromkeys(("psn_setlway", "invono", "acct_used_flag", "mid_setl_flag", "inscp_scp_amt"), "")
    fields = care.settlement(blanks)
    assert fields == {
        "psn_setlway": "01",
        "invono": None,
        "mdtrt_cert_type": None,
        "mdtrt_cert_no": None,
        "acct_used_flag": "0",
        "mid_setl_flag": "0",
        "his_fulamt_ownpay_amt": None,
        "his_overlmt_selfpay": None,
        "his_preselfpay_amt": None,
        "his_inscp_scp_amt": None,
    }
    with pytest.raises(YidiError, match="inscp_scp_amt"):
        care.settlement({"inscp_scp_amt": "12.345"})
    with pytest.raises(YidiError, match="mid_setl_flag must be 0 or 1"):
        care.settlement({"mid_setl_flag": "2"})
