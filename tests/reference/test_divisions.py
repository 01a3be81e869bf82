import pytest

from yidi.core.errors import YidiError
from yidi.reference.rules import CrossRegion, DivisionLevel, classify, divisions

DEMO_REGIONS = {
    "411100": "漯河市",
    "110000": "北京市",
    "220100": "长春市",
    "530100": "昆明市",
    "120000": "天津市",
    "130100": "石家庄市",
    "131000": "廊坊市",
    "460200": "三亚市",
    "420100": "武汉市",
    "450600": "防城港市",
}


def test_all_provinces_and_prefectures() -> None:
    idx = divisions()
    provinces = [d for d in idx if d.level is DivisionLevel.PROVINCE]
    prefectures = [d for d in idx if d.level is DivisionLevel.PREFECTURE]
    assert len(provinces) == 31
    assert len(prefectures) == 333  # 293 cities, 7 地区, 30 自治州, 3 盟 (end of 2022)
    for d in idx:
        assert len(d.code) == 6 and d.code.isdigit()
        if d.parent:
            assert idx.require(d.parent).level is DivisionLevel.PROVINCE
            assert d.parent[:2] == d.code[:2]


def test_demo_regions_are_pooling_regions() -> None:
    for code, name in DEMO_REGIONS.items():
        d = divisions().require(code)
        assert d.name == name
        assert d.is_pooling_region


def test_municipalities_pool_at_provincial_level_others_do_not() -> None:
    idx = divisions()
    for code in ("110000", "120000", "310000", "500000"):
        assert idx.require(code).is_pooling_region
    assert not idx.require("410000").is_pooling_region
    assert idx.pooling_region_of("110105").code == "110000"
    assert idx.pooling_region_of("500101").code == "500000"
    assert idx.pooling_region_of("411102").code == "411100"
    assert idx.pooling_region_of("419001").code == "419001"  # 济源: province-administered, own pool
    assert idx.pooling_region_of("411199").code == "411100"  # city-pool code xxxx99


@pytest.mark.parametrize(
    ("insured", "treatment", "expected"),
    [
        ("411100", "110000", CrossRegion.CROSS_PROVINCE),
        ("130100", "131000", CrossRegion.IN_PROVINCE),
        ("411100", "411100", CrossRegion.LOCAL),
        ("411102", "411122", CrossRegion.LOCAL),  # two counties of one pool
        ("110105", "110108", CrossRegion.LOCAL),  # municipality: one pool
        ("110000", "120000", CrossRegion.CROSS_PROVINCE),  # 京津冀 is still cross-province
        ("419001", "411100", CrossRegion.IN_PROVINCE),
        ("131000", "110000", CrossRegion.CROSS_PROVINCE),
    ],
)
def test_classify(insured: str, treatment: str, expected: CrossRegion) -> None:
    assert classify(insured, treatment) is expected


@pytest.mark.parametrize("code", ["999999", "41110", "abcdef", "410000x", "419900"])
def test_unknown_codes_are_refused(code: str) -> None:
    with pytest.raises(YidiError) as err:
        classify(code, "110000")
    assert err.value.code == "E_DIVISION"
