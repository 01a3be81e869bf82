"""The year-to-date accumulators: a settlement's `increments` are exactly what the next settlement must see, and
taking them back (a cancellation: the service applies them with sign −1) restores the year so that the same
bill settles to the same amounts again. One row per accumulator; every figure worked out beside it from the
synthetic policy in `policies.py`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, Context, Result, settle

from .policies import CATALOGUE, D, bill, context, money


@dataclass(frozen=True)
class Row:
    ctx: Context
    start: dict[str, str]  # the year before the first settlement
    first: str  # bill
    increments: dict[str, str]  # what the first settlement adds, worked out by hand
    second: str  # bill settled with the increments added
    field: str  # the Result field the second settlement changes
    expected: str  # its value


EMP_IN = context(CareType.INPATIENT)  # level 1: first stay 100, later 40, ratio .90
ROWS = [
    # outpatient L1: 300 all within the 500 deductible; then 1000 bears 200: 800 × .70 = 560
    pytest.param(
        Row(context(CareType.OUTPATIENT), {}, "300", {"outpatient.deductible": "300"}, "1000", "hifp_pay", "560"),
        id="outpatient.deductible",
    ),
    # deductible borne: 1000 × .70 = 700 on both fund keys; then outpatient cap 2000 − (1000 + 700) = 300
    pytest.param(
        Row(
            context(CareType.OUTPATIENT),
            {"outpatient.deductible": "500", "outpatient.fund": "1000", "basic.fund": "1000"},
            "1000",
            {"outpatient.fund": "700", "basic.fund": "700"},
            "1000",
            "hifp_pay",
            "300",
        ),
        id="outpatient.fund",
    ),
    # first stay at level 2: (1200 − 200) × .80 = 800; the next stay is a later one: deductible 80
    pytest.param(
        Row(
            context(CareType.INPATIENT, level=SettlementLevel.LEVEL_2),
            {},
            "1200",
            {"inpatient.stays": "1", "basic.fund": "800"},
            "1200",
            "act_pay_dedc",
            "80",
        ),
        id="inpatient.stays",
    ),
    # later stay (1040 − 40) × .90 = 900 with 8,500 paid; then 10,000 − 9,400 = 600 left
    pytest.param(
        Row(EMP_IN, {"inpatient.stays": "1", "basic.fund": "8500"}, "1040",
            {"inpatient.stays": "1", "basic.fund": "900"}, "1040", "hifp_pay", "600"),
        id="basic.fund",
    ),
    # basic 900 (cap), 大额 3,400 (6,000 above the stay deductible, see test_rules_top_up); then the basic cap is
    # used up: uncovered 6,000 → 2000 × .80 + 3000 × .90 = 4,300, but 5,000 − 3,400 = 1,600 of the 大额 cap left
    pytest.param(
        Row(EMP_IN, {"inpatient.stays": "1", "basic.fund": "9100"}, "6040",
            {"inpatient.stays": "1", "basic.fund": "900", "top_up.fund": "3400"}, "6040", "hifob_pay", "1600"),
        id="top_up.fund (大额)",
    ),
    # resident first stay 5,500: basic 3,000, personal in scope 2,500, 大病 (2500 − 2000) × .50 = 250. Later stay
    # 5,500 (deductible 250): basic 5250 × .60 = 3,150, personal 2,350; base 2,500 → 4,850:
    # scale(2850) − scale(500) = (500 + 1850 × .60) − 250 = 1,610 − 250 = 1,360
    pytest.param(
        Row(context(CareType.INPATIENT, insutype="390"), {}, "5500",
            {"inpatient.stays": "1", "basic.fund": "3000", "critical.base": "2500", "top_up.fund": "250"},
            "5500", "hifmi_pay", "1360"),
        id="critical.base (大病)",
    ),
    # subsidy (1040 − 900) × .50 = 70 with 200 paid; then 300 − 270 = 30 left
    pytest.param(
        Row(context(CareType.INPATIENT, civil_servant=True), {"inpatient.stays": "1", "civil_servant.fund": "200"},
            "1040", {"inpatient.stays": "1", "basic.fund": "900", "civil_servant.fund": "70"}, "1040", "cvlserv_pay",
            "30"),
        id="civil_servant.fund",
    ),
    # dialysis 500 × .90 = 450 on four keys; then 600 − 450 = 150 left this month
    pytest.param(
        Row(context(CareType.CHRONIC, disease="M07803", person_diseases=("M07803",)), {}, "500",
            {"basic.fund": "450", "chronic.M07803.fund": "450", "chronic.M07803.fund.06": "450",
             "chronic.all.fund": "450"}, "500", "hifp_pay", "150"),
        id="chronic monthly fund",
    ),
    # M03900 alone: 1,000 a year on chronic.all.fund; 900 paid, then 1000 × .80 = 800 → 100 left after 700
    pytest.param(
        Row(context(CareType.CHRONIC, disease="M03900", person_diseases=("M03900",)),
            {"chronic.M03900.deductible": "100", "chronic.all.fund": "200"}, "875",
            {"basic.fund": "700", "chronic.M03900.fund": "700", "chronic.M03900.fund.06": "700",
             "chronic.all.fund": "700"}, "1000", "hifp_pay", "100"),
        id="chronic.all.fund",
    ),
    # M03900 deductible 100 a year: 60 borne; then 600 bears 40: 560 × .80 = 448
    pytest.param(
        Row(context(CareType.CHRONIC, disease="M03900", person_diseases=("M03900",)), {}, "60",
            {"chronic.M03900.deductible": "60"}, "600", "hifp_pay", "448"),
        id="chronic year deductible",
    ),
    # M01600 deductible 30 a month: 20 borne in June; then 130 bears 10: 120 × .80 = 96
    pytest.param(
        Row(context(CareType.CHRONIC, disease="M01600", person_diseases=("M01600",)), {}, "20",
            {"chronic.M01600.deductible.06": "20"}, "130", "hifp_pay", "96"),
        id="chronic month deductible",
    ),
]  # fmt: skip


def _add(a: dict[str, Decimal], b: dict[str, Decimal], sign: int = 1) -> dict[str, Decimal]:
    return {k: a.get(k, D(0)) + sign * b.get(k, D(0)) for k in {*a, *b}}


def _amounts(r: Result) -> tuple[Decimal, ...]:
    return (r.act_pay_dedc, r.hifp_pay, r.hifob_pay, r.hifmi_pay, r.cvlserv_pay, r.psn_part_amt)


@pytest.mark.parametrize("row", ROWS)
def test_increments_feed_the_next_settlement_and_cancel_exactly(row: Row) -> None:
    start = {k: D(v) for k, v in row.start.items()}
    first = settle(bill(row.first), CATALOGUE, row.ctx, start)
    assert {k: v for k, v in first.increments.items()} == {k: D(v) for k, v in row.increments.items()}
    after = _add(start, dict(first.increments))
    second = settle(bill(row.second), CATALOGUE, row.ctx, after)
    assert getattr(second, row.field) == money(row.expected)
    # a cancellation takes back exactly what the settlement added: the year is as before, value for value …
    restored = _add(after, dict(first.increments), -1)
    assert {k: v for k, v in restored.items() if v} == {k: v for k, v in start.items() if v}
    # … so the same bill settles to the same amounts again, and the second bill as if the first never was
    assert _amounts(settle(bill(row.first), CATALOGUE, row.ctx, restored)) == _amounts(first)
    if row.second == row.first:
        assert _amounts(second) != _amounts(first)  # the row does exercise its accumulator
