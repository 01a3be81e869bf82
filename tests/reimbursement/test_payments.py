"""Payment batches on SQLite and PostgreSQL: a batch made and exported (CSV and XLSX read back to the fen), a failed
payment retried in the next batch, results recorded twice, bad results refused as a whole, concurrent batch
creation, and who may pay."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import SYSTEM, Audience, Principal
from yidi.demo.service import load_demo
from yidi.reimbursement import payment_files, payments
from yidi.reimbursement.bank_files import HEADERS, BankLine, parse_results_csv, xlsx_file
from yidi.reimbursement.models import Claim, PaymentItem, SettlementReview
from yidi.reimbursement.payment_rules import (
    ItemFacts,
    ItemResult,
    ResultRow,
    ResultsRefused,
    SourceKind,
    bank_details_problem,
    decide_results,
    mask_account,
)

from .payments_support import (
    ACCOUNT,
    ADMIN,
    BJ,
    CLEARING,
    CLEARING_2,
    CLEARING_BJ,
    LH,
    NOW,
    REVIEWER,
    claim,
    fen,
    lh,
    person,
    read_csv,
    read_xlsx,
    review,
)

TODAY = NOW.date()


@pytest.fixture
def demo(db: Database) -> Iterator[Database]:
    with db.unit_of_work() as s:
        load_demo(s, NOW - dt.timedelta(days=400))
    yield db


def make(db: Database, request_id: str, principal: Principal = CLEARING, region: str = LH) -> payments.CreatedBatch:
    with db.unit_of_work() as s:
        return payments.create_batch(s, principal, region, NOW, request_id)


def record(db: Database, batch_id: str, *rows: ResultRow, when: dt.datetime = NOW) -> payments.ResultsReport:
    with db.unit_of_work() as s:
        return payments.record_results(s, CLEARING, batch_id, rows, when)


def paid(n: int, source_id: str, serial: str, on: dt.date = TODAY, **more: str) -> ResultRow:
    return ResultRow(n, source_id=source_id, result="paid", bank_serial=serial, paid_on=on.isoformat(), **more)


def failed(n: int, source_id: str, reason: str) -> ResultRow:
    return ResultRow(n, source_id=source_id, result="failed", reason=reason)


def status_of(db: Database, claim_id: str) -> str:
    with db.read_only() as s:
        row = s.get(Claim, claim_id)
        assert row is not None
        return row.status


def audit_actions(db: Database, entity_id: str) -> list[str]:
    with db.read_only() as s:
        stmt = select(AuditEvent.action).where(AuditEvent.entity_id == entity_id).order_by(AuditEvent.id)
        return list(s.scalars(stmt))


def audit_count(db: Database) -> int:
    with db.read_only() as s:
        return len(s.scalars(select(AuditEvent.id)).all())


# -- a batch and its files ----------------------------------------------------------------------------------


def test_batch_takes_what_is_due_and_exports_csv_and_xlsx_to_the_fen(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "1234.56").id
        b = claim(s, lh(2), "0.07", payee="李某乙", account="6222 0212 3456 7890 124").id  # spaces as typed
        c = claim(s, lh(3), "0.00").id  # all paid by direct settlement: nothing to transfer
        d = review(s, lh(4), "88.10").id
        claim(s, lh(5), "99.00", status="under_review")
        claim(s, "11000000000000000001", "77.00", region=BJ)
        review(s, lh(6), "0.00", outcome="no_change")
        review(s, lh(7), "-20.00", outcome="recovery")
        no_bank = review(s, lh(8), "15.00", payee=None, bank=None, account=None).id
        formula = claim(s, lh(9), "66.00", payee="=HYPERLINK(1)").id
    made = make(demo, "first")
    batch = made.batch
    # 1234.56 + 0.07 + 88.10 = 1322.73 over three transfers; the 0.00 claim is an item closed at once.
    assert (batch.item_count, batch.total, batch.status) == (4, Decimal("1322.73"), "exported")
    assert sorted((x.source_id, x.reason.split(" / ")[0]) for x in made.left_out) == sorted(
        [(no_bank, "payee missing"), (formula, "payee or bank starts with = + - @")]
    )
    by_source = {i.source_id: i for i in batch.items}
    assert {k: (v.amount, v.result) for k, v in by_source.items()} == {
        a: (Decimal("1234.56"), "pending"),
        b: (Decimal("0.07"), "pending"),
        c: (Decimal("0.00"), "paid"),
        d: (Decimal("88.10"), "pending"),
    }
    assert by_source[b].bank_account == "6222021234567890124"
    assert (status_of(demo, a), status_of(demo, c)) == ("approved", "paid")
    with demo.unit_of_work() as s:
        name, content = payment_files.export_file(s, CLEARING, batch.id, "csv", NOW)
        xname, xcontent = payment_files.export_file(s, CLEARING, batch.id, "xlsx", NOW)
    assert (name, xname) == (f"payment-batch-{batch.id}.csv", f"payment-batch-{batch.id}.xlsx")
    rows = read_csv(content)
    assert rows[0] == ["收款人", "开户银行", "账号", "金额", "单据号", "类型", "批次"]
    claim_lines = [
        ["王某甲", "中国工商银行漯河分行", ACCOUNT, "1234.56", a, "手工报销", batch.id],
        ["李某乙", "中国工商银行漯河分行", "6222021234567890124", "0.07", b, "手工报销", batch.id],
    ]
    review_line = ["刘某丁", "中国农业银行漯河分行", "6228480123456789012", "88.10", d, "复核补差", batch.id]
    assert rows[1:] == [*sorted(claim_lines, key=lambda line: line[4]), review_line]  # claims, then reviews
    sheet = read_xlsx(xcontent)
    assert batch.id in sheet["A1"].value and sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[2]] == list(HEADERS) and sheet["A2"].font.b
    body = [[c.value for c in r] for r in sheet.iter_rows(min_row=3, max_row=5)]
    assert [r[:3] + r[4:] for r in body] == [r[:3] + r[4:] for r in rows[1:]]  # the same lines as the CSV
    assert [fen(r[3]) for r in body] == [Decimal(r[3]) for r in rows[1:]]
    assert sorted(fen(r[3]) for r in body) == [Decimal("0.07"), Decimal("88.10"), Decimal("1234.56")]
    assert [sheet.cell(r, 4).number_format for r in (3, 4, 5, 6)] == ["0.00"] * 4
    assert sheet["A6"].value == "合计（3笔）" and fen(sheet["D6"].value) == Decimal("1322.73")
    assert sheet["C3"].data_type == "s" and sheet["C3"].value == rows[1][2]  # 19 digits as text, not 6.22E+18
    assert sheet["C3"].number_format == "@"
    with demo.read_only() as s:
        events = [(e.action, e.before, e.after) for e in s.scalars(select(AuditEvent))]
    assert {"payment_batch.create", "payment_batch.export", "claim.payment_paid", "claim.payment_pending"} <= {
        action for action, _, _ in events
    }
    assert ACCOUNT not in json.dumps(events, ensure_ascii=False)
    assert mask_account(ACCOUNT) == "6222***********0123"


def test_xlsx_amounts_are_written_as_their_exact_fen_value() -> None:
    """openpyxl would write 79811208.35 as 79811208.34999999 (float through %.16g): the cell holds the decimal."""
    amounts = [Decimal("79811208.35"), Decimal("0.29"), Decimal("1.10")]
    lines = [
        BankLine("某", "银行", "62220212345678", x, f"R{n}", SourceKind.CLAIM, "B1") for n, x in enumerate(amounts, 1)
    ]
    content = xlsx_file(lines, "t")
    xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>79811208.35</v>" in xml and "<v>0.29</v>" in xml and "<v>1.10</v>" in xml
    assert "<v>79811209.74</v>" in xml  # the total: 79811208.35 + 0.29 + 1.10
    sheet = read_xlsx(content)
    assert [fen(sheet.cell(r, 4).value) for r in (3, 4, 5, 6)] == [*amounts, Decimal("79811209.74")]


# -- a failure, then the next batch ---------------------------------------------------------------------------


def test_failed_payment_goes_back_to_approved_and_is_paid_by_the_next_batch(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(5), "500.00").id, claim(s, lh(6), "120.30", payee="杨某己").id
    first = make(demo, "june-1").batch
    report = record(demo, first.id, paid(1, a, "ICBC0001"), failed(2, b, "账户已销户 / account closed"))
    assert (report.recorded, report.unchanged, report.batch_status.value) == (2, 0, "closed")
    assert (status_of(demo, a), status_of(demo, b)) == ("paid", "approved")
    with demo.read_only() as s:
        seen = payments.payments_of(s, person(lh(6)), "claim", b)
    assert [(v.result.value, v.reason, v.bank_account) for v in seen] == [
        ("failed", "账户已销户 / account closed", ACCOUNT)  # the person sees their own account in full
    ]
    second = make(demo, "june-2").batch
    assert [(i.source_id, i.amount) for i in second.items] == [(b, Decimal("120.30"))]
    assert second.total == Decimal("120.30")
    with demo.read_only() as s:
        assert [v.result.value for v in payments.payments_of(s, person(lh(6)), "claim", b)] == ["failed", "pending"]
    record(demo, second.id, paid(1, b, "ICBC0002", amount="120.30"))
    with demo.read_only() as s:
        seen = payments.payments_of(s, person(lh(6)), "claim", b)
        paid_claim = s.get(Claim, b)
        assert paid_claim is not None and paid_claim.paid_at == NOW and paid_claim.version == 4
    assert [(v.batch_id, v.result.value, v.bank_serial, v.paid_on) for v in seen] == [
        (first.id, "failed", None, None),
        (second.id, "paid", "ICBC0002", TODAY),
    ]
    latest = payments.latest_payment(seen)
    assert latest is not None and latest.result.value == "paid"
    assert audit_actions(demo, b) == [
        "claim.payment_pending",
        "claim.payment_failed",
        "claim.payment_pending",
        "claim.payment_paid",
    ]


def test_a_review_difference_is_paid_and_settled(demo: Database) -> None:
    with demo.unit_of_work() as s:
        r = review(s, lh(4), "88.10").id
    batch = make(demo, "r").batch
    record(demo, batch.id, paid(1, r, "ABC-9"))
    with demo.read_only() as s:
        row = s.get(SettlementReview, r)
        assert row is not None and (row.status, row.settled_at, row.version) == ("paid", NOW, 3)
        assert [v.result.value for v in payments.payments_of(s, person(lh(4)), "review", r)] == ["paid"]
    assert audit_actions(demo, r) == ["review.payment_pending", "review.payment_paid"]


# -- results recorded twice, results refused ----------------------------------------------------------------


def test_a_result_recorded_twice_is_answered_the_same_and_a_different_one_refused(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(1), "300.00").id, claim(s, lh(2), "45.45").id
    batch = make(demo, "twice").batch
    rows = (paid(1, a, "S-1"), failed(2, b, "户名不符"))
    record(demo, batch.id, *rows)
    events = audit_count(demo)
    again = record(demo, batch.id, *rows)
    assert (again.recorded, again.unchanged) == (0, 2) and audit_count(demo) == events
    item_a = next(i.id for i in batch.items if i.source_id == a)
    for changed in (failed(1, a, "late"), paid(1, a, "S-OTHER")):
        with pytest.raises(ResultsRefused) as refused:
            record(demo, batch.id, changed)
        assert [(p.row, p.item, p.field) for p in refused.value.rows] == [(1, a, "result")]
        assert f"item {item_a} (claim {a}) was already recorded as paid (serial S-1)" in refused.value.rows[0].problem
    assert status_of(demo, a) == "paid" and audit_count(demo) == events


def test_bad_results_record_nothing_and_say_what_is_wrong_with_each_row(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(1), "300.00").id, claim(s, lh(2), "45.45").id
    batch = make(demo, "bad").batch
    bad = (
        paid(1, a, "S-1"),
        ResultRow(2, item_id="999999", result="paid", bank_serial="S", paid_on="2026-06-01"),
        paid(3, b, "S-2", amount="45.46"),
        paid(4, b, "S-3", on=TODAY + dt.timedelta(days=1)),
        ResultRow(5, source_id=b, result="failed"),
        ResultRow(6, source_id=b, result="maybe"),
        ResultRow(7, source_id=a, result="paid", paid_on="2026-06-01"),
    )
    with pytest.raises(ResultsRefused) as refused:
        record(demo, batch.id, *bad)
    assert refused.value.code == "P_RESULTS" and "6 result row(s) refused" in refused.value.message_en
    assert [(p.row, p.field) for p in refused.value.rows] == [
        (2, "item"),
        (3, "amount"),
        (4, "paid_on"),
        (5, "reason"),
        (6, "result"),
        (7, "bank_serial"),
    ]
    assert "45.46 does not match the item's 45.45" in refused.value.rows[1].problem
    body = refused.value.as_dict()
    assert body["rows"][0] == {"row": 2, "item": "999999", "field": "item", "problem": refused.value.rows[0].problem}
    with demo.read_only() as s:
        assert {i.result for i in s.scalars(select(PaymentItem))} == {"pending"}
    assert status_of(demo, a) == "approved"


def test_a_results_file_with_a_bad_row_records_nothing_then_the_corrected_file_records_all(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a, b = claim(s, lh(1), "300.00").id, claim(s, lh(2), "45.45", payee="李某乙").id
    batch = make(demo, "file").batch
    with demo.unit_of_work() as s:
        _, exported = payment_files.export_file(s, CLEARING, batch.id, "csv", NOW)
    lines = read_csv(exported)
    # The exported file with the bank's columns added is a results file (its 金额 is checked, 账号 ignored).
    header = [*lines[0], "结果", "银行流水号", "支付日期", "原因"]
    line_of = {line[4]: line for line in lines[1:]}
    good = [[*line_of[a], "成功", "95588-1", "2026-06-01", ""], [*line_of[b], "失败", "", "", "户名不符"]]
    wrong = [good[0], [*line_of[b], "成功", "95588-2", "2026-13-01", ""]]

    def upload(rows: list[list[str]]) -> payments.ResultsReport:
        text = io.StringIO()
        csv.writer(text).writerows([header, *rows])
        with demo.unit_of_work() as s:
            return payments.import_results_file(s, CLEARING, batch.id, text.getvalue().encode("utf-8-sig"), NOW)

    with pytest.raises(ResultsRefused) as refused:
        upload(wrong)
    assert [(p.row, p.item, p.field) for p in refused.value.rows] == [(3, b, "paid_on")]
    assert status_of(demo, a) == "approved"
    report = upload(good)
    assert [(o.row, o.source_id, o.result.value, o.outcome) for o in report.rows] == [
        (2, a, "paid", "recorded"),
        (3, b, "failed", "recorded"),
    ]
    assert report.batch_status.value == "closed" and status_of(demo, a) == "paid"
    with demo.unit_of_work() as s, pytest.raises(YidiError, match=r"P_RESULTS_FILE.*结果/result"):
        payments.import_results_file(s, CLEARING, batch.id, "单据号,批次\r\nR1,B1\r\n".encode(), NOW)
    with demo.unit_of_work() as s, pytest.raises(YidiError, match=r"P_RESULTS_FILE.*UTF-8"):
        payments.import_results_file(s, CLEARING, batch.id, "结果,单据号,批次".encode("gbk"), NOW)


def test_a_paid_date_before_the_batch_is_refused(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "10.00").id
    batch = make(demo, "early").batch
    with pytest.raises(ResultsRefused) as refused:
        record(demo, batch.id, paid(1, a, "S", on=TODAY - dt.timedelta(days=1)))
    assert "is not between the batch's day 2026-06-01 and today 2026-06-01" in refused.value.rows[0].problem


# -- making a batch: retries, nothing to pay, two at once ----------------------------------------------------


def test_the_same_request_gives_the_same_batch_and_nothing_left_is_refused(demo: Database) -> None:
    with demo.unit_of_work() as s:
        claim(s, lh(1), "10.00")
    first = make(demo, "retry-1")
    again = make(demo, "retry-1")
    assert again.replayed and again.batch.id == first.batch.id and not first.replayed
    with demo.read_only() as s:
        assert len(s.scalars(select(PaymentItem)).all()) == 1
    with pytest.raises(YidiError, match="P_EMPTY") as empty:
        make(demo, "retry-2")
    assert "nothing to pay in region 411100" in empty.value.message_en
    with pytest.raises(YidiError, match="P_EMPTY"):
        make(demo, "retry-1", CLEARING_2)  # a retry key is the staff member's own
    with demo.unit_of_work() as s:
        claim(s, "11000000000000000001", "5.00", region=BJ)
    make(demo, "x", ADMIN, BJ)
    with pytest.raises(YidiError, match="P_REQUEST"):
        make(demo, "x", ADMIN, LH)  # the administrator's key "x" made a batch of 北京


def test_an_empty_batch_is_refused_naming_what_waits_for_bank_details(demo: Database) -> None:
    with pytest.raises(YidiError, match="P_EMPTY") as empty:
        make(demo, "none")
    assert "没有待支付的已审批单据或复核差额" in empty.value.message_zh
    with demo.unit_of_work() as s:
        bad = claim(s, lh(1), "10.00", account="not-an-account").id
    with pytest.raises(YidiError, match="P_EMPTY") as empty:
        make(demo, "none")
    assert f"1 left out, e.g. {bad}: account must be 8 to 32 digits" in empty.value.message_en


def _race(db: Database, keys: list[tuple[Principal, str]]) -> tuple[list[str], list[str]]:
    """Each (staff member, request id) makes a batch in a thread of its own, all starting together."""
    barrier, made, refused = threading.Barrier(len(keys)), list[str](), list[str]()

    def run(who: Principal, key: str) -> None:
        barrier.wait()
        try:
            made.append(make(db, key, who).batch.id)
        except YidiError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=run, args=k) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return made, refused


def test_concurrent_batch_creations_never_put_a_claim_into_two_batches(demo: Database) -> None:
    for round_ in range(3):
        with demo.unit_of_work() as s:
            ids = {claim(s, lh(1 + n % 11), f"{n + 1}.{n:02d}").id for n in range(20)}
        made, refused = _race(demo, [(CLEARING, f"r{round_}-a"), (CLEARING_2, f"r{round_}-b")])
        with demo.read_only() as s:
            sources = list(s.scalars(select(PaymentItem.source_id).where(PaymentItem.source_id.in_(ids))))
        assert sorted(sources) == sorted(ids)  # each claim exactly once
        assert len(made) + len(refused) == 2 and set(refused) <= {"P_EMPTY"}


def test_a_retry_racing_its_first_attempt_gets_the_same_batch(demo: Database) -> None:
    with demo.unit_of_work() as s:
        ids = {claim(s, lh(1 + n), "10.00").id for n in range(5)}
    made, refused = _race(demo, [(CLEARING, "same"), (CLEARING, "same")])
    assert refused == [] and len(made) == 2 and made[0] == made[1]
    with demo.read_only() as s:
        assert sorted(s.scalars(select(PaymentItem.source_id))) == sorted(ids)


def test_the_database_refuses_a_second_pending_item_for_one_claim(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "10.00").id
    batch = make(demo, "guard").batch
    with pytest.raises(IntegrityError), demo.unit_of_work() as s:
        s.add(
            PaymentItem(
                batch_id=batch.id,
                source_kind="claim",
                source_id=a,
                payee_name="x",
                bank_name="x",
                bank_account=ACCOUNT,
                amount=Decimal("10.00"),
                result="pending",
            )
        )


# -- who may pay and who may see ------------------------------------------------------------------------------


def test_only_financial_staff_of_the_region_pay(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "10.00").id
    for who in (REVIEWER, CLEARING_BJ, person(lh(1)), Principal(Audience.INSTITUTION, "H11010500001")):
        with pytest.raises(YidiError, match="E_FORBIDDEN"):
            make(demo, "no", who)
    batch = make(demo, "yes").batch
    for who in (REVIEWER, CLEARING_BJ, person(lh(1))):
        with demo.unit_of_work() as s:
            with pytest.raises(YidiError, match="E_FORBIDDEN"):
                payment_files.show_batch(s, who, batch.id)
            with pytest.raises(YidiError, match="E_FORBIDDEN"):
                payment_files.export_file(s, who, batch.id, "csv", NOW)
            with pytest.raises(YidiError, match="E_FORBIDDEN"):
                payments.record_results(s, who, batch.id, [paid(1, a, "S")], NOW)
            with pytest.raises(YidiError, match="E_FORBIDDEN"):
                payment_files.list_batches(s, who, LH, None, 10, 0)
    with demo.read_only() as s:
        assert [b.id for b in payment_files.list_batches(s, CLEARING, None, None, 10, 0)] == [batch.id]
        assert payment_files.list_batches(s, ADMIN, BJ, None, 10, 0) == []
    assert status_of(demo, a) == "approved"


def test_the_person_and_their_agency_see_the_payment_nobody_else(demo: Database) -> None:
    with demo.unit_of_work() as s:
        a = claim(s, lh(1), "10.00").id
    make(demo, "see")
    with demo.read_only() as s:
        assert payments.payments_of(s, REVIEWER, "claim", a)[0].bank_account == ACCOUNT
        assert payments.payments_of(s, SYSTEM, "claim", a)[0].amount == Decimal("10.00")
        with pytest.raises(YidiError, match="E_FORBIDDEN"):
            payments.payments_of(s, person(lh(2)), "claim", a)
        with pytest.raises(YidiError, match="E_NOT_FOUND"):
            payments.payments_of(s, CLEARING_BJ, "claim", a)
        with pytest.raises(YidiError, match="E_INPUT"):
            payments.payments_of(s, CLEARING, "refund", a)
        item = s.scalars(select(PaymentItem)).one()
        seen_elsewhere = payments.view_item(item, item.batch, CLEARING_BJ, lh(1))
        assert seen_elsewhere.bank_account == "6222***********0123"


# -- the pure rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payee", "bank", "account", "problem"),
    [
        ("王某甲", "中国工商银行", "6222 0212 3456 7890 123", None),
        ("王某甲", "中国工商银行", "6222-0212-3456", None),
        ("王某甲", "中国工商银行", "1234567", "account must be 8 to 32 digits"),
        ("王某甲", "中国工商银行", "62220212345678901234567890123456789", "account must be 8 to 32 digits"),
        ("王某甲", "中国工商银行", "6222O21234567890", "account must be 8 to 32 digits"),
        ("", "中国工商银行", "62220212345678", "payee missing"),
        ("王某甲", None, "62220212345678", "bank missing"),
        ("王某\t甲", "中国工商银行", "62220212345678", "payee holds a control character"),
        ("+86王某甲", "中国工商银行", "62220212345678", "payee or bank starts with = + - @"),
        ("王某甲", "@银行", "62220212345678", "payee or bank starts with = + - @"),
    ],
)
def test_bank_details_that_cannot_go_to_the_bank(
    payee: str, bank: str | None, account: str, problem: str | None
) -> None:
    found = bank_details_problem(payee, bank, account)
    assert (found.split(" / ")[0] if found else None) == problem


def test_masked_accounts_keep_the_first_and_last_four_digits() -> None:
    assert mask_account("6222 0212 3456 7890 123") == "6222***********0123"
    assert mask_account("62220212") == "****0212"
    assert mask_account("123456789") == "1234*6789"


FACTS = [
    ItemFacts(1, SourceKind.CLAIM, "R1", Decimal("10.00"), ItemResult.PENDING, None, None, "approved", True),
    ItemFacts(2, SourceKind.REVIEW, "R2", Decimal("5.50"), ItemResult.PAID, "S", TODAY, "paid", False),
]
TEXT = st.none() | st.text(max_size=12) | st.sampled_from(["1", "2", "R1", "R2", "paid", "失败", "2026-06-01", "10.00"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.builds(ResultRow, st.integers(1, 50), *[TEXT] * 8), max_size=6))
def test_any_results_are_decided_or_refused_row_by_row_never_crash(rows: list[ResultRow]) -> None:
    decisions, problems = decide_results(rows, "B1", FACTS, TODAY, TODAY)
    decided, refused = {d.row for d in decisions}, {p.row for p in problems}
    assert decided | refused == {r.row for r in rows}
    assert all(d.item_id in (1, 2) for d in decisions)
    assert all(d.unchanged for d in decisions if d.item_id == 2)  # a decided item only takes its own result again


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: ("批次,单据号,结果\n" + t).encode()))
def test_any_results_file_is_read_or_refused_as_a_whole(content: bytes) -> None:
    try:
        rows = parse_results_csv(content)
    except YidiError as exc:
        assert exc.code == "P_RESULTS_FILE"
    else:
        assert rows and all(r.batch_id is not None for r in rows)
