"""The national gateway's signing scheme (pure rules)."""

from __future__ import annotations

import hashlib

from yidi.security import signing
from yidi.security.signing import Refusal, Scheme, SignedHeaders


def test_the_national_signature_is_sha256_of_timestamp_token_nonce_timestamp() -> None:
    expected = hashlib.sha256(b"1764547200" + b"tok-123" + b"abc123" + b"1764547200").hexdigest()
    assert signing.national_signature("1764547200", "tok-123", "abc123") == expected
    message = signing.signed_message(Scheme.NATIONAL, "1764547200", "abc123", "POST", "/any", b"any body")
    assert signing.sign(Scheme.NATIONAL, "tok-123", message) == expected
    assert signing.verify_signature(Scheme.NATIONAL, "tok-123", message, expected.upper())
    assert not signing.verify_signature(Scheme.NATIONAL, "tok-124", message, expected)
    assert not signing.verify_signature(Scheme.NATIONAL, "tok-123", message, expected[:-1] + "ä")


def test_the_national_message_ignores_method_path_and_body_and_the_others_cover_them() -> None:
    a = signing.signed_message(Scheme.NATIONAL, "1", "nonce1", "POST", "/a", b"x")
    assert a == signing.signed_message(Scheme.NATIONAL, "1", "nonce1", "GET", "/b", b"y")
    b = signing.signed_message(Scheme.HMAC_SHA256, "1", "nonce1", "POST", "/a", b"x")
    assert b != signing.signed_message(Scheme.HMAC_SHA256, "1", "nonce1", "POST", "/a", b"y")


def test_nonces_of_6_to_64_characters() -> None:
    def fresh(nonce: str) -> Refusal | None:
        return signing.check_freshness(SignedHeaders("k", "1000", nonce, "s"), 1000, 300)

    assert fresh("a" * 5) is Refusal.BAD_NONCE
    assert fresh("a" * 6) is None and fresh("a" * 64) is None
    assert fresh("a" * 65) is Refusal.BAD_NONCE
    assert fresh("abc de") is Refusal.BAD_NONCE
    assert signing.check_freshness(SignedHeaders("k", "1301", "abcdef", "s"), 1000, 300) is Refusal.STALE
