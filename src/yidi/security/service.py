"""Sign-in, sessions, institution credentials and signed-request verification (use cases)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.core import audit
from yidi.core.config import get_settings
from yidi.core.errors import NOT_FOUND, ErrorKind, YidiError
from yidi.core.principal import Audience, Principal, Role
from yidi.security import signing
from yidi.security.crypto import default_cipher, hash_password, new_token, token_digest, verify_password
from yidi.security.models import (
    AuthSession,
    InstitutionCredential,
    LoginThrottle,
    PersonAccount,
    StaffUser,
    UsedNonce,
)

BAD_LOGIN = ErrorKind("E_LOGIN", "账号或密码错误", "wrong account or password", 401)
LOCKED = ErrorKind(
    "E_LOCKED", "账号已被临时锁定，请于 {until} 后再试", "account locked after repeated failures until {until}", 423
)
THROTTLED = ErrorKind("E_RATE_LIMIT", "登录尝试过于频繁，请稍后再试", "too many sign-in attempts; try again later", 429)
UNAUTHENTICATED = ErrorKind("E_AUTH", "未登录或登录已过期：{reason}", "not signed in or session expired: {reason}", 401)
BAD_SIGNATURE = ErrorKind(
    "E_SIGNATURE", "机构请求签名无效：{reason}", "institution request signature refused: {reason}", 401
)
BAD_CREDENTIAL = ErrorKind(
    "E_CREDENTIAL", "机构密钥有误：{field} {problem}", "bad institution credential: {field} {problem}", 422
)
KEY_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,40}", re.ASCII)
SM2_PUBLIC_KEY_RE = re.compile(r"[0-9a-fA-F]{128}", re.ASCII)
MIN_SECRET_LENGTH = 16  # a token or HMAC key shorter than this can be guessed offline from one signed request
WEAK_PASSWORD = ErrorKind("E_PASSWORD", "密码不符合要求：{reason}", "password does not meet the rules: {reason}", 422)

_SIGNATURE_REASONS = {
    signing.Refusal.MISSING: "x-tif-paasid, x-tif-timestamp, x-tif-nonce and x-tif-signature are required / 缺少签名头",
    signing.Refusal.STALE: "timestamp outside the allowed window / 时间戳超出允许范围",
    signing.Refusal.BAD_NONCE: "nonce malformed or already used / 随机串格式错误或已使用",
    signing.Refusal.BAD_SIGNATURE: "signature does not match / 签名不符",
}


def _administered(
    session: Session, now: dt.datetime, action: str, entity_type: str, entity_id: str, **change: Any
) -> None:
    """The audit row of an administration command (`yidi …`): done by the system, through the command line."""
    audit.record(
        session,
        at=now,
        actor_type="system",
        actor_id="system",
        channel="cli",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        **change,
    )


def check_password_rules(password: str) -> None:
    if len(password) < 10:
        raise YidiError(WEAK_PASSWORD, reason="at least 10 characters / 至少10位")
    if len(password) > 128:
        raise YidiError(WEAK_PASSWORD, reason="at most 128 characters / 至多128位")
    kinds = sum(any(f(c) for c in password) for f in (str.isdigit, str.islower, str.isupper)) + any(
        not c.isalnum() for c in password
    )
    if kinds < 3:
        raise YidiError(WEAK_PASSWORD, reason="three of: digits, lower case, upper case, symbols / 需含三类字符")


# -- accounts -----------------------------------------------------------------------------------------


def set_person_password(session: Session, psn_no: str, password: str, now: dt.datetime) -> PersonAccount:
    check_password_rules(password)
    account = session.get(PersonAccount, psn_no)
    if account is None:
        account = PersonAccount(psn_no=psn_no, password_hash=hash_password(password), failed_attempts=0, created_at=now)
        session.add(account)
    else:
        account.password_hash, account.failed_attempts, account.locked_until = hash_password(password), 0, None
    audit.record(
        session,
        at=now,
        actor_type="system",
        actor_id="system",
        channel="api",
        action="person.password.set",
        entity_type="person",
        entity_id=psn_no,
    )
    return account


def add_staff(
    session: Session,
    username: str,
    display_name: str,
    password: str,
    roles: set[Role],
    regions: set[str],
    now: dt.datetime,
) -> StaffUser:
    check_password_rules(password)
    user = StaffUser(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        roles=sorted(r.value for r in roles),
        regions=sorted(regions),
        active=True,
        failed_attempts=0,
        created_at=now,
    )
    session.add(user)
    _administered(
        session,
        now,
        "staff.create",
        "staff_user",
        username,
        after={"roles": user.roles, "regions": user.regions},
    )
    return user


def add_credential(
    session: Session, fixmedins_code: str, key_id: str, scheme: signing.Scheme, key_material: str, now: dt.datetime
) -> InstitutionCredential:
    """`key_material`: the shared secret (the token of `national`, the HMAC key) or the institution's SM2 public
    key (SM2-SM3). Refused, naming the field, when the key id is taken or malformed or the secret too short. The
    institution must exist (checked by the caller: this context does not read reference data)."""
    if not KEY_ID_RE.fullmatch(key_id):
        raise YidiError(BAD_CREDENTIAL, field="key_id", problem="must be 1–40 of A–Z a–z 0–9 . _ - / 格式错误")
    if session.get(InstitutionCredential, key_id) is not None:
        raise YidiError(BAD_CREDENTIAL, field="key_id", problem="is already in use / 已存在")
    if scheme is signing.Scheme.SM2_SM3:
        if not SM2_PUBLIC_KEY_RE.fullmatch(key_material):
            raise YidiError(
                BAD_CREDENTIAL, field="key_material", problem="must be an SM2 public key (128 hex) / 公钥格式错误"
            )
    elif len(key_material) < MIN_SECRET_LENGTH or not key_material.isprintable():
        raise YidiError(
            BAD_CREDENTIAL,
            field="key_material",
            problem=f"must be at least {MIN_SECRET_LENGTH} printable characters / 密钥过短",
        )
    credential = InstitutionCredential(
        key_id=key_id,
        fixmedins_code=fixmedins_code,
        scheme=scheme.value,
        key_material_enc=default_cipher().encrypt(key_material, f"credential:{key_id}"),
        active=True,
        created_at=now,
    )
    session.add(credential)
    _administered(
        session,
        now,
        "institution.credential.create",
        "institution",
        fixmedins_code,
        after={"key_id": key_id, "scheme": scheme.value},
    )
    return credential


def revoke_credential(session: Session, key_id: str, now: dt.datetime) -> InstitutionCredential:
    """A revoked credential's signatures are refused from the next call on; the row stays for the audit."""
    credential = session.get(InstitutionCredential, key_id, with_for_update=True)
    if credential is None:
        raise YidiError(NOT_FOUND, what="机构密钥 / institution credential", key=key_id)
    if credential.active:
        credential.active = False
        _administered(
            session,
            now,
            "institution.credential.revoke",
            "institution",
            credential.fixmedins_code,
            before={"key_id": key_id, "active": True},
            after={"key_id": key_id, "active": False},
        )
    return credential


# -- sign-in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: dt.datetime
    principal: Principal


def _throttle(session: Session, client: str, now: dt.datetime) -> LoginThrottle:
    s = get_settings()
    row = session.get(LoginThrottle, client, with_for_update=True)
    if row is None:
        row = LoginThrottle(client_key=client, window_start=now, failures=0)
        session.add(row)
    elif now - row.window_start > dt.timedelta(minutes=s.login_ip_window_minutes):
        row.window_start, row.failures = now, 0
    if row.failures >= s.login_ip_failures_per_window:
        raise YidiError(THROTTLED)
    return row


def _check_and_count(
    account: PersonAccount | StaffUser | None, password: str, throttle: LoginThrottle, now: dt.datetime
) -> bool:
    s = get_settings()
    if account is not None and account.locked_until is not None and account.locked_until > now:
        raise YidiError(LOCKED, until=account.locked_until.strftime("%Y-%m-%d %H:%M"))
    ok = account is not None and verify_password(account.password_hash, password)
    if ok:
        assert account is not None
        account.failed_attempts, account.locked_until = 0, None
        return True
    throttle.failures += 1
    if account is not None:
        account.failed_attempts += 1
        if account.failed_attempts >= s.login_max_failures:
            account.locked_until = now + dt.timedelta(minutes=s.login_lock_minutes)
            account.failed_attempts = 0
    return False


def _open_session(session: Session, audience: Audience, subject: str, now: dt.datetime, client: str) -> Login:
    s = get_settings()
    token = new_token()
    expires = now + dt.timedelta(hours=s.session_max_hours)
    session.add(
        AuthSession(
            token_digest=token_digest(token),
            audience=audience.value,
            subject=subject,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            revoked=False,
            client={"address": client},
        )
    )
    audit.record(
        session,
        at=now,
        actor_type=audience.value,
        actor_id=subject,
        channel="api",
        action="login",
        entity_type=audience.value,
        entity_id=subject,
        after={"client": client},
    )
    return Login(token, expires, Principal(audience, subject))


def login_person(
    session: Session, identify: Callable[[], str | None], password: str, now: dt.datetime, client: str
) -> Login | None:
    """Sign in as the person `identify` names (their psn_no; None when the account names nobody, which still
    counts as a failure). yidi.people.service.login_person knows how a person is named (psn_no or ID number).
    Returns None on a wrong password (the caller commits the counters)."""
    throttle = _throttle(session, f"person:{client}", now)
    psn_no = identify()
    account = session.get(PersonAccount, psn_no, with_for_update=True) if psn_no else None
    if not _check_and_count(account, password, throttle, now) or psn_no is None:
        return None
    return _open_session(session, Audience.PERSON, psn_no, now, client)


def login_staff(session: Session, username: str, password: str, now: dt.datetime, client: str) -> Login | None:
    throttle = _throttle(session, f"staff:{client}", now)
    user = session.get(StaffUser, username, with_for_update=True)
    if user is not None and not user.active:
        user = None
    if not _check_and_count(user, password, throttle, now) or user is None:
        return None
    return _open_session(session, Audience.STAFF, user.username, now, client)


def resolve_session(session: Session, token: str, now: dt.datetime) -> Principal:
    s = get_settings()
    row = session.get(AuthSession, token_digest(token))
    if row is None or row.revoked:
        raise YidiError(UNAUTHENTICATED, reason="unknown or signed-out session / 会话无效")
    idle = s.person_session_minutes if row.audience == Audience.PERSON else s.staff_session_minutes
    if now >= row.expires_at or now - row.last_seen_at > dt.timedelta(minutes=idle):
        raise YidiError(UNAUTHENTICATED, reason="session expired / 会话已过期")
    row.last_seen_at = now
    if row.audience == Audience.STAFF:
        user = session.get(StaffUser, row.subject)
        if user is None or not user.active:
            raise YidiError(UNAUTHENTICATED, reason="account disabled / 账号已停用")
        return Principal(Audience.STAFF, user.username, frozenset(Role(r) for r in user.roles), frozenset(user.regions))
    return Principal(Audience.PERSON, row.subject)


def logout(session: Session, token: str, now: dt.datetime) -> None:
    row = session.get(AuthSession, token_digest(token))
    if row is not None and not row.revoked:
        row.revoked = True
        audit.record(
            session,
            at=now,
            actor_type=row.audience,
            actor_id=row.subject,
            channel="api",
            action="logout",
            entity_type=row.audience,
            entity_id=row.subject,
        )


# -- signed institution requests ----------------------------------------------------------------------


def spend_nonce(session: Session, key_id: str, nonce: str, now: dt.datetime) -> None:
    """Mark a nonce used outside the call's own transaction (which was rolled back after verifying it)."""
    session.add(UsedNonce(key_id=key_id, nonce=nonce, seen_at=now))


def verify_institution_request(
    session: Session,
    headers: signing.SignedHeaders | None,
    method: str,
    path: str,
    body: bytes,
    now: dt.datetime,
    *,
    national_allowed: bool = True,
) -> Principal:
    """Check freshness and signature, and claim the nonce in this transaction so that a replay is refused.

    `national_allowed`: whether a credential of the national scheme, whose signature covers neither the path nor the
    body, may sign this request. Only the national interface needs it; the REST API asks for a body-covering one.

    The caller commits the nonce even when its own work fails: the generic edge commits it on its own before the
    endpoint runs; the gateway keeps it in the call's transaction and rolls back only to a savepoint after it.
    """
    if headers is None:
        raise YidiError(BAD_SIGNATURE, reason=_SIGNATURE_REASONS[signing.Refusal.MISSING])
    window = get_settings().signature_window_seconds
    refusal = signing.check_freshness(headers, int(now.timestamp()), window)
    if refusal:
        raise YidiError(BAD_SIGNATURE, reason=_SIGNATURE_REASONS[refusal])
    credential = session.get(InstitutionCredential, headers.key_id)
    if credential is None or not credential.active:
        raise YidiError(BAD_SIGNATURE, reason="unknown or inactive key / 密钥无效")
    scheme = signing.Scheme(credential.scheme)
    if scheme is signing.Scheme.NATIONAL and not national_allowed:
        raise YidiError(
            BAD_SIGNATURE,
            reason="this credential's scheme (national) signs only the national interface; use a body-covering "
            "credential (HMAC-SHA256, HMAC-SM3, SM2-SM3) for the REST API / 国家接口签名方式仅用于国家接口",
        )
    material = default_cipher().decrypt(credential.key_material_enc, f"credential:{credential.key_id}")
    message = signing.signed_message(scheme, headers.timestamp, headers.nonce, method, path, body)
    if not signing.verify_signature(scheme, material, message, headers.signature):
        raise YidiError(BAD_SIGNATURE, reason=_SIGNATURE_REASONS[signing.Refusal.BAD_SIGNATURE])
    try:
        session.add(UsedNonce(key_id=headers.key_id, nonce=headers.nonce, seen_at=now))
        session.flush()  # a reused nonce fails here (the unique key); the caller's transaction is then rolled back
    except IntegrityError:
        raise YidiError(BAD_SIGNATURE, reason=_SIGNATURE_REASONS[signing.Refusal.BAD_NONCE]) from None
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security: forget nonces past the window
        # Rows another call is already deleting are skipped: this may run inside a long gateway transaction.
        stale = select(UsedNonce.id).where(UsedNonce.seen_at < now - dt.timedelta(seconds=2 * window))
        session.execute(delete(UsedNonce).where(UsedNonce.id.in_(stale.limit(5000).with_for_update(skip_locked=True))))
    return Principal(Audience.INSTITUTION, credential.fixmedins_code, key_id=credential.key_id)
