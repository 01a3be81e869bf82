"""Forms 3 and 4 as PDF over HTTP: the injury undertaking and the outside-care form, from a claim visit or from
values the caller gives, and the bounds on what the caller may give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.core.clock import SHANGHAI

from ..helpers import person_headers, staff_headers
from .forms_support import (  # noqa: F401 (fixtures)
    CLAIM,
    DRAFT,
    WANG,
    XU,
    amount_after,
    assert_fonts_embedded,
    assert_renders,
    claims,
    http,
    is_pdf,
    text_of,
)

# -- forms 3 and 4 ----------------------------------------------------------------------------------------------


def test_injury_undertaking_from_a_claim_visit_and_from_values(
    http: TestClient,  # noqa: F811
    claims: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    me = person_headers(http, WANG)
    description = "在家中浴室滑倒，右腕着地致右桡骨远端骨折，无他人参与"
    body = {
        "claim_visit": {"claim_id": DRAFT, "visit_seq": 1},
        "description": description,
        "injury_date": "2025-03-02",
        "injury_place": "河南省漯河市源汇区家中",
    }
    today = dt.datetime.now(SHANGHAI).date()
    data = is_pdf(
        http.post("/api/v1/forms/injury-undertaking.pdf", headers=me, json=body),
        f"injury-undertaking-{WANG}-{today:%Y%m%d}.pdf",
    )
    text = text_of(data, tmp_path, "form3-injury-undertaking.pdf")
    assert "外伤无第三方责任承诺书" in text and "王某甲" in text and description in text
    assert "不存在应当承担医疗费用的第三方责任人" in text and "退还医疗保障基金已支付的全部费用" in text
    assert "北京演示第一医院（三级综合）" in text and "2025年3月2日 至 2025年3月12日" in text
    assert f"报销单号：{DRAFT}（第1次就医）" in text
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)
    # A visit not recorded as an injury; another person's claim
    r = http.post(
        "/api/v1/forms/injury-undertaking.pdf",
        headers=me,
        json=body | {"claim_visit": {"claim_id": CLAIM, "visit_seq": 1}},
    )
    assert r.status_code == 409 and r.json()["code"] == "D_NOT_INJURY"
    r = http.post("/api/v1/forms/injury-undertaking.pdf", headers=person_headers(http, XU), json=body)
    assert r.status_code == 404
    # From values: staff of the person's region name the person
    values = {
        "psn_no": WANG,
        "institution": "漯河演示骨科医院",
        "begndate": "2025-08-03",
        "description": "骑自行车自行摔倒",
    }
    staff = staff_headers(http, "reviewer.411100")
    text = text_of(
        is_pdf(
            http.post("/api/v1/forms/injury-undertaking.pdf", headers=staff, json=values),
            f"injury-undertaking-{WANG}-{today:%Y%m%d}.pdf",
        ),
        tmp_path,
    )
    assert "漯河演示骨科医院" in text and "就医日期 2025年8月3日" in text and "骑自行车自行摔倒" in text
    r = http.post("/api/v1/forms/injury-undertaking.pdf", headers=staff_headers(http, "reviewer.110000"), json=values)
    assert r.status_code == 404
    r = http.post("/api/v1/forms/injury-undertaking.pdf", headers=staff, json=values | {"psn_no": None})
    assert r.status_code == 422 and "psn_no" in r.json()["message_en"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": "x" * 301}, "description"),
        ({"description": "   "}, "description"),
        ({"begndate": "2099-01-01"}, "begndate"),
        ({"enddate": "2025-08-01"}, "begndate"),  # before it begins
        ({"injury_date": "2025-08-04"}, "injury_date"),  # after the visit began
        ({"institution": "院" * 101}, "institution"),
        ({"claim_visit": {"claim_id": DRAFT, "visit_seq": 1}}, "claim_id"),  # both a claim visit and values
        ({"extra": 1}, "extra"),
    ],
)
def test_injury_input_is_bounded(http: TestClient, claims: None, change: dict[str, Any], field: str) -> None:  # noqa: F811
    values = {"institution": "漯河演示骨科医院", "begndate": "2025-08-03", "description": "自行摔倒"}
    r = http.post("/api/v1/forms/injury-undertaking.pdf", headers=person_headers(http, WANG), json=values | change)
    assert r.status_code == 422, r.text
    assert field in r.json()["message_en"]


OUTSIDE_ITEMS = [
    {
        "day": "2025-03-04",
        "institution": "北京演示肿瘤医院",
        "kind": "test",
        "item": "正电子发射计算机断层显像（PET-CT）",
        "amount": "380.00",
    },
    {
        "day": "2025-03-06",
        "institution": "北京演示海淀医院（二级）",
        "kind": "treatment",
        "item": "高压氧治疗",
        "amount": "1260.50",
    },
    {"day": "2025-03-09", "institution": "北京演示大药房", "kind": "drug", "item": "丁苯酞软胶囊", "amount": "89.90"},
]


def test_outside_care_form_with_items_and_their_total(
    http: TestClient,  # noqa: F811
    claims: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    me = person_headers(http, WANG)
    body = {
        "claim_visit": {"claim_id": CLAIM, "visit_seq": 1},
        "items": OUTSIDE_ITEMS,
        "department": "神经内科",
        "admission_no": "ZY20250302",
    }
    today = dt.datetime.now(SHANGHAI).date()
    data = is_pdf(
        http.post("/api/v1/forms/outside-care.pdf", headers=me, json=body), f"outside-care-{WANG}-{today:%Y%m%d}.pdf"
    )
    text = text_of(data, tmp_path, "form4-outside-care.pdf")
    assert "住院期间外院检查治疗或定点药店购药单" in text and "王某甲" in text
    assert "住院医疗机构 北京演示第一医院（三级综合）" in text and "诊断 I63.900 脑梗死" in text
    assert "入院日期 2025年3月2日" in text and "住院号 ZY20250302" in text
    assert "2 2025年3月6日 北京演示海淀医院（二级） 治疗 高压氧治疗 1260.50" in text, text
    assert "丁苯酞软胶囊 89.90" in text
    assert amount_after(text, "人民币（大写）壹仟柒佰叁拾元肆角整") == Decimal("1730.40")  # 380 + 1260.50 + 89.90
    assert "经治医师（签字）" in text and "科室负责人（签字）" in text
    assert_fonts_embedded(data, tmp_path)
    assert_renders(data, tmp_path)
    values = {
        "psn_no": WANG,
        "institution": "漯河演示中心医院",
        "admission": "2025-08-01",
        "discharge": "2025-08-10",
        "diagnosis": "肺炎",
        "items": [OUTSIDE_ITEMS[2] | {"day": "2025-08-05"}],
    }
    staff = staff_headers(http, "reviewer.411100")
    text = text_of(
        is_pdf(
            http.post("/api/v1/forms/outside-care.pdf", headers=staff, json=values),
            f"outside-care-{WANG}-{today:%Y%m%d}.pdf",
        ),
        tmp_path,
    )
    assert "漯河演示中心医院" in text and "诊断 肺炎" in text and "合计 人民币（大写）捌拾玖元玖角整 89.90" in text
    r = http.post("/api/v1/forms/outside-care.pdf", headers=staff_headers(http, "reviewer.110000"), json=values)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [OUTSIDE_ITEMS[0]] * 31}, "items"),
        ({"items": [OUTSIDE_ITEMS[0] | {"day": "2025-07-31"}]}, "items[0].day"),  # before admission
        ({"items": [OUTSIDE_ITEMS[0] | {"day": "2025-08-11"}]}, "items[0].day"),  # after discharge
        ({"items": [OUTSIDE_ITEMS[0] | {"amount": 12.5}]}, "amount"),  # a float
        ({"items": [OUTSIDE_ITEMS[0] | {"amount": "12.345"}]}, "amount"),
        ({"items": [OUTSIDE_ITEMS[0] | {"amount": "0"}]}, "items[0].amount"),
        ({"items": [OUTSIDE_ITEMS[0] | {"amount": "5000000.01"}]}, "items[0].amount"),  # the platform's line limit
        ({"items": [OUTSIDE_ITEMS[0] | {"kind": "massage"}]}, "kind"),
        ({"items": [OUTSIDE_ITEMS[0] | {"item": "药" * 101}]}, "item"),
        ({"diagnosis": None}, "diagnosis"),
        ({"admission": None}, "admission"),
        ({"discharge": "2025-07-30"}, "admission"),  # ends before it begins
        ({"claim_visit": {"claim_id": CLAIM, "visit_seq": 1}}, "claim_id"),
    ],
)
def test_outside_care_input_is_bounded(http: TestClient, claims: None, change: dict[str, Any], field: str) -> None:  # noqa: F811
    values = {
        "institution": "漯河演示中心医院",
        "admission": "2025-08-01",
        "discharge": "2025-08-10",
        "diagnosis": "肺炎",
        "items": [OUTSIDE_ITEMS[0] | {"day": "2025-08-05"}],
    }
    r = http.post("/api/v1/forms/outside-care.pdf", headers=person_headers(http, WANG), json=values | change)
    assert r.status_code == 422, r.text
    assert field in r.json()["message_en"]
