"""The files of the national catalogue downloads (1301 drugs, 1302 herbal pieces, 1305 service items, 1306
consumables): tab-separated rows, no header, columns in the order of the specification's output table for that
catalogue, zipped, fetched with 9102.

Column orders as three public copies of the specification agree on them: the platform's tables in
newtouch-cloud/openhis (Newtouch.HIS.Domain.ReportTemplateVO: G_yb_wm_tcmpat_info_b, G_yb_tcmherb_info_b,
G_yb_trt_serv_b, G_yb_mcs_info_b), the same adapter's parser (NeiMengGuYiBaoApp OutputDownload13, column titles in
Chinese) and a Guangzhou HIS parser (FS.HISFC YB_1301, YB_1305). The file holds no creator or operator columns.
A column yidi does not hold is left empty; only what the treatment place's catalogue records is filled in.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from yidi.catalog.models import CatalogItem
from yidi.catalog.rules import ItemKind
from yidi.core.clock import SHANGHAI

DRUG_COLUMNS = (  # 1301 西药中成药目录
    "med_list_codg drug_prodname genname_codg drug_genname chemname alis eng_name reg_name drugstdcode "
    "drug_dosform drug_dosform_name drug_type drug_type_name drug_spec drug_spec_code reg_dosform reg_spec "
    "reg_spec_code each_dos used_frqu acdbas nat_drug_no used_mtd tcmpat_flag prodplac_type prodplac_type_name "
    "prcunt_type otc_flag otc_flag_name pacmatl pacmatl_name pacspec pac_cnt efcc_atd rute manl begndate enddate "
    "min_useunt min_salunt min_unt min_pac_cnt min_pacunt min_prepunt minpacunt_name min_prepunt_name convrat "
    "drug_expy min_prcunt wubi pinyin subpck_fcty prodentp_code prodentp_name sp_lmtpric_drug_flag sp_drug_flag "
    "lmt_usescp lmt_used_flag drug_regno drug_regcert_begndate drug_regcert_enddate aprvno aprvno_begndate "
    "aprvno_enddate mkt_stas mkt_stas_name drug_reg_appvletr_elecacs splm_appy_appvletr_file nat_hi_druglist_memo "
    "bas_medn_flag_name bas_medn_flag advaltax_adjm_drug_flag advaltax_adjm_drug_name lstd_druglist_drug "
    "hi_nego_drug_flag hi_nego_drug_name nhc_drug_codg memo vali_flag rid crte_time updt_time ver ver_name chld_medc "
    "co_name conseval_drug dstr dstr_coner dstr_auth_file_elecacs nat_hi_druglist_dosform nat_hi_druglist_chrgitm_lv"
).split()
HERBAL_COLUMNS = (  # 1302 中药饮片目录 (the table adds std_elecacs at the end; the Chinese parser stops before it)
    "med_list_codg tcmherb_name cpnd_flag qlt_reg tcmherb_year med_part safe_mtr cnvl_used natfla mertpm cat "
    "begndate enddate vali_flag rid crte_time updt_time ver ver_name mlms_name efcc_atd psdg_mtd ecy_type "
    "mlms_cat_souc nat_hi_pay_pol prov_hi_pay_pol std_name std_pagen std_elecacs"
).split()
SERVICE_COLUMNS = (  # 1305 医疗服务项目目录
    "med_list_codg prcunt prcunt_name trt_item_dscr trt_exct_cont trt_item_cont vali_flag memo servitem_type "
    "servitem_name item_dscr begndate enddate rid ver ver_name"
).split()
CONSUMABLE_COLUMNS = (  # 1306 医用耗材目录
    "med_list_codg mcs_name udi hi_genname_code hi_genname prod_mol spec_code spec mcs_type spec_mol matl_code "
    "mcs_matl pacspec pac_cnt prod_pacmatl pacunt prod_convrat min_useunt prodplac_type prodplac_type_name "
    "prodstrd prodexpy perf_stru_comp apb_scp prod_istr prod_img_no prod_qlt_std manl oth_cert_matl sped_flag "
    "sped_name comb_name case_flag lmt_used_flag hi_lmt_scp min_salunt highval_mcs_flag matl_type_code "
    "impt_matl_hmorgn_flag stlz_flag stlz_flag_name impt_itvt_clss_flag impt_itvt_clss_name dspo_used_flag "
    "dspo_used_flag_name reger_name begndate enddate med_equ_mgt_type med_equ_mgt_type_name reg_fil_no "
    "reg_fil_prod_name stru_comp oth_cont aprv_date reger_addr regcert_expy_begntime regcert_expy_endtime "
    "prodentp_code prodentp_name manu_addr agnt_entp agnt_entp_addr manu_nat_regn aftsal_serins reg_fil_elec_file "
    "prod_img vali_flag rid ver ver_name"
).split()


@dataclass(frozen=True)
class Published:
    """A catalogue row as the interface shows it: with the times and the version of the imports behind it."""

    item: CatalogItem
    crte_time: dt.datetime | None  # the import that added it
    updt_time: dt.datetime | None  # the import that last wrote it (its version)
    ver: str


def _common(p: Published) -> dict[str, object]:
    i = p.item
    return {
        "med_list_codg": i.med_list_codg,
        "begndate": i.begndate,
        "enddate": i.enddate,
        "vali_flag": "1",  # a stored row is a valid record; whether it is in force is begndate–enddate
        "rid": str(i.id),
        "crte_time": p.crte_time,
        "updt_time": p.updt_time,
        "ver": p.ver,
        # Clients send back the version name of a row as the next `ver` (NeiMengGuYiBaoApp reads 版本名称 of the
        # first row): the name is the version itself so that either habit asks for the right thing.
        "ver_name": p.ver,
    }


def lmt_used_flag(item: CatalogItem) -> str:
    return "1" if item.lmt_used_scope else "0"


def _drug(p: Published) -> dict[str, object]:
    i = p.item
    return {
        **_common(p),
        "drug_genname": i.med_list_name,  # the catalogue's name is the generic name with its form (阿卡波糖片)
        "drug_spec": i.spec,
        "tcmpat_flag": "1" if i.item_kind == ItemKind.PATENT_DRUG else "0",
        "lmt_usescp": i.lmt_used_scope,
        "lmt_used_flag": lmt_used_flag(i),
        "memo": i.reference,
    }


def _herbal(p: Published) -> dict[str, object]:
    return {**_common(p), "tcmherb_name": p.item.med_list_name}


def _service(p: Published) -> dict[str, object]:
    i = p.item
    # The catalogue's spec of a service item is its pricing unit as written (次, 项); the unit's code is not kept.
    return {**_common(p), "prcunt_name": i.spec, "servitem_name": i.med_list_name, "memo": i.reference}


def _consumable(p: Published) -> dict[str, object]:
    i = p.item
    return {
        **_common(p),
        "mcs_name": i.med_list_name,
        "spec": i.spec,
        "lmt_used_flag": lmt_used_flag(i),
        "hi_lmt_scp": i.lmt_used_scope,
    }


@dataclass(frozen=True)
class Layout:
    infno: str
    title: str
    kinds: frozenset[ItemKind]
    columns: tuple[str, ...]
    values: Callable[[Published], Mapping[str, object]]


LAYOUTS = {
    layout.infno: layout
    for layout in (
        Layout(
            "1301",
            "西药中成药目录",
            frozenset({ItemKind.WESTERN_DRUG, ItemKind.PATENT_DRUG}),
            tuple(DRUG_COLUMNS),
            _drug,
        ),
        Layout("1302", "中药饮片目录", frozenset({ItemKind.HERBAL}), tuple(HERBAL_COLUMNS), _herbal),
        Layout("1305", "医疗服务项目目录", frozenset({ItemKind.SERVICE}), tuple(SERVICE_COLUMNS), _service),
        Layout("1306", "医用耗材目录", frozenset({ItemKind.CONSUMABLE}), tuple(CONSUMABLE_COLUMNS), _consumable),
    )
}


def interface_text(value: object) -> str:
    """One value as the interface writes it: dates yyyy-MM-dd, times yyyy-MM-dd HH:mm:ss (Beijing), unknown empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# A tab or any line boundary inside a value (\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028, U+2029: what a reader's
# splitlines may split on) would shift every later column of the row: written as a space.
_BREAKS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _cell(value: object) -> str:
    return _BREAKS.sub(" ", interface_text(value))


def line(layout: Layout, row: Published) -> str:
    known = layout.values(row)
    return "\t".join(_cell(known.get(column)) for column in layout.columns)


def zipped(text_name: str, rows: Iterable[str]) -> bytes:
    """The zip 9102 returns: one UTF-8 text file named like the zip without `.zip` (as clients unpack it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(text_name, "".join(f"{r}\n" for r in rows))
    return buffer.getvalue()
