"""A Python client for the national-interface gateway, for HIS developers, the tests, the demo and benchmarks.

    from yidi.gateway.client import GatewayClient
    his = GatewayClient("http://127.0.0.1:8000", fixmedins_code="H11010500001", key_id="H11010500001-demo",
                        key="demo-secret-H11010500001", mdtrtarea_admvs="110000", fixmedins_name="北京演示第一医院")
    person = his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "<ID>", "psn_cert_type": "01"}})

`call` builds the envelope (msgid = institution code + yyyyMMddHHmmss + 4-digit sequence, from one sequence per
institution shared by every client of the process; `MsgIdGenerator` says what several processes need), signs
the request, posts it and returns `output`; it raises `GatewayError` when `infcode` is not 0 **or** `err_msg` is
not empty (some platforms answer 0 with an error message). `send` returns the whole answer and
`replay` posts a stored envelope again under its original msgid (a retry after a timeout). Numbers in answers
(amounts, prices, ratios) come back as `Decimal`, never float.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from decimal import Decimal
from typing import Any

import httpx

from yidi.core.clock import SHANGHAI
from yidi.core.errors import INVALID_IDENTIFIER, YidiError
from yidi.core.ids import require_fixmedins_code
from yidi.security.client import signed_headers
from yidi.security.signing import Scheme

PATH = "/fsi/api/rsfComIfsService/callService"


class GatewayError(Exception):
    """The platform refused a transaction: `infcode`, `err_msg` and the whole `answer` are kept."""

    def __init__(self, infno: str, answer: dict[str, Any]) -> None:
        self.infno, self.answer = infno, answer
        self.infcode, self.err_msg = answer.get("infcode"), str(answer.get("err_msg") or "")
        super().__init__(f"{infno} failed (infcode {self.infcode}): {self.err_msg}")


class _Sequence:
    """The msgid sequence of one institution (and terminal) in this process: the second last used and how many
    sequences of it are gone. One per key in `_SEQUENCES`, so every generator of the key draws from it."""

    def __init__(self, terminal: int, terminals: int) -> None:
        self.lock = threading.Lock()
        self.terminal, self.terminals = terminal, terminals
        self.capacity = (9_999 - terminal) // terminals + 1  # sequences s in 0–9999 with s % terminals == terminal
        self.second: dt.datetime | None = None
        self.used = 0
        self.offset = 0

    def next(self, moment: dt.datetime) -> tuple[dt.datetime, int]:
        second = moment.replace(microsecond=0)
        with self.lock:
            if self.second is None or second > self.second:
                self._begin(second)
            elif self.used == self.capacity:
                # This second is used up: borrow the next one. The stamp may then run ahead of the clock a
                # little, which the format allows, while a reused msgid would be refused.
                self._begin(self.second + dt.timedelta(seconds=1))
            # A second already begun (or a clock set back) continues where it was: never restart a past second.
            assert self.second is not None
            index = (self.offset + self.used) % self.capacity
            self.used += 1
            return self.second, self.terminal + self.terminals * index

    def _begin(self, second: dt.datetime) -> None:
        # A random start each second: other processes of the institution that were not given terminal numbers
        # (and this process, should it restart within the second) then collide only by bad luck, not always.
        self.second, self.used, self.offset = second, 0, secrets.randbelow(self.capacity)


_SEQUENCES: dict[tuple[str, int, int], _Sequence] = {}
_SEQUENCES_LOCK = threading.Lock()


class MsgIdGenerator:
    """msgid = fixmedins_code (12) + yyyyMMddHHmmss (14) + a 4-digit sequence, unique per institution.

    Every generator of an institution in a process (one per `GatewayClient`, any number of threads) draws from
    the same per-process sequence, so they never hand out the same msgid: within a second the sequence counts
    through all 10,000 values (from a random start), then the next second is used, and the timestamp never
    goes back, even when the clock does. Memory is not shared between processes or machines: when several of
    them send for one institution, give each its own `terminal` number out of `terminals` (sequences with
    sequence % terminals == terminal, 10,000 / terminals a second each); otherwise uniqueness between them is
    only likely, not certain. A retry of the same message must reuse its msgid (`GatewayClient.replay`).
    """

    def __init__(self, fixmedins_code: str, *, terminal: int = 0, terminals: int = 1) -> None:
        require_fixmedins_code(fixmedins_code)
        if not (1 <= terminals <= 10_000 and 0 <= terminal < terminals):
            raise YidiError(
                INVALID_IDENTIFIER,
                name="msgid terminal",
                value=f"{terminal}/{terminals}",
                reason="0 ≤ terminal < terminals ≤ 10000 / 终端号应满足 0 ≤ terminal < terminals ≤ 10000",
            )
        self.fixmedins_code, self.terminal, self.terminals = fixmedins_code, terminal, terminals
        key = (fixmedins_code, terminal, terminals)
        with _SEQUENCES_LOCK:
            self._sequence = _SEQUENCES.setdefault(key, _Sequence(terminal, terminals))

    def __call__(self, now: dt.datetime | None = None) -> str:
        moment = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(tzinfo=None)
        second, seq = self._sequence.next(moment)
        return f"{self.fixmedins_code}{second.strftime('%Y%m%d%H%M%S')}{seq:04d}"


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        *,
        fixmedins_code: str,
        key_id: str,
        key: str,
        mdtrtarea_admvs: str,
        fixmedins_name: str = "",
        scheme: Scheme = Scheme.HMAC_SHA256,
        opter: str = "001",
        opter_name: str = "HIS",
        opter_type: str = "1",
        recer_sys_code: str = "YBXT",
        infver: str = "V1.0",
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        msgid_terminal: int = 0,
        msgid_terminals: int = 1,
    ) -> None:
        self.fixmedins_code, self.key_id, self.key, self.scheme = fixmedins_code, key_id, key, scheme
        self.defaults = {
            "mdtrtarea_admvs": mdtrtarea_admvs,
            "recer_sys_code": recer_sys_code,
            "infver": infver,
            "opter_type": opter_type,
            "opter": opter,
            "opter_name": opter_name,
            "fixmedins_code": fixmedins_code,
            "fixmedins_name": fixmedins_name,
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
        }
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.msgids = MsgIdGenerator(fixmedins_code, terminal=msgid_terminal, terminals=msgid_terminals)
        self.sign_no = ""

    def envelope(
        self, infno: str, payload: dict[str, Any], insuplc_admdvs: str = "", msgid: str | None = None
    ) -> dict[str, Any]:
        now = dt.datetime.now(SHANGHAI)
        return {
            "infno": infno,
            "msgid": msgid or self.msgids(now),
            "insuplc_admdvs": insuplc_admdvs,
            "inf_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "sign_no": self.sign_no,
            "input": payload,
            **self.defaults,
        }

    def post(self, envelope: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(self.key_id, self.key, "POST", PATH, body, scheme=self.scheme)
        response = self.http.post(PATH, content=body, headers={**headers, "content-type": "application/json"})
        response.raise_for_status()
        # Amounts arrive as JSON numbers: read as Decimal, digit for digit (a float is not an amount).
        answer: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
        return answer

    def send(
        self, infno: str, payload: dict[str, Any], insuplc_admdvs: str = "", msgid: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(envelope sent, answer received), without judging the answer."""
        envelope = self.envelope(infno, payload, insuplc_admdvs, msgid)
        return envelope, self.post(envelope)

    def call(self, infno: str, payload: dict[str, Any], insuplc_admdvs: str = "") -> dict[str, Any]:
        """`output` of a successful transaction; `GatewayError` on infcode != 0 or a non-empty err_msg."""
        _, answer = self.send(infno, payload, insuplc_admdvs)
        check(infno, answer)
        output: dict[str, Any] = answer.get("output") or {}
        return output

    def replay(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Post the same envelope again (same msgid): the platform answers what it answered the first time."""
        return self.post(envelope)

    def upload(self, filename: str, content: bytes) -> str:
        """9101: upload a file; returns its file_qury_no."""
        import base64

        out = self.call(
            "9101",
            {
                "fsUploadIn": {
                    "in": base64.b64encode(content).decode(),
                    "filename": filename,
                    "fixmedins_code": self.fixmedins_code,
                }
            },
        )
        return str(out["file_qury_no"])

    def download(self, file_qury_no: str, filename: str = "") -> bytes:
        """9102: the file's bytes (the platform answers application/octet-stream)."""
        envelope = self.envelope(
            "9102",
            {
                "fsDownloadIn": {
                    "file_qury_no": file_qury_no,
                    "filename": filename,
                    "fixmedins_code": self.fixmedins_code,
                }
            },
        )
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(self.key_id, self.key, "POST", PATH, body, scheme=self.scheme)
        response = self.http.post(PATH, content=body, headers={**headers, "content-type": "application/json"})
        response.raise_for_status()
        if response.headers.get("content-type", "").startswith("application/json"):
            check("9102", response.json())
        return response.content

    def sign_in(self, opter_no: str = "001") -> str:
        out = self.call("9001", {"signIn": {"opter_no": opter_no, "mac": "", "ip": ""}})
        self.sign_no = str(out["signinoutb"]["sign_no"])
        return self.sign_no


def check(infno: str, answer: dict[str, Any]) -> None:
    """Both failure signals count: infcode other than 0, or any err_msg."""
    if str(answer.get("infcode")) != "0" or answer.get("err_msg"):
        raise GatewayError(infno, answer)
