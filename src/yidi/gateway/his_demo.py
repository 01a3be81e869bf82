"""`yidi his-demo`: plays a hospital's HIS against a running platform, printing each request and answer.

A 漯河 retiree (filed online to 北京 first, as the person would) is seen at 北京演示第一医院: a chronic-disease
(高血压) outpatient visit and an inpatient stay are settled; the stay's settlement is cancelled and settled
again. Every call goes through the signed national-interface gateway with `GatewayClient`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx

from yidi.core.clock import SHANGHAI
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.security.signing import Scheme

PSN, CERTNO, HOSP = "41110000000000000001", "411102195603129013", "H11010500001"
PERSON_PASSWORD = "Demo-Person-2026"  # noqa: S105 - the documented demo password
NIFEDIPINE, ACARBOSE, MRI = "XC08CAA276A679591896000", "XA10BFA331A740537984000", "002101010040000"
TITLES = {
    "1101": "人员信息获取 person",
    "9001": "签到 sign in",
    "2201": "门诊挂号 register",
    "2203": "就诊信息上传 visit",
    "2204": "费用明细上传 fees",
    "2206": "预结算 pre-settle",
    "2207": "结算 settle",
    "2401": "入院办理 admit",
    "2301": "住院费用上传 fees",
    "2402": "出院办理 discharge",
    "2303": "住院预结算 pre-settle",
    "2304": "住院结算 settle",
    "2305": "住院结算撤销 cancel",
    "5206": "累计信息 accumulators",
}


class Player:
    def __init__(self, client: GatewayClient, out: Callable[[str], None]) -> None:
        self.client, self.out = client, out

    def call(self, infno: str, payload: dict[str, Any], region: str = "", show: tuple[str, ...] = ()) -> dict[str, Any]:
        self.out(f"\n→ {infno} {TITLES.get(infno, '')}")
        self.out("  input: " + _short(payload))
        envelope, answer = self.client.send(infno, payload, region)
        self.out(f"← infcode {answer['infcode']}  inf_refmsgid {answer['inf_refmsgid']}  msgid {envelope['msgid']}")
        if answer.get("err_msg"):
            self.out(f"  err_msg: {answer['err_msg']}")
            raise GatewayError(infno, answer)
        output: dict[str, Any] = answer.get("output") or {}
        info = output.get("setlinfo")
        if isinstance(info, dict):
            keys = (
                "setl_id",
                "medfee_sumamt",
                "fulamt_ownpay_amt",
                "preselfpay_amt",
                "inscp_scp_amt",
                "act_pay_dedc",
                "hifp_pay",
                "hifob_pay",
                "fund_pay_sumamt",
                "psn_part_amt",
                "acct_pay",
                "psn_cash_pay",
                "balc",
            )
            self.out("  setlinfo: " + "  ".join(f"{k}={info.get(k)}" for k in keys))
        elif show:
            self.out("  output: " + _short({k: output.get(k) for k in show}))
        else:
            self.out("  output: " + _short(output))
        return output


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)  # amounts arrive as Decimal: shown as their digits
    return text if len(text) <= limit else text[:limit] + " …"


def ensure_filing(http: httpx.Client, out: Callable[[str], None], today: dt.date) -> None:
    """The person files online (long-term, undertaking) unless an approved filing to 北京 already exists."""
    login = http.post("/api/v1/auth/person/login", json={"account": PSN, "password": PERSON_PASSWORD})
    login.raise_for_status()
    headers = {"authorization": f"Bearer {login.json()['token']}"}
    filings = http.get("/api/v1/filings", headers=headers).json()
    if any(f["status"] == "approved" and f["target_region"] == "110000" for f in filings):
        out("filing: an approved filing to 北京 already exists")
        return
    r = http.post(
        "/api/v1/filings",
        headers=headers,
        json={
            "subtype": "resettled_retiree",
            "target_region": "110000",
            "begndate": today.isoformat(),
            "basis": "commitment",
            "channel": "national_app",
        },
    )
    r.raise_for_status()
    out(f"filing: {r.json()['trt_dcla_detl_sn']} {r.json()['status']} (异地安置退休, 承诺制, 国家医保服务平台)")


def run(url: str, out: Callable[[str], None] = print, http: httpx.Client | None = None) -> dict[str, Any]:
    http = http or httpx.Client(base_url=url, timeout=30)
    now = dt.datetime.now(SHANGHAI)
    today, stamp = now.date(), now.strftime("%H%M%S")
    out(f"yidi HIS demo against {url} — {HOSP} 北京演示第一医院, patient {PSN} (漯河 retiree), {today}")
    ensure_filing(http, out, today)
    client = GatewayClient(
        url,
        fixmedins_code=HOSP,
        key_id=f"{HOSP}-tif",  # the national gateway's signing scheme, as a vendor's HIS signs
        key=f"demo-token-{HOSP}",
        scheme=Scheme.NATIONAL,
        mdtrtarea_admvs="110000",
        fixmedins_name="北京演示第一医院",
        http=http,
    )
    p = Player(client, out)
    p.call("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}})
    person = p.call(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "psn_cert_type": "01"}},
        show=("baseinfo", "insuinfo"),
    )
    region = person["insuinfo"][0]["insuplc_admdvs"]
    t = now.strftime("%Y-%m-%d %H:%M:%S")
    # 1. chronic-disease outpatient visit (高血压 M03900)
    reg = p.call(
        "2201",
        {
            "data": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": t,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "ipt_otp_no": f"MZ{today:%Y%m%d}{stamp}",
                "dept_code": "D12",
                "caty": "A03.04",
            }
        },
        region,
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    p.call(
        "2203",
        {
            "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": PSN, "med_type": "14", "begntime": t, "dise_codg": "M03900"},
            "diseinfo": [],
        },
        region,
    )
    lines = [
        {
            "feedetl_sn": "1",
            "mdtrt_id": mdtrt_id,
            "psn_no": PSN,
            "chrg_bchno": "1",
            "med_list_codg": NIFEDIPINE,
            "fee_ocur_time": t,
            "det_item_fee_sumamt": "36.00",
            "cnt": "90",
            "pric": "0.4",
        }
    ]
    p.call("2204", {"feedetail": lines}, region)
    settle = {
        "data": {
            "psn_no": PSN,
            "mdtrt_id": mdtrt_id,
            "med_type": "14",
            "medfee_sumamt": "36.00",
            "insutype": "310",
            "chrg_bchno": "1",
            "acct_used_flag": "0",
            "mdtrt_cert_type": "02",
            "psn_setlway": "01",
        }
    }
    p.call("2206", settle, region)
    outpatient = p.call("2207", settle, region)
    # 2. inpatient stay: admit, fees, discharge, settle, cancel, settle again
    adm = p.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": t,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "med_type": "21",
                "ipt_no": f"ZY{today:%Y%m%d}{stamp}",
                "adm_dept_codg": "D12",
                "dise_codg": "I10.x00",
            },
            "diseinfo": [],
        },
        region,
    )
    stay = adm["result"]["mdtrt_id"]
    fees = [
        {
            "feedetl_sn": str(n),
            "mdtrt_id": stay,
            "psn_no": PSN,
            "med_list_codg": code,
            "fee_ocur_time": t,
            "det_item_fee_sumamt": total,
            "cnt": cnt,
            "pric": pric,
        }
        for n, (code, total, cnt, pric) in enumerate(
            [(ACARBOSE, "2500.00", "1000", "2.5"), (MRI, "480.00", "1", "480")], 1
        )
    ]
    p.call("2301", {"feedetail": fees}, region)
    p.call(
        "2402",
        {
            "dscginfo": {"mdtrt_id": stay, "psn_no": PSN, "insutype": "310", "endtime": t, "dscg_way": "1"},
            "diseinfo": [],
        },
        region,
    )
    payload = {
        "data": {
            "psn_no": PSN,
            "mdtrt_id": stay,
            "insutype": "310",
            "medfee_sumamt": "2980.00",
            "mid_setl_flag": "0",
            "acct_used_flag": "1",
            "mdtrt_cert_type": "02",
        }
    }
    p.call("2303", payload, region)
    first = p.call("2304", payload, region)
    p.call("2305", {"data": {"mdtrt_id": stay, "setl_id": first["setlinfo"]["setl_id"], "psn_no": PSN}}, region)
    second = p.call("2304", payload, region)
    p.call("5206", {"data": {"psn_no": PSN, "cum_ym": now.strftime("%Y%m")}}, region, show=("cuminfo",))
    out("\nHIS demo finished: 3 settlements, 1 cancellation.")
    return {"outpatient": outpatient, "inpatient_first": first, "inpatient_second": second}
