"""Filing rules and workflow, one test (or more) per rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from yidi.core.audit import AuditEvent
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import SYSTEM, Audience, Principal, Role
from yidi.demo.service import load_demo
from yidi.filing import interface, service
from yidi.filing.coverage import Coverage
from yidi.filing.rules import Basis, Channel, Status, Subtype
from yidi.parameters.policy import FilingCategory
from yidi.people.models import ChronicQualification

D = dt.date
LH = "41110000000000000001"  # 漯河 retiree, 高血压 + 糖尿病 qualified 2025–2027
LH_SUSPENDED = "41110000000000000012"
BJ_CANCER = "11000000000000000001"  # 北京 retiree, M00503 qualified 2025–2027
BJ_EMPLOYEE = "11000000000000000003"
SJZ = "13010000000000000001"  # 石家庄 employee
CC = "22010000000000000001"  # 长春 retiree (长春 refuses undertakings)
BJ_HOSP, BJ_ONCOLOGY, BJ_HAIDIAN, BJ_COMMUNITY = "H11010500001", "H11010200002", "H11010800003", "H11010100004"
TJ_HOSP = "H12010100001"
LF_HOSP = "H13100200001"  # 廊坊


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, 10, 0, tzinfo=SHANGHAI)  # type: ignore[misc]


def person(psn_no: str) -> Principal:
    return Principal(Audience.PERSON, psn_no)


REVIEWER_LH = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({"411100"}))
REVIEWER_BJ = Principal(Audience.STAFF, "reviewer.110000", frozenset({Role.REVIEWER}), frozenset({"110000"}))
HOSPITAL_BJ = Principal(Audience.INSTITUTION, BJ_HOSP)


@pytest.fixture
def demo(db: Database) -> Iterator[Database]:
    with db.unit_of_work() as s:
        load_demo(s, at(2025, 1, 1))
    yield db


def file(
    db: Database,
    psn_no: str,
    subtype: Subtype,
    target: str,
    begndate: dt.date,
    basis: Basis,
    now: dt.datetime,
    *,
    channel: Channel = Channel.NATIONAL_APP,
    principal: Principal | None = None,
    insutype: str = "310",
    disease: str | None = None,
    institutions: list[str] | None = None,
) -> service.Filing:
    with db.unit_of_work() as s:
        return service.submit(
            s,
            principal or person(psn_no),
            service.SubmitRequest(
                psn_no, insutype, subtype, target, begndate, basis, channel, disease, institutions or []
            ),
            now,
        )


def refused(code: str) -> pytest.RaisesContext[YidiError]:
    return pytest.raises(YidiError, match=code)


def covered(db: Database, psn_no: str, institution: str, med_type: str, day: dt.date, disease: str | None = None):  # type: ignore[no-untyped-def]
    with db.read_only() as s:
        return service.coverage_for(s, psn_no, institution, med_type, disease, day)


PDF = b"%PDF-1.4\n% demo proof\n"


# -- coverage by dates ----------------------------------------------------------------------------------


def test_filing_start_after_admission_is_not_covered(demo: Database) -> None:
    file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 10), Basis.COMMITMENT, at(2025, 6, 10))
    decision = covered(demo, LH, BJ_HOSP, "21", D(2025, 6, 9))
    assert decision.coverage is Coverage.NOT_FILED and not decision.covered
    assert "starts after admission" in decision.reasons[0]
    assert covered(demo, LH, BJ_HOSP, "21", D(2025, 6, 10)).covered


def test_admission_inside_validity_with_discharge_after_expiry_is_covered(demo: Database) -> None:
    f = file(demo, SJZ, Subtype.OTHER_TEMPORARY, "420100", D(2025, 1, 1), Basis.NONE, at(2025, 1, 1))
    assert f.status == Status.APPROVED and f.enddate == D(2025, 6, 30)  # six months
    # Admitted on the last day of validity; discharge weeks later does not matter: the admission date decides.
    last_day = covered(demo, SJZ, "H42010200001", "21", D(2025, 6, 30))
    assert last_day.covered and last_day.category is FilingCategory.OTHER_TEMPORARY
    assert not covered(demo, SJZ, "H42010200001", "21", D(2025, 7, 1)).covered


def test_temporary_filing_lasts_the_regions_validity(demo: Database) -> None:
    f = file(demo, LH, Subtype.OTHER_TEMPORARY, "460200", D(2025, 8, 31), Basis.NONE, at(2025, 8, 31))
    assert f.enddate == D(2026, 2, 27)  # 6 months from 2025-08-31: through 2026-02-27 (Feb has no 31st)


# -- change, lock, one area -------------------------------------------------------------------------------


def test_change_before_the_minimum_period_is_refused_with_a_clear_message(demo: Database) -> None:
    f = file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    with demo.unit_of_work() as s, refused("F_LOCK") as err:
        service.change(s, person(LH), f.id, "120000", None, D(2025, 9, 1), "moving", Channel.WEB_PORTAL, at(2025, 9, 1))
    assert "2025-12-01" in err.value.message_en and "6 months" in err.value.message_en
    assert "2025-12-01" in err.value.message_zh
    with demo.unit_of_work() as s, refused("F_LOCK"):
        service.cancel(s, person(LH), f.id, "back home", at(2025, 11, 30))


def test_approved_change_voids_the_old_filing(demo: Database) -> None:
    old = file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    with demo.unit_of_work() as s:
        new = service.change(
            s, person(LH), old.id, "120000", None, D(2025, 12, 2), "moved", Channel.NATIONAL_APP, at(2025, 12, 2)
        )
    assert new.status == Status.APPROVED  # online undertaking, auto-approved in 漯河
    with demo.read_only() as s:
        assert service.load(s, old.id).status == Status.CHANGED and service.load(s, old.id).void_from == D(2025, 12, 2)
    assert not covered(demo, LH, BJ_HOSP, "21", D(2025, 12, 3)).covered
    assert covered(demo, LH, BJ_HOSP, "21", D(2025, 12, 1)).covered  # before the change
    assert covered(demo, LH, TJ_HOSP, "21", D(2025, 12, 3)).covered


def test_one_filed_area_at_a_time(demo: Database) -> None:
    file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    with refused("F_ONE_AREA"):
        file(demo, LH, Subtype.OTHER_TEMPORARY, "530100", D(2025, 7, 1), Basis.NONE, at(2025, 7, 1))


def test_target_in_own_pooling_region_is_refused(demo: Database) -> None:
    with refused("F_LOCAL_TARGET"):
        file(demo, LH, Subtype.OTHER_TEMPORARY, "411122", D(2025, 7, 1), Basis.NONE, at(2025, 7, 1))
    with refused("F_TARGET"):
        file(demo, LH, Subtype.OTHER_TEMPORARY, "999999", D(2025, 7, 1), Basis.NONE, at(2025, 7, 1))


def test_suspended_insurance_cannot_file(demo: Database) -> None:
    with refused("F_INSURANCE"):
        file(
            demo,
            LH_SUSPENDED,
            Subtype.OTHER_TEMPORARY,
            "110000",
            D(2025, 7, 1),
            Basis.NONE,
            at(2025, 7, 1),
            insutype="390",
        )


# -- basis: materials and commitment -----------------------------------------------------------------------


def test_commitment_refused_where_the_region_does_not_accept_it(demo: Database) -> None:
    with refused("F_COMMITMENT"):
        file(demo, CC, Subtype.RESETTLED_RETIREE, "460200", D(2025, 7, 1), Basis.COMMITMENT, at(2025, 7, 1))


def test_referral_needs_materials(demo: Database) -> None:
    with refused("F_BASIS"):
        file(demo, LH, Subtype.REFERRAL, "110000", D(2025, 7, 1), Basis.NONE, at(2025, 7, 1))


def test_online_commitment_filing_is_approved_automatically(demo: Database) -> None:
    f = file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    assert f.status == Status.APPROVED and f.proof_deadline == D(2025, 11, 28)
    decision = covered(demo, LH, BJ_HOSP, "21", D(2025, 7, 1))
    assert decision.covered and decision.materials_outstanding and decision.category is FilingCategory.LONG_TERM


def test_commitment_overdue_lowers_the_ratio_where_the_region_says_so(demo: Database) -> None:
    file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    late = covered(demo, LH, BJ_HOSP, "21", D(2025, 12, 1))
    assert late.covered and late.category is FilingCategory.COMMITMENT_PENDING
    assert "overdue" in late.reasons[-1]


def test_commitment_overdue_cancels_where_the_region_says_so(demo: Database) -> None:
    # 北京 (consequence: cancel) does not auto-approve online undertakings: a reviewer approves it.
    f = file(demo, BJ_EMPLOYEE, Subtype.POSTED_WORKER, "310000", D(2025, 3, 3), Basis.COMMITMENT, at(2025, 3, 3))
    assert f.status == Status.UNDER_REVIEW
    with demo.unit_of_work() as s:
        service.decide_review(s, REVIEWER_BJ, f.id, "approve", None, at(2025, 3, 4))
    with demo.unit_of_work() as s:
        counts = service.expire(s, SYSTEM, D(2025, 9, 1), at(2025, 9, 1))  # deadline 2025-08-30 passed
    assert counts == {"expired": 0, "cancelled": 1}
    with demo.read_only() as s:
        assert service.load(s, f.id).status == Status.CANCELLED


def test_materials_filing_waits_for_upload_then_enters_the_queue(demo: Database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    from yidi.core.config import reset_settings

    reset_settings()
    f = file(demo, LH, Subtype.LONG_TERM_RESIDENT, "110000", D(2025, 6, 3), Basis.MATERIALS, at(2025, 6, 3))
    assert f.status == Status.SUBMITTED and f.due_date is None
    with demo.unit_of_work() as s:
        m = service.add_material(s, person(LH), f.id, "residence_proof", "居住证.pdf", PDF, at(2025, 6, 3))
        assert m.content_type == "application/pdf" and m.size == len(PDF)
    assert (tmp_path / "materials" / m.sha256[:2] / m.sha256).read_bytes() == PDF
    with demo.read_only() as s:
        queued = service.load(s, f.id)
        assert queued.status == Status.UNDER_REVIEW and queued.due_date == D(2025, 6, 6)
    with demo.unit_of_work() as s, refused("F_UPLOAD"):
        service.add_material(s, person(LH), f.id, "residence_proof", "x.exe", b"MZ\x90\x00", at(2025, 6, 3))
    reset_settings()


def test_reviewer_rejects_with_a_reason_or_asks_for_materials(demo: Database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    from yidi.core.config import reset_settings

    reset_settings()
    f = file(demo, LH, Subtype.REFERRAL, "110000", D(2025, 6, 3), Basis.MATERIALS, at(2025, 6, 3))
    with demo.unit_of_work() as s:
        service.add_material(s, person(LH), f.id, "referral_proof", "转诊单.pdf", PDF, at(2025, 6, 3))
    with demo.unit_of_work() as s:
        asked = service.decide_review(s, REVIEWER_LH, f.id, "request_materials", "转诊单缺少盖章", at(2025, 6, 4))
        assert asked.materials_requested and asked.due_date is None
    with demo.unit_of_work() as s:
        service.add_material(s, person(LH), f.id, "referral_proof", "转诊单2.pdf", PDF + b"2", at(2025, 6, 5))
    with demo.unit_of_work() as s, refused("F_DATES"):
        service.decide_review(s, REVIEWER_LH, f.id, "reject", None, at(2025, 6, 6))
    with demo.unit_of_work() as s, refused("E_FORBIDDEN"):
        service.decide_review(s, REVIEWER_BJ, f.id, "approve", None, at(2025, 6, 6))
    with demo.unit_of_work() as s:
        done = service.decide_review(s, REVIEWER_LH, f.id, "reject", "转诊机构不在名单内", at(2025, 6, 6))
        assert done.status == Status.REJECTED and done.reject_reason == "转诊机构不在名单内"
    reset_settings()


# -- review due dates over holidays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (at(2025, 9, 30), D(2025, 10, 11)),  # the working day before National Day: 10/9, 10/10, Saturday 10/11
        (at(2026, 9, 30), D(2026, 10, 10)),  # 2026: 10/8, 10/9 and the make-up Saturday 10/10
        (at(2026, 2, 13), D(2026, 2, 25)),  # before Spring Festival 2026: Saturday 2/14, then 2/24, 2/25
    ],
)
def test_review_due_date_counts_working_days_over_holidays(
    demo: Database, submitted: dt.datetime, due: dt.date
) -> None:
    # 北京 reviews undertakings by hand within 3 working days (seed 001).
    f = file(demo, BJ_EMPLOYEE, Subtype.POSTED_WORKER, "310000", submitted.date(), Basis.COMMITMENT, submitted)
    assert f.status == Status.UNDER_REVIEW and f.due_date == due


# -- retroactive, emergency, zones ----------------------------------------------------------------------


def test_retroactive_filing_only_from_the_regions_start_date(demo: Database) -> None:
    with refused("F_RETROACTIVE"):
        file(demo, LH, Subtype.OTHER_TEMPORARY, "110000", D(2025, 4, 20), Basis.NONE, at(2025, 5, 20))
    f = file(demo, LH, Subtype.OTHER_TEMPORARY, "110000", D(2025, 5, 1), Basis.NONE, at(2025, 5, 20))
    assert f.retroactive and covered(demo, LH, BJ_HOSP, "21", D(2025, 5, 2)).covered


def test_emergency_recorded_by_the_hospital_is_deemed_filed(demo: Database) -> None:
    with demo.unit_of_work() as s:
        out = interface.tx_2505(
            s,
            HOSPITAL_BJ,
            {"psn_no": LH, "biz_appy_type": "07", "insutype": "310", "begndate": "2025-07-01"},
            at(2025, 7, 2),
        )
    assert out["status"] == Status.APPROVED
    decision = covered(demo, LH, BJ_HOSP, "21", D(2025, 7, 1))
    assert decision.coverage is Coverage.DEEMED_FILED and decision.category is FilingCategory.EMERGENCY


@pytest.mark.parametrize(
    ("day", "coverage"), [(D(2023, 3, 31), Coverage.NOT_FILED), (D(2023, 4, 1), Coverage.ZONE_EXEMPT)]
)
def test_beijing_person_treated_in_tianjin_before_and_from_jingjinji(
    demo: Database, day: dt.date, coverage: Coverage
) -> None:
    decision = covered(demo, BJ_EMPLOYEE, TJ_HOSP, "21", day)
    assert decision.coverage is coverage and decision.covered is (coverage is Coverage.ZONE_EXEMPT)


def test_chronic_visit_in_jingjinji_without_registration_is_not_covered(demo: Database) -> None:
    # 廊坊 diabetic retiree (qualified) at a 北京 hospital opened for diabetes, no filing: the zone does not apply.
    decision = covered(demo, "13100000000000000003", BJ_HOSP, "14", D(2025, 6, 1), "M01600")
    assert decision.coverage is Coverage.NOT_FILED and not decision.covered
    assert covered(demo, "13100000000000000003", BJ_HOSP, "21", D(2025, 6, 1)).coverage is Coverage.ZONE_EXEMPT


def test_in_province_exemption_by_care_type(demo: Database) -> None:
    assert covered(demo, SJZ, LF_HOSP, "11", D(2025, 6, 1)).coverage is Coverage.ZONE_EXEMPT  # 河北 outpatient
    assert covered(demo, SJZ, "H13100300002", "11", D(2022, 6, 1)).coverage is Coverage.ZONE_EXEMPT
    assert covered(demo, LH, "H41110200001", "21", D(2025, 6, 1)).coverage is Coverage.LOCAL


def test_chronic_disease_needs_qualification_list_and_opened_institution(demo: Database) -> None:
    file(demo, LH, Subtype.RESETTLED_RETIREE, "110000", D(2025, 6, 1), Basis.COMMITMENT, at(2025, 6, 1))
    assert covered(demo, LH, BJ_HOSP, "14", D(2025, 6, 2), "M03900").covered
    no_qual = covered(demo, LH, BJ_HOSP, "14", D(2025, 6, 2), "M07803")
    assert not no_qual.covered and "qualification" in no_qual.reasons[0]
    not_opened = covered(demo, LH, "H11010500006", "14", D(2025, 6, 2), "M03900")
    assert not not_opened.covered and "claim at home" in not_opened.reasons[0]
    with demo.unit_of_work() as s:  # a qualification for a disease 漯河 does not settle across provinces
        s.add(
            ChronicQualification(
                psn_no=LH,
                insutype="310",
                opsp_dise_code="M02300",
                begndate=D(2025, 1, 1),
                enddate=D(2027, 1, 1),
                status="active",
            )
        )
    off_list = covered(demo, LH, BJ_HOSP, "14", D(2025, 6, 2), "M02300")
    assert not off_list.covered and "not settled across provinces" in off_list.reasons[0]


# -- designated institutions (北京 门特) ------------------------------------------------------------------


def test_a_third_designated_institution_in_beijing_is_refused(demo: Database) -> None:
    # A 北京 cancer patient filing designated institutions in 三亚 (the seed's example).
    with refused("F_INSTITUTION_COUNT") as err:
        file(
            demo,
            BJ_CANCER,
            Subtype.DESIGNATED_CHRONIC,
            "460200",
            D(2025, 6, 1),
            Basis.MATERIALS,
            at(2025, 6, 1),
            disease="M00503",
            institutions=["H46020200001", "H46020300002", "H46020300003"],
        )
    assert "1 to 2" in err.value.message_en


def test_an_institution_not_connected_for_the_disease_is_refused(demo: Database) -> None:
    with refused("F_INSTITUTION") as err:
        file(
            demo,
            LH,
            Subtype.DESIGNATED_CHRONIC,
            "110000",
            D(2025, 6, 1),
            Basis.MATERIALS,
            at(2025, 6, 1),
            disease="M03900",
            institutions=["H11010500006"],
        )
    assert "not connected" in err.value.message_en


def test_an_institution_without_the_department_is_refused(demo: Database) -> None:
    with refused("F_INSTITUTION") as err:
        file(
            demo,
            BJ_CANCER,
            Subtype.DESIGNATED_CHRONIC,
            "460200",
            D(2025, 6, 1),
            Basis.MATERIALS,
            at(2025, 6, 1),
            disease="M00503",
            institutions=["H46020300003"],
        )
    assert "no department" in err.value.message_en


def test_designated_filing_follows_the_qualification_and_limits_chronic_care(
    demo: Database, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    from yidi.core.config import reset_settings

    reset_settings()
    f = file(
        demo,
        BJ_CANCER,
        Subtype.DESIGNATED_CHRONIC,
        "460200",
        D(2025, 6, 1),
        Basis.MATERIALS,
        at(2025, 6, 1),
        disease="M00503",
        institutions=["H46020200001", "H46020300002"],
    )
    assert f.enddate == D(2027, 12, 31)  # the qualification's end
    with demo.unit_of_work() as s:
        service.add_material(s, person(BJ_CANCER), f.id, "diagnosis", "诊断证明.pdf", PDF, at(2025, 6, 1))
    with demo.unit_of_work() as s:
        service.decide_review(s, REVIEWER_BJ, f.id, "approve", None, at(2025, 6, 3))
    assert covered(demo, BJ_CANCER, "H46020300002", "14", D(2025, 7, 1), "M00503").covered
    elsewhere = covered(demo, BJ_CANCER, "H42010200001", "14", D(2025, 7, 1), "M00503")  # 武汉, not designated
    assert not elsewhere.covered
    with demo.read_only() as s:
        rows = interface.tx_5302(s, {"psn_no": BJ_CANCER})["psnfixmedin"]
    assert [(r["fix_srt_no"], r["fixmedins_code"]) for r in rows] == [("1", "H46020200001"), ("2", "H46020300002")]
    with demo.unit_of_work() as s, refused("F_QUALIFICATION"):  # renewal needs the qualification renewed first
        service.renew(s, person(BJ_CANCER), f.id, Channel.WEB_PORTAL, at(2027, 11, 1))
    reset_settings()


# -- interface transactions and the audit trail ---------------------------------------------------------


def test_referral_filing_by_hospital_2501_2502_5304(demo: Database) -> None:
    referring = Principal(Audience.INSTITUTION, "H41110200001")
    with demo.unit_of_work() as s:
        out = interface.tx_2501(
            s,
            referring,
            {
                "psn_no": LH,
                "insutype": "310",
                "mdtrtarea_admdvs": "110000",
                "begndate": "2025-08-01",
                "refl_rea": "病情需要",
            },
            at(2025, 8, 1),
        )
    assert out["status"] == Status.SUBMITTED  # waits for the referral proof
    with demo.read_only() as s:
        rows = interface.tx_5304(s, {"psn_no": LH, "begntime": "2025-01-01", "endtime": "2025-12-31"})["refmedin"]
    assert [r["trt_dcla_detl_sn"] for r in rows] == [out["trt_dcla_detl_sn"]]
    other = Principal(Audience.INSTITUTION, "H41110300002")
    with demo.unit_of_work() as s, refused("E_NOT_FOUND"):  # another institution cannot revoke it
        interface.tx_2502(s, other, {"trt_dcla_detl_sn": out["trt_dcla_detl_sn"], "psn_no": LH}, at(2025, 8, 2))
    with demo.unit_of_work() as s:
        interface.tx_2502(s, referring, {"trt_dcla_detl_sn": out["trt_dcla_detl_sn"], "psn_no": LH}, at(2025, 8, 2))
    with demo.read_only() as s:
        assert service.load(s, out["trt_dcla_detl_sn"]).status == Status.CANCELLED


def test_chronic_registration_2503_5301_2504(demo: Database) -> None:
    with demo.unit_of_work() as s:
        out = interface.tx_2503(
            s,
            HOSPITAL_BJ,
            {
                "psn_no": BJ_EMPLOYEE,
                "insutype": "310",
                "opsp_dise_code": "M03900",
                "begndate": "2025-01-01",
                "enddate": "2026-12-31",
            },
            at(2025, 1, 2),
        )
    with demo.read_only() as s:
        assert [r["opsp_dise_code"] for r in interface.tx_5301(s, {"psn_no": BJ_EMPLOYEE})["feedetail"]] == ["M03900"]
    with demo.unit_of_work() as s:
        interface.tx_2504(
            s, HOSPITAL_BJ, {"trt_dcla_detl_sn": out["trt_dcla_detl_sn"], "psn_no": BJ_EMPLOYEE}, at(2025, 1, 3)
        )
    with demo.read_only() as s:
        assert interface.tx_5301(s, {"psn_no": BJ_EMPLOYEE})["feedetail"][0]["vali_flag"] == "0"


def test_every_state_change_is_audited_with_before_and_after(demo: Database) -> None:
    f = file(demo, BJ_EMPLOYEE, Subtype.POSTED_WORKER, "310000", D(2025, 3, 3), Basis.COMMITMENT, at(2025, 3, 3))
    with demo.unit_of_work() as s:
        service.decide_review(s, REVIEWER_BJ, f.id, "approve", None, at(2025, 3, 4))
    with demo.read_only() as s:
        rows = s.execute(
            select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.channel, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.entity_id == f.id)
            .order_by(AuditEvent.id)
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("filing.submit", BJ_EMPLOYEE, "national_app"),
        ("filing.approve", "reviewer.110000", "review"),
    ]
    assert rows[1][3]["status"] == "under_review" and rows[1][4]["status"] == "approved"


def test_maternity_filing_only_where_the_region_enables_it(demo: Database) -> None:
    with refused("F_MATERNITY"):
        file(demo, LH, Subtype.MATERNITY, "110000", D(2025, 6, 1), Basis.MATERIALS, at(2025, 6, 1))
    f = file(demo, "22010000000000000002", Subtype.MATERNITY, "110000", D(2025, 6, 1), Basis.MATERIALS, at(2025, 6, 1))
    assert f.status == Status.SUBMITTED  # 吉林: 母子健康手册 to upload (seed 002)


def test_renewal_before_expiry_supersedes_the_old_filing(demo: Database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    from yidi.core.config import reset_settings

    reset_settings()
    f = file(
        demo,
        BJ_CANCER,
        Subtype.DESIGNATED_CHRONIC,
        "460200",
        D(2025, 6, 1),
        Basis.MATERIALS,
        at(2025, 6, 1),
        disease="M00503",
        institutions=["H46020200001"],
    )
    with demo.unit_of_work() as s:
        service.add_material(s, person(BJ_CANCER), f.id, "diagnosis", "诊断证明.pdf", PDF, at(2025, 6, 1))
        service.decide_review(s, REVIEWER_BJ, f.id, "approve", None, at(2025, 6, 3))
        s.add(
            ChronicQualification(
                psn_no=BJ_CANCER,
                insutype="310",
                opsp_dise_code="M00503",
                begndate=D(2028, 1, 1),
                enddate=D(2030, 12, 31),
                status="active",
            )
        )
    with demo.unit_of_work() as s:
        renewal = service.renew(s, person(BJ_CANCER), f.id, Channel.WEB_PORTAL, at(2026, 6, 1))
        assert (renewal.begndate, renewal.enddate) == (D(2028, 1, 1), D(2030, 12, 31))
        service.add_material(s, person(BJ_CANCER), renewal.id, "diagnosis", "复查.pdf", PDF + b"r", at(2026, 6, 1))
        service.decide_review(s, REVIEWER_BJ, renewal.id, "approve", None, at(2026, 6, 2))
    with demo.read_only() as s:
        old = service.load(s, f.id)
        assert old.status == Status.SUPERSEDED and old.void_from == D(2028, 1, 1)
    assert covered(demo, BJ_CANCER, "H46020200001", "14", D(2027, 12, 31), "M00503").covered
    assert covered(demo, BJ_CANCER, "H46020200001", "14", D(2028, 1, 2), "M00503").covered
    reset_settings()
