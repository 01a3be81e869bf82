"""A synthetic insured-place policy whose numbers make every expected amount derivable by hand.

The figures are not any real region's: they are chosen so that each rule shows in the arithmetic
(round amounts, a different value for every settlement level and person type, caps small enough to reach).
Tests take `BASE` as it is or change the few values a row needs with `policy({...})`, a deep merge.

Employee scheme (310), the values the rule tests lean on:

    annual cap 10,000 · personal account yes
    outpatient   deductible 500 (retiree 300) per year · ratio L1 .70 L2 .60 L3 .50 unrated .40
                 (retiree .80 .75 .65 .55) · outpatient annual cap 2,000
    inpatient    first-stay deductible L1 100 L2 200 L3 300 unrated 400 (retiree 50 100 150 200)
                 later-stay deductible L1 40 L2 80 L3 120 unrated 160 (retiree 20 40 60 80)
                 ratio L1 .90 L2 .80 unrated .60 (retiree .95 .85 .65);
                 L3 banded on the amount above the deductible: 0–1,000 at .70, 1,000–5,000 at .80, above 5,000
                 at .90 (retiree .75 / .85 / .95)
    chronic      M03900 deductible 100 a year, ratio .80 (retiree .90), annual cap 1,000
                 M01600 deductible 30 a month, ratio .80, annual cap 3,000
                 M07803 no deductible, ratio .90, monthly cap 600, no annual cap
                 M04600 ratio .80, annual cap 500 · M06900 ratio .80, annual cap 1,000 (揭阳's pair)
                 several diseases: highest single-disease cap
    大额          deductible 1,000; 0–2,000 at .80, above 2,000 at .90; annual cap 5,000
    civil servant 50 % of the eligible personal part, annual cap 300

Resident scheme (390): annual cap 10,000, no personal account; outpatient deductible 200, ratio .50 at every
level, annual cap 400; inpatient first-stay deductible 500, later 250, ratio .60; chronic as employees;
大病 deductible 2,000, 0–1,000 at .50, above 1,000 at .60, annual cap 3,000; no civil-servant subsidy.

Every filing category in both tables starts with no reduction (a row sets the one it tests).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from yidi.catalog.rules import CatalogEntry, ChargeLevel, ItemKind
from yidi.parameters.policy import FilingCategory, RegionPolicy
from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, Context, FeeLine

DAY = dt.date(2025, 6, 15)  # June: chronic monthly keys end in .06
D = Decimal


def _levels(l1: object, l2: object, l3: object, unrated: object) -> dict[str, object]:
    return {"level_1": l1, "level_2": l2, "level_3": l3, "unrated": unrated}


def _bands(*pairs: tuple[int, str]) -> dict[str, object]:
    return {"bands": [{"above": above, "rate": rate} for above, rate in pairs]}


def _disease(
    name: str,
    ratio: str,
    *,
    deductible: int = 0,
    period: str = "year",
    monthly: int | None = None,
    annual: int | None = None,
    retiree: str | None = None,
) -> dict[str, object]:
    flat = _levels(ratio, ratio, ratio, ratio)
    return {
        "name": name,
        "deductible": deductible,
        "deductible_period": period,
        "ratio": {"default": flat, **({"retiree": _levels(retiree, retiree, retiree, retiree)} if retiree else {})},
        "monthly_cap": monthly,
        "annual_cap": annual,
    }


CHRONIC = {
    "diseases": {
        "M03900": _disease("高血压", "0.80", deductible=100, annual=1000, retiree="0.90"),
        "M01600": _disease("糖尿病", "0.80", deductible=30, period="month", annual=3000),
        "M07803": _disease("血透", "0.90", monthly=600),
        "M04600": _disease("冠心病", "0.80", annual=500),
        "M06900": _disease("类风湿关节炎", "0.80", annual=1000),
    },
    "several_diseases_rule": "highest_cap",
}

NO_CUT = {"settle_directly": True, "point_cut": 0, "first_selfpay": 0, "separate_deductible": None, "ratio_floor": None}

BASE: dict[str, Any] = {
    "region": "419999",
    "name": "test region",
    "on": DAY,
    "employee": {
        "insutype": "310",
        "annual_cap": 10000,
        "personal_account": True,
        "outpatient": {
            "deductible": {"default": 500, "retiree": 300},
            "ratio": {
                "default": _levels("0.70", "0.60", "0.50", "0.40"),
                "retiree": _levels("0.80", "0.75", "0.65", "0.55"),
            },
            "annual_cap": 2000,
        },
        "inpatient": {
            "deductible_first_stay": {"default": _levels(100, 200, 300, 400), "retiree": _levels(50, 100, 150, 200)},
            "deductible_later_stay": {"default": _levels(40, 80, 120, 160), "retiree": _levels(20, 40, 60, 80)},
            "ratio": {
                "default": _levels("0.90", "0.80", _bands((0, "0.70"), (1000, "0.80"), (5000, "0.90")), "0.60"),
                "retiree": _levels("0.95", "0.85", _bands((0, "0.75"), (1000, "0.85"), (5000, "0.95")), "0.65"),
            },
        },
        "chronic": CHRONIC,
        "top_up": {
            "kind": "large_amount",
            "deductible": 1000,
            "scale": _bands((0, "0.80"), (2000, "0.90")),
            "annual_cap": 5000,
            "in_direct_settlement": True,
        },
        "civil_servant": {"ratio": "0.50", "annual_cap": 300},
    },
    "resident": {
        "insutype": "390",
        "annual_cap": 10000,
        "personal_account": False,
        "outpatient": {
            "deductible": {"default": 200},
            "ratio": {"default": _levels("0.50", "0.50", "0.50", "0.50")},
            "annual_cap": 400,
        },
        "inpatient": {
            "deductible_first_stay": {"default": _levels(500, 500, 500, 500)},
            "deductible_later_stay": {"default": _levels(250, 250, 250, 250)},
            "ratio": {"default": _levels("0.60", "0.60", "0.60", "0.60")},
        },
        "chronic": CHRONIC,
        "top_up": {
            "kind": "critical_illness",
            "deductible": 2000,
            "scale": _bands((0, "0.50"), (1000, "0.60")),
            "annual_cap": 3000,
            "in_direct_settlement": True,
        },
        "civil_servant": None,
    },
    "cross_region": {
        "in_province": {c.value: NO_CUT for c in FilingCategory},
        "cross_province": {c.value: NO_CUT for c in FilingCategory},
    },
    "commitment": {
        "accepted": {"resettled_retiree": True, "long_term_resident": True, "posted_worker": True},
        "accepted_online_auto_approve": True,
        "proof_deadline_days": 180,
        "consequence": "none",
        "ban_months": 0,
    },
    "filing": {
        "target": "city",
        "temporary_validity_months": 6,
        "long_term_min_months_before_change": 6,
        "review_working_days": 3,
        "one_area_at_a_time": True,
        "designated_chronic_institutions_max": 2,
        "chronic_requires_designated_institution": False,
        "retroactive_filing_from": None,
        "maternity_filing": False,
    },
    "exclusions": {
        "psychiatric_specialist_inpatient": True,
        "emergency_observation": True,
        "pharmacy_purchase": False,
        "third_party_injury": True,
    },
    "manual_reimbursement": {
        "deadline_months": 12,
        "deadline_end_of_following_year": False,
        "review_working_days": 20,
        "catalogue": "treatment_place",
        "excluded_care": ["work_injury"],
        "injury_requires_undertaking": True,
        "required_materials": {"inpatient": ["invoice", "fee_list"], "outpatient": ["invoice"]},
    },
    "chronic_cross_province": ["M03900"],
    "in_province_no_filing": {"inpatient": False, "outpatient": False, "pharmacy": False},
}


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def policy(update: dict[str, Any] | None = None) -> RegionPolicy:
    """`BASE` with `update` merged in (nested dicts merge key by key; anything else replaces)."""
    return RegionPolicy.model_validate(_merge(BASE, update or {}))


def mechanism(**values: object) -> dict[str, object]:
    """A filing-category mechanism: no reduction except the values given."""
    return {**NO_CUT, **values}


BASE_POLICY = policy()

# -- bills ---------------------------------------------------------------------------------------------------

A_ITEM = "XA00000000000000000000A"  # 甲类, no price cap: every yuan eligible
OUT_ITEM = "XZ00000000000000000000Z"  # in no catalogue: fully self-paid


def entry(
    code: str, level: ChargeLevel, share: str = "0", cap: str | None = None, when: dt.date = dt.date(2021, 1, 1)
) -> CatalogEntry:
    return CatalogEntry(
        code, code, ItemKind.WESTERN_DRUG, level, "09", D(share), D(cap) if cap else None, None, None, when, None, "t"
    )


CATALOGUE = {A_ITEM: entry(A_ITEM, ChargeLevel.A)}


def fee(amount: str | Decimal, code: str = A_ITEM, sn: str = "1", cnt: str = "1", day: dt.date = DAY) -> FeeLine:
    """One line; by default a single unit of an eligible 甲类 item, so that the line's amount is all eligible."""
    total = D(amount)
    count = D(cnt)
    return FeeLine(sn, code, day, total, count, (total / count).quantize(D("0.000001")))


def bill(*amounts: str | Decimal) -> list[FeeLine]:
    return [fee(a, sn=str(n)) for n, a in enumerate(amounts, 1)]


def context(
    care: CareType,
    *,
    pol: RegionPolicy = BASE_POLICY,
    insutype: str = "310",
    retiree: bool = False,
    civil_servant: bool = False,
    level: SettlementLevel = SettlementLevel.LEVEL_1,
    category: FilingCategory = FilingCategory.LONG_TERM,
    cross_province: bool | None = True,
    day: dt.date = DAY,
    disease: str | None = None,
    person_diseases: tuple[str, ...] = (),
    acct_used_flag: bool = False,
    account_balance: str = "0",
) -> Context:
    return Context(
        policy=pol,
        insutype=insutype,
        retiree=retiree,
        civil_servant=civil_servant,
        settlement_level=level,
        care=care,
        category=category,
        cross_province=cross_province,
        service_date=day,
        disease=disease,
        person_diseases=person_diseases,
        acct_used_flag=acct_used_flag,
        account_balance=D(account_balance).quantize(D("0.01")),
    )


def acc(**values: str) -> dict[str, Decimal]:
    """Year-to-date accumulators; keyword `inpatient__stays="1"` stands for the key "inpatient.stays"."""
    return {k.replace("__", "."): D(v) for k, v in values.items()}


def money(value: str) -> Decimal:
    return D(value).quantize(D("0.01"))
