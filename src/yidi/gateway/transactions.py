"""The transactions the gateway answers: each takes the call and the `input` node and returns `output`."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.certno import validate_certno
from yidi.core.config import get_settings
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.filing import interface as filing_tx
from yidi.gateway import catalogue
from yidi.gateway.messages import tombstone
from yidi.people.models import Person
from yidi.people.service import age_on, find_by_certno, get_person
from yidi.reference.models import Institution
from yidi.security.evoucher import verify_evoucher
from yidi.settlement import files, pharmacy, presence, queries, reconciliation, visits
from yidi.settlement import service as st
from yidi.settlement.inputs import BAD_INPUT, Call
from yidi.settlement.models import OperatorSignIn

Handler = Callable[[Session, Call, dict[str, Any]], dict[str, Any]]


def _node(data: dict[str, Any], name: str) -> dict[str, Any]:
    node = data.get(name)
    if not isinstance(node, dict):
        raise YidiError(BAD_INPUT, field=f"input.{name}", problem="is required / 必填")
    return node


def _body(data: dict[str, Any], name: str = "data") -> dict[str, Any]:
    """The named node when the client wrapped the fields in it (most do), else the input itself."""
    node = data.get(name)
    return node if isinstance(node, dict) else data


def _rows(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    rows = data.get(name)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise YidiError(BAD_INPUT, field=f"input.{name}", problem="must be a list of objects / 应为对象数组")
    return rows


def sign_in(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    node = _node(data, "signIn")
    sign_no = new_platform_id(PlatformIdKind.VISIT, "000000", call.now).replace("V", "Q", 1)
    session.add(
        OperatorSignIn(
            sign_no=sign_no,
            fixmedins_code=call.fixmedins_code,
            opter_no=inputs.text(node, "opter_no", max_len=30),
            sign_time=call.now,
        )
    )
    return {"signinoutb": {"sign_time": call.now.strftime("%Y-%m-%d %H:%M:%S"), "sign_no": sign_no}}


def sign_out(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    node = _node(data, "signOut")
    row = session.get(OperatorSignIn, inputs.text(node, "sign_no", max_len=30))
    if row is None or row.fixmedins_code != call.fixmedins_code:
        raise YidiError(NOT_FOUND, what="签到 / sign-in", key=str(node.get("sign_no")))
    row.signed_out_at = call.now
    return {"signoutoutb": {"sign_time": call.now.strftime("%Y-%m-%d %H:%M:%S")}}


def identify(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """1101: by e-voucher token (01), ID card (02) or social security card (03, card_sn required)."""
    node = _node(data, "data")
    cert_type = inputs.text(node, "mdtrt_cert_type", max_len=2)
    cert_no = inputs.text(node, "mdtrt_cert_no", max_len=600)
    person: Person | None
    presented: str | None = None  # the ID number the institution showed, when it is the person's own
    if cert_type == "01":
        try:
            psn_no = verify_evoucher(cert_no, call.now)
        except (YidiError, ValueError):  # forged, tampered, malformed or expired: the HIS asks for a fresh code
            raise YidiError(
                BAD_INPUT,
                field="mdtrt_cert_no",
                problem="is not a valid e-voucher token or has expired; scan a fresh QR code / "
                "医保电子凭证无效或已过期，请重新出示",
            ) from None
        person = session.get(Person, psn_no)
    elif cert_type in ("02", "03"):
        if cert_type == "03" and not inputs.text(node, "card_sn", required=False, max_len=32):
            raise YidiError(
                BAD_INPUT, field="card_sn", problem="is required for a social security card / 社保卡须填卡识别码"
            )
        certno = inputs.text(node, "certno", required=False, max_len=50) or cert_no
        try:
            presented = validate_certno(certno)
            person = find_by_certno(session, presented)
        except YidiError as exc:
            raise YidiError(BAD_INPUT, field="mdtrt_cert_no", problem=exc.message_en) from None
    else:
        raise YidiError(BAD_INPUT, field="mdtrt_cert_type", problem="must be 01, 02 or 03 / 应为01、02或03")
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key="(certificate)")
    person = get_person(session, person.psn_no)
    presence.record_identification(session, call.fixmedins_code, person.psn_no, call.now)
    return {
        # An institution that read the person's own ID number off their ID or social security card (02, 03) gets
        # that number back: the person was found by its keyed index, so it is theirs and nothing new is disclosed.
        # An e-voucher (01) carries no ID number: the institution is neither the person nor their agency, and
        # gets the mask.
        "baseinfo": {
            "psn_no": person.psn_no,
            "psn_cert_type": person.psn_cert_type,
            "certno": presented or person.certno_masked,
            "psn_name": person.psn_name,
            "gend": person.gend,
            "naty": person.naty,
            "brdy": str(person.brdy),
            "age": str(age_on(person.brdy, call.now.date())),
            "exp_content": None,
        },
        "insuinfo": [
            {
                "insutype": i.insutype,
                "psn_type": i.psn_type,
                "psn_insu_stas": i.psn_insu_stas,
                "balc": str(i.balc),
                "insuplc_admdvs": i.insuplc_admdvs,
                "psn_insu_date": str(i.begndate),
                "paus_insu_date": str(i.enddate) if i.enddate else None,
                "cvlserv_flag": "1" if i.civil_servant else "0",
                "emp_name": i.emp_name,
            }
            for i in person.insurances
        ],
        "idetinfo": [],
    }


def institution_info(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """1201: designated institutions by code, name or type."""
    node = _body(data, "medinsinfo") if isinstance(data.get("medinsinfo"), dict) else {}
    stmt = select(Institution).order_by(Institution.fixmedins_code).limit(100)
    code = inputs.text(node, "fixmedins_code", required=False, max_len=12)  # each filter: blank = not filtered
    kind = inputs.text(node, "fixmedins_type", required=False, max_len=6)
    name = inputs.text(node, "fixmedins_name", required=False, max_len=200)
    if code:
        stmt = stmt.where(Institution.fixmedins_code == code)
    if kind:
        stmt = stmt.where(Institution.fixmedins_type == kind)
    if name:
        stmt = stmt.where(Institution.fixmedins_name.like(f"%{name[:50]}%"))
    return {
        "medinsinfo": [
            {
                "fixmedins_code": i.fixmedins_code,
                "fixmedins_name": i.fixmedins_name,
                "fixmedins_type": i.fixmedins_type,
                "hosp_lv": i.hosp_lv or "",
                "uscc": i.uscc or "",
            }
            for i in session.scalars(stmt)
        ]
    }


@lru_cache(maxsize=1)
def dictionaries() -> dict[str, dict[str, str]]:
    text = resources.files("yidi.gateway").joinpath("data/dictionaries.yaml").read_text(encoding="utf-8")
    return {k: {str(c): str(v) for c, v in table.items()} for k, table in yaml.safe_load(text).items()}


def dictionary(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """1901: a code table (`type`), or the list of tables when `type` is empty."""
    name = inputs.text(data, "type", required=False, max_len=50)
    tables = dictionaries()
    if not name:
        return {"list": [{"type": t, "label": t, "value": t} for t in sorted(tables)]}
    if name not in tables:
        raise YidiError(BAD_INPUT, field="type", problem=f"unknown code table {name} / 未知字典")
    return {
        "list": [
            {
                "type": name,
                "label": label,
                "value": code,
                "parent_value": "",
                "sort": str(n),
                "vali_flag": "1",
                "version": "1",
            }
            for n, (code, label) in enumerate(tables[name].items(), 1)
        ]
    }


def benefit_check(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2001: would the person be covered at this institution for this care on this date?"""
    node = _body(data)
    begntime = inputs.time(node, "begntime")
    assert begntime is not None
    from yidi.filing.service import coverage_for

    decision = coverage_for(
        session,
        inputs.text(node, "psn_no", max_len=30),
        call.fixmedins_code,
        inputs.text(node, "med_type", max_len=6),
        inputs.text(node, "dise_codg", required=False, max_len=30) or None,
        begntime.date(),
        inputs.text(node, "insutype", required=False, max_len=3) or None,
    )
    return {
        "trtinfo": [
            {
                "fund_pay_type": "",
                "trt_enjymnt_flag": "1" if decision.covered else "0",
                "begndate": str(begntime.date()),
                "enddate": "",
                "trt_chk_rslt": "; ".join(decision.reasons),
                "coverage": decision.coverage.value,
                "category": decision.category.value,
            }
        ]
    }


def _reverse(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2601: undo a one-sided 2207/2304/2102 by its msgid; if it never arrived, it never will settle."""
    omsgid, oinfno = inputs.text(data, "omsgid", max_len=30), inputs.text(data, "oinfno", max_len=5)
    if oinfno[:4] not in ("2207", "2304", "2102"):
        raise YidiError(
            BAD_INPUT, field="oinfno", problem="only 2207, 2304 or 2102 can be reversed / 仅可冲正2207、2304或2102"
        )
    if not omsgid.startswith(call.fixmedins_code):
        raise YidiError(NOT_FOUND, what="原交易 / original message", key=omsgid)
    original = st.find_settlement_by_msgid(session, omsgid, oinfno[:4])
    if original is None:
        tombstone(session, call, omsgid, oinfno)
        return {"omsgid": omsgid, "oinfno": oinfno, "rslt": "nothing settled; the original is now refused"}
    if original.status == "cancelled":
        return {"omsgid": omsgid, "oinfno": oinfno, "rslt": "already reversed"}
    cancel = pharmacy.cancel_purchase if oinfno[:4] == "2102" else st.cancel_settlement
    out = cancel(session, call, original.setl_id, None, inputs.text(data, "psn_no", max_len=30))
    return {"omsgid": omsgid, "oinfno": oinfno, "rslt": "reversed", **out}


def _filing(fn: Callable[..., dict[str, Any]], node: str | None = None) -> Handler:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _node(data, node) if node else (_body(data))
        return fn(session, call.principal, body, call.now)

    return handler


def _query(fn: Callable[[Session, dict[str, Any]], dict[str, Any]]) -> Handler:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _body(data)
        return fn(session, body)

    return handler


def _data(fn: Callable[[Session, Call, dict[str, Any]], dict[str, Any]]) -> Handler:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _body(data)
        return fn(session, call, body)

    return handler


def _register(kind: str, node: str | None) -> Handler:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _node(data, node) if node else _body(data)
        out = visits.register_visit(session, call, body, kind)
        if kind == "inpatient":
            visits.record_diagnoses(session, call, out["mdtrt_id"], data.get("diseinfo"))
            return {"result": {"mdtrt_id": out["mdtrt_id"], "psn_no": out["psn_no"], "ipt_otp_no": out["ipt_otp_no"]}}
        return {"data": out}

    return handler


def _fees(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    return visits.upload_fees(session, call, _rows(data, "feedetail"))


def _fees_cancel_outpatient(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    body = _body(data)
    return visits.cancel_fees(
        session,
        call,
        inputs.text(body, "mdtrt_id", max_len=30),
        None,
        inputs.text(body, "chrg_bchno", required=False, max_len=30) or None,
    )


def _fees_cancel_inpatient(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    for row in _rows(data, "data"):
        visits.cancel_fees(
            session,
            call,
            inputs.text(row, "mdtrt_id", max_len=30),
            inputs.text(row, "feedetl_sn", required=False, max_len=30) or None,
            None,
        )
    return {}


def _cancel_settlement(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    body = _body(data)
    return st.cancel_settlement(
        session,
        call,
        inputs.text(body, "setl_id", max_len=30),
        inputs.text(body, "mdtrt_id", required=False, max_len=30) or None,
        inputs.text(body, "psn_no", max_len=30),
    )


def _discharge(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    out = visits.discharge(session, call, data)
    node = _body(data, "dscginfo")
    visits.record_diagnoses(session, call, inputs.text(node, "mdtrt_id", max_len=30), data.get("diseinfo"))
    return out


def _update_with_diseases(node: str) -> Handler:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _node(data, node)
        out = visits.update_visit(session, call, body)
        visits.record_diagnoses(session, call, inputs.text(body, "mdtrt_id", max_len=30), data.get("diseinfo"))
        return out

    return handler


def _download_answer(record: Any) -> dict[str, Any]:
    """9102 answers the file; the HTTP edge sends it as application/octet-stream (see gateway.api)."""
    return {
        "__file__": {"filename": record.filename, "sha256": record.sha256, "size": record.size},
        "__content__": record.content,
    }


def _present(handler: Handler, node: str = "data") -> Handler:
    """Only for a person present at the calling institution (see yidi.settlement.presence)."""

    def checked(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        body = _body(data, node)
        presence.require_presence(session, call.fixmedins_code, inputs.text(body, "psn_no", max_len=30), call.now)
        return handler(session, call, data)

    return checked


# Transactions that change state (and so are replay-protected by msgid) and read-only ones alike. Those that
# name a person by psn_no alone are wrapped in `_present`: the README's table "which institution may do what".
TRANSACTIONS: dict[str, Handler] = {
    "9001": sign_in,
    "9002": sign_out,
    "1101": identify,
    "1201": institution_info,
    "1901": dictionary,
    "1301": _data(catalogue.download("1301")),
    "1302": _data(catalogue.download("1302")),
    "1305": _data(catalogue.download("1305")),
    "1306": _data(catalogue.download("1306")),
    "1312": _data(catalogue.hilist),
    "1318": _data(catalogue.price_caps),
    "1319": _data(catalogue.first_selfpay),
    "2001": _present(benefit_check),
    "2101": pharmacy.presettle,
    "2102": pharmacy.settle,
    "2201": _register("outpatient", None),
    "2202": _data(visits.cancel_visit),
    "2203": _update_with_diseases("mdtrtinfo"),
    "2204": _fees,
    "2205": _fees_cancel_outpatient,
    "2206": _data(st.presettle),
    "2207": _data(st.settle),
    "2208": _cancel_settlement,
    "2401": _register("inpatient", "mdtrtinfo"),
    "2402": _discharge,
    "2403": _update_with_diseases("adminfo"),
    "2404": _data(visits.cancel_visit),
    "2405": _data(lambda s, c, d: visits.discharge(s, c, d, undo=True)),
    "2301": _fees,
    "2302": _fees_cancel_inpatient,
    "2303": _data(st.presettle),
    "2304": _data(st.settle),
    "2305": _cancel_settlement,
    "2601": _data(_reverse),
    "2501": _present(_filing(filing_tx.tx_2501, "refmedin"), "refmedin"),
    "2502": _filing(filing_tx.tx_2502),
    "2503": _present(_filing(filing_tx.tx_2503)),
    "2504": _filing(filing_tx.tx_2504),
    "2505": _present(_filing(filing_tx.tx_2505)),
    "2506": _filing(filing_tx.tx_2506),
    "3201": _data(reconciliation.summary),
    "3202": _data(files.detail),
    "9101": files.upload,
    "9102": lambda s, c, d: _download_answer(files.download(s, c, d)),
    "5201": _data(queries.query_visits),
    "5202": _data(queries.query_diagnoses),
    "5205": _data(queries.query_chronic_drugs),
    "5203": _data(queries.query_settlement),
    "5204": _data(queries.query_fees),
    "5206": _present(_data(queries.query_accumulators)),
    "5301": _present(_query(filing_tx.tx_5301)),
    "5302": _present(_query(filing_tx.tx_5302)),
    "5304": _present(_query(filing_tx.tx_5304)),
}
READ_ONLY = {
    "1101",
    "1201",
    "1901",
    "1312",
    "1318",
    "1319",
    "2001",
    "2101",
    "2206",
    "2303",
    "3201",
    "9102",
    "5201",
    "5202",
    "5205",
    "5203",
    "5204",
    "5206",
    "5301",
    "5302",
    "5304",
}


# A hospital's visits and stays, their fee lines and their settlement: refused to a pharmacy (see
# yidi.settlement.pharmacy.refuse_pharmacy), which settles a purchase with 2101/2102 and cancels it with its cancel.
HOSPITAL_ONLY = frozenset(
    {"2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208"}
    | {"2301", "2302", "2303", "2304", "2305", "2401", "2402", "2403", "2404", "2405"}
)


def handler_for(infno: str) -> Handler | None:
    """The handler of a transaction (`Envelope.transaction`: a revised "A" version shares its code), or None. The
    pharmacy's cancel answers to the code set in `pharmacy_cancel_infno` (interface.md: unverified), unless
    another transaction has that code."""
    handler = TRANSACTIONS.get(infno)
    if handler is None and infno == get_settings().pharmacy_cancel_infno:
        return pharmacy.cancel
    if handler is not None and infno in HOSPITAL_ONLY:
        return _not_at_a_pharmacy(handler)
    return handler


def _not_at_a_pharmacy(handler: Handler) -> Handler:
    def checked(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        pharmacy.refuse_pharmacy(session, call)
        return handler(session, call, data)

    return checked
