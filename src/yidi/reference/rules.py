"""Pure rules over the division table: pooling regions and cross-region classification.

Classification compares pooling regions, not raw codes: a county (411102) belongs to its prefecture's
pool (411100), the four municipalities pool at provincial level (110105 → 110000), a province-directly
administered county (济源 419001) is its own pool, and the city-pool codes some systems use (`xxxx99`)
mean the prefecture's pool. Two places in one pool are local; in one province, in-province cross-region;
otherwise cross-province.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from yidi.core.errors import UNKNOWN_DIVISION, YidiError

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


class DivisionLevel(StrEnum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    DIRECT_COUNTY = "direct_county"


class CrossRegion(StrEnum):
    LOCAL = "local"  # 本地就医
    IN_PROVINCE = "in_province"  # 省内异地
    CROSS_PROVINCE = "cross_province"  # 跨省异地

    @property
    def label_zh(self) -> str:
        return {"local": "本地", "in_province": "省内异地", "cross_province": "跨省异地"}[self.value]


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: DivisionLevel
    parent: str | None

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def is_pooling_region(self) -> bool:
        if self.level is DivisionLevel.PROVINCE:
            return self.code in MUNICIPALITIES
        return True


class DivisionIndex:
    """All provinces, prefectures and province-administered counties, by code."""

    def __init__(self, divisions: list[Division]) -> None:
        self._by_code = {d.code: d for d in divisions}

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_code.values())

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def require(self, code: str) -> Division:
        division = self._by_code.get(code)
        if division is None:
            raise YidiError(UNKNOWN_DIVISION, code=code)
        return division

    def pooling_regions(self) -> list[Division]:
        return [d for d in self._by_code.values() if d.is_pooling_region]

    def pooling_region_of(self, code: str) -> Division:
        """The pooling region (统筹区) a six-digit division code belongs to."""
        if len(code) != 6 or not (code.isascii() and code.isdigit()):
            raise YidiError(UNKNOWN_DIVISION, code=code)
        province = self._by_code.get(code[:2] + "0000")
        if province is None:
            raise YidiError(UNKNOWN_DIVISION, code=code)
        if province.code in MUNICIPALITIES:
            return province
        exact = self._by_code.get(code)
        if exact is not None and exact.level is DivisionLevel.DIRECT_COUNTY:
            return exact
        prefecture = self._by_code.get(code[:4] + "00")
        if prefecture is not None and prefecture.level is DivisionLevel.PREFECTURE:
            return prefecture
        raise YidiError(UNKNOWN_DIVISION, code=code)

    def classify(self, insured_region: str, treatment_region: str) -> CrossRegion:
        insured = self.pooling_region_of(insured_region)
        treatment = self.pooling_region_of(treatment_region)
        if insured.code == treatment.code:
            return CrossRegion.LOCAL
        if insured.province_code == treatment.province_code:
            return CrossRegion.IN_PROVINCE
        return CrossRegion.CROSS_PROVINCE


def parse_divisions(text: str) -> list[Division]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append(Division(row["code"], row["name"], DivisionLevel(row["level"]), row["parent"] or None))
    return rows


@lru_cache(maxsize=1)
def divisions() -> DivisionIndex:
    """The shipped GB/T 2260 table (provinces, prefectures, province-administered counties)."""
    text = resources.files("yidi.reference").joinpath("data/divisions.csv").read_text(encoding="utf-8")
    return DivisionIndex(parse_divisions(text))


def classify(insured_region: str, treatment_region: str) -> CrossRegion:
    """local / in-province cross-region / cross-province for two six-digit division codes."""
    return divisions().classify(insured_region, treatment_region)


@lru_cache(maxsize=1)
def _disease_departments() -> dict[str, tuple[str, ...]]:
    text = resources.files("yidi.reference").joinpath("data/disease_departments.csv").read_text(encoding="utf-8")
    return {r["national_group"]: tuple(r["caty_prefixes"].split(";")) for r in csv.DictReader(io.StringIO(text))}


def departments_for(national_group: str | None) -> tuple[str, ...]:
    """诊疗科目 code prefixes of a department able to treat a disease group (empty: no known mapping)."""
    return _disease_departments().get(national_group or "", ())


def has_department_for(caty_codes: list[str], national_group: str | None) -> bool:
    prefixes = departments_for(national_group)
    return any(c == p or c.startswith(p + ".") for c in caty_codes for p in prefixes)
