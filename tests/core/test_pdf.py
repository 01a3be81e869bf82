"""The shared PDF helper: formats worked out by hand, the font search (and its refusal), a rendered form whose
text, font embedding and page numbers poppler confirms."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core import pdf
from yidi.core.clock import SHANGHAI
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.core.errors import YidiError

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
AT = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)


def poppler(tool: str, *args: str, data: bytes, tmp: Path) -> str:
    """Run a poppler-utils tool on the PDF bytes (CI installs the Debian package poppler-utils)."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} not found: install the Debian package poppler-utils")
    source = tmp / "doc.pdf"
    source.write_bytes(data)
    target = ["-"] if tool == "pdftotext" else []  # to stdout
    done = subprocess.run([tool, *args, str(source), *target], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


@pytest.fixture
def font_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings and the font search forgotten before and after: a test changes YIDI_PDF_FONT or the candidates."""
    reset_settings()
    pdf.reset_fonts()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()
    pdf.reset_fonts()


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("7360", "7360.00"),
        ("0.005", "0.01"),  # half up
        ("-1320.5", "-1320.50"),
        ("1234567.894", "1234567.89"),
    ],
)
def test_amount_text_has_two_decimals_half_up(amount: str, text: str) -> None:
    assert pdf.amount_text(Decimal(amount)) == text


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        pdf.amount_text(7360.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pdf.amount_in_words(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.06", "陆分"),
        ("0.50", "伍角整"),
        ("10", "壹拾元整"),
        ("100.05", "壹佰元零伍分"),
        ("100.50", "壹佰元伍角整"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("1730.40", "壹仟柒佰叁拾元肆角整"),
        ("8095", "捌仟零玖拾伍元整"),
        ("10000", "壹万元整"),
        ("10010", "壹万零壹拾元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("1000001", "壹佰万零壹元整"),
        ("100000000", "壹亿元整"),
        ("120050000.3", "壹亿贰仟零伍万元叁角整"),
        ("-305", "负叁佰零伍元整"),
    ],
)
def test_amount_in_words(amount: str, words: str) -> None:
    assert pdf.amount_in_words(Decimal(amount)) == words


def test_ratio_and_dates() -> None:
    assert pdf.ratio_text(Decimal("0.8300")) == "83.00%"
    assert pdf.date_text(dt.date(2025, 6, 5)) == "2025年6月5日"
    assert pdf.date_text(None) == ""
    assert pdf.time_text(dt.datetime(2025, 6, 10, 1, 0, tzinfo=dt.UTC)) == "2025-06-10 09:00"


def test_noto_cjk_is_cff_and_cannot_be_embedded(font_settings: pytest.MonkeyPatch) -> None:
    """Checked, not assumed: reportlab refuses the Noto CJK collection (PostScript outlines); the refusal names
    the setting and the Debian package of a font that works."""
    if not NOTO.exists():
        pytest.skip("fonts-noto-cjk not installed")
    font_settings.setenv("YIDI_PDF_FONT", str(NOTO))
    reset_settings()
    with pytest.raises(YidiError) as caught:
        pdf.cjk_font()
    err = caught.value
    assert err.code == "E_PDF_FONT" and err.http_status == 500
    assert "postscript outlines are not supported" in err.message_en
    for text in (err.message_zh, err.message_en):
        assert "YIDI_PDF_FONT" in text and "fonts-wqy-zenhei" in text
    assert pdf.font_problem() == str(err)


def test_a_missing_font_names_the_setting_and_the_package(font_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    font_settings.setattr(pdf, "DEBIAN_FONTS", (pdf.FontFile(tmp_path / "wqy-zenhei.ttc"),))
    with pytest.raises(YidiError) as caught:
        pdf.render(pdf.Form("标题", [pdf.Text(["正文"])]), AT)
    assert "YIDI_PDF_FONT unset" in caught.value.message_en
    assert "no such file" in caught.value.message_en and "fonts-wqy-zenhei" in caught.value.message_zh


def test_the_health_check_says_when_forms_cannot_be_printed(
    font_settings: pytest.MonkeyPatch, tmp_path: Path, db: Database
) -> None:
    with TestClient(create_app(db)) as client:
        assert client.get("/healthz").json()["forms"] == {"status": "ok"}
        font_settings.setattr(pdf, "DEBIAN_FONTS", (pdf.FontFile(tmp_path / "wqy-zenhei.ttc"),))
        pdf.reset_fonts()
        forms = client.get("/healthz").json()["forms"]
    assert forms["status"] == "fail" and "fonts-wqy-zenhei" in forms["message"]


def test_a_font_without_chinese_is_refused(font_settings: pytest.MonkeyPatch) -> None:
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not dejavu.exists():
        pytest.skip("fonts-dejavu-core not installed")
    font_settings.setenv("YIDI_PDF_FONT", str(dejavu))
    reset_settings()
    with pytest.raises(YidiError, match="has no Chinese characters"):
        pdf.cjk_font()


def test_the_configured_font_is_used(font_settings: pytest.MonkeyPatch) -> None:
    font_settings.setenv("YIDI_PDF_FONT", str(WQY))
    font_settings.setenv("YIDI_PDF_FONT_INDEX", "1")  # WenQuanYi Zen Hei Sharp, the collection's second font
    reset_settings()
    assert pdf.cjk_font().startswith("YidiCJK-")
    assert pdf.font_problem() is None


def test_a_long_form_is_paged_with_its_font_embedded(tmp_path: Path) -> None:
    rows: list[list[pdf.Cell]] = [[pdf.Num(str(n)), f"检查项目{n}", Decimal(n) + Decimal("0.5")] for n in range(1, 81)]
    form = pdf.Form(
        "测试表单<标题>",
        [
            pdf.Fields([[("姓名", "王某甲"), ("性别", "男")], [("备注", "a < b & c > d")]]),
            pdf.Table(("序号", "项目", "金额（元）"), rows, (1, 4, 2), total=["合计", "", sum(r[2] for r in rows)]),  # type: ignore[misc]
            pdf.Signatures(("承诺人（签字）",)),
            pdf.Stamps(("经办机构（盖章）",)),
        ],
        reference="编号：X1",
    )
    data = pdf.render(form, AT)
    assert data.startswith(b"%PDF-")
    fonts = poppler("pdffonts", data=data, tmp=tmp_path).splitlines()[2:]
    assert fonts and all(line.split()[-5:-3] == ["yes", "yes"] for line in fonts), fonts  # emb, sub
    assert all("WenQuanYi" in line or "YidiCJK" in line for line in fonts)
    text = poppler("pdftotext", "-raw", data=data, tmp=tmp_path)
    assert "测试表单<标题>" in text and "a < b & c > d" in text  # typed text prints as typed
    assert "检查项目80 80.50" in text and "合计 3280.00" in text  # 80·81/2 + 80 × 0.5
    pages = text.count("\f")
    assert pages >= 2 and f"第 1 页 共 {pages} 页" in text and f"第 {pages} 页 共 {pages} 页" in text
    assert "生成时间：2026-06-01 10:00（北京时间）" in text
    assert text.count("序号 项目 金额（元）") >= 2  # the table's header repeated on the page it continues on


def test_text_that_cannot_be_written_is_replaced_not_fatal(tmp_path: Path) -> None:
    data = pdf.render(pdf.Form("标题", [pdf.Text(["半个代理对\ud800后"])]), AT)  # the HTTP edge refuses these
    text = poppler("pdftotext", "-raw", data=data, tmp=tmp_path)
    assert "半个代理对" in text and "后" in text  # U+FFFD in its place (the font has no glyph to show it)
