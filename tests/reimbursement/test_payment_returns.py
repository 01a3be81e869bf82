"""Transfers the bank returns after success (退票) and the files of a batch once results have come: a returned claim
goes back to approved (a review to decided) for the next batch, the batch stays closed; a re-export lists only the
transfers still awaiting the bank, a closed batch makes no file; the bank's reasons keep no account in full."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import load_demo
from yidi.reimbursement import payment_files, payments, review_payments
from yidi.reimbursement.models import Claim, PaymentBatch, PaymentItem, SettlementReview
from yidi.reimbursement.payment_rules import ResultRow, ResultsRefused, mask_digit_runs
from yidi.reimbursement.review_rules import Payee

from .payments_support import ACCOUNT, CLEARING, LH, NOW, claim, lh, person, read_csv, read_xlsx, review

TODAY = NOW.date()
LATER = NOW + dt.timedelta(days=3)
FROZEN = f"收款账户{ACCOUNT}已冻结，资金退回"  # what a bank writes: the account quoted in full


@pytest.fixture
def demo(db: Database) -> Iterator[Database]:
    with db.unit_of_work() as s:
        load_demo(s, NOW - dt.timedelta(days=400))
    yield db


def _batch(db: Database, key: str) -> PaymentBatch:
    with db.unit_of_work() as s:
        batch = payments.create_batch(s, CLEARING, LH, NOW, key).batch
        s.flush()  # the audit rows are written before the objects are let go
        s.expunge_all()
        return batch


def _record(db: Database, batch_id: str, *rows: ResultRow, when: dt.datetime = NOW) -> payments.ResultsReport:
    with db.unit_of_work() as s:
        return payments.record_results(s, CLEARING, batch_id, rows, when)


def _paid(n: int, source_id: str, serial: str) -> ResultRow:
    return ResultRow(n, source_id=source_id, result="成功", bank_serial=serial, paid_on=TODAY.isoformat())


def _actions(db: Database, entity_id: str) -> list[str]:
    with db.read_only() as s:
        stmt = select(AuditEvent.action).where(AuditEvent.entity_id == entity_id).order_by(AuditEvent.id)
        return list(s.scalars(stmt))


def test_a_claim_transfer_returned_after_success_is_taken_by_the_next_batch(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "100.00").id
    first = _batch(demo, "1")
    assert _record(demo, first.id, _paid(1, a, "S1")).batch_status.value == "closed"
    returned = ResultRow(1, source_id=a, result="退回", reason=FROZEN)  # "sent back", of a paid item: returned
    report = _record(demo, first.id, returned, when=LATER)
    assert [(o.result.value, o.outcome) for o in report.rows] == [("returned", "recorded")]
    assert report.batch_status.value == "closed"  # every item has a result; the total stays what was sent
    again = _record(demo, first.id, ResultRow(1, source_id=a, result="退票", reason="冻结"), when=LATER)
    assert (again.recorded, again.unchanged) == (0, 1)  # the same return again
    with demo.read_only() as s:
        row = s.get(Claim, a)
        item = s.scalars(select(PaymentItem).where(PaymentItem.source_id == a)).one()
        assert row is not None and (row.status, row.paid_at, row.version) == ("approved", None, 5)
        assert (item.result, item.bank_serial, item.paid_on, item.result_at) == ("returned", "S1", TODAY, LATER)
        assert item.result_note == "收款账户6222***********0123已冻结，资金退回"
    assert _actions(demo, a) == ["claim.payment_pending", "claim.payment_paid", "claim.payment_returned"]
    second = _batch(demo, "2")
    assert [(i.source_id, str(i.amount)) for i in second.items] == [(a, "100.00")]
    _record(demo, second.id, _paid(1, a, "S2"))
    with demo.read_only() as s:
        seen = payments.payments_of(s, person(lh(1)), "claim", a)
        assert [(v.result.value, v.bank_serial, v.reason) for v in seen] == [
            ("returned", "S1", "收款账户6222***********0123已冻结，资金退回"),
            ("paid", "S2", None),
        ]
        assert s.get(Claim, a).status == "paid"  # type: ignore[union-attr]


def test_only_a_paid_transfer_comes_back_and_with_the_banks_reason(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(1), "100.00").id, claim(s, lh(2), "20.00").id
    batch = _batch(demo, "1")
    with pytest.raises(ResultsRefused) as pending:
        _record(demo, batch.id, ResultRow(1, source_id=b, result="returned", reason="x"))
    item_b = next(i.id for i in batch.items if i.source_id == b)
    expected = (
        f"item {item_b} is pending: only a paid transfer comes back; one that did not go through is failed (失败)"
    )
    assert [(p.field, p.problem.split(" / ")[0]) for p in pending.value.rows] == [("result", expected)]
    assert _record(demo, batch.id, ResultRow(1, source_id=b, result="退回", reason="户名不符")).rows[
        0
    ].result.value == (
        "failed"  # "sent back" of a transfer never paid: it failed
    )
    _record(demo, batch.id, _paid(1, a, "S1"))
    with pytest.raises(ResultsRefused) as no_reason:
        _record(demo, batch.id, ResultRow(1, source_id=a, result="退票"))
    assert [p.field for p in no_reason.value.rows] == ["reason"]
    with pytest.raises(ResultsRefused) as failed:
        _record(demo, batch.id, ResultRow(1, source_id=a, result="failed", reason="x"))
    assert "already recorded as paid (serial S1)" in failed.value.rows[0].problem
    with demo.unit_of_work() as s:
        moved = s.get(Claim, a)
        assert moved is not None
        moved.status = "withdrawn"  # whatever moved the claim since, the return is not recorded over it
    with pytest.raises(ResultsRefused) as elsewhere:
        _record(demo, batch.id, ResultRow(1, source_id=a, result="退票", reason="x"))
    assert [p.field for p in elsewhere.value.rows] == ["item"]


def test_a_review_transfer_returned_goes_back_to_decided_and_may_go_elsewhere(demo: Database) -> None:
    with demo.unit_of_work() as s:
        rid = review(s, lh(1), "170.00").id
    first = _batch(demo, "1")
    _record(demo, first.id, _paid(1, rid, "BANK-1"))
    _record(demo, first.id, ResultRow(1, source_id=rid, result="returned", reason="账户已冻结"), when=LATER)
    with demo.read_only() as s:
        row = s.get(SettlementReview, rid)
        assert row is not None and (row.status, row.settled_at, row.settled_serial) == ("decided", None, None)
    assert _actions(demo, rid) == ["review.payment_pending", "review.payment_paid", "review.payment_returned"]
    with demo.unit_of_work() as s:
        review_payments.change_payee(s, person(lh(1)), rid, Payee("刘某丁", "中国银行", "6217000000000000001"), NOW)
    second = _batch(demo, "2")
    assert [(i.source_id, i.bank_account, str(i.amount)) for i in second.items] == [
        (rid, "6217000000000000001", "170.00")
    ]


def test_a_re_export_lists_only_transfers_awaiting_the_bank_and_a_closed_batch_none(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(1), "100.00").id, claim(s, lh(2), "200.00").id
    batch = _batch(demo, "1")
    with demo.unit_of_work() as s:
        _, first = payment_files.export_file(s, CLEARING, batch.id, "csv", NOW)
    assert sorted(line[4] for line in read_csv(first)[1:]) == sorted([a, b])
    _record(demo, batch.id, ResultRow(1, source_id=a, result="failed", reason=f"账号{ACCOUNT}已销户"))
    with demo.unit_of_work() as s:
        name, again = payment_files.export_file(s, CLEARING, batch.id, "xlsx", NOW)
        _, again_csv = payment_files.export_file(s, CLEARING, batch.id, "csv", NOW)
    sheet = read_xlsx(again)
    assert name == f"payment-batch-{batch.id}.xlsx"
    assert "第2次导出（重新导出）" in sheet["A1"].value and "仅列待银行结果的1笔" in sheet["A1"].value
    assert [r[4] for r in read_csv(again_csv)[1:]] == [b]  # the failed claim is the next batch's, not this file's
    assert sheet["E3"].value == b and sheet["A4"].value == "合计（1笔）"
    _record(demo, batch.id, _paid(1, b, "S2"))
    with demo.unit_of_work() as s, pytest.raises(YidiError) as closed:
        payment_files.export_file(s, CLEARING, batch.id, "csv", NOW)
    assert (closed.value.code, closed.value.http_status) == ("P_EXPORT", 409)
    with demo.read_only() as s:
        exports = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "payment_batch.export").order_by(AuditEvent.id)
        ).all()
        assert [(e.after["export_no"], e.after["reexport"], e.after["lines"]) for e in exports] == [
            (1, False, 2),
            (2, True, 1),
            (3, True, 1),
        ]
        assert s.get(PaymentBatch, batch.id).export_count == 3  # type: ignore[union-attr]
        item = s.scalars(select(PaymentItem).where(PaymentItem.source_id == a)).one()
        assert item.result_note == "账号6222***********0123已销户"
        everything = json.dumps([(e.before, e.after) for e in s.scalars(select(AuditEvent))], ensure_ascii=False)
    assert ACCOUNT not in everything


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"账号{ACCOUNT}已销户", "账号6222***********0123已销户"),
        ("户名不符 6222 0212 3456 7890 123", "户名不符 6222***********0123"),
        ("6222-0212-3456", "6222****3456"),
        ("退回于2026-06-01，电话 1234567", "退回于2026-06-01，电话 1234567"),
        ("no digits", "no digits"),
    ],
)
def test_digit_runs_of_eight_or_more_are_masked(text: str, masked: str) -> None:
    assert mask_digit_runs(text) == masked
