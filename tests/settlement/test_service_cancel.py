"""Through the gateway: a stay of a civil servant settled with the account, cancelled (2305), settled again.
Every accumulator it moved (stays, basic fund, civil-servant subsidy) and the account balance go back exactly,
and the second settlement equals the first.

漯河 employee (demo person 41110000000000000011, not retired, civil servant, balance 4,100.00) filed to 北京,
level-3 hospital, 2025: first-stay deductible 800, ratio .80 in the first band (shipped 411100 values):
basic (10000 − 800) × .80 = 7,360.00; subsidy (10000 − 7360) × .50 = 1,320.00 (cap 20,000);
personal 10000 − 7360 − 1320 = 1,320.00, all from the account: balance 4100 − 1320 = 2,780.00."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi.testclient import TestClient

from yidi.core.db import Database

from ..gateway.test_gateway import ACARBOSE, _accumulators, approved_filing, his, http, line  # noqa: F401 (fixture)

PSN, CERTNO = "41110000000000000011", "411102197810109217"


def test_cancel_restores_stays_fund_subsidy_and_account(http: TestClient, db: Database) -> None:  # noqa: F811
    approved_filing(db, PSN, "411100", "110000", dt.date(2025, 6, 1))
    client = his(http)
    person = client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    region = person["insuinfo"][0]["insuplc_admdvs"]
    adm = client.call(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": "2025-06-05 08:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERTNO,
                "med_type": "21",
                "ipt_no": "ZY2025011",
                "adm_dept_codg": "D12",
                "dise_codg": "I10.x00",
            },
            "diseinfo": [],
        },
        region,
    )
    mdtrt_id = adm["result"]["mdtrt_id"]
    fees = [
        line(str(n), ACARBOSE, f"2025-06-0{5 + n} 10:00:00", "2000.00", "800", "2.5", mdtrt_id=mdtrt_id, psn_no=PSN)
        for n in range(5)
    ]
    client.call("2301", {"feedetail": fees}, region)
    client.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": PSN,
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
            "psn_no": PSN,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "medfee_sumamt": "10000.00",
            "mdtrt_cert_type": "02",
            "mid_setl_flag": "0",
            "acct_used_flag": "1",
        }
    }
    before = _accumulators(db, PSN)
    first = client.call("2304", payload, region)["setlinfo"]
    expected = {
        "act_pay_dedc": Decimal("800.00"),
        "hifp_pay": Decimal("7360.00"),
        "cvlserv_pay": Decimal("1320.00"),
        "psn_part_amt": Decimal("1320.00"),
        "acct_pay": Decimal("1320.00"),
        "psn_cash_pay": Decimal("0.00"),
        "balc": Decimal("2780.00"),
    }
    assert {k: first[k] for k in expected} == expected
    after_first = _accumulators(db, PSN)  # fen; the stay count is a count
    assert {k: v for k, v in after_first.items() if v} == {
        "inpatient.stays": 1,
        "basic.fund": 736000,
        "civil_servant.fund": 132000,
    }
    cancel = client.call("2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": first["setl_id"], "psn_no": PSN}}, region)
    reversal = cancel["setlinfo"]
    assert (reversal["hifp_pay"], reversal["cvlserv_pay"], reversal["acct_pay"]) == (
        Decimal("-7360.00"),
        Decimal("-1320.00"),
        Decimal("-1320.00"),
    )
    assert {k: v for k, v in _accumulators(db, PSN).items() if v} == {k: v for k, v in before.items() if v}
    again = client.call("2304", payload, region)["setlinfo"]
    assert {k: again[k] for k in expected} == expected  # the stay is again the first; the balance was restored
    assert _accumulators(db, PSN) == after_first
