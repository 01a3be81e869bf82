"""Signed institution requests: pure verification of timestamp, nonce and signature.

Each request carries four headers, as the national gateways (TIF) use them:

    x-tif-paasid     the credential's key id (the national "paasid")
    x-tif-timestamp  Unix seconds
    x-tif-nonce      6–64 characters, never reused by that key
    x-tif-signature  see the schemes below

The scheme is per credential:

- `national`: lowercase hex SHA-256 of  timestamp + token + nonce + timestamp  (string concatenation; the token
  is the secret of that paasid), exactly as the national platform computes it, so that a vendor's HIS connects
  unchanged. It proves the caller holds the token and that the request is fresh and unique; it does NOT cover
  the method, the path or the body: a party able to alter the request in transit could change the body. It
  therefore belongs behind TLS (as the national gateway is).
- the body-covering schemes, over  "<timestamp>\\n<nonce>\\n<METHOD>\\n<path[?query]>\\n<sha256 hex of the body>":
  HMAC-SHA256 (hex), HMAC-SM3 (hex) or SM2-SM3 (hex r‖s; the institution holds the private key and the platform
  only its public key), so an agency can require the national algorithms and integrity of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from yidi.security.crypto import hmac_sm3

NONCE_RE = re.compile(r"[A-Za-z0-9_\-]{6,64}", re.ASCII)


class Scheme(StrEnum):
    NATIONAL = "national"
    HMAC_SHA256 = "HMAC-SHA256"
    HMAC_SM3 = "HMAC-SM3"
    SM2_SM3 = "SM2-SM3"


def canonical(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    """What the body-covering schemes sign."""
    return "\n".join([timestamp, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()]).encode()


def national_signature(timestamp: str, token: str, nonce: str) -> str:
    """The national gateway's x-tif-signature: hex SHA-256 of timestamp + token + nonce + timestamp."""
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


def signed_message(scheme: Scheme, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    """What a scheme signs. The national scheme signs nothing of the request but its timestamp and nonce, which
    `sign` combines with the token itself."""
    if scheme is Scheme.NATIONAL:
        return f"{timestamp}\n{nonce}".encode()
    return canonical(timestamp, nonce, method, path, body)


def sign(scheme: Scheme, secret: str, message: bytes) -> str:
    """What a client computes (the SM2 private key is the secret for SM2-SM3; the token for `national`, with
    `message` from `signed_message`)."""
    if scheme is Scheme.NATIONAL:
        timestamp, _, nonce = message.decode().partition("\n")
        return national_signature(timestamp, secret, nonce)
    if scheme is Scheme.HMAC_SHA256:
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if scheme is Scheme.HMAC_SM3:
        return hmac_sm3(secret.encode(), message).hex()
    from gmssl import sm2

    # SM2-with-SM3 hashes the signer's public key into the message digest (Z value), so it is needed here.
    return str(sm2.CryptSM2(private_key=secret, public_key=public_key_of(secret)).sign_with_sm3(message))


def public_key_of(private_key_hex: str) -> str:
    """The SM2 public key (uncompressed x‖y, hex) for a private key."""
    from gmssl import sm2

    crypt = sm2.CryptSM2(private_key=private_key_hex, public_key="")
    return str(crypt._kg(int(private_key_hex, 16), sm2.default_ecc_table["g"]))


def verify_signature(scheme: Scheme, key_material: str, message: bytes, signature: str) -> bool:
    """`key_material` is the shared secret (HMAC) or the public key (SM2)."""
    if scheme is Scheme.SM2_SM3:
        from gmssl import sm2

        try:
            return bool(sm2.CryptSM2(private_key="", public_key=key_material).verify_with_sm3(signature, message))
        except Exception:  # a malformed signature is simply not valid
            return False
    expected = sign(scheme, key_material, message)  # lowercase hex; the caller's may be upper case
    return hmac.compare_digest(expected.encode(), signature.lower().encode("ascii", "replace"))


class Refusal(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    BAD_NONCE = "bad_nonce"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True)
class SignedHeaders:
    key_id: str
    timestamp: str
    nonce: str
    signature: str


def check_freshness(headers: SignedHeaders, now_unix: int, window_seconds: int) -> Refusal | None:
    if not headers.timestamp.isascii() or not headers.timestamp.isdigit():
        return Refusal.STALE
    if abs(now_unix - int(headers.timestamp)) > window_seconds:
        return Refusal.STALE
    if not NONCE_RE.fullmatch(headers.nonce):
        return Refusal.BAD_NONCE
    return None
