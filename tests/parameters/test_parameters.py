"""The dated parameter store: shipped tree valid, look-ups by date, precise errors on broken copies."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.cli import app
from yidi.core.errors import YidiError
from yidi.parameters.policy import FilingCategory, Scale
from yidi.parameters.store import ParameterStore, shipped_directory

D = dt.date


@pytest.fixture(scope="module")
def store() -> ParameterStore:
    return ParameterStore([shipped_directory()])


def test_shipped_tree_passes_check_without_warnings(store: ParameterStore) -> None:
    assert store.check() == []
    assert "411100" in store.regions()


def test_every_shipped_region_resolves_at_every_start_date(store: ParameterStore) -> None:
    for region in store.regions():
        for day in sorted(store.tree.start_dates(("regions", region))):
            assert store.at(region, day).region == region


@pytest.mark.parametrize(
    ("day", "cap"),
    [(D(2024, 12, 31), Decimal("280000")), (D(2025, 1, 1), Decimal("300000")), (D(2025, 1, 2), Decimal("300000"))],
)
def test_annual_cap_day_before_of_and_after_change(store: ParameterStore, day: dt.date, cap: Decimal) -> None:
    assert store.at("411100", day).employee.annual_cap == cap


@pytest.mark.parametrize(
    ("day", "deductible"),
    [(D(2024, 12, 31), Decimal("900")), (D(2025, 1, 1), Decimal("800")), (D(2025, 1, 2), Decimal("800"))],
)
def test_inpatient_deductible_versions(store: ParameterStore, day: dt.date, deductible: Decimal) -> None:
    policy = store.at("411100", day)
    assert policy.employee.inpatient.deductible_first_stay.for_person(False).for_level("level_3") == deductible


def test_retiree_variant_falls_back_to_default(store: ParameterStore) -> None:
    before, after = store.at("411100", D(2024, 6, 1)), store.at("411100", D(2025, 6, 1))
    first_stay = before.employee.inpatient.deductible_first_stay
    assert first_stay.for_person(True) == first_stay.for_person(False)  # no retiree value in 2024
    assert after.employee.inpatient.deductible_first_stay.for_person(True).level_3 == Decimal("700")


@pytest.mark.parametrize(
    ("day", "expected"), [(D(2025, 4, 30), None), (D(2025, 5, 1), D(2025, 5, 1)), (D(2025, 5, 2), D(2025, 5, 1))]
)
def test_retroactive_filing_from_seed_000(store: ParameterStore, day: dt.date, expected: dt.date | None) -> None:
    assert store.at("411100", day).filing.retroactive_filing_from == expected


def test_values_are_decimal_never_float(store: ParameterStore) -> None:
    policy = store.at("411100", D(2025, 6, 1))
    ratio = policy.employee.outpatient.ratio.for_person(False).level_1
    assert isinstance(ratio, Decimal) and ratio == Decimal("0.70")
    assert str(policy.employee.chronic.diseases["M03900"].ratio.default.level_2) == "0.70"


def test_banded_ratio_and_cross_region_mechanisms(store: ParameterStore) -> None:
    policy = store.at("411100", D(2025, 6, 1))
    level_3 = policy.employee.inpatient.ratio.default.level_3
    assert isinstance(level_3, Scale)
    assert level_3.apply(Decimal("60000")) == Decimal("50000") * Decimal("0.80") + Decimal("10000") * Decimal("0.85")
    cross = policy.cross_region.cross_province
    assert cross[FilingCategory.LONG_TERM].point_cut == 0
    assert cross[FilingCategory.OTHER_TEMPORARY].point_cut == 20
    assert not cross[FilingCategory.UNFILED].settle_directly


def test_e6_critical_illness_bands() -> None:
    scale = Scale.model_validate({"bands": [{"above": 0, "rate": "0.30"}, {"above": 20000, "rate": "0.40"}]})
    # E6: in-scope personal 50,000 − 大病 deductible 20,000 = 30,000 → 6,000 + 4,000.
    assert scale.apply(Decimal("50000") - Decimal("20000")) == Decimal("10000")


def test_chronic_list_grows_with_the_national_list(store: ParameterStore) -> None:
    assert "M06900" not in store.at("411100", D(2024, 12, 31)).chronic_cross_province
    assert "M06900" in store.at("411100", D(2025, 1, 1)).chronic_cross_province
    assert len(store.national(D(2025, 1, 1)).chronic_cross_province) == 14


def test_jingjinji_zone_starts_2023_04_01(store: ParameterStore) -> None:
    assert "jingjinji" not in store.national(D(2023, 3, 31)).no_filing_zones
    zone = store.national(D(2023, 4, 1)).no_filing_zones["jingjinji"]
    assert zone.members == ["11", "12", "13"] and "chronic" not in zone.care


def test_before_the_first_date_there_is_no_policy(store: ParameterStore) -> None:
    with pytest.raises(YidiError) as err:
        store.at("411100", D(2023, 12, 31))
    assert err.value.code == "E_PARAMS_MISSING"
    assert "411100" in err.value.message_zh and "employee" in err.value.message_en
    with pytest.raises(YidiError):
        store.at("999999", D(2025, 1, 1))


def test_reference_of_names_the_document(store: ParameterStore) -> None:
    assert "seed 000" in (store.reference_of("411100", "filing.retroactive_filing_from", D(2025, 6, 1)) or "")


# -- broken copies -----------------------------------------------------------------------------------


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "params"
    shutil.copytree(shipped_directory(), target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(root: Path) -> list[str]:
    return [str(p) for p in ParameterStore([root]).check() if p.severity == "error"]


def test_ratio_above_one_names_file_and_key(copy: Path) -> None:
    f = copy / "regions/411100/employee/outpatient.yaml"
    _edit(f, "level_1: 0.70", "level_1: 1.70")
    errors = _errors(copy)
    assert len(errors) == 1
    assert "outpatient.yaml" in errors[0] and "employee.outpatient.ratio.default.level_1" in errors[0]
    assert "less than or equal to 1" in errors[0] and "2024-01-01" in errors[0]


def test_dates_out_of_order(copy: Path) -> None:
    f = copy / "regions/411100/employee/index.yaml"
    _edit(f, "2025-01-01: {value: 300000", "2023-01-01: {value: 300000")
    errors = _errors(copy)
    assert errors == [
        f"ERROR {f}: regions.411100.employee.annual_cap: start dates out of order: 2023-01-01 after 2024-01-01"
    ]


def test_negative_cap(copy: Path) -> None:
    _edit(copy / "regions/411100/resident/index.yaml", "{value: 180000", "{value: -5")
    errors = _errors(copy)
    assert any("resident.annual_cap" in e and "greater than 0" in e and "2025-01-01" in e for e in errors)


def test_missing_value_is_reported_not_defaulted(copy: Path) -> None:
    (copy / "regions/411100/manual_reimbursement.yaml").unlink()
    errors = _errors(copy)
    assert any("manual_reimbursement" in e and "missing" in e for e in errors)


def test_ended_value_leaves_a_gap_from_that_date(copy: Path) -> None:
    _edit(
        copy / "regions/411100/filing.yaml",
        "    2024-01-01: {value: 3, reference: illustrative}",
        "    2024-01-01: {value: 3, reference: illustrative}\n    2025-03-01: null",
    )
    errors = _errors(copy)
    assert any("filing.review_working_days" in e and "2025-03-01" in e for e in errors)


def test_duplicate_start_date(copy: Path) -> None:
    f = copy / "regions/411100/employee/index.yaml"
    _edit(f, "2025-01-01: {value: 300000", "2024-01-01: {value: 300000")
    errors = _errors(copy)
    assert len(errors) == 1 and "duplicate key" in errors[0] and "index.yaml" in errors[0]


def test_unknown_key_and_bad_band_order(copy: Path) -> None:
    _edit(copy / "regions/411100/exclusions.yaml", "third_party_injury: true", "third_party_injury: true, typo: 1")
    _edit(copy / "regions/411100/resident/top_up.yaml", "{above: 100000, rate: 0.70}", "{above: 0, rate: 0.70}")
    errors = _errors(copy)
    assert any("exclusions.typo" in e and "Extra inputs" in e for e in errors)
    assert any("top_up.scale.bands" in e and "increase" in e for e in errors)


def test_missing_reference(copy: Path) -> None:
    _edit(copy / "regions/411100/filing.yaml", "{value: true, reference: illustrative}", "true")
    errors = _errors(copy)
    assert any("one_area_at_a_time" in e and "no reference" in e for e in errors)


def test_cut_above_national_ceiling_is_a_warning(copy: Path) -> None:
    f = copy / "regions/411100/cross_region.yaml"
    _edit(f, "referral: {settle_directly: true, point_cut: 10", "referral: {settle_directly: true, point_cut: 15")
    problems = ParameterStore([copy]).check()
    assert [p.severity for p in problems] == ["warning"]
    assert "national ceiling of 10" in problems[0].problem and problems[0].key.endswith("referral.point_cut")


def test_region_directory_must_be_a_pooling_region(copy: Path) -> None:
    shutil.copytree(copy / "regions/411100", copy / "regions/410000")
    errors = _errors(copy)
    assert any("410000" in e and "not a pooling region" in e for e in errors)


def test_an_agency_tree_overrides_a_leaf(tmp_path: Path) -> None:
    extra = tmp_path / "agency"
    (extra / "regions/411100").mkdir(parents=True)
    (extra / "regions/411100/manual_reimbursement.yaml").write_text(
        "deadline_months:\n  values:\n    2024-01-01: {value: 6, reference: 'agency notice 2024-1'}\n", encoding="utf-8"
    )
    store = ParameterStore([shipped_directory(), extra])
    assert store.check() == []
    assert store.at("411100", D(2025, 1, 1)).manual_reimbursement.deadline_months == 6


def test_cli_params_check_and_show(copy: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["params", "check"])
    assert ok.exit_code == 0 and "parameters OK" in ok.output
    _edit(copy / "regions/411100/employee/outpatient.yaml", "level_1: 0.70", "level_1: 1.70")
    bad = runner.invoke(app, ["params", "check", "--dir", str(copy)])
    assert bad.exit_code == 1
    assert "outpatient.yaml" in bad.output and "ratio.default.level_1" in bad.output
    shown = runner.invoke(app, ["params", "show", "411100", "--date", "2025-06-01"])
    assert shown.exit_code == 0
    assert "annual_cap: '300000.00'" in shown.output and "seed 000" in shown.output


def test_every_demo_region_has_a_tree(store: ParameterStore) -> None:
    assert set(store.regions()) == {
        "411100",
        "110000",
        "220100",
        "530100",
        "120000",
        "130100",
        "131000",
        "460200",
        "420100",
        "450600",
    }
    several = [
        r
        for r in store.regions()
        if len({v.start for leaf in store.tree.under(("regions", r)) for v in leaf.values}) >= 2
    ]
    assert len(several) >= 2


def test_worked_example_parameters(store: ParameterStore) -> None:
    # E1: 廊坊 门慢 (diabetes) ratio 80 %, no deductible, on 2022-07-01.
    e1 = store.at("131000", D(2022, 7, 1)).employee.chronic.diseases["M01600"]
    assert (e1.deductible, e1.ratio.for_person(True).for_level("level_3")) == (Decimal("0"), Decimal("0.80"))
    # E2: 防城港 高血压 门特, deductible 50, 75 % at a level-3 hospital, for a retiree.
    e2 = store.at("450600", D(2025, 6, 1)).employee.chronic.diseases["M03900"]
    assert (e2.deductible, e2.ratio.for_person(True).for_level("level_3")) == (Decimal("50"), Decimal("0.75"))
    # E8: 北京 retiree ordinary outpatient under the older rules: deductible 1,300, ratio 80 %.
    e8 = store.at("110000", D(2021, 6, 1)).employee.outpatient
    assert e8.deductible.for_person(True) == Decimal("1300")
    assert e8.ratio.for_person(True).for_level("level_3") == Decimal("0.80")
    assert store.at("110000", D(2025, 6, 1)).employee.outpatient.deductible.for_person(True) != Decimal("1300")
    assert store.at("110000", D(2025, 6, 1)).filing.designated_chronic_institutions_max == 2
