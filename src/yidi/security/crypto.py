"""Cryptographic building blocks: field encryption, blind indexes, passwords, tokens, SM3.

Keys come from configuration (YIDI_DATA_ENCRYPTION_KEY, YIDI_SECRET_KEY) and are stretched with HKDF into
one key per purpose, so a leaked index key cannot decrypt and vice versa.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from gmssl import func as gm_func
from gmssl import sm3 as gm_sm3

_CIPHER_VERSION = b"v1"


def derive_key(master: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yidi", info=purpose.encode()).derive(master.encode())


class FieldCipher:
    """AES-256-GCM for personal data at rest; the column stores `v1.<base64(nonce|ciphertext)>`."""

    def __init__(self, master_key: str) -> None:
        self._aead = AESGCM(derive_key(master_key, "field-encryption"))
        self._index_key = derive_key(master_key, "blind-index")

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _CIPHER_VERSION.decode() + "." + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> str:
        version, _, body = token.partition(".")
        if version.encode() != _CIPHER_VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def blind_index(self, value: str, context: str) -> str:
        """A keyed hash to find a row by an encrypted value (equality only)."""
        return hmac.new(self._index_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def cipher_for(master_key: str) -> FieldCipher:
    return FieldCipher(master_key)


def default_cipher() -> FieldCipher:
    from yidi.core.config import get_settings

    return cipher_for(get_settings().data_encryption_key.get_secret_value())


# -- passwords and tokens -------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)  # argon2id


def _hasher() -> PasswordHasher:
    from yidi.core.config import get_settings

    s = get_settings()
    return _hasher_for(s.argon2_time_cost, s.argon2_memory_kib)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Only the digest of a session token is stored; a database leak yields no usable tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- SM3 (GB/T 32905) and HMAC-SM3 ----------------------------------------------------------------------


def sm3_digest(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3.sm3_hash(gm_func.bytes_to_list(data)))


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) over SM3, block size 64 bytes."""
    block = 64
    if len(key) > block:
        key = sm3_digest(key)
    key = key.ljust(block, b"\0")
    inner = sm3_digest(bytes(b ^ 0x36 for b in key) + message)
    return sm3_digest(bytes(b ^ 0x5C for b in key) + inner)
