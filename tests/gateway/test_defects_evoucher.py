"""1101 by 医保电子凭证 (mdtrt_cert_type 01): the path no test took. A token issued to a person identifies them and
lets the institution register a visit; an expired, tampered or malformed token is refused naming the field."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from fastapi.testclient import TestClient

from yidi.core import clock
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError
from yidi.security.evoucher import LIFETIME, issue_evoucher

from .test_gateway import his, http  # noqa: F401  (http is a fixture)

PSN, OTHER = "41110000000000000001", "41110000000000000002"  # 漯河 demo persons


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _identify(client: GatewayClient, token: str) -> dict[str, object]:
    return client.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})


def test_an_evoucher_identifies_the_person_and_opens_registration(http: TestClient, db: Database) -> None:  # noqa: F811
    client = his(http)
    person = _identify(client, issue_evoucher(PSN, clock.now()))
    assert person["baseinfo"]["psn_no"] == PSN  # type: ignore[index]
    assert person["baseinfo"]["certno"] == "411102********9013"  # type: ignore[index]  # masked for the institution
    assert [i["insuplc_admdvs"] for i in person["insuinfo"]] == ["411100"]  # type: ignore[attr-defined]
    # The identification counts as the person's presence there: registering a visit is allowed.
    reg = client.call(
        "2201",
        {
            "data": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": f"{clock.now().date()} 00:00:00",
                "mdtrt_cert_type": "01",
                "mdtrt_cert_no": "(token)",
                "ipt_otp_no": "EV1",
            }
        },
        "411100",
    )
    assert reg["data"]["mdtrt_id"]


def _tampered_person() -> str:
    prefix, _body, sig = issue_evoucher(PSN, clock.now()).split(".")
    expires = int((clock.now() + LIFETIME).timestamp())
    return ".".join((prefix, _b64(f"{OTHER}.{expires}"), sig))  # another person under the first one's signature


def _tampered_expiry() -> str:
    prefix, _body, sig = issue_evoucher(PSN, clock.now() - dt.timedelta(hours=1)).split(".")
    later = int((clock.now() + dt.timedelta(hours=1)).timestamp())
    return ".".join((prefix, _b64(f"{PSN}.{later}"), sig))  # an expired token made to last longer


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: issue_evoucher(PSN, clock.now() - LIFETIME - dt.timedelta(seconds=5)), id="expired"),
        pytest.param(_tampered_person, id="tampered-person"),
        pytest.param(_tampered_expiry, id="tampered-expiry"),
        pytest.param(lambda: "EC." + _b64(f"{PSN}.soon") + ".AAAA", id="expiry-not-a-number"),
        pytest.param(lambda: "EC.%%%.AAAA", id="not-base64"),
        pytest.param(lambda: "EC." + base64.urlsafe_b64encode(b"\xff\xfe.1").decode() + ".AAAA", id="not-utf8"),
        pytest.param(lambda: "EC.only-two", id="two-parts"),
        pytest.param(lambda: issue_evoucher(PSN, clock.now()).replace("EC.", "XX.", 1), id="wrong-prefix"),
    ],
)
def test_a_bad_evoucher_is_refused_naming_the_field(http: TestClient, db: Database, token) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client = his(http)
    with pytest.raises(GatewayError) as refused:
        _identify(client, token())
    message = refused.value.err_msg
    assert "mdtrt_cert_no" in message and "e-voucher" in message, message
    assert "E_INTERNAL" not in message
