"""The scenario loader: the example loads, refusals undo everything and name the entry, skip makes reloads no-ops."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import yidi.scenario
from yidi.catalog.service import item_at
from yidi.core.audit import AuditEvent
from yidi.core.certno import mask_certno
from yidi.core.clock import SHANGHAI
from yidi.core.config import reset_settings
from yidi.core.db import Database, set_database
from yidi.core.principal import Audience, Principal, Role
from yidi.filing.models import Filing
from yidi.filing.service import coverage_for, person_filings
from yidi.models import Base
from yidi.people.models import Person
from yidi.people.service import find_by_certno
from yidi.reference.models import Institution
from yidi.scenario import ScenarioError, load_scenario, parse_scenario, register_cli
from yidi.scenario.schema import Scenario
from yidi.security.crypto import verify_password
from yidi.security.models import InstitutionCredential, PersonAccount, StaffUser

NOW = dt.datetime(2025, 6, 1, 8, 0, tzinfo=SHANGHAI)
HERE = Path(yidi.scenario.__file__).parent
EXAMPLE = HERE / "example.yaml"
DOCS = Path(__file__).parents[2] / "docs" / "scenario.md"
KEEP = {"division", "chronic_disease", "alembic_version"}

# Three 三亚 hospitals connected for M00503 and a 北京 cancer patient: enough for the designated-institution rule.
BASE = """
name: third designated institution
institutions:
  - {fixmedins_code: H46020290011, fixmedins_name: 三亚测试医院甲, fixmedins_type: '1', pooling_region: '460200',
     admdvs: '460202', settlement_level: level_3, departments: [{dept_code: D10, dept_name: 肿瘤科, caty: A19}],
     services: [{service: chronic, opsp_dise_code: M00503, begndate: 2024-01-01}]}
  - {fixmedins_code: H46020290012, fixmedins_name: 三亚测试医院乙, fixmedins_type: '1', pooling_region: '460200',
     admdvs: '460202', settlement_level: level_3, departments: [{dept_code: D10, dept_name: 肿瘤科, caty: A19}],
     services: [{service: chronic, opsp_dise_code: M00503, begndate: 2024-01-01}]}
  - {fixmedins_code: H46020390013, fixmedins_name: 三亚测试医院丙, fixmedins_type: '1', pooling_region: '460200',
     admdvs: '460203', settlement_level: level_2, departments: [{dept_code: D10, dept_name: 肿瘤科, caty: A19}],
     services: [{service: chronic, opsp_dise_code: M00503, begndate: 2024-01-01}]}
persons:
  - psn_no: '11000000000000000901'
    psn_name: 韩某壬
    certno: '110105195303129510'
    insurances: [{insutype: '310', insuplc_admdvs: '110000', psn_type: '1201', retiree: true, begndate: 2015-01-01}]
    qualifications: [{insutype: '310', opsp_dise_code: M00503, begndate: 2025-01-01, enddate: 2027-12-31}]
  - psn_no: '11000000000000000902'
    psn_name: 秦某癸
    certno: '11010819800715962X'
    insurances: [{insutype: '310', insuplc_admdvs: '110000', psn_type: '1101', begndate: 2018-03-01}]
accounts:
  person_password: Scenario-Person-2026
  staff: [{username: reviewer.test, display_name: 审核, roles: [reviewer], regions: ['110000'],
           password: Scenario-Staff-2026}]
filings:
  - {psn_no: '11000000000000000902', insutype: '310', subtype: other_temporary, target_region: '460200',
     begndate: 2025-07-01, basis: none, channel: mini_program, submitted_at: 2025-06-20T10:00:00+08:00}
"""
THIRD_INSTITUTION = """
  - psn_no: '11000000000000000901'
    insutype: '310'
    subtype: designated_chronic
    target_region: '460200'
    begndate: 2025-06-02
    basis: materials
    channel: counter
    opsp_dise_code: M00503
    institutions: [H46020290011, H46020290012, H46020390013]
    submitted_at: 2025-06-02T09:30:00+08:00
"""


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Uploaded materials go to a temporary data directory."""
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    yield tmp_path / "data"
    reset_settings()


def row_counts(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name not in KEEP
        }


def load(db: Database, text_or_path: str | Path, **kwargs: object) -> yidi.scenario.ScenarioReport:
    with db.unit_of_work() as s:
        return load_scenario(s, text_or_path, NOW, base_dir=HERE, **kwargs)  # type: ignore[arg-type]


def refused(db: Database, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        load(db, text)
    return err.value


# -- the example --------------------------------------------------------------------------------------------


def test_the_example_loads_completely(db: Database, data_dir: Path) -> None:
    report = load(db, EXAMPLE)
    assert report.counts() == {
        "institutions_added": 4,
        "institutions_skipped": 0,
        "persons_added": 4,
        "persons_skipped": 0,
        "person_passwords_set": 4,
        "staff_added": 2,
        "staff_skipped": 0,
        "credentials_added": 2,
        "credentials_skipped": 0,
        "catalogues_imported": 1,
        "catalogues_skipped": 0,
        "catalogue_items_added": 5,
        "filings_added": 4,
        "filings_skipped": 0,
        "claims_added": 1,
        "claims_skipped": 0,
    }
    assert [(f.entry, f.subtype, f.status) for f in report.filings] == [
        ("filings[0]", "designated_chronic", "approved"),
        ("filings[1]", "resettled_retiree", "approved"),
        ("filings[2]", "referral", "rejected"),
        ("filings[3]", "other_temporary", "approved"),
    ]
    assert any(data_dir.glob("materials/*/*"))  # the diagnosis was stored through add_material
    with db.read_only() as s:
        _check_example_rows(s)


def _check_example_rows(s: Session) -> None:
    person = s.get(Person, "11000000000000000901")
    assert person is not None and person.certno_masked == mask_certno("110105195303129510")
    assert "110105195303129510" not in person.certno_enc  # stored encrypted, found by its keyed index
    assert find_by_certno(s, "110105195303129510") is person
    assert person.gend == "1" and person.brdy == dt.date(1953, 3, 12)
    account = s.get(PersonAccount, "11000000000000000902")
    assert account is not None and verify_password(account.password_hash, "Own-Password-2026")
    default = s.get(PersonAccount, "41110000000000000901")
    assert default is not None and verify_password(default.password_hash, "Scenario-Person-2026")
    reviewer = s.get(StaffUser, "reviewer.scenario.110000")
    assert reviewer is not None and reviewer.roles == ["reviewer"] and reviewer.regions == ["110000"]
    credential = s.get(InstitutionCredential, "H46020390002-sm3")
    assert credential is not None and credential.scheme == "HMAC-SM3"
    item = item_at(s, "460200", "XL01XCS900A000000901000", dt.date(2025, 7, 1))
    assert item is not None and item.pric_uplmt_amt == Decimal("1980.00")

    designated = person_filings(s, "11000000000000000901")[0]
    assert designated.decided_by == "reviewer.scenario.110000" and designated.submitted_by == designated.decided_by
    assert designated.enddate == dt.date(2027, 12, 31)  # follows the qualification
    assert [i.fixmedins_code for i in designated.institutions] == ["H46020290001", "H46020390002"]
    assert coverage_for(s, "11000000000000000901", "H46020390002", "14", "M00503", dt.date(2025, 7, 1)).covered
    referral = person_filings(s, "41110000000000000902")[0]
    assert referral.reject_reason is not None and "公章" in referral.reject_reason
    temporary = person_filings(s, "11000000000000000902")[0]
    assert temporary.target_region == "460200"  # the county stood for its pooling region
    events = s.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.load")).all()
    assert len(events) == 1 and events[0].after is not None and events[0].after["filings_added"] == 4


def test_the_example_and_the_documentation_agree() -> None:
    scenario = parse_scenario(EXAMPLE.read_text(encoding="utf-8"))
    assert scenario.on_conflict.value == "error" and len(scenario.filings) == 4
    docs = DOCS.read_text(encoding="utf-8")
    seen: set[type[BaseModel]] = set()

    def fields_of(model: type[BaseModel]) -> Iterator[str]:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            yield name
            for arg in re.findall(r"\w+", str(info.annotation)):
                nested = getattr(yidi.scenario.schema, arg, None) or _people_or_reference(arg)
                if isinstance(nested, type) and issubclass(nested, BaseModel):
                    yield from fields_of(nested)

    missing = sorted({f for f in fields_of(Scenario) if f"`{f}`" not in docs})
    assert not missing, f"fields not documented in docs/scenario.md: {missing}"


def _people_or_reference(name: str) -> object:
    from yidi.people import schemas as people
    from yidi.reference import schemas as reference

    return getattr(people, name, None) or getattr(reference, name, None)


# -- refusals: nothing written, the entry named -------------------------------------------------------------


def test_a_filing_the_rules_refuse_fails_the_whole_load(db: Database) -> None:
    before = row_counts(db)
    err = refused(db, BASE + THIRD_INSTITUTION)
    assert err.code == "F_INSTITUTION_COUNT"  # the rule's own code (北京: designated_chronic_institutions_max 2)
    assert err.entry == "filings[1]"
    assert "filings[1]" in err.message_en and "1 to 2" in err.message_en and "nothing was written" in err.message_en
    assert "filings[1]" in err.message_zh and "1至2家" in err.message_zh
    assert row_counts(db) == before  # not the institutions, persons, staff or the first filing either


def test_a_refused_load_undoes_only_its_own_rows_in_the_callers_transaction(db: Database) -> None:
    with db.unit_of_work() as s:
        load_scenario(s, "institutions: []\nname: empty\n", NOW)  # nothing to do, nothing written
        with pytest.raises(ScenarioError):
            load_scenario(s, BASE + THIRD_INSTITUTION, NOW)
        own = Institution(  # the caller's own work goes on and commits
            fixmedins_code="H46020290099",
            fixmedins_name="调用方自己的机构",
            fixmedins_type="1",
            pooling_region="460200",
            admdvs="460202",
            settlement_level="level_3",
        )
        s.add(own)
    with db.read_only() as s:
        assert s.scalars(select(Institution.fixmedins_code)).all() == ["H46020290099"]
        assert s.scalar(select(func.count()).select_from(Person)) == 0
        assert s.scalar(select(func.count()).select_from(Filing)) == 0


def test_an_unknown_key_is_refused_with_its_path(db: Database) -> None:
    text = BASE.replace("retiree: true, begndate", "retiree: true, colour: red, begndate") + "spare: 1\n"
    err = refused(db, text)
    assert err.code == "E_SCENARIO"
    paths = {p.path for p in err.problems}
    assert paths == {"persons[0].insurances[0].colour", "spare"}
    assert err.entry == "persons[0].insurances[0].colour"
    assert "未知字段" in err.message_zh and "unknown key" in err.message_en
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_bad_values_and_references_are_all_listed_by_path(db: Database) -> None:
    text = (
        BASE.replace("'11010819800715962X'", "'110108198007159621'")  # wrong checksum
        .replace("begndate: 2025-07-01", "begndate: 2025-07-32")
        .replace("psn_type: '1101'", "psn_type: '1101', balc: 12.345")
        + "  - {psn_no: '99', insutype: '310', subtype: referral, target_region: '110000', begndate: 2025-09-01,\n"
        "     basis: materials, channel: counter, institutions: [H46020290077],\n"
        "     materials: [{kind: referral_proof, file: missing.pdf}]}\n"
    )
    with pytest.raises(ScenarioError) as first:
        load(db, text)
    problems = {p.path: p for p in first.value.problems}
    assert set(problems) == {"persons[1].certno", "persons[1].insurances[0].balc", "filings[0].begndate"}
    assert "checksum" in problems["persons[1].certno"].en and "校验码" in problems["persons[1].certno"].zh
    assert "110108198007159621" not in str(first.value)  # ID numbers never travel in messages
    # once the values are right, what the entries point at is checked, all at once
    valid = text.replace("'110108198007159621'", "'11010819800715962X'").replace("2025-07-32", "2025-07-01")
    err = refused(db, valid.replace(", balc: 12.345", ""))
    assert {p.path for p in err.problems} == {
        "filings[1].psn_no",
        "filings[1].institutions[0]",
        "filings[1].materials[0].file",
    }
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_a_decision_the_workflow_refuses_names_the_decision(db: Database) -> None:
    waiting = THIRD_INSTITUTION.replace(", H46020390013]", "]") + "    decision: {action: approve}\n"
    err = refused(db, BASE + waiting)  # materials first: no upload, so the filing is not under review yet
    assert err.code == "F_STATE" and err.entry == "filings[1].decision"
    assert "submitted" in err.message_en and "filings[1].decision" in err.message_zh
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_bad_catalogue_rows_are_listed(db: Database, tmp_path: Path) -> None:
    (tmp_path / "cat.csv").write_text(
        "med_list_codg,med_list_name,chrgitm_lv,med_chrgitm_type,selfpay_prop,begndate\n"
        "XL01XCS900A000000901000,场景示例单抗注射液,02,09,0.20,2025-01-01\n"
        "XL02BGS900A000000902000,场景示例片,甲,09,,2025-13-01\n",
        encoding="utf-8",
    )
    with db.unit_of_work() as s, pytest.raises(ScenarioError) as err:
        load_scenario(s, "catalogues: [{region: '460200', file: cat.csv}]\n", NOW, base_dir=tmp_path)
    assert err.value.code == "E_CATALOG_ROWS" and err.value.entry == "catalogues[0]"
    assert "catalogues[0].file row 3, begndate" in {p.path for p in err.value.problems}
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_staff_load_only_inside_their_regions(db: Database) -> None:
    reviewer = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({"411100"}))
    with db.unit_of_work() as s, pytest.raises(ScenarioError) as err:
        load_scenario(s, BASE, NOW, reviewer)
    assert err.value.code == "E_FORBIDDEN"
    paths = {p.path for p in err.value.problems}
    assert {"institutions", "accounts.staff", "persons[0].insurances[0].insuplc_admdvs"} <= paths


# -- existing rows ------------------------------------------------------------------------------------------


def test_existing_rows_are_refused_unless_the_scenario_says_skip(db: Database) -> None:
    load(db, EXAMPLE)
    after_first = row_counts(db)
    err = refused(db, EXAMPLE.read_text(encoding="utf-8"))
    assert err.code == "E_SCENARIO_CONFLICT" and err.entry == "institutions[0]"
    assert "on_conflict: skip" in err.message_en and "on_conflict: skip" in err.message_zh
    assert len(err.problems) == 4 + 4 + 2 + 2 + 1 + 4 + 1  # every entry of the example names an existing row
    assert row_counts(db) == after_first

    skipping = EXAMPLE.read_text(encoding="utf-8").replace("on_conflict: error", "on_conflict: skip")
    report = load(db, skipping)
    assert not report.written and report.filings_skipped == 4 and report.persons_skipped == 4
    assert {f.status for f in report.filings} == {"skipped"} and report.claims_skipped == 1
    assert row_counts(db) == after_first  # a no-op: not even an audit row


def test_skip_loads_what_is_new(db: Database) -> None:
    load(db, BASE)
    more = BASE.replace("name: third", "on_conflict: skip\nname: third") + (
        "  - {psn_no: '11000000000000000901', insutype: '310', subtype: designated_chronic, target_region: '460200',\n"
        "     begndate: 2025-06-02, basis: materials, channel: counter, opsp_dise_code: M00503,\n"
        "     institutions: [H46020290011, H46020390013], submitted_at: 2025-06-02T09:30:00+08:00}\n"
    )
    report = load(db, more)
    assert (report.institutions_skipped, report.persons_skipped, report.staff_skipped) == (3, 2, 1)
    assert report.filings_skipped == 1 and report.filings_added == 1
    assert report.filings[1].status == "submitted"  # materials first: waiting for the diagnosis


# -- command line -------------------------------------------------------------------------------------------


def test_cli_scenario_load_on_a_temporary_sqlite_file(tmp_path: Path) -> None:
    app = typer.Typer()
    register_cli(app)

    @app.callback()
    def _root() -> None:  # keeps `scenario` a sub-command even with one group
        pass

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'scenario.sqlite3'}"
    try:
        r = runner.invoke(app, ["scenario", "load", str(EXAMPLE), "--database-url", url])
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert summary["filings_added"] == 4 and summary["persons_added"] == 4
        assert [f["status"] for f in summary["filings"]] == ["approved", "approved", "rejected", "approved"]

        again = runner.invoke(app, ["scenario", "load", str(EXAMPLE), "--database-url", url])
        assert again.exit_code == 2
        assert "E_SCENARIO_CONFLICT" in again.output and "institutions[0]" in again.output
        assert "错误 E_SCENARIO_CONFLICT" in again.output and "error E_SCENARIO_CONFLICT" in again.output

        bad = tmp_path / "bad.yaml"
        bad.write_text("persons: []\nfilings: [{psn_no: '1', colour: red}]\n", encoding="utf-8")
        r = runner.invoke(app, ["scenario", "load", str(bad), "--database-url", url])
        assert r.exit_code == 2 and "filings[0].colour" in r.output and "未知字段" in r.output
    finally:
        set_database(None)


@pytest.mark.parametrize("balc", ["null", "[1, 2]"])
def test_a_balance_that_is_not_an_amount_is_named(db: Database, balc: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(db, BASE.replace("psn_type: '1101'", f"psn_type: '1101', balc: {balc}", 1))
    assert "persons[1].insurances[0].balc" in {p.path for p in caught.value.problems}
    assert row_counts(db) == {k: 0 for k in row_counts(db)}
