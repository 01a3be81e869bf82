"""The demo data file: realistic, complete and obviously synthetic."""

from collections import Counter

from yidi.core.certno import gender, validate_certno
from yidi.core.db import Database
from yidi.demo.service import read_demo_file
from yidi.reference.rules import divisions

DEMO_REGIONS = {"411100", "110000", "220100", "530100", "120000", "130100", "131000", "460200", "420100", "450600"}


def test_institutions_cover_every_demo_region_and_kind() -> None:
    demo = read_demo_file()
    assert 28 <= len(demo.institutions) <= 35
    assert {i.pooling_region for i in demo.institutions} == DEMO_REGIONS
    codes = [i.fixmedins_code for i in demo.institutions]
    assert len(set(codes)) == len(codes)
    for i in demo.institutions:
        assert "演示" in i.fixmedins_name
        assert divisions().pooling_region_of(i.admdvs).code == i.pooling_region
        assert i.fixmedins_code[1:7] == i.admdvs
    assert any(i.psychiatric_specialist for i in demo.institutions)
    assert any(i.fixmedins_type == "2" for i in demo.institutions)  # pharmacies
    assert any(not i.networked for i in demo.institutions)
    levels = Counter(i.settlement_level.value for i in demo.institutions)
    assert {"level_1", "level_2", "level_3", "unrated"} <= set(levels)
    chronic = {s.opsp_dise_code for i in demo.institutions for s in i.services if s.opsp_dise_code}
    assert {"M03900", "M01600", "M00503", "M07803"} <= chronic


def test_persons_are_synthetic_with_valid_id_numbers() -> None:
    demo = read_demo_file()
    assert len(demo.persons) == 40
    for p in demo.persons:
        assert validate_certno(p.certno) == p.certno
        assert 900 <= int(p.certno[14:17]) <= 999  # the synthetic sequence range
        assert p.gend == gender(p.certno)
        assert "某" in p.psn_name
        for ins in p.insurances:
            assert ins.insuplc_admdvs in DEMO_REGIONS
            assert p.psn_no.startswith(ins.insuplc_admdvs)
    insutypes = Counter(ins.insutype for p in demo.persons for ins in p.insurances)
    assert insutypes["310"] >= 15 and insutypes["390"] >= 12
    assert sum(ins.retiree for p in demo.persons for ins in p.insurances) >= 10
    assert sum(bool(p.qualifications) for p in demo.persons) >= 15
    assert len({p.certno for p in demo.persons}) == 40


def test_a_demo_database_from_before_the_national_credentials_gets_them_and_production_sees_them(
    db: Database,
) -> None:
    import datetime as dt

    from sqlalchemy import delete, func, select

    from yidi.bootstrap import demo_data_problems
    from yidi.core.clock import SHANGHAI
    from yidi.demo.service import demo_paasid, load_demo
    from yidi.security.models import InstitutionCredential

    now = dt.datetime(2021, 1, 1, tzinfo=SHANGHAI)
    with db.unit_of_work() as s:
        load_demo(s, now)
        s.execute(delete(InstitutionCredential).where(InstitutionCredential.key_id.like("%-tif")))
    with db.unit_of_work() as s:
        load_demo(s, now)  # nothing else is new: only the missing national credentials are added
    with db.read_only() as s:
        tif = s.scalar(select(func.count()).select_from(InstitutionCredential).where(
            InstitutionCredential.key_id.like("%-tif")))  # fmt: skip
        assert tif == len(read_demo_file().institutions) and s.get(InstitutionCredential, demo_paasid("H11010500001"))
    with db.unit_of_work() as s:  # only the national demo keys left: production must still refuse them
        s.execute(delete(InstitutionCredential).where(~InstitutionCredential.key_id.like("%-tif")))
    problems = demo_data_problems(db)
    assert problems and f"{tif} " in problems[0]
