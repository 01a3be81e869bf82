"""Printed forms: one look for every PDF the platform issues (A4, an embedded Chinese font, ruled field grids,
amount tables, signature lines, a footer with the generation time and page numbers).

A context describes its form as a `Form` of blocks (`Fields`, `Heading`, `Text`, `Table`, `Signatures`,
`Stamps`, `Note`) and calls `render`; it never touches reportlab itself. Amounts are `Decimal` and print with
two decimals, right-aligned; a float is refused, as everywhere else.

The font must be TrueType (glyf outlines): reportlab embeds those as a subset, but refuses OpenType fonts with
PostScript (CFF) outlines, which is what the Noto Sans/Serif CJK .ttc files are. On Debian the font is the
package fonts-wqy-zenhei; YIDI_PDF_FONT (and YIDI_PDF_FONT_INDEX for a .ttc) names another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus import Table as RlTable
from reportlab.platypus.flowables import Flowable

from yidi.core.clock import to_shanghai
from yidi.core.config import get_settings
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import round_yuan

log = logging.getLogger("yidi.pdf")
# reportlab keeps state in module globals and in the shared font object (its subsets per document) and does not
# promise thread safety; the API renders in worker threads, so one document is built at a time (≈0.1 s each).
_BUILDING = threading.Lock()

FONT_SETTING = "YIDI_PDF_FONT"
FONT_INDEX_SETTING = "YIDI_PDF_FONT_INDEX"
DEBIAN_FONT_PACKAGE = "fonts-wqy-zenhei"
NO_FONT = ErrorKind(
    "E_PDF_FONT",
    "无法生成PDF：没有可嵌入的中文TrueType字体（{reason}）。请安装Debian软件包 " + DEBIAN_FONT_PACKAGE + "，"
    "或以 " + FONT_SETTING + "（.ttc 另设 " + FONT_INDEX_SETTING + "）指定字体文件",
    "cannot print: no embeddable Chinese TrueType font ({reason}). Install the Debian package "
    + DEBIAN_FONT_PACKAGE
    + ", or set "
    + FONT_SETTING
    + " to a .ttf/.ttc font with TrueType outlines (and "
    + FONT_INDEX_SETTING
    + " for a .ttc)",
    500,
)


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int = 0  # the font inside a .ttc collection


# Looked for in this order when YIDI_PDF_FONT is unset: TrueType fonts of Debian packages with the whole of
# GB 2312 and more (fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-uming, fonts-droid-fallback).
DEBIAN_FONTS = (
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),
    FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc")),
    FontFile(Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")),
)
_PROBE = "中国医疗保障"  # a font lacking these would print empty boxes


def _load(candidate: FontFile) -> TTFont | str:
    """The font, or why it cannot be used."""
    if not candidate.path.is_file():
        return f"{candidate.path}: no such file"
    digest = hashlib.sha256(f"{candidate.path.resolve()}#{candidate.index}".encode()).hexdigest()[:10]
    try:
        font = TTFont(f"YidiCJK-{digest}", str(candidate.path), subfontIndex=candidate.index)
    except TTFError as exc:  # e.g. "postscript outlines are not supported" (Noto CJK), a bad .ttc index
        return f"{candidate.path}#{candidate.index}: {exc}"
    missing = [c for c in _PROBE if ord(c) not in font.face.charToGlyph]
    if missing:
        return f"{candidate.path}#{candidate.index}: has no Chinese characters"
    return font


@lru_cache(maxsize=4)
def _registered(configured: Path | None, index: int) -> str:
    # Failures are not cached (an exception leaves the cache empty): installing the font helps without a restart.
    candidates = [FontFile(configured, index)] if configured is not None else list(DEBIAN_FONTS)
    problems = []
    for candidate in candidates:
        loaded = _load(candidate)
        if isinstance(loaded, str):
            problems.append(loaded)
            continue
        pdfmetrics.registerFont(loaded)
        return str(loaded.fontName)
    reason = "; ".join(problems) if configured is not None else f"{FONT_SETTING} unset; " + "; ".join(problems)
    log.error("pdf font unavailable", extra={"reason": reason})
    raise YidiError(NO_FONT, reason=reason)


def cjk_font() -> str:
    """The registered name of the Chinese font from the settings (or the first Debian font found)."""
    settings = get_settings()
    return _registered(settings.pdf_font, settings.pdf_font_index)


def reset_fonts() -> None:
    """Forget which font was found (tests change the settings and the candidates)."""
    _registered.cache_clear()


def font_problem() -> str | None:
    """Why forms cannot be printed with the current settings (None when they can): for start-up checks."""
    try:
        cjk_font()
    except YidiError as exc:
        return str(exc)
    return None


# -- number and date formats ------------------------------------------------------------------------------


def amount_text(amount: Decimal) -> str:
    """ "7360.00": two decimals, half up, no thousands separator (as the national interface writes amounts)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts must be Decimal, got {type(amount).__name__}")
    return f"{round_yuan(amount):.2f}"


def ratio_text(ratio: Decimal) -> str:
    """0.8 → "80.00%"."""
    if not isinstance(ratio, Decimal):
        raise TypeError(f"ratios must be Decimal, got {type(ratio).__name__}")
    return f"{round_yuan(ratio * 100):.2f}%"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿")


def _integer_words(n: int) -> str:
    digits = str(n)
    out: list[str] = []
    zero = False  # a zero is pending: written once before the next non-zero digit
    for i, ch in enumerate(digits):
        pos = len(digits) - 1 - i
        if ch == "0":
            zero = True
        else:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_DIGITS[int(ch)] + _UNITS[pos % 4])
        if pos % 4 == 0 and pos > 0 and int(digits[max(0, i - 3) : i + 1]):
            out.append(_SECTIONS[pos // 4])
    return "".join(out)


def amount_in_words(amount: Decimal) -> str:
    """人民币大写 as cheques and settlement sheets write it: 10000.00 → 壹万元整, 100.05 → 壹佰元零伍分,
    100.50 → 壹佰元伍角整, 0.06 → 陆分 (the rules of 《支付结算办法》: 整 after 元 or 角, never after 分)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts must be Decimal, got {type(amount).__name__}")
    value = round_yuan(amount)
    if abs(value) >= Decimal(10) ** 12:
        raise ValueError("amount too large to write in words")
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    words = _integer_words(yuan) + "元" if yuan else ""
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan and fen:
        words += "零"
    words += _DIGITS[fen] + "分" if fen else "整"
    return sign + words


def date_text(day: dt.date | None) -> str:
    """2025年6月5日 ("" for none)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def time_text(moment: dt.datetime) -> str:
    """2025-06-10 09:00 in Beijing time."""
    return to_shanghai(moment).strftime("%Y-%m-%d %H:%M")


# -- the blocks a form is made of -------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A right-aligned figure that is not money (a ratio, a count, a code)."""

    text: str


Cell = str | Decimal | Num


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Fields:
    """The ruled grid of a form's header: each row holds one to `columns` (label, value) pairs; a row with fewer
    pairs stretches its last value to the right edge."""

    rows: Sequence[Sequence[tuple[str, str]]]
    columns: int = 2
    label_mm: float = 26.0


@dataclass(frozen=True)
class Text:
    """Paragraphs of body text (one per item), indented by two characters as Chinese documents are."""

    paragraphs: Sequence[str]
    indent: bool = True


@dataclass(frozen=True)
class Table:
    """A ruled table: `headers` (repeated on each page), rows of cells, relative column `widths`. A Decimal
    cell prints as a right-aligned two-decimal amount; `total` is a last row set off by a rule."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[float]
    total: Sequence[Cell] | None = None
    total_spans: Sequence[tuple[int, int]] = ()  # (first, last) columns of the total row merged into one cell
    unbroken: bool = False  # moved whole to the next page rather than split (a short table read as one)


@dataclass(frozen=True)
class Signatures:
    """Lines to sign on: "承诺人（签字）：________    日期：    年    月    日" one per row, or `columns` to a
    row (without the date)."""

    labels: Sequence[str]
    dated: bool = True
    columns: int = 1


@dataclass(frozen=True)
class Stamps:
    """Boxes side by side for an opinion, a signature or a seal (the label says which), each dated."""

    labels: Sequence[str]
    height_mm: float = 36.0


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Gap:
    mm: float = 4.0


@dataclass(frozen=True)
class Together:
    """Blocks kept on one page (a heading with the grid and the table it introduces)."""

    blocks: Sequence[Block]


Block = Heading | Fields | Text | Table | Signatures | Stamps | Note | Gap | Together


@dataclass(frozen=True)
class Form:
    title: str
    blocks: Sequence[Block]
    reference: str = ""  # 编号, printed top right
    subtitle: str = ""  # printed top left (e.g. the insured region)
    issuer: str = "yidi 异地就医平台"
    keep_last: int = 2  # the last blocks (signatures, stamps) are kept on one page
    subject: str = ""


# -- rendering --------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 16 * mm, 20 * mm
FRAME_PADDING = 6  # reportlab's frame pads its content by 6 pt on each side
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
BLANK = "\u00a0" * 4  # a blank to fill in: ordinary (and ideographic) spaces collapse in a paragraph, these do not
RULE = colors.HexColor("#333333")
SHADE = colors.HexColor("#EEEEEE")


@dataclass(frozen=True)
class _Styles:
    meta_left: ParagraphStyle
    meta_right: ParagraphStyle
    heading: ParagraphStyle
    label: ParagraphStyle
    value: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    cell_head: ParagraphStyle
    note: ParagraphStyle
    sign: ParagraphStyle
    sign_right: ParagraphStyle


def _styles(font: str) -> _Styles:
    def style(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, wordWrap="CJK", **kw)

    return _Styles(
        meta_left=style("meta_left", 9, 12),
        meta_right=style("meta_right", 9, 12, alignment=TA_RIGHT),
        heading=style("heading", 11, 15, spaceBefore=2 * mm, spaceAfter=1.5 * mm),
        label=style("label", 9.5, 12.5, alignment=TA_CENTER),
        value=style("value", 9.5, 12.5),
        body=style("body", 10.5, 17, spaceBefore=1 * mm, spaceAfter=1 * mm),
        cell=style("cell", 9, 12),
        cell_right=style("cell_right", 9, 12, alignment=TA_RIGHT),
        cell_head=style("cell_head", 9, 12, alignment=TA_CENTER),
        note=style("note", 8.5, 12, textColor=colors.HexColor("#444444")),
        sign=style("sign", 10.5, 14, alignment=TA_LEFT),
        sign_right=style("sign_right", 10.5, 14, alignment=TA_RIGHT),
    )


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape(text: str) -> str:
    # Paragraph text is a small markup language: a value typed by a person must print as typed. A lone surrogate
    # cannot be written to the PDF at all (the HTTP edge refuses them; a caller elsewhere gets U+FFFD).
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_escape(text), style)


def _cell(value: Cell, st: _Styles) -> Paragraph:
    if isinstance(value, Decimal):
        return _p(amount_text(value), st.cell_right)
    if isinstance(value, Num):
        return _p(value.text, st.cell_right)
    return _p(value, st.cell)


def _ruled(font: str, extra: Sequence[tuple[Any, ...]] = ()) -> list[tuple[Any, ...]]:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),  # an empty cell is drawn in the table's font: Helvetica by default
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        *extra,
    ]


def _fields(block: Fields, st: _Styles) -> Flowable:
    n = block.columns
    label_w = block.label_mm * mm
    value_w = (CONTENT_WIDTH - n * label_w) / n
    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = []
    for r, row in enumerate(block.rows):
        if not 1 <= len(row) <= n:
            raise ValueError(f"a field row holds 1 to {n} pairs")
        cells: list[Any] = []
        for label, value in row:
            cells += [_p(label, st.label), _p(value, st.value)]
        cells += [""] * (2 * n - len(cells))
        data.append(cells)
        for c in range(len(row)):
            commands.append(("BACKGROUND", (2 * c, r), (2 * c, r), SHADE))
        if len(row) < n:
            commands.append(("SPAN", (2 * len(row) - 1, r), (2 * n - 1, r)))
    return RlTable(data, colWidths=[label_w, value_w] * n, style=_ruled(st.cell.fontName, commands), hAlign="LEFT")


def _table(block: Table, st: _Styles) -> Flowable:
    total_w = sum(block.widths)
    widths = [CONTENT_WIDTH * w / total_w for w in block.widths]
    data: list[list[Any]] = [[_p(h, st.cell_head) for h in block.headers]] if block.headers else []
    data += [[_cell(c, st) for c in row] for row in block.rows]
    commands: list[tuple[Any, ...]] = []
    if block.headers:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    if block.total is not None:
        data.append([_cell(c, st) for c in block.total])
        commands += [("LINEABOVE", (0, -1), (-1, -1), 1.2, RULE), ("BACKGROUND", (0, -1), (-1, -1), SHADE)]
        commands += [("SPAN", (first, -1), (last, -1)) for first, last in block.total_spans]
    return RlTable(
        data,
        colWidths=widths,
        style=_ruled(st.cell.fontName, commands),
        repeatRows=1 if block.headers else 0,
        hAlign="LEFT",
    )


def _signatures(block: Signatures, st: _Styles) -> Flowable:
    n = block.columns
    dated = block.dated and n == 1
    date = _p(f"日期：{BLANK * 2}年{BLANK}月{BLANK}日", st.sign_right)
    labels = list(block.labels)
    data = []
    for start in range(0, len(labels), n):
        row: list[Any] = []
        for label in labels[start : start + n]:
            row += [_p(f"{label}：", st.sign), ""]
        row += [""] * (2 * n - len(row)) + ([date] if dated else [])
        data.append(row)
    if dated:
        widths = [CONTENT_WIDTH * 0.25, CONTENT_WIDTH * 0.37, CONTENT_WIDTH * 0.38]
    else:  # the label takes what "参保人（签字）：" needs, the line the rest
        share = min(0.6, 0.21 * n)
        widths = [CONTENT_WIDTH / n * share, CONTENT_WIDTH / n * (1 - share)] * n
    style = [
        ("FONTNAME", (0, 0), (-1, -1), st.sign.fontName),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("TOPPADDING", (0, 0), (-1, -1), 5 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        *[("LINEBELOW", (2 * c + 1, 0), (2 * c + 1, -1), 0.6, RULE) for c in range(n)],
    ]
    return RlTable(data, colWidths=widths, style=style, hAlign="LEFT")


def _stamps(block: Stamps, st: _Styles) -> Flowable:
    n = len(block.labels)
    inner = block.height_mm * mm - 2 * 12 - 8  # the label and the date lines take the rest
    cells = [
        [
            _p(label, st.value),
            Spacer(1, inner),
            _p(f"年{BLANK}月{BLANK}日", st.meta_right),
        ]
        for label in block.labels
    ]
    style = [
        ("FONTNAME", (0, 0), (-1, -1), st.value.fontName),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("INNERGRID", (0, 0), (-1, -1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    return RlTable([cells], colWidths=[CONTENT_WIDTH / n] * n, style=style, hAlign="LEFT")


def _flowable(block: Block, st: _Styles, *, kept: bool = False) -> list[Flowable]:
    """`kept`: inside a `Together`, which keeps its blocks on one page already (reportlab misjudges the height of
    one KeepTogether inside another and breaks the page before it)."""
    if isinstance(block, Heading):
        return [_p(block.text, st.heading)]
    if isinstance(block, Fields):
        return [_fields(block, st)]
    if isinstance(block, Text):
        style = ParagraphStyle("text", parent=st.body, firstLineIndent=2 * st.body.fontSize if block.indent else 0)
        return [_p(t, style) for t in block.paragraphs]
    if isinstance(block, Table):
        return [KeepTogether([_table(block, st)]) if block.unbroken and not kept else _table(block, st)]
    if isinstance(block, Signatures):
        return [_signatures(block, st)]
    if isinstance(block, Stamps):
        return [Spacer(1, 3 * mm), _stamps(block, st)]
    if isinstance(block, Together):
        return [KeepTogether([f for inner in block.blocks for f in _flowable(inner, st, kept=True)])]
    if isinstance(block, Note):
        return [Spacer(1, 1.5 * mm), _p(block.text, st.note)]
    return [Spacer(1, block.mm * mm)]


class _Title(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """The form's title, centred and bold: drawn filled and stroked, since the font has no bold face."""

    def __init__(self, text: str, font: str, size: float = 18) -> None:
        super().__init__()
        self.text, self.font, self.size = text, font, size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.size * 1.6

    def draw(self) -> None:
        c = self.canv
        size = min(self.size, self.size * self.width / max(1, c.stringWidth(self.text, self.font, self.size)))
        c.saveState()
        c.setLineWidth(size / 30)
        text = c.beginText()
        text.setTextRenderMode(2)  # fill, then stroke the outline: a bold look
        text.setFont(self.font, size)  # smaller when a long title would not fit the line
        text.setTextOrigin((self.width - c.stringWidth(self.text, self.font, size)) / 2, self.size * 0.45)
        text.textOut(self.text)
        c.drawText(text)
        c.restoreState()


class _FooterCanvas(canvas.Canvas):  # type: ignore[misc]  # reportlab has no type information
    """Keeps every page until the end, so that each footer can say "第 n 页 共 N 页"."""

    def __init__(self, *args: Any, footer: str, font: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer, self._font = footer, font
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab names it so
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self.setFont(self._font, 8)
            self.setFillColor(colors.HexColor("#444444"))
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.4)
            self.line(MARGIN_X, MARGIN_BOTTOM - 5 * mm, PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 5 * mm)
            self.drawString(MARGIN_X, MARGIN_BOTTOM - 9 * mm, self._footer)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 9 * mm, f"第 {number} 页  共 {total} 页")
            super().showPage()
        super().save()


def render(form: Form, generated_at: dt.datetime) -> bytes:
    """The form as PDF bytes: A4, the Chinese font embedded (subset), a footer on every page with the issuer,
    the generation time in Beijing time and the page numbers."""
    font = cjk_font()
    st = _styles(font)
    story: list[Flowable] = [_Title(form.title, font), Spacer(1, 2 * mm)]
    if form.subtitle or form.reference:
        meta = RlTable(
            [[_p(form.subtitle, st.meta_left), _p(form.reference, st.meta_right)]],
            colWidths=[CONTENT_WIDTH * 0.4, CONTENT_WIDTH * 0.6],  # the reference (an id) is the longer
            style=[
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ],
        )
        story += [meta, Spacer(1, 1.5 * mm)]
    split = max(0, len(form.blocks) - form.keep_last)
    story += [f for block in form.blocks[:split] for f in _flowable(block, st)]
    if form.blocks[split:]:  # signatures and seals are not separated from each other by a page break
        story.append(KeepTogether([f for block in form.blocks[split:] for f in _flowable(block, st, kept=True)]))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X - FRAME_PADDING,
        rightMargin=MARGIN_X - FRAME_PADDING,
        topMargin=MARGIN_TOP - FRAME_PADDING,
        bottomMargin=MARGIN_BOTTOM - FRAME_PADDING,
        title=form.title,
        author=form.issuer,
        creator=form.issuer,
        subject=form.subject or form.title,
        lang="zh-CN",
        initialFontName=font,  # else every page starts in Helvetica, a font the PDF would name but not embed
        initialFontSize=9,
    )
    footer = f"{form.issuer}  生成时间：{time_text(generated_at)}（北京时间）"
    with _BUILDING:
        doc.build(story, canvasmaker=partial(_FooterCanvas, footer=footer, font=font))
    return buffer.getvalue()
