"""5201–5206 answer every field of the specification's output tables (docs/interface/schemas/52xx.json), with the
values yidi knows: an outpatient 门慢 visit and an inpatient stay played through the gateway as an HIS plays them.

Types on the wire are the gateway edge's business (numbers become JSON numbers there; test_conformance checks
the answers as sent). Here each row is read as the edge will send it (numeric text of a field the schema types
as a number taken as that number) and checked field by field against the schema: every required field present,
every value valid for its field, and null only where this file names why yidi cannot know the value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.gateway.test_gateway import ACARBOSE, BJ_HOSP, NIFEDIPINE, NOT_IN_CATALOGUE, approved_filing, his, http, line
from yidi.catalog.service import import_catalog
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.people.models import Insurance, Person
from yidi.reference.models import Institution
from yidi.settlement.queries import CUM_TYPE_CODES, cum_type_code

__all__ = ["http"]  # the gateway fixture, shared with tests/gateway/test_gateway.py

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "interface" / "schemas"
OUT_PSN, OUT_CERTNO = "45060000000000000001", "450602195409299696"  # 防城港 retiree, born 1954-09-29, 门慢 M03900
IN_PSN, IN_CERTNO = "41110000000000000001", "411102195603129013"  # 漯河 retiree, born 1956-03-12
CONSULT = "001103000010000"  # 住院诊查费 in the 北京 demo catalogue, price cap 26.00 from 2021

# Fields a schema wants present that yidi answers null, and why.
UNKNOWN = {
    "5201": {"naty", "mdtrt_cert_type"},  # 民族 is not recorded on this branch; the certificate is not kept per visit
    # Not kept with the diagnosis on this branch (the HIS sends them with 2203/2401/2402); an outpatient
    # diagnosis is neither an admission nor a discharge diagnosis.
    "5202": {"maindiag_flag", "diag_dept", "dise_dor_no", "dise_dor_name", "inout_diag_type"},
    "5204": {"setl_id", "pric_uplmt_amt", "hilist_code", "hilist_name", "med_chrgitm_type", "chrgitm_lv"},
    "5205": {"hilist_code", "hilist_name", "med_chrgitm_type"},
    "5206": set(),
}


def _schema(infno: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{infno}.json").read_text(encoding="utf-8"))
    return schema


def _row_schema(infno: str, node: str) -> dict[str, Any]:
    out: dict[str, Any] = _schema(infno)["properties"]["output"]["properties"][node]
    return out["items"] if out.get("type") == "array" else out


def _as_sent(value: Any, field_schema: dict[str, Any]) -> Any:
    """A field as the edge sends it: numeric text of a number field is that number."""
    types = field_schema.get("type")
    numeric = "number" in types if isinstance(types, list) else types == "number"
    if numeric and isinstance(value, str) and value.strip():
        return Decimal(value)
    return value


def conforms(infno: str, node: str, row: dict[str, Any], nullable: set[str] | None = None) -> None:
    """Every field the schema requires is present; each value is valid for its field; null only where allowed."""
    schema = _row_schema(infno, node)
    missing = [f for f in schema["required"] if f not in row]
    assert not missing, f"{infno} {node}: missing {missing}"
    for name, field_schema in schema["properties"].items():
        if name not in row:
            continue
        value = _as_sent(row[name], field_schema)
        assert value != "", f"{infno} {name}: empty text (null for unknown)"
        if value is None and name in (nullable or set()):
            continue
        try:
            jsonschema.validate(value, field_schema, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"{infno} {node}.{name} = {row[name]!r}: {exc.message}") from None


def _age(brdy: dt.date, day: dt.date) -> int:
    return day.year - brdy.year - ((day.month, day.day) < (brdy.month, brdy.day))


def _stored(db: Database, psn_no: str) -> tuple[Person, Insurance]:
    with db.read_only() as s:
        person = s.get(Person, psn_no)
        assert person is not None
        ins = next(i for i in person.insurances if i.insutype == "310")
        s.expunge_all()
        return person, ins


def _hospital_name(db: Database) -> str:
    with db.read_only() as s:
        inst = s.get(Institution, BJ_HOSP)
        assert inst is not None
        return inst.fixmedins_name


@pytest.fixture
def outpatient_visit(http: TestClient, db: Database) -> Iterator[tuple[GatewayClient, str, str, dict[str, Any]]]:
    """A 门慢 (M03900) outpatient visit at a 北京 hospital, settled: (client, region, mdtrt_id, setlinfo)."""
    approved_filing(db, OUT_PSN, "450600", "110000", dt.date(2025, 6, 3))
    client = his(http)
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": OUT_CERTNO}})
    region = person["insuinfo"][0]["insuplc_admdvs"]
    reg = {"psn_no": OUT_PSN, "insutype": "310", "begntime": "2025-06-03 09:00:00", "ipt_otp_no": "MZ1"}
    mdtrt_id = client.call("2201", {"data": reg}, region)["data"]["mdtrt_id"]
    diagnosis = {
        "diag_type": "1",
        "diag_srt_no": "1",
        "diag_code": "I10.x00",
        "diag_name": "高血压",
        "diag_time": "2025-06-03 09:05:00",
        "vali_flag": "1",
    }
    visit = {"mdtrt_id": mdtrt_id, "psn_no": OUT_PSN, "med_type": "14", "dise_codg": "M03900"}
    client.call("2203", {"mdtrtinfo": visit, "diseinfo": [diagnosis]}, region)
    lines = [
        line("1", NIFEDIPINE, "2025-06-03 10:00:00", "200.00", "100", "2"),
        line("2", NOT_IN_CATALOGUE, "2025-06-03 10:05:00", "100.00", "1", "100"),
    ]
    client.call("2204", {"feedetail": [{**ln, "mdtrt_id": mdtrt_id, "psn_no": OUT_PSN} for ln in lines]}, region)
    settle = {"psn_no": OUT_PSN, "mdtrt_id": mdtrt_id, "insutype": "310", "medfee_sumamt": "300.00"}
    info = client.call("2207", {"data": {**settle, "mdtrt_cert_type": "02", "acct_used_flag": "0"}}, region)
    yield client, region, mdtrt_id, info["setlinfo"]


def test_5201_visits_carry_the_person_and_the_visit(outpatient_visit: Any, db: Database) -> None:
    client, region, mdtrt_id, _ = outpatient_visit
    period = {"psn_no": OUT_PSN, "begntime": "2025-06-01 00:00:00", "endtime": "2025-06-30 23:59:59"}
    rows = client.call("5201", {"data": {**period, "med_type": "", "mdtrt_id": ""}}, region)["mdtrtinfo"]
    assert [r["mdtrt_id"] for r in rows] == [mdtrt_id]
    row = rows[0]
    conforms("5201", "mdtrtinfo", row, UNKNOWN["5201"])
    person, ins = _stored(db, OUT_PSN)
    assert row["certno"] == person.certno_masked and row["certno"] != OUT_CERTNO  # masked for the institution
    assert "********" in row["certno"]
    assert (row["psn_name"], row["gend"], row["brdy"]) == (person.psn_name, person.gend, "1954-09-29")
    assert Decimal(str(row["age"])) == 70 == _age(person.brdy, dt.date(2025, 6, 3))  # at the visit, not today
    assert (row["insutype"], row["psn_type"]) == ("310", ins.psn_type)
    assert row["cvlserv_flag"] == ("1" if ins.civil_servant else "0")
    assert (row["begntime"], row["endtime"]) == ("2025-06-03 09:00:00", None)  # an outpatient visit has no end
    assert (row["med_type"], row["ipt_otp_no"], row["mdtrt_cert_type"]) == ("14", "MZ1", None)
    # The period, med_type and mdtrt_id narrow the answer.
    assert client.call("5201", {"data": {**period, "med_type": "21"}}, region)["mdtrtinfo"] == []
    later = {**period, "begntime": "2025-06-03 09:00:01"}
    assert client.call("5201", {"data": later}, region)["mdtrtinfo"] == []
    assert client.call("5201", {"data": {**period, "mdtrt_id": "X"}}, region)["mdtrtinfo"] == []


def test_5202_diagnoses(outpatient_visit: Any) -> None:
    client, region, mdtrt_id, _ = outpatient_visit
    rows = client.call("5202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": OUT_PSN}}, region)["diseinfo"]
    assert len(rows) == 1
    row = rows[0]
    conforms("5202", "diseinfo", row, UNKNOWN["5202"])
    assert row["diag_info_id"] and row["mdtrt_id"] == mdtrt_id and row["psn_no"] == OUT_PSN
    assert (row["diag_code"], row["diag_name"], row["diag_type"]) == ("I10.x00", "高血压", "1")
    assert row["diag_srt_no"] == 1 and row["diag_time"] == "2025-06-03 09:05:00"
    assert row["inout_diag_type"] == "1" and row["maindiag_flag"] == "1"  # outpatient: care begins; first is main
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):  # another person's psn_no: no such visit for them
        client.call("5202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": IN_PSN}}, region)


def test_5203_settlement_fields_and_refund_flag(outpatient_visit: Any, db: Database) -> None:
    client, region, mdtrt_id, settled = outpatient_visit
    ask = {"setl_id": settled["setl_id"], "psn_no": OUT_PSN, "mdtrt_id": mdtrt_id}
    found = client.call("5203", {"data": ask}, region)
    info = found["setlinfo"]
    setl_schema = _row_schema("5203", "setlinfo")
    own = ("psn_pay", "cash_payamt", "fixmedins_code", "fixmedins_name", "begndate", "enddate", "refd_setl_flag",
           "year")  # fmt: skip
    for name in own:  # the 5203 table's own fields (the person's come with the 2207 setlinfo)
        assert name in info, name
        field = setl_schema["properties"][name]
        jsonschema.validate(_as_sent(info[name], field), field, cls=jsonschema.Draft202012Validator)
    assert Decimal(str(info["psn_pay"])) == Decimal(str(settled["psn_part_amt"]))
    assert Decimal(str(info["cash_payamt"])) == Decimal(str(settled["psn_cash_pay"]))
    assert (info["fixmedins_code"], info["fixmedins_name"]) == (BJ_HOSP, _hospital_name(db))
    assert (info["begndate"], info["enddate"], info["year"]) == ("2025-06-03", "2025-06-03", "2025")
    assert info["refd_setl_flag"] == "0"
    assert found["setldetail"], "a settlement has at least its basic fund's row"
    for row in found["setldetail"]:
        conforms("5203", "setldetail", row)
    assert Decimal(str(found["setldetail"][0]["fund_payamt"])) == Decimal(str(settled["hifp_pay"]))
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):  # another visit's mdtrt_id
        client.call("5203", {"data": {**ask, "mdtrt_id": "V0"}}, region)
    reversal = client.call("2208", {"data": ask}, region)["setlinfo"]
    assert client.call("5203", {"data": ask}, region)["setlinfo"]["refd_setl_flag"] == "1"  # cancelled since
    back = client.call("5203", {"data": {**ask, "setl_id": reversal["setl_id"]}}, region)["setlinfo"]
    assert back["refd_setl_flag"] == "1" and Decimal(str(back["psn_pay"])) == -Decimal(str(info["psn_pay"]))


def test_5204_fee_lines_with_the_catalogue_item(outpatient_visit: Any) -> None:
    client, region, mdtrt_id, settled = outpatient_visit
    ask = {"psn_no": OUT_PSN, "mdtrt_id": mdtrt_id, "setl_id": settled["setl_id"]}
    rows = client.call("5204", {"data": ask}, region)["feedetail"]
    assert [r["feedetl_sn"] for r in rows] == ["1", "2"]
    for row in rows:
        conforms("5204", "feedetail", row, UNKNOWN["5204"])
        assert (row["mdtrt_id"], row["setl_id"], row["med_type"]) == (mdtrt_id, settled["setl_id"], "14")
    drug, other = rows
    assert (drug["hilist_code"], drug["hilist_name"], drug["med_chrgitm_type"]) == (NIFEDIPINE, "硝苯地平片", "09")
    assert (drug["chrgitm_lv"], Decimal(str(drug["selfpay_prop"])), drug["pric_uplmt_amt"]) == ("01", Decimal(0), 0)
    assert (drug["fee_ocur_time"], Decimal(str(drug["cnt"])), Decimal(str(drug["pric"]))) == (
        "2025-06-03 10:00:00",
        Decimal(100),
        Decimal(2),
    )
    assert Decimal(str(drug["inscp_scp_amt"])) == Decimal("200.00") == Decimal(str(drug["det_item_fee_sumamt"]))
    # Out of the catalogue: no item, fully self-paid.
    assert (other["hilist_code"], other["hilist_name"], other["chrgitm_lv"]) == (None, None, None)
    assert Decimal(str(other["selfpay_prop"])) == 1 and Decimal(str(other["fulamt_ownpay_amt"])) == 100
    total = sum((Decimal(str(r["det_item_fee_sumamt"])) for r in rows), Decimal(0))
    assert total == Decimal(str(settled["medfee_sumamt"]))
    assert client.call("5204", {"data": {**ask, "setl_id": "S-other"}}, region)["feedetail"] == []
    client.call("2208", {"data": ask}, region)
    unsettled = client.call("5204", {"data": {"psn_no": OUT_PSN, "mdtrt_id": mdtrt_id}}, region)["feedetail"]
    assert [(r["feedetl_sn"], r["setl_id"]) for r in unsettled] == [("1", None), ("2", None)]


def test_5205_chronic_drug_records_with_an_empty_endtime(outpatient_visit: Any, db: Database) -> None:
    client, region, _, settled = outpatient_visit
    begin = {"psn_no": OUT_PSN, "begntime": "2025-06-01 00:00:00"}
    rows = client.call("5205", {"data": {**begin, "endtime": ""}}, region)["feedetail"]  # optional: empty = absent
    assert [r["feedetl_sn"] for r in rows] == ["1", "2"]
    assert client.call("5205", {"data": begin}, region)["feedetail"] == rows
    for row in rows:
        conforms("5205", "feedetail", row, UNKNOWN["5205"])
        assert (row["fixmedins_code"], row["fixmedins_name"]) == (BJ_HOSP, _hospital_name(db))
        assert (row["psn_no"], row["med_type"], row["setl_id"]) == (OUT_PSN, "14", settled["setl_id"])
    assert (rows[0]["hilist_code"], rows[0]["hilist_name"], rows[0]["med_list_codg"]) == (
        NIFEDIPINE,
        "硝苯地平片",
        NIFEDIPINE,
    )
    assert rows[0]["medins_list_codg"] == NIFEDIPINE and rows[0]["med_chrgitm_type"] == "09"
    before = {**begin, "endtime": "2025-06-03 10:04:59"}  # the second line came at 10:05
    assert [r["feedetl_sn"] for r in client.call("5205", {"data": before}, region)["feedetail"]] == ["1"]
    with pytest.raises(GatewayError, match="begntime"):  # required by the specification
        client.call("5205", {"data": {**begin, "begntime": ""}}, region)


def test_5206_short_codes_and_full_names(outpatient_visit: Any) -> None:
    client, region, _, settled = outpatient_visit
    rows = client.call("5206", {"data": {"psn_no": OUT_PSN, "cum_ym": "202506"}}, region)["cuminfo"]
    for row in rows:
        conforms("5206", "cuminfo", row)
        assert (row["year"], row["cum_ym"]) == ("2025", "202506")
        assert row["cum_type_code"] == cum_type_code(row["cum_type_name"])
    by_name = {r["cum_type_name"]: r for r in rows}
    expected = {
        "basic.fund": "HIFPFUND",
        "chronic.all.fund": "OPSPFUND",
        "chronic.M03900.fund": "CFM03900",
        "chronic.M03900.fund.06": "CFM0390006",  # June
    }
    assert {n: by_name[n]["cum_type_code"] for n in expected} == expected
    for name in expected:
        assert Decimal(str(by_name[name]["cum"])) == Decimal(str(settled["hifp_pay"])), name
    codes = [r["cum_type_code"] for r in rows if r["insutype"] == "310"]
    assert len(codes) == len(set(codes))  # one code per accumulator
    with pytest.raises(GatewayError, match="cum_ym"):
        client.call("5206", {"data": {"psn_no": OUT_PSN, "cum_ym": "202513"}}, region)


def test_cum_type_codes_are_short_distinct_and_stable() -> None:
    assert len(set(CUM_TYPE_CODES.values())) == len(CUM_TYPE_CODES)
    keys = [*CUM_TYPE_CODES, "chronic.M03900.fund", "chronic.M03900.fund.12", "chronic.M03900.deductible",
            "chronic.M03900.deductible.01", "chronic.M01600.fund", "some.future.key"]  # fmt: skip
    codes = [cum_type_code(k) for k in keys]
    assert all(1 <= len(c) <= 10 for c in codes) and len(set(codes)) == len(codes)
    assert cum_type_code("chronic.M03900.deductible.01") == "CDM0390001"
    assert cum_type_code("inpatient.stays") == "IPTCNT"
    unknown = cum_type_code("some.future.key")  # a key no table knows: a stable code of its own
    assert unknown.startswith("X") and unknown == cum_type_code("some.future.key") != cum_type_code("other.key")


def test_a_stay_admission_and_discharge_diagnoses_fees_by_date_and_stays_counted(
    http: TestClient, db: Database
) -> None:
    approved_filing(db, IN_PSN, "411100", "110000", dt.date(2025, 6, 1))
    with db.unit_of_work() as s:  # the consultation's price cap changes during the stay
        catalogue = (
            "med_list_codg,med_list_name,chrgitm_lv,med_chrgitm_type,selfpay_prop,pric_uplmt_amt,spec,"
            "lmt_used_scope,begndate,enddate,reference\n"
            f"{CONSULT},住院诊查费（调价）,01,02,0,30.00,日,,2025-06-08,,test\n"
        )
        now = dt.datetime(2025, 6, 1, tzinfo=SHANGHAI)
        import_catalog(s, "110000", "price.csv", catalogue.encode(), actor="test", now=now)
    client = his(http)
    region = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": IN_CERTNO}})["insuinfo"][0][
        "insuplc_admdvs"
    ]
    admission = {"diag_type": "1", "diag_srt_no": "1", "diag_code": "I10.x00", "diag_name": "高血压"}
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": IN_PSN, "insutype": "310", "begntime": "2025-06-05 08:00:00", "med_type": "21",
                "ipt_no": "ZY1", "dise_codg": "I10.x00",
            },
            "diseinfo": [admission],
        },
        region,
    )  # fmt: skip
    mdtrt_id = adm["result"]["mdtrt_id"]
    ask = {"mdtrt_id": mdtrt_id, "psn_no": IN_PSN}
    (diag,) = client.call("5202", {"data": ask}, region)["diseinfo"]
    assert diag["inout_diag_type"] == "1" and diag["diag_time"] is None  # an admission diagnosis, no time sent
    fees = [
        line(str(n), ACARBOSE, f"2025-06-0{5 + n} 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=IN_PSN)
        for n in range(4)
    ] + [
        line("c1", CONSULT, "2025-06-07 08:00:00", "26.00", "1", "26", mdtrt_id=mdtrt_id, psn_no=IN_PSN),
        line("c2", CONSULT, "2025-06-09 08:00:00", "30.00", "1", "30", mdtrt_id=mdtrt_id, psn_no=IN_PSN),
    ]
    client.call("2301", {"feedetail": fees}, region)
    discharge = {**admission, "diag_name": "原发性高血压", "diag_time": "2025-06-10 08:30:00"}
    dscg = {"mdtrt_id": mdtrt_id, "psn_no": IN_PSN, "insutype": "310", "endtime": "2025-06-10 09:00:00"}
    client.call("2402", {"dscginfo": dscg, "diseinfo": [discharge]}, region)
    (diag,) = client.call("5202", {"data": ask}, region)["diseinfo"]
    assert (diag["inout_diag_type"], diag["diag_time"]) == ("2", "2025-06-10 08:30:00")

    selects: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM catalog_item" in statement:
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        rows = client.call("5204", {"data": ask}, region)["feedetail"]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(selects) == 1, selects  # one look-up for lines of five days
    for row in rows:
        conforms("5204", "feedetail", row, UNKNOWN["5204"])
        assert row["med_type"] == "21" and row["setl_id"] is None  # not settled yet
    by_sn = {r["feedetl_sn"]: r for r in rows}
    cap = {sn: (by_sn[sn]["hilist_name"], Decimal(str(by_sn[sn]["pric_uplmt_amt"]))) for sn in ("c1", "c2")}
    assert cap == {"c1": ("住院诊查费", Decimal(26)), "c2": ("住院诊查费（调价）", Decimal(30))}  # version by date
    assert by_sn["c1"]["med_chrgitm_type"] == "02" and by_sn["0"]["med_chrgitm_type"] == "09"

    settle = {**ask, "insutype": "310", "medfee_sumamt": "8056.00", "mdtrt_cert_type": "02", "mid_setl_flag": "0"}
    settled = client.call("2304", {"data": {**settle, "acct_used_flag": "0"}}, region)["setlinfo"]
    period = {"psn_no": IN_PSN, "begntime": "2025-06-01 00:00:00", "endtime": "2025-06-30 00:00:00"}
    (visit,) = client.call("5201", {"data": period}, region)["mdtrtinfo"]
    conforms("5201", "mdtrtinfo", visit, UNKNOWN["5201"])
    assert (visit["begntime"], visit["endtime"], visit["ipt_otp_no"]) == (
        "2025-06-05 08:00:00",
        "2025-06-10 09:00:00",
        "ZY1",
    )
    assert Decimal(str(visit["age"])) == 69  # born 1956-03-12
    info = client.call("5203", {"data": {**ask, "setl_id": settled["setl_id"]}}, region)["setlinfo"]
    assert (info["begndate"], info["enddate"], info["refd_setl_flag"]) == ("2025-06-05", "2025-06-10", "0")
    cum = {
        r["cum_type_code"]: r
        for r in client.call("5206", {"data": {"psn_no": IN_PSN, "cum_ym": "202506"}}, region)["cuminfo"]
    }
    assert cum["IPTCNT"]["cum_type_name"] == "inpatient.stays" and Decimal(str(cum["IPTCNT"]["cum"])) == 1
    assert Decimal(str(cum["HIFPFUND"]["cum"])) == Decimal(str(settled["hifp_pay"]))
