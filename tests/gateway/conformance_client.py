"""A hospital's or pharmacy's HIS as a vendor writes it from the national interface specification: nothing of yidi.

It builds the national envelope (interface.md §2), signs each call with the national TIF headers
(x-tif-signature = lowercase hex SHA-256 of timestamp + token + nonce + timestamp; the body is not covered) and
reads answers with amounts as Decimal. Only hashlib, json, time, secrets, datetime and httpx are used (and decimal,
to read and write amounts exactly), so that the test talks to yidi as an HIS on another machine would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from decimal import Decimal
from typing import Any

import httpx

PATH = "/fsi/api/rsfComIfsService/callService"
CHINA = dt.timezone(dt.timedelta(hours=8))


def tif_headers(paasid: str, token: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four national headers. Signature: sha256 over the string timestamp + token + nonce + timestamp."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    nonce = nonce if nonce is not None else secrets.token_hex(16)
    signature = hashlib.sha256((ts + token + nonce + ts).encode("utf-8")).hexdigest()
    return {"x-tif-paasid": paasid, "x-tif-timestamp": ts, "x-tif-nonce": nonce, "x-tif-signature": signature}


def encode(body: dict[str, Any]) -> bytes:
    """JSON with Decimal amounts written as JSON numbers, digit for digit (as a C# or Java decimal is sent)."""
    text = json.dumps(body, ensure_ascii=False, default=_decimal_marker)
    return text.replace('"' + _MARK, "").replace(_MARK + '"', "").encode("utf-8")


_MARK = r"\u0001decimal\u0001"  # how json.dumps writes the marker: a control character no request holds


def _decimal_marker(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return f"\x01decimal\x01{value}\x01decimal\x01"
    raise TypeError(f"{type(value).__name__} is not JSON")


class Reply:
    """One HTTP answer: its status, raw text and the JSON parsed with every non-integer number as Decimal."""

    def __init__(self, status: int, text: str, content_type: str) -> None:
        self.status, self.text, self.content_type = status, text, content_type

    @property
    def json(self) -> Any:
        return json.loads(self.text, parse_float=Decimal)

    @property
    def output(self) -> dict[str, Any]:
        out = self.json.get("output")
        return out if isinstance(out, dict) else {}


class His:
    """One institution's interface client: its envelope fields, its credential and its message counter."""

    def __init__(
        self,
        base_url: str,
        *,
        fixmedins_code: str,
        fixmedins_name: str,
        mdtrtarea_admvs: str,
        paasid: str,
        token: str,
        opter: str = "1001",
        opter_name: str = "收费员甲",
    ) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.fixmedins_code, self.fixmedins_name = fixmedins_code, fixmedins_name
        self.mdtrtarea_admvs, self.paasid, self.token = mdtrtarea_admvs, paasid, token
        self.opter, self.opter_name = opter, opter_name
        self.sign_no = ""
        self.last_msgid = ""  # of the last envelope built: a settlement's medins_setl_id must be it
        self._serial = secrets.randbelow(5000)

    def close(self) -> None:
        self.http.close()

    def msgid(self) -> str:
        """fixmedins_code (12) + yyyyMMddHHmmss (14) + a 4-digit sequence: unique per message."""
        self._serial = (self._serial + 1) % 10000
        return f"{self.fixmedins_code}{dt.datetime.now(CHINA):%Y%m%d%H%M%S}{self._serial:04d}"

    def envelope(self, infno: str, input: dict[str, Any], insuplc_admdvs: str = "") -> dict[str, Any]:
        """The request envelope, every field of the specification's table written out."""
        self.last_msgid = self.msgid()
        return {
            "infno": infno,
            "msgid": self.last_msgid,
            "mdtrtarea_admvs": self.mdtrtarea_admvs,
            "insuplc_admdvs": insuplc_admdvs,
            "recer_sys_code": "YBXT",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": self.opter,
            "opter_name": self.opter_name,
            "inf_time": dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.fixmedins_code,
            "fixmedins_name": self.fixmedins_name,
            "sign_no": self.sign_no,
            "input": input,
        }

    def post(
        self,
        body: bytes | dict[str, Any],
        *,
        path: str = PATH,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        raw = body if isinstance(body, bytes) else encode(body)
        sent = {
            "content-type": content_type,
            **(headers if headers is not None else tif_headers(self.paasid, self.token)),
        }
        answer = self.http.post(path, content=raw, headers=sent)
        return Reply(answer.status_code, answer.text, answer.headers.get("content-type", ""))

    def call(self, infno: str, input: dict[str, Any], insuplc_admdvs: str = "", *, path_infno: bool = False) -> Reply:
        """One transaction; `path_infno` uses the URL form that also names the transaction in the path."""
        path = f"{PATH}/{infno}" if path_infno else PATH
        return self.post(self.envelope(infno, input, insuplc_admdvs), path=path)
