"""A case as the engine sees it, and its computation: the one way a bill becomes a split.

Direct settlement (2206/2207, 2303/2304), a manual claim and a review of a settlement (复核) all describe their
case with `Case` and call `compute`: the treatment place's catalogue on each line's day, the insured place's
policy on the service date, the person's year-to-date accumulators as the caller read them (under the person's
lock when the result is stored). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from yidi.catalog.rules import CatalogEntry
from yidi.catalog.service import as_entry, items_at
from yidi.parameters.policy import FilingCategory
from yidi.parameters.store import default_store
from yidi.reference.models import SettlementLevel
from yidi.settlement import engine


@dataclass(frozen=True)
class Case:
    insured_region: str  # whose policy (参保地), at `service_date`
    catalogue_region: str  # whose catalogue classes and prices the lines (就医地 in direct settlement)
    insutype: str
    retiree: bool
    civil_servant: bool
    settlement_level: SettlementLevel  # of the treating institution
    care: engine.CareType
    category: FilingCategory
    cross_province: bool | None  # None for local care
    service_date: dt.date
    disease: str | None = None  # 门慢 disease of a chronic case
    person_diseases: tuple[str, ...] = ()  # the person's active 门慢 qualifications
    use_account: bool = False  # acct_used_flag
    account_balance: Decimal = Decimal("0.00")
    stay: engine.StaySoFar | None = None


@dataclass(frozen=True)
class Basis:
    """The facts of a case that are the person's or the institution's and may change later: kept on the settlement
    row when it is made (`Settlement.basis`), so that a review recomputes it with the facts it was made with."""

    retiree: bool
    civil_servant: bool
    settlement_level: SettlementLevel
    person_diseases: tuple[str, ...]

    @staticmethod
    def of(case: Case) -> Basis:
        return Basis(case.retiree, case.civil_servant, case.settlement_level, case.person_diseases)

    def as_json(self) -> dict[str, Any]:
        return {
            "retiree": self.retiree,
            "civil_servant": self.civil_servant,
            "settlement_level": self.settlement_level.value,
            "person_diseases": list(self.person_diseases),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Basis:
        return Basis(
            bool(data["retiree"]),
            bool(data["civil_servant"]),
            SettlementLevel(data["settlement_level"]),
            tuple(str(d) for d in data["person_diseases"]),
        )


def catalogue_for(session: Session, region: str, lines: list[engine.FeeLine]) -> dict[str, CatalogEntry]:
    """The catalogue entries of the lines' codes in `region`, each as in force on the line's day."""
    by_day: dict[dt.date, set[str]] = defaultdict(set)
    for line in lines:
        by_day[line.fee_ocur_time].add(line.med_list_codg)
    catalogue: dict[str, CatalogEntry] = {}
    for day, codes in by_day.items():
        catalogue.update({c: as_entry(i) for c, i in items_at(session, region, codes, day).items()})
    return catalogue


def compute(
    session: Session,
    case: Case,
    lines: list[engine.FeeLine],
    acc: dict[str, Decimal],
    catalogue: dict[str, CatalogEntry] | None = None,
) -> engine.Result:
    """`catalogue`: the entries to class the lines by when the caller corrected them (a review of a settlement
    whose line was wrongly classed starts from `catalogue_for` and corrects it); else the catalogue's own."""
    ctx = engine.Context(
        policy=default_store().at(case.insured_region, case.service_date),
        insutype=case.insutype,
        retiree=case.retiree,
        civil_servant=case.civil_servant,
        settlement_level=case.settlement_level,
        care=case.care,
        category=case.category,
        cross_province=case.cross_province,
        service_date=case.service_date,
        disease=case.disease,
        person_diseases=case.person_diseases,
        acct_used_flag=case.use_account,
        account_balance=case.account_balance,
        stay=case.stay,
    )
    if catalogue is None:
        catalogue = catalogue_for(session, case.catalogue_region, lines)
    return engine.settle(lines, catalogue, ctx, acc)
