"""A whole outpatient visit sent the way vendor HIS send it: ISO 8601 times with offsets (inf_time too), amounts,
counts and prices as JSON numbers, "" in every optional field. yidi answers exactly what it answers the plain form
(E8: (2,300 − 1,300) × 80 % = 800) and stores the Beijing times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import amounts_as_text
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError, check
from yidi.settlement.models import FeeRecord, Settlement, Visit

from .test_gateway import ACARBOSE, his, http  # noqa: F401  (http is a fixture)

CERTNO = "110105195206069237"  # 北京 employee retiree (E8)


def _iso_call(client: GatewayClient, infno: str, payload: dict[str, Any], region: str = "") -> dict[str, Any]:
    """A call whose envelope carries inf_time as ISO 8601 in UTC with milliseconds, as some HIS stacks write it."""
    envelope = client.envelope(infno, payload, region)
    envelope["inf_time"] = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    answer = client.post(envelope)
    check(infno, answer)
    return dict(answer["output"])


def test_an_outpatient_visit_with_iso_times_json_numbers_and_blank_optional_fields(
    http: TestClient,  # noqa: F811
    db: Database,
) -> None:
    client = amounts_as_text(his(http))
    blank_cert = {"card_sn": "", "certno": "", "psn_cert_type": "", "psn_name": ""}
    person = _iso_call(client, "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, **blank_cert}})
    psn_no, region = person["baseinfo"]["psn_no"], person["insuinfo"][0]["insuplc_admdvs"]
    reg = _iso_call(
        client,
        "2201",
        {
            "data": {
                "psn_no": psn_no,
                "insutype": "310",
                "begntime": "2021-06-01T01:00:00Z",  # 09:00 in Beijing
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "ipt_otp_no": 20210601001,  # a number where text belongs: taken as its digits
                **dict.fromkeys(("atddr_no", "dr_name", "dept_code", "dept_name", "caty"), ""),
            }
        },
        region,
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    _iso_call(
        client,
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": "11",
                "begntime": "2021-06-01T09:00:00.000+08:00",
                **dict.fromkeys(("main_cond_dscr", "dise_codg", "dise_name", "birctrl_type", "birctrl_matn_date"), ""),
                "matn_type": "",
                "geso_val": "",
            },
            "diseinfo": "",  # blank: the visit's diagnoses are left as they are
        },
        region,
    )
    blank_line = dict.fromkeys(
        (
            "chrg_bchno",
            "dise_codg",
            "rxno",
            "rx_circ_flag",
            "medins_list_codg",
            "init_feedetl_sn",
            "sin_dos_dscr",
            "used_frqu_dscr",
            "prd_days",
            "medc_way_dscr",
            "bilg_dept_codg",
            "bilg_dept_name",
            "bilg_dr_codg",
            "bilg_dr_name",
            "hosp_appr_flag",
            "tcmdrug_used_way",
            "etip_flag",
            "etip_hosp_code",
            "dscg_tkdrug_flag",
            "matn_fee_flag",
        ),
        "",
    )
    line = {
        "feedetl_sn": 1,
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "fee_ocur_time": "2021-06-01T02:00:00.250Z",  # 10:00:00 in Beijing, the fraction dropped
        "med_list_codg": ACARBOSE,
        "det_item_fee_sumamt": 2300.0,  # JSON numbers: 2300.0, 1000, 2.3
        "cnt": 1000,
        "pric": 2.3,
        **blank_line,
    }
    result = _iso_call(client, "2204", {"feedetail": [line]}, region)["result"]
    assert result[0]["det_item_fee_sumamt"] == "2300.00" and result[0]["inscp_scp_amt"] == "2300.00"
    settle_input = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": CERTNO,
            "med_type": "11",
            "medfee_sumamt": 2300,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            **dict.fromkeys(("psn_setlway", "chrg_bchno", "acct_used_flag", "invono"), ""),
            **dict.fromkeys(("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"), ""),
        }
    }
    pre = _iso_call(client, "2206", settle_input, region)["setlinfo"]
    info = _iso_call(client, "2207", settle_input, region)["setlinfo"]
    for answer in (pre, info):
        assert (answer["act_pay_dedc"], answer["hifp_pay"], answer["psn_part_amt"]) == ("1300.00", "800.00", "1500.00")
    visits = _iso_call(
        client,
        "5201",
        {"data": {"psn_no": psn_no, "begntime": "2021-05-31T16:00:00Z", "endtime": "2021-06-01T23:59:59+0800"}},
        region,
    )["mdtrtinfo"]
    assert [(v["mdtrt_id"], v["begntime"]) for v in visits] == [(mdtrt_id, "2021-06-01 09:00:00")]
    with db.read_only() as s:
        visit = s.get(Visit, mdtrt_id)
        fee = s.scalar(select(FeeRecord).where(FeeRecord.mdtrt_id == mdtrt_id))
        settlement = s.get(Settlement, info["setl_id"])
        assert visit is not None and fee is not None and settlement is not None
        assert visit.begntime == dt.datetime(2021, 6, 1, 9, tzinfo=SHANGHAI) and visit.ipt_otp_no == "20210601001"
        assert (visit.dept_code, visit.dept_name, visit.dr_name, visit.caty, visit.dise_codg) == (None,) * 5
        assert fee.fee_ocur_time == dt.datetime(2021, 6, 1, 10, tzinfo=SHANGHAI)
        assert (fee.det_item_fee_sumamt, fee.cnt, fee.pric) == (Decimal("2300.00"), Decimal(1000), Decimal("2.3"))
        assert (fee.chrg_bchno, fee.init_feedetl_sn, fee.rxno, fee.prd_days, fee.hosp_appr_flag) == (None,) * 5
        assert (settlement.psn_setlway, settlement.acct_used_flag, settlement.invono) == ("01", "0", None)
        assert settlement.his_inscp_scp_amt is None and settlement.acct_pay == Decimal("0.00")


def test_a_required_field_sent_blank_is_refused_as_required(http: TestClient) -> None:  # noqa: F811
    client = amounts_as_text(his(http))
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    psn_no, region = person["baseinfo"]["psn_no"], person["insuinfo"][0]["insuplc_admdvs"]
    register = {"psn_no": psn_no, "insutype": "310", "begntime": "2021-06-01 09:00:00", "ipt_otp_no": "B1"}
    for name in ("psn_no", "begntime", "ipt_otp_no"):
        with pytest.raises(GatewayError, match=f"{name} is required"):
            client.call("2201", {"data": {**register, name: " " if name == "begntime" else ""}}, region)
    mdtrt_id = client.call("2201", {"data": register}, region)["data"]["mdtrt_id"]
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "fee_ocur_time": "2021-06-01 10:00:00",
        "med_list_codg": ACARBOSE,
        "det_item_fee_sumamt": "2300.00",
        "cnt": "1000",
        "pric": "2.3",
    }
    for name in ("det_item_fee_sumamt", "cnt", "fee_ocur_time"):
        with pytest.raises(GatewayError, match=rf"feedetail\[0\]\.{name} is required"):
            client.call("2204", {"feedetail": [{**line, name: ""}]}, region)


@pytest.mark.parametrize(
    "inf_time",
    [
        "2026-12-01 09:30:00",
        "2026-12-01T09:30:00",
        "2026-12-01T09:30:00.123",
        "2026-12-01T01:30:00Z",
        "2026-12-01T01:30:00+00:00",
        "2026-12-01T09:30:00+0800",
    ],
)
def test_inf_time_in_iso_8601_is_accepted(http: TestClient, inf_time: str) -> None:  # noqa: F811
    client = amounts_as_text(his(http))
    envelope = client.envelope("1901", {"type": "psn_setlway"})
    envelope["inf_time"] = inf_time
    answer = client.post(envelope)
    assert answer["infcode"] == 0, answer
    assert [row["value"] for row in answer["output"]["list"]] == ["01", "02"]


@pytest.mark.parametrize(
    "inf_time",
    ["2026-12-01", "2026-12-01T09:30", "2026-12-01T09:30:00.1234567890+08:00", "2026-12-01T09:30:00+08:75", ""],
)
def test_inf_time_that_is_no_date_time_is_refused_by_name(http: TestClient, inf_time: str) -> None:  # noqa: F811
    client = amounts_as_text(his(http))
    envelope = client.envelope("1901", {"type": "psn_setlway"})
    envelope["inf_time"] = inf_time
    answer = client.post(envelope)
    assert answer["infcode"] == -1 and "inf_time" in answer["err_msg"], answer
