"""Types on the wire, read over HTTP as a HIS reads them: amounts are JSON numbers with two decimals, unknown values
null (never ""), code fields text; the complete setlinfo, 2204/2301 result rows and 1101; the full ID number only
to the institution that presented it; a replay of a stored answer typed the same as the first answer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.catalog.models import CatalogItem
from yidi.core import clock
from yidi.core.db import Database
from yidi.gateway import wire
from yidi.gateway.client import PATH, GatewayClient, check
from yidi.security.client import signed_headers
from yidi.security.evoucher import issue_evoucher
from yidi.settlement.models import MessageLog

from .test_gateway import ACARBOSE, NIFEDIPINE, NOT_IN_CATALOGUE, approved_filing, his, http, line  # noqa: F401

OUT_PSN, OUT_CERTNO, OUT_REGION = "45060000000000000001", "450602195409299696", "450600"  # 防城港 retiree, 门慢 M03900
IN_PSN, IN_CERTNO, IN_REGION = "41110000000000000001", "411102195603129013", "411100"  # 漯河 retiree
CONSULTATION = "001101000010000"  # 普通门诊诊查费, 北京 demo catalogue: 甲类, price cap 14.30 from 2025
RESTRICTED = "XA10BXA999A000000000001"  # a 乙类 drug with a restricted-use scope, added by the test
FIELD_TEXT = re.compile(r'"(?P<key>[a-z_]+)": (?P<value>[^,}\]]+)')
AMOUNT_VALUE = re.compile(r"null|-?[0-9]+\.[0-9]{2}")


def raw(client: GatewayClient, infno: str, payload: dict[str, Any], region: str = "") -> tuple[dict[str, Any], str]:
    """The envelope sent and the answer's text exactly as it came over HTTP."""
    envelope = client.envelope(infno, payload, region)
    return envelope, post(client, envelope)


def post(client: GatewayClient, envelope: dict[str, Any]) -> str:
    body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
    headers = signed_headers(client.key_id, client.key, "POST", PATH, body, scheme=client.scheme)
    response = client.http.post(PATH, content=body, headers={**headers, "content-type": "application/json"})
    response.raise_for_status()
    return response.text


def parsed(text: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return answer


def numeric_fields(value: Any, path: str = "") -> list[tuple[str, wire.Kind, Any]]:
    """Every (path, kind, value) of a registry field anywhere in a parsed answer."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            kind = wire.kind_of(key)
            where = f"{path}.{key}"
            found += [(where, kind, item)] if kind else numeric_fields(item, where)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += numeric_fields(item, f"{path}[{n}]")
    return found


class Day:
    """A HIS at work: every answer's text is kept and checked as it arrives."""

    def __init__(self, client: GatewayClient) -> None:
        self.client = client
        self.texts: list[tuple[str, str]] = []  # (infno, the answer's text)
        self.numbers = 0  # numeric fields checked

    def call(self, infno: str, payload: dict[str, Any], region: str = "") -> dict[str, Any]:
        _, text = raw(self.client, infno, payload, region)
        answer = parsed(text)
        check(infno, answer)
        self.texts.append((infno, text))
        for where, kind, value in numeric_fields(answer):
            self.numbers += 1
            assert value is None or (isinstance(value, int | Decimal) and not isinstance(value, bool)), (
                infno,
                where,
                value,
            )
            if kind is wire.Kind.AMOUNT and value is not None:
                assert isinstance(value, Decimal) and value.as_tuple().exponent == -2, (infno, where, value)
        for match in FIELD_TEXT.finditer(text):  # the text itself: two decimals, as the platform writes amounts
            if wire.kind_of(match["key"]) is wire.Kind.AMOUNT:
                assert AMOUNT_VALUE.fullmatch(match["value"]), (infno, match.group(0))
        output: dict[str, Any] = answer["output"]
        return output


@pytest.fixture
def day(http: TestClient, db: Database) -> Day:  # noqa: F811
    approved_filing(db, OUT_PSN, OUT_REGION, "110000", dt.date(2025, 6, 3))
    approved_filing(db, IN_PSN, IN_REGION, "110000", dt.date(2025, 6, 1))
    with db.unit_of_work() as s:
        s.add(
            CatalogItem(
                region="110000",
                med_list_codg=RESTRICTED,
                med_list_name="限制使用测试药",
                item_kind="western_drug",
                chrgitm_lv="02",
                med_chrgitm_type="09",
                selfpay_prop=Decimal("0.1000"),
                pric_uplmt_amt=None,
                spec="片",
                lmt_used_scope="限二线用药",
                begndate=dt.date(2021, 1, 1),
                reference="test",
            )
        )
    return Day(his(http))


def _age(brdy: dt.date, on: dt.date) -> int:
    return on.year - brdy.year - (1 if (on.month, on.day) < (brdy.month, brdy.day) else 0)


def outpatient_day(d: Day) -> dict[str, Any]:
    """9001, 1101 (three ways), 1201, 1901, 2001, 2201, 2203, 2204, 2206, 2207, 5201–5206, 2208, 2207 again."""
    d.call("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}})
    person = d.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": OUT_CERTNO, "psn_cert_type": "01"}})
    d.call("1201", {"medinsinfo": {"fixmedins_code": "H11010500001"}})
    d.call("1901", {"type": "med_type"})
    day, when = "2025-06-03", "2025-06-03 10:00:00"
    d.call(
        "2001",
        {"data": {"psn_no": OUT_PSN, "insutype": "310", "med_type": "14", "dise_codg": "M03900", "begntime": when}},
        OUT_REGION,
    )
    reg = d.call(
        "2201",
        {
            "data": {
                "psn_no": OUT_PSN,
                "insutype": "310",
                "begntime": f"{day} 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": OUT_CERTNO,
                "ipt_otp_no": "W1",
            }
        },
        OUT_REGION,
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    d.call(
        "2203",
        {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": OUT_PSN, "med_type": "14", "dise_codg": "M03900"}},
        OUT_REGION,
    )
    lines = [
        line("1", NIFEDIPINE, when, "200.00", "100", "2"),  # 甲类, no price cap
        line("2", NOT_IN_CATALOGUE, when, "100.00", "1", "100"),  # not in the catalogue
        line("3", CONSULTATION, when, "15.00", "1", "15"),  # above its 14.30 cap
        line("4", RESTRICTED, when, "30.00", "10", "3"),  # restricted use
    ]
    fees = d.call(
        "2204",
        {"feedetail": [{**ln, "mdtrt_id": mdtrt_id, "psn_no": OUT_PSN, "chrg_bchno": "1"} for ln in lines]},
        OUT_REGION,
    )
    settle = {
        "data": {
            "psn_no": OUT_PSN,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": OUT_CERTNO,
            "med_type": "14",
            "medfee_sumamt": "345.00",
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": "1",
            "acct_used_flag": "0",
            "insutype": "310",
        }
    }
    pre = d.call("2206", settle, OUT_REGION)
    settled = d.call("2207", settle, OUT_REGION)
    setl_id = settled["setlinfo"]["setl_id"]
    d.call(
        "5201", {"data": {"psn_no": OUT_PSN, "begntime": f"{day} 00:00:00", "endtime": f"{day} 23:59:59"}}, OUT_REGION
    )
    d.call("5202", {"data": {"psn_no": OUT_PSN, "mdtrt_id": mdtrt_id}}, OUT_REGION)
    query = d.call("5203", {"data": {"psn_no": OUT_PSN, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}, OUT_REGION)
    d.call("5204", {"data": {"psn_no": OUT_PSN, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}, OUT_REGION)
    d.call(
        "5205", {"data": {"psn_no": OUT_PSN, "begntime": f"{day} 00:00:00", "endtime": f"{day} 23:59:59"}}, OUT_REGION
    )
    d.call("5206", {"data": {"psn_no": OUT_PSN, "cum_ym": "202506"}}, OUT_REGION)
    reversal = d.call("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": OUT_PSN}}, OUT_REGION)
    again = d.call("2207", settle, OUT_REGION)
    return {
        "person": person,
        "fees": fees,
        "pre": pre,
        "settled": settled,
        "query": query,
        "reversal": reversal,
        "again": again,
    }


def inpatient_day(d: Day) -> dict[str, Any]:
    """9001, 1101, 2401, 2301 (with a refund), 2302, 2402, 2303, 2304, 2305, 2304 again, 3201, 9002."""
    sign_no = d.call("9001", {"signIn": {"opter_no": "002", "mac": "", "ip": ""}})["signinoutb"]["sign_no"]
    d.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": IN_CERTNO}})
    adm = d.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": IN_PSN,
                "insutype": "310",
                "begntime": "2025-06-05 08:00:00",
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": IN_CERTNO,
                "med_type": "21",
                "ipt_no": "WZ1",
                "adm_dept_codg": "D12",
                "dise_codg": "I10.x00",
            },
            "diseinfo": [],
        },
        IN_REGION,
    )
    mdtrt_id = adm["result"]["mdtrt_id"]
    fees = [
        line(str(n), ACARBOSE, f"2025-06-0{5 + n} 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=IN_PSN)
        for n in range(3)
    ]
    d.call("2301", {"feedetail": fees}, IN_REGION)
    refund = line("9", ACARBOSE, "2025-06-07 11:00:00", "-500.00", "-200", "2.5", mdtrt_id=mdtrt_id, psn_no=IN_PSN) | {
        "init_feedetl_sn": "1"
    }
    d.call("2301", {"feedetail": [refund]}, IN_REGION)
    d.call("2302", {"data": [{"feedetl_sn": "2", "mdtrt_id": mdtrt_id, "psn_no": IN_PSN}]}, IN_REGION)
    d.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": IN_PSN,
                "insutype": "310",
                "endtime": "2025-06-10 09:00:00",
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
        IN_REGION,
    )
    payload = {
        "data": {
            "psn_no": IN_PSN,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "medfee_sumamt": "3500.00",
            "mdtrt_cert_type": "03",
            "mid_setl_flag": "0",
            "acct_used_flag": "1",
        }
    }
    d.call("2303", payload, IN_REGION)
    first = d.call("2304", payload, IN_REGION)
    reversal = d.call(
        "2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": first["setlinfo"]["setl_id"], "psn_no": IN_PSN}}, IN_REGION
    )
    second = d.call("2304", payload, IN_REGION)
    today = clock.now().date()
    d.call(
        "3201",
        {
            "data": {
                "insutype": "310",
                "clr_type": "21",
                "setl_optins": IN_REGION,
                "stmt_begndate": str(today),
                "stmt_enddate": str(today),
                "medfee_sumamt": "3500.00",
                "fund_pay_sumamt": "0.00",
                "acct_pay": "0.00",
                "fixmedins_setl_cnt": "1",
            }
        },
        IN_REGION,
    )
    d.call("9002", {"signOut": {"sign_no": sign_no, "opter_no": "002"}})
    return {"first": first, "reversal": reversal, "second": second}


def test_a_whole_day_answers_every_numeric_field_as_a_number_or_null(
    day: Day, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="yidi.gateway.wire"):
        out = outpatient_day(day)
        inpatient_day(day)
    assert [r.getMessage() for r in caplog.records if r.name == "yidi.gateway.wire"] == []  # no field fell to null
    assert len(day.texts) >= 30 and day.numbers > 300  # the checks above ran over a real day's answers
    for infno, text in day.texts:
        for key in wire.REGISTRY:
            assert f'"{key}": ""' not in text, (infno, key)  # "" crashes a HIS that reads a decimal
        assert not re.search(r'"[a-z_]+(?:amt|_pay)": "', text), (infno, text[:300])
    # Amounts as the platform writes them, digit for digit.
    settled_text = next(t for i, t in day.texts if i == "2207")
    info = out["settled"]["setlinfo"]
    assert f'"hifp_pay": {info["hifp_pay"]}' in settled_text and re.search(r'"hifp_pay": \d+\.\d{2},', settled_text)
    assert '"hifdm_pay": 0.00' in settled_text and '"pool_prop_selfpay": 0.' in settled_text
    assert '"insutype": "310"' in settled_text and '"cvlserv_flag": "0"' in settled_text  # codes stay text


def test_setlinfo_carries_the_person_the_certificate_and_every_fund(day: Day) -> None:
    out = outpatient_day(day)
    today = clock.now().date()
    for name in ("pre", "settled", "query", "reversal", "again"):
        info = out[name]["setlinfo"]
        assert {
            k: info[k]
            for k in (
                "psn_no",
                "psn_name",
                "psn_cert_type",
                "certno",
                "gend",
                "naty",
                "brdy",
                "age",
                "insutype",
                "psn_type",
                "cvlserv_flag",
                "mdtrt_cert_type",
                "med_type",
                "clr_optins",
                "clr_way",
                "clr_type",
            )
        } == {
            "psn_no": OUT_PSN,
            "psn_name": "董某戊",
            "psn_cert_type": "01",
            "certno": "450602********9696",  # masked: setlinfo is not an identification
            "gend": "1",
            "naty": "01",
            "brdy": "1954-09-29",
            "age": _age(dt.date(1954, 9, 29), today),  # at the settlement time, a number
            "insutype": "310",
            "psn_type": "1201",
            "cvlserv_flag": "0",
            "mdtrt_cert_type": "02",
            "med_type": "14",
            "clr_optins": OUT_REGION,
            "clr_way": "1",
            "clr_type": "11",
        }, name
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", info["setl_time"]) and info["exp_content"] is None
        for fund in ("hifdm_pay", "hifes_pay", "hosp_part_amt", "acct_mulaid_pay"):
            assert info[fund] == Decimal("0.00") and str(info[fund]) == "0.00", (name, fund)
        assert info["medins_setl_id"]
    assert out["pre"]["setlinfo"]["setl_id"] is None  # a pre-settlement has no settlement id
    settled, reversal = out["settled"]["setlinfo"], out["reversal"]["setlinfo"]
    query = out["query"]["setlinfo"]
    assert {k: v for k, v in query.items() if k in settled} == settled  # 5203 answers the settlement as 2207 did
    assert (query["psn_pay"], query["cash_payamt"]) == (settled["psn_part_amt"], settled["psn_cash_pay"])
    assert (query["begndate"], query["enddate"], query["year"], query["refd_setl_flag"]) == (
        "2025-06-03",
        "2025-06-03",
        "2025",
        "0",
    )
    assert reversal["pdn_cash_pay"] == reversal["psn_cash_pay"] == -settled["psn_cash_pay"]  # 2208's spelling too
    assert reversal["setl_id"] != settled["setl_id"]
    assert reversal["medfee_sumamt"] == -settled["medfee_sumamt"] == Decimal("-345.00")
    assert reversal["hifp_pay"] == -settled["hifp_pay"] and reversal["hifp_pay"] < 0


def test_fee_rows_carry_every_result_field_from_the_catalogue(day: Day) -> None:
    rows = {r["feedetl_sn"]: r for r in outpatient_day(day)["fees"]["result"]}
    flags = ("bas_medn_flag", "hi_nego_drug_flag", "chld_medc_flag", "list_sp_item_flag", "drt_reim_flag")
    for row in rows.values():
        assert all(row[f] is None for f in flags)  # the catalogue does not record these: null, not a guess
        assert isinstance(row["cnt"], int | Decimal) and isinstance(row["selfpay_prop"], int | Decimal)
    nifedipine, outside, consultation, restricted = rows["1"], rows["2"], rows["3"], rows["4"]
    assert (nifedipine["chrgitm_lv"], nifedipine["med_chrgitm_type"], nifedipine["lmt_used_flag"]) == ("01", "09", "0")
    assert nifedipine["pric_uplmt_amt"] == 0 and nifedipine["memo"] is None  # no price cap: 0, as catalogues write it
    assert nifedipine["inscp_scp_amt"] == Decimal("200.00") and nifedipine["pric"] == 2
    assert outside["chrgitm_lv"] is None and outside["med_chrgitm_type"] is None and outside["lmt_used_flag"] is None
    assert outside["fulamt_ownpay_amt"] == Decimal("100.00") and "not in the treatment place" in outside["memo"]
    assert consultation["pric_uplmt_amt"] == Decimal("14.3") and consultation["overlmt_amt"] == Decimal("0.70")
    assert (restricted["chrgitm_lv"], restricted["lmt_used_flag"]) == ("02", "1")
    assert restricted["selfpay_prop"] == Decimal("0.1") and restricted["preselfpay_amt"] == Decimal("3.00")


def test_1101_answers_typed_and_complete(day: Day) -> None:
    person = day.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": OUT_CERTNO, "psn_cert_type": "01"}})
    base = person["baseinfo"]
    assert (base["naty"], base["age"], base["brdy"]) == (
        "01",
        _age(dt.date(1954, 9, 29), clock.now().date()),
        "1954-09-29",
    )
    assert isinstance(base["age"], int) and not isinstance(base["age"], bool)
    insurance = person["insuinfo"][0]
    assert insurance["balc"] == Decimal("2900.00") and str(insurance["balc"]) == "2900.00"
    assert insurance["paus_insu_date"] is None and insurance["emp_name"] is None  # none: null, not ""
    assert (insurance["psn_insu_date"], insurance["cvlserv_flag"], insurance["psn_type"]) == ("2015-01-01", "0", "1201")
    text = day.texts[-1][1]
    assert '"balc": 2900.00' in text and re.search(r'"age": \d+,', text) and '"paus_insu_date": null' in text


def test_the_full_id_number_goes_only_to_the_institution_that_presented_it(day: Day, db: Database) -> None:
    by_card = day.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": OUT_CERTNO}})
    assert by_card["baseinfo"]["certno"] == OUT_CERTNO
    social = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "K12345678", "card_sn": "SN1", "certno": IN_CERTNO}
    assert day.call("1101", {"data": social})["baseinfo"]["certno"] == IN_CERTNO
    token = issue_evoucher(OUT_PSN, clock.now())
    by_voucher = day.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    assert by_voucher["baseinfo"]["certno"] == "450602********9696"  # an e-voucher shows no ID number
    out = outpatient_day(day)
    assert out["settled"]["setlinfo"]["certno"] == "450602********9696"
    with db.read_only() as s:
        rows = s.scalars(select(MessageLog)).all()
        assert rows
        at_rest = simplejson.dumps([[r.request, r.response] for r in rows], ensure_ascii=False)
    assert OUT_CERTNO not in at_rest and IN_CERTNO not in at_rest  # neither the requests nor the answers keep it


def test_a_replay_answers_the_stored_answer_typed_the_same(day: Day, db: Database) -> None:
    out = outpatient_day(day)
    mdtrt_id = out["settled"]["setlinfo"]["mdtrt_id"]
    # A second settlement of the visit is the last answer: replay it as a HIS retries after a timeout.
    envelope, first = raw(
        day.client,
        "2208",
        {"data": {"setl_id": out["again"]["setlinfo"]["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": OUT_PSN}},
        OUT_REGION,
    )
    assert parsed(first)["infcode"] == 0
    replayed = post(day.client, envelope)
    assert replayed == first  # the same text: amounts as the same numbers, digit for digit
    with db.unit_of_work() as s:
        row = s.get(MessageLog, envelope["msgid"])
        assert row is not None
        stored = json.loads(json.dumps(row.response))
        assert stored["output"]["setlinfo"]["hifp_pay"].startswith("-")  # kept as text at rest
        # An answer stored before amounts were typed: text amounts, "" for what was unknown.
        stored["output"]["setlinfo"]["hifp_pay"] = "-112.5"
        stored["output"]["setlinfo"]["hosp_part_amt"] = ""
        row.response = stored
    old = post(day.client, envelope)
    assert re.search(r'"hifp_pay": -112\.50,', old) and '"hosp_part_amt": null' in old
    assert parsed(old)["output"]["setlinfo"]["medfee_sumamt"] == Decimal("-345.00")


# -- the conversion itself ---------------------------------------------------------------------------------------


def test_numbers_by_kind() -> None:
    amount, price, ratio = wire.Kind.AMOUNT, wire.Kind.PRICE, wire.Kind.RATIO
    assert str(wire.number("123.4", amount)) == "123.40" and str(wire.number(12, amount)) == "12.00"
    assert str(wire.number("-0.00", amount)) == "0.00"  # a reversal of nothing is not -0.00
    assert str(wire.number("0.123456", price)) == "0.123456"  # a price keeps its six places
    assert str(wire.number("0.8300", ratio)) == "0.8300" and str(wire.number(Decimal("0.1"), ratio)) == "0.1"
    assert str(wire.number(0.1, amount)) == "0.10"  # a float read back from a JSON column: its shortest text
    assert str(wire.number("1E+2", price)) == "100" and str(wire.number("2E+1", amount)) == "20.00"  # normalized
    assert wire.number("", amount) is None and wire.number("  ", amount) is None and wire.number(None, amount) is None
    assert wire.kind_of("pric_uplmt_amt") is price and wire.kind_of("some_new_amt") is amount
    assert wire.kind_of("hilist_pric_uplmt_amt") is price  # 1318's price cap keeps its six places
    assert wire.kind_of("insutype") is None and wire.kind_of("cvlserv_flag") is None and wire.kind_of("naty") is None


@pytest.mark.parametrize(
    "bad", ["abc", "1e", "1E+999999", "9" * 29, "NaN", "1,234.56", "+1", True, [1], {"a": 1}, Decimal("NaN")]
)
def test_a_non_number_in_a_numeric_field_is_logged_and_sent_as_null(
    bad: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="yidi.gateway.wire"):
        typed = wire.typed_answer({"output": {"setlinfo": {"hifp_pay": bad, "insutype": "310"}}})
    assert typed == {"output": {"setlinfo": {"hifp_pay": None, "insutype": "310"}}}
    assert [r.field for r in caplog.records] == ["output.setlinfo.hifp_pay"]  # type: ignore[attr-defined]


def test_sub_fen_amounts_are_rounded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="yidi.gateway.wire"):
        assert str(wire.number("1.005", wire.Kind.AMOUNT, "x")) == "1.01"
    assert len(caplog.records) == 1


def test_dumps_writes_decimals_digit_for_digit() -> None:
    text = wire.dumps(
        {
            "infcode": 0,
            "output": {
                "setlinfo": {"hifp_pay": "123.4", "pool_prop_selfpay": "0.7500", "age": "70", "naty": None},
                "result": [{"pric": "0.100000", "cnt": "3", "pric_uplmt_amt": "", "chrgitm_lv": "01", "memo": "中"}],
            },
        }
    )
    assert text == (
        '{"infcode": 0, "output": {"setlinfo": {"hifp_pay": 123.40, "pool_prop_selfpay": 0.7500, "age": 70, '
        '"naty": null}, "result": [{"pric": 0.100000, "cnt": 3, "pric_uplmt_amt": null, "chrgitm_lv": "01", '
        '"memo": "中"}]}}'
    )


def test_answers_are_kept_with_the_id_number_masked_and_every_identifier_exact() -> None:
    from yidi.gateway.service import _masked_fields as _kept_answer

    answer: dict[str, Any] = {
        "output": {"baseinfo": {"certno": OUT_CERTNO, "psn_no": OUT_CERTNO}, "insuinfo": [{"certno": "x"}]}
    }
    kept = _kept_answer(answer)
    assert kept["output"]["baseinfo"] == {"certno": "450602********9696", "psn_no": OUT_CERTNO}
    assert kept["output"]["insuinfo"] == [{"certno": "x"}] and answer["output"]["baseinfo"]["certno"] == OUT_CERTNO
