"""The national-interface gateway: the worked examples to the fen, replay by msgid, cancellation, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from yidi.app import create_app
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal, Role
from yidi.demo.service import demo_key_id, demo_secret, load_demo
from yidi.filing import service as filing
from yidi.filing.rules import Basis, Channel, Status, Subtype
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.settlement.models import Accumulator, MessageLog, Settlement

BJ_HOSP = "H11010500001"
ACARBOSE, REPAGLINIDE, NIFEDIPINE = "XA10BFA331A740537984000", "XA10BXA248A880381848000", "XC08CAA276A679591896000"
NOT_IN_CATALOGUE = "XZZ99ZZZ999Z999999999999"[:23]


def approved_filing(db: Database, psn_no: str, region: str, target: str, begndate: dt.date) -> str:
    now = dt.datetime.combine(begndate, dt.time(9), SHANGHAI)
    with db.unit_of_work() as s:
        f = filing.submit(
            s,
            Principal(Audience.PERSON, psn_no),
            filing.SubmitRequest(
                psn_no, "310", Subtype.RESETTLED_RETIREE, target, begndate, Basis.COMMITMENT, Channel.NATIONAL_APP
            ),
            now,
        )
        if f.status != Status.APPROVED:
            reviewer = Principal(Audience.STAFF, "t", frozenset({Role.REVIEWER}), frozenset({region}))
            filing.decide_review(s, reviewer, f.id, "approve", None, now)
        return f.id


@pytest.fixture
def http(db: Database) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
    with TestClient(create_app(db)) as c:
        yield c


def his(http: TestClient, code: str = BJ_HOSP, region: str = "110000") -> GatewayClient:
    return GatewayClient(
        "http://testserver",
        fixmedins_code=code,
        key_id=demo_key_id(code),
        key=demo_secret(code),
        mdtrtarea_admvs=region,
        fixmedins_name="演示",
        http=http,
    )


def line(sn: str, code: str, when: str, total: str, cnt: str, pric: str, **extra: str) -> dict[str, str]:
    return {
        "feedetl_sn": sn,
        "med_list_codg": code,
        "medins_list_codg": code,
        "fee_ocur_time": when,
        "det_item_fee_sumamt": total,
        "cnt": cnt,
        "pric": pric,
        **extra,
    }


def outpatient(
    client: GatewayClient,
    certno: str,
    day: str,
    med_type: str,
    disease: str | None,
    lines: list[dict[str, str]],
    number: str,
) -> tuple[str, str, dict[str, str]]:
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "psn_cert_type": "01"}})
    psn_no = person["baseinfo"]["psn_no"]
    region = person["insuinfo"][0]["insuplc_admdvs"]
    assert person["baseinfo"]["certno"] == certno  # the institution presented the person's own ID number
    reg = client.call(
        "2201",
        {
            "data": {
                "psn_no": psn_no,
                "insutype": "310",
                "begntime": f"{day} 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": certno,
                "ipt_otp_no": number,
                "dept_code": "D01",
                "caty": "A03",
            }
        },
        region,
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    client.call(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": med_type,
                "begntime": f"{day} 09:00:00",
                "dise_codg": disease or "",
            },
            "diseinfo": [],
        },
        region,
    )
    client.call(
        "2204",
        {"feedetail": [{**ln, "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "1"} for ln in lines]},
        region,
    )
    total = str(sum(Decimal(ln["det_item_fee_sumamt"]) for ln in lines))
    settle_input = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": certno,
            "med_type": med_type,
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": "1",
            "acct_used_flag": "0",
            "insutype": "310",
        }
    }
    pre = client.call("2206", settle_input, region)["setlinfo"]
    return psn_no, region, {"pre": pre, "input": settle_input}  # type: ignore[dict-item]


def test_e1_langfang_retiree_chronic_in_beijing(http: TestClient, db: Database) -> None:
    """E1 (NHSA example): 乙类 share follows 北京; 廊坊 门慢 ratio 80 %, no deductible."""
    approved_filing(db, "13100000000000000003", "131000", "110000", dt.date(2022, 6, 1))
    client = his(http)
    lines = [
        line("1", ACARBOSE, "2022-07-01 09:10:00", "32.52", "1", "32.52"),
        line("2", REPAGLINIDE, "2022-07-01 09:10:00", "31.77", "1", "31.77"),
    ]
    _, region, flow = outpatient(client, "131002195101109749", "2022-07-01", "14", "M01600", lines, "E1")
    pre = flow["pre"]
    assert (pre["medfee_sumamt"], pre["preselfpay_amt"], pre["inscp_scp_amt"]) == (
        Decimal("64.29"),
        Decimal("3.18"),
        Decimal("61.11"),
    )
    assert (pre["act_pay_dedc"], pre["hifp_pay"], pre["psn_part_amt"]) == (
        Decimal("0.00"),
        Decimal("48.89"),
        Decimal("15.40"),
    )
    settled = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    assert (
        settled["hifp_pay"] == Decimal("48.89") and settled["psn_cash_pay"] == Decimal("15.40") and settled["setl_id"]
    )


def test_e2_fangchenggang_hypertension_in_beijing(http: TestClient, db: Database) -> None:
    """E2: (300 − 100 self-paid − 50 deductible) × 75 % = 112.50; person pays 187.50."""
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [
        line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2"),
        line("2", NOT_IN_CATALOGUE, "2025-06-03 10:00:00", "100.00", "1", "100"),
    ]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "E2")
    out = client.call("2207", flow["input"], region)  # type: ignore[arg-type]
    info = out["setlinfo"]
    assert (info["fulamt_ownpay_amt"], info["act_pay_dedc"], info["hifp_pay"], info["psn_part_amt"]) == (
        Decimal("100.00"),
        Decimal("50.00"),
        Decimal("112.50"),
        Decimal("187.50"),
    )
    assert [d["fund_pay_type"] for d in out["setldetail"]] == ["310100"]


def test_e8_beijing_retiree_outpatient_older_rules(http: TestClient) -> None:
    """E8: (2,300 − 1,300) × 80 % = 800, under the 2021 北京 parameters."""
    client = his(http)
    lines = [line("1", ACARBOSE, "2021-06-01 10:00:00", "2300.00", "1000", "2.3")]
    _, region, flow = outpatient(client, "110105195206069237", "2021-06-01", "11", None, lines, "E8")
    info = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    assert (info["act_pay_dedc"], info["hifp_pay"], info["psn_part_amt"]) == (
        Decimal("1300.00"),
        Decimal("800.00"),
        Decimal("1500.00"),
    )


def _accumulators(db: Database, psn_no: str) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == psn_no))}


def test_replay_returns_the_identical_answer_and_changes_nothing(http: TestClient, db: Database) -> None:
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "R1")
    envelope, first = client.send("2207", flow["input"], region)  # type: ignore[arg-type]
    before = _accumulators(db, "45060000000000000001")
    with db.read_only() as s:
        count = s.scalar(select(func.count()).select_from(Settlement))
    for _ in range(3):
        assert client.replay(envelope) == first
    assert _accumulators(db, "45060000000000000001") == before
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == count == 1
    # Failed answers are replayed too: the same msgid never gets a second chance to do something else.
    bad_env, bad = client.send("2208", {"data": {"setl_id": "S0", "mdtrt_id": "V0", "psn_no": "x"}}, region)
    assert bad["infcode"] == -1 and client.replay(bad_env) == bad


def test_cancel_restores_every_accumulator_and_allows_settling_again(http: TestClient, db: Database) -> None:
    psn = "45060000000000000001"
    approved_filing(db, psn, "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "C1")
    first = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    after_first = _accumulators(db, psn)
    assert after_first["basic.fund"] == 11250 and after_first["chronic.M03900.deductible"] == 5000
    data = flow["input"]["data"]  # type: ignore[index]
    cancel = client.call(
        "2208", {"data": {"setl_id": first["setl_id"], "mdtrt_id": data["mdtrt_id"], "psn_no": data["psn_no"]}}, region
    )["setlinfo"]
    assert (
        cancel["setl_id"] != first["setl_id"]
        and cancel["hifp_pay"] == Decimal("-112.50")
        and cancel["medfee_sumamt"] == Decimal("-200.00")
    )
    assert set(_accumulators(db, psn).values()) == {0}
    again = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    assert again["hifp_pay"] == first["hifp_pay"] and _accumulators(db, psn) == after_first
    with pytest.raises(GatewayError, match="S_STATE"):
        client.call(
            "2208",
            {"data": {"setl_id": first["setl_id"], "mdtrt_id": data["mdtrt_id"], "psn_no": data["psn_no"]}},
            region,
        )


def test_another_institution_sees_nothing(http: TestClient, db: Database) -> None:
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "X1")
    setl = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    other = his(http, "H11010800003")
    for infno, payload in [
        ("2208", {"data": {"setl_id": setl["setl_id"], "psn_no": setl["psn_no"]}}),
        ("5203", {"data": {"setl_id": setl["setl_id"], "psn_no": setl["psn_no"]}}),
        (
            "2204",
            {"feedetail": [{**lines[0], "feedetl_sn": "9", "mdtrt_id": setl["mdtrt_id"], "psn_no": setl["psn_no"]}]},
        ),
    ]:
        with pytest.raises(GatewayError, match="E_NOT_FOUND"):
            other.call(infno, payload, region)


def test_reversal_2601_undoes_a_settlement_or_blocks_a_late_original(http: TestClient, db: Database) -> None:
    psn = "45060000000000000001"
    approved_filing(db, psn, "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "V1")
    env, answer = client.send("2207", flow["input"], region)  # type: ignore[arg-type]
    assert answer["infcode"] == 0
    out = client.call("2601", {"data": {"psn_no": psn, "omsgid": env["msgid"], "oinfno": "2207"}}, region)
    assert out["rslt"] == "reversed" and set(_accumulators(db, psn).values()) == {0}
    # A 2207 the platform never received, reversed first: when it arrives late it is refused.
    late = client.envelope("2207", flow["input"], region)  # type: ignore[arg-type]
    assert client.call("2601", {"data": {"psn_no": psn, "omsgid": late["msgid"], "oinfno": "2207"}}, region)[
        "rslt"
    ].startswith("nothing settled")
    refused = client.post(late)
    assert refused["infcode"] == -1 and "2601" in refused["err_msg"]
    assert set(_accumulators(db, psn).values()) == {0}


def test_unfiled_cross_province_care_is_refused_with_the_reason(http: TestClient) -> None:
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    with pytest.raises(GatewayError) as err:  # refused already at pre-settlement (2206)
        outpatient(client, "450602195409299696", "2025-06-03", "11", None, lines, "U1")
    assert err.value.infno == "2206"
    assert "S_REFUSED" in err.value.err_msg and "claim at home" in err.value.err_msg


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("infno"), "infno"),
        (lambda e: e.update(msgid="H1101050000120250101"), "msgid"),
        (lambda e: e.update(inf_time="2025/01/01"), "inf_time"),
        (lambda e: e.update(opter_type="9"), "opter_type"),
        (lambda e: e.update(mdtrtarea_admvs="120000"), "mdtrtarea_admvs"),
        (lambda e: e.update(input=[1, 2]), "input"),
        (lambda e: e.update(infno="9999"), "infno"),
    ],
)
def test_bad_envelopes_answer_minus_one_naming_the_field(http: TestClient, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    client = his(http)
    envelope = client.envelope("1901", {"type": "med_type"})
    mutate(envelope)
    answer = client.post(envelope)
    assert answer["infcode"] == -1 and field in answer["err_msg"] and answer["output"] == {}
    assert len(answer["inf_refmsgid"]) == 30 and len(answer["respond_time"]) == 17


def test_bad_input_never_a_server_error(http: TestClient) -> None:
    client = his(http)
    for infno, payload in [
        ("2204", {"feedetail": "x"}),
        ("2207", {"data": {"mdtrt_id": 5}}),
        ("1101", {}),
        ("2201", {"data": {"psn_no": "1", "insutype": "310", "begntime": "yesterday"}}),
        ("2204", {"feedetail": [{"mdtrt_id": "x", "det_item_fee_sumamt": 1e309}]}),
    ]:
        _, answer = client.send(infno, payload)
        assert answer["infcode"] == -1 and answer["err_msg"], (infno, answer)
    raw = http.post(
        "/fsi/api/rsfComIfsService/callService",
        content=b"not json",
        headers=__import__("yidi.security.client", fromlist=["x"]).signed_headers(
            demo_key_id(BJ_HOSP), demo_secret(BJ_HOSP), "POST", "/fsi/api/rsfComIfsService/callService", b"not json"
        ),
    )
    assert raw.status_code == 200 and raw.json()["infcode"] == -1


def test_code_tables_sign_in_and_queries(http: TestClient, db: Database) -> None:
    client = his(http)
    assert client.sign_in("007")
    tables = client.call("1901", {"type": "med_type"})["list"]
    by_value = {t["value"]: t for t in tables}  # the label of 14 itself, wherever the table puts it
    assert len(by_value) == len(tables) and by_value["14"]["label"] == "门诊慢特病"
    assert {t["type"] for t in tables} == {"med_type"}
    assert (
        client.call("1201", {"medinsinfo": {"fixmedins_code": BJ_HOSP}})["medinsinfo"][0]["fixmedins_code"] == BJ_HOSP
    )
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    psn, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "Q1")
    setl = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    assert client.call("5203", {"data": {"setl_id": setl["setl_id"], "psn_no": psn}}, region)["setlinfo"][
        "hifp_pay"
    ] == Decimal("112.50")
    cum = {
        c["cum_type_name"]: c["cum"]
        for c in client.call("5206", {"data": {"psn_no": psn, "cum_ym": "202506"}}, region)["cuminfo"]
    }
    assert cum["basic.fund"] == Decimal("112.50")
    benefit = client.call(
        "2001",
        {
            "data": {
                "psn_no": psn,
                "insutype": "310",
                "med_type": "14",
                "dise_codg": "M03900",
                "begntime": "2025-06-03 00:00:00",
            }
        },
        region,
    )
    assert benefit["trtinfo"][0]["trt_enjymnt_flag"] == "1"
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(MessageLog)) >= 5


def test_inpatient_stay_admit_fees_discharge_settle_cancel(http: TestClient, db: Database) -> None:
    """漯河 retiree filed to 北京: first-stay deductible 700 (level 3, 2025), then 83 % in the first band."""
    psn = "41110000000000000001"
    approved_filing(db, psn, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "411102195603129013"}})
    region = person["insuinfo"][0]["insuplc_admdvs"]
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": psn,
                "insutype": "310",
                "begntime": "2025-06-05 08:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": "411102195603129013",
                "med_type": "21",
                "ipt_no": "ZY2025001",
                "adm_dept_codg": "D12",
                "dise_codg": "I10.x00",
            },
            "diseinfo": [],
        },
        region,
    )
    mdtrt_id = adm["result"]["mdtrt_id"]
    fees = [
        line(str(n), ACARBOSE, f"2025-06-0{5 + n} 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=psn)
        for n in range(5)
    ]
    result = client.call("2301", {"feedetail": fees}, region)["result"]
    assert [r["inscp_scp_amt"] for r in result] == [Decimal("2000.00")] * 5
    client.call("2302", {"data": [{"feedetl_sn": "4", "mdtrt_id": mdtrt_id, "psn_no": psn}]}, region)
    client.call(
        "2301",
        {
            "feedetail": [
                line("5", ACARBOSE, "2025-06-09 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=psn)
            ]
        },
        region,
    )
    with pytest.raises(GatewayError, match="S_STATE"):  # not discharged yet: 2405 refused
        client.call("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn}}, region)
    client.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn,
                "insutype": "310",
                "endtime": "2025-06-10 09:00:00",
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
        region,
    )
    payload = {
        "data": {
            "psn_no": psn,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "medfee_sumamt": "10000.00",
            "mdtrt_cert_type": "02",
            "mid_setl_flag": "0",
            "acct_used_flag": "1",
        }
    }
    pre = client.call("2303", payload, region)["setlinfo"]
    assert (pre["act_pay_dedc"], pre["hifp_pay"], pre["pool_prop_selfpay"]) == (
        Decimal("700.00"),
        Decimal("7719.00"),
        Decimal("0.8300"),
    )
    out = client.call("2304", payload, region)
    info = out["setlinfo"]
    assert info["hifp_pay"] == Decimal("7719.00") and info["psn_part_amt"] == Decimal("2281.00")
    assert info["acct_pay"] == Decimal("2281.00") and info["psn_cash_pay"] == Decimal(
        "0.00"
    )  # the account (3,250.40) pays first
    assert Decimal(info["balc"]) == Decimal("3250.40") - Decimal("2281.00")
    cum = {
        c["cum_type_name"]: c["cum"]
        for c in client.call("5206", {"data": {"psn_no": psn, "cum_ym": "202506"}}, region)["cuminfo"]
    }
    assert cum["inpatient.stays"] == Decimal("1") and cum["basic.fund"] == Decimal("7719.00")
    client.call("2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn}}, region)
    cum = {
        c["cum_type_name"]: c["cum"]
        for c in client.call("5206", {"data": {"psn_no": psn, "cum_ym": "202506"}}, region)["cuminfo"]
    }
    assert cum["inpatient.stays"] == Decimal("0") and cum["basic.fund"] == Decimal("0.00")
    again = client.call("2304", payload, region)["setlinfo"]
    assert (
        again["act_pay_dedc"] == Decimal("700.00") and again["balc"] == info["balc"]
    )  # the stay is again the first one


def test_his_demo_plays_against_the_app(http: TestClient) -> None:
    from yidi.gateway.his_demo import run

    lines: list[str] = []
    result = run("http://testserver", lines.append, http=http)
    text = "\n".join(lines)
    assert "HIS demo finished" in text and "infcode -1" not in text
    first, second = result["inpatient_first"]["setlinfo"], result["inpatient_second"]["setlinfo"]
    assert first["setl_id"] != second["setl_id"] and first["hifp_pay"] == second["hifp_pay"]
    assert Decimal(result["outpatient"]["setlinfo"]["hifp_pay"]) > 0


def test_summary_reconciliation_3201(http: TestClient, db: Database) -> None:
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "S1")
    setl = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    today = setl["setl_time"][:10]
    query = {
        "insutype": "310",
        "clr_type": "11",
        "setl_optins": "450600",
        "stmt_begndate": today,
        "stmt_enddate": today,
        "medfee_sumamt": "200.00",
        "fund_pay_sumamt": "112.50",
        "acct_pay": "0.00",
        "fixmedins_setl_cnt": "1",
    }
    assert client.call("3201", {"data": query}, region)["stmtinfo"]["stmt_rslt"] == "0"
    off = client.call("3201", {"data": {**query, "fund_pay_sumamt": "112.00"}}, region)["stmtinfo"]
    assert off["stmt_rslt"] == "1" and "fund_pay_sumamt" in off["stmt_rslt_dscr"]


def test_detail_reconciliation_3202_through_9101_and_9102(http: TestClient, db: Database) -> None:
    import io
    import zipfile

    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    psn, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "D1")
    setl = client.call("2207", flow["input"], region)["setlinfo"]  # type: ignore[arg-type]
    day = setl["setl_time"][:10]
    ours = (
        f"{setl['setl_id']}\t{setl['mdtrt_id']}\t{psn}\t200.00\t112.50\t0.00\t0\n"
        f"S999\tV999\t{psn}\t10.00\t5.00\t0.00\t0\n"
    )
    file_no = client.upload("detail.txt", ours.encode())
    out = client.call(
        "3202",
        {
            "data": {
                "setl_optins": "450600",
                "file_qury_no": file_no,
                "stmt_begndate": day,
                "stmt_enddate": day,
                "medfee_sumamt": "200.00",
                "fund_pay_sumamt": "112.50",
                "cash_payamt": "87.50",
                "fixmedins_setl_cnt": "1",
            }
        },
        region,
    )
    assert out["stmt_rslt"] == "1"  # the extra S999 line exists only at the institution
    archive = zipfile.ZipFile(io.BytesIO(client.download(out["fileinfo"]["file_qury_no"])))
    rows = [r.split("\t") for r in archive.read("result.txt").decode().splitlines()]
    assert [(r[2], r[4]) for r in rows] == [(setl["setl_id"], "0"), ("S999", "3")]
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):
        his(http, "H11010800003").download(out["fileinfo"]["file_qury_no"])


def test_a_reused_msgid_with_a_different_message_is_refused(http: TestClient) -> None:
    client = his(http)
    _, first = client.send("1901", {"type": "med_type"})
    assert first["infcode"] == 0  # read-only answers are not stored; send a state change to test reuse
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "450602195409299696"}})  # to register
    register = {
        "data": {
            "psn_no": "45060000000000000001",
            "insutype": "310",
            "begntime": "2025-06-03 09:00:00",
            "ipt_otp_no": "M1",
        }
    }
    env, answer = client.send("2201", register)
    assert answer["infcode"] == 0
    other = {"data": {**register["data"], "psn_no": "41110000000000000001", "ipt_otp_no": "M2"}}
    reused = client.post({**env, "input": other, "inf_time": env["inf_time"]})
    assert reused["infcode"] == -1 and "E_MSGID_REUSED" in reused["err_msg"]
    assert client.post({**env, "inf_time": "2025-06-03 09:00:05"}) == answer  # same message, retried: replayed


def test_two_terminals_do_not_share_msgids() -> None:
    from yidi.gateway.client import MsgIdGenerator

    now = dt.datetime(2025, 6, 3, 9, 0, tzinfo=SHANGHAI)
    a, b = MsgIdGenerator(BJ_HOSP), MsgIdGenerator(BJ_HOSP)
    assert len({a(now) for _ in range(100)} | {b(now) for _ in range(100)}) == 200  # one sequence per institution


def test_message_log_keeps_no_unmasked_id_number(http: TestClient, db: Database) -> None:
    from yidi.core.certno import find_certnos

    client = his(http)
    certno = "450602195409299696"
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})  # registering needs it
    env, answer = client.send(
        "2201",
        {
            "data": {
                "psn_no": "45060000000000000001",
                "insutype": "310",
                "begntime": "2025-06-03 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": certno,
                "ipt_otp_no": "K1",
            }
        },
    )
    assert answer["infcode"] == 0
    _, failed = client.send("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "450602195409299697"}})
    assert failed["infcode"] == -1
    with db.read_only() as s:
        rows = s.scalars(select(MessageLog)).all()
        dumped = __import__("json").dumps([[r.request, r.response] for r in rows], ensure_ascii=False)
    assert find_certnos(dumped) == [] and "450602********9696" in dumped
    assert client.replay(env) == answer  # still recognised as the same message


def test_no_table_holds_an_unmasked_id_number_after_a_hospital_day(http: TestClient, db: Database) -> None:
    """Personal data at rest: after the HIS demo (filing, visits, settlements, logs), scan every table."""
    from sqlalchemy import text

    from yidi.core.certno import find_certnos
    from yidi.gateway.his_demo import run
    from yidi.models import Base

    run("http://testserver", lambda _: None, http=http)
    leaks = []
    with db.read_only() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(text(f"SELECT * FROM {table.name}")):
                found = find_certnos(" ".join(str(v) for v in row))
                if found:
                    leaks.append((table.name, len(found)))
    assert leaks == []


def test_diagnoses_5202_and_chronic_drug_records_5205(http: TestClient, db: Database) -> None:
    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    psn, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "G1")
    mdtrt_id = flow["input"]["data"]["mdtrt_id"]  # type: ignore[index]
    client.call(
        "2203",
        {
            "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn, "med_type": "14", "dise_codg": "M03900"},
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "I10.x00",
                    "diag_name": "高血压",
                    "diag_time": "2025-06-03 09:05:00",
                    "vali_flag": "1",
                }
            ],
        },
        region,
    )
    with pytest.raises(GatewayError, match="diseinfo"):
        client.call("2203", {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn}, "diseinfo": "x"}, region)
    client.call("2207", flow["input"], region)  # type: ignore[arg-type]
    diags = client.call("5202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn}}, region)["diseinfo"]
    assert [(d["diag_code"], d["diag_name"]) for d in diags] == [("I10.x00", "高血压")]
    drugs = client.call(
        "5205", {"data": {"psn_no": psn, "begntime": "2025-06-01 00:00:00", "endtime": "2025-06-30 23:59:59"}}, region
    )["feedetail"]
    assert [(d["med_list_codg"], d["det_item_fee_sumamt"]) for d in drugs] == [(NIFEDIPINE, Decimal("200.00"))]


def test_a_call_is_one_transaction_and_a_failed_one_keeps_its_nonce(http: TestClient, db: Database) -> None:
    import json as _json

    from sqlalchemy import event

    from yidi.gateway.client import PATH
    from yidi.security.client import signed_headers

    client = his(http)
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "450602195409299696"}})  # to register
    commits: list[int] = []

    def count(_conn: object) -> None:
        commits.append(1)

    event.listen(db.engine, "commit", count)
    try:
        register = {"psn_no": "45060000000000000001", "insutype": "310", "begntime": "2025-06-03 09:00:00"}
        _, answer = client.send("2201", {"data": {**register, "ipt_otp_no": "T1"}})
        assert answer["infcode"] == 0 and len(commits) == 1  # signature, nonce, work and message log together
        bad = client.envelope("2208", {"data": {"setl_id": "S0", "mdtrt_id": "V0", "psn_no": "x"}})
        body = _json.dumps(bad, ensure_ascii=False).encode()
        headers = {**signed_headers(demo_key_id(BJ_HOSP), demo_secret(BJ_HOSP), "POST", PATH, body),
                   "content-type": "application/json"}  # fmt: skip
        first = http.post(PATH, content=body, headers=headers)
        assert first.status_code == 200 and first.json()["infcode"] == -1
    finally:
        event.remove(db.engine, "commit", count)
    # The work was rolled back, but the nonce and the refusal were committed with the call.
    again = http.post(PATH, content=body, headers=headers)
    refused = again.json()  # an envelope the HIS can read, with HTTP 200 (the 401 travels in x-yidi-status)
    assert again.status_code == 200 and again.headers["x-yidi-status"] == "401"
    assert refused["infcode"] == -1 and refused["err_msg"].startswith("[E_SIGNATURE]") and "nonce" in refused["err_msg"]
    with db.read_only() as s:
        stored = s.get(MessageLog, bad["msgid"])
        assert stored is not None and stored.infcode == -1
    assert client.post(bad) == first.json()  # newly signed retry of the same message: the same refusal


@pytest.mark.pg
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # row locks (SQLite serialises whole transactions)
def test_a_replay_is_answered_while_the_rows_are_locked(http: TestClient, db: Database) -> None:
    """HIS terminals retry when calls are slow, that is when rows are locked: a replay takes no row lock."""
    import threading

    approved_filing(db, "45060000000000000001", "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    lines = [line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2")]
    _, region, flow = outpatient(client, "450602195409299696", "2025-06-03", "14", "M03900", lines, "L1")
    envelope, first = client.send("2207", flow["input"], region)  # type: ignore[arg-type]
    answers: list[dict[str, object]] = []
    with db.engine.connect() as other, other.begin():
        mdtrt_id = flow["input"]["data"]["mdtrt_id"]  # type: ignore[index]
        other.execute(text("SELECT 1 FROM visit WHERE mdtrt_id = :m FOR UPDATE"), {"m": mdtrt_id})
        other.execute(text("SELECT 1 FROM insurance WHERE psn_no = :p FOR UPDATE"), {"p": "45060000000000000001"})
        replay = threading.Thread(target=lambda: answers.append(client.replay(envelope)))
        replay.start()
        replay.join(timeout=10)
        answered_under_lock = not replay.is_alive()
    replay.join()
    assert answered_under_lock and answers == [first]
