"""Tables of the treatment-place catalogues."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yidi.core.db import AwareDateTime, Base, UnitPrice
from yidi.reference import models as _reference_models  # noqa: F401 - the tables our foreign keys point at


class CatalogItem(Base):
    """One dated version of an item in a treatment pooling region's catalogue."""

    __tablename__ = "catalog_item"
    __table_args__ = (
        UniqueConstraint("region", "med_list_codg", "begndate"),
        Index("ix_catalog_item_region_name", "region", "med_list_name"),
        Index("ix_catalog_item_region_version", "region", "version_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"))  # treatment pooling region
    med_list_codg: Mapped[str] = mapped_column(String(30))
    med_list_name: Mapped[str] = mapped_column(String(200))
    item_kind: Mapped[str] = mapped_column(String(16))
    chrgitm_lv: Mapped[str] = mapped_column(String(2))  # 01 甲 02 乙 03 丙
    med_chrgitm_type: Mapped[str] = mapped_column(String(2))
    selfpay_prop: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    pric_uplmt_amt: Mapped[Decimal | None] = mapped_column(UnitPrice)
    spec: Mapped[str | None] = mapped_column(String(200))
    lmt_used_scope: Mapped[str | None] = mapped_column(String(500))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(300))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_import.id"))
    # The import that last wrote this row (added it, or closed it with an end date): the row's catalogue version,
    # `ver` in the national catalogue downloads (1301–1306), so an HIS asking for what changed since its version
    # also receives the rows a later import closed. Null only for rows written before versions were kept.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_import.id"))


class CatalogImport(Base):
    """One accepted import file: what, for which region, by whom, with what result."""

    __tablename__ = "catalog_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)  # earlier open-ended versions given an end date
    imported_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    actor: Mapped[str] = mapped_column(String(50))
