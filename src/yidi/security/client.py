"""Client side of signed institution requests, for HIS developers, the tests and the demo."""

from __future__ import annotations

import secrets
import time

from yidi.security.signing import Scheme, sign, signed_message


def signed_headers(
    key_id: str,
    key: str,
    method: str,
    path_and_query: str,
    body: bytes = b"",
    *,
    scheme: Scheme = Scheme.HMAC_SHA256,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers that sign one request. `key` is the shared secret (the token for `national`), or the SM2 private key
    for SM2-SM3.

    `path_and_query` is exactly what goes on the request line, e.g. "/api/v1/catalog/110000/items?date=2025-01-01".
    """
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(16)
    signature = sign(scheme, key, signed_message(scheme, ts, nonce, method, path_and_query, body))
    return {"x-tif-paasid": key_id, "x-tif-timestamp": ts, "x-tif-nonce": nonce, "x-tif-signature": signature}
