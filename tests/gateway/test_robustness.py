"""What a hostile or unlucky day sends through the national interface: every answer a refusal naming the field,
never money created, never a cap bypassed, never an internal error (issue: robustness and production safety)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway.client import PATH, GatewayClient, GatewayError
from yidi.people.models import Insurance
from yidi.security.client import signed_headers
from yidi.settlement.models import Accumulator, FeeRecord, Visit

from .test_gateway import ACARBOSE, approved_filing, his, http, line  # noqa: F401  (http is a fixture)

PSN, CERTNO = "41110000000000000001", "411102195603129013"  # 漯河 employee retiree with an account of 3,250.40


def _balance(db: Database) -> Decimal:
    with db.read_only() as s:
        ins = s.scalar(select(Insurance).where(Insurance.psn_no == PSN, Insurance.insutype == "310"))
        assert ins is not None
        return ins.balc


def _accumulators(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == PSN))}


def _identify(client: GatewayClient) -> None:
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})


def _register(client: GatewayClient, day: str, number: str, region: str = "411100") -> str:
    _identify(client)
    reg = client.call(
        "2201",
        {
            "data": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": f"{day} 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "ipt_otp_no": number,
            }
        },
        region,
    )
    return str(reg["data"]["mdtrt_id"])


def _admit(client: GatewayClient, day: str, number: str) -> str:
    _identify(client)
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": f"{day} 08:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "med_type": "21",
                "ipt_no": number,
            },
            "diseinfo": [],
        },
        "411100",
    )
    return str(adm["result"]["mdtrt_id"])


def _refused(client: GatewayClient, infno: str, payload: dict[str, Any], field: str) -> str:
    with pytest.raises(GatewayError) as caught:
        client.call(infno, payload, "411100")
    message = str(caught.value.answer["err_msg"])
    assert field in message, message
    assert "E_INTERNAL" not in message and "E_CONFLICT" not in message
    return message


# -- 1. negative and absurd fee lines ----------------------------------------------------------------------


def test_a_negative_outpatient_line_is_refused_and_credits_nothing(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _register(client, "2025-06-05", "NEG1")
    before, acc_before = _balance(db), _accumulators(db)
    negative = line("1", ACARBOSE, "2025-06-05 10:00:00", "-2000.00", "-800", "2.5", mdtrt_id=mdtrt_id, psn_no=PSN)
    _refused(client, "2204", {"feedetail": [negative]}, "feedetail[0].cnt")
    # Nothing was stored, so there is nothing to settle: the account and the accumulators are untouched.
    with pytest.raises(GatewayError, match="no uploaded fees"):
        client.call(
            "2207",
            {"data": {"psn_no": PSN, "mdtrt_id": mdtrt_id, "insutype": "310", "acct_used_flag": "1"}},
            "411100",
        )
    assert _balance(db) == before and _accumulators(db) == acc_before


@pytest.mark.parametrize(
    ("total", "cnt", "pric", "field"),
    [
        ("90000000000.00", "1", "90000000000", "feedetail[0].det_item_fee_sumamt"),  # the line
        ("5000000.01", "1", "5000000.01", "feedetail[0].det_item_fee_sumamt"),  # one fen above the line limit
        ("100001.00", "100001", "1", "feedetail[0].cnt"),  # above the quantity limit
        ("0.00", "0", "3", "feedetail[0].cnt"),  # a line of nothing
        ("-3.00", "1", "-3", "feedetail[0].pric"),  # a negative price
        ("99999999999999999999.00", "1", "1", "feedetail[0].det_item_fee_sumamt"),  # beyond BIGINT fen
        ("10.00", "1e400", "10", "feedetail[0].cnt"),  # beyond any decimal context
    ],
)
def test_absurd_lines_are_refused_by_name(
    http: TestClient,  # noqa: F811
    db: Database,
    total: str,
    cnt: str,
    pric: str,
    field: str,
) -> None:
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _register(client, "2025-06-05", "ABS1")
    bad = line("1", ACARBOSE, "2025-06-05 10:00:00", total, cnt, pric, mdtrt_id=mdtrt_id, psn_no=PSN)
    _refused(client, "2204", {"feedetail": [bad]}, field)


def test_the_amount_is_count_times_price_to_the_fen(http: TestClient, db: Database) -> None:  # noqa: F811
    """100,000 × 0.01 = 1,000.00: billed 2,000.00 it is refused (the tolerance does not grow with the count);
    1,000.01 (one fen off, rounding of a six-decimal price) is accepted."""
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _register(client, "2025-06-05", "TOL1")
    bad = line("1", ACARBOSE, "2025-06-05 10:00:00", "2000.00", "100000", "0.01", mdtrt_id=mdtrt_id, psn_no=PSN)
    _refused(client, "2204", {"feedetail": [bad]}, "feedetail[0].det_item_fee_sumamt")
    ok = line("2", ACARBOSE, "2025-06-05 10:00:00", "1000.01", "100000", "0.01", mdtrt_id=mdtrt_id, psn_no=PSN)
    assert client.call("2204", {"feedetail": [ok]}, "411100")["result"][0]["det_item_fee_sumamt"] == Decimal("1000.01")


def test_a_line_at_the_limit_is_accepted(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _register(client, "2025-06-05", "LIM1")
    ok = line("1", ACARBOSE, "2025-06-05 10:00:00", "5000000.00", "1", "5000000", mdtrt_id=mdtrt_id, psn_no=PSN)
    assert client.call("2204", {"feedetail": [ok]}, "411100")["result"][0]["det_item_fee_sumamt"] == Decimal(
        "5000000.00"
    )


def _inpatient_with_line(client: GatewayClient) -> str:
    mdtrt_id = _admit(client, "2025-06-05", "ZYR1")
    original = line("1", ACARBOSE, "2025-06-05 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=PSN)
    client.call("2301", {"feedetail": [original]}, "411100")
    return mdtrt_id


def test_a_refund_line_is_taken_off_its_original(http: TestClient, db: Database) -> None:  # noqa: F811
    """2301 refund (退费): −200 × 2.5 = −500.00 against line 1 (800 × 2.5 = 2,000.00) leaves 1,500.00 to settle;
    漯河 first stay at level 3: deductible 700, then 83 % of 800 = 664.00 from the fund."""
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _inpatient_with_line(client)
    refund = line(
        "2",
        ACARBOSE,
        "2025-06-06 10:00:00",
        "-500.00",
        "-200",
        "2.5",
        mdtrt_id=mdtrt_id,
        psn_no=PSN,
        init_feedetl_sn="1",
    )
    answer = client.call("2301", {"feedetail": [refund]}, "411100")["result"][0]
    assert (answer["det_item_fee_sumamt"], answer["inscp_scp_amt"]) == (Decimal("-500.00"), Decimal("-500.00"))
    client.call(
        "2402",
        {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": PSN, "endtime": "2025-06-10 09:00:00"}, "diseinfo": []},
        "411100",
    )
    payload = {"data": {"psn_no": PSN, "mdtrt_id": mdtrt_id, "insutype": "310", "medfee_sumamt": "1500.00"}}
    info = client.call("2304", payload, "411100")["setlinfo"]
    assert (info["medfee_sumamt"], info["act_pay_dedc"], info["hifp_pay"]) == (
        Decimal("1500.00"),
        Decimal("700.00"),
        Decimal("664.00"),
    )


def test_a_refund_in_another_batch_goes_with_its_line(http: TestClient, db: Database) -> None:  # noqa: F811
    """Line 1 (800 × 2.5 = 2,000.00) in batch A, refunded in full in batch B: settling batch A settles nothing
    left to pay for, so the fund pays nothing on the refunded line."""
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _admit(client, "2025-06-05", "ZYB1")
    common = {"mdtrt_id": mdtrt_id, "psn_no": PSN}
    keep = line("1", ACARBOSE, "2025-06-05 10:00:00", "400.00", "160", "2.5", chrg_bchno="A", **common)
    gone = line("2", ACARBOSE, "2025-06-05 10:00:00", "2000.00", "800", "2.5", chrg_bchno="A", **common)
    client.call("2301", {"feedetail": [keep, gone]}, "411100")
    refund = line("3", ACARBOSE, "2025-06-06 10:00:00", "-2000.00", "-800", "2.5", chrg_bchno="B", **common)
    client.call("2301", {"feedetail": [{**refund, "init_feedetl_sn": "2"}]}, "411100")
    client.call("2402", {"dscginfo": {**common, "endtime": "2025-06-10 09:00:00"}, "diseinfo": []}, "411100")
    payload = {"data": {**common, "insutype": "310", "chrg_bchno": "A"}}
    info = client.call("2304", payload, "411100")["setlinfo"]
    # 400.00 eligible, all under the first-stay deductible of 700: nothing from the fund.
    assert (info["medfee_sumamt"], info["act_pay_dedc"], info["hifp_pay"]) == (
        Decimal("400.00"),
        Decimal("400.00"),
        Decimal("0.00"),
    )


@pytest.mark.parametrize(
    ("extra", "cnt", "total", "field"),
    [
        ({}, "-200", "-500.00", "init_feedetl_sn"),  # a refund names its line
        ({"init_feedetl_sn": "9"}, "-200", "-500.00", "init_feedetl_sn"),  # no such line
        ({"init_feedetl_sn": "1"}, "-801", "-2002.50", "feedetail[0].cnt"),  # more than the line: 1 above 800
        ({"init_feedetl_sn": "1"}, "-200", "500.00", "feedetail[0].cnt"),  # amount and count of other signs
    ],
)
def test_a_refund_is_only_ever_against_what_was_charged(
    http: TestClient,  # noqa: F811
    db: Database,
    extra: dict[str, str],
    cnt: str,
    total: str,
    field: str,
) -> None:
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _inpatient_with_line(client)
    refund = line("2", ACARBOSE, "2025-06-06 10:00:00", total, cnt, "2.5", mdtrt_id=mdtrt_id, psn_no=PSN, **extra)
    _refused(client, "2301", {"feedetail": [refund]}, field)


def test_a_refund_may_take_the_whole_line_but_not_a_fen_more(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _inpatient_with_line(client)
    half = {"mdtrt_id": mdtrt_id, "psn_no": PSN, "init_feedetl_sn": "1"}
    client.call("2301", {"feedetail": [line("2", ACARBOSE, "2025-06-06 10:00:00", "-1000.00", "-400", "2.5", **half)]})
    client.call("2301", {"feedetail": [line("3", ACARBOSE, "2025-06-06 10:00:00", "-1000.00", "-400", "2.5", **half)]})
    more = line("4", ACARBOSE, "2025-06-06 10:00:00", "-2.50", "-1", "2.5", **half)
    _refused(client, "2301", {"feedetail": [more]}, "feedetail[0].cnt")
    with db.read_only() as s:
        assert sum(f.det_item_fee_sumamt for f in s.scalars(select(FeeRecord))) == Decimal("0.00")


# -- 2. dates in the future --------------------------------------------------------------------------------


def _next_year() -> str:
    return f"{dt.datetime.now(SHANGHAI).year + 1}-01-15"


def test_a_visit_from_next_year_is_refused(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    _identify(client)
    payload = {"data": {"psn_no": PSN, "insutype": "310", "begntime": f"{_next_year()} 09:00:00", "ipt_otp_no": "F1"}}
    _refused(client, "2201", payload, "begntime")
    payload = {"data": {"psn_no": PSN, "insutype": "310", "begntime": "2099-01-01 09:00:00", "ipt_otp_no": "F2"}}
    _refused(client, "2201", payload, "begntime")


def test_fees_and_discharge_from_the_future_are_refused(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _admit(client, "2025-06-05", "ZYF1")
    future = line("1", ACARBOSE, f"{_next_year()} 10:00:00", "10.00", "4", "2.5", mdtrt_id=mdtrt_id, psn_no=PSN)
    _refused(client, "2301", {"feedetail": [future]}, "feedetail[0].fee_ocur_time")
    discharge = {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": PSN, "endtime": f"{_next_year()} 09:00:00"}}
    _refused(client, "2402", discharge, "endtime")


def test_a_visit_dated_after_today_is_not_settled(http: TestClient, db: Database) -> None:  # noqa: F811
    """A visit stored before the check existed (or moved by hand) is still not settled against next year."""
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    mdtrt_id = _register(client, "2025-06-05", "F3")
    fee = line("1", ACARBOSE, "2025-06-05 10:00:00", "10.00", "4", "2.5", mdtrt_id=mdtrt_id, psn_no=PSN)
    client.call("2204", {"feedetail": [fee]}, "411100")
    later = dt.datetime(dt.datetime.now(SHANGHAI).year + 1, 1, 15, 9, tzinfo=SHANGHAI)
    with db.unit_of_work() as s:
        s.execute(update(Visit).where(Visit.mdtrt_id == mdtrt_id).values(begntime=later))
    _refused(client, "2207", {"data": {"psn_no": PSN, "mdtrt_id": mdtrt_id, "insutype": "310"}}, "begntime")
    assert _accumulators(db) == {}


# -- 3. inputs that used to end as internal errors ---------------------------------------------------------


def _raw(app: TestClient, code: str, body: bytes) -> dict[str, Any]:
    from yidi.demo.service import demo_key_id, demo_secret

    headers = signed_headers(demo_key_id(code), demo_secret(code), "POST", PATH, body)
    response = app.post(PATH, content=body, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_deeply_nested_body_is_refused_before_parsing(http: TestClient) -> None:  # noqa: F811
    client = his(http)
    envelope = client.envelope("1901", {})
    text = json.dumps(envelope)
    body = (text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    answer = _raw(http, client.fixmedins_code, body)
    assert answer["infcode"] == -1 and "nests deeper" in answer["err_msg"]
    assert _raw(http, client.fixmedins_code, text.encode())["infcode"] == 0  # the same envelope, flat, is fine


@pytest.mark.parametrize(
    ("value", "bad"),
    [("ab\u0000c", "NUL"), ("ab\ud800c", "surrogate")],
)
def test_nul_and_lone_surrogates_are_refused_by_name(http: TestClient, value: str, bad: str) -> None:  # noqa: F811
    client = his(http)
    envelope = client.envelope("9001", {"signIn": {"opter_no": value, "mac": "x", "ip": "127.0.0.1"}})
    body = json.dumps(envelope, ensure_ascii=True).encode()  # \\u escapes: valid JSON text, bad in the database
    answer = _raw(http, client.fixmedins_code, body)
    assert answer["infcode"] == -1 and "input.signIn.opter_no" in answer["err_msg"], answer


@pytest.mark.parametrize("infno", ["2501", "2502", "2503", "5301", "5302", "5304", "2504", "2506"])
def test_filing_transactions_without_psn_no_name_the_field(http: TestClient, infno: str) -> None:  # noqa: F811
    client = his(http)
    fields = {"insutype": "310", "trt_dcla_detl_sn": "Q1", "begntime": "2025-01-01", "endtime": "2025-12-31"}
    payload: dict[str, Any] = {"refmedin": fields} if infno == "2501" else {"data": fields}
    with pytest.raises(GatewayError) as caught:
        client.call(infno, payload, "411100")
    message = caught.value.answer["err_msg"]
    assert "psn_no" in message and "E_INTERNAL" not in message, message


def test_registering_needs_the_person_identified_there(http: TestClient, db: Database) -> None:  # noqa: F811
    """An open visit lets an institution read the person's records, so it cannot be opened on a bare psn_no;
    the refusal is the same whether or not the psn_no exists."""
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http, "H11010800003")
    for psn_no in (PSN, "41110000000000009999"):
        payload = {"data": {"psn_no": psn_no, "insutype": "310", "begntime": "2025-06-05 09:00:00", "ipt_otp_no": "B"}}
        with pytest.raises(GatewayError, match="E_NOT_FOUND") as caught:
            client.call("2201", payload, "411100")
        assert "present at this institution" in caught.value.answer["err_msg"]
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):
        client.call("5206", {"data": {"psn_no": PSN, "cum_ym": "202506"}}, "411100")


@pytest.mark.parametrize(
    ("infno", "payload"),
    [
        ("2504", {"data": {"trt_dcla_detl_sn": "Q\u00b2", "psn_no": PSN}}),
        ("2504", {"data": {"trt_dcla_detl_sn": "Q" + "9" * 29, "psn_no": PSN}}),
        (
            "3201",
            {
                "data": {
                    "insutype": "310",
                    "clr_type": "11",
                    "setl_optins": "411100",
                    "fixmedins_setl_cnt": "\u00b2",
                    "stmt_begndate": "2025-06-01",
                    "stmt_enddate": "2025-06-30",
                    "medfee_sumamt": "0",
                    "fund_pay_sumamt": "0",
                    "acct_pay": "0",
                }
            },
        ),
    ],
)
def test_digits_that_are_not_ascii_or_too_long_are_no_internal_error(
    http: TestClient,  # noqa: F811
    infno: str,
    payload: dict[str, Any],
) -> None:
    client = his(http)
    body = payload
    _, answer = client.send(infno, body, "411100")
    assert "E_INTERNAL" not in answer["err_msg"], answer


def test_the_depth_scan_is_linear_on_hostile_strings() -> None:
    """A run of escaped quotes made the string pattern backtrack quadratically (64 KB took 28 s, before the
    signature was checked). 1 MB must now take milliseconds; the bound below is 1,000 times that, so this is a
    guard against the quadratic pattern, not a speed target."""
    import threading

    from yidi.core.jsonsafe import too_deep

    body = b'"' + b'\\"' * 500_000
    done = threading.Event()
    worker = threading.Thread(target=lambda: (too_deep(body), done.set()), daemon=True)
    worker.start()
    assert done.wait(10), "the JSON depth scan is not linear"


def test_a_malformed_2503_field_is_named_not_taken_for_a_date_error(http: TestClient) -> None:  # noqa: F811
    luohe = his(http, "H41110200001", "411100")  # a 漯河 hospital: the insured place of PSN
    _identify(luohe)
    payload = {
        "data": {
            "psn_no": PSN,
            "insutype": "310",
            "opsp_dise_code": "X1",
            "begndate": "2025-01-01",
            "enddate": "2026-12-31",
        }
    }
    with pytest.raises(GatewayError) as caught:
        luohe.call("2503", payload, "411100")
    message = caught.value.answer["err_msg"]
    assert "E_INPUT" in message and "opsp_dise_code" in message and "F_DATES" not in message, message
