"""Tables for sign-in, sessions, institution credentials and replay protection.

Their foreign keys name `person` and `institution` by table name only: security is on the ground floor and does
not import the contexts above it (yidi.models brings every table together for Alembic and the tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yidi.core.db import AwareDateTime, Base


class PersonAccount(Base):
    """An insured person's online account (portal sign-in)."""

    __tablename__ = "person_account"

    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class StaffUser(Base):
    """Agency staff: roles (reviewer, clearing_officer, administrator) scoped to pooling regions."""

    __tablename__ = "staff_user"

    username: Mapped[str] = mapped_column(String(50), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class AuthSession(Base):
    """A signed-in session of a person or a staff member; only the token's digest is stored."""

    __tablename__ = "auth_session"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    audience: Mapped[str] = mapped_column(String(10))  # person | staff
    subject: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    client: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class InstitutionCredential(Base):
    """An institution system's signing credential. The HMAC secret is kept encrypted; SM2 keeps a public key."""

    __tablename__ = "institution_credential"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"), index=True)
    scheme: Mapped[str] = mapped_column(String(16))  # yidi.security.signing.Scheme
    key_material_enc: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class UsedNonce(Base):
    """Nonces seen inside the clock window; a second use by the same key is a replay."""

    __tablename__ = "used_nonce"
    __table_args__ = (UniqueConstraint("key_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(AwareDateTime, index=True)


class LoginThrottle(Base):
    """Failed sign-ins per client address in the current window (rate limit across processes)."""

    __tablename__ = "login_throttle"

    client_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
