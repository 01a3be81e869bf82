"""Manual claims (手工报销) in scenario files, on SQLite and PostgreSQL: the example's claim with hand-worked
amounts, bad values named by their path, a claim refused by a rule undoing the whole file, conflicts by request_id,
fee-list files, the command line.

Amounts are worked by hand from the shipped 漯河 (411100) parameters of 2025: employee (not retired) outpatient
deductible 150.00 a year, ratio 0.60 at level 2; cross-province unfiled care: no cut; other temporary: −20
points. Lines are priced by the example 三亚 catalogue (`example-catalog-460200.csv`): 诊察费 001202000900001 and
沙坦片 XC09CAS900A000000903000 are 甲类, 芳香化酶抑制剂片 乙类 (10 % first self-pay), 中成药胶囊 丙类.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import typer
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

import yidi.scenario
from yidi.core.audit import AuditEvent
from yidi.core.clock import SHANGHAI
from yidi.core.config import reset_settings
from yidi.core.db import Database, set_database
from yidi.core.principal import Audience, Principal, Role
from yidi.models import Base
from yidi.reimbursement import service as claims
from yidi.reimbursement.models import Claim
from yidi.scenario import ClaimOutcome, ScenarioError, load_scenario, register_cli
from yidi.settlement import invoices
from yidi.settlement.models import Accumulator

NOW = dt.datetime(2025, 6, 1, 8, 0, tzinfo=SHANGHAI)
HERE = Path(yidi.scenario.__file__).parent
EXAMPLE = HERE / "example.yaml"
KEEP = {"division", "chronic_disease", "alembic_version"}
EMPLOYEE = "41110000000000000902"  # 吕某丑, 漯河 employee (310), not retired
CLINIC = "X460200:三亚场景示例社区卫生服务中心(未联网)"  # the invoice register's key of the clinic outside the network


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Uploaded papers go to a temporary data directory."""
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


def load(db: Database, text_or_path: str | Path, base_dir: Path = HERE) -> yidi.scenario.ScenarioReport:
    with db.unit_of_work() as s:
        return load_scenario(s, text_or_path, NOW, base_dir=base_dir)


def refused(db: Database, text: str, base_dir: Path = HERE) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        load(db, text, base_dir)
    return err.value


# -- a small scenario of its own, as a document edited per test ---------------------------------------------


def line(sn: str, code: str, day: str, cnt: str, pric: str, total: str) -> dict[str, str]:
    return {
        "feedetl_sn": sn,
        "med_list_codg": code,
        "medins_list_codg": f"SYZS-{sn}",
        "fee_ocur_time": f"{day} 09:30:00",
        "cnt": cnt,
        "pric": pric,
        "det_item_fee_sumamt": total,
    }


def clinic_visit(day: str, invono: str, amount: str, lines: list[dict[str, str]] | None = None) -> dict[str, Any]:
    visit: dict[str, Any] = {
        "institution_name": "三亚场景示例社区卫生服务中心（未联网）",
        "institution_region": "460200",
        "institution_level": "level_2",
        "care": "outpatient",
        "med_type": "11",
        "begndate": day,
        "enddate": day,
        "diagnoses": [{"diag_code": "I10.x00", "diag_name": "高血压", "maindiag_flag": True}],
        "invoices": [{"invono": invono, "invoice_date": day, "amount": amount}],
    }
    if lines is not None:
        visit["lines"] = lines
    return visit


# 诊察费 25.00 + 沙坦片 60 × 3.50 = 210.00: 235.00, all of it 甲类
VISIT_0804 = clinic_visit(
    "2025-08-04",
    "SY-0804",
    "235.00",
    [
        line("1", "001202000900001", "2025-08-04", "1", "25.00", "25.00"),
        line("2", "XC09CAS900A000000903000", "2025-08-04", "60", "3.50", "210.00"),
    ],
)
PAPERS = [{"kind": "invoice", "file": "example-diagnosis.pdf"}, {"kind": "fee_list", "file": "example-diagnosis.pdf"}]
CLAIM: dict[str, Any] = {
    "psn_no": EMPLOYEE,
    "insutype": "310",
    "channel": "online",
    "request_id": "test-claim-1",
    "payee": {"bank_name": "中国工商银行漯河场景示例支行", "bank_account": "6222 0200 0000 0000 902"},
    "submitted_at": "2025-08-18T10:00:00+08:00",
    "visits": [VISIT_0804],
    "materials": PAPERS,
}
DOC: dict[str, Any] = {
    "name": "claims test",
    "catalogues": [{"region": "460200", "file": "example-catalog-460200.csv"}],
    "persons": [
        {
            "psn_no": EMPLOYEE,
            "psn_name": "吕某丑",
            "certno": "411103198509189642",
            "insurances": [
                {"insutype": "310", "insuplc_admdvs": "411100", "psn_type": "1101", "begndate": "2016-07-01"}
            ],
        }
    ],
    "accounts": {
        "staff": [
            {
                "username": "reviewer.claims.411100",
                "display_name": "漯河报销审核员",
                "roles": ["reviewer"],
                "regions": ["411100"],
                "password": "Scenario-Staff-2026",
            }
        ]
    },
    "claims": [CLAIM],
}


def document(*claims: dict[str, Any], **top: Any) -> str:
    doc = copy.deepcopy(DOC) | {"claims": [copy.deepcopy(c) for c in claims or [CLAIM]]} | top
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def stored(db: Database, claim_id: str) -> Claim:
    with db.read_only() as s:
        claim = claims.load(s, claim_id)
        for v in claim.visits:
            _ = (v.lines, v.invoices)
        _ = claim.materials
        s.expunge_all()
        return claim


def accumulators(db: Database, psn_no: str) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == psn_no)) if a.value}


# -- the example --------------------------------------------------------------------------------------------


def test_the_examples_claim_is_approved_with_the_amounts_worked_by_hand(db: Database, data_dir: Path) -> None:
    report = load(db, EXAMPLE)
    (outcome,) = report.claims
    # visits[0]: 235.00 eligible, (235.00 − 150.00) × 0.60 = 51.00; visits[1]: 诊察费 25.00 eligible (乙 line
    # excluded, 丙 line self-paid), the deductible used up: 25.00 × 0.60 = 15.00. Nothing was settled directly.
    assert outcome == ClaimOutcome("claims[0]", EMPLOYEE, outcome.claim_id, "approved", "66.00", "0.00", "66.00")
    assert (report.claims_added, report.claims_skipped) == (1, 0)
    claim = stored(db, outcome.claim_id)
    assert (claim.channel, claim.submitted_by, claim.decided_by) == ("online", EMPLOYEE, "reviewer.scenario.411100")
    assert claim.submitted_at == dt.datetime(2025, 8, 18, 10, 0, tzinfo=SHANGHAI)
    assert claim.decided_at == dt.datetime(2025, 8, 25, 15, 0, tzinfo=SHANGHAI)
    assert claim.medfee_sumamt == Decimal("332.00")  # 235.00 + 25.00 + 72.00: the excluded 180.00 is not counted
    first, second = claim.visits
    assert first.split is not None and second.split is not None
    assert (first.category, first.split["act_pay_dedc"], first.split["hifp_pay"]) == ("unfiled", "150.00", "51.00")
    assert (second.split["act_pay_dedc"], second.split["hifp_pay"]) == ("0.00", "15.00")
    assert [(ln.feedetl_sn, ln.excluded) for ln in second.lines] == [("1", False), ("2", True), ("3", False)]
    assert second.lines[1].exclusion_reason is not None and "unrelated" in second.lines[1].exclusion_reason
    assert second.lines[2].result is not None and second.lines[2].result["fulamt_ownpay_amt"] == "72.00"  # 丙类
    assert sorted(m.kind for m in claim.materials) == ["fee_list", "invoice"]
    assert any(data_dir.glob("materials/*/*"))
    assert accumulators(db, EMPLOYEE) == {"outpatient.deductible": 15000, "basic.fund": 6600, "outpatient.fund": 6600}
    with db.read_only() as s:
        assert invoices.owner_of(s, CLINIC, "SY-SQ-20250811-01") == ("claim", claim.id)
        actions = [
            e.action
            for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_id == claim.id).order_by(AuditEvent.id))
        ]
        assert actions == [
            "claim.create",
            "claim.fee_list",
            *["claim.material"] * 2,
            "claim.submit",
            "claim.take",
            "claim.approve",
        ]
        load_event = s.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.load")).one()
        assert load_event.after is not None and load_event.after["claims_added"] == 1


def test_a_second_load_with_skip_is_a_no_op_and_without_it_a_conflict(db: Database) -> None:
    first = load(db, document())
    after_first = row_counts(db)
    err = refused(db, document())
    assert err.code == "E_SCENARIO_CONFLICT" and "claims[0]" in {p.path for p in err.problems}
    assert any("test-claim-1" in p.en and first.claims[0].claim_id in p.en for p in err.problems)
    again = load(db, document(on_conflict="skip"))
    assert not again.written and (again.claims_added, again.claims_skipped) == (0, 1)
    assert again.claims == [ClaimOutcome("claims[0]", EMPLOYEE, first.claims[0].claim_id, "skipped", None, None, None)]
    assert row_counts(db) == after_first  # nothing written, not even an audit row


# -- what a claim sees, channels, decisions ------------------------------------------------------------------


def test_a_claim_sees_a_retroactive_filing_of_the_same_file_and_counter_claims_and_other_decisions(
    db: Database,
) -> None:
    filing = {
        "psn_no": EMPLOYEE,
        "insutype": "310",
        "subtype": "other_temporary",
        "target_region": "460200",
        "begndate": "2025-08-01",  # before its submission: 补办, which 漯河 accepts from 2025-05-01
        "basis": "none",
        "channel": "national_app",
        "submitted_at": "2025-08-15T09:00:00+08:00",
    }
    approved = CLAIM | {"decision": {"action": "approve", "by": "reviewer.claims.411100"}}
    counter = CLAIM | {
        "channel": "counter",
        "submitted_by": "reviewer.claims.411100",
        "visits": [
            clinic_visit(
                "2025-08-12", "SY-0812", "25.00", [line("1", "001202000900001", "2025-08-12", "1", "25.00", "25.00")]
            )
        ],
        "decision": {
            "action": "return",
            "reason": "请补充诊断证明",
            "materials_requested": ["diagnosis"],
            "at": "2025-08-19T09:00:00+08:00",
        },
    }
    draft = CLAIM | {"request_id": "test-claim-3", "submit": False, "visits": [clinic_visit("2025-08-13", "D", "1.00")]}
    report = load(db, document(approved, counter, draft, filings=[filing]))
    assert report.filings[0].status == "approved"
    # other temporary: 0.60 − 20 points = 0.40; (235.00 − 150.00) × 0.40 = 34.00
    assert report.claims[0] == ClaimOutcome(
        "claims[0]", EMPLOYEE, report.claims[0].claim_id, "approved", "34.00", "0.00", "34.00"
    )
    assert [(c.status, c.fund_pay_sumamt) for c in report.claims[1:]] == [("returned", None), ("draft", None)]
    visit = stored(db, report.claims[0].claim_id).visits[0]
    assert visit.category == "other_temporary" and visit.split is not None and visit.split["hifp_pay"] == "34.00"
    returned = stored(db, report.claims[1].claim_id)
    assert (returned.channel, returned.submitted_by) == ("counter", "reviewer.claims.411100")
    assert (returned.reason, returned.materials_requested, returned.reviewer) == (
        "请补充诊断证明",
        ["diagnosis"],
        "system",  # the decision names no reviewer: the loader (the platform) decided
    )
    assert stored(db, report.claims[2].claim_id).submitted_at is None  # a draft was never submitted


def test_staff_load_claims_for_persons_of_their_region_only(db: Database) -> None:
    load(db, document(CLAIM))  # the person (and the first claim) are in the database now
    reviewer = Principal(Audience.STAFF, "reviewer.411100", frozenset({Role.REVIEWER}), frozenset({"411100"}))
    fee = [line("1", "001202000900001", "2025-08-12", "1", "25.00", "25.00")]
    counter = CLAIM | {"channel": "counter", "visits": [clinic_visit("2025-08-12", "SY-0812", "25.00", fee)]}
    text = yaml.safe_dump({"claims": [counter]}, allow_unicode=True)
    with db.unit_of_work() as s:
        report = load_scenario(s, text, NOW, reviewer, base_dir=HERE)
    (outcome,) = report.claims
    assert outcome.status == "submitted"
    claim = stored(db, outcome.claim_id)
    assert (claim.channel, claim.submitted_by) == ("counter", "reviewer.411100")  # the loader entered it
    beijing = Principal(Audience.STAFF, "reviewer.110000", frozenset({Role.REVIEWER}), frozenset({"110000"}))
    before = row_counts(db)
    online = CLAIM | {"request_id": "test-claim-9", "visits": [clinic_visit("2025-08-12", "SY-0813", "25.00", fee)]}
    with db.unit_of_work() as s, pytest.raises(ScenarioError) as err:
        load_scenario(s, yaml.safe_dump({"claims": [online]}, allow_unicode=True), NOW, beijing, base_dir=HERE)
    assert (err.value.entry, err.value.code) == ("claims[0]", "E_NOT_FOUND")  # as for an unknown person
    assert row_counts(db) == before


# -- refusals: nothing written, the entry named -------------------------------------------------------------


def test_bad_values_are_named_by_their_path_and_nothing_is_written(db: Database) -> None:
    visit = copy.deepcopy(VISIT_0804)
    visit["lines"][1]["pric"] = "3.5.0"
    visit["lines"][0]["det_item_fee_sumamt"] = "26.00"  # 1 × 25.00 is 25.00
    visit["invoices"][0]["amount"] = "-1"
    later = clinic_visit("2025-08-19", "SY-0819", "25.00")  # the day after the claim was submitted
    bad = CLAIM | {
        "payee": {"bank_name": "银行", "bank_account": "12345"},
        "visits": [visit, later],
        "materials": [{"kind": "invoice", "file": "example.yaml"}],  # not a PDF, PNG or JPEG
        "decision": {"action": "approve", "exclusions": [{"visit": 0, "feedetl_sn": "9", "reason": "x"}]},
    }
    err = refused(db, document(bad))
    assert err.code == "E_SCENARIO"
    problems = {p.path: p for p in err.problems}
    assert set(problems) == {
        "claims[0].payee.bank_account",
        "claims[0].visits[0].invoices[0].amount",
        "claims[0].visits[1].enddate",
        "claims[0].materials[0].file",
        "claims[0].decision.exclusions[0].feedetl_sn",
    }
    assert "in the future" in problems["claims[0].visits[1].enddate"].en
    # a visit's first problem stops its reading: with the invoice right, its lines are read, every bad one named
    visit["invoices"][0]["amount"] = "235.00"
    err = refused(db, document(bad | {"visits": [visit]}))
    problems = {p.path: p for p in err.problems}
    assert {"claims[0].visits[0].lines[1].pric", "claims[0].visits[0].lines[0].det_item_fee_sumamt"} <= set(problems)
    assert "cnt × pric" in problems["claims[0].visits[0].lines[0].det_item_fee_sumamt"].en
    assert "不是数字" in problems["claims[0].visits[0].lines[1].pric"].zh
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_the_shape_is_checked_first_with_paths(db: Database) -> None:
    visit = VISIT_0804 | {"colour": "red", "care": "dental", "fee_list": "x.csv"}
    err = refused(
        db,
        document(
            CLAIM | {"visits": [visit], "submitted_by": "someone"},
            CLAIM | {"channel": "post", "decision": {"action": "refuse"}},
        ),
    )
    paths = {p.path for p in err.problems}
    assert {
        "claims[0].visits[0].colour",
        "claims[0].visits[0].care",
        "claims[1].channel",
        "claims[1].decision",  # a reason is required to refuse
    } <= paths
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


def test_references_of_a_claim_are_checked_before_writing(db: Database) -> None:
    stranger = CLAIM | {"psn_no": "41110000000000000999", "request_id": "x-2"}
    wrong_type = CLAIM | {"insutype": "390", "request_id": "x-3"}
    counter = CLAIM | {"channel": "counter", "request_id": "x-4", "decision": {"action": "approve", "by": "nobody"}}
    twice = copy.deepcopy(CLAIM)
    err = refused(db, document(CLAIM, stranger, wrong_type, counter, twice))
    assert {p.path for p in err.problems} == {
        "claims[1].psn_no",
        "claims[2].insutype",
        "claims[3].submitted_by",  # a counter claim loaded by the platform must name the staff user
        "claims[3].decision.by",
        "claims[4].request_id",  # the same request twice in one file
    }
    assert row_counts(db) == {k: 0 for k in row_counts(db)}


@pytest.mark.parametrize(
    ("case", "code", "entry", "words"),
    [
        ("invoice claimed twice", "S_INVOICE_USED", "claims[1]", "SY-0804"),
        ("injury without undertaking", "R_INJURY_UNDERTAKING", "claims[0]", "injury_undertaking"),
        ("deadline passed", "R_DEADLINE", "claims[0]", "2026-08-04"),
        ("decided by a non-reviewer", "E_FORBIDDEN", "claims[0].decision", "only reviewers"),
    ],
)
def test_a_claim_refused_by_a_rule_undoes_the_whole_file(
    db: Database, case: str, code: str, entry: str, words: str
) -> None:
    docs = {
        # the second claim (another request) lists the first one's invoice of the same clinic
        "invoice claimed twice": document(CLAIM, CLAIM | {"request_id": "test-claim-2"}),
        "injury without undertaking": document(CLAIM | {"visits": [VISIT_0804 | {"injury": True}]}),
        # 12 months after the visit of 2025-08-04 is 2026-08-04; submitted on 2026-08-18
        "deadline passed": document(CLAIM | {"submitted_at": "2026-08-18T10:00:00+08:00"}),
        "decided by a non-reviewer": document(
            CLAIM | {"decision": {"action": "approve", "by": "clearing.claims.411100"}},
            accounts={
                "staff": [
                    {
                        "username": "clearing.claims.411100",
                        "display_name": "漯河清算员",
                        "roles": ["clearing_officer"],
                        "regions": ["411100"],
                        "password": "Scenario-Staff-2026",
                    }
                ]
            },
        ),
    }
    err = refused(db, docs[case])
    assert (err.code, err.entry) == (code, entry)
    assert words in err.message_en and f"{entry} was refused, nothing was written" in err.message_en
    assert entry in err.message_zh and "未写入任何数据" in err.message_zh
    assert row_counts(db) == {k: 0 for k in row_counts(db)}  # not the catalogue, the person or the first claim


# -- fee-list files -----------------------------------------------------------------------------------------


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_fee_list_file_is_imported_and_a_bad_row_is_named(db: Database, tmp_path: Path) -> None:
    for name in ("example-catalog-460200.csv", "example-diagnosis.pdf"):
        (tmp_path / name).write_bytes((HERE / name).read_bytes())
    titles: list[object] = [
        "费用明细流水号",
        "医疗目录编码",
        "医药机构目录编码",
        "费用发生时间",
        "数量",
        "单价",
        "明细项目费用总额",
    ]
    (tmp_path / "list.xlsx").write_bytes(
        _workbook(
            [
                titles,
                ["A1", "001202000900001", "SYZS-ZC", dt.datetime(2025, 8, 4, 9, 10), 1, 25, 25],
                ["A2", "XL02BGS900A000000902000", "SYZS-902", "2025-08-04 09:40:00", 30, 6, 180],
            ]
        )
    )
    # 诊察费 25.00 (甲) + 芳香化酶抑制剂片 180.00 (乙, 10 % first self-pay: 18.00) → 187.00 eligible;
    # (187.00 − 150.00) × 0.60 = 22.20
    visit = clinic_visit("2025-08-04", "SY-XLSX", "205.00") | {"fee_list": "list.xlsx"}
    claim = CLAIM | {"visits": [visit], "decision": {"action": "approve", "by": "reviewer.claims.411100"}}
    bad_csv = "feedetl_sn,med_list_codg,medins_list_codg,fee_ocur_time,cnt,pric,det_item_fee_sumamt\n"
    bad_csv += "B1,001202000900001,SYZS-ZC,2025-08-04 09:10:00,1,25.00,25.00\n"
    bad_csv += "B2,XL02BGS900A000000902000,SYZS-902,2025-08-05 09:40:00,30,6.00,180.00\n"  # not the visit's day
    (tmp_path / "bad.csv").write_text(bad_csv, encoding="utf-8")
    err = refused(db, document(claim | {"visits": [visit | {"fee_list": "bad.csv"}]}), tmp_path)
    assert [p.path for p in err.problems] == ["claims[0].visits[0].fee_list row 3, fee_ocur_time"]
    assert "2025-08-04" in err.problems[0].en
    assert row_counts(db) == {k: 0 for k in row_counts(db)}

    report = load(db, document(claim), tmp_path)
    assert report.claims[0].status == "approved" and report.claims[0].fund_pay_sumamt == "22.20"
    lines = stored(db, report.claims[0].claim_id).visits[0].lines
    assert [(ln.feedetl_sn, ln.cnt, ln.pric, ln.det_item_fee_sumamt) for ln in lines] == [
        ("A1", Decimal("1"), Decimal("25"), Decimal("25.00")),
        ("A2", Decimal("30"), Decimal("6"), Decimal("180.00")),
    ]


# -- command line -------------------------------------------------------------------------------------------


def test_cli_prints_the_claims_in_its_summary(tmp_path: Path) -> None:
    app = typer.Typer()
    register_cli(app)

    @app.callback()
    def _root() -> None:  # keeps `scenario` a sub-command even with one group
        pass

    url = f"sqlite:///{tmp_path / 'scenario.sqlite3'}"
    try:
        r = CliRunner().invoke(app, ["scenario", "load", str(EXAMPLE), "--database-url", url])
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert summary["claims_added"] == 1 and summary["claims_skipped"] == 0
        (claim,) = summary["claims"]
        assert claim["claim_id"].startswith("R411100")
        assert {k: claim[k] for k in ("entry", "status", "fund_pay_sumamt", "paid_directly", "payable")} == {
            "entry": "claims[0]",
            "status": "approved",
            "fund_pay_sumamt": "66.00",
            "paid_directly": "0.00",
            "payable": "66.00",
        }
    finally:
        set_database(None)


def test_a_paper_named_for_another_type_is_named_before_writing(db: Database, tmp_path: Path) -> None:
    (tmp_path / "example-catalog-460200.csv").write_bytes((HERE / "example-catalog-460200.csv").read_bytes())
    (tmp_path / "scan.png").write_bytes((HERE / "example-diagnosis.pdf").read_bytes())  # a PDF named .png
    claim = CLAIM | {"materials": [{"kind": "invoice", "file": "scan.png"}]}
    err = refused(db, document(claim), tmp_path)
    assert [p.path for p in err.problems] == ["claims[0].materials[0].file"]
    assert "application/pdf" in err.problems[0].en and ".pdf" in err.problems[0].en
    assert row_counts(db) == {k: 0 for k in row_counts(db)}
