"""Bring a database to the current schema and reference data; optionally seed the demo."""

from __future__ import annotations

import logging

from yidi.core import clock, migrate
from yidi.core.db import Database
from yidi.demo.service import DemoLoadResult, is_empty, load_demo
from yidi.reference.service import sync_reference_data

log = logging.getLogger("yidi.bootstrap")


def prepare(db: Database, *, demo_if_empty: bool = False) -> DemoLoadResult | None:
    migrate.upgrade(db.url)
    with db.unit_of_work() as session:
        counts = sync_reference_data(session)
    log.info("reference data in step", extra=counts)
    if not demo_if_empty:
        return None
    with db.unit_of_work() as session:
        if not is_empty(session):
            return None
        result = load_demo(session, clock.now())
    log.info("demo data loaded", extra=result.__dict__)
    return result
