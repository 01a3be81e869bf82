"""The audit trail: one row for every state change — who, when, through which channel, before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from yidi.core.db import AwareDateTime, Base
from yidi.core.principal import Principal


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(AwareDateTime, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # person, institution, staff, system
    actor_id: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(String(30))  # api, cli, counter, app, …
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    msgid: Mapped[str | None] = mapped_column(String(30))


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor_type: str,
    actor_id: str,
    channel: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    msgid: str | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction (it commits or rolls back with the change)."""
    event = AuditEvent(
        occurred_at=at,
        actor_type=actor_type,
        actor_id=actor_id,
        channel=channel,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        msgid=msgid,
    )
    session.add(event)
    return event


def by(
    session: Session,
    principal: Principal,
    now: dt.datetime,
    *,
    channel: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    """The audit row of a change `principal` made (a person, staff, an institution or the platform's own jobs)."""
    return record(
        session,
        at=now,
        actor_type=principal.audience.value,
        actor_id=principal.subject or "anonymous",
        channel=channel,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
