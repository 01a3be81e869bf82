"""Which institution may act on a person by psn_no (issue: robustness, item 9; README "Which institution may do
what"): reads and records by psn_no only where the person is present; referrals and chronic qualifications only
by an institution of the insured place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError

from .test_gateway import his, http  # noqa: F401  (http is a fixture)

PSN, CERTNO = "41110000000000000001", "411102195603129013"  # 漯河 (411100) employee retiree
BJ_OTHER = "H11010800003"  # a 北京 hospital the person never went to
LH_HOSP = "H41110200001"  # a 漯河 hospital (the insured place)


def _identify(client: GatewayClient) -> None:
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})


def _reads() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("5206", {"data": {"psn_no": PSN, "cum_ym": "202506"}}),
        ("5301", {"data": {"psn_no": PSN}}),
        ("5302", {"data": {"psn_no": PSN}}),
        ("5304", {"data": {"psn_no": PSN, "begntime": "2025-01-01", "endtime": "2025-12-31"}}),
        ("2001", {"data": {"psn_no": PSN, "insutype": "310", "med_type": "11", "begntime": "2025-06-03 09:00:00"}}),
    ]


@pytest.mark.parametrize(("infno", "payload"), _reads())
def test_a_person_not_present_is_not_found_by_psn_no(http: TestClient, infno: str, payload: dict[str, Any]) -> None:  # noqa: F811
    other = his(http, BJ_OTHER)
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):
        other.call(infno, payload, "411100")
    _identify(other)  # the person presents a card there: now the institution may read
    assert other.call(infno, payload, "411100") is not None


def test_an_identification_counts_for_today_and_yesterday_only(http: TestClient, db: Database) -> None:  # noqa: F811
    from yidi.settlement.models import Identification

    other = his(http, BJ_OTHER)
    today = dt.datetime.now(SHANGHAI)
    for days_ago, allowed in ((2, False), (1, True)):
        with db.unit_of_work() as s:
            s.query(Identification).delete()
            day = today.date() - dt.timedelta(days=days_ago)
            s.add(Identification(fixmedins_code=BJ_OTHER, psn_no=PSN, day=day, first_at=today))
        if allowed:
            assert other.call("5301", {"data": {"psn_no": PSN}}, "411100") is not None
        else:
            with pytest.raises(GatewayError, match="E_NOT_FOUND"):
                other.call("5301", {"data": {"psn_no": PSN}}, "411100")


def _qualification() -> dict[str, Any]:
    return {
        "data": {
            "psn_no": PSN,
            "insutype": "310",
            "opsp_dise_code": "M01600",
            "begndate": "2025-01-01",
            "enddate": "2026-12-31",
        }
    }


def test_a_chronic_qualification_is_recorded_only_by_the_insured_place(http: TestClient) -> None:  # noqa: F811
    beijing = his(http, BJ_OTHER)
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):  # not even present there
        beijing.call("2503", _qualification(), "411100")
    _identify(beijing)
    with pytest.raises(GatewayError, match="E_FORBIDDEN"):  # present, but not the insured place
        beijing.call("2503", _qualification(), "411100")
    luohe = his(http, LH_HOSP, "411100")
    _identify(luohe)
    assert luohe.call("2503", _qualification(), "411100")["trt_dcla_detl_sn"].startswith("Q")


def _referral() -> dict[str, Any]:
    return {
        "refmedin": {
            "psn_no": PSN,
            "insutype": "310",
            "mdtrtarea_admdvs": "110000",
            "begndate": "2025-06-01",
            "refl_rea": "转上级医院",
        }
    }


def test_a_referral_is_issued_only_by_the_insured_place(http: TestClient) -> None:  # noqa: F811
    beijing = his(http, BJ_OTHER)
    _identify(beijing)
    with pytest.raises(GatewayError, match="E_FORBIDDEN"):
        beijing.call("2501", _referral(), "411100")
    luohe = his(http, LH_HOSP, "411100")
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):  # the person has not presented there
        luohe.call("2501", _referral(), "411100")
    _identify(luohe)
    assert luohe.call("2501", _referral(), "411100")["trt_dcla_detl_sn"]
