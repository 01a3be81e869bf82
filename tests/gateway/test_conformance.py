"""National-interface conformance: a hospital's and a pharmacy's HIS work with yidi unchanged (issue 12).

The real server runs as a subprocess (`yidi serve`, demo data, SQLite and PostgreSQL); an HIS written from the
specification (conformance_client.py: no yidi code) plays a whole day through the national gateway with requests
written out by hand, signed with the national TIF headers. Every answer must be HTTP 200, infcode 0 (or the
expected refusal), valid against docs/interface/schemas/<infno>.json (written from the specification's tables,
not from yidi), with amounts as JSON numbers and the settlement identities holding.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from .conformance_client import CHINA, PATH, His, Reply, tif_headers

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "interface" / "schemas"
HOSPITAL, HOSPITAL_NAME = "H11010500001", "北京演示第一医院（三级综合）"
PHARMACY, PHARMACY_NAME = "P11010500001", "北京演示大药房朝阳店"
PSN, CERTNO, NAME = "41110000000000000001", "411102195603129013", "王某甲"  # a 漯河 retiree, born 1956-03-12
NIFEDIPINE, ACARBOSE, MRI = "XC08CAA276A679591896000", "XA10BFA331A740537984000", "002101010040000"
BODY_LIMIT = 65536  # YIDI_MAX_BODY_BYTES of the server under test

# Fields the specification types 数值型: wherever they appear in an answer they must be JSON numbers (or null).
NUMBERS = {
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
    "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay",
    "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "pdn_cash_pay", "hosp_part_amt", "balc",
    "acct_mulaid_pay", "hifdm_pay", "psn_pay", "cash_payamt", "crt_payb_lmt_amt", "fund_payamt",
    "det_item_fee_sumamt", "cnt", "pric", "pric_uplmt_amt", "selfpay_prop", "overlmt_amt", "age", "cum",
    "diag_srt_no",
}  # fmt: skip


# --- the server under test --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`yidi serve` on a fresh database, seeded with the demo by the server itself; its base URL."""
    home = tmp_path_factory.mktemp("conformance")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'yidi.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_databases").create()
    port, log = _free_port(), home / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "YIDI_DATABASE_URL": url,
        "YIDI_LOAD_DEMO_ON_EMPTY": "true",
        "YIDI_MAX_BODY_BYTES": str(BODY_LIMIT),
        "YIDI_ARGON2_MEMORY_KIB": "256",  # the demo accounts' hashes: fast to make, as in the other tests
    }
    command = [sys.executable, "-c", "from yidi.cli import main; main()", "serve", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _healthy(base):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"yidi serve did not come up ({server.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _his(base: str, code: str, name: str) -> His:
    """The demo provisions for every demo institution the national credential <code>-tif / demo-token-<code>."""
    return His(
        base, fixmedins_code=code, fixmedins_name=name, mdtrtarea_admvs="110000",
        paasid=f"{code}-tif", token=f"demo-token-{code}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def hospital(platform: str) -> Iterator[His]:
    his = _his(platform, HOSPITAL, HOSPITAL_NAME)
    yield his
    his.close()


@pytest.fixture(scope="module")
def pharmacy(platform: str) -> Iterator[His]:
    his = _his(platform, PHARMACY, PHARMACY_NAME)
    yield his
    his.close()


@pytest.fixture(scope="module")
def filed(platform: str) -> None:
    """Not the HIS's part: the person files online to 北京 beforehand (long-term resident, undertaking), as the
    national app lets them; without it a cross-region stay is not settled directly."""
    with httpx.Client(base_url=platform, timeout=30) as web:
        login = web.post("/api/v1/auth/person/login", json={"account": PSN, "password": "Demo-Person-2026"})
        assert login.status_code == 200, login.text
        filing = web.post(
            "/api/v1/filings",
            headers={"authorization": f"Bearer {login.json()['token']}"},
            json={
                "subtype": "resettled_retiree", "target_region": "110000", "begndate": _today().isoformat(),
                "basis": "commitment", "channel": "national_app",
            },
        )  # fmt: skip
        assert filing.status_code in (200, 201), filing.text
        assert filing.json()["status"] == "approved", filing.text


# --- what every answer must be ----------------------------------------------------------------------------------


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = jsonschema.Draft202012Validator
    document = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    schema.check_schema(document)
    return schema(document)


def conforms(reply: Reply, name: str) -> dict[str, Any]:
    """HTTP 200, a JSON answer valid against the schema `name`, every 数值型 field a JSON number; the body."""
    assert reply.status == 200, f"{name}: HTTP {reply.status}: {reply.text[:500]}"
    body = reply.json
    assert isinstance(body, dict), reply.text[:500]
    errors = sorted(_validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}" for e in errors[:15]]
    assert not problems, f"{name}: {len(errors)} schema violations, err_msg {body.get('err_msg')!r}:\n" + "\n".join(
        problems
    )
    quoted = sorted(_quoted_numbers(body))
    assert not quoted, f"{name}: numbers sent as JSON strings: {quoted}"
    return body


def ok(reply: Reply, infno: str) -> dict[str, Any]:
    """A successful answer of transaction `infno`: infcode 0, schema-valid; its output."""
    body = reply.json if reply.status == 200 else {}
    assert body.get("infcode") == 0, f"{infno}: HTTP {reply.status}, answer {reply.text[:600]}"
    output: dict[str, Any] = conforms(reply, infno)["output"]
    return output


def refused(reply: Reply, code: str | None) -> str:
    """A refusal as an HIS sees it: HTTP 200, the national envelope, infcode -1, err_msg in Chinese naming a
    stable code in brackets (`code`, or any [E_…] when None); the err_msg."""
    body = conforms(reply, "refusal")
    message = str(body["err_msg"])
    if code is not None:
        assert f"[{code}]" in message, message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), f"no Chinese in err_msg: {message}"
    return message


def _quoted_numbers(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _quoted_numbers(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _quoted_numbers(item, key)
    elif key in NUMBERS and value is not None and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
        yield f"{key}={value!r}"


def identities_hold(info: dict[str, Any], what: str) -> None:
    """What an HIS books: the funds and the person's share make the total; account and cash make the share."""
    assert info["fund_pay_sumamt"] + info["psn_part_amt"] == info["medfee_sumamt"], (what, info)
    assert info["acct_pay"] + info["psn_cash_pay"] == info["psn_part_amt"], (what, info)
    assert info["medfee_sumamt"] > 0, (what, info)


# --- times as HIS software writes them --------------------------------------------------------------------------


def _today() -> dt.date:
    return dt.datetime.now(CHINA).date()


class Day:
    """Moments of today, increasing, none in the future: a call may not describe what has not happened yet."""

    def __init__(self) -> None:
        now = dt.datetime.now(CHINA).replace(microsecond=0)
        start = max(now - dt.timedelta(minutes=50), now.replace(hour=0, minute=0, second=0))
        self.moments = [(start + (now - start) * n / 40).replace(microsecond=0) for n in range(41)]
        self.used = 0

    def next(self) -> dt.datetime:
        self.used += 1
        return self.moments[self.used]


def plain(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")  # the specification's 日期时间型


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")  # e.g. 2026-12-01T09:30:00+08:00, as a Java OffsetDateTime writes it


def iso_utc(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + ".250Z"  # e.g. …T01:30:00.250Z (Day: whole seconds)


# --- the day ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day(platform: str) -> Day:
    return Day()  # one per server: each backend's day starts afresh


def sign_in(his: His) -> None:
    out = ok(
        his.call("9001", {"signIn": {"opter_no": his.opter, "mac": "00-1A-2B-3C-4D-5E", "ip": "10.21.3.7"}}), "9001"
    )
    his.sign_no = out["signinoutb"]["sign_no"]


def identify(his: His) -> str:
    """1101 by ID card (02); the insured place of the 310 row."""
    out = ok(
        his.call(
            "1101",
            {
                "data": {
                    "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "card_sn": "", "begntime": "",
                    "psn_cert_type": "01", "certno": CERTNO, "psn_name": NAME,
                }
            },
        ),
        "1101",
    )  # fmt: skip
    base = out["baseinfo"]
    assert base["psn_no"] == PSN and base["psn_name"] == NAME
    today = _today()
    years = today.year - 1956 - ((today.month, today.day) < (3, 12))  # born 1956-03-12
    assert years <= base["age"] < years + 1, base
    row = next(r for r in out["insuinfo"] if r["insutype"] == "310")
    assert row["balc"] >= 0
    return str(row["insuplc_admdvs"])


def test_outpatient_day(hospital: His, filed: None, day: Day) -> None:
    """9001, 1101, 2201, 2203, 2204, 2206, 2207, the 52xx queries on the settlement, 2208, 3201, 5205."""
    sign_in(hospital)
    region = identify(hospital)
    begin = day.next()
    number = f"MZ{begin:%Y%m%d%H%M%S}"
    reg = ok(
        hospital.call(
            "2201",
            {
                "data": {
                    "psn_no": PSN, "insutype": "310", "begntime": iso(begin), "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": CERTNO, "ipt_otp_no": number, "atddr_no": "D110105000101", "dr_name": "医生甲",
                    "dept_code": "D01", "dept_name": "内科", "caty": "A03",
                }
            },
            region,
        ),
        "2201",
    )["data"]  # fmt: skip
    mdtrt_id = reg["mdtrt_id"]
    assert reg["psn_no"] == PSN and reg["ipt_otp_no"] == number
    ok(
        hospital.call(
            "2203",
            {
                "mdtrtinfo": {
                    "mdtrt_id": mdtrt_id, "psn_no": PSN, "med_type": "14", "begntime": plain(begin),
                    "main_cond_dscr": "", "dise_codg": "M03900", "dise_name": "高血压", "birctrl_type": "",
                    "birctrl_matn_date": "",
                },
                "diseinfo": [
                    {
                        "diag_type": "1", "diag_srt_no": 1, "diag_code": "I10.x00", "diag_name": "高血压",
                        "diag_dept": "内科", "dise_dor_no": "D110105000101", "dise_dor_name": "医生甲",
                        "diag_time": plain(begin), "vali_flag": "1",
                    }
                ],
            },
            region,
        ),
        "2203",
    )  # fmt: skip
    when = day.next()
    lines = [
        _fee_line(f"{number}-1", mdtrt_id, NIFEDIPINE, "YP0001", iso_utc(when), Decimal("36.00"), 90, Decimal("0.40")),
        _fee_line(f"{number}-2", mdtrt_id, ACARBOSE, "YP0002", iso_utc(when), Decimal("75.00"), 30, Decimal("2.50")),
    ]
    for row in lines:
        row["chrg_bchno"] = "CB01"
    result = ok(hospital.call("2204", {"feedetail": lines}, region), "2204")["result"]
    assert sorted(r["feedetl_sn"] for r in result) == sorted(r["feedetl_sn"] for r in lines)
    for r in result:
        assert r["det_item_fee_sumamt"] == {x["feedetl_sn"]: x["det_item_fee_sumamt"] for x in lines}[r["feedetl_sn"]]
    total = sum((r["det_item_fee_sumamt"] for r in lines), Decimal("0.00"))
    settle = {
        "psn_no": PSN, "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "med_type": "14", "medfee_sumamt": total,
        "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "CB01", "insutype": "310", "acct_used_flag": "1",
    }  # fmt: skip
    pre = ok(hospital.call("2206", {"data": settle}, region), "2206")["setlinfo"]
    identities_hold(pre, "2206")
    final = {
        **settle, "invono": "", "fulamt_ownpay_amt": pre["fulamt_ownpay_amt"],
        "overlmt_selfpay": pre["overlmt_selfpay"], "preselfpay_amt": pre["preselfpay_amt"],
        "inscp_scp_amt": pre["inscp_scp_amt"],
    }  # fmt: skip
    settled = hospital.call("2207", {"data": final}, region)
    info = ok(settled, "2207")["setlinfo"]
    identities_hold(info, "2207")
    assert info["medfee_sumamt"] == total and info["psn_no"] == PSN and info["mdtrt_id"] == mdtrt_id
    for key in ("fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay"):
        assert info[key] == pre[key], f"2207 {key} {info[key]} differs from its pre-settlement {pre[key]}"
    assert info["medins_setl_id"] == hospital.last_msgid  # the settling message's msgid (specification)
    queries(hospital, region, mdtrt_id, info["setl_id"], day, "14")
    reversal = ok(
        hospital.call("2208", {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": PSN}}, region),
        "2208",
    )["setlinfo"]
    assert reversal["setl_id"] != info["setl_id"]
    assert reversal["medfee_sumamt"] == -info["medfee_sumamt"]
    assert reversal["fund_pay_sumamt"] == -info["fund_pay_sumamt"]
    reconcile(hospital, region, "11", [])  # settled and cancelled: nothing left to count
    start = dt.datetime.combine(_today(), dt.time(0), CHINA)
    # Last, as its endtime is optional in the specification and left empty here: a refusal stops nothing else.
    ok(hospital.call("5205", {"data": {"psn_no": PSN, "begntime": iso(start), "endtime": ""}}, region), "5205")


def _fee_line(
    sn: str, mdtrt_id: str, code: str, own: str, when: str, total: Decimal, cnt: int, pric: Decimal
) -> dict[str, Any]:
    return {
        "feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": PSN, "dise_codg": "", "rxno": "", "rx_circ_flag": "0",
        "fee_ocur_time": when, "med_list_codg": code, "medins_list_codg": own, "det_item_fee_sumamt": total,
        "cnt": cnt, "pric": pric, "sin_dos_dscr": "", "used_frqu_dscr": "", "prd_days": 30, "medc_way_dscr": "",
        "bilg_dept_codg": "D01", "bilg_dept_name": "内科", "bilg_dr_codg": "D110105000101", "bilg_dr_name": "医生甲",
        "acord_dept_codg": "", "acord_dept_name": "", "orders_dr_code": "", "orders_dr_name": "",
        "hosp_appr_flag": "1", "tcmdrug_used_way": "", "etip_flag": "", "etip_hosp_code": "",
        "dscg_tkdrug_flag": "", "matn_fee_flag": "",
    }  # fmt: skip


def queries(his: His, region: str, mdtrt_id: str, setl_id: str, day: Day, med_type: str) -> None:
    """5201–5204 and 5206 on a visit just settled, as an HIS checks before reversing or printing."""
    start = dt.datetime.combine(_today(), dt.time(0), CHINA)
    visits = ok(
        his.call(
            "5201",
            {
                "data": {
                    "psn_no": PSN,
                    "begntime": plain(start),
                    "endtime": plain(day.next()),
                    "med_type": med_type,
                    "mdtrt_id": "",
                }
            },
            region,
        ),
        "5201",
    )["mdtrtinfo"]
    assert mdtrt_id in {v["mdtrt_id"] for v in visits}, visits
    ok(his.call("5202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": PSN}}, region), "5202")
    found = ok(his.call("5203", {"data": {"psn_no": PSN, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}, region), "5203")
    info = found["setlinfo"]
    assert info["setl_id"] == setl_id and info["mdtrt_id"] == mdtrt_id
    identities_hold(info, "5203")
    lines = ok(his.call("5204", {"data": {"psn_no": PSN, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}, region), "5204")
    assert sum((r["det_item_fee_sumamt"] for r in lines["feedetail"]), Decimal(0)) == info["medfee_sumamt"]
    cum = ok(his.call("5206", {"data": {"psn_no": PSN, "cum_ym": f"{_today():%Y%m}"}}, region), "5206")["cuminfo"]
    assert cum, "5206: no accumulator after a settlement"


def reconcile(his: His, optins: str, clr_type: str, kept: list[dict[str, Any]]) -> None:
    """3201 with the HIS's own totals of today's settlements still in force: they must balance (stmt_rslt 0)."""
    zero = Decimal("0.00")
    data = {
        "insutype": "310", "clr_type": clr_type, "setl_optins": optins, "stmt_begndate": f"{_today():%Y-%m-%d}",
        "stmt_enddate": f"{_today():%Y-%m-%d}",
        "medfee_sumamt": sum((s["medfee_sumamt"] for s in kept), zero),
        "fund_pay_sumamt": sum((s["fund_pay_sumamt"] for s in kept), zero),
        "acct_pay": sum((s["acct_pay"] for s in kept), zero), "fixmedins_setl_cnt": len(kept),
    }  # fmt: skip
    statement = ok(his.call("3201", {"data": data}), "3201")["stmtinfo"]
    assert statement["stmt_rslt"] == "0", statement


def test_inpatient_stay_with_a_mid_stay_settlement(hospital: His, filed: None, day: Day) -> None:
    """2401, 2301, 2303 + 2304 mid-stay (mid_setl_flag 1), 2301 again, 2402, 2303 + 2304 final, 2305, 3201."""
    if not hospital.sign_no:
        sign_in(hospital)
    region = identify(hospital)
    admitted = day.next()
    ipt_no = f"ZY{admitted:%Y%m%d%H%M%S}"
    diagnosis = {
        "diag_type": "1", "diag_srt_no": 1, "diag_code": "I10.x00", "diag_name": "高血压", "diag_dept": "内科",
        "dise_dor_no": "D110105000101", "dise_dor_name": "医生甲", "diag_time": iso(admitted), "vali_flag": "1",
    }  # fmt: skip
    stay = ok(
        hospital.call(
            "2401",
            {
                "mdtrtinfo": {
                    "psn_no": PSN, "insutype": "310", "coner_name": "", "tel": "", "begntime": iso(admitted),
                    "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "med_type": "21", "ipt_no": ipt_no,
                    "medrcdno": "", "atddr_no": "D110105000101", "chfpdr_name": "医生甲", "adm_diag_dscr": "",
                    "adm_dept_codg": "D01", "adm_dept_name": "内科", "adm_bed": "12", "dscg_maindiag_code": "I10.x00",
                    "dscg_maindiag_name": "高血压", "main_cond_dscr": "", "dise_codg": "", "dise_name": "",
                    "oprn_oprt_code": "", "oprn_oprt_name": "", "fpsc_no": "", "matn_type": "", "birctrl_type": "",
                    "latechb_flag": "", "pret_flag": "", "birctrl_matn_date": "", "dise_type_code": "",
                },
                "diseinfo": [diagnosis],
            },
            region,
        ),
        "2401",
    )["result"]["mdtrt_id"]  # fmt: skip
    first = [_stay_line(f"{ipt_no}-1", stay, ACARBOSE, iso(day.next()), Decimal("2500.00"), 1000, Decimal("2.50"))]
    ok(hospital.call("2301", {"feedetail": first}, region), "2301")
    settle = {
        "psn_no": PSN, "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "medfee_sumamt": Decimal("2500.00"),
        "psn_setlway": "01", "mdtrt_id": stay, "insutype": "310", "acct_used_flag": "1", "mid_setl_flag": "1",
    }  # fmt: skip
    identities_hold(ok(hospital.call("2303", {"data": settle}, region), "2303")["setlinfo"], "2303 mid-stay")
    mid = ok(hospital.call("2304", {"data": {**settle, "invono": ""}}, region), "2304")["setlinfo"]
    identities_hold(mid, "2304 mid-stay")
    assert mid["medfee_sumamt"] == Decimal("2500.00")
    more = [_stay_line(f"{ipt_no}-2", stay, MRI, iso_utc(day.next()), Decimal("480.00"), 1, Decimal("480.00"))]
    ok(hospital.post(hospital.envelope("2301", {"feedetail": more}, region), content_type="text/plain"), "2301")
    ok(
        hospital.call(
            "2402",
            {
                "dscginfo": {
                    "mdtrt_id": stay, "psn_no": PSN, "insutype": "310", "endtime": plain(day.next()),
                    "dise_codg": "", "dise_name": "", "oprn_oprt_code": "", "oprn_oprt_name": "", "fpsc_no": "",
                    "matn_type": "", "birctrl_type": "", "latechb_flag": "", "cop_flag": "",
                    "dscg_dept_codg": "D01", "dscg_dept_name": "内科", "dscg_bed": "12", "dscg_way": "1",
                    "die_date": "",
                },
                "diseinfo": [{**diagnosis, "diag_time": plain(admitted)}],
            },
            region,
        ),
        "2402",
    )  # fmt: skip
    final = {**settle, "medfee_sumamt": Decimal("480.00"), "mid_setl_flag": "0"}
    identities_hold(ok(hospital.call("2303", {"data": final}, region), "2303")["setlinfo"], "2303 final")
    last = ok(hospital.call("2304", {"data": {**final, "invono": ""}}, region), "2304")["setlinfo"]
    identities_hold(last, "2304 final")
    assert last["setl_id"] != mid["setl_id"] and last["medfee_sumamt"] == Decimal("480.00")
    undone = ok(
        hospital.call("2305", {"data": {"mdtrt_id": stay, "setl_id": last["setl_id"], "psn_no": PSN}}, region), "2305"
    )["setlinfo"]
    assert undone["medfee_sumamt"] == -last["medfee_sumamt"] and undone["acct_pay"] == -last["acct_pay"]
    reconcile(hospital, mid["clr_optins"] or region, "21", [mid])  # the cancelled final nets out


def _stay_line(sn: str, mdtrt_id: str, code: str, when: str, total: Decimal, cnt: int, pric: Decimal) -> dict[str, Any]:
    return {
        "feedetl_sn": sn, "init_feedetl_sn": "", "mdtrt_id": mdtrt_id, "drord_no": "", "psn_no": PSN,
        "med_type": "21", "fee_ocur_time": when, "med_list_codg": code, "medins_list_codg": code,
        "det_item_fee_sumamt": total, "cnt": cnt, "pric": pric, "sin_dos_dscr": "", "used_frqu_dscr": "",
        "prd_days": 1, "medc_way_dscr": "", "bilg_dept_codg": "D01", "bilg_dept_name": "内科",
        "bilg_dr_codg": "D110105000101", "bilg_dr_name": "医生甲", "acord_dept_codg": "", "acord_dept_name": "",
        "orders_dr_code": "", "orders_dr_name": "", "hosp_appr_flag": "1", "tcmdrug_used_way": "", "etip_flag": "",
        "etip_hosp_code": "", "dscg_tkdrug_flag": "", "matn_fee_flag": "",
    }  # fmt: skip


def test_pharmacy_sale(pharmacy: His, filed: None, day: Day) -> None:
    """The demo pharmacy: 9001, its own 1101, 2101 pre-settle, 2102 settle, 2103 cancel."""
    sign_in(pharmacy)
    region = identify(pharmacy)
    sold = day.next()
    drugs = [
        {
            "feedetl_sn": f"LS{sold:%Y%m%d%H%M%S}-1", "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": plain(sold),
            "med_list_codg": NIFEDIPINE, "medins_list_codg": "YD000123", "det_item_fee_sumamt": Decimal("12.00"),
            "cnt": 30, "pric": Decimal("0.40"), "sin_dos_dscr": "", "used_frqu_dscr": "", "prd_days": 30,
            "medc_way_dscr": "", "bilg_dr_codg": "", "bilg_dr_name": "", "tcmdrug_used_way": "",
        }
    ]  # fmt: skip
    data = {
        "psn_no": PSN, "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "begntime": iso(sold),
        "medfee_sumamt": Decimal("12.00"), "insutype": "310", "dise_codg": "", "dise_name": "",
        "acct_used_flag": "1", "med_type": "41",
    }  # fmt: skip
    pre = ok(pharmacy.call("2101", {"data": data, "feedetail": drugs}, region), "2101")["setlinfo"]
    identities_hold(pre, "2101")
    sale = ok(pharmacy.call("2102", {"data": {**data, "invono": ""}, "feedetail": drugs}, region), "2102")["setlinfo"]
    identities_hold(sale, "2102")
    for key in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay"):
        assert sale[key] == pre[key], f"2102 {key} {sale[key]} differs from its pre-settlement {pre[key]}"
    assert sale["medins_setl_id"] == pharmacy.last_msgid
    cancel = {"setl_id": sale["setl_id"], "mdtrt_id": sale["mdtrt_id"], "psn_no": PSN}
    undone = ok(pharmacy.call("2103", {"data": cancel}, region), "2103")["setlinfo"]
    assert undone["medfee_sumamt"] == -sale["medfee_sumamt"] and undone["setl_id"] != sale["setl_id"]


SIGN_IN = {"signIn": {"opter_no": "1001", "mac": "00-1A-2B-3C-4D-5E", "ip": "10.21.3.7"}}


def test_a_bad_signature_is_refused_in_the_national_envelope(hospital: His) -> None:
    wrong = tif_headers(hospital.paasid, "not-the-token")
    refused(hospital.post(hospital.envelope("9001", SIGN_IN), headers=wrong), "E_SIGNATURE")


def test_a_reused_nonce_is_refused(hospital: His) -> None:
    nonce = f"conformance{time.time_ns()}"
    ok(
        hospital.post(
            hospital.envelope("9001", SIGN_IN), headers=tif_headers(hospital.paasid, hospital.token, nonce=nonce)
        ),
        "9001",
    )
    again = tif_headers(hospital.paasid, hospital.token, nonce=nonce)
    refused(hospital.post(hospital.envelope("9001", SIGN_IN), headers=again), "E_SIGNATURE")


def test_a_body_over_the_limit_is_refused_in_the_national_envelope(hospital: His) -> None:
    person = {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "psn_cert_type": "01", "certno": CERTNO}
    big = hospital.envelope("1101", {"data": {**person, "psn_name": NAME, "memo": "备" * (BODY_LIMIT // 3 + 100)}})
    refused(hospital.post(big), "E_TOO_LARGE")


def test_a_body_that_is_not_json_is_refused(hospital: His) -> None:
    refused(hospital.post(b'{"infno": "9001", "msgid": "H110105000012026'), "E_ENVELOPE")


def test_an_unknown_transaction_is_refused(hospital: His) -> None:
    refused(hospital.call("8888", {"data": {}}), "E_INFNO")


def test_both_url_forms_and_a_path_naming_another_transaction(hospital: His) -> None:
    ok(hospital.call("9001", SIGN_IN), "9001")
    ok(hospital.call("9001", SIGN_IN, path_infno=True), "9001")
    message = refused(hospital.post(hospital.envelope("9001", SIGN_IN), path=f"{PATH}/1101"), None)
    assert "infno" in message and "1101" in message, message
