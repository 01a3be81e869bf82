"""Forms 5, 1 and 2 as PDF over HTTP, read back with poppler: the settlement sheet of a direct settlement and of an
approved claim (the facts and their hand-worked amounts: forms_support), the registration form and the undertaking
of a filing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.filing.models import Filing
from yidi.reimbursement.forms import registration, settlement_sheet, undertaking
from yidi.reimbursement.forms.common import PersonFacts
from yidi.settlement.models import Settlement
from yidi.settlement.service import MONEY_FIELDS

from ..helpers import person_headers, staff_headers
from .forms_support import (  # noqa: F401 (fixtures)
    CLAIM,
    STAY_SPLIT,
    SUBMITTED,
    SUN,
    UNBALANCED,
    WANG,
    XU,
    XU_CERTNO,
    amount_after,
    approved_filing,
    assert_fonts_embedded,
    assert_renders,
    claims,
    http,
    institution_get,
    is_pdf,
    settled,
    split_of,
    text_of,
)

# -- form 5 -----------------------------------------------------------------------------------------------------


def test_settlement_sheet_shows_the_full_split_which_adds_up_and_equals_the_settlement(
    http: TestClient,  # noqa: F811
    db: Database,
    settled: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    setl_id = settled["setl_id"]
    me = person_headers(http, XU)
    data = is_pdf(
        http.get(f"/api/v1/settlements/{setl_id}/forms/settlement-sheet.pdf", headers=me),
        f"settlement-sheet-{setl_id}.pdf",
    )
    text = text_of(data, tmp_path, "form5-settlement-sheet.pdf")
    assert "异地就医住院结算单" in text and "徐某甲" in text and setl_id in text
    assert "411102********9217" in text and XU_CERTNO not in text  # the masked ID number only
    assert (
        "河南省漯河市" in text and "北京演示第一医院（三级综合）" in text and "三级甲等（医保结算等级：三级）" in text
    )
    assert "E11.900 2型糖尿病" in text and "2025年6月5日" in text and "2025年6月10日" in text and "住院天数 5天" in text
    printed = {
        field: amount_after(text, label)
        for row in settlement_sheet.SPLIT_LAYOUT
        for label, field in row
        if field and field in MONEY_FIELDS
    }
    expected = {
        "medfee_sumamt": "12500.00",
        "fulamt_ownpay_amt": "3000.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "150.00",
        "inscp_scp_amt": "9350.00",
        "act_pay_dedc": "800.00",
        "hifp_pay": "6840.00",
        "cvlserv_pay": "1255.00",
        "hifmi_pay": "0.00",
        "hifob_pay": "0.00",
        "maf_pay": "0.00",
        "oth_pay": "0.00",
        "fund_pay_sumamt": "8095.00",
        "psn_part_amt": "4405.00",
        "acct_pay": "4100.00",
        "psn_cash_pay": "305.00",
    }
    assert printed == {k: Decimal(v) for k, v in expected.items()}
    with db.read_only() as s:
        row = s.get(Settlement, setl_id)
        assert row is not None
        assert printed == {k: getattr(row, k) for k in MONEY_FIELDS}  # the sheet is the settlement
    p = printed
    assert (
        p["fulamt_ownpay_amt"] + p["overlmt_selfpay"] + p["preselfpay_amt"] + p["inscp_scp_amt"] == p["medfee_sumamt"]
    )
    assert (
        p["hifp_pay"] + p["cvlserv_pay"] + p["hifmi_pay"] + p["hifob_pay"] + p["maf_pay"] + p["oth_pay"]
        == p["fund_pay_sumamt"]
    )
    assert p["fund_pay_sumamt"] + p["psn_part_amt"] == p["medfee_sumamt"]
    assert p["acct_pay"] + p["psn_cash_pay"] == p["psn_part_amt"]
    assert "统筹基金支付比例 80.00%" in text
    assert "基金支付合计（大写） 捌仟零玖拾伍元整" in text
    # setldetail: the basic fund, the civil-servant subsidy and the account, each with its amount
    assert re.search(r"310100 职工基本医疗保险统筹基金 9350\.00 \d+\.\d\d 6840\.00", text)
    assert "320100" in text and "1255.00" in text and "310200" in text
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)


def test_settlement_sheet_access(http: TestClient, settled: dict[str, str]) -> None:  # noqa: F811
    path = f"/api/v1/settlements/{settled['setl_id']}/forms/settlement-sheet.pdf"
    assert http.get(path, headers=staff_headers(http, "reviewer.411100")).status_code == 200
    for refused in (person_headers(http, WANG), staff_headers(http, "reviewer.110000")):
        r = http.get(path, headers=refused)  # another person; staff of the treatment place, not the insured place
        assert r.status_code == 404 and r.json()["code"] == "E_NOT_FOUND"
    unknown = http.get(path.replace(settled["setl_id"], "S" + "1" * 29), headers=person_headers(http, XU))
    assert unknown.status_code == 404  # the same answer as for a settlement of someone else
    assert institution_get(http, path).json()["code"] == "E_FORBIDDEN"
    assert http.get(path).json()["code"] == "E_AUTH"


def test_a_cancelled_settlement_has_no_sheet(http: TestClient, db: Database, settled: dict[str, str]) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        row = s.get(Settlement, settled["setl_id"])
        assert row is not None
        row.status = "cancelled"
    r = http.get(
        f"/api/v1/settlements/{settled['setl_id']}/forms/settlement-sheet.pdf", headers=person_headers(http, XU)
    )
    assert r.status_code == 409 and r.json()["code"] == "D_NOT_SETTLED"


def test_claim_settlement_sheet_with_what_was_paid_directly_and_what_is_payable(
    http: TestClient,  # noqa: F811
    claims: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = is_pdf(
        http.get(f"/api/v1/claims/{CLAIM}/forms/settlement-sheet.pdf", headers=staff_headers(http, "reviewer.411100")),
        f"settlement-sheet-{CLAIM}.pdf",
    )
    text = text_of(data, tmp_path, "form5-claim-settlement-sheet.pdf")
    assert "异地就医住院结算单" in text and "王某甲" in text and f"报销单号：{CLAIM}" in text
    assert "I63.900 脑梗死" in text and "住院天数 10天" in text
    for label, amount in (
        ("医疗费总额", "20000.00"),
        ("全自费金额", "1000.00"),
        ("超限价自付金额", "200.00"),
        ("先行自付金额", "300.00"),
        ("符合政策范围金额", "18500.00"),
        ("起付标准（本次负担）", "700.00"),
        ("统筹基金支付", "14774.00"),
        ("基金支付合计", "14774.00"),
        ("个人负担合计", "5226.00"),
        ("个人现金支付", "5226.00"),
        ("已由直接结算支付", "2000.00"),
        ("本次应支付", "12774.00"),
    ):
        assert amount_after(text, label) == Decimal(amount), label
    assert "应支付（大写） 壹万贰仟柒佰柒拾肆元整" in text
    assert "6222***********1234" in text and "6222020202020201234" not in text  # the bank account masked
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)
    mine = http.get(f"/api/v1/claims/{CLAIM}/forms/settlement-sheet.pdf", headers=person_headers(http, WANG))
    assert mine.status_code == 200
    for refused in (person_headers(http, XU), staff_headers(http, "reviewer.110000")):
        r = http.get(f"/api/v1/claims/{CLAIM}/forms/settlement-sheet.pdf", headers=refused)
        assert r.status_code == 404 and r.json()["code"] == "E_NOT_FOUND"


def test_a_sheet_that_does_not_add_up_is_refused(http: TestClient, claims: None) -> None:  # noqa: F811
    me = person_headers(http, WANG)
    r = http.get(f"/api/v1/claims/{UNBALANCED}/forms/settlement-sheet.pdf", headers=me)
    body = r.json()
    assert r.status_code == 409 and body["code"] == "D_UNBALANCED"
    assert "account + cash = person" in body["message_en"] and "不予打印" in body["message_zh"]
    r = http.get(f"/api/v1/claims/{SUBMITTED}/forms/settlement-sheet.pdf", headers=me)
    assert r.status_code == 409 and r.json()["code"] == "D_NOT_APPROVED"


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"medfee_sumamt": "20000.01"}, "parts of the bill"),
        ({"hifp_pay": "14773.00", "psn_part_amt": "5227.00", "psn_cash_pay": "5227.00"}, "funds"),
        ({"fund_pay_sumamt": "14775.00", "hifp_pay": "14775.00"}, "fund + person = total"),
        ({"acct_pay": "-1.00", "psn_cash_pay": "5227.00"}, "no negative amount"),
        ({"maf_pay": "1.5.0"}, "split data"),
    ],
)
def test_each_check_of_the_sheet(change: dict[str, str], check: str) -> None:
    settlement_sheet.check_adds_up(settlement_sheet.Split.from_json(STAY_SPLIT, "t"), "t")  # the original is fine
    with pytest.raises(YidiError) as caught:
        settlement_sheet.check_adds_up(settlement_sheet.Split.from_json(STAY_SPLIT | change, "t"), "t")
    assert caught.value.code == "D_UNBALANCED" and check in caught.value.message_en


def test_claim_totals_must_be_the_visits_sums() -> None:
    split = settlement_sheet.Split.from_json(STAY_SPLIT, "t")

    def case(paid: str) -> settlement_sheet.CareFacts:
        return settlement_sheet.CareFacts(
            "t",
            "医院",
            "",
            "level_3",
            "北京市",
            "21",
            dt.date(2025, 3, 2),
            dt.date(2025, 3, 12),
            "",
            None,
            None,
            split,
            Decimal(paid),
        )

    good = settlement_sheet.ClaimTotals(
        "R", "approved", Decimal("20000.00"), Decimal("14774.00"), Decimal("2000.00"), Decimal("12774.00"), "", "", ""
    )
    settlement_sheet.check_claim(good, [case("2000.00")])
    over = settlement_sheet.ClaimTotals(
        "R", "approved", Decimal("20000.00"), Decimal("14774.00"), Decimal("20000.00"), Decimal("0.00"), "", "", ""
    )
    settlement_sheet.check_claim(over, [case("20000.00")])  # paid directly more than the funds bear: nothing payable
    with pytest.raises(YidiError, match="D_UNBALANCED"):  # the claim's paid directly is its visits'
        settlement_sheet.check_claim(good, [case("0.00")])
    for bad in (
        good.__class__(**{**good.__dict__, "payable": Decimal("12774.01")}),
        good.__class__(**{**good.__dict__, "medfee_sumamt": Decimal("19999.99")}),
        good.__class__(**{**good.__dict__, "fund_pay_sumamt": Decimal("14000.00"), "payable": Decimal("12000.00")}),
    ):
        with pytest.raises(YidiError, match="D_UNBALANCED"):
            settlement_sheet.check_claim(bad, [case("2000.00")])


# -- forms 1 and 2 ----------------------------------------------------------------------------------------------


def test_registration_form_of_a_filing(
    http: TestClient,  # noqa: F811
    db: Database,
    settled: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    filing_id = settled["filing_id"]
    path = f"/api/v1/filings/{filing_id}/forms/registration.pdf"
    data = is_pdf(http.get(path, headers=person_headers(http, XU)), f"registration-{filing_id}.pdf")
    text = text_of(data, tmp_path, "form1-registration.pdf")
    assert "异地就医登记备案表" in text and "徐某甲" in text and filing_id in text
    assert "411102********9217" in text and XU_CERTNO not in text
    for words in (
        "备案类别 异地长期居住人员",
        "人员类型 异地安置退休人员",
        "就医地 北京市（地市）",
        "备案方式 个人承诺（承诺制）",
        "开始日期 2025年6月1日",
        "结束日期 长期（至变更或取消）",
        "办理渠道 国家医保服务平台",
        "备案状态 备案成功",
        "申请时间 2025-06-01 09:00",
        "人员类别 在职（公务员）",
        "参保地 河南省漯河市",
        "险种类型 职工基本医疗保险",
    ):
        assert words in text, words
    with db.read_only() as s:
        filing = s.get(Filing, filing_id)
        assert filing is not None and filing.proof_deadline is not None
        assert f"补交材料期限 {filing.proof_deadline.year}年{filing.proof_deadline.month}月" in text
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)
    assert http.get(path, headers=staff_headers(http, "clearing.411100")).status_code == 200
    for refused in (person_headers(http, WANG), staff_headers(http, "reviewer.110000")):
        assert http.get(path, headers=refused).json()["code"] == "E_NOT_FOUND"


def test_undertaking_is_written_from_the_region_parameters(
    http: TestClient,  # noqa: F811
    db: Database,
    tmp_path: Path,
) -> None:
    """孙某乙, insured in 北京 (on 2025-06-01: proof within 180 days, else cancelled and barred for 24 months),
    files to 漯河 on an undertaking."""
    filing_id = approved_filing(db, SUN, "110000", "411100", dt.date(2025, 6, 1))
    data = is_pdf(
        http.get(f"/api/v1/filings/{filing_id}/forms/undertaking.pdf", headers=person_headers(http, SUN)),
        f"undertaking-{filing_id}.pdf",
    )
    text = text_of(data, tmp_path, "form2-undertaking.pdf")
    with db.read_only() as s:
        filing = s.get(Filing, filing_id)
        assert filing is not None and filing.proof_deadline == dt.date(2025, 6, 1) + dt.timedelta(days=180)
    deadline = "2025年11月28日"  # 1 June + 180 days
    assert "异地就医备案个人承诺书" in text and "孙某乙" in text and "110105********9237" in text
    assert f"自备案申请之日起180日内（即{deadline}前）" in text and "户籍证明" in text
    assert "取消本次备案" in text and "24个月内，本人不再以承诺方式办理" in text
    assert "承诺人（签字）" in text
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)


def test_no_undertaking_for_a_filing_made_with_proof(http: TestClient, db: Database) -> None:  # noqa: F811
    filing_id = approved_filing(db, XU, "411100", "110000", dt.date(2025, 6, 1))
    with db.unit_of_work() as s:
        filing = s.scalar(select(Filing).where(Filing.id == filing_id))
        assert filing is not None
        filing.basis = "materials"
    r = http.get(f"/api/v1/filings/{filing_id}/forms/undertaking.pdf", headers=person_headers(http, XU))
    assert r.status_code == 409 and r.json()["code"] == "D_NOT_COMMITMENT"


def _terms_text(terms: undertaking.CommitmentTerms, subtype: str = "long_term_resident") -> str:
    person = PersonFacts("张某", "110105********0000", "P1", "1", "北京市", "310")
    facts = undertaking.UndertakingFacts("F1", person, subtype, "河南省漯河市", dt.date(2025, 6, 1), None, terms)
    return "".join(undertaking.promises(facts))


def test_the_undertaking_holds_no_number_of_its_own() -> None:
    """Other parameters, other words: 45 days and a 7-month bar come from the terms, not from the template."""
    text = _terms_text(undertaking.CommitmentTerms(45, "cancel", 7))
    assert "45日内" in text and "7个月内" in text and "180" not in text and "24" not in text
    assert "居住证明" in text
    lower = _terms_text(undertaking.CommitmentTerms(90, "lower_ratio", 0))
    assert "90日内" in lower and "待遇标准" in lower and "个月内" not in lower
    downgrade = _terms_text(undertaking.CommitmentTerms(30, "downgrade_to_temporary", 0), "posted_worker")
    assert "其他临时外出就医人员" in downgrade and "工作证明" in downgrade
    none = _terms_text(undertaking.CommitmentTerms(None, "none", 0))
    assert "按参保地医疗保障经办机构的要求补交" in none and "逾期" not in none


def test_a_claim_of_two_visits_prints_each_and_the_claim_totals(tmp_path: Path) -> None:
    """A stay (the module's 20,000.00) and an outpatient visit of 600.00 (100.00 self-paid, fund 400.00): totals
    20,600.00 and 15,174.00; 2,000.00 paid directly, so 13,174.00 payable."""
    person = PersonFacts("王某甲", "411102********9013", WANG, "1", "河南省漯河市", "310", "退休")
    visit = split_of(
        medfee_sumamt="600.00",
        fulamt_ownpay_amt="100.00",
        inscp_scp_amt="500.00",
        hifp_pay="400.00",
        fund_pay_sumamt="400.00",
        psn_part_amt="200.00",
        psn_cash_pay="200.00",
    )
    cases = tuple(
        settlement_sheet.CareFacts(
            f"R 第{n}次就医",
            "北京演示第一医院（三级综合）",
            "三级甲等",
            "level_3",
            "北京市",
            med_type,
            day,
            end,
            "I63.900 脑梗死",
            "long_term",
            None,
            settlement_sheet.Split.from_json(split, "t"),
            Decimal(paid),
        )
        for n, (med_type, day, end, split, paid) in enumerate(
            [
                ("21", dt.date(2025, 3, 2), dt.date(2025, 3, 12), STAY_SPLIT, "2000.00"),
                ("11", dt.date(2025, 4, 1), None, visit, "0.00"),
            ],
            1,
        )
    )
    totals = settlement_sheet.ClaimTotals(
        CLAIM,
        "approved",
        Decimal("20600.00"),
        Decimal("15174.00"),
        Decimal("2000.00"),
        Decimal("13174.00"),
        "王某甲",
        "中国工商银行漯河分行",
        "6222***********1234",
    )
    data = settlement_sheet.fill(
        settlement_sheet.SheetFacts(person, cases, totals), dt.datetime(2025, 7, 20, 9, 0, tzinfo=dt.UTC)
    )
    text = text_of(data, tmp_path)
    assert "异地就医医疗费用结算单" in text  # a stay and an outpatient visit
    assert "第1次就医" in text and "第2次就医" in text and "就诊日期 2025年4月1日" in text
    assert amount_after(text, "本次应支付") == Decimal("13174.00")
    short = totals.__class__(**{**totals.__dict__, "medfee_sumamt": Decimal("20000.00")})  # the second visit left out
    with pytest.raises(YidiError, match="claim total"):
        settlement_sheet.fill(
            settlement_sheet.SheetFacts(person, cases, short), dt.datetime(2025, 7, 20, 9, 0, tzinfo=dt.UTC)
        )


def test_registration_of_a_designated_institution_filing_lists_them(tmp_path: Path) -> None:
    person = PersonFacts("孙某乙", "110105********9237", SUN, "1", "北京市", "310", "退休")
    facts = registration.RegistrationFacts(
        filing_id="F1",
        person=person,
        subtype="designated_chronic",
        target="海南省三亚市",
        target_level="city",
        institutions=("三亚演示人民医院（H46020200001）", "三亚演示肿瘤医院（H46020300002）"),
        disease="M00503 恶性肿瘤门诊治疗",
        begndate=dt.date(2025, 1, 1),
        enddate=dt.date(2027, 12, 31),
        basis="materials",
        proof_deadline=None,
        proof_received_on=None,
        channel="counter",
        status="under_review",
        submitted_at=dt.datetime(2024, 12, 20, 10, 0, tzinfo=dt.UTC),
        approved_on=None,
        void_from=None,
        retroactive=False,
    )
    text = text_of(registration.fill(facts, dt.datetime(2024, 12, 20, 18, 0, tzinfo=dt.UTC)), tmp_path)
    assert "1. 三亚演示人民医院（H46020200001）；2. 三亚演示肿瘤医院（H46020300002）" in text
    assert "门诊慢特病病种 M00503 恶性肿瘤门诊治疗" in text and "备案类别 门诊慢特病异地定点就医" in text
    assert "结束日期 2027年12月31日" in text and "申请时间 2024-12-20 18:00" in text  # Beijing time
    assert "补交材料期限" not in text and "备案状态 审核中" in text and "办理渠道 经办窗口" in text
