"""医保电子凭证 tokens: the portal issues a short-lived signed token (shown as a QR code); the HIS sends it in
1101 as `mdtrt_cert_no` with `mdtrt_cert_type` 01, and the gateway verifies it. Stand-in for the national
e-voucher SDK, with the same properties: bound to one person, expiring, unforgeable without the key."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from yidi.core.config import get_settings
from yidi.core.errors import ErrorKind, YidiError
from yidi.security.crypto import derive_key

BAD_TOKEN = ErrorKind("E_EVOUCHER", "医保电子凭证无效或已过期", "the e-voucher token is invalid or expired", 401)
LIFETIME = dt.timedelta(minutes=5)


def _key() -> bytes:
    return derive_key(get_settings().secret_key.get_secret_value(), "evoucher")


def issue_evoucher(psn_no: str, now: dt.datetime) -> str:
    expires = int((now + LIFETIME).timestamp())
    body = f"{psn_no}.{expires}"
    sig = hmac.new(_key(), body.encode(), hashlib.sha256).digest()
    return (
        "EC."
        + base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        + "."
        + base64.urlsafe_b64encode(sig).decode().rstrip("=")
    )


def verify_evoucher(token: str, now: dt.datetime) -> str:
    """The psn_no the token was issued to; raises when forged, malformed or expired."""
    try:
        prefix, body_b64, sig_b64 = token.split(".")
        body = base64.urlsafe_b64decode(body_b64 + "=" * (-len(body_b64) % 4)).decode()
        sig = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
        psn_no, expires = body.rsplit(".", 1)
    except ValueError:
        raise YidiError(BAD_TOKEN) from None
    expected = hmac.new(_key(), body.encode(), hashlib.sha256).digest()
    if prefix != "EC" or not hmac.compare_digest(sig, expected) or int(expires) < now.timestamp():
        raise YidiError(BAD_TOKEN)
    return psn_no
